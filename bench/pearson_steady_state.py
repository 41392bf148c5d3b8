"""Full Pearson matrix, n = 20,000, T = 1440: pyshape vs NumPy's symmetric product,
alternating which runs first (the first allocation of the 1.6 GB result in a process pays
the page faults).

    python bench/pearson_steady_state.py [n]
"""
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

import pyshape
from pyshape import _core

n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
X = np.random.default_rng(0).standard_normal((n, 1440)).astype(np.float32)
U, _ = _core.normalize_rows(X, 1.0, 2)
for _ in range(2):
    with threadpool_limits(2):
        t = time.perf_counter()
        r = U @ U.T
        b = time.perf_counter() - t
    del r
    t = time.perf_counter()
    r = pyshape.pearson(X, n_threads=2)
    a = time.perf_counter() - t
    del r
    print(f"pyshape.pearson(X) {a:.2f} s   NumPy U @ U.T {b:.2f} s   pyshape / NumPy {a / b:.2f}")
