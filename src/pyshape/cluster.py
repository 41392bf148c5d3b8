"""Shape clustering: k-Shape and correlation k-means, as scikit-learn estimators.

Both work on shapes (rows of an ``(n, T)`` array), z-normalised inside, so only
the form of a series matters, not its level or scale:

* :class:`CorrelationKMeans` groups shapes by Pearson correlation (spherical
  k-means on the z-normalised rows): fast, for when shifts do not matter.
* :class:`KShape` groups shapes by the shape-based distance (SBD: one minus the
  largest normalised cross-correlation over shifts, Paparrizos & Gravano,
  SIGMOD 2015), with shape extraction for centroids: for when the same shape
  occurs at different times.

The core loops (assignment against the centroids, per-cluster sums, alignment
of members) run in C++ on all cores and give the same result for any thread
count. scikit-learn is optional: when it is importable the estimators subclass
its ``BaseEstimator``, ``ClusterMixin`` and ``TransformerMixin`` (so they clone,
pickle and sit in a ``Pipeline``); without it they offer the same
``get_params`` / ``set_params`` / ``fit_predict`` / ``fit_transform``.

Defined behaviour, shared by both estimators
--------------------------------------------
* ``n_clusters > n``: ``ValueError``.
* NaN or infinite input: ``ValueError`` naming the first bad row.
* Constant shapes (no spread) z-normalise to all zeros: their correlation and
  cross-correlation with anything is 0, so their distance (``1 - r``, SBD) to
  every centroid is 1; they go to the lowest-numbered cluster (ties always go
  to the lower cluster number) unless they are re-seeded (next point).
* Empty clusters (after any assignment step) are re-seeded from the farthest
  point: the shape with the largest distance to its own centroid, taken from a
  cluster that keeps at least one member, becomes the cluster's only member and
  its centroid. So no cluster in a fitted model is empty.
* Duplicate shapes are ordinary shapes. With fewer distinct shapes than
  clusters some centroids coincide (re-seeding still keeps every cluster
  non-empty); ties go to the lower cluster number.
"""
from __future__ import annotations

from typing import Optional, Union

import numpy as np

from pyshape import _core
from pyshape._cluster_base import (
    HAVE_SKLEARN,
    BaseEstimator,
    ClusterMixin,
    TransformerMixin,
    check_int,
    check_n_clusters,
    make_rng,
    reseed_empty,
)
from pyshape._system import resolve_threads
from pyshape._validation import as_shapes, check_finite_row

__all__ = ["CorrelationKMeans", "KShape", "plot_centroids"]

RandomState = Union[None, int, np.random.Generator, np.random.RandomState]


def _unit_rows(X, n_threads: int, name: str = "X") -> np.ndarray:
    """Validated shapes, centred and scaled to unit norm (float32)."""
    x = as_shapes(X, name)
    u, bad = _core.normalize_rows(x, 1.0, n_threads)
    check_finite_row(bad, name)
    return u


def _unit(v: np.ndarray) -> np.ndarray:
    """Rows centred and scaled to unit norm in float64; all-zero rows stay zero."""
    v = np.asarray(v, dtype=np.float64)
    v = v - v.mean(axis=-1, keepdims=True)
    nrm = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.divide(v, nrm, out=np.zeros_like(v), where=nrm > 0)


class _ShapeClusterBase(ClusterMixin, TransformerMixin, BaseEstimator):
    """Shared parts: fitted-state checks, input preparation, cluster_centers_."""

    def _check_fitted(self) -> None:
        if not hasattr(self, "centroids_unit_"):
            raise _not_fitted_error(type(self).__name__)

    def _prepare(self, X, fitted: bool = True):
        nt = resolve_threads(self.n_threads)
        u = _unit_rows(X, nt)
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


def _not_fitted_error(name: str) -> Exception:
    msg = (f"This {name} instance is not fitted yet. Call 'fit' with appropriate arguments "
           f"before using this estimator.")
    if HAVE_SKLEARN:
        from sklearn.exceptions import NotFittedError

        return NotFittedError(msg)
    return AttributeError(msg)


# =============================================================================== k-means
class CorrelationKMeans(_ShapeClusterBase):
    """k-means on z-normalised shapes, assigning each shape to the centroid it
    correlates with most (Pearson r).

    Every shape is z-normalised (so equivalently scaled to unit norm); centroids
    are unit-norm means of their members' unit rows (spherical k-means). The
    assignment step is a blocked float32 product of the rows with the centroids
    followed by an argmax, in C++ on all cores; the update step sums members in
    C++ (float64, fixed order). Results do not depend on ``n_threads``.

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

    def __init__(self, n_clusters: int = 8, *, init="k-means++", n_init: int = 1,
                 max_iter: int = 100, tol: float = 1e-4, init_size: Optional[int] = None,
                 random_state: RandomState = None, n_threads: Optional[int] = None):
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
        return _unit(C).astype(np.float32)

    # ---------------------------------------------------------------- Lloyd
    def _assign(self, U, C, nt):
        labels, best = _core.corr_assign(U, C, n_threads=nt)
        dist = 1.0 - best.astype(np.float64)
        reseed_empty(labels, dist, C, U)
        return labels, dist

    def _run(self, U: np.ndarray, C: np.ndarray, nt: int):
        k = C.shape[0]
        max_iter = check_int(self.max_iter, "max_iter", 1)
        tol = float(self.tol)
        prev = None
        n_iter = 0
        consistent = False
        for _ in range(max_iter):
            labels, dist = self._assign(U, C, nt)
            if prev is not None and np.array_equal(labels, prev):
                consistent = True  # C is the update from these very labels
                break
            sums, counts = _core.label_sums(U, labels, k, n_threads=nt)
            nrm = np.linalg.norm(sums, axis=1)
            newC = C.copy()
            ok = nrm > 0  # a cluster of constant shapes only keeps its centroid
            newC[ok] = (sums[ok] / nrm[ok, None]).astype(np.float32)
            shift = float(((newC.astype(np.float64) - C) ** 2).sum())
            C = newC
            prev = labels
            n_iter += 1
            if shift <= tol:
                break
        if not consistent:
            labels, dist = self._assign(U, C, nt)
        return C, labels, float(dist.sum()), n_iter

    def fit(self, X, y=None) -> "CorrelationKMeans":
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
            If ``n_clusters`` exceeds the number of shapes, or on NaN /
            infinite input (naming the row).

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
        C, labels, inertia, n_iter = best
        self._set_fitted(C, labels, inertia, n_iter, T)
        return self

    def predict(self, X) -> np.ndarray:
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

    def transform(self, X) -> np.ndarray:
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
        r = _core.pearson(U, self.centroids_unit_, n_threads=nt)
        np.subtract(np.float32(1.0), r, out=r)
        return r


# =============================================================================== k-Shape
def _top_eigvec(Y: np.ndarray, guess: np.ndarray) -> np.ndarray:
    """Unit eigenvector of the largest eigenvalue of ``M = Y^T Y`` (``Y``: m x T, float64).

    Small problems (m or T at most 64): a full ``eigh`` of the smaller Gram
    matrix. Larger ones: ARPACK's Lanczos (SciPy) on ``v -> Y^T (Y v)``, to
    machine precision, started from ``guess`` (the previous centroid, so that
    about ten products usually suffice), never forming ``M``. Without SciPy,
    or if Lanczos fails to converge, the full ``eigh``.
    """
    m, T = Y.shape
    v = None
    if min(m, T) > 64:
        try:
            from scipy.sparse.linalg import LinearOperator, eigsh
        except ImportError:
            eigsh = None
        if eigsh is not None:
            v0 = np.array(guess, dtype=np.float64)
            if not np.any(v0):
                v0 = Y.sum(axis=0)
            if not np.any(v0):
                v0 = np.ones(T) + np.arange(T) / T  # any fixed start, for determinism
            op = LinearOperator((T, T), matvec=lambda x: Y.T @ (Y @ x), dtype=np.float64)
            try:
                _, vec = eigsh(op, k=1, which="LA", v0=v0, tol=0, ncv=min(T, 8))
                v = vec[:, 0]
            except Exception:  # no convergence: the dense solver below
                v = None
    if v is None:
        small = m < T
        _, vec = np.linalg.eigh(Y @ Y.T if small else Y.T @ Y)
        v = vec[:, -1]
        if small:
            v = Y.T @ v
    nrm = np.linalg.norm(v)
    return v / nrm if nrm > 0 else np.zeros(T)


def _shape_extraction(U: np.ndarray, labels: np.ndarray, shift: np.ndarray, C: np.ndarray,
                      nt: int) -> np.ndarray:
    """k-Shape's refinement step: new unit-norm centroids (k x T, float32).

    Members of cluster j are moved by their best shift against the current
    centroid ``C[j]`` (``shift``, from the last assignment against ``C``; a zero
    centroid means no alignment) and z-normalised again (the shift drops some
    steps), then the centroid is the dominant eigenvector of ``M = Q^T S Q`` with
    ``S = X'^T X'`` (aligned, z-normalised members) and ``Q = I - 11^T / T``,
    i.e. of ``Y^T Y`` for ``Y = X' Q`` (rows centred). Its sign
    is the one nearer (summed Euclidean distance) to the aligned z-normalised
    members, as in tslearn. A cluster with no members keeps its centroid.
    """
    k, T = C.shape
    order = np.argsort(labels, kind="stable")
    sh = shift[order].astype(np.int32)
    zero = ~C.any(axis=1)
    sh[zero[labels[order]]] = 0
    A = _core.align_rows(U, order, sh, n_threads=nt)
    bounds = np.concatenate([[0], np.cumsum(np.bincount(labels, minlength=k))])
    out = C.copy()
    with _one_blas_thread():
        _extract_each(A, bounds, C, out)
    return out


def _one_blas_thread():
    """The eigenvector step is a chain of small matrix-vector products, which a
    multi-threaded BLAS runs slower than one thread does (measured 3x on 2
    cores): limit it to one thread when threadpoolctl is there."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _extract_each(A: np.ndarray, bounds: np.ndarray, C: np.ndarray, out: np.ndarray) -> None:
    k, T = C.shape
    sq = np.sqrt(T)
    for j in range(k):
        a = A[bounds[j]:bounds[j + 1]].astype(np.float64)
        if a.shape[0] == 0:
            continue
        Y = _unit(a)  # the paper z-normalises the aligned members (scale does not matter)
        if not Y.any():  # only constant members
            out[j] = 0.0
            continue
        mu = _top_eigvec(Y, C[j].astype(np.float64))
        p = a @ mu
        base = T * (a * a).sum(axis=1) + 1.0
        d_plus = np.sqrt(np.maximum(base - 2 * sq * p, 0)).sum()
        d_minus = np.sqrt(np.maximum(base + 2 * sq * p, 0)).sum()
        if d_minus < d_plus:
            mu = -mu
        out[j] = _unit(mu).astype(np.float32)


class KShape(_ShapeClusterBase):
    """k-Shape clustering (Paparrizos & Gravano, SIGMOD 2015).

    Shapes are z-normalised; the distance is the shape-based distance
    ``SBD(x, c) = 1 - max_s NCC(x, c)[s]``, the largest normalised
    cross-correlation over shifts ``|s| <= max_shift``. Each iteration extracts
    every cluster's shape (members aligned to the current centroid by their best
    shift, then the dominant eigenvector of the paper's ``M = Q^T S Q``) and
    re-assigns every shape to the centroid of least SBD. SBD of every shape
    against the k centroids and the alignment run in C++ (FFT or direct
    cross-correlation, on all cores); the eigenvectors use LAPACK (SciPy when
    available, else NumPy) on the smaller Gram matrix.

    Parameters
    ----------
    n_clusters : int, default 8
        Number of clusters k; at most the number of shapes.
    max_shift : int, optional
        Largest shift considered, ``0 <= max_shift <= T - 1`` (default: all
        shifts, ``T - 1``). ``0`` gives correlation k-means with shape extraction.
    init : {'random', 'random-labels'} or array_like, default 'random'
        ``'random'``: ``n_clusters`` distinct random shapes as the first
        centroids (as tslearn). ``'random-labels'``: random labels and zero
        centroids, so the first shape extraction does not align (as the paper).
        An array of shape ``(n_clusters, T)``: initial centroids; of shape
        ``(n,)``: initial labels (then centroids start at zero, as the paper).
        With an array ``n_init`` is 1.
    n_init : int, default 1
        Runs from different initialisations; the lowest ``inertia_`` is kept.
    max_iter : int, default 100
        Most refinement + assignment rounds per run.
    tol : float, default 1e-6
        A run stops when the labels no longer change, when the mean SBD improves
        by less than ``tol``, or when it gets worse (then the previous centroids
        and labels are kept, as tslearn does).
    random_state : int, numpy Generator or RandomState, optional
        Seed of the initialisation; fix it for reproducible results.
    n_threads : int, optional
        Threads for the C++ steps (default: the CPUs available to this process).

    Attributes
    ----------
    cluster_centers_ : ndarray of float32, shape (n_clusters, T)
        Centroids, z-normalised.
    labels_ : ndarray of int64, shape (n,)
    shifts_ : ndarray of int32, shape (n,)
        Best shift of every training shape against its centroid: shape ``i``
        at time ``t`` matches the centroid at ``t - shifts_[i]``.
    inertia_ : float
        Sum over training shapes of the SBD to their centroid.
    n_iter_ : int
        Refinement steps of the kept run.
    n_features_in_ : int

    See Also
    --------
    CorrelationKMeans : faster, when shifts do not matter.
    pyshape.sbd : the distance itself.

    Notes
    -----
    See the module docstring for empty clusters, constant and duplicate shapes,
    NaN input and ``n_clusters > n``. The SBD of a constant shape to anything
    is 1.

    Examples
    --------
    >>> import numpy as np, pyshape
    >>> t = np.arange(64)
    >>> bump = np.exp(-0.5 * ((t[None, :] - np.arange(10, 30, 2)[:, None]) / 3.0) ** 2)
    >>> step = (t[None, :] > np.arange(10, 30, 2)[:, None]).astype(float)
    >>> X = np.vstack([bump, step])  # two shapes at ten different times each
    >>> ks = pyshape.KShape(2, n_init=3, random_state=0).fit(X)
    >>> len(set(ks.labels_[:10])), len(set(ks.labels_[10:])), bool(ks.labels_[0] != ks.labels_[10])
    (1, 1, True)
    """

    def __init__(self, n_clusters: int = 8, *, max_shift: Optional[int] = None, init="random",
                 n_init: int = 1, max_iter: int = 100, tol: float = 1e-6,
                 random_state: RandomState = None, n_threads: Optional[int] = None):
        self.n_clusters = n_clusters
        self.max_shift = max_shift
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.n_threads = n_threads

    def _max_shift(self, T: int) -> int:
        if self.max_shift is None:
            return T - 1
        L = self.max_shift
        if isinstance(L, bool) or not isinstance(L, (int, np.integer)):
            raise TypeError(f"max_shift must be an integer or None, got {type(L).__name__}")
        if not 0 <= L <= T - 1:
            raise ValueError(f"max_shift must be in [0, T - 1] = [0, {T - 1}], got {L}")
        return int(L)

    def _assign(self, U, C, L, nt):
        labels, best, shift = _core.sbd_assign(U, C, L, n_threads=nt)
        dist = 1.0 - best.astype(np.float64)
        reseed_empty(labels, dist, C, U, shift)
        return labels, dist, shift

    def _initial(self, U, k, L, rng, nt):
        """(centroids, labels, dist, shift) to start from; dist None when unknown."""
        n, T = U.shape
        init = self.init
        if isinstance(init, str):
            if init == "random":
                C = U[np.sort(rng.choice(n, k, replace=False))].copy()
                return (C, *self._assign(U, C, L, nt))
            if init == "random-labels":
                labels = rng.integers(k, size=n).astype(np.int64)
            else:
                raise ValueError(f"init must be 'random', 'random-labels' or an array, got {init!r}")
        else:
            a = np.asarray(init)
            if a.ndim == 2:
                if a.shape != (k, T):
                    raise ValueError(f"init centroids must have shape (n_clusters, T) = {(k, T)}, got {a.shape}")
                if not np.isfinite(a).all():
                    raise ValueError("init array has a NaN or infinite value")
                C = _unit(a).astype(np.float32)
                return (C, *self._assign(U, C, L, nt))
            if a.ndim != 1 or a.shape[0] != n or a.dtype.kind not in "iu":
                raise ValueError(f"init labels must be integers of shape (n,) = ({n},), got {a.dtype} {a.shape}")
            if a.min() < 0 or a.max() >= k:
                raise ValueError(f"init labels must be in [0, n_clusters) = [0, {k})")
            labels = a.astype(np.int64)
        C = np.zeros((k, T), dtype=np.float32)
        dist = np.ones(n)
        shift = np.zeros(n, dtype=np.int32)
        reseed_empty(labels, dist, C, U, shift)
        return C, labels, None, shift

    def _run(self, U, L, rng, nt):
        k = check_n_clusters(self.n_clusters, U.shape[0])
        max_iter = check_int(self.max_iter, "max_iter", 1)
        tol = float(self.tol)
        n = U.shape[0]
        C, labels, dist, shift = self._initial(U, k, L, rng, nt)
        inertia = np.inf if dist is None else dist.sum()
        n_iter = 0
        for _ in range(max_iter):
            newC = _shape_extraction(U, labels, shift, C, nt)
            nl, nd, ns = self._assign(U, newC, L, nt)
            new_inertia = nd.sum()
            if new_inertia > inertia:  # worse: keep the previous state (as tslearn)
                break
            n_iter += 1
            same = np.array_equal(nl, labels)
            gain = (inertia - new_inertia) / n
            C, labels, dist, shift, inertia = newC, nl, nd, ns, new_inertia
            if same or gain < tol:
                break
        if dist is None:  # max_iter reached nothing (cannot happen with max_iter >= 1)
            labels, dist, shift = self._assign(U, C, L, nt)
            inertia = dist.sum()
        return C, labels, shift, float(inertia), n_iter

    def fit(self, X, y=None) -> "KShape":
        """Cluster the shapes ``X``.

        Parameters
        ----------
        X : array_like, shape (n, T)
        y : ignored

        Returns
        -------
        self

        Raises
        ------
        ValueError
            If ``n_clusters`` exceeds the number of shapes, ``max_shift`` is out
            of range, or on NaN / infinite input (naming the row).

        Examples
        --------
        >>> import numpy as np, pyshape
        >>> X = np.random.default_rng(2).standard_normal((60, 32))
        >>> ks = pyshape.KShape(3, max_shift=4, random_state=0).fit(X)
        >>> ks.cluster_centers_.shape, int(np.abs(ks.shifts_).max()) <= 4
        ((3, 32), True)
        """
        U, nt = self._prepare(X, fitted=False)
        n, T = U.shape
        L = self._max_shift(T)
        check_n_clusters(self.n_clusters, n)
        n_init = 1 if not isinstance(self.init, str) else check_int(self.n_init, "n_init", 1)
        rng = make_rng(self.random_state)
        best = None
        for _ in range(n_init):
            res = self._run(U, L, rng, nt)
            if best is None or res[3] < best[3]:
                best = res
        C, labels, shift, inertia, n_iter = best
        self._set_fitted(C, labels, inertia, n_iter, T)
        self.shifts_ = shift.astype(np.int32, copy=False)
        self.max_shift_ = L
        return self

    def predict(self, X) -> np.ndarray:
        """Cluster of every shape: the centroid of least SBD (ties: the lower number).

        Parameters
        ----------
        X : array_like, shape (m, T)

        Returns
        -------
        ndarray of int64, shape (m,)

        Examples
        --------
        >>> import numpy as np, pyshape
        >>> X = np.random.default_rng(2).standard_normal((40, 32))
        >>> ks = pyshape.KShape(2, random_state=0).fit(X)
        >>> ks.predict(X[:3]).shape
        (3,)
        """
        self._check_fitted()
        U, nt = self._prepare(X)
        labels, _, _ = _core.sbd_assign(U, self.centroids_unit_, self.max_shift_, n_threads=nt)
        return labels

    def transform(self, X) -> np.ndarray:
        """Shape-based distance (SBD) of every shape to every centroid.

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
        >>> X = np.random.default_rng(2).standard_normal((40, 32))
        >>> ks = pyshape.KShape(2, random_state=0).fit(X)
        >>> bool((ks.transform(X).argmin(axis=1) == ks.labels_).all())
        True
        """
        self._check_fitted()
        U, nt = self._prepare(X)
        score, _ = _core.lagged(U, self.centroids_unit_, max_lag=self.max_shift_, n_threads=nt)
        np.subtract(np.float32(1.0), score, out=score)
        return score


# =============================================================================== plot
from pyshape.plot import plot_centroids  # noqa: E402,F401  (moved to pyshape.plot; importable here too)
