"""The engine without Python: the C library (CMake, PYSHAPE_PYTHON=OFF), its C
API, and the C and Go examples give the same results as the Python API.

The library is built once per session with cmake into build/test-capi (kept
between runs, so a rerun only rebuilds what changed; PYSHAPE_CAPI_BUILD moves
it), installed into a prefix there, and used as an embedder would: through
find_package(pyshape) (tests/c/CMakeLists.txt), ctypes, and cgo. Skipped when
the source tree, cmake or a C compiler is missing; the Go test when go is.
"""
from __future__ import annotations

import ctypes
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pyshape

if any(lib in os.environ.get("LD_PRELOAD", "") for lib in ("libasan", "libtsan")):
    # The C library these tests build is a plain -O3 build, while the sanitizer legs' extension is
    # an -O1 instrumented one: results that must be bitwise equal between two builds of the same
    # flags differ in rounding (FMA contraction), and the C library itself is not instrumented.
    # The plain leg runs them all.
    pytest.skip("the C API is compared with a build of the same flags in the plain test run",
                allow_module_level=True)

ROOT = Path(__file__).resolve().parents[1]


def _env():
    # No sanitizer runtime (.ci/sanitize preloads one into Python) for the tools and programs we start.
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
    return env


def _run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, env=kw.pop("env", _env()), **kw)
    if r.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} failed ({r.returncode}):\n"
                             f"{r.stdout[-4000:]}\n{r.stderr[-4000:]}")
    return r


@pytest.fixture(scope="session")
def capi(tmp_path_factory):
    """Build + install the C library, then build tests/c (error test, C example) against it."""
    if not (ROOT / "CMakeLists.txt").is_file() or not (ROOT / "include" / "pyshape" / "pyshape.h").is_file():
        pytest.skip("no pyshape source tree next to the tests")
    if shutil.which("cmake") is None or not (shutil.which("cc") or shutil.which("gcc")):
        pytest.skip("cmake or a C compiler is missing")
    base = Path(os.environ.get("PYSHAPE_CAPI_BUILD", ROOT / "build" / "test-capi"))
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError:
        base = tmp_path_factory.mktemp("capi")
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    jobs = str(max(1, min(8, os.cpu_count() or 1)))
    lib, prefix, tests = base / "lib", base / "prefix", base / "tests"
    _run(["cmake", "-S", ROOT, "-B", lib, *gen, "-DPYSHAPE_PYTHON=OFF", "-DCMAKE_BUILD_TYPE=Release",
          "-DCMAKE_INSTALL_LIBDIR=lib"])
    _run(["cmake", "--build", lib, "-j", jobs])
    _run(["cmake", "--install", lib, "--prefix", prefix])
    _run(["cmake", "-S", ROOT / "tests" / "c", "-B", tests, *gen, "-DCMAKE_BUILD_TYPE=Release",
          f"-DCMAKE_PREFIX_PATH={prefix}"])
    _run(["cmake", "--build", tests, "-j", jobs])
    return {"prefix": prefix, "tests": tests, "base": base}


@pytest.fixture(scope="session")
def examples_io():
    spec = importlib.util.spec_from_file_location("export_shapes", ROOT / "examples" / "export_shapes.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="session")
def bitbrains_file(examples_io, tmp_path_factory):
    ids, D = examples_io.bitbrains_day(0)
    path = tmp_path_factory.mktemp("shapes") / "bitbrains-day0.bin"
    examples_io.write_shapes(path, ids, D)
    return path


CAPACITY = ("32000", "64")


def _expected_output(examples_io, path):
    """What pyshape.pack prints through the examples' format, from the file they read."""
    ids, D = examples_io.read_shapes(path)
    plan = pyshape.pack(D, [float(c) for c in CAPACITY])
    lines = "".join(f"{i},{w}\n" for i, w in zip(ids, plan.assignment.tolist()))
    summary = f"# workers={plan.n_workers} lower_bound={plan.lower_bound} peak_workers={plan.peak_workers} "
    return lines, summary, plan


def _check_example_output(out: str, examples_io, path):
    lines, summary, plan = _expected_output(examples_io, path)
    assert out.startswith(lines), "placements differ from pyshape.pack's"
    tail = out[len(lines):]
    assert tail.startswith(summary) and tail.endswith("\n") and tail.count("\n") == 1, tail
    assert plan.n_workers >= plan.lower_bound and plan.verify().ok


def test_c_example_matches_python(capi, examples_io, bitbrains_file):
    exe = capi["tests"] / "example" / "place_bitbrains"
    r = _run([exe, bitbrains_file, *CAPACITY])
    _check_example_output(r.stdout, examples_io, bitbrains_file)
    bad = subprocess.run([exe, bitbrains_file, "32000"], capture_output=True, text=True, env=_env())
    assert bad.returncode == 2 and "need 2 capacities" in bad.stderr


@pytest.mark.parametrize("prog", ["capi_errors", "capi_errors_shared"])
def test_c_error_paths(capi, prog, tmp_path):
    r = _run([capi["tests"] / prog, tmp_path])
    assert r.stdout.strip().endswith("ok")


def test_shared_library_exports_only_the_c_api(capi):
    if sys.platform != "linux" or shutil.which("nm") is None:
        pytest.skip("needs nm on Linux")
    so = capi["prefix"] / "lib" / "libpyshape.so"
    syms = _run(["nm", "-D", "--defined-only", so]).stdout.split()
    names = [s for s in syms if s.startswith("pyshape_") or s.startswith("_Z")]
    assert names and all(s.startswith("pyshape_") for s in names)


# ---------------------------------------------------------------- the C API through ctypes

class _Figures(ctypes.Structure):
    _fields_ = [("n_workers", ctypes.c_size_t), ("lower_bound", ctypes.c_size_t), ("peak_workers", ctypes.c_size_t)]


class _PackOptions(ctypes.Structure):
    _fields_ = [("strategy", ctypes.c_int), ("risk", ctypes.c_double), ("candidates", ctypes.c_int),
                ("improve", ctypes.c_int), ("shard_size", ctypes.c_size_t), ("n_threads", ctypes.c_int)]


_STRATEGIES = {"complement": 0, "first_fit": 1, "best_fit": 2, "peak": 3, "auto": 4}


@pytest.fixture(scope="session")
def lib(capi):
    so = capi["prefix"] / "lib" / ("libpyshape.dylib" if sys.platform == "darwin" else "libpyshape.so")
    L = ctypes.CDLL(str(so))
    L.pyshape_last_error.restype = ctypes.c_char_p
    L.pyshape_version.restype = ctypes.c_char_p
    L.pyshape_simd_level.restype = ctypes.c_char_p
    return L


def _ptr(a, ct):
    return a.ctypes.data_as(ctypes.POINTER(ct))


def _c_pack(L, D, cap, head, strategy, risk=0.0, candidates=8, improve=2, shard_size=32768, n_threads=0):
    D = np.ascontiguousarray(D, dtype=np.float32)
    n, R, T = D.shape
    cap = np.ascontiguousarray(np.broadcast_to(np.asarray(cap, np.float64), (R,)))
    head = np.ascontiguousarray(np.broadcast_to(np.asarray(head, np.float64), (R,)))
    opt = _PackOptions(_STRATEGIES[strategy], risk, candidates, improve, shard_size, n_threads)
    out = np.empty(n, np.int64)
    fig = _Figures()
    st = L.pyshape_pack(_ptr(D, ctypes.c_float), ctypes.c_size_t(n), ctypes.c_size_t(R), ctypes.c_size_t(T),
                        _ptr(cap, ctypes.c_double), _ptr(head, ctypes.c_double), ctypes.byref(opt),
                        _ptr(out, ctypes.c_int64), ctypes.byref(fig))
    assert st == 0, L.pyshape_last_error()
    return out, fig


def test_version(lib):
    assert lib.pyshape_version().decode() == pyshape.__version__
    assert lib.pyshape_api_version() // 1000 == 1
    assert lib.pyshape_simd_level().decode() in pyshape.available_simd_levels()


@pytest.mark.parametrize("strategy", ["auto", "complement", "first_fit", "best_fit", "peak"])
def test_pack_identical_to_python(lib, rng, strategy):
    n, R, T = 300, 2, 96
    t = np.arange(T)
    phase = rng.uniform(0, 2 * np.pi, size=(n, R, 1))
    D = (rng.uniform(0.5, 3, size=(n, R, 1)) * (1.2 + np.sin(2 * np.pi * t / T + phase))
         + rng.uniform(0, 0.3, size=(n, R, T))).astype(np.float32)
    cases = [dict(), dict(headroom=[0.1, 0.2]), dict(shard_size=64, improve=1)]
    if strategy != "peak":
        cases.append(dict(risk=0.05, candidates=3))
    for kw in cases:
        head = kw.pop("headroom", 0.0)
        plan = pyshape.pack(D, [12.0, 16.0], strategy, headroom=head, **kw)
        a, fig = _c_pack(lib, D, [12.0, 16.0], head, strategy, **kw)
        assert np.array_equal(a, plan.assignment), kw
        assert (fig.n_workers, fig.lower_bound, fig.peak_workers) == (
            plan.n_workers, plan.lower_bound, plan.peak_workers)


def test_top_partners_bitwise_identical(lib, rng):
    n, nq, T, k = 120, 30, 64, 5
    X = (rng.standard_normal((n, T)).cumsum(axis=1)).astype(np.float32)
    Q = (rng.standard_normal((nq, T)).cumsum(axis=1)).astype(np.float32)
    for queries in (None, Q):
        rows = n if queries is None else nq
        ci, cs = np.empty((rows, k), np.int64), np.empty((rows, k), np.float32)
        ai, as_ = np.empty((rows, k), np.int64), np.empty((rows, k), np.float32)
        qp = None if queries is None else _ptr(queries, ctypes.c_float)
        st = lib.pyshape_top_partners(_ptr(X, ctypes.c_float), ctypes.c_size_t(n), ctypes.c_size_t(T), qp,
                                      ctypes.c_size_t(rows), k, _ptr(ci, ctypes.c_int64), _ptr(cs, ctypes.c_float),
                                      _ptr(ai, ctypes.c_int64), _ptr(as_, ctypes.c_float), 0)
        assert st == 0, lib.pyshape_last_error()
        for method in ("bruteforce", "pruned"):
            p = pyshape.top_partners(X, k, queries=queries, method=method, rank=8)
            assert np.array_equal(ci, p.corr_index) and np.array_equal(cs.view(np.int32), p.corr_score.view(np.int32))
            assert np.array_equal(ai, p.anti_index) and np.array_equal(as_.view(np.int32), p.anti_score.view(np.int32))


_TOPK = {"auto": 0, "bruteforce": 1, "int8": 2, "pruned": 3}


def test_top_partners_auto_method_same_as_python(lib):
    """The C API's 'auto' choice is Python's (one C++ cost model), on both sides of every threshold."""
    lib.pyshape_top_partners_auto_method.restype = ctypes.c_int
    names = {v: k for k, v in _TOPK.items()}
    sizes = [(1, 1, 1), (100, 100, 100), (1000, 1999, 1000), (1000, 2000, 1000), (1000, 2001, 1000),
             (10_000, 1440, 10_000), (10_000, 288, 10), (50_000, 1440, 50_000), (2, 65536, 2),
             (200_000, 65536, 200_000), (10, 65537, 10)]
    for n, T, nq in sizes:
        c = names[lib.pyshape_top_partners_auto_method(ctypes.c_size_t(n), ctypes.c_size_t(T), ctypes.c_size_t(nq))]
        py = pyshape.correlate.topk.choose_method(nq, n, T, lambda: pytest.fail("no plan for T <= 65536"))[0]
        assert c == py == pyshape.correlate.topk.top_partners_auto_method(nq, n, T), (n, T, nq)
    # T > 65536 with large work: Python makes a plan; C has none and runs brute force
    c = names[lib.pyshape_top_partners_auto_method(ctypes.c_size_t(50_000), ctypes.c_size_t(70_000),
                                                   ctypes.c_size_t(50_000))]
    assert c == "bruteforce"


def test_top_partners_method_bitwise_and_reports_method(lib, rng):
    n, nq, T, k = 700, 40, 96, 6
    X = (rng.standard_normal((n, T)).cumsum(axis=1)).astype(np.float32)
    Q = (rng.standard_normal((nq, T)).cumsum(axis=1)).astype(np.float32)
    for queries in (None, Q):
        rows = n if queries is None else nq
        want = pyshape.top_partners(X, k, queries=queries, method="bruteforce")
        for method in ("auto", "bruteforce", "int8"):
            ci, cs = np.empty((rows, k), np.int64), np.empty((rows, k), np.float32)
            ai, as_ = np.empty((rows, k), np.int64), np.empty((rows, k), np.float32)
            ran = ctypes.c_int(-1)
            qp = None if queries is None else _ptr(queries, ctypes.c_float)
            st = lib.pyshape_top_partners_method(
                _ptr(X, ctypes.c_float), ctypes.c_size_t(n), ctypes.c_size_t(T), qp, ctypes.c_size_t(rows), k,
                _ptr(ci, ctypes.c_int64), _ptr(cs, ctypes.c_float), _ptr(ai, ctypes.c_int64),
                _ptr(as_, ctypes.c_float), 0, _TOPK[method], ctypes.byref(ran))
            assert st == 0, lib.pyshape_last_error()
            expect = pyshape.correlate.topk.top_partners_auto_method(rows, n, T) if method == "auto" else method
            assert ran.value == _TOPK[expect], (method, ran.value)
            assert np.array_equal(ci, want.corr_index) and np.array_equal(cs.view(np.int32),
                                                                           want.corr_score.view(np.int32))
            assert np.array_equal(ai, want.anti_index) and np.array_equal(as_.view(np.int32),
                                                                           want.anti_score.view(np.int32))
    # a large enough call for 'auto' to run int8, one side only
    Y = rng.standard_normal((1500, 1000)).astype(np.float32)
    ci, cs = np.empty((1500, 3), np.int64), np.empty((1500, 3), np.float32)
    ran = ctypes.c_int(-1)
    assert lib.pyshape_top_partners_method(_ptr(Y, ctypes.c_float), ctypes.c_size_t(1500), ctypes.c_size_t(1000),
                                           None, ctypes.c_size_t(0), 3, _ptr(ci, ctypes.c_int64),
                                           _ptr(cs, ctypes.c_float), None, None, 0, 0, ctypes.byref(ran)) == 0
    p = pyshape.top_partners(Y, 3, which="corr")
    assert ran.value == _TOPK["int8"] == _TOPK[pyshape.correlate.topk.top_partners_auto_method(1500, 1500, 1000)]
    assert np.array_equal(ci, p.corr_index) and np.array_equal(cs.view(np.int32), p.corr_score.view(np.int32))
    # errors: pruned is Python only; unknown methods; int8 beyond its length
    for bad, msg in ((3, b"Python only"), (7, b"method must be")):
        assert lib.pyshape_top_partners_method(_ptr(Y, ctypes.c_float), ctypes.c_size_t(1500),
                                               ctypes.c_size_t(1000), None, ctypes.c_size_t(0), 3,
                                               _ptr(ci, ctypes.c_int64), _ptr(cs, ctypes.c_float), None, None, 0,
                                               bad, None) != 0
        assert msg in lib.pyshape_last_error()
    # int8 normalises on the fly: a non-finite row is still refused, naming the array and the row
    for where in ("X", "queries"):
        Xb, Qb = Y[:200].copy(), Y[200:230].copy()
        (Xb if where == "X" else Qb)[17, 5] = np.nan
        assert lib.pyshape_top_partners_method(_ptr(Xb, ctypes.c_float), ctypes.c_size_t(200),
                                               ctypes.c_size_t(1000), _ptr(Qb, ctypes.c_float),
                                               ctypes.c_size_t(30), 3, _ptr(ci, ctypes.c_int64),
                                               _ptr(cs, ctypes.c_float), None, None, 0, _TOPK["int8"], None) != 0
        assert f"{where} has a NaN or infinite value in row 17".encode() in lib.pyshape_last_error()


def test_pearson_and_lagged_identical(lib, rng):
    n, m, T, L = 20, 7, 50, 6
    X = rng.standard_normal((n, T)).astype(np.float32)
    Y = rng.standard_normal((m, T)).astype(np.float32)
    out = np.empty((n, n), np.float32)
    assert lib.pyshape_pearson(_ptr(X, ctypes.c_float), ctypes.c_size_t(n), None, ctypes.c_size_t(0),
                               ctypes.c_size_t(T), _ptr(out, ctypes.c_float), 0) == 0
    assert np.array_equal(out, pyshape.pearson(X))
    out = np.empty((n, m), np.float32)
    assert lib.pyshape_pearson(_ptr(X, ctypes.c_float), ctypes.c_size_t(n), _ptr(Y, ctypes.c_float),
                               ctypes.c_size_t(m), ctypes.c_size_t(T), _ptr(out, ctypes.c_float), 0) == 0
    assert np.array_equal(out, pyshape.pearson(X, Y))
    score, lag = np.empty((n, m), np.float32), np.empty((n, m), np.int32)
    assert lib.pyshape_lagged_correlation(_ptr(X, ctypes.c_float), ctypes.c_size_t(n), _ptr(Y, ctypes.c_float),
                                          ctypes.c_size_t(m), ctypes.c_size_t(T), ctypes.c_size_t(L),
                                          _ptr(score, ctypes.c_float), _ptr(lag, ctypes.c_int32), 0) == 0
    s2, l2 = pyshape.lagged_correlation(X, Y, max_lag=L)
    assert np.array_equal(score, s2) and np.array_equal(lag, l2)


def test_placer_snapshots_shared_with_python(lib, rng, tmp_path):
    R, T = 2, 24
    cap = np.array([10.0, 10.0])
    p = ctypes.c_void_p()
    assert lib.pyshape_placer_create(ctypes.c_size_t(R), ctypes.c_size_t(T), _ptr(cap, ctypes.c_double), None, None,
                                     ctypes.byref(p)) == 0
    py = pyshape.Placer(cap, T)
    shapes = rng.uniform(0, 4, size=(60, R, T)).astype(np.float32)
    w = ctypes.c_int64()
    for i, s in enumerate(shapes):
        assert lib.pyshape_placer_place(p, f"vm-{i}".encode(), _ptr(s, ctypes.c_float), ctypes.byref(w)) == 0
        assert w.value == py.place(f"vm-{i}", s)
    for i in range(0, 60, 7):
        assert lib.pyshape_placer_remove(p, f"vm-{i}".encode(), ctypes.byref(w)) == 0
        assert w.value == py.remove(f"vm-{i}")
    load = np.empty((R, T), np.float32)
    for k in range(py.n_workers):
        assert lib.pyshape_placer_load(p, ctypes.c_size_t(k), _ptr(load, ctypes.c_float)) == 0
        assert np.array_equal(load, py.load(k))
    path = tmp_path / "c.snap"
    assert lib.pyshape_placer_save(p, str(path).encode()) == 0
    assert path.read_bytes() == py.snapshot()  # the same bytes: C and Python restore each other's
    back = pyshape.Placer.restore(path)
    assert back.worker_of("vm-3") == py.worker_of("vm-3") >= 0
    lib.pyshape_placer_free(p)


def test_go_example_matches_python(capi, examples_io, bitbrains_file):
    go = shutil.which("go")
    if go is None:
        pytest.skip("go is not on PATH (Debian: apt-get install golang-go)")
    prefix, base = capi["prefix"], capi["base"]
    env = _env()
    env.update(
        CGO_ENABLED="1",
        CGO_CFLAGS=f"-I{prefix / 'include'}",
        CGO_LDFLAGS=f"{prefix / 'lib' / 'libpyshape.a'} -lstdc++ -lm -lpthread",
        GOCACHE=str(base / "go-cache"),
        GOPATH=str(base / "go-path"),
        GOFLAGS="-mod=mod",
        GOPROXY="off",
        GOTOOLCHAIN="local",
    )
    exe = base / "place_bitbrains_go"
    _run([go, "build", "-o", exe, "."], cwd=ROOT / "examples" / "go", env=env)
    r = _run([exe, bitbrains_file, *CAPACITY])
    _check_example_output(r.stdout, examples_io, bitbrains_file)


def _lower_bound_numpy(tot, cap, risk):
    """The NumPy bound pyshape.packing.lower_bound computed before it moved to C++ (reference)."""
    import math
    T = tot.shape[1]
    k = int(math.floor(risk * T + 1e-9))
    m = (tot / cap[:, None]).max(axis=0) * (1 - 4 * 2.0 ** -23)
    hi = max(1, int(math.ceil(m.max())))
    if k == 0:
        return hi
    m = np.sort(m)
    lo = 1
    while lo < hi:
        mid = (lo + hi) // 2
        if T - int(np.searchsorted(m, mid, side="right")) <= mid * k:
            hi = mid
        else:
            lo = mid + 1
    return lo


def test_lower_bound_in_cpp_matches_numpy_reference(rng):
    from pyshape.packing import lower_bound
    for _ in range(200):
        R, T = int(rng.integers(1, 4)), int(rng.integers(1, 300))
        tot = rng.uniform(0, 50, size=(R, T)) ** rng.uniform(0.5, 2)
        cap = rng.uniform(0.5, 5, size=R)
        risk = float(rng.choice([0.0, 0.01, 0.1, 0.5]))
        assert lower_bound(tot, cap, risk) == _lower_bound_numpy(tot, cap, risk)
    assert lower_bound(np.array([[3.0, 5.0], [1.0, 1.0]]), np.array([2.0, 4.0])) == 3
    assert lower_bound(np.array([[1.0, 1.0, 1.0, 4.0]]), np.array([1.0]), risk=0.25) == 1
    with pytest.raises(ValueError):
        lower_bound(np.array([[np.nan]]), np.array([1.0]))


# ---------------------------------------------------------------- scores and live updates (API 1.1)

class _Scores(ctypes.Structure):
    _fields_ = [("new_peak", ctypes.c_void_p), ("peak_rise", ctypes.c_void_p), ("covariance", ctypes.c_void_p),
                ("correlation", ctypes.c_void_p), ("steps_over", ctypes.c_void_p), ("fits", ctypes.c_void_p)]


def _c_score(L, p, R, s, workers, threshold, covariance=True):
    n = len(workers)
    out = {k: np.full((n, R), np.nan) for k in ("new_peak", "peak_rise", "covariance", "correlation")}
    out["steps_over"] = np.full(n, -7, np.int64)
    out["fits"] = np.full(n, 9, np.uint8)
    if not covariance:  # NULL: not computed (the block-bounds way)
        del out["covariance"], out["correlation"]
    sc = _Scores(*(out[k].ctypes.data if k in out else None
                   for k in ("new_peak", "peak_rise", "covariance", "correlation", "steps_over", "fits")))
    w = np.ascontiguousarray(workers, np.int64)
    st = L.pyshape_placer_score(p, _ptr(s, ctypes.c_float), _ptr(w, ctypes.c_int64), ctypes.c_size_t(n),
                                ctypes.c_double(threshold), ctypes.byref(sc))
    assert st == 0, L.pyshape_last_error()
    return out


def test_placer_score_update_advance_identical_to_python(lib, rng):
    assert lib.pyshape_api_version() % 1000 >= 1
    R, T = 2, 60
    cap = np.array([12.0, 12.0])
    p = ctypes.c_void_p()
    assert lib.pyshape_placer_create(ctypes.c_size_t(R), ctypes.c_size_t(T), _ptr(cap, ctypes.c_double), None, None,
                                     ctypes.byref(p)) == 0
    py = pyshape.Placer(cap, T)
    t = np.arange(T)
    shapes = (rng.uniform(0.3, 2, (80, R, 1)) * (1.1 + np.sin(2 * np.pi * t / T + rng.uniform(0, 7, (80, R, 1))))
              ).astype(np.float32)
    w = ctypes.c_int64()
    for i, s in enumerate(shapes):
        assert lib.pyshape_placer_place(p, f"vm-{i}".encode(), _ptr(s, ctypes.c_float), ctypes.byref(w)) == 0
        assert w.value == py.place(f"vm-{i}", s)
    fits = ctypes.c_int()
    for i in range(0, 80, 9):
        s = np.ascontiguousarray(shapes[(i * 7) % 80] * np.float32(1.5))
        assert lib.pyshape_placer_update(p, f"vm-{i}".encode(), _ptr(s, ctypes.c_float), ctypes.byref(fits)) == 0
        assert bool(fits.value) == py.update(f"vm-{i}", s)
    n_over = ctypes.c_size_t()
    for k in (1, 5):
        ids = py.ids()
        vals = rng.uniform(0, 1, (len(ids), R, k)).astype(np.float32)
        perm = rng.permutation(len(ids))
        cids = (ctypes.c_char_p * len(ids))(*[ids[j].encode() for j in perm])
        assert lib.pyshape_placer_advance(p, ctypes.c_size_t(k), cids, _ptr(np.ascontiguousarray(vals[perm]),
                                          ctypes.c_float), ctypes.byref(n_over)) == 0
        assert n_over.value == len(py.advance(vals))
    vals = rng.uniform(0, 1, (len(py), R, 2)).astype(np.float32)  # ids NULL: the placer's own order
    assert lib.pyshape_placer_advance(p, ctypes.c_size_t(2), None, _ptr(vals, ctypes.c_float), None) == 0
    py.advance(vals)
    s = np.ascontiguousarray(shapes[3])
    ws = rng.integers(0, py.n_workers, 40)
    for th in (1.0, 0.7):
        want = py.score(s, ws, threshold=th)
        for cov in (True, False):
            got = _c_score(lib, p, R, s, ws, th, covariance=cov)
            assert len(got) == (6 if cov else 4)
            for k in got:
                assert got[k].tobytes() == want[k].astype(got[k].dtype).tobytes(), (k, cov)
    # the same state, bit for bit: loads, shapes, snapshot bytes
    load, one = np.empty((R, T), np.float32), np.empty((R, T), np.float32)
    for k in range(py.n_workers):
        assert lib.pyshape_placer_load(p, ctypes.c_size_t(k), _ptr(load, ctypes.c_float)) == 0
        assert np.array_equal(load, py.load(k))
    assert lib.pyshape_placer_shape(p, b"vm-9", _ptr(one, ctypes.c_float)) == 0
    assert np.array_equal(one, py.shape("vm-9"))
    data, size = ctypes.c_void_p(), ctypes.c_size_t()
    assert lib.pyshape_placer_snapshot(p, ctypes.byref(data), ctypes.byref(size)) == 0
    assert ctypes.string_at(data, size.value) == py.snapshot()
    lib.pyshape_free(data)
    # errors: status, message, nothing changed
    bad = np.array([-1], np.int64)
    assert lib.pyshape_placer_score(p, _ptr(s, ctypes.c_float), _ptr(bad, ctypes.c_int64), ctypes.c_size_t(1),
                                    ctypes.c_double(1.0), ctypes.byref(_Scores())) == 1
    assert b"out of range" in lib.pyshape_last_error()
    assert lib.pyshape_placer_update(p, b"nope", _ptr(s, ctypes.c_float), None) == 5
    assert lib.pyshape_placer_advance(p, ctypes.c_size_t(T + 1), None, _ptr(vals, ctypes.c_float), None) == 1
    nan = vals.copy()
    nan[2, 1, 0] = np.nan
    assert lib.pyshape_placer_advance(p, ctypes.c_size_t(2), None, _ptr(nan, ctypes.c_float), None) == 1
    assert lib.pyshape_placer_snapshot(p, ctypes.byref(data), ctypes.byref(size)) == 0
    assert ctypes.string_at(data, size.value) == py.snapshot()
    lib.pyshape_free(data)
    lib.pyshape_placer_free(p)


def _c_ids(lib, p):
    """pyshape_placer_ids: size first (buffer NULL), then the ids and their workers."""
    size = ctypes.c_size_t(12345)
    assert lib.pyshape_placer_ids(p, None, ctypes.c_size_t(0), ctypes.byref(size), None) == 0
    n = lib.pyshape_placer_n_items(p)
    buf = ctypes.create_string_buffer(size.value + 1)
    workers = np.full(n, -9, np.int64)
    assert lib.pyshape_placer_ids(p, buf, ctypes.c_size_t(size.value), ctypes.byref(size),
                                  _ptr(workers, ctypes.c_int64)) == 0
    ids = buf.raw[:size.value].split(b"\0")
    assert ids[-1] == b"" and len(ids) == n + 1
    return [i.decode() for i in ids[:-1]], workers


def test_placer_ids_lists_every_id_and_its_worker(lib, rng):
    lib.pyshape_placer_n_items.restype = ctypes.c_size_t
    R, T = 2, 24
    cap = np.array([6.0, 6.0])
    p = ctypes.c_void_p()
    assert lib.pyshape_placer_create(ctypes.c_size_t(R), ctypes.c_size_t(T), _ptr(cap, ctypes.c_double), None, None,
                                     ctypes.byref(p)) == 0
    ids0, w0 = _c_ids(lib, p)  # an empty placer: size 0, no ids
    assert ids0 == [] and w0.size == 0
    py = pyshape.Placer(cap, T)
    names = [f"vm-{i}" for i in range(40)] + ["", "ünï-€", "x" * 300]  # empty, non-ASCII, long
    for name in names:
        s = rng.uniform(0, 2, (R, T)).astype(np.float32)
        assert lib.pyshape_placer_place(p, name.encode(), _ptr(s, ctypes.c_float), None) == 0
        py.place(name, s)
    for name in names[3:30:4]:
        assert lib.pyshape_placer_remove(p, name.encode(), None) == 0
        py.remove(name)
    ids, workers = _c_ids(lib, p)
    assert ids == py.ids()  # the Python Placer's order: worker 0's members, then worker 1's, ...
    assert workers.tolist() == [py.worker_of(i) for i in ids]
    assert np.all(np.diff(workers) >= 0)
    # a buffer one byte short: EINVAL, buffer untouched, *size still the bytes needed
    size = ctypes.c_size_t()
    assert lib.pyshape_placer_ids(p, None, ctypes.c_size_t(0), ctypes.byref(size), None) == 0
    short = ctypes.create_string_buffer(b"#" * size.value)
    got = ctypes.c_size_t()
    assert lib.pyshape_placer_ids(p, short, ctypes.c_size_t(size.value - 1), ctypes.byref(got), None) == 1
    assert b"too small" in lib.pyshape_last_error() and got.value == size.value
    assert short.raw[:size.value] == b"#" * size.value
    assert lib.pyshape_placer_ids(p, short, ctypes.c_size_t(0), None, None) == 1  # size is required
    assert lib.pyshape_placer_ids(None, None, ctypes.c_size_t(0), ctypes.byref(got), None) == 1
    # ids placed from Python as ints come out as their digits
    q = pyshape.Placer(cap, T)
    q.place(7, np.ones((R, T), np.float32))
    q.place("seven", np.ones((R, T), np.float32))
    snap = q.snapshot()
    r = ctypes.c_void_p()
    assert lib.pyshape_placer_restore(snap, ctypes.c_size_t(len(snap)), ctypes.byref(r)) == 0
    assert _c_ids(lib, r)[0] == ["7", "seven"]
    lib.pyshape_placer_free(r)
    lib.pyshape_placer_free(p)


def test_bench_placer_runs(capi):
    """The C bench (bench/c/bench_placer.c), small: every figure line is printed."""
    r = _run([capi["tests"] / "bench_placer", "50", "2000", "96", "200"])
    lines = [x for x in r.stdout.splitlines() if not x.startswith("#")]
    assert len(lines) == 8 and all("median" in x and "p99" in x for x in lines), r.stdout


# ---------------------------------------------------------------- worker types and plan verification (API 1.2)

class _WorkerTypes(ctypes.Structure):
    _fields_ = [("n_types", ctypes.c_size_t), ("capacity", ctypes.c_void_p), ("cost", ctypes.c_void_p),
                ("names", ctypes.POINTER(ctypes.c_char_p))]


class _TypedFigures(ctypes.Structure):
    _fields_ = [("n_workers", ctypes.c_size_t), ("lower_bound", ctypes.c_size_t), ("peak_workers", ctypes.c_size_t),
                ("cost", ctypes.c_double), ("cost_lower_bound", ctypes.c_double), ("peak_cost", ctypes.c_double)]


class _VerifyReport(ctypes.Structure):
    _fields_ = [("ok", ctypes.c_int), ("allowed_steps", ctypes.c_size_t), ("out_of_range", ctypes.c_size_t),
                ("empty_workers", ctypes.c_size_t), ("workers_over", ctypes.c_size_t),
                ("message", ctypes.c_char * 512)]


def _c_pack_typed(L, D, types, head, strategy, risk=0.0):
    D = np.ascontiguousarray(D, dtype=np.float32)
    n, R, T = D.shape
    cap = np.ascontiguousarray(types.capacity, np.float64)
    cost = np.ascontiguousarray(types.cost, np.float64)
    head = np.ascontiguousarray(np.broadcast_to(np.asarray(head, np.float64), (R,)))
    wt = _WorkerTypes(types.n_types, cap.ctypes.data, cost.ctypes.data, None)
    opt = _PackOptions(_STRATEGIES[strategy], risk, 8, 2, 32768, 0)
    out, wtype, fig = np.empty(n, np.int64), np.full(n, -1, np.int32), _TypedFigures()
    st = L.pyshape_pack_typed(_ptr(D, ctypes.c_float), ctypes.c_size_t(n), ctypes.c_size_t(R), ctypes.c_size_t(T),
                              ctypes.byref(wt), _ptr(head, ctypes.c_double), ctypes.byref(opt),
                              _ptr(out, ctypes.c_int64), _ptr(wtype, ctypes.c_int32), ctypes.byref(fig))
    return st, out, wtype[:fig.n_workers], fig


def _c_verify(L, D, a, cap, head, risk):
    D = np.ascontiguousarray(D, np.float32)
    n, R, T = D.shape
    a = np.ascontiguousarray(a, np.int64)
    cap = np.ascontiguousarray(cap, np.float64)
    head = np.ascontiguousarray(head, np.float64)
    W = cap.shape[0]
    over, excess, rep = np.full(W, -1, np.int64), np.full(R, np.nan), _VerifyReport()
    st = L.pyshape_plan_verify(_ptr(D, ctypes.c_float), ctypes.c_size_t(n), ctypes.c_size_t(R), ctypes.c_size_t(T),
                               _ptr(a, ctypes.c_int64), ctypes.c_size_t(W), _ptr(cap, ctypes.c_double),
                               _ptr(head, ctypes.c_double), ctypes.c_double(risk), _ptr(over, ctypes.c_int64),
                               _ptr(excess, ctypes.c_double), ctypes.byref(rep))
    assert st == 0, L.pyshape_last_error()
    return rep, over, excess


@pytest.mark.parametrize("strategy", ["auto", "complement", "peak"])
def test_pack_typed_identical_to_python(lib, rng, strategy):
    from pyshape.packing import WorkerTypes

    assert lib.pyshape_api_version() % 1000 >= 2
    n, R, T = 200, 2, 48
    t = np.arange(T)
    D = (rng.uniform(0.5, 3, size=(n, R, 1)) * (1.2 + np.sin(2 * np.pi * t / T + rng.uniform(0, 7, (n, R, 1))))
         ).astype(np.float32)
    types = WorkerTypes(["s", "m", "l"], [[8.0, 10.0], [14.0, 18.0], [30.0, 36.0]], [1.0, 1.6, 3.1])
    for head in (0.0, [0.1, 0.0]):
        plan = pyshape.pack(D, types, strategy, headroom=head)
        st, a, wtype, fig = _c_pack_typed(lib, D, types, head, strategy)
        assert st == 0, lib.pyshape_last_error()
        assert np.array_equal(a, plan.assignment) and np.array_equal(wtype, plan.worker_type)
        assert (fig.n_workers, fig.lower_bound, fig.peak_workers) == (plan.n_workers, plan.lower_bound,
                                                                      plan.peak_workers)
        assert (fig.cost, fig.cost_lower_bound, fig.peak_cost) == (plan.cost, plan.cost_lower_bound, plan.peak_cost)
    # one type: pyshape_pack's plan
    one = WorkerTypes(["only"], [[14.0, 18.0]], [2.0])
    st, a, wtype, fig = _c_pack_typed(lib, D, one, 0.0, strategy)
    b, fig1 = _c_pack(lib, D, [14.0, 18.0], 0.0, strategy)
    assert st == 0 and np.array_equal(a, b) and fig.n_workers == fig1.n_workers and fig.cost == 2.0 * fig1.n_workers
    # errors: a shape that fits no type (its row named), a bad cost (its type named)
    small = WorkerTypes(["s"], [[1.0, 1.0]], [1.0])
    st, *_ = _c_pack_typed(lib, D, small, 0.0, strategy)
    assert st == 3 and b"fit no worker type" in lib.pyshape_last_error() and b"rows 0" in lib.pyshape_last_error()
    cap = np.ascontiguousarray(types.capacity)
    cost = np.array([1.0, -1.0, 2.0])
    wt = _WorkerTypes(3, cap.ctypes.data, cost.ctypes.data, None)
    out, wtp = np.empty(n, np.int64), np.empty(n, np.int32)
    assert lib.pyshape_pack_typed(_ptr(D, ctypes.c_float), ctypes.c_size_t(n), ctypes.c_size_t(R), ctypes.c_size_t(T),
                                  ctypes.byref(wt), None, None, _ptr(out, ctypes.c_int64), _ptr(wtp, ctypes.c_int32),
                                  None) == 1
    assert b"worker type 1: cost must be positive" in lib.pyshape_last_error()


def test_plan_verify_identical_to_python(lib, rng):
    import dataclasses

    from pyshape.packing import WorkerTypes

    n, R, T = 120, 2, 30
    D = rng.uniform(0, 2, size=(n, R, T)).astype(np.float32)
    types = WorkerTypes(["s", "l"], [[6.0, 6.0], [12.0, 12.0]], [1.0, 1.8])
    for risk in (0.0, 0.1):
        for plan in (pyshape.pack(D, 9.0, headroom=0.1, risk=risk), pyshape.pack(D, types, headroom=0.1, risk=risk)):
            for k in range(4):
                a = plan.assignment.copy()
                if k == 1:
                    a[: n // 3] = 0
                elif k == 2:
                    a[3] = -2
                elif k == 3:
                    a[a == 1] = 0
                p = dataclasses.replace(plan, assignment=a)
                want = p.verify(raise_on_error=False)
                rep, over, excess = _c_verify(lib, D, a, p.worker_capacity, p.headroom, risk)
                assert bool(rep.ok) == want.ok and rep.message.decode() == want.message
                assert rep.allowed_steps == want.allowed_steps
                assert np.array_equal(over, want.steps_over) and np.array_equal(excess, want.max_excess)
    rep = _VerifyReport()
    bad = np.array([[1.0, -1.0]])
    assert lib.pyshape_plan_verify(_ptr(D, ctypes.c_float), ctypes.c_size_t(n), ctypes.c_size_t(R),
                                   ctypes.c_size_t(T), _ptr(np.zeros(n, np.int64), ctypes.c_int64), ctypes.c_size_t(1),
                                   _ptr(bad, ctypes.c_double), None, ctypes.c_double(0.0), None, None,
                                   ctypes.byref(rep)) == 1
    assert b"capacity must be positive" in lib.pyshape_last_error()


def test_typed_placer_identical_to_python(lib, rng):
    from pyshape.packing import WorkerTypes

    R, T = 2, 24
    types = WorkerTypes(["small", "large"], [[6.0, 8.0], [12.0, 16.0]], [1.0, 1.7])
    cap, cost = np.ascontiguousarray(types.capacity), np.ascontiguousarray(types.cost)
    names = (ctypes.c_char_p * 2)(b"small", b"large")
    wt = _WorkerTypes(2, cap.ctypes.data, cost.ctypes.data, names)
    p = ctypes.c_void_p()
    assert lib.pyshape_placer_create_typed(ctypes.c_size_t(R), ctypes.c_size_t(T), ctypes.byref(wt), None, None,
                                           ctypes.byref(p)) == 0, lib.pyshape_last_error()
    py = pyshape.Placer(types, T)
    shapes = rng.uniform(0, 3, size=(80, R, T)).astype(np.float32)
    shapes[::9] *= np.float32(3.5)  # some need the large type
    w = ctypes.c_int64()
    for i, s in enumerate(shapes):
        assert lib.pyshape_placer_place(p, f"vm-{i}".encode(), _ptr(s, ctypes.c_float), ctypes.byref(w)) == 0
        assert w.value == py.place(f"vm-{i}", s)
    t = ctypes.c_int32()
    got = []
    for k in range(py.n_workers):
        assert lib.pyshape_placer_worker_type(p, ctypes.c_size_t(k), ctypes.byref(t)) == 0
        got.append(t.value)
    assert got == py.worker_type.tolist() and set(got) == {0, 1}
    assert lib.pyshape_placer_worker_type(p, ctypes.c_size_t(py.n_workers), ctypes.byref(t)) == 1
    data, size = ctypes.c_void_p(), ctypes.c_size_t()
    assert lib.pyshape_placer_snapshot(p, ctypes.byref(data), ctypes.byref(size)) == 0
    assert ctypes.string_at(data, size.value) == py.snapshot()  # version 4, the same bytes
    lib.pyshape_free(data)
    big = np.full((R, T), 13.0, np.float32)
    assert lib.pyshape_placer_place(p, b"big", _ptr(big, ctypes.c_float), None) == 3
    lib.pyshape_placer_free(p)
    # an untyped placer: worker type -1
    q = ctypes.c_void_p()
    assert lib.pyshape_placer_create(ctypes.c_size_t(R), ctypes.c_size_t(T), _ptr(cap[1].copy(), ctypes.c_double),
                                     None, None, ctypes.byref(q)) == 0
    assert lib.pyshape_placer_place(q, b"a", _ptr(shapes[1], ctypes.c_float), None) == 0
    assert lib.pyshape_placer_worker_type(q, ctypes.c_size_t(0), ctypes.byref(t)) == 0 and t.value == -1
    lib.pyshape_placer_free(q)
