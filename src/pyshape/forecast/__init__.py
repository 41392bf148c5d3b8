"""Forecast workload shapes: the next period from a history, and the rest of a
brand-new workload's first period from its first steps.

Shapes are ``(n, R, T)`` arrays (n workloads, R resources, T steps) or
``(n, T)`` for one resource (results then come back without the resource
axis); a *period* (a day) is ``period`` steps.

Forecasters (``forecast(history, period)`` -> the next period, float32, >= 0):

* :class:`SeasonalNaive`: the same step of the previous period.
* :class:`PeriodMean`, :class:`PeriodQuantile`, :class:`PeriodMax`: the mean,
  a quantile or the maximum of the same step over the last ``window`` periods.
* :class:`ClusterProfile`: the workload's cluster centroid day at its own
  level and spread (smooth, noise-free).

Not a point forecast: :class:`Scenarios` returns the joint history of the last
days, ``(n, R, days * period)``, to be packed as scenarios of the next day
(planning on uncertainty; see :mod:`pyshape.forecast.scenario`).

Cold start: :class:`ColdStart` (``fit(days)`` on whole past periods,
``predict(partial)``) and the baseline :func:`carry_forward`.

Errors: :func:`mae` and :func:`peak_error`, per shape (and resource), called
``(actual, pred)`` as in scikit-learn.

By short name (``'naive'``, ``'mean'``, ...): :func:`make_forecaster`,
:data:`FORECASTERS` and :func:`default_forecasters` (``registry.py``).
"""
from __future__ import annotations

from pyshape.forecast.coldstart import ColdStart, carry_forward
from pyshape.forecast.metrics import mae, peak_error
from pyshape.forecast.profile import ClusterProfile
from pyshape.forecast.registry import FORECASTERS, default_forecasters, make_forecaster
from pyshape.forecast.scenario import Scenarios
from pyshape.forecast.seasonal import (
    Forecaster,
    PeriodMax,
    PeriodMean,
    PeriodQuantile,
    SeasonalNaive,
)

__all__ = [
    "FORECASTERS",
    "ClusterProfile",
    "ColdStart",
    "Forecaster",
    "PeriodMax",
    "PeriodMean",
    "PeriodQuantile",
    "Scenarios",
    "SeasonalNaive",
    "carry_forward",
    "default_forecasters",
    "mae",
    "make_forecaster",
    "peak_error",
]
