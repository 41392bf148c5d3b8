"""Correlation over Dask arrays partitioned by rows: exact top-k partners (block
pairs as tasks, partial top-k lists merged by a tree reduction), Pearson,
lagged correlation and SBD (blocked output as Dask arrays). Every task runs
the single-machine C++ kernel on its blocks."""
from __future__ import annotations

from typing import Any, List, Optional, Sequence, Tuple

import numpy as np

from pyshape._validation import check_int, check_k
from pyshape.correlate.lagged import LaggedMethod
from pyshape.correlate.topk import Method, Partners, Which
from pyshape.dask._common import ArrayLike, as_rows, compute_in_order, da, dask, offsets, rethrow_row

__all__ = ["top_partners", "pearson", "lagged_correlation", "sbd", "compute"]


# --------------------------------------------------------------------------- top-k
#: A partial top-k list of a query block: (corr_index, corr_score, anti_index, anti_score), the
#: fields of ``which`` not asked for None; or None for no list (an empty block).
Part = Optional[Tuple[Optional[np.ndarray], ...]]


def _pair(q: np.ndarray, x: np.ndarray, k: int, x0: int, q0: int, same: bool, which: Which, method: Method,
          n_threads: int) -> Part:
    """Top-k of the query block ``q`` among the database block ``x`` (rows from
    ``x0``), indices global. ``same``: ``q`` is ``x`` (the self-pair is excluded)."""
    import pyshape

    q = np.asarray(q)
    x = np.asarray(x)
    kb = min(k, x.shape[0] - 1 if same else x.shape[0])
    if kb <= 0 or q.shape[0] == 0:
        return None
    try:
        if same:
            p = pyshape.top_partners(x, kb, which=which, method=method, n_threads=n_threads)
        else:
            p = pyshape.top_partners(x, kb, which=which, queries=q, method=method, n_threads=n_threads)
    except ValueError as e:  # a NaN row: name it in the whole array
        if "queries" in str(e):
            raise rethrow_row(e, q0) from None
        raise rethrow_row(e, x0) from None
    return tuple(None if a is None else (a + x0 if a.dtype.kind == "i" else a) for a in p.__dict__.values())


def _merge_two(parts: Sequence[Tuple[Any, ...]], k: int, col: int, descending: bool) -> Tuple[np.ndarray, np.ndarray]:
    idx = [p[col] for p in parts]
    sc = [p[col + 1] for p in parts]
    I = np.concatenate(idx, axis=1)
    S = np.concatenate(sc, axis=1)
    key = -S if descending else S
    order = np.lexsort((I, key), axis=-1)[:, :k]  # score first, then the smaller index
    return np.take_along_axis(I, order, axis=1), np.take_along_axis(S, order, axis=1)


def _merge(parts: Sequence[Part], k: int) -> Part:
    """Merge partial (corr_index, corr_score, anti_index, anti_score) lists: the
    k best by score, ties to the smaller index (the order of the in-memory kernel)."""
    live = [p for p in parts if p is not None]
    if not live:
        return None
    first = live[0][0] if live[0][0] is not None else live[0][2]
    if len(live) == 1 and first is not None and first.shape[1] <= k:
        return live[0]
    out: List[Optional[np.ndarray]] = [None] * 4
    if live[0][0] is not None:
        out[0], out[1] = _merge_two(live, k, 0, True)
    if live[0][2] is not None:
        out[2], out[3] = _merge_two(live, k, 2, False)
    return tuple(out)


def _final(part: Part, rows: int, k: int, field: int) -> Optional[np.ndarray]:
    if part is None:  # an empty query block
        return np.empty((rows, k), dtype=np.int64 if field % 2 == 0 else np.float32)
    return part[field]


def top_partners(X: ArrayLike, k: int = 10, *, which: Which = "both", queries: Optional[ArrayLike] = None,
                 method: Method = "auto",
                 n_threads: int = 1, split_every: int = 8, chunk_rows: Optional[int] = None) -> Partners:
    """Exact top-k partners of every shape, over a Dask array partitioned by rows.

    The same result as :func:`pyshape.top_partners` (same scores, bitwise, and
    the same tie order: ties to the smaller index). One task per pair of
    (query block, database block) runs the single-machine kernel on the two
    blocks; the partial lists of a query block are merged by a tree reduction
    (``split_every`` lists per merge task). Nothing of size n x n is ever held.

    Parameters
    ----------
    X : dask.array.Array or array_like, shape (n, T)
        The database, partitioned by rows (any partition sizes, empty ones
        too). A NumPy array or memory map is split into ``chunk_rows`` rows.
    k, which, queries, method
        As in :func:`pyshape.top_partners`. ``queries`` may be a Dask array.
    n_threads : int, default 1
        C++ threads per task (Dask runs one task per worker thread).
    split_every : int, default 8
        Partial lists merged per task of the reduction tree.
    chunk_rows : int, optional
        Rows per block (re-partitions a Dask array too).

    Returns
    -------
    Partners
        Fields are lazy Dask arrays of shape (n_queries, k), partitioned like
        the queries; ``pyshape.dask.compute(p)`` computes them in one pass.
    """
    if which not in ("both", "corr", "anti"):
        raise ValueError(f"which must be 'both', 'corr' or 'anti', got {which!r}")
    split_every = check_int(split_every, "split_every", 2)
    n_threads = check_int(n_threads, "n_threads", 1)
    Xd = as_rows(X, "X", chunk_rows)
    n, T = Xd.shape
    self_mode = queries is None
    if self_mode:
        Qd = Xd
        k = check_k(k, n - 1, "other shapes in X (a shape is not its own partner)")
    else:
        Qd = as_rows(queries, "queries", chunk_rows)
        if Qd.shape[1] != T:
            raise ValueError(f"X and queries must have the same number of steps, got {T} and {Qd.shape[1]}")
        k = check_k(k, n, "shapes in X")
    xo, qo = offsets(Xd.chunks[0]), offsets(Qd.chunks[0])
    xb, qb = Xd.to_delayed().ravel(), Qd.to_delayed().ravel()
    pair = dask.delayed(_pair, pure=True)
    merge = dask.delayed(_merge, pure=True)
    final = dask.delayed(_final, pure=True)
    fields: list[list[Any]] = [[] for _ in range(4)]
    for i, q in enumerate(qb):
        rows = int(Qd.chunks[0][i])
        parts = [pair(q, x, k, int(xo[j]), int(qo[i]), self_mode and i == j, which, method, n_threads)
                 for j, x in enumerate(xb) if Xd.chunks[0][j] > 0 and rows > 0]
        while len(parts) > 1:  # the tree reduction
            parts = [merge(parts[s:s + split_every], k) for s in range(0, len(parts), split_every)]
        top = parts[0] if parts else None
        for f in range(4):
            fields[f].append(da.from_delayed(final(top, rows, k, f), shape=(rows, k),
                                             dtype=np.int64 if f % 2 == 0 else np.float32))
    want = [which != "anti", which != "anti", which != "corr", which != "corr"]
    out = [da.concatenate(fields[f], axis=0) if want[f] else None for f in range(4)]
    return Partners(*out)


def compute(result: Any, **kwargs: Any) -> Any:
    """Compute the Dask arrays of a result in one pass: a :class:`Partners` (to a
    Partners of NumPy arrays), or a tuple / list of Dask arrays."""
    if isinstance(result, Partners):
        vals = list(result.__dict__.values())
        live = [v for v in vals if v is not None]
        got = iter(dask.compute(*live, **kwargs))
        return Partners(*[None if v is None else next(got) for v in vals])
    return compute_in_order(*result, **kwargs)


# --------------------------------------------------------------------------- matrices
def _blockwise_pair(func: Any, X: ArrayLike, Y: Optional[ArrayLike], name: Optional[str], dtype: Any,
                    meta_dtype: Any, **kw: Any) -> Tuple["da.Array", int]:
    Xd = as_rows(X, "X", kw.pop("chunk_rows", None))
    Yd = Xd if Y is None else as_rows(Y, "Y", None)
    if Yd.shape[1] != Xd.shape[1]:
        raise ValueError(f"X and Y must have the same number of steps, got {Xd.shape[1]} and {Yd.shape[1]}")
    return da.blockwise(func, "ij", Xd, "it", Yd, "jt", dtype=dtype, concatenate=True, name=name,
                        meta=np.empty((0, 0), dtype=meta_dtype), **kw), Xd.shape[1]


def _pearson_block(x: np.ndarray, y: np.ndarray, n_threads: int) -> np.ndarray:
    import pyshape

    if x.shape[0] == 0 or y.shape[0] == 0:
        return np.zeros((x.shape[0], y.shape[0]), dtype=np.float32)
    return pyshape.pearson(x, y, n_threads=n_threads)


def pearson(X: ArrayLike, Y: Optional[ArrayLike] = None, *, n_threads: int = 1,
            chunk_rows: Optional[int] = None) -> "da.Array":
    """Pearson correlation of every pair of shapes, as a Dask array of shape (n, m)
    blocked like (rows of X) x (rows of Y); each block is one C++ call.

    The same values as :func:`pyshape.pearson` (every entry is one dot product
    of unit rows, summed in the same order whatever the blocks). Y defaults to X.
    """
    n_threads = check_int(n_threads, "n_threads", 1)
    out, _ = _blockwise_pair(_pearson_block, X, Y, None, np.float32, np.float32,
                             n_threads=n_threads, chunk_rows=chunk_rows)
    return out


_LAGGED = np.dtype([("score", np.float32), ("lag", np.int32)])


def _lagged_block(x: np.ndarray, y: np.ndarray, max_lag: int, method: LaggedMethod, n_threads: int) -> np.ndarray:
    import pyshape

    out = np.empty((x.shape[0], y.shape[0]), dtype=_LAGGED)
    if x.shape[0] and y.shape[0]:
        s, lag = pyshape.lagged_correlation(x, y, max_lag=max_lag, method=method, n_threads=n_threads)
        out["score"], out["lag"] = s, lag
    return out


def lagged_correlation(X: ArrayLike, Y: Optional[ArrayLike] = None, *, max_lag: Optional[int] = None,
                       method: LaggedMethod = "auto", n_threads: int = 1,
                       chunk_rows: Optional[int] = None) -> Tuple["da.Array", "da.Array"]:
    """:func:`pyshape.lagged_correlation` over Dask arrays: ``(score, lag)``, two
    lazy (n, m) Dask arrays computed by the same tasks (one C++ call per block pair).

    With ``method='direct'`` or ``'fft'`` the values are those of the in-memory
    function; ``'auto'`` picks per block, so scores agree to float32 rounding.
    """
    if method not in ("auto", "direct", "fft"):
        raise ValueError(f"method must be 'auto', 'direct' or 'fft', got {method!r}")
    n_threads = check_int(n_threads, "n_threads", 1)
    Xd = as_rows(X, "X", chunk_rows)
    T = Xd.shape[1]
    max_lag = check_int(T - 1 if max_lag is None else max_lag, "max_lag", 0, T - 1)
    rec, _ = _blockwise_pair(_lagged_block, Xd, Y, None, _LAGGED, _LAGGED, max_lag=max_lag, method=method,
                             n_threads=n_threads)
    return rec["score"], rec["lag"]


def sbd(X: ArrayLike, Y: Optional[ArrayLike] = None, *, max_lag: Optional[int] = None, method: LaggedMethod = "auto",
        n_threads: int = 1, chunk_rows: Optional[int] = None) -> "da.Array":
    """Shape-based distance ``1 - max normalised cross-correlation`` as a lazy Dask array."""
    score, _ = lagged_correlation(X, Y, max_lag=max_lag, method=method, n_threads=n_threads,
                                  chunk_rows=chunk_rows)
    return 1.0 - score
