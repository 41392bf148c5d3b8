"""Synthetic workload shapes: :mod:`pyshape.traces.synthetic`, importable here too
(``from pyshape.synthetic import make_shapes``)."""
from __future__ import annotations

from pyshape.traces.synthetic import (
                                      DEFAULT_MIXTURE,
                                      FAMILY_NAMES,
                                      MIXTURE_COMPONENTS,
                                      anti_pairs,
                                      iter_shapes,
                                      make_shapes,
                                      white_noise,
)

__all__ = ["DEFAULT_MIXTURE", "FAMILY_NAMES", "MIXTURE_COMPONENTS", "anti_pairs", "iter_shapes", "make_shapes",
           "white_noise"]
