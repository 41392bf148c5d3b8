"""Correlation of shapes: z-normalisation, Pearson matrices, top-k partners and
lagged (cross-) correlation.

Every function takes shapes as a ``(n, T)`` array (one row per workload; a 1-D
array is one shape). float32 C-contiguous input is used without a copy; other
real dtypes are converted once. A constant shape has correlation 0 with every
shape (never NaN).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional, Tuple

import numpy as np

from pyshape import _core, _lowrank
from pyshape._progress import ProgressArg, progress_callback
from pyshape._system import resolve_threads
from pyshape._validation import as_shapes, check_finite_row, check_k, check_same_length


def _unit_rows(x: np.ndarray, name: str, n_threads: int) -> np.ndarray:
    u, bad = _core.normalize_rows(x, 1.0, n_threads)
    check_finite_row(bad, name)
    return u


def _unit_pair(X, Y, yname: str, n_threads: int):
    """Validated shapes X (and Y, if given) as unit-norm rows: (x, u, v or None)."""
    x = as_shapes(X, "X")
    u = _unit_rows(x, "X", n_threads)
    if Y is None:
        return x, u, None
    y = as_shapes(Y, yname)
    check_same_length(x, y, "X", yname)
    return x, u, _unit_rows(y, yname, n_threads)


def znorm(X, *, n_threads: int | None = None) -> np.ndarray:
    """Z-normalise every shape: subtract its mean, divide by its standard deviation.

    Parameters
    ----------
    X : array_like, shape (n, T) or (T,)
        Shapes, one per row.
    n_threads : int, optional
        Threads to use (default: the CPUs available to this process).

    Returns
    -------
    ndarray of float32, shape (n, T)
        Rows with mean 0 and population standard deviation 1. A constant row
        (spread within float32 rounding of its mean) becomes all zeros.

    Raises
    ------
    ValueError
        On empty input or a NaN / infinite value (the message names the row).

    Examples
    --------
    >>> import numpy as np, pyshape
    >>> z = pyshape.znorm(np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]]))
    >>> np.round(z, 4).tolist()
    [[-1.2247, 0.0, 1.2247], [0.0, 0.0, 0.0]]
    """
    x = as_shapes(X, "X")
    z, bad = _core.normalize_rows(x, float(np.sqrt(x.shape[1])), resolve_threads(n_threads))
    check_finite_row(bad, "X")
    return z


def pearson(X, Y=None, *, n_threads: int | None = None, progress: ProgressArg = False) -> np.ndarray:
    """Pearson correlation of every pair of shapes.

    Parameters
    ----------
    X : array_like, shape (n, T)
    Y : array_like, shape (m, T), optional
        Second set; by default ``X`` against itself (then only half of the
        matrix is computed and mirrored, so the result is exactly symmetric).
    n_threads : int, optional
        Threads to use (default: the CPUs available to this process).
    progress : bool or callable, optional
        True for a progress bar on stderr (when it is a terminal), or a
        callable ``f(done, total)``.

    Returns
    -------
    ndarray of float32, shape (n, m)
        ``r[i, j]``, within about 1e-6 of ``np.corrcoef`` for unit-scale data.
        Pairs involving a constant shape are 0.

    Notes
    -----
    Memory is ``4 n m`` bytes for the result: for large ``n`` use
    :func:`top_partners`, which never holds the full matrix. Besides the
    result, the call holds unit-norm copies of ``X`` and ``Y`` (``4 (n + m) T``
    bytes) and ``Y`` packed in panels for the kernel (``4 m T`` more), plus
    float32 copies of inputs that are not already C-contiguous float32.

    Examples
    --------
    >>> import numpy as np, pyshape
    >>> t = np.arange(24.0)
    >>> r = pyshape.pearson(np.stack([np.sin(t), -np.sin(t), np.cos(t)]))
    >>> float(np.round(r[0, 1], 5))
    -1.0
    """
    nt = resolve_threads(n_threads)
    _, u, v = _unit_pair(X, Y, "Y", nt)
    with progress_callback(progress, "pearson") as cb:
        return _core.pearson(u, v, n_threads=nt, progress=cb)


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
Method = Literal["auto", "bruteforce", "pruned"]

# Below this many multiply-adds (n_queries * n * T) brute force is always
# used: planning the pruned search costs about a second, brute force at this
# size about as much on 2 cores.
_PLAN_MIN_WORK = 1.5e11
LaggedMethod = Literal["auto", "direct", "fft"]


def top_partners(
    X,
    k: int = 10,
    *,
    which: Which = "both",
    queries=None,
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
    method : {'auto', 'bruteforce', 'pruned'}
        Both are exact. ``'bruteforce'`` scores every pair (blocked float32
        products). ``'pruned'`` bounds every pair from a rank-``rank``
        projection (a basis learnt from a sample of rows) and scores exactly
        only the pairs whose bounds can reach the running top-k: much faster
        on structured shapes, no faster on white noise (with nothing to
        project, e.g. T = 1 or only constant shapes, it runs brute force).
        Every score is summed in the same order by both, so their results are
        bitwise equal, ties included. ``'auto'`` picks by a cost model
        measured on a sample of queries.
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
    Memory: besides the O(n k) result, the call holds a unit-norm copy of
    ``X`` (and of ``queries``) and ``X`` packed in panels for the kernel:
    ``8 n T`` bytes (``+ 4 q T``), e.g. 11.5 GB for n = 1,000,000 and
    T = 1440; ``'pruned'`` adds ``O(n rank)`` for the projections. Inputs that
    are not C-contiguous float32 are converted once, which costs another
    ``4 n T`` bytes while the call runs: pass float32 to avoid it.

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
    x, u, q = _unit_pair(X, queries, "queries", nt)
    if q is not None:
        k = check_k(k, x.shape[0], "shapes in X")
    else:
        k = check_k(k, x.shape[0] - 1, "other shapes in X (a shape is not its own partner)")
    if method not in ("auto", "bruteforce", "pruned"):
        raise ValueError(f"method must be 'auto', 'bruteforce' or 'pruned', got {method!r}")
    if rank is not None and (not isinstance(rank, (int, np.integer)) or not 1 <= rank < x.shape[1]):
        raise ValueError(f"rank must be an integer in [1, T - 1] = [1, {x.shape[1] - 1}], got {rank!r}")
    want_pos, want_neg = which != "anti", which != "corr"
    n_queries = x.shape[0] if q is None else q.shape[0]
    lr = None
    if method == "pruned" or (method == "auto" and n_queries * x.shape[0] * x.shape[1] >= _PLAN_MIN_WORK):
        lr = _lowrank.plan(u, q, k, want_pos, want_neg, rank=rank if method == "pruned" else None)
        if lr.rank == 0 and method == "pruned" and x.shape[1] > 1:
            lr = _lowrank.plan(u, q, k, want_pos, want_neg, rank=min(32, x.shape[1] - 1))
    with progress_callback(progress, "top_partners") as cb:
        if lr is not None and lr.rank > 0:
            return _top_partners_pruned(u, q, lr, k, want_pos, want_neg, nt, cb)
        else:
            pi, ps, ni, ns = _core.topk(u, q, k=k, want_pos=want_pos, want_neg=want_neg, n_threads=nt, progress=cb)
    return Partners(pi, ps, ni, ns)


def _top_partners_pruned(u, q, lr, k, want_pos, want_neg, nt, cb) -> Partners:
    """Run the pruned kernel in a locality order and return rows in the caller's order."""
    order = _lowrank.locality_order(lr.db_proj)
    q_order = None if q is None else _lowrank.locality_order(lr.q_proj)
    res = _core.topk_pruned(
        u, lr.db_proj[order], lr.db_res[order], order,
        q, None if q is None else lr.q_proj[q_order], None if q is None else lr.q_res[q_order], q_order,
        k=k, want_pos=want_pos, want_neg=want_neg, margin=_lowrank.MARGIN, n_threads=nt, progress=cb,
    )
    rows = order if q is None else q_order
    out = []
    for a in res[:4]:
        if a is None:
            out.append(None)
            continue
        b = np.empty_like(a)
        b[rows] = a
        out.append(b)
    return Partners(*out)


def lagged_correlation(
    X,
    Y=None,
    *,
    max_lag: int | None = None,
    n_threads: int | None = None,
    progress: ProgressArg = False,
    method: LaggedMethod = "auto",
) -> Tuple[np.ndarray, np.ndarray]:
    """Maximum normalised cross-correlation over lags, and the best lag.

    For z-normalised shapes x, y (zero outside ``[0, T)``), the score at lag s is
    ``sum_t x[t] y[t - s] / (||x|| ||y||)``; this returns, for every pair, the
    maximum over ``-max_lag <= s <= max_lag`` and the lag attaining it (ties go
    to the lag nearest 0, the negative one first). Positive lag ``s``: what
    ``x`` shows at time ``t``, ``y`` shows at ``t - s`` (``y`` leads by ``s``).
    Lag 0 gives Pearson r.

    Parameters
    ----------
    X : array_like, shape (n, T)
    Y : array_like, shape (m, T), optional
        Default: ``X`` against itself.
    max_lag : int, optional
        Largest shift considered, 0 <= max_lag <= T - 1 (default: T - 1, all shifts).
    n_threads : int, optional
        Threads to use (default: the CPUs available to this process). The
        result does not depend on it.
    progress : bool or callable, optional
    method : {'auto', 'direct', 'fft'}
        How the correlations are computed (an implementation detail, mainly for
        testing): ``'direct'`` sums ``(2 max_lag + 1)`` dot products per pair,
        ``'fft'`` uses one inverse FFT of length about ``T + max_lag`` per pair,
        and ``'auto'`` (the default) picks the faster from a measured cost
        model. Scores agree to float32 rounding (about 1e-6); where two lags
        score within rounding of each other, the reported lag may differ.

    Returns
    -------
    score : ndarray of float32, shape (n, m)
    lag : ndarray of int32, shape (n, m)

    Examples
    --------
    >>> import numpy as np, pyshape
    >>> x = np.zeros(20); x[5] = 1
    >>> y = np.zeros(20); y[8] = 1
    >>> s, l = pyshape.lagged_correlation(x, y)
    >>> int(l[0, 0])
    -3
    """
    if method not in ("auto", "direct", "fft"):
        raise ValueError(f"method must be 'auto', 'direct' or 'fft', got {method!r}")
    nt = resolve_threads(n_threads)
    x, u, v = _unit_pair(X, Y, "Y", nt)
    T = x.shape[1]
    if max_lag is None:
        max_lag = T - 1
    if isinstance(max_lag, bool) or not isinstance(max_lag, (int, np.integer)):
        raise TypeError(f"max_lag must be an integer, got {type(max_lag).__name__}")
    if not 0 <= max_lag <= T - 1:
        raise ValueError(f"max_lag must be in [0, T - 1] = [0, {T - 1}], got {max_lag}")
    with progress_callback(progress, "lagged") as cb:
        return _core.lagged(u, v, max_lag=int(max_lag), n_threads=nt, progress=cb, method=method)


def sbd(X, Y=None, *, max_lag: int | None = None, n_threads: int | None = None,
        progress: ProgressArg = False, method: LaggedMethod = "auto") -> np.ndarray:
    """Shape-based distance (k-Shape): ``1 - max normalised cross-correlation``.

    Takes the same arguments as :func:`lagged_correlation` and returns a float32
    ``(n, m)`` matrix in ``[0, 2]``; 0 means equal up to shift and scale.
    """
    score, _ = lagged_correlation(X, Y, max_lag=max_lag, n_threads=n_threads, progress=progress,
                                  method=method)
    np.subtract(1.0, score, out=score)
    return score
