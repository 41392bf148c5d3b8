"""Plan on uncertainty: the joint history of the last days as scenarios of the next one.

A point forecast (yesterday, a weekly maximum, a cluster profile) says one thing about
tomorrow; the next day is uncertain, and how workloads move *together* is what decides
whether they can share a worker. :class:`Scenarios` does not forecast one day: it returns
the last ``days`` whole days of every workload side by side, ``(n, R, days * period)``.
Packed as one long shape (:func:`pyshape.pack` takes any T), a worker is feasible only when
its members fit together on *every* past day at every step, i.e. in each scenario of the
next day drawn from the joint history; with ``pack(..., risk=eps)`` it may exceed its
capacity in at most ``floor(eps * days * period)`` of those scenario-steps, an empirical
overflow probability per worker-step. The co-movement of workloads (the correlation the
rest of pyshape measures) is kept exactly as it happened, without a model of it.

Two refinements make the scenarios robust rather than a replay of the past:

* ``dilate``: each scenario is widened in time by a running maximum over ``dilate``
  steps either side. Spikes of batch jobs land a little earlier or later every day;
  two workloads whose spikes missed each other by minutes on every past day are not
  planned as complementary. ``dilate=0`` keeps the scenarios as they happened; a whole
  day's width gives each scenario day its own peak (peak-based planning per day).
* unobserved days: a workload with no demand on some of the days (it arrived recently)
  has those days filled with its most recent day that has demand, so a short history
  is not read as an idle one. Workloads with no demand on any of the days are left at 0
  (:func:`pyshape.evaluate.backtest` reserves a flat shape for those that arrive).

Why scenarios and not a model: a per-step quantile of each workload plus a covariance of
the sum (from the correlation engine) describes co-movement by one number per pair and
assumes a shape of the distribution; batch workloads that run for hours at their ceiling
are neither Gaussian nor stationary in time, and the joint history keeps both their levels
and their timing as they were. Why ``risk`` is 0 by default: an overflow of a shared worker
is rarely a few scattered steps; when two workloads' busy windows meet they overlap for
hours, so a budget of a few scenario-steps buys almost nothing, and the headroom (a margin
for levels that drift a little above what was seen), chosen out of sample, is the knob
that pays.

With :func:`pyshape.evaluate.backtest` the scenarios are planned with every strategy and
headroom like the point forecasts (the ``'peak'`` strategy on them is peak-based planning
on the maximum of the same days), the error columns compare the per-step maximum over the
scenarios with the real day, and the headroom (and forecaster) is chosen out of sample by
:meth:`pyshape.evaluate.Backtest.rolling`.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from numpy.typing import ArrayLike

from pyshape._validation import check_real
from pyshape.forecast._checks import as_history, check_count, check_window, last_periods
from pyshape.forecast.seasonal import Forecaster

__all__ = ["Scenarios", "dilate_max"]


def dilate_max(x: np.ndarray, width: int) -> np.ndarray:
    """Running maximum over ``width`` steps either side along the last axis, within each day.

    ``x`` is ``(..., period)``; the window wraps around the day (a spike just before
    midnight also covers the first steps of the day), like a daily pattern does.
    """
    width = int(width)
    if width <= 0:
        return x
    P = x.shape[-1]
    width = min(width, P // 2)
    out = x.copy()
    # doubling: after covering k steps either side, shift by k more (O(log width) passes)
    done = 0
    while done < width:
        s = min(done + 1, width - done)
        np.maximum(out, np.roll(out, s, axis=-1), out=out)
        np.maximum(out, np.roll(out, -s, axis=-1), out=out)
        done += s
    return out


class Scenarios(Forecaster):
    """The last ``days`` days of every workload, side by side: scenarios of the next day.

    Parameters
    ----------
    days : int, optional
        Days of joint history (all available when None; fewer when the history is
        shorter).
    dilate : int
        Steps either side over which each scenario is widened by a running maximum
        (spike-timing tolerance). 0: as it happened.
    dilate_hours : float, optional
        The same in hours, when the period is a day: ``round(dilate_hours * period / 24)``
        steps (overrides ``dilate``).
    risk : float
        Risk budget the plan is packed with (``pack(..., risk=risk)``; :func:`pyshape.evaluate.backtest`
        passes it for the strategies other than ``'peak'``): a worker may exceed its capacity in
        at most ``floor(risk * days * period)`` of the scenario-steps. 0: every scenario fits.

    Examples
    --------
    >>> import numpy as np
    >>> from pyshape.forecast import Scenarios
    >>> h = np.array([[1.0, 0, 0, 0, 0, 2, 0, 0]])          # 2 days of 4 steps
    >>> Scenarios(days=2).forecast(h, 4).tolist()           # (n, 2 * 4)
    [[1.0, 0.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0]]
    >>> Scenarios(days=1, dilate=1).forecast(h, 4).tolist()  # the day wraps around
    [[2.0, 2.0, 2.0, 0.0]]
    """

    def __init__(self, days: Optional[int] = 14, dilate: int = 0, dilate_hours: Optional[float] = None,
                 risk: float = 0.0) -> None:
        self.days = check_window(days)
        self.dilate = check_count(dilate, "dilate", 0)
        self.dilate_hours = None if dilate_hours is None else check_real(dilate_hours, "dilate_hours", 0.0, 24.0)
        self.risk = check_real(risk, "risk", 0.0, 1.0, high_open=True)

    @property
    def name(self) -> str:
        w = f"dilate_hours={self.dilate_hours:g}" if self.dilate_hours is not None else f"dilate={self.dilate}"
        r = f", risk={self.risk:g}" if self.risk else ""
        return f"Scenarios(days={self.days}, {w}{r})"

    def dilate_steps(self, period: int) -> int:
        """Steps either side for a period of ``period`` steps (a day)."""
        if self.dilate_hours is not None:
            return int(round(self.dilate_hours * int(period) / 24.0))
        return check_count(self.dilate, "dilate", 0)

    def scenarios(self, history: ArrayLike, period: int) -> np.ndarray:
        """``(n, R, S, period)``: the S = min(days, T // period) scenario days, oldest first."""
        x, period, _ = as_history(history, period)
        d = np.array(last_periods(x, period, check_window(self.days)), dtype=np.float32)  # copy
        active: np.ndarray = np.any(d, axis=(1, 3))  # (n, S): some demand that day
        partial = np.flatnonzero(active.any(axis=1) & ~active.all(axis=1))
        for i in partial:
            latest = np.flatnonzero(active[i])[-1]  # the most recent day with demand
            for s in np.flatnonzero(~active[i]):
                d[i, :, s] = d[i, :, latest]
        return dilate_max(d, self.dilate_steps(period))

    def forecast(self, history: ArrayLike, period: int) -> np.ndarray:
        """``(n, R, S * period)`` (or ``(n, S * period)`` for 2-D input), float32: the
        scenario days one after another, oldest first (see :meth:`scenarios`)."""
        s = self.scenarios(history, period)
        n, R, S, P = s.shape
        out = np.ascontiguousarray(s.reshape(n, R, S * P))
        return out[:, 0, :] if np.ndim(history) == 2 else out

    def _forecast(self, x: np.ndarray, period: int) -> np.ndarray:  # pragma: no cover - forecast overrides
        return self.forecast(x, period)
