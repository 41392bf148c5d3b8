"""Data in: a 10-million-row long table to a trace, and the Bitbrains month folder (first and cached load).

Each measurement runs in a fresh subprocess so that its peak memory (ru_maxrss) is its own.

    python bench/datain.py                     # 10M rows + Bitbrains month
    python bench/datain.py --rows 1000000      # smaller
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

LONG = r"""
import json, resource, sys, time
import numpy as np
from pyshape.traces import load_long
rows, n_ids, source = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(0)
per = rows // n_ids
step = 300
# n_ids machines, every 300 s with jitter, rows shuffled, 2 float32 value columns
ids = np.repeat(np.arange(n_ids, dtype=np.int64), per)
t = 1_700_006_400 + np.tile(np.arange(per) * step, n_ids) + rng.uniform(0, 290, n_ids * per)
perm = rng.permutation(len(t)); ids, t = ids[perm], t[perm]
cpu = rng.uniform(0, 100, len(t)).astype(np.float32); mem = rng.uniform(0, 64, len(t)).astype(np.float32)
tab = {"machine": ids, "ts": t, "cpu": cpu, "mem": mem}
if source == "pandas":
    import pandas as pd
    tab = pd.DataFrame(tab); tab["machine"] = "m" + tab["machine"].astype(str)
    tab["ts"] = pd.to_datetime(tab["ts"], unit="s", utc=True)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
import tracemalloc; tracemalloc.start()
t0 = time.perf_counter()
tr = load_long(tab, id="machine", time="ts", step=step)
dt = time.perf_counter() - t0
_, peak = tracemalloc.get_traced_memory()
data_mb = sum(np.asarray(v).nbytes for v in (tab.values() if isinstance(tab, dict) else [tab[c] for c in tab])) / 2**20
print(json.dumps({"rows": len(t), "ids": tr.n, "T": tr.T, "seconds": round(dt, 2),
                  "peak_alloc_mb": round(peak / 2**20), "input_mb": round(data_mb),
                  "result_mb": round(tr.shapes.nbytes / 2**20),
                  "maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                  "info": tr.info}))
"""

FOLDER = r"""
import json, sys, time
from pyshape.cli import main
t0 = time.perf_counter()
rc = main(["pack", sys.argv[1], "-c", "32000,64", "-o", "/dev/null", "--day", "3", "-q"])
print(json.dumps({"rc": rc, "seconds": round(time.perf_counter() - t0, 2)}))
"""


def run(code, *args, env=None):
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, env=env)
    if out.returncode:
        raise SystemExit(out.stderr)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["process_seconds"] = round(time.perf_counter() - t0, 2)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--ids", type=int, default=1000)
    ap.add_argument("--folder", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data",
                                                     "bitbrains_rnd_2013-07"))
    args = ap.parse_args()
    for source in ("dict", "pandas"):
        print(f"long table from a {source}:", run(LONG, args.rows, args.ids, source))
    if os.path.isdir(args.folder):
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ, PYSHAPE_CACHE_DIR=cache)
            print("Bitbrains folder, first call:", run(FOLDER, args.folder, env=env))
            print("Bitbrains folder, cached call:", run(FOLDER, args.folder, env=env))


if __name__ == "__main__":
    main()
