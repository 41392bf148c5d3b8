"""Long tables and invocation tables: load_long, load_invocations, to_frame / from_frame, every reader."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

import pyshape.traces._frames as frames
from pyshape.traces import ResourceTrace, load_bitbrains_sample, load_invocations, load_long
from pyshape.traces.long import parse_step

DAY = 86400
T0 = 1_700_006_400   # a UTC midnight (2023-11-15)


def _reference(ids, t, V, step, start, T, agg):
    """Cell by cell in plain Python: the reduction of the samples of each (id, step)."""
    uid = sorted(set(ids))
    out = np.zeros((len(uid), V.shape[1], T))
    have = np.zeros((len(uid), T), bool)
    cells = {}
    for i, tt, v in zip(ids, t, V):
        cells.setdefault((uid.index(i), int((tt - start) // step)), []).append(v)
    for (i, k), vs in cells.items():
        vs = np.array(vs)
        out[i, :, k] = {"max": vs.max(0), "mean": vs.mean(0), "sum": vs.sum(0), "min": vs.min(0)}[agg]
        have[i, k] = True
    return uid, out, have


def _messy(rng, n_ids=5, days=2, step=300):
    """Jittered samples, duplicates, shuffled rows, a gap of 2 steps and one of 10, per id."""
    ids, t, V = [], [], []
    for i in range(n_ids):
        k = np.arange(days * DAY // step)
        k = k[(k < 40) | (k > 42)]           # a short gap (3 empty steps)
        k = k[(k < 100) | (k > 110)]         # a long one
        tt = T0 + k * step + rng.uniform(0, step * 0.9, len(k))
        dup = rng.choice(len(tt), 20, replace=False)
        tt = np.r_[tt, tt[dup] + 1.0]
        ids += [f"m{i}"] * len(tt)
        t.append(tt)
        V.append(rng.uniform(0, 100, (len(tt), 2)))
    t, V = np.concatenate(t), np.concatenate(V)
    perm = rng.permutation(len(t))
    return np.array(ids)[perm], t[perm], V[perm]


@pytest.mark.parametrize("agg", ["max", "mean", "sum", "min"])
def test_long_against_cell_by_cell_reference(rng, agg):
    ids, t, V = _messy(rng)
    tr = load_long({"machine": ids, "ts": t, "cpu": V[:, 0], "mem": V[:, 1]}, id="machine", time="ts",
                   agg=agg, fill="zero", max_gap_steps=0)
    assert tr.step_seconds == 300 and tr.start == T0 and tr.resources == ("cpu", "mem")
    uid, ref, have = _reference(ids.tolist(), t, V, 300, T0, tr.T, agg)
    assert tr.ids.tolist() == uid
    np.testing.assert_allclose(tr.shapes, ref, rtol=1e-6)
    np.testing.assert_array_equal(~tr.meta["missing"], have)
    assert tr.info["duplicate_rows"] == len(t) - have.sum()
    assert tr.info["out_of_order_rows"] > 0 and tr.info["rows"] == len(t)


def test_long_fills_short_gaps_and_counts_them(rng):
    ids, t, V = _messy(rng, n_ids=3, days=1)
    tab = {"id": ids, "time": t, "cpu": V[:, 0]}
    tr = load_long(tab, max_gap_steps=3)
    # per id: the 3-step gap is filled with the step before; the 11-step gap stays 0
    assert tr.info["filled_steps"] == 3 * 3
    f = tr.meta["filled"][0]
    assert f[40:43].all() and not f[100:111].any() and tr.meta["missing"][0, 100:111].all()
    np.testing.assert_array_equal(tr.shapes[:, 0, 41], tr.shapes[:, 0, 39])
    assert tr.info["missing_steps"] == int(tr.meta["missing"].sum())
    v = load_long(tab, fill=-1.0)
    assert (v.shapes[:, 0, 40:43] == -1).all() and (v.shapes[:, 0, 100:111] == 0).all()


def test_long_time_zones_iso_text_and_datetimes_agree():
    # the same instants written four ways
    base = np.array([0, 300, 600, 900]) + T0
    iso_z = [np.datetime_as_string(np.datetime64(int(x), "s")) + "Z" for x in base]
    iso_paris = [np.datetime_as_string(np.datetime64(int(x) + 3600, "s")) + "+01:00" for x in base]
    iso_mixed = [iso_z[0], iso_paris[1], iso_z[2], iso_paris[3].replace("+01:00", "+0100")]
    cpu = [1.0, 2.0, 3.0, 4.0]
    ref = load_long({"id": ["a"] * 4, "time": base, "cpu": cpu}, step=300)
    for times in (iso_z, iso_paris, iso_mixed, base.astype("datetime64[s]")):
        tr = load_long({"id": ["a"] * 4, "time": np.array(times), "cpu": cpu}, step=300)
        assert tr.start == ref.start
        np.testing.assert_array_equal(tr.shapes, ref.shapes)
    ms = load_long({"id": ["a"] * 4, "time": base * 1000, "cpu": cpu}, step=300, time_unit="ms")
    np.testing.assert_array_equal(ms.shapes, ref.shapes)


@pytest.mark.filterwarnings("ignore:The Dataframe Interchange Protocol")
def test_long_from_pandas_polars_arrow_interchange_agree(rng):
    pd = pytest.importorskip("pandas")
    pa = pytest.importorskip("pyarrow")
    ids, t, V = _messy(rng, n_ids=4, days=1)
    df = pd.DataFrame({"id": ids, "time": pd.to_datetime(t, unit="s", utc=True).tz_convert("Asia/Tokyo"),
                       "cpu": V[:, 0]})
    ref = load_long({"id": ids, "time": t, "cpu": V[:, 0]})
    sources = [df, pa.table(df), df.__dataframe__()]
    try:
        import polars as pl
        sources.append(pl.from_pandas(df))
    except ImportError:
        pass
    for src in sources:
        tr = load_long(src)
        assert tr.ids.tolist() == ref.ids.tolist() and tr.start == ref.start
        np.testing.assert_allclose(tr.shapes, ref.shapes, rtol=1e-6)


@pytest.mark.filterwarnings("ignore:The Dataframe Interchange Protocol")
def test_long_interchange_and_csv_without_pandas_or_pyarrow(tmp_path, rng, monkeypatch):
    pd = pytest.importorskip("pandas")
    ids, t, V = _messy(rng, n_ids=3, days=1)
    ref = load_long({"id": ids, "time": t, "cpu": V[:, 0]})
    df = pd.DataFrame({"id": ids, "time": t, "cpu": V[:, 0]})
    path = tmp_path / "long.csv.gz"
    with gzip.open(path, "wt") as f:
        df.to_csv(f, index=False)
    monkeypatch.setattr(frames, "_pyarrow", lambda: None)
    monkeypatch.setattr(frames, "_pandas", lambda: None)
    for src in (path, df.__dataframe__()):
        tr = load_long(src)
        assert tr.ids.tolist() == ref.ids.tolist()
        np.testing.assert_allclose(tr.shapes, ref.shapes, rtol=1e-6)
    iso = tmp_path / "iso.csv"
    iso.write_text("id,time,cpu\na,2024-01-01T00:00:00+02:00,1\na,2023-12-31T22:05:00Z,2\n")
    tr = load_long(iso, step=300)
    assert tr.shapes[0, 0, 264:266].tolist() == [1.0, 2.0]


@pytest.mark.parametrize("reader", ["pyarrow", "pandas", "numpy"])
def test_long_csv_and_parquet_files(tmp_path, rng, monkeypatch, reader):
    ids, t, V = _messy(rng, n_ids=3, days=1)
    lines = ["machine_id,timestamp,cpu,mem"] + [f"{i},{float(x)!r},{float(a)!r},{float(b)!r}"
                                                 for i, x, (a, b) in zip(ids, t, V)]
    path = tmp_path / "usage.csv"
    path.write_text("\n".join(lines) + "\n")
    ref = load_long({"machine_id": ids, "timestamp": t, "cpu": V[:, 0], "mem": V[:, 1]}, id="machine_id",
                    time="timestamp")
    if reader != "pyarrow":
        monkeypatch.setattr(frames, "_pyarrow", lambda: None)
    if reader == "numpy":
        monkeypatch.setattr(frames, "_pandas", lambda: None)
    tr = load_long(path, id="machine_id", time="timestamp")
    assert tr.resources == ("cpu", "mem") and tr.ids.tolist() == ref.ids.tolist()
    np.testing.assert_allclose(tr.shapes, ref.shapes, rtol=1e-6)
    assert tr.info == ref.info
    if reader == "pyarrow":
        pa = pytest.importorskip("pyarrow")
        import pyarrow.parquet as pq
        pq.write_table(pa.table({"machine_id": ids, "timestamp": t, "cpu": V[:, 0], "mem": V[:, 1]}),
                       tmp_path / "usage.parquet")
        p = load_long(tmp_path / "usage.parquet", id="machine_id", time="timestamp")
        np.testing.assert_allclose(p.shapes, ref.shapes, rtol=1e-6)


def test_long_real_bitbrains_sample_as_one_long_table():
    """The bundled real Bitbrains files, concatenated into one long table, give load_bitbrains' grid."""
    from importlib import resources

    import pyshape.traces.bitbrains as bb

    ref = load_bitbrains_sample(max_gap_steps=3)
    folder = Path(str(resources.files("pyshape") / "data" / "bitbrains_rnd_2013_07"))
    ids, t, cpu, mem = [], [], [], []
    for vm in ref.ids.tolist():
        a = bb._read_vm(folder / f"{vm}.csv.gz")
        ids += [vm] * len(a)
        t.append(a[:, 0])
        cpu.append(a[:, 1])
        mem.append(a[:, 2] / 2.0**20)
    tab = {"vm": np.array(ids), "t": np.concatenate(t), "cpu_mhz": np.concatenate(cpu),
           "mem_gb": np.concatenate(mem)}
    tr = load_long(tab, id="vm", time="t", step=300, period=(ref.start, ref.start + ref.T * 300))
    order = np.argsort(ref.ids.astype(str))
    nonempty = ref.meta["rows"][order] > 0
    assert tr.ids.tolist() == ref.ids[order][nonempty].tolist()
    np.testing.assert_allclose(tr.shapes, ref.shapes[order][nonempty], rtol=1e-6)
    assert tr.info["filled_steps"] == ref.info["filled_steps"]


def test_long_step_inference_and_mixed_steps():
    t = np.r_[np.arange(0, 3600, 60), np.arange(0, 3600, 300)].astype(float) + T0
    ids = ["fast"] * 60 + ["slow"] * 12
    with pytest.raises(ValueError, match=r"mixed sampling steps: id fast every 60 s, id slow every 300 s; pass step="):
        load_long({"id": ids, "time": t, "v": np.ones(72)})
    assert load_long({"id": ids, "time": t, "v": np.ones(72)}, step="5min").step_seconds == 300
    jit = T0 + np.arange(50) * 60 + np.random.default_rng(0).uniform(-2, 2, 50)
    assert load_long({"id": ["a"] * 50, "time": jit, "v": np.ones(50)}).step_seconds == 60
    assert [parse_step(s) for s in (300, "300", "300s", "5min", "1h", "1d", "0.5min")] == \
        [300, 300, 300, 300, 3600, 86400, 30]
    for bad in ("5 parsecs", "0", -3, "1.5s", None):
        with pytest.raises(ValueError, match="step"):
            parse_step(bad)


@pytest.mark.parametrize("tab, kw, msg", [
    ({"id": ["a"], "time": [0], "cpu": [1]}, {"values": ["cpu", "mem"]}, r"no column 'mem' \(columns: id, time, cpu\)"),
    ({"id": ["a"], "ts": [0], "cpu": [1]}, {}, r"no column 'time'"),
    ({"id": ["a", "a"], "time": ["2024-01-01", "yesterday"], "cpu": [1, 2]}, {"step": 60},
     r"column 'time', row 1: cannot read 'yesterday' as a time"),
    ({"id": ["a", "a"], "time": [0, 60], "cpu": ["1", "x"]}, {"step": 60}, r"column 'cpu', row 1: 'x' is not a number"),
    ({"id": ["a", "a"], "time": [0, 1e9], "cpu": [1, 2]}, {"step": 60}, r"a grid of \d+ steps .* stray timestamp"),
    ({"id": ["a", "a"], "time": [1.7e12, 1.7e12 + 6e4], "cpu": [1, 2]}, {"step": 60},
     r"look like milliseconds or finer; pass time_unit='ms'"),
    ({"id": ["a"], "time": [np.nan], "cpu": [1]}, {"step": 60}, r"no rows left"),
    ({"id": ["a"], "time": [0], "cpu": [1]}, {"agg": "median"}, r"agg must be one of"),
    ({"id": ["a"], "time": [0], "cpu": [1]}, {"fill": "linear"}, r"fill must be"),
    ({"id": ["a"], "time": [0], "cpu": [1]}, {"step": 60, "period": (100, 50)}, r"period start must be before"),
])
def test_long_bad_input_one_clear_line(tab, kw, msg):
    with pytest.raises(ValueError, match=msg) as e:
        load_long(tab, **kw)
    assert "\n" not in str(e.value)


def test_long_sparse_ids_refused_by_cell_limit():
    def tab(n):
        t = np.r_[np.zeros(n), np.full(n, 30 * DAY - 1.0)] + T0
        return {"id": np.r_[np.arange(n), np.arange(n)], "time": t, "v": np.ones(2 * n)}

    with pytest.raises(ValueError, match=r"20000 ids x 8640 steps of 300 s = 172800000 cells, more than the limit"):
        load_long(tab(20000), step=300)        # refused before any grid is allocated
    with pytest.raises(ValueError, match=r"100 ids x 8640 steps .* more than max_cells=1000 .*pass max_cells="):
        load_long(tab(100), step=300, max_cells=1000)
    assert load_long(tab(100), step=300).shapes.shape == (100, 1, 8640)


def test_period_and_window():
    t = T0 + np.arange(0, 2 * DAY, 3600.0)
    tab = {"id": ["a"] * len(t), "time": t, "cpu": np.arange(len(t), dtype=float)}
    tr = load_long(tab, step=3600, period=("2023-11-15T12:00:00Z", "2023-11-16T02:00:00+01:00"))
    assert tr.start == T0 + 12 * 3600 and tr.T == 13 and tr.shapes[0, 0, 0] == 12
    assert tr.info["outside_rows"] == len(t) - 13
    full = load_long(tab, step=3600)
    w = full.window("2023-11-15T12:00:00Z", T0 + 25 * 3600)
    np.testing.assert_array_equal(w.shapes, tr.shapes)
    assert w.meta["filled"].shape == (1, 13)
    with pytest.raises(ValueError, match="no step of the trace begins"):
        full.window("2030-01-01", None)


def test_to_frame_from_frame_round_trip(rng):
    pytest.importorskip("pandas")
    shapes = rng.uniform(0, 5, (3, 2, 48)).astype(np.float32)
    tr = ResourceTrace(np.array(["x", "y", "z"]), shapes, ("cpu", "mem"), 1800, T0)
    df = tr.to_frame()
    assert list(df.columns) == ["id", "time", "cpu", "mem"] and len(df) == 3 * 48
    assert str(df["time"].dt.tz) == "UTC"
    back = ResourceTrace.from_frame(df.sample(frac=1.0, random_state=1))
    assert back.step_seconds == 1800 and back.start == T0 and back.resources == ("cpu", "mem")
    np.testing.assert_array_equal(back.shapes, tr.shapes)
    back2 = ResourceTrace.from_frame(tr.to_frame(time="seconds"))
    np.testing.assert_array_equal(back2.shapes, tr.shapes)


# --------------------------------------------------------------------------- invocations
def _brute_mean(s, e, step, T):
    out = np.zeros(T)
    for a, b in zip(s, e):
        for j in range(T):
            out[j] += max(0.0, min(b, (j + 1) * step) - max(a, j * step)) / step
    return out


def _brute_max(s, e, step, T):
    out = np.zeros(T)
    for j in range(T):
        pts = [j * step] + [x for x in np.r_[s, e] if j * step <= x < (j + 1) * step]
        out[j] = max(sum(1 for a, b in zip(s, e) if a <= p < b or (a == b == p)) for p in pts)
    return out


def test_invocations_against_brute_force(rng):
    m = 300
    end = rng.uniform(0, 1800, m)
    dur = np.where(rng.random(m) < 0.1, 0.0, rng.exponential(40, m))
    dur[:5] = [60.0, 120.0, 0.5, 600.0, 59.999]
    app = rng.choice(["a1", "a2"], m)
    func = rng.choice(["f", "g"], m)
    tab = {"app": app, "func": func, "end_timestamp": end, "duration": dur, "mem": rng.uniform(100, 200, m)}
    tr = load_invocations(tab, step=60, memory="mem")
    tmax = load_invocations(tab, step=60, how="max")
    assert tr.resources == ("concurrency", "mem") and tr.start == 0
    s_all = end - dur
    for i, key in enumerate(tr.ids.tolist()):
        a, f = key.split("/")
        sel = (app == a) & (func == f)
        s, e = np.maximum(s_all[sel], 0), end[sel]
        np.testing.assert_allclose(tr.shapes[i, 0], _brute_mean(s, e, 60, tr.T), atol=1e-5)
        np.testing.assert_allclose(tmax.shapes[i, 0], _brute_max(s, e, 60, tr.T), atol=1e-6)
        starts = np.minimum((s // 60).astype(int), tr.T - 1)
        np.testing.assert_array_equal(tr.meta["invocations"][i], np.bincount(starts, minlength=tr.T))
    # memory: each call weighted by its memory
    w = tab["mem"]
    i0 = 0
    a, f = tr.ids[i0].split("/")
    sel = (app == a) & (func == f)
    ref = sum(w[sel][k] * _brute_mean([max(s_all[sel][k], 0)], [end[sel][k]], 60, tr.T) for k in range(sel.sum()))
    np.testing.assert_allclose(tr.shapes[i0, 1], ref, rtol=1e-4, atol=1e-3)
    assert tr.info["clipped_rows"] == int((s_all < 0).sum())  # grid starts at 0: calls before it are cut
    # a call over [0, 60) and one over [60, 120) do not overlap
    t2 = load_invocations({"func": ["f", "f"], "end_timestamp": [60.0, 120.0], "duration": [60.0, 60.0]},
                          id="func", how="max")
    assert t2.shapes[0, 0].tolist() == [1.0, 1.0]


def test_invocations_azure_2021_text_file_and_start_end_columns(tmp_path):
    path = tmp_path / "AzureFunctionsInvocationTraceForTwoWeeksJan2021.txt"
    path.write_text("app,func,end_timestamp,duration\n"
                    "a,f,90.5,61.0\na,f,30.0,0.25\nb,g,200.0,10\nb,g,bad,1\n")
    with pytest.raises(ValueError, match=r"column 'end_timestamp', row 3: cannot read 'bad'"):
        load_invocations(path)
    path.write_text("app,func,end_timestamp,duration\na,f,90.5,61.0\na,f,30.0,0.25\nb,g,200.0,10\nb,g,80,-1\n")
    tr = load_invocations(path)
    assert tr.ids.tolist() == ["a/f", "b/g"] and tr.T == 4 and tr.info["negative_duration_rows"] == 1
    np.testing.assert_allclose(tr.shapes[0, 0], [(30.5 + 0.25) / 60, 30.5 / 60, 0, 0], rtol=1e-6)
    se = load_invocations({"f": ["x"], "t0": ["1970-01-01T00:00:30Z"], "t1": ["1970-01-01T00:01:30Z"]},
                          id="f", start="t0", end="t1", duration=None)
    np.testing.assert_allclose(se.shapes[0, 0], [0.5, 0.5])
    with pytest.raises(ValueError, match="give two of start, end and duration"):
        load_invocations(path, start="x")

