"""Small hard temporal bin-packing instances cut from real traces, solved exactly by CP-SAT.

An instance is a random subset of 20-80 workloads of one day of a real trace
(Bitbrains Rnd VMs, CPU and memory; Azure Functions sample, concurrency and
memory), downsampled to 24-96 steps by the max in each window, on 1 or 2
resources, with a worker capacity from just above the largest workload to
about four times it. Demands are put on an integer grid of 1/1000 of the
capacity (rounded up, so a plan of the grid is a plan of the real data) and
the capacity is 1000 on every resource: the CP-SAT model and pyshape's float32
checks are then both exact, and "optimal" means optimal for the instance.

"Hard": a draw on which plain ``first_fit`` already meets the simple lower
bound ``max_r ceil(max_t sum_i D / C)`` says nothing about a packer and is
redrawn (the count of redraws is reported).

Every instance is a pure function of ``(seed, index)`` and the trace files.
CP-SAT results (optimum or best bound, status, seconds) are cached in
``bench/hard_instances_cpsat.json`` keyed by instance and a hash of its data,
so the comparison reruns in seconds; new or changed instances are solved and
added (the file is rewritten after each solve, so an interrupted run resumes).

Usage (from the repository root)::

    python bench/hard_instances.py                 # 240 instances, solve what is not cached, compare
    python bench/hard_instances.py --seed 7        # a second, fresh set (also cached)
    python bench/hard_instances.py --count 40 --time-limit 5
    python bench/hard_instances.py --no-solve      # compare on cached instances only

The comparison prints, per strategy, mean and worst ``workers / optimum`` on
the instances whose optimum CP-SAT proved (and ``workers / bound`` over all),
and the instances where a strategy uses more workers than ``first_fit`` or
``best_fit``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from functools import cache
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

HERE = Path(__file__).resolve().parent
CACHE = HERE / "hard_instances_cpsat.json"
SHARED = Path(os.environ.get("PYSHAPE_DATA", HERE.parents[1] / "shared" / "data"))
SCALE = 1000          # capacity in grid units
STEPS = (24, 48, 96)  # downsampled day lengths
VERSION = 1


# --------------------------------------------------------------------------- sources
@cache
def _bitbrains() -> tuple:
    """(shapes (n, 2, T), steps per day): the Bitbrains month in ../shared/data when
    present (30 days), else the week bundled with the package."""
    from pyshape.traces import load_bitbrains, load_bitbrains_sample

    folder = SHARED / "bitbrains_rnd_2013-07"
    tr = load_bitbrains(folder) if folder.is_dir() else load_bitbrains_sample()
    spd = tr.steps_per_day
    days = tr.n_days
    return np.asarray(tr.shapes[:, :, :days * spd]), spd, days, ("cpu_mhz", "mem_gb"), str(
        folder if folder.is_dir() else "package sample")


@cache
def _azure() -> tuple:
    """The Azure Functions sample: one 60-minute window (its only 'day')."""
    from pyshape.traces import load_azure_sample

    tr = load_azure_sample()
    return np.asarray(tr.shapes), 60, 1, ("concurrency", "memory_mb"), "package sample"


def _window_max(x: np.ndarray, T: int) -> np.ndarray:
    """(n, R, S) -> (n, R, T) by the max of each of T equal windows (S a multiple of T)."""
    n, R, S = x.shape
    return x.reshape(n, R, T, S // T).max(axis=3)


# --------------------------------------------------------------------------- generator
def lower_bound(D: np.ndarray, cap: float = SCALE) -> int:
    return int(np.ceil(D.astype(np.float64).sum(axis=0).max() / cap - 1e-9))


def draw(seed: int, index: int) -> Dict:
    """Instance ``index`` of stream ``seed``: a dict with ``D`` (n, R, T) float32 integers,
    capacity ``SCALE``, and where it came from. Redraws (same stream) until
    ``first_fit`` is above the simple lower bound."""
    import pyshape

    rng = np.random.default_rng([seed, index])
    redraws = 0
    while True:
        src = "azure" if rng.random() < 0.25 else "bitbrains"
        X, spd, days, names, origin = _azure() if src == "azure" else _bitbrains()
        day = int(rng.integers(0, days))
        Xd = X[:, :, day * spd:(day + 1) * spd]
        T = int(rng.choice([t for t in STEPS if spd % t == 0] or [spd]))
        Xd = _window_max(Xd, T)
        R = int(rng.integers(1, 3))
        res = np.arange(2) if R == 2 else np.array([int(rng.integers(0, 2))])
        Xd = Xd[:, res, :]
        active = np.flatnonzero(Xd.max(axis=(1, 2)) > 0)
        n = int(rng.integers(20, 81))
        if active.size < n:
            redraws += 1
            continue
        rows = np.sort(rng.choice(active, n, replace=False))
        Y = Xd[rows].astype(np.float64)
        peak = Y.max(axis=(0, 2))                         # largest workload per resource
        f = float(np.exp(rng.uniform(np.log(1.02), np.log(4.0))))  # capacity / largest
        jitter = np.exp(rng.uniform(-0.25, 0.25, R)) if R == 2 else np.ones(1)
        cap_real = peak * np.maximum(f * jitter, 1.0)
        Q = np.ceil(Y / cap_real[None, :, None] * SCALE - 1e-9).clip(0, SCALE).astype(np.float32)
        lb = lower_bound(Q)
        ff = pyshape.pack(Q, float(SCALE), "first_fit").n_workers
        if ff > lb:
            break
        redraws += 1
    return {"key": f"{seed}-{index}", "D": Q, "source": src, "origin": origin, "day": day, "T": T,
            "resources": [names[r] for r in res], "rows": rows.tolist(), "factor": round(f, 4),
            "lower_bound": lb, "first_fit": ff, "redraws": redraws,
            "hash": hashlib.sha1(Q.tobytes() + str(Q.shape).encode()).hexdigest()[:16]}


# --------------------------------------------------------------------------- CP-SAT cache
def load_cache() -> Dict:
    if CACHE.is_file():
        c = json.loads(CACHE.read_text())
        if c.get("version") == VERSION:
            return c
    return {"version": VERSION, "scale": SCALE, "instances": {}}


def save_cache(c: Dict) -> None:
    tmp = CACHE.with_suffix(".tmp")
    tmp.write_text(json.dumps(c, indent=1, sort_keys=True))
    tmp.replace(CACHE)


def solve(inst: Dict, time_limit: float) -> Dict:
    """CP-SAT on the instance (exact on the integer grid), hinted with the best of the greedy plans."""
    sys.path.insert(0, str(HERE))
    from _pack_cpsat import cpsat_pack

    import pyshape

    D = inst["D"]
    order = np.argsort(-(D.max(axis=2) / SCALE).max(axis=1), kind="stable")
    plans = [pyshape.pack(D, float(SCALE), s) for s in ("first_fit", "best_fit", "complement")]
    best = min(plans, key=lambda p: p.n_workers)
    res = cpsat_pack(D[order], float(SCALE), max_workers=best.n_workers, time_limit=time_limit, scale=SCALE,
                     workers=1, hint=best.assignment[order])
    bound = max(res["bound"], inst["lower_bound"])
    workers = res["workers"] if res["workers"] is not None else best.n_workers
    return {"hash": inst["hash"], "status": res["status"], "optimum": workers if res["status"] == "OPTIMAL" else None,
            "best": int(workers), "bound": int(bound), "seconds": round(float(res["seconds"]), 3),
            "n": int(D.shape[0]), "R": int(D.shape[1]), "T": int(D.shape[2]), "source": inst["source"],
            "day": inst["day"], "factor": inst["factor"], "lower_bound": inst["lower_bound"],
            "redraws": inst["redraws"], "time_limit": time_limit}


def instances(seed: int, count: int) -> List[Dict]:
    return [draw(seed, k) for k in range(count)]


# --------------------------------------------------------------------------- comparison
def compare(insts: List[Dict], cache: Dict, strategies, extra: Optional[Dict] = None) -> Dict:
    """Workers per strategy per instance (every plan verified), and the summary table."""
    import pyshape

    rows = []
    for inst in insts:
        c = cache["instances"].get(inst["key"])
        if c is None or c["hash"] != inst["hash"]:
            continue
        w = {}
        secs = {}
        for s in strategies:
            kw = (extra or {}).get(s, {})
            name = kw.get("strategy", s)
            p = pyshape.pack(inst["D"], float(SCALE), name, **{k: v for k, v in kw.items() if k != "strategy"})
            p.verify()
            w[s] = p.n_workers
            secs[s] = p.seconds
        rows.append({"key": inst["key"], "opt": c["optimum"], "bound": c["bound"], "best": c["best"], "w": w,
                     "s": secs})
    return {"rows": rows}


def summarize(rows: List[Dict], strategies) -> str:
    proven = [r for r in rows if r["opt"] is not None]
    lines = [f"instances: {len(rows)}, CP-SAT proven optimal: {len(proven)}", "",
             "| strategy | mean workers / optimum | worst | instances at optimum | mean workers / bound (all) "
             "| worst / bound | > first_fit | > best_fit | mean ms |",
             "|---|---|---|---|---|---|---|---|---|"]
    for s in strategies:
        ro = np.array([r["w"][s] / r["opt"] for r in proven]) if proven else np.array([np.nan])
        rb = np.array([r["w"][s] / r["bound"] for r in rows])
        at = sum(r["w"][s] == r["opt"] for r in proven)
        wf = sum(r["w"][s] > r["w"].get("first_fit", 1 << 30) for r in rows)
        wb = sum(r["w"][s] > r["w"].get("best_fit", 1 << 30) for r in rows)
        ms = 1000 * np.mean([r["s"][s] for r in rows])
        lines.append(f"| {s} | {ro.mean():.4f} | {ro.max():.4f} | {at} / {len(proven)} | {rb.mean():.4f} | "
                     f"{rb.max():.4f} | {wf} | {wb} | {ms:.1f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--count", type=int, default=240)
    ap.add_argument("--time-limit", type=float, default=20.0, help="CP-SAT seconds per instance")
    ap.add_argument("--no-solve", action="store_true", help="only instances already in the cache")
    ap.add_argument("--strategies", default="first_fit,best_fit,complement,auto")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args(argv)
    cache = load_cache()
    t0 = time.perf_counter()
    insts = instances(a.seed, a.count)
    print(f"{len(insts)} instances drawn in {time.perf_counter() - t0:.1f} s "
          f"({sum(i['redraws'] for i in insts)} redraws where first_fit met the lower bound)", flush=True)
    if not a.no_solve:
        for k, inst in enumerate(insts):
            c = cache["instances"].get(inst["key"])
            if c is not None and c["hash"] == inst["hash"] and (
                    c["optimum"] is not None or c["time_limit"] >= a.time_limit):
                continue
            r = solve(inst, a.time_limit)
            cache["instances"][inst["key"]] = r
            save_cache(cache)
            print(f"[{k + 1}/{len(insts)}] {inst['key']} n={r['n']} R={r['R']} T={r['T']} {r['source']} "
                  f"{r['status']} opt={r['optimum']} bound={r['bound']} {r['seconds']:.1f}s", flush=True)
    strategies = [s for s in a.strategies.split(",") if s]
    import pyshape

    ok = [s for s in strategies if s in pyshape.packing.STRATEGIES] if hasattr(pyshape, "packing") else strategies
    res = compare(insts, cache, ok)
    if a.verbose:
        for r in res["rows"]:
            if r["opt"] is None or any(v > r["opt"] for v in r["w"].values()):
                print(r["key"], "opt", r["opt"], "bound", r["bound"], r["w"])
    print(summarize(res["rows"], ok))
    return 0


if __name__ == "__main__":
    sys.exit(main())
