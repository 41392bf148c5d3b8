"""SIMD-level safety: switching levels while kernels run, the per-level
self-test and its fallback, PYSHAPE_SIMD handling, scores kept in range, and
prompt interruption of long kernels."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import pyshape
from pyshape import _core

LEVELS = pyshape.available_simd_levels()


# --------------------------------------------------------------------------- level switching races
def _race_data():
    rng = np.random.default_rng(7)
    t = np.arange(96)
    base = np.sin(2 * np.pi * t / 24)
    # Structured rows (so the pruned top-k has something to prune) plus noise.
    X = (rng.standard_normal((260, 1)) * base + 0.5 * rng.standard_normal((260, 96))).astype(np.float32)
    D = rng.uniform(0.0, 0.3, (120, 2, 48)).astype(np.float32)
    return X, D


def _race_calls(X, D):
    """Name -> (call, compare(ref, got)) for every kernel family that reads the SIMD level."""
    Q = X[:40]
    km = pyshape.CorrelationKMeans(5, random_state=0).fit(X)
    ks = pyshape.KShape(4, max_lag=6, random_state=0).fit(X[:120])
    r_full = pyshape.pearson(X).astype(np.float64)

    def close(tol):
        def cmp(ref, got):
            np.testing.assert_allclose(got, ref, rtol=0, atol=tol)
        return cmp

    def partners(ref, got):
        # Indices may swap between near-tied scores at another level: check that
        # every reported pair has its true score and that the k scores match.
        for idx, sc, _ridx, rsc in ((got.corr_index, got.corr_score, ref.corr_index, ref.corr_score),
                                    (got.anti_index, got.anti_score, ref.anti_index, ref.anti_score)):
            np.testing.assert_allclose(sc, rsc, rtol=0, atol=2e-5)
            true = np.take_along_axis(r_full[: len(idx)], idx, axis=1)
            np.testing.assert_allclose(sc, true, rtol=0, atol=2e-5)

    def lagged(ref, got):
        np.testing.assert_allclose(got[0], ref[0], rtol=0, atol=5e-5)

    def labels_where_clear(ref, got):
        # Assignment: the distance to the chosen centroid must be the smallest.
        dist = km.transform(X)
        chosen = np.take_along_axis(dist, got[:, None], axis=1)[:, 0]
        assert (chosen <= dist.min(axis=1) + 2e-5).all()

    def plans(ref, got):
        np.testing.assert_array_equal(got.assignment, ref.assignment)

    def placer():
        # A Placer keeps the level of its construction; its places and removes
        # give the same workers at any level.
        p = pyshape.Placer([1.0, 1.0], 48)
        workers = [p.place(i, D[i]) for i in range(len(D))]
        for i in range(0, len(D), 3):
            p.remove(i)
        return workers + [p.place(f"again{i}", D[i]) for i in range(0, len(D), 3)]

    return {
        "pearson": (lambda: pyshape.pearson(X), close(2e-5)),
        "pearson_xy": (lambda: pyshape.pearson(X, Q), close(2e-5)),
        "top_partners_bruteforce": (lambda: pyshape.top_partners(X, k=7, method="bruteforce"), partners),
        "top_partners_pruned": (lambda: pyshape.top_partners(X, k=7, method="pruned", rank=8), partners),
        "top_partners_queries": (lambda: pyshape.top_partners(X, k=5, queries=Q, method="bruteforce"), partners),
        "lagged_direct": (lambda: pyshape.lagged_correlation(X[:80], max_lag=5, method="direct"), lagged),
        "lagged_fft": (lambda: pyshape.lagged_correlation(X[:80], max_lag=40, method="fft"), lagged),
        "sbd": (lambda: pyshape.sbd(X[:60], X[60:100]), close(5e-5)),
        "kmeans_predict": (lambda: km.predict(X), labels_where_clear),
        "kmeans_transform": (lambda: km.transform(X), close(2e-5)),
        "kshape_transform": (lambda: ks.transform(X), close(5e-5)),
        "pack": (lambda: pyshape.pack(D, 1.0), plans),
        "pack_first_fit": (lambda: pyshape.pack(D, 1.0, "first_fit"), plans),
        "placer": (placer, lambda ref, got: np.testing.assert_array_equal(got, ref)),
    }


class _Toggler:
    """A thread that cycles through every SIMD level as fast as it can."""

    def __init__(self):
        self.stop = threading.Event()
        self.switches = 0
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            while not self.stop.is_set():
                for level in LEVELS:
                    pyshape.set_simd_level(level)
                    self.switches += 1
                time.sleep(0.0002)
        except BaseException as e:  # pragma: no cover - reported by the test
            self.error = e

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(10)


@pytest.fixture
def restore_level():
    before = pyshape.simd_level()
    yield
    pyshape.set_simd_level(before)


@pytest.mark.skipif(len(LEVELS) < 2, reason="one SIMD level only: nothing to switch")
def test_switching_levels_while_kernels_run(restore_level):
    """set_simd_level() from another thread never breaks a running kernel: every
    call reads the kernel tables once, so results stay right (at whichever level
    ran it) and the process never aborts."""
    X, D = _race_data()
    calls = _race_calls(X, D)
    refs = {name: call() for name, (call, _) in calls.items()}
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        with _Toggler() as tog:
            deadline = time.monotonic() + 6.0
            rounds = 0
            while time.monotonic() < deadline:
                for name, (call, cmp) in calls.items():
                    got = call()
                    try:
                        cmp(refs[name], got)
                    except AssertionError as e:
                        raise AssertionError(f"{name} wrong while levels switch: {e}") from None
                rounds += 1
        assert tog.error is None, tog.error
        assert tog.switches > 10 * rounds
    finally:
        sys.setswitchinterval(old)


# --------------------------------------------------------------------------- self-test of each level
@pytest.mark.parametrize("level", LEVELS)
def test_selftest_passes_on_every_available_level(level):
    assert _core._selftest(level) == []


@pytest.mark.parametrize("level", LEVELS)
def test_selftest_catches_a_wrong_result(level):
    """The test hook corrupts one result; the check must see it and name the kernel."""
    fails = _core._selftest(level, force_fail=True)
    assert fails and fails[0].startswith("dot: "), fails


def test_selftest_rejects_unknown_levels():
    with pytest.raises(ValueError, match="unknown SIMD level"):
        _core._selftest("neon")


# What a fresh interpreter sees at import, as JSON: the level, the levels,
# the warnings, whether set_simd_level() refuses the disabled levels, and
# whether results are still right at the level in use.
_PROBE = r"""
import json, warnings
import numpy as np
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import pyshape
out = {"level": pyshape.simd_level(), "levels": pyshape.available_simd_levels(),
       "warnings": [[w.category.__name__, str(w.message)] for w in caught], "refused": {}}
for lv in ("avx2", "avx512"):
    if lv not in out["levels"]:
        try:
            pyshape.set_simd_level(lv)
            out["refused"][lv] = None
        except ValueError as e:
            out["refused"][lv] = str(e)
assert pyshape.simd_level() == out["level"]
rng = np.random.default_rng(3)
X = rng.standard_normal((90, 50))
r = pyshape.pearson(X)
ok = np.abs(r - np.corrcoef(X)).max() < 1e-5
p = pyshape.top_partners(X, k=3)
ref = np.argsort(-(np.corrcoef(X) - 3 * np.eye(90)), axis=1, kind="stable")[:, :3]
ok &= np.abs(p.corr_score - np.take_along_axis(np.corrcoef(X), ref, 1)).max() < 1e-5
s1, _ = pyshape.lagged_correlation(X[:20], max_lag=10, method="fft")
s2, _ = pyshape.lagged_correlation(X[:20], max_lag=10, method="direct")
ok &= np.abs(s1 - s2).max() < 1e-5
plan = pyshape.pack(rng.uniform(0, 0.4, (60, 24)).astype(np.float32), 1.0)
ok &= plan.verify().ok
out["ok"] = bool(ok)
print(json.dumps(out))
"""


def probe(**env_vars):
    import json

    env = {k: v for k, v in os.environ.items() if k not in ("PYSHAPE_SIMD", "PYSHAPE_SIMD_SELFTEST_FAIL")}
    env.update(env_vars)
    res = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=120,
                         stdin=subprocess.DEVNULL)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_no_warning_by_default():
    out = probe()
    assert out["warnings"] == []
    assert out["levels"] == LEVELS and out["level"] == LEVELS[-1] and out["ok"]


@pytest.mark.parametrize("failing", [lv for lv in ("avx2", "avx512") if lv in LEVELS] + (
    ["avx2,avx512"] if "avx512" in LEVELS else []))
def test_failed_selftest_disables_the_level(failing):
    """PYSHAPE_SIMD_SELFTEST_FAIL makes a level's self-test fail: a RuntimeWarning
    names it and the kernel, the level is gone from available_simd_levels(),
    set_simd_level() refuses it, the best remaining level is used and results
    are still right."""
    bad = failing.split(",")
    out = probe(PYSHAPE_SIMD_SELFTEST_FAIL=failing)
    remaining = [lv for lv in LEVELS if lv not in bad]
    assert out["levels"] == remaining
    assert out["level"] == remaining[-1]
    assert out["ok"]
    msgs = [m for cat, m in out["warnings"] if cat == "RuntimeWarning"]
    assert len(msgs) == len(bad), out["warnings"]
    for lv, msg in zip(bad, msgs):
        assert f"SIMD level '{lv}' failed its self-test" in msg and "dot:" in msg, msg
        assert f"using '{remaining[-1]}'" in msg, msg
        assert "disabled" in out["refused"][lv]


# --------------------------------------------------------------------------- PYSHAPE_SIMD
@pytest.mark.parametrize("level", LEVELS)
def test_pyshape_simd_is_case_insensitive(level):
    out = probe(PYSHAPE_SIMD=f" {level.upper()} ")
    assert out["level"] == level and out["warnings"] == [] and out["ok"]


@pytest.mark.parametrize("value", ["neon", "sse4", "avx-512"])
def test_pyshape_simd_unknown_value_warns(value):
    out = probe(PYSHAPE_SIMD=value)
    assert out["level"] == LEVELS[-1] and out["ok"]
    assert [c for c, _ in out["warnings"]] == ["RuntimeWarning"]
    msg = out["warnings"][0][1]
    assert f"PYSHAPE_SIMD='{value}' is not a SIMD level" in msg and f"using '{LEVELS[-1]}' instead" in msg


def test_pyshape_simd_empty_is_unset():
    out = probe(PYSHAPE_SIMD="")
    assert out["level"] == LEVELS[-1] and out["warnings"] == []


@pytest.mark.parametrize("level", ["avx2", "avx512"])
def test_pyshape_simd_unsupported_level_warns(level):
    if level in LEVELS:
        pytest.skip(f"this CPU supports {level}")
    out = probe(PYSHAPE_SIMD=level)
    assert out["level"] == LEVELS[-1] and out["ok"]
    msg = out["warnings"][0][1]
    assert f"asks for SIMD level '{level}', but this CPU does not support it; using '{LEVELS[-1]}' instead" in msg


@pytest.mark.parametrize("level", [lv for lv in ("avx2", "avx512") if lv in LEVELS])
def test_pyshape_simd_level_that_failed_selftest_warns(level):
    """Asking for a disabled level gives the best level below it, with a warning."""
    out = probe(PYSHAPE_SIMD=level, PYSHAPE_SIMD_SELFTEST_FAIL=level)
    below = [lv for lv in LEVELS if LEVELS.index(lv) < LEVELS.index(level)][-1]
    assert out["level"] == below and out["ok"]
    msgs = [m for _, m in out["warnings"]]
    assert any(f"asks for SIMD level '{level}', but it failed its self-test" in m and f"using '{below}' instead" in m
               for m in msgs), msgs


# --------------------------------------------------------------------------- scores in range
def _edge_cases():
    """Inputs whose float32 correlations round past +-1 without clamping (seen at
    every level: 1 + 2.4e-7, k-means inertia -1.4e-6): rows equal up to scale
    and sign, near-identical rows, very short rows."""
    rng = np.random.default_rng(11)
    for T in (2, 3, 5, 33, 100, 257):
        base = rng.standard_normal(T)
        scales = (1, 3, 1e-3, 7.5, 1e4, 0.1, 2.5, 13)
        yield f"scaled-T{T}", np.stack([base * s for s in scales] + [-base * s for s in scales[:4]])
        yield f"near-T{T}", base + 1e-4 * rng.standard_normal((12, T))


EDGE = list(_edge_cases())


@pytest.mark.parametrize("name,X", EDGE, ids=[n for n, _ in EDGE])
def test_correlations_stay_in_range(simd, name, X):
    T = X.shape[1]
    for r in (pyshape.pearson(X), pyshape.pearson(X, X[:5])):
        assert np.abs(r).max() <= 1.0
    methods = ["bruteforce"] + (["pruned"] if T >= 4 else [])
    for method in methods:
        p = pyshape.top_partners(X, k=4, method=method, **({"rank": 2} if method == "pruned" else {}))
        for s in (p.corr_score, p.anti_score):
            assert np.abs(s).max() <= 1.0, method
        # Clamped scores stay sorted and pruned == brute force, ties included.
        assert (np.diff(p.corr_score, axis=1) <= 0).all() and (np.diff(p.anti_score, axis=1) >= 0).all()
    a = pyshape.top_partners(X, k=4, method="bruteforce")
    if T >= 4:
        b = pyshape.top_partners(X, k=4, method="pruned", rank=2)
        for u, v in zip(vars(a).values(), vars(b).values()):
            np.testing.assert_array_equal(u, v)
    for method in ("direct", "fft"):
        s, _ = pyshape.lagged_correlation(X, method=method)
        assert np.abs(s).max() <= 1.0, method
        d = pyshape.sbd(X, X[:3], method=method)
        assert d.min() >= 0.0 and d.max() <= 2.0, method


@pytest.mark.parametrize("name,X", EDGE, ids=[n for n, _ in EDGE])
def test_distances_and_inertia_are_not_negative(simd, name, X):
    km = pyshape.CorrelationKMeans(2, random_state=0, n_init=2).fit(X)
    assert km.inertia_ >= 0.0
    t = km.transform(X)
    assert t.min() >= 0.0 and t.max() <= 2.0
    assert km.score(X) <= 0.0
    # The label is the nearest centroid by the distances transform() reports.
    np.testing.assert_array_equal(t.argmin(axis=1), km.predict(X))
    ks = pyshape.KShape(2, random_state=0).fit(X)
    assert ks.inertia_ >= 0.0
    t = ks.transform(X)
    assert t.min() >= 0.0 and t.max() <= 2.0


# --------------------------------------------------------------------------- prompt interruption
_INTERRUPT = r"""
import json, os, signal, sys, threading, time
import numpy as np
import pyshape
rng = np.random.default_rng(0)
T = 4096
X = rng.standard_normal((2, T)).astype(np.float32)
Y = rng.standard_normal((3000, T)).astype(np.float32)
fired = []
def fire():
    time.sleep(0.4)
    fired.append(time.perf_counter())
    os.kill(os.getpid(), signal.SIGINT)
threading.Thread(target=fire, daemon=True).start()
t0 = time.perf_counter()
try:
    pyshape.lagged_correlation(X, Y, method=sys.argv[1], n_threads=2)
    out = {"interrupted": False, "seconds": time.perf_counter() - t0}
except KeyboardInterrupt:
    out = {"interrupted": True, "latency": time.perf_counter() - fired[0]}
print(json.dumps(out))
"""


def test_ctrl_c_interrupts_lagged_direct_promptly():
    """All lags at T = 4096: one row against 3,000 rows is ~5e10 multiply-adds
    (seconds), so work items are chunks of a row; Ctrl-C is seen between items.
    Before, an item was a whole row and the interrupt took seconds."""
    import json

    res = subprocess.run([sys.executable, "-c", _INTERRUPT, "direct"], capture_output=True, text=True,
                         timeout=300, stdin=subprocess.DEVNULL)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["interrupted"], f"finished in {out['seconds']:.2f} s before the interrupt"
    assert out["latency"] < 0.5, out


def test_chunked_items_do_not_change_results(simd):
    """Work items are chunks of rows (lagged: ~4M multiply-adds, pearson: ~2.7e8);
    at these sizes a row splits into several items. Results are bitwise the same
    for 1 and 3 threads, and match a float64 reference."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((300, 2000)).astype(np.float32)
    Y = rng.standard_normal((1300, 2000)).astype(np.float32)
    one, three = pyshape.pearson(X, n_threads=1), pyshape.pearson(X, n_threads=3)
    np.testing.assert_array_equal(one, three)
    np.testing.assert_array_equal(one, one.T)
    np.testing.assert_allclose(one, np.corrcoef(X.astype(np.float64)), rtol=0, atol=1e-5)
    one, three = pyshape.pearson(X, Y, n_threads=1), pyshape.pearson(X, Y, n_threads=3)
    np.testing.assert_array_equal(one, three)
    np.testing.assert_allclose(one, np.corrcoef(X.astype(np.float64), Y.astype(np.float64))[:300, 300:],
                               rtol=0, atol=1e-5)
    A, B = X[:12, :256], Y[:, :256]
    for method in ("direct", "fft"):
        s1, l1 = pyshape.lagged_correlation(A, B, method=method, n_threads=1)
        s3, l3 = pyshape.lagged_correlation(A, B, method=method, n_threads=3)
        np.testing.assert_array_equal(s1, s3)
        np.testing.assert_array_equal(l1, l3)
        s1, l1 = pyshape.lagged_correlation(B[:150], method=method, max_lag=200, n_threads=1)
        s3, l3 = pyshape.lagged_correlation(B[:150], method=method, max_lag=200, n_threads=3)
        np.testing.assert_array_equal(s1, s3)
        np.testing.assert_array_equal(l1, l3)
    d, _ = pyshape.lagged_correlation(A, B, method="direct")
    f, _ = pyshape.lagged_correlation(A, B, method="fft")
    np.testing.assert_allclose(d, f, rtol=0, atol=2e-5)
