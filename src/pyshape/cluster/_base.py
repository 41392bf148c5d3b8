"""What the shape clusterers share: scikit-learn base classes when
scikit-learn is importable (it is an optional dependency), minimal compatible
stand-ins otherwise; random states; parameter checks; empty-cluster re-seeding;
input checks with scikit-learn's conventions (``n_features_in_``,
``feature_names_in_``, its messages) and estimator tags."""
from __future__ import annotations

import functools
import inspect
import warnings
from typing import Any, Callable, Optional, Tuple, Union

import numpy as np
from numpy.typing import ArrayLike

from pyshape import _core
from pyshape._system import resolve_threads
from pyshape._validation import as_shapes, check_finite_row, check_int, make_rng  # noqa: F401 (re-exported)

try:  # scikit-learn is optional: subclass its bases only when it is there
    from sklearn.base import (
        BaseEstimator,
        ClassNamePrefixFeaturesOutMixin,
        ClusterMixin,
        TransformerMixin,
    )

    HAVE_SKLEARN = True
except ImportError:  # pragma: no cover - exercised in environments without scikit-learn
    HAVE_SKLEARN = False

    class BaseEstimator:  # type: ignore[no-redef]
        """get_params / set_params / repr with scikit-learn's conventions: every
        ``__init__`` argument is stored unchanged under its own name."""

        @classmethod
        def _get_param_names(cls) -> list:
            sig = inspect.signature(cls.__init__)
            return sorted(p.name for p in sig.parameters.values()
                          if p.name != "self" and p.kind != p.VAR_KEYWORD)

        def get_params(self, deep: bool = True) -> dict:
            out: dict[str, Any] = {}
            for name in self._get_param_names():
                value = getattr(self, name)
                if deep and hasattr(value, "get_params") and not isinstance(value, type):
                    out.update((f"{name}__{k}", v) for k, v in value.get_params().items())
                out[name] = value
            return out

        def set_params(self, **params: Any) -> Any:
            valid = self.get_params(deep=True)
            for key, value in params.items():
                name, _, sub = key.partition("__")
                if name not in valid:
                    raise ValueError(f"Invalid parameter {name!r} for estimator {self!r}. "
                                     f"Valid parameters are: {sorted(self._get_param_names())!r}.")
                if sub:
                    getattr(self, name).set_params(**{sub: value})
                else:
                    setattr(self, name, value)
            return self

        def __repr__(self) -> str:
            sig = inspect.signature(type(self).__init__)
            changed = [f"{k}={v!r}" for k, v in self.get_params(deep=False).items()
                       if sig.parameters[k].default is not v and sig.parameters[k].default != v]
            return f"{type(self).__name__}({', '.join(changed)})"

    class ClusterMixin:  # type: ignore[no-redef]
        _estimator_type = "clusterer"

        # self: Any here and below: the estimators that inherit these define fit, labels_, transform
        def fit_predict(self: Any, X: ArrayLike, y: Any = None, **kwargs: Any) -> np.ndarray:
            self.fit(X, **kwargs)
            return self.labels_

    def _wrap_output(method: Callable[..., Any]) -> Callable[..., Any]:
        """``transform`` returning a pandas DataFrame after ``set_output(transform="pandas")``."""

        @functools.wraps(method)
        def wrapped(self: Any, X: Any, *args: Any, **kwargs: Any) -> Any:
            out = method(self, X, *args, **kwargs)
            config = getattr(self, "_sklearn_output_config", {}).get("transform", "default")
            if config != "pandas" or not isinstance(out, np.ndarray):
                return out
            import pandas as pd

            index = X.index if isinstance(X, pd.DataFrame) else None
            return pd.DataFrame(out, index=index, columns=self.get_feature_names_out())

        return wrapped

    class TransformerMixin:  # type: ignore[no-redef]
        """fit_transform, and set_output for "default" and "pandas" output."""

        def __init_subclass__(cls: Any, **kwargs: Any) -> None:
            super().__init_subclass__(**kwargs)
            if "transform" in cls.__dict__:
                cls.transform = _wrap_output(cls.__dict__["transform"])

        def fit_transform(self: Any, X: ArrayLike, y: Any = None, **fit_params: Any) -> Any:
            return self.fit(X, y, **fit_params).transform(X)

        def set_output(self: Any, *, transform: Optional[str] = None) -> Any:
            """Output container of ``transform`` and ``fit_transform``: "default"
            (NumPy) or "pandas"; None leaves it unchanged. Returns self."""
            if transform is None:
                return self
            if transform not in ("default", "pandas"):
                raise ValueError(f"transform must be 'default' or 'pandas' (without scikit-learn), "
                                 f"got {transform!r}")
            if not hasattr(self, "_sklearn_output_config"):
                self._sklearn_output_config = {}
            self._sklearn_output_config["transform"] = transform
            return self

    class ClassNamePrefixFeaturesOutMixin:  # type: ignore[no-redef]
        """get_feature_names_out: the lower-case class name and the output index."""

        def get_feature_names_out(self: Any, input_features: Optional[ArrayLike] = None) -> np.ndarray:
            try:
                n_out = self._n_features_out
            except AttributeError:
                raise not_fitted_error(type(self).__name__) from None
            if input_features is not None:
                names = np.asarray(input_features, dtype=object)
                if len(names) != self.n_features_in_:
                    raise ValueError(f"input_features should have length equal to number of features "
                                     f"({self.n_features_in_}), got {len(names)}")
                fitted = getattr(self, "feature_names_in_", None)
                if fitted is not None and not np.array_equal(fitted, names):
                    raise ValueError("input_features is not equal to feature_names_in_")
            prefix = type(self).__name__.lower()
            return np.asarray([f"{prefix}{i}" for i in range(n_out)], dtype=object)


def check_n_clusters(k: Any, n: int) -> int:
    k = check_int(k, "n_clusters", 1)
    if k > n:
        raise ValueError(f"n_clusters={k} is larger than the number of shapes n={n}")
    return k


def reseed_empty(labels: np.ndarray, dist: np.ndarray, centroids: np.ndarray, U: np.ndarray,
                 shift: np.ndarray | None = None) -> int:
    """Give every empty cluster one member: the shape farthest from its own
    centroid (largest ``dist``, ties to the lower index) among clusters that
    keep at least one member; that shape becomes the new centroid (distance 0,
    shift 0). Works in place; returns the number of clusters re-seeded."""
    k = centroids.shape[0]
    counts = np.bincount(labels, minlength=k)
    empty = np.flatnonzero(counts == 0)
    if empty.size == 0:
        return 0
    order = np.argsort(-dist, kind="stable")
    pos = 0
    for j in empty:
        while counts[labels[order[pos]]] <= 1:
            pos += 1
        i = order[pos]
        pos += 1
        counts[labels[i]] -= 1
        labels[i] = j
        counts[j] = 1
        dist[i] = 0.0
        centroids[j] = U[i]
        if shift is not None:
            shift[i] = 0
    return int(empty.size)


RandomState = Union[None, int, np.random.Generator, np.random.RandomState]


def unit_rows(X: ArrayLike, n_threads: int, name: str = "X", allow_1d: bool = True) -> np.ndarray:
    """Validated shapes, centred and scaled to unit norm (float32)."""
    x = as_shapes(X, name, center=True, allow_1d=allow_1d)
    u, bad = _core.normalize_rows(x, 1.0, n_threads)
    check_finite_row(bad, name)
    return u


def unit(v: np.ndarray) -> np.ndarray:
    """Rows centred and scaled to unit norm in float64; all-zero rows stay zero."""
    v = np.asarray(v, dtype=np.float64)
    v = v - v.mean(axis=-1, keepdims=True)
    nrm = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.divide(v, nrm, out=np.zeros_like(v), where=nrm > 0)


#: scikit-learn estimator checks that cannot apply to shape clustering, with the
#: reason (for ``parametrize_with_checks(..., expected_failed_checks=...)``).
SKLEARN_EXPECTED_FAILED_CHECKS = {
    "check_clustering": (
        "the check clusters 3 blobs of 2-feature points; a shape clusterer z-normalises "
        "every row, and a centred 2-step row is a multiple of (1, -1): every point is one "
        "of two shapes, so no shape clustering reaches the adjusted Rand index of 0.4 the "
        "check asks for (the best split by shape gives 0.37)"
    ),
}


def _feature_names(X: Any) -> Optional[np.ndarray]:
    """Column names of a DataFrame ``X`` when all are strings (object array), else None;
    scikit-learn's rule: mixed string and non-string names raise TypeError."""
    cols = getattr(X, "columns", None)
    if cols is None or isinstance(X, np.ndarray):
        return None
    names = np.asarray(list(cols), dtype=object)
    if len(names) == 0:
        return None
    types = sorted(t.__qualname__ for t in {type(v) for v in names})
    if len(types) > 1 and "str" in types:
        raise TypeError(
            "Feature names are only supported if all input features have string names, "
            f"but your input has {types} as feature name / column name types. "
            "If you want feature names to be stored and validated, you must convert "
            "them all to strings, by using X.columns = X.columns.astype(str) for "
            "example. Otherwise you can remove feature / column names from your input "
            "data, or convert them all to a non-string data type.")
    return names if types == ["str"] else None


def _check_feature_names(est: Any, names: Optional[np.ndarray]) -> None:
    """Names of ``X`` at predict / transform time against ``feature_names_in_``
    (scikit-learn's messages, so its checks and users see the same)."""
    fitted = getattr(est, "feature_names_in_", None)
    cls = type(est).__name__
    if fitted is None and names is None:
        return
    if fitted is None:
        warnings.warn(f"X has feature names, but {cls} was fitted without feature names",
                      UserWarning, stacklevel=4)
        return
    if names is None:
        warnings.warn(f"X does not have valid feature names, but {cls} was fitted with feature names",
                      UserWarning, stacklevel=4)
        return
    if len(fitted) == len(names) and np.all(fitted == names):
        return

    def listed(items: list) -> str:
        return "".join(f"- {n}\n" for n in items[:5]) + ("- ...\n" if len(items) > 5 else "")

    unseen = sorted(set(names) - set(fitted))
    missing = sorted(set(fitted) - set(names))
    msg = "The feature names should match those that were passed during fit.\n"
    if unseen:
        msg += "Feature names unseen at fit time:\n" + listed(unseen)
    if missing:
        msg += "Feature names seen at fit time, yet now missing:\n" + listed(missing)
    if not unseen and not missing:
        msg += "Feature names must be in the same order as they were in fit.\n"
    raise ValueError(msg)


class ShapeClusterBase(ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin, BaseEstimator):
    """Shared parts: fitted-state checks, input preparation, cluster_centers_,
    scikit-learn tags and output names (``get_feature_names_out``:
    ``<class name in lower case><cluster>``, one per column of ``transform``)."""

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True  # (n shapes, T steps); 1-D input is refused
        tags.input_tags.one_d_array = False
        # shapes are dense time series (every step has a value): sparse input is
        # refused with a TypeError that says so, never densified behind the user's back
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False  # NaN / inf raise ValueError naming the row
        tags.input_tags.string = False
        tags.input_tags.categorical = False
        if tags.transformer_tags is not None:
            # transform computes in float32 (the C++ core) and returns float32 for any input
            tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    @property
    def _n_features_out(self) -> int:
        """Columns of ``transform`` (one distance per cluster), for get_feature_names_out."""
        return self.cluster_centers_.shape[0]

    def _check_fitted(self) -> None:
        if not hasattr(self, "centroids_unit_"):
            raise not_fitted_error(type(self).__name__)

    def _prepare(self, X: ArrayLike, fitted: bool = True) -> Tuple[np.ndarray, int]:
        """Unit rows of ``X`` and the thread count. 1-D input is refused (one
        shape is ``X.reshape(1, -1)``). In ``fit`` (``fitted=False``) this sets
        ``n_features_in_`` and ``feature_names_in_`` (a DataFrame's string
        column names), as scikit-learn's ``validate_data`` does; afterwards it
        checks them, with scikit-learn's messages."""
        names = _feature_names(X)
        if fitted:
            _check_feature_names(self, names)
        nt = resolve_threads(self.n_threads)
        u = unit_rows(X, nt, allow_1d=False)
        T = u.shape[1]
        if fitted:
            expected = self.centroids_unit_.shape[1]
            if T != expected:
                raise ValueError(f"X has {T} features, but {type(self).__name__} is expecting {expected} "
                                 f"features as input (the time steps of the shapes it was fitted on).")
        else:
            self.n_features_in_ = int(T)
            if names is not None:
                self.feature_names_in_ = names
            elif hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        return u, nt

    def _distances(self, U: np.ndarray, nt: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _set_fitted(self, centroids_unit: np.ndarray, labels: np.ndarray, inertia: float,
                    n_iter: int, T: int) -> None:
        self.centroids_unit_ = np.ascontiguousarray(centroids_unit, dtype=np.float32)
        self.cluster_centers_ = (self.centroids_unit_ * np.float32(np.sqrt(T))).astype(np.float32)
        self.labels_ = labels.astype(np.int64, copy=False)
        self.inertia_ = max(0.0, float(inertia))  # a sum of distances; float32 rounding may dip below 0
        self.n_iter_ = int(n_iter)
        self.n_features_in_ = int(T)

    def fit_predict(self, X: ArrayLike, y: Any = None) -> np.ndarray:
        """Fit, then return ``labels_`` (the cluster of every training shape).

        Parameters
        ----------
        X : array_like, shape (n, T)
        y : ignored

        Returns
        -------
        ndarray of int64, shape (n,)
        """
        return self.fit(X).labels_

    def score(self, X: ArrayLike, y: Any = None) -> float:
        """Opposite of the summed distance of ``X`` to its nearest centroids
        (``-inertia`` on ``X``; higher is better, as in scikit-learn)."""
        self._check_fitted()
        U, nt = self._prepare(X)
        d = self._distances(U, nt)  # not transform: its output may be a DataFrame (set_output)
        return -max(0.0, float(d.min(axis=1).astype(np.float64).sum()))


def not_fitted_error(name: str) -> Exception:
    msg = (f"This {name} instance is not fitted yet. Call 'fit' with appropriate arguments "
           f"before using this estimator.")
    if HAVE_SKLEARN:
        from sklearn.exceptions import NotFittedError

        return NotFittedError(msg)
    return AttributeError(msg)
