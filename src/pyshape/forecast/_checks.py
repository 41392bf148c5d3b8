"""Input checks of pyshape.forecast: shapes as ``(n, R, T)`` float32 without a
copy when they already are, and one clear exception per kind of bad input."""
from __future__ import annotations

import numbers
from typing import Optional, Tuple

import numpy as np


def check_period(period) -> int:
    """``period`` as a Python int of at least 1."""
    if isinstance(period, bool) or not isinstance(period, numbers.Integral):
        raise TypeError(f"period must be an integer, got {type(period).__name__}")
    if period < 1:
        raise ValueError(f"period must be at least 1, got {period}")
    return int(period)


def check_window(window) -> Optional[int]:
    """``window`` (whole periods) as None or an int of at least 1."""
    if window is None:
        return None
    if isinstance(window, bool) or not isinstance(window, numbers.Integral):
        raise TypeError(f"window must be None or an integer, got {type(window).__name__}")
    if window < 1:
        raise ValueError(f"window must be at least 1 period, got {window}")
    return int(window)


def check_count(value, name: str, low: int = 1) -> int:
    """A positive integer parameter such as ``n_clusters``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}")
    return int(value)


def as_shapes3(x, name: str, finite_only: bool = False) -> Tuple[np.ndarray, bool]:
    """``x`` as a C-contiguous float32 ``(n, R, T)`` array and whether it came as ``(n, T)``.

    No copy when ``x`` already is C-contiguous float32 (a 2-D input becomes a
    view with R = 1). Values must be finite and, unless ``finite_only``,
    non-negative (resource use); the message names the first bad shape.
    """
    arr = np.asarray(x)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim not in (2, 3):
        raise ValueError(f"{name} must be a 2-D (n, T) or 3-D (n, R, T) array, "
                         f"got {arr.ndim}-D with shape {arr.shape}")
    if 0 in arr.shape:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    flat = arr.ndim == 2
    with np.errstate(over="ignore"):  # a float64 beyond float32 becomes inf, reported below
        arr = np.ascontiguousarray(arr, dtype=np.float32)
    if flat:
        arr = arr[:, None, :]
    # two reductions without temporaries; NaN propagates through min and max
    lo, hi = arr.min(), arr.max()
    if not (np.isfinite(lo) and np.isfinite(hi)):
        bad = ~np.isfinite(arr).all(axis=(1, 2))
        raise ValueError(f"{name} has a NaN or infinite value in shape {int(np.flatnonzero(bad)[0])}")
    if lo < 0 and not finite_only:
        bad = (arr < 0).any(axis=(1, 2))
        raise ValueError(f"{name} has a negative value in shape {int(np.flatnonzero(bad)[0])} "
                         f"(resource use must be >= 0)")
    return arr, flat


def as_history(history, period) -> Tuple[np.ndarray, int, bool]:
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
