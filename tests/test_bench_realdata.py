"""The seeded real-derived benchmark builders (bench/realdata.py): deterministic, the
documented shapes, no constant or non-finite rows."""
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import realdata


def test_azure_days_seeded():
    a, b = realdata.azure_days(300, seed=5), realdata.azure_days(300, seed=5)
    assert a.shape == (300, 1440) and a.dtype == np.float32
    assert np.array_equal(a, b)
    assert not np.array_equal(a, realdata.azure_days(300, seed=6))
    assert np.isfinite(a).all() and (a.std(axis=1) > 0).all()


@pytest.mark.skipif(not realdata.bitbrains_path().exists(), reason="shared Bitbrains month not present")
def test_bitbrains_days_seeded():
    a, b = realdata.bitbrains_days(300, seed=5), realdata.bitbrains_days(300, seed=5)
    assert a.shape == (300, 288) and a.dtype == np.float32
    assert np.array_equal(a, b)
    assert np.isfinite(a).all() and (a.std(axis=1) > 0).all()
