"""pyshape: correlate, cluster and pack workload shapes.

A *shape* is a workload's resource use over time: a row of a ``(n, T)``
float32 array (one resource) or a ``(n, R, T)`` array (several).

The package mirrors the C++ core (``src/cpp/``), one subpackage per capability:
:mod:`pyshape.correlate`, :mod:`pyshape.cluster`, :mod:`pyshape.packing`,
:mod:`pyshape.forecast` and :mod:`pyshape.traces` (loaders and the synthetic
generator); on top of them :mod:`pyshape.evaluate`, :mod:`pyshape.report`,
:mod:`pyshape.plot` and the command line (:mod:`pyshape.cli`).

The estimators and forecasters are imported on first use (scikit-learn, when
installed, is only loaded then), so ``import pyshape`` stays fast.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pyshape._core import __version__
from pyshape._system import available_simd_levels, set_simd_level, simd_level
from pyshape.correlate import (
    Partners,
    lagged_correlation,
    pearson,
    sbd,
    top_partners,
    znorm,
)
from pyshape.packing import Placer, Plan, WorkerTypes, pack

if TYPE_CHECKING:  # pragma: no cover
    from pyshape.cluster import CorrelationKMeans, KShape
    from pyshape.forecast import (
        ClusterProfile,
        ColdStart,
        PeriodMax,
        PeriodMean,
        PeriodQuantile,
        SeasonalNaive,
        carry_forward,
    )

#: Public names loaded on first access, and the module that defines each.
_LAZY = {
    "CorrelationKMeans": "pyshape.cluster",
    "KShape": "pyshape.cluster",
    "ClusterProfile": "pyshape.forecast",
    "ColdStart": "pyshape.forecast",
    "PeriodMax": "pyshape.forecast",
    "PeriodMean": "pyshape.forecast",
    "PeriodQuantile": "pyshape.forecast",
    "SeasonalNaive": "pyshape.forecast",
    "carry_forward": "pyshape.forecast",
}
_SUBMODULES = ("cli", "cluster", "correlate", "evaluate", "forecast", "packing", "plot", "report", "synthetic",
               "traces")

__all__ = [
    "__version__",
    "ClusterProfile",
    "ColdStart",
    "CorrelationKMeans",
    "KShape",
    "Partners",
    "PeriodMax",
    "PeriodMean",
    "PeriodQuantile",
    "Placer",
    "Plan",
    "SeasonalNaive",
    "WorkerTypes",
    "available_simd_levels",
    "carry_forward",
    "lagged_correlation",
    "pack",
    "pearson",
    "sbd",
    "set_simd_level",
    "simd_level",
    "top_partners",
    "znorm",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"pyshape.{name}")
    raise AttributeError(f"module 'pyshape' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))
