"""Placement: pack workload shapes onto as few workers as possible.

This package is ``pyshape.packing``: :func:`pack` (batch, ``pack.py``),
:class:`Plan`, its reports and :func:`lower_bound` (``plan.py``), worker types
for heterogeneous fleets, :class:`WorkerTypes` and :func:`cost_lower_bound`
(``worker_types.py``), and the online :class:`Placer` (``placer.py``). ``pyshape.pack``, ``pyshape.Plan`` and
``pyshape.Placer`` are the same objects.

A plan is feasible when, for every worker, resource and step, the summed
demand of the workloads on it is at most the worker's (effective) capacity, or,
with a risk budget ``risk = eps``, when every worker exceeds it in at most
``floor(eps * T)`` steps. Workloads whose peaks do not coincide can share a
worker that could not hold all their peaks at once: that is the saving over
request-based (peak) placement.

Strategies (the greedy ones place shapes one by one in decreasing size, where
the size of shape i is ``max_r peak[i, r] / C[r]``, ties kept in input order):

``'auto'`` (default)
    Near-optimal: per shard, the best of a portfolio of greedy constructions
    (several size orders x ``'first_fit'``, ``'best_fit'``, ``'complement'``),
    then local search that empties workers (ejection moves of one or two
    shapes, exact re-packing of the 2-4 emptiest workers) and a fixed-k
    search that puts the whole shard on one worker fewer (weighted overflow
    moves and swaps, exact re-packing of pairs of workers), within a work
    budget that scales with the shard (large shards fall back to
    ``'complement'``; see :func:`pack`). Never more workers than
    ``'first_fit'`` or ``'best_fit'`` on the shards it searches.
    Deterministic for any thread count.

``'peak'``
    The request-based baseline: every workload reserves its peak for all time;
    first-fit decreasing on the peak vectors (vector bin packing).
``'first_fit'``
    Temporal first-fit decreasing: the first worker (in opening order) where
    the shape fits at every step.
``'best_fit'``
    Temporal best-fit decreasing: among the workers where it fits, the fullest
    (largest sum over resources of load volume / capacity).
``'complement'``
    Correlation-aware: among the first ``candidates`` workers where it fits,
    the one whose peak rises least (sum over resources of peak rise /
    capacity): a shape that fills another's valleys adds nothing to its peak.
    Ties go to the worker whose load is most anti-correlated with the shape
    (smallest covariance), then to the older worker. Then ``improve`` drain
    passes try to empty the emptiest workers by moving all of their shapes
    to others. Candidate pruning (per-worker block maxima and minima in a
    segment tree, see ``src/cpp/pack/fleet.hpp``) keeps the exact SIMD fit
    check to a few workers per shape.

Worker types (heterogeneous fleets): ``capacity`` may be a :class:`WorkerTypes`
table, each type with a capacity per resource and a cost; :func:`pack` then
minimises the total cost (the cheapest of one plan per type and a mixed greedy
pass, every worker downsized to the cheapest type its load fits and the
emptiest workers repacked), :meth:`Plan.verify` checks each worker against its
own type, :func:`cost_lower_bound` bounds the cost from below, and the
:class:`Placer` opens each new worker as the cheapest type that holds the shape.

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

from pyshape.packing._checks import (
    STRATEGIES,
    DuplicateIdError,
    FleetFullError,
    InfeasiblePlanError,
    ShapeTooLargeError,
    UnknownIdError,
)
from pyshape.packing.pack import pack
from pyshape.packing.placer import DEFAULT_SCAN_LIMIT, Placer
from pyshape.packing.plan import Plan, ReplayReport, VerifyReport, lower_bound
from pyshape.packing.worker_types import WorkerTypes, cost_lower_bound

__all__ = [
    "DEFAULT_SCAN_LIMIT",
    "STRATEGIES",
    "DuplicateIdError",
    "FleetFullError",
    "InfeasiblePlanError",
    "Placer",
    "Plan",
    "ReplayReport",
    "ShapeTooLargeError",
    "UnknownIdError",
    "VerifyReport",
    "WorkerTypes",
    "cost_lower_bound",
    "lower_bound",
    "pack",
]
