"""Correlation k-means: spherical k-means on z-normalised shapes (Pearson r)."""
from __future__ import annotations

from typing import Any, Optional, Tuple, Union

import numpy as np
from numpy.typing import ArrayLike

from pyshape import _core
from pyshape.cluster._base import (
    RandomState,
    ShapeClusterBase,
    check_int,
    check_n_clusters,
    make_rng,
    reseed_empty,
    unit,
)

__all__ = ["CorrelationKMeans"]


def centroid_update(C: np.ndarray, sums: np.ndarray) -> tuple[np.ndarray, float]:
    """The Lloyd step from the per-cluster sums of unit rows: new unit centroids (a cluster of
    constant shapes only, whose sum is 0, keeps its centroid) and the squared shift. Shared by the
    in-memory and the Dask fit, so both give the same centroids bit for bit."""
    nrm = np.linalg.norm(sums, axis=1)
    newC = C.copy()
    ok = nrm > 0
    newC[ok] = (sums[ok] / nrm[ok, None]).astype(np.float32)
    return newC, float(((newC.astype(np.float64) - C) ** 2).sum())


class CorrelationKMeans(ShapeClusterBase):
    """k-means on z-normalised shapes, assigning each shape to the centroid it
    correlates with most (Pearson r).

    Every shape is z-normalised (so equivalently scaled to unit norm); centroids
    are unit-norm means of their members' unit rows (spherical k-means). The
    assignment step is a blocked float32 product of the rows with the centroids
    followed by an argmax, in C++ on all cores; the members' sums of the update
    step are added in the same pass, while the rows are in cache (float64, each
    cluster's members in row order). Results do not depend on ``n_threads``.

    Parameters
    ----------
    n_clusters : int, default 8
        Number of clusters k; at most the number of shapes.
    init : {'k-means++', 'random'} or array_like of shape (n_clusters, T), default 'k-means++'
        ``'k-means++'``: greedy k-means++ seeding (``2 + log k`` candidates per
        step, the scikit-learn variant) with squared Euclidean distance of unit
        rows, ``2 (1 - r)``, run on a random sample of ``init_size`` shapes.
        ``'random'``: ``n_clusters`` distinct random shapes. An array: the
        initial centroids (z-normalised inside; ``n_init`` is then 1).
    n_init : int, default 1
        Runs from different seedings; the one with the lowest ``inertia_`` is kept.
    max_iter : int, default 100
        Most assignment + update rounds per run.
    tol : float, default 1e-4
        A run stops when the labels no longer change, or when the summed squared
        change of the unit-norm centroids in an update is at most ``tol``.
    init_size : int, optional
        Shapes sampled for k-means++ seeding (default ``min(n, max(10000, 100 k))``).
    random_state : int, numpy Generator or RandomState, optional
        Seed for the seeding; fix it for reproducible results.
    n_threads : int, optional
        Threads for the C++ steps (default: the CPUs available to this process).

    Attributes
    ----------
    cluster_centers_ : ndarray of float32, shape (n_clusters, T)
        Centroids, z-normalised (mean 0, standard deviation 1).
    labels_ : ndarray of int64, shape (n,)
        Cluster of every training shape.
    inertia_ : float
        Sum over training shapes of ``1 - r`` to their centroid (the correlation
        distance). For z-normalised rows the squared Euclidean distance is
        ``2 T (1 - r)``, so this is scikit-learn's inertia divided by ``2 T``.
    n_iter_ : int
        Update steps of the kept run.
    n_features_in_ : int
        T, the number of steps per shape.
    feature_names_in_ : ndarray of object, shape (T,)
        Column names of ``X`` when it was a DataFrame with string column names
        (only then); ``predict`` / ``transform`` then check the names of ``X``.

    See Also
    --------
    KShape : clustering that allows shifts between shapes.

    Notes
    -----
    Memory: the unit-norm copy of the input (``4 n T`` bytes) plus ``O(k T)``.
    See the module docstring for empty clusters, constant and duplicate shapes,
    NaN input and ``n_clusters > n``.

    Examples
    --------
    >>> import numpy as np, pyshape
    >>> t = np.linspace(0, 2 * np.pi, 48)
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([np.sin(t) + 0.1 * rng.standard_normal((10, 48)),
    ...                np.cos(t) + 0.1 * rng.standard_normal((10, 48))])
    >>> km = pyshape.CorrelationKMeans(2, random_state=0).fit(X)
    >>> len(set(km.labels_[:10])), len(set(km.labels_[10:])), bool(km.labels_[0] != km.labels_[10])
    (1, 1, True)
    >>> km.transform(X[:1]).shape  # 1 - r to each centroid
    (1, 2)
    """

    def __init__(self, n_clusters: int = 8, *, init: Union[str, ArrayLike] = "k-means++", n_init: int = 1,
                 max_iter: int = 100, tol: float = 1e-4, init_size: Optional[int] = None,
                 random_state: RandomState = None, n_threads: Optional[int] = None) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.init_size = init_size
        self.random_state = random_state
        self.n_threads = n_threads

    # ---------------------------------------------------------------- seeding
    def _kmeanspp(self, U: np.ndarray, k: int, rng: np.random.Generator, nt: int) -> np.ndarray:
        n = U.shape[0]
        size = self.init_size if self.init_size is not None else min(n, max(10_000, 100 * k))
        size = min(n, max(k, check_int(size, "init_size", 1)))
        S = U if size == n else U[np.sort(rng.choice(n, size, replace=False))]
        trials = 2 + int(np.log(k))
        C = np.empty((k, U.shape[1]), dtype=np.float32)
        first = int(rng.integers(size))
        C[0] = S[first]
        closest = np.maximum(1.0 - _core.pearson(S, C[:1], n_threads=nt)[:, 0].astype(np.float64), 0.0)
        for c in range(1, k):
            pot = closest.sum()
            if pot > 0:
                cand = np.searchsorted(np.cumsum(closest), rng.random(trials) * pot)
                cand = np.minimum(cand, size - 1)
            else:  # every sampled shape sits on a centroid: any will do
                cand = rng.integers(size, size=trials)
            # the sample as the row side, the few candidates as the packed side:
            # packing is then a few rows per step, not the whole sample
            r = _core.pearson(S, np.ascontiguousarray(S[cand]), n_threads=nt).T
            d = np.maximum(1.0 - r.astype(np.float64), 0.0)
            np.minimum(d, closest[None, :], out=d)
            best = int(np.argmin(d.sum(axis=1)))
            closest = d[best]
            C[c] = S[cand[best]]
        return C

    def _initial(self, U: np.ndarray, k: int, rng: np.random.Generator, nt: int) -> np.ndarray:
        init = self.init
        if isinstance(init, str):
            if init == "k-means++":
                return self._kmeanspp(U, k, rng, nt)
            if init == "random":
                return U[np.sort(rng.choice(U.shape[0], k, replace=False))].copy()
            raise ValueError(f"init must be 'k-means++', 'random' or an array, got {init!r}")
        C = np.asarray(init, dtype=np.float64)
        if C.shape != (k, U.shape[1]):
            raise ValueError(f"init array must have shape (n_clusters, T) = {(k, U.shape[1])}, got {C.shape}")
        if not np.isfinite(C).all():
            raise ValueError("init array has a NaN or infinite value")
        return unit(C).astype(np.float32)

    # ---------------------------------------------------------------- Lloyd
    def _assign(self, U: np.ndarray, C: np.ndarray, nt: int) -> Tuple[np.ndarray, np.ndarray]:
        labels, best = _core.corr_assign(U, C, n_threads=nt)
        dist = np.clip(1.0 - best.astype(np.float64), 0.0, 2.0)  # r is in [-1, 1] up to rounding
        reseed_empty(labels, dist, C, U)
        return labels, dist

    def _assign_sums(self, U: np.ndarray, C: np.ndarray, nt: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``_assign`` and the per-cluster sums of the update, in one pass over ``U`` (the
        sums are bitwise those of ``label_sums`` on the labels returned)."""
        labels, best, sums = _core.corr_assign_sums(U, C, n_threads=nt)
        dist = np.clip(1.0 - best.astype(np.float64), 0.0, 2.0)
        if reseed_empty(labels, dist, C, U):  # members moved: their sums again
            sums, _ = _core.label_sums(U, labels, C.shape[0], n_threads=nt)
        return labels, dist, sums

    def _run(self, U: np.ndarray, C: np.ndarray, nt: int) -> Tuple[np.ndarray, np.ndarray, float, int]:
        max_iter = check_int(self.max_iter, "max_iter", 1)
        tol = float(self.tol)
        prev = None
        n_iter = 0
        consistent = False
        for _ in range(max_iter):
            labels, dist, sums = self._assign_sums(U, C, nt)
            if prev is not None and np.array_equal(labels, prev):
                consistent = True  # C is the update from these very labels
                break
            C, shift = centroid_update(C, sums)
            prev = labels
            n_iter += 1
            if shift <= tol:
                break
        if not consistent:
            labels, dist = self._assign(U, C, nt)
        return C, labels, float(dist.sum()), n_iter

    def fit(self, X: ArrayLike, y: Any = None) -> "CorrelationKMeans":
        """Cluster the shapes ``X``.

        Parameters
        ----------
        X : array_like, shape (n, T)
            Shapes, one per row (float32 C-contiguous input is not copied
            before normalisation).
        y : ignored

        Returns
        -------
        self

        Raises
        ------
        ValueError
            If ``n_clusters`` exceeds the number of shapes, on NaN /
            infinite input (naming the row), or on 1-D input (one shape is
            ``X.reshape(1, -1)``).
        TypeError
            On sparse or non-numeric input.

        Examples
        --------
        >>> import numpy as np, pyshape
        >>> X = np.random.default_rng(1).standard_normal((100, 24))
        >>> km = pyshape.CorrelationKMeans(4, n_init=2, random_state=0).fit(X)
        >>> km.cluster_centers_.shape, km.labels_.shape
        ((4, 24), (100,))
        """
        U, nt = self._prepare(X, fitted=False)
        n, T = U.shape
        k = check_n_clusters(self.n_clusters, n)
        n_init = 1 if not isinstance(self.init, str) else check_int(self.n_init, "n_init", 1)
        rng = make_rng(self.random_state)
        best = None
        for _ in range(n_init):
            C0 = self._initial(U, k, rng, nt)
            res = self._run(U, C0, nt)
            if best is None or res[2] < best[2]:
                best = res
        assert best is not None  # n_init >= 1
        C, labels, inertia, n_iter = best
        self._set_fitted(C, labels, inertia, n_iter, T)
        return self

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Cluster of every shape: the centroid it correlates with most
        (ties: the lower cluster number).

        Parameters
        ----------
        X : array_like, shape (m, T)

        Returns
        -------
        ndarray of int64, shape (m,)

        Examples
        --------
        >>> import numpy as np, pyshape
        >>> X = np.random.default_rng(1).standard_normal((50, 16))
        >>> km = pyshape.CorrelationKMeans(3, random_state=0).fit(X)
        >>> bool((km.predict(X) == km.labels_).all())
        True
        """
        self._check_fitted()
        U, nt = self._prepare(X)
        labels, _ = _core.corr_assign(U, self.centroids_unit_, n_threads=nt)
        return labels

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Correlation distance ``1 - r`` of every shape to every centroid.

        Parameters
        ----------
        X : array_like, shape (m, T)

        Returns
        -------
        ndarray of float32, shape (m, n_clusters)
            Values in ``[0, 2]``; 1 for a constant shape.

        Examples
        --------
        >>> import numpy as np, pyshape
        >>> X = np.random.default_rng(1).standard_normal((50, 16))
        >>> km = pyshape.CorrelationKMeans(3, random_state=0).fit(X)
        >>> bool((km.transform(X).argmin(axis=1) == km.labels_).all())
        True
        """
        self._check_fitted()
        U, nt = self._prepare(X)
        return self._distances(U, nt)

    def _distances(self, U: np.ndarray, nt: int) -> np.ndarray:
        r = _core.pearson(U, self.centroids_unit_, n_threads=nt)
        np.subtract(np.float32(1.0), r, out=r)
        # float32 rounding can put r a few ulps outside [-1, 1] (1 - r = -3e-6)
        return np.clip(r, 0.0, 2.0, out=r)
