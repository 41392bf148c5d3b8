"""KShape fitted on a Dask array: the assignment on the partitions, and the
shape extraction from per-partition sufficient statistics.

k-Shape's centroid of cluster j is the dominant eigenvector of ``S_j = sum
y y^T`` over its members ``y`` (aligned to the current centroid, z-normalised
again), with the sign nearer the members. Both parts reduce over partitions:

- ``S_j`` (T x T, float64: 16.6 MB at T = 1440) is a sum of per-partition
  matrices, added up by a tree reduction; with it the member count, the
  column sums (the eigen-solver's start when the centroid is zero) and, for
  a cluster of at most 64 members, the members' rows themselves (so that the
  small case solves exactly the in-memory eigenproblem);
- the sign needs the members once more against the new vector: one more
  pass returns two numbers per cluster and partition.

Three round trips per iteration (statistics, sign, assignment); the driver
holds k matrices of T x T and the SBD of every shape (float32, to sum the
inertia exactly as in memory).
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

from pyshape import _core
from pyshape._validation import check_int, make_rng
from pyshape.cluster._base import check_n_clusters, reseed_empty, unit
from pyshape.cluster.kshape import KShape, _one_blas_thread, _top_eigvec, parse_init
from pyshape.dask._common import ArrayLike, aligned, compute_in_order, da, dask
from pyshape.dask.cluster import SBD_DTYPE, Rows, sbd_block, unit_rows

__all__ = ["fit_kshape"]

#: Up to this many members (or steps) ``_top_eigvec`` solves the dense
#: eigenproblem of the smaller Gram matrix; the partitions then send the rows.
SMALL = 64

#: Per-cluster statistics of some rows: (members, S = Y^T Y, column sums of Y,
#: Y itself when there are at most SMALL members, else None).
ClusterStats = Tuple[int, np.ndarray, np.ndarray, Optional[np.ndarray]]
Stats = Dict[int, ClusterStats]


def _aligned(u: np.ndarray, a: np.ndarray, zero: np.ndarray, k: int) -> Tuple[np.ndarray, np.ndarray]:
    """The partition's members moved by their shift, grouped by cluster in row
    order (as the in-memory extraction aligns all rows), and the group bounds.
    A member of a zero centroid is not moved."""
    lab = np.asarray(a["label"], dtype=np.int64)
    order = np.argsort(lab, kind="stable")
    sh = a["shift"][order].astype(np.int32)
    sh[zero[lab[order]]] = 0
    A = _core.align_rows(aligned(u), order.astype(np.int64), sh, n_threads=1)
    bounds = np.concatenate([[0], np.cumsum(np.bincount(lab, minlength=k))])
    return A, bounds


def _stats_block(u: np.ndarray, a: np.ndarray, zero: np.ndarray, k: int) -> Stats:
    out: Stats = {}
    if u.shape[0] == 0:
        return out
    A, bounds = _aligned(u, a, zero, k)
    with _one_blas_thread():  # one task per worker thread already
        for j in np.flatnonzero(np.diff(bounds)):
            Y = unit(A[bounds[j]:bounds[j + 1]])  # rows as the in-memory step makes them (float64)
            m = Y.shape[0]
            out[int(j)] = (m, Y.T @ Y, Y.sum(axis=0), Y if m <= SMALL else None)
    return out


def _merge_stats(parts: Sequence[Stats]) -> Stats:
    """Statistics of consecutive partitions added up (rows kept in row order)."""
    out: Stats = {}
    for p in parts:
        for j, (m, S, cs, Y) in p.items():
            if j not in out:
                out[j] = (m, S, cs, Y)
                continue
            m0, S0, cs0, Y0 = out[j]
            rows = None
            if m0 + m <= SMALL and Y0 is not None and Y is not None:
                rows = np.concatenate([Y0, Y])
            out[j] = (m0 + m, S0 + S, cs0 + cs, rows)  # new arrays: a task's inputs are never changed
    return out


def _sign_block(u: np.ndarray, a: np.ndarray, zero: np.ndarray, mus: np.ndarray, has: np.ndarray) -> np.ndarray:
    """Per cluster, the summed distances of the partition's aligned members to
    ``+mu`` and to ``-mu`` (tslearn's rule for the eigenvector's sign)."""
    k, T = mus.shape
    out = np.zeros((k, 2), dtype=np.float64)
    if u.shape[0] == 0:
        return out
    A, bounds = _aligned(u, a, zero, k)
    sq = np.sqrt(T)
    for j in np.flatnonzero(np.diff(bounds) * has):
        x = A[bounds[j]:bounds[j + 1]].astype(np.float64)
        p = x @ mus[j]
        base = T * (x * x).sum(axis=1) + 1.0
        out[j, 0] = np.sqrt(np.maximum(base - 2 * sq * p, 0)).sum()
        out[j, 1] = np.sqrt(np.maximum(base + 2 * sq * p, 0)).sum()
    return out


def _top_eigvec_gram(st: ClusterStats, guess: np.ndarray) -> np.ndarray:
    """``_top_eigvec`` from the statistics: on the rows themselves when there
    are few (the same computation as in memory), else on ``S = Y^T Y``: ARPACK's
    Lanczos on ``v -> S v`` started from ``guess`` for T > 64, a dense ``eigh``
    of S otherwise or when Lanczos fails."""
    m, S, colsum, Y = st
    if Y is not None:
        return _top_eigvec(Y, guess)
    T = S.shape[0]
    v = None
    if T > SMALL:
        try:
            from scipy.sparse.linalg import LinearOperator, eigsh
        except ImportError:
            eigsh = None
        if eigsh is not None:
            v0 = np.array(guess, dtype=np.float64)
            if not np.any(v0):
                v0 = colsum.copy()
            if not np.any(v0):
                v0 = np.ones(T) + np.arange(T) / T  # the in-memory fixed start
            op = LinearOperator((T, T), matvec=lambda x: S @ x, dtype=np.float64)
            try:
                _, vec = eigsh(op, k=1, which="LA", v0=v0, tol=0, ncv=min(T, 8))
                v = vec[:, 0]
            except Exception:  # no convergence: the dense solver below
                v = None
    if v is None:
        _, vec = np.linalg.eigh(S)
        v = vec[:, -1]
    nrm = np.linalg.norm(v)
    return v / nrm if nrm > 0 else np.zeros(T)


class _Fit:
    """One KShape fit over the partitions of the unit rows ``U``."""

    def __init__(self, est: KShape, U: Any, k: int, L: int, nt: int, split_every: int) -> None:
        self.est, self.U, self.k, self.L, self.nt, self.split_every = est, U, k, L, nt, split_every
        self.n, self.T = (int(s) for s in U.shape)
        self.blocks = U.to_delayed().ravel()
        self.sizes = [int(c) for c in U.chunks[0]]

    # ------------------------------------------------------------ assignment
    def _from_numpy(self, labels: np.ndarray, best: np.ndarray, shift: np.ndarray) -> Any:
        rec = np.empty(self.n, dtype=SBD_DTYPE)
        rec["label"], rec["best"], rec["shift"] = labels, best, shift
        return da.from_array(rec, chunks=(self.U.chunks[0],)).persist()

    def gather(self, A: Any) -> np.ndarray:
        return np.asarray(A.compute())

    def assign(self, C: np.ndarray, prev: Any = None) -> Tuple[Any, np.ndarray, bool]:
        """``KShape._assign`` over the partitions (``C`` re-seeded in place if a
        cluster is empty). Returns the persisted (label, best, shift) records,
        the SBD of every shape (float64, NumPy) and whether any label differs
        from ``prev``'s (True without ``prev``)."""
        A = self.U.map_blocks(sbd_block, C, self.L, self.nt, dtype=SBD_DTYPE, drop_axis=1,
                              meta=np.empty((0,), SBD_DTYPE)).persist()
        counts = dask.delayed(sum)([dask.delayed(np.bincount)(b["label"], minlength=self.k)
                                    for b in A.to_delayed().ravel()])
        changed: Any = True
        if prev is not None:
            changed = dask.delayed(any)([dask.delayed(_differ)(a, b) for a, b in
                                         zip(A.to_delayed().ravel(), prev.to_delayed().ravel())])
        counts, best, changed = compute_in_order(counts, A["best"], changed)
        if (np.asarray(counts) == 0).any():  # rare: re-seed on the driver, as in memory
            rec = self.gather(A)
            labels, shift = rec["label"].copy(), rec["shift"].copy()
            dist = np.clip(1.0 - rec["best"].astype(np.float64), 0.0, 2.0)
            reseed_empty(labels, dist, C, Rows(self.U).as_array(), shift)
            best = np.where(labels != rec["label"], np.float32(1.0), rec["best"])  # a re-seeded shape: SBD 0
            A = self._from_numpy(labels, best, shift)
            if prev is not None:
                changed = bool((labels != self.gather(prev)["label"]).any())
        return A, np.clip(1.0 - np.asarray(best).astype(np.float64), 0.0, 2.0), bool(changed)

    # ------------------------------------------------------------ shape extraction
    def extract(self, A: Any, C: np.ndarray) -> np.ndarray:
        """``_shape_extraction`` from per-partition statistics: new centroids."""
        k = self.k
        zero = ~C.any(axis=1)
        recs = A.to_delayed().ravel()
        stats_of = dask.delayed(_stats_block, pure=True)
        merge = dask.delayed(_merge_stats, pure=True)
        parts = [stats_of(u, a, zero, k) for u, a, s in zip(self.blocks, recs, self.sizes) if s > 0]
        while len(parts) > 1:  # the tree reduction, in partition order
            parts = [merge(parts[i:i + self.split_every]) for i in range(0, len(parts), self.split_every)]
        stats: Stats = dask.compute(parts[0])[0]
        out = C.copy()
        mus = np.zeros((k, self.T), dtype=np.float64)
        has = np.zeros(k, dtype=bool)
        with _one_blas_thread():
            for j, st in stats.items():
                if not st[1].diagonal().any():  # only constant members (Y = 0 iff diag(S) = 0)
                    out[j] = 0.0
                    continue
                mus[j] = _top_eigvec_gram(st, C[j].astype(np.float64))
                has[j] = True
        if not has.any():
            return out
        sign = dask.delayed(_sign_block, pure=True)
        d = dask.delayed(sum)([sign(u, a, zero, mus, has) for u, a, s in zip(self.blocks, recs, self.sizes)
                               if s > 0])
        d = np.asarray(dask.compute(d)[0])
        for j in np.flatnonzero(has):
            mu = -mus[j] if d[j, 1] < d[j, 0] else mus[j]
            out[j] = unit(mu).astype(np.float32)
        return out

    # ------------------------------------------------------------ the run
    def initial(self, rng: np.random.Generator) -> Tuple[np.ndarray, Any, Optional[np.ndarray]]:
        """``KShape._initial``: (centroids, records, SBD or None when unknown)."""
        n, T, k = self.n, self.T, self.k
        proxy = Rows(self.U)
        kind, given = parse_init(self.est.init, n, k, T)
        if kind in ("random", "centroids"):
            C = proxy[np.sort(rng.choice(n, k, replace=False))].copy() if given is None else given
            A, dist, _ = self.assign(C)
            return C, A, dist
        labels = rng.integers(k, size=int(n)).astype(np.int64) if given is None else given
        C = np.zeros((k, T), dtype=np.float32)
        shift = np.zeros(n, dtype=np.int32)
        reseed_empty(labels, np.ones(n), C, proxy.as_array(), shift)
        return C, self._from_numpy(labels, np.zeros(n, np.float32), shift), None

    def run(self, rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray, np.ndarray, float, int]:
        """``KShape._run``, step for step."""
        max_iter = check_int(self.est.max_iter, "max_iter", 1)
        tol = float(self.est.tol)
        C, A, dist = self.initial(rng)
        inertia = np.inf if dist is None else dist.sum()
        n_iter = 0
        for _ in range(max_iter):
            newC = self.extract(A, C)
            nA, nd, changed = self.assign(newC, A)
            new_inertia = nd.sum()
            if new_inertia > inertia:  # worse: keep the previous state
                break
            n_iter += 1
            gain = (inertia - new_inertia) / self.n
            C, A, dist, inertia = newC, nA, nd, new_inertia
            if not changed or gain < tol:
                break
        if dist is None:  # cannot happen with max_iter >= 1 (as in memory)
            A, dist, _ = self.assign(C)
            inertia = dist.sum()
        rec = self.gather(A)
        return C, rec["label"].astype(np.int64), rec["shift"].astype(np.int32), float(inertia), n_iter


def _differ(a: np.ndarray, b: np.ndarray) -> bool:
    return bool((a["label"] != b["label"]).any())


def fit_kshape(est: KShape, X: ArrayLike, *, n_threads: int = 1, chunk_rows: Optional[int] = None,
               persist: bool = True, split_every: int = 4) -> KShape:
    """Fit a :class:`pyshape.KShape` on a Dask array (partitioned by rows).

    Every iteration runs as in memory: the shape extraction from
    per-partition statistics (per cluster ``S = sum y y^T`` of the aligned,
    z-normalised members, T x T float64, summed by a tree reduction; then the
    same eigenvector and sign rule as in memory), and the SBD assignment, one
    C++ ``sbd_assign`` task per partition. For the same initial centroids (an
    ``init`` array, or the same ``random_state``) the labels, lags, ``n_iter_``
    and ``inertia_`` are those of ``est.fit(X)`` in memory and the centroids
    agree to float32 rounding (the eigenvector comes from ``S`` rather than
    from the members, except for clusters of at most 64 members, where it is
    bitwise the same).

    Parameters
    ----------
    est : KShape
        Its parameters are used; it is fitted in place and returned.
    X : dask.array.Array or array_like, shape (n, T)
    n_threads : int, default 1
        C++ threads per task.
    chunk_rows : int, optional
        Rows per partition (re-partitions a Dask array too).
    persist : bool, default True
        Keep the unit rows in the cluster's memory between iterations (else
        they are recomputed from ``X``, e.g. a memory map, in every pass).
    split_every : int, default 4
        Partitions' statistics added per task of the reduction tree. A task
        holds ``split_every + 1`` sets of up to k matrices of T x T float64
        (k = 16, T = 1440: 265 MB a set): lower it for many clusters.

    Returns
    -------
    est, with ``labels_`` and ``lags_`` NumPy arrays.
    """
    if not isinstance(est, KShape):
        raise TypeError(f"fit_kshape fits a KShape, got {type(est).__name__}")
    n_threads = check_int(n_threads, "n_threads", 1)
    split_every = check_int(split_every, "split_every", 2)
    U = unit_rows(X, n_threads=n_threads, chunk_rows=chunk_rows)
    if persist:
        U = U.persist()
    n, T = (int(s) for s in U.shape)
    L = est._max_lag(T)
    k = check_n_clusters(est.n_clusters, n)
    n_init = 1 if not isinstance(est.init, str) else check_int(est.n_init, "n_init", 1)
    rng = make_rng(est.random_state)
    fit = _Fit(est, U, k, L, n_threads, split_every)
    best: Optional[Tuple[np.ndarray, np.ndarray, np.ndarray, float, int]] = None
    for _ in range(n_init):
        res = fit.run(rng)
        if best is None or res[3] < best[3]:
            best = res
    assert best is not None  # n_init >= 1
    C, labels, shift, inertia, n_iter = best
    if hasattr(est, "feature_names_in_"):
        del est.feature_names_in_
    est._set_fitted(C, labels, inertia, n_iter, T)
    est.lags_ = shift
    est.max_lag_ = L
    return est

