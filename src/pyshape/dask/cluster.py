"""Clustering over Dask arrays: CorrelationKMeans fitted from per-partition
statistics (the same result as in memory for the same initial centroids), and
the assignment step of any fitted clusterer (KShape's SBD assignment included)
as lazy Dask arrays."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple, cast

import numpy as np

from pyshape import _core
from pyshape._validation import as_shapes, check_finite_row, check_int, make_rng
from pyshape.cluster._base import check_n_clusters, reseed_empty
from pyshape.cluster.kmeans import CorrelationKMeans, centroid_update
from pyshape.cluster.kshape import KShape
from pyshape.dask._common import ArrayLike, aligned, as_rows, da, dask, rethrow_row

__all__ = ["fit_kmeans", "predict", "kshape_assign", "unit_rows"]

_ASSIGN = np.dtype([("label", np.int64), ("best", np.float32)])
SBD_DTYPE = np.dtype([("label", np.int64), ("best", np.float32), ("shift", np.int32)])


def _unit_block(x: np.ndarray, n_threads: int, block_info: Optional[List[Dict[str, Any]]] = None) -> np.ndarray:
    row0 = block_info[0]["array-location"][0][0] if block_info else 0
    if x.shape[0] == 0:
        return np.empty(x.shape, dtype=np.float32)
    try:
        u, bad = _core.normalize_rows(as_shapes(x, "X", center=True), 1.0, n_threads)
        check_finite_row(bad, "X")
    except ValueError as e:
        raise rethrow_row(e, row0) from None
    return u


def unit_rows(X: ArrayLike, *, n_threads: int = 1, chunk_rows: Optional[int] = None) -> "da.Array":
    """Centred unit-norm rows (float32), partition by partition: the rows the
    correlation kernels work on, bitwise those of the in-memory functions."""
    Xd = as_rows(X, "X", chunk_rows)
    return Xd.map_blocks(_unit_block, n_threads, dtype=np.float32, meta=np.empty((0, 0), np.float32))


class Rows:
    """Rows of a Dask array fetched on indexing: what the in-memory seeding
    (k-means++ on a sample, 'random') reads, so it draws the same shapes."""

    def __init__(self, U: "da.Array") -> None:
        self.U = U
        self.shape: Tuple[int, ...] = tuple(int(s) for s in U.shape)

    def as_array(self) -> np.ndarray:
        """Typed as the array it stands for (what ``reseed_empty`` and the seeding
        index), which it is for their reads."""
        return cast(np.ndarray, self)

    def __getitem__(self, idx: Any) -> np.ndarray:
        if isinstance(idx, (int, np.integer)):
            return np.asarray(self.U[int(idx)].compute())
        idx = np.asarray(idx)
        return np.ascontiguousarray(self.U[idx].compute())


def _assign_block(u: np.ndarray, C: np.ndarray, n_threads: int) -> np.ndarray:
    out = np.empty(u.shape[0], dtype=_ASSIGN)
    if u.shape[0]:
        # blocks arrive unpickled from other workers, possibly at odd byte offsets: the kernels
        # read whole floats, so hand them aligned C-contiguous float32 (a copy only when needed)
        u, C = aligned(u), aligned(C)
        out["label"], out["best"] = _core.corr_assign(u, C, n_threads=n_threads)
    return out


def _sums_step(state: Optional[Tuple[np.ndarray, np.ndarray]], u: np.ndarray, labels: np.ndarray,
               k: int) -> Tuple[np.ndarray, np.ndarray]:
    """Add a partition's members to the running per-cluster sums, row by row in
    row order (float64), as the in-memory update does over all rows: the chain
    of these steps over the partitions gives bitwise the same sums."""
    sums, counts = (np.zeros((k, u.shape[1]), dtype=np.float64), np.zeros(k, dtype=np.int64)) \
        if state is None else (state[0].copy(), state[1].copy())
    if u.shape[0] == 0:
        return sums, counts
    order = np.argsort(labels, kind="stable")
    lab = labels[order]
    cuts = np.flatnonzero(np.diff(lab)) + 1
    for grp in np.split(order, cuts):
        j = int(labels[grp[0]])
        block = np.empty((grp.size + 1, u.shape[1]), dtype=np.float64)
        block[0] = sums[j]
        block[1:] = u[grp]
        sums[j] = np.add.accumulate(block, axis=0)[-1]  # sequential: s += u[i] for each member in order
        counts[j] += grp.size
    return sums, counts


def _counts(labels: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(labels, minlength=k)


def fit_kmeans(est: CorrelationKMeans, X: ArrayLike, *, n_threads: int = 1, chunk_rows: Optional[int] = None,
               persist: bool = True) -> CorrelationKMeans:
    """Fit a :class:`pyshape.CorrelationKMeans` on a Dask array (partitioned by rows).

    Every Lloyd round is one assignment task per partition (the C++ blocked
    product with the centroids, in parallel on the cluster) and an update from
    per-partition sums: a chain of small tasks over the partitions that adds
    the members of each cluster in row order, so the centroids, labels,
    ``inertia_`` and ``n_iter_`` are bitwise those of ``est.fit(X)`` in memory
    for the same initial centroids (an ``init`` array, or the same
    ``random_state``: the seeding draws the same rows). The update reads
    O(n T) and the assignment O(n k T): the chain is the cheap part.

    Parameters
    ----------
    est : CorrelationKMeans
        Its parameters are used; it is fitted in place and returned.
    X : dask.array.Array or array_like, shape (n, T)
    n_threads : int, default 1
        C++ threads per task.
    persist : bool, default True
        Keep the unit rows in the cluster's memory between rounds (else they
        are recomputed from ``X``, e.g. a memory map, every round).

    Returns
    -------
    est, with ``labels_`` a NumPy array.
    """
    if not isinstance(est, CorrelationKMeans):
        raise TypeError(f"fit_kmeans fits a CorrelationKMeans, got {type(est).__name__}")
    n_threads = check_int(n_threads, "n_threads", 1)
    U = unit_rows(X, n_threads=n_threads, chunk_rows=chunk_rows)
    if persist:
        U = U.persist()
    n, T = (int(s) for s in U.shape)
    k = check_n_clusters(est.n_clusters, n)
    n_init = 1 if not isinstance(est.init, str) else check_int(est.n_init, "n_init", 1)
    rng = make_rng(est.random_state)
    proxy = Rows(U)
    blocks = U.to_delayed().ravel()
    best: Optional[Tuple[np.ndarray, np.ndarray, float, int]] = None
    for _ in range(n_init):
        if isinstance(est.init, str) and est.init == "k-means++":
            size = est.init_size if est.init_size is not None else min(n, max(10_000, 100 * k))
            size = min(n, max(k, check_int(size, "init_size", 1)))
            src = np.asarray(U.compute()) if size == n else proxy.as_array()  # the whole sample is read anyway
            C0 = est._initial(src, k, rng, n_threads)
        else:
            C0 = est._initial(proxy.as_array(), k, rng, n_threads)
        res = _lloyd(est, U, blocks, C0, k, n_threads)
        if best is None or res[2] < best[2]:
            best = res
    assert best is not None  # n_init >= 1
    C, labels, inertia, n_iter = best
    est.n_features_in_ = int(T)
    if hasattr(est, "feature_names_in_"):
        del est.feature_names_in_
    est._set_fitted(C, labels, inertia, n_iter, T)
    return est


def _reseed(U: "da.Array", C: np.ndarray, labels: "da.Array", best: "da.Array") -> Tuple["da.Array", np.ndarray]:
    """Empty clusters re-seeded as in memory (rare): labels and distances gathered."""
    lab, b = dask.compute(labels, best)
    lab = np.array(lab)
    dist = np.clip(1.0 - b.astype(np.float64), 0.0, 2.0)
    reseed_empty(lab, dist, C, Rows(U).as_array())  # changes C in place, as in memory
    return da.from_array(lab, chunks=(U.chunks[0],)).persist(), dist


def _ne(a: np.ndarray, b: np.ndarray) -> bool:
    return bool((a != b).any())


def _changed(labels: "da.Array", prev: Optional["da.Array"]) -> Any:
    """Whether any label differs from the previous round's (a Delayed; True when there is none)."""
    if prev is None:
        return True
    return dask.delayed(any)([dask.delayed(_ne)(a, b) for a, b in
                              zip(labels.to_delayed().ravel(), prev.to_delayed().ravel())])


def _chain(blocks: Any, labels: "da.Array", k: int) -> Any:
    """The update's sums as a chain of tasks over the partitions (a Delayed)."""
    state: Any = None
    step = dask.delayed(_sums_step, pure=True)
    for u, lab in zip(blocks, labels.to_delayed().ravel()):
        state = step(state, u, lab, k)
    return state


def _lloyd(est: CorrelationKMeans, U: "da.Array", blocks: Any, C: np.ndarray, k: int,
           nt: int) -> Tuple[np.ndarray, np.ndarray, float, int]:
    """CorrelationKMeans._run, round for round, with the steps over partitions.

    One blocking round trip per round: the labels are persisted (on the
    workers), then the cluster sizes, whether any label changed and the
    update's sums are computed together."""
    max_iter = check_int(est.max_iter, "max_iter", 1)
    tol = float(est.tol)
    prev: Any = None
    n_iter = 0
    consistent = False

    def assign(C: np.ndarray) -> Tuple["da.Array", "da.Array"]:
        A = U.map_blocks(_assign_block, C, nt, dtype=_ASSIGN, drop_axis=1,
                         meta=np.empty((0,), _ASSIGN)).persist()
        return A["label"], A["best"]

    def counts_of(labels: "da.Array") -> Any:
        return dask.delayed(sum)([dask.delayed(_counts)(b, k) for b in labels.to_delayed().ravel()])

    labels: Any = None
    best: Any = None
    for _ in range(max_iter):
        labels, best = assign(C)
        changed = _changed(labels, prev)
        counts, changed, state = dask.compute(counts_of(labels), changed, _chain(blocks, labels, k))
        if (counts == 0).any():
            labels, best = _reseed(U, C, labels, best)
            changed = dask.compute(_changed(labels, prev))[0]
            state = _chain(blocks, labels, k).compute() if changed else None
        if prev is not None and not changed:
            consistent = True  # C is the update from these very labels
            break
        assert state is not None  # computed whenever a label changed (always in the first round)
        C, shift = centroid_update(C, state[0])
        prev = labels
        n_iter += 1
        if shift <= tol:
            break
    if not consistent:
        labels, best = assign(C)
        if (dask.compute(counts_of(labels))[0] == 0).any():
            labels, best = _reseed(U, C, labels, best)
    lab, b = dask.compute(labels, best)
    dist = b if b.dtype == np.float64 else np.clip(1.0 - b.astype(np.float64), 0.0, 2.0)
    return C, np.asarray(lab), float(dist.sum()), n_iter


# --------------------------------------------------------------------------- assignment
def _predict_block(x: np.ndarray, est: Any) -> np.ndarray:
    if x.shape[0] == 0:
        return np.empty(0, dtype=np.int64)
    return est.predict(x)


def predict(est: Any, X: ArrayLike, *, chunk_rows: Optional[int] = None) -> "da.Array":
    """Cluster of every shape (``est.predict`` per partition) as a lazy int64 Dask array."""
    est._check_fitted()
    Xd = as_rows(X, "X", chunk_rows)
    return Xd.map_blocks(_predict_block, est, dtype=np.int64, drop_axis=1, meta=np.empty((0,), np.int64))


def sbd_block(u: np.ndarray, C: np.ndarray, L: int, n_threads: int) -> np.ndarray:
    """KShape's assignment of one partition: (label, best score, shift) records."""
    out = np.empty(u.shape[0], dtype=SBD_DTYPE)
    if u.shape[0]:
        u, C = aligned(u), aligned(C)  # see _assign_block
        out["label"], out["best"], out["shift"] = _core.sbd_assign(u, C, L, n_threads=n_threads)
    return out


def kshape_assign(est: KShape, X: ArrayLike, *, n_threads: int = 1,
                  chunk_rows: Optional[int] = None) -> Tuple["da.Array", "da.Array", "da.Array"]:
    """KShape's assignment step over a Dask array: ``(labels, distance, shift)``,
    lazy Dask arrays (int64, float64 SBD in [0, 2], int32) computed by one C++
    ``sbd_assign`` per partition against the fitted centroids, bitwise those of
    the in-memory step (which is also what ``est.predict`` returns)."""
    if not isinstance(est, KShape):
        raise TypeError(f"kshape_assign takes a fitted KShape, got {type(est).__name__}")
    est._check_fitted()
    U = unit_rows(X, n_threads=n_threads, chunk_rows=chunk_rows)
    if U.shape[1] != est.centroids_unit_.shape[1]:
        raise ValueError(f"X has {U.shape[1]} steps, the centroids {est.centroids_unit_.shape[1]}")
    A = U.map_blocks(sbd_block, est.centroids_unit_, est.max_lag_, n_threads, dtype=SBD_DTYPE, drop_axis=1,
                     meta=np.empty((0,), SBD_DTYPE))
    dist = da.clip(1.0 - A["best"].astype(np.float64), 0.0, 2.0)
    return A["label"], dist, A["shift"]
