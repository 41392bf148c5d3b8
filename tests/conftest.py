"""Fixtures shared by the tests: every SIMD level the CPU has, and 1 vs N threads."""
from __future__ import annotations

import numpy as np
import pytest

import pyshape


@pytest.fixture(params=pyshape.available_simd_levels())
def simd(request):
    """Run the test once per SIMD level this CPU supports, restoring the best after."""
    before = pyshape.simd_level()
    pyshape.set_simd_level(request.param)
    yield request.param
    pyshape.set_simd_level(before)


@pytest.fixture
def rng(request):
    """Fresh random data each run (seed printed on failure), reproducible via PYSHAPE_TEST_SEED."""
    import os

    seed = int(os.environ.get("PYSHAPE_TEST_SEED", np.random.SeedSequence().entropy % (2**32)))
    request.node.user_properties.append(("seed", seed))
    print(f"seed={seed}")
    return np.random.default_rng(seed)


@pytest.fixture(autouse=True)
def _private_load_cache(tmp_path_factory, monkeypatch):
    """The CLI's load cache in a temporary folder, never the user's ~/.cache/pyshape."""
    monkeypatch.setenv("PYSHAPE_CACHE_DIR", str(tmp_path_factory.mktemp("pyshape-cache")))
