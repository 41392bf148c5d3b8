"""Lagged correlation (maximum normalised cross-correlation over lags) and the
shape-based distance (SBD) of k-Shape."""
from __future__ import annotations

from typing import Literal, Tuple

import numpy as np
from numpy.typing import ArrayLike

from pyshape import _core
from pyshape._progress import ProgressArg, check_progress, progress_callback
from pyshape._system import resolve_threads
from pyshape._validation import check_int
from pyshape.correlate._common import unit_pair

__all__ = ["lagged_correlation", "sbd"]

LaggedMethod = Literal["auto", "direct", "fft"]


def lagged_correlation(
    X: ArrayLike,
    Y: ArrayLike | None = None,
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
    check_progress(progress)
    x, u, v = unit_pair(X, Y, "Y", nt)
    T = x.shape[1]
    if max_lag is None:
        max_lag = T - 1
    max_lag = check_int(max_lag, "max_lag", 0, T - 1)
    with progress_callback(progress, "lagged") as cb:
        return _core.lagged(u, v, max_lag=max_lag, n_threads=nt, progress=cb, method=method)


def sbd(X: ArrayLike, Y: ArrayLike | None = None, *, max_lag: int | None = None, n_threads: int | None = None,
        progress: ProgressArg = False, method: LaggedMethod = "auto") -> np.ndarray:
    """Shape-based distance (k-Shape): ``1 - max normalised cross-correlation``.

    Takes the same arguments as :func:`lagged_correlation` and returns a float32
    ``(n, m)`` matrix in ``[0, 2]``; 0 means equal up to shift and scale.
    """
    score, _ = lagged_correlation(X, Y, max_lag=max_lag, n_threads=n_threads, progress=progress,
                                  method=method)
    np.subtract(1.0, score, out=score)
    return score
