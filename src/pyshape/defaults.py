"""One set of defaults for planning and evaluation.

:func:`pyshape.evaluate.backtest`, :func:`pyshape.report.build_report`, the
``pyshape evaluate`` / ``report`` / ``demo`` commands and the bench scripts read
their defaults here, so the same input gives the same headline everywhere.
"""
from __future__ import annotations

#: Forecasters compared by default (short names, see :mod:`pyshape.forecast.registry`);
#: ``'scenario'`` is not a point forecast but the joint history of the last days
#: (:class:`pyshape.forecast.Scenarios`).
FORECASTERS = ("naive", "mean", "quantile", "max", "cluster", "scenario")
#: Placement strategies compared: peak-based (the baseline) and correlation-aware
#: (``'auto'``, the default of :func:`pyshape.pack`: the best of a portfolio of greedy
#: constructions followed by local search).
STRATEGIES = ("peak", "auto")
#: Safety margins tried, as fractions of capacity. The small steps matter for the scenario
#: planner: its plans sit at the lower bound of the scenarios, and a worker of saturated VMs
#: can miss by 1-2% (their ceiling drifts), while 5% costs a whole worker on a small fleet.
HEADROOMS = (0.0, 0.02, 0.05, 0.1, 0.2)
#: Days of history the window forecasters look at.
WINDOW = 7
#: Days of joint history the scenario planner packs on (fewer when fewer are available).
SCENARIO_DAYS = 14
#: Spike-timing tolerance of the scenario planner, in hours either side of a step.
SCENARIO_DILATE_HOURS = 0.25
#: Clusters of the cluster-profile forecaster and of the report's shape families
#: (fewer when there are fewer workloads).
N_CLUSTERS = 16
#: Overflow budget: pooled fraction of worker-steps over capacity ...
MAX_OVERFLOW = 1e-3
#: ... and the largest fraction on any single day.
MAX_DAY_OVERFLOW = 5e-3
#: The out-of-sample choice (:func:`pyshape.evaluate.rolling_choice`) keeps settings whose
#: past replays stayed within this fraction of the budget (it picks the luckiest of many) ...
ROLLING_MARGIN = 0.25
#: ... and, for the correlation-aware strategies, chooses among these forecasters' settings
#: (the uncertainty-aware planner; its headroom is chosen out of sample). The peak-based
#: baseline chooses among all forecasters.
ROLLING_FORECASTERS = ("scenario",)
#: ... and may also fall back to the settings of this strategy (every forecaster), so that
#: when all its own settings overflowed on the past days it plans peak-based instead of betting
#: on co-movement that did not hold (None: no fallback).
ROLLING_FALLBACK = "peak"
#: A day whose observed share of (workload, step) cells is below this is partial:
#: left out of histories and of evaluation.
MIN_COVERAGE = 0.9
#: Workloads with no history are planned flat at this quantile of the others' forecast peaks.
NEW_RESERVE = 0.95
#: Seed of the clustering forecaster.
RANDOM_STATE = 0

__all__ = ["FORECASTERS", "HEADROOMS", "MAX_DAY_OVERFLOW", "MAX_OVERFLOW", "MIN_COVERAGE", "NEW_RESERVE",
           "N_CLUSTERS", "RANDOM_STATE", "ROLLING_FALLBACK", "ROLLING_FORECASTERS", "ROLLING_MARGIN", "SCENARIO_DAYS",
           "SCENARIO_DILATE_HOURS", "STRATEGIES", "WINDOW"]
