"""Placement in shards on a Dask cluster: the fleet is dealt into shards by
size (as :func:`pyshape.pack` does in one process), the shards are packed in
parallel (one task each, running the engine's C++ policy ``pack_plan``), then
the least-filled workers of the whole plan are repacked together in a few more
tasks. With a table of worker types every task runs the engine's typed policy
and the plan minimises cost."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Union

import numpy as np
import numpy.typing as npt

from pyshape import _core
from pyshape._validation import INT32_MAX, INT64_MAX, check_int, check_real
from pyshape.dask._common import ArrayLike, as_rows, dask, offsets
from pyshape.dask._pack_tasks import Options, fills, pack_all, pack_rows, stats
from pyshape.packing._checks import (
    DEFAULT_CANDIDATES,
    DEFAULT_EFFORT,
    DEFAULT_IMPROVE,
    DEFAULT_SHARD_SIZE,
    DEFAULT_STRATEGY,
    STRATEGIES,
    check_capacity,
    check_headroom,
    check_ids,
    check_risk,
    check_values,
    effective_capacity,
    raise_too_large,
)
from pyshape.packing._checks import (
    ArrayLike as PackArrayLike,
)
from pyshape.packing.plan import Plan
from pyshape.packing.worker_types import WorkerTypes, as_worker_types

__all__ = ["ShardedPlan", "pack"]


@dataclass
class ShardedPlan:
    """The result of :func:`pack` on a cluster.

    Attributes
    ----------
    assignment : ndarray of int64, shape (n,)
        Worker of every shape, ``0 .. n_workers - 1``.
    n_workers, lower_bound, peak_workers : int
        As in :class:`pyshape.Plan`.
    n_shards : int
    shard_workers : int
        Workers of the shards as packed, before the repack.
    repacked_from, repacked_to : int
        Under-filled workers released by the repack rounds that were kept (a
        round is kept only when it lowers the cost), and the workers their
        shapes took when packed together (summed over those rounds).
    single_machine_workers : int or None
        Workers of ``pyshape.pack`` on all shapes in one task (``compare=True``).
    seconds, shard_seconds : float
        Wall time of the call; the packing time of every shard (list).
    types : WorkerTypes or None
        With worker types (``capacity=WorkerTypes``): the table; ``capacity`` is
        then the largest capacity per resource and ``lower_bound`` the worker
        bound against it, as in :class:`pyshape.Plan`.
    worker_type : ndarray of int64, shape (n_workers,), or None
        With types: every worker's type (a row of ``types``).
    cost, cost_lower_bound, peak_cost : float
        The plan's cost (the sum of its workers' type costs), a lower bound on
        the cost of any plan (:func:`pyshape.packing.cost_lower_bound`) and the
        cost of the peak-based baseline; without types every worker costs 1
        (``n_workers``, ``lower_bound``, ``peak_workers``).
    shard_cost : float
        The cost of the shards' workers before the repack.
    single_machine_cost : float or None
        The cost of the single-machine plan (``compare=True``).
    """

    assignment: np.ndarray
    n_workers: int
    lower_bound: int
    peak_workers: int
    n_shards: int
    shard_workers: int
    repacked_from: int
    repacked_to: int
    strategy: str
    capacity: np.ndarray
    headroom: np.ndarray
    risk: float
    single_machine_workers: Optional[int] = None
    seconds: float = 0.0
    shard_seconds: List[float] = field(default_factory=list, repr=False)
    total: Optional[np.ndarray] = field(default=None, repr=False)
    types: Optional[WorkerTypes] = None
    worker_type: Optional[np.ndarray] = field(default=None, repr=False)
    cost: float = 0.0
    cost_lower_bound: float = 0.0
    peak_cost: float = 0.0
    shard_cost: float = 0.0
    single_machine_cost: Optional[float] = None

    @property
    def excess_over_single_machine(self) -> Optional[float]:
        """``cost / single_machine_cost - 1`` (the workers without types; None without ``compare``)."""
        if self.single_machine_cost is None:
            return None
        return self.cost / self.single_machine_cost - 1.0

    @property
    def type_counts(self) -> Dict[str, int]:
        """Workers per type name in the table's order (unused types at 0); without types
        ``{'worker': n_workers}``."""
        if self.types is None or self.worker_type is None:
            return {"worker": self.n_workers}
        c = np.bincount(self.worker_type, minlength=self.types.n_types)
        return {nm: int(k) for nm, k in zip(self.types.names, c)}

    def summary(self) -> Dict[str, Any]:
        """The figures of the plan as a dict (for reports and the CLI)."""
        out: Dict[str, Any] = {
            "strategy": self.strategy, "workers": self.n_workers, "lower_bound": self.lower_bound,
            "peak_workers": self.peak_workers, "shards": self.n_shards, "shard_workers": self.shard_workers,
            "repacked_from": self.repacked_from, "repacked_to": self.repacked_to,
            "single_machine_workers": self.single_machine_workers, "seconds": round(self.seconds, 3)}
        if self.types is not None:
            out.update({"cost": self.cost, "cost_lower_bound": self.cost_lower_bound, "peak_cost": self.peak_cost,
                        "shard_cost": self.shard_cost, "single_machine_cost": self.single_machine_cost,
                        "type_counts": self.type_counts})
        return out

    def to_plan(self, shapes: npt.ArrayLike, ids: Optional[PackArrayLike] = None) -> Plan:
        """A :class:`pyshape.Plan` over ``shapes`` (in memory) for its reports and ``verify``."""
        D = np.ascontiguousarray(shapes, dtype=np.float32)
        if D.ndim == 2:
            D = D.reshape(D.shape[0], 1, D.shape[1])
        typed = self.types is not None
        return Plan(assignment=self.assignment.copy(), n_workers=self.n_workers, lower_bound=self.lower_bound,
                    peak_workers=self.peak_workers, strategy=self.strategy, capacity=self.capacity,
                    headroom=self.headroom, risk=self.risk, ids=check_ids(ids, D.shape[0]), shapes=D,
                    total=self.total if self.total is not None else D.sum(axis=0, dtype=np.float64),
                    seconds=self.seconds, types=self.types,
                    worker_type=None if self.worker_type is None else self.worker_type.copy(),
                    cost_lower_bound=self.cost_lower_bound if typed else None,
                    peak_cost=self.peak_cost if typed else None)


def size_order(peaks: np.ndarray, eff: np.ndarray) -> np.ndarray:
    """Decreasing size ``max_r peak[i, r] / C_eff[r]`` (float32), ties in input order.

    :func:`pyshape.pack`'s own placement order (``size_order`` in
    src/cpp/pack/policy.cpp), which dealing the shards needs before any shard is
    packed."""
    return _core.size_order(np.ascontiguousarray(peaks, dtype=np.float32),
                            np.ascontiguousarray(eff, dtype=np.float32))


def _rows_of(D: Any, idx: np.ndarray) -> Any:
    """Rows ``idx`` (ascending) of the Dask array: contiguous reads per partition."""
    return D[idx]


def _prefix(order: np.ndarray, counts: np.ndarray, workers: int, shapes: int) -> np.ndarray:
    """The shortest prefix of ``order`` (workers, least filled first) with at least
    ``workers`` workers and holding at least ``shapes`` shapes (all when fewer)."""
    m = int(np.searchsorted(np.cumsum(counts[order]), shapes, side="left")) + 1 if shapes > 0 else 0
    return order[:min(max(workers, m), order.size)]


def _cost(worker_cost: np.ndarray) -> float:
    """Costs added in worker order (as :attr:`pyshape.Plan.cost` and the C++ policy add them)."""
    return float(np.cumsum(worker_cost)[-1]) if worker_cost.size else 0.0


def pack(shapes: ArrayLike, capacity: Union[float, PackArrayLike, WorkerTypes], strategy: str = DEFAULT_STRATEGY,
         *, ids: Optional[PackArrayLike] = None, headroom: Union[float, PackArrayLike] = 0.0, risk: float = 0.0,
         candidates: int = DEFAULT_CANDIDATES, improve: int = DEFAULT_IMPROVE, effort: float = DEFAULT_EFFORT,
         shard_size: int = DEFAULT_SHARD_SIZE, n_shards: Optional[int] = None, repack: int = 4,
         repack_shapes: Optional[int] = None, repack_rounds: int = 3, compare: bool = False,
         chunk_rows: Optional[int] = None) -> ShardedPlan:
    """Pack shapes onto workers with the shards packed in parallel on a Dask cluster.

    The shards are those of :func:`pyshape.pack`: the shapes in decreasing
    size (``max_r peak / capacity``) dealt round-robin into ``n_shards``
    shards (default ``ceil(n / shard_size)``), so every shard has the same mix
    of sizes. Each shard is one task that runs the engine's policy
    (``pack_plan``, the C++ code behind :func:`pyshape.pack` and the C API) on
    its shapes, so with ``repack=0, repack_shapes=0`` the plan is exactly
    ``pyshape.pack(shapes, ..., shard_size=shard_size)``'s (without worker
    types); the peak-based baseline and the lower bound are the engine's too.

    A shard packs worse than the whole fleet would: its tail workers are partly
    empty, and it has fewer partners to pair each large shape with (on the
    Bitbrains VM-days, 8 shards of 937 shapes take 5% more workers than one).
    So the under-filled workers of all shards are then released and their
    shapes packed together (the engine's policy again, in one task), kept when
    that lowers the cost: in the first round the ``repack`` least-filled
    workers of every shard and the least-filled workers of the whole plan
    until they hold ``repack_shapes`` shapes (one shard's share by default);
    each further round releases the least-filled workers of the whole plan,
    twice as many workers and shapes as the round before. A worker's fill is
    the largest over resources of its mean load over its capacity.

    Parameters
    ----------
    shapes : dask.array.Array or array_like, shape (n, R, T) or (n, T)
    capacity : float, array_like of shape (R,), or WorkerTypes
        As in :func:`pyshape.pack`: with a table of worker types (or a
        DataFrame :meth:`~pyshape.packing.WorkerTypes.from_frame` reads) every
        shard and repack task runs the engine's typed policy, a repack round
        is kept when it lowers the total cost, and the plan reports
        ``worker_type``, ``type_counts``, ``cost``, ``cost_lower_bound`` and
        ``peak_cost``. Shards are dealt by size against the largest capacity
        per resource; a table of one type gives the plan of that capacity.
    strategy, ids, headroom, risk, candidates, improve, effort
        As in :func:`pyshape.pack`.
    shard_size : int
        Shapes per shard (default: that of :func:`pyshape.pack`; 0: one shard).
    n_shards : int, optional
        Overrides ``shard_size`` (e.g. the number of Dask workers).
    repack : int, default 4
        Least-filled workers per shard released in the first repack round (0: none).
    repack_shapes : int, optional
        Shapes the first repack round releases at least, from the least-filled
        workers of the whole plan (default ``ceil(n / n_shards)``, one shard's
        share; 0: none). The last round's task holds about
        ``2 ** (repack_rounds - 1)`` times as many shapes (4 shards' worth by
        default), or the shapes of ``2 ** (repack_rounds - 1) * repack *
        n_shards`` workers when that is more.
    repack_rounds : int, default 3
        Repack rounds, one task each (with one shard none: it is the
        single-machine plan).
    compare : bool
        Also pack all shapes in one task (the single-machine plan) and report
        its workers and cost in ``single_machine_workers`` /
        ``single_machine_cost``; needs them in one task's memory.
    chunk_rows : int, optional
        Rows per partition of a NumPy input (re-partitions a Dask array too).

    Returns
    -------
    ShardedPlan

    Raises
    ------
    ValueError, TypeError, ShapeTooLargeError, DuplicateIdError
        As :func:`pyshape.pack` (a shape too large fits no worker type).
    """
    t0 = time.perf_counter()
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    D = as_rows(shapes, "shapes", chunk_rows, ndim=(2, 3))
    if D.ndim == 2:
        D = D[:, None, :]
    n, R, T = (int(s) for s in D.shape)
    types = as_worker_types(capacity, R)
    cap = types.capacity if types is not None else check_capacity(capacity, R)  # type: ignore[arg-type]
    head = check_headroom(headroom, R)
    eps = check_risk(risk)
    if strategy == "peak" and eps > 0:
        raise ValueError("the peak strategy reserves peaks: risk must be 0")
    ident = check_ids(ids, n)
    eff = np.stack([effective_capacity(row, head) for row in np.atleast_2d(cap)])  # (n_types or 1, R) float32
    opts = Options(capacity=cap, headroom=head, strategy=strategy, risk=eps,
                   candidates=check_int(candidates, "candidates", 0, INT32_MAX),
                   improve=check_int(improve, "improve", 0, INT32_MAX),
                   effort=check_real(effort, "effort", 0.0, 1e6), eff=eff,
                   cost=None if types is None else types.cost, types=types)
    repack = check_int(repack, "repack", 0)
    rounds = check_int(repack_rounds, "repack_rounds", 1)
    shard = check_int(shard_size, "shard_size", 0, INT64_MAX)
    if n_shards is None:
        S = 1 if shard == 0 else math.ceil(n / shard)
    else:
        S = check_int(n_shards, "n_shards", 1, n)
    budget = math.ceil(n / S) if repack_shapes is None else check_int(repack_shapes, "repack_shapes", 0)
    effmax = eff.max(axis=0)  # the size of a shape: against the largest capacity per resource (as the engine)

    # one pass over the partitions (C++ pack_stats): peaks, total demand, the data's problems
    st = dask.compute(*[dask.delayed(stats)(b) for b in D.to_delayed().ravel()])
    peaks = np.ascontiguousarray(np.concatenate([s[0] for s in st]), dtype=np.float32)
    total = np.sum([s[1] for s in st], axis=0)
    vols = np.concatenate([s[4] for s in st])
    row0 = offsets(D.chunks[0])
    nonfinite = next((int(row0[b] + s[2]) for b, s in enumerate(st) if s[2] >= 0), -1)
    negative = next((int(row0[b] + s[3]) for b, s in enumerate(st) if s[3] >= 0), -1)
    check_values(nonfinite, negative, ident)
    # too large: above every type's effective capacity in some resource (one row without types)
    fits_type = np.all(peaks[:, None, :] <= eff[None, :, :], axis=2)  # (n, n_types)
    too = np.flatnonzero(~np.any(fits_type, axis=1))
    if types is None:
        raise_too_large(too, eff[0], ident)
    else:
        raise_too_large(too, cap * (1.0 - head), ident, types.names)
    # the engine's peak-based baseline: its policy on the peaks (one-step shapes), sharded as it shards
    base = _core.pack_plan(peaks.reshape(n, R, 1), cap, head, "peak", risk=0.0, candidates=opts.candidates,
                           improve=opts.improve, shard_size=shard, n_threads=1, **opts.typed())
    peak_w = int(base[1])
    lb = int(_core.lower_bound(total, effmax.astype(np.float64), eps))
    if types is None:
        peak_cost, cost_lb = float(peak_w), float(lb)
    else:
        peak_cost = float(base[11])
        cost_lb = float(_core.cost_lower_bound(total, eff.astype(np.float64), types.cost, eps, peaks))

    order = size_order(peaks, effmax)
    shards = [np.sort(order[j::S]) for j in range(S)]  # rows in input order: the task's policy sorts them
    task = dask.delayed(pack_rows, pure=True)
    jobs = [task(_rows_of(D, idx), opts) for idx in shards]
    if compare:
        jobs.append(dask.delayed(pack_all, pure=True)(D, opts))
    got = dask.compute(*jobs)
    single = got[-1] if compare else None
    parts = got[:S]

    assignment = np.empty(n, dtype=np.int64)
    wtypes: List[np.ndarray] = []
    off = 0
    release: List[int] = []  # global worker ids of the least-filled workers of every shard
    for idx, (a, wt, fill, _) in zip(shards, parts):
        assignment[idx] = a + off
        wtypes.append(wt)
        if repack and S > 1:  # one shard is the single-machine plan already
            release.extend((np.argsort(fill, kind="stable")[:repack] + off).tolist())
        off += wt.size
    worker_type = np.concatenate(wtypes)
    shard_workers = n_workers = off
    shard_cost = _cost(opts.worker_cost(worker_type))
    repacked_from = repacked_to = 0
    size, shapes_min = len(release), budget
    for rnd in range(rounds if S > 1 and (size or budget) else 0):
        # the least-filled workers of the whole plan: at least `size` workers holding `shapes_min` shapes
        least = np.argsort(fills(assignment, worker_type, vols, opts, T), kind="stable")
        counts = np.bincount(assignment, minlength=n_workers)
        sel = _prefix(least, counts, 0 if rnd == 0 else size, shapes_min)
        rel = np.union1d(np.asarray(release, dtype=np.int64), sel) if rnd == 0 else sel
        covered = rel.size >= n_workers  # every worker released: no later round can differ
        if rel.size > 1:
            idx = np.flatnonzero(np.isin(assignment, rel))
            a, wt, _, _ = dask.compute(task(_rows_of(D, idx), opts))[0]
            old, new = opts.worker_cost(worker_type[rel]).sum(), opts.worker_cost(wt).sum()
            if new < old * (1.0 - 1e-12):  # kept only when it lowers the cost (fewer workers without types)
                keep = np.setdiff1d(np.arange(n_workers), rel)
                renum = np.full(n_workers, -1, dtype=np.int64)
                renum[keep] = np.arange(keep.size)
                assignment = renum[assignment]
                assignment[idx] = a + keep.size
                worker_type = np.concatenate([worker_type[keep], wt])
                n_workers = int(keep.size + wt.size)
                repacked_from += int(rel.size)
                repacked_to += int(wt.size)
        if covered:
            break
        size, shapes_min = 2 * size, 2 * shapes_min
    return ShardedPlan(assignment=assignment, n_workers=int(n_workers), lower_bound=lb, peak_workers=peak_w,
                       n_shards=S, shard_workers=int(shard_workers),
                       repacked_from=int(repacked_from), repacked_to=int(repacked_to),
                       strategy=strategy, capacity=cap if types is None else cap.max(axis=0), headroom=head,
                       risk=eps, single_machine_workers=None if single is None else int(single[0]),
                       seconds=time.perf_counter() - t0, shard_seconds=[float(g[3]) for g in parts], total=total,
                       types=types, worker_type=None if types is None else worker_type,
                       cost=_cost(opts.worker_cost(worker_type)), cost_lower_bound=cost_lb, peak_cost=peak_cost,
                       shard_cost=shard_cost, single_machine_cost=None if single is None else float(single[1]))
