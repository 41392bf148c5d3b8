"""Batch placement: :func:`pack` assigns every shape to a worker."""
from __future__ import annotations

import time
from typing import Optional, Union

import numpy as np

from pyshape import _core
from pyshape._progress import ProgressArg, check_progress, progress_callback
from pyshape._system import resolve_threads
from pyshape._validation import INT32_MAX, INT64_MAX, as_shapes3, check_int, check_real
from pyshape.packing._checks import (
    DEFAULT_CANDIDATES,
    DEFAULT_EFFORT,
    DEFAULT_IMPROVE,
    DEFAULT_SHARD_SIZE,
    DEFAULT_STRATEGY,
    STRATEGIES,
    ArrayLike,
    check_capacity,
    check_headroom,
    check_ids,
    check_risk,
    check_values,
    effective_capacity,
    raise_too_large,
)
from pyshape.packing.plan import Plan
from pyshape.packing.worker_types import WorkerTypes, as_worker_types

__all__ = ["pack"]


def pack(
    shapes: ArrayLike,
    capacity: Union[float, ArrayLike, WorkerTypes],
    strategy: str = DEFAULT_STRATEGY,
    *,
    ids: Optional[ArrayLike] = None,
    headroom: Union[float, ArrayLike] = 0.0,
    risk: float = 0.0,
    candidates: int = DEFAULT_CANDIDATES,
    improve: int = DEFAULT_IMPROVE,
    shard_size: int = DEFAULT_SHARD_SIZE,
    effort: float = DEFAULT_EFFORT,
    n_threads: Optional[int] = None,
    progress: ProgressArg = False,
) -> Plan:
    """Assign every shape to a worker so that no worker exceeds its capacity, using few workers.

    Parameters
    ----------
    shapes : array_like, shape (n, R, T) or (n, T)
        Non-negative, finite demand of n workloads on R resources over T steps
        (float32 C-contiguous input is used without a copy).
    capacity : float, array_like of shape (R,), or WorkerTypes
        Capacity of a worker per resource (one number: the same for all), or
        a table of worker types (:class:`~pyshape.packing.WorkerTypes`, or a
        pandas DataFrame as :meth:`WorkerTypes.from_frame` reads it), each
        with a capacity per resource and a cost: the plan then minimises the
        total cost of its workers. It keeps the cheapest of one plan per type
        that every shape fits (the whole engine of the chosen strategy on that
        type) and a mixed greedy pass in which a new worker opens as the type
        with the least cost per copy of the shape it holds; in each, every
        worker is then downsized to the cheapest type its final load fits
        (checked exactly at every step and resource). ``plan.worker_type``,
        ``plan.type_counts``, ``plan.cost`` and ``plan.cost_lower_bound``
        report it. A table of one type gives bit for bit the plan of that
        type's capacity.
    strategy : {'auto', 'complement', 'first_fit', 'best_fit', 'peak'}
        See the module docstring. Default ``'auto'``: per shard, the best of
        a portfolio of greedy constructions (size orders x first_fit,
        best_fit, complement) followed by local search that empties workers
        (ejection moves and swaps, exact re-packing of the few emptiest
        workers) and a fixed-k search that tries the whole shard on one
        worker fewer (weighted overflow), within a work budget; never more workers than
        ``'first_fit'`` or ``'best_fit'`` on shards it searches. The budget
        rule: a shard of m shapes with ``V = m * R * T`` values gets the full
        portfolio when ``V <= 2**21``, the three rules on the size order when
        ``V <= 2**24``, and plain ``'complement'`` above (so a million shapes
        of 1440 x 2 cost what ``'complement'`` costs); local search compares at
        most ``6 * effort * (2**25 + 16 * V)`` values (its stages together) and
        stops at a proven lower bound. Deterministic: work is counted, never timed.
    ids : array_like, shape (n,), optional
        Unique ids of the workloads (default ``0 .. n-1``), used in messages;
        compared as the Python objects given (``1`` and ``'1'`` differ).
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
        ``'complement'`` (and ``'auto'``'s complement runs): drain passes after
        construction (0: none).
    shard_size : int
        Above this many shapes the size order is dealt round-robin into
        ``ceil(n / shard_size)`` shards that are packed independently (in
        parallel) and whose workers are concatenated: each shard sees the
        same mix of sizes, so the cost in workers is small (at most about
        one partly filled worker per shard), and time grows linearly with n.
        0: one shard. The shards depend on n only, never on the threads.
    effort : float
        ``'auto'`` only: scale of the local-search budget (0: portfolio only).
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
        bad capacity (or an effective capacity outside the float32 range),
        headroom, risk or strategy, mismatched resources, an integer option
        out of range (negative, or beyond what the C++ core takes).
    TypeError
        An integer option that is not an integer (``2.5``, ``True``), a risk,
        capacity or headroom that is not a number, a ``progress`` that is not
        a bool, None or a callable, ids that are not hashable.
    ShapeTooLargeError
        Some shape's peak exceeds the effective capacity (of every worker
        type); ``err.ids`` lists them all (nothing is dropped: every shape is
        placed or reported).
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

    Worker types, each with a capacity and a cost (here the small one is cheaper per unit, and a
    day and a night shape fill it at every step):

    >>> from pyshape.packing import WorkerTypes
    >>> types = WorkerTypes(["small", "big"], [3.0, 6.0], [1.0, 2.5])
    >>> plan = pyshape.pack(X, capacity=types)
    >>> plan.cost, plan.type_counts, round(plan.cost_lower_bound, 3)
    (4.0, {'small': 4, 'big': 0}, 4.0)
    """
    t0 = time.perf_counter()
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    D = as_shapes3(shapes)
    n, R, T = D.shape
    types = as_worker_types(capacity, R)
    cap = types.capacity if types is not None else check_capacity(capacity, R)  # type: ignore[arg-type]
    head = check_headroom(headroom, R)
    eps = check_risk(risk)
    if strategy == "peak" and eps > 0:
        raise ValueError("the peak strategy reserves peaks: risk must be 0")
    ident = check_ids(ids, n)
    cand = check_int(candidates, "candidates", 0, INT32_MAX)
    imp = check_int(improve, "improve", 0, INT32_MAX)
    shard = check_int(shard_size, "shard_size", 0, INT64_MAX)
    eff_scale = check_real(effort, "effort", 0.0, 1e6)
    nt = resolve_threads(n_threads)
    check_progress(progress)
    for row in np.atleast_2d(cap):
        effective_capacity(row, head)  # refuses an effective capacity below float32's range
    typed = {} if types is None else {"cost": types.cost}  # only with types: one call for the common case
    # The policy (effective capacity, size order, peak baseline, plan, lower
    # bound) is decided in C++ (src/cpp/pack/policy.hpp), the same code the C
    # API runs; here only the data's problems are worded, with the ids. (The
    # peak-based baseline is sharded like the placement: pack stays linear in n.)
    if strategy == "peak":
        res = _core.pack_plan(D, cap, head, strategy, risk=eps, candidates=cand, improve=imp, shard_size=shard,
                              n_threads=nt, progress=None, effort=eff_scale, **typed)
    else:
        with progress_callback(progress, f"pack ({strategy})") as cb:
            res = _core.pack_plan(D, cap, head, strategy, risk=eps, candidates=cand, improve=imp,
                                  shard_size=shard, n_threads=nt, progress=cb, effort=eff_scale, **typed)
    assign, W, lb, peak_w, total, nonfinite, negative, too_large, wtype, cost, cost_lb, peak_cost = res
    if assign is None:
        check_values(nonfinite, negative, ident)
        if types is None:
            raise_too_large(too_large, effective_capacity(cap, head), ident)
        else:
            raise_too_large(too_large, cap * (1.0 - head), ident, types.names)
    assert assign is not None  # None only for data the two checks above raise for
    assign.flags.writeable = False  # the plan's index of shapes by worker is built from it once
    if wtype is not None:
        wtype.flags.writeable = False
    return Plan(
        assignment=assign,
        n_workers=int(W),
        lower_bound=int(lb),
        peak_workers=int(peak_w),
        strategy=strategy,
        capacity=cap if types is None else cap.max(axis=0),
        headroom=head,
        risk=eps,
        ids=ident,
        shapes=D,
        total=total,
        seconds=time.perf_counter() - t0,
        types=types,
        worker_type=wtype,
        cost_lower_bound=None if types is None else float(cost_lb),
        peak_cost=None if types is None else float(peak_cost),
    )
