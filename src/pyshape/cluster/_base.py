"""What the shape clusterers share: scikit-learn base classes when
scikit-learn is importable (it is an optional dependency), minimal compatible
stand-ins otherwise; random states; parameter checks; empty-cluster re-seeding."""
from __future__ import annotations

import inspect
from typing import Union

import numpy as np

from pyshape import _core
from pyshape._system import resolve_threads
from pyshape._validation import as_shapes, check_finite_row, check_int, make_rng  # noqa: F401 (re-exported)

try:  # scikit-learn is optional: subclass its bases only when it is there
    from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin

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
            out = {}
            for name in self._get_param_names():
                value = getattr(self, name)
                if deep and hasattr(value, "get_params") and not isinstance(value, type):
                    out.update((f"{name}__{k}", v) for k, v in value.get_params().items())
                out[name] = value
            return out

        def set_params(self, **params):
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

        def fit_predict(self, X, y=None, **kwargs):
            self.fit(X, **kwargs)
            return self.labels_

    class TransformerMixin:  # type: ignore[no-redef]
        def fit_transform(self, X, y=None, **fit_params):
            return self.fit(X, y, **fit_params).transform(X)


def check_n_clusters(k, n: int) -> int:
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


def unit_rows(X, n_threads: int, name: str = "X") -> np.ndarray:
    """Validated shapes, centred and scaled to unit norm (float32)."""
    x = as_shapes(X, name, center=True)
    u, bad = _core.normalize_rows(x, 1.0, n_threads)
    check_finite_row(bad, name)
    return u


def unit(v: np.ndarray) -> np.ndarray:
    """Rows centred and scaled to unit norm in float64; all-zero rows stay zero."""
    v = np.asarray(v, dtype=np.float64)
    v = v - v.mean(axis=-1, keepdims=True)
    nrm = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.divide(v, nrm, out=np.zeros_like(v), where=nrm > 0)


class ShapeClusterBase(ClusterMixin, TransformerMixin, BaseEstimator):
    """Shared parts: fitted-state checks, input preparation, cluster_centers_."""

    def _check_fitted(self) -> None:
        if not hasattr(self, "centroids_unit_"):
            raise not_fitted_error(type(self).__name__)

    def _prepare(self, X, fitted: bool = True):
        nt = resolve_threads(self.n_threads)
        u = unit_rows(X, nt)
        if fitted and u.shape[1] != self.centroids_unit_.shape[1]:
            raise ValueError(f"X has {u.shape[1]} time steps, but the model was fitted on "
                             f"{self.centroids_unit_.shape[1]}")
        return u, nt

    def _set_fitted(self, centroids_unit: np.ndarray, labels: np.ndarray, inertia: float,
                    n_iter: int, T: int) -> None:
        self.centroids_unit_ = np.ascontiguousarray(centroids_unit, dtype=np.float32)
        self.cluster_centers_ = (self.centroids_unit_ * np.float32(np.sqrt(T))).astype(np.float32)
        self.labels_ = labels.astype(np.int64, copy=False)
        self.inertia_ = float(inertia)
        self.n_iter_ = int(n_iter)
        self.n_features_in_ = int(T)

    def fit_predict(self, X, y=None) -> np.ndarray:
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

    def score(self, X, y=None) -> float:
        """Opposite of the summed distance of ``X`` to its nearest centroids
        (``-inertia`` on ``X``; higher is better, as in scikit-learn)."""
        d = self.transform(X)
        return -float(d.min(axis=1).astype(np.float64).sum())


def not_fitted_error(name: str) -> Exception:
    msg = (f"This {name} instance is not fitted yet. Call 'fit' with appropriate arguments "
           f"before using this estimator.")
    if HAVE_SKLEARN:
        from sklearn.exceptions import NotFittedError

        return NotFittedError(msg)
    return AttributeError(msg)
