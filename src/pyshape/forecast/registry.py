"""The forecasters by short name, as the CLI, :func:`pyshape.evaluate.backtest`
and reports name them: one registry, one set of defaults."""
from __future__ import annotations

from pyshape.forecast.profile import ClusterProfile
from pyshape.forecast.seasonal import (
    Forecaster,
    PeriodMax,
    PeriodMean,
    PeriodQuantile,
    SeasonalNaive,
)

__all__ = ["FORECASTERS", "default_forecasters", "make_forecaster"]


#: Short names (for the CLI and reports) of the forecasters :func:`backtest` compares by default.
FORECASTERS = ("naive", "mean", "quantile", "max", "cluster")


def make_forecaster(name: str, *, window: int = 7, n_clusters: int = 16, random_state: int = 0) -> Forecaster:
    """A forecaster by short name: ``'naive'`` (yesterday), ``'mean'``, ``'quantile'`` (95%) or
    ``'max'`` of the last ``window`` days, ``'cluster'`` (the cluster-profile forecast).

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
    raise ValueError(f"unknown forecaster {name!r}: use one of {', '.join(FORECASTERS)}")


def default_forecasters(n_clusters: int = 16, random_state: int = 0) -> list[Forecaster]:
    """The forecasters :func:`backtest` compares unless told otherwise (:data:`FORECASTERS`, window 7 days)."""
    return [make_forecaster(nm, n_clusters=n_clusters, random_state=random_state) for nm in FORECASTERS]
