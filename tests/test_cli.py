"""The command line: demo on the bundled sample, correlate on files, bad input."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from pyshape.cli import main


def test_demo_runs_on_bundled_sample(capsys, tmp_path):
    png = tmp_path / "demo.png"
    pytest.importorskip("matplotlib")
    assert main(["demo", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "1000 functions x 60 minutes" in out
    assert "anti-correlated" in out
    assert png.stat().st_size > 1000


def test_correlate_npy_to_csv(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 40)).astype(np.float32)
    np.save(tmp_path / "x.npy", X)
    assert main(["correlate", str(tmp_path / "x.npy"), "-k", "2", "-q"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "id,kind,rank,partner,score"
    assert len(lines) == 1 + 30 * 2 * 2
    # The first corr partner of shape 0 is its most correlated other shape.
    r = np.corrcoef(X)
    np.fill_diagonal(r, -2)
    first = [ln for ln in lines if ln.startswith("0,corr,1,")][0].split(",")
    assert int(first[3]) == int(np.argmax(r[0]))


def test_correlate_csv_output_file(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("id,1,2,3,4\na,1,2,3,4\nb,4,3,2,1\nc,1,3,2,4\n")
    out = tmp_path / "o.csv"
    assert main(["correlate", str(p), "-k", "1", "--which", "anti", "-q", "-o", str(out)]) == 0
    rows = out.read_text().splitlines()
    assert rows[1].startswith("a,anti,1,b,-1.0")


@pytest.mark.parametrize(
    "content,msg",
    [
        (None, "no such file"),
        ("id,1,2\n", "empty trace"),
        ("id,1,2\na,1,x\n", "non-numeric"),
        ("id,1,2\na,1,nan\nb,1,2\n", "NaN"),
    ],
)
def test_bad_input_is_one_line_and_nonzero(tmp_path, capsys, content, msg):
    p = tmp_path / "bad.csv"
    if content is not None:
        p.write_text(content)
    assert main(["correlate", str(p), "-k", "1", "-q"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("pyshape: error:") and msg in err[0]


def test_entry_point_help_and_version():
    out = subprocess.run([sys.executable, "-m", "pyshape.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "demo" in out.stdout
    out = subprocess.run([sys.executable, "-m", "pyshape.cli", "nope"], capture_output=True, text=True)
    assert out.returncode == 2
