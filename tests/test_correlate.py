"""znorm, pearson and top_partners against the float64 NumPy references in
tests/reference.py, on fresh random data, at every SIMD level (the ``simd``
fixture) and with 1 vs 2 threads (which must agree bitwise).

lagged_correlation / sbd are tested in tests/test_lagged.py; bad input in
tests/test_validation.py.
"""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import pyshape
import reference as ref

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

# --- Tolerances --------------------------------------------------------------
# pyshape normalises in double and rounds the unit rows to float32 (relative
# error 6e-8 per element), then sums T float32 products with FMA. The products
# of two unit-norm rows have |sum| <= 1, so the accumulated rounding is at most
# about T * 6e-8 in the (never seen) worst case and ~sqrt(T) * 6e-8 in
# practice; 1e-5 absolute is > 10x the typical error at T = 1440.
PEARSON_ATOL = 1e-5
# z-scores are the unit rows times sqrt(T): one float32 rounding of a double,
# so relative 1.2e-7 of |z| <= sqrt(T); 1e-6 relative leaves a wide margin.
ZNORM_RTOL = 1e-6
ZNORM_ATOL = 1e-6
# top-k scores are the same float32 dot products as pearson.
TOPK_ATOL = PEARSON_ATOL

# Sizes that do not divide the micro-tiles (4/6/8 rows x 16/32 columns), the
# 192-row blocks, the 256-row normalisation items or the 256-step K chunks.
NS = [1, 2, 5, 97, 100, 101, 500]
TS = [1, 2, 3, 7, 15, 16, 17, 31, 97, 1440]
# Every (n, T) of the grid but the costliest (n^2 T > 3e7: slow in the
# sanitizer build), plus sizes one past the 192-row block and 256-step chunk.
MATRIX_SIZES = [(n, T) for n in NS for T in TS if n * n * T <= 3e7] + [(193, 257), (250, 300)]


def shapes(rng, n, T, dtype=np.float32):
    """Random rows with their own scale (1e-2 .. 1e2) and offset (+-100)."""
    scale = 10.0 ** rng.uniform(-2, 2, size=(n, 1))
    offset = rng.uniform(-100, 100, size=(n, 1))
    return (rng.standard_normal((n, T)) * scale + offset).astype(dtype)


def f32(x):
    """What pyshape actually sees: the input rounded to float32 (the reference
    then works on exactly the same numbers, in float64)."""
    return np.asarray(x, dtype=np.float32)


def both_threads(fn, *args, **kw):
    """fn with 1 and 2 threads; the results must be bitwise identical."""
    a = fn(*args, n_threads=1, **kw)
    b = fn(*args, n_threads=2, **kw)
    if isinstance(a, pyshape.Partners):
        for name in ("corr_index", "corr_score", "anti_index", "anti_score"):
            x, y = getattr(a, name), getattr(b, name)
            assert (x is None) == (y is None), name
            if x is not None:
                np.testing.assert_array_equal(x, y, err_msg=f"{name}: 1 vs 2 threads")
    else:
        np.testing.assert_array_equal(a, b, err_msg="1 vs 2 threads")
    return a


def check_topk(idx, score, R, k, *, self_excluded, anti, tol=TOPK_ATOL):
    """Check a top-k result against the reference score matrix R (nq x n).

    - shapes and dtypes; indices distinct, in range, not the query itself;
    - returned scores equal R at the returned indices (within tol);
    - order: best first, equal scores by smaller index;
    - set: everything clearly better than the reference k-th score is
      returned, nothing clearly worse is. Candidates within tol of the k-th
      score are ties whose order float32 rounding may flip.
    """
    nq, n = R.shape
    assert idx.shape == (nq, k) and score.shape == (nq, k)
    assert idx.dtype == np.int64 and score.dtype == np.float32
    sign = -1.0 if anti else 1.0
    for i in range(nq):
        cand = np.arange(n)
        if self_excluded:
            cand = cand[cand != i]
        got = idx[i]
        assert len(set(got.tolist())) == k, f"row {i}: repeated index {got}"
        assert np.isin(got, cand).all(), f"row {i}: index out of range or self: {got}"
        np.testing.assert_allclose(score[i], R[i, got], rtol=0, atol=tol, err_msg=f"row {i}")
        s = sign * score[i].astype(np.float64)
        ok = (s[:-1] > s[1:]) | ((s[:-1] == s[1:]) & (got[:-1] < got[1:]))
        assert ok.all(), f"row {i}: bad order {score[i]} / {got}"
        rs = sign * R[i, cand]
        kth = np.sort(rs)[::-1][k - 1]
        must = cand[rs > kth + tol]
        assert np.isin(must, got).all(), f"row {i}: missing {np.setdiff1d(must, got)}"
        assert (sign * R[i, got] >= kth - tol).all(), f"row {i}: returned a partner below the k-th"


# --- znorm -------------------------------------------------------------------


@pytest.mark.parametrize("T", TS)
@pytest.mark.parametrize("n", [1, 5, 101, 500])
def test_znorm_matches_reference(simd, rng, n, T):
    x = shapes(rng, n, T)
    z = both_threads(pyshape.znorm, x)
    assert z.dtype == np.float32 and z.shape == (n, T) and z.flags.c_contiguous
    expect = ref.unit_rows(x) * np.sqrt(T)
    np.testing.assert_allclose(z, expect, rtol=ZNORM_RTOL, atol=ZNORM_ATOL)
    if T > 1:
        live = np.abs(expect).sum(axis=1) > 0
        np.testing.assert_allclose(z[live].mean(axis=1, dtype=np.float64), 0, atol=1e-6)
        np.testing.assert_allclose(z[live].std(axis=1, dtype=np.float64), 1, atol=1e-6)


def test_znorm_docstring_example():
    z = pyshape.znorm(np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]]))
    np.testing.assert_allclose(z, [[-1.2247449, 0, 1.2247449], [0, 0, 0]], atol=1e-6)


def test_znorm_one_dim_is_one_shape(rng):
    x = shapes(rng, 1, 50)[0]
    z = pyshape.znorm(x)
    assert z.shape == (1, 50)
    np.testing.assert_array_equal(z, pyshape.znorm(x[None, :]))


def test_znorm_reads_float32_in_place_without_copy(rng):
    """float32 C-contiguous input: no conversion copy (only the output is
    allocated) and the input is not written, even when it is read-only."""
    from pyshape._validation import as_shapes

    x = shapes(rng, 2000, 500)
    assert as_shapes(x) is x
    before = x.copy()
    x.flags.writeable = False
    pyshape.znorm(x, n_threads=2)  # warm-up
    tracemalloc.start()
    try:
        z = pyshape.znorm(x, n_threads=2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(x, before)
    # The output is x.nbytes; a hidden copy of the input would double the peak.
    assert peak < 1.5 * x.nbytes, f"peak {peak} bytes for a {x.nbytes}-byte input"
    assert not np.shares_memory(z, x)


def test_inputs_are_not_mutated(rng):
    x, y = shapes(rng, 37, 29), shapes(rng, 11, 29)
    x0, y0 = x.copy(), y.copy()
    for a in (x, y):
        a.flags.writeable = False
    pyshape.znorm(x)
    pyshape.pearson(x, y)
    pyshape.pearson(x)
    pyshape.top_partners(x, k=3)
    pyshape.top_partners(x, k=3, queries=y)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)


# --- pearson -----------------------------------------------------------------


@pytest.mark.parametrize("n,T", MATRIX_SIZES)
def test_pearson_matches_reference(simd, rng, n, T):
    x = shapes(rng, n, T)
    r = both_threads(pyshape.pearson, x)
    assert r.dtype == np.float32 and r.shape == (n, n)
    np.testing.assert_allclose(r, ref.pearson(x), rtol=0, atol=PEARSON_ATOL)
    # Only the upper half is computed and mirrored: exactly symmetric.
    np.testing.assert_array_equal(r, r.T)


@pytest.mark.parametrize("n,m,T", [(1, 1, 5), (1, 7, 16), (5, 1, 17), (97, 3, 31), (101, 100, 97), (500, 17, 1440),
                                   (2, 500, 15)])
def test_pearson_x_vs_y(simd, rng, n, m, T):
    x, y = shapes(rng, n, T), shapes(rng, m, T)
    r = both_threads(pyshape.pearson, x, y)
    assert r.shape == (n, m)
    np.testing.assert_allclose(r, ref.pearson(x, y), rtol=0, atol=PEARSON_ATOL)
    # X against itself given explicitly equals the symmetric path bitwise (same
    # products, same order).
    xs = x[:60]
    np.testing.assert_array_equal(pyshape.pearson(xs, xs), pyshape.pearson(xs))


def test_pearson_single_shape():
    assert pyshape.pearson(np.arange(7.0)[None, :]).tolist() == [[pytest.approx(1.0, abs=PEARSON_ATOL)]]
    assert pyshape.pearson(np.full((1, 7), 3.5)).tolist() == [[0.0]]


@pytest.mark.parametrize("n", [1, 2, 101])
def test_pearson_T1_all_zero(simd, n):
    """With one time step every shape is constant: every correlation is 0."""
    x = np.arange(n, dtype=np.float32)[:, None]
    np.testing.assert_array_equal(pyshape.pearson(x), np.zeros((n, n), np.float32))
    np.testing.assert_array_equal(pyshape.znorm(x), np.zeros((n, 1), np.float32))
    np.testing.assert_array_equal(pyshape.pearson(x, x[:1]), np.zeros((n, 1), np.float32))


@pytest.mark.parametrize("value", [0.0, -3.0, 1e30, -1e-30, 7.25])
def test_constant_rows_anywhere(simd, rng, value):
    """Constant rows (first, middle, last) correlate 0 with everything,
    including themselves, and never give NaN."""
    n, T = 101, 37
    x = shapes(rng, n, T)
    const = [0, 50, n - 1]
    x[const] = value
    z = pyshape.znorm(x)
    np.testing.assert_array_equal(z[const], 0)
    r = both_threads(pyshape.pearson, x)
    assert np.isfinite(r).all()
    np.testing.assert_array_equal(r[const], 0)
    np.testing.assert_array_equal(r[:, const], 0)
    np.testing.assert_allclose(r, ref.pearson(x), rtol=0, atol=PEARSON_ATOL)
    live = np.setdiff1d(np.arange(n), const)
    np.testing.assert_allclose(np.diag(r)[live], 1, atol=PEARSON_ATOL)


def test_nearly_constant_row_is_constant():
    """A spread below float32 resolution of the mean counts as constant."""
    x = np.array([[1e6, 1e6, 1e6 + 0.0625, 1e6], [1.0, 2.0, 3.0, 4.0]], np.float32)
    assert x[0].std() > 0  # representable, but within 4 eps of the mean
    r = pyshape.pearson(x)
    np.testing.assert_array_equal(r[0], 0)
    np.testing.assert_allclose(r, ref.pearson(x), atol=PEARSON_ATOL)


@pytest.mark.parametrize("mag", [1e30, 1e-30])
def test_huge_and_tiny_magnitudes(simd, rng, mag):
    """Normalisation is in double, so neither overflow nor underflow: the
    result equals that of the unit-scale data."""
    base = rng.standard_normal((40, 61))
    x = (base * mag).astype(np.float32)
    np.testing.assert_allclose(pyshape.pearson(x), ref.pearson(base), atol=PEARSON_ATOL)
    np.testing.assert_allclose(pyshape.znorm(x), ref.unit_rows(base) * np.sqrt(61), atol=1e-5)
    # Rows of wildly different magnitude in one matrix.
    mixed = base.copy()
    mixed[::2] *= 1e30
    mixed[1::2] *= 1e-30
    np.testing.assert_allclose(pyshape.pearson(mixed.astype(np.float32)), ref.pearson(base), atol=PEARSON_ATOL)


@pytest.mark.parametrize("dtype", [np.float64, np.float16, np.int8, np.int32, np.int64, np.uint8, np.uint64, bool])
def test_other_dtypes_are_converted(simd, rng, dtype):
    if dtype is bool:
        x = rng.random((23, 19)) < 0.5
    elif np.issubdtype(dtype, np.integer):
        x = rng.integers(0, 100, size=(23, 19)).astype(dtype)
    else:
        x = shapes(rng, 23, 19, dtype=dtype)
    if np.dtype(dtype).itemsize >= 4 and np.dtype(dtype).kind in "iuf" and dtype is not bool:
        # wide input is centred in float64 before the cast, so no signal is lost to the cast
        as32 = (x - x.mean(axis=1, keepdims=True, dtype=np.float64)).astype(np.float32)
    else:
        as32 = x.astype(np.float32)
    np.testing.assert_array_equal(pyshape.znorm(x), pyshape.znorm(as32))
    np.testing.assert_array_equal(pyshape.pearson(x), pyshape.pearson(as32))
    p, q = pyshape.top_partners(x, k=4), pyshape.top_partners(as32, k=4)
    np.testing.assert_array_equal(p.corr_index, q.corr_index)
    np.testing.assert_array_equal(p.anti_score, q.anti_score)
    np.testing.assert_allclose(pyshape.pearson(x), ref.pearson(as32), atol=PEARSON_ATOL)


def test_nested_lists_are_accepted():
    x = [[1, 2, 3, 4], [4, 3, 2, 1], [1, 1, 1, 1]]
    np.testing.assert_allclose(pyshape.pearson(x), [[1, -1, 0], [-1, 1, 0], [0, 0, 0]], atol=PEARSON_ATOL)


@pytest.mark.parametrize(
    "view",
    [
        lambda a: a[::2],
        lambda a: a[:, ::3],
        lambda a: a[1:, 1:],  # misaligned start
        lambda a: a[::-1, ::-1],
        lambda a: np.asfortranarray(a),
        lambda a: a.T.copy().T,  # Fortran order through a transpose
        lambda a: a.astype(np.float64)[::3, 2:],
    ],
    ids=["rows_step", "cols_step", "offset", "reversed", "fortran", "transposed", "f64_strided"],
)
def test_non_contiguous_input(simd, rng, view):
    base = shapes(rng, 101, 97)
    v = view(base)
    c = np.ascontiguousarray(v, dtype=np.float32)
    if v.dtype == np.float64:  # float64 is centred before its cast (see test_other_dtypes_are_converted)
        c = np.ascontiguousarray(v - v.mean(axis=1, keepdims=True), dtype=np.float32)
    np.testing.assert_array_equal(pyshape.znorm(v), pyshape.znorm(c))
    np.testing.assert_array_equal(pyshape.pearson(v), pyshape.pearson(c))
    np.testing.assert_array_equal(pyshape.pearson(c[:7], v), pyshape.pearson(c[:7], c))
    p, q = pyshape.top_partners(v, k=5), pyshape.top_partners(c, k=5)
    for name in ("corr_index", "corr_score", "anti_index", "anti_score"):
        np.testing.assert_array_equal(getattr(p, name), getattr(q, name))
    q2 = pyshape.top_partners(c, k=5, queries=v[::4])
    np.testing.assert_array_equal(q2.corr_index, pyshape.top_partners(c, k=5, queries=c[::4]).corr_index)
    np.testing.assert_allclose(pyshape.pearson(v), ref.pearson(c), atol=PEARSON_ATOL)


def test_pearson_docstring_example():
    t = np.arange(24.0)
    r = pyshape.pearson(np.stack([np.sin(t), -np.sin(t), np.cos(t)]))
    assert r[0, 1] == pytest.approx(-1.0, abs=PEARSON_ATOL)


# --- top_partners --------------------------------------------------------------

# Both exact top-k kernels; 'auto' picks bruteforce at these sizes.
METHODS = ["bruteforce", "pruned"]
TOPK_SIZES = [(2, 1), (2, 7), (3, 16), (5, 17), (97, 31), (100, 3), (101, 15), (101, 1440), (193, 257), (500, 97)]


@pytest.mark.parametrize("n,T", TOPK_SIZES)
def test_top_partners_matches_reference(simd, rng, n, T):
    x = shapes(rng, n, T)
    R = ref.pearson(x)
    for k in sorted({1, min(3, n - 1), n - 1}):
        p = both_threads(pyshape.top_partners, x, k=k)
        check_topk(p.corr_index, p.corr_score, R, k, self_excluded=True, anti=False)
        check_topk(p.anti_index, p.anti_score, R, k, self_excluded=True, anti=True)
        if k != min(3, n - 1):
            continue
        # Asking for one side gives exactly that side of 'both'.
        c = pyshape.top_partners(x, k=k, which="corr")
        a = pyshape.top_partners(x, k=k, which="anti")
        assert c.anti_index is None and c.anti_score is None
        assert a.corr_index is None and a.corr_score is None
        np.testing.assert_array_equal(c.corr_index, p.corr_index)
        np.testing.assert_array_equal(c.corr_score, p.corr_score)
        np.testing.assert_array_equal(a.anti_index, p.anti_index)
        np.testing.assert_array_equal(a.anti_score, p.anti_score)


@pytest.mark.parametrize("method", METHODS)
def test_top_partners_k_is_n_minus_1_is_a_full_sort(simd, rng, method):
    """With k = n - 1 every other shape is returned: the rows are a
    permutation, sorted like the reference up to float32 near-ties."""
    n, T = 101, 31
    x = shapes(rng, n, T)
    p = both_threads(pyshape.top_partners, x, k=n - 1, method=method)
    for i in range(n):
        assert sorted(p.corr_index[i].tolist()) == [j for j in range(n) if j != i]
        np.testing.assert_array_equal(np.sort(p.anti_index[i]), np.sort(p.corr_index[i]))
        # anti is corr reversed, except that equal scores keep index order.
        np.testing.assert_array_equal(p.anti_score[i], p.corr_score[i][::-1])
    _, rcs, _, ras = ref.top_partners(x, n - 1)
    np.testing.assert_allclose(p.corr_score, rcs, atol=TOPK_ATOL)
    np.testing.assert_allclose(p.anti_score, ras, atol=TOPK_ATOL)


def test_top_partners_n1_raises():
    with pytest.raises(ValueError, match="larger than the 0 other shapes"):
        pyshape.top_partners(np.arange(5.0)[None, :], k=1)


@pytest.mark.parametrize("n,nq,T,k", [(1, 3, 7, 1), (5, 1, 16, 5), (101, 7, 17, 3), (300, 200, 97, 10),
                                      (97, 500, 31, 97)])
@pytest.mark.parametrize("method", METHODS)
def test_top_partners_queries(simd, rng, n, nq, T, k, method):
    x, q = shapes(rng, n, T), shapes(rng, nq, T)
    p = both_threads(pyshape.top_partners, x, k=k, queries=q, method=method)
    R = ref.pearson(q, x)
    check_topk(p.corr_index, p.corr_score, R, k, self_excluded=False, anti=False)
    check_topk(p.anti_index, p.anti_score, R, k, self_excluded=False, anti=True)


def test_top_partners_query_in_database_is_its_own_best_partner(rng):
    """With queries=, a query equal to a database row is not excluded: it
    finds itself (score 1) first."""
    x = shapes(rng, 50, 40)
    p = pyshape.top_partners(x, k=2, queries=x[[3, 17]], which="corr")
    assert p.corr_index[:, 0].tolist() == [3, 17]
    np.testing.assert_allclose(p.corr_score[:, 0], 1, atol=TOPK_ATOL)


@pytest.mark.parametrize("method", METHODS)
def test_top_partners_ties_by_smaller_index(simd, rng, method):
    """Identical rows (also exact power-of-two scalings, which normalise to the
    same bits) get identical scores, which must come in index order."""
    m, T = 12, 23
    base = shapes(rng, m, T)
    pick = rng.integers(0, m, size=60)
    factor = np.where(rng.random(60) < 0.5, 1.0, 4.0).astype(np.float32)
    x = base[pick] * factor[:, None]
    n = len(x)
    for k in (1, 4, n - 1):
        p = both_threads(pyshape.top_partners, x, k=k, method=method)
        R = ref.pearson(x)
        check_topk(p.corr_index, p.corr_score, R, k, self_excluded=True, anti=False)
        check_topk(p.anti_index, p.anti_score, R, k, self_excluded=True, anti=True)
    # k = n - 1: copies of one base row hold equal scores, in index order.
    for i in range(n):
        for idx, sc in ((p.corr_index[i], p.corr_score[i]), (p.anti_index[i], p.anti_score[i])):
            for b in range(m):
                where = np.flatnonzero(pick[idx] == b)
                if len(where) > 1:
                    assert len(set(sc[where].tolist())) == 1, f"row {i}: copies of {b} scored differently"
                    assert (np.diff(idx[where]) > 0).all(), f"row {i}: copies of {b} out of index order"


@pytest.mark.parametrize("method", METHODS)
def test_top_partners_exact_ties_small(method):
    t = np.arange(32.0)
    a, b = np.sin(t / 3), np.cos(t / 5)
    x = np.stack([a, b, b, b, b])
    p = pyshape.top_partners(x, k=2, method=method)
    assert p.corr_index[0].tolist() == [1, 2]  # four equal scores: smallest indices
    assert p.anti_index[0].tolist() == [1, 2]
    assert p.corr_index[1].tolist() == [2, 3]  # identical rows score 1 > r(b, a)
    assert p.corr_index[4].tolist() == [1, 2]


@pytest.mark.parametrize("method", METHODS)
def test_top_partners_constant_rows_tie_at_zero(simd, rng, method):
    n, T = 40, 17
    x = shapes(rng, n, T)
    x[[0, 5, 39]] = 2.5
    p = both_threads(pyshape.top_partners, x, k=6, method=method)
    # A constant query scores 0 with everything: partners are the smallest indices.
    for i in (0, 5, 39):
        expect = [j for j in range(n) if j != i][:6]
        assert p.corr_index[i].tolist() == expect
        assert p.anti_index[i].tolist() == expect
        np.testing.assert_array_equal(p.corr_score[i], 0)
    check_topk(p.corr_index, p.corr_score, ref.pearson(x), 6, self_excluded=True, anti=False)
    check_topk(p.anti_index, p.anti_score, ref.pearson(x), 6, self_excluded=True, anti=True)


@pytest.mark.parametrize("n", [2, 5, 101])
@pytest.mark.parametrize("method", METHODS)
def test_top_partners_T1(simd, n, method):
    """T = 1: every shape is constant, every score 0, partners by index."""
    x = np.arange(n, dtype=np.float32)[:, None]
    p = pyshape.top_partners(x, k=n - 1, method=method)
    for i in range(n):
        expect = [j for j in range(n) if j != i]
        assert p.corr_index[i].tolist() == expect
        assert p.anti_index[i].tolist() == expect
    np.testing.assert_array_equal(p.corr_score, 0)
    np.testing.assert_array_equal(p.anti_score, 0)


@pytest.mark.parametrize("method", METHODS)
def test_top_partners_all_rows_constant(simd, method):
    x = np.full((20, 10), 3.0)
    p = pyshape.top_partners(x, k=4, method=method)
    for i in range(20):
        assert p.corr_index[i].tolist() == [j for j in range(20) if j != i][:4]
    np.testing.assert_array_equal(p.corr_score, 0)


@pytest.mark.parametrize("method", METHODS)
def test_top_partners_identical_rows(simd, method):
    """All rows equal: every pair scores the same, partners are the smallest
    other indices."""
    x = np.tile(np.arange(10.0), (20, 1))
    p = pyshape.top_partners(x, k=3, method=method)
    for i in range(20):
        assert p.corr_index[i].tolist() == [j for j in range(20) if j != i][:3], f"row {i}"
    assert len(set(p.corr_score.ravel().tolist())) == 1


def test_top_partners_docstring_example():
    t = np.arange(48.0)
    X = np.stack([np.sin(t / 4), -np.sin(t / 4), np.sin(t / 4) + 0.1 * np.cos(t)])
    p = pyshape.top_partners(X, k=1)
    assert p.corr_index[:, 0].tolist() == [2, 2, 0]
    assert p.anti_index[:, 0].tolist() == [1, 0, 1]


def test_top_partners_accepts_numpy_int_k(rng):
    x = shapes(rng, 10, 12)
    np.testing.assert_array_equal(pyshape.top_partners(x, k=np.int64(3)).corr_index,
                                  pyshape.top_partners(x, k=3).corr_index)


# --- properties (hypothesis, small arrays) -------------------------------------------

# Small integers: every row is either exactly constant or clearly not, so the
# constant-row rule cannot flip between pyshape and the reference, while
# duplicate rows, constant rows and exact ties are frequent.
small_int_shapes = hnp.arrays(
    np.int16,
    st.tuples(st.integers(1, 9), st.integers(1, 20)),
    elements=st.integers(-4, 4),
)
PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPERTY_SETTINGS
@given(x=small_int_shapes)
def test_property_pearson(simd, x):
    r = pyshape.pearson(x)
    np.testing.assert_allclose(r, ref.pearson(x), atol=PEARSON_ATOL)
    np.testing.assert_array_equal(r, r.T)
    assert (np.abs(r) <= 1 + PEARSON_ATOL).all()
    # Exact in float: scaling by 4 and shifting small integers changes no bit
    # of the unit rows, negation flips every sign.
    xf = x.astype(np.float32)
    np.testing.assert_array_equal(pyshape.pearson(4 * xf + 3), r)
    np.testing.assert_array_equal(pyshape.pearson(-xf, xf), -r)


@PROPERTY_SETTINGS
@given(x=small_int_shapes, data=st.data())
def test_property_top_partners(simd, x, data):
    n = x.shape[0]
    if n < 2:
        return
    k = data.draw(st.integers(1, n - 1), label="k")
    which = data.draw(st.sampled_from(["both", "corr", "anti"]), label="which")
    p = pyshape.top_partners(x, k=k, which=which)
    R = ref.pearson(x)
    if which != "anti":
        check_topk(p.corr_index, p.corr_score, R, k, self_excluded=True, anti=False)
    if which != "corr":
        check_topk(p.anti_index, p.anti_score, R, k, self_excluded=True, anti=True)


def test_float64_variation_far_below_the_level_survives(simd, rng):
    """Rows varying by 1e-10 of their level: the cast to float32 would flatten them to constants."""
    base = rng.standard_normal(200)
    X = np.stack([1e6 + 1e-4 * base, 1e6 + 1e-4 * (base + 0.3 * rng.standard_normal(200)), 1e6 - 1e-4 * base])
    np.testing.assert_allclose(pyshape.pearson(X), np.corrcoef(X), atol=PEARSON_ATOL)
    Z = (X - X.mean(axis=1, keepdims=True)) / X.std(axis=1, keepdims=True)
    np.testing.assert_allclose(pyshape.znorm(X), Z, atol=1e-4)
    p = pyshape.top_partners(X, k=1)
    assert p.corr_index[:, 0].tolist() == [1, 0, 1] and p.anti_index[0, 0] == 2

