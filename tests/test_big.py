"""Sizes past 2**31 elements: n * T > 2,147,483,647 on a memory-mapped float32 .npy.

Slow (marker ``slow``): skipped unless ``PYSHAPE_SLOW=1`` or ``-m slow``::

    PYSHAPE_SLOW=1 python -m pytest -q -s tests/test_big.py

Needs about 8.1 GiB of free disk in the temporary folder (``PYSHAPE_BIG_DIR``
to put it elsewhere) and about 17 GiB of free memory (``top_partners`` and
``pearson`` hold a normalised float32 copy of the input and the packed panels
of it, 2 x 8 GiB); it skips itself when either is short. Timings and peak RSS
of the last run are in tests/README.md.

The input: n = 65,537 rows of T = 32,768 steps (n T = 2**31 + 32,768), so that
the last row starts exactly at element 2**31: a 32-bit element offset (row *
T in int) wraps there. Rows are ``level + s_i * B[i % 4] + 0.5 * noise_i``
(four white-noise base rows B, so rows of one base correlate at about 0.8,
rows of different bases at about 0), with planted partners past the 2**31
boundary whose scores are known exactly:

* row n-1 = 2 * row 0 + 5          (r = +1 with row 0)
* row n-2 = 20 - row 1             (r = -1 with row 1)
* row n-3 = row 2 + 1e-3 * noise   (r = 1 - O(1e-6) with row 2)

Checks: ``top_partners`` (k = 3, brute force and pruned, a handful of query
rows on both sides of the boundary) finds the planted partners first and
agrees, for every query, with a float64 reference scored against all n rows
(q x n, chunked NumPy: no n x n); ``pearson`` of the query rows against the
full set matches the same reference; ``pack`` of all rows (one resource)
places every row exactly once within capacity, verified by re-summing the
loads from the memory map in NumPy.
"""
from __future__ import annotations

import math
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

import pyshape

pytestmark = pytest.mark.slow

N, T = 65_537, 32_768
# PYSHAPE_BIG_SHAPE=n,T: a smaller run of the same checks (to try the test itself quickly)
if os.environ.get("PYSHAPE_BIG_SHAPE"):
    N, T = (int(v) for v in os.environ["PYSHAPE_BIG_SHAPE"].split(","))
LEVEL = 10.0
K = 3
CHUNK = 1024  # rows per NumPy step (128 MiB of float32)


def _slow_enabled(config) -> bool:
    return os.environ.get("PYSHAPE_SLOW", "") not in ("", "0") or "slow" in (config.getoption("-m") or "")


@pytest.fixture(scope="module")
def big(request):
    if not _slow_enabled(request.config):
        pytest.skip("slow: set PYSHAPE_SLOW=1 or run with -m slow")
    if not os.environ.get("PYSHAPE_BIG_SHAPE"):
        assert N * T > 2**31 - 1 and (N - 1) * T == 2**31
    need = N * T * 4 + (64 << 20)
    base = Path(os.environ.get("PYSHAPE_BIG_DIR", tempfile.gettempdir()))
    free = shutil.disk_usage(base).free
    if free < need * 1.1:
        pytest.skip(f"needs {need / 2**30:.1f} GiB of free disk in {base}, has {free / 2**30:.1f} GiB")
    avail = _mem_available()
    if avail is not None and avail < 17 * 2**30:
        pytest.skip(f"needs about 17 GiB of free memory, {avail / 2**30:.1f} GiB available")
    d = Path(tempfile.mkdtemp(prefix="pyshape-big-", dir=base))
    path = d / "big.npy"
    t0 = time.perf_counter()
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(N, T))
    rng = np.random.default_rng(2024)
    B = rng.standard_normal((4, T)).astype(np.float32)
    for s in range(0, N, CHUNK):
        e = min(N, s + CHUNK)
        i = np.arange(s, e)
        scale = (0.5 + (i % 7) / 7.0).astype(np.float32)[:, None]
        block = LEVEL + scale * B[i % 4] + 0.5 * rng.standard_normal((e - s, T), dtype=np.float32)
        X[s:e] = np.clip(block, 0.0, None)  # non-negative: the same file serves pack
    X[N - 1] = 2 * X[0] + 5
    X[N - 2] = 20 - X[1]
    X[N - 3] = X[2] + 1e-3 * rng.standard_normal(T, dtype=np.float32)
    assert (X[N - 2] >= 0).all()
    X.flush()
    del X
    gen = time.perf_counter() - t0
    Xm = np.load(path, mmap_mode="r")
    assert isinstance(Xm, np.memmap) and Xm.dtype == np.float32 and Xm.flags.c_contiguous
    queries = np.array([0, 1, 2, 3, N // 2, N - 4, N - 3, N - 2, N - 1])
    ref = _reference(Xm, queries)
    print(f"\nbig: {path} ({path.stat().st_size / 2**30:.2f} GiB) written in {gen:.0f} s")
    yield Xm, queries, ref
    del Xm
    shutil.rmtree(d, ignore_errors=True)


def _mem_available():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _unit(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    x -= x.mean(axis=1, keepdims=True)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def _reference(X, queries) -> np.ndarray:
    """float64 Pearson r of the query rows against all n rows (q x n), chunk by chunk."""
    t0 = time.perf_counter()
    uq = _unit(np.asarray(X[queries]))
    out = np.empty((len(queries), N))
    for s in range(0, N, CHUNK):
        e = min(N, s + CHUNK)
        out[:, s:e] = uq @ _unit(np.asarray(X[s:e])).T
    print(f"\nbig: float64 reference ({len(queries)} x {N}) in {time.perf_counter() - t0:.0f} s")
    return out


def _report(what: str, t0: float) -> None:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"\nbig: {what} in {time.perf_counter() - t0:.1f} s, peak RSS so far {rss:.1f} GiB")


def _check_partners(p, queries, ref):
    tol = 2e-5
    for a, q in enumerate(queries):
        r = ref[a].copy()
        # queries are given as separate rows: the row itself is a candidate (score 1)
        for idx, score, sign in ((p.corr_index[a], p.corr_score[a], 1), (p.anti_index[a], p.anti_score[a], -1)):
            assert ((idx >= 0) & (idx < N)).all()
            np.testing.assert_allclose(score, r[idx], atol=tol)
            kth = np.sort(sign * r)[::-1][K - 1]
            assert sign * score[-1] >= kth - tol, f"query {q}: not the top {K}"
    at = {int(q): a for a, q in enumerate(queries)}
    # planted partners past the 2**31 boundary
    assert set(p.corr_index[at[0], :2].tolist()) == {0, N - 1}
    assert set(p.corr_index[at[N - 1], :2].tolist()) == {0, N - 1}
    assert p.anti_index[at[1], 0] == N - 2 and p.anti_score[at[1], 0] < -0.99999
    assert p.anti_index[at[N - 2], 0] == 1
    assert set(p.corr_index[at[2], :2].tolist()) == {2, N - 3}


@pytest.mark.parametrize("method", ["bruteforce", "pruned"])
def test_big_top_partners(big, method):
    X, queries, ref = big
    t0 = time.perf_counter()
    p = pyshape.top_partners(X, K, queries=np.asarray(X[queries]), method=method)
    _report(f"top_partners(k={K}, {len(queries)} queries, {method})", t0)
    _check_partners(p, queries, ref)


def test_big_pearson(big):
    X, queries, ref = big
    t0 = time.perf_counter()
    r = pyshape.pearson(np.asarray(X[queries]), X)
    _report(f"pearson({len(queries)} rows x all)", t0)
    assert r.shape == (len(queries), N) and r.dtype == np.float32
    np.testing.assert_allclose(r, ref, atol=2e-5)
    assert r[0, N - 1] > 0.99999 and r[-1, 0] > 0.99999 and r[1, N - 2] < -0.99999


def test_big_pack(big):
    X, _, _ = big
    cap = 120.0
    t0 = time.perf_counter()
    plan = pyshape.pack(X, capacity=cap)
    _report(f"pack (n={N}, T={T}, {plan.n_workers} workers, lower bound {plan.lower_bound})", t0)
    a = plan.assignment
    assert a.shape == (N,) and a.min() >= 0 and a.max() < plan.n_workers
    counts = np.bincount(a, minlength=plan.n_workers)
    assert (counts > 0).all() and counts.sum() == N
    # loads re-summed from the memory map, worker by worker (float64), compared with the capacity
    order = np.argsort(a, kind="stable")
    starts = np.searchsorted(a[order], np.arange(plan.n_workers + 1))
    worst = 0.0
    for w in range(plan.n_workers):
        rows = np.sort(order[starts[w]:starts[w + 1]])
        load = np.asarray(X[rows], dtype=np.float64).sum(axis=0)
        worst = max(worst, float(load.max()))
        assert load.max() <= cap * (1 + (len(rows) + 1) * 2.0**-23), f"worker {w} over capacity"
    print(f"\nbig: pack verified: every row on one worker, fullest worker at {worst / cap:.4f} of capacity")
    assert plan.lower_bound <= plan.n_workers
    assert math.isfinite(plan.seconds)
