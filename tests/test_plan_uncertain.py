"""Planning on uncertainty (Scenarios, rolling out-of-sample choice) and honest evaluation
(partial days, worst-day overflow, one set of defaults, frontier labels)."""
from __future__ import annotations

import numpy as np
import pytest

import pyshape
from pyshape import defaults
from pyshape.evaluate import backtest, day_coverage, rolling_choice
from pyshape.forecast import Scenarios
from pyshape.forecast.scenario import dilate_max


def _trace(rng, n=30, R=2, days=5, period=12):
    t = np.arange(days * period)
    phase = rng.uniform(0, 2 * np.pi, (n, R, 1))
    base = 1.0 + np.sin(2 * np.pi * t / period + phase)
    return (base * rng.uniform(0.5, 2.0, (n, R, 1)) + rng.uniform(0, 0.5, (n, R, len(t)))).astype(np.float32)


class _Recorder:
    """Yesterday, remembering how long each history was."""

    name = "rec"

    def __init__(self):
        self.lengths = []
        self.histories = []

    def forecast(self, history, period):
        self.lengths.append(history.shape[-1])
        self.histories.append(np.array(history))
        return history[..., -period:].copy()


# --------------------------------------------------------------------------- Scenarios
def test_scenarios_are_the_last_days_side_by_side(rng):
    D = _trace(rng, days=4)
    out = Scenarios(days=2).forecast(D, 12)
    np.testing.assert_array_equal(out, D[:, :, 24:48])
    assert Scenarios(days=10).forecast(D, 12).shape == (30, 2, 48)  # fewer days when the history is shorter
    assert Scenarios(days=1).forecast(D[:, 0], 12).shape == (30, 12)  # 2-D in, 2-D out


def test_scenarios_fill_unobserved_days_from_the_latest_active_day(rng):
    D = _trace(rng, n=3, days=3)
    D[0, :, :12] = 0.0     # workload 0 arrived on day 1
    D[1, :, 12:24] = 0.0   # workload 1 was off on day 1
    D[2] = 0.0             # workload 2 never ran
    s = Scenarios(days=3).scenarios(D, 12)
    np.testing.assert_array_equal(s[0, :, 0], D[0, :, 24:36])  # the latest active day
    np.testing.assert_array_equal(s[1, :, 1], D[1, :, 24:36])  # the latest active day
    assert not s[2].any()


@pytest.mark.parametrize("width", [0, 1, 2, 3, 5, 6, 9])
def test_dilate_max_is_a_wrapped_running_maximum(rng, width):
    x = rng.random((4, 2, 12)).astype(np.float32)
    ref = np.max([np.roll(x, k, axis=-1) for k in range(-min(width, 6), min(width, 6) + 1)], axis=0)
    np.testing.assert_array_equal(dilate_max(x, width), ref)


def test_dilate_hours_converts_to_steps():
    assert Scenarios(dilate_hours=0.25).dilate_steps(288) == 3
    assert Scenarios(dilate=2).dilate_steps(288) == 2
    with pytest.raises(ValueError):
        Scenarios(dilate_hours=-1.0)


def test_scenario_packing_keeps_co_movement():
    """Two spiky workloads that never spiked together share a worker; a pair that did once, not."""
    P = 8
    a = np.zeros((3, P), np.float32)
    b = np.zeros((3, P), np.float32)
    for d in range(3):
        a[d, d] = 5.0
        b[d, (d + 4) % P] = 5.0        # always 4 steps apart
    hist = np.stack([a.reshape(-1), b.reshape(-1)]) + 1.0
    X = Scenarios(days=3).forecast(hist, P)
    assert pyshape.pack(X, 7.0).n_workers == 1
    assert pyshape.pack(X, 7.0, strategy="peak").n_workers == 2
    b[1, 1] = 5.0                        # once at the same step as a
    hist = np.stack([a.reshape(-1), b.reshape(-1)]) + 1.0
    assert pyshape.pack(Scenarios(days=3).forecast(hist, P), 7.0).n_workers == 2
    # with a spike-timing tolerance of 4 steps they never share
    hist = np.stack([a.reshape(-1), np.stack([b[0], b[0], b[2]]).reshape(-1)]) + 1.0
    assert pyshape.pack(Scenarios(days=3, dilate=4).forecast(hist, P), 7.0).n_workers == 2


def test_backtest_packs_scenarios_and_reports_their_envelope_error(rng):
    D = _trace(rng, days=4)
    bt = backtest(D, 20.0, forecasters={"s": Scenarios(days=2)}, strategies=("peak", "complement"),
                  headrooms=(0.0,), period=12, min_history=2, oracle=False, rolling=False, keep_plans=True)
    plan = bt.plans[(3, "s", "complement", 0.0)]
    assert plan.shapes.shape == (30, 2, 24)
    actual = D[:, :, 36:48]
    env = np.maximum(D[:, :, 12:24], D[:, :, 24:36])
    m = (bt.table["day"] == 3) & (bt.table["strategy"] == "complement")
    assert bt.table["mae_r0"][m][0] == pytest.approx(np.abs(env - actual)[:, 0].mean(), rel=1e-5)


def test_scenario_risk_is_packed_with_and_checked(rng):
    D = _trace(rng, n=40, days=5)
    bt = backtest(D, 12.0, forecasters={"s": Scenarios(days=3, risk=0.2), "s0": Scenarios(days=3)},
                  headrooms=(0.0,), period=12, keep_plans=True, oracle=False, rolling=False)
    for d in sorted(set(bt.table["day"].tolist())):
        assert bt.plans[(d, "s", "auto", 0.0)].risk == 0.2
        assert bt.plans[(d, "s", "peak", 0.0)].risk == 0.0  # peak-based planning reserves peaks
        assert bt.plans[(d, "s0", "auto", 0.0)].risk == 0.0
        # the risk budget is honoured on the scenarios: at most floor(0.2 * 3 * 12) steps over per worker
        plan = bt.plans[(d, "s", "auto", 0.0)]
        hist = D[:, :, : d * 12]
        S = Scenarios(days=3).forecast(hist, 12)
        for w in range(plan.n_workers):
            load = S[plan.assignment == w].sum(axis=0)
            assert (load > 12.0 * (1 + 1e-6)).any(axis=0).sum() <= int(0.2 * S.shape[-1])
    assert "risk=0.2" in Scenarios(risk=0.2).name
    for bad in (-0.1, 1.0, float("nan")):
        with pytest.raises(ValueError):
            Scenarios(risk=bad)
    with pytest.raises(TypeError):
        Scenarios(risk="0.1")


# --------------------------------------------------------------------------- partial days
def test_day_coverage_with_and_without_a_mask():
    P = 24
    D = np.ones((3, 1, 3 * P), np.float32)
    D[:, :, :22] = 0.0                                  # the trace starts at 22:00
    np.testing.assert_allclose(day_coverage(D, P), [2 / 24, 1, 1])
    obs = D[:, 0] > 0
    obs[:, P: P + 20] = False                           # a collector outage, zero-filled
    D[:, :, P: P + 20] = 0.0
    np.testing.assert_allclose(day_coverage(D, P, obs), [2 / 24, 4 / 24, 1])
    obs[0, 2 * P:] = False                              # a workload that is gone does not count
    np.testing.assert_allclose(day_coverage(D, P, obs)[2], 1.0)


def test_partial_days_are_left_out_of_histories_and_evaluation(rng):
    P = 12
    D = _trace(rng, days=6)
    D[:, :, : P - 2] = 0.0                # day 0 starts two steps before midnight
    D[:, :, 3 * P + 1: 4 * P] = 0.0       # day 3 mostly zero-filled
    rec = _Recorder()
    bt = backtest(D, 30.0, forecasters=[rec], headrooms=(0.0,), period=P, oracle=False)
    assert bt.partial_days == (0, 3)
    assert sorted(set(bt.table["day"].tolist())) == [2, 4, 5]
    assert rec.lengths == [1 * P, 2 * P, 3 * P]        # the whole days before, joined
    np.testing.assert_array_equal(rec.histories[2], np.concatenate([D[..., P:3 * P], D[..., 4 * P:5 * P]], -1))
    keep = backtest(D, 30.0, forecasters=[_Recorder()], headrooms=(0.0,), period=P, oracle=False,
                    min_coverage=0.0, rolling=False)
    assert keep.partial_days == () and sorted(set(keep.table["day"].tolist())) == [1, 2, 3, 4, 5]
    from pyshape.report import headline

    assert "2 partial day(s)" in headline(bt)


def test_partial_days_from_a_trace_mask():
    tr = pyshape.traces.load_bitbrains_sample(vms=[str(i) for i in range(1, 21)])
    obs = ~tr.meta["missing"]
    cov = day_coverage(tr.shapes, tr.steps_per_day, obs)
    assert cov.shape == (tr.n_days,) and ((0 <= cov) & (cov <= 1)).all()
    bt = backtest(tr, [128000.0, 256.0], forecasters={"s": Scenarios(days=2)}, headrooms=(0.0,),
                  min_coverage=0.99, oracle=False)
    assert bt.partial_days == tuple(int(d) for d in np.flatnonzero(cov < 0.99))
    np.testing.assert_allclose(bt.coverage, cov)


# --------------------------------------------------------------------------- rolling choice
def _table(rows):
    cols = ("day", "forecaster", "strategy", "headroom", "workers", "overflow_steps", "worker_steps",
            "overflow_fraction", "chosen")
    t = {c: [] for c in cols}
    for d, f, s, h, w, o in rows:
        for c, v in zip(cols, (d, f, s, h, w, o, w * 100, o / (w * 100), "")):
            t[c].append(v)
    return {c: np.asarray(v) for c, v in t.items()}


def test_rolling_choice_uses_only_earlier_days():
    rows = []
    for d in (1, 2, 3, 4):
        rows.append((d, "cheap", "complement", 0.0, 5, 0 if d < 3 else 50))   # fails from day 3 on
        rows.append((d, "safe", "complement", 0.1, 8, 0))
    t = _table(rows)
    r = rolling_choice(t, max_overflow=1e-3, max_day_overflow=5e-3)
    # day 1: no past, the larger plan; day 2, 3: cheap was fine before; day 4: cheap failed on day 3
    assert r["chosen"] == ["safe@0.1", "cheap@0", "cheap@0", "safe@0.1"]
    assert r["forecaster"] == ["rolling"] * 4 and all(np.isnan(r["headroom"]))
    # changing a day's own outcome never changes that day's choice
    t2 = dict(t)
    t2["overflow_steps"] = t["overflow_steps"].copy()
    t2["overflow_steps"][(t["day"] == 3) & (t["forecaster"] == "cheap")] = 0
    t2["overflow_fraction"] = t2["overflow_steps"] / t2["worker_steps"]
    assert rolling_choice(t2)["chosen"][:3] == r["chosen"][:3]


def test_rolling_choice_falls_back_to_peak_based_settings():
    rows = []
    for d in (1, 2, 3, 4):
        rows.append((d, "scenario", "auto", 0.0, 5, 0 if d < 3 else 50))   # the bet fails from day 3 on
        rows.append((d, "scenario", "auto", 0.1, 6, 0 if d < 2 else 40))   # ... and from day 2 on
        rows.append((d, "max", "peak", 0.0, 9, 0))
        rows.append((d, "naive", "peak", 0.0, 7, 30))
    t = _table(rows)
    r = rolling_choice(t, max_overflow=1e-3, max_day_overflow=5e-3)
    auto = [c for c, s in zip(r["chosen"], r["strategy"]) if s == "auto"]
    peak = [c for c, s in zip(r["chosen"], r["strategy"]) if s == "peak"]
    # day 1: no past, the largest plan (peak-based max); days 2-3: the cheap bet held; day 4: it failed
    # on day 3 and the 10% setting on days 2-3: the peak-based plan that stayed within the budget
    assert auto == ["max@0/peak", "scenario@0", "scenario@0", "max@0/peak"]
    assert peak == ["max@0", "max@0", "max@0", "max@0"]
    assert r["workers"][r["strategy"].index("auto") + 3] == 9
    own = rolling_choice(t, max_overflow=1e-3, max_day_overflow=5e-3, fallback=None)
    assert [c for c, s in zip(own["chosen"], own["strategy"]) if s == "auto"][3] == "scenario@0"  # least bad


def test_rolling_rows_per_strategy_and_worst_day_in_summary(rng):
    D = _trace(rng, days=5)
    bt = backtest(D, 20.0, forecasters={"s": Scenarios(days=2), "m": pyshape.forecast.PeriodMax(window=2)},
                  headrooms=(0.0, 0.2), period=12)
    s = bt.summary()
    roll = s["forecaster"] == "rolling"
    assert sorted(s["strategy"][roll].tolist()) == ["auto", "peak"]  # the defaults' strategies
    assert s["days"][roll].tolist() == [4, 4]
    t = bt.table
    for j in range(len(s["forecaster"])):
        m = (t["forecaster"] == s["forecaster"][j]) & (t["strategy"] == s["strategy"][j]) & (
            (t["headroom"] == s["headroom"][j]) | (np.isnan(t["headroom"]) & np.isnan(s["headroom"][j])))
        assert s["worst_day_overflow"][j] == pytest.approx(t["overflow_fraction"][m].max())
    ok = bt.best(max_overflow=1.0, max_day_overflow=None)
    assert ok is not None
    assert bt.best(max_overflow=1.0, max_day_overflow=-1.0) is None
    assert bt.best(max_overflow=1.0, max_day_overflow=None, rolling=True)["forecaster"] == "rolling"


# --------------------------------------------------------------------------- one set of defaults
def test_backtest_report_and_cli_share_the_defaults(tmp_path):
    import inspect

    from pyshape.cli import build_parser
    from pyshape.report import build_report, headline

    sig = inspect.signature(backtest).parameters
    assert tuple(sig["headrooms"].default) == defaults.HEADROOMS
    assert tuple(sig["strategies"].default) == defaults.STRATEGIES
    assert sig["min_coverage"].default == defaults.MIN_COVERAGE
    rsig = inspect.signature(build_report).parameters
    assert tuple(rsig["headrooms"].default) == defaults.HEADROOMS
    assert rsig["max_overflow"].default == defaults.MAX_OVERFLOW
    parser = build_parser()
    ev = parser.parse_args(["evaluate", "x", "-c", "1"])
    assert [float(h) for h in ev.headroom.split(",")] == list(defaults.HEADROOMS)
    assert ev.max_overflow == defaults.MAX_OVERFLOW
    rep = parser.parse_args(["report", "x", "-c", "1"])
    assert rep.headroom == ev.headroom
    # the same input gives the same headline from backtest and from the report
    tr = pyshape.traces.load_bitbrains_sample(vms=[str(i) for i in range(1, 13)]).days(0, 3)
    cap = [float(tr.shapes[:, 0].max()) * 2, float(tr.shapes[:, 1].max()) * 2]
    r = build_report(tr, cap, tmp_path / "r", plots=False)
    assert headline(r.backtest) == headline(backtest(tr, cap))
    assert "cheapest peak-based plan within the same budget" in headline(r.backtest) or \
        "no peak-based setting" in headline(r.backtest)


def test_defaults_compare_auto_with_peak_based(rng):
    """The correlation-aware side of every comparison is pack's default ('auto'), and the
    headline compares the cheapest plans within one budget, whatever their forecaster."""
    from pyshape.packing._checks import DEFAULT_STRATEGY
    from pyshape.report import headline

    assert defaults.STRATEGIES == ("peak", DEFAULT_STRATEGY) == ("peak", "auto")
    assert list(defaults.HEADROOMS) == sorted(defaults.HEADROOMS) and defaults.HEADROOMS[0] == 0.0
    D = _trace(rng, days=5)
    bt = backtest(D, 20.0, forecasters={"s": Scenarios(days=2), "m": pyshape.forecast.PeriodMax(window=2)},
                  headrooms=(0.0, 0.2), period=12)
    assert set(bt.table["strategy"].tolist()) == {"peak", "auto"}
    best = bt.best(max_overflow=1.0, max_day_overflow=None, rolling=False)
    peak = bt.best(max_overflow=1.0, max_day_overflow=None, strategy="peak", rolling=False)
    s = bt.summary()
    fixed = (s["forecaster"] != "rolling") & (s["forecaster"] != "oracle")
    assert best["workers"] == s["workers"][fixed].min()
    assert peak["workers"] == s["workers"][fixed & (s["strategy"] == "peak")].min()
    text = headline(bt, max_overflow=1.0, max_day_overflow=None)
    assert f"{best['workers']:.2f} workers/day" in text and f"{peak['workers']:.2f} workers/day" in text
    assert "0 partial days" in text  # counted even when there are none


def test_evaluate_cli_gives_the_backtest_numbers(tmp_path, capsys):
    """A fleet smaller than the default number of clusters: the CLI clips them as backtest does,
    so its table and headline are backtest's."""
    import csv

    from pyshape.cli import main
    from pyshape.report import headline
    from pyshape.synthetic import make_shapes

    X, _ = make_shapes(12, days=3, step_seconds=7200, n_resources=2, random_state=5)
    path, out = tmp_path / "small.npy", tmp_path / "summary.csv"
    np.save(path, X)
    cap = [float(np.ceil(c * 1.2)) for c in X.max(axis=(0, 2))]
    assert main(["evaluate", str(path), "-c", f"{cap[0]:g},{cap[1]:g}", "--step-seconds", "7200",
                 "-o", str(out)]) == 0
    err = capsys.readouterr().err
    bt = backtest(X, cap, period=12)
    assert headline(bt) in err
    with out.open() as f:
        rows = [r for r in csv.DictReader(f) if r["forecaster"] == "cluster"]
    s = bt.summary()
    ref = s["mae_r0"][s["forecaster"] == "cluster"]
    np.testing.assert_allclose([float(r["mae_r0"]) for r in rows], ref, rtol=1e-6)


# --------------------------------------------------------------------------- --min-coverage
def _partial_npy(tmp_path):
    """Four days of 12 two-hour steps; day 0 starts at 22:00 (one step of 12 seen)."""
    from pyshape.synthetic import make_shapes

    X, _ = make_shapes(30, days=4, step_seconds=7200, n_resources=2, random_state=3)
    X[:, :, :11] = 0.0
    path = tmp_path / "partial.npy"
    np.save(path, X)
    cap = X.max(axis=(0, 2)) * 3
    return path, f"{cap[0]},{cap[1]}"


def test_cli_min_coverage_flag(tmp_path, capsys):
    from pyshape.cli import build_parser, main

    parser = build_parser()
    for cmd in (["evaluate", "x", "-c", "1"], ["report", "x", "-c", "1"], ["demo"]):
        assert parser.parse_args(cmd).min_coverage == defaults.MIN_COVERAGE
        assert parser.parse_args(cmd + ["--min-coverage", "0.5"]).min_coverage == 0.5
        with pytest.raises(SystemExit):
            parser.parse_args(cmd + ["--min-coverage", "1.5"])
    capsys.readouterr()
    path, c = _partial_npy(tmp_path)
    base = ["evaluate", str(path), "-c", c, "--step-seconds", "7200", "--forecasters", "naive", "--headroom", "0",
            "--full"]
    assert main(base) == 0
    out, err = capsys.readouterr()
    days = {int(r.split(",")[0]) for r in out.splitlines()[1:]}
    assert days == {2, 3} and "1 partial day(s) (coverage below 0.9)" in err  # day 0 left out, counted
    assert main(base + ["--min-coverage", "0"]) == 0
    out, err = capsys.readouterr()
    assert {int(r.split(",")[0]) for r in out.splitlines()[1:]} == {1, 2, 3} and "0 partial days" in err
    rep = tmp_path / "rep"
    assert main(["report", str(path), "-c", c, "--step-seconds", "7200", "-d", str(rep), "--no-plots",
                 "--min-coverage", "0.05"]) == 0  # one step of 12 (0.083) is enough at 0.05
    text = (rep / "report.md").read_text()
    assert "partial day(s)" not in text and "0 partial days (coverage below 0.05)" in text


# --------------------------------------------------------------------------- figures
def test_frontier_ticks_labels_and_rolling_marker():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    from pyshape.plot import plot_frontier

    table = {"forecaster": ["a", "a", "a", "rolling"], "strategy": ["complement"] * 3 + ["complement"],
             "headroom": [0.0, 0.1, 0.2, np.nan], "workers": [10, 11, 12, 11.5],
             "overflow_fraction": [0.03, 0.002, 0.0, 0.0005]}
    fig = plot_frontier(table, reference=None, xscale="symlog", resources=("cpu_mhz", "mem_gb"),
                        capacity=(32000.0, 64.0))
    ax = fig.axes[0]
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert len(labels) == len(set(labels)) >= 3
    assert "0%" in labels and "0.1%" in labels and "1%" in labels
    assert "cpu (MHz)" in ax.get_xlabel() and "mem (GB)" in ax.get_xlabel()
    assert "32000 cpu (MHz)" in ax.get_ylabel()
    assert "rolling/complement" in [ln.get_gid() for ln in ax.lines]


def test_one_worker_reads_singular():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    from pyshape.plot import plot_worker_load

    plan = pyshape.pack(np.ones((2, 4), np.float32), 5.0)
    fig = plot_worker_load(plan)
    assert "of 1 worker " in fig.axes[0].get_title()
