"""Concurrency: kernels called from several Python threads at once.

* Threads calling the kernels at once on shared read-only input (each call
  with n_threads > 1 as well, so Python threads x C++ worker threads) get
  bitwise the same results as serial calls.
* The kernels release the GIL: a pure-Python thread keeps running while a
  kernel runs, and two kernel calls from two threads are in flight at the same
  time (their progress callbacks interleave).
* A Placer shared by threads (its methods hold the GIL) ends in a consistent
  state; the SIMD level switched from another thread while kernels run.

All tests carry the ``concurrency`` marker: .ci/tsan runs them (and the C++
driver tests/cpp/tsan_driver.cpp) under ThreadSanitizer.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import pyshape

pytestmark = pytest.mark.concurrency

N_PY_THREADS = 4


def _data(seed=0, n=150, T=96):
    rng = np.random.default_rng(seed)
    t = np.arange(T)
    base = np.sin(2 * np.pi * t[None, :] / 24 * rng.integers(1, 4, (n, 1)) + rng.random((n, 1)) * 6)
    X = (base + 0.3 * rng.standard_normal((n, T))).astype(np.float32)
    X.flags.writeable = False  # shared, read-only
    return X


def _calls(X):
    """name -> zero-argument callable returning a tuple of arrays (every public kernel)."""
    D = np.abs(X) + 0.1
    D.flags.writeable = False
    Q = X[:7]
    km = pyshape.CorrelationKMeans(4, random_state=0, n_threads=2).fit(X)
    ks = pyshape.KShape(3, max_lag=4, random_state=0, n_threads=2, max_iter=5).fit(X[:40])

    def partners(p):
        return tuple(a for a in (p.corr_index, p.corr_score, p.anti_index, p.anti_score))

    return {
        "znorm": lambda: (pyshape.znorm(X, n_threads=2),),
        "pearson": lambda: (pyshape.pearson(X, n_threads=3),),
        "pearson_xy": lambda: (pyshape.pearson(Q, X, n_threads=2),),
        "topk_brute": lambda: partners(pyshape.top_partners(X, 5, method="bruteforce", n_threads=2)),
        "topk_pruned": lambda: partners(pyshape.top_partners(X, 5, method="pruned", n_threads=2)),
        "topk_queries": lambda: partners(pyshape.top_partners(X, 3, queries=Q, method="pruned", n_threads=3)),
        "lagged_direct": lambda: pyshape.lagged_correlation(X[:30], max_lag=8, method="direct", n_threads=2),
        "lagged_fft": lambda: pyshape.lagged_correlation(X[:30], X[30:50], method="fft", n_threads=3),
        "sbd": lambda: (pyshape.sbd(X[:20], method="auto", n_threads=2),),
        "kmeans_predict": lambda: (km.predict(X), km.transform(X)),
        "kmeans_fit": lambda: (pyshape.CorrelationKMeans(3, random_state=1, n_threads=2).fit(X).labels_,),
        "kshape": lambda: (ks.predict(X[:40]), ks.transform(X[:40])),
        "pack": lambda: (pyshape.pack(D, capacity=8.0, n_threads=2, shard_size=50).assignment,),
        "pack_first_fit": lambda: (pyshape.pack(D, capacity=6.0, strategy="first_fit", risk=0.05).assignment,),
    }


def _same(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        assert (u is None) == (v is None)
        if u is not None:
            assert u.dtype == v.dtype and u.shape == v.shape
            assert np.array_equal(u, v, equal_nan=True)


def test_threads_match_serial():
    X = _data()
    calls = _calls(X)
    serial = {name: fn() for name, fn in calls.items()}
    jobs = [name for name in calls for _ in range(3)]
    np.random.default_rng(1).shuffle(jobs)
    with ThreadPoolExecutor(N_PY_THREADS) as ex:
        results = list(ex.map(lambda name: (name, calls[name]()), jobs))
    for name, res in results:
        _same(res, serial[name])
    assert not X.flags.writeable and np.array_equal(X, _data())  # input untouched


def test_same_call_many_threads():
    """The same call from every thread at once (the most contention on shared input)."""
    X = _data(2, n=300, T=64)
    want = pyshape.top_partners(X, 4, method="bruteforce", n_threads=1)
    barrier = threading.Barrier(N_PY_THREADS)

    def run(_):
        barrier.wait()
        return pyshape.top_partners(X, 4, method="bruteforce", n_threads=2)

    with ThreadPoolExecutor(N_PY_THREADS) as ex:
        for p in ex.map(run, range(N_PY_THREADS)):
            assert np.array_equal(p.corr_index, want.corr_index)
            assert np.array_equal(p.corr_score, want.corr_score)
            assert np.array_equal(p.anti_index, want.anti_index)


def _count_during(fn):
    """Run ``fn`` once in the calling thread while another Python thread counts in a loop.

    Returns (counts per second while ``fn`` ran, counts per second just before, seconds ``fn`` took).
    """
    stop = threading.Event()
    count = [0]

    def spin():
        while not stop.is_set():
            count[0] += 1

    th = threading.Thread(target=spin, daemon=True)
    th.start()
    try:
        time.sleep(0.01)
        c0, t0 = count[0], time.perf_counter()
        time.sleep(0.1)  # the free-running rate (this thread sleeps: the GIL is free)
        c1, t1 = count[0], time.perf_counter()
        fn()
        c2, t2 = count[0], time.perf_counter()
    finally:  # also when fn raises: a spinning thread left behind would keep the interpreter alive
        stop.set()
        th.join()
    return (c2 - c1) / (t2 - t1), (c1 - c0) / (t1 - t0), t2 - t1


@pytest.mark.parametrize("name", ["pearson", "topk", "lagged", "pack", "kmeans"])
def test_gil_released(name):
    """A pure-Python thread keeps running while one kernel call runs: the GIL is released.

    Each call is sized to spend well over 0.1 s in its kernel. Were the GIL held
    there, the counting thread could only run during the call's Python part (a
    few ms of checks), and its rate during the call would fall to a small
    fraction of its free-running rate; released, it keeps a large fraction
    (all of it with a spare core, about half when both share one).
    """
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2500, 256)).astype(np.float32)
    fns = {
        "pearson": lambda: pyshape.pearson(X, n_threads=1),
        "topk": lambda: pyshape.top_partners(X, 5, method="bruteforce", n_threads=1),
        "lagged": lambda: pyshape.lagged_correlation(X[:300], method="direct", max_lag=60, n_threads=1),
        "pack": lambda: pyshape.pack(P, capacity=60.0,
                                     candidates=0, n_threads=1),
        "kmeans": lambda: km.transform(Y),
    }
    if name == "pack":
        P = np.abs(rng.standard_normal((20000, 512))).astype(np.float32)
    if name == "kmeans":
        Y = rng.standard_normal((40000, 256)).astype(np.float32)
        km = pyshape.CorrelationKMeans(128, random_state=0, max_iter=1, n_threads=1).fit(Y[:2000])
    during, free, elapsed = _count_during(fns[name])
    print(f"{name}: {elapsed:.3f} s; the other thread counted {during:.3g}/s during it, {free:.3g}/s before")
    if elapsed < 0.05:
        pytest.skip(f"{name} ran in {elapsed * 1e3:.1f} ms: too short to tell")
    assert during > 0.2 * free, f"a Python thread hardly ran during {name} ({elapsed:.3f} s): GIL held?"


def test_two_kernels_overlap():
    """Two kernel calls from two Python threads are in flight at the same time.

    Each call reports progress (the callback takes the GIL for a moment, at
    most every 50 ms); with the GIL released during the kernels the two
    threads' callbacks interleave. The wall time of both together against
    one after the other is printed (the speed-up depends on free cores).
    """
    rng = np.random.default_rng(1)
    X = rng.standard_normal((2500, 384)).astype(np.float32)
    stamps = {0: [], 1: []}

    def run(i):
        pyshape.pearson(X, n_threads=1, progress=lambda d, t: stamps[i].append(time.perf_counter()))

    t0 = time.perf_counter()
    run(0)
    serial_one = time.perf_counter() - t0
    stamps[0].clear()
    barrier = threading.Barrier(2)

    def go(i):
        barrier.wait()
        run(i)

    t0 = time.perf_counter()
    ths = [threading.Thread(target=go, args=(i,)) for i in (0, 1)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    both = time.perf_counter() - t0
    a, b = stamps[0], stamps[1]
    print(f"one call {serial_one:.3f} s, two calls in two threads {both:.3f} s "
          f"(speed-up {2 * serial_one / both:.2f}x over serial), callbacks {len(a)} + {len(b)}")
    if len(a) < 3 or len(b) < 3:
        pytest.skip("calls too short to see interleaving")
    # some callback of each thread falls strictly inside the other's run
    assert any(a[0] < t < a[-1] for t in b) or any(b[0] < t < b[-1] for t in a), "the two calls never overlapped"


def test_placer_from_threads():
    """Threads placing and removing on one shared Placer: a consistent state at the end."""
    rng = np.random.default_rng(3)
    R, T = 2, 48
    p = pyshape.Placer([10.0, 20.0], T, strategy="complement")
    shapes = {f"t{k}-{i}": (rng.random((R, T)) * [[2.0], [3.0]]).astype(np.float32)
              for k in range(N_PY_THREADS) for i in range(60)}
    barrier = threading.Barrier(N_PY_THREADS)

    def work(k):
        barrier.wait()
        mine = [key for key in shapes if key.startswith(f"t{k}-")]
        for i, key in enumerate(mine):
            p.place(key, shapes[key])
            if i % 3 == 2:
                p.remove(mine[i - 1])
                with pytest.raises(KeyError):
                    p.remove(mine[i - 1])
            if i % 20 == 0:
                pyshape.Placer.restore(p.snapshot())

    with ThreadPoolExecutor(N_PY_THREADS) as ex:
        list(ex.map(work, range(N_PY_THREADS)))
    placed = {key for key in shapes if key in p}
    assert len(p) == len(placed) == N_PY_THREADS * 40
    eff = np.array([10.0, 20.0], np.float32)
    for w in range(p.n_workers):
        members = p.members(w)
        load = np.zeros((R, T), np.float32)
        for key in members:
            load += shapes[key]
            assert p.worker_of(key) == w
        assert np.array_equal(p.load(w), load)
        assert (p.load(w) <= eff[:, None] * (1 + 1e-6)).all()
    q = pyshape.Placer.restore(p.snapshot())
    assert q.snapshot() == p.snapshot()


_SWITCH_SCRIPT = r"""
import sys, threading, time
from concurrent.futures import ThreadPoolExecutor
import numpy as np
import pyshape

levels = pyshape.available_simd_levels()
rng = np.random.default_rng(4)
X = rng.standard_normal((200, 80)).astype(np.float32)
D = np.abs(X) + 0.1

def results():
    return {
        "pearson": pyshape.pearson(X, n_threads=2),
        "topk": pyshape.top_partners(X, 4, method="bruteforce", n_threads=2).corr_index,
        "lagged": pyshape.lagged_correlation(X[:40], max_lag=6, method="direct", n_threads=2)[0],
        "pack": pyshape.pack(D, capacity=10.0, n_threads=2).assignment,
    }

want = {}
for lv in levels:
    pyshape.set_simd_level(lv)
    want[lv] = results()
stop = threading.Event()

def flip():
    i = 0
    while not stop.is_set():
        pyshape.set_simd_level(levels[i % len(levels)])
        i += 1
        time.sleep(0.0005)

flipper = threading.Thread(target=flip)
flipper.start()
def run(_):
    got = results()
    return [k for k, v in got.items() if not any(np.array_equal(v, want[lv][k]) for lv in levels)]
try:
    with ThreadPoolExecutor(3) as ex:
        bad = sorted({b for r in ex.map(run, range(int(sys.argv[1]))) for b in r})
finally:
    stop.set()
    flipper.join()
print("mixed:", bad)
sys.exit(1 if bad else 0)
"""


def test_simd_level_switched_while_running():
    """The SIMD level changes (from another thread) while kernels run in three threads: every result
    is the result of one level (never a mix) and nothing crashes. Run in a child process, since the
    failure mode is a crash."""
    import subprocess
    import sys

    if len(pyshape.available_simd_levels()) < 2:
        pytest.skip("one SIMD level only")
    proc = subprocess.run([sys.executable, "-c", _SWITCH_SCRIPT, "12"], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, f"exit status {proc.returncode}: {proc.stdout[-500:]} {proc.stderr[-2000:]}"
