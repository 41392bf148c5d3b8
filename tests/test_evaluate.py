"""Backtests (pyshape.evaluate) against a plain NumPy replay, and bad input."""
from __future__ import annotations

import numpy as np
import pytest

from pyshape.evaluate import FORECASTERS, backtest, make_forecaster


def _trace(rng, n=40, R=2, days=3, period=12):
    """Random non-negative shapes with a daily pattern plus noise, (n, R, days * period)."""
    t = np.arange(days * period)
    phase = rng.uniform(0, 2 * np.pi, (n, R, 1))
    base = 1.0 + np.sin(2 * np.pi * t / period + phase)
    return (base * rng.uniform(0.5, 2.0, (n, R, 1)) + rng.uniform(0, 0.5, (n, R, len(t)))).astype(np.float32)


class _Yesterday:
    """A forecaster written here, independent of pyshape.forecast."""

    name = "yesterday"

    def forecast(self, history, period):
        return history[..., -period:].copy()


def _numpy_replay(assign, W, actual, cap):
    loads = np.zeros((W, actual.shape[1], actual.shape[2]))
    np.add.at(loads, assign, actual.astype(np.float64))
    over = (loads > cap[None, :, None] * (1 + 1e-6)).any(axis=1)  # (W, T)
    return over.sum(), over.any(axis=1).sum()


def test_rows_match_a_numpy_replay(rng):
    D = _trace(rng)
    cap = np.array([9.0, 11.0])
    period = 12
    bt = backtest(D, cap, forecasters=[_Yesterday()], strategies=("peak", "first_fit"),
                  headrooms=(0.0, 0.2), period=period, oracle=False, keep_plans=True, rolling=False)
    t = bt.table
    assert len(bt) == 2 * 2 * 2  # days 1, 2 x strategies x headrooms
    for i in range(len(bt)):
        d, s, h = int(t["day"][i]), str(t["strategy"][i]), float(t["headroom"][i])
        plan = bt.plans[(d, "yesterday", s, h)]
        pred = D[:, :, (d - 1) * period: d * period]
        actual = D[:, :, d * period: (d + 1) * period]
        # The plan was made on yesterday against capacity * (1 - h) ...
        np.testing.assert_array_equal(plan.shapes, pred)
        np.testing.assert_allclose(plan.effective_capacity, cap * (1 - h))
        plan.verify()
        # ... and replayed on the real day against the full capacity.
        steps, workers = _numpy_replay(plan.assignment, plan.n_workers, actual, cap)
        assert t["overflow_steps"][i] == steps
        assert t["workers_over"][i] == workers
        assert t["worker_steps"][i] == plan.n_workers * period
        assert t["overflow_fraction"][i] == pytest.approx(steps / (plan.n_workers * period))
        loads = np.zeros((plan.n_workers, 2, period))
        np.add.at(loads, plan.assignment, actual.astype(np.float64))
        above = np.maximum(loads - cap[None, :, None], 0.0)
        assert t["max_excess_r1"][i] == pytest.approx(above[:, 1].max(), rel=1e-5, abs=1e-5)
        assert t["excess_volume_r0"][i] == pytest.approx(above[:, 0].sum(), rel=1e-5, abs=1e-4)
        total = actual.sum(axis=0, dtype=np.float64).max(axis=1)
        assert t["lower_bound"][i] == int(np.ceil(total / cap - 1e-6).max())
        err = np.abs(pred - actual).mean(axis=2)
        assert t["mae_r0"][i] == pytest.approx(err[:, 0].mean(), rel=1e-5)
        pe = pred.max(axis=2) - actual.max(axis=2)
        assert t["peak_error_r1"][i] == pytest.approx(pe[:, 1].mean(), rel=1e-5, abs=1e-6)
        assert t["peak_under_r1"][i] == pytest.approx((pe[:, 1] < 0).mean())


def test_oracle_never_overflows_and_summary_pools(rng):
    D = _trace(rng, n=30, days=4)
    cap = np.array([12.0, 12.0])
    bt = backtest(D, cap, forecasters={"y": _Yesterday()}, headrooms=(0.0, 0.1), period=12, rolling=False)
    t = bt.table
    orc = t["forecaster"] == "oracle"
    assert orc.any() and (t["overflow_steps"][orc] == 0).all() and (t["capped"][orc] == 0).all()
    s = bt.summary()
    for j in range(len(s["forecaster"])):
        m = (t["forecaster"] == s["forecaster"][j]) & (t["strategy"] == s["strategy"][j]) \
            & (t["headroom"] == s["headroom"][j])
        assert s["days"][j] == 3
        assert s["workers"][j] == pytest.approx(t["workers"][m].mean())
        assert s["overflow_fraction"][j] == pytest.approx(t["overflow_steps"][m].sum() / t["worker_steps"][m].sum())
        peak = (s["forecaster"] == s["forecaster"][j]) & (s["strategy"] == "peak") & (s["headroom"] == s["headroom"][j])
        assert s["savings_vs_peak"][j] == pytest.approx(1 - s["workers"][j] / s["workers"][peak][0])
    best = bt.best(max_overflow=1.0, max_day_overflow=None)
    assert best["forecaster"] != "oracle"
    assert best["workers"] == s["workers"][s["forecaster"] != "oracle"].min()
    assert "| forecaster |" in bt.to_markdown()


def test_capped_shapes_are_counted(rng):
    D = _trace(rng, n=10, R=1, days=2)[:, 0, :]
    cap = float(D.max()) * 0.8  # some shapes are bigger than a worker
    bt = backtest(D, cap, forecasters=[_Yesterday()], strategies=("first_fit",), headrooms=(0.0,), period=12,
                  oracle=False)
    expected = int((D[:, :12].max(axis=1) > cap).sum())
    assert expected > 0 and bt.table["capped"][0] == expected


def test_default_forecasters_run_on_a_resource_trace():
    from pyshape.synthetic import make_shapes

    X, _ = make_shapes(60, days=3, step_seconds=3600, random_state=5)
    bt = backtest(X, capacity=float(X.max()) * 3, step_seconds=3600, headrooms=(0.0,))
    assert set(bt.table["forecaster"]) == set(FORECASTERS) | {"oracle", "rolling"}
    assert (bt.table["workers"] >= bt.table["lower_bound"]).all()


@pytest.mark.parametrize("kwargs,msg", [
    (dict(headrooms=(1.0,)), "headrooms"),
    (dict(headrooms=()), "headrooms"),
    (dict(strategies=()), "strategies is empty"),
    (dict(days=[0]), "outside"),
    (dict(min_history=0), "min_history"),
    (dict(capacity=[1.0, 2.0, 3.0]), "capacity"),
    (dict(capacity=-1.0), "capacity"),
    (dict(period=0), "period"),
    (dict(period=40), "two whole periods"),
])
def test_bad_arguments(rng, kwargs, msg):
    D = _trace(rng, n=5, days=3)
    args = dict(capacity=50.0, forecasters=[_Yesterday()], period=12)
    args.update(kwargs)
    cap = args.pop("capacity")
    with pytest.raises(ValueError, match=msg):
        backtest(D, cap, **args)


def test_bad_shapes_and_forecasters(rng):
    D = _trace(rng, n=5, days=3)
    bad = D.copy()
    bad[0, 0, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        backtest(bad, 50.0, forecasters=[_Yesterday()], period=12)
    bad[0, 0, 3] = -1
    with pytest.raises(ValueError, match="negative"):
        backtest(bad, 50.0, forecasters=[_Yesterday()], period=12)
    with pytest.raises(ValueError, match="period"):
        backtest(D, 50.0, forecasters=[_Yesterday()])
    with pytest.raises(TypeError, match="not a forecaster"):
        backtest(D, 50.0, forecasters=[object()], period=12)
    with pytest.raises(ValueError, match="unique"):
        backtest(D, 50.0, forecasters=[_Yesterday(), _Yesterday()], period=12)
    with pytest.raises(ValueError, match="unknown forecaster"):
        make_forecaster("crystal-ball")
    with pytest.raises(ValueError, match="dimensions"):
        backtest(D[0, 0], 50.0, forecasters=[_Yesterday()], period=12)


def test_write_table_formats(tmp_path, capsys):
    import json

    from pyshape._table import write_table

    cols = {"a": np.array([1, 2]), "b": np.array([0.5, np.nan]), "c": ["x", "y"]}
    write_table(cols, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text().splitlines() == ["a,b,c", "1,0.5,x", "2,nan,y"]
    write_table(cols, tmp_path / "t.json")
    assert json.loads((tmp_path / "t.json").read_text()) == [{"a": 1, "b": 0.5, "c": "x"},
                                                              {"a": 2, "b": None, "c": "y"}]
    write_table(cols, "-")
    assert capsys.readouterr().out.startswith("a,b,c\n1,0.5,x")
    with pytest.raises(ValueError, match="unknown output format"):
        write_table(cols, tmp_path / "t.xlsx")
    with pytest.raises(ValueError, match="different lengths"):
        write_table({"a": [1], "b": [1, 2]}, tmp_path / "t.csv")
    try:
        import pyarrow.parquet as pq
    except ImportError:
        return
    write_table(cols, tmp_path / "t.parquet")
    assert pq.read_table(tmp_path / "t.parquet").column("a").to_pylist() == [1, 2]


def test_new_workloads_get_a_reservation(rng):
    D = _trace(rng, n=12, R=2, days=3)
    D[0, :, : 2 * 12] = 0.0          # workload 0 arrives on day 2
    D[1, :, :] = 0.0                 # workload 1 never exists
    bt = backtest(D, 50.0, forecasters=[_Yesterday()], strategies=("first_fit",), headrooms=(0.0,), period=12,
                  oracle=False, keep_plans=True, rolling=False)
    t = bt.table
    assert t["new"].tolist() == [0, 1]
    plan = bt.plans[(2, "yesterday", "first_fit", 0.0)]
    seen = np.ones(12, bool)
    seen[[0, 1]] = False
    expected = np.quantile(D[seen, :, 12:24].max(axis=2), 0.95, axis=0)
    np.testing.assert_allclose(plan.shapes[0], np.repeat(expected[:, None], 12, axis=1), rtol=1e-6)
    assert not plan.shapes[1].any()
    off = backtest(D, 50.0, forecasters=[_Yesterday()], strategies=("first_fit",), headrooms=(0.0,), period=12,
                   oracle=False, keep_plans=True, new_reserve=None)
    assert not off.plans[(2, "yesterday", "first_fit", 0.0)].shapes[0].any()
