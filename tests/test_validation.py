"""Bad input to the public API: each case raises a ValueError or TypeError
whose message says what is wrong (and, for non-finite values, where)."""
from __future__ import annotations

import numpy as np
import pytest

import pyshape

GOOD = np.random.default_rng(0).standard_normal((6, 10)).astype(np.float32)


def call_all(X, **kw):
    """Every entry point that takes a single X, as (name, thunk)."""
    return [
        ("znorm", lambda: pyshape.znorm(X, **kw)),
        ("pearson", lambda: pyshape.pearson(X, **kw)),
        ("top_partners", lambda: pyshape.top_partners(X, k=1, **kw)),
        ("lagged_correlation", lambda: pyshape.lagged_correlation(X, **kw)),
        ("sbd", lambda: pyshape.sbd(X, **kw)),
    ]


FUNCS = ["znorm", "pearson", "top_partners", "lagged_correlation", "sbd"]


def run(name, X, **kw):
    return dict(call_all(X, **kw))[name]()


# --- non-finite values -------------------------------------------------------


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("col", [0, 4, 9], ids=["start", "middle", "end"])
def test_non_finite_names_the_row(func, bad, col):
    x = GOOD.copy()
    x[3, col] = bad
    with pytest.raises(ValueError, match=r"X has a NaN or infinite value in row 3\b"):
        run(func, x)


@pytest.mark.parametrize("n_threads", [1, 2])
def test_non_finite_reports_the_first_bad_row(n_threads):
    """Rows are checked in parallel; the message still names the smallest."""
    x = np.random.default_rng(1).standard_normal((700, 8)).astype(np.float32)
    x[650, 2] = np.nan
    x[300, 7] = np.inf
    x[260, 0] = -np.inf
    with pytest.raises(ValueError, match=r"row 260\b"):
        pyshape.znorm(x, n_threads=n_threads)


def test_non_finite_first_and_last_row():
    x = GOOD.copy()
    x[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"row 0\b"):
        pyshape.pearson(x)
    x = GOOD.copy()
    x[-1, -1] = np.inf
    with pytest.raises(ValueError, match=r"row 5\b"):
        pyshape.pearson(x)


def test_non_finite_in_float64_input():
    x = GOOD.astype(np.float64)
    x[2, 2] = np.nan
    with pytest.raises(ValueError, match=r"X has a NaN or infinite value in row 2\b"):
        pyshape.znorm(x)


def test_non_finite_in_second_argument_names_it():
    y = GOOD.copy()
    y[4, 1] = np.nan
    with pytest.raises(ValueError, match=r"Y has a NaN or infinite value in row 4\b"):
        pyshape.pearson(GOOD, y)
    with pytest.raises(ValueError, match=r"Y has a NaN or infinite value in row 4\b"):
        pyshape.lagged_correlation(GOOD, y)
    with pytest.raises(ValueError, match=r"queries has a NaN or infinite value in row 4\b"):
        pyshape.top_partners(GOOD, k=2, queries=y)


def test_float64_beyond_float32_range_is_rejected():
    """A finite float64 value that overflows float32 cannot be correlated."""
    x = GOOD.astype(np.float64)
    x[1, 3] = 1e300
    x[4, 0] = -1e39
    with pytest.raises(ValueError, match=r"X has a value outside the float32 range .* in row 1\b"):
        pyshape.pearson(x)
    with pytest.raises(ValueError, match=r"Y has a value outside the float32 range .* in row 2\b"):
        pyshape.pearson(GOOD, x[[0, 2, 4]])
    # The largest float32 itself is fine.
    x = GOOD.astype(np.float64)
    x[1, 3] = float(np.finfo(np.float32).max)
    assert np.isfinite(pyshape.pearson(x)).all()


# --- shape ---------------------------------------------------------------------


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("shape", [(2, 3, 4), (1, 1, 1, 5)])
def test_wrong_ndim(func, shape):
    with pytest.raises(ValueError, match=rf"X must be a 2-D array.*got {len(shape)}-D"):
        run(func, np.ones(shape))


@pytest.mark.parametrize("func", FUNCS)
def test_scalar_input(func):
    with pytest.raises(ValueError, match=r"X must be a 2-D array.*got 0-D"):
        run(func, 3.0)


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("shape", [(0, 5), (5, 0), (0,), (0, 0)])
def test_empty(func, shape):
    with pytest.raises(ValueError, match=r"X is empty"):
        run(func, np.ones(shape, np.float32))


def test_empty_second_argument():
    with pytest.raises(ValueError, match=r"Y is empty"):
        pyshape.pearson(GOOD, np.ones((0, 10)))
    with pytest.raises(ValueError, match=r"queries is empty"):
        pyshape.top_partners(GOOD, k=1, queries=np.ones((0, 10)))
    with pytest.raises(ValueError, match=r"Y must be a 2-D array"):
        pyshape.lagged_correlation(GOOD, np.ones((2, 2, 10)))


def test_mismatched_lengths():
    y = np.ones((3, 11), np.float32)
    with pytest.raises(ValueError, match=r"X and Y must have the same number of time steps, got 10 and 11"):
        pyshape.pearson(GOOD, y)
    with pytest.raises(ValueError, match=r"X and Y must have the same number of time steps, got 10 and 11"):
        pyshape.lagged_correlation(GOOD, y)
    with pytest.raises(ValueError, match=r"X and Y must have the same number of time steps"):
        pyshape.sbd(GOOD, y)
    with pytest.raises(ValueError, match=r"X and queries must have the same number of time steps, got 10 and 11"):
        pyshape.top_partners(GOOD, k=1, queries=y)
    # A 1-D second argument is one shape: its length must match too.
    with pytest.raises(ValueError, match=r"got 10 and 9"):
        pyshape.pearson(GOOD, np.arange(9.0))


# --- dtype -------------------------------------------------------------------------


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize(
    "x",
    [
        np.ones((3, 4), np.complex64),
        np.ones((3, 4), np.complex128),
        np.array([["a", "b"], ["c", "d"]]),
        np.array([[b"a", b"b"], [b"c", b"d"]]),
        np.array([[1.0, None], [2.0, 3.0]], dtype=object),
        np.array([[1, 2], [3, 4]], dtype="datetime64[s]"),
        np.array([[1, 2], [3, 4]], dtype="timedelta64[s]"),
    ],
    ids=["complex64", "complex128", "str", "bytes", "object", "datetime", "timedelta"],
)
def test_non_real_dtype(func, x):
    if x.dtype.kind == "c":  # ValueError, as scikit-learn raises for complex data
        with pytest.raises(ValueError, match=r"Complex data not supported: X must hold real numbers, got dtype"):
            run(func, x)
    elif x.dtype.kind == "O":  # numbers in an object array are converted; None becomes NaN
        with pytest.raises(ValueError, match=r"X has a NaN or infinite value in row 0"):
            run(func, x)
    else:
        with pytest.raises(TypeError, match=r"X must hold real numbers, got dtype"):
            run(func, x)


def test_non_real_second_argument():
    with pytest.raises(ValueError, match=r"Y must hold real numbers, got dtype complex"):
        pyshape.pearson(GOOD, GOOD.astype(np.complex64))
    with pytest.raises(TypeError, match=r"queries must hold real numbers, got dtype object"):
        pyshape.top_partners(GOOD, k=1, queries=np.array([["a"] * GOOD.shape[1]] * 2, dtype=object))


def test_object_array_of_numbers_is_converted():
    """Object arrays of numbers are taken as the numbers (as scikit-learn does); sparse input is refused."""
    x = np.array([[1, 2, 4], [3, 1, 0]], dtype=object)
    np.testing.assert_array_equal(pyshape.znorm(x), pyshape.znorm(x.astype(np.float64)))
    sparse = pytest.importorskip("scipy.sparse")
    with pytest.raises(TypeError, match=r"X is a sparse matrix.*toarray"):
        pyshape.znorm(sparse.csr_matrix(x.astype(float)))


# --- k and which ------------------------------------------------------------------


@pytest.mark.parametrize("k", [0, -1])
def test_k_too_small(k):
    with pytest.raises(ValueError, match=rf"k must be at least 1, got {k}"):
        pyshape.top_partners(GOOD, k=k)


@pytest.mark.parametrize("k", [6, 7, 1000])
def test_k_too_large(k):
    with pytest.raises(ValueError, match=rf"k={k} is larger than the 5 other shapes in X"):
        pyshape.top_partners(GOOD, k=k)


def test_k_with_queries_may_reach_n():
    q = GOOD[:2]
    assert pyshape.top_partners(GOOD, k=6, queries=q).corr_index.shape == (2, 6)
    with pytest.raises(ValueError, match=r"k=7 is larger than the 6 shapes in X"):
        pyshape.top_partners(GOOD, k=7, queries=q)


@pytest.mark.parametrize("k", [1.0, 2.5, "3", None, True, np.float32(2)], ids=repr)
def test_k_not_int(k):
    with pytest.raises(TypeError, match=r"k must be an integer, got"):
        pyshape.top_partners(GOOD, k=k)


@pytest.mark.parametrize("which", ["best", "", "Corr", None, 1])
def test_which_invalid(which):
    with pytest.raises(ValueError, match=r"which must be 'both', 'corr' or 'anti', got"):
        pyshape.top_partners(GOOD, k=1, which=which)


# --- n_threads --------------------------------------------------------------------


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("n_threads", [0, -1, -8])
def test_n_threads_not_positive(func, n_threads):
    with pytest.raises(ValueError, match=rf"n_threads must be at least 1, got {n_threads}"):
        run(func, GOOD, n_threads=n_threads)


def test_n_threads_more_than_work_is_fine():
    np.testing.assert_array_equal(pyshape.pearson(GOOD, n_threads=64), pyshape.pearson(GOOD, n_threads=1))


# --- max_lag ------------------------------------------------------------------------


@pytest.mark.parametrize("func", ["lagged_correlation", "sbd"])
@pytest.mark.parametrize("max_lag", [-1, 10, 11, 10**6])
def test_max_lag_out_of_range(func, max_lag):
    bound = "at least 0" if max_lag < 0 else "at most 9"  # T - 1
    with pytest.raises(ValueError, match=rf"max_lag must be {bound}, got {max_lag}"):
        run(func, GOOD, max_lag=max_lag)


@pytest.mark.parametrize("func", ["lagged_correlation", "sbd"])
@pytest.mark.parametrize("max_lag", [1.5, 2.0, "3", True])
def test_max_lag_not_int(func, max_lag):
    with pytest.raises(TypeError, match=r"max_lag must be an integer, got"):
        run(func, GOOD, max_lag=max_lag)


def test_max_lag_bounds_are_accepted():
    for L in (0, 9, np.int32(5)):
        s, lag = pyshape.lagged_correlation(GOOD, max_lag=L)
        assert (np.abs(lag) <= L).all()


# --- nothing is half-done -------------------------------------------------------------


def test_library_still_works_after_errors():
    for func in FUNCS:
        with pytest.raises((ValueError, TypeError)):
            run(func, np.full((2, 3), np.nan))
    np.testing.assert_allclose(np.diag(pyshape.pearson(GOOD)), 1, atol=1e-5)


@pytest.mark.parametrize("bad", [1.5, "2", True])
def test_n_threads_must_be_an_integer(bad):
    with pytest.raises(TypeError, match="n_threads must be an integer"):
        pyshape.pearson(np.ones((3, 4)) * np.arange(4), n_threads=bad)


def test_misaligned_float32_is_copied_not_read_unaligned():
    """A float32 view at an odd byte offset (np.frombuffer on a file with a text header) works
    everywhere, through an aligned copy: the kernels read whole floats and SIMD vectors."""
    rng = np.random.default_rng(0)
    good = rng.random((6, 16)).astype(np.float32)
    buf = bytearray(good.nbytes + 2)
    buf[2:] = good.tobytes()
    odd = np.frombuffer(buf, dtype=np.float32, offset=2).reshape(6, 16)
    assert not odd.flags.aligned
    np.testing.assert_array_equal(pyshape.pearson(odd), pyshape.pearson(good))
    assert pyshape.pack(odd, capacity=4.0).assignment.tolist() == pyshape.pack(good, capacity=4.0).assignment.tolist()
    p = pyshape.Placer(4.0, T=16)
    assert p.place("a", odd[0]) == 0
    np.testing.assert_array_equal(p.load(0)[0], good[0])


def _odd(a: np.ndarray, offset: int = 3) -> np.ndarray:
    """a's values in a view at an odd byte offset (as NumPy arrays unpickled from a Dask frame)."""
    buf = bytearray(a.nbytes + offset)
    buf[offset:] = a.tobytes()
    out = np.frombuffer(buf, dtype=a.dtype, offset=offset).reshape(a.shape)
    assert not out.flags.aligned
    return out


def test_misaligned_float64_and_int64_reach_the_core_as_aligned_copies():
    """The float64 / int64 arguments of the bindings (capacity, headroom, assignments) are copied
    when misaligned, like the float32 shapes: the sanitizer leg runs this (UBSan: a misaligned
    double load is undefined behaviour even where x86 tolerates it)."""
    from pyshape import _core

    rng = np.random.default_rng(1)
    D = rng.random((40, 2, 12)).astype(np.float32)
    cap, head = np.array([3.0, 4.0]), np.array([0.1, 0.0])
    want = _core.pack_plan(D, cap, head, "first_fit", risk=0.0, candidates=8, improve=0, shard_size=32768)
    got = _core.pack_plan(D, _odd(cap), _odd(head), "first_fit", risk=0.0, candidates=8, improve=0,
                          shard_size=32768)
    assert np.array_equal(got[0], want[0]) and got[1:3] == want[1:3]
    plan = pyshape.pack(D, capacity=[3.0, 4.0], headroom=[0.1, 0.0])
    a = np.ascontiguousarray(plan.assignment, dtype=np.int64)
    import dataclasses

    assert dataclasses.replace(plan, assignment=_odd(a)).verify(raise_on_error=False).ok
