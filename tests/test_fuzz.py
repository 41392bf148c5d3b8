"""Property-based fuzzing of the whole public API (hypothesis).

Every call gets random input: shapes of random size (0 and 1 included),
dtypes (float16/32/64, signed and unsigned integers, bool, complex, object
arrays of numbers, of None and of text), layouts (Fortran order, strided and
reversed views, read-only arrays, nested lists, 0-D / 1-D / 3-D), values (NaN,
+-inf, values near and beyond the float32 range, subnormals, constant and
duplicate rows, large levels with small variations) and arguments, valid and
invalid. The outcome of every call must be either

* a result that matches an independent NumPy reference (``tests/reference.py``
  for the correlations, float64 re-summing for packing plans, range and
  shape checks for the estimators and forecasters), or
* an exception of an expected type (TypeError, ValueError, OverflowError,
  KeyError for unknown ids, IndexError for a worker out of range, pyshape's
  own error classes),

and which of the two is decided up front from the input (a valid input that
raises, or an invalid one that returns, fails the test). Anything else -- a
crash, a hang, another exception type -- fails.

Run lengths (hypothesis settings profiles, chosen by ``PYSHAPE_FUZZ``):

* default (CI): a few dozen examples per property, derandomised, well under a
  minute in total;
* ``PYSHAPE_FUZZ=long``: thousands of examples per property, random seeds
  (see tests/README.md for the command and the last recorded run).

``PYSHAPE_FUZZ_EXAMPLES=N`` overrides the examples per property in either
profile. The number of public calls made is printed at the end of the module
(``pytest -s``) and appended to ``$PYSHAPE_FUZZ_COUNT_FILE`` when that is set.
"""
from __future__ import annotations

import math
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import pyshape  # noqa: E402
from pyshape import packing  # noqa: E402
from pyshape.packing._verify import F32_UNIT  # noqa: E402
import reference as ref  # noqa: E402

# --------------------------------------------------------------------------- profiles
_SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
             HealthCheck.function_scoped_fixture]
settings.register_profile("pyshape-ci", max_examples=25, deadline=None, derandomize=True, database=None,
                          suppress_health_check=_SUPPRESS, print_blob=True)
settings.register_profile("pyshape-long", max_examples=4000, deadline=None, derandomize=False,
                          database=None, suppress_health_check=_SUPPRESS, print_blob=True)
_PROFILE = "pyshape-long" if os.environ.get("PYSHAPE_FUZZ", "").lower() == "long" else "pyshape-ci"
_OVERRIDE = os.environ.get("PYSHAPE_FUZZ_EXAMPLES")
_BASE = settings.get_profile(_PROFILE)
FUZZ = settings(_BASE, max_examples=int(_OVERRIDE)) if _OVERRIDE else _BASE


def fuzz(weight: float = 1.0):
    """Settings for one property: ``weight`` scales the examples (cheap properties run more)."""
    return settings(FUZZ, max_examples=max(1, int(FUZZ.max_examples * weight)))


# Exceptions a call may raise on bad input. pyshape's own classes derive from
# these (ShapeTooLargeError / DuplicateIdError: ValueError, UnknownIdError:
# KeyError, FleetFullError: RuntimeError, InfeasiblePlanError: AssertionError);
# they are listed by name where a property expects them.
EXPECTED = (TypeError, ValueError, OverflowError)

CALLS = {"n": 0}


def call(fn, *args, **kwargs):
    """One public call; a RuntimeWarning (overflow, invalid value, ...) escaping pyshape is a failure,
    since it means a computation went outside what the checks let through."""
    CALLS["n"] += 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        return fn(*args, **kwargs)


@pytest.fixture(scope="module", autouse=True)
def _report_calls():
    yield
    print(f"\nfuzz: {CALLS['n']} public calls (profile {_PROFILE})")
    path = os.environ.get("PYSHAPE_FUZZ_COUNT_FILE")
    if path:
        with open(path, "a") as f:
            f.write(f"{CALLS['n']}\n")


class Stop(Exception):
    """Raised by a progress callback: must reach the caller unchanged."""


F32_MAX = float(np.finfo(np.float32).max)
F32_EPS = float(np.finfo(np.float32).eps)

# --------------------------------------------------------------------------- inputs
REAL_DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16",
               "uint32", "uint64", "bool"]
ODD_DTYPES = ["complex64", "complex128", "object", "object-none", "object-str", "str", "datetime64[s]"]
LAYOUTS = ["C", "C", "C", "F", "strided", "reversed", "readonly", "list"]
SPECIALS = [np.nan, np.inf, -np.inf, 3.4e38, -3.4e38, 3.5e38, 1e39, 1e300, 1e-45, -1e-45, 1e-40, 1e-320, 0.0,
            -0.0, 65504.0, 7e4]


class Input:
    """A generated array argument: what is passed (``obj``) and what it means.

    ``values``: the float64 values (None when the dtype is not real);
    ``dtype``: the element type as passed; ``kind``: 'real' or the reason it is not.
    """

    def __init__(self, obj, values, dtype, kind, layout):
        self.obj, self.values, self.dtype, self.kind, self.layout = obj, values, dtype, kind, layout

    def __repr__(self):
        v = None if self.values is None else self.values.shape
        return f"Input(dtype={self.dtype}, kind={self.kind}, layout={self.layout}, shape={v})"


def _base_values(rng, mode, n, T, nonneg):
    shape = (n, T)
    if mode == "normal":
        x = rng.standard_normal(shape)
    elif mode == "ints":
        x = rng.integers(-3, 4, shape).astype(np.float64)
    elif mode == "constant":
        x = np.full(shape, float(rng.integers(-2, 3)))
        if n:
            x[rng.integers(0, n)] += rng.standard_normal(T) if rng.random() < 0.5 else 0.0
    elif mode == "dup":
        base = rng.standard_normal((max(1, min(n, 2)), T))
        x = base[rng.integers(0, len(base), n)] * rng.choice([-1.0, 1.0, 2.5], (n, 1))
    elif mode == "sine":
        t = np.arange(T)
        x = np.sin(2 * np.pi * (t[None, :] / max(T, 1) * rng.integers(1, 4, (n, 1)) + rng.random((n, 1))))
    elif mode == "spiky":
        x = np.zeros(shape)
        if n and T:
            x[rng.integers(0, n, 3), rng.integers(0, T, 3)] = rng.exponential(5.0, 3)
    else:  # "levelled": a large level with small variations (tests centring before the float32 cast)
        x = 1e6 * rng.integers(1, 1000, (n, 1)) + rng.standard_normal(shape) * 10.0 ** rng.integers(-9, 1)
    if nonneg:
        x = np.abs(x)
    return x


@st.composite
def shapes_input(draw, *, n=None, T=None, max_n=7, max_T=33, ndim=2, nonneg=False, odd=0.12, special=0.15,
                 R=None):
    """An array argument of ``ndim`` dimensions (``(n, T)``, or ``(n, R, T)`` for 3)."""
    n = draw(st.integers(0, max_n)) if n is None else n
    T = draw(st.integers(0, max_T)) if T is None else T
    R = (draw(st.integers(1, 3)) if R is None else R) if ndim == 3 else 1
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    mode = draw(st.sampled_from(["normal", "normal", "ints", "constant", "dup", "sine", "spiky", "levelled"]))
    scale = 10.0 ** draw(st.sampled_from([0, 0, 0, -3, 3, -30, 30, -40, 37]))
    x = _base_values(rng, mode, n * R, T, nonneg) * scale
    if ndim == 3:
        x = x.reshape(n, R, T)
    elif ndim == 1:
        x = x.reshape(-1)[:T] if n else np.zeros(0)
    elif ndim == 0:
        x = np.array(float(rng.standard_normal()))
    elif ndim == 4:
        x = x.reshape(n, 1, 1, T)
    if x.size and draw(st.floats(0, 1)) < special:
        k = draw(st.integers(1, 3))
        flat = x.reshape(-1)
        for _ in range(k):
            flat[rng.integers(0, flat.size)] = draw(st.sampled_from(SPECIALS))
    dtype = draw(st.sampled_from(REAL_DTYPES + (ODD_DTYPES if draw(st.floats(0, 1)) < odd else [])))
    layout = draw(st.sampled_from(LAYOUTS))
    return make_input(x, dtype, layout, rng)


def make_input(x, dtype, layout, rng=None):
    rng = rng or np.random.default_rng(0)
    kind = "real"
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dtype == "bool":
            arr = x > 0
        elif dtype.startswith(("int", "uint")):
            info = np.iinfo(dtype)
            y = np.nan_to_num(np.round(x), nan=0.0, posinf=info.max, neginf=info.min)
            arr = np.clip(y, info.min, info.max).astype(dtype)
        elif dtype in ("float16", "float32", "float64"):
            arr = x.astype(dtype)
        elif dtype.startswith("complex"):
            arr = (x + 1j).astype(dtype)
            kind = "complex"
        elif dtype == "object":
            arr = x.astype(object)
        elif dtype == "object-none":
            arr = x.astype(object)
            if arr.size:
                arr.reshape(-1)[0] = None
                kind = "nonfinite"  # None becomes NaN
        elif dtype == "object-str":
            arr = x.astype(object)
            if arr.size:
                arr.reshape(-1)[0] = "abc"
                kind = "text"
        elif dtype == "str":
            arr = x.astype(str)
            kind = "text"
        else:
            arr = np.zeros(x.shape, dtype=dtype)
            kind = "text"
    if dtype.startswith("object") and kind == "real":
        values = arr.astype(np.float64)
    elif kind in ("real",):
        values = arr.astype(np.float64)
    elif kind == "nonfinite":
        values = None
    else:
        values = None
    obj = arr
    if layout == "F" and arr.ndim >= 2:
        obj = np.asfortranarray(arr)
    elif layout == "strided" and arr.ndim >= 1:
        big = np.empty(tuple(2 * s + 1 for s in arr.shape), dtype=arr.dtype)
        sl = tuple(slice(1, None, 2) for _ in arr.shape)
        big[sl] = arr
        obj = big[sl]
    elif layout == "reversed" and arr.ndim >= 1:
        rev = np.ascontiguousarray(arr[(slice(None, None, -1),) * arr.ndim])
        obj = rev[(slice(None, None, -1),) * arr.ndim]
    elif layout == "readonly":
        obj = arr.copy()
        obj.flags.writeable = False
    elif layout == "list" and kind == "real" and not dtype.startswith("object"):
        obj = arr.tolist()
    return Input(obj, values, dtype, kind, layout)


def wide(dtype: str) -> bool:
    """Whether the input is centred in float64 before the float32 cast (see _validation._to_float32)."""
    if dtype.startswith("object"):
        return True
    d = np.dtype(dtype)
    return d.itemsize > 4 or (d.kind in "iu" and d.itemsize >= 4)


def shapes_as_float32(inp: Input, center: bool):
    """What pyshape computes on: float64 values of the float32 array it builds, or the reason it
    refuses (a string). Mirrors the documented coercion: real dtypes only, wide input centred
    first when ``center``, finite values within float32 range."""
    if inp.kind == "text":
        return "type"
    if inp.kind == "complex":
        return "value"
    if inp.kind == "nonfinite":
        return "value"
    v = inp.values
    if v.ndim == 1:
        v = v.reshape(1, -1)
    if v.ndim != 2 or 0 in v.shape:
        return "value"
    if not np.isfinite(v).all():
        return "value"
    if center and wide(inp.dtype):
        with np.errstate(all="ignore"):
            c = v - v.mean(axis=1, keepdims=True)
        if not np.isfinite(c).all() or (np.abs(c) > F32_MAX).any():
            return "value"
        return c.astype(np.float32).astype(np.float64)
    if (np.abs(v) > F32_MAX).any():
        return "value"
    return v.astype(np.float32).astype(np.float64)


def borderline_rows(x: np.ndarray) -> np.ndarray:
    """Rows whose spread is within a factor of 4 of the 'constant' threshold (std <= 4 eps |mean|), or
    whose values are so small that float32 rounding of the sum of squares decides: their unit row
    may legitimately be zeros or not, so they are left out of exact comparisons."""
    mean = x.mean(axis=1)
    sd = x.std(axis=1)
    thr = 4 * F32_EPS * np.abs(mean)
    near = (sd > 0) & (sd <= 4 * thr) & (sd >= thr / 4)
    tiny = (sd > 0) & (sd < 1e-30)
    return near | tiny


def check_outcome(valid: bool, fn, *args, expected=EXPECTED, **kwargs):
    """Call ``fn``; a valid call must return, an invalid one must raise one of ``expected``."""
    try:
        out = call(fn, *args, **kwargs)
    except Stop:
        raise
    except expected as e:
        if valid:
            raise AssertionError(f"valid input raised {type(e).__name__}: {e}") from e
        return None
    if not valid:
        raise AssertionError(f"invalid input returned {type(out).__name__} instead of raising")
    return out


def reason_of(x):
    return x if isinstance(x, str) else None


THREADS = st.sampled_from([None, None, 1, 2, 3, 64])
BAD_THREADS = st.sampled_from([0, -1, 1.5, True, "2", 2**70])


@st.composite
def n_threads_arg(draw):
    if draw(st.floats(0, 1)) < 0.08:
        return draw(BAD_THREADS), False
    return draw(THREADS), True


def progress_arg(draw):
    kind = draw(st.sampled_from(["none", "none", "false", "callable", "stop"]))
    if kind == "callable":
        seen = []
        return (lambda d, t: seen.append((d, t))), None
    if kind == "stop":
        def stop(d, t):
            raise Stop()
        return stop, Stop
    return (False if kind == "false" else None), None


def test_float16_input_warns_nothing():
    """Regression (found by this fuzzer): float16 input made every function emit
    'RuntimeWarning: overflow encountered in cast' (the float32 range check compared float16 with
    3.4e38), an error under ``-W error``."""
    x = np.abs(np.random.default_rng(0).standard_normal((3, 8))).astype(np.float16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pyshape.znorm(x)
        pyshape.pearson(x)
        pyshape.pack(x, capacity=10.0).verify()


# --------------------------------------------------------------------------- correlation
@fuzz(1.0)
@given(inp=shapes_input(ndim=2), nt=n_threads_arg(), one_d=st.booleans())
def test_fuzz_znorm(inp, nt, one_d):
    threads, threads_ok = nt
    if one_d and inp.values is not None and inp.values.ndim == 2 and inp.values.shape[0] >= 1:
        inp = make_input(inp.values[0], inp.dtype, inp.layout)
    x = shapes_as_float32(inp, center=True)
    valid = not isinstance(x, str) and threads_ok
    z = check_outcome(valid, pyshape.znorm, inp.obj, n_threads=threads)
    if z is None:
        return
    assert z.dtype == np.float32 and z.shape == x.shape and z.flags.c_contiguous
    assert np.isfinite(z).all()
    expect = ref.unit_rows(x) * np.sqrt(x.shape[1])
    keep = ~borderline_rows(x)
    np.testing.assert_allclose(z[keep], expect[keep], atol=2e-4 * max(1.0, math.sqrt(x.shape[1]) / 4), rtol=1e-4)


@fuzz(1.0)
@given(a=shapes_input(ndim=2, max_n=9), b=st.one_of(st.none(), shapes_input(ndim=2, max_n=9)),
       same_T=st.booleans(), nt=n_threads_arg(), data=st.data())
def test_fuzz_pearson(a, b, same_T, nt, data):
    threads, threads_ok = nt
    if b is not None and same_T and a.values is not None and a.values.ndim == 2:
        b = data.draw(shapes_input(ndim=2, max_n=9, T=a.values.shape[1]))
    progress, raises = progress_arg(data.draw)
    x = shapes_as_float32(a, center=True)
    y = None if b is None else shapes_as_float32(b, center=True)
    valid = not isinstance(x, str) and not isinstance(y, str) and threads_ok
    if valid and y is not None and x.shape[1] != y.shape[1]:
        valid = False
    try:
        r = check_outcome(valid, pyshape.pearson, a.obj, None if b is None else b.obj, n_threads=threads,
                          progress=progress)
    except Stop:
        assert raises is Stop  # the callback's own exception reaches the caller unchanged
        return
    if r is None:
        return
    yy = x if y is None else y
    assert r.dtype == np.float32 and r.shape == (x.shape[0], yy.shape[0])
    assert np.isfinite(r).all()
    assert np.abs(r).max(initial=0) <= 1 + 1e-5
    if y is None:
        assert np.array_equal(r, r.T), "the symmetric matrix is not exactly symmetric"
    expect = ref.pearson(x, y)
    keep = ~borderline_rows(x)[:, None] & ~borderline_rows(yy)[None, :]
    np.testing.assert_allclose(r[keep], expect[keep], atol=2e-5 + 1e-6 * x.shape[1])


def check_topk_result(p, x, q, k, which):
    """Partners against the float64 reference: right indices and scores, and a true top-k."""
    db = x
    queries = x if q is None else q
    r = ref.pearson(queries, db)
    nq, n = r.shape
    tol = 3e-5 + 1e-6 * x.shape[1]
    bad = borderline_rows(db)
    bq = borderline_rows(queries)
    for idx, score, sign in ((p.corr_index, p.corr_score, 1), (p.anti_index, p.anti_score, -1)):
        wanted = which == "both" or (which == "corr") == (sign == 1)
        if not wanted:
            assert idx is None and score is None
            continue
        assert idx.shape == (nq, k) and score.shape == (nq, k)
        assert idx.dtype == np.int64 and score.dtype == np.float32
        assert ((idx >= 0) & (idx < n)).all()
        for i in range(nq):
            row = idx[i]
            assert len(set(row.tolist())) == k, f"repeated partner in row {i}: {row}"
            if q is None:
                assert i not in row, f"row {i} is its own partner"
            s = score[i]
            assert np.all(sign * np.diff(s) <= 0), f"scores out of order in row {i}: {s}"
            if bq[i]:
                continue
            ok = ~bad[row]
            np.testing.assert_allclose(s[ok], r[i, row][ok], atol=tol)
            others = np.ones(n, bool)
            others[row] = False
            if q is None:
                others[i] = False
            others &= ~bad
            if others.any() and not bad[row].any():
                # nothing left out scores better than the worst partner kept
                assert (sign * r[i, others]).max() <= sign * r[i, row[-1]] + tol


@fuzz(1.0)
@given(a=shapes_input(ndim=2, max_n=12, max_T=40), with_q=st.booleans(), k=st.integers(-1, 13),
       which=st.sampled_from(["both", "corr", "anti", "both", "all", None]),
       method=st.sampled_from(["bruteforce", "pruned", "auto", "exact"]), nt=n_threads_arg(), data=st.data())
def test_fuzz_top_partners(a, with_q, k, which, method, nt, data):
    threads, threads_ok = nt
    b = None
    if with_q:
        T = a.values.shape[1] if a.values is not None and a.values.ndim == 2 else None
        b = data.draw(shapes_input(ndim=2, max_n=6, T=T if data.draw(st.booleans()) or T is None else T + 1))
    kk = data.draw(st.sampled_from([k, k, np.int32(max(k, 0)), 2.0, True, "3"]))
    rank = data.draw(st.sampled_from([None, None, 1, 2, 5, 0, 1000]))
    x = shapes_as_float32(a, center=True)
    q = None if b is None else shapes_as_float32(b, center=True)
    valid = not isinstance(x, str) and not isinstance(q, str) and threads_ok
    valid &= which in ("both", "corr", "anti") and method in ("bruteforce", "pruned", "auto")
    k_ok = isinstance(kk, (int, np.integer)) and not isinstance(kk, bool)
    if valid:
        if q is not None and q.shape[1] != x.shape[1]:
            valid = False
        n_avail = x.shape[0] if q is not None else x.shape[0] - 1
        valid &= k_ok and 1 <= int(kk) <= n_avail
        valid &= rank is None or 1 <= rank < x.shape[1]
    p = check_outcome(valid, pyshape.top_partners, a.obj, kk, which=which, method=method, rank=rank,
                      queries=None if b is None else b.obj, n_threads=threads)
    if p is None:
        return
    check_topk_result(p, x, q, int(kk), which)
    # both methods (and any thread count) give bitwise the same partners
    other = "bruteforce" if method != "bruteforce" else "pruned"
    p2 = call(pyshape.top_partners, a.obj, kk, which=which, method=other, queries=None if b is None else b.obj,
              n_threads=data.draw(st.sampled_from([1, 2, 3])))
    for f in ("corr_index", "corr_score", "anti_index", "anti_score"):
        u, v = getattr(p, f), getattr(p2, f)
        assert (u is None) == (v is None)
        if u is not None:
            assert np.array_equal(u, v), f"{f} differs between {method} and {other}"


def check_lagged(score, lag, x, y, L):
    yy = x if y is None else y
    n, m = x.shape[0], yy.shape[0]
    assert score.shape == (n, m) and lag.shape == (n, m)
    assert score.dtype == np.float32 and lag.dtype == np.int32
    assert np.isfinite(score).all()
    assert (np.abs(lag) <= L).all()
    assert np.abs(score).max(initial=0) <= 1 + 1e-5
    es, _ = ref.lagged(x, y, max_lag=L)
    ux, uy = ref.unit_rows(x), ref.unit_rows(yy)
    keep = ~borderline_rows(x)[:, None] & ~borderline_rows(yy)[None, :]
    tol = 2e-5 + 2e-6 * x.shape[1]
    np.testing.assert_allclose(score[keep], es[keep], atol=tol)
    T = x.shape[1]
    for i, j in zip(*np.nonzero(keep)):
        s = int(lag[i, j])
        # the score at the reported lag is the reported score (ties may pick another lag)
        a, b = ux[i], uy[j]
        at = float(np.dot(a[max(0, s):T + min(0, s)], b[max(0, -s):T - max(0, s)]))
        assert abs(at - es[i, j]) <= tol, f"pair ({i}, {j}): lag {s} scores {at}, best {es[i, j]}"


@fuzz(1.0)
@given(a=shapes_input(ndim=2, max_n=5, max_T=40), b=st.one_of(st.none(), shapes_input(ndim=2, max_n=4, max_T=40)),
       method=st.sampled_from(["direct", "fft", "auto", "fast"]), nt=n_threads_arg(), data=st.data(),
       use_sbd=st.booleans())
def test_fuzz_lagged(a, b, method, nt, data, use_sbd):
    threads, threads_ok = nt
    if b is not None and a.values is not None and a.values.ndim == 2 and data.draw(st.booleans()):
        b = data.draw(shapes_input(ndim=2, max_n=4, T=a.values.shape[1]))
    x = shapes_as_float32(a, center=True)
    y = None if b is None else shapes_as_float32(b, center=True)
    T = x.shape[1] if not isinstance(x, str) else 5
    max_lag = data.draw(st.sampled_from([None, 0, 1, T - 1, T, -1, 1.0, True, max(0, T // 2), np.int64(0)]))
    valid = not isinstance(x, str) and not isinstance(y, str) and threads_ok and method != "fast"
    if valid and y is not None and y.shape[1] != x.shape[1]:
        valid = False
    lag_ok = max_lag is None or (isinstance(max_lag, (int, np.integer)) and not isinstance(max_lag, bool)
                                 and 0 <= max_lag <= T - 1)
    valid &= lag_ok
    fn = pyshape.sbd if use_sbd else pyshape.lagged_correlation
    out = check_outcome(valid, fn, a.obj, None if b is None else b.obj, max_lag=max_lag, method=method,
                        n_threads=threads)
    if out is None:
        return
    L = T - 1 if max_lag is None else int(max_lag)
    if use_sbd:
        assert out.dtype == np.float32 and (out >= -1e-5).all() and (out <= 2 + 1e-5).all()
        es, _ = ref.lagged(x, y, max_lag=L)
        yy = x if y is None else y
        keep = ~borderline_rows(x)[:, None] & ~borderline_rows(yy)[None, :]
        np.testing.assert_allclose(out[keep], 1 - es[keep], atol=2e-5 + 2e-6 * T)
    else:
        check_lagged(out[0], out[1], x, y, L)


# --------------------------------------------------------------------------- packing
def pack_shapes_as_float32(inp: Input, nonneg: bool = True):
    if inp.kind == "text":
        return "type"
    if inp.kind in ("complex", "nonfinite"):
        return "value"
    v = inp.values
    if v.ndim == 2:
        v = v.reshape(v.shape[0], 1, v.shape[1])
    if v.ndim != 3 or 0 in v.shape:
        return "value"
    if (np.abs(v[np.isfinite(v)]) > F32_MAX).any():
        return "value"
    with np.errstate(all="ignore"):
        f = v.astype(np.float32)
    if not np.isfinite(f).all() or (nonneg and (f < 0).any()):
        return "value"
    return f


def independent_check(D: np.ndarray, assignment, n_workers: int, eff: np.ndarray, risk: float):
    """Every shape on exactly one worker in [0, W), no empty worker, and every worker's float64
    load within the effective capacity (+ the float32 summation allowance) at all but
    floor(risk T) steps. Plain NumPy, nothing from pyshape."""
    n, R, T = D.shape
    a = np.asarray(assignment)
    assert a.shape == (n,) and a.dtype.kind in "iu"
    assert n_workers >= 1 and a.min() >= 0 and a.max() < n_workers
    counts = np.bincount(a, minlength=n_workers)
    assert (counts > 0).all(), "an empty worker"
    loads = np.zeros((n_workers, R, T))
    np.add.at(loads, a, D.astype(np.float64))
    tol = (counts[:, None, None] + 1.0) * F32_UNIT * eff[None, :, None]
    over = ((loads - eff[None, :, None]) > tol).any(axis=1).sum(axis=1)
    allowed = int(math.floor(risk * T + 1e-9))
    assert (over <= allowed).all(), f"worker over capacity at {over.max()} steps (allowed {allowed})"
    return loads


@st.composite
def ids_arg(draw, n):
    kind = draw(st.sampled_from(["none", "none", "ints", "strs", "dup", "short", "mixed", "neg"]))
    if kind == "none":
        return None, True
    if kind == "ints":
        return list(np.random.default_rng(n).permutation(n) * 7), True
    if kind == "strs":
        return [f"vm-{i}-ü" for i in range(n)], True
    if kind == "neg":
        return np.arange(-n, 0), True
    if kind == "dup":
        if n < 2:
            return [0] * n, True
        return [0] * n, packing.DuplicateIdError
    if kind == "short":
        return list(range(n + 1)), False
    # NumPy turns a list of ints and strs into strs: distinct ids stay distinct
    return [i if i % 2 else str(i) for i in range(n)], True


@fuzz(1.5)
@given(inp=shapes_input(ndim=3, max_n=24, max_T=24, nonneg=True, special=0.1), data=st.data())
def test_fuzz_pack(inp, data):
    two_d = data.draw(st.booleans()) and inp.values is not None and inp.values.ndim == 3 and \
        inp.values.shape[1] == 1
    if two_d:
        inp = make_input(inp.values[:, 0, :], inp.dtype, inp.layout)
    D = pack_shapes_as_float32(inp)
    n = D.shape[0] if not isinstance(D, str) else 3
    R = D.shape[1] if not isinstance(D, str) else 1
    strategy = data.draw(st.sampled_from(["auto", "complement", "first_fit", "best_fit", "peak", "auto", "worst"]))
    peak = float(D.max()) if not isinstance(D, str) and D.size else 1.0
    cap_kind = data.draw(st.sampled_from(["peak", "above", "tight", "below", "zero", "nan", "perres", "wrongR"]))
    if cap_kind == "peak":
        capacity = max(peak, 1e-30)
    elif cap_kind == "above":
        capacity = max(peak, 1e-30) * data.draw(st.floats(1.0, 5.0))
    elif cap_kind == "tight":
        capacity = float(np.nextafter(np.float32(peak), np.float32(np.inf))) if peak > 0 else 1.0
    elif cap_kind == "below":
        capacity = peak * 0.5 if peak > 0 else -1.0
    elif cap_kind == "zero":
        capacity = 0.0
    elif cap_kind == "nan":
        capacity = float("nan")
    elif cap_kind == "perres":
        capacity = [max(peak, 1e-30) * (1 + r) for r in range(R)]
    else:
        capacity = [1.0] * (R + 1)
    headroom = data.draw(st.sampled_from([0.0, 0.0, 0.1, 0.5, 0.999, 1.0, -0.1, [0.0] * R, [0.1] * (R + 2)]))
    risk = data.draw(st.sampled_from([0.0, 0.0, 0.1, 0.5, 0.99, 1.0, -0.01]))
    candidates = data.draw(st.sampled_from([8, 0, 1, 3, -1]))
    improve = data.draw(st.sampled_from([2, 0, 1, 5, -1]))
    shard_size = data.draw(st.sampled_from([32768, 0, 1, 2, 5, -3]))
    threads, threads_ok = data.draw(n_threads_arg())
    ids, ids_ok = data.draw(ids_arg(n))

    valid = not isinstance(D, str) and strategy != "worst" and threads_ok
    expected = EXPECTED + (packing.DuplicateIdError, packing.ShapeTooLargeError)
    if valid:
        c = np.atleast_1d(np.asarray(capacity, dtype=np.float64))
        c = np.repeat(c, R) if c.size == 1 else c
        h = np.atleast_1d(np.asarray(headroom, dtype=np.float64))
        h = np.repeat(h, R) if h.size == 1 else h
        valid &= c.size == R and bool(np.all(np.isfinite(c)) and np.all(c > 0))
        valid &= h.size == R and bool(np.all((h >= 0) & (h < 1)))
        valid &= 0 <= risk < 1 and not (strategy == "peak" and risk > 0)
        valid &= candidates >= 0 and improve >= 0 and shard_size >= 0
        if valid:
            with np.errstate(over="ignore"):
                eff = (c * (1 - h)).astype(np.float32)  # what the packer compares with
            too_large = (D.max(axis=2) > eff[None, :]).any()
            if ids_ok is True and too_large:
                valid = False
    if valid and ids_ok is not True:
        valid = False
    plan = check_outcome(valid, pyshape.pack, inp.obj, capacity, strategy, ids=ids, headroom=headroom, risk=risk,
                         candidates=candidates, improve=improve, shard_size=shard_size, n_threads=threads,
                         expected=expected)
    if plan is None:
        return
    eff = eff.astype(np.float64)
    loads = independent_check(D, plan.assignment, plan.n_workers, eff, plan.risk)
    # the bound under a risk budget (pyshape.packing.lower_bound): the smallest W >= 1 with
    # #{t : m[t] > W} <= W * floor(risk * T), m[t] = max_r total[r, t] / C[r] (less the float32 allowance)
    m = (D.astype(np.float64).sum(axis=0) / eff[:, None]).max(axis=0) * (1 - 4 * F32_UNIT)
    k = math.floor(plan.risk * D.shape[2])
    lb = next(w for w in range(1, n + 2) if (m > w).sum() <= w * k)
    assert plan.lower_bound == lb
    assert plan.n_workers <= n
    assert lb <= plan.n_workers
    assert plan.peak_workers >= lb
    rep = call(plan.verify)
    assert rep.ok and rep.allowed_steps == int(math.floor(plan.risk * D.shape[2] + 1e-9))
    # members / load / replay agree with the assignment
    ident = np.arange(n) if ids is None else np.asarray(ids)
    seen = []
    for w in range(plan.n_workers):
        mem = call(plan.members, w)
        seen.extend(mem.tolist())
        np.testing.assert_allclose(call(plan.load, w), loads[w], rtol=1e-12, atol=1e-300)
    assert sorted(map(str, seen)) == sorted(map(str, ident.tolist()))
    np.testing.assert_allclose(call(plan.load), loads, rtol=1e-12, atol=1e-300)
    bad_w = data.draw(st.sampled_from([-1, plan.n_workers, 1.0, True, "0", None]))
    if bad_w is not None:
        with pytest.raises((IndexError, TypeError)):
            call(plan.members, bad_w)
        with pytest.raises((IndexError, TypeError)):
            call(plan.load, bad_w)
    rp = call(plan.replay, D, against="effective")
    assert rp.steps_over.max() <= rep.allowed_steps
    assert rp.T == D.shape[2] and rp.over_per_step.sum() == rp.steps_over.sum()
    # replay with other periods: bad shapes raise, good ones give a report
    other = data.draw(shapes_input(ndim=3, n=n, R=R, max_T=12, nonneg=True))
    O = pack_shapes_as_float32(other, nonneg=False)  # replay takes any finite demand
    o_valid = not isinstance(O, str)
    against = data.draw(st.sampled_from(["capacity", "effective", "both"]))
    rep2 = check_outcome(o_valid and against != "both", plan.replay, other.obj, against=against)
    if rep2 is not None:
        lim = plan.capacity if against == "capacity" else plan.effective_capacity  # float64, as documented
        l2 = np.zeros((plan.n_workers, R, O.shape[2]))
        np.add.at(l2, plan.assignment, O.astype(np.float64))
        np.testing.assert_allclose(rep2.max_excess, np.maximum((l2 - lim[None, :, None]).max(axis=(0, 2)), 0),
                                   rtol=1e-9, atol=1e-300)


@fuzz(0.5)
@given(total=shapes_input(ndim=2, max_n=3, max_T=10, special=0.3, odd=0.0),
       capacity=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.lists(st.floats(0.1, 10), max_size=4)))
def test_fuzz_lower_bound(total, capacity):
    try:
        with np.errstate(all="ignore"):
            lb = call(packing.lower_bound, total.obj, capacity)
    except EXPECTED:
        return
    assert isinstance(lb, int) and lb >= 1
    t = np.asarray(total.values, np.float64)
    c = np.asarray(capacity, np.float64)
    with np.errstate(all="ignore"):
        ratio = (t.max(axis=1) / c).max()
    assert lb == max(1, math.ceil(ratio * (1 - 4 * F32_UNIT)))


# --------------------------------------------------------------------------- Placer
class PlacerModel:
    """What a Placer must hold: ids -> (worker, shape), in placement order per worker."""

    def __init__(self, R, T, eff, risk):
        self.R, self.T, self.eff, self.risk = R, T, eff, risk
        self.where = {}
        self.order = {}  # worker -> [ids]
        self.shape = {}

    def check(self, p: pyshape.Placer):
        assert len(p) == len(self.where)
        W = p.n_workers
        for w in range(W):
            mem = call(p.members, w)
            mem = mem.tolist()  # an ndarray of ids, as Plan.members gives
            assert mem == self.order.get(w, []), f"worker {w}: {mem} != {self.order.get(w, [])}"
            load = call(p.load, w)
            assert load.shape == (self.R, self.T) and load.dtype == np.float64
            expect = np.zeros((self.R, self.T), np.float32)
            for i in mem:
                expect += self.shape[i]  # float32, member order: the documented invariant
            assert np.array_equal(load, expect), f"worker {w}: load is not the float32 sum of its members"
            l64 = sum((self.shape[i].astype(np.float64) for i in mem), np.zeros((self.R, self.T)))
            tol = (len(mem) + 1.0) * F32_UNIT * self.eff[:, None]
            over = ((l64 - self.eff[:, None]) > tol).any(axis=0).sum()
            assert over <= int(math.floor(self.risk * self.T + 1e-9))
        for i, w in self.where.items():
            assert call(p.worker_of, i) == w and i in p
        assert sorted(p.workers) == sorted(w for w in range(W) if self.order.get(w))


def _placer_shape(rng, R, T, eff, kind):
    if kind == "fits":
        return (rng.random((R, T)) * eff[:, None] * rng.choice([0.1, 0.3, 0.6, 1.0])).astype(np.float32)
    if kind == "full":
        return np.repeat(eff[:, None], T, axis=1).astype(np.float32)
    if kind == "spike":
        s = np.zeros((R, T), np.float32)
        s[:, rng.integers(0, T)] = eff
        return s
    if kind == "too_large":
        s = np.zeros((R, T), np.float32)
        s[-1, -1] = np.nextafter(np.float32(eff[-1]), np.float32(np.inf))
        return s
    if kind == "nan":
        s = np.zeros((R, T), np.float32)
        s[0, rng.integers(0, T)] = np.nan
        return s
    if kind == "neg":
        s = np.zeros((R, T), np.float32)
        s[0, 0] = -1e-30
        return s
    if kind == "wrong":
        return np.zeros((R, T + 1), np.float32)
    if kind == "f64_strided":
        big = (rng.random((R, 2 * T)) * eff[:, None] * 0.2)
        return big[:, ::2]
    return (rng.random((R, T)) * eff[:, None] * 0.5).tolist()


@fuzz(1.5)
@given(R=st.integers(1, 3), T=st.integers(1, 20), strategy=st.sampled_from(["complement", "first_fit", "best_fit"]),
       risk=st.sampled_from([0.0, 0.0, 0.1, 0.5]), headroom=st.sampled_from([0.0, 0.2]),
       candidates=st.sampled_from([8, 0, 1]), max_workers=st.sampled_from([None, None, 1, 3]),
       scan_limit=st.sampled_from([None, 0, 1, 2]), seed=st.integers(0, 2**32 - 1),
       ops=st.lists(st.tuples(st.sampled_from(["place"] * 5 + ["remove", "remove_unknown", "bad_id", "dup",
                                                              "snapshot", "restore_corrupt", "place_same_both"]),
                              st.sampled_from(["fits", "fits", "full", "spike", "too_large", "nan", "neg", "wrong",
                                               "f64_strided", "list"]),
                              st.integers(0, 10**6)), max_size=40))
def test_fuzz_placer(R, T, strategy, risk, headroom, candidates, max_workers, scan_limit, seed, ops):
    rng = np.random.default_rng(seed)
    cap = rng.uniform(0.5, 4.0, R)
    p = call(pyshape.Placer, cap, T, strategy=strategy, headroom=headroom, risk=risk, candidates=candidates,
             max_workers=max_workers, scan_limit=scan_limit)
    eff = (cap * (1 - headroom)).astype(np.float32).astype(np.float64)
    m = PlacerModel(R, T, eff, risk)
    next_id = 0
    for op, kind, pick in ops:
        if op in ("place", "dup", "place_same_both"):
            s = _placer_shape(rng, R, T, eff.astype(np.float32), kind)
            if R == 1 and kind == "fits" and rng.random() < 0.3:
                s = s[0]  # (T,) is accepted for R = 1
            if op == "dup" and m.where:
                key = list(m.where)[pick % len(m.where)]
            else:
                key = next_id if pick % 2 else f"w{next_id}"
                next_id += 1
            good = kind in ("fits", "full", "spike", "f64_strided", "list")
            try:
                w = call(p.place, key, s)
            except packing.DuplicateIdError:
                assert key in m.where
                continue
            except packing.ShapeTooLargeError:
                assert kind == "too_large"
                continue
            except packing.FleetFullError:
                assert max_workers is not None and p.n_workers == max_workers
                continue
            except ValueError:
                assert not good, f"a good shape ({kind}) was refused"
                continue
            assert good and key not in m.where, f"{kind} shape placed under {key!r}"
            assert 0 <= w < p.n_workers
            m.where[key] = w
            m.order.setdefault(w, []).append(key)
            m.shape[key] = np.ascontiguousarray(s, dtype=np.float32).reshape(R, T)
            if op == "place_same_both":
                q = call(pyshape.Placer.restore, call(p.snapshot))
                key2 = f"x{next_id}"
                next_id += 1
                s2 = _placer_shape(rng, R, T, eff.astype(np.float32), "fits")
                try:
                    w1 = call(p.place, key2, s2)
                except packing.FleetFullError:
                    with pytest.raises(packing.FleetFullError):
                        call(q.place, key2, s2)
                    continue
                assert call(q.place, key2, s2) == w1, "a restored Placer places differently"
                m.where[key2] = w1
                m.order.setdefault(w1, []).append(key2)
                m.shape[key2] = s2
        elif op == "remove" and m.where:
            key = list(m.where)[pick % len(m.where)]
            w = call(p.remove, key)
            assert w == m.where.pop(key)
            m.order[w].remove(key)
            del m.shape[key]
        elif op == "remove_unknown":
            with pytest.raises(KeyError):
                call(p.remove, f"nope{pick}")
            with pytest.raises(packing.UnknownIdError):
                call(p.remove, -pick - 1)
            assert call(p.worker_of, f"nope{pick}") == -1
        elif op == "bad_id":
            bad = [1.5, None, b"x", ("a",), True][pick % 5]
            with pytest.raises(TypeError):
                call(p.place, bad, np.zeros((R, T), np.float32))
            with pytest.raises(TypeError):
                call(p.remove, bad)
            assert bad not in p
        elif op == "snapshot":
            data = call(p.snapshot)
            q = call(pyshape.Placer.restore, data)
            assert call(q.snapshot) == data
            m.check(q)
            with tempfile.TemporaryDirectory() as d:
                path = Path(d) / "snap.bin"
                assert call(p.snapshot, path) is None
                q2 = call(pyshape.Placer.restore, path)
                assert call(q2.snapshot) == data
        elif op == "restore_corrupt":
            data = bytearray(call(p.snapshot))
            how = pick % 4
            if how == 0:
                data = data[: pick % len(data)]
            elif how == 1:
                data[pick % len(data)] ^= 1 + pick % 255
            elif how == 2:
                data += b"\0"
            else:
                data = bytearray(b"PYSHPLC\0") + bytearray(rng.bytes(pick % 64))
            with pytest.raises(ValueError):
                call(pyshape.Placer.restore, bytes(data))
        m.check(p)


@fuzz(0.5)
@given(capacity=st.sampled_from([1.0, [1.0, 2.0], 0.0, -1.0, float("nan"), float("inf"), [], "x", [[1.0]]]),
       T=st.sampled_from([1, 5, 0, -1, 1.5, True, "3", 2**70, np.int64(4)]),
       strategy=st.sampled_from(["complement", "first_fit", "best_fit", "peak", "", None]),
       headroom=st.sampled_from([0.0, 0.5, 1.0, -0.5, float("nan")]), risk=st.sampled_from([0.0, 0.5, 1.0, -1.0]),
       candidates=st.sampled_from([8, 0, -1]), max_workers=st.sampled_from([None, 1, 0, -2]),
       scan_limit=st.sampled_from([None, 0, 5, -1, True, 1.5]))
def test_fuzz_placer_args(capacity, T, strategy, headroom, risk, candidates, max_workers, scan_limit):
    c = np.atleast_1d(np.asarray(capacity, dtype=object))
    try:
        c = c.astype(np.float64)
        cap_ok = c.ndim == 1 and c.size >= 1 and bool(np.all(np.isfinite(c)) and np.all(c > 0))
    except (TypeError, ValueError):
        cap_ok = False
    valid = (cap_ok and isinstance(T, (int, np.integer)) and not isinstance(T, bool) and 1 <= T < 2**32
             and strategy in ("complement", "first_fit", "best_fit") and 0 <= headroom < 1 and 0 <= risk < 1
             and candidates >= 0 and (max_workers is None or max_workers >= 1)
             and (scan_limit is None or (isinstance(scan_limit, int) and not isinstance(scan_limit, bool)
                                         and scan_limit >= 0)))
    p = check_outcome(valid, pyshape.Placer, capacity, T, strategy=strategy, headroom=headroom, risk=risk,
                      candidates=candidates, max_workers=max_workers, scan_limit=scan_limit)
    if p is not None:
        assert p.T == T and p.R == c.size and len(p) == 0 and p.n_workers == 0


# --------------------------------------------------------------------------- estimators
@fuzz(0.8)
@given(inp=shapes_input(ndim=2, max_n=12, max_T=24), est=st.sampled_from(["kmeans", "kshape"]),
       k=st.sampled_from([1, 2, 3, 5, 0, 13, 2.0, True]), data=st.data())
def test_fuzz_estimators(inp, est, k, data):
    x = shapes_as_float32(inp, center=True)
    threads, threads_ok = data.draw(n_threads_arg())
    seed = data.draw(st.sampled_from([0, 1, None, np.random.default_rng(3), "seed"]))
    init = data.draw(st.sampled_from(["k-means++", "random", "array", "bogus"] if est == "kmeans"
                                     else ["random", "array", "bogus"]))
    n_init = data.draw(st.sampled_from([1, 2, 0]))
    max_iter = data.draw(st.sampled_from([100, 1, 3, 0]))
    valid = not isinstance(x, str) and threads_ok and init != "bogus" and max_iter >= 1
    valid &= n_init >= 1 or init == "array"  # initial centroids given: n_init is 1 (documented)
    valid &= seed != "seed"
    k_ok = isinstance(k, int) and not isinstance(k, bool)
    if valid:
        valid &= k_ok and 1 <= k <= x.shape[0]
    kw = dict(n_init=n_init, max_iter=max_iter, random_state=seed, n_threads=threads)
    if init == "array":
        kk = k if k_ok and k >= 1 else 1
        T = x.shape[1] if not isinstance(x, str) else 3
        init = np.random.default_rng(0).standard_normal((kk, T))
    if est == "kmeans":
        model = pyshape.CorrelationKMeans(k, init=init, **kw)
    else:
        max_lag = data.draw(st.sampled_from([None, 0, 1, 100, -1]))
        if valid and max_lag is not None and not 0 <= max_lag <= x.shape[1] - 1:
            valid = False
        model = pyshape.KShape(k, init=init, max_lag=max_lag, **kw)
    if not valid:
        try:
            call(model.fit, inp.obj)
        except EXPECTED:
            return
        raise AssertionError("invalid input was fitted")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. convergence warnings
        call(model.fit, inp.obj)
    n, T = x.shape
    assert model.labels_.shape == (n,) and model.labels_.dtype == np.int64
    assert ((model.labels_ >= 0) & (model.labels_ < k)).all()
    assert np.bincount(model.labels_, minlength=k).min() >= 1, "an empty cluster in a fitted model"
    assert model.cluster_centers_.shape == (k, T) and np.isfinite(model.cluster_centers_).all()
    assert np.isfinite(model.inertia_) and model.inertia_ >= -1e-5 * n
    d = call(model.transform, inp.obj)
    assert d.shape == (n, k) and np.isfinite(d).all()
    assert (d >= -1e-5).all() and (d <= 2 + 1e-5).all(), "a distance outside [0, 2]"
    pred = call(model.predict, inp.obj)
    assert pred.shape == (n,) and ((pred >= 0) & (pred < k)).all()
    assert (d[np.arange(n), pred] <= d.min(axis=1) + 1e-5).all()
    if est == "kmeans":
        cu = ref.unit_rows(model.cluster_centers_)
        keep = ~borderline_rows(x)
        np.testing.assert_allclose(d[keep], (1 - ref.unit_rows(x) @ cu.T)[keep], atol=3e-5)
    # other data: wrong T raises, same T works
    other = data.draw(shapes_input(ndim=2, max_n=4, max_T=26))
    y = shapes_as_float32(other, center=True)
    ok = not isinstance(y, str) and y.shape[1] == T
    out = check_outcome(ok, model.predict, other.obj)
    if out is not None:
        assert ((out >= 0) & (out < k)).all()


# --------------------------------------------------------------------------- forecasters
def history_as_float32(inp: Input):
    """(n, R, T) float64 of the float32 array, or the refusal reason (finite, >= 0)."""
    f = pack_shapes_as_float32(inp)
    return f if isinstance(f, str) else f.astype(np.float64)


@fuzz(1.0)
@given(period=st.sampled_from([1, 2, 3, 4, 6, 0, -1, 2.0, True]), days=st.integers(0, 4), R=st.integers(1, 2),
       ndim=st.sampled_from([2, 3]), name=st.sampled_from(["naive", "mean", "quantile", "max", "cluster", "nope"]),
       window=st.sampled_from([None, 1, 2, 7, 0, 1.5]), q=st.sampled_from([0.95, 0.0, 1.0, 0.5, 1.5, -0.1]),
       data=st.data())
def test_fuzz_forecasters(period, days, R, ndim, name, window, q, data):
    P = period if isinstance(period, int) and not isinstance(period, bool) and period >= 1 else 3
    T = P * days + data.draw(st.sampled_from([0, 0, 0, 1]))
    inp = data.draw(shapes_input(ndim=ndim, T=T, max_n=6, R=R if ndim == 3 else None, nonneg=True, special=0.1))
    from pyshape import forecast as fc

    # constructing a forecaster checks its own parameters
    w_ok = window is None or (isinstance(window, int) and not isinstance(window, bool) and window >= 1)
    ctor = {"naive": lambda: fc.SeasonalNaive(), "mean": lambda: fc.PeriodMean(window=window),
            "quantile": lambda: fc.PeriodQuantile(q=q, window=window), "max": lambda: fc.PeriodMax(window=window),
            "cluster": lambda: fc.ClusterProfile(n_clusters=data.draw(st.sampled_from([1, 2, 16])), window=window),
            "nope": lambda: fc.make_forecaster("nope")}[name]
    c_ok = name != "nope" and (name == "naive" or w_ok) and (name != "quantile" or 0 <= q <= 1)
    f = check_outcome(c_ok, ctor)
    if f is None:
        return
    x = history_as_float32(inp)
    p_ok = isinstance(period, int) and not isinstance(period, bool) and period >= 1
    valid = not isinstance(x, str) and p_ok
    if valid:
        valid &= x.shape[2] >= period and x.shape[2] % period == 0
    out = check_outcome(valid, f.forecast, inp.obj, period)
    if out is None:
        return
    n, Rr, Tt = x.shape
    flat = np.asarray(inp.values).ndim == 2
    assert out.dtype == np.float32
    assert out.shape == ((n, period) if flat else (n, Rr, period))
    o = out.reshape(n, Rr, period)
    assert np.isfinite(o).all() and (o >= 0).all()
    d = x.reshape(n, Rr, Tt // period, period)
    wd = d if f.__dict__.get("window") is None else d[:, :, -window:, :]
    if name == "naive":
        np.testing.assert_array_equal(o, d[:, :, -1, :])
    elif name == "mean":
        np.testing.assert_allclose(o, wd.mean(axis=2), rtol=1e-6, atol=1e-37)
    elif name == "max":
        np.testing.assert_array_equal(o, wd.max(axis=2))
    elif name == "quantile":
        np.testing.assert_allclose(o, np.quantile(wd, q, axis=2), rtol=1e-6, atol=1e-37)


@fuzz(0.8)
@given(period=st.integers(2, 8), m=st.integers(0, 12), R=st.integers(1, 2), ndim=st.sampled_from([2, 3]),
       data=st.data())
def test_fuzz_coldstart(period, m, R, ndim, data):
    from pyshape import forecast as fc

    lib = data.draw(shapes_input(ndim=ndim, n=m, T=period, R=R if ndim == 3 else None, nonneg=True, special=0.05))
    kw = dict(n_clusters=data.draw(st.sampled_from([1, 3, 16, 0])), shrink=data.draw(st.booleans()),
              level=data.draw(st.sampled_from(["median", "mean", "max"])),
              match=data.draw(st.sampled_from(["mae", "corr", "l2"])))
    ok_params = kw["n_clusters"] >= 1 and kw["level"] != "max" and kw["match"] != "l2"
    try:
        cs = call(fc.ColdStart, random_state=0, **kw)
    except EXPECTED:
        assert not ok_params
        return
    x = history_as_float32(lib)
    valid = ok_params and not isinstance(x, str)
    fitted = check_outcome(valid, cs.fit, lib.obj)
    h = data.draw(st.integers(0, period))
    n_new = data.draw(st.integers(1, 4))
    part = data.draw(shapes_input(ndim=ndim, n=n_new, T=h, R=R if ndim == 3 else None, nonneg=True, special=0.05))
    y = history_as_float32(part)
    how = data.draw(st.sampled_from(["mean", "median", "last", "first"]))
    cf_ok = not isinstance(y, str) and how != "first" and 1 <= h < period
    cf = check_outcome(cf_ok, fc.carry_forward, part.obj, period, how=how)
    if cf is not None:
        o = cf.reshape(n_new, y.shape[1], period)
        np.testing.assert_array_equal(o[:, :, :h], y)
        lvl = {"mean": y.mean(axis=2), "median": np.median(y, axis=2), "last": y[:, :, -1]}[how]
        np.testing.assert_allclose(o[:, :, h:], np.repeat(lvl[:, :, None], period - h, axis=2), rtol=1e-6,
                                   atol=1e-37)
    if fitted is None:
        return
    p_ok = not isinstance(y, str) and 1 <= h < period and y.shape[1] == x.shape[1] and \
        (np.asarray(part.values).ndim == np.asarray(lib.values).ndim or True)
    out = check_outcome(p_ok, cs.predict, part.obj)
    if out is None:
        return
    o = out.reshape(n_new, y.shape[1], period)
    assert out.dtype == np.float32 and np.isfinite(o).all() and (o >= 0).all()
    np.testing.assert_array_equal(o[:, :, :h], y)


@fuzz(0.5)
@given(a=shapes_input(ndim=3, max_n=4, max_T=8, R=2, special=0.2), data=st.data(),
       relative=st.booleans())
def test_fuzz_metrics(a, data, relative):
    from pyshape import forecast as fc

    same = a.values is not None and a.values.ndim == 3 and data.draw(st.booleans())
    b = make_input(np.abs(a.values[::-1]), "float32", "C") if same else \
        data.draw(shapes_input(ndim=3, max_n=4, max_T=8, R=2))

    def fin(inp):
        if inp.kind != "real":
            return "bad"
        v = inp.values
        if v.ndim not in (2, 3) or 0 in v.shape:
            return "bad"
        if (np.abs(v[np.isfinite(v)]) > F32_MAX).any():
            return "bad"
        f = v.astype(np.float32).astype(np.float64)
        return f if np.isfinite(f).all() else "bad"

    p, q = fin(a), fin(b)
    valid = not isinstance(p, str) and not isinstance(q, str) and p.shape == q.shape
    out = check_outcome(valid, fc.mae, a.obj, b.obj, relative=relative, per_resource=True)
    if out is not None:
        err = np.abs(q - p).mean(axis=2)  # (actual, pred) = (a, b): p is the actual, q the prediction
        if relative:
            with np.errstate(all="ignore"):
                err = err / p.mean(axis=2)
        np.testing.assert_allclose(out, err, rtol=1e-6, equal_nan=True)
    out = check_outcome(valid, fc.peak_error, a.obj, b.obj, relative=relative)
    if out is not None:
        err = q.max(axis=2) - p.max(axis=2)
        if relative:
            with np.errstate(all="ignore"):
                err = err / p.max(axis=2)
        np.testing.assert_allclose(out, err, rtol=1e-6, equal_nan=True)


# --------------------------------------------------------------------------- files
@fuzz(0.6)
@given(inp=shapes_input(ndim=3, max_n=5, max_T=9, special=0.2, odd=0.0),
       fmt=st.sampled_from([".npy", ".npz", ".csv", ".csv.gz", ".parquet", ".txt"]),
       id_kind=st.sampled_from(["str", "int", "unicode", "comma", "empty"]), step=st.sampled_from([60, 300, 1]),
       start=st.sampled_from([0, 1_600_000_000, -5]))
def test_fuzz_save_load(inp, fmt, id_kind, step, start):
    from pyshape.traces import ResourceTrace, load_shapes, save_shapes

    v = np.asarray(inp.obj, dtype=np.float64)  # as passed (a list of an empty array loses dimensions)
    if v.ndim != 3 or v.shape[2] == 0:
        with pytest.raises(EXPECTED):
            call(ResourceTrace, np.arange(len(v)), inp.obj, ("r0",), step, start)
        return
    n, R, T = v.shape
    ids = {"str": [f"vm{i}" for i in range(n)], "int": list(range(n)), "unicode": [f"ü-{i}-é" for i in range(n)],
           "comma": [f"a,{i}" for i in range(n)], "empty": ([""] + [f"e{i}" for i in range(1, n)])[:n]}[id_kind]
    resources = tuple(f"res{i}" for i in range(R)) if R > 1 or id_kind != "str" else ("r0",)
    with np.errstate(over="ignore"):  # values beyond float32 become +-inf (no range check here)
        tr = call(ResourceTrace, np.array(ids), inp.obj, resources, step, start)
    shapes = tr.shapes
    assert shapes.dtype == np.float32 and shapes.shape == v.shape
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"x{fmt}"
        bad_csv = False  # ids with commas, quotes and spaces are quoted by the writer and read back
        try:
            call(save_shapes, tr, path)
        except (ValueError, ImportError) as e:
            assert fmt == ".txt" or bad_csv or isinstance(e, ImportError), f"save refused: {e}"
            return
        assert fmt != ".txt" and not bad_csv, "an unwritable trace was written"
        try:
            back = call(load_shapes, path)
        except ValueError as e:
            # a file without rows is "empty" (documented), whatever the format; a non-finite value
            # is refused in every format (allow_nonfinite=True keeps it); text formats may also
            # refuse an empty id
            assert n == 0 or not np.isfinite(shapes).all() or (fmt in (".csv", ".csv.gz", ".parquet") and (
                id_kind == "empty")), f"load refused: {e}"
            return
        except TypeError:
            raise
        assert back.shapes.dtype == np.float32
        if fmt == ".npy":
            assert back.shapes.shape == shapes.shape
            np.testing.assert_array_equal(back.shapes, shapes)
            return
        # same rows (text formats may reorder by id), same values bit for bit (NaN == NaN)
        assert back.shapes.shape == shapes.shape and back.resources == resources
        order = {str(i): k for k, i in enumerate(ids)}
        got = np.array([order[str(i)] for i in back.ids.tolist()]) if n else np.zeros(0, int)
        np.testing.assert_array_equal(back.shapes, shapes[got])
        if fmt in (".npz", ".parquet"):
            assert back.step_seconds == step and back.start == start
