"""The fixed-k squeeze of 'auto' (src/cpp/pack/squeeze.hpp): a weighted-overflow local search that
puts every shape on one of k workers and moves shapes until none is over capacity.

Checked against brute force on tiny instances (it finds a packing into k workers whenever one
exists, within its budget), on planted instances where the greedy rules need a worker more, for
its budget and determinism; and 'auto' with it for feasibility, never-worse-than-greedy and
thread-count independence.
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
        assert np.all(D[a == w].astype(np.float64).sum(axis=0) <= np.asarray(cap, np.float64)[:, None])


def planted(seed: int, k: int, per: int, T: int):
    """k workers' worth of shapes (per each), each worker filled to within 0-14 of capacity 1000
    at its tightest step, shuffled: k workers suffice by construction."""
    rng = np.random.default_rng(seed)
    parts = []
    for _ in range(k):
        X = rng.integers(0, 100, (per, T)).astype(np.float64) * (rng.random((per, T)) < 0.6)
        X[rng.integers(0, per)] += 300
        target = 1000 - rng.integers(0, 15, T)
        parts.append(np.floor(X * (target / np.maximum(X.sum(axis=0), 1)).min()))
    D = np.concatenate(parts)[rng.permutation(k * per)][:, None, :].astype(np.float32)
    return np.ascontiguousarray(D)


@pytest.mark.parametrize("seed", range(60))
def test_squeeze_finds_every_packing_brute_force_finds(seed):
    D, cap = random_items(seed)
    for k in range(1, 5):
        found, a, work = _core._squeeze(D, cap, k, 10**6)
        assert a.shape == (len(D),) and a.dtype == np.int64
        assert a.min() >= 0 and a.max() < k
        if brute_force_fits(D, cap, k):
            assert found, (seed, k)
            check_assignment(D, cap, k, a)
        else:
            assert not found, (seed, k)  # it never claims a packing that does not exist


def test_squeeze_finds_planted_plans_the_greedy_rules_miss():
    """Planted tight instances on which first_fit and best_fit both use a worker more: the squeeze
    finds the k-worker plan, and 'auto' returns it."""
    seen = 0
    for seed in range(120):
        for k, per, T in ((2, 8, 6), (3, 7, 6), (2, 10, 8)):
            D = planted(seed, k, per, T)
            ff = pyshape.pack(D, 1000.0, "first_fit").n_workers
            bf = pyshape.pack(D, 1000.0, "best_fit").n_workers
            if min(ff, bf) <= k:
                continue
            seen += 1
            found, a, _ = _core._squeeze(D, np.array([1000.0], np.float32), k, 10**7)
            assert found, (seed, k)
            check_assignment(D, np.array([1000.0]), k, a)
            p = pyshape.pack(D, 1000.0)
            assert p.verify().ok and p.n_workers == k, (seed, k)
    assert seen >= 10  # the fixture is not trivial


def test_squeeze_budget_and_determinism():
    D = planted(3, 3, 12, 24)
    cap = np.array([1000.0], np.float32)
    # a budget too small to search: it stops at once, having spent about the setup only
    found, a, work = _core._squeeze(D, cap, 2, 1)
    assert not found and work <= 8 * D.size
    # the budget is respected up to one iteration (a scan of every move of the overflowing shapes)
    n, R, T = D.shape
    for budget in (10**3, 10**4, 10**5):
        found, a, work = _core._squeeze(D, cap, 2, budget)  # 2 < lower bound: never found
        assert not found
        assert work <= budget + 4 * n * n * R * T
    # same inputs and seed, same answer; another seed, still a plan within capacity
    r1 = _core._squeeze(D, cap, 3, 10**7, 5)
    r2 = _core._squeeze(D, cap, 3, 10**7, 5)
    assert r1[0] and r1[0] == r2[0] and np.array_equal(r1[1], r2[1]) and r1[2] == r2[2]
    r3 = _core._squeeze(D, cap, 3, 10**7, 6)
    assert r3[0]
    check_assignment(D, np.array([1000.0]), 3, r3[1])


def test_squeeze_edges_and_errors():
    cap = np.ones(1, np.float32)
    assert _core._squeeze(np.zeros((0, 1, 3), np.float32), cap, 2, 10)[0]
    found, a, _ = _core._squeeze(np.full((3, 1, 2), 0.5, np.float32), cap, 1, 100)
    assert not found and a.tolist() == [0, 0, 0]  # one worker, over capacity: nothing to move
    found, a, _ = _core._squeeze(np.full((4, 1, 2), 0.5, np.float32), cap, 2, 100)
    assert found and np.bincount(a).tolist() == [2, 2]  # exactly full
    with pytest.raises(ValueError, match="at least 1"):
        _core._squeeze(np.ones((2, 1, 3), np.float32), cap, 0, 10)
    with pytest.raises(ValueError, match="3-D"):
        _core._squeeze(np.ones((2, 3), np.float32), cap, 2, 10)
    with pytest.raises(ValueError, match="one value per resource"):
        _core._squeeze(np.ones((2, 1, 3), np.float32), np.ones(2, np.float32), 2, 10)
    with pytest.raises(ValueError, match="positive"):
        _core._squeeze(np.ones((2, 1, 3), np.float32), np.zeros(1, np.float32), 2, 10)


@pytest.mark.parametrize("seed", range(12))
def test_auto_with_the_squeeze_is_feasible_never_worse_and_thread_independent(seed):
    rng = np.random.default_rng(100 + seed)
    D, cap = daily_fleet(100 + seed, int(rng.integers(20, 70)), int(rng.integers(1, 3)),
                         int(rng.choice([24, 48])))
    plans = [pyshape.pack(D, cap, n_threads=t) for t in (1, 2)]
    ff = pyshape.pack(D, cap, "first_fit").n_workers
    bf = pyshape.pack(D, cap, "best_fit").n_workers
    for p in plans:
        assert p.verify().ok
        assert p.n_workers <= min(ff, bf)
        assert sorted(np.unique(p.assignment).tolist()) == list(range(p.n_workers))  # every worker used
    assert np.array_equal(plans[0].assignment, plans[1].assignment)
