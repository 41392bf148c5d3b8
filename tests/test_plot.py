"""pyshape.plot: every figure is checked against the data it should show, read back from the
artists (Line2D / image data), and written as a real PNG; bad input raises a clear error."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import pyshape  # noqa: E402
from pyshape import plot  # noqa: E402
from pyshape.synthetic import make_shapes  # noqa: E402

BITBRAINS = Path(__file__).resolve().parents[2] / "shared" / "data" / "bitbrains_rnd_2013-07"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MIN_PNG_BYTES = 5000  # a blank figure of these sizes is about 3 KB


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) > MIN_PNG_BYTES, len(data)


def worker_load_ref(D: np.ndarray, assignment: np.ndarray, w: int, r: int) -> np.ndarray:
    """Load of worker ``w`` on resource ``r``: its shapes summed in float64 (no pyshape code)."""
    return D[assignment == w, r].astype(np.float64).sum(axis=0)


def gid_lines(ax, prefix: str) -> list:
    return [ln for ln in ax.lines if (ln.get_gid() or "").startswith(prefix)]


@pytest.fixture(scope="module")
def bitbrains_day(tmp_path_factory):
    """Day 3 of 16 real Bitbrains VMs (CPU MHz, memory GB at 5-minute steps)."""
    if not BITBRAINS.is_dir():
        pytest.skip(f"real data not found at {BITBRAINS}")
    from pyshape.traces import load_bitbrains

    folder = tmp_path_factory.mktemp("bitbrains")
    for i in range(1, 17):
        (folder / f"{i}.csv.gz").symlink_to(BITBRAINS / f"{i}.csv.gz")
    return load_bitbrains(folder).day(3).shapes


@pytest.fixture(scope="module")
def real_plans(bitbrains_day):
    # Small workers (just above the largest VM) so that a day needs several of them.
    cap = 1.05 * bitbrains_day.max(axis=(0, 2)).astype(np.float64)
    return {s: pyshape.pack(bitbrains_day, cap, strategy=s) for s in ("peak", "complement")}


def random_shapes(rng, n=40, T=48) -> np.ndarray:
    """(n, 2, T) synthetic shapes from two fresh seeds (one per resource)."""
    a, _ = make_shapes(n, T, step_seconds=1800, random_state=int(rng.integers(2**31)))
    b, _ = make_shapes(n, T, step_seconds=1800, random_state=int(rng.integers(2**31)))
    return np.ascontiguousarray(np.stack([a, b], axis=1))


# ----------------------------------------------------------------------------- worker load
def test_worker_load_busiest_on_real_data(real_plans, bitbrains_day, tmp_path):
    plan = real_plans["complement"]
    path = tmp_path / "load.png"
    fig = plot.plot_worker_load(plan, path, step_seconds=300, max_workers=3)
    assert isinstance(fig, Figure)
    assert_png(path)
    ax = fig.axes[0]
    ref = np.stack([worker_load_ref(bitbrains_day, plan.assignment, w, 0) for w in range(plan.n_workers)])
    busiest = np.argsort(-ref.max(axis=1), kind="stable")[:3]
    lines = gid_lines(ax, "worker ")
    assert [ln.get_label() for ln in lines] == [f"worker {w}" for w in busiest]
    for ln, w in zip(lines, busiest):
        np.testing.assert_allclose(ln.get_ydata(), ref[w], rtol=1e-12)
        np.testing.assert_allclose(ln.get_xdata(), np.arange(288) / 12.0)
    (cap,) = gid_lines(ax, "capacity")
    assert np.all(np.asarray(cap.get_ydata()) == plan.capacity[0])
    assert not gid_lines(ax, "effective")  # no headroom, no dashed line
    assert ax.get_xlabel() == "hours"


def test_worker_load_given_workers_resource_and_headroom(rng):
    D = random_shapes(rng)
    cap = 3.0 * D.max(axis=(0, 2))
    plan = pyshape.pack(D, cap, headroom=[0.0, 0.25])
    workers = [plan.n_workers - 1, 0]
    fig = plot.plot_worker_load(plan, resource=1, workers=workers, title="t")
    ax = fig.axes[0]
    lines = gid_lines(ax, "worker ")
    assert [ln.get_gid() for ln in lines] == [f"worker {w}" for w in workers]
    for ln, w in zip(lines, workers):
        np.testing.assert_allclose(ln.get_ydata(), worker_load_ref(D, plan.assignment, w, 1), rtol=1e-12)
    np.testing.assert_array_equal(lines[0].get_xdata(), np.arange(D.shape[2]))  # no step: step numbers
    (eff,) = gid_lines(ax, "effective")
    np.testing.assert_allclose(eff.get_ydata(), 0.75 * cap[1])
    assert ax.get_title() == "t"


def test_worker_load_one_shape_one_step():
    plan = pyshape.pack(np.array([[2.0]]), capacity=3.0)
    fig = plot.plot_worker_load(plan, max_workers=5)
    (line,) = gid_lines(fig.axes[0], "worker ")
    assert line.get_ydata().tolist() == [2.0]


# ----------------------------------------------------------------------------- plan comparison
def test_plan_comparison_heat_on_real_data(real_plans, bitbrains_day, tmp_path):
    path = tmp_path / "cmp.png"
    fig = plot.plot_plan_comparison({"peak-based": real_plans["peak"], "correlation-aware": real_plans["complement"]},
                                    path, resource=1, step_seconds=300, title="both")
    assert_png(path)
    assert len(fig.axes) == 4  # two panels, the colour bar, the worker-count bars
    panels, bars = fig.axes[:2], fig.axes[3]
    w_max = max(p.n_workers for p in real_plans.values())
    for ax, plan in zip(panels, (real_plans["peak"], real_plans["complement"])):
        (im,) = ax.images
        ref = np.stack([worker_load_ref(bitbrains_day, plan.assignment, w, 1) for w in range(plan.n_workers)])
        np.testing.assert_allclose(np.asarray(im.get_array()), ref / plan.capacity[1], rtol=1e-12)
        assert ax.get_ylim() == (-0.5, w_max - 0.5)  # one y scale for all panels
        assert f"{plan.n_workers} workers (lower bound {plan.lower_bound})" in ax.get_title()
        assert f"mean use {plan.utilisation[1]:.0%}" in ax.get_title()
    widths = [patch.get_width() for patch in bars.patches]
    assert widths == [real_plans["peak"].n_workers, real_plans["complement"].n_workers]
    assert fig._suptitle.get_text() == "both"


def test_plan_comparison_lines_and_given_axes(rng):
    D = random_shapes(rng)
    cap = 2.5 * D.max(axis=(0, 2))
    plans = {"peak": pyshape.pack(D, cap, strategy="peak"),
             "complement": pyshape.pack(D, cap, headroom=0.1)}
    fig0, axes = plt.subplots(1, 2)
    fig = plot.plot_plan_comparison(plans, kind="lines", axes=axes)
    assert fig is fig0 and len(fig.axes) == 2  # no bars or colour bar added to the caller's figure
    for ax, plan in zip(axes, plans.values()):
        lines = gid_lines(ax, "worker ")
        assert len(lines) == plan.n_workers
        for w, ln in enumerate(lines):
            np.testing.assert_allclose(ln.get_ydata(), worker_load_ref(D, plan.assignment, w, 0), rtol=1e-12)
        assert len(gid_lines(ax, "effective")) == (plan.headroom[0] > 0)
    assert axes[0].get_ylim() == axes[1].get_ylim()


def test_plan_comparison_one_plan_one_step():
    plan = pyshape.pack(np.array([[1.0], [2.0], [2.5]]), capacity=3.0)
    fig = plot.plot_plan_comparison({"only": plan})
    np.testing.assert_allclose(np.asarray(fig.axes[0].images[0].get_array()).ravel(),
                               [worker_load_ref(plan.shapes, plan.assignment, w, 0)[0] / 3.0
                                for w in range(plan.n_workers)])


# ----------------------------------------------------------------------------- frontier
def random_table(rng, days=3):
    """Rows per (day, forecaster, strategy, headroom), shuffled, as an evaluate table has them."""
    keys = [(d, f, s, h) for d in range(days) for f in ("naive", "cluster")
            for s in ("complement", "first_fit", "peak") for h in (0.2, 0.0, 0.1)]
    order = rng.permutation(len(keys))
    rows = [keys[i] for i in order]
    return {
        "day": np.array([r[0] for r in rows]),
        "forecaster": np.array([r[1] for r in rows]),
        "strategy": [r[2] for r in rows],  # a list column works too
        "headroom": np.array([r[3] for r in rows]),
        "workers": rng.integers(10, 40, len(rows)),
        "overflow_fraction": rng.random(len(rows)) * 0.1,
    }


def test_frontier_averages_rows_per_group(rng, tmp_path):
    table = random_table(rng)
    path = tmp_path / "frontier.png"
    fig = plot.plot_frontier(table, path)
    assert_png(path)
    ax = fig.axes[0]
    strategy = np.asarray(table["strategy"])
    curves = [ln for ln in ax.lines if ln.get_gid() != "reference"]
    assert sorted(ln.get_gid() for ln in curves) == sorted(
        f"{f}/{s}" for f in ("naive", "cluster") for s in ("complement", "first_fit"))
    for ln in curves:
        f, s = ln.get_gid().split("/")
        m = (table["forecaster"] == f) & (strategy == s)
        heads = np.unique(table["headroom"][m])  # sorted, as the line runs
        xs = [table["overflow_fraction"][m & (table["headroom"] == h)].mean() for h in heads]
        ys = [table["workers"][m & (table["headroom"] == h)].mean() for h in heads]
        np.testing.assert_allclose(ln.get_xdata(), xs, rtol=1e-12)
        np.testing.assert_allclose(ln.get_ydata(), ys, rtol=1e-12)
    (ref,) = [ln for ln in ax.lines if ln.get_gid() == "reference"]
    peak0 = (strategy == "peak") & (table["headroom"] == 0.0)
    np.testing.assert_allclose(ref.get_ydata(), table["workers"][peak0].mean(), rtol=1e-12)
    labels = sorted(t.get_text() for t in ax.texts)
    assert labels == sorted(["0%", "10%", "20%"] * 4)


def test_frontier_reference_options(rng):
    table = random_table(rng, days=1)
    fig = plot.plot_frontier(table, reference=None)
    assert all(ln.get_gid() != "reference" for ln in fig.axes[0].lines)
    assert len(fig.axes[0].lines) == 6  # 'peak' is an ordinary strategy then
    fig = plot.plot_frontier(table, reference=25.0, x="workers", y="overflow_fraction")
    (ref,) = [ln for ln in fig.axes[0].lines if ln.get_gid() == "reference"]
    assert list(ref.get_ydata()) == [25.0, 25.0]


# ----------------------------------------------------------------------------- forecast
def test_forecast_small_multiples(rng, tmp_path):
    n, R, T = 9, 2, 48
    actual = rng.random((n, R, T)) * rng.random((n, 1, 1)) * 10
    actual[4] = 3.0  # a constant row varies least: never picked first
    fcs = {"a": rng.random((n, R, T)), "b": actual + 0.5}
    path = tmp_path / "fc.png"
    fig = plot.plot_forecast(actual, fcs, path, rows=3, resource=1, step_seconds=900)
    assert_png(path)
    shown = np.argsort(-actual[:, 1].std(axis=1), kind="stable")[:3]
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 3
    for ax, i in zip(visible, shown):
        assert [ln.get_gid() for ln in ax.lines] == ["actual", "a", "b"]
        for ln, ref in zip(ax.lines, (actual, fcs["a"], fcs["b"])):
            np.testing.assert_array_equal(ln.get_ydata(), ref[i, 1])
        np.testing.assert_allclose(ax.lines[0].get_xdata(), np.arange(T) / 4.0)
        assert ax.get_title() == f"shape {i}"


def test_forecast_given_rows_ids_and_2d():
    actual = np.tile(np.arange(5.0), (3, 1))
    fig = plot.plot_forecast(actual, {"flat": np.ones((3, 5))}, rows=[2, 0], ids=["x", "y", "z"])
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == ["z", "x"]
    fig = plot.plot_forecast(actual[:1, :1], {"f": np.zeros((1, 1))}, rows=4)  # n = 1, T = 1
    assert [ax.get_visible() for ax in fig.axes] == [True]


# ----------------------------------------------------------------------------- centroids
def test_centroids_moved_and_drawn(rng, tmp_path):
    X, _ = make_shapes(60, 48, step_seconds=1800, random_state=int(rng.integers(2**31)))
    km = pyshape.CorrelationKMeans(3, random_state=0).fit(X)
    path = tmp_path / "c.png"
    fig = plot.plot_centroids(km, path, X=X, max_members=4)
    assert_png(path)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 3
    for j, ax in enumerate(visible):
        np.testing.assert_array_equal(ax.lines[-1].get_ydata(), km.cluster_centers_[j])
        assert len(ax.lines) == min(4, int((km.labels_ == j).sum())) + 1


# ----------------------------------------------------------------------------- bad input
@pytest.fixture(scope="module")
def small_plan():
    return pyshape.pack(np.array([[[1.0, 2.0], [1.0, 1.0]], [[2.0, 1.0], [1.0, 1.0]]]), capacity=[3.0, 3.0])


@pytest.mark.parametrize("resource", [2, -1, "cpu", 1.0, True])
def test_unknown_resource(small_plan, resource):
    with pytest.raises(ValueError, match="unknown resource"):
        plot.plot_worker_load(small_plan, resource=resource)
    with pytest.raises(ValueError, match="unknown resource"):
        plot.plot_plan_comparison({"p": small_plan}, resource=resource)
    with pytest.raises(ValueError, match="unknown resource"):
        plot.plot_forecast(small_plan.shapes, {"f": small_plan.shapes}, resource=resource)


def test_bad_plans_and_workers(small_plan):
    with pytest.raises(ValueError, match="plans is empty"):
        plot.plot_plan_comparison({})
    with pytest.raises(TypeError, match="must be a pyshape.Plan"):
        plot.plot_plan_comparison({"p": small_plan.shapes})
    with pytest.raises(ValueError, match="kind must be"):
        plot.plot_plan_comparison({"p": small_plan}, kind="bars")
    with pytest.raises(ValueError, match="axes must hold 1 Axes"):
        plot.plot_plan_comparison({"p": small_plan}, axes=plt.subplots(1, 2)[1])
    with pytest.raises(ValueError, match="unknown worker 5"):
        plot.plot_worker_load(small_plan, workers=[0, 5])
    with pytest.raises(ValueError, match="workers is empty"):
        plot.plot_worker_load(small_plan, workers=[])
    with pytest.raises(ValueError, match="max_workers must be"):
        plot.plot_worker_load(small_plan, max_workers=0)
    with pytest.raises(ValueError, match="step_seconds must be positive"):
        plot.plot_worker_load(small_plan, step_seconds=0)


def test_bad_tables(rng):
    good = random_table(rng, days=1)
    for col in ("forecaster", "headroom", "overflow_fraction"):
        with pytest.raises(ValueError, match=f"missing column.*'{col}'"):
            plot.plot_frontier({k: v for k, v in good.items() if k != col})
    with pytest.raises(ValueError, match="missing column.*'cost'"):
        plot.plot_frontier(good, y="cost")
    with pytest.raises(ValueError, match="differ in length"):
        plot.plot_frontier({**good, "workers": good["workers"][:-1]})
    with pytest.raises(ValueError, match="no rows"):
        plot.plot_frontier({k: [] for k in good})
    with pytest.raises(ValueError, match="'workers' must hold numbers"):
        plot.plot_frontier({**good, "workers": np.array(["many"] * len(good["workers"]))})
    with pytest.raises(ValueError, match="'overflow_fraction' has a NaN"):
        plot.plot_frontier({**good, "overflow_fraction": np.r_[good["overflow_fraction"][:-1], np.nan]})
    with pytest.raises(TypeError, match="mapping of column names"):
        plot.plot_frontier([1, 2, 3])


def test_bad_forecasts():
    a = np.ones((3, 4))
    with pytest.raises(ValueError, match="forecasts is empty"):
        plot.plot_forecast(a, {})
    with pytest.raises(ValueError, match=r"forecasts\['f'\] has shape \(3, 5\)"):
        plot.plot_forecast(a, {"f": np.ones((3, 5))})
    with pytest.raises(ValueError, match="actual has a NaN"):
        plot.plot_forecast(np.r_[a[:2], [[1, np.nan, 1, 1]]], {"f": a})
    with pytest.raises(ValueError, match="unknown row 3"):
        plot.plot_forecast(a, {"f": a}, rows=[3])
    with pytest.raises(ValueError, match="ids must have one entry per shape"):
        plot.plot_forecast(a, {"f": a}, ids=["x"])


def test_missing_matplotlib_names_the_extra(monkeypatch, small_plan):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)  # makes the import fail
    with pytest.raises(ImportError, match=r"pip install 'pyshape\[plot\]'"):
        plot.plot_worker_load(small_plan)
