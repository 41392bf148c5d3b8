"""Tests of the synthetic shape generator (pyshape.synthetic)."""
from __future__ import annotations

import numpy as np
import pytest

from pyshape import synthetic as syn
from pyshape.synthetic import FAMILY_NAMES, anti_pairs, iter_shapes, make_shapes, white_noise


@pytest.fixture(scope="module")
def mixed():
    """A default mixture big enough for stable correlation statistics."""
    X, labels = make_shapes(3000, seed=7)
    return X, labels, np.corrcoef(X.astype(np.float64))


def test_shapes_dtype_and_labels():
    X, labels = make_shapes(500, seed=1)
    assert X.shape == (500, 1440) and X.dtype == np.float32 and X.flags.c_contiguous
    assert labels.shape == (500,) and labels.dtype.kind == "i"
    assert set(np.unique(labels)) == set(range(len(FAMILY_NAMES)))
    X64, _ = make_shapes(10, T=50, dtype=np.float64, seed=1)
    assert X64.dtype == np.float64 and X64.shape == (10, 50)


def test_non_negative_and_finite():
    for noise in (0.0, 0.1, 0.8):
        X, _ = make_shapes(1200, T=300, noise=noise, seed=2)
        assert np.isfinite(X).all()
        assert (X >= 0).all()
        assert (X.std(axis=1) > 0).mean() > 0.99  # not degenerate


def test_deterministic_by_seed_and_threads():
    a, la = make_shapes(2500, T=200, seed=11, n_threads=1)
    b, lb = make_shapes(2500, T=200, seed=11, n_threads=2)
    c, lc = make_shapes(2500, T=200, seed=12)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(white_noise(3000, 64, 5, n_threads=1),
                                  white_noise(3000, 64, 5, n_threads=2))
    assert not np.array_equal(white_noise(10, 64, 5), white_noise(10, 64, 6))


@pytest.mark.parametrize("chunk_size", [1, 999, 1024, 1500, 5000])
def test_chunked_equals_unchunked(chunk_size):
    n = 2600 if chunk_size > 1 else 40
    X, labels = make_shapes(n, T=120, seed=3)
    starts, parts, labs = [], [], []
    for start, x, lab in iter_shapes(n, T=120, seed=3, chunk_size=chunk_size):
        starts.append(start)
        parts.append(x)
        labs.append(lab)
        assert x.shape[0] <= chunk_size
    assert starts == list(range(0, n, chunk_size))
    np.testing.assert_array_equal(np.concatenate(parts), X)
    np.testing.assert_array_equal(np.concatenate(labs), labels)


def test_mixture_proportions():
    _, labels = make_shapes(20000, T=4, step_seconds=21600, seed=4,
                            families={"diurnal": 3, "batch": 1})
    frac = np.bincount(labels, minlength=len(FAMILY_NAMES)) / labels.size
    assert abs(frac[FAMILY_NAMES.index("diurnal")] - 0.75) < 0.02
    assert abs(frac[FAMILY_NAMES.index("batch")] - 0.25) < 0.02
    _, only = make_shapes(50, families=["noise"], seed=0)
    assert (only == FAMILY_NAMES.index("noise")).all()


def _within(labels, r, name):
    idx = np.flatnonzero(labels == FAMILY_NAMES.index(name))
    assert idx.size > 50
    sub = r[np.ix_(idx, idx)]
    return sub[np.triu_indices(idx.size, 1)].mean()


@pytest.mark.parametrize("name,low", [("diurnal", 0.75), ("day_heavy", 0.75),
                                      ("night_heavy", 0.75), ("spiky", 0.5), ("batch", 0.4)])
def test_within_family_correlation_high(mixed, name, low):
    _, labels, r = mixed
    m = _within(labels, r, name)
    assert low < m < 0.97, (name, m)


def test_noise_family_uncorrelated(mixed):
    _, labels, r = mixed
    assert abs(_within(labels, r, "noise")) < 0.05


def test_anti_pairs_strongly_negative(mixed):
    _, labels, r = mixed
    pairs = anti_pairs(labels)
    assert len(pairs) > 200
    assert (labels[pairs[:, 0]] == FAMILY_NAMES.index("day_heavy")).all()
    assert (labels[pairs[:, 1]] == FAMILY_NAMES.index("night_heavy")).all()
    rp = r[pairs[:, 0], pairs[:, 1]]
    assert rp.mean() < -0.85 and rp.max() < -0.6
    # the day-heavy and night-heavy families are anti-correlated as wholes too
    day = np.flatnonzero(labels == FAMILY_NAMES.index("day_heavy"))
    night = np.flatnonzero(labels == FAMILY_NAMES.index("night_heavy"))
    assert r[np.ix_(day, night)].mean() < -0.7


def test_days_and_step():
    X, _ = make_shapes(20, days=3, seed=0)
    assert X.shape == (20, 3 * 1440)
    X, _ = make_shapes(20, days=2, step_seconds=300, seed=0)
    assert X.shape == (20, 2 * 288)
    X, _ = make_shapes(20, step_seconds=3600, seed=0)
    assert X.shape == (20, 24)
    X, _ = make_shapes(20, T=2880, days=2, seed=0)  # consistent T and days
    assert X.shape == (20, 2880)
    # a diurnal shape repeats day after day
    X, labels = make_shapes(300, days=2, noise=0.0, families=["diurnal"], seed=0)
    np.testing.assert_allclose(X[:, :1440], X[:, 1440:], rtol=1e-4)


def test_white_noise():
    W = white_noise(2000, 256, seed=1)
    assert W.shape == (2000, 256) and W.dtype == np.float32
    assert abs(W.mean()) < 0.01 and abs(W.std() - 1) < 0.01
    assert white_noise(3, 8, 0, dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize("kwargs", [
    dict(n=0), dict(n=-5), dict(n=2.5), dict(n=True),
    dict(n=10, T=1), dict(n=10, T=3.0),
    dict(n=10, noise=-0.1), dict(n=10, noise=float("nan")),
    dict(n=10, families=["nope"]), dict(n=10, families={}), dict(n=10, families={"diurnal": 0}),
    dict(n=10, families={"diurnal": -1.0}),
    dict(n=10, step_seconds=0), dict(n=10, step_seconds=-60),
    dict(n=10, step_seconds=7), dict(n=10, days=0), dict(n=10, days=0.3333),
    dict(n=10, T=100, days=1),
    dict(n=10, seed=-1), dict(n=10, seed=1.5),
    dict(n=10, dtype=np.int32), dict(n=10, dtype="float16"),
    dict(n=10, n_threads=0),
])
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        make_shapes(**kwargs)


def test_bad_arguments_raise_elsewhere():
    with pytest.raises(ValueError):
        iter_shapes(10, chunk_size=0)
    with pytest.raises(ValueError):
        iter_shapes(0)  # checked on the call, not on the first chunk
    with pytest.raises(ValueError):
        white_noise(0, 10)
    with pytest.raises(ValueError):
        white_noise(10, 10, seed=-1)
    with pytest.raises(ValueError):
        anti_pairs(np.zeros((2, 2), dtype=int))
    with pytest.raises(NotImplementedError):
        make_shapes(10, n_resources=2)


def test_public_names():
    for name in syn.__all__:
        assert hasattr(syn, name)
    assert sum(syn.DEFAULT_MIXTURE.values()) == pytest.approx(1.0)
    assert set(syn.DEFAULT_MIXTURE) == set(syn.MIXTURE_COMPONENTS)
