"""The low-rank pruned top-k must return exactly what brute force returns."""
from __future__ import annotations

import numpy as np
import pytest

import pyshape
from pyshape import _core
from pyshape.correlate import _lowrank
from pyshape.synthetic import make_shapes
import reference as ref

# Scores: float32 dot of unit-norm rows of length <= 1440 (|error| ~ 1e-6).
SCORE_TOL = 2e-5


@pytest.mark.parametrize("which", ["both", "corr", "anti"])
@pytest.mark.parametrize("rank", [4, 16])
def test_pruned_matches_reference(simd, rng, which, rank):
    n, T, k = 301, 97, 7
    X, _ = make_shapes(n, T, random_state=int(rng.integers(1 << 30)))
    got = pyshape.top_partners(X, k, which=which, method="pruned", rank=rank)
    ci, cs, ai, as_ = ref.top_partners(X, k)
    full = ref.pearson(X)
    np.fill_diagonal(full, np.nan)
    if which != "anti":
        np.testing.assert_allclose(got.corr_score, cs, atol=SCORE_TOL)
        for i in range(n):
            row = np.sort(full[i][~np.isnan(full[i])])[::-1]
            if row[k - 1] - row[k] > SCORE_TOL:
                assert set(got.corr_index[i]) == set(ci[i]), i
    if which != "corr":
        np.testing.assert_allclose(got.anti_score, as_, atol=SCORE_TOL)
        for i in range(n):
            row = np.sort(full[i][~np.isnan(full[i])])
            if row[k] - row[k - 1] > SCORE_TOL:
                assert set(got.anti_index[i]) == set(ai[i]), i


def test_pruned_bitwise_equals_bruteforce(simd, rng):
    """Same summation order for every exact score: identical output, ties included."""
    X, _ = make_shapes(1500, 288, random_state=int(rng.integers(1 << 30)))
    X[7] = X[3]  # exact duplicates: their ties must come out in index order
    X[11] = X[3]
    a = pyshape.top_partners(X, 10, method="bruteforce")
    b = pyshape.top_partners(X, 10, method="pruned", rank=16)
    for f in ("corr_index", "corr_score", "anti_index", "anti_score"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))


def test_pruned_with_queries_and_constant_rows(rng):
    X = rng.standard_normal((200, 64)).cumsum(axis=1)
    X[5] = 3.0  # constant: correlation 0 with everything
    Q = rng.standard_normal((33, 64)).cumsum(axis=1)
    got = pyshape.top_partners(X, 5, queries=Q, method="pruned", rank=8)
    ci, cs, ai, as_ = ref.top_partners(X, 5, queries=Q)
    np.testing.assert_allclose(got.corr_score, cs, atol=SCORE_TOL)
    np.testing.assert_allclose(got.anti_score, as_, atol=SCORE_TOL)


def test_pruned_threads_identical(rng):
    X, _ = make_shapes(700, 120, random_state=int(rng.integers(1 << 30)))
    a = pyshape.top_partners(X, 9, method="pruned", rank=16, n_threads=1)
    b = pyshape.top_partners(X, 9, method="pruned", rank=16, n_threads=2)
    for f in ("corr_index", "corr_score", "anti_index", "anti_score"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))


def test_pruning_prunes_structured_shapes():
    """On family-structured shapes many pairs must be decided by the bounds alone
    (at this small n about 35% are; the share grows with n)."""
    X, _ = make_shapes(3000, 288, random_state=3)
    u = pyshape.znorm(X) / np.float32(np.sqrt(288))
    pl = _lowrank.plan(u, None, 10, True, False, rank=16)
    order = _lowrank.locality_order(pl.db_proj)
    out = _core.topk_pruned(u, pl.db_proj[order], pl.db_res[order], order, None, None, None, None,
                            k=10, want_pos=True, want_neg=False, margin=_lowrank.MARGIN)
    mr, nr = _core.kernel_tile()
    scored_pairs = out[4] * nr + out[5] * mr * nr
    assert scored_pairs < 0.8 * 3000 * 3000


def test_residual_bound_holds(rng):
    """|u_i.u_j - p_i.p_j| <= res_i res_j (+ margin) for every pair."""
    X, _ = make_shapes(400, 200, random_state=int(rng.integers(1 << 30)))
    u = pyshape.znorm(X) / np.float32(np.sqrt(200))
    pl = _lowrank.plan(u, None, 5, True, True, rank=12)
    exact = u.astype(np.float64) @ u.T.astype(np.float64)
    approx = pl.db_proj.astype(np.float64) @ pl.db_proj.T
    slack = np.outer(pl.db_res, pl.db_res)
    assert np.all(np.abs(exact - approx) <= slack + _lowrank.MARGIN)


def test_bad_method_and_rank():
    X = np.random.default_rng(0).standard_normal((10, 20))
    with pytest.raises(ValueError, match="method"):
        pyshape.top_partners(X, 2, method="fast")
    with pytest.raises(ValueError, match="rank"):
        pyshape.top_partners(X, 2, method="pruned", rank=20)
