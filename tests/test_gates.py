"""The gates CI keeps running: ruff and mypy are clean, and ``import pyshape`` stays light.

ruff and mypy run as subprocesses from the root of the source tree, with the
settings in its pyproject.toml; they skip where that tree is not there (tests
run from an unpacked sdist without it, or from an installed copy) or where the
tool is not installed (both are in the ``test`` extra).
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Optional dependencies that ``import pyshape`` must not load (scikit-learn only when an
#: estimator is first used, matplotlib only for a plot, ...).
HEAVY = ("sklearn", "scipy", "pandas", "matplotlib", "pyarrow", "tqdm", "threadpoolctl", "hypothesis")


def _source_tree() -> Path:
    pyproject = ROOT / "pyproject.toml"
    if not (pyproject.is_file() and (ROOT / "src" / "pyshape").is_dir()
            and "[tool.ruff" in pyproject.read_text(encoding="utf-8")):
        pytest.skip("not run from the source tree (no pyproject.toml with the linters' settings)")
    return ROOT


def _run_gate(module: str, *args: str) -> None:
    root = _source_tree()
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (it is in the test extra: pip install '.[test]')")
    # The linters are not what .ci/sanitize checks: keep its preloaded ASan runtime out of them.
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "PYTHONMALLOC")}
    proc = subprocess.run([sys.executable, "-m", module, *args], cwd=root, env=env, capture_output=True,
                          text=True, timeout=900)
    if proc.returncode != 0:
        pytest.fail(f"`{' '.join((module, *args))}` failed (exit status {proc.returncode}) in {root}:\n"
                    f"{proc.stdout}{proc.stderr}", pytrace=False)


def test_ruff_is_clean() -> None:
    """``ruff check`` over the whole tree (src/pyshape, tests, bench, docs), settings in pyproject.toml."""
    _run_gate("ruff", "check", "--output-format", "concise")


def test_mypy_is_clean() -> None:
    """``mypy`` on src/pyshape: every function annotated (settings in pyproject.toml)."""
    _run_gate("mypy")


def _import_in_fresh_interpreter(code: str) -> dict:
    """Run ``code`` (which prints one JSON object) in a new interpreter; return that object."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


#: The end of those programs: the import time ``dt`` and the heavy modules that got loaded.
_REPORT = ("import json, sys; heavy = set(" + repr(HEAVY) + "); "
           "print(json.dumps({'seconds': dt, 'loaded': sorted({m.split('.')[0] for m in sys.modules} & heavy)}))")


def test_import_pyshape_is_fast_and_light() -> None:
    """``import pyshape`` loads none of the optional dependencies and takes well under a second
    (NumPy, which it needs anyway, imported first and not counted)."""
    code = "import time, numpy; t = time.perf_counter(); import pyshape; dt = time.perf_counter() - t; " + _REPORT
    timed = "asan" not in os.environ.get("LD_PRELOAD", "")  # .ci/sanitize: every allocation is instrumented
    best = None
    for _ in range(3):  # the best of a few tries: a loaded CI machine can stall one of them
        out = _import_in_fresh_interpreter(code)
        assert out["loaded"] == [], f"import pyshape loaded {out['loaded']}"
        best = out["seconds"] if best is None else min(best, out["seconds"])
        if best < 0.5 or not timed:
            break
    assert best < 0.5 or not timed, f"import pyshape took {best:.2f} s (best of 3)"


def test_submodules_other_than_cluster_are_light() -> None:
    """The command line, forecasting, evaluation, reports, plots and trace loaders import
    scikit-learn, matplotlib, ... only inside the functions that use them."""
    mods = ["pyshape.cli", "pyshape.correlate", "pyshape.evaluate", "pyshape.forecast", "pyshape.packing",
            "pyshape.plot", "pyshape.report", "pyshape.synthetic", "pyshape.traces"]
    code = (f"import importlib; dt = 0.0; [importlib.import_module(m) for m in {mods!r}]; "
            "from pyshape.cli import build_parser; build_parser(); " + _REPORT)
    out = _import_in_fresh_interpreter(code)
    assert out["loaded"] == [], f"importing {', '.join(mods)} loaded {out['loaded']}"
