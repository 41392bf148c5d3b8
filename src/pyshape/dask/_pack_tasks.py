"""What the tasks of :func:`pyshape.dask.pack` run (on the Dask workers): one
pass of statistics per partition, and the engine's C++ policy on a set of rows
(a shard, or the shapes released by a repack round), with or without worker
types. Kept apart from the driver's logic in pack.py."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from pyshape import _core
from pyshape.dask._common import aligned
from pyshape.packing._checks import DEFAULT_SHARD_SIZE
from pyshape.packing.worker_types import WorkerTypes


@dataclass(frozen=True)
class Options:
    """What every packing task packs with (the request of ``pyshape.pack``).

    ``capacity`` is ``(R,)`` for one worker capacity, or with worker types the
    table ``(n_types, R)``; ``cost`` is then the types' costs (else None) and
    ``eff`` the effective capacity of every type ``(n_types, R)`` float32 (one
    row without types)."""

    capacity: np.ndarray
    headroom: np.ndarray
    strategy: str
    risk: float
    candidates: int
    improve: int
    effort: float
    eff: np.ndarray
    cost: Optional[np.ndarray] = None
    types: Optional[WorkerTypes] = None

    def typed(self) -> dict:
        """The extra keyword of ``_core.pack_plan`` with worker types (none without)."""
        return {} if self.cost is None else {"cost": self.cost}

    def worker_cost(self, worker_type: np.ndarray) -> np.ndarray:
        """The cost of workers of these types (1 each without types: the cost is the worker count)."""
        if self.cost is None:
            return np.ones(worker_type.shape[0], dtype=np.float64)
        return self.cost[worker_type]


def stats(block: np.ndarray) -> Tuple[np.ndarray, np.ndarray, int, int, np.ndarray]:
    """A partition's peaks, total, problems (C++ ``pack_stats``) and every shape's
    volume per resource (float64: what the repack ranks workers by)."""
    D = aligned(block)
    if D.shape[0] == 0:
        return (np.empty((0, D.shape[1]), np.float32), np.zeros(D.shape[1:], np.float64), -1, -1,
                np.empty((0, D.shape[1]), np.float64))
    return (*_core.pack_stats(D, 1), D.sum(axis=2, dtype=np.float64))


def fills(assign: np.ndarray, worker_type: np.ndarray, vols: np.ndarray, opts: Options, T: int) -> np.ndarray:
    """Every worker's fill: the largest over resources of its mean load over its own
    (type's) effective capacity."""
    W = worker_type.shape[0]
    vol = np.stack([np.bincount(assign, weights=vols[:, r], minlength=W) for r in range(vols.shape[1])], axis=1)
    return (vol / (opts.eff.astype(np.float64)[worker_type] * T)).max(axis=1)


def pack_rows(rows: np.ndarray, opts: Options) -> Tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Pack the rows (ascending global index) as one shard with the engine's
    policy (``_core.pack_plan``, shard_size 0: its size order, strategy,
    improve and search rules; with types the typed policy). Returns the worker
    of every row, every worker's type (int64; all 0 without types), every
    worker's fill (:func:`fills`) and the seconds."""
    t0 = time.perf_counter()
    D = aligned(rows)
    res = _core.pack_plan(D, opts.capacity, opts.headroom, opts.strategy, risk=opts.risk,
                          candidates=opts.candidates, improve=opts.improve, shard_size=0, n_threads=1,
                          effort=opts.effort, **opts.typed())
    assign, W, wtype = res[0], int(res[1]), res[8]
    assert assign is not None  # the data was checked on all shapes before
    assign = np.asarray(assign, dtype=np.int64)
    wt = np.zeros(W, dtype=np.int64) if wtype is None else np.asarray(wtype, dtype=np.int64)
    fill = fills(assign, wt, D.sum(axis=2, dtype=np.float64), opts, D.shape[2])
    return assign, wt, fill, time.perf_counter() - t0


def pack_all(rows: np.ndarray, opts: Options) -> Tuple[int, float]:
    """The single-machine plan (``pyshape.pack`` with its defaults' sharding):
    its workers and cost."""
    import pyshape

    p = pyshape.pack(np.asarray(rows), opts.types if opts.types is not None else opts.capacity, opts.strategy,
                     headroom=opts.headroom, risk=opts.risk, candidates=opts.candidates, improve=opts.improve,
                     shard_size=DEFAULT_SHARD_SIZE, effort=opts.effort, n_threads=1)
    return p.n_workers, p.cost
