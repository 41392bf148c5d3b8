"""The exact re-pack of the local search (src/cpp/pack/repack.hpp) against brute force, and the
properties of the improved plans: feasible (Plan.verify), never more workers than the portfolio
alone, deterministic, the same for any thread count.
"""
from __future__ import annotations

import numpy as np
import pytest
from reference_pack import brute_force_fits, daily_fleet, random_items

import pyshape
from pyshape import _core


def check_assignment(D, cap, k, a):
    assert a.shape == (len(D),) and a.min() >= 0 and a.max() < k
    for w in range(k):
        assert np.all(D[a == w].astype(np.float64).sum(axis=0) <= cap[:, None])


@pytest.mark.parametrize("seed", range(60))
def test_repack_matches_brute_force(seed):
    D, cap = random_items(seed, larger_first=True)
    for k in range(1, 5):
        status, a, nodes = _core._repack_exact(D, cap, k, 10**7)
        expect = brute_force_fits(D, cap, k)
        assert status == (1 if expect else 0), (seed, k)
        if expect:
            check_assignment(D, cap, k, a)
        else:
            assert a is None


def test_repack_brute_force_covers_both_answers():
    """The fixture above is not trivial: some cases fit and some do not, at every k."""
    seen = set()
    for seed in range(60):
        D, cap = random_items(seed, larger_first=True)
        for k in range(1, 5):
            seen.add((k, brute_force_fits(D, cap, k)))
    assert seen == {(k, b) for k in range(1, 5) for b in (True, False)}


def test_repack_node_budget_and_edges():
    rng = np.random.default_rng(5)
    # 24 shapes of a tight instance: a budget of 1 node gives up (-1), never a wrong answer
    D = rng.integers(1, 9, (24, 1, 6)).astype(np.float32)
    D = np.ascontiguousarray(D[np.argsort(-D.sum(axis=(1, 2)), kind="stable")])
    cap = np.array([float(D.sum(axis=0).max() / 3 + 4)], np.float32)
    status, a, nodes = _core._repack_exact(D, cap, 3, 1)
    assert status in (-1, 0) and a is None and nodes <= 2
    # no shapes: found; no workers: infeasible; a shape above capacity: infeasible
    assert _core._repack_exact(np.zeros((0, 1, 3), np.float32), np.ones(1, np.float32), 2, 10)[0] == 1
    assert _core._repack_exact(np.ones((2, 1, 3), np.float32), np.ones(1, np.float32), 0, 10)[0] == 0
    assert _core._repack_exact(np.full((1, 1, 3), 2, np.float32), np.ones(1, np.float32), 3, 10)[0] == 0
    # identical shapes, exactly full
    status, a, _ = _core._repack_exact(np.ones((6, 2, 4), np.float32), np.full(2, 3, np.float32), 2, 100)
    assert status == 1 and np.bincount(a).tolist() == [3, 3]
    with pytest.raises(ValueError, match="at most 64"):
        _core._repack_exact(np.ones((2, 1, 3), np.float32), np.ones(1, np.float32), 65, 10)
    with pytest.raises(ValueError, match="3-D"):
        _core._repack_exact(np.ones((2, 3), np.float32), np.ones(1, np.float32), 2, 10)
    with pytest.raises(ValueError, match="one value per resource"):
        _core._repack_exact(np.ones((2, 1, 3), np.float32), np.ones(2, np.float32), 2, 10)


@pytest.mark.parametrize("seed", range(16))
def test_search_keeps_plans_feasible_and_never_adds_workers(seed):
    rng = np.random.default_rng(seed)
    D, cap = daily_fleet(seed, int(rng.integers(20, 80)), int(rng.integers(1, 3)), int(rng.choice([24, 48, 96])))
    portfolio = pyshape.pack(D, cap, effort=0)  # the constructions alone
    plans = [pyshape.pack(D, cap, effort=e, n_threads=t) for e in (1, 2) for t in (1, 2)]
    assert portfolio.verify().ok
    for p in plans:
        assert p.verify().ok
        assert p.lower_bound <= p.n_workers <= portfolio.n_workers
        assert np.array_equal(np.sort(np.unique(p.assignment)), np.arange(p.n_workers))
    # deterministic and thread-count independent
    np.testing.assert_array_equal(plans[0].assignment, plans[1].assignment)
    np.testing.assert_array_equal(plans[2].assignment, plans[3].assignment)
    np.testing.assert_array_equal(plans[0].assignment, pyshape.pack(D, cap).assignment)


def test_search_is_identical_sharded_for_any_thread_count():
    D, cap = daily_fleet(99, 400, 2, 24)
    ref = pyshape.pack(D, cap, shard_size=100, n_threads=1)
    assert ref.verify().ok
    for t in (2, 3):
        np.testing.assert_array_equal(pyshape.pack(D, cap, shard_size=100, n_threads=t).assignment, ref.assignment)


@pytest.mark.parametrize("seed", range(4))
def test_search_reaches_brute_force_optimum_with_repack_moves(seed):
    """Tiny instances (n <= 9): 'auto' meets the exact optimum found by the re-pack search itself
    proving k - 1 workers infeasible, and brute force agrees."""
    D, cap = random_items(100 + seed, larger_first=True)
    cap64 = cap.astype(np.float64)
    plan = pyshape.pack(D, cap64)
    assert plan.verify().ok
    k = plan.n_workers
    assert brute_force_fits(D, cap, k)
    if k > 1:
        assert not brute_force_fits(D, cap, k - 1)
        assert _core._repack_exact(D, cap, k - 1, 10**7)[0] == 0


def test_repack_all_small_partitions():
    """Exhaustive on 6 one-step shapes of sizes 1..6 and capacity 7: fits on 3 workers (1+6, 2+5,
    3+4), not on 2 (total 21 > 14)."""
    D = np.arange(6, 0, -1, dtype=np.float32).reshape(6, 1, 1)
    cap = np.array([7], np.float32)
    status, a, _ = _core._repack_exact(D, cap, 3, 1000)
    assert status == 1
    check_assignment(D, cap, 3, a)
    assert sorted(tuple(sorted(D[a == w, 0, 0].tolist())) for w in range(3)) == [(1, 6), (2, 5), (3, 4)]
    assert _core._repack_exact(D, cap, 2, 1000)[0] == 0
