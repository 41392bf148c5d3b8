"""Input checks of pyshape.forecast: shapes as ``(n, R, T)`` float32 without a
copy when they already are, and one clear exception per kind of bad input."""
from __future__ import annotations

import numbers
from typing import Any, Optional, Tuple

import numpy as np
from numpy.typing import ArrayLike

from pyshape._validation import as_shapes3 as _as_shapes3
from pyshape._validation import check_int, real_array


def check_period(period: Any) -> int:
    """``period`` as a Python int of at least 1."""
    return check_int(period, "period", 1)


def check_window(window: Any) -> Optional[int]:
    """``window`` (whole periods) as None or an int of at least 1."""
    if window is not None and (isinstance(window, bool) or not isinstance(window, numbers.Integral)):
        raise TypeError(f"window must be None or an integer, got {type(window).__name__} {window!r}")
    return None if window is None else check_int(window, "window", 1)


def check_count(value: Any, name: str, low: int = 1) -> int:
    """A positive integer parameter such as ``n_clusters``."""
    return check_int(value, name, low)


def as_shapes3(x: ArrayLike, name: str, finite_only: bool = False) -> Tuple[np.ndarray, bool]:
    """``x`` as a C-contiguous float32 ``(n, R, T)`` array and whether it came as ``(n, T)``.

    No copy when ``x`` already is C-contiguous float32 (a 2-D input becomes a
    view with R = 1). Values must be finite and, unless ``finite_only``,
    non-negative (resource use); the message names the first bad shape.
    """
    arr = real_array(x, name)
    if arr.ndim not in (2, 3):
        raise ValueError(f"{name} must be a 2-D (n, T) or 3-D (n, R, T) array, "
                         f"got {arr.ndim}-D with shape {arr.shape}")
    return _as_shapes3(arr, name, finite=True, nonnegative=not finite_only), arr.ndim == 2


def as_history(history: ArrayLike, period: Any) -> Tuple[np.ndarray, int, bool]:
    """Validated history ``(n, R, T)`` float32, the period, and whether it came 2-D."""
    period = check_period(period)
    x, flat = as_shapes3(history, "history")
    T = x.shape[2]
    if T < period:
        raise ValueError(f"history has {T} steps, fewer than 1 whole period of {period}")
    if T % period:
        raise ValueError(f"history length {T} is not a whole multiple of period={period} "
                         f"({T / period:.3g} periods)")
    return x, period, flat


def last_periods(x: np.ndarray, period: int, window: Optional[int]) -> np.ndarray:
    """View ``(n, R, w, period)`` of the last ``w = min(window, T // period)`` periods."""
    n, R, T = x.shape
    days = x.reshape(n, R, T // period, period)
    return days if window is None else days[:, :, -window:, :]


def back(out: np.ndarray, flat: bool) -> np.ndarray:
    """Drop the resource axis again for input that came as ``(n, T)``."""
    return out[:, 0, :] if flat else out
