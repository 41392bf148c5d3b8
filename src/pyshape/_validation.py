"""Input checks shared by the public API: one place that turns bad input into
clear exceptions, and good input into C-contiguous float32 without a copy
when it already is one."""
from __future__ import annotations

import numpy as np


def as_shapes(x, name: str = "X") -> np.ndarray:
    """Return ``x`` as a C-contiguous float32 ``(n, T)`` array.

    No copy is made when ``x`` already is one; anything else is converted once.
    A 1-D array is taken as one shape. Non-finite values are found later, in
    the same pass that normalises (see :func:`check_finite_row`).
    """
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (n shapes, T steps), got {arr.ndim}-D with shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}): need at least one shape of at least one step")
    try:
        with np.errstate(over="raise"):
            return np.ascontiguousarray(arr, dtype=np.float32)
    except FloatingPointError:
        # A finite wider float beyond float32's range: say so, rather than
        # letting it become inf and be reported as a non-finite value.
        big = np.abs(arr) > np.finfo(np.float32).max
        row = int(np.flatnonzero(big.any(axis=1))[0])
        raise ValueError(
            f"{name} has a value outside the float32 range (magnitude above {np.finfo(np.float32).max:.4g}) "
            f"in row {row}"
        ) from None


def check_finite_row(bad_row: int, name: str) -> None:
    """Raise if the normalising kernel reported a non-finite value."""
    if bad_row >= 0:
        raise ValueError(f"{name} has a NaN or infinite value in row {bad_row}")


def check_same_length(x: np.ndarray, y: np.ndarray, xname: str, yname: str) -> None:
    if x.shape[1] != y.shape[1]:
        raise ValueError(
            f"{xname} and {yname} must have the same number of time steps, got {x.shape[1]} and {y.shape[1]}"
        )


def check_k(k, n_available: int, what: str) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an integer, got {type(k).__name__}")
    k = int(k)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if k > n_available:
        raise ValueError(f"k={k} is larger than the {n_available} {what}")
    return k
