"""Private helpers of pyshape.cluster: scikit-learn base classes when
scikit-learn is importable (it is an optional dependency), minimal compatible
stand-ins otherwise; random states; parameter checks; empty-cluster re-seeding."""
from __future__ import annotations

import inspect
import numbers

import numpy as np

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


def make_rng(random_state) -> np.random.Generator:
    """A NumPy Generator from None, an int, a Generator or a legacy RandomState."""
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return np.random.default_rng(int(random_state))
    raise TypeError(f"random_state must be None, an int or a numpy Generator/RandomState, "
                    f"got {type(random_state).__name__}")


def check_int(value, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}")
    return int(value)


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
