"""pyshape.pack: strategies, Plan measures, verify/replay, risk, headroom and bad input.

Every plan made here passes the independent NumPy check (Plan.verify)."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pyshape
from pyshape.packing import (
    DuplicateIdError,
    InfeasiblePlanError,
    ShapeTooLargeError,
    lower_bound,
)

STRATS = ["complement", "first_fit", "best_fit", "peak"]


def naive_first_fit(D, cap, order):
    """Temporal first-fit in plain NumPy (float32 loads, as the packer sums)."""
    loads, assign = [], np.empty(len(D), np.int64)
    for i in order:
        for w, L in enumerate(loads):
            if np.all(L + D[i] <= cap[:, None]):
                L += D[i]
                assign[i] = w
                break
        else:
            loads.append(D[i].astype(np.float32).copy())
            assign[i] = len(loads) - 1
    return assign, len(loads)


def size_order(D, cap):
    key = (D.max(axis=2) / cap[None, :]).max(axis=1)
    return np.argsort(-key, kind="stable")


def check(plan, n):
    rep = plan.verify()
    assert rep.ok
    a = plan.assignment
    assert a.shape == (n,)
    assert np.array_equal(np.unique(a), np.arange(plan.n_workers))
    assert plan.lower_bound <= plan.n_workers <= n
    assert plan.lower_bound <= plan.peak_workers <= n
    return plan


# --------------------------------------------------------------------------- names
def test_module_is_packing_and_pack_is_the_function():
    import importlib

    import pyshape.packing as packing

    assert pyshape.pack is packing.pack and callable(pyshape.pack)
    assert pyshape.Plan is packing.Plan
    assert pyshape.Placer is importlib.import_module("pyshape.packing.placer").Placer
    with pytest.raises(ModuleNotFoundError):  # no module hides behind the function any more
        importlib.import_module("pyshape.pack")


# --------------------------------------------------------------------------- hand-made
def test_anti_correlated_pair_shares_one_worker_except_with_peak():
    t = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    X = np.stack([1 + np.sin(t), 1 - np.sin(t)]).astype(np.float32)
    cap = float((X[0] + X[1]).max())  # exactly the sum, which is flat at 2
    for s in ("first_fit", "best_fit", "complement"):
        p = check(pyshape.pack(X, cap, s), 2)
        assert p.n_workers == 1, s
    p = check(pyshape.pack(X, cap, "peak"), 2)
    assert p.n_workers == 2 and p.peak_workers == 2


def test_correlated_pair_does_not_share():
    t = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    X = np.stack([1 + np.sin(t), 1 + np.sin(t)])
    for s in STRATS:
        assert check(pyshape.pack(X, 2.5, s), 2).n_workers == 2


def test_complement_prefers_the_valley():
    # worker 0 holds a day shape; the night shape fits on worker 0 or 1 (worker 1 holds
    # a flat shape), but only on worker 0 does it leave the peak unchanged.
    day = np.array([4, 4, 0, 0], np.float32)
    flat = np.array([3, 3, 3, 3], np.float32)
    night = np.array([0, 0, 2, 2], np.float32)
    X = np.stack([day, flat, night])
    p = check(pyshape.pack(X, 6.0, "complement", improve=0), 3)
    assert p.assignment[2] == p.assignment[0]


def test_mixed_day_night_fleet_measures():
    t = np.arange(48)
    day = 1.0 + (t % 24 < 12)
    night = 1.0 + (t % 24 >= 12)
    X = np.stack([day, night] * 6)
    p = check(pyshape.pack(X, 6.0), 12)
    assert (p.n_workers, p.peak_workers, p.lower_bound) == (3, 4, 3)
    assert p.savings == pytest.approx(0.25)
    assert p.utilisation.shape == (1,)
    assert p.utilisation[0] == pytest.approx(X.sum() / (3 * 6.0 * 48))
    L = p.load()
    assert L.shape == (3, 1, 48)
    np.testing.assert_allclose(L.sum(axis=0)[0], X.sum(axis=0))
    np.testing.assert_allclose(p.load(1), L[1])
    assert p.counts.sum() == 12
    assert set(p.members(0).tolist()) <= set(range(12))
    s = p.summary()
    assert s["workers"] == 3 and s["peak_workers"] == 4


def test_lower_bound_function():
    assert lower_bound(np.array([[3.0, 5.0], [1.0, 1.0]]), np.array([2.0, 4.0])) == 3
    assert lower_bound(np.array([[4.0]]), np.array([2.0])) == 2  # exact multiple: no extra worker
    assert lower_bound(np.zeros((1, 3)), np.array([1.0])) == 1


def test_first_fit_matches_naive_reference(rng):
    D = rng.integers(0, 6, size=(60, 2, 17)).astype(np.float32)
    cap = np.array([16.0, 12.0], np.float32)
    p = check(pyshape.pack(D, cap, "first_fit"), 60)
    ref, W = naive_first_fit(D, cap, size_order(D, cap))
    assert p.n_workers == W
    assert np.array_equal(p.assignment, ref)


def test_peak_is_first_fit_on_peaks(rng):
    D = rng.integers(0, 9, size=(40, 2, 10)).astype(np.float32)
    cap = np.array([20.0, 20.0], np.float32)
    p = check(pyshape.pack(D, cap, "peak"), 40)
    P = D.max(axis=2, keepdims=True)
    ref, W = naive_first_fit(P, cap, size_order(D, cap))
    assert p.n_workers == W and np.array_equal(p.assignment, ref)


@pytest.mark.parametrize("T", [1, 3, 7, 8, 9, 31, 33, 97])
def test_plans_identical_at_every_simd_level(simd, T):
    rng = np.random.default_rng(T)
    D = np.minimum(rng.gamma(1.0, 1.0, size=(120, 2, T)), 7.5).astype(np.float32)
    cap = np.array([8.0, 10.0])
    base = {}
    for s in ("first_fit", "best_fit", "complement"):
        p = check(pyshape.pack(D, cap, s), 120)
        base[s] = p.assignment
    pyshape.set_simd_level("scalar")
    try:
        for s, a in base.items():
            assert np.array_equal(pyshape.pack(D, cap, s).assignment, a), s
    finally:
        pyshape.set_simd_level(simd)


def test_structured_fleet_every_strategy():
    from pyshape.synthetic import make_shapes

    X, _ = make_shapes(1500, 96, step_seconds=900, random_state=5)
    cap = float(X.max()) * 4
    res = {}
    for s in STRATS:
        p = check(pyshape.pack(X, cap, s), 1500)
        res[s] = p.n_workers
    assert res["complement"] <= res["first_fit"] < res["peak"]
    p = pyshape.pack(X, cap, "complement", candidates=0, improve=0)
    check(p, 1500)


def test_multi_resource_and_2d_input_agree(rng):
    D = rng.random((50, 1, 12)).astype(np.float32)
    a = pyshape.pack(D, [3.0]).assignment
    b = pyshape.pack(D[:, 0, :], 3.0).assignment
    assert np.array_equal(a, b)


def test_ids_and_threads_do_not_change_the_plan(rng):
    D = rng.random((80, 2, 20)).astype(np.float32)
    ids = np.array([f"vm{i}" for i in range(80)])
    p1 = pyshape.pack(D, [4.0, 5.0], ids=ids, n_threads=1)
    p2 = pyshape.pack(D, [4.0, 5.0], n_threads=2)
    assert np.array_equal(p1.assignment, p2.assignment)
    assert p1.ids[0] == "vm0"


# --------------------------------------------------------------------------- property tests
@st.composite
def instances(draw):
    n = draw(st.integers(1, 14))
    R = draw(st.integers(1, 2))
    T = draw(st.integers(1, 9))
    vals = draw(st.lists(st.integers(0, 8), min_size=n * R * T, max_size=n * R * T))
    D = np.array(vals, np.float32).reshape(n, R, T) / 2
    cap = draw(st.lists(st.integers(4, 12), min_size=R, max_size=R))
    return D, np.array(cap, np.float64) / 2 + 0.0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(), st.sampled_from(STRATS))
def test_property_every_item_once_and_feasible(inst, strategy):
    D, cap = inst
    cap = np.maximum(cap, D.max(axis=(0, 2)))  # every shape fits an empty worker
    p = check(pyshape.pack(D, cap, strategy), D.shape[0])
    assert np.bincount(p.assignment, minlength=p.n_workers).sum() == D.shape[0]


@settings(max_examples=30, deadline=None)
@given(instances(), st.sampled_from([0.1, 0.25, 0.5]))
def test_property_risk_budget_respected(inst, risk):
    D, cap = inst
    cap = np.maximum(cap, D.max(axis=(0, 2)))
    p = pyshape.pack(D, cap, "first_fit", risk=risk)
    rep = p.verify()
    assert rep.ok and (rep.steps_over <= rep.allowed_steps).all()


# --------------------------------------------------------------------------- risk, headroom, replay
def test_risk_budget_lets_rare_overlaps_share():
    a = np.zeros(10, np.float32)
    b = np.zeros(10, np.float32)
    a[:5] = 1.0
    b[4:] = 1.0  # overlap at one step of ten
    X = np.stack([a, b])
    assert pyshape.pack(X, 1.0, "first_fit").n_workers == 2
    p = pyshape.pack(X, 1.0, "first_fit", risk=0.1)
    assert p.n_workers == 1
    rep = p.verify()
    assert rep.ok and rep.steps_over.tolist() == [1] and rep.allowed_steps == 1
    strict = dataclasses.replace(p, risk=0.0)
    with pytest.raises(InfeasiblePlanError, match="over capacity"):
        strict.verify()
    assert not strict.verify(raise_on_error=False).ok
    assert pyshape.pack(X, 1.0, "complement", risk=0.05).n_workers == 2  # floor(0.05*10) = 0


def test_headroom_shrinks_capacity():
    X = np.full((4, 6), 2.0)
    assert pyshape.pack(X, 10.0).n_workers == 1
    p = pyshape.pack(X, 10.0, headroom=0.25)
    assert p.n_workers == 2 and np.allclose(p.effective_capacity, [7.5])
    check(p, 4)
    p = pyshape.pack(np.full((4, 2, 6), 2.0), [10.0, 100.0], headroom=[0.25, 0.0])
    assert p.n_workers == 2


def test_replay_reports_overflow():
    X = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    p = pyshape.pack(X, 1.0)
    assert p.n_workers == 1
    same = p.replay(X)
    assert same.workers_over == 0 and same.overflow_fraction == 0
    Y = np.array([[1.0, 1.0, 0.0, 0.0], [1.0, 0.5, 0.0, 0.0], [1.0, 0.0, 0.0, 0.2]])
    rep = p.replay(Y)
    assert rep.T == 4 and rep.workers_over == 1 and rep.steps_over.tolist() == [2]
    assert rep.max_excess.tolist() == [2.0]
    assert rep.excess_volume.tolist() == [2.5]
    assert rep.overflow_fraction == 0.5
    assert rep.peak_utilisation.tolist() == [3.0]
    with pytest.raises(ValueError, match="other_shapes"):
        p.replay(np.ones((2, 3)))


def test_verify_catches_a_broken_plan(rng):
    D = rng.random((30, 8)).astype(np.float32)
    p = pyshape.pack(D, 2.0, "first_fit")
    assert p.n_workers > 1
    bad = dataclasses.replace(p, assignment=np.zeros(30, np.int64), n_workers=1)
    with pytest.raises(InfeasiblePlanError):
        bad.verify()
    gap = dataclasses.replace(p, n_workers=p.n_workers + 1)
    with pytest.raises(InfeasiblePlanError, match="empty worker"):
        gap.verify()
    out = dataclasses.replace(p, assignment=p.assignment + 5)
    with pytest.raises(InfeasiblePlanError, match="outside"):
        out.verify()


# --------------------------------------------------------------------------- bad input
def test_shape_too_large_lists_every_id():
    X = np.ones((5, 2, 4))
    X[1, 0, 2] = 9.0
    X[3, 1, 0] = 7.0
    with pytest.raises(ShapeTooLargeError, match="2 shape") as ei:
        pyshape.pack(X, [5.0, 5.0], ids=list("abcde"))
    assert ei.value.ids.tolist() == ["b", "d"]
    assert ei.value.rows.tolist() == [1, 3]
    assert isinstance(ei.value, ValueError)
    with pytest.raises(ShapeTooLargeError):  # fits the capacity but not the headroom
        pyshape.pack(np.full((1, 3), 4.5), 5.0, headroom=0.2)


@pytest.mark.parametrize("bad,match", [(np.nan, "NaN"), (np.inf, "NaN or infinite"), (-1.0, "negative")])
def test_bad_values_name_the_row(bad, match):
    X = np.ones((4, 6))
    X[2, 3] = bad
    with pytest.raises(ValueError, match=match) as ei:
        pyshape.pack(X, 10.0, ids=["a", "b", "c", "d"])
    assert "'c'" in str(ei.value)


def test_bad_arguments():
    X = np.ones((3, 2, 4))
    with pytest.raises(ValueError, match="R=2"):
        pyshape.pack(X, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="positive"):
        pyshape.pack(X, [1.0, 0.0])
    with pytest.raises(ValueError, match="empty"):
        pyshape.pack(np.ones((0, 4)), 1.0)
    with pytest.raises(ValueError, match="empty"):
        pyshape.pack(np.ones((3, 0)), 1.0)
    with pytest.raises(ValueError, match="2-D|3-D|\\(n, T\\)"):
        pyshape.pack(np.ones(4), 1.0)
    with pytest.raises(ValueError, match="strategy"):
        pyshape.pack(X, 5.0, "worst_fit")
    with pytest.raises(ValueError, match="risk"):
        pyshape.pack(X, 5.0, risk=1.0)
    with pytest.raises(ValueError, match="risk must be 0"):
        pyshape.pack(X, 5.0, "peak", risk=0.1)
    with pytest.raises(ValueError, match="headroom"):
        pyshape.pack(X, 5.0, headroom=1.0)
    with pytest.raises(DuplicateIdError, match="duplicate"):
        pyshape.pack(X, 5.0, ids=["a", "b", "a"])
    with pytest.raises(ValueError, match="one entry per shape"):
        pyshape.pack(X, 5.0, ids=["a", "b"])
    with pytest.raises(TypeError):
        pyshape.pack(np.array([["a", "b"]]), 5.0)


def test_integer_and_float64_input_accepted():
    X = np.array([[1, 2, 3], [3, 2, 1]], dtype=np.int64)
    p = pyshape.pack(X, 4)
    assert p.n_workers == 1 and p.shapes.dtype == np.float32
    check(p, 2)


# --------------------------------------------------------------------------- Plan.load, members, replay arrays
def loads_reference(D, a, W):
    """Per-worker loads, one worker at a time, in float64."""
    return np.stack([D[a == w].astype(np.float64).sum(axis=0) for w in range(W)])


@pytest.mark.parametrize("n,R,T", [(1, 1, 1), (1, 2, 5), (7, 1, 1), (60, 2, 24), (300, 3, 50)])
def test_load_and_members_match_numpy_reference(rng, n, R, T):
    D = (rng.random((n, R, T)) ** 2).astype(np.float32)
    D[0] = 0.5  # a constant row
    ids = np.array([f"w{i}" for i in range(n)])
    for strategy in ("complement", "first_fit", "peak"):
        p = pyshape.pack(D, np.full(R, 2.0), strategy, ids=ids)
        ref = loads_reference(D, p.assignment, p.n_workers)
        L = p.load()
        assert L.shape == (p.n_workers, R, T) and L.dtype == np.float64
        np.testing.assert_allclose(L, ref, rtol=1e-12, atol=1e-12)
        for w in range(p.n_workers):
            np.testing.assert_allclose(p.load(w), ref[w], rtol=1e-12, atol=1e-12)
            assert p.members(w).tolist() == ids[p.assignment == w].tolist()
        assert sum(len(p.members(w)) for w in range(p.n_workers)) == n


def test_load_index_is_built_once_and_follows_a_new_assignment(rng):
    D = rng.random((40, 2, 12)).astype(np.float32)
    p = pyshape.pack(D, [3.0, 3.0], "first_fit")
    assert p.n_workers > 2
    p.load(0)
    index = p._index
    p.load(1)
    p.members(2)
    p.load()
    assert p._index is index  # one index per plan, not one pass over all shapes per call
    with pytest.raises(ValueError, match="read-only"):
        p.assignment[0] = 1  # in place would go stale: plans from pack are read-only
    other = (p.assignment + 1) % p.n_workers
    q = dataclasses.replace(p, assignment=other)
    np.testing.assert_allclose(q.load(), loads_reference(D, other, p.n_workers), rtol=1e-12)
    p.assignment = other  # a new array: the index is built again
    np.testing.assert_allclose(p.load(0), loads_reference(D, other, p.n_workers)[0], rtol=1e-12)


def test_load_and_members_reject_bad_workers():
    p = pyshape.pack(np.ones((3, 4)), 2.0)
    assert p.n_workers == 2
    for bad in (-1, 2, 10**12):
        with pytest.raises(IndexError, match=r"out of range \[0, 2\)"):
            p.load(bad)
        with pytest.raises(IndexError, match="out of range"):
            p.members(bad)
    for bad in (1.0, True, "0", np.float32(0)):
        with pytest.raises(TypeError, match="worker must be an integer"):
            p.load(bad)
    assert p.load(np.int64(1)).shape == (1, 4)


def replay_reference(D2, a, W, limit):
    """Replay in plain NumPy: loads per worker, over where above limit beyond the float32 allowance."""
    loads = loads_reference(D2, a, W)
    counts = np.bincount(a, minlength=W)
    tol = (counts + 1.0)[:, None, None] * 2.0 ** -23 * limit[None, :, None]
    over = np.zeros((W, D2.shape[2]), bool)
    for w in range(W):
        for r in range(D2.shape[1]):
            over[w] |= loads[w, r] - limit[r] > tol[w, r, 0]
    excess = np.clip(loads - limit[None, :, None], 0.0, None)
    return loads, over, excess


@pytest.mark.parametrize("T2", [1, 7, 30])
@pytest.mark.parametrize("against", ["capacity", "effective"])
def test_replay_arrays_match_numpy_reference(rng, T2, against):
    n, R, T = 80, 2, 24
    D = rng.random((n, R, T)).astype(np.float32)
    cap, head = np.array([4.0, 5.0]), np.array([0.1, 0.0])
    p = pyshape.pack(D, cap, headroom=head)
    D2 = (rng.random((n, R, T2)) * rng.uniform(0.5, 2.0, (n, 1, 1))).astype(np.float32)
    D2[1] = 0.25  # a constant row
    a = p.assignment
    D2[np.flatnonzero(a == 0)[0]] = 10.0  # worker 0 over at every step
    D2[a == p.n_workers - 1] = 0.0  # the last worker idle
    limit = cap if against == "capacity" else cap * (1 - head)
    rep = p.replay(D2, against=against)
    loads, over, excess = replay_reference(D2, p.assignment, p.n_workers, limit)
    assert over.any() and not over.all()  # the data exercise both sides
    assert rep.T == T2
    assert rep.steps_over.dtype == np.int64 and rep.over_per_step.dtype == np.int64
    np.testing.assert_array_equal(rep.steps_over, over.sum(axis=1))
    np.testing.assert_array_equal(rep.over_per_step, over.sum(axis=0))
    assert rep.over_per_step.shape == (T2,) and rep.worker_max_excess.shape == (p.n_workers, R)
    np.testing.assert_allclose(rep.worker_max_excess, excess.max(axis=2), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(rep.max_excess, excess.max(axis=(0, 2)), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(rep.excess_volume, excess.sum(axis=(0, 2)), rtol=1e-12)
    assert rep.workers_over == int(over.any(axis=1).sum())
    assert rep.overflow_fraction == pytest.approx(over.sum() / (p.n_workers * T2), rel=1e-12)
    np.testing.assert_allclose(rep.peak_utilisation, loads.max(axis=(0, 2)) / limit, rtol=1e-12)


def test_replay_within_capacity_has_all_zero_arrays():
    p = pyshape.pack(np.full((5, 1, 3), 1.0), 2.0)
    rep = p.replay(np.full((5, 1, 1), 0.5))
    assert rep.T == 1 and rep.workers_over == 0
    assert rep.over_per_step.tolist() == [0] and rep.steps_over.tolist() == [0] * p.n_workers
    assert not rep.worker_max_excess.any()


def test_size_order_is_numpys_stable_argsort():
    """_core.size_order (pack's placement order, used by pyshape.dask to deal shards): decreasing
    max_r peak / eff in float32, ties in input order, as a stable NumPy argsort."""
    from pyshape import _core

    rng = np.random.default_rng(11)
    for _ in range(40):
        n, R = int(rng.integers(1, 300)), int(rng.integers(1, 4))
        peaks = rng.integers(0, 5, (n, R)).astype(np.float32) * np.float32(0.7)  # many ties
        eff = rng.uniform(1, 3, R).astype(np.float32)
        want = np.argsort(-(peaks / eff[None, :]).max(axis=1), kind="stable")
        assert np.array_equal(_core.size_order(peaks, eff), want)
    with pytest.raises(ValueError, match="one capacity per resource"):
        _core.size_order(np.ones((3, 2), np.float32), np.ones(3, np.float32))
