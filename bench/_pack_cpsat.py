"""Exact placement with OR-Tools CP-SAT (optional dependency), for small
instances: the optimum (or a proven bound) that heuristics are measured against.
"""
from __future__ import annotations

from typing import Optional

import numpy as np


def cpsat_pack(D: np.ndarray, capacity, *, max_workers: Optional[int] = None, time_limit: float = 30.0,
               workers: int = 1, scale: int = 1000, rounding: str = "ceil", hint=None) -> dict:
    """Minimum number of workers for shapes ``D[n, R, T]`` by CP-SAT.

    Demands are put on an integer grid of ``capacity / scale``: ``rounding='ceil'``
    rounds demands up (every solution is feasible for the real data, so the
    optimum is an upper bound on the real optimum), ``'floor'`` rounds down (the
    solver's bound is then a valid lower bound for the real data). Integer-valued
    instances with ``scale`` equal to the capacity are exact.

    Returns a dict: ``status`` ('OPTIMAL', 'FEASIBLE', ...), ``workers`` (best
    found or None), ``bound`` (proven lower bound), ``assignment`` and ``seconds``.
    """
    from ortools.sat.python import cp_model

    D = np.asarray(D, dtype=np.float64)
    if D.ndim == 2:
        D = D[:, None, :]
    n, R, T = D.shape
    cap = np.broadcast_to(np.asarray(capacity, np.float64), (R,))
    q = D / cap[None, :, None] * scale
    q = np.ceil(q - 1e-9) if rounding == "ceil" else np.floor(q + 1e-9)
    q = q.astype(np.int64)
    W = int(max_workers or n)
    m = cp_model.CpModel()
    x = [[m.NewBoolVar(f"x{i}_{w}") if w <= i else None for w in range(W)] for i in range(n)]
    y = [m.NewBoolVar(f"y{w}") for w in range(W)]
    for i in range(n):
        m.AddExactlyOne(x[i][w] for w in range(min(i + 1, W)))
    for w in range(W):
        if w + 1 < W:
            m.Add(y[w] >= y[w + 1])
        items = [i for i in range(n) if w <= i]
        for i in items:
            m.AddImplication(x[i][w], y[w])
        for r in range(R):
            for t in range(T):
                terms = [(int(q[i, r, t]), x[i][w]) for i in items if q[i, r, t] > 0]
                if sum(c for c, _ in terms) > scale:
                    m.Add(sum(c * v for c, v in terms) <= scale)
    m.Minimize(sum(y))
    if hint is not None:
        for i in range(n):
            for w in range(min(i + 1, W)):
                m.AddHint(x[i][w], int(hint[i]) == w)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_search_workers = int(workers)
    st = solver.Solve(m)
    name = solver.StatusName(st)
    out = {"status": name, "bound": int(np.ceil(solver.BestObjectiveBound() - 1e-6)), "seconds": solver.WallTime(),
           "workers": None, "assignment": None}
    if name in ("OPTIMAL", "FEASIBLE"):
        a = np.array([next(w for w in range(min(i + 1, W)) if solver.Value(x[i][w])) for i in range(n)])
        used = np.unique(a)
        out["assignment"] = np.searchsorted(used, a)
        out["workers"] = int(used.size)
    return out
