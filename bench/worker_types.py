"""Heterogeneous fleets: the cost of pyshape.pack on worker types against the best one-type plan
and the cost lower bound, on each day of the bundled Bitbrains week (250 VMs, CPU MHz and memory
GB, 288 five-minute steps per day), and the time against the one-type plans.

    python bench/worker_types.py            # prints a Markdown table (bench/RESULTS.md)

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
        print(f"| {d} | {c:.1f} | {lb:.1f} | {c / lb:.3f} | {bn} ({b:.1f}) | {1 - c / b:.1%} | {pc:.1f} | {mix} | "
              f"{tt:.2f} s / {to:.2f} s |")
    c = np.array([r[1] for r in rows])
    b = np.array([r[3] for r in rows])
    lb = np.array([r[2] for r in rows])
    print(f"\nmean: typed / bound {np.mean(c / lb):.3f}, typed saves {np.mean(1 - c / b):.1%} over the best one-type "
          f"plan of each day; time typed / one-type plans {sum(r[7] for r in rows) / sum(r[8] for r in rows):.2f}x")


if __name__ == "__main__":
    main()
