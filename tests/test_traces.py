"""Trace loaders and shape files, against references computed here from the raw rows."""
from __future__ import annotations

import csv
import gzip
import math
from fractions import Fraction
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

import pyshape.traces.bitbrains as bb
from pyshape.traces import (
    ResourceTrace,
    load_azure_functions,
    load_azure_sample,
    load_bitbrains,
    load_bitbrains_sample,
    load_shapes,
    save_shapes,
)

DATA = Path(str(resources.files("pyshape") / "data"))
AZURE = DATA / "azure_functions_2019"
BITBRAINS = DATA / "bitbrains_rnd_2013_07"
DAY = 86400
MIDNIGHT = 1372636800  # 2013-07-01 00:00 UTC
BB_HEADER = ("Timestamp [ms];\tCPU cores;\tCPU capacity provisioned [MHZ];\tCPU usage [MHZ];\tCPU usage [%];\t"
             "Memory capacity provisioned [KB];\tMemory usage [KB];\tDisk read throughput [KB/s];\t"
             "Disk write throughput [KB/s];\tNetwork received throughput [KB/s];\t"
             "Network transmitted throughput [KB/s]")


# --------------------------------------------------------------------------- ResourceTrace
def _trace(rng, n=5, R=2, T=24 * 3 + 7, step=3600):
    X = rng.random((n, R, T)).astype(np.float32)
    meta = {"kind": rng.integers(0, 3, n), "per_step": rng.random((n, T))}
    return ResourceTrace(np.array([f"w{i}" for i in range(n)]), X, tuple(f"res{r}" for r in range(R)), step,
                         MIDNIGHT, meta, {"counted": 4}), X, meta


def test_trace_keeps_float32_without_copy_and_converts_others(rng):
    X = rng.random((3, 2, 10)).astype(np.float32)
    tr = ResourceTrace(np.arange(3), X, ("a", "b"), 60, 0)
    assert np.shares_memory(tr.shapes, X)
    tr64 = ResourceTrace(np.arange(3), np.asfortranarray(X, dtype=np.float64), ["a", "b"], 60, 0)
    assert tr64.shapes.dtype == np.float32 and tr64.shapes.flags.c_contiguous
    np.testing.assert_array_equal(tr64.shapes, X)
    assert tr64.resources == ("a", "b") and tr64.meta == {} and tr64.info == {}


@pytest.mark.parametrize("kw,exc,msg", [
    (dict(shapes=np.zeros((3, 10))), ValueError, "3-D"),
    (dict(shapes=np.zeros((3, 2, 10), dtype=str)), TypeError, "real numbers"),
    (dict(shapes=np.zeros((3, 2, 0))), ValueError, "no time steps"),
    (dict(ids=np.arange(4)), ValueError, "one entry per row"),
    (dict(resources=("a",)), ValueError, "R=2"),
    (dict(resources=("a", "a")), ValueError, "distinct"),
    (dict(step_seconds=0), ValueError, "step_seconds"),
    (dict(step_seconds=1.5), ValueError, "step_seconds"),
    (dict(meta={"x": np.zeros(2)}), ValueError, r"meta\['x'\]"),
])
def test_trace_validation(kw, exc, msg):
    args = dict(ids=np.arange(3), shapes=np.zeros((3, 2, 10)), resources=("a", "b"), step_seconds=60, start=0)
    args.update(kw)
    with pytest.raises(exc, match=msg):
        ResourceTrace(**args)


def test_select_days_resource_against_numpy(rng):
    tr, X, meta = _trace(rng)
    assert (tr.n, tr.T, tr.steps_per_day, tr.n_days) == (5, 79, 24, 3)
    mask = rng.random(5) < 0.5
    mask[0] = True
    idx = rng.permutation(5)[:3]
    for rows in (mask, idx, slice(1, 4), [4]):
        sub = tr.select(rows)
        np.testing.assert_array_equal(sub.shapes, X[rows])
        np.testing.assert_array_equal(sub.ids, tr.ids[rows])
        np.testing.assert_array_equal(sub.meta["per_step"], meta["per_step"][rows])
        np.testing.assert_array_equal(sub.meta["kind"], meta["kind"][rows])
        assert sub.info == tr.info and sub.shapes.flags.c_contiguous
    assert tr.select(np.zeros(5, bool)).n == 0
    d = tr.days(1, 3)
    np.testing.assert_array_equal(d.shapes, X[:, :, 24:72])
    np.testing.assert_array_equal(d.meta["per_step"], meta["per_step"][:, 24:72])
    np.testing.assert_array_equal(d.meta["kind"], meta["kind"])
    assert d.start == MIDNIGHT + DAY and d.T == 48 and d.shapes.flags.c_contiguous
    np.testing.assert_array_equal(tr.day(2).shapes, X[:, :, 48:72])
    assert tr.day(2).start == MIDNIGHT + 2 * DAY
    r1 = tr.resource("res1")
    np.testing.assert_array_equal(r1, X[:, 1])
    assert np.shares_memory(r1, tr.shapes)


def test_select_days_errors(rng):
    tr, _, _ = _trace(rng)
    with pytest.raises(IndexError, match="3 whole days"):
        tr.day(3)
    with pytest.raises(IndexError, match="outside"):
        tr.days(-1, 1)
    with pytest.raises(ValueError, match="lo < hi"):
        tr.days(2, 2)
    with pytest.raises(ValueError, match="no resource 'gpu'"):
        tr.resource("gpu")
    with pytest.raises(ValueError, match=r"mask must have shape \(5,\)"):
        tr.select(np.ones(4, bool))
    with pytest.raises(IndexError, match="out of range"):
        tr.select([5])
    with pytest.raises(TypeError, match="boolean mask"):
        tr.select([0.5])
    odd = ResourceTrace(np.arange(1), np.ones((1, 1, 5)), ("a",), 7, 0)
    with pytest.raises(ValueError, match="does not divide a day"):
        odd.n_days


# --------------------------------------------------------------------------- Azure
def _csv_rows(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def _busy_instances(count, dur_ms, step):
    """Exact ceil(count * dur / (1000 * step)) in rationals: what the float model must reproduce."""
    return math.ceil(Fraction(int(count)) * Fraction(dur_ms) / (1000 * step))


def test_azure_sample_against_csv_rows():
    tr = load_azure_sample()
    _, inv = _csv_rows(AZURE / "invocation_traces.csv")
    _, dur = _csv_rows(AZURE / "duration_traces.csv")
    mhead, mem = _csv_rows(AZURE / "memory_traces.csv")
    avg = {r[0]: float(r[1]) for r in dur}
    mb = {r[0]: float(r[mhead.index("AverageAllocatedMb")]) for r in mem}
    assert tr.shapes.shape == (len(inv), 2, 60) and tr.resources == ("concurrency", "memory_mb")
    assert tr.ids.tolist() == [r[0] for r in inv]
    assert tr.meta["trigger"].tolist() == [r[1] for r in inv]
    counts = np.array([[float(v) for v in r[2:]] for r in inv])
    np.testing.assert_array_equal(tr.meta["invocations"], counts)
    conc = counts * np.array([avg[r[0]] for r in inv])[:, None] / 1000.0 / 60.0
    np.testing.assert_allclose(tr.resource("concurrency"), conc, rtol=1e-6, atol=0)
    for i in range(0, len(inv), 37):  # a few functions by hand, exactly
        f = inv[i][0]
        want = [_busy_instances(c, avg[f], 60) * mb[f] for c in counts[i]]
        np.testing.assert_array_equal(tr.resource("memory_mb")[i], want)
    assert tr.info["no_duration"] == tr.info["no_memory"] == 0
    assert tr.info["all_zero"] == int((counts.sum(axis=1) == 0).sum())
    assert tr.meta["has_duration"].all() and tr.meta["has_memory"].all()


def test_azure_sample_step_and_active_model():
    base = load_azure_sample()
    inv = base.meta["invocations"].astype(np.float64)
    five = load_azure_sample(step_seconds=300, memory_model="active")
    assert five.T == 12 and five.step_seconds == 300
    sums = inv.reshape(len(inv), 12, 5).sum(axis=2)
    np.testing.assert_array_equal(five.meta["invocations"], sums)
    np.testing.assert_allclose(five.resource("concurrency"), sums * base.meta["duration_ms"][:, None] / 300e3,
                               rtol=1e-6)
    np.testing.assert_array_equal(five.resource("memory_mb"),
                                  (sums > 0) * base.meta["instance_mb"][:, None].astype(np.float32))


def _write(path: Path, header, rows):
    text = "\n".join([",".join(map(str, header))] + [",".join(map(str, r)) for r in rows]) + "\n"
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def _real_day(tmp_path, rng, *, day="d01", gz=False):
    """Tiny files in the real trace's per-day layout; returns the raw tables used to build them."""
    T = 12
    funcs = [  # owner, app, function, trigger
        ("o1", "a1", "f1", "http"), ("o1", "a1", "f2", "http"), ("o1", "a2", "f3", "http"),
        ("o2", "a3", "f4", "timer"), ("o2", "a3", "f5", "queue"), ("o2", "a4", "f6", "timer"),
        ("o3", "a5", "f7", "event"),
    ]
    counts = rng.integers(0, 40, (len(funcs), T))
    counts[6] = 0  # an all-zero function
    avg = {"f1": 100, "f2": 300, "f4": 1100, "f5": 7, "f6": 60000, "f7": 250}  # f3 has no duration row
    mb = {("o1", "a1"): 128, ("o2", "a3"): 300, ("o3", "a5"): 90}  # a2, a4 have no memory row
    sfx = ".csv.gz" if gz else ".csv"
    inv = _write(tmp_path / f"invocations_per_function_md.anon.{day}{sfx}",
                 ["HashOwner", "HashApp", "HashFunction", "Trigger"] + list(range(1, T + 1)),
                 [list(f) + counts[i].tolist() for i, f in enumerate(funcs)])
    dur_rows = [[o, a, f, avg[f], 5, 1, 2, 3, 4, 5, 6, 7, 8, 9] for o, a, f, _ in funcs if f in avg]
    dur_rows.append(["o9", "a9", "f9", 5, 5, "", "", 1, 1, 1, 1, 1, 1, 1])  # matches nothing
    _write(tmp_path / f"function_durations_percentiles.anon.{day}{sfx}",
           ["HashOwner", "HashApp", "HashFunction", "Average", "Count", "Minimum", "Maximum"]
           + [f"percentile_Average_{q}" for q in (0, 1, 25, 50, 75, 99, 100)], dur_rows)
    mem_rows = [[o, a, 10, v, 1, 2, 3, 4, 5, 6, 7, 8] for (o, a), v in mb.items()] + [["o9", "a9", 1, 1] + [1] * 8]
    _write(tmp_path / f"app_memory_percentiles.anon.{day}{sfx}",
           ["HashOwner", "HashApp", "SampleCount", "AverageAllocatedMb"]
           + [f"AverageAllocatedMb_pct{q}" for q in (1, 5, 25, 50, 75, 95, 99, 100)], mem_rows)
    return inv, funcs, counts, avg, mb


@pytest.mark.parametrize("gz", [False, True])
def test_azure_real_format_join_fallbacks_and_counts(tmp_path, rng, gz):
    inv, funcs, counts, avg, mb = _real_day(tmp_path, rng, gz=gz)
    tr = load_azure_functions(inv)  # durations and memory found next to it
    trig = np.array([f[3] for f in funcs])
    # Reference fallbacks: median over functions of the same trigger that have a value, else over all.
    d = np.array([avg.get(f[2], np.nan) for f in funcs], dtype=float)
    m = np.array([mb.get((f[0], f[1]), np.nan) for f in funcs], dtype=float)
    for v in (d, m):
        have = ~np.isnan(v)
        for i in np.flatnonzero(~have):
            pool = v[have & (trig == trig[i])]
            v[i] = np.median(pool) if pool.size else np.median(v[have])
    assert d[2] == np.median([100, 300])  # f3 (http) takes the http median
    assert m[5] == 300  # a4 (timer) takes the memory of the other timer's app
    np.testing.assert_array_equal(tr.meta["duration_ms"], d)
    np.testing.assert_array_equal(tr.meta["instance_mb"], m)
    np.testing.assert_allclose(tr.resource("concurrency"), counts * d[:, None] / 60e3, rtol=1e-6)
    want_mem = [[_busy_instances(c, d[i], 60) * m[i] for c in counts[i]] for i in range(len(funcs))]
    np.testing.assert_array_equal(tr.resource("memory_mb"), want_mem)
    assert tr.ids.tolist() == [f[2] for f in funcs]
    assert tr.meta["app"].tolist() == [f[1] for f in funcs] and tr.meta["owner"].tolist() == [f[0] for f in funcs]
    assert tr.info == {"no_duration": 1, "no_memory": 2, "all_zero": 1, "unused_duration_rows": 1,
                       "unused_memory_rows": 1}
    assert tr.meta["has_duration"].tolist() == [f[2] in avg for f in funcs]
    # The all-zero function is kept; select drops it.
    active = tr.select(tr.meta["invocations"].any(axis=1))
    assert active.n == len(funcs) - 1 and "f7" not in active.ids


def test_azure_busy_instances_ignore_float_noise(tmp_path):
    """Counts x durations that are whole numbers of instances must not round up to one more."""
    T = 6
    durs = [100, 300, 700, 1100, 4200, 59999]
    rows, counts = [], []
    for j, dur in enumerate(durs):
        c = [60000 // math.gcd(60000, dur) * k for k in range(1, T + 1)]  # exact multiples of one instance
        counts.append(c)
        rows.append([f"f{j}", "http"] + c)
    _write(tmp_path / "invocation_traces.csv", ["HashFunction", "Trigger"] + list(range(1, T + 1)), rows)
    _write(tmp_path / "duration_traces.csv", ["HashFunction", "Average"], [[f"f{j}", d] for j, d in enumerate(durs)])
    _write(tmp_path / "memory_traces.csv", ["HashFunction", "AverageAllocatedMb"], [[f"f{j}", 1] for j in range(6)])
    tr = load_azure_functions(tmp_path / "invocation_traces.csv")
    want = [[_busy_instances(c, d, 60) for c in cs] for cs, d in zip(counts, durs)]
    np.testing.assert_array_equal(tr.resource("memory_mb"), want)


INV_HEAD = "HashFunction,Trigger,1,2,3"


@pytest.mark.parametrize("which,text,msg", [
    ("inv", "", "empty file"),
    ("inv", INV_HEAD + "\n", "no data rows"),
    ("inv", "HashFunction,1,2,3\nf1,1,2,3\n", "no Trigger column"),
    ("inv", "HashApp,HashFunction,Trigger,1,2,3\na,f1,http,1,2,3\n", "id columns before Trigger"),
    ("inv", "HashFunction,Trigger,1,2,4\nf1,http,1,2,3\n", "named 1..3, found '4'"),
    ("inv", INV_HEAD + "\nf1,http,1,2,3\nf2,http,1,2\n", "line 3: 4 fields, expected 5"),
    ("inv", INV_HEAD + "\nf1,http,1,2,3\nf2,http,1,x,3\n", "line 3: non-numeric value 'x' in column '2'"),
    ("inv", INV_HEAD + "\nf1,http,1,-2,3\n", "line 2: invocation count -2.0"),
    ("inv", INV_HEAD + "\nf1,http,1,2,3\nf1,timer,1,2,3\n", "line 3: duplicate id.*first on line 2"),
    ("dur", "HashFunction,Count\nf1,3\n", "no Average column"),
    ("dur", "Average\n3\n", "no HashFunction column"),
    ("dur", "HashFunction,Average\nf1,fast\n", "line 2: non-numeric value 'fast' in column 'Average'"),
    ("dur", "HashFunction,Average\nf1,-5\n", "line 2: Average = -5"),
    ("dur", "HashFunction,Average\nf1,5\nf1,6\n", "line 3: duplicate id"),
    ("dur", "HashFunction,Average\nzz,5\n", "no row matches a function"),
    ("dur", "HashFunction,Average\nf1,\n", "no function of .* has a value to fall back on"),
    ("mem", "HashFunction,SampleCount\nf1,3\n", "no AverageAllocatedMb column"),
])
def test_azure_malformed_files(tmp_path, which, text, msg):
    files = {"inv": INV_HEAD + "\nf1,http,1,2,3\n", "dur": "HashFunction,Average\nf1,5\n",
             "mem": "HashFunction,AverageAllocatedMb\nf1,100\n"}
    files[which] = text
    paths = {k: tmp_path / f"{k}.csv" for k in files}
    for k, p in paths.items():
        p.write_text(files[k])
    with pytest.raises(ValueError, match=msg) as e:
        load_azure_functions(paths["inv"], paths["dur"], paths["mem"])
    assert f"{which}.csv" in str(e.value)


def test_azure_argument_and_file_errors(tmp_path, rng):
    inv, *_ = _real_day(tmp_path, rng)
    with pytest.raises(ValueError, match="multiple of 60"):
        load_azure_functions(inv, step_seconds=90)
    with pytest.raises(ValueError, match="12 minutes do not split into steps of 420 s"):
        load_azure_functions(inv, step_seconds=420)
    with pytest.raises(ValueError, match="memory_model"):
        load_azure_functions(inv, memory_model="peak")
    (tmp_path / "app_memory_percentiles.anon.d01.csv").unlink()
    with pytest.raises(FileNotFoundError, match="app_memory_percentiles.anon.d01.csv.*days 13 and 14"):
        load_azure_functions(inv)
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        load_azure_functions(tmp_path / "nope.csv", inv, inv)
    (tmp_path / "alone").mkdir()
    other = _write(tmp_path / "alone" / "mine.csv", ["HashFunction", "Trigger", 1], [["f", "http", 1]])
    with pytest.raises(FileNotFoundError, match="no durations file for mine.csv.*--durations"):
        load_azure_functions(other)


# --------------------------------------------------------------------------- Bitbrains
def _bb_file(path: Path, rows, *, gz=True):
    """rows: (timestamp, cpu MHz, memory KB); the other columns are filler."""
    lines = [BB_HEADER] + [f"{t};\t2;\t5000.0;\t{c};\t1.0;\t8000000.0;\t{m};\t0.0;\t1.0;\t0.5;\t0.25"
                           for t, c, m in rows]
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def test_bitbrains_hand_computed_grid(tmp_path):
    G = 2.0**20  # KB per GiB
    D = MIDNIGHT
    _bb_file(tmp_path / "1.csv.gz", [
        (D + 10, 5.0, 1 * G),       # step 0
        (D + 310, 7.0, 3 * G),      # step 1
        (D + 320, 9.0, 2 * G),      # step 1 again: max of each column -> 9, 3 GiB
        (D + 1810, 4.0, 1 * G),     # step 6, out of order (before the step-5 row)
        (D + 1510, 6.0, 2 * G),     # step 5: steps 2..4 (3 empty) repeat step 1
        (D + 3310, 8.0, 1 * G),     # step 11: steps 7..10 (4 empty) stay 0
        (D + 3310, 2.0, 4 * G),     # exact duplicate timestamp
        (D + 3400, -1.0, 1 * G),    # step 11 again, negative clipped
    ])
    _bb_file(tmp_path / "2.csv", [], gz=False)  # a VM with no data row
    _bb_file(tmp_path / "10.csv.gz", [(D + 3700, 1.5, 0.5 * G), (D + 3800, float("nan"), G)])  # step 12
    (tmp_path / "notes.txt").write_text("ignored")
    tr = load_bitbrains(tmp_path)
    assert tr.ids.tolist() == ["1", "2", "10"]  # numeric order
    assert tr.start == D and tr.T == 13 and tr.step_seconds == 300 and tr.resources == ("cpu_mhz", "mem_gb")
    cpu = np.zeros((3, 13))
    mem = np.zeros((3, 13))
    cpu[0, [0, 1, 2, 3, 4, 5, 6, 11]] = [5, 9, 9, 9, 9, 6, 4, 8]
    mem[0, [0, 1, 2, 3, 4, 5, 6, 11]] = [1, 3, 3, 3, 3, 2, 1, 4]
    cpu[2, 12], mem[2, 12] = 1.5, 0.5
    np.testing.assert_array_equal(tr.resource("cpu_mhz"), cpu)
    np.testing.assert_array_equal(tr.resource("mem_gb"), mem)
    filled = np.zeros((3, 13), bool)
    filled[0, 2:5] = True
    np.testing.assert_array_equal(tr.meta["filled"], filled)
    have = (cpu > 0) & ~filled
    np.testing.assert_array_equal(tr.meta["missing"], ~have & ~filled)
    np.testing.assert_array_equal(tr.meta["rows"], [8, 0, 2])
    assert tr.info == {"rows": 10, "duplicate_rows": 3, "out_of_order_rows": 1, "nonfinite_rows": 1,
                       "negative_rows": 1, "filled_steps": 3, "missing_steps": int((~have & ~filled).sum()),
                       "vms_empty": 1, "vms_short": 3}
    no_fill = load_bitbrains(tmp_path, max_gap_steps=0)
    assert not no_fill.meta["filled"].any() and (no_fill.resource("cpu_mhz")[0, 2:5] == 0).all()
    wide = load_bitbrains(tmp_path, max_gap_steps=4)
    np.testing.assert_array_equal(wide.resource("cpu_mhz")[0, 7:11], [4, 4, 4, 4])
    ten = load_bitbrains(tmp_path, step_seconds=600)  # coarser grid: max within each 10 minutes
    assert ten.T == 7 and ten.resource("cpu_mhz")[0, 0] == 9
    sub = load_bitbrains(tmp_path, vms=[10, "1"])
    assert sub.ids.tolist() == ["10", "1"]
    np.testing.assert_array_equal(sub.shapes, tr.shapes[[2, 0]])
    files = load_bitbrains([tmp_path / "10.csv.gz", tmp_path / "1.csv.gz"])
    np.testing.assert_array_equal(files.shapes, sub.shapes)
    one = load_bitbrains(tmp_path / "1.csv.gz")  # a single file
    assert one.T == 12  # the grid ends with this VM's last step
    np.testing.assert_array_equal(one.shapes[0], tr.shapes[0, :, :12])
    via_files = load_shapes(tmp_path)
    np.testing.assert_array_equal(via_files.shapes, tr.shapes)


def test_bitbrains_parsers_agree(tmp_path, monkeypatch):
    """pandas (when installed), the fast NumPy path and the checked NumPy path give the same arrays."""
    names = ["1", "27", "100", "201"]
    a = load_bitbrains(BITBRAINS, vms=names)
    monkeypatch.setattr(bb, "_read_vm_pandas", lambda raw, cols: None)
    b = load_bitbrains(BITBRAINS, vms=names)
    np.testing.assert_array_equal(a.shapes, b.shapes)
    # A blank line sends a file to the checked path.
    for name in names:
        raw = gzip.decompress((BITBRAINS / f"{name}.csv.gz").read_bytes())
        (tmp_path / f"{name}.csv").write_bytes(raw.replace(b"\n", b"\n\n", 1))
    c = load_bitbrains(tmp_path)
    np.testing.assert_array_equal(c.shapes, a.shapes)
    assert c.info == a.info


@pytest.mark.parametrize("rows_text,msg", [
    ("1372636800;\t1;\t2;\t3;\t4;\t5;\t6;\t7;\t8;\t9\n", "line 2: 10 fields, expected 11"),
    ("1372636800;\t1;\t2;\tx;\t4;\t5;\t6;\t7;\t8;\t9;\t10\n", "line 2: non-numeric value 'x' in column 'CPU usage"),
    ("1372636800000;\t1;\t2;\t3;\t4;\t5;\t6;\t7;\t8;\t9;\t10\n", "look like milliseconds"),
    ("", "no data rows in any"),
])
def test_bitbrains_malformed_rows(tmp_path, rows_text, msg):
    (tmp_path / "7.csv").write_text(BB_HEADER + "\n" + rows_text)
    with pytest.raises(ValueError, match=msg):
        load_bitbrains(tmp_path)


def test_bitbrains_bad_files_and_arguments(tmp_path):
    (tmp_path / "1.csv").write_text("time,cpu\n1,2\n")
    with pytest.raises(ValueError, match=r"1\.csv: not a Bitbrains file"):
        load_bitbrains(tmp_path)
    (tmp_path / "1.csv").write_text("")
    with pytest.raises(ValueError, match=r"1\.csv: empty file"):
        load_bitbrains(tmp_path)
    _bb_file(tmp_path / "1.csv", [(MIDNIGHT, 1.0, 1.0)], gz=False)
    with pytest.raises(FileNotFoundError, match=r"VM\(s\) \['3'\]"):
        load_bitbrains(tmp_path, vms=[1, 3])
    with pytest.raises(ValueError, match="repeat"):
        load_bitbrains([tmp_path / "1.csv", tmp_path / "1.csv"])
    with pytest.raises(ValueError, match="divides a day"):
        load_bitbrains(tmp_path, step_seconds=7)
    with pytest.raises(ValueError, match="max_gap_steps"):
        load_bitbrains(tmp_path, max_gap_steps=-1)
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_bitbrains(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no <vm>.csv"):
        load_bitbrains(tmp_path / "empty")


@pytest.fixture(scope="module")
def bitbrains_sample():
    return load_bitbrains_sample()


def _reference_grid(path: Path, start: int, T: int, step=300, max_gap=3):
    """Plain NumPy/Python gridding of one raw file: max per step, short gaps repeat, else 0."""
    with gzip.open(path, "rt") as f:
        f.readline()
        a = np.loadtxt(f, delimiter=";", usecols=(0, 3, 6), ndmin=2)
    out = np.zeros((2, T))
    have = np.zeros(T, bool)
    for ts, c, m in a:
        k = int((ts - start) // step)
        out[:, k] = np.maximum(out[:, k], [max(c, 0), max(m / 2**20, 0)]) if have[k] else [max(c, 0), m / 2**20]
        have[k] = True
    steps = np.flatnonzero(have)
    for a_, b_ in zip(steps[:-1], steps[1:]):
        if 1 < b_ - a_ <= max_gap + 1:
            out[:, a_ + 1:b_] = out[:, [a_]]
    return out


def test_bitbrains_sample_against_raw_files(bitbrains_sample, rng):
    tr = bitbrains_sample
    files = sorted(BITBRAINS.glob("*.csv.gz"), key=lambda p: int(p.name.split(".")[0]))
    assert tr.ids.tolist() == [p.name.split(".")[0] for p in files]
    assert (tr.n, tr.T, tr.n_days, tr.steps_per_day, tr.start) == (250, 7 * 288, 7, 288, MIDNIGHT)
    rows = np.array([gzip.decompress(p.read_bytes()).count(b"\n") - 1 for p in files])
    np.testing.assert_array_equal(tr.meta["rows"], rows)
    assert tr.info["vms_empty"] == int((rows == 0).sum()) and tr.info["rows"] == int(rows.sum())
    nonempty = np.flatnonzero(rows > 0)
    for i in rng.choice(nonempty, 3, replace=False):
        ref = _reference_grid(files[i], tr.start, tr.T)
        np.testing.assert_allclose(tr.shapes[i], ref, rtol=1e-6, atol=0, err_msg=f"VM {tr.ids[i]}")
    assert (tr.shapes[rows == 0] == 0).all() and tr.meta["missing"][rows == 0].all()
    d = tr.day(3)
    np.testing.assert_array_equal(d.shapes, tr.shapes[:, :, 3 * 288:4 * 288])
    assert d.start == MIDNIGHT + 3 * DAY and d.meta["filled"].shape == (250, 288)


# --------------------------------------------------------------------------- files
FMTS = [".npy", ".npz", ".csv", ".csv.gz", ".parquet"]


@pytest.mark.parametrize("fmt", FMTS)
@pytest.mark.parametrize("n,R,T", [(7, 2, 33), (1, 1, 1)])
def test_save_load_round_trip(tmp_path, rng, fmt, n, R, T):
    if fmt == ".parquet":
        pytest.importorskip("pyarrow")
    X = (rng.lognormal(0, 3, (n, R, T)) * rng.choice([-1, 1], (n, R, T))).astype(np.float32)
    X.flat[0] = np.nan
    names = ("r0",) if R == 1 else ("cpu", "mem, GB")
    # ids a CSV must quote (comma, quotes, outer spaces, empty) or just carry (unicode) round-trip too
    odd = ['a,b', 'say "hi"', '"q"', ' padded ', 'µs-ünï €', '', 'x"y']
    ids = np.array([odd[i] if n > 1 else f"vm-{i}" for i in rng.permutation(n)])
    tr = ResourceTrace(ids, X, names, 300, MIDNIGHT, {"tag": np.arange(n)}, {"rows": 3})
    p = save_shapes(tr, tmp_path / f"x{fmt}")
    with pytest.raises(ValueError, match="NaN or infinite value"):  # refused unless asked for
        load_shapes(p)
    back = load_shapes(p, allow_nonfinite=True)
    np.testing.assert_array_equal(back.shapes, X)
    if fmt == ".npy":
        assert back.ids.tolist() == [str(i) for i in range(n)] and back.resources == tuple(f"r{r}" for r in range(R))
        assert (back.step_seconds, back.start) == (60, 0)
        return
    assert back.ids.tolist() == ids.tolist() and back.resources == names
    if fmt in (".npz", ".parquet"):
        assert (back.step_seconds, back.start) == (300, MIDNIGHT)
    if fmt == ".npz":
        np.testing.assert_array_equal(back.meta["tag"], np.arange(n))
        assert back.info == {"rows": 3}
    again = load_shapes(p, step_seconds=900, start=5, allow_nonfinite=True)
    assert (again.step_seconds, again.start) == (900, 5)


def test_npy_memory_map_and_conversion(tmp_path, rng):
    X = rng.random((4, 9)).astype(np.float32)
    np.save(tmp_path / "f32.npy", X)
    tr = load_shapes(tmp_path / "f32.npy")
    assert tr.shapes.shape == (4, 1, 9) and not tr.shapes.flags.writeable  # mapped, read only
    np.testing.assert_array_equal(tr.shapes[:, 0], X)
    assert load_shapes(tmp_path / "f32.npy", mmap=False).shapes.flags.writeable
    Y = np.asfortranarray(rng.random((3, 2, 5)))
    np.save(tmp_path / "f64.npy", Y)
    tr = load_shapes(tmp_path / "f64.npy")
    assert tr.shapes.dtype == np.float32 and tr.shapes.flags.c_contiguous
    np.testing.assert_array_equal(tr.shapes, Y.astype(np.float32))


def test_csv_layouts_reordered_rows_and_one_based_columns(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("id,resource,1,2,3\nb,mem,1,2,3\na,cpu,4,5,6\nb,cpu,7,8,9.5\na,mem,0,0,1e3\n")
    tr = load_shapes(p)
    assert tr.ids.tolist() == ["b", "a"] and tr.resources == ("mem", "cpu")
    np.testing.assert_array_equal(tr.shapes, [[[1, 2, 3], [7, 8, 9.5]], [[0, 0, 1000], [4, 5, 6]]])


@pytest.mark.parametrize("name,content,exc,msg", [
    ("a.csv", "", ValueError, "empty file"),
    ("a.csv", "id,0,1\n", ValueError, "no rows after the header"),
    ("a.csv", "name,0,1\nx,1,2\n", ValueError, "first column must be 'id'"),
    ("a.csv", "id,0,2\nx,1,2\n", ValueError, "step column 2 of the header is '2', expected '1'"),
    ("a.csv", "id\nx\n", ValueError, "no step columns"),
    ("a.csv", "id,0,1\nx,1,2\ny,1\n", ValueError, "line 3: 2 fields, expected 3"),
    ("a.csv", "id,0,1\nx,1,2\ny,1,two\n", ValueError, "line 3: non-numeric value 'two' in column '1'"),
    ("a.csv", "id,0,1\nx,1,2\nx,1,3\n", ValueError, "id 'x' appears more than once \\(line 2 and line 3\\)"),
    ("a.csv", "id,resource,0\nx,cpu,1\ny,mem,2\n", ValueError, "id 'x' has no row for resource 'mem'"),
    ("a.csv", "id,resource,0\nx,cpu,1\nx,cpu,2\n", ValueError, "resource 'cpu' more than once"),
    ("a.csv.gz", b"not gzip", ValueError, "not a valid gzip file"),
    ("a.txt", "id,0\nx,1\n", ValueError, "unknown format"),
    ("a.npy", b"garbage!", ValueError, "not a readable .npy"),
    ("a.npz", b"garbage!", ValueError, "not a readable .npz"),
])
def test_load_shapes_bad_files(tmp_path, name, content, exc, msg):
    p = tmp_path / name
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(exc, match=msg) as e:
        load_shapes(p)
    assert name in str(e.value)


def test_load_shapes_bad_arrays(tmp_path):
    np.save(tmp_path / "one_d.npy", np.zeros(5))
    with pytest.raises(ValueError, match=r"one_d.npy: the array must be \(n, T\) or \(n, R, T\)"):
        load_shapes(tmp_path / "one_d.npy")
    np.save(tmp_path / "no_rows.npy", np.zeros((0, 5)))
    with pytest.raises(ValueError, match="no_rows.npy: no shapes"):
        load_shapes(tmp_path / "no_rows.npy")
    np.save(tmp_path / "text.npy", np.array([["a", "b"]]))
    with pytest.raises(TypeError, match="text.npy: the array must hold real numbers"):
        load_shapes(tmp_path / "text.npy")
    np.savez(tmp_path / "noshapes.npz", X=np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"noshapes.npz: no array named 'shapes' \(found \['X'\]\)"):
        load_shapes(tmp_path / "noshapes.npz")
    np.savez(tmp_path / "obj.npz", shapes=np.zeros((2, 3)), ids=np.array([1, "a"], dtype=object))
    with pytest.raises(ValueError, match="obj.npz: .*[Oo]bject arrays"):
        load_shapes(tmp_path / "obj.npz")
    np.savez(tmp_path / "names.npz", shapes=np.zeros((2, 2, 3)), resources=np.array(["a"]))
    with pytest.raises(ValueError, match="names.npz: shapes has R=2 resources"):
        load_shapes(tmp_path / "names.npz")
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        load_shapes(tmp_path / "missing.csv")
    tr = ResourceTrace(np.array(["a\nb"]), np.zeros((1, 1, 2)), ("r0",), 60, 0)
    with pytest.raises(ValueError, match="contains a line break"):
        save_shapes(tr, tmp_path / "out.csv")
    with pytest.raises(ValueError, match="unknown format"):
        save_shapes(tr, tmp_path / "out.xlsx")


def test_parquet_without_pyarrow_says_how_to_install(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    tr = ResourceTrace(np.array(["a"]), np.zeros((1, 1, 2)), ("r0",), 60, 0)
    with pytest.raises(ImportError, match="pip install pyarrow"):
        save_shapes(tr, tmp_path / "x.parquet")
    (tmp_path / "y.parquet").write_bytes(b"PAR1")
    with pytest.raises(ImportError, match="pip install pyarrow"):
        load_shapes(tmp_path / "y.parquet")


@pytest.mark.parametrize("columns,msg", [
    ({"name": ["a"], "0": [1.0]}, "first column must be 'id'"),
    ({"id": ["a"], "0": [1.0], "2": [1.0]}, "step column 2 of the header is '2'"),
    ({"id": ["a", "b"], "0": [1.0, None]}, "column '0' has 1 missing value"),
    ({"id": ["a"], "0": ["x"]}, "column '0' is not numeric"),
    ({"id": ["a", "a"], "0": [1.0, 2.0]}, "id 'a' appears more than once"),
])
def test_parquet_bad_tables(tmp_path, columns, msg):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    p = tmp_path / "bad.parquet"
    pq.write_table(pa.table(columns), p)
    with pytest.raises(ValueError, match=msg) as e:
        load_shapes(p)
    assert "bad.parquet" in str(e.value)
