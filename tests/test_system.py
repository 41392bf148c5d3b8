"""Version, SIMD-level switches and progress callbacks."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pyshape

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]


def test_version_matches_pyproject():
    with open(ROOT / "pyproject.toml", "rb") as f:
        version = tomllib.load(f)["project"]["version"]
    assert pyshape.__version__ == version
    from importlib.metadata import version as dist_version

    assert dist_version("pyshape") == version


def test_simd_level_is_available():
    levels = pyshape.available_simd_levels()
    assert levels[0] == "scalar"
    assert set(levels) <= {"scalar", "avx2", "avx512"}
    assert len(set(levels)) == len(levels)
    assert pyshape.simd_level() in levels


def test_set_simd_level_round_trip():
    before = pyshape.simd_level()
    try:
        for level in pyshape.available_simd_levels():
            pyshape.set_simd_level(level)
            assert pyshape.simd_level() == level
    finally:
        pyshape.set_simd_level(before)
    assert pyshape.simd_level() == before


@pytest.mark.parametrize("level", ["sse9", "", "AVX2", "neon", None])
def test_set_simd_level_unknown(level):
    before = pyshape.simd_level()
    with pytest.raises(ValueError, match=r"unknown SIMD level"):
        pyshape.set_simd_level(level)
    assert pyshape.simd_level() == before


def test_set_simd_level_unsupported():
    missing = [lv for lv in ("avx2", "avx512") if lv not in pyshape.available_simd_levels()]
    if not missing:
        pytest.skip("this CPU supports every SIMD level")
    before = pyshape.simd_level()
    with pytest.raises(ValueError, match=rf"does not support SIMD level '{missing[-1]}'"):
        pyshape.set_simd_level(missing[-1])
    assert pyshape.simd_level() == before


def simd_in_subprocess(value):
    env = dict(os.environ)
    env["PYSHAPE_SIMD"] = value
    out = subprocess.run(
        [sys.executable, "-c", "import pyshape; print(pyshape.simd_level())"],
        env=env, capture_output=True, text=True, check=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    return out.stdout.strip()


@pytest.mark.parametrize("level", ["scalar", "avx2", "avx512"])
def test_pyshape_simd_env_is_honoured(level):
    if level not in pyshape.available_simd_levels():
        pytest.skip(f"CPU lacks {level}")
    assert simd_in_subprocess(level) == level


@pytest.mark.parametrize("value", ["bogus", ""])
def test_pyshape_simd_env_impossible_falls_back_to_best(value):
    """An unknown forced level must not break the import: the best is used."""
    assert simd_in_subprocess(value) == pyshape.available_simd_levels()[-1]


# --- progress ------------------------------------------------------------------------

X = np.random.default_rng(0).standard_normal((700, 64)).astype(np.float32)
PROGRESS_CALLS = [
    ("pearson", lambda **kw: pyshape.pearson(X, **kw)),
    ("pearson_xy", lambda **kw: pyshape.pearson(X, X[:300], **kw)),
    ("top_partners", lambda **kw: pyshape.top_partners(X, k=5, **kw)),
    ("top_partners_queries", lambda **kw: pyshape.top_partners(X, k=5, queries=X[:50], **kw)),
    ("lagged", lambda **kw: pyshape.lagged_correlation(X[:60], max_lag=4, **kw)),
]


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("name,call", PROGRESS_CALLS, ids=[c[0] for c in PROGRESS_CALLS])
def test_progress_callback(name, call, n_threads):
    calls = []
    result = call(progress=lambda done, total: calls.append((done, total)), n_threads=n_threads)
    assert calls, "callback never called"
    totals = {t for _, t in calls}
    assert len(totals) == 1 and totals.pop() > 0
    done = [d for d, _ in calls]
    assert all(isinstance(d, int) for d in done)
    assert done == sorted(done), "done went backwards"
    assert 0 <= done[0] and done[-1] == calls[-1][1], f"last call {calls[-1]} is not (total, total)"
    # The callback does not change the result.
    again = call(n_threads=n_threads)
    if isinstance(result, pyshape.Partners):
        result, again = vars(result).values(), vars(again).values()
    if not isinstance(result, np.ndarray):
        for a, b in zip(result, again):
            if a is not None:
                np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_array_equal(result, again)


class Cancel(Exception):
    pass


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("name,call", PROGRESS_CALLS, ids=[c[0] for c in PROGRESS_CALLS])
def test_raising_progress_callback_propagates(name, call, n_threads):
    def cb(done, total):
        raise Cancel(f"stop at {done}/{total}")

    with pytest.raises(Cancel, match=r"stop at \d+/\d+"):
        call(progress=cb, n_threads=n_threads)
    # Nothing is left broken: the next call works and matches a fresh one.
    r = pyshape.pearson(X[:20], n_threads=n_threads)
    np.testing.assert_allclose(np.diag(r), 1, atol=1e-5)


def test_progress_true_without_terminal_is_silent(capfd):
    pyshape.pearson(X, progress=True)
    pyshape.top_partners(X, k=2, progress=True)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_progress_false_and_none():
    a = pyshape.pearson(X[:50], progress=False)
    np.testing.assert_array_equal(a, pyshape.pearson(X[:50], progress=None))
