"""Placement in shards on a Dask cluster: the fleet is dealt into shards by
size (as :func:`pyshape.pack` does in one process), the shards are packed in
parallel (one task each, running the engine's C++ policy ``pack_plan``), then
the least-filled workers of all shards are repacked together in one more task."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np
import numpy.typing as npt

from pyshape import _core
from pyshape._validation import INT32_MAX, INT64_MAX, check_int, check_real
from pyshape.dask._common import ArrayLike, aligned, as_rows, dask, offsets
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
        round is kept only when it saves workers), and the workers their shapes
        took when packed together (summed over those rounds).
    single_machine_workers : int or None
        Workers of ``pyshape.pack`` on all shapes in one task (``compare=True``).
    seconds, shard_seconds : float
        Wall time of the call; the packing time of every shard (list).
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

    @property
    def excess_over_single_machine(self) -> Optional[float]:
        """``n_workers / single_machine_workers - 1`` (None without ``compare``)."""
        if self.single_machine_workers is None:
            return None
        return self.n_workers / self.single_machine_workers - 1.0

    def summary(self) -> Dict[str, Any]:
        """The figures of the plan as a dict (for reports and the CLI)."""
        return {"strategy": self.strategy, "workers": self.n_workers, "lower_bound": self.lower_bound,
                "peak_workers": self.peak_workers, "shards": self.n_shards, "shard_workers": self.shard_workers,
                "repacked_from": self.repacked_from, "repacked_to": self.repacked_to,
                "single_machine_workers": self.single_machine_workers, "seconds": round(self.seconds, 3)}

    def to_plan(self, shapes: npt.ArrayLike, ids: Optional[PackArrayLike] = None) -> Plan:
        """A :class:`pyshape.Plan` over ``shapes`` (in memory) for its reports and ``verify``."""
        D = np.ascontiguousarray(shapes, dtype=np.float32)
        if D.ndim == 2:
            D = D.reshape(D.shape[0], 1, D.shape[1])
        return Plan(assignment=self.assignment.copy(), n_workers=self.n_workers, lower_bound=self.lower_bound,
                    peak_workers=self.peak_workers, strategy=self.strategy, capacity=self.capacity,
                    headroom=self.headroom, risk=self.risk, ids=check_ids(ids, D.shape[0]), shapes=D,
                    total=self.total if self.total is not None else D.sum(axis=0, dtype=np.float64),
                    seconds=self.seconds)


def size_order(peaks: np.ndarray, eff: np.ndarray) -> np.ndarray:
    """Decreasing size ``max_r peak[i, r] / C_eff[r]`` (float32), ties in input order.

    :func:`pyshape.pack`'s own placement order (``size_order`` in
    src/cpp/pack/policy.cpp), which dealing the shards needs before any shard is
    packed."""
    return _core.size_order(np.ascontiguousarray(peaks, dtype=np.float32),
                            np.ascontiguousarray(eff, dtype=np.float32))


def _stats(block: np.ndarray) -> Tuple[np.ndarray, np.ndarray, int, int, np.ndarray]:
    """A partition's peaks, total, problems (C++ ``pack_stats``) and every shape's
    volume per resource (float64: what the repack ranks workers by)."""
    D = aligned(block)
    if D.shape[0] == 0:
        return (np.empty((0, D.shape[1]), np.float32), np.zeros(D.shape[1:], np.float64), -1, -1,
                np.empty((0, D.shape[1]), np.float64))
    return (*_core.pack_stats(D, 1), D.sum(axis=2, dtype=np.float64))


def _pack_rows(rows: np.ndarray, opts: "_Options") -> Tuple[np.ndarray, int, np.ndarray, float]:
    """Pack the rows (ascending global index) as one shard with the engine's
    policy (``_core.pack_plan``, shard_size 0: its size order, strategy,
    improve and search rules). Returns the worker of every row, the worker
    count, every worker's fill (largest over resources of its mean load /
    capacity) and the seconds."""
    t0 = time.perf_counter()
    D = aligned(rows)
    assign, W = _core.pack_plan(D, opts.capacity, opts.headroom, opts.strategy, risk=opts.risk,
                                candidates=opts.candidates, improve=opts.improve, shard_size=0, n_threads=1,
                                effort=opts.effort)[:2]
    assert assign is not None  # the data was checked on all shapes before
    assign = np.asarray(assign, dtype=np.int64)
    fill = _fills(assign, int(W), D.sum(axis=2, dtype=np.float64), opts, D.shape[2])
    return assign, int(W), fill, time.perf_counter() - t0


def _fills(assign: np.ndarray, W: int, vols: np.ndarray, opts: "_Options", T: int) -> np.ndarray:
    """Every worker's fill: the largest over resources of its mean load / capacity."""
    eff = effective_capacity(opts.capacity, opts.headroom).astype(np.float64)
    vol = np.stack([np.bincount(assign, weights=vols[:, r], minlength=W) for r in range(vols.shape[1])], axis=1)
    return (vol / (eff[None, :] * T)).max(axis=1)


def _pack_all(rows: np.ndarray, opts: "_Options") -> int:
    import pyshape

    return pyshape.pack(np.asarray(rows), opts.capacity, opts.strategy, headroom=opts.headroom, risk=opts.risk,
                        candidates=opts.candidates, improve=opts.improve, shard_size=DEFAULT_SHARD_SIZE,
                        effort=opts.effort, n_threads=1).n_workers


@dataclass(frozen=True)
class _Options:
    """What every shard task packs with (the request of ``pyshape.pack``)."""

    capacity: np.ndarray
    headroom: np.ndarray
    strategy: str
    risk: float
    candidates: int
    improve: int
    effort: float


def _rows_of(D: Any, idx: np.ndarray) -> Any:
    """Rows ``idx`` (ascending) of the Dask array: contiguous reads per partition."""
    return D[idx]


def pack(shapes: ArrayLike, capacity: Union[float, PackArrayLike], strategy: str = DEFAULT_STRATEGY, *,
         ids: Optional[PackArrayLike] = None, headroom: Union[float, PackArrayLike] = 0.0, risk: float = 0.0,
         candidates: int = DEFAULT_CANDIDATES, improve: int = DEFAULT_IMPROVE, effort: float = DEFAULT_EFFORT,
         shard_size: int = DEFAULT_SHARD_SIZE, n_shards: Optional[int] = None, repack: int = 4,
         repack_rounds: int = 3, compare: bool = False, chunk_rows: Optional[int] = None) -> ShardedPlan:
    """Pack shapes onto workers with the shards packed in parallel on a Dask cluster.

    The shards are those of :func:`pyshape.pack`: the shapes in decreasing
    size (``max_r peak / capacity``) dealt round-robin into ``n_shards``
    shards (default ``ceil(n / shard_size)``), so every shard has the same mix
    of sizes. Each shard is one task that runs the engine's policy
    (``pack_plan``, the C++ code behind :func:`pyshape.pack` and the C API) on
    its shapes, so with ``repack=0`` the plan is exactly ``pyshape.pack(shapes,
    ..., shard_size=shard_size)``'s; the peak-based baseline and the lower
    bound are the engine's too. Then the ``repack`` least-filled workers of
    every shard (a shard's last workers hold its smallest shapes and are partly
    empty) are released and their shapes packed together in one more task
    (the engine's policy again), kept if it takes fewer workers; further
    rounds release the least-filled workers of the whole plan, twice as many
    each round.

    Parameters
    ----------
    shapes : dask.array.Array or array_like, shape (n, R, T) or (n, T)
    capacity, strategy, ids, headroom, risk, candidates, improve, effort
        As in :func:`pyshape.pack`.
    shard_size : int
        Shapes per shard (default: that of :func:`pyshape.pack`; 0: one shard).
    n_shards : int, optional
        Overrides ``shard_size`` (e.g. the number of Dask workers).
    repack : int, default 4
        Least-filled workers per shard to repack together (0: none).
    repack_rounds : int, default 3
        Repack rounds (the first per shard, then over the whole plan with the
        released count doubled each round); each is one task.
    compare : bool
        Also pack all shapes in one task (the single-machine plan) and report
        its workers in ``single_machine_workers``; needs them in one task's memory.
    chunk_rows : int, optional
        Rows per partition of a NumPy input (re-partitions a Dask array too).

    Returns
    -------
    ShardedPlan
    """
    t0 = time.perf_counter()
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    D = as_rows(shapes, "shapes", chunk_rows, ndim=(2, 3))
    if D.ndim == 2:
        D = D[:, None, :]
    n, R, T = (int(s) for s in D.shape)
    cap = check_capacity(capacity, R)
    head = check_headroom(headroom, R)
    eps = check_risk(risk)
    if strategy == "peak" and eps > 0:
        raise ValueError("the peak strategy reserves peaks: risk must be 0")
    ident = check_ids(ids, n)
    opts = _Options(capacity=cap, headroom=head, strategy=strategy, risk=eps,
                    candidates=check_int(candidates, "candidates", 0, INT32_MAX),
                    improve=check_int(improve, "improve", 0, INT32_MAX),
                    effort=check_real(effort, "effort", 0.0, 1e6))
    repack = check_int(repack, "repack", 0)
    rounds = check_int(repack_rounds, "repack_rounds", 1)
    shard = check_int(shard_size, "shard_size", 0, INT64_MAX)
    if n_shards is None:
        S = 1 if shard == 0 else math.ceil(n / shard)
    else:
        S = check_int(n_shards, "n_shards", 1, n)
    eff = effective_capacity(cap, head)

    # one pass over the partitions (C++ pack_stats): peaks, total demand, the data's problems
    stats = dask.compute(*[dask.delayed(_stats)(b) for b in D.to_delayed().ravel()])
    peaks = np.ascontiguousarray(np.concatenate([s[0] for s in stats]), dtype=np.float32)
    total = np.sum([s[1] for s in stats], axis=0)
    vols = np.concatenate([s[4] for s in stats])
    row0 = offsets(D.chunks[0])
    nonfinite = next((int(row0[b] + s[2]) for b, s in enumerate(stats) if s[2] >= 0), -1)
    negative = next((int(row0[b] + s[3]) for b, s in enumerate(stats) if s[3] >= 0), -1)
    check_values(nonfinite, negative, ident)
    raise_too_large(np.flatnonzero((peaks > eff[None, :]).any(axis=1)), eff, ident)
    # the engine's peak-based baseline: its policy on the peaks (one-step shapes), sharded as it shards
    peak_w = int(_core.pack_plan(peaks.reshape(n, R, 1), cap, head, "peak", risk=0.0, candidates=opts.candidates,
                                 improve=opts.improve, shard_size=shard, n_threads=1)[1])
    lb = int(_core.lower_bound(total, eff.astype(np.float64), eps))

    order = size_order(peaks, eff)
    shards = [np.sort(order[j::S]) for j in range(S)]  # rows in input order: the task's policy sorts them
    task = dask.delayed(_pack_rows, pure=True)
    jobs = [task(_rows_of(D, idx), opts) for idx in shards]
    if compare:
        jobs.append(dask.delayed(_pack_all, pure=True)(D, opts))
    got = dask.compute(*jobs)
    single = int(got[-1]) if compare else None
    parts = got[:S]

    assignment = np.empty(n, dtype=np.int64)
    off = 0
    release: List[int] = []  # global worker ids of the least-filled workers of every shard
    for idx, (a, W, fill, _) in zip(shards, parts):
        assignment[idx] = a + off
        if repack and S > 1:  # one shard is the single-machine plan already
            release.extend((np.argsort(fill, kind="stable")[:repack] + off).tolist())
        off += W
    shard_workers = n_workers = off
    repacked_from = repacked_to = 0
    size = len(release)
    for rnd in range(rounds if size > 1 else 0):
        if rnd:  # the least-filled workers of the whole plan, twice as many as the round before
            size = min(2 * size, n_workers)
            release = np.argsort(_fills(assignment, n_workers, vols, opts, T), kind="stable")[:size].tolist()
        idx = np.flatnonzero(np.isin(assignment, release))
        a, W, _, _ = dask.compute(task(_rows_of(D, idx), opts))[0]
        if W < len(release):  # kept only when it saves workers
            keep = np.setdiff1d(np.arange(n_workers), release)
            renum = np.full(n_workers, -1, dtype=np.int64)
            renum[keep] = np.arange(keep.size)
            assignment = renum[assignment]
            assignment[idx] = a + keep.size
            n_workers = int(keep.size + W)
            repacked_from += len(release)
            repacked_to += W
        if size >= n_workers:
            break
    return ShardedPlan(assignment=assignment, n_workers=int(n_workers), lower_bound=lb, peak_workers=peak_w,
                       n_shards=S, shard_workers=int(shard_workers),
                       repacked_from=int(repacked_from), repacked_to=int(repacked_to),
                       strategy=strategy, capacity=cap, headroom=head, risk=eps, single_machine_workers=single,
                       seconds=time.perf_counter() - t0, shard_seconds=[float(g[3]) for g in parts], total=total)
