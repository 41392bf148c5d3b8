"""method='int8': int8 candidates, exact answers. The per-pair bound must hold on
adversarial inputs at every SIMD level, and the result must be bitwise that of
method='bruteforce' (same float32 scores, same tie order)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import pyshape
from pyshape import _core
from pyshape.correlate import topk as topk_mod
from pyshape.correlate._common import unit_pair
from pyshape.synthetic import make_shapes, white_noise
from reference import assert_same_partners


def _unit(X):
    _, u, _ = unit_pair(np.asarray(X, dtype=np.float32), None, "queries", 1)
    return u


def adversarial(rng, n=230, T=301):
    """Near-ties, huge and tiny magnitudes within and across rows, constant rows, spikes."""
    base = rng.standard_normal((8, T))
    X = base[rng.integers(0, 8, n)] + 1e-4 * rng.standard_normal((n, T))  # clusters of near-ties
    X[::17] = 5.0  # constant rows (zero after centring)
    X[3::17] *= 1e30  # huge rows
    X[5::17] *= 1e-30  # tiny rows
    X[7::17, 0] += 1e4  # a spike dwarfing the rest: most entries quantise to 0
    X[9::17] = np.where(np.arange(T) % 2, 1.0, -1.0)  # exact copies: exact ties
    m = len(X[12::17])
    X[11::17][:m] = -X[12::17]  # exact anti-copies
    X[13::17, : T // 2] *= 1e-6  # half the row near zero
    return X.astype(np.float64)


def _check_bounds(u, v=None):
    """Both levels' bounds hold for every pair against float64 and brute force's float32 scores."""
    v = u if v is None else v
    D, approx, err, approx2, err2, delta, name, amax = _core.q8_bounds(u, v)
    exact64 = u.astype(np.float64) @ v.astype(np.float64).T
    f32 = _core.pearson(u, None if v is u else v)  # brute force's float32 scores (same kernels)
    assert np.all(np.abs(exact64 - approx) <= err * (1 + 1e-7) + 1e-12), name
    assert np.all(np.abs(exact64 - approx2) <= err2), name
    # level 2 is the tight one: ~1/amax of level 1 where level 1 is not already ~0
    big = err > 1e-6
    if big.any():
        assert np.median(err2[big] / err[big]) < 4.0 / amax, name
    assert np.all(np.abs(f32.astype(np.float64) - approx) <= err + delta), name
    assert np.all(np.abs(f32.astype(np.float64) - approx2) <= err2 + delta), name
    assert delta < 1e-4
    return D, approx, err, approx2, err2, delta


def test_bound_holds_adversarial(simd, rng):
    X = adversarial(rng)
    u = _unit(X)
    _check_bounds(u)
    f32 = pyshape.pearson(X).astype(np.float64)  # brute force's float32 scores (the same kernels)
    _, approx, err, approx2, err2, delta = _check_bounds(u)
    assert np.all(np.abs(f32 - approx) <= err + delta)
    assert np.all(np.abs(f32 - approx2) <= err2 + delta)


def test_bound_tight_where_cauchy_schwarz_is_loose(simd, rng):
    """On white noise the level-1 bound is ~sqrt(T) times the actual error; level 2 is within a small
    factor of it (this is what cuts the float32 re-scoring)."""
    u = _unit(rng.standard_normal((64, 1440)))
    _, approx, err, approx2, err2, _ = _check_bounds(u)
    exact64 = u.astype(np.float64) @ u.astype(np.float64).T
    actual = np.median(np.abs(exact64 - approx))
    assert np.median(err) > 20 * actual  # Cauchy-Schwarz on level 1 alone
    assert np.median(err2) < 2 * actual  # level 2: below the level-1 error itself


@pytest.mark.parametrize("T", [1, 2, 3, 63, 64, 65, 300])
def test_bound_holds_lengths_and_extremes(simd, rng, T):
    """Odd lengths (padding), rows that quantise exactly, one-hot rows, +-1 rows, tiny residuals."""
    n = 40
    X = rng.standard_normal((n, T))
    X[0] = 0.0
    X[1, :] = 0.0
    X[1, 0] = 1.0  # one-hot: quantises exactly
    X[2] = np.where(np.arange(T) % 3, 1.0, -2.0)
    X[3] = np.round(rng.standard_normal(T) * 5)  # small integers
    X[4] = rng.standard_normal(T) * 1e-20
    X[5] = np.linspace(-1, 1, T) ** 3
    u = np.zeros((n, T), np.float32)
    nrm = np.linalg.norm(X, axis=1, keepdims=True)
    np.divide(X, nrm, out=u, where=nrm > 0, casting="unsafe")  # not centred: any unit rows
    _check_bounds(np.ascontiguousarray(u), np.ascontiguousarray(u[::-1]))


@pytest.mark.parametrize("kind", ["random", "structured", "white", "adversarial"])
@pytest.mark.parametrize("which", ["both", "corr", "anti"])
def test_int8_bitwise_equals_bruteforce(simd, rng, kind, which):
    n, T, k = 403, 173, 9
    if kind == "random":
        X = rng.standard_normal((n, T)) * rng.uniform(0.1, 10, (n, 1))
    elif kind == "structured":
        X, _ = make_shapes(n, T, random_state=int(rng.integers(1 << 30)))
    elif kind == "white":
        X = white_noise(n, T, random_state=int(rng.integers(1 << 30)))
    else:
        X = adversarial(rng, n, T)
    a = pyshape.top_partners(X, k, which=which, method="bruteforce")
    b = pyshape.top_partners(X, k, which=which, method="int8")
    assert_same_partners(a, b)


@pytest.mark.parametrize("which", ["both", "corr"])
def test_int8_many_near_ties_overflow_candidates(simd, rng, which):
    """Hundreds of near-tied partners per row: the deferred candidate list overflows, is pruned and
    flushed mid-scan (and exact ties are broken by the smaller index)."""
    n, T = 1500, 96
    base = rng.standard_normal((4, T))
    X = base[rng.integers(0, 4, n)] + 1e-5 * rng.standard_normal((n, T))
    X[::7] = X[0]  # exact copies of one row: ties across the whole scan
    a = pyshape.top_partners(X, 12, which=which, method="bruteforce")
    b = pyshape.top_partners(X, 12, which=which, method="int8")
    assert_same_partners(a, b)


def test_int8_queries_threads_and_small(rng):
    X = rng.standard_normal((700, 64))
    Q = rng.standard_normal((37, 64))
    for nt in (1, 2, 3):
        assert_same_partners(pyshape.top_partners(X, 5, queries=Q, method="bruteforce", n_threads=nt),
              pyshape.top_partners(X, 5, queries=Q, method="int8", n_threads=nt))
    for n, T in ((2, 1), (3, 2), (5, 3), (40, 5)):  # tiny n, T not a multiple of 4
        Y = rng.standard_normal((n, T))
        assert_same_partners(pyshape.top_partners(Y, 1, method="bruteforce"), pyshape.top_partners(Y, 1, method="int8"))


def test_int8_prunes():
    X, _ = make_shapes(3000, 288, random_state=1)
    u = _unit(X)
    *_, st = _core.topk_int8(u, None, k=10)
    assert st["refined"] < 0.25 * 3000 * (3000 - 512), st
    assert st["candidates"] < 0.1 * st["refined"] + 50 * 3000, st


def test_int8_refine_cuts_rescoring(rng):
    """White noise: level 1 flags a few percent of the pairs, level 2 keeps few of them for float32."""
    u = _unit(rng.standard_normal((3000, 1440)))
    *_, st = _core.topk_int8(u, None, k=10)
    assert st["candidates"] < 0.2 * st["refined"], st


def test_int8_without_vnni_variant():
    """The AVX-512BW (vpmaddubsw) variant is reachable on a VNNI CPU with PYSHAPE_INT8_NO_VNNI."""
    if "avx512" not in pyshape.available_simd_levels():
        pytest.skip("no AVX-512 here")
    code = ("import numpy as np, pyshape; from pyshape import _core;"
            "X=np.random.default_rng(3).standard_normal((500,150));"
            "a=pyshape.top_partners(X,7,method='bruteforce'); b=pyshape.top_partners(X,7,method='int8');"
            "fs=('corr_index','corr_score','anti_index','anti_score');"
            "assert all(np.array_equal(getattr(a,f),getattr(b,f)) for f in fs);"
            "u=np.ascontiguousarray(X[:20]/np.linalg.norm(X[:20],axis=1,keepdims=True),dtype=np.float32);"
            "print(_core.q8_bounds(u,u)[6])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYSHAPE_INT8_NO_VNNI": "1"}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "avx512bw"


def test_int8_bad_T():
    X = np.random.default_rng(0).standard_normal((3, topk_mod._INT8_MAX_T + 1))
    with pytest.raises(ValueError, match="int8"):
        pyshape.top_partners(X, 1, method="int8")


class _Plan:
    def __init__(self, rank, ratio):
        self.rank, self.est_cost_ratio = rank, ratio


def test_auto_decision_logic():
    calls = []

    def plan(rank=16, ratio=0.5):
        def f():
            calls.append(1)
            return _Plan(rank, ratio)
        return f

    choose = topk_mod.choose_method
    assert choose(100, 100, 100, plan())[0] == "bruteforce" and not calls  # tiny: no plan
    assert choose(10_000, 10_000, 1440, plan())[0] == "int8" and not calls
    assert choose(1_000, 1_000, 1999, plan())[0] == "bruteforce"  # just below 2e9 multiply-adds
    assert choose(1_000, 1_000, 2000, plan())[0] == "int8"
    # int8 applies: no plan is made, pruning is not run even where a plan would promise much
    assert choose(50_000, 50_000, 1440, plan(16, 0.1))[0] == "int8" and not calls
    # too long for int8: the plan decides between pruning and brute force
    long_T = topk_mod._INT8_MAX_T + 1
    assert choose(10, 10, long_T, plan())[0] == "bruteforce" and not calls  # small work: no plan
    m, lr = choose(50_000, 50_000, long_T, plan(16, 0.45))
    assert m == "pruned" and lr.rank == 16 and len(calls) == 1
    assert choose(50_000, 50_000, long_T, plan(16, 0.55)) == ("bruteforce", None)  # not clearly better
    assert choose(50_000, 50_000, long_T, plan(0, 1.0)) == ("bruteforce", None)


def test_auto_runs_what_the_cost_model_says(rng, monkeypatch):
    """top_partners(method='auto') runs the method top_partners_auto_method (C++) names."""
    ran = []
    real_int8, real_bf = _core.topk_int8, _core.topk
    monkeypatch.setattr(_core, "topk_int8", lambda *a, **kw: ran.append("int8") or real_int8(*a, **kw))
    monkeypatch.setattr(_core, "topk", lambda *a, **kw: ran.append("bruteforce") or real_bf(*a, **kw))
    for n, T in ((50, 16), (2200, 1000)):
        X = rng.standard_normal((n, T))
        ran.clear()
        pyshape.top_partners(X, 3)
        want = topk_mod.top_partners_auto_method(n, n, T)
        assert ran == [want] == ["int8" if n * n * T >= 2e9 else "bruteforce"]
    with pytest.raises(ValueError, match="sizes"):
        _core.topk_auto_method(-1, 1, 1)


_INTERRUPT = r"""
import json, os, signal, sys, threading, time
import numpy as np
import pyshape
X = np.random.default_rng(0).standard_normal((30_000, 1440), dtype=np.float32)
fired = []
def fire():
    time.sleep(1.2)  # after the input's centring and normalisation (one NumPy / C++ pass, ~0.5 s loaded)
    fired.append(time.perf_counter())
    os.kill(os.getpid(), signal.SIGINT)
threading.Thread(target=fire, daemon=True).start()
t0 = time.perf_counter()
try:
    p = pyshape.top_partners(X, 10, method=sys.argv[1], n_threads=2)
    out = {"interrupted": False, "seconds": time.perf_counter() - t0}
except KeyboardInterrupt:
    out = {"interrupted": True, "latency": time.perf_counter() - fired[0]}
print(json.dumps(out))
"""


def test_ctrl_c_interrupts_int8_promptly():
    """Ctrl-C during an int8 search (what 'auto' runs for large inputs) is seen within a block
    (192 rows against all columns: seconds at n = 1e6): the calling thread checks every 16 panels
    (512 columns), the other threads leave their blocks at their next check. Measured 20-60 ms on
    the loaded 2-core machine at n = 20,000-50,000 (0.3-1.1 s before, growing with n)."""
    res = subprocess.run([sys.executable, "-c", _INTERRUPT, "int8"], capture_output=True, text=True,
                         timeout=300, stdin=subprocess.DEVNULL)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["interrupted"], f"finished in {out['seconds']:.2f} s before the interrupt"
    assert out["latency"] < 0.5, out
