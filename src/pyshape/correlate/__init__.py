"""Correlation of shapes: z-normalisation, Pearson matrices, top-k partners and
lagged (cross-) correlation.

Every function takes shapes as a ``(n, T)`` array (one row per workload; a 1-D
array is one shape). float32 C-contiguous input is used without a copy; other
real dtypes are converted once. A constant shape has correlation 0 with every
shape (never NaN).
"""
from __future__ import annotations

from pyshape.correlate.lagged import lagged_correlation, sbd
from pyshape.correlate.pearson import pearson, znorm
from pyshape.correlate.topk import Partners, top_partners

__all__ = ["Partners", "lagged_correlation", "pearson", "sbd", "top_partners", "znorm"]
