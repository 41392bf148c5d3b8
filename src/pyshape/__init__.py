"""pyshape: correlate, cluster and pack workload shapes.

A *shape* is a workload's resource use over time: a row of a ``(n, T)``
float32 array (one resource) or a ``(n, R, T)`` array (several).
"""
from __future__ import annotations

from pyshape._core import __version__
from pyshape._system import available_simd_levels, set_simd_level, simd_level
from pyshape.cluster import CorrelationKMeans, KShape
from pyshape.correlate import Partners, lagged_correlation, pearson, sbd, top_partners, znorm
from pyshape.packing import Plan, pack
from pyshape.placer import Placer

__all__ = [
    "__version__",
    "CorrelationKMeans",
    "KShape",
    "Partners",
    "Placer",
    "Plan",
    "available_simd_levels",
    "lagged_correlation",
    "pack",
    "pearson",
    "sbd",
    "set_simd_level",
    "simd_level",
    "top_partners",
    "znorm",
]

from pyshape.forecast import (ClusterProfile, ColdStart, PeriodMax, PeriodMean,  # noqa: E402
                              PeriodQuantile, SeasonalNaive, carry_forward)

__all__ += ["ClusterProfile", "ColdStart", "PeriodMax", "PeriodMean", "PeriodQuantile", "SeasonalNaive",
            "carry_forward"]
