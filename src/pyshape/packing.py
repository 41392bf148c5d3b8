"""Placement: pack workload shapes onto as few workers as possible.

This module is ``pyshape.packing``: :func:`pack`, :class:`Plan`, its reports
and :func:`lower_bound`. The package exports ``pyshape.pack`` (the function)
and ``pyshape.Plan``; the online :class:`pyshape.Placer` lives in
:mod:`pyshape.placer`.

A plan is feasible when, for every worker, resource and step, the summed
demand of the workloads on it is at most the worker's (effective) capacity, or,
with a risk budget ``risk = eps``, when every worker exceeds it in at most
``floor(eps * T)`` steps. Workloads whose peaks do not coincide can share a
worker that could not hold all their peaks at once: that is the saving over
request-based (peak) placement.

Strategies (all place shapes one by one in decreasing size, where the size of
shape i is ``max_r peak[i, r] / C[r]``, ties kept in input order):

``'peak'``
    The request-based baseline: every workload reserves its peak for all time;
    first-fit decreasing on the peak vectors (vector bin packing).
``'first_fit'``
    Temporal first-fit decreasing: the first worker (in opening order) where
    the shape fits at every step.
``'best_fit'``
    Temporal best-fit decreasing: among the workers where it fits, the fullest
    (largest sum over resources of load volume / capacity).
``'complement'`` (default)
    Correlation-aware: among the first ``candidates`` workers where it fits,
    the one whose peak rises least (sum over resources of peak rise /
    capacity): a shape that fills another's valleys adds nothing to its peak.
    Ties go to the worker whose load is most anti-correlated with the shape
    (smallest covariance), then to the older worker. Then ``improve`` drain
    passes try to empty the emptiest workers by moving all of their shapes
    to others. Candidate pruning (per-worker block maxima and minima in a
    segment tree, see ``src/cpp/pack/fleet.hpp``) keeps the exact SIMD fit
    check to a few workers per shape.

Examples
--------
>>> import numpy as np, pyshape
>>> t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
>>> day, night = 1 + np.sin(t), 1 - np.sin(t)        # peaks 2, never at once
>>> plan = pyshape.pack(np.stack([day, night]), capacity=2.0)
>>> plan.n_workers, plan.peak_workers, plan.lower_bound
(1, 2, 1)
>>> plan.verify().ok
True
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence, Union

import numpy as np

from pyshape import _core
from pyshape._pack_check import F32_UNIT, as_shapes3, members_index, over_steps, steps_over, worker_loads
from pyshape._progress import ProgressArg, progress_callback
from pyshape._system import resolve_threads

__all__ = [
    "STRATEGIES",
    "DuplicateIdError",
    "FleetFullError",
    "InfeasiblePlanError",
    "Plan",
    "ReplayReport",
    "ShapeTooLargeError",
    "UnknownIdError",
    "VerifyReport",
    "lower_bound",
    "pack",
]

#: Strategies accepted by :func:`pack` (and, except ``'peak'``, by :class:`pyshape.Placer`).
STRATEGIES = ("complement", "first_fit", "best_fit", "peak")
DEFAULT_STRATEGY = "complement"
DEFAULT_CANDIDATES = 8
DEFAULT_IMPROVE = 2
#: Shapes per shard above which the placement is split into independent shards.
DEFAULT_SHARD_SIZE = 32768

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


# --------------------------------------------------------------------------- input checks
def _capacity(capacity, R: int) -> np.ndarray:
    c = np.atleast_1d(np.asarray(capacity, dtype=np.float64))
    if c.ndim != 1:
        raise ValueError(f"capacity must be a number or one value per resource, got shape {c.shape}")
    if c.size == 1 and R > 1:
        c = np.repeat(c, R)
    if c.size != R:
        raise ValueError(f"capacity has {c.size} values but the shapes have R={R} resources")
    if not np.all(np.isfinite(c)) or np.any(c <= 0):
        raise ValueError(f"capacity must be positive and finite, got {c.tolist()}")
    f32 = np.finfo(np.float32)  # loads and capacities are float32 in the packers
    if np.any(c < f32.tiny) or np.any(c > f32.max):
        raise ValueError(f"capacity must be within the float32 range [{f32.tiny:.4g}, {f32.max:.4g}], got {c.tolist()}")
    return c


def _headroom(headroom, R: int) -> np.ndarray:
    h = np.atleast_1d(np.asarray(headroom, dtype=np.float64))
    if h.size == 1:
        h = np.repeat(h, R)
    if h.ndim != 1 or h.size != R:
        raise ValueError(f"headroom must be a number or one value per resource (R={R}), got shape {h.shape}")
    if not np.all((h >= 0) & (h < 1)):
        raise ValueError(f"headroom is a fraction of capacity in [0, 1), got {h.tolist()}")
    return h


def _risk(risk) -> float:
    r = float(risk)
    if not (0.0 <= r < 1.0):
        raise ValueError(f"risk is a fraction of steps in [0, 1), got {risk}")
    return r


def _ids(ids, n: int) -> np.ndarray:
    if ids is None:
        return np.arange(n)
    a = np.asarray(ids)
    if a.ndim != 1 or a.shape[0] != n:
        raise ValueError(f"ids must have one entry per shape ({n}), got shape {a.shape}")
    uniq, counts = np.unique(a, return_counts=True)
    if uniq.size != n:
        dup = uniq[counts > 1]
        raise DuplicateIdError(f"{dup.size} duplicate id(s), e.g. {dup[:5].tolist()}")
    return a


def _effective(capacity: np.ndarray, headroom: np.ndarray) -> np.ndarray:
    return (capacity * (1.0 - headroom)).astype(np.float32)


def _check_values(nonfinite: int, negative: int, ids: np.ndarray) -> None:
    if nonfinite >= 0:
        raise ValueError(f"shape {ids[nonfinite]!r} (row {nonfinite}) has a NaN or infinite value")
    if negative >= 0:
        raise ValueError(f"shape {ids[negative]!r} (row {negative}) has a negative value")


def _check_peaks(peaks: np.ndarray, eff: np.ndarray, ids: np.ndarray) -> None:
    too = np.flatnonzero((peaks > eff[None, :]).any(axis=1))
    if too.size:
        shown = ", ".join(repr(ids[i].item() if hasattr(ids[i], "item") else ids[i]) for i in too[:10])
        more = f" and {too.size - 10} more" if too.size > 10 else ""
        err = ShapeTooLargeError(
            f"{too.size} shape(s) peak above the effective capacity {eff.tolist()} of an empty worker: "
            f"ids {shown}{more}. Nothing was placed; use bigger workers, less headroom, or split them."
        )
        err.ids = ids[too]
        err.rows = too
        raise err


def _order(peaks: np.ndarray, eff: np.ndarray) -> np.ndarray:
    """Decreasing size ``max_r peak[i, r] / C[r]``, ties in input order."""
    key = (peaks / eff[None, :]).max(axis=1)
    return np.argsort(-key, kind="stable").astype(np.int64)


def lower_bound(total: np.ndarray, capacity: np.ndarray) -> int:
    """``max_r ceil(max_t total[r, t] / C[r])`` (at least 1), with a float32-rounding allowance.

    Parameters
    ----------
    total : ndarray, shape (R, T)
        Summed demand of all shapes.
    capacity : ndarray, shape (R,)
        Capacity per resource.

    Examples
    --------
    >>> import numpy as np
    >>> from pyshape.packing import lower_bound
    >>> lower_bound(np.array([[3.0, 5.0], [1.0, 1.0]]), np.array([2.0, 4.0]))
    3
    """
    ratio = (np.asarray(total, np.float64).max(axis=1) / np.asarray(capacity, np.float64)).max()
    return max(1, int(math.ceil(ratio * (1 - 4 * F32_UNIT))))


# --------------------------------------------------------------------------- results
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


@dataclass(eq=False)
class Plan:
    """An assignment of shapes to workers, with the measures to judge it.

    Attributes
    ----------
    assignment : ndarray of int64, shape (n,)
        Worker of every shape, in ``0 .. n_workers - 1`` (numbered in order of
        opening). Read-only in plans made by :func:`pack`: for another
        assignment make another plan (``dataclasses.replace(plan, assignment=a)``).
    n_workers : int
    lower_bound : int
        ``max_r ceil(max_t sum_i D[i, r, t] / C[r])`` with the effective capacity.
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
    # (assignment, n_workers, order, starts): shapes by worker, see _members_index
    _index: Optional[tuple] = field(default=None, init=False, repr=False, compare=False)

    @property
    def effective_capacity(self) -> np.ndarray:
        return self.capacity * (1.0 - self.headroom)

    @property
    def savings(self) -> float:
        """``1 - n_workers / peak_workers``: the fraction of workers saved over peak-based placement."""
        return 1.0 - self.n_workers / self.peak_workers

    @property
    def utilisation(self) -> np.ndarray:
        """Per resource: mean demand over the capacity of the workers used (``(R,)``, in [0, 1])."""
        T = self.total.shape[1]
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

    def _worker(self, worker) -> int:
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
        """Re-check the plan from scratch, independently of the packing code (NumPy, float64).

        Checks that every shape is on exactly one worker in ``0 .. n_workers-1``,
        that no worker is empty, and that each worker's summed load is within
        the effective capacity at all but ``floor(risk * T)`` steps. Loads
        are compared with a float32 rounding allowance of
        ``(k + 1) * 2**-23 * capacity`` for a worker holding k shapes (the
        packer sums in float32).

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
        n, R, T = self.shapes.shape
        a = np.asarray(self.assignment)
        problems = []
        if a.shape != (n,) or a.dtype.kind not in "iu":
            problems.append(f"assignment must be {n} integers, got {a.dtype} {a.shape}")
            rep = VerifyReport(False, np.zeros(0, np.int64), 0, np.zeros(R), "; ".join(problems))
            if raise_on_error:
                raise InfeasiblePlanError(rep.message)
            return rep
        if n and (a.min() < 0 or a.max() >= self.n_workers):
            problems.append(f"assignment outside [0, {self.n_workers})")
            a = np.clip(a, 0, max(self.n_workers - 1, 0))
        counts = np.bincount(a, minlength=self.n_workers)
        if (counts == 0).any():
            problems.append(f"{int((counts == 0).sum())} empty worker(s)")
        loads = worker_loads(self.shapes, a, self.n_workers)
        limit = self.effective_capacity
        over, excess = steps_over(loads, limit, counts)
        allowed = int(math.floor(self.risk * T + 1e-9))
        bad = np.flatnonzero(over > allowed)
        if bad.size:
            problems.append(
                f"{bad.size} worker(s) over capacity at more than {allowed} step(s), e.g. worker {int(bad[0])} "
                f"at {int(over[bad[0]])} step(s); largest excess {excess.tolist()}"
            )
        rep = VerifyReport(not problems, over.astype(np.int64), allowed, excess, "; ".join(problems))
        if problems and raise_on_error:
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
        order, _ = self._members_index()
        loads = worker_loads(D2, self.assignment, self.n_workers, order=order)
        over_wt = over_steps(loads, limit, self.counts)  # (W, T')
        over = over_wt.sum(axis=1, dtype=np.int64)
        excess = loads - limit[None, :, None]
        worker_excess = np.maximum(excess.max(axis=2), 0.0)  # (W, R)
        T2 = D2.shape[2]
        return ReplayReport(
            T=T2,
            steps_over=over,
            workers_over=int((over > 0).sum()),
            overflow_fraction=float(over.sum() / (self.n_workers * T2)),
            max_excess=worker_excess.max(axis=0),
            excess_volume=np.maximum(excess, 0.0).sum(axis=(0, 2)),
            peak_utilisation=loads.max(axis=(0, 2)) / limit,
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
        }


# --------------------------------------------------------------------------- pack
def pack(
    shapes: ArrayLike,
    capacity,
    strategy: str = DEFAULT_STRATEGY,
    *,
    ids: Optional[ArrayLike] = None,
    headroom=0.0,
    risk: float = 0.0,
    candidates: int = DEFAULT_CANDIDATES,
    improve: int = DEFAULT_IMPROVE,
    shard_size: int = DEFAULT_SHARD_SIZE,
    n_threads: Optional[int] = None,
    progress: ProgressArg = False,
) -> Plan:
    """Assign every shape to a worker so that no worker exceeds its capacity, using few workers.

    Parameters
    ----------
    shapes : array_like, shape (n, R, T) or (n, T)
        Non-negative, finite demand of n workloads on R resources over T steps
        (float32 C-contiguous input is used without a copy).
    capacity : float or array_like, shape (R,)
        Capacity of a worker per resource (one number: the same for all).
    strategy : {'complement', 'first_fit', 'best_fit', 'peak'}
        See the module docstring. Default ``'complement'``.
    ids : array_like, shape (n,), optional
        Unique ids of the workloads (default ``0 .. n-1``), used in messages.
    headroom : float or array_like, shape (R,)
        Safety margin per resource as a fraction of capacity: plans are made
        against ``capacity * (1 - headroom)``.
    risk : float
        Risk budget ``eps`` in [0, 1): a worker may exceed its capacity in at
        most ``floor(eps * T)`` steps. 0 (default) is exact. Candidate
        pruning is off when ``floor(eps * T) > 0`` (slower).
    candidates : int
        ``'complement'`` only: fitting workers compared per shape (0: all).
    improve : int
        ``'complement'`` only: drain passes after construction (0: none).
    shard_size : int
        Above this many shapes the size order is dealt round-robin into
        ``ceil(n / shard_size)`` shards that are packed independently (in
        parallel) and whose workers are concatenated: each shard sees the
        same mix of sizes, so the cost in workers is small (at most about
        one partly filled worker per shard), and time grows linearly with n.
        0: one shard. The shards depend on n only, never on the threads.
    n_threads : int, optional
        Threads for the input pass (peaks, totals, checks) and for the
        shards. Placement within a shard is sequential, so plans never
        depend on the thread count.
    progress : bool or callable, optional
        True for a progress bar on stderr, or a callable ``f(done, total)``.

    Returns
    -------
    Plan

    Raises
    ------
    ValueError
        Empty input, wrong dimensions, NaN / infinite or negative demand,
        bad capacity, headroom, risk or strategy, mismatched resources.
    ShapeTooLargeError
        Some shape's peak exceeds the effective capacity; ``err.ids`` lists
        them all (nothing is dropped: every shape is placed or reported).
    DuplicateIdError
        Repeated ids.

    Examples
    --------
    >>> import numpy as np, pyshape
    >>> t = np.arange(48)
    >>> day = 1.0 + (t % 24 < 12)                       # 2 by day, 1 by night
    >>> night = 1.0 + (t % 24 >= 12)
    >>> X = np.stack([day, night] * 4)                   # 8 shapes, peak 2 each
    >>> plan = pyshape.pack(X, capacity=6.0)
    >>> plan.n_workers, plan.peak_workers, plan.lower_bound
    (2, 3, 2)
    >>> plan.verify().ok
    True
    """
    t0 = time.perf_counter()
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    D = as_shapes3(shapes)
    n, R, T = D.shape
    cap = _capacity(capacity, R)
    head = _headroom(headroom, R)
    eps = _risk(risk)
    if strategy == "peak" and eps > 0:
        raise ValueError("the peak strategy reserves peaks: risk must be 0")
    ident = _ids(ids, n)
    cand = int(candidates)
    imp = int(improve)
    shard = int(shard_size)
    if cand < 0 or imp < 0 or shard < 0:
        raise ValueError("candidates, improve and shard_size must be non-negative")
    nt = resolve_threads(n_threads)
    eff = _effective(cap, head)
    peaks, total, nonfinite, negative = _core.pack_stats(D, nt)
    _check_values(nonfinite, negative, ident)
    _check_peaks(peaks, eff, ident)
    order = _order(peaks, eff)
    peak_shapes = np.ascontiguousarray(peaks.reshape(n, R, 1))
    peak_assign, peak_w = _core.pack(peak_shapes, eff, order, "first_fit", 0.0, 1, 0)
    if strategy == "peak":
        assign, W = peak_assign, peak_w
    else:
        with progress_callback(progress, f"pack ({strategy})") as cb:
            c_imp = imp if strategy == "complement" else 0
            assign, W = _core.pack(D, eff, order, strategy, eps, cand, c_imp, shard, nt, cb)
    assign.flags.writeable = False  # the plan's index of shapes by worker is built from it once
    return Plan(
        assignment=assign,
        n_workers=int(W),
        lower_bound=lower_bound(total, eff),
        peak_workers=int(peak_w),
        strategy=strategy,
        capacity=cap,
        headroom=head,
        risk=eps,
        ids=ident,
        shapes=D,
        total=total,
        seconds=time.perf_counter() - t0,
    )
