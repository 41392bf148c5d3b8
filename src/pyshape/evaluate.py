"""Backtests: plan on a forecast, replay the real period, count workers and overflow.

A capacity planner trusts a packing only after seeing it hold up on data it was
not made from. :func:`backtest` walks a multi-day trace day by day: for every
target day ``d`` it forecasts day ``d`` from days ``< d`` with each forecaster,
packs the forecast with each strategy and headroom, replays the real day ``d``
on that assignment (:meth:`pyshape.Plan.replay`) and records workers, overflow
and forecast error. The ``'oracle'`` row plans on the real day itself: the best
any forecaster could do with that strategy.

Honest by default:

* partial days (the trace starts at 22:00, a collector outage zero-filled most
  of a day) are left out of the histories and are not planned or replayed:
  a day whose coverage (:func:`day_coverage`) is below ``min_coverage``
  (:data:`pyshape.defaults.MIN_COVERAGE`) is partial, and
  :attr:`Backtest.partial_days` lists them;
* the setting (forecaster, headroom) is also chosen out of sample: the
  ``'rolling'`` rows plan each day with the setting that was cheapest within
  the overflow budget on the days before it (:func:`rolling_choice`), per
  strategy, so ``rolling/peak`` against ``rolling/auto`` compares two
  planners that used the same information (the correlation-aware one may
  fall back to a peak-based setting when its own overflowed before); the
  per-setting rows, chosen in hindsight, are what a frontier shows;
* the headline (:func:`pyshape.report.headline`) compares the cheapest plan
  within the overflow budget with the cheapest peak-based plan within the
  same budget, whatever forecaster and headroom each needed;
* :meth:`Backtest.summary` shows the worst day's overflow beside the pooled
  figure, and :meth:`Backtest.best` can bound both.

Defaults (forecasters, strategies, headrooms, budgets, coverage) come from
:mod:`pyshape.defaults`, shared with the report and the CLI.

Examples
--------
>>> import pyshape
>>> from pyshape.synthetic import make_shapes
>>> from pyshape.evaluate import backtest
>>> X, _ = make_shapes(300, days=4, step_seconds=900, random_state=1)
>>> bt = backtest(X, capacity=20.0, period=96, headrooms=(0.0, 0.1))
>>> sorted(set(bt.table["forecaster"].tolist()))
['cluster', 'max', 'mean', 'naive', 'oracle', 'quantile', 'rolling', 'scenario']
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import (
    TYPE_CHECKING,
    Any,
    Dict,
    Iterable,
    List,
    Mapping,
    Optional,
    Sequence,
    Union,
)

import numpy as np
from numpy.typing import ArrayLike

from pyshape import defaults as _d
from pyshape._progress import ProgressArg, progress_callback
from pyshape.forecast.registry import FORECASTERS, default_forecasters, make_forecaster

if TYPE_CHECKING:  # pragma: no cover
    from pyshape._table import Column
    from pyshape.packing import ReplayReport
    from pyshape.traces import ResourceTrace

__all__ = ["FORECASTERS", "Backtest", "backtest", "day_coverage", "default_forecasters", "make_forecaster",
           "rolling_choice"]

#: Columns of :attr:`Backtest.table` that are always present (per-resource
#: overflow magnitudes ``max_excess_<resource>`` and ``excess_volume_<resource>``
#: and forecast errors ``mae_<resource>``, ``peak_error_<resource>`` and
#: ``peak_under_<resource>`` follow them).
COLUMNS = ("day", "forecaster", "strategy", "headroom", "workers", "lower_bound", "peak_workers",
           "overflow_fraction", "overflow_steps", "workers_over", "worker_steps", "capped", "new", "seconds",
           "chosen")


@dataclass
class Backtest:
    """What :func:`backtest` measured: one row per (day, forecaster, strategy, headroom).

    Attributes
    ----------
    table : dict of str to ndarray
        Equal-length columns (see :data:`COLUMNS`). ``overflow_fraction`` is
        the fraction of worker-steps in which some resource's load exceeds the
        full capacity on the real day; ``capped`` counts forecast shapes whose
        peak exceeded a worker's effective capacity and were cut to it.
    resources : tuple of str
    capacity : ndarray, shape (R,)
    seconds : float
        Wall time of the whole backtest.
    coverage : ndarray, shape (days,)
        Coverage of every whole day of the trace (:func:`day_coverage`).
    partial_days : tuple of int
        Days below ``min_coverage``: left out of histories and not planned.
    min_coverage : float
    """

    table: Dict[str, np.ndarray]
    resources: tuple
    capacity: np.ndarray
    seconds: float = 0.0
    plans: Dict[tuple, object] = field(default_factory=dict, repr=False)
    coverage: np.ndarray = field(default_factory=lambda: np.zeros(0))
    partial_days: tuple = ()
    min_coverage: float = 0.0

    def __len__(self) -> int:
        return len(self.table["day"])

    def summary(self) -> Dict[str, np.ndarray]:
        """Averages over days per (forecaster, strategy, headroom), as columns.

        ``workers``, ``excess_volume_*`` and the error columns are means
        over days; ``max_excess_*`` the largest over days; ``capped`` and
        ``new`` sums over days; ``overflow_fraction`` is pooled
        (over-capacity worker-steps over all worker-steps) and
        ``worst_day_overflow`` the largest day's fraction;
        ``savings_vs_peak`` compares mean workers with the ``'peak'``
        strategy on the same forecaster and headroom (NaN when that strategy
        was not run). The ``'rolling'`` rows have headroom NaN (each day has
        its own, see ``chosen`` in :attr:`table`).
        """
        t = self.table
        keys = list(dict.fromkeys((f, s, _NAN if h != h else float(h))
                                  for f, s, h in zip(t["forecaster"], t["strategy"], t["headroom"])))
        out: Dict[str, list] = {c: [] for c in ("forecaster", "strategy", "headroom", "days", "workers",
                                                "lower_bound", "peak_workers", "overflow_fraction",
                                                "worst_day_overflow", "workers_over", "savings_vs_peak")}
        err_cols = [c for c in t if c.startswith(("mae_", "peak_error_", "peak_under_"))]
        max_cols = [c for c in t if c.startswith("max_excess_")]
        vol_cols = [c for c in t if c.startswith("excess_volume_")]
        for c in ["capped", "new"] + max_cols + vol_cols + err_cols:
            out[c] = []
        mean_workers = {}
        masks = {k: _rows_of(t, *k) for k in keys}
        for f, s, h in keys:
            mean_workers[(f, s, h)] = float(t["workers"][masks[(f, s, h)]].mean())
        for f, s, h in keys:
            m = masks[(f, s, h)]
            out["forecaster"].append(f)
            out["strategy"].append(s)
            out["headroom"].append(h)
            out["days"].append(int(m.sum()))
            out["workers"].append(mean_workers[(f, s, h)])
            out["lower_bound"].append(float(t["lower_bound"][m].mean()))
            out["peak_workers"].append(float(t["peak_workers"][m].mean()))
            out["overflow_fraction"].append(float(t["overflow_steps"][m].sum() / max(t["worker_steps"][m].sum(), 1)))
            out["worst_day_overflow"].append(float(t["overflow_fraction"][m].max()))
            out["workers_over"].append(float(t["workers_over"][m].mean()))
            base = _get_nan(mean_workers, (f, "peak", h))
            out["savings_vs_peak"].append(np.nan if base is None else 1.0 - mean_workers[(f, s, h)] / base)
            out["capped"].append(int(t["capped"][m].sum()))
            out["new"].append(int(t["new"][m].sum()))
            for c in max_cols:
                out[c].append(float(t[c][m].max()))
            for c in vol_cols:
                out[c].append(float(t[c][m].mean()))
            for c in err_cols:
                out[c].append(float(np.nanmean(t[c][m])) if m.any() else np.nan)
        return {c: np.asarray(v) for c, v in out.items()}

    def best(self, *, max_overflow: float = _d.MAX_OVERFLOW, max_day_overflow: Optional[float] = _d.MAX_DAY_OVERFLOW,
             strategy: Optional[str] = None, rolling: Optional[bool] = None) -> Optional[dict]:
        """The setting with the fewest mean workers within the overflow budget.

        Parameters
        ----------
        max_overflow : float
            Largest acceptable pooled fraction of worker-steps over capacity
            (default :data:`pyshape.defaults.MAX_OVERFLOW`).
        max_day_overflow : float or None
            Largest acceptable fraction on any one day (default
            :data:`pyshape.defaults.MAX_DAY_OVERFLOW`); None: no bound.
        strategy : str, optional
            Only settings of this strategy. The oracle is never chosen.
        rolling : bool, optional
            True: only the out-of-sample ``'rolling'`` rows; False: only the
            fixed settings (chosen in hindsight); None: both.

        Returns
        -------
        dict or None
            One row of :meth:`summary`, or None when no setting qualifies.
        """
        s = self.summary()
        ok = (s["overflow_fraction"] <= max_overflow) & (s["forecaster"] != "oracle")
        if max_day_overflow is not None:
            ok &= s["worst_day_overflow"] <= max_day_overflow
        if strategy is not None:
            ok &= s["strategy"] == strategy
        if rolling is not None:
            ok &= (s["forecaster"] == "rolling") == bool(rolling)
        if not ok.any():
            return None
        i = np.flatnonzero(ok)[np.argmin(s["workers"][ok])]
        return {c: (v[i].item() if hasattr(v[i], "item") else v[i]) for c, v in s.items()}

    def to_markdown(self, *, summary: bool = True, digits: int = 4) -> str:
        """The summary (or the full table) as a Markdown table."""
        return _markdown(self.summary() if summary else self.table, digits)


_NAN = float("nan")  # one NaN object: dict keys with it compare equal (identity)


def _rows_of(t: Mapping[str, np.ndarray], f: str, s: str, h: float) -> np.ndarray:
    """Rows of setting (forecaster, strategy, headroom); a NaN headroom matches NaN."""
    head = np.asarray(t["headroom"], dtype=np.float64)
    same_h = np.isnan(head) if np.isnan(h) else head == h
    return (t["forecaster"] == f) & (t["strategy"] == s) & same_h


def _get_nan(d: dict, key: tuple) -> Any:
    """``d.get(key)`` where the headroom in the key may be NaN (NaN != NaN)."""
    f, s, h = key
    for (kf, ks, kh), v in d.items():
        if kf == f and ks == s and (kh == h or (np.isnan(kh) and np.isnan(h))):
            return v
    return None


def _markdown(cols: Mapping[str, np.ndarray], digits: int) -> str:
    from pyshape._table import markdown_table

    return markdown_table(cols, digits=digits) + "\n"


def _as_days(shapes: Union[ResourceTrace, ArrayLike], period: Optional[int],
             step_seconds: Optional[float]) -> tuple[np.ndarray, int, tuple[str, ...], Optional[np.ndarray]]:
    """(n, R, T) float32 array, period, resource names and the observed mask (or None)."""
    from pyshape.traces import ResourceTrace

    resources = None
    observed = None
    if isinstance(shapes, ResourceTrace):
        resources = tuple(shapes.resources)
        if period is None:
            period = shapes.steps_per_day  # raises when the step does not divide a day
        missing = shapes.meta.get("missing")
        if missing is not None and np.shape(missing) == (shapes.n, shapes.T):
            observed = ~np.asarray(missing, dtype=bool)
        shapes = shapes.shapes
    D = np.asarray(shapes)
    if D.ndim == 2:
        D = D[:, None, :]
    if D.ndim != 3:
        raise ValueError(f"shapes must be (n, T) or (n, R, T), got {D.ndim} dimensions")
    if D.dtype != np.float32:
        D = D.astype(np.float32)
    n, R, T = D.shape
    if n == 0 or T == 0:
        raise ValueError(f"shapes is empty: {D.shape}")
    if period is None:
        if step_seconds is None:
            raise ValueError("give period (steps per day) or step_seconds, or pass a ResourceTrace")
        if 86400 % step_seconds:
            raise ValueError(f"step_seconds={step_seconds} does not divide a day")
        period = int(86400 // step_seconds)
    period = int(period)
    if period < 1:
        raise ValueError(f"period must be at least 1 step, got {period}")
    if T < 2 * period:
        raise ValueError(f"backtesting needs at least two whole periods: T={T} < 2 x period={period}")
    if not np.all(np.isfinite(D)):
        raise ValueError("shapes has a NaN or infinite value")
    if (D < 0).any():
        raise ValueError("shapes has a negative value (demand must be non-negative)")
    if resources is None:
        resources = tuple(f"r{r}" for r in range(R))  # the names load_shapes gives unnamed resources
    T2 = (T // period) * period
    return D[:, :, :T2], period, resources, (None if observed is None else observed[:, :T2])


def day_coverage(shapes: ArrayLike, period: int, observed: Optional[ArrayLike] = None) -> np.ndarray:
    """How much of each whole day the trace saw, in [0, 1].

    Parameters
    ----------
    shapes : array_like, shape (n, R, T) or (n, T)
    period : int
        Steps per day.
    observed : array_like of bool, shape (n, T), optional
        Which (workload, step) cells were measured (a loader's ``~meta['missing']``).
        With it, a day's coverage is the share of its cells measured among the
        workloads measured at least once that day (a trace that starts at 22:00
        covers 1/12 of its first day; a collector outage that zero-fills 80% of
        the day leaves 0.2). Without it only fleet-wide gaps can be seen: the
        share of the day's steps in which some workload has non-zero demand.

    Returns
    -------
    ndarray of float64, shape (T // period,)
    """
    D = np.asarray(shapes)
    if D.ndim == 2:
        D = D[:, None, :]
    n, _, T = D.shape
    period = int(period)
    days = T // period
    if observed is None:
        busy = (D[:, :, : days * period] > 0).any(axis=(0, 1)).reshape(days, period)
        return busy.mean(axis=1, dtype=np.float64)
    obs = np.asarray(observed, dtype=bool)
    if obs.shape != (n, T):
        raise ValueError(f"observed must have shape ({n}, {T}), got {obs.shape}")
    o = obs[:, : days * period].reshape(n, days, period)
    seen = o.any(axis=2)                   # (n, days)
    cells = o.sum(axis=2).sum(axis=0)      # (days,)
    denom = seen.sum(axis=0) * period
    return np.where(denom > 0, cells / np.maximum(denom, 1), 0.0)


def rolling_choice(table: Mapping[str, Column], *, strategies: Optional[Sequence[str]] = None,
                   max_overflow: float = _d.MAX_OVERFLOW, max_day_overflow: float = _d.MAX_DAY_OVERFLOW,
                   margin: float = _d.ROLLING_MARGIN,
                   forecasters: Optional[Sequence[str]] = _d.ROLLING_FORECASTERS,
                   fallback: Optional[str] = _d.ROLLING_FALLBACK) -> Dict[str, List]:
    """Choose each day's setting from the days before it only: out-of-sample planning.

    For every strategy and every planned day d (in order), among the settings
    (forecaster, headroom) of that strategy, except the oracle, keep those
    whose replays on the days before d stayed within ``margin`` times the
    budget (pooled overflow at most ``margin * max_overflow`` and every day at
    most ``margin * max_day_overflow``; the margin pays for choosing the
    luckiest of many settings) and plan d with the one that needed the fewest
    workers on those days (ties: fewer workers on day d). When none qualifies
    (the first day, or all overflowed) the one with the least pooled overflow
    before d is used, ties to the largest plan for d (the plan's size is known
    before the day; only its overflow is not).

    ``forecasters`` limits the candidates of the strategies other than
    ``'peak'`` (default :data:`pyshape.defaults.ROLLING_FORECASTERS`: the
    scenario planner, whose headroom is then what is chosen); when none of
    them is in the table, or it is None, every forecaster is a candidate.
    The peak-based strategy always chooses among every forecaster.

    ``fallback`` (default :data:`pyshape.defaults.ROLLING_FALLBACK`, ``'peak'``):
    the settings of this strategy (every forecaster) are candidates of the
    other strategies too, so a correlation-aware planner whose own settings all
    overflowed on the past days plans peak-based rather than with its least bad
    setting: it is never forced to bet on co-movement that did not hold. None:
    each strategy chooses among its own settings only.

    Returns
    -------
    dict of str to list
        Rows like :attr:`Backtest.table` with forecaster ``'rolling'``,
        headroom NaN and ``chosen`` naming the setting used ('forecaster@headroom',
        with ``/<strategy>`` appended when it is the fallback's).
    """
    t = {c: np.asarray(v) for c, v in table.items()}
    out: Dict[str, List] = {c: [] for c in t}
    strats = list(dict.fromkeys(t["strategy"].tolist())) if strategies is None else list(strategies)
    days = sorted(set(t["day"].tolist()))
    planned = (t["forecaster"] != "oracle") & (t["forecaster"] != "rolling")
    for strat in strats:
        cand = (t["strategy"] == strat) & planned
        if strat != "peak" and forecasters is not None:
            only = cand & np.isin(t["forecaster"], list(forecasters))
            if only.any():
                cand = only
        if fallback is not None and strat != fallback and cand.any():
            cand = cand | ((t["strategy"] == fallback) & planned)
        settings = list(dict.fromkeys(zip(t["forecaster"][cand].tolist(), t["strategy"][cand].tolist(),
                                          t["headroom"][cand].tolist())))
        if not settings:
            continue
        for d in days:
            best_key, best_i = None, None
            fallback_key, fallback_i = None, None
            for f, st, h in settings:
                m = cand & (t["forecaster"] == f) & (t["strategy"] == st) & (t["headroom"] == h)
                today = np.flatnonzero(m & (t["day"] == d))
                if not len(today):
                    continue
                i = int(today[0])
                past = m & (t["day"] < d)
                steps = float(t["worker_steps"][past].sum())
                pooled = float(t["overflow_steps"][past].sum()) / steps if steps else np.inf
                worst = float(t["overflow_fraction"][past].max()) if past.any() else np.inf
                cost = float(t["workers"][past].mean()) if past.any() else np.inf
                key = (cost, int(t["workers"][i]))
                if pooled <= margin * max_overflow and worst <= margin * max_day_overflow:
                    if best_key is None or key < best_key:
                        best_key, best_i = key, i
                fkey = (pooled, -int(t["workers"][i]))
                if fallback_key is None or fkey < fallback_key:
                    fallback_key, fallback_i = fkey, i
            i = best_i if best_i is not None else fallback_i
            if i is None:
                continue
            for c in t:
                out[c].append(t[c][i].item() if hasattr(t[c][i], "item") else t[c][i])
            out["forecaster"][-1] = "rolling"
            out["strategy"][-1] = strat
            out["headroom"][-1] = float("nan")
            other = "" if t["strategy"][i] == strat else f"/{t['strategy'][i]}"
            out["chosen"][-1] = f"{t['forecaster'][i]}@{float(t['headroom'][i]):g}{other}"
    return out


def _excess_columns(rep: ReplayReport, resources: Sequence[str]) -> Dict[str, float]:
    """How much the replay overflowed, per resource: the largest excess over capacity on any
    worker and step, and the summed excess (resource units x steps)."""
    out = {}
    for r, name in enumerate(resources):
        out[f"max_excess_{name}"] = float(rep.max_excess[r])
        out[f"excess_volume_{name}"] = float(rep.excess_volume[r])
    return out


def _error_columns(pred: np.ndarray, actual: np.ndarray, resources: Sequence[str]) -> Dict[str, float]:
    """Mean over shapes of the MAE, the signed peak error and how often the peak is under-forecast."""
    out = {}
    from pyshape.forecast import mae as _mae
    from pyshape.forecast import peak_error

    mae = _mae(actual=actual, pred=pred, per_resource=True)  # (n, R)
    pe = peak_error(actual=actual, pred=pred)                # (n, R)
    for r, name in enumerate(resources):
        out[f"mae_{name}"] = float(mae[:, r].mean())
        out[f"peak_error_{name}"] = float(pe[:, r].mean())
        out[f"peak_under_{name}"] = float((pe[:, r] < 0).mean())
    return out


def backtest(
    shapes: Union["ResourceTrace", ArrayLike],
    capacity: Union[float, ArrayLike],
    *,
    forecasters: Optional[Iterable] = None,
    strategies: Sequence[str] = _d.STRATEGIES,
    headrooms: Sequence[float] = _d.HEADROOMS,
    period: Optional[int] = None,
    step_seconds: Optional[float] = None,
    min_history: int = 1,
    days: Optional[Sequence[int]] = None,
    oracle: bool = True,
    new_reserve: Optional[float] = _d.NEW_RESERVE,
    min_coverage: float = _d.MIN_COVERAGE,
    observed: Optional[ArrayLike] = None,
    rolling: bool = True,
    max_overflow: float = _d.MAX_OVERFLOW,
    max_day_overflow: float = _d.MAX_DAY_OVERFLOW,
    keep_plans: bool = False,
    n_threads: Optional[int] = None,
    progress: ProgressArg = False,
) -> Backtest:
    """Plan each day on a forecast made from the days before it, then replay the real day.

    Parameters
    ----------
    shapes : ResourceTrace or array_like, shape (n, R, T) or (n, T)
        A multi-day trace: T covers whole periods (a trailing partial period
        is ignored).
    capacity : float or array_like, shape (R,)
        Worker capacity per resource, in the trace's units.
    forecasters : mapping of str to forecaster, or iterable of forecasters, optional
        Objects with ``forecast(history, period)`` (see :mod:`pyshape.forecast`),
        named by the mapping's keys or their ``name``. Default: the
        :data:`FORECASTERS` by their short names. A forecaster with a ``risk``
        attribute (:class:`pyshape.forecast.Scenarios`) is packed with that risk
        budget by the strategies other than ``'peak'``. A forecaster may return
        ``k * period`` steps (k >= 1, e.g. :class:`pyshape.forecast.Scenarios`):
        they are packed as k scenarios of the day, and the error columns use
        their per-step maximum.
    strategies : sequence of str
        Placement strategies (:data:`pyshape.packing.STRATEGIES`); keep
        ``'peak'`` to get ``savings_vs_peak`` in :meth:`Backtest.summary`.
    headrooms : sequence of float
        Safety margins in [0, 1): plans are made against
        ``capacity * (1 - headroom)``, replays against the full capacity.
    period : int, optional
        Steps per day; taken from a ResourceTrace's step, or from
        ``step_seconds``.
    step_seconds : float, optional
        Length of a step, when ``shapes`` is a plain array and ``period`` is
        not given.
    min_history : int
        Whole (not partial) days of history before the first target day (at least 1).
    days : sequence of int, optional
        Target days (default: every day with ``min_history`` whole days before
        it); partial days among them are skipped.
    oracle : bool
        Also plan on the real day itself (forecaster ``'oracle'``).
    new_reserve : float or None
        Workloads that arrive on the target day (all-zero history, some
        demand that day) have nothing to forecast from; like a scheduler
        placing an unknown workload (it knows what it must place, not its
        shape), the plan reserves for them a flat shape at this quantile of
        the seen workloads' forecast peaks, per resource (column ``new``
        counts them). None plans on their (zero) forecast instead.
    keep_plans : bool
        Keep every :class:`pyshape.Plan` in :attr:`Backtest.plans`, keyed by
        ``(day, forecaster, strategy, headroom)`` (memory grows with it).
    n_threads : int, optional
        Threads for packing.
    progress : bool or callable
        Progress over target days (a bar on stderr when True).

    Returns
    -------
    Backtest

    Raises
    ------
    ValueError
        Fewer than two whole days, NaN / negative demand, bad capacity,
        headroom, strategy or days.
    """
    from pyshape import pack as _pack

    t_start = time.perf_counter()
    D, period, resources, obs_default = _as_days(shapes, period, step_seconds)
    n, R, T = D.shape
    n_days = T // period
    if observed is None:
        observed = obs_default
    elif np.shape(observed)[1:] and np.shape(observed)[1] >= T:
        observed = np.asarray(observed, dtype=bool)[:, :T]
    if not (0.0 <= float(min_coverage) <= 1.0):
        raise ValueError(f"min_coverage must be in [0, 1], got {min_coverage!r}")
    coverage = day_coverage(D, period, observed)
    whole = [d for d in range(n_days) if coverage[d] >= float(min_coverage)]
    partial = tuple(d for d in range(n_days) if coverage[d] < float(min_coverage))
    cap = np.atleast_1d(np.asarray(capacity, dtype=np.float64))
    if cap.size == 1:
        cap = np.repeat(cap, R)
    if cap.shape != (R,) or not np.all(np.isfinite(cap)) or np.any(cap <= 0):
        raise ValueError(f"capacity must be positive, one value or one per resource (R={R}), got {capacity!r}")
    heads = [float(h) for h in headrooms]
    if not heads or any(not (0.0 <= h < 1.0) for h in heads):
        raise ValueError(f"headrooms must be fractions in [0, 1), got {list(headrooms)}")
    strategies = list(strategies)
    if not strategies:
        raise ValueError("strategies is empty")
    if forecasters is None:  # as build_report: the clusters clipped to the workloads
        forecasters = {nm: make_forecaster(nm, n_clusters=max(2, min(_d.N_CLUSTERS, n))) for nm in FORECASTERS}
    if isinstance(forecasters, Mapping):
        names, fcs = [str(k) for k in forecasters], list(forecasters.values())
    else:
        fcs = list(forecasters)
        names = [getattr(f, "name", repr(f)) for f in fcs]
    for f in fcs:
        if not hasattr(f, "forecast"):
            raise TypeError(f"{f!r} is not a forecaster (needs .forecast(history, period))")
    if len(set(names)) != len(names) or "oracle" in names:
        raise ValueError(f"forecaster names must be unique and not 'oracle', got {names}")
    if int(min_history) < 1:
        raise ValueError(f"min_history must be at least 1 day, got {min_history}")
    if days is None:
        targets = [d for k, d in enumerate(whole) if k >= int(min_history)]
    else:
        targets = [int(d) for d in days]
        bad = [d for d in targets if not (1 <= d < n_days)]
        if bad:
            raise ValueError(f"target days {bad} are outside 1..{n_days - 1} (day 0 has no history)")
        targets = [d for d in targets if d not in partial and any(w < d for w in whole)]
    if not targets:
        raise ValueError(f"no target day: the trace has {n_days} days, {len(partial)} of them partial "
                         f"(coverage < {min_coverage}), and min_history={min_history}")

    rows: Dict[str, List] = {c: [] for c in COLUMNS}
    plans: Dict[tuple, object] = {}
    with progress_callback(progress, "backtest") as cb:
        for k, d in enumerate(targets):
            before = [w for w in whole if w < d]
            if len(before) == d:
                history = D[:, :, : d * period]
            else:  # the whole days before d, joined
                history = np.ascontiguousarray(
                    D.reshape(n, R, n_days, period)[:, :, before, :].reshape(n, R, len(before) * period))
            actual = np.ascontiguousarray(D[:, :, d * period: (d + 1) * period])
            truth_total = actual.sum(axis=0, dtype=np.float64)
            lb = _lower_bound(truth_total, cap)
            preds = [(nm, _as_prediction(f.forecast(history, period), n, R, period, nm))
                     for nm, f in zip(names, fcs)]
            risks = dict(zip(names, (float(getattr(f, "risk", 0.0)) for f in fcs)))
            seen = history.reshape(n, -1).any(axis=1)
            new = ~seen & actual.reshape(n, -1).any(axis=1)
            n_new = int(new.sum())
            if new_reserve is not None and n_new and seen.any():
                # ignore[arg-type]: NumPy's stubs type any(axis=1) as "array or scalar"
                preds = [(nm, _reserve(p, new, seen, float(new_reserve))) for nm, p in preds]  # type: ignore[arg-type]
            if oracle:
                preds.append(("oracle", actual))
            for fname, pred in preds:
                err = _error_columns(_envelope(pred, period), actual, resources)
                for h in heads:
                    eff = cap * (1.0 - h)
                    capped = int((pred.max(axis=2) > eff[None, :]).any(axis=1).sum())
                    plan_on = np.minimum(pred, eff[None, :, None].astype(np.float32)) if capped else pred
                    plan_on = np.ascontiguousarray(plan_on, dtype=np.float32)
                    for s in strategies:
                        t0 = time.perf_counter()
                        # the scenario planner's risk budget; peak-based planning reserves peaks
                        risk = risks.get(fname, 0.0) if s != "peak" else 0.0
                        plan = _pack(plan_on, cap, strategy=s, headroom=h, risk=risk, n_threads=n_threads)
                        rep = plan.replay(actual)
                        dt = time.perf_counter() - t0
                        _append(rows, day=d, forecaster=fname, strategy=s, headroom=h, workers=plan.n_workers,
                                lower_bound=lb, peak_workers=plan.peak_workers,
                                overflow_fraction=rep.overflow_fraction,
                                overflow_steps=int(rep.steps_over.sum()), workers_over=rep.workers_over,
                                worker_steps=plan.n_workers * period, capped=capped, new=n_new, seconds=dt,
                                chosen="", **_excess_columns(rep, resources), **err)
                        if keep_plans:
                            plans[(d, fname, s, h)] = plan
            if cb is not None:
                cb(k + 1, len(targets))
    if rolling:
        extra = rolling_choice(rows, max_overflow=max_overflow, max_day_overflow=max_day_overflow)
        for c in rows:
            rows[c].extend(extra[c])
    table = {c: np.asarray(v) for c, v in rows.items()}
    table["headroom"] = table["headroom"].astype(np.float64)
    return Backtest(table=table, resources=resources, capacity=cap,
                    seconds=time.perf_counter() - t_start, plans=plans, coverage=coverage,
                    partial_days=partial, min_coverage=float(min_coverage))


def _as_prediction(pred: ArrayLike, n: int, R: int, period: int, name: str) -> np.ndarray:
    """A forecast as (n, R, k * period) float32: one day, or k scenario days."""
    p = np.asarray(pred, dtype=np.float32)
    if p.ndim == 2 and R == 1:
        p = p[:, None, :]
    if p.ndim != 3 or p.shape[:2] != (n, R) or p.shape[2] < period or p.shape[2] % period:
        raise ValueError(f"forecaster {name!r} returned shape {p.shape}; expected ({n}, {R}, k x {period})")
    return np.ascontiguousarray(p)


def _envelope(pred: np.ndarray, period: int) -> np.ndarray:
    """The per-step maximum over the scenario days of a (n, R, k * period) prediction."""
    n, R, T = pred.shape
    return pred if T == period else pred.reshape(n, R, T // period, period).max(axis=2)


def _reserve(pred: np.ndarray, new: np.ndarray, seen: np.ndarray, q: float) -> np.ndarray:
    """``pred`` with the rows of new workloads set flat at the q-quantile of the seen ones' peaks."""
    peaks = pred[seen].max(axis=2)                            # (m, R)
    level = np.quantile(peaks, q, axis=0).astype(np.float32)  # (R,)
    out = pred.copy()
    out[new] = level[None, :, None]
    return out


def _lower_bound(total: np.ndarray, cap: np.ndarray) -> int:
    import sys

    import pyshape

    # The module that defines Plan also defines its lower bound.
    return int(sys.modules[pyshape.Plan.__module__].lower_bound(total, cap))


def _append(rows: Dict[str, List], **values: Any) -> None:
    for c, v in values.items():
        rows.setdefault(c, []).append(v)
