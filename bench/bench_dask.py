"""pyshape.dask on this machine: top-k with 1 and 2 Dask worker processes, the
cost of one block pair and of one packing shard (the inputs of the cluster
estimate in bench/RESULTS.md), and sharded vs single-machine packing on the
packaged real traces.

Run (niced; ~3 minutes on a quiet 2-core machine):

    nice python bench/bench_dask.py [--n 12000] [--block 3000] [--T 1440]

Not a pytest module (no bench_* functions): pytest collects nothing here.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

import pyshape


def _load() -> str:
    return "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def timed(f, *a, repeat=1, **kw):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f(*a, **kw)
        best = min(best, time.perf_counter() - t0)
    return best, out


def topk_scaling(n, T, block, k):
    import dask.array as da
    from distributed import Client, LocalCluster

    import pyshape.dask as pdask

    X = np.random.default_rng(0).standard_normal((n, T)).astype(np.float32)
    nb = -(-n // block)
    print(f"\n## top-{k} partners (which='corr', brute force), n = {n}, T = {T}, blocks of {block} "
          f"({nb} blocks, {nb * nb} block pairs)   [{_load()}]")
    t1, ref = timed(pyshape.top_partners, X, k, which="corr", method="bruteforce", n_threads=1)
    t2, _ = timed(pyshape.top_partners, X, k, which="corr", method="bruteforce", n_threads=2)
    print(f"in memory, 1 thread : {t1:7.2f} s")
    print(f"in memory, 2 threads: {t2:7.2f} s")
    # one block pair, as a task runs it
    xb, qb = X[:block], X[block:2 * block]
    tp, _ = timed(pyshape.top_partners, xb, k, which="corr", queries=qb, method="bruteforce", n_threads=1,
                  repeat=3)
    macs = block * block * T
    print(f"one block pair ({block} x {block} x {T}), 1 thread: {tp:.3f} s = {macs / tp / 1e9:.1f} GMAC/s")
    res = {"pair_s": tp, "pair_gmacs": macs / tp / 1e9}
    for workers in (1, 2):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as c, \
                Client(c) as client:
            client.run(lambda: __import__("pyshape"))  # warm the workers
            D = da.from_array(X, chunks=(block, T)).persist()  # the blocks live on the workers
            client.wait_for_workers(workers)
            t, got = timed(lambda: pdask.compute(pdask.top_partners(D, k, which="corr", method="bruteforce")))
            same = np.array_equal(got.corr_index, ref.corr_index) and np.array_equal(got.corr_score, ref.corr_score)
            over = (t * workers - nb * nb * tp) / (nb * nb)
            print(f"dask, {workers} worker process(es) x 1 thread: {t:7.2f} s  (identical to in-memory: {same}; "
                  f"overhead per block pair ~ {max(over, 0) * 1e3:.0f} ms)")
            res[f"dask{workers}"] = t
    print(f"speed-up 1 -> 2 workers: {res['dask1'] / res['dask2']:.2f}x")
    return res


def pack_shards(n, T, shard):
    import dask.array as da

    import pyshape.dask as pdask
    from bench_pack import fleet_capacity, two_resource_shapes  # bench/ on sys.path

    D = two_resource_shapes(n, T)
    cap = fleet_capacity(D)
    print(f"\n## packing in shards: n = {n}, R = 2, T = {T}, shards of {shard}   [{_load()}]")
    ts, single = timed(pyshape.pack, D, cap, shard_size=0, n_threads=1)
    print(f"single machine, one shard: {single.n_workers} workers (lower bound {single.lower_bound}) in {ts:.2f} s")
    import dask

    with dask.config.set(scheduler="sync"):  # one process: the per-shard times are clean
        t, sp = timed(pdask.pack, da.from_array(D, chunks=(shard, 2, T)), cap, shard_size=shard)
    sh = np.array(sp.shard_seconds)
    print(f"sharded ({sp.n_shards} shards): {sp.shard_workers} workers -> {sp.n_workers} after repacking "
          f"{sp.repacked_from} under-filled into {sp.repacked_to} "
          f"({sp.n_workers / single.n_workers - 1:+.2%} vs single machine); per shard {sh.mean():.2f} s "
          f"(= {sh.mean() / shard * 1e6:.0f} us per shape), total {t:.2f} s")
    return {"shard_s": float(sh.mean()), "per_shape_us": float(sh.mean() / shard * 1e6)}


def real_traces(data: str | None = None, shards=(1, 2, 4, 8, 16)):
    """Sharded (1 to 16 shards; no repack, the 4 least-filled workers per shard repacked in 3
    rounds, and the default repack that also releases one shard's share of shapes) against
    single-machine packing on the packaged traces and, with ``data``, the
    Bitbrains month of ../shared/data (the month, each day, and a fleet of
    all 7,750 VM-days as shapes of one day)."""
    import dask

    import pyshape.dask as pdask
    from pyshape.traces import load_azure_sample, load_bitbrains, load_bitbrains_sample

    bb, az = load_bitbrains_sample(), load_azure_sample()
    print(f"\n## sharded vs single-machine packing on real traces   [{_load()}]")
    cases = []

    def fits(D, cap):
        return np.ascontiguousarray(D[(D.max(axis=2) <= np.array(cap)).all(axis=1)])

    for cap in [(32000.0, 64.0), (64000.0, 128.0), (16000.0, 32.0)]:
        D = fits(bb.shapes, cap)
        cases.append(("package", f"bitbrains week {cap[0] / 1000:.0f}GHz/{cap[1]:.0f}GB", D, cap))
        for d in range(7):
            cases.append(("package", f"bitbrains day {d} {cap[0] / 1000:.0f}GHz",
                          np.ascontiguousarray(D[:, :, d * 288:(d + 1) * 288]), cap))
    for cap in [(50.0, 8192.0), (200.0, 32768.0)]:
        cases.append(("package", f"azure {cap[0]:.0f}/{cap[1] / 1024:.0f}GB", fits(az.shapes, cap), cap))
    if data:
        month = load_bitbrains(data)
        P = month.steps_per_day
        days = month.shapes[:, :, :month.n_days * P].reshape(month.n, month.shapes.shape[1], month.n_days, P)
        vmdays = np.ascontiguousarray(days.transpose(0, 2, 1, 3).reshape(-1, month.shapes.shape[1], P))
        for cap in [(32000.0, 64.0), (64000.0, 128.0)]:
            D = fits(month.shapes, cap)
            cases.append(("shared", f"bitbrains month {cap[0] / 1000:.0f}GHz", D, cap))
            for d in range(month.n_days):
                cases.append(("shared", f"bitbrains month day {d} {cap[0] / 1000:.0f}GHz",
                              np.ascontiguousarray(D[:, :, d * P:(d + 1) * P]), cap))
            cases.append(("shared", f"bitbrains VM-days ({vmdays.shape[0]}) {cap[0] / 1000:.0f}GHz",
                          fits(vmdays, cap), cap))
    t0 = time.perf_counter()
    single = [pyshape.pack(D, cap).n_workers for _, _, D, cap in cases]
    print(f"{len(cases)} cases ({sum(c[0] == 'package' for c in cases)} packaged, "
          f"{sum(c[0] == 'shared' for c in cases)} from {data}), {sum(single)} workers on a single machine in all "
          f"({time.perf_counter() - t0:.1f} s)")
    print("| shards | repack | workers in all | vs single machine | packaged only | shared only "
          "| mean per case | worst case | cases above +3% |")
    print("|---|---|---|---|---|---|---|---|---|")
    big = [i for i, c in enumerate(cases) if "VM-days" in c[1]]
    configs = {"none": {"repack": 0, "repack_shapes": 0}, "4 per shard, 3 rounds": {"repack_shapes": 0},
               "default": {}}
    with dask.config.set(scheduler="sync"):
        for S in shards:
            for label, kw in configs.items():
                if S == 1 and label != "default":
                    continue  # one shard: no repack, the single-machine plan
                w = [pdask.pack(D, cap, n_shards=S, **kw).n_workers for _, _, D, cap in cases]
                for i in big:
                    print(f"  {cases[i][1]}, {S} shards, repack {label}: {w[i]} workers vs "
                          f"{single[i]} single machine ({w[i] / single[i] - 1:+.1%})")
                ex = [a / b - 1 for a, b in zip(w, single)]
                worst = int(np.argmax(ex))
                part = {}
                for src in ("package", "shared"):
                    sel = [i for i, c in enumerate(cases) if c[0] == src]
                    part[src] = (f"{sum(w[i] for i in sel) / sum(single[i] for i in sel) - 1:+.1%}" if sel else "-")
                print(f"| {S} | {label} | {sum(w)} | {sum(w) / sum(single) - 1:+.1%} | {part['package']} | "
                      f"{part['shared']} | {np.mean(ex):+.2%} | {ex[worst]:+.1%} ({cases[worst][1]}: {w[worst]} vs "
                      f"{single[worst]}) | {sum(e > 0.03 for e in ex)} |", flush=True)


def repack_time(data: str, shards=(2, 4, 8, 16)):
    """Wall time of ``pdask.pack`` on the VM-days fleet at 32 GHz (Dask's synchronous
    scheduler): ``repack_shapes=0`` (the 4-per-shard rounds only) against the default,
    alternated in one run, best of 3 each."""
    import dask

    import pyshape.dask as pdask
    from pyshape.traces import load_bitbrains

    month = load_bitbrains(data)
    P, cap = month.steps_per_day, (32000.0, 64.0)
    days = month.shapes[:, :, :month.n_days * P].reshape(month.n, month.shapes.shape[1], month.n_days, P)
    D = np.ascontiguousarray(days.transpose(0, 2, 1, 3).reshape(-1, month.shapes.shape[1], P))
    D = np.ascontiguousarray(D[(D.max(axis=2) <= np.array(cap)).all(axis=1)])
    t, _ = timed(pyshape.pack, D, cap, n_threads=1, repeat=3)
    print(f"\n## repack time, VM-days ({D.shape[0]}) at 32 GHz; single machine (1 thread) {t:.2f} s   [{_load()}]")
    print("| shards | repack_shapes=0 | default | default / old | shards' own time (sum) |")
    print("|---|---|---|---|---|")
    with dask.config.set(scheduler="sync"):
        for S in shards:
            best: dict = {"old": [], "new": []}
            for _ in range(3):
                for label, kw in (("old", {"repack_shapes": 0}), ("new", {})):
                    t0 = time.perf_counter()
                    sp = pdask.pack(D, cap, n_shards=S, **kw)
                    best[label].append((time.perf_counter() - t0, sp.n_workers, sum(sp.shard_seconds)))
            o, d = min(best["old"]), min(best["new"])
            print(f"| {S} | {o[0]:.2f} s ({o[1]} workers) | {d[0]:.2f} s ({d[1]}) | {d[0] / o[0]:.2f}x | "
                  f"{o[2]:.2f} / {d[2]:.2f} s |", flush=True)


def typed_traces(data: str | None = None, shards=(2, 4, 8)):
    """Worker types on Dask: the sharded typed plan's cost against the in-memory typed
    ``pyshape.pack`` on the packaged Bitbrains week (the week and its days) and, with
    ``data``, the month's days and the VM-days fleet; three types, the large one the
    cheapest per unit of CPU (as in the Bitbrains types example)."""
    import dask

    import pyshape.dask as pdask
    from pyshape.packing import WorkerTypes
    from pyshape.traces import load_bitbrains, load_bitbrains_sample

    types = WorkerTypes(["small", "medium", "large"], [[16000.0, 32.0], [32000.0, 64.0], [64000.0, 128.0]],
                        [1.0, 1.9, 3.6])
    big = types.capacity[-1]

    def fits(D):
        return np.ascontiguousarray(D[(D.max(axis=2) <= big).all(axis=1)])

    bb = fits(load_bitbrains_sample().shapes)
    cases = [("bitbrains week", bb)] + [(f"bitbrains day {d}", np.ascontiguousarray(bb[:, :, d * 288:(d + 1) * 288]))
                                        for d in range(7)]
    if data:
        month = load_bitbrains(data)
        P = month.steps_per_day
        M = fits(month.shapes)
        cases += [(f"month day {d}", np.ascontiguousarray(M[:, :, d * P:(d + 1) * P])) for d in range(month.n_days)]
        days = month.shapes[:, :, :month.n_days * P].reshape(month.n, month.shapes.shape[1], month.n_days, P)
        cases.append(("VM-days", fits(days.transpose(0, 2, 1, 3).reshape(-1, month.shapes.shape[1], P))))
    print(f"\n## worker types on Dask: {types}; {len(cases)} cases   [{_load()}]")
    mem = [pyshape.pack(D, types) for _, D in cases]
    print(f"in memory: cost {sum(p.cost for p in mem):.1f} in all, {sum(p.n_workers for p in mem)} workers")
    print("| shards | cost in all | vs in memory | mean per case | worst case | cases above +3% | all verify() clean |")
    print("|---|---|---|---|---|---|---|")
    with dask.config.set(scheduler="sync"):
        for S in shards:
            sp = [pdask.pack(D, types, n_shards=S) for _, D in cases]
            ok = all(p.to_plan(D).verify(raise_on_error=False).ok for p, (_, D) in zip(sp, cases))
            ex = [a.cost / b.cost - 1 for a, b in zip(sp, mem)]
            w = int(np.argmax(ex))
            c_sp, c_mem = sum(p.cost for p in sp), sum(p.cost for p in mem)
            print(f"| {S} | {c_sp:.1f} | {c_sp / c_mem - 1:+.1%} "
                  f"| {np.mean(ex):+.2%} | {ex[w]:+.1%} ({cases[w][0]}: {sp[w].cost:.1f} vs {mem[w].cost:.1f}, "
                  f"{sp[w].type_counts} vs {mem[w].type_counts}) | {sum(e > 0.03 for e in ex)} | {ok} |", flush=True)
            v = len(cases) - 1
            print(f"  {cases[v][0]}: {sp[v].cost:.1f} ({sp[v].type_counts}) vs {mem[v].cost:.1f} "
                  f"({mem[v].type_counts}); cost lower bound {sp[v].cost_lower_bound:.1f}, peak-based "
                  f"{sp[v].peak_cost:.1f}; shards {sp[v].shard_cost:.1f} before the repack; {sp[v].seconds:.1f} s")


def kshape_fit(n, T, k, chunk):
    """KShape fitted in memory and on a LocalCluster of 2 worker processes from
    the same initial centroids: per-iteration time and whether the results agree."""
    import dask.array as da
    from distributed import Client, LocalCluster

    import pyshape.dask as pdask
    from pyshape.synthetic import make_shapes

    X, _ = make_shapes(n, T, random_state=0)
    init = X[np.random.default_rng(0).choice(n, k, replace=False)]
    print(f"\n## KShape fit, n = {n}, T = {T}, k = {k}, max_iter = 3, partitions of {chunk}   [{_load()}]")
    tm, a = timed(lambda: pyshape.KShape(k, init=init, max_iter=3, n_threads=2).fit(X))
    print(f"in memory, 2 threads: {tm:.1f} s ({a.n_iter_} iterations)")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c, \
            Client(c) as client:
        client.run(lambda: __import__("pyshape"))
        D = da.from_array(X, chunks=(chunk, T)).persist()
        td, b = timed(lambda: pdask.fit_kshape(pyshape.KShape(k, init=init, max_iter=3), D))
    same = np.array_equal(a.labels_, b.labels_) and np.array_equal(a.lags_, b.lags_)
    print(f"dask, 2 worker processes x 1 thread: {td:.1f} s ({b.n_iter_} iterations; labels and lags identical: "
          f"{same}; centroids max |diff| {np.abs(a.cluster_centers_ - b.cluster_centers_).max():.1e}); "
          f"{td / tm:.2f}x the in-memory time")


def _rss_gib() -> float:
    """Resident set size of this process now (GiB), from /proc."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 2**20
    return float("nan")


def build_npy(path: str, n: int, T: int, seed: int = 0) -> float:
    """The seeded synthetic file (``pyshape.synthetic.iter_shapes``), written in
    chunks through a memory map: never more than one chunk in memory."""
    from pyshape.synthetic import iter_shapes

    t0 = time.perf_counter()
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, T))
    for start, chunk, _ in iter_shapes(n, T, chunk_size=65536, random_state=seed, n_threads=1):
        X[start:start + chunk.shape[0]] = chunk
        X.flush()  # write back now: dirty pages of an 11.5 GiB map would otherwise pile up
    del X
    return time.perf_counter() - t0


def from_disk(path: str, n: int, T: int, n_queries: int, chunk_rows: int, k: int, workers: int,
              check: int) -> None:
    """Top-k of the first ``n_queries`` rows of a memory-mapped .npy against all
    of its rows, Dask's threaded scheduler (``workers`` threads, one C++ thread
    per task): peak RSS and time, and ``check`` queries verified against a
    streamed NumPy reference (Pearson of the query with every block, top-k)."""
    import resource
    import threading

    import dask

    import pyshape.dask as pdask

    if not os.path.exists(path):
        print(f"building {path}: {n} x {T} float32 ({n * T * 4 / 2**30:.1f} GiB) ...", flush=True)
        print(f"built in {build_npy(path, n, T):.0f} s", flush=True)
    D = pdask.open_npy(path, chunk_rows=chunk_rows)
    n, T = D.shape
    Q = D[:n_queries].rechunk({0: n_queries})  # one query block: every database block is read once
    print(f"\n## top-{k} (which='both', method='auto') of the first {n_queries} rows against all {n} rows of "
          f"{path} ({n * T * 4 / 2**30:.1f} GiB), blocks of {chunk_rows} rows "
          f"({len(D.chunks[0])} pair tasks), {workers} threads   [{_load()}]", flush=True)
    peak = [_rss_gib()]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.5):
            peak[0] = max(peak[0], _rss_gib())

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    t0 = time.perf_counter()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    with dask.config.set(scheduler="threads", num_workers=workers):
        p = pdask.compute(pdask.top_partners(D, k, queries=Q, which="both"))
    t = time.perf_counter() - t0
    stop.set()
    th.join()
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    maxrss = r1.ru_maxrss / 2**20
    macs = float(n_queries) * n * T
    print(f"time {t:.0f} s wall, {cpu:.0f} s CPU ({macs / t / 1e9:.1f} GMAC/s per wall second, "
          f"{macs / cpu / 1e9:.1f} per CPU second); peak RSS {peak[0]:.2f} GiB sampled, "
          f"ru_maxrss {maxrss:.2f} GiB   [{_load()}]", flush=True)
    # the check: `check` queries spread over the query rows, scored against every row in blocks
    rows = np.linspace(0, n_queries - 1, check).astype(np.int64)
    Xm = np.load(path, mmap_mode="r")
    q = np.array(Xm[rows])
    scores = np.empty((check, n), dtype=np.float32)
    for s in range(0, n, chunk_rows):
        scores[:, s:s + chunk_rows] = pyshape.pearson(q, np.array(Xm[s:s + chunk_rows]), n_threads=workers)
    top = np.sort(scores, axis=1)
    ok_corr = np.allclose(p.corr_score[rows], top[:, ::-1][:, :k], atol=2e-6)
    ok_anti = np.allclose(p.anti_score[rows], top[:, :k], atol=2e-6)
    got = np.take_along_axis(scores, p.corr_index[rows], axis=1)
    print(f"check on {check} queries against a streamed Pearson reference: corr scores {ok_corr}, "
          f"anti scores {ok_anti}, indices give their scores {np.allclose(got, p.corr_score[rows], atol=2e-6)}")
    pair_cpu = cpu / len(D.chunks[0])
    full_cpu = cpu * n / n_queries
    print(f"per pair task ({n_queries} x {chunk_rows} x {T}): {pair_cpu:.1f} CPU s; extrapolated to all {n} "
          f"queries (every pair scored from both sides): {full_cpu / 3600:.1f} CPU hours = "
          f"{full_cpu / 3600 / workers:.1f} h on {workers} cores given to it; this run's wall: "
          f"{t * n / n_queries / 3600:.1f} h")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=12000)
    ap.add_argument("--T", type=int, default=1440)
    ap.add_argument("--block", type=int, default=3000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--pack-n", type=int, default=65536)
    ap.add_argument("--shard", type=int, default=16384)
    ap.add_argument("--skip", default="", help="comma-separated: topk,pack,real,typed,retime,kshape")
    ap.add_argument("--kshape-n", type=int, default=5000)
    ap.add_argument("--kshape-chunk", type=int, default=1250)
    ap.add_argument("--data", default=None, help="Bitbrains folder of ../shared/data for the real-trace cases")
    ap.add_argument("--disk", metavar="PATH", default=None,
                    help="only the larger-than-memory run: top-k of --queries rows against a memory-mapped "
                         ".npy (built here with --disk-n rows if missing; delete it afterwards)")
    ap.add_argument("--disk-n", type=int, default=2_000_000)
    ap.add_argument("--queries", type=int, default=20_000)
    ap.add_argument("--disk-chunk", type=int, default=32768)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--check", type=int, default=64)
    a = ap.parse_args()
    if a.disk:
        print(f"pyshape {pyshape.__version__}, simd {pyshape.simd_level()}, {os.cpu_count()} CPUs   [{_load()}]")
        from_disk(a.disk, a.disk_n, a.T, a.queries, a.disk_chunk, a.k, a.workers, a.check)
        return
    skip = set(a.skip.split(","))
    print(f"pyshape {pyshape.__version__}, simd {pyshape.simd_level()}, {os.cpu_count()} CPUs   [{_load()}]")
    if "topk" not in skip:
        topk_scaling(a.n, a.T, a.block, a.k)
    if "pack" not in skip:
        pack_shards(a.pack_n, 288, a.shard)
    if "real" not in skip:
        real_traces(a.data)
    if "typed" not in skip:
        typed_traces(a.data)
    if "retime" not in skip and a.data:
        repack_time(a.data)
    if "kshape" not in skip:
        kshape_fit(a.kshape_n, a.T, 10, a.kshape_chunk)


if __name__ == "__main__":
    import sys

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
