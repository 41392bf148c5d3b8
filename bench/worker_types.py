"""Heterogeneous fleets: the cost of pyshape.pack on worker types against the best one-type plan
and the cost lower bound, on each day of the bundled Bitbrains week (250 VMs, CPU MHz and memory
GB, 288 five-minute steps per day), and the time against the one-type plans.

    python bench/worker_types.py            # prints two Markdown tables (bench/RESULTS.md)
    python bench/worker_types.py --cpsat    # and a fourth: 20-VM instances against CP-SAT (ortools);
                                            # medium(n=24, seed=3, time_limit=30) for the fresh set
    python bench/worker_types.py --cpsat40  # 5 instances of 40 VMs against CP-SAT (60 s each)
    python bench/worker_types.py --scale 96 # only the typed pack of 100,000 synthetic shapes (CPU s)

Third table: the typed local search on its own (search_effect): the typed 'complement' plan (no
search) before and after the search, beside 'auto'.

Second table: 200 tiny instances cut from the same week (8 random VMs of one day, downsampled to
24 steps by the max in each window; the four types scaled so the small one is near the largest VM
and prices drawn within 15% of the list's), where every partition of the shapes is tried (brute
force): the typed plan's cost against the optimum, and the best one-type plan's.

The one-type plans are the same engine (strategy 'auto') on each type's capacity alone, costed at
that type's price: the best of them is what a fleet of one worker size would pay. Times are wall
times on a shared machine, each typed plan and its one-type peers in the same loop (ratios are
the reliable part).
"""
from __future__ import annotations

import time

import numpy as np

import pyshape
from pyshape.packing import ShapeTooLargeError, WorkerTypes
from pyshape.traces import load_bitbrains_sample

#: Instance families of a cloud price list, in spirit: bigger is a little cheaper per unit, and a
#: compute-optimised type is cheap per GHz but short of memory.
TYPES = WorkerTypes(
    ["small", "medium", "large", "highcpu"],
    [[12_000.0, 24.0], [32_000.0, 64.0], [128_000.0, 256.0], [64_000.0, 32.0]],
    [1.0, 2.4, 8.5, 3.6],
)


def main() -> None:
    week = load_bitbrains_sample()
    rows = []
    for d in range(7):
        D = week.day(d).shapes
        if not np.isfinite(D).all() or D.shape[2] != 288:
            continue
        t0 = time.perf_counter()
        plan = pyshape.pack(D, TYPES)
        t_typed = time.perf_counter() - t0
        plan.verify()
        one, t_one = {}, 0.0
        for k, name in enumerate(TYPES.names):
            t0 = time.perf_counter()
            try:
                p1 = pyshape.pack(D, TYPES.capacity[k])
            except ShapeTooLargeError:
                continue
            t_one += time.perf_counter() - t0
            one[name] = TYPES.cost[k] * p1.n_workers
        best = min(one, key=lambda k: one[k])
        rows.append((d, plan.cost, plan.cost_lower_bound, one[best], best, plan.peak_cost, plan.type_counts,
                     t_typed, t_one))
    print("| day | typed cost | cost lower bound | typed / bound | best one type (cost) | typed saves | "
          "peak-based typed cost | workers per type | time typed / one-type plans |")
    print("|---|---|---|---|---|---|---|---|---|")
    for d, c, lb, b, bn, pc, counts, tt, to in rows:
        mix = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
        save = 1 - c / b if abs(1 - c / b) > 1e-12 else 0.0
        print(f"| {d} | {c:.1f} | {lb:.1f} | {c / lb:.3f} | {bn} ({b:.1f}) | {save:.1%} | {pc:.1f} | {mix} | "
              f"{tt:.2f} s / {to:.2f} s |")
    c = np.array([r[1] for r in rows])
    b = np.array([r[3] for r in rows])
    lb = np.array([r[2] for r in rows])
    print(f"\nmean: typed / bound {np.mean(c / lb):.3f}, typed saves {np.mean(1 - c / b):.1%} over the best one-type "
          f"plan of each day; time typed / one-type plans {sum(r[7] for r in rows) / sum(r[8] for r in rows):.2f}x")


def _partitions(items):
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for p in _partitions(rest):
        yield [[first]] + p
        for i in range(len(p)):
            yield p[:i] + [[first] + p[i]] + p[i + 1:]


def brute_force_cost(D: np.ndarray, cap: np.ndarray, cost: np.ndarray) -> float:
    """The optimal cost (risk 0): every partition, each block on its cheapest type that holds it."""
    D64 = D.astype(np.float64)
    memo: dict = {}
    best = np.inf
    for part in _partitions(list(range(D.shape[0]))):
        c = 0.0
        for b in part:
            key = tuple(b)
            if key not in memo:
                load = D64[list(b)].sum(axis=0).max(axis=1)  # (R,) peak of the block's load
                fits = (load[None, :] <= cap).all(axis=1)
                memo[key] = cost[fits].min() if fits.any() else np.inf
            c += memo[key]
            if c >= best:
                break
        best = min(best, c)
    return float(best)


def tiny(n_instances: int = 200, n: int = 8, seed: int = 0) -> None:
    week = load_bitbrains_sample()
    rng = np.random.default_rng(seed)
    ratios, one_ratios, times = [], [], []
    for _ in range(n_instances):
        day = week.day(int(rng.integers(0, 7))).shapes
        D = day[rng.choice(day.shape[0], n, replace=False)]
        D = D.reshape(n, 2, 24, -1).max(axis=3).astype(np.float32)  # 24 steps, max per window
        # the small type near the largest VM (it may not hold it), the large one holding every VM, and
        # prices within 15% of the list's: any type can be the cheapest per unit
        scale = D.max(axis=(0, 2)) / np.array([12_000.0, 24.0]) * rng.uniform(0.6, 1.5)
        cap = TYPES.capacity * scale
        cap[2] = np.maximum(cap[2], D.max(axis=(0, 2)))
        types = WorkerTypes(TYPES.names, cap, TYPES.cost * rng.uniform(0.85, 1.15, TYPES.n_types))
        t0 = time.perf_counter()
        plan = pyshape.pack(D, types)
        times.append(time.perf_counter() - t0)
        opt = brute_force_cost(D, types.capacity, types.cost)
        ratios.append(plan.cost / opt)
        best_one = min((types.cost[k] * pyshape.pack(D, types.capacity[k]).n_workers
                        for k in range(types.n_types) if (D.max(axis=2) <= types.capacity[k]).all()), default=np.inf)
        one_ratios.append(best_one / opt)
    r, o = np.array(ratios), np.array(one_ratios)
    print("\n| instances | typed / optimum: mean | optimal | worst | best one type / optimum: mean | optimal | "
          "typed plan time (median) |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {n_instances} x {n} VMs x 24 steps x 2 resources, 4 types | {r.mean():.4f} | "
          f"{int((r <= 1 + 1e-9).sum())} | {r.max():.3f} | {o.mean():.4f} | {int((o <= 1 + 1e-9).sum())} | "
          f"{np.median(times) * 1e3:.1f} ms |")


def cpsat_typed(D: np.ndarray, types: WorkerTypes, time_limit: float = 20.0, scale: int = 1_000_000) -> dict:
    """The cheapest typed plan by OR-Tools CP-SAT (demands rounded up on a grid of 1/scale of the
    largest capacity, so its plans are feasible for the real data; costs on a grid of 1e-6):
    ``{'status', 'cost', 'bound'}``."""
    from ortools.sat.python import cp_model

    n, R, T = D.shape
    unit = types.capacity.max(axis=0) / scale
    q = np.ceil(D.astype(np.float64) / unit[None, :, None] - 1e-9).astype(np.int64)
    capq = np.floor(types.capacity / unit[None, :] + 1e-9).astype(np.int64)
    costq = np.round(types.cost * 1e6).astype(np.int64)
    nt, W = types.n_types, n
    m = cp_model.CpModel()
    x = [[m.NewBoolVar(f"x{i}_{w}") if w <= i else None for w in range(W)] for i in range(n)]
    z = [[m.NewBoolVar(f"z{w}_{t}") for t in range(nt)] for w in range(W)]
    for i in range(n):
        m.AddExactlyOne(x[i][w] for w in range(i + 1))
    for w in range(W):
        m.AddAtMostOne(z[w])
        items = [i for i in range(n) if w <= i]
        for i in items:
            m.AddBoolOr([x[i][w].Not()] + z[w])  # a used worker has a type
        for r in range(R):
            for t in range(T):
                terms = [(int(q[i, r, t]), x[i][w]) for i in items if q[i, r, t] > 0]
                if terms:
                    m.Add(sum(c * v for c, v in terms) <= sum(int(capq[k, r]) * z[w][k] for k in range(nt)))
    m.Minimize(sum(int(costq[k]) * z[w][k] for w in range(W) for k in range(nt)))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_search_workers = 1
    st = solver.Solve(m)
    ok = st in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    return {"status": solver.StatusName(st), "cost": solver.ObjectiveValue() / 1e6 if ok else None,
            "bound": solver.BestObjectiveBound() / 1e6}


def medium(n_instances: int = 10, n: int = 20, seed: int = 1, time_limit: float = 20.0) -> None:
    """Instances of n VMs against CP-SAT (a time limit: optimal when proven, else its best and bound)."""
    week = load_bitbrains_sample()
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n_instances):
        day = week.day(int(rng.integers(0, 7))).shapes
        D = day[rng.choice(day.shape[0], n, replace=False)]
        D = D.reshape(n, 2, 24, -1).max(axis=3).astype(np.float32)
        scale = D.max(axis=(0, 2)) / np.array([12_000.0, 24.0]) * rng.uniform(0.6, 1.5)
        cap = TYPES.capacity * scale
        cap[2] = np.maximum(cap[2], D.max(axis=(0, 2)))
        types = WorkerTypes(TYPES.names, cap, TYPES.cost * rng.uniform(0.85, 1.15, TYPES.n_types))
        plan = pyshape.pack(D, types)
        cp = cpsat_typed(D, types, time_limit)
        rows.append((plan.cost, plan.cost_lower_bound, cp["cost"], cp["bound"], cp["status"]))
    print(f"\n| instance ({n} VMs x 24 steps x 2, 4 types) | typed cost | cost lower bound | CP-SAT best | "
          "CP-SAT bound | status | typed / CP-SAT bound |")
    print("|---|---|---|---|---|---|---|")
    for k, (c, lb, cb, bd, st) in enumerate(rows):
        print(f"| {k} | {c:.3f} | {lb:.3f} | {cb if cb is None else round(cb, 3)} | {bd:.3f} | {st} | "
              f"{c / bd:.3f} |")
    r = np.array([c / max(bd, lb) for c, lb, _, bd, _ in rows])
    print(f"\nmean typed / best proven bound {r.mean():.4f}, worst {r.max():.3f}; "
          f"typed <= CP-SAT best on {sum(c <= cb * (1 + 1e-5) for c, _, cb, _, _ in rows if cb is not None)} "
          f"of {len(rows)}")


def search_effect(sizes=((40, 24, 20), (120, 48, 10), (250, 288, 7)), seed: int = 7) -> None:
    """The typed local search (types_search.hpp) on its own: from the typed 'complement' plan (the
    greedy candidates and the tail repack, no search: the search runs for 'auto' only) through the
    search with the budget 'auto' gives it, against 'auto' (the candidates with the one-type local
    search, then the typed search). Instances drawn as in medium(); the last size is whole days of
    the week at full resolution."""
    import pyshape._core as core
    from pyshape.packing import WorkerTypes

    week = load_bitbrains_sample()
    rng = np.random.default_rng(seed)
    print("\n| instances | 'complement' typed | + typed search | search time (median) | 'auto' typed (with search) | "
          "instances improved by the search |")
    print("|---|---|---|---|---|---|")
    for n, T, k in sizes:
        c0, c1, ca, ts, better = [], [], [], [], 0
        for j in range(k):
            if n >= 250:
                D = np.ascontiguousarray(week.day(j).shapes, dtype=np.float32)
                types = TYPES
            else:
                day = week.day(int(rng.integers(0, 7))).shapes
                D = day[rng.choice(day.shape[0], n, replace=False)]
                D = np.ascontiguousarray(D.reshape(n, 2, T, -1).max(axis=3).astype(np.float32))
                scale = D.max(axis=(0, 2)) / np.array([12_000.0, 24.0]) * rng.uniform(0.6, 1.5)
                cap = TYPES.capacity * scale
                cap[2] = np.maximum(cap[2], D.max(axis=(0, 2)))
                types = WorkerTypes(TYPES.names, cap, TYPES.cost * rng.uniform(0.85, 1.15, TYPES.n_types))
            if not np.isfinite(D).all():
                continue
            p = pyshape.pack(D, types, "complement")
            budget = int(2**25 + D.size)  # typed_search_budget(effort=1, V), all of it (pack shares it)
            t0 = time.perf_counter()
            a, t, st = core._improve_typed(D, types.capacity.astype(np.float32), types.cost, p.assignment,
                                           p.worker_type.astype(np.int32), budget)
            ts.append(time.perf_counter() - t0)
            c0.append(p.cost)
            c1.append(float(types.cost[t].sum()))
            better += c1[-1] < c0[-1] * (1 - 1e-9)
            ca.append(pyshape.pack(D, types).cost)
        label = f"{len(c0)} x {n} VMs x {T} steps" if n < 250 else f"{len(c0)} days x 250 VMs x 288 steps"
        print(f"| {label} | {sum(c0):.2f} | {sum(c1):.2f} ({1 - sum(c1) / sum(c0):.1%} less) | "
              f"{np.median(ts) * 1e3:.0f} ms | {sum(ca):.2f} | {better} of {len(c0)} |")


def scale(n: int = 100_000, T: int = 96, repeats: int = 2) -> None:
    """The typed pack at scale: n synthetic shapes x 2 resources, three types at 1.2x / 3x / 8x the
    largest shape (costs 1 / 2.3 / 5.6); wall and CPU seconds of each pack (run it on two builds,
    alternating, to compare them)."""
    import resource

    from pyshape.packing import WorkerTypes
    from pyshape.synthetic import make_shapes

    X, _ = make_shapes(n, T, random_state=0)
    Y, _ = make_shapes(n, T, random_state=1)
    D = np.ascontiguousarray(np.stack([X, Y], axis=1).astype(np.float32))
    m = D.max(axis=(0, 2)).astype(np.float64)
    types = WorkerTypes(["small", "medium", "large"], np.stack([1.2 * m, 3 * m, 8 * m]), [1.0, 2.3, 5.6])
    for _ in range(repeats):
        c0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        p = pyshape.pack(D, types)
        t = time.perf_counter() - t0
        c1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = c1.ru_utime - c0.ru_utime + c1.ru_stime - c0.ru_stime
        print(f"n={n} T={T}: {t:.2f} s wall {cpu:.2f} s CPU cost {p.cost:.2f} bound {p.cost_lower_bound:.2f} "
              f"{p.type_counts}", flush=True)


if __name__ == "__main__":
    import sys

    if "--scale" in sys.argv:  # alone: python bench/worker_types.py --scale [T]
        scale(T=int(sys.argv[-1]) if sys.argv[-1].isdigit() else 96)
        sys.exit(0)
    main()
    tiny()
    search_effect()
    if "--cpsat" in sys.argv:
        medium()
    if "--cpsat40" in sys.argv:
        medium(n_instances=5, n=40, seed=4, time_limit=60)
