"""A placement plan (:class:`Plan`), its verification and replay reports, and
the lower bound on workers."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from pyshape import _core
from pyshape._validation import as_shapes3, check_bool
from pyshape.packing._checks import ArrayLike, InfeasiblePlanError, check_risk
from pyshape.packing._verify import (
    members_index,
    over_steps,
    worker_loads,
)
from pyshape.packing.worker_types import WorkerTypes

__all__ = ["Plan", "ReplayReport", "VerifyReport", "lower_bound"]


def lower_bound(total: np.ndarray, capacity: np.ndarray, risk: float = 0.0) -> int:
    """Fewest workers any plan within the risk budget can use (at least 1), with a float32-rounding allowance.

    Parameters
    ----------
    total : ndarray, shape (R, T)
        Summed demand of all shapes.
    capacity : ndarray, shape (R,)
        Capacity per resource.
    risk : float
        Risk budget ``eps`` in [0, 1) of the plans bounded (as in :func:`pack`):
        a worker may exceed its capacity in at most ``k = floor(eps * T)`` steps.

    Returns
    -------
    int
        The smallest ``W >= 1`` with ``#{t : m[t] > W} <= W * k``, where
        ``m[t] = max_r total[r, t] / capacity[r]``. For ``risk = 0`` (k = 0)
        that is ``max_r ceil(max_t total[r, t] / capacity[r])``.

    Notes
    -----
    Why this is a lower bound (it never exceeds the optimum). Take any plan
    with W workers in which every worker is over capacity (some resource above
    it) in at most k steps. Call a step *clean* when no worker is over at it.
    At a clean step every worker's load is within capacity on every resource,
    and the loads add up to the total, so ``total[r, t] <= W * capacity[r]``
    for all r, i.e. ``m[t] <= W``. A step that is not clean has at least one
    worker over at it; the plan has at most ``W * k`` worker-steps over
    capacity, so at most ``W * k`` steps are not clean. Hence every step with
    ``m[t] > W`` is among at most ``W * k`` steps: ``#{t : m[t] > W} <= W * k``
    holds for the W of every feasible plan. The left side falls and the right
    side grows with W, so the condition holds for all W from its smallest
    solution on, and the optimum is at least that smallest solution. (Nothing
    bounds a worker's load at a step where it is over, so steps that are not
    clean give no other constraint.) With k = 0 the condition is
    ``max_t m[t] <= W``, the classic bound.

    Each ``m[t]`` is lowered by 4 float32 units (relative) before the count, as
    the packer sums and compares in float32.

    See Also
    --------
    cost_lower_bound : the bound on cost for a fleet of worker types.

    Examples
    --------
    >>> import numpy as np
    >>> from pyshape.packing import lower_bound
    >>> lower_bound(np.array([[3.0, 5.0], [1.0, 1.0]]), np.array([2.0, 4.0]))
    3
    >>> lower_bound(np.array([[1.0, 1.0, 1.0, 4.0]]), np.array([1.0]), risk=0.25)  # one step over per worker
    1
    """
    tot = np.ascontiguousarray(total, np.float64)
    cap = np.ascontiguousarray(capacity, np.float64)
    if tot.ndim != 2 or cap.shape != (tot.shape[0],):
        raise ValueError(f"total must be (R, T) and capacity (R,), got {tot.shape} and {cap.shape}")
    if 0 in tot.shape:
        raise ValueError(f"total is empty (shape {tot.shape}): need at least one resource and one step")
    if not np.isfinite(tot).all() or (tot < 0).any():
        raise ValueError("total must hold finite, non-negative demand")
    if not np.isfinite(cap).all() or (cap <= 0).any():
        raise ValueError(f"capacity must be positive and finite, got {cap.tolist()}")
    # computed by the C++ policy (src/cpp/pack/policy.cpp), the bound pyshape.pack and the C API report
    return int(_core.lower_bound(tot, cap, check_risk(risk)))


@dataclass(frozen=True)
class VerifyReport:
    """Outcome of :meth:`Plan.verify`.

    Attributes
    ----------
    ok : bool
        Every shape on exactly one worker, and every worker within capacity at
        all but at most ``allowed_steps`` steps.
    steps_over : ndarray of int64, shape (W,)
        Steps at which some resource of the worker is over capacity.
    allowed_steps : int
        ``floor(risk * T)``.
    max_excess : ndarray, shape (R,)
        Largest load minus capacity over workers and steps (0 when none).
    """

    ok: bool
    steps_over: np.ndarray
    allowed_steps: int
    max_excess: np.ndarray
    message: str = ""


@dataclass(frozen=True)
class ReplayReport:
    """The same assignment evaluated on another period (:meth:`Plan.replay`).

    Attributes
    ----------
    A worker is *over* at a step when some resource's load exceeds the limit
    (capacity, or effective capacity with ``against='effective'``) by more than
    the float32 rounding allowance of :meth:`Plan.verify`.

    Attributes
    ----------
    T : int
        Steps of the other period.
    steps_over : ndarray of int64, shape (W,)
        Per worker, steps at which some resource exceeds capacity.
    over_per_step : ndarray of int64, shape (T,)
        Per step, workers over capacity (``steps_over`` summed the other way:
        both total the worker-steps over).
    worker_max_excess : ndarray of float64, shape (W, R)
        Per worker and resource, the largest load minus capacity (0 when none).
    workers_over : int
        Workers over capacity at least once.
    overflow_fraction : float
        Fraction of worker-steps over capacity.
    max_excess : ndarray, shape (R,)
        Largest load minus capacity (same units as the shapes; 0 when none):
        ``worker_max_excess.max(axis=0)``.
    excess_volume : ndarray, shape (R,)
        Sum over workers and steps of the load above capacity.
    peak_utilisation : ndarray, shape (R,)
        Largest load / capacity.
    """

    T: int
    steps_over: np.ndarray
    workers_over: int
    overflow_fraction: float
    max_excess: np.ndarray
    excess_volume: np.ndarray
    peak_utilisation: np.ndarray
    over_per_step: np.ndarray
    worker_max_excess: np.ndarray


def _read_only(a: ArrayLike) -> np.ndarray:
    """``a`` as an array nobody can change in place: itself when it is a read-only
    array over memory that no writeable array shares, else a read-only copy."""
    if not isinstance(a, np.ndarray):
        a = np.array(a)
    elif a.flags.writeable or not _owns_its_memory(a):
        a = a.copy()
    else:
        return a
    a.flags.writeable = False
    return a


def _owns_its_memory(a: np.ndarray) -> bool:
    """No writeable array is a base of ``a`` (a read-only view of a writeable array could change)."""
    b = a.base
    while isinstance(b, np.ndarray):
        if b.flags.writeable:
            return False
        b = b.base
    return True


@dataclass(eq=False)
class Plan:
    """An assignment of shapes to workers, with the measures to judge it.

    Attributes
    ----------
    assignment : ndarray of int64, shape (n,)
        Worker of every shape, in ``0 .. n_workers - 1`` (numbered in order of
        opening). Always read-only: a plan keeps a read-only copy of a
        writeable array it is given (``dataclasses.replace(plan, assignment=a)``
        or ``plan.assignment = a``), so changing ``a`` later does not change the
        plan. Copies (:func:`copy.copy`, :func:`copy.deepcopy`, pickle) are
        read-only and consistent too.
    n_workers : int
    lower_bound : int
        :func:`lower_bound` of the total demand against the effective capacity
        with the plan's risk: no plan within that risk uses fewer workers
        (``max_r ceil(max_t sum_i D[i, r, t] / C[r])`` when ``risk = 0``).
    peak_workers : int
        Workers the peak-based baseline (first-fit decreasing on peaks) uses.
    strategy : str
    capacity, headroom : ndarray, shape (R,)
        Worker capacity and the safety margin (a fraction); plans are made
        against ``effective_capacity = capacity * (1 - headroom)``.
    risk : float
        Fraction of steps a worker may be over capacity.
    ids : ndarray, shape (n,)
    shapes : ndarray, shape (n, R, T)
        The shapes packed (a reference, not a copy).
    seconds : float
        Wall time of the packing call.
    types : WorkerTypes or None
        The worker types of a heterogeneous plan (``pack(..., capacity=types)``);
        None for one capacity. With types, ``capacity`` is the largest capacity
        per resource over the types and ``lower_bound`` the worker bound against
        it; each worker's own capacity is :attr:`worker_capacity`.
    worker_type : ndarray of int64, shape (W,), or None
        With types: each worker's type, a row of ``types``.
    cost_lower_bound : float or None
        With types: :func:`~pyshape.packing.cost_lower_bound` of the plan's
        input (effective capacities, risk, peaks); no plan costs less.
    peak_cost : float or None
        With types: the cost of the peak-based baseline (the same typed
        policy on the peaks, first-fit).
    """

    assignment: np.ndarray
    n_workers: int
    lower_bound: int
    peak_workers: int
    strategy: str
    capacity: np.ndarray
    headroom: np.ndarray
    risk: float
    ids: np.ndarray
    shapes: np.ndarray = field(repr=False)
    total: np.ndarray = field(repr=False)
    seconds: float = 0.0
    types: Optional[WorkerTypes] = None
    worker_type: Optional[np.ndarray] = None
    cost_lower_bound: Optional[float] = None
    peak_cost: Optional[float] = None
    # (assignment, n_workers, order, starts): shapes by worker, see _members_index
    _index: Optional[tuple] = field(default=None, init=False, repr=False, compare=False)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "assignment":
            value = _read_only(value)
        object.__setattr__(self, name, value)

    # copy.copy, copy.deepcopy and pickle go through these: the index of
    # shapes by worker is never carried over (a copy builds its own), and the
    # copy's assignment is read-only like the original's.
    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_index"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        a = state.get("assignment")
        if isinstance(a, np.ndarray) and a.flags.writeable and a.flags.owndata:
            a.flags.writeable = False  # the copy's own array (deepcopy, unpickle): no second copy
        for name, value in state.items():
            setattr(self, name, value)

    @property
    def effective_capacity(self) -> np.ndarray:
        return self.capacity * (1.0 - self.headroom)

    @property
    def worker_capacity(self) -> np.ndarray:
        """Each worker's own capacity, ``(W, R)`` float64: its type's, or ``capacity`` for every worker."""
        if self.types is None or self.worker_type is None:
            return np.broadcast_to(self.capacity, (self.n_workers, self.capacity.shape[0]))
        return self.types.capacity[np.asarray(self.worker_type, dtype=np.int64)]

    @property
    def cost(self) -> float:
        """Total cost of the workers: the sum of their types' costs (without types, 1 per worker)."""
        if self.types is None or self.worker_type is None:
            return float(self.n_workers)
        c = self.types.cost[np.asarray(self.worker_type, dtype=np.int64)]
        # added in worker order (cumsum is sequential), as the C++ policy and the C API add them
        return float(np.cumsum(c)[-1]) if c.size else 0.0

    @property
    def type_counts(self) -> dict:
        """Workers per type name, in the table's order (types unused included, at 0); without types
        ``{'worker': n_workers}``."""
        if self.types is None or self.worker_type is None:
            return {"worker": self.n_workers}
        c = np.bincount(np.asarray(self.worker_type, dtype=np.int64), minlength=self.types.n_types)
        return {nm: int(k) for nm, k in zip(self.types.names, c)}

    @property
    def savings(self) -> float:
        """``1 - n_workers / peak_workers``: the fraction of workers saved over peak-based placement."""
        return 1.0 - self.n_workers / self.peak_workers

    @property
    def utilisation(self) -> np.ndarray:
        """Per resource: mean demand over the capacity of the workers used (``(R,)``, in [0, 1])."""
        T = self.total.shape[1]
        if self.types is not None:
            held = (self.worker_capacity * (1.0 - self.headroom)).sum(axis=0)
            return self.total.sum(axis=1) / (held * T)
        return self.total.sum(axis=1) / (self.n_workers * self.effective_capacity * T)

    @property
    def counts(self) -> np.ndarray:
        """Shapes per worker, ``(W,)``."""
        return np.bincount(self.assignment, minlength=self.n_workers)

    def _members_index(self) -> tuple[np.ndarray, np.ndarray]:
        """``(order, starts)``: worker w holds shapes ``order[starts[w]:starts[w + 1]]``.

        Built once per plan (a stable argsort, ``O(n log n)``) and kept; built
        again when ``assignment`` or ``n_workers`` is replaced.
        """
        c = self._index
        if c is None or c[0] is not self.assignment or c[1] != self.n_workers:
            c = (self.assignment, self.n_workers) + members_index(self.assignment, self.n_workers)
            self._index = c
        return c[2], c[3]

    def _worker(self, worker: int) -> int:
        if isinstance(worker, (bool, np.bool_)) or not isinstance(worker, (int, np.integer)):
            raise TypeError(f"worker must be an integer, got {worker!r}")
        w = int(worker)
        if not 0 <= w < self.n_workers:
            raise IndexError(f"worker {w} out of range [0, {self.n_workers})")
        return w

    def members(self, worker: int) -> np.ndarray:
        """Ids of the shapes on ``worker``, in input order.

        Raises
        ------
        IndexError
            ``worker`` is not in ``0 .. n_workers - 1``.
        TypeError
            ``worker`` is not an integer.
        """
        order, starts = self._members_index()
        w = self._worker(worker)
        return self.ids[order[starts[w]:starts[w + 1]]]

    def load(self, worker: Optional[int] = None) -> np.ndarray:
        """Per-worker load in float64: ``(W, R, T)`` for every worker, or ``(R, T)`` for one.

        The sum of the shapes on each worker, added again from ``shapes`` and
        ``assignment`` in NumPy (float64), for plots and checks.

        Parameters
        ----------
        worker : int, optional
            One worker, ``0 <= worker < n_workers``; every worker when None.

        Returns
        -------
        ndarray of float64, shape (W, R, T) or (R, T)

        Raises
        ------
        IndexError
            ``worker`` is not in ``0 .. n_workers - 1``.
        TypeError
            ``worker`` is not an integer.

        Notes
        -----
        Cost. ``load()`` is one pass over all shapes, ``O(n R T)`` time, and
        returns ``W * R * T * 8`` bytes (180 MiB for 8,000 workers x 2 x 1440
        steps). ``load(worker)`` reads that worker's m shapes only,
        ``O(m R T)``, from an index of the shapes by worker that the plan builds
        once (``O(n log n)``) and keeps. To plot a few workers call
        ``load(w)`` for each; for all of them call ``load()`` once.

        Examples
        --------
        >>> import numpy as np, pyshape
        >>> plan = pyshape.pack(np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]]), capacity=2.0)
        >>> plan.load().shape, plan.load(0).tolist()
        ((2, 1, 2), [[2.0, 2.0]])
        """
        order, starts = self._members_index()
        if worker is None:
            return worker_loads(self.shapes, self.assignment, self.n_workers, order=order)
        w = self._worker(worker)
        return np.add.reduce(self.shapes[order[starts[w]:starts[w + 1]]], axis=0, dtype=np.float64)

    def verify(self, *, raise_on_error: bool = True) -> VerifyReport:
        """Re-check the plan from scratch, independently of the packing code (float64).

        Checks that every shape is on exactly one worker in ``0 .. n_workers-1``,
        that no worker is empty, and that each worker's summed load is within
        its own effective capacity (its type's, with worker types) at all but
        ``floor(risk * T)`` steps. Loads are compared with a float32 rounding
        allowance of ``(k + 1) * 2**-23 * capacity`` for a worker holding k
        shapes (the packer sums in float32).

        The decision is made in C++ (``src/cpp/pack/verify.hpp``, the same
        code as the C API's ``pyshape_plan_verify``), from the shapes and the
        assignment alone: loads are summed again, never read from the packer.

        Raises
        ------
        InfeasiblePlanError
            When the plan is not feasible and ``raise_on_error`` is true.

        Examples
        --------
        >>> import numpy as np, pyshape
        >>> plan = pyshape.pack(np.ones((3, 4)), capacity=2.0)
        >>> rep = plan.verify()
        >>> rep.ok, rep.steps_over.tolist()
        (True, [0, 0])
        """
        raise_on_error = check_bool(raise_on_error, "raise_on_error")
        n, R, T = self.shapes.shape
        a = np.asarray(self.assignment)
        W = self.n_workers
        problem = ""
        if a.shape != (n,) or a.dtype.kind not in "iu":
            problem = f"assignment must be {n} integers, got {a.dtype} {a.shape}"
        wt = None if self.worker_type is None else np.asarray(self.worker_type)
        if problem or self.types is None:
            pass
        elif wt is None or wt.shape != (W,):
            problem = f"worker_type must have one type per worker ({W}), got {None if wt is None else wt.shape}"
        elif W and not (0 <= wt.min() and wt.max() < self.types.n_types):
            problem = f"worker_type outside [0, {self.types.n_types})"
        if not problem and n and W == 0:
            problem = "shapes but no workers"
        if problem:
            rep = VerifyReport(False, np.zeros(0, np.int64), 0, np.zeros(R), problem)
            if raise_on_error:
                raise InfeasiblePlanError(rep.message)
            return rep
        D = np.ascontiguousarray(self.shapes, dtype=np.float32)
        cap = np.ascontiguousarray(self.worker_capacity, dtype=np.float64)
        ok, over, excess, allowed, message = _core.verify_plan(
            D, a.astype(np.int64, copy=False), W, cap, np.ascontiguousarray(self.headroom, np.float64), self.risk)
        rep = VerifyReport(bool(ok), over, int(allowed), excess, message)
        if not ok and raise_on_error:
            raise InfeasiblePlanError(rep.message)
        return rep

    def replay(self, other_shapes: ArrayLike, *, against: str = "capacity") -> ReplayReport:
        """Evaluate this assignment on another period's shapes of the same workloads.

        Parameters
        ----------
        other_shapes : array_like, shape (n, R, T') or (n, T')
            The same n workloads (same order) and resources; T' may differ.
        against : {'capacity', 'effective'}
            Compare loads with the full capacity (default: real overflow) or
            with the effective capacity (headroom used up).

        Returns
        -------
        ReplayReport

        Examples
        --------
        >>> import numpy as np, pyshape
        >>> plan = pyshape.pack(np.array([[1.0, 0.0], [0.0, 1.0]]), capacity=1.0)
        >>> rep = plan.replay(np.array([[1.0, 1.0], [0.0, 1.0]]))
        >>> rep.workers_over, rep.steps_over.tolist(), rep.max_excess.tolist()
        (1, [1], [1.0])
        >>> rep.over_per_step.tolist(), rep.worker_max_excess.tolist()    # for plots
        ([0, 1], [[1.0]])
        """
        D2 = as_shapes3(other_shapes, "other_shapes")
        n, R, _ = self.shapes.shape
        if D2.shape[0] != n or D2.shape[1] != R:
            raise ValueError(f"other_shapes must be ({n}, {R}, T'), got {D2.shape}")
        if not np.all(np.isfinite(D2)):
            raise ValueError("other_shapes has a NaN or infinite value")
        if against not in ("capacity", "effective"):
            raise ValueError("against must be 'capacity' or 'effective'")
        limit = self.capacity if against == "capacity" else self.effective_capacity
        if self.types is not None:  # each worker against its own type
            limit = self.worker_capacity if against == "capacity" else self.worker_capacity * (1.0 - self.headroom)
        order, _ = self._members_index()
        loads = worker_loads(D2, self.assignment, self.n_workers, order=order)
        over_wt = over_steps(loads, limit, self.counts)  # (W, T')
        over = over_wt.sum(axis=1, dtype=np.int64)
        lim3 = limit[:, :, None] if limit.ndim == 2 else limit[None, :, None]
        excess = loads - lim3
        worker_excess = np.maximum(excess.max(axis=2), 0.0)  # (W, R)
        T2 = D2.shape[2]
        return ReplayReport(
            T=T2,
            steps_over=over,
            workers_over=int((over > 0).sum()),
            overflow_fraction=float(over.sum() / (self.n_workers * T2)),
            max_excess=worker_excess.max(axis=0),
            excess_volume=np.maximum(excess, 0.0).sum(axis=(0, 2)),
            peak_utilisation=(loads.max(axis=(0, 2)) / limit if limit.ndim == 1
                              else (loads / lim3).max(axis=(0, 2), initial=0.0)),
            over_per_step=over_wt.sum(axis=0, dtype=np.int64),
            worker_max_excess=worker_excess,
        )

    def summary(self) -> dict:
        """The measures to report beside every plan, as a dict."""
        return {
            "strategy": self.strategy,
            "n": int(self.shapes.shape[0]),
            "workers": self.n_workers,
            "lower_bound": self.lower_bound,
            "workers / lower_bound": round(self.n_workers / self.lower_bound, 4),
            "peak_workers": self.peak_workers,
            "savings vs peak": round(self.savings, 4),
            "utilisation": [round(float(u), 4) for u in self.utilisation],
            "seconds": round(self.seconds, 4),
        } | ({} if self.types is None else {
            "cost": round(self.cost, 6),
            "cost_lower_bound": round(float(self.cost_lower_bound or 0.0), 6),
            "cost / cost_lower_bound": round(self.cost / self.cost_lower_bound, 4) if self.cost_lower_bound else None,
            "peak_cost": round(float(self.peak_cost or 0.0), 6),
            "types": self.type_counts,
        })
