"""Heterogeneous fleets (worker types with a capacity and a cost each) and Plan.verify decided in C++.

References: NumPy for verify (the check Plan.verify made in Python before it moved to C++) and for
the cost lower bound; brute force over every partition of tiny instances for the optimal cost.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import pyshape
from pyshape.packing import InfeasiblePlanError, Plan, ShapeTooLargeError, WorkerTypes, cost_lower_bound
from pyshape.packing._verify import F32_UNIT, worker_loads

STRATEGIES = ["auto", "complement", "first_fit", "best_fit", "peak"]


def _shapes(rng, n, R, T, scale=1.0):
    t = np.arange(T)
    phase = rng.uniform(0, 2 * np.pi, size=(n, R, 1))
    D = rng.uniform(0.3, 2.0, size=(n, R, 1)) * (1.1 + np.sin(2 * np.pi * t / T + phase))
    return (scale * (D + rng.uniform(0, 0.3, size=(n, R, T)))).astype(np.float32)


# --------------------------------------------------------------------------- one type = today's plan

@pytest.mark.parametrize("strategy", STRATEGIES)
def test_single_type_is_bitwise_the_one_capacity_plan(rng, strategy):
    D = _shapes(rng, 400, 2, 48)
    cases = [dict(), dict(headroom=[0.1, 0.2]), dict(shard_size=64, improve=1)]
    if strategy != "peak":
        cases.append(dict(risk=0.05, candidates=3))
    for kw in cases:
        a = pyshape.pack(D, [9.0, 12.0], strategy, **kw)
        b = pyshape.pack(D, WorkerTypes(["only"], [[9.0, 12.0]], [2.5]), strategy, **kw)
        assert np.array_equal(a.assignment, b.assignment), kw
        assert (a.n_workers, a.lower_bound, a.peak_workers) == (b.n_workers, b.lower_bound, b.peak_workers)
        assert b.worker_type.tolist() == [0] * b.n_workers and b.type_counts == {"only": b.n_workers}
        assert b.cost == 2.5 * a.n_workers and b.peak_cost == 2.5 * a.peak_workers
        assert b.cost_lower_bound >= 2.5 * a.lower_bound
        assert a.cost == a.n_workers and a.types is None and a.type_counts == {"worker": a.n_workers}


# --------------------------------------------------------------------------- typed plans

TYPES = WorkerTypes(["small", "medium", "large"], [[4.0, 6.0], [8.0, 12.0], [16.0, 24.0]], [1.0, 1.9, 3.5])


def _loads_fit(load, eff, allowed):
    """load (R, T) float64 within eff (R,) at all but `allowed` steps, exactly."""
    return int((load > eff[:, None]).any(axis=0).sum()) <= allowed


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("risk", [0.0, 0.05])
def test_typed_plan_is_feasible_cheapest_per_worker_and_no_worse_than_one_type(rng, strategy, risk):
    if strategy == "peak" and risk:
        pytest.skip("peak reserves peaks")
    D = _shapes(rng, 300, 2, 48)
    head = np.array([0.05, 0.0])
    plan = pyshape.pack(D, TYPES, strategy, headroom=head, risk=risk)
    assert plan.verify().ok
    assert plan.worker_type.shape == (plan.n_workers,) and not plan.worker_type.flags.writeable
    eff = TYPES.capacity * (1.0 - head)
    # 'peak' reserves peaks: its workers are sized for the sum of their shapes' peaks
    loads = worker_loads(D.max(axis=2, keepdims=True) if strategy == "peak" else D, plan.assignment, plan.n_workers)
    allowed = math.floor(risk * D.shape[2] + 1e-9)
    for w in range(plan.n_workers):
        t = int(plan.worker_type[w])
        for u in range(TYPES.n_types):  # downsized: no cheaper type holds the final load
            if TYPES.cost[u] < TYPES.cost[t]:
                assert not _loads_fit(loads[w], eff[u], allowed), (w, t, u)
    assert plan.cost == pytest.approx(float(TYPES.cost[plan.worker_type].sum()), rel=1e-15)
    assert plan.cost >= plan.cost_lower_bound > 0
    assert sum(plan.type_counts.values()) == plan.n_workers
    # never dearer than the same engine on one type (each is one of the candidates)
    compared = 0
    for t in range(TYPES.n_types):
        try:
            one = pyshape.pack(D, TYPES.capacity[t], strategy, headroom=head, risk=risk)
        except ShapeTooLargeError:
            continue  # not a candidate: some shape does not fit this type
        assert plan.cost <= TYPES.cost[t] * one.n_workers + 1e-9
        compared += 1
    assert compared >= 2
    assert plan.n_workers >= plan.lower_bound


def test_mixed_types_help_when_no_single_type_is_cheapest(rng):
    """Large shapes need the big type; many small ones are cheaper on small workers."""
    T = 24
    big = np.full((3, 1, T), 9.0, np.float32)
    small = rng.uniform(0.5, 1.0, size=(30, 1, T)).astype(np.float32)
    D = np.concatenate([big, small])
    types = WorkerTypes(["small", "big"], [4.0, 10.0], [1.0, 5.0])  # big: 0.5 per unit, small 0.25
    plan = pyshape.pack(D, types)
    assert plan.verify().ok
    assert plan.type_counts["big"] == 3 and plan.type_counts["small"] >= 1
    only_big = pyshape.pack(D, 10.0)
    assert plan.cost < 5.0 * only_big.n_workers
    assert plan.summary()["types"] == plan.type_counts


def test_typed_replay_checks_each_worker_against_its_type(rng):
    D = _shapes(rng, 120, 2, 24)
    plan = pyshape.pack(D, TYPES)
    rep = plan.replay(D)
    assert rep.workers_over == 0 and rep.overflow_fraction == 0
    assert (rep.peak_utilisation <= 1 + 1e-6).all()
    rep2 = plan.replay(D * np.float32(1.5))
    cap = plan.worker_capacity
    loads = worker_loads(D * np.float32(1.5), plan.assignment, plan.n_workers)
    want = np.maximum((loads - cap[:, :, None]).max(axis=2), 0.0)
    assert np.array_equal(rep2.worker_max_excess, want)


def test_dataframe_table(rng):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"cpu": [4.0, 16.0], "mem": [6.0, 24.0], "cost": [1.0, 3.5]}, index=["s", "l"])
    wt = WorkerTypes.from_frame(df)
    assert wt.names == ("s", "l") and wt.capacity.tolist() == [[4.0, 6.0], [16.0, 24.0]]
    D = _shapes(rng, 60, 2, 24)
    a = pyshape.pack(D, df)
    b = pyshape.pack(D, wt)
    assert np.array_equal(a.assignment, b.assignment) and a.types == wt
    named = pd.DataFrame({"name": ["x", "y"], "cpu": [4.0, 16.0], "mem": [6.0, 24.0], "cost": [1.0, 3.5]})
    assert WorkerTypes.from_frame(named, name="name").names == ("x", "y")


# --------------------------------------------------------------------------- bad input

def test_bad_worker_types():
    with pytest.raises(ValueError, match="cost must be positive"):
        WorkerTypes(["a", "b"], [[1.0], [2.0]], [1.0, -1.0])
    with pytest.raises(ValueError, match="cost must be positive"):
        WorkerTypes(["a"], [[1.0]], [0.0])
    with pytest.raises(ValueError, match="cost must be positive"):
        WorkerTypes(["a"], [[1.0]], [np.nan])
    with pytest.raises(ValueError, match="'b'.*capacity must be positive"):
        WorkerTypes(["a", "b"], [[1.0, 1.0], [2.0, -2.0]], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"\(n_types, R\)"):
        WorkerTypes(["a", "b"], [[1.0, 1.0]], [1.0, 2.0])
    with pytest.raises(ValueError, match="one value per type"):
        WorkerTypes(["a", "b"], [[1.0], [2.0]], [1.0])
    with pytest.raises(ValueError, match="unique"):
        WorkerTypes(["a", "a"], [[1.0], [2.0]], [1.0, 2.0])
    with pytest.raises(ValueError, match="at least one"):
        WorkerTypes([], np.zeros((0, 1)), [])
    with pytest.raises(TypeError):
        WorkerTypes(["a"], [["x"]], [1.0])
    with pytest.raises(TypeError, match="names"):
        WorkerTypes([1], [[1.0]], [1.0])


def test_pack_refuses_a_table_of_other_resources_and_names_shapes_that_fit_no_type(rng):
    D = _shapes(rng, 10, 2, 12)
    with pytest.raises(ValueError, match="1 resource.*R=2"):
        pyshape.pack(D, WorkerTypes(["a"], [5.0], [1.0]))
    X = np.ones((4, 1, 6), np.float32)
    X[2] *= 7.0
    with pytest.raises(ShapeTooLargeError, match=r"fit no worker type.*small.*large.*ids 'vm-2'") as e:
        pyshape.pack(X, WorkerTypes(["small", "large"], [2.0, 5.0], [1.0, 2.0]), ids=["vm-0", "vm-1", "vm-2", "vm-3"])
    assert e.value.ids.tolist() == ["vm-2"]
    # a shape that fits only the large type is placed there
    plan = pyshape.pack(X, WorkerTypes(["small", "large"], [2.0, 7.0], [1.0, 2.0]))
    assert plan.worker_type[plan.assignment[2]] == 1 and plan.verify().ok


# --------------------------------------------------------------------------- the cost lower bound

def _cost_lb_numpy(total, cap, cost, risk, peaks=None):
    """cost_lower_bound by its definition, with a scan over every candidate C (reference)."""
    R, T = total.shape
    k = math.floor(risk * T + 1e-9)
    from scipy.optimize import linprog

    # the cheapest fractional fleet covering each step, by an LP solver (max y.d, y.cap_t <= cost_t, y >= 0)
    m = np.array([-linprog(-total[:, s], A_ub=cap, b_ub=cost, bounds=(0, None), method="highs").fun
                  for s in range(T)]) * (1 - 4 * 2.0 ** -23)
    cmin = cost.min()
    if k == 0:
        vol = m.max()
    else:
        cands = sorted(set(m.tolist()) | {j * cmin for j in range(int(math.ceil(m.max() / cmin)) + 1)})
        vol = next(C for C in cands if (m > C).sum() <= math.floor(C / cmin) * k)
    wl = pyshape.packing.lower_bound(total, cap.max(axis=0), risk)
    lb = max(vol, cmin * wl)
    if k == 0 and peaks is not None:
        for p in peaks:
            holds = (p[None, :] <= cap).all(axis=1)
            if holds.any():
                lb = max(lb, cost[holds].min())
    return lb


def test_cost_lower_bound_matches_numpy_reference(rng):
    for _ in range(120):
        R, T, nt = int(rng.integers(1, 4)), int(rng.integers(1, 40)), int(rng.integers(1, 6))
        total = rng.uniform(0, 40, size=(R, T)) ** rng.uniform(0.5, 2)
        cap = rng.uniform(1, 10, size=(nt, R))
        cost = rng.uniform(0.5, 4, size=nt)
        risk = float(rng.choice([0.0, 0.02, 0.1, 0.4]))
        peaks = rng.uniform(0, 8, size=(5, R)).astype(np.float32)
        types = WorkerTypes([f"t{i}" for i in range(nt)], cap, cost)
        got = cost_lower_bound(total, types, risk, peaks)
        want = _cost_lb_numpy(total, cap, cost, risk, peaks.astype(np.float64))
        assert got == pytest.approx(want, rel=1e-9, abs=1e-12), (R, T, nt, risk)
        assert got <= want * (1 + 1e-9) + 1e-12  # never above the exact LP's (it must stay a bound)
    with pytest.raises(ValueError, match="R=2"):
        cost_lower_bound(np.ones((1, 3)), TYPES)
    with pytest.raises(ValueError, match="finite"):
        cost_lower_bound(np.full((2, 3), np.nan), TYPES)
    with pytest.raises(TypeError):
        cost_lower_bound(np.ones((2, 3)), [[1.0, 2.0]])  # type: ignore[arg-type]


def _partitions(items):
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for p in _partitions(rest):
        yield [[first]] + p
        for i in range(len(p)):
            yield p[:i] + [[first] + p[i]] + p[i + 1:]


def _brute_force_cost(D, cap, cost, risk):
    """The optimal cost: every partition of the shapes, each block on its cheapest type that holds it."""
    n, R, T = D.shape
    k = math.floor(risk * T + 1e-9)
    D64 = D.astype(np.float64)
    block_cost = {}
    best = math.inf
    for part in _partitions(list(range(n))):
        c = 0.0
        for b in part:
            key = tuple(b)
            if key not in block_cost:
                load = D64[list(b)].sum(axis=0)
                fits = [(load > cap[t][:, None]).any(axis=0).sum() <= k for t in range(len(cost))]
                block_cost[key] = min((cost[t] for t in range(len(cost)) if fits[t]), default=math.inf)
            c += block_cost[key]
            if c >= best:
                break
        best = min(best, c)
    return best


@pytest.mark.parametrize("seed", range(12))
def test_tiny_instances_bound_below_the_brute_force_optimum_and_plan_above(seed):
    rng = np.random.default_rng(1000 + seed)
    n, R, T = int(rng.integers(3, 7)), int(rng.integers(1, 3)), int(rng.integers(2, 9))
    D = rng.uniform(0, 3, size=(n, R, T)).astype(np.float32)
    nt = int(rng.integers(1, 4))
    cap = np.maximum(rng.uniform(2, 8, size=(nt, R)), D.max(axis=(0, 2))[None, :])  # every shape fits some type
    cost = np.round(rng.uniform(0.5, 3, size=nt), 3)
    types = WorkerTypes([f"t{i}" for i in range(nt)], cap, cost)
    for risk in (0.0, 0.3):
        opt = _brute_force_cost(D, cap, cost, risk)
        plan = pyshape.pack(D, types, risk=risk)
        assert plan.verify().ok
        assert plan.cost_lower_bound <= opt + 1e-9 <= plan.cost + 2e-9, (risk, plan.cost_lower_bound, opt, plan.cost)
        assert cost_lower_bound(D.sum(axis=0, dtype=np.float64), types, risk) <= opt + 1e-9


# --------------------------------------------------------------------------- Plan.verify in C++ vs NumPy

def _verify_numpy(D, a, W, limit, risk):
    """Plan.verify's decision as NumPy made it before it moved to C++: (ok, steps_over, max_excess, message)."""
    n, R, T = D.shape
    problems = []
    if n and (a.min() < 0 or a.max() >= W):
        problems.append(f"assignment outside [0, {W})")
        a = np.clip(a, 0, max(W - 1, 0))
    counts = np.bincount(a, minlength=W)
    if (counts == 0).any():
        problems.append(f"{int((counts == 0).sum())} empty worker(s)")
    loads = worker_loads(D, a, W)
    lim = limit[:, :, None]
    tol = (counts[:, None, None] + 1.0) * F32_UNIT * lim
    over = ((loads - lim) > tol).any(axis=1).sum(axis=1)
    excess = np.maximum((loads - lim).max(axis=(0, 2)), 0.0)
    allowed = int(math.floor(risk * T + 1e-9))
    bad = np.flatnonzero(over > allowed)
    if bad.size:
        problems.append(f"{bad.size} worker(s) over capacity at more than {allowed} step(s), e.g. worker "
                        f"{int(bad[0])} at {int(over[bad[0]])} step(s); largest excess {excess.tolist()}")
    return not problems, over, excess, "; ".join(problems)


def _check_verify_against_numpy(plan):
    got = plan.verify(raise_on_error=False)
    limit = plan.worker_capacity * (1.0 - plan.headroom)
    ok, over, excess, msg = _verify_numpy(np.asarray(plan.shapes, np.float32), np.asarray(plan.assignment),
                                          plan.n_workers, np.asarray(limit, np.float64), plan.risk)
    assert got.ok == ok and got.message == msg
    assert np.array_equal(got.steps_over, over) and np.array_equal(got.max_excess, excess)
    if not ok:
        with pytest.raises(InfeasiblePlanError):
            plan.verify()


def test_verify_matches_numpy_reference_on_good_and_broken_plans(rng):
    import dataclasses

    for trial in range(30):
        n, R, T = int(rng.integers(5, 80)), int(rng.integers(1, 3)), int(rng.integers(1, 40))
        D = _shapes(rng, n, R, T)
        risk = float(rng.choice([0.0, 0.1]))
        typed = trial % 2 == 1
        cap = TYPES.capacity[:, :R] * 1.5 if R < 2 else TYPES.capacity * 1.5
        types = WorkerTypes(TYPES.names, cap, TYPES.cost)
        plan = pyshape.pack(D, types if typed else cap[1], headroom=0.1, risk=risk)
        _check_verify_against_numpy(plan)
        a = plan.assignment.copy()
        kind = trial % 5
        if kind == 0:  # everything on one worker: over capacity
            a[:] = 0
        elif kind == 1:  # out of range
            a[0] = plan.n_workers + 3
        elif kind == 2:  # an empty worker
            a[a == a.max()] = 0
        elif kind == 3:
            a[: n // 2] = a[0]
        broken = dataclasses.replace(plan, assignment=a)
        if typed:
            broken = dataclasses.replace(broken, worker_type=np.zeros(plan.n_workers, np.int64))  # all small
        _check_verify_against_numpy(broken)


def test_verify_refuses_bad_plans_in_python():
    D = np.ones((3, 1, 4), np.float32)
    plan = pyshape.pack(D, TYPES.capacity[:, :1].copy()[1])
    import dataclasses

    bad = dataclasses.replace(plan, assignment=np.zeros(2, np.int64))
    assert "3 integers" in bad.verify(raise_on_error=False).message
    typed = pyshape.pack(D, WorkerTypes(["a", "b"], [2.0, 4.0], [1.0, 1.5]))
    bad = dataclasses.replace(typed, worker_type=np.array([5] * typed.n_workers))
    assert "worker_type outside" in bad.verify(raise_on_error=False).message
    bad = dataclasses.replace(typed, worker_type=None)
    assert "one type per worker" in bad.verify(raise_on_error=False).message
    assert isinstance(typed, Plan)


def test_worker_types_value_semantics():
    a = WorkerTypes(["s", "l"], [[1.0], [2.0]], [1.0, 1.5])
    b = WorkerTypes(("s", "l"), np.array([1.0, 2.0]), np.array([1.0, 1.5]))
    assert a == b and hash(a) == hash(b) and len(a) == 2 and a.index("l") == 1 and a.cheapest == "s"
    assert "s: [1.0] @ 1" in repr(a)
    with pytest.raises(KeyError, match="no worker type 'x'"):
        a.index("x")
    with pytest.raises(ValueError):
        a.capacity[0, 0] = 5.0  # read-only
    import copy
    import pickle

    for b2 in (pickle.loads(pickle.dumps(a)), copy.deepcopy(a)):
        assert b2 == a and not b2.capacity.flags.writeable and not b2.cost.flags.writeable
    assert list(itertools.islice(_partitions([0, 1, 2]), 100)).__len__() == 5


# --------------------------------------------------------------------------- the CLI

@pytest.fixture
def days_npy(tmp_path):
    from pyshape.synthetic import make_shapes

    X, _ = make_shapes(40, days=2, step_seconds=7200, n_resources=2, random_state=5)
    path = tmp_path / "days.npy"
    np.save(path, X)
    return path, X


def test_cli_pack_with_worker_types_matches_the_library(days_npy, tmp_path, capsys):
    import csv
    import json

    from pyshape.cli import main

    path, X = days_npy
    m = X.max(axis=(0, 2)).astype(np.float64)
    caps = [(m * 1.5).tolist(), (m * 4).tolist()]
    types = WorkerTypes(["small", "big"], caps, [1.0, 2.2])
    spec = [f"{n}:{c[0]!r},{c[1]!r}:{k!r}" for n, c, k in zip(types.names, caps, types.cost.tolist())]
    summ = tmp_path / "s.json"
    args = ["pack", str(path), "--worker-type", spec[0], "--worker-type", spec[1], "--summary", str(summ), "-q"]
    assert main(args) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    plan = pyshape.pack(X, types)
    assert [int(r["worker"]) for r in rows] == plan.assignment.tolist()
    assert [r["worker_type"] for r in rows] == [types.names[plan.worker_type[w]] for w in plan.assignment]
    s = json.loads(summ.read_text())
    assert s["cost"] == pytest.approx(plan.cost) and s["types"] == plan.type_counts
    # the same types from a file (.csv with the trace's resource names, .json with capacity lists)
    f = tmp_path / "types.csv"  # columns named as the .npy trace's resources, in another order
    f.write_text("name,cost,r1,r0\n"
                 + "".join(f"{n},{k!r},{c[1]!r},{c[0]!r}\n" for n, c, k in zip(types.names, caps, types.cost.tolist())))
    assert main(["pack", str(path), "--types", str(f), "-q"]) == 0
    assert [int(r["worker"]) for r in csv.DictReader(capsys.readouterr().out.splitlines())] == plan.assignment.tolist()
    j = tmp_path / "types.json"
    j.write_text(json.dumps([{"name": n, "capacity": [float(c[0]), float(c[1])], "cost": float(k)}
                             for n, c, k in zip(types.names, caps, types.cost)]))
    assert main(["pack", str(path), "--types", str(j), "-q"]) == 0
    assert [int(r["worker"]) for r in csv.DictReader(capsys.readouterr().out.splitlines())] == plan.assignment.tolist()


@pytest.mark.parametrize("args, msg", [
    (["--worker-type", "small:1,2"], "NAME:CAPACITIES:COST"),
    (["--worker-type", "small:1:1"], "needs 2 capacities for 2 resources"),
    (["--worker-type", "small:1,2:-1"], "cost must be positive"),
    (["--worker-type", "small:1,0:1"], "capacity must be positive"),
    (["--worker-type", "a:1,2:1", "--worker-type", "a:3,4:2"], "unique"),
    (["--worker-type", "tiny:0.001,0.001:1"], "exceed every worker type (tiny)"),
])
def test_cli_pack_bad_worker_types(days_npy, capsys, args, msg):
    from pyshape.cli import main

    path, _ = days_npy
    assert main(["pack", str(path), *args, "-q"]) == 1
    assert msg in capsys.readouterr().err


# --------------------------------------------------------------------------- the Placer on worker types

def test_placer_opens_the_cheapest_type_that_holds_the_shape(rng):
    types = WorkerTypes(["cpu", "mem", "both"], [[10.0, 2.0], [2.0, 10.0], [10.0, 10.0]], [1.0, 1.0, 3.0])
    p = pyshape.Placer(types, 4, strategy="first_fit", scan_limit=0)
    assert p.place("c", [[5, 5, 5, 5], [1, 1, 1, 1]]) == 0 and p.worker_type.tolist() == [0]
    assert p.place("m", [[1, 1, 1, 1], [5, 5, 5, 5]]) == 1 and p.worker_type.tolist() == [0, 1]
    assert p.place("b", [[5, 5, 5, 5], [5, 5, 5, 5]]) == 2 and p.worker_type.tolist() == [0, 1, 2]
    assert p.place("c2", [[4, 4, 4, 4], [1, 1, 1, 1]]) == 0  # fits on the cpu worker (first fit): no new one
    assert p.cost == 5.0 and p.types == types and np.array_equal(p.capacity, [10.0, 10.0])
    with pytest.raises(ShapeTooLargeError, match="fit no worker type"):
        pyshape.Placer(WorkerTypes(["cpu", "mem"], [[10.0, 2.0], [2.0, 10.0]], [1.0, 1.0]), 4).place(
            "x", [[5, 5, 5, 5], [5, 5, 5, 5]])
    assert p._p._check() == ""


def test_typed_placer_checks_each_worker_against_its_type_and_snapshots_round_trip(rng, tmp_path):
    types = WorkerTypes(["s", "l"], [[4.0, 4.0], [12.0, 12.0]], [1.0, 2.5])
    p = pyshape.Placer(types, 24, headroom=0.1)
    X = rng.uniform(0, 1.2, size=(150, 2, 24)).astype(np.float32)
    X[::10] *= np.float32(4.0)
    for i, x in enumerate(X):
        p.place(f"w{i}", x)
    eff = types.capacity * 0.9
    for w in range(p.n_workers):
        assert (p.load(w) <= eff[p.worker_type[w]][:, None] * (1 + 1e-6)).all()
    assert p.cost == pytest.approx(types.cost[p.worker_type].sum())
    sc = p.score(X[0])
    assert sc["fits"].shape == (p.n_workers,)
    q = pyshape.Placer.restore(p.snapshot())
    assert q.snapshot() == p.snapshot() and q.types == types and np.array_equal(q.worker_type, p.worker_type)
    assert q.place("new", X[3]) == p.place("new", X[3])
    path = tmp_path / "typed.snap"
    p.snapshot(path)
    assert pyshape.Placer.restore(path).types == types
    # an untyped placer is unchanged: version 3 snapshots, no types
    u = pyshape.Placer([4.0, 4.0], 24)
    u.place("a", X[1])
    assert u.types is None and u.worker_type is None and u.cost == 1.0
    assert int.from_bytes(u.snapshot()[8:12], "little") == 3 and int.from_bytes(p.snapshot()[8:12], "little") == 4


def test_single_type_placer_places_as_the_one_capacity_placer(rng):
    X = rng.uniform(0, 1.5, size=(200, 2, 24)).astype(np.float32)
    a = pyshape.Placer([4.0, 5.0], 24)
    b = pyshape.Placer(WorkerTypes(["only"], [[4.0, 5.0]], [2.0]), 24)
    for i, x in enumerate(X):
        assert a.place(i, x) == b.place(i, x)
    assert b.cost == 2.0 * a.n_workers
