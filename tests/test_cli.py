"""The command line: every subcommand on small files, the demo, and bad input."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

import pyshape
from pyshape.cli import main

SUBCOMMANDS = ("demo", "correlate", "cluster", "pack", "evaluate", "report", "info")


def _rows(text: str):
    return list(csv.DictReader(text.splitlines()))


@pytest.fixture
def days_npy(tmp_path):
    """Three days of 2 resources at 2-hour steps (12 per day), as .npy."""
    from pyshape.synthetic import make_shapes

    X, _ = make_shapes(40, days=3, step_seconds=7200, n_resources=2, random_state=11)
    path = tmp_path / "days.npy"
    np.save(path, X)
    return path, X


# --------------------------------------------------------------------------- correlate
def test_correlate_npy_to_csv(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 40)).astype(np.float32)
    np.save(tmp_path / "x.npy", X)
    assert main(["correlate", str(tmp_path / "x.npy"), "-k", "2", "-q"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert list(rows[0]) == ["id", "which", "rank", "partner", "score"]  # which: the --which word
    assert len(rows) == 30 * 2 * 2
    r = np.corrcoef(X)
    np.fill_diagonal(r, np.nan)
    for row in rows:
        i, j = int(row["id"]), int(row["partner"])
        assert float(row["score"]) == pytest.approx(r[i, j], abs=1e-5)
        ranked = np.argsort(-r[i] if row["which"] == "corr" else r[i])
        assert j == ranked[int(row["rank"]) - 1]


def test_correlate_csv_to_json(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("id,0,1,2,3\na,1,2,3,4\nb,4,3,2,1\nc,1,3,2,4\n")
    out = tmp_path / "o.json"
    assert main(["correlate", str(p), "-k", "1", "--which", "anti", "-q", "-o", str(out)]) == 0
    recs = json.loads(out.read_text())
    a = next(r for r in recs if r["id"] == "a")
    assert a["partner"] == "b" and a["score"] == pytest.approx(-1.0, abs=1e-6)


# --------------------------------------------------------------------------- cluster
def test_cluster_labels_centroids_plot(days_npy, tmp_path, capsys):
    path, X = days_npy
    cent = tmp_path / "c.csv"
    args = ["cluster", str(path), "-n", "3", "--resource", "1", "--centroids", str(cent), "-q"]
    if _has_matplotlib():
        args += ["--plot", str(tmp_path / "c.png")]
    assert main(args) == 0
    rows = _rows(capsys.readouterr().out)
    labels = np.array([int(r["cluster"]) for r in rows])
    ref = pyshape.CorrelationKMeans(3, random_state=0).fit(X[:, 1, :])
    np.testing.assert_array_equal(labels, ref.labels_)
    C = np.array([[float(v) for v in list(r.values())[1:]] for r in _rows(cent.read_text())])
    np.testing.assert_allclose(C, ref.cluster_centers_, rtol=1e-5, atol=1e-6)
    if _has_matplotlib():
        assert (tmp_path / "c.png").stat().st_size > 1000


# --------------------------------------------------------------------------- pack
def test_pack_matches_the_library(days_npy, tmp_path, capsys):
    path, X = days_npy
    cap = X.max(axis=(0, 2)) * 3
    summ = tmp_path / "s.json"
    assert main(["pack", str(path), "-c", f"{cap[0]},{cap[1]}", "--summary", str(summ), "-q"]) == 0
    rows = _rows(capsys.readouterr().out)
    plan = pyshape.pack(X, cap)
    np.testing.assert_array_equal([int(r["worker"]) for r in rows], plan.assignment)
    s = json.loads(summ.read_text())
    assert s["workers"] == plan.n_workers and s["lower_bound"] == plan.lower_bound


def test_pack_reports_shapes_bigger_than_a_worker(days_npy, capsys):
    path, X = days_npy
    small = X.max(axis=(0, 2)) * 0.5
    assert main(["pack", str(path), "-c", f"{small[0]},{small[1]}", "-q"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "exceed a worker's capacity" in err[0]


# --------------------------------------------------------------------------- evaluate / report
def test_evaluate_writes_summary_and_full_table(days_npy, tmp_path, capsys):
    path, X = days_npy
    cap = X.max(axis=(0, 2)) * 3
    c = f"{cap[0]},{cap[1]}"
    out = tmp_path / "e.csv"
    assert main(["evaluate", str(path), "-c", c, "--step-seconds", "7200", "--forecasters", "naive,max",
                 "--headroom", "0,0.1", "-o", str(out), "-q"]) == 0
    rows = _rows(out.read_text())
    assert {r["forecaster"] for r in rows} == {"naive", "max", "oracle", "rolling"}
    assert len(rows) == 3 * 2 * 2 + 2  # and one out-of-sample row per strategy
    assert main(["evaluate", str(path), "-c", c, "--step-seconds", "7200", "--forecasters", "naive",
                 "--headroom", "0", "--full", "-q"]) == 0
    full = _rows(capsys.readouterr().out)
    assert {int(r["day"]) for r in full} == {1, 2}


def test_report_writes_files(days_npy, tmp_path, capsys):
    path, X = days_npy
    cap = X.max(axis=(0, 2)) * 3
    outdir = tmp_path / "rep"
    args = ["report", str(path), "-c", f"{cap[0]},{cap[1]}", "--step-seconds", "7200", "-d", str(outdir),
            "--format", "html", "-q"]
    if not _has_matplotlib():
        args.append("--no-plots")
    assert main(args) == 0
    printed = capsys.readouterr().out.split()
    text = (outdir / "report.html").read_text()
    assert str(outdir / "report.html") in printed
    assert "<table>" in text and "Plan on a forecast" in text
    if _has_matplotlib():
        for name in ("centroids.png", "plan_comparison.png", "frontier.png"):
            assert (outdir / name).stat().st_size > 1000


# --------------------------------------------------------------------------- demo
def test_demo_runs_on_the_bundled_samples(tmp_path, capsys):
    args = ["demo", "-d", str(tmp_path / "demo"), "-c", "128000,256", "-q"]
    if not _has_matplotlib():
        args.append("--no-plots")
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Azure Functions 2019 sample: 1000 functions x 60 minutes" in out
    assert "Bitbrains Rnd sample" in out and "savings vs peak" in out
    assert (tmp_path / "demo" / "report.md").exists()
    if _has_matplotlib():
        assert (tmp_path / "demo" / "plan_comparison.png").stat().st_size > 1000


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "content,msg",
    [
        (None, "no such file"),
        ("id,0,1\n", "no rows"),
        ("id,0,1\na,1,x\n", "non-numeric"),
        ("id,0,1\na,1,nan\nb,1,2\n", "NaN"),
    ],
)
@pytest.mark.parametrize("command", ["correlate", "cluster", "pack", "evaluate", "report"])
def test_bad_input_is_one_line_and_nonzero(tmp_path, capsys, content, msg, command):
    p = tmp_path / "bad.csv"
    if content is not None:
        p.write_text(content)
    extra = {"correlate": ["-k", "1"], "cluster": ["-n", "1"], "pack": ["-c", "5"],
             "evaluate": ["-c", "5", "--step-seconds", "60"],
             "report": ["-c", "5", "--step-seconds", "60", "-d", str(tmp_path / "r")]}[command]
    assert main([command, str(p), *extra, "-q"]) == 1
    out, err = capsys.readouterr()
    err = err.strip().splitlines()
    assert out == ""
    assert len(err) == 1 and err[0].startswith(f"pyshape {command}: error:")
    assert msg.lower() in err[0].lower()


@pytest.mark.parametrize("args,msg", [
    (["pack", "{p}", "-c", "1,2,3"], "--capacity needs 2 values for 2 resources (r0, r1), got 3: 1,2,3"),
    (["pack", "{p}", "-c", "32000"], "--capacity needs 2 values for 2 resources (r0, r1), got 1: 32000"),
    (["pack", "{p}", "-c", "0,0"], "--capacity values must be positive, got 0, 0"),
    (["pack", "{p}", "-c", "1,nan"], "--capacity must be finite numbers"),
    (["pack", "{p}", "-c", "x"], "--capacity must be comma-separated numbers"),
    (["pack", "{p}", "-c", "100", "--headroom", "1.5"], "--headroom values are fractions"),
    (["evaluate", "{p}", "-c", "100", "--forecasters", "crystal"], "unknown forecaster"),
    (["correlate", "{p}", "-k", "40"], "-k must be in 1..39 for 40 shapes, got 40"),
    (["correlate", "{p}", "--resource", "gpu"], "--resource 'gpu' is not one of"),
    (["cluster", "{p}", "-n", "1000"], "--n-clusters must be in"),
    (["correlate", "{p}", "-o", "{d}/x.xlsx"], "unknown output format"),
])
def test_bad_options_are_one_line(days_npy, tmp_path, capsys, args, msg):
    path, _ = days_npy
    argv = [a.format(p=path, d=tmp_path) for a in args] + ["-q"]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and msg in err[0] and err[0].startswith(f"pyshape {args[0]}: error: ")


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_help_everywhere(command, capsys):
    with pytest.raises(SystemExit) as e:
        main([command, "--help"])
    assert e.value.code == 0
    assert "usage: pyshape " + command in capsys.readouterr().out


def test_entry_point_help_version_and_usage_error():
    run = lambda *a: subprocess.run([sys.executable, "-m", "pyshape.cli", *a],  # noqa: E731
                                    capture_output=True, text=True)
    out = run("--help")
    assert out.returncode == 0 and all(c in out.stdout for c in SUBCOMMANDS)
    out = run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"pyshape {pyshape.__version__}"
    assert run("nope").returncode == 2


def test_info(capsys):
    assert main(["info"]) == 0
    assert pyshape.simd_level() in capsys.readouterr().out


def _has_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


# --------------------------------------------------------------------------- grids, outputs, pipes
def _bitbrains_sample_dir():
    from importlib import resources

    return str(resources.files("pyshape") / "data" / "bitbrains_rnd_2013_07")


def test_step_seconds_resamples_a_bitbrains_folder(capsys):
    folder = _bitbrains_sample_dir()
    assert main(["evaluate", folder, "-c", "1e9,1e9", "--step-seconds", "600", "--forecasters", "naive",
                 "--strategies", "peak", "--headroom", "0", "--full", "-q"]) == 0
    days = {int(r["day"]) for r in _rows(capsys.readouterr().out)}
    assert days == set(range(1, 7))                 # 7 days on a 600 s grid, not 14 half-days


def test_evaluate_needs_the_step_of_a_csv(tmp_path, days_npy, capsys):
    path, X = days_npy
    assert main(["evaluate", str(path), "-c", "1e9,1e9", "-q"]) == 1
    assert "pass --step-seconds" in capsys.readouterr().err
    assert main(["evaluate", str(path), "-c", "1e9,1e9", "--step-seconds", "7000", "-q"]) == 1
    assert "does not divide a day" in capsys.readouterr().err


def test_evaluate_refuses_shapes_bigger_than_a_worker(days_npy, capsys):
    path, X = days_npy
    small = X.max(axis=(0, 2)) * 0.5
    assert main(["evaluate", str(path), "-c", f"{small[0]},{small[1]}", "--step-seconds", "7200", "-q"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "exceed a worker's capacity" in err


@pytest.mark.parametrize("args,msg", [
    (["pack", "{p}", "-c", "1e9,1e9", "--summary", "{d}/no/such/dir/s.json"], "does not exist"),
    (["pack", "{p}", "-c", "1e9,1e9", "--summary", "-"], "--summary needs a file name"),
    (["cluster", "{p}", "-n", "2", "--centroids", "-"], "--centroids needs a file name"),
    (["pack", "{p}", "-c", "1e9,1e9", "--plot", "{d}/x.png", "-o", "{d}/a.xlsx"], "unknown output format"),
    (["report", "{p}", "-c", "1e9,1e9", "--step-seconds", "7200", "-d", "{p}"], "not a folder"),
])
def test_outputs_are_checked_before_any_work(days_npy, tmp_path, capsys, args, msg):
    path, _ = days_npy
    assert main([a.format(p=path, d=tmp_path) for a in args] + ["-q"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and msg in err and len(err.strip().splitlines()) == 1


def test_piping_into_head_is_quiet(days_npy):
    path, _ = days_npy
    cmd = f"{sys.executable} -m pyshape.cli correlate {path} -k 5 -q | head -1"
    out = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    assert out.stdout == "id,which,rank,partner,score\n"
    assert out.stderr == ""


def test_azure_invocations_file_is_read_with_its_siblings(capsys):
    from importlib import resources

    from pyshape.traces import load_azure_sample

    inv = str(resources.files("pyshape") / "data" / "azure_functions_2019" / "invocation_traces.csv")
    assert main(["pack", inv, "-c", "1e6,1e9", "-s", "first_fit", "-q"]) == 0
    rows = _rows(capsys.readouterr().out)
    tr = load_azure_sample()
    assert len(rows) == tr.n
    plan = pyshape.pack(tr.shapes, [1e6, 1e9], strategy="first_fit")
    np.testing.assert_array_equal([int(r["worker"]) for r in rows], plan.assignment)


# --------------------------------------------------------------------------- hardening: checks before work, one line
def _one_error_line(capsys, command):
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1 and lines[0].startswith(f"pyshape {command}: error: "), err
    return lines[0]


@pytest.mark.parametrize("args,msg", [
    (["-d", "{f}/sub"], "is not a folder"),
    (["-d", "{f}"], "exists and is not a folder"),
    (["-d", "/proc/pyshape-demo"], "cannot write in /proc"),
    (["-c", "32000"], "--capacity needs 2 values for 2 resources (cpu_mhz, mem_gb), got 1"),
    (["-c", "0,0"], "--capacity values must be positive, got 0, 0"),
])
def test_demo_checks_its_arguments_before_any_work(tmp_path, capsys, args, msg):
    f = tmp_path / "a_file"
    f.write_text("")
    t0 = time.perf_counter()
    assert main(["demo", *[a.format(f=f) for a in args], "--no-plots", "-q"]) == 1
    assert msg in _one_error_line(capsys, "demo")       # and nothing on stdout: no part of the demo ran
    assert time.perf_counter() - t0 < 2


@pytest.mark.parametrize("args,msg", [
    (["correlate", "{p}", "-k", "0"], "argument -k: must be a positive integer, got 0"),
    (["correlate", "{p}", "-k", "x"], "argument -k: must be a positive integer, got 'x'"),
    (["cluster", "{p}", "-n", "-2"], "argument -n/--n-clusters: must be a positive integer, got -2"),
    (["cluster", "{p}", "--n-init", "0"], "argument --n-init: must be a positive integer, got 0"),
    (["cluster", "{p}", "--seed", "-1"], "argument --seed: must be a non-negative integer, got -1"),
    (["pack", "{p}", "-c", "1e9,1e9", "--risk", "1"], "argument --risk: must be a fraction in [0, 1), got 1"),
    (["pack", "{p}", "-c", "1e9,1e9", "--step-seconds", "0"], "argument --step-seconds: must be a positive"),
    (["evaluate", "{p}", "-c", "1e9,1e9", "--min-history", "0"], "argument --min-history: must be a positive"),
    (["evaluate", "{p}", "-c", "1e9,1e9", "--max-overflow", "nan"], "argument --max-overflow: must be a fraction"),
    (["demo", "--max-overflow", "2"], "argument --max-overflow: must be a fraction in [0, 1], got 2"),
    (["pack", "{p}"], "one of the arguments -c/--capacity --worker-type --types is required"),
    (["pack", "{p}", "-c", "5,5", "--worker-type", "a:1,2:1"], "argument --worker-type: not allowed with"),
])
def test_usage_errors_are_one_line_exit_2(days_npy, capsys, args, msg):
    path, _ = days_npy
    with pytest.raises(SystemExit) as e:
        main([a.format(p=path) for a in args])
    assert e.value.code == 2
    line = _one_error_line(capsys, args[0])
    assert msg in line and line.endswith(f"(see 'pyshape {args[0]} --help')")


def test_outputs_to_dev_null_and_stdout(days_npy, capsys):
    path, _ = days_npy
    assert main(["pack", str(path), "-c", "1e9,1e9", "-o", os.devnull, "--summary", os.devnull, "-q"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["correlate", str(path), "-k", "2", "-o", "-", "-q"]) == 0
    assert capsys.readouterr().out.startswith("id,which,rank,partner,score")


@pytest.mark.parametrize("args,msg", [
    (["pack", "{missing}", "-c", "1e9,1e9", "-o", "/proc/x.csv"], "-o /proc/x.csv: cannot write"),
    (["cluster", "{missing}", "-n", "2", "--plot", "/proc/x.png"], "--plot /proc/x.png: cannot write"),
    (["cluster", "{missing}", "-n", "2", "--centroids", "{d}"], "--centroids {d}: is a folder"),
    (["report", "{missing}", "-c", "1e9,1e9", "-d", "/proc/r"], "-d /proc/r: cannot write in /proc"),
])
def test_unwritable_outputs_are_refused_before_reading_the_input(tmp_path, capsys, args, msg):
    if not os.path.isdir("/proc/self"):
        pytest.skip("needs /proc")
    fmt = dict(missing=tmp_path / "missing.npy", d=tmp_path)
    assert main([a.format(**fmt) for a in args] + ["-q"]) == 1
    assert msg.format(**fmt) in _one_error_line(capsys, args[0])


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes anywhere")
def test_read_only_folder_is_refused(days_npy, tmp_path, capsys):
    path, _ = days_npy
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert main(["pack", str(path), "-c", "1e9,1e9", "-o", str(ro / "x.csv"), "-q"]) == 1
        assert "cannot write" in _one_error_line(capsys, "pack")
        assert main(["report", str(path), "-c", "1e9,1e9", "--step-seconds", "7200", "-d", str(ro / "r")]) == 1
        assert "cannot write" in _one_error_line(capsys, "report")
    finally:
        ro.chmod(0o700)


def test_numeric_ids_print_as_plain_numbers(tmp_path, capsys):
    from pyshape.traces import ResourceTrace, save_shapes

    X = np.ones((4, 2, 12), dtype=np.float32)
    X[2, 0, 3] = np.nan
    p = save_shapes(ResourceTrace(np.arange(4), X, ("cpu", "mem"), 7200, 0), tmp_path / "n.npz")
    assert main(["pack", str(p), "-c", "10,10", "-q"]) == 1
    line = _one_error_line(capsys, "pack")
    assert "shape '2' (row 2)" in line and "np." not in line
    X[2, 0, 3] = 50
    p = save_shapes(ResourceTrace(np.arange(4), X, ("cpu", "mem"), 7200, 0), tmp_path / "n.npz")
    assert main(["pack", str(p), "-c", "10,10", "-q"]) == 1
    line = _one_error_line(capsys, "pack")
    assert line.endswith("1 shape(s) exceed a worker's capacity: 2") and "np." not in line


def test_broken_files_are_one_line(tmp_path, capsys):
    from pyshape.traces import ResourceTrace, save_shapes

    whole = save_shapes(ResourceTrace(np.arange(3), np.ones((3, 1, 40)), ("r0",), 60, 0), tmp_path / "x.npz")
    cut = tmp_path / "cut.npz"
    cut.write_bytes(whole.read_bytes()[:300])
    assert main(["pack", str(cut), "-c", "5", "-q"]) == 1
    assert "cut.npz: not a readable .npz file" in _one_error_line(capsys, "pack")
    big = tmp_path / "big.csv"
    big.write_text("id,0,1\na,1,2\nb,3,1e39\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["correlate", str(big), "-k", "1", "-q"]) == 1
    line = _one_error_line(capsys, "correlate")
    assert "big.csv, line 3: value 1e+39 in column '1' is beyond the float32 range" in line
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["cluster", str(empty), "-n", "1", "-q"]) == 1     # a folder without Bitbrains files
    assert "no <vm>.csv" in _one_error_line(capsys, "cluster")


def test_help_documents_capacity_per_resource(capsys):
    with pytest.raises(SystemExit):
        main(["pack", "--help"])
    assert "one value per resource" in " ".join(capsys.readouterr().out.split())
