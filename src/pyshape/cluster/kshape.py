"""k-Shape (Paparrizos & Gravano, SIGMOD 2015): clusters of shapes under shifts."""
from __future__ import annotations

import warnings
from typing import Any, ContextManager, Optional, Tuple, Union

import numpy as np
from numpy.typing import ArrayLike

from pyshape import _core
from pyshape._system import resolve_threads
from pyshape.cluster._base import (
    RandomState,
    ShapeClusterBase,
    check_int,
    check_n_clusters,
    make_rng,
    reseed_empty,
    unit,
    unit_rows,
)

__all__ = ["KShape", "align"]


def align(X: ArrayLike, lags: ArrayLike, *, n_threads: Optional[int] = None) -> np.ndarray:
    """Shapes moved by their lags (as :attr:`KShape.lags_` gives them) and
    z-normalised again: what k-Shape compares with its centroids.

    Parameters
    ----------
    X : array_like, shape (n, T)
    lags : array_like of int, shape (n,)
        Shape ``i`` at time ``t`` is moved to ``t - lags[i]``.

    Returns
    -------
    ndarray of float32, shape (n, T)
    """
    nt = resolve_threads(n_threads)
    U = unit_rows(X, nt)
    s = np.asarray(lags)
    if s.shape != (U.shape[0],):
        raise ValueError(f"lags must have one entry per shape ({U.shape[0]}), got shape {s.shape}")
    A = _core.align_rows(U, np.arange(U.shape[0], dtype=np.int64), s.astype(np.int32), n_threads=nt)
    return A * np.float32(np.sqrt(U.shape[1]))


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
    sh[zero[labels[order]]] = 0  # type: ignore[index]  # NumPy's stubs: any(axis=1) might be a scalar
    A = _core.align_rows(U, order, sh, n_threads=nt)
    bounds = np.concatenate([[0], np.cumsum(np.bincount(labels, minlength=k))])
    out = C.copy()
    with _one_blas_thread():
        _extract_each(A, bounds, C, out, nt)
    return out


def _one_blas_thread() -> ContextManager[Any]:
    """The eigenvector step is a chain of small matrix-vector products, which a
    multi-threaded BLAS runs slower than one thread does (measured 3x on 2
    cores): limit it to one thread when threadpoolctl is there."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _extract_one(A: np.ndarray, bounds: np.ndarray, C: np.ndarray, out: np.ndarray, j: int) -> None:
    T = C.shape[1]
    a = A[bounds[j]:bounds[j + 1]].astype(np.float64)
    if a.shape[0] == 0:
        return
    Y = unit(a)  # the paper z-normalises the aligned members (scale does not matter)
    if not Y.any():  # only constant members
        out[j] = 0.0
        return
    mu = _top_eigvec(Y, C[j].astype(np.float64))
    p = a @ mu
    base = T * (a * a).sum(axis=1) + 1.0
    sq = np.sqrt(T)
    d_plus = np.sqrt(np.maximum(base - 2 * sq * p, 0)).sum()
    d_minus = np.sqrt(np.maximum(base + 2 * sq * p, 0)).sum()
    if d_minus < d_plus:
        mu = -mu
    out[j] = unit(mu).astype(np.float32)


def _extract_each(A: np.ndarray, bounds: np.ndarray, C: np.ndarray, out: np.ndarray, nt: int = 1) -> None:
    """The new centroid of every cluster into ``out``; clusters on ``nt`` threads (each
    cluster's computation is the same on any thread, so the result does not depend on
    ``nt``: NumPy and the one-thread BLAS release the GIL in the products)."""
    k = C.shape[0]
    # largest clusters first, so that the threads finish together
    order = np.argsort(-np.diff(bounds), kind="stable")
    if nt <= 1 or k <= 1:
        for j in order:
            _extract_one(A, bounds, C, out, int(j))
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(nt, k)) as pool:
        for f in [pool.submit(_extract_one, A, bounds, C, out, int(j)) for j in order]:
            f.result()


def parse_init(init: Any, n: int, k: int, T: int) -> Tuple[str, Optional[np.ndarray]]:
    """KShape's ``init``, checked: ``('random', None)``, ``('random-labels', None)``,
    ``('centroids', unit-norm float32 (k, T))`` or ``('labels', int64 (n,))``.

    One reading of ``init`` for the in-memory fit and :func:`pyshape.dask.fit_kshape`,
    so both start from the same state and refuse the same input."""
    if isinstance(init, str):
        if init in ("random", "random-labels"):
            return init, None
        raise ValueError(f"init must be 'random', 'random-labels' or an array, got {init!r}")
    a = np.asarray(init)
    if a.ndim == 2:
        if a.shape != (k, T):
            raise ValueError(f"init centroids must have shape (n_clusters, T) = {(k, T)}, got {a.shape}")
        if not np.isfinite(a).all():
            raise ValueError("init array has a NaN or infinite value")
        return "centroids", unit(a).astype(np.float32)
    if a.ndim != 1 or a.shape[0] != n or a.dtype.kind not in "iu":
        raise ValueError(f"init labels must be integers of shape (n,) = ({n},), got {a.dtype} {a.shape}")
    if a.min() < 0 or a.max() >= k:
        raise ValueError(f"init labels must be in [0, n_clusters) = [0, {k})")
    return "labels", a.astype(np.int64)


class KShape(ShapeClusterBase):
    """k-Shape clustering (Paparrizos & Gravano, SIGMOD 2015).

    Shapes are z-normalised; the distance is the shape-based distance
    ``SBD(x, c) = 1 - max_s NCC(x, c)[s]``, the largest normalised
    cross-correlation over lags (shifts) ``|s| <= max_lag``. Each iteration extracts
    every cluster's shape (members aligned to the current centroid by their best
    lag, then the dominant eigenvector of the paper's ``M = Q^T S Q``) and
    re-assigns every shape to the centroid of least SBD. SBD of every shape
    against the k centroids and the alignment run in C++ (FFT or direct
    cross-correlation, on all cores); the eigenvectors use LAPACK (SciPy when
    available, else NumPy) on the smaller Gram matrix.

    Parameters
    ----------
    n_clusters : int, default 8
        Number of clusters k; at most the number of shapes.
    max_lag : int, optional
        Largest lag (shift) considered, ``0 <= max_lag <= T - 1`` (default: all
        lags, ``T - 1``). ``0`` gives correlation k-means with shape extraction.
        The same name and meaning as in :func:`pyshape.lagged_correlation`.
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
    max_shift : int or None, deprecated
        The former name of ``max_lag``: still accepted, with a FutureWarning,
        for one release.

    Attributes
    ----------
    cluster_centers_ : ndarray of float32, shape (n_clusters, T)
        Centroids, z-normalised.
    labels_ : ndarray of int64, shape (n,)
    lags_ : ndarray of int32, shape (n,)
        Best lag of every training shape against its centroid: shape ``i``
        at time ``t`` matches the centroid at ``t - lags_[i]``.
        (``shifts_``, its former name, still reads it, with a FutureWarning.)
    max_lag_ : int
        The largest lag used (``max_lag``, or ``T - 1`` when it is None).
    inertia_ : float
        Sum over training shapes of the SBD to their centroid.
    n_iter_ : int
        Refinement steps of the kept run.
    n_features_in_ : int
        T, the number of steps per shape.
    feature_names_in_ : ndarray of object, shape (T,)
        Column names of ``X`` when it was a DataFrame with string column names
        (only then); ``predict`` / ``transform`` then check the names of ``X``.

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

    def __init__(self, n_clusters: int = 8, *, max_lag: Optional[int] = None, init: Union[str, ArrayLike] = "random",
                 n_init: int = 1, max_iter: int = 100, tol: float = 1e-6,
                 random_state: RandomState = None, n_threads: Optional[int] = None,
                 max_shift: Union[Optional[int], str] = "deprecated") -> None:
        self.n_clusters = n_clusters
        self.max_lag = max_lag
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.n_threads = n_threads
        # deprecated name of max_lag; stored unchanged (scikit-learn's rule for
        # __init__), read in fit
        self.max_shift = max_shift

    def _max_lag(self, T: int) -> int:
        L, name = self.max_lag, "max_lag"
        if not (isinstance(self.max_shift, str) and self.max_shift == "deprecated"):
            warnings.warn("KShape's max_shift was renamed max_lag (as in pyshape.lagged_correlation) "
                          "and will be removed in pyshape 0.3: pass max_lag instead",
                          FutureWarning, stacklevel=3)
            if L is not None:
                raise ValueError("pass max_lag only: max_shift is its deprecated name, not a second limit")
            L, name = self.max_shift, "max_shift"
        if L is None:
            return T - 1
        if isinstance(L, bool) or not isinstance(L, (int, np.integer)):
            raise TypeError(f"{name} must be an integer or None, got {type(L).__name__}")
        if not 0 <= L <= T - 1:
            raise ValueError(f"{name} must be in [0, T - 1] = [0, {T - 1}], got {L}")
        return int(L)

    def __setstate__(self, state: dict) -> None:
        # a model pickled before max_shift / shifts_ were renamed max_lag / lags_
        state = dict(state)
        if "max_lag" not in state:
            state["max_lag"] = state.pop("max_shift", None)
            state["max_shift"] = "deprecated"
        for old, new in (("shifts_", "lags_"), ("max_shift_", "max_lag_")):
            if old in state:
                state[new] = state.pop(old)
        parent = getattr(super(), "__setstate__", None)
        if parent is not None:
            parent(state)
        else:
            self.__dict__.update(state)

    @property
    def shifts_(self) -> np.ndarray:
        """Deprecated: the former name of ``lags_`` (read-only)."""
        if "lags_" not in self.__dict__:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute 'shifts_' "
                                 f"(not fitted; its new name is lags_)")
        warnings.warn("KShape.shifts_ was renamed lags_ and will be removed in pyshape 0.3",
                      FutureWarning, stacklevel=2)
        return self.lags_

    def _assign(self, U: np.ndarray, C: np.ndarray, L: int, nt: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        labels, best, shift = _core.sbd_assign(U, C, L, n_threads=nt)
        dist = np.clip(1.0 - best.astype(np.float64), 0.0, 2.0)  # SBD is in [0, 2] up to rounding
        reseed_empty(labels, dist, C, U, shift)
        return labels, dist, shift

    def _initial(self, U: np.ndarray, k: int, L: int, rng: np.random.Generator,
                 nt: int) -> Tuple[np.ndarray, np.ndarray, Optional[np.ndarray], np.ndarray]:
        """(centroids, labels, dist, shift) to start from; dist None when unknown."""
        n, T = U.shape
        kind, given = parse_init(self.init, n, k, T)
        if kind in ("random", "centroids"):
            C = U[np.sort(rng.choice(n, k, replace=False))].copy() if given is None else given
            return (C, *self._assign(U, C, L, nt))
        # int(): picks NumPy's array overload
        labels = rng.integers(k, size=int(n)).astype(np.int64) if given is None else given
        C = np.zeros((k, T), dtype=np.float32)
        dist = np.ones(n)
        shift = np.zeros(n, dtype=np.int32)
        reseed_empty(labels, dist, C, U, shift)
        return C, labels, None, shift

    def _run(self, U: np.ndarray, L: int, rng: np.random.Generator,
             nt: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray, float, int]:
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

    def fit(self, X: ArrayLike, y: Any = None) -> "KShape":
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
            If ``n_clusters`` exceeds the number of shapes, ``max_lag`` is out
            of range, on NaN / infinite input (naming the row), or on 1-D
            input (one shape is ``X.reshape(1, -1)``).
        TypeError
            On sparse or non-numeric input.

        Examples
        --------
        >>> import numpy as np, pyshape
        >>> X = np.random.default_rng(2).standard_normal((60, 32))
        >>> ks = pyshape.KShape(3, max_lag=4, random_state=0).fit(X)
        >>> ks.cluster_centers_.shape, int(np.abs(ks.lags_).max()) <= 4
        ((3, 32), True)
        """
        U, nt = self._prepare(X, fitted=False)
        n, T = U.shape
        L = self._max_lag(T)
        check_n_clusters(self.n_clusters, n)
        n_init = 1 if not isinstance(self.init, str) else check_int(self.n_init, "n_init", 1)
        rng = make_rng(self.random_state)
        best = None
        for _ in range(n_init):
            res = self._run(U, L, rng, nt)
            if best is None or res[3] < best[3]:
                best = res
        assert best is not None  # n_init >= 1
        C, labels, shift, inertia, n_iter = best
        self._set_fitted(C, labels, inertia, n_iter, T)
        self.lags_ = shift.astype(np.int32, copy=False)
        self.max_lag_ = L
        return self

    def predict(self, X: ArrayLike) -> np.ndarray:
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
        labels, _, _ = _core.sbd_assign(U, self.centroids_unit_, self.max_lag_, n_threads=nt)
        return labels

    def transform(self, X: ArrayLike) -> np.ndarray:
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
        return self._distances(U, nt)

    def _distances(self, U: np.ndarray, nt: int) -> np.ndarray:
        # centroids first, as sbd_assign computes them (bitwise the same scores, so the argmin is the label)
        score, _ = _core.lagged(self.centroids_unit_, U, max_lag=self.max_lag_, n_threads=nt)
        d = np.subtract(np.float32(1.0), score.T)
        return np.clip(d, 0.0, 2.0, out=d)  # SBD is in [0, 2]; float32 rounding may leave it
