"""Independent checks of placement plans, in plain NumPy (float64).

Nothing here calls the packing code: per-worker loads are summed again from
the shapes and the assignment. :meth:`pyshape.Plan.replay` and
:meth:`pyshape.Plan.load` use these; :meth:`pyshape.Plan.verify` decides in
C++ (``src/cpp/pack/verify.hpp``) and ``steps_over`` here is its NumPy
reference in the tests.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

#: Relative float32 rounding unit. The packer sums loads in float32, which for
#: k non-negative terms is within (k - 1) * u of the exact sum relative to the
#: capacity it is compared with; the checks allow (k + 1) * u * capacity.
F32_UNIT = 2.0 ** -23


def members_index(assignment: np.ndarray, n_workers: int) -> tuple[np.ndarray, np.ndarray]:
    """Shapes grouped by worker: ``order`` ``(n,)`` and ``starts`` ``(W + 1,)``.

    Worker ``w`` holds shapes ``order[starts[w]:starts[w + 1]]``, in increasing
    index (a stable sort). Entries outside ``[0, n_workers)`` belong to no worker.
    """
    a = np.asarray(assignment)
    order = np.argsort(a, kind="stable")
    starts = np.searchsorted(a[order], np.arange(n_workers + 1), side="left")
    return order, starts


def worker_loads(D: np.ndarray, assignment: np.ndarray, n_workers: int, chunk: int = 1 << 15,
                 order: Optional[np.ndarray] = None) -> np.ndarray:
    """Per-worker load ``[W, R, T]`` in float64: the sum of the shapes on each worker.

    ``order`` is ``np.argsort(assignment, kind="stable")`` when the caller has it already.
    """
    n, R, T = D.shape
    out = np.zeros((n_workers, R, T), dtype=np.float64)
    if order is None:
        order = np.argsort(assignment, kind="stable")
    a_sorted = assignment[order]
    for s in range(0, n, chunk):
        idx = order[s:s + chunk]
        a = a_sorted[s:s + chunk]
        block = D[idx].astype(np.float64)
        starts = np.flatnonzero(np.r_[True, a[1:] != a[:-1]])
        out[a[starts]] += np.add.reduceat(block, starts, axis=0)
    return out


def over_steps(loads: np.ndarray, limit: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``(W, T)`` bool: some resource of the worker exceeds ``limit`` (``(R,)``, or ``(W, R)`` per
    worker) at the step, beyond the float32 rounding allowance ``(counts[w] + 1) * F32_UNIT * limit``
    of a worker holding ``counts[w]`` shapes."""
    lim = limit[:, :, None] if limit.ndim == 2 else limit[None, :, None]  # per worker (W, R) or shared (R,)
    tol = (counts[:, None, None] + 1.0) * F32_UNIT * lim
    return ((loads - lim) > tol).any(axis=1)


def steps_over(loads: np.ndarray, limit: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per worker: the number of steps at which some resource exceeds ``limit`` (with the float32
    tolerance for ``counts`` shapes), and per resource the largest excess over ``limit``."""
    over = over_steps(loads, limit, counts)
    excess = loads - (limit[:, :, None] if limit.ndim == 2 else limit[None, :, None])
    max_excess = np.maximum(excess.max(axis=(0, 2)), 0.0) if loads.size else np.zeros(limit.shape)
    return over.sum(axis=1), max_excess
