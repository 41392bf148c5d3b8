"""Defaults, error types and argument checks shared by pack, Plan and Placer."""
from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import numpy as np

from pyshape import _core
from pyshape._validation import check_real, real_array

_F32 = np.finfo(np.float32)

#: Strategies accepted by :func:`pack` (and, except ``'auto'`` and ``'peak'``, by :class:`pyshape.Placer`).
STRATEGIES = ("auto", "complement", "first_fit", "best_fit", "peak")
DEFAULT_STRATEGY = "auto"
# The packer's defaults come from the C++ core (PackOptions in src/cpp/pack/pack.hpp): one source
# for Python, the C API and the binding.
DEFAULT_CANDIDATES: int = _core.PACK_DEFAULT_CANDIDATES
DEFAULT_IMPROVE: int = _core.PACK_DEFAULT_IMPROVE
#: ``'auto'``: scale of the local-search work budget (see :func:`pyshape.pack`).
DEFAULT_EFFORT: float = _core.PACK_DEFAULT_EFFORT
#: Shapes per shard above which the placement is split into independent shards.
DEFAULT_SHARD_SIZE: int = _core.PACK_DEFAULT_SHARD_SIZE

#: A shape's peak exceeds the effective capacity of an empty worker (``.ids`` lists them).
ShapeTooLargeError = _core.ShapeTooLargeError
#: An id is placed twice.
DuplicateIdError = _core.DuplicateIdError
#: An id that is not placed.
UnknownIdError = _core.UnknownIdError
#: No open worker can take a shape and ``max_workers`` are open.
FleetFullError = _core.FleetFullError


class InfeasiblePlanError(AssertionError):
    """Raised by :meth:`Plan.verify` when a plan breaks capacity (beyond its risk budget)."""


ArrayLike = Union[np.ndarray, Sequence[Any]]


def _numbers(x: Any, name: str) -> np.ndarray:
    """``x`` as an array of integers or floats: strings, objects and bools (``headroom=True``) refused."""
    a = real_array(x, name)
    if a.dtype.kind == "b":
        raise TypeError(f"{name} must be a number or numbers, got bool {x!r}")
    return a


def check_capacity(capacity: Union[float, ArrayLike], R: int) -> np.ndarray:
    c = np.atleast_1d(_numbers(capacity, "capacity")).astype(np.float64)
    if c.ndim != 1:
        raise ValueError(f"capacity must be a number or one value per resource, got shape {c.shape}")
    if c.size == 1 and R > 1:
        c = np.repeat(c, R)
    if c.size != R:
        raise ValueError(f"capacity has {c.size} values but the shapes have R={R} resources")
    if not np.all(np.isfinite(c)) or np.any(c <= 0):
        raise ValueError(f"capacity must be positive and finite, got {c.tolist()}")
    if np.any(c < _F32.tiny) or np.any(c > _F32.max):  # loads and capacities are float32 in the packers
        raise ValueError(f"capacity must be within the float32 range [{_F32.tiny:.4g}, {_F32.max:.4g}] "
                         f"(shapes are packed in float32), got {c.tolist()}")
    return c


def check_headroom(headroom: Union[float, ArrayLike], R: int) -> np.ndarray:
    h = np.atleast_1d(_numbers(headroom, "headroom")).astype(np.float64)
    if h.size == 1:
        h = np.repeat(h, R)
    if h.ndim != 1 or h.size != R:
        raise ValueError(f"headroom must be a number or one value per resource (R={R}), got shape {h.shape}")
    if not np.all((h >= 0) & (h < 1)):
        raise ValueError(f"headroom is a fraction of capacity in [0, 1), got {h.tolist()}")
    return h


def check_risk(risk: float) -> float:
    """The risk budget: a real number in [0, 1) (a fraction of steps)."""
    return check_real(risk, "risk", 0.0, 1.0, high_open=True)


def check_ids(ids: Optional[ArrayLike], n: int) -> np.ndarray:
    """``ids`` as a 1-D array of n unique ids (``arange(n)`` when None).

    Ids are compared as the Python objects given: a sequence mixing strings
    with other ids (``[1, '1']``) becomes an object array (NumPy would turn
    every id into a string, so 1 and '1' would clash and the int would come
    back as '1'), and its duplicates are found by Python equality.
    """
    if ids is None:
        return np.arange(n)
    a = np.asarray(ids)
    if a.dtype.kind in "US" and not isinstance(ids, np.ndarray) and a.ndim == 1:
        items = list(ids)
        if not all(isinstance(x, (str, bytes, np.str_, np.bytes_)) for x in items):
            a = np.empty(len(items), dtype=object)
            a[:] = items
    if a.ndim != 1 or a.shape[0] != n:
        raise ValueError(f"ids must have one entry per shape ({n}), got shape {a.shape}")
    if a.dtype.kind == "O":
        seen, dup = set(), []
        for x in a.tolist():
            try:
                if x in seen:
                    dup.append(x)
                seen.add(x)
            except TypeError:
                raise TypeError(f"ids must be hashable (str, int, ...), got {type(x).__name__} {x!r}") from None
        if dup:
            raise DuplicateIdError(f"{len(dup)} duplicate id(s), e.g. {dup[:5]}")
        return a
    uniq, counts = np.unique(a, return_counts=True)
    if uniq.size != n:
        dup = uniq[counts > 1]
        raise DuplicateIdError(f"{dup.size} duplicate id(s), e.g. {dup[:5].tolist()}")
    return a


def effective_capacity(capacity: np.ndarray, headroom: np.ndarray) -> np.ndarray:
    """``capacity * (1 - headroom)`` in float32, refused when it falls below float32's normal range."""
    eff = (capacity * (1.0 - headroom)).astype(np.float32)
    if np.any(eff < _F32.tiny):
        raise ValueError(f"the effective capacity capacity * (1 - headroom) = {(capacity * (1.0 - headroom)).tolist()} "
                         f"is below the float32 range (smallest {_F32.tiny:.4g}): use a larger capacity "
                         f"(or rescale the shapes) or less headroom")
    return eff


def check_values(nonfinite: int, negative: int, ids: np.ndarray) -> None:
    if nonfinite >= 0:
        raise ValueError(f"shape {ids[nonfinite]!r} (row {nonfinite}) has a NaN or infinite value")
    if negative >= 0:
        raise ValueError(f"shape {ids[negative]!r} (row {negative}) has a negative value")


def raise_too_large(too: np.ndarray, eff: np.ndarray, ids: np.ndarray,
                    type_names: Optional[Sequence[str]] = None) -> None:
    """Raise :class:`ShapeTooLargeError` for the rows ``too`` (if any) of shapes peaking above ``eff``
    (``(R,)``, or with ``type_names`` one row per worker type: the shapes fit none of them)."""
    if too.size:
        shown = ", ".join(repr(ids[i].item() if hasattr(ids[i], "item") else ids[i]) for i in too[:10])
        more = f" and {too.size - 10} more" if too.size > 10 else ""
        if type_names is None:
            where = f"peak above the effective capacity {eff.tolist()} of an empty worker"
        else:
            kinds = ", ".join(f"{nm} {row}" for nm, row in zip(type_names, eff.tolist()))
            where = f"fit no worker type (effective capacities: {kinds})"
        err = ShapeTooLargeError(
            f"{too.size} shape(s) {where}: "
            f"ids {shown}{more}. Nothing was placed; use bigger workers, less headroom, or split them."
        )
        err.ids = ids[too]  # type: ignore[attr-defined]  # set here only, not by the C++ Placer
        err.rows = too  # type: ignore[attr-defined]
        raise err
