"""Shared steps of the correlation functions: validated shapes as unit-norm rows."""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np
from numpy.typing import ArrayLike

from pyshape import _core
from pyshape._validation import as_shapes, check_finite_row, check_same_length


def unit_rows(x: np.ndarray, name: str, n_threads: int) -> np.ndarray:
    u, bad = _core.normalize_rows(x, 1.0, n_threads)
    check_finite_row(bad, name)
    return u


def unit_pair(X: ArrayLike, Y: Optional[ArrayLike], yname: str,
              n_threads: int) -> Tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
    """Validated shapes X (and Y, if given) as unit-norm rows: (x, u, v or None)."""
    x = as_shapes(X, "X", center=True)
    u = unit_rows(x, "X", n_threads)
    if Y is None:
        return x, u, None
    y = as_shapes(Y, yname, center=True)
    check_same_length(x, y, "X", yname)
    return x, u, unit_rows(y, yname, n_threads)
