"""Exact top-k most correlated / anti-correlated partners, never n x n."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal, Optional, Tuple

import numpy as np
from numpy.typing import ArrayLike

from pyshape import _core
from pyshape._progress import ProgressArg, check_progress, progress_callback
from pyshape._system import resolve_threads
from pyshape._validation import as_shapes, check_finite_row, check_int, check_k, check_same_length
from pyshape.correlate import _lowrank
from pyshape.correlate._common import unit_rows

__all__ = ["Partners", "top_partners", "top_partners_auto_method"]


@dataclass(frozen=True)
class Partners:
    """Top-k partners of every query shape.

    Attributes
    ----------
    corr_index, corr_score : ndarray, shape (n_queries, k), or None
        The k most correlated partners, highest score first (int64 indices
        into the database, float32 Pearson r). None when not requested.
    anti_index, anti_score : ndarray, shape (n_queries, k), or None
        The k most anti-correlated partners, lowest (most negative) score first.
    """

    corr_index: Optional[np.ndarray]
    corr_score: Optional[np.ndarray]
    anti_index: Optional[np.ndarray]
    anti_score: Optional[np.ndarray]


Which = Literal["both", "corr", "anti"]
Method = Literal["auto", "bruteforce", "pruned", "int8"]

# method='int8': rows of at most this many steps (int32 accumulation of the products).
_INT8_MAX_T = 65536
# method='int8' keeps no unit-norm float copy of inputs larger than this (bytes of float32
# rows): it normalises the rows it needs on the fly (bitwise the same rows), which saves
# 4 n T bytes (5.4 GiB at n = 1e6, T = 1440) but costs ~2% at n = 20,000 (the re-scored
# rows normalised again; measured same run, alternated), ~1/n of the run less beyond.
_UNIT_COPY_MAX_BYTES = 256 << 20


def top_partners(
    X: ArrayLike,
    k: int = 10,
    *,
    which: Which = "both",
    queries: ArrayLike | None = None,
    method: Method = "auto",
    rank: int | None = None,
    n_threads: int | None = None,
    progress: ProgressArg = False,
) -> Partners:
    """The k most correlated and/or anti-correlated partners of every shape.

    Exact (every pair is scored, or provably pruned), blocked and
    multi-threaded; memory is O(n k) plus a block per thread, never n x n.

    Parameters
    ----------
    X : array_like, shape (n, T)
        The database of shapes.
    k : int
        Partners per shape; at most n - 1 (a shape is not its own partner), or
        at most n when ``queries`` is given.
    which : {'both', 'corr', 'anti'}
        Most correlated (``'corr'``), most anti-correlated (``'anti'``) or both.
    queries : array_like, shape (q, T), optional
        Find partners in ``X`` for these shapes instead of for ``X`` itself.
    method : {'auto', 'bruteforce', 'pruned', 'int8'}
        All are exact. ``'bruteforce'`` scores every pair (blocked float32
        products). ``'pruned'`` bounds every pair from a rank-``rank``
        projection (a basis learnt from a sample of rows) and scores exactly
        only the pairs whose bounds can reach the running top-k: much faster
        on structured shapes, no faster on white noise (with nothing to
        project, e.g. T = 1 or only constant shapes, it runs brute force).
        ``'int8'`` scores every pair in int8 (AVX-512 VNNI, or AVX2
        ``vpmaddubsw`` where the CPU lacks it), bounds each pair's error from
        its quantisation residuals, checks the pairs whose bound reaches the
        running top-k again with the residuals quantised too (a bound ~100x
        tighter), and re-scores in float32 only the pairs that still can
        (shapes of at most 65,536 steps).
        Every score is summed in the same order by all three, so their
        results are bitwise equal, ties included. ``'auto'`` picks by a cost
        model (int8 unless the work is small; for shapes too long for int8,
        pruning when a plan measured on a sample of queries predicts a clear
        win); ``top_partners_auto_method`` tells which.
    rank : int, optional
        Projection rank for ``'pruned'`` (default: chosen by the cost model).
    n_threads : int, optional
        Threads to use (default: the CPUs available to this process). The
        result does not depend on it.
    progress : bool or callable, optional
        True for a progress bar on stderr, or a callable ``f(done, total)``.

    Returns
    -------
    Partners
        Ties in score are broken by the smaller index.

    Notes
    -----
    Memory: besides the O(n k) result, ``'bruteforce'`` and ``'pruned'``
    hold a unit-norm copy of ``X`` (and of ``queries``) and ``X`` packed in
    panels for the kernel: ``8 n T`` bytes (``+ 4 q T``), e.g. 11.5 GB for
    n = 1,000,000 and T = 1440; ``'pruned'`` adds ``O(n rank)`` for the
    projections. ``'int8'`` (what ``'auto'`` runs at such sizes) holds int8
    copies of about ``3 n T`` bytes (4.1 GiB at n = 1,000,000, T = 1440),
    ``3 q T`` more for queries (none for the partners of ``X`` itself on
    CPUs with AVX-512 VNNI, which reuse the database's) and, for inputs
    above 256 MiB, no float copy (16 bytes a row: it normalises the rows it
    needs on the fly); smaller inputs get a unit-norm copy (``4 n T``
    bytes), which is ~2% faster. Inputs that are not C-contiguous float32 are converted
    once, which costs another ``4 n T`` bytes while the call runs: pass
    float32 to avoid it.

    Examples
    --------
    >>> import numpy as np, pyshape
    >>> t = np.arange(48.0)
    >>> X = np.stack([np.sin(t / 4), -np.sin(t / 4), np.sin(t / 4) + 0.1 * np.cos(t)])
    >>> p = pyshape.top_partners(X, k=1)
    >>> p.corr_index[:, 0].tolist(), p.anti_index[:, 0].tolist()
    ([2, 2, 0], [1, 0, 1])
    """
    if which not in ("both", "corr", "anti"):
        raise ValueError(f"which must be 'both', 'corr' or 'anti', got {which!r}")
    nt = resolve_threads(n_threads)
    check_progress(progress)
    if method not in ("auto", "bruteforce", "pruned", "int8"):
        raise ValueError(f"method must be 'auto', 'bruteforce', 'pruned' or 'int8', got {method!r}")
    x = as_shapes(X, "X", center=True)
    xq = None
    if queries is not None:
        xq = as_shapes(queries, "queries", center=True)
        check_same_length(x, xq, "X", "queries")
    n_queries = x.shape[0] if xq is None else xq.shape[0]
    if method == "auto" and _core.topk_auto_method(n_queries, x.shape[0], x.shape[1]) == "int8":
        method = "int8"
    lean = method == "int8" and x.nbytes + (0 if xq is None else xq.nbytes) > _UNIT_COPY_MAX_BYTES
    if lean:
        # no unit-norm copy: the kernel normalises the rows it needs from these scales
        # (bitwise the rows unit_rows makes)
        x_scale = _checked_scales(x, "X", nt)
        q_scale = None if xq is None else _checked_scales(xq, "queries", nt)
    else:
        u = unit_rows(x, "X", nt)
        q = None if xq is None else unit_rows(xq, "queries", nt)
    if xq is not None:
        k = check_k(k, x.shape[0], "shapes in X")
    else:
        k = check_k(k, x.shape[0] - 1, "other shapes in X (a shape is not its own partner)")
    if method == "int8" and not 1 <= x.shape[1] <= _INT8_MAX_T:
        raise ValueError(f"method='int8' needs shapes of 1..{_INT8_MAX_T} steps, got T = {x.shape[1]}")
    if rank is not None:
        if x.shape[1] < 2:
            raise ValueError(f"rank needs shapes of at least 2 steps (rank in [1, T - 1]), got T = {x.shape[1]}")
        rank = check_int(rank, "rank", 1, x.shape[1] - 1)
    want_corr, want_anti = which != "anti", which != "corr"
    if method == "int8":
        with progress_callback(progress, "top_partners") as cb:
            if lean:
                ci, cs, ai, as_, _ = _core.topk_int8(x, xq, k=k, want_pos=want_corr, want_neg=want_anti,
                                                     n_threads=nt, progress=cb, db_scale=x_scale, q_scale=q_scale)
            else:
                ci, cs, ai, as_, _ = _core.topk_int8(u, q, k=k, want_pos=want_corr, want_neg=want_anti,
                                                     n_threads=nt, progress=cb)
        return Partners(ci, cs, ai, as_)
    lr = None
    if method == "auto":
        method, lr = choose_method(n_queries, x.shape[0], x.shape[1],
                                   lambda: _lowrank.plan(u, q, k, want_corr, want_anti))
    elif method == "pruned":
        lr = _lowrank.plan(u, q, k, want_corr, want_anti, rank=rank)
        if lr.rank == 0 and x.shape[1] > 1:
            lr = _lowrank.plan(u, q, k, want_corr, want_anti, rank=min(32, x.shape[1] - 1))
    with progress_callback(progress, "top_partners") as cb:
        if method == "pruned" and lr is not None and lr.rank > 0:
            return _top_partners_pruned(u, q, lr, k, want_corr, want_anti, nt, cb)
        else:  # brute force (also 'pruned' with nothing to project)
            # the binding still says pos / neg for corr / anti
            ci, cs, ai, as_ = _core.topk(u, q, k=k, want_pos=want_corr, want_neg=want_anti, n_threads=nt,
                                         progress=cb)
    return Partners(ci, cs, ai, as_)


def _checked_scales(x: np.ndarray, name: str, nt: int) -> np.ndarray:
    """Per-row (mean, factor) of ``unit_rows(x)``, refusing non-finite rows as it does."""
    sc, bad = _core.row_scales(x, 1.0, nt)
    check_finite_row(bad, name)
    return sc


def top_partners_auto_method(n_queries: int, n: int, T: int) -> str:
    """The method ``top_partners(method='auto')`` runs for these sizes.

    The C API's ``pyshape_top_partners_auto_method`` makes the same choice
    (one C++ cost model, src/cpp/correlate/topk_method.hpp).

    Parameters
    ----------
    n_queries, n, T : int
        Queries (``n`` for the partners of the database's own rows), database
        shapes and steps per shape.

    Returns
    -------
    str
        ``'int8'`` (T <= 65,536 and at least 2e9 multiply-adds),
        ``'bruteforce'``, or ``'pruned'`` where a low-rank plan made on the
        data decides between pruning and brute force (longer shapes, large
        work; the C API runs brute force there).

    Examples
    --------
    >>> from pyshape.correlate.topk import top_partners_auto_method
    >>> top_partners_auto_method(50_000, 50_000, 1440), top_partners_auto_method(100, 100, 1440)
    ('int8', 'bruteforce')
    """
    return str(_core.topk_auto_method(int(n_queries), int(n), int(T)))


def choose_method(n_queries: int, n: int, T: int,
                  plan: Callable[[], _lowrank.LowRankPlan]) -> Tuple[str, Optional[_lowrank.LowRankPlan]]:
    """The method 'auto' runs: ``(method, plan or None)``.

    The cost model is C++ (src/cpp/correlate/topk_method.hpp), shared with the
    C API's ``pyshape_top_partners_method``: int8 wherever it applies and the
    work is not small (measured faster than brute force and than pruning on
    every data kind of the bench), brute force for small work. Only where int8
    does not apply (T > 65,536) and the work is large is the low-rank plan
    (``plan()``, costly) made, and pruning run if it predicts a clear win.
    """
    method = _core.topk_auto_method(n_queries, n, T)
    if method != "pruned":
        return method, None
    lr = plan()
    method = _core.topk_auto_method(n_queries, n, T, plan_rank=lr.rank, est_cost_ratio=lr.est_cost_ratio)
    return method, (lr if method == "pruned" else None)


def _top_partners_pruned(u: np.ndarray, q: Optional[np.ndarray], lr: _lowrank.LowRankPlan, k: int, want_corr: bool,
                         want_anti: bool, nt: int, cb: Optional[Callable[[int, int], None]]) -> Partners:
    """Run the pruned kernel in a locality order and return rows in the caller's order."""
    assert lr.db_proj is not None and lr.db_res is not None  # a plan of rank > 0 has them
    # lr.q_proj and lr.q_res are set when q is given (mypy cannot tie them to q: hence the ignores)
    order = _lowrank.locality_order(lr.db_proj)
    q_order = None if q is None else _lowrank.locality_order(lr.q_proj)  # type: ignore[arg-type]
    res = _core.topk_pruned(
        u, lr.db_proj[order], lr.db_res[order], order,
        q, None if q is None else lr.q_proj[q_order], None if q is None else lr.q_res[q_order], q_order,  # type: ignore[index]
        k=k, want_pos=want_corr, want_neg=want_anti, margin=_lowrank.MARGIN, n_threads=nt, progress=cb,
    )
    rows = order if q is None else q_order
    out: list[Optional[np.ndarray]] = []
    for a in res[:4]:
        if a is None:
            out.append(None)
            continue
        b = np.empty_like(a)
        b[rows] = a
        out.append(b)
    return Partners(*out)
