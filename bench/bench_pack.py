"""Placement benchmarks: pyshape.pack against a straightforward NumPy temporal
first-fit, online Placer.place latency, the n = 1,000,000 default-strategy run
(opt-in), the optimality gap against OR-Tools CP-SAT on small instances
(optional dependency) and workers per strategy on the real samples.

Environment: ``PYSHAPE_BENCH_PACK_N`` (shapes of the NumPy comparison, 2,000),
``PYSHAPE_BENCH_PACK_MILLION=1`` (the million run), ``PYSHAPE_BENCH_PACK_MILLION_N``,
``PYSHAPE_BENCH_PLACER_WORKERS`` (10,000), ``PYSHAPE_BENCH_LIVE_SHAPES`` (100,000: Placer.score / update /
advance; the same figures from C: bench/c/bench_placer.c). See bench/RESULTS.md (placement).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

import pyshape
from pyshape.synthetic import iter_shapes
from conftest import CONFIG, peak_rss_gib

DATA = Path(os.environ.get("PYSHAPE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
PACK_N = int(float(os.environ.get("PYSHAPE_BENCH_PACK_N", "2000")))
MILLION = os.environ.get("PYSHAPE_BENCH_PACK_MILLION", "").strip() not in ("", "0")
MILLION_N = int(float(os.environ.get("PYSHAPE_BENCH_PACK_MILLION_N", "1000000")))
PLACER_W = int(float(os.environ.get("PYSHAPE_BENCH_PLACER_WORKERS", "10000")))
STRATS = ("peak", "first_fit", "best_fit", "complement")


def two_resource_shapes(n: int, T: int = 1440, seed: int = 11) -> np.ndarray:
    """(n, 2, T) float32: two independent draws of pyshape.synthetic shapes as 'cpu' and 'memory'."""
    D = np.empty((n, 2, T), np.float32)
    for r, s in enumerate((seed, seed + 1)):
        for start, x, _ in iter_shapes(n, T, random_state=s, chunk_size=65536, step_seconds=86400 / T):
            D[start:start + len(x), r] = x
    return D


def fleet_capacity(D: np.ndarray, per_worker: float = 40.0) -> np.ndarray:
    """Capacity that holds about ``per_worker`` mean peaks (and at least the largest peak)."""
    pk = D.max(axis=2)
    return np.maximum(pk.max(axis=0), pk.mean(axis=0) * per_worker).astype(np.float64)


def numpy_first_fit(D: np.ndarray, cap: np.ndarray) -> tuple[np.ndarray, int]:
    """Straightforward NumPy temporal first-fit decreasing: for each shape (largest peak
    first) test every open worker at once (``loads + s <= cap`` over R and T) and take
    the first that fits."""
    n, R, T = D.shape
    key = (D.max(axis=2) / cap).max(axis=1)
    order = np.argsort(-key, kind="stable")
    loads = np.zeros((16, R, T), np.float32)
    W = 0
    assign = np.empty(n, np.int64)
    c = cap.astype(np.float32)[None, :, None]
    for i in order:
        s = D[i]
        ok = np.flatnonzero((loads[:W] + s <= c).all(axis=(1, 2))) if W else np.empty(0, np.int64)
        if ok.size:
            w = ok[0]
        else:
            if W == loads.shape[0]:
                loads = np.concatenate([loads, np.zeros_like(loads)])
            w = W
            W += 1
        loads[w] += s
        assign[i] = w
    return assign, W


# --------------------------------------------------------------------------- vs NumPy
def bench_pack_vs_numpy(timed, results):
    D = two_resource_shapes(PACK_N)
    cap = fleet_capacity(D)
    case = f"pack n={PACK_N} T=1440 R=2"
    t0 = time.perf_counter()
    ref_a, ref_w = numpy_first_fit(D, cap)
    t_np = time.perf_counter() - t0
    plan, t_ff = timed(lambda: pyshape.pack(D, cap, "first_fit", n_threads=CONFIG.threads), rounds=3, group=case)
    plan.verify()
    assert plan.n_workers == ref_w and np.array_equal(plan.assignment, ref_a)
    results.add(case, "pyshape", t_ff, strategy="first_fit", workers=plan.n_workers)
    results.add(case, "numpy first-fit", t_np, workers=ref_w, speedup=f"{t_np / t_ff:.0f}x")
    comp = pyshape.pack(D, cap, n_threads=CONFIG.threads)
    comp.verify()
    results.add(case, "pyshape complement", comp.seconds, workers=comp.n_workers, lower_bound=comp.lower_bound,
                peak_workers=comp.peak_workers)
    results.note(case, speedup_first_fit=f"{t_np / t_ff:.0f}x (same assignment)")


# --------------------------------------------------------------------------- online
def bench_placer_latency(results):
    """Placer.place latency with PLACER_W workers open (the pool holds every placed shape:
    about 0.4 GiB per 1,000 workers at T = 1440, R = 2, so 10,000 workers need ~4.3 GiB).

    Pass 1 (the headline): 3,000 probes through ``Placer.place``, each into a fresh slot.
    Pass 2, after removing them: the same probes again, alternating the Python method (even
    probes) and the bare ``_core`` call on the same float32 arrays (odd probes), so that the
    two see the same fleet: their difference is the Python wrapper's cost.
    """
    T = 1440
    rng = np.random.default_rng(7)
    base = two_resource_shapes(4096, T, seed=21)
    cap = fleet_capacity(base, per_worker=3.0)
    p = pyshape.Placer(cap, T)
    k = 0
    t0 = time.perf_counter()
    while p.n_workers < PLACER_W:
        p.place(k, base[k % len(base)])
        k += 1
    t_fill = time.perf_counter() - t0
    probes = base[rng.integers(0, len(base), 3000)] * rng.uniform(0.2, 1.0, (3000, 1, 1)).astype(np.float32)
    keys = [("probe", j).__repr__() for j in range(len(probes))]
    lat = np.empty(len(probes))
    for j, s in enumerate(probes):
        a = time.perf_counter_ns()
        p.place(keys[j], s)
        lat[j] = time.perf_counter_ns() - a
    for key in keys:
        p.remove(key)
    lat2 = np.empty(len(probes))
    core = p._p
    for j, s in enumerate(probes):
        place = p.place if j % 2 == 0 else core.place
        a = time.perf_counter_ns()
        place(keys[j], s)
        lat2[j] = time.perf_counter_ns() - a
    for key in keys:
        p.remove(key)
    med, p99 = np.median(lat) / 1e3, np.percentile(lat, 99) / 1e3
    py_med, core_med = np.median(lat2[0::2]) / 1e3, np.median(lat2[1::2]) / 1e3
    case = f"Placer.place T={T} R=2, {p.n_workers} workers open"
    results.add(case, "pyshape", float(np.median(lat)) / 1e9, median_us=f"{med:.1f}", p99_us=f"{p99:.1f}",
                pass2_python_median_us=f"{py_med:.1f}", pass2_core_median_us=f"{core_med:.1f}",
                fill=f"{k} places in {t_fill:.1f} s", rss_gib=f"{peak_rss_gib():.1f}")
    print(f"\n[placer] workers={p.n_workers} placed={k} fill={t_fill:.1f} s median={med:.1f} us p99={p99:.1f} us; "
          f"pass 2 median: Placer.place {py_med:.2f} us, _core call {core_med:.2f} us; "
          f"rss={peak_rss_gib():.1f} GiB", flush=True)


# --------------------------------------------------------------------------- scores and live updates
LIVE_N = int(float(os.environ.get("PYSHAPE_BENCH_LIVE_SHAPES", "100000")))


def bench_placer_live(results):
    """Placer.score (100 random candidates), Placer.update (one shape) and Placer.advance (one step for
    LIVE_N placed shapes) from Python, each also through the bare ``_core`` call: the Python method's
    overhead. The same figures from C: bench/c/bench_placer.c (bench/RESULTS.md)."""
    T = 1440
    rng = np.random.default_rng(5)
    base = two_resource_shapes(4096, T, seed=21)
    cap = fleet_capacity(base, per_worker=3.0)
    p = pyshape.Placer(cap, T)
    for k in range(LIVE_N):
        p.place(k, base[k % len(base)])
    core = p._p
    W = p.n_workers
    probes = base[rng.integers(0, len(base), 200)] * rng.uniform(0.2, 1.0, (200, 1, 1)).astype(np.float32)

    def timed_us(f, n):
        lat = np.empty(n)
        for j in range(n):
            a = time.perf_counter_ns()
            f(j)
            lat[j] = time.perf_counter_ns() - a
        return np.median(lat) / 1e3, np.percentile(lat, 99) / 1e3

    cands = [rng.integers(0, W, 100) for _ in range(2000)]
    py_score = timed_us(lambda j: p.score(probes[j % 200], cands[j]), 2000)
    core_score = timed_us(lambda j: core.score(probes[j % 200], cands[j], 1.0), 2000)
    keys = rng.integers(0, LIVE_N, 2000)
    py_upd = timed_us(lambda j: p.update(int(keys[j]), base[keys[j] % len(base)]), 2000)
    core_upd = timed_us(lambda j: core.update(int(keys[j]), base[keys[j] % len(base)]), 2000)
    vals = [rng.uniform(0, 0.5, (LIVE_N, 2, 1)).astype(np.float32) for _ in range(2)]
    py_adv = timed_us(lambda j: p.advance(vals[j % 2]), 20)
    core_adv = timed_us(lambda j: core.advance(vals[j % 2], None), 20)
    ids = p.ids()
    py_adv_ids = timed_us(lambda j: p.advance(vals[j % 2], ids=ids), 10)
    case = f"Placer live T={T} R=2, {LIVE_N} shapes on {W} workers"
    results.add(case, "pyshape", py_score[0] / 1e6,
                score100_us=f"{py_score[0]:.1f} / p99 {py_score[1]:.1f} (core {core_score[0]:.1f})",
                update_us=f"{py_upd[0]:.1f} / p99 {py_upd[1]:.1f} (core {core_upd[0]:.1f})",
                advance_ms=f"{py_adv[0] / 1e3:.1f} / p99 {py_adv[1] / 1e3:.1f} (core {core_adv[0] / 1e3:.1f}; "
                           f"with ids {py_adv_ids[0] / 1e3:.1f})")
    print(f"\n[placer live] {LIVE_N} shapes, {W} workers: score 100 median {py_score[0]:.1f} us "
          f"(core {core_score[0]:.1f}), update {py_upd[0]:.1f} us (core {core_upd[0]:.1f}), "
          f"advance 1 step {py_adv[0] / 1e3:.1f} ms (core {core_adv[0] / 1e3:.1f}, with ids "
          f"{py_adv_ids[0] / 1e3:.1f})", flush=True)
    assert core.check() == "" if hasattr(core, "check") else core._check() == ""


# --------------------------------------------------------------------------- million
@pytest.mark.skipif(not MILLION, reason="set PYSHAPE_BENCH_PACK_MILLION=1")
def bench_pack_million(results):
    t0 = time.perf_counter()
    D = two_resource_shapes(MILLION_N)
    t_gen = time.perf_counter() - t0
    cap = fleet_capacity(D)
    plan = pyshape.pack(D, cap, n_threads=CONFIG.threads)
    case = f"pack n={MILLION_N} T=1440 R=2 (default)"
    results.add(case, "pyshape", plan.seconds, workers=plan.n_workers, lower_bound=plan.lower_bound,
                ratio=f"{plan.n_workers / plan.lower_bound:.4f}", peak_workers=plan.peak_workers,
                rss_gib=f"{peak_rss_gib():.1f}", input_gib=f"{D.nbytes / 2**30:.1f}", gen_s=f"{t_gen:.0f}")
    print(f"\n[million] {plan.summary()} rss={peak_rss_gib():.1f} GiB", flush=True)


@pytest.mark.skipif(not MILLION, reason="set PYSHAPE_BENCH_PACK_MILLION=1")
@pytest.mark.parametrize("R", [1, 2])
def bench_pack_million_288(results, R):
    """n = 1,000,000 shapes of T = 288 (5-minute steps): the default 'auto' against 'complement'
    (its fallback rule) in the same run, alternating (auto, complement, auto), wall and CPU time."""
    import resource

    D = np.ascontiguousarray(two_resource_shapes(MILLION_N, T=288)[:, :R])
    cap = fleet_capacity(D)
    for k, s in enumerate(("auto", "complement", "auto")):
        c0 = resource.getrusage(resource.RUSAGE_SELF)
        plan = pyshape.pack(D, cap, s, n_threads=CONFIG.threads)
        c1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
        results.add(f"pack n={MILLION_N} T=288 R={R}", f"{s} (run {k + 1})", plan.seconds, workers=plan.n_workers,
                    lower_bound=plan.lower_bound, peak_workers=plan.peak_workers, cpu_s=f"{cpu:.2f}")
        print(f"\n[million T=288 R={R}] {s}: {plan.seconds:.2f} s wall, {cpu:.2f} s CPU, {plan.n_workers} workers "
              f"(lower bound {plan.lower_bound}, peak {plan.peak_workers})", flush=True)


# --------------------------------------------------------------------------- CP-SAT
def bench_optimality_gap_cpsat(results):
    pytest.importorskip("ortools")
    from _pack_cpsat import cpsat_pack

    rng = np.random.default_rng(3)
    t = np.arange(24)
    rows = []
    for inst in range(6):
        n = 40 if inst < 3 else 30
        # integer demands (capacity 20): daily shapes with random phase, so the model is exact
        phase = rng.integers(0, 24, n)
        amp = rng.integers(2, 8, n)
        base = rng.integers(0, 3, n)
        D = base[:, None] + amp[:, None] * (np.cos(2 * np.pi * (t[None, :] - phase[:, None]) / 24) > 0.3)
        D = D[:, None, :].astype(np.float32)
        cap = 20.0
        order = np.argsort(-D.max(axis=(1, 2)), kind="stable")
        plans = {s: pyshape.pack(D, cap, s) for s in STRATS}
        for pl in plans.values():
            pl.verify()
        opt = cpsat_pack(D[order], cap, max_workers=plans["first_fit"].n_workers, time_limit=60, scale=20,
                         workers=1, hint=plans["complement"].assignment[order])
        rows.append((inst, n, plans["complement"].lower_bound, opt, {s: p.n_workers for s, p in plans.items()}))
        results.add(f"cpsat instance {inst} n={n} T=24", "cp-sat", opt["seconds"], status=opt["status"],
                    optimum=opt["workers"], bound=opt["bound"],
                    **{s: p.n_workers for s, p in plans.items()}, lower_bound=plans["complement"].lower_bound)
    for s in STRATS:
        gaps = [(r[4][s] - r[3]["bound"]) / r[3]["bound"] for r in rows]
        results.note("cpsat gap (workers / CP-SAT bound - 1)",
                     **{s: f"mean {np.mean(gaps):.3f} max {np.max(gaps):.3f}"})


# --------------------------------------------------------------------------- real data
def bitbrains_days():
    from pyshape.traces import load_bitbrains

    folder = DATA / "bitbrains_rnd_2013-07"
    if not folder.is_dir():
        pytest.skip(f"no Bitbrains sample at {folder}")
    return load_bitbrains(folder)


@pytest.mark.parametrize("size", [(32000.0, 64.0), (64000.0, 128.0)], ids=["32GHz-64GB", "64GHz-128GB"])
def bench_bitbrains(results, size):
    tr = bitbrains_days()
    days = tr.shapes.shape[2] // 288
    tot = {s: 0 for s in STRATS}
    tot_lb = 0
    worse = 0
    for d in range(days):
        day = tr.day(d)
        plans = {s: pyshape.pack(day.shapes, size, s) for s in STRATS}
        for pl in plans.values():
            pl.verify()
            assert pl.replay(day.shapes).workers_over == 0
        lb = plans["complement"].lower_bound
        tot_lb += lb
        for s in STRATS:
            tot[s] += plans[s].n_workers
        worse += plans["complement"].n_workers > plans["first_fit"].n_workers
        results.add(f"bitbrains {size[0] / 1000:.0f}GHz/{size[1]:.0f}GB day {d}", "pyshape",
                    plans["complement"].seconds, lower_bound=lb,
                    **{s: plans[s].n_workers for s in STRATS})
    results.note(f"bitbrains {size[0] / 1000:.0f}GHz/{size[1]:.0f}GB all {days} days",
                 lower_bound=tot_lb, **tot, days_default_worse_than_first_fit=worse)


@pytest.mark.parametrize("size", [(50.0, 8192.0), (200.0, 32768.0)], ids=["50conc-8GB", "200conc-32GB"])
def bench_azure(results, size):
    d = DATA / "azure_functions_2019_freyr_sample"
    if not d.is_dir():
        pytest.skip(f"no Azure sample at {d}")
    import pandas as pd

    inv = pd.read_csv(d / "invocation_traces.csv")
    dur = pd.read_csv(d / "duration_traces.csv").set_index("HashFunction")
    mem = pd.read_csv(d / "memory_traces.csv").set_index("HashFunction")
    ids = inv["HashFunction"].to_numpy()
    counts = inv[[str(i) for i in range(1, 61)]].to_numpy(np.float64)
    conc = counts * dur.loc[ids, "Average"].to_numpy()[:, None] / 1000.0 / 60.0  # busy instances per minute
    mb = mem.loc[ids, "AverageAllocatedMb"].to_numpy()[:, None] * (counts > 0)  # memory while active
    D = np.stack([conc, mb], axis=1).astype(np.float32)
    keep = (D.max(axis=2) <= np.array(size)).all(axis=1)
    plans = {s: pyshape.pack(D[keep], size, s) for s in STRATS}
    for pl in plans.values():
        pl.verify()
    results.add(f"azure {size[0]:.0f} conc/{size[1] / 1024:.0f}GB n={keep.sum()} (of {len(D)})", "pyshape",
                plans["complement"].seconds, lower_bound=plans["complement"].lower_bound,
                **{s: plans[s].n_workers for s in STRATS})
