"""Per-step seasonal forecasters: the next period from the same step of past periods.

Each is a small class with a ``name`` and ``forecast(history, period)``; see
:class:`Forecaster` for the contract they all keep.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
from numpy.typing import ArrayLike

from pyshape._validation import check_real
from pyshape.forecast._checks import as_history, back, check_window, last_periods

__all__ = ["Forecaster", "SeasonalNaive", "PeriodMean", "PeriodQuantile", "PeriodMax"]

# Rows per block where a forecaster needs a sorted copy of the window: keeps
# the temporary near this many float32 values whatever n is.
_BLOCK_VALUES = 1 << 24


class Forecaster:
    """Base of the forecasters: the next period of every shape from its history.

    Subclasses implement ``_forecast(x, period)`` on validated ``(n, R, T)``
    float32 input and return ``(n, R, period)``; :meth:`forecast` does the
    checks and the shape bookkeeping.
    """

    @property
    def name(self) -> str:
        """Short label for tables, e.g. ``'PeriodQuantile(q=0.95, window=7)'``."""
        return type(self).__name__

    def __repr__(self) -> str:
        return self.name

    def forecast(self, history: ArrayLike, period: int) -> np.ndarray:
        """Forecast the period after ``history``.

        Parameters
        ----------
        history : array_like, shape (n, R, T) or (n, T)
            Non-negative, finite resource use of n workloads (R resources), T a
            whole multiple of ``period``; the last ``period`` steps are the
            most recent period. float32 C-contiguous input is not copied.
        period : int
            Steps per period (a day: 1440 at one-minute steps, 288 at five).

        Returns
        -------
        ndarray of float32, shape (n, R, period) or (n, period)
            Non-negative; 2-D when ``history`` was 2-D.

        Raises
        ------
        ValueError
            If T is not a whole multiple of ``period``, is less than one
            period, ``period < 1``, or ``history`` has a NaN, infinite or
            negative value, or is not 2-D / 3-D.
        TypeError
            If ``period`` is not an integer or ``history`` not numeric.
        """
        x, period, flat = as_history(history, period)
        return back(self._forecast(x, period), flat)

    def _forecast(self, x: np.ndarray, period: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError


def _window_name(cls: str, window: Optional[int], **extra: object) -> str:
    parts = [f"{k}={v}" for k, v in extra.items()]
    if window is not None:
        parts.append(f"window={window}")
    return f"{cls}({', '.join(parts)})" if parts else cls


class SeasonalNaive(Forecaster):
    """Tomorrow is today: the same step of the previous period.

    Examples
    --------
    >>> import numpy as np
    >>> from pyshape.forecast import SeasonalNaive
    >>> SeasonalNaive().forecast(np.array([[1, 2, 3, 4, 5, 6]]), period=3).tolist()
    [[4.0, 5.0, 6.0]]
    """

    def _forecast(self, x: np.ndarray, period: int) -> np.ndarray:
        return x[:, :, -period:].copy()  # a copy: writing to it must not change history


class PeriodMean(Forecaster):
    """Mean of the same step over the last ``window`` periods.

    Parameters
    ----------
    window : int, optional
        Periods to average (the most recent ones); all by default, and all
        when the history is shorter.

    Examples
    --------
    >>> import numpy as np
    >>> from pyshape.forecast import PeriodMean
    >>> h = np.array([[1, 2, 3, 4, 5, 6, 7, 8, 9]])
    >>> PeriodMean().forecast(h, 3).tolist(), PeriodMean(window=2).forecast(h, 3).tolist()
    ([[4.0, 5.0, 6.0]], [[5.5, 6.5, 7.5]])
    """

    def __init__(self, window: Optional[int] = None) -> None:
        self.window = check_window(window)

    @property
    def name(self) -> str:
        return _window_name("PeriodMean", self.window)

    def _forecast(self, x: np.ndarray, period: int) -> np.ndarray:
        w = last_periods(x, period, check_window(self.window))
        # float64 sums: a month of float32 steps would otherwise lose digits
        return w.mean(axis=2, dtype=np.float64).astype(np.float32)


class PeriodMax(Forecaster):
    """Largest value of the same step over the last ``window`` periods
    (a conservative planner's forecast).

    Parameters
    ----------
    window : int, optional
        Periods to look back over; all by default.

    Examples
    --------
    >>> import numpy as np
    >>> from pyshape.forecast import PeriodMax
    >>> PeriodMax().forecast(np.array([[1, 9, 3, 4, 5, 6]]), 3).tolist()
    [[4.0, 9.0, 6.0]]
    """

    def __init__(self, window: Optional[int] = None) -> None:
        self.window = check_window(window)

    @property
    def name(self) -> str:
        return _window_name("PeriodMax", self.window)

    def _forecast(self, x: np.ndarray, period: int) -> np.ndarray:
        return last_periods(x, period, check_window(self.window)).max(axis=2)


def _check_q(q: Any) -> float:
    return check_real(q, "q", 0.0, 1.0)


class PeriodQuantile(Forecaster):
    """The ``q``-quantile of the same step over the last ``window`` periods.

    The quantile is NumPy's default (``method='linear'``): with the w values
    of a step sorted, ``v[j] + g (v[j+1] - v[j])`` where ``q (w - 1) = j + g``.

    Parameters
    ----------
    q : float, default 0.95
        In [0, 1]; 0.5 is the per-step median, 1 the per-step maximum.
    window : int, optional
        Periods to look back over; all by default.

    Examples
    --------
    >>> import numpy as np
    >>> from pyshape.forecast import PeriodQuantile
    >>> h = np.array([[1, 2, 3, 4, 5, 6, 7, 8, 9]])
    >>> PeriodQuantile(q=0.5).forecast(h, 3).tolist()
    [[4.0, 5.0, 6.0]]
    """

    def __init__(self, q: float = 0.95, window: Optional[int] = None) -> None:
        self.q = _check_q(q)
        self.window = check_window(window)

    @property
    def name(self) -> str:
        return _window_name("PeriodQuantile", self.window, q=self.q)

    def _forecast(self, x: np.ndarray, period: int) -> np.ndarray:
        q = _check_q(self.q)
        days = last_periods(x, period, check_window(self.window))
        n, R, w, _ = days.shape
        pos = q * (w - 1)
        j = min(int(np.floor(pos)), w - 1)
        g = pos - j
        kth = [j] if j + 1 >= w else [j, j + 1]
        out = np.empty((n, R, period), dtype=np.float32)
        step = max(1, _BLOCK_VALUES // (R * w * period))
        for a in range(0, n, step):
            # partitioning a block at j and j + 1 finds both order statistics
            # without sorting the whole window
            part = np.partition(days[a:a + step], kth, axis=2)
            lo = part[:, :, j, :].astype(np.float64)
            hi = part[:, :, kth[-1], :].astype(np.float64)
            d = hi - lo
            # NumPy's _lerp: from the nearer end, so q = 1 gives exactly the maximum
            v = lo + d * g if g < 0.5 else hi - d * (1.0 - g)
            out[a:a + step] = v
        return out
