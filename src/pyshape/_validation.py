"""Input checks shared by the whole public API: the one place that turns bad
input into clear exceptions, and good input into C-contiguous float32 without a
copy when it already is one.

Every public function coerces its arrays with :func:`as_shapes` (``(n, T)``)
or :func:`as_shapes3` (``(n, R, T)``) and its integer parameters with
:func:`check_int`, so the same bad input gets the same message everywhere.
"""
from __future__ import annotations

import numbers
from typing import Any, Optional

import numpy as np

_F32_MAX = float(np.finfo(np.float32).max)
#: Largest value of the C++ ``int`` parameters (candidates, improve, n_threads, ...).
INT32_MAX = 2**31 - 1
#: Largest value of the C++ ``int64_t`` / ``size_t`` parameters (shard_size, ...).
INT64_MAX = 2**63 - 1
#: Rows converted at a time when centring wide input before the float32 cast.
_CENTER_CHUNK = 1 << 14


def real_array(x: Any, name: str) -> np.ndarray:
    """``x`` as a NumPy array of real numbers (bool, integer or float), no copy when it is one.

    Sparse matrices, strings, dates and non-numeric objects raise ``TypeError``
    naming ``name``; complex numbers ``ValueError`` (as in scikit-learn); an
    object array of numbers is converted to float64 (None becomes NaN, which
    the caller's finiteness check then reports).
    """
    if (hasattr(x, "toarray") and hasattr(x, "tocsr")) or type(x).__module__.startswith("scipy.sparse"):
        raise TypeError(f"{name} is a sparse matrix, but pyshape needs dense data: pass {name}.toarray() "
                        f"(shapes are dense time series)")
    arr = np.asarray(x)
    if arr.dtype.kind == "O":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as e:
            # NumPy's own reason ("float() argument must be a string or a real
            # number, not 'dict'") is kept: scikit-learn's checks look for it
            raise TypeError(f"{name} must hold real numbers, got dtype object with non-numeric "
                            f"entries ({e})") from None
    if arr.dtype.kind == "c":
        # ValueError, as scikit-learn raises for complex input
        raise ValueError(f"Complex data not supported: {name} must hold real numbers, got dtype {arr.dtype}")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    return arr


def _to_float32(arr: np.ndarray, name: str, center: bool) -> np.ndarray:
    """C-contiguous float32 copy (or the array itself), refusing finite values beyond float32's range.

    ``center`` (only for callers whose result does not depend on each row's
    level, such as correlation): rows of wider input are centred in their own
    precision first, so that a variation far below the level (say 1e-9 of it)
    survives the cast instead of rounding away.
    """
    if arr.dtype == np.float32:
        # aligned too: a float32 view at an odd byte offset (np.frombuffer, Arrow buffers) is copied,
        # since the kernels read whole floats (and SIMD vectors) from it
        return np.require(arr, requirements=["C", "A"])
    wide = arr.dtype.itemsize > 4 or (arr.dtype.kind in "iu" and arr.dtype.itemsize >= 4)
    if center and wide and arr.ndim == 2:
        out = np.empty(arr.shape, dtype=np.float32)
        for s in range(0, arr.shape[0], _CENTER_CHUNK):
            block = np.asarray(arr[s:s + _CENTER_CHUNK], dtype=np.float64)
            with np.errstate(invalid="ignore", over="ignore"):
                block = block - block.mean(axis=1, keepdims=True)
            _check_range(block, name, s)
            out[s:s + _CENTER_CHUNK] = block
        return out
    if arr.dtype.kind == "f" and arr.dtype.itemsize > 4:  # float16 always fits (and would warn here)
        _check_range(arr, name, 0)
    return np.ascontiguousarray(arr, dtype=np.float32)


def _check_range(arr: np.ndarray, name: str, row0: int) -> None:
    with np.errstate(invalid="ignore"):
        big = (np.abs(arr) > _F32_MAX) & np.isfinite(arr)  # inf and NaN are the caller's to report
    if big.any():
        row = row0 + int(np.flatnonzero(big.reshape(big.shape[0], -1).any(axis=1))[0])
        raise ValueError(f"{name} has a value outside the float32 range (magnitude above {_F32_MAX:.4g}) "
                         f"in row {row}")


def as_shapes(x: Any, name: str = "X", *, allow_1d: bool = True, center: bool = False) -> np.ndarray:
    """Return ``x`` as a C-contiguous float32 ``(n, T)`` array.

    No copy is made when ``x`` already is one; anything else is converted once.
    A 1-D array is taken as one shape when ``allow_1d`` (else refused, as
    scikit-learn estimators do). Non-finite values are found later, in the same
    pass that normalises (see :func:`check_finite_row`).
    """
    arr = real_array(x, name)
    if arr.ndim == 1:
        if not allow_1d:
            raise ValueError(f"Expected 2D array, got 1D array instead: {name} must be (n shapes, T steps). "
                             f"Reshape your data using {name}.reshape(1, -1) if it holds a single shape.")
        arr = arr.reshape(1, -1)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (n shapes, T steps), got {arr.ndim}-D with shape {arr.shape}")
    # scikit-learn's wording (its estimator checks match it), then ours
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty: found array with 0 sample(s) (shape={arr.shape}) while a "
                         f"minimum of 1 is required (need at least one shape of at least one step)")
    if arr.shape[1] == 0:
        raise ValueError(f"{name} is empty: found array with 0 feature(s) (shape={arr.shape}) while a "
                         f"minimum of 1 is required (need at least one shape of at least one step)")
    return _to_float32(arr, name, center)


def as_shapes3(x: Any, name: str = "shapes", *, finite: bool = False, nonnegative: bool = False,
               keep_precision: bool = False) -> np.ndarray:
    """Return ``x`` as a C-contiguous float32 ``(n, R, T)`` array (``(n, T)`` means R = 1).

    No copy when it already is one (a 2-D input becomes a view).
    ``keep_precision``: float64 stays float64 (integers become float64), for
    callers that only read the values (plots). With
    ``finite`` / ``nonnegative`` the values are checked too (one pass each, no
    temporaries unless one fails), the message naming the first bad shape.
    """
    arr = real_array(x, name)
    if arr.ndim == 2:
        arr = arr.reshape(arr.shape[0], 1, arr.shape[1])
    if arr.ndim != 3:
        raise ValueError(f"{name} must be a 2-D (n, T) or 3-D (n, R, T) array, got {arr.ndim}-D with shape {arr.shape}")
    if 0 in arr.shape:
        raise ValueError(f"{name} is empty (shape {arr.shape}): need at least one shape, resource and step")
    if keep_precision:
        arr = np.ascontiguousarray(arr, dtype=np.result_type(arr.dtype, np.float32))
    else:
        arr = _to_float32(arr, name, center=False)
    if finite or nonnegative:
        lo, hi = arr.min(), arr.max()  # NaN propagates through both
        if finite and not (np.isfinite(lo) and np.isfinite(hi)):
            bad = ~np.isfinite(arr).all(axis=(1, 2))
            raise ValueError(f"{name} has a NaN or infinite value in shape {int(np.flatnonzero(bad)[0])}")
        if nonnegative and lo < 0:
            bad = (arr < 0).any(axis=(1, 2))
            raise ValueError(f"{name} has a negative value in shape {int(np.flatnonzero(bad)[0])} "
                             f"(resource use must be >= 0)")
    return arr


def check_finite_row(bad_row: int, name: str) -> None:
    """Raise if the normalising kernel reported a non-finite value."""
    if bad_row >= 0:
        raise ValueError(f"{name} has a NaN or infinite value in row {bad_row}")


def check_same_length(x: np.ndarray, y: np.ndarray, xname: str, yname: str) -> None:
    if x.shape[1] != y.shape[1]:
        raise ValueError(
            f"{xname} and {yname} must have the same number of time steps, got {x.shape[1]} and {y.shape[1]}"
        )


def check_int(value: Any, name: str, low: Optional[int] = None, high: Optional[int] = None) -> int:
    """``value`` as a Python int in ``[low, high]``; bools, floats (even 2.0) and strings are refused.

    ``TypeError`` for a value that is not an integer, ``ValueError`` (naming
    the bound) for one out of range: the one message style of the package.
    Pass ``high`` for a parameter that reaches C++ (:data:`INT32_MAX`,
    :data:`INT64_MAX`), so that a huge Python int gets this message instead of
    pybind11's "incompatible function arguments".
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    v = int(value)
    if low is not None and v < low:
        raise ValueError(f"{name} must be at least {low}, got {v}")
    if high is not None and v > high:
        raise ValueError(f"{name} must be at most {high}, got {v}")
    return v


def check_real(value: Any, name: str, low: Optional[float] = None, high: Optional[float] = None, *,
               high_open: bool = False) -> float:
    """``value`` as a finite Python float in ``[low, high]`` (``[low, high)`` with ``high_open``).

    Integers and NumPy scalars are accepted; bools, strings and other objects
    are refused with ``TypeError``, NaN / infinity with ``ValueError``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    v = float(value)
    out = (low is not None and v < low) or (high is not None and (v >= high if high_open else v > high))
    if out or not np.isfinite(v):
        if low is None and high is None:
            raise ValueError(f"{name} must be finite, got {v}")
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise ValueError(f"{name} must be in [{lo}, {hi}{')' if high_open else ']'}, got {v:g}")
    return v


def check_bool(value: Any, name: str) -> bool:
    """``value`` as a bool; only True/False (and NumPy bools) are accepted."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def check_k(k: Any, n_available: int, what: str) -> int:
    k = check_int(k, "k", 1)
    if k > n_available:
        raise ValueError(f"k={k} is larger than the {n_available} {what}")
    return k


def make_rng(random_state: Any) -> np.random.Generator:
    """A NumPy Generator from ``random_state``: None, an int, a Generator or a legacy RandomState."""
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return np.random.default_rng(int(random_state))
    raise TypeError(f"random_state must be None, an int or a numpy Generator/RandomState, "
                    f"got {type(random_state).__name__}")
