"""Loaders on hostile files: clear ValueErrors (no NumPy warnings, no zipfile tracebacks), bounded memory."""
from __future__ import annotations

import gzip
import time
import tracemalloc
import warnings

import numpy as np
import pytest

from pyshape.traces import ResourceTrace, load_bitbrains, load_shapes, save_shapes

BB_HEADER = ("Timestamp [ms];\tCPU cores;\tCPU capacity provisioned [MHZ];\tCPU usage [MHZ];\tCPU usage [%];\t"
             "Memory capacity provisioned [KB];\tMemory usage [KB];\tDisk read throughput [KB/s];\t"
             "Disk write throughput [KB/s];\tNetwork received throughput [KB/s];\t"
             "Network transmitted throughput [KB/s]")


def _bb(path, rows):
    lines = [BB_HEADER] + [f"{t};\t2;\t5000.0;\t{c};\t1.0;\t8000000.0;\t{m};\t0.0;\t1.0;\t0.5;\t0.25"
                           for t, c, m in rows]
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    return path


def _peak(fn, *args, **kw):
    """(exception raised or result, peak traced MiB, seconds)."""
    tracemalloc.start()
    t = time.perf_counter()
    try:
        out = fn(*args, **kw)
    except Exception as e:
        out = e
    dt = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out, peak, dt


@pytest.fixture(autouse=True)
def _no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# --------------------------------------------------------------------------- Bitbrains time span
@pytest.mark.parametrize("t1", [9.9e10, 3e9])
def test_bitbrains_absurd_time_span_is_refused_before_any_grid(tmp_path, t1):
    _bb(tmp_path / "1.csv.gz", [(0, 1.0, 1.0), (t1, 2.0, 2.0)])
    err, peak, dt = _peak(load_bitbrains, tmp_path)
    assert isinstance(err, ValueError), err
    assert "span" in str(err) and "max_steps" in str(err) and str(tmp_path) in str(err)
    assert peak < 20 and dt < 5


def test_bitbrains_span_limit_and_override(tmp_path):
    D = 86400
    _bb(tmp_path / "1.csv.gz", [(0, 1.0, 1.0), (40 * D, 2.0, 2.0)])  # 40 days, 2 rows: 11521 steps
    with pytest.raises(ValueError, match="11521 steps"):
        load_bitbrains(tmp_path)
    tr = load_bitbrains(tmp_path, max_steps=20000)
    assert tr.T == 11521
    with pytest.raises(ValueError, match="more than max_steps=100"):
        load_bitbrains(tmp_path, max_steps=100)
    with pytest.raises(ValueError, match="max_steps must be a positive integer, got 0"):
        load_bitbrains(tmp_path, max_steps=np.int64(0))
    _bb(tmp_path / "1.csv.gz", [(0, 1.0, 1.0), (30 * D, 2.0, 2.0)])  # within a month: fine
    assert load_bitbrains(tmp_path).T == 30 * 288 + 1


def test_bitbrains_counts_negative_rows(tmp_path):
    _bb(tmp_path / "1.csv.gz", [(0, -1.0, 1.0), (300, 1.0, -5.0), (600, -1.0, -1.0), (900, 1.0, 1.0)])
    tr = load_bitbrains(tmp_path)
    assert tr.info["negative_rows"] == 3 and (tr.shapes >= 0).all()


def test_bitbrains_huge_header_line_is_refused_early(tmp_path):
    p = tmp_path / "1.csv.gz"
    p.write_bytes(gzip.compress(b"x" * (50 << 20)))  # one 50 MB line, 50 KB on disk
    err, peak, dt = _peak(load_bitbrains, p)
    assert isinstance(err, ValueError) and "not a Bitbrains file" in str(err), err
    assert peak < 5 and dt < 5


def test_bitbrains_messages_print_plain_numbers(tmp_path):
    with pytest.raises(ValueError, match=r"got 7$"):
        load_bitbrains(tmp_path, step_seconds=np.int64(7))
    with pytest.raises(ValueError, match=r"got -1$"):
        load_bitbrains(tmp_path, max_gap_steps=np.int64(-1))


# --------------------------------------------------------------------------- wide CSV
def test_csv_value_beyond_float32_names_line_and_column(tmp_path):
    p = tmp_path / "big.csv"
    p.write_text("id,0,1\na,1,2\nb,3,1e39\n")
    with pytest.raises(ValueError, match=r"big.csv, line 3: value 1e\+39 in column '1' is beyond the float32 range"):
        load_shapes(p)


def test_one_line_50mb_csv_is_refused_by_its_header(tmp_path):
    p = tmp_path / "one.csv.gz"
    p.write_bytes(gzip.compress(b"name," + b"1," * (25 << 20)))
    err, peak, dt = _peak(load_shapes, p)
    assert isinstance(err, ValueError) and "first column must be 'id'" in str(err), err
    assert peak < 8 and dt < 5


def test_overlong_header_is_refused(tmp_path, monkeypatch):
    import pyshape.traces._text as text

    monkeypatch.setattr(text, "HEADER_LIMIT", 1 << 20)
    p = tmp_path / "wide.csv"
    p.write_text("id," + ",".join(map(str, range(300_000))) + "\n")
    with pytest.raises(ValueError, match="header line is longer than 1 MiB"):
        text.read_lines(p, header_limit=text.HEADER_LIMIT)


def test_wide_header_is_checked_without_a_list_of_labels(tmp_path):
    T = 200_003
    p = tmp_path / "wide.csv"
    labels = list(map(str, range(T)))
    labels[150_001] = "x"
    p.write_text("id," + ",".join(labels) + "\n" + "a," + ",".join(["1"] * T) + "\n")
    with pytest.raises(ValueError, match="step column 150002 of the header is 'x', expected '150001'"):
        load_shapes(p)
    labels[150_001] = " 150001 "  # spaces around labels are fine
    p.write_text("id," + ",".join(labels) + "\n" + "a," + ",".join(["1"] * T) + "\n")
    assert load_shapes(p).T == T


def test_gzip_bomb_csv_peaks_at_a_small_multiple_of_its_data(tmp_path):
    T, n = 500, 10_000
    row = ",".join(["0"] * T)
    body = "".join(f"s{i},{row}\n" for i in range(n))
    data = ("id," + ",".join(map(str, range(T))) + "\n" + body).encode()
    p = tmp_path / "bomb.csv.gz"
    p.write_bytes(gzip.compress(data + b"last,oops" + b",0" * (T - 1) + b"\n", 9))
    assert p.stat().st_size < 100_000 and len(data) > 9 << 20
    err, peak, dt = _peak(load_shapes, p)
    assert isinstance(err, ValueError) and f"line {n + 2}: non-numeric value 'oops'" in str(err), err
    result_mib = n * T * 4 / 2**20  # the float32 rows kept before the bad line
    assert peak < 3 * result_mib + 10, peak    # was ~5x before the rows were parsed in chunks
    p.write_bytes(gzip.compress(data, 9))
    tr, peak, _ = _peak(load_shapes, p)
    assert tr.shapes.shape == (n, 1, T) and peak < 3 * result_mib + 10, peak


def test_csv_rows_of_any_order_and_ragged_lines(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("id,resource,0,1\n\nb,mem,1,2\na,cpu,3,4\nb,cpu,5,6\na,mem,7,8\n")
    tr = load_shapes(p)
    assert tr.ids.tolist() == ["b", "a"] and tr.resources == ("mem", "cpu")
    np.testing.assert_array_equal(tr.shapes[1, 1], [3, 4])
    p.write_text("id,0,1\na,1,2\nb,1\n")
    with pytest.raises(ValueError, match=r"x.csv, line 3: 2 fields, expected 3"):
        load_shapes(p)
    p.write_text('id,0,1\n"a,1,2\n')
    with pytest.raises(ValueError, match=r"line 2: a quoted field is not closed"):
        load_shapes(p)


@pytest.mark.parametrize("fmt", [".csv", ".csv.gz", ".npz", ".parquet"])
def test_odd_ids_round_trip(tmp_path, fmt):
    if fmt == ".parquet":
        pytest.importorskip("pyarrow")
    ids = np.array(["a,b", 'say "hi"', '"', " lead", "trail ", "ünï€ 😀", "", "x;y\tz"])
    X = np.arange(len(ids) * 2 * 3, dtype=np.float32).reshape(len(ids), 2, 3)
    tr = ResourceTrace(ids, X, ("cpu, MHz", 'mem "GB"'), 60, 0)
    back = load_shapes(save_shapes(tr, tmp_path / f"x{fmt}"))
    assert back.ids.tolist() == ids.tolist() and back.resources == tr.resources
    np.testing.assert_array_equal(back.shapes, X)


# --------------------------------------------------------------------------- binary formats, non-finite values
def test_truncated_npz_is_a_value_error_naming_the_file(tmp_path):
    tr = ResourceTrace(np.array(["a", "b"]), np.ones((2, 1, 50)), ("r0",), 60, 0)
    whole = save_shapes(tr, tmp_path / "x.npz").read_bytes()
    for cut in (10, 200, len(whole) // 2, len(whole) - 5):
        p = tmp_path / f"cut{cut}.npz"
        p.write_bytes(whole[:cut])
        with pytest.raises(ValueError, match=f"cut{cut}.npz: not a readable .npz file"):
            load_shapes(p)


def test_nonfinite_shapes_are_refused_unless_allowed(tmp_path):
    X = np.ones((4, 2, 5), dtype=np.float32)
    X[2, 1, 3] = np.inf
    X[3, 0, 0] = np.nan
    tr = ResourceTrace(np.array(["a", "b", "c", "d"]), X, ("cpu", "mem"), 60, 0)
    for fmt in (".npy", ".npz", ".csv"):
        p = save_shapes(tr, tmp_path / f"x{fmt}")
        first = "'2'" if fmt == ".npy" else "'c'"
        with pytest.raises(ValueError, match=f"shape {first} \\(row 2\\) has a NaN or infinite value; 2 shape"):
            load_shapes(p)
        np.testing.assert_array_equal(load_shapes(p, allow_nonfinite=True).shapes, X)


def test_float64_beyond_float32_is_a_value_error(tmp_path):
    a = np.ones((3, 4))
    a[1, 2] = -1e39
    np.save(tmp_path / "big.npy", a)
    with pytest.raises(ValueError, match=r"big.npy: value -1e\+39 at index \(1, 0, 2\) is beyond the float32"):
        load_shapes(tmp_path / "big.npy")
    with pytest.raises(ValueError, match="beyond the float32 range"):
        ResourceTrace(np.arange(3), a[:, None, :], ("r0",), 60, 0)
    with pytest.raises(ValueError, match=r"step_seconds must be a positive integer, got 0$"):
        ResourceTrace(np.arange(3), np.ones((3, 1, 4)), ("r0",), np.int64(0), 0)
