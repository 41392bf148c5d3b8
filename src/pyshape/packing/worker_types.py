"""Heterogeneous fleets: :class:`WorkerTypes`, a table of worker types with a
capacity per resource and a cost each, and :func:`cost_lower_bound`.

Pass a table as ``capacity`` to :func:`pyshape.pack` and the plan minimises the
total cost of its workers instead of their number (see ``src/cpp/pack/types.hpp``
for the policy).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence, Tuple

import numpy as np

from pyshape import _core
from pyshape._validation import real_array
from pyshape.packing._checks import ArrayLike, check_capacity, check_risk

__all__ = ["WorkerTypes", "as_worker_types", "cost_lower_bound", "type_table"]


@dataclass(frozen=True, eq=False)
class WorkerTypes:
    """A table of worker types: a name, a capacity per resource and a cost each.

    Parameters
    ----------
    names : sequence of str, length n_types
        Unique, non-empty names (used in messages, plans and the CLI).
    capacity : array_like, shape (n_types, R) or (n_types,)
        Capacity of each type per resource, positive and finite (1-D: one
        resource).
    cost : array_like, shape (n_types,)
        Cost of one worker of each type (per plan period, in any unit),
        positive and finite.

    Attributes
    ----------
    names : tuple of str
    capacity : ndarray of float64, shape (n_types, R), read-only
    cost : ndarray of float64, shape (n_types,), read-only

    Notes
    -----
    :meth:`from_frame` reads a pandas DataFrame (pandas stays optional: any
    object with ``columns``, ``index`` and ``to_numpy`` works).

    Examples
    --------
    >>> from pyshape.packing import WorkerTypes
    >>> wt = WorkerTypes(["small", "large"], [[8, 16], [32, 64]], [1.0, 3.5])
    >>> wt.n_types, wt.R, wt.cheapest
    (2, 2, 'small')
    """

    names: Tuple[str, ...]
    capacity: np.ndarray
    cost: np.ndarray

    def __init__(self, names: Sequence[str], capacity: ArrayLike, cost: ArrayLike) -> None:
        nm = tuple(names) if not isinstance(names, str) else (names,)
        if not nm:
            raise ValueError("worker types: need at least one type")
        if not all(isinstance(x, (str, np.str_)) and str(x) for x in nm):
            raise TypeError(f"worker type names must be non-empty strings, got {list(nm)!r}")
        nm = tuple(str(x) for x in nm)
        if len(set(nm)) != len(nm):
            dup = sorted({x for x in nm if nm.count(x) > 1})
            raise ValueError(f"worker type names must be unique, repeated: {dup}")
        cap = np.asarray(real_array(capacity, "worker type capacity"), dtype=np.float64)
        if cap.ndim == 1:
            cap = cap[:, None]
        if cap.ndim != 2 or cap.shape[0] != len(nm) or cap.shape[1] == 0:
            raise ValueError(f"worker type capacity must be (n_types, R) with n_types={len(nm)}, "
                             f"got shape {cap.shape}")
        c = np.asarray(real_array(cost, "worker type cost"), dtype=np.float64).reshape(-1)
        if c.shape != (len(nm),):
            raise ValueError(f"worker type cost needs one value per type ({len(nm)}), got {c.size}")
        for t, name in enumerate(nm):
            if not (np.isfinite(c[t]) and c[t] > 0):
                raise ValueError(f"worker type {name!r}: cost must be positive and finite, got {c[t]!r}")
            try:
                check_capacity(cap[t], cap.shape[1])
            except ValueError as e:
                raise ValueError(f"worker type {name!r}: {e}") from None
        cap = np.ascontiguousarray(cap)
        cap.flags.writeable = False
        c = np.ascontiguousarray(c)
        c.flags.writeable = False
        object.__setattr__(self, "names", nm)
        object.__setattr__(self, "capacity", cap)
        object.__setattr__(self, "cost", c)

    @property
    def n_types(self) -> int:
        return len(self.names)

    @property
    def R(self) -> int:
        """Resources per type."""
        return int(self.capacity.shape[1])

    @property
    def cheapest(self) -> str:
        """The name of the cheapest type (the first on ties)."""
        return self.names[int(np.argmin(self.cost))]

    def __len__(self) -> int:
        return self.n_types

    def __repr__(self) -> str:
        rows = ", ".join(f"{n}: {self.capacity[t].tolist()} @ {self.cost[t]:g}" for t, n in enumerate(self.names))
        return f"WorkerTypes({rows})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WorkerTypes):
            return NotImplemented
        return (self.names == other.names and np.array_equal(self.capacity, other.capacity)
                and np.array_equal(self.cost, other.cost))

    def __hash__(self) -> int:
        return hash((self.names, self.capacity.tobytes(), self.cost.tobytes()))

    def __reduce__(self) -> tuple:
        # pickle and copy through the constructor: checked again, and the arrays read-only again
        return (WorkerTypes, (self.names, np.array(self.capacity), np.array(self.cost)))

    def index(self, name: str) -> int:
        """The row of the type called ``name`` (KeyError when there is none)."""
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"no worker type {name!r} (types: {', '.join(self.names)})") from None

    @classmethod
    def from_frame(cls, frame: Any, cost: str = "cost", name: Optional[str] = None) -> "WorkerTypes":
        """A table from a DataFrame: one row per type, a ``cost`` column, every other column a
        resource's capacity (in column order); names from the ``name`` column when given, else
        from the index.

        Examples
        --------
        >>> import pandas as pd  # doctest: +SKIP
        >>> WorkerTypes.from_frame(pd.DataFrame({"cpu": [8, 32], "mem": [16, 64], "cost": [1, 3.5]},
        ...                                     index=["small", "large"]))  # doctest: +SKIP
        WorkerTypes(small: [8.0, 16.0] @ 1, large: [32.0, 64.0] @ 3.5)
        """
        cols = [str(c) for c in frame.columns]
        if cost not in cols:
            raise ValueError(f"worker types: the table has no {cost!r} column (columns: {cols})")
        if name is not None and name not in cols:
            raise ValueError(f"worker types: the table has no {name!r} column (columns: {cols})")
        res = [c for c in cols if c not in (cost, name)]
        if not res:
            raise ValueError("worker types: the table has no capacity column")
        names = frame[name].tolist() if name is not None else [str(i) for i in frame.index]
        return cls(names, frame[res].to_numpy(dtype=np.float64), frame[cost].to_numpy(dtype=np.float64))


def _is_frame(x: Any) -> bool:
    return hasattr(x, "columns") and hasattr(x, "to_numpy") and hasattr(x, "index")


def type_table(capacity: Any) -> Optional[WorkerTypes]:
    """``capacity`` as a :class:`WorkerTypes` when it is a table of types (a WorkerTypes or a
    DataFrame), else None (a plain capacity)."""
    if isinstance(capacity, WorkerTypes):
        return capacity
    if _is_frame(capacity):
        return WorkerTypes.from_frame(capacity)
    return None


def as_worker_types(capacity: Any, R: int) -> Optional[WorkerTypes]:
    """:func:`type_table` of ``capacity``, checked to have R resources.

    Raises
    ------
    ValueError
        The table's resources differ from R.
    """
    wt = type_table(capacity)
    if wt is None:
        return None
    if wt.R != R:
        raise ValueError(f"worker types have {wt.R} resource(s) but the shapes have R={R}")
    return wt


def cost_lower_bound(total: np.ndarray, types: WorkerTypes, risk: float = 0.0,
                     peaks: Optional[np.ndarray] = None) -> float:
    """A lower bound on the total cost of any plan on these worker types (with a float32 allowance).

    Parameters
    ----------
    total : ndarray, shape (R, T)
        Summed demand of all shapes.
    types : WorkerTypes
        The types, with the capacities the plans are made against (apply any
        headroom first).
    risk : float
        Risk budget in [0, 1), as in :func:`pyshape.pack`.
    peaks : ndarray, shape (n, R), optional
        Per-shape peaks: with risk 0, adds the per-shape bound below.

    Returns
    -------
    float
        The largest of three bounds, where ``cmin`` is the least cost:

        volume
            ``m[s]``, the cost of the cheapest *fractional* fleet whose
            capacities cover step s's total in every resource, by LP duality
            ``max {y . total[:, s] : y >= 0, y . capacity_t <= cost_t for every
            type t}`` (prices per unit of each resource that no type beats;
            at least ``max_r c_r * total[r, s]`` with ``c_r = min_t cost_t /
            capacity_t[r]``, the least cost of one unit of r); the smallest
            ``C >= 0`` with ``#{s : m[s] > C} <= floor(C / cmin) * k``,
            ``k = floor(risk * T)`` (with risk 0: ``max_s m[s]``).
        workers
            ``cmin * lower_bound(total, max_t capacity_t, risk)``.
        shapes
            (risk 0, peaks given) the largest, over shapes, of the cheapest type
            that holds the shape's peak.

    Notes
    -----
    Why each is a bound. Take any plan, with workers w of types ``t(w)``.
    Volume: at a step s where no worker is over capacity, every worker's load
    of r is within ``capacity_t(w)[r]``, and the loads add up to the total, so
    ``total[:, s] <= sum_w capacity_t(w)`` in every resource; for prices y as
    above, ``cost = sum_w cost_t(w) >= sum_w y . capacity_t(w) >= y .
    total[:, s]``: ``m[s] <= cost``. (The prices are the vertices of that
    polytope, enumerated once for all steps; each is made exactly feasible
    before use, so rounding never raises the bound.) Every worker costs at least cmin, so the
    plan has at most ``floor(cost / cmin)`` workers, each over at most k
    steps: at most ``floor(cost / cmin) * k`` steps have some worker over, so
    ``#{s : m[s] > cost} <= floor(cost / cmin) * k``; the left side falls and
    the right side grows with ``cost``, so the least C that passes is at most
    the plan's cost. Workers: no worker holds more of r than the largest
    capacity, so the worker bound against it holds, and each worker costs at
    least cmin. Shapes: with risk 0 a shape sits on a worker whose type holds
    its peak. As in :func:`lower_bound`, ``m[s]`` is lowered by 4 float32
    units, for the packer's float32 sums.

    Examples
    --------
    >>> import numpy as np
    >>> from pyshape.packing import WorkerTypes, cost_lower_bound
    >>> wt = WorkerTypes(["small", "large"], [[4.0], [10.0]], [1.0, 2.0])   # large: 0.2 per unit
    >>> round(cost_lower_bound(np.array([[10.0, 20.0]]), wt), 4)            # 20 units x 0.2
    4.0
    """
    if not isinstance(types, WorkerTypes):
        raise TypeError(f"types must be a WorkerTypes, got {type(types).__name__}")
    tot = np.ascontiguousarray(total, np.float64)
    if tot.ndim != 2 or tot.shape[0] != types.R:
        raise ValueError(f"total must be (R, T) with R={types.R}, got shape {tot.shape}")
    if 0 in tot.shape:
        raise ValueError(f"total is empty (shape {tot.shape}): need at least one resource and one step")
    if not np.isfinite(tot).all() or (tot < 0).any():
        raise ValueError("total must hold finite, non-negative demand")
    pk = None
    if peaks is not None:
        pk = np.ascontiguousarray(peaks, np.float32)
        if pk.ndim != 2 or pk.shape[1] != types.R:
            raise ValueError(f"peaks must be (n, R) with R={types.R}, got shape {pk.shape}")
    return float(_core.cost_lower_bound(tot, types.capacity, types.cost, check_risk(risk), pk))
