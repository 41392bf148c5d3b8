"""The CLI's input side: long and invocation tables, Azure files under any names, periods, the cache, convert."""
from __future__ import annotations

import csv
import shutil
from importlib import resources
from pathlib import Path

import numpy as np

from pyshape.cli import main

DAY = 86400
T0 = 1_700_006_400


def _run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def _long_csv(path: Path, rng, days=2, n=6, step=1800):
    """A long table with jitter, duplicates, shuffled rows and ISO times with an offset."""
    rows = []
    for i in range(n):
        for k in range(days * DAY // step):
            if k % 17 == 5:
                continue                                       # a gap
            t = T0 + k * step + rng.uniform(0, step / 2)
            for _ in range(2 if k % 11 == 0 else 1):           # duplicates
                iso = np.datetime_as_string(np.datetime64(int(t) + 7200, "s")) + "+02:00"
                rows.append((f"vm{i}", iso, rng.uniform(0, 4), rng.uniform(1, 8)))
    rng.shuffle(rows)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["machine", "ts", "cpu", "mem"])
        w.writerows(rows)
    return path


def test_long_csv_to_pack_and_evaluate_in_one_command(tmp_path, capsys, rng):
    path = _long_csv(tmp_path / "usage.csv", rng)
    rc, out, err = _run(capsys, "pack", path, "--id-col", "machine", "--time-col", "ts", "--step", "30min",
                        "-c", "8,20", "-o", tmp_path / "plan.csv")
    assert rc == 0, err
    assert "6 ids x 2 resources x 96 steps of 1800 s" in err
    assert len(list(csv.DictReader((tmp_path / "plan.csv").read_text().splitlines()))) == 6
    rc, out, err = _run(capsys, "evaluate", path, "--format", "long", "--id-col", "machine", "--time-col", "ts",
                        "--value-cols", "cpu", "--agg", "mean", "-c", "8", "--forecasters", "naive",
                        "-o", "/dev/null")
    assert rc == 0, err
    rc, out, err = _run(capsys, "pack", path, "--format", "long", "--time-col", "ts", "-c", "8,20")
    assert rc == 1 and err.count("\n") == 1 and "no column 'id'" in err


def test_invocation_table_to_evaluate(tmp_path, capsys, rng):
    m = 3000
    end = rng.uniform(0, 2 * DAY, m)
    path = tmp_path / "invocations.txt"
    with open(path, "w") as f:
        f.write("app,func,end_timestamp,duration\n")
        for e, d, a in zip(end, rng.exponential(300, m), rng.integers(0, 5, m)):
            f.write(f"app{a},f{a % 2},{e:.3f},{d:.3f}\n")
    rc, out, err = _run(capsys, "evaluate", path, "--step", "1h", "-c", "50", "--forecasters", "naive,max",
                        "-o", tmp_path / "bt.csv")
    assert rc == 0, err
    assert "5 ids x 1 resources x 48 steps of 3600 s" in err
    rc, out, err = _run(capsys, "pack", path, "--step", "1h", "--how", "max", "-c", "50", "--day", "1")
    assert rc == 0 and "x 24 steps" in err


def test_bitbrains_folder_days_progress_and_cache(tmp_path, capsys):
    folder = Path(str(resources.files("pyshape") / "data" / "bitbrains_rnd_2013_07"))
    args = ("pack", folder, "-c", "32000,64", "-o", "/dev/null", "--days", "1:3")
    rc, _, err1 = _run(capsys, *args)
    rc2, _, err2 = _run(capsys, *args)
    assert rc == rc2 == 0
    assert "x 576 steps" in err1 and "(cached)" not in err1 and "(cached)" in err2

    def plan(err):  # the same plan, timing aside
        return err.splitlines()[1].split(") in ")[0]

    assert plan(err1) == plan(err2)
    rc, _, err = _run(capsys, *args, "--no-cache")
    assert rc == 0 and "(cached)" not in err
    rc, _, err = _run(capsys, "pack", folder, "-c", "32000,64", "--day", "9")
    assert rc == 1 and "the trace has 7 whole day(s)" in err
    rc, _, err = _run(capsys, "pack", folder, "-c", "32000,64", "--start", "2013-07-02T00:00:00Z",
                      "--end", "2013-07-02T12:00:00+02:00", "-o", "/dev/null")
    assert rc == 0 and "x 120 steps" in err
    rc, _, err = _run(capsys, "pack", folder, "-c", "32000,64", "--days", "x")
    assert rc == 1 and "--days must be" in err


def test_azure_2019_files_under_any_names(tmp_path, capsys):
    src = Path(str(resources.files("pyshape") / "data" / "azure_functions_2019"))
    shutil.copy(src / "invocation_traces.csv", tmp_path / "calls_day1.csv")
    shutil.copy(src / "duration_traces.csv", tmp_path / "times.csv")
    shutil.copy(src / "memory_traces.csv", tmp_path / "ram.csv")
    rc, _, err = _run(capsys, "pack", tmp_path / "calls_day1.csv", "-c", "100,100000", "-o", "/dev/null")
    assert rc == 0, err
    shutil.copy(src / "duration_traces.csv", tmp_path / "times_again.csv")
    rc, _, err = _run(capsys, "pack", tmp_path / "calls_day1.csv", "-c", "100,100000", "--no-cache")
    assert rc == 1 and "2 files look like durations files" in err and "--durations FILE" in err
    rc, _, err = _run(capsys, "pack", tmp_path / "calls_day1.csv", "-c", "100,100000", "-o", "/dev/null",
                      "--durations", tmp_path / "times.csv")
    assert rc == 0, err


def test_convert_writes_whole_files_or_nothing(tmp_path, capsys, rng):
    path = _long_csv(tmp_path / "usage.csv", rng, days=1)
    rc, _, err = _run(capsys, "convert", path, tmp_path / "u.npz", "--id-col", "machine", "--time-col", "ts")
    assert rc == 0, err
    from pyshape.traces import load_shapes
    tr = load_shapes(tmp_path / "u.npz")
    assert tr.shapes.shape == (6, 2, 48) and tr.step_seconds == 1800 and "filled" in tr.meta
    rc, _, err = _run(capsys, "convert", tmp_path / "u.npz", tmp_path / "u_long.csv", "--long")
    assert rc == 0 and (tmp_path / "u_long.csv").read_text().splitlines()[0].strip() == "id,time,cpu,mem"
    bad = tmp_path / "bad.csv"
    bad.write_text("machine,ts,cpu\nvm0,2024-01-01T00:00:00,1\nvm0,not a time,2\n")
    rc, _, err = _run(capsys, "convert", bad, tmp_path / "out.npz", "--id-col", "machine", "--time-col", "ts")
    assert rc == 1 and err.count("\n") == 1 and "cannot read 'not a time'" in err
    assert not (tmp_path / "out.npz").exists()
    assert not [q for q in tmp_path.iterdir() if q.name.startswith(".out.npz")]
    rc, _, err = _run(capsys, "convert", path, tmp_path / "out.xlsx", "--id-col", "machine", "--time-col", "ts")
    assert rc == 1 and "unknown output format" in err
