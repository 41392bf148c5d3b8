"""Full Pearson matrix, n = 20,000, T = 1440: pyshape vs NumPy's symmetric product,
alternating which runs first (the first allocation of the 1.6 GB result in a process pays
the page faults), with the plain float32 matrix product (U[:4096] @ V.T, V a copy of U so
that BLAS cannot use the symmetric product) timed in the same rounds as the reference rate.
Multiply-adds counted as n^2 T for both full-matrix paths (the symmetric product does half).

    python bench/pearson_steady_state.py [n] [rounds]
"""
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

import pyshape
from pyshape import _core

n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 2
T = 1440
X = np.random.default_rng(0).standard_normal((n, T)).astype(np.float32)
U, _ = _core.normalize_rows(X, 1.0, 2)
V = U.copy()
rows = min(n, 4096)
best = {"pyshape": np.inf, "numpy": np.inf, "sgemm": np.inf}
for i in range(rounds):
    order = ["numpy", "pyshape", "sgemm"] if i % 2 == 0 else ["pyshape", "numpy", "sgemm"]
    for impl in order:
        with threadpool_limits(2):
            t = time.perf_counter()
            if impl == "numpy":
                r = U @ U.T
            elif impl == "pyshape":
                r = pyshape.pearson(X, n_threads=2)
            else:
                r = U[:rows] @ V.T
            dt = time.perf_counter() - t
        del r
        best[impl] = min(best[impl], dt)
    print(f"round {i}: pyshape.pearson(X) {best['pyshape']:.2f} s   NumPy U @ U.T {best['numpy']:.2f} s   "
          f"pyshape / NumPy {best['pyshape'] / best['numpy']:.2f} (best so far)", flush=True)
full = float(n) * n * T
sgemm = rows * float(n) * T / best["sgemm"]
for impl in ("pyshape", "numpy"):
    rate = full / best[impl]
    print(f"{impl}: {best[impl]:.2f} s, {rate / 1e9:.1f} GMAC/s (n^2 T), {rate / sgemm:.2f}x plain sgemm")
print(f"plain sgemm U[:{rows}] @ V.T: {sgemm / 1e9:.1f} GMAC/s; NumPy / pyshape time: "
      f"{best['numpy'] / best['pyshape']:.2f}")
