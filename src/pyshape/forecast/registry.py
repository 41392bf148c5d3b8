"""The forecasters by short name, as the CLI, :func:`pyshape.evaluate.backtest`
and reports name them: one registry; the defaults are in :mod:`pyshape.defaults`."""
from __future__ import annotations

from pyshape import defaults as _d
from pyshape.forecast.profile import ClusterProfile
from pyshape.forecast.scenario import Scenarios
from pyshape.forecast.seasonal import (
    Forecaster,
    PeriodMax,
    PeriodMean,
    PeriodQuantile,
    SeasonalNaive,
)

__all__ = ["FORECASTERS", "default_forecasters", "make_forecaster"]


#: Short names (for the CLI and reports) of the forecasters :func:`backtest` compares by default.
FORECASTERS = _d.FORECASTERS


def make_forecaster(name: str, *, window: int = _d.WINDOW, n_clusters: int = _d.N_CLUSTERS,
                    random_state: int = _d.RANDOM_STATE) -> Forecaster:
    """A forecaster by short name: ``'naive'`` (yesterday), ``'mean'``, ``'quantile'`` (95%) or
    ``'max'`` of the last ``window`` days, ``'cluster'`` (the cluster-profile forecast),
    ``'scenario'`` (the joint history of the last :data:`pyshape.defaults.SCENARIO_DAYS` days,
    widened by :data:`pyshape.defaults.SCENARIO_DILATE_HOURS`: :class:`Scenarios`).

    Raises
    ------
    ValueError
        An unknown name.
    """
    if name == "naive":
        return SeasonalNaive()
    if name == "mean":
        return PeriodMean(window=window)
    if name == "quantile":
        return PeriodQuantile(q=0.95, window=window)
    if name == "max":
        return PeriodMax(window=window)
    if name == "cluster":
        return ClusterProfile(n_clusters=n_clusters, window=window, random_state=random_state)
    if name == "scenario":
        return Scenarios(days=_d.SCENARIO_DAYS, dilate_hours=_d.SCENARIO_DILATE_HOURS)
    raise ValueError(f"unknown forecaster {name!r}: use one of {', '.join(FORECASTERS)}")


def default_forecasters(n_clusters: int = _d.N_CLUSTERS, random_state: int = _d.RANDOM_STATE) -> list[Forecaster]:
    """The forecasters :func:`backtest` compares unless told otherwise (:data:`FORECASTERS`,
    window :data:`pyshape.defaults.WINDOW` days)."""
    return [make_forecaster(nm, n_clusters=n_clusters, random_state=random_state) for nm in FORECASTERS]
