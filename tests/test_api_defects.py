"""Hardening (issue 9): the risk-aware lower bound, Plan copies, argument checks
that refuse instead of coercing, and one vocabulary across the API."""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest

import pyshape
from pyshape.packing import DuplicateIdError, lower_bound


# --------------------------------------------------------------------------- lower bound with risk
def _partitions(n):
    """Every set partition of range(n), as a block label per item (restricted growth strings)."""
    def rec(i, labels, m):
        if i == n:
            yield list(labels)
            return
        for b in range(m + 1):
            labels.append(b)
            yield from rec(i + 1, labels, max(m, b + 1))
            labels.pop()
    yield from rec(0, [], 0)


def _optimum(D, cap, k):
    """Fewest workers of any assignment with every worker over capacity in at most k steps (float64, exact)."""
    best = None
    for labels in _partitions(len(D)):
        W = max(labels) + 1
        if best is not None and W >= best:
            continue
        loads = np.zeros((W,) + D.shape[1:])
        np.add.at(loads, np.asarray(labels), D)
        over = (loads > cap[None, :, None]).any(axis=1).sum(axis=1)
        if (over <= k).all():
            best = W
    return best


def _old_bound(total, cap):
    return max(1, math.ceil((total.max(axis=1) / cap).max() * (1 - 4 * 2.0**-24)))


def test_lower_bound_with_risk_the_reported_case():
    # 4 shapes that all peak at the same step: with one step over allowed they share one worker
    D = np.full((4, 1, 10), 0.1)
    D[:, 0, 3] = 1.0
    plan = pyshape.pack(D, 1.0, risk=0.1)
    assert plan.n_workers == 1 and plan.verify().ok
    assert plan.lower_bound == 1
    assert pyshape.pack(D, 1.0).lower_bound == 4  # no risk: the peak step needs 4


def test_lower_bound_never_exceeds_the_brute_force_optimum():
    rng = np.random.default_rng(20269)
    n_cases = tight = old_wrong = 0
    for case in range(300):
        n = int(rng.integers(1, 7))
        R = int(rng.integers(1, 3))
        T = int(rng.integers(2, 11))
        D = rng.integers(0, 5, size=(n, R, T)).astype(np.float64)
        if rng.random() < 0.5:  # spikes: where risk matters
            D[:, :, rng.integers(0, T)] += rng.integers(0, 6, size=(n, R))
        cap = rng.integers(4, 9, size=R).astype(np.float64)
        risk = float(rng.choice([0.0, 0.1, 0.2, 0.25, 0.34, 0.5, 0.9]))
        k = math.floor(risk * T + 1e-9)
        opt = _optimum(D, cap, k)
        if opt is None:  # some shape alone is over capacity at more than k steps: no plan at all
            continue
        lb = lower_bound(D.sum(axis=0), cap, risk)
        assert 1 <= lb <= opt, (case, n, R, T, risk, lb, opt)
        if risk == 0:
            assert lb == _old_bound(D.sum(axis=0), cap)
        n_cases += 1
        tight += lb == opt
        old_wrong += _old_bound(D.sum(axis=0), cap) > opt
    assert n_cases > 200 and tight > n_cases // 2, (n_cases, tight)  # valid, and not trivially 1
    assert old_wrong > 50  # the risk-blind bound was above the optimum in these cases


def test_lower_bound_equals_the_old_bound_without_risk():
    rng = np.random.default_rng(5)
    for _ in range(50):
        total = rng.random((3, 40)) * rng.integers(1, 100)
        cap = rng.random(3) + 0.1
        assert lower_bound(total, cap) == lower_bound(total, cap, 0.0) == _old_bound(total, cap)
    # a risk smaller than one step is no risk
    assert lower_bound(np.array([[5.0, 1.0]]), np.array([1.0]), 0.4) == 5


def test_lower_bound_counts_steps_over_per_worker():
    # m = [8, 8, 8, 1, ...]: W workers hide at most W * k steps above W
    total = np.array([[8.0, 8.0, 8.0] + [1.0] * 7])
    cap = np.array([1.0])
    assert lower_bound(total, cap, 0.0) == 8
    assert lower_bound(total, cap, 0.1) == 3  # k = 1: 3 steps above W need W >= 3
    assert lower_bound(total, cap, 0.3) == 1  # k = 3


def test_pack_with_risk_is_at_least_its_lower_bound():
    rng = np.random.default_rng(11)
    for risk in (0.0, 0.05, 0.2):
        D = rng.random((40, 2, 30)).astype(np.float32)
        D[:, :, 7] += 2 * rng.random((40, 2)).astype(np.float32)
        plan = pyshape.pack(D, 6.0, risk=risk)
        assert plan.verify().ok
        assert plan.lower_bound == lower_bound(D.sum(axis=0, dtype=np.float64), plan.effective_capacity, risk)
        assert plan.lower_bound <= plan.n_workers


def test_lower_bound_checks_its_arguments():
    with pytest.raises(ValueError, match="risk"):
        lower_bound(np.ones((1, 3)), np.ones(1), 1.0)
    with pytest.raises(ValueError, match="capacity"):
        lower_bound(np.ones((2, 3)), np.ones(1))


# --------------------------------------------------------------------------- Plan copies
def _plan():
    rng = np.random.default_rng(3)
    D = rng.random((30, 2, 12)).astype(np.float32)
    return D, pyshape.pack(D, [3.0, 3.0], "first_fit")


def _loads(D, a, W):
    out = np.zeros((W,) + D.shape[1:])
    np.add.at(out, a, D.astype(np.float64))
    return out


@pytest.mark.parametrize("how", ["copy", "deepcopy", "pickle"])
def test_plan_copies_are_read_only_and_consistent(how):
    import pickle

    D, p = _plan()
    assert p.n_workers > 2
    p.load(0)  # the original has built its index
    q = {"copy": copy.copy, "deepcopy": copy.deepcopy,
         "pickle": lambda x: pickle.loads(pickle.dumps(x))}[how](p)
    assert q is not p and q.n_workers == p.n_workers
    assert not q.assignment.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        q.assignment[0] = 1
    np.testing.assert_array_equal(q.assignment, p.assignment)
    if how != "copy":
        assert not np.shares_memory(q.assignment, p.assignment)
    for w in range(q.n_workers):
        np.testing.assert_array_equal(q.members(w), p.members(w))
    np.testing.assert_allclose(q.load(), _loads(D, p.assignment, p.n_workers), rtol=1e-12)
    # a new assignment on the copy: its index follows, the original's does not move
    other = (np.asarray(q.assignment) + 1) % q.n_workers
    q.assignment = other
    np.testing.assert_allclose(q.load(1), _loads(D, other, q.n_workers)[1], rtol=1e-12)
    np.testing.assert_allclose(p.load(1), _loads(D, p.assignment, p.n_workers)[1], rtol=1e-12)
    assert q.verify(raise_on_error=False).ok in (True, False)


def test_a_plan_keeps_a_read_only_copy_of_a_writeable_assignment():
    import dataclasses

    D, p = _plan()
    a = np.array(p.assignment)  # writeable
    q = dataclasses.replace(p, assignment=a)
    assert not q.assignment.flags.writeable and not np.shares_memory(q.assignment, a)
    members = [q.members(w).tolist() for w in range(q.n_workers)]
    a[:] = 0  # the caller's array changes: the plan does not, nor its index
    assert [q.members(w).tolist() for w in range(q.n_workers)] == members
    np.testing.assert_allclose(q.load(), _loads(D, p.assignment, p.n_workers), rtol=1e-12)
    # a read-only view of a writeable array could still change: copied too
    v = a[:]
    v.flags.writeable = False
    assert not np.shares_memory(dataclasses.replace(p, assignment=v).assignment, a)
    # the array from pack is kept as it is (no copy)
    assert dataclasses.replace(p, risk=0.0).assignment is p.assignment


# --------------------------------------------------------------------------- argument checks
X4 = np.abs(np.sin(np.arange(40.0) / 3)).reshape(4, 10) + 0.1


@pytest.mark.parametrize("kw, err, msg", [
    (dict(candidates=2.5), TypeError, "candidates must be an integer"),
    (dict(candidates=True), TypeError, "candidates must be an integer"),
    (dict(improve=1.0), TypeError, "improve must be an integer"),
    (dict(shard_size="8"), TypeError, "shard_size must be an integer"),
    (dict(candidates=2**70), ValueError, r"candidates must be at most 2147483647"),
    (dict(improve=2**31), ValueError, r"improve must be at most 2147483647"),
    (dict(shard_size=2**64), ValueError, r"shard_size must be at most 9223372036854775807"),
    (dict(candidates=-1), ValueError, "candidates must be at least 0"),
    (dict(n_threads=2**64), ValueError, "n_threads must be at most 2147483647"),
    (dict(n_threads=2.0), TypeError, "n_threads must be an integer"),
    (dict(risk=True), TypeError, "risk must be a real number"),
    (dict(risk="0.1"), TypeError, "risk must be a real number"),
    (dict(risk=float("nan")), ValueError, r"risk must be in \[0, 1\)"),
    (dict(risk=1.0), ValueError, r"risk must be in \[0, 1\)"),
    (dict(progress="x"), TypeError, "progress must be True, False, None or a callable"),
    (dict(progress=1), TypeError, "progress must be"),
    (dict(capacity=1e-50), ValueError, "capacity must be within the float32 range"),
    (dict(capacity=[1e39]), ValueError, "capacity must be within the float32 range"),
    (dict(capacity=1e-37, headroom=0.9999), ValueError, "effective capacity .* below the float32 range"),
    (dict(capacity="2"), TypeError, "capacity must hold real numbers"),
    (dict(capacity=True), TypeError, "capacity must be a number or numbers, got bool"),
    (dict(headroom=False), TypeError, "headroom must be a number or numbers, got bool"),
    (dict(headroom="0.1"), TypeError, "headroom must hold real numbers"),
])
def test_pack_refuses_bad_arguments_clearly(kw, err, msg):
    kw = {"capacity": 2.0, **kw}
    with pytest.raises(err, match=msg):
        pyshape.pack(X4, **kw)
    if "progress" in kw:  # also where no progress bar would run
        with pytest.raises(err, match=msg):
            pyshape.pack(X4, strategy="peak", **kw)


def test_pack_still_accepts_numpy_integers_and_floats():
    p = pyshape.pack(X4, np.float32(2.0), candidates=np.int64(4), improve=np.int32(1), shard_size=np.uint64(0),
                     risk=np.float64(0.1), n_threads=np.int8(1), progress=np.bool_(False))
    assert p.verify().ok and p.risk == pytest.approx(0.1)


def test_pack_ids_are_compared_as_python_objects():
    p = pyshape.pack(X4[:2], 2.0, ids=[1, "1"])
    assert p.ids.dtype == object and p.ids.tolist() == [1, "1"]
    assert sorted(map(repr, np.concatenate([p.members(w) for w in range(p.n_workers)]).tolist())) == ["'1'", "1"]
    with pytest.raises(DuplicateIdError, match="1 duplicate id"):
        pyshape.pack(X4[:3], 2.0, ids=[1, "1", 1])
    with pytest.raises(DuplicateIdError):
        pyshape.pack(X4[:2], 2.0, ids=["a", "a"])
    with pytest.raises(TypeError, match="hashable"):
        pyshape.pack(X4[:2], 2.0, ids=[{1}, "a"])
    assert pyshape.pack(X4[:2], 2.0, ids=["a", "b"]).ids.dtype.kind == "U"  # plain strings stay strings
    assert pyshape.pack(X4[:2], 2.0, ids=[3, 4]).ids.dtype.kind == "i"


@pytest.mark.parametrize("func", ["pearson", "top_partners", "lagged_correlation", "sbd"])
def test_correlation_refuses_a_bad_progress(func):
    with pytest.raises(TypeError, match="progress must be"):
        getattr(pyshape, func)(X4, progress="x")


@pytest.mark.parametrize("rank, err, msg", [
    (True, TypeError, "rank must be an integer"),
    (2.0, TypeError, "rank must be an integer"),
    (0, ValueError, "rank must be at least 1"),
    (10, ValueError, "rank must be at most 9"),
    (2**70, ValueError, "rank must be at most 9"),
])
def test_top_partners_refuses_a_bad_rank(rank, err, msg):
    with pytest.raises(err, match=msg):
        pyshape.top_partners(X4, 1, method="pruned", rank=rank)


def test_huge_integers_get_clear_messages_in_correlation():
    with pytest.raises(ValueError, match="max_lag must be at most 9"):
        pyshape.lagged_correlation(X4, max_lag=2**64)
    with pytest.raises(ValueError, match="k=.* is larger"):
        pyshape.top_partners(X4, 2**70)
    with pytest.raises(ValueError, match="n_threads must be at most"):
        pyshape.znorm(X4, n_threads=2**40)


def test_forecast_flags_and_quantile_are_checked():
    from pyshape.forecast import ColdStart, PeriodQuantile, mae, peak_error

    a = np.ones((2, 4))
    with pytest.raises(TypeError, match="per_resource must be True or False"):
        mae(a, a, per_resource="no")
    with pytest.raises(TypeError, match="relative must be True or False"):
        peak_error(a, a, relative=1)
    with pytest.raises(TypeError, match="shrink must be True or False"):
        ColdStart(shrink="no")
    with pytest.raises(TypeError, match="q must be a real number"):
        PeriodQuantile(q=True)
    with pytest.raises(ValueError, match=r"q must be in \[0, 1\]"):
        PeriodQuantile(q=float("inf"))


def test_plan_verify_flag_is_checked():
    p = pyshape.pack(X4, 2.0)
    with pytest.raises(TypeError, match="raise_on_error must be True or False"):
        p.verify(raise_on_error="no")


# --------------------------------------------------------------------------- one source for defaults
def test_pack_passes_every_option_to_the_binding(monkeypatch):
    from pyshape import _core
    from pyshape.packing._checks import DEFAULT_CANDIDATES, DEFAULT_EFFORT, DEFAULT_IMPROVE, DEFAULT_SHARD_SIZE

    calls = []
    real = _core.pack_plan  # the C++ policy: peak baseline and plan in one call (src/cpp/pack/policy.hpp)

    def spy(*args, **kwargs):
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(_core, "pack_plan", spy)
    pyshape.pack(X4, 2.0)
    options = {"risk", "candidates", "improve", "shard_size", "n_threads", "progress", "effort"}
    assert len(calls) == 1
    args, kw = calls[0]
    assert len(args) == 4 and set(kw) == options  # none left to the binding's own defaults
    assert (kw["candidates"], kw["improve"], kw["shard_size"], kw["effort"]) == (
        DEFAULT_CANDIDATES, DEFAULT_IMPROVE, DEFAULT_SHARD_SIZE, DEFAULT_EFFORT)


# --------------------------------------------------------------------------- one vocabulary: random_state
def test_synthetic_takes_random_state_and_the_old_seed_with_a_warning():
    from pyshape.synthetic import iter_shapes, make_shapes, white_noise

    X, lab = make_shapes(50, 48, step_seconds=1800, random_state=3)
    with pytest.warns(FutureWarning, match="seed= is renamed random_state="):
        Y, lab2 = make_shapes(50, 48, step_seconds=1800, seed=3)
    np.testing.assert_array_equal(X, Y)
    np.testing.assert_array_equal(lab, lab2)
    with pytest.warns(FutureWarning):
        parts = [x for _, x, _ in iter_shapes(50, 48, step_seconds=1800, chunk_size=20, seed=3)]
    np.testing.assert_array_equal(np.concatenate(parts), X)
    W = white_noise(5, 8, random_state=2)
    np.testing.assert_array_equal(white_noise(5, 8, 2), W)  # still the third positional argument
    with pytest.warns(FutureWarning):
        np.testing.assert_array_equal(white_noise(5, 8, seed=2), W)
    with pytest.raises(TypeError, match="not both"):
        make_shapes(5, 48, step_seconds=1800, random_state=1, seed=2)


def test_synthetic_random_state_accepts_generators():
    from pyshape.synthetic import make_shapes, white_noise

    a = white_noise(4, 8, random_state=np.random.default_rng(7))
    b = white_noise(4, 8, random_state=np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)  # a seeded generator: reproducible
    g = np.random.default_rng(7)
    assert not np.array_equal(white_noise(4, 8, random_state=g), white_noise(4, 8, random_state=g))  # it advances
    assert make_shapes(3, 48, step_seconds=1800, random_state=np.random.RandomState(1))[0].shape == (3, 48)
    assert white_noise(2, 4, random_state=None).shape == (2, 4)
    for bad in (1.5, "1", True):
        with pytest.raises(TypeError, match="random_state must be a non-negative integer, a numpy Generator"):
            white_noise(2, 4, random_state=bad)
    with pytest.raises(ValueError, match="random_state must be at least 0"):
        make_shapes(2, 48, step_seconds=1800, random_state=-1)


# --------------------------------------------------------------------------- one vocabulary: (actual, pred)
def test_forecast_errors_take_actual_first_like_scikit_learn():
    from pyshape.forecast import mae, peak_error

    actual = np.array([[4.0, 2.0]])
    pred = np.array([[1.0, 5.0]])
    assert peak_error(actual, pred).tolist() == [1.0]  # max(pred) - max(actual): over-provisioned
    assert peak_error(pred=pred, actual=actual).tolist() == [1.0]  # keywords mean the same in any order
    assert mae(actual, pred, relative=True).tolist() == [1.0]  # 3 / mean(actual) = 3 / 3
    assert mae(pred=pred, actual=actual, relative=True).tolist() == [1.0]
    with pytest.raises(ValueError, match="actual and pred must have the same shape"):
        mae(actual, pred[:, :1])
    import inspect

    from pyshape.plot import plot_forecast
    for f in (mae, peak_error, plot_forecast):
        assert next(iter(inspect.signature(f).parameters)) == "actual"
