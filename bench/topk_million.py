"""Top-k partners of n = 1,000,000 shapes (T = 1440, k = 10, both signs), with a progress log.

The pytest-benchmark case ``bench_topk_million`` times the same call but is silent for an
hour or more; this script logs the fraction done and elapsed time, so a run that is cut short
still gives a rate to extrapolate from.

    python bench/topk_million.py [--n 1000000] [--log topk_million.log]
                                 [--threads N] [--query-rate 10000]

``--query-rate Q`` first times the top-k of Q query rows against all n on 2 threads (a
rate that extrapolates to the 2-core run where a full run does not fit the time at hand).
"""
from __future__ import annotations

import argparse
import resource
import time

import pyshape
from pyshape.synthetic import make_shapes


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--T", type=int, default=1440)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--log", default="topk_million.log")
    ap.add_argument("--threads", type=int, default=None, help="threads of the full run (default: all)")
    ap.add_argument("--query-rate", type=int, default=0, metavar="Q",
                    help="first time Q query rows against all n on 2 threads")
    args = ap.parse_args()

    with open(args.log, "a", buffering=1) as log:
        t0 = time.perf_counter()
        X, _ = make_shapes(args.n, args.T, random_state=2024, step_seconds=60)
        log.write(f"data {X.shape} {X.nbytes / 2**30:.2f} GiB in {time.perf_counter() - t0:.1f} s, "
                  f"rss {peak_rss_gib():.2f} GiB, simd {pyshape.simd_level()}\n")
        if args.query_rate:
            t = time.perf_counter()
            pyshape.top_partners(X, args.k, which="both", queries=X[:args.query_rate], n_threads=2)
            w = time.perf_counter() - t
            log.write(f"{args.query_rate} query rows x {args.n}, 2 threads: {w:.1f} s "
                      f"(x n / Q = {w * args.n / args.query_rate / 60:.1f} min without the self-join's "
                      f"symmetry), rss {peak_rss_gib():.2f} GiB\n")
        start = time.perf_counter()
        last = [-1.0]

        def progress(done: int, total: int) -> None:
            frac = done / max(total, 1)
            if frac - last[0] >= 0.005 or done >= total:
                last[0] = frac
                log.write(f"{time.perf_counter() - start:9.1f} s  {100 * frac:6.2f}%  "
                          f"rss {peak_rss_gib():.2f} GiB\n")

        p = pyshape.top_partners(X, args.k, which="both", progress=progress, n_threads=args.threads)
        wall = time.perf_counter() - start
        log.write(f"DONE n={args.n} T={args.T} k={args.k}: {wall:.1f} s, "
                  f"peak RSS {peak_rss_gib():.2f} GiB, anti {p.anti_index.shape}\n")


if __name__ == "__main__":
    main()
