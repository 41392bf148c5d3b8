"""Memory and cost of top_partners' int8 path without a unit-norm copy (issue 12).

    python bench/topk_memory.py peak N [LABEL]    # fresh process: time and peak RSS of top_partners
    python bench/topk_memory.py ab N ROUNDS       # same process, alternating: the kernel on a
                                                  # unit-norm copy vs on the raw rows + row scales

make_shapes(N, 1440, random_state=2024, step_seconds=60), top-10 both signs, 2 threads. ``peak``
prints a checksum of the result, so runs of two builds can be compared; run it alternately with
each build's Python. ``ab`` prints wall and process CPU time per round and their ratios.
"""
from __future__ import annotations

import resource
import sys
import time

import pyshape
from pyshape import _core
from pyshape.correlate._common import unit_rows
from pyshape.synthetic import make_shapes


def rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def peak(n: int, label: str) -> None:
    X, _ = make_shapes(n, 1440, random_state=2024, step_seconds=60)
    r0 = rss_gib()
    t = time.perf_counter()
    p = pyshape.top_partners(X, 10, which="both", n_threads=2)
    w = time.perf_counter() - t
    print(f"{label} n={n}: {w:.1f} s, peak RSS {rss_gib():.3f} GiB (after make_shapes {r0:.3f}, input "
          f"{X.nbytes / 2**30:.3f}), checksum {int(p.corr_index.sum()) ^ int(p.anti_index.sum())} "
          f"{float(p.corr_score.sum()):.6f}", flush=True)


def ab(n: int, rounds: int) -> None:
    X, _ = make_shapes(n, 1440, random_state=2024, step_seconds=60)
    wall: dict[str, list[float]] = {"copy": [], "no-copy": []}
    cpu: dict[str, list[float]] = {"copy": [], "no-copy": []}
    for r in range(rounds):
        for how in (("copy", "no-copy") if r % 2 == 0 else ("no-copy", "copy")):
            t, c = time.perf_counter(), time.process_time()
            if how == "copy":
                _core.topk_int8(unit_rows(X, "X", 2), None, k=10, n_threads=2)
            else:
                sc, _ = _core.row_scales(X, 1.0, 2)
                _core.topk_int8(X, None, k=10, n_threads=2, db_scale=sc)
            wall[how].append(time.perf_counter() - t)
            cpu[how].append(time.process_time() - c)
            print(f"{how}: {wall[how][-1]:.2f} s wall, {cpu[how][-1]:.2f} s CPU", flush=True)
    for name, d in (("wall", wall), ("cpu", cpu)):
        print(name, "no-copy / copy per round:", [round(a / b, 3) for a, b in zip(d["no-copy"], d["copy"])])


if __name__ == "__main__":
    if sys.argv[1] == "peak":
        peak(int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else pyshape.__version__)
    else:
        ab(int(sys.argv[2]), int(sys.argv[3]))
