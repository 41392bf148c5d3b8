"""lagged_correlation / sbd against the float64 scipy reference in
tests/reference.py, on fresh random data, at every SIMD level (the ``simd``
fixture), for both evaluation paths (``method='direct'``: 2L + 1 dot products
per pair; ``method='fft'``: batched inverse real FFTs) and the automatic
choice between them.
"""
from __future__ import annotations

import numpy as np
import pytest

import pyshape
import reference as ref

# --- Tolerances --------------------------------------------------------------
# Rows are unit-norm float32. The direct path sums <= T float32 products (error
# ~sqrt(T) * 6e-8 in practice). The FFT path rounds every spectrum bin and
# butterfly in float32: the error of each correlation value is about
# eps32 * log2(N) * ||x|| ||y|| ~ 1.2e-7 * 13 ~ 1.6e-6 at N = 8192, so 2e-5
# absolute leaves a > 10x margin at every size tested here.
LAGGED_ATOL = 2e-5

METHODS = ["direct", "fft"]
TS = [1, 2, 3, 7, 16, 17, 31, 97, 150]


def _full_reference(x, y, max_lag):
    """(score, lag, ncc) in float64: ncc[i, j, s + T - 1] for |s| <= max_lag, -inf elsewhere."""
    from scipy.signal import correlate

    ux = ref.unit_rows(x)
    uy = ux if y is None else ref.unit_rows(y)
    T = ux.shape[1]
    lags = np.arange(-(T - 1), T)
    ncc = np.full((len(ux), len(uy), 2 * T - 1), -np.inf)
    for i, a in enumerate(ux):
        for j, b in enumerate(uy):
            ncc[i, j] = correlate(a, b, mode="full", method="direct")
    ncc[:, :, np.abs(lags) > max_lag] = -np.inf
    score, lag = ref.lagged(x, y, max_lag)
    return score, lag, ncc


def _check(score, lag, x, y, max_lag, atol=LAGGED_ATOL):
    """Scores within atol of the reference; lags equal wherever the best lag beats
    every other by more than atol, and otherwise at least a near-best lag."""
    rscore, rlag, ncc = _full_reference(x, y, max_lag)
    T = ncc.shape[2] // 2 + 1
    assert score.dtype == np.float32 and lag.dtype == np.int32
    assert score.shape == rscore.shape == lag.shape
    np.testing.assert_allclose(score, rscore, rtol=0, atol=atol)
    assert np.all(np.abs(lag) <= max_lag)
    top2 = np.sort(ncc, axis=2)[:, :, -2:] if ncc.shape[2] > 1 else None
    gap = np.inf if top2 is None else top2[:, :, 1] - top2[:, :, 0]
    clear = np.broadcast_to(gap > atol, rscore.shape)
    np.testing.assert_array_equal(lag[clear], rlag[clear])
    # Where lags are (nearly) tied, pyshape's lag must still score (nearly) the max.
    at_lag = np.take_along_axis(ncc, (lag + T - 1)[:, :, None].astype(np.int64), axis=2)[:, :, 0]
    np.testing.assert_allclose(at_lag, rscore, rtol=0, atol=atol)


def _series(rng, n, T):
    """Random walks plus noise: correlated enough across lags to make the max matter."""
    return rng.standard_normal((n, T)).cumsum(axis=1) + 0.5 * rng.standard_normal((n, T))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("T", TS)
def test_matches_reference(simd, method, T, rng):
    X = _series(rng, 3, T)
    Y = _series(rng, 5, T)
    for L in sorted({0, min(1, T - 1), T // 3, T - 1}):
        s, l = pyshape.lagged_correlation(X, Y, max_lag=L, method=method)
        _check(s, l, X, Y, L)
        s, l = pyshape.lagged_correlation(Y, max_lag=L, method=method)
        _check(s, l, Y, None, L)
        # Symmetric: exact mirror with the lag negated.
        np.testing.assert_array_equal(s, s.T)
        np.testing.assert_array_equal(l, -l.T)


@pytest.mark.parametrize("T,max_lag", [(500, 499), (1440, 1439), (1000, 37), (1440, 3)])
def test_long_series(simd, T, max_lag, rng):
    """FFT sizes with every radix (M = 500 = 4*5^3, 1440 = 2^5*3^2*5, 519 -> 540)."""
    X = _series(rng, 2, T)
    Y = _series(rng, 9, T)
    for method in ("auto", "fft", "direct"):
        s, l = pyshape.lagged_correlation(X, Y, max_lag=max_lag, method=method)
        _check(s, l, X, Y, max_lag)


def test_default_is_auto_and_all_lags(rng):
    X = _series(rng, 4, 64)
    s0, l0 = pyshape.lagged_correlation(X)
    s1, l1 = pyshape.lagged_correlation(X, max_lag=63, method="auto")
    np.testing.assert_array_equal(s0, s1)
    np.testing.assert_array_equal(l0, l1)
    _check(s0, l0, X, None, 63)


@pytest.mark.parametrize("method", METHODS)
def test_single_rows(simd, method, rng):
    x = _series(rng, 1, 40)
    Y = _series(rng, 6, 40)
    for L in (0, 1, 39):
        s, l = pyshape.lagged_correlation(x, Y, max_lag=L, method=method)
        assert s.shape == (1, 6)
        _check(s, l, x, Y, L)
        s, l = pyshape.lagged_correlation(Y, x[0], max_lag=L, method=method)
        assert s.shape == (6, 1)
        _check(s, l, Y, x, L)
        s, l = pyshape.lagged_correlation(x[0], max_lag=L, method=method)
        assert s.shape == (1, 1)
        # A shape against itself: 1 at lag 0.
        assert abs(s[0, 0] - 1) < LAGGED_ATOL and l[0, 0] == 0


@pytest.mark.parametrize("method", METHODS)
def test_constant_rows(simd, method, rng):
    T = 33
    X = _series(rng, 5, T)
    X[1] = 7.0
    X[3] = 0.0
    Y = _series(rng, 4, T)
    Y[2] = -1e6
    for L in (0, 5, T - 1):
        s, l = pyshape.lagged_correlation(X, Y, max_lag=L, method=method)
        _check(s, l, X, Y, L)
        for i, j in [(1, 0), (3, 3), (0, 2), (1, 2)]:
            assert s[i, j] == 0 and l[i, j] == 0
        s, l = pyshape.lagged_correlation(X, max_lag=L, method=method)
        assert np.all(s[[1, 3]] == 0) and np.all(s[:, [1, 3]] == 0)
        assert np.all(l[[1, 3]] == 0) and np.all(l[:, [1, 3]] == 0)


@pytest.mark.parametrize("method", METHODS)
def test_extreme_magnitudes(simd, method, rng):
    """Scale is removed by normalisation: 1e-20 and 1e20 rows give the unit-scale result."""
    X = _series(rng, 3, 50)
    Y = _series(rng, 4, 50)
    s0, l0 = pyshape.lagged_correlation(X, Y, method=method)
    _check(s0, l0, X, Y, 49)
    for sx, sy in [(1e-20, 1e20), (1e20, 1e-20), (1e-20, 1e-20), (1e20, 1e20)]:
        s, l = pyshape.lagged_correlation(X * sx, Y * sy, method=method)
        np.testing.assert_allclose(s, s0, rtol=0, atol=LAGGED_ATOL)
        _check(s, l, X, Y, 49)


@pytest.mark.parametrize("method", METHODS + ["auto"])
@pytest.mark.parametrize("symmetric", [True, False])
def test_threads_agree_bitwise(method, symmetric, rng):
    X = _series(rng, 37, 97)
    Y = None if symmetric else _series(rng, 21, 97)
    for L in (3, 96):
        s1, l1 = pyshape.lagged_correlation(X, Y, max_lag=L, method=method, n_threads=1)
        s2, l2 = pyshape.lagged_correlation(X, Y, max_lag=L, method=method, n_threads=2)
        np.testing.assert_array_equal(s1, s2)
        np.testing.assert_array_equal(l1, l2)


@pytest.mark.parametrize("method", METHODS + ["auto"])
def test_sbd_is_one_minus_score(method, rng):
    X = _series(rng, 6, 45)
    Y = _series(rng, 3, 45)
    for y in (None, Y):
        for L in (0, 10, None):
            s, _ = pyshape.lagged_correlation(X, y, max_lag=L, method=method)
            d = pyshape.sbd(X, y, max_lag=L, method=method)
            assert d.dtype == np.float32
            np.testing.assert_array_equal(d, np.float32(1) - s)
            assert np.all(d >= -LAGGED_ATOL) and np.all(d <= 2 + LAGGED_ATOL)


@pytest.mark.parametrize("method", METHODS)
def test_lag_convention(simd, method):
    """ncc[s] = sum_t x[t] y[t - s]: an event at t in x and at t - s in y gives lag s."""
    T = 64
    x = np.zeros(T)
    x[20] = 1
    y = np.zeros(T)
    y[27] = 1
    s, l = pyshape.lagged_correlation(x, y, method=method)
    assert l[0, 0] == -7
    s, l = pyshape.lagged_correlation(y, x, method=method)
    assert l[0, 0] == 7
    # A smooth bump, and the same bump 5 steps earlier: y leads x by 5.
    t = np.arange(T, dtype=float)
    bump = np.exp(-0.5 * ((t - 30) / 3.0) ** 2)
    early = np.exp(-0.5 * ((t - 25) / 3.0) ** 2)
    s, l = pyshape.lagged_correlation(bump, early, method=method)
    assert l[0, 0] == 5 and s[0, 0] > 0.9
    s, l = pyshape.lagged_correlation(np.stack([bump, early]), method=method)
    assert l[0, 1] == 5 and l[1, 0] == -5 and l[0, 0] == 0 and l[1, 1] == 0
    # Outside max_lag the shift cannot be found; lag 0 is the best within.
    s, l = pyshape.lagged_correlation(bump, early, max_lag=4, method=method)
    assert l[0, 0] == 4


@pytest.mark.parametrize("method", METHODS + ["auto"])
def test_bad_input(method, rng):
    X = _series(rng, 4, 20)
    bad = X.copy()
    bad[2, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        pyshape.lagged_correlation(bad, method=method)
    with pytest.raises(ValueError, match="NaN"):
        pyshape.lagged_correlation(X, bad, method=method)
    with pytest.raises(ValueError, match="NaN"):
        pyshape.sbd(bad, method=method)
    for L in (-1, 20, 1000):
        with pytest.raises(ValueError, match="max_lag"):
            pyshape.lagged_correlation(X, max_lag=L, method=method)
        with pytest.raises(ValueError, match="max_lag"):
            pyshape.sbd(X, X, max_lag=L, method=method)
    with pytest.raises(ValueError, match="same number of time steps"):
        pyshape.lagged_correlation(X, X[:, :10], method=method)


def test_bad_method(rng):
    X = _series(rng, 2, 8)
    with pytest.raises(ValueError, match="method"):
        pyshape.lagged_correlation(X, method="fast")
    with pytest.raises(ValueError, match="method"):
        pyshape._core.lagged(np.zeros((2, 8), np.float32), max_lag=1, method="fast")


def test_fft_blocks_agree_bitwise(rng):
    """The FFT path splits X and Y into blocks of rows whose spectra take <= 64 MiB
    (416 rows at T = 20000, all lags); results must not depend on the blocking."""
    T = 20000
    X = rng.standard_normal((3, T))
    Y = rng.standard_normal((430, T))
    s, l = pyshape.lagged_correlation(X, Y, method="fft")
    for a, b in [(0, 200), (200, 430)]:
        sb, lb = pyshape.lagged_correlation(X, Y[a:b], method="fft")
        np.testing.assert_array_equal(s[:, a:b], sb)
        np.testing.assert_array_equal(l[:, a:b], lb)
    s, l = pyshape.lagged_correlation(Y, X[:2], method="fft", n_threads=2)
    for a, b in [(0, 200), (200, 430)]:
        sb, lb = pyshape.lagged_correlation(Y[a:b], X[:2], method="fft", n_threads=1)
        np.testing.assert_array_equal(s[a:b], sb)
        np.testing.assert_array_equal(l[a:b], lb)
    # One direct check of a pair across the block boundary (lag 0 is Pearson r).
    sd, _ = pyshape.lagged_correlation(Y[420:421], X[1:2], max_lag=0, method="direct")
    s0, _ = pyshape.lagged_correlation(Y[420:421], X[1:2], max_lag=0, method="fft")
    np.testing.assert_allclose(s0, sd, rtol=0, atol=LAGGED_ATOL)
