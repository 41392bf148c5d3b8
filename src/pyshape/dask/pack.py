"""Placement in shards on a Dask cluster: the fleet is dealt into shards by
size (as :func:`pyshape.pack` does in one process), the shards are packed in
parallel (one task each, the C++ packer inside), then the least-filled
workers of all shards are repacked together in one more task."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from pyshape import _core
from pyshape._validation import check_int
from pyshape.dask._common import as_rows, dask
from pyshape.packing._checks import (
    DEFAULT_CANDIDATES,
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
from pyshape.packing.plan import Plan, lower_bound

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
        Under-filled workers released for the repack, and the workers their
        shapes took when packed together (the repack is kept only if fewer).
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
    shard_seconds: list = field(default_factory=list, repr=False)
    total: Optional[np.ndarray] = field(default=None, repr=False)

    @property
    def excess_over_single_machine(self) -> Optional[float]:
        """``n_workers / single_machine_workers - 1`` (None without ``compare``)."""
        if self.single_machine_workers is None:
            return None
        return self.n_workers / self.single_machine_workers - 1.0

    def summary(self) -> dict:
        return {"strategy": self.strategy, "workers": self.n_workers, "lower_bound": self.lower_bound,
                "peak_workers": self.peak_workers, "shards": self.n_shards, "shard_workers": self.shard_workers,
                "repacked_from": self.repacked_from, "repacked_to": self.repacked_to,
                "single_machine_workers": self.single_machine_workers, "seconds": round(self.seconds, 3)}

    def to_plan(self, shapes, ids=None) -> Plan:
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
    """Decreasing size ``max_r peak[i, r] / C[r]`` (float32), ties in input order: the
    order of :func:`pyshape.pack` (src/cpp/pack/policy.hpp)."""
    key = (peaks / eff[None, :]).max(axis=1)
    return np.argsort(-key, kind="stable").astype(np.int64)


def _stats(block):
    D = np.require(block, np.float32, "CA")  # aligned too: blocks arrive unpickled at any byte offset
    if D.shape[0] == 0:
        return np.empty((0, D.shape[1]), np.float32), np.zeros(D.shape[1:], np.float64), -1, -1
    return _core.pack_stats(D, 1)


def _pack_rows(rows, perm, eff, strategy, risk, candidates, improve):
    """Pack the rows (in the given order, decreasing size) as one shard. Returns
    the worker of every row (in that order), the worker count, every worker's
    fill (largest over resources of its mean load / capacity) and the seconds."""
    t0 = time.perf_counter()
    D = np.ascontiguousarray(np.asarray(rows)[perm], dtype=np.float32)
    eff = np.require(eff, np.float32, "CA")  # shipped to the worker: aligned for the kernels
    m = D.shape[0]
    order = np.arange(m, dtype=np.int64)  # the dealt order is already decreasing in size
    if strategy == "peak":
        peaks = np.ascontiguousarray(D.max(axis=2)[:, :, None])
        assign, W = _core.pack(peaks, eff, order, "first_fit", risk=0.0, candidates=1, improve=0,
                               shard_size=0, n_threads=1)
    else:
        assign, W = _core.pack(D, eff, order, strategy, risk=risk, candidates=candidates,
                               improve=improve if strategy == "complement" else 0, shard_size=0, n_threads=1)
    vol = np.zeros((int(W), D.shape[1]), dtype=np.float64)
    np.add.at(vol, assign, D.sum(axis=2, dtype=np.float64))
    fill = (vol / (eff[None, :].astype(np.float64) * D.shape[2])).max(axis=1)
    return np.asarray(assign, dtype=np.int64), int(W), fill, time.perf_counter() - t0


def _pack_all(rows, eff, strategy, risk, candidates, improve, shard_size):
    import pyshape

    return pyshape.pack(np.asarray(rows), eff, strategy, risk=risk, candidates=candidates, improve=improve,
                        shard_size=shard_size, n_threads=1).n_workers


def _take(D, idx):
    """Rows ``idx`` of the Dask array in that order: the sorted rows are gathered
    (contiguous reads) and the task puts them back in order."""
    s = np.argsort(idx, kind="stable")
    sorted_idx = idx[s]
    perm = np.empty_like(s)
    perm[s] = np.arange(s.size)
    return D[sorted_idx], perm


def pack(shapes, capacity, strategy: str = DEFAULT_STRATEGY, *, ids=None, headroom=0.0, risk: float = 0.0,
         candidates: int = DEFAULT_CANDIDATES, improve: int = DEFAULT_IMPROVE,
         shard_size: int = DEFAULT_SHARD_SIZE, n_shards: Optional[int] = None, repack: int = 4,
         compare: bool = False, chunk_rows: Optional[int] = None) -> ShardedPlan:
    """Pack shapes onto workers with the shards packed in parallel on a Dask cluster.

    The shapes are sorted by size (``max_r peak / capacity``) and dealt
    round-robin into ``n_shards`` shards (default ``ceil(n / shard_size)``),
    so every shard has the same mix of sizes; these are the shards
    :func:`pyshape.pack` makes in one process. Each shard is one task. Then
    the ``repack`` least-filled workers of every shard (a shard's last
    workers hold its smallest shapes and are partly empty) are released and
    their shapes packed together in one task; kept if it takes fewer workers.

    Parameters
    ----------
    shapes : dask.array.Array or array_like, shape (n, R, T) or (n, T)
    capacity, strategy, ids, headroom, risk, candidates, improve
        As in :func:`pyshape.pack`.
    shard_size : int
        Shapes per shard (default: that of :func:`pyshape.pack`).
    n_shards : int, optional
        Overrides ``shard_size`` (e.g. the number of Dask workers).
    repack : int, default 4
        Least-filled workers per shard to repack together (0: none).
    compare : bool
        Also pack all shapes in one task (the single-machine plan) and report
        its workers in ``single_machine_workers``; needs them in one task's memory.

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
    n, R, T = D.shape
    cap = check_capacity(capacity, R)
    head = check_headroom(headroom, R)
    eps = check_risk(risk)
    if strategy == "peak" and eps > 0:
        raise ValueError("the peak strategy reserves peaks: risk must be 0")
    ident = check_ids(ids, n)
    cand = check_int(candidates, "candidates", 0)
    imp = check_int(improve, "improve", 0)
    repack = check_int(repack, "repack", 0)
    if n_shards is None:
        shard = check_int(shard_size, "shard_size", 0)
        S = 1 if shard == 0 else math.ceil(n / shard)
    else:
        S = check_int(n_shards, "n_shards", 1, n)
    eff = effective_capacity(cap, head)

    stats = dask.compute(*[dask.delayed(_stats)(b) for b in D.to_delayed().ravel()])
    peaks = np.concatenate([s[0] for s in stats]).astype(np.float32)
    total = np.sum([s[1] for s in stats], axis=0)
    row0 = np.concatenate([[0], np.cumsum(D.chunks[0])])
    nonfinite = next((int(row0[b] + s[2]) for b, s in enumerate(stats) if s[2] >= 0), -1)
    negative = next((int(row0[b] + s[3]) for b, s in enumerate(stats) if s[3] >= 0), -1)
    check_values(nonfinite, negative, ident)
    raise_too_large(np.flatnonzero((peaks > eff[None, :]).any(axis=1)), eff, ident)
    order = size_order(peaks, eff)
    _, peak_w = _core.pack(np.ascontiguousarray(peaks.reshape(n, R, 1)), eff, order, "first_fit", risk=0.0,
                           candidates=1, improve=0, shard_size=DEFAULT_SHARD_SIZE, n_threads=1)

    shards = [order[j::S] for j in range(S)]
    task = dask.delayed(_pack_rows, pure=True)
    jobs = []
    for idx in shards:
        rows, perm = _take(D, idx)
        jobs.append(task(rows, perm, eff, strategy, eps, cand, imp))
    if compare:
        jobs.append(dask.delayed(_pack_all, pure=True)(D, eff, strategy, eps, cand, imp, DEFAULT_SHARD_SIZE))
    got = dask.compute(*jobs)
    single = int(got[-1]) if compare else None
    got = got[:S]

    assignment = np.empty(n, dtype=np.int64)
    off = 0
    release = []  # global worker ids of the least-filled workers of every shard
    for idx, (a, W, fill, _) in zip(shards, got):
        assignment[idx] = a + off
        if repack and S > 1:  # one shard is the single-machine plan already
            release.extend((np.argsort(fill, kind="stable")[:repack] + off).tolist())
        off += W
    shard_workers = off
    n_workers = off
    repacked_to = 0
    if len(release) > 1:
        freed = np.isin(assignment, release)
        idx = np.flatnonzero(freed)
        idx = idx[np.argsort(np.argsort(order)[idx], kind="stable")]  # in size order
        rows, perm = _take(D, idx)
        a, W, _, _ = dask.compute(task(rows, perm, eff, strategy, eps, cand, imp))[0]
        repacked_to = W
        if W < len(release):
            keep = np.setdiff1d(np.arange(off), release)
            renum = np.full(off, -1, dtype=np.int64)
            renum[keep] = np.arange(keep.size)
            assignment = renum[assignment]
            assignment[idx] = a + keep.size
            n_workers = int(keep.size + W)
    return ShardedPlan(assignment=assignment, n_workers=int(n_workers),
                       lower_bound=lower_bound(total, eff, eps), peak_workers=int(peak_w), n_shards=S,
                       shard_workers=int(shard_workers), repacked_from=len(release) if len(release) > 1 else 0,
                       repacked_to=int(repacked_to), strategy=strategy, capacity=cap, headroom=head, risk=eps,
                       single_machine_workers=single, seconds=time.perf_counter() - t0,
                       shard_seconds=[g[3] for g in got], total=total)
