"""Tests of the synthetic shape generator (pyshape.synthetic)."""
from __future__ import annotations

import numpy as np
import pytest

from pyshape.synthetic import FAMILY_NAMES, anti_pairs, iter_shapes, make_shapes, white_noise
from pyshape.traces import _synth_days as _days
from pyshape.traces import _synth_resources as _res
from pyshape.traces import synthetic as syn


@pytest.fixture(scope="module")
def mixed():
    """A default mixture big enough for stable correlation statistics."""
    X, labels = make_shapes(2000, random_state=7)
    return X, labels, np.corrcoef(X.astype(np.float64))


def test_shapes_dtype_and_labels():
    X, labels = make_shapes(500, random_state=1)
    assert X.shape == (500, 1440) and X.dtype == np.float32 and X.flags.c_contiguous
    assert labels.shape == (500,) and labels.dtype.kind == "i"
    assert set(np.unique(labels)) == set(range(len(FAMILY_NAMES)))
    X64, _ = make_shapes(10, T=50, dtype=np.float64, random_state=1)
    assert X64.dtype == np.float64 and X64.shape == (10, 50)


def test_non_negative_and_finite():
    for noise in (0.0, 0.1, 0.8):
        X, _ = make_shapes(1200, T=300, noise=noise, random_state=2)
        assert np.isfinite(X).all()
        assert (X >= 0).all()
        assert (X.std(axis=1) > 0).mean() > 0.99  # not degenerate


def test_deterministic_by_seed_and_threads():
    a, la = make_shapes(2500, T=200, random_state=11, n_threads=1)
    b, lb = make_shapes(2500, T=200, random_state=11, n_threads=2)
    c, lc = make_shapes(2500, T=200, random_state=12)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(white_noise(3000, 64, 5, n_threads=1),
                                  white_noise(3000, 64, 5, n_threads=2))
    assert not np.array_equal(white_noise(10, 64, 5), white_noise(10, 64, 6))


@pytest.mark.parametrize("chunk_size", [1, 999, 1024, 1500, 5000])
def test_chunked_equals_unchunked(chunk_size):
    n = 2600 if chunk_size > 1 else 40
    X, labels = make_shapes(n, T=120, random_state=3)
    starts, parts, labs = [], [], []
    for start, x, lab in iter_shapes(n, T=120, random_state=3, chunk_size=chunk_size):
        starts.append(start)
        parts.append(x)
        labs.append(lab)
        assert x.shape[0] <= chunk_size
    assert starts == list(range(0, n, chunk_size))
    np.testing.assert_array_equal(np.concatenate(parts), X)
    np.testing.assert_array_equal(np.concatenate(labs), labels)


def test_mixture_proportions():
    _, labels = make_shapes(20000, T=4, step_seconds=21600, random_state=4,
                            families={"diurnal": 3, "batch": 1})
    frac = np.bincount(labels, minlength=len(FAMILY_NAMES)) / labels.size
    assert abs(frac[FAMILY_NAMES.index("diurnal")] - 0.75) < 0.02
    assert abs(frac[FAMILY_NAMES.index("batch")] - 0.25) < 0.02
    _, only = make_shapes(50, families=["noise"], random_state=0)
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
    X, _ = make_shapes(20, days=3, random_state=0)
    assert X.shape == (20, 3 * 1440)
    X, _ = make_shapes(20, days=2, step_seconds=300, random_state=0)
    assert X.shape == (20, 2 * 288)
    X, _ = make_shapes(20, step_seconds=3600, random_state=0)
    assert X.shape == (20, 24)
    X, _ = make_shapes(20, T=2880, days=2, random_state=0)  # consistent T and days
    assert X.shape == (20, 2880)
    # without day-to-day variation a diurnal shape repeats day after day
    X, labels = make_shapes(300, days=2, noise=0.0, families=["diurnal"], random_state=0,
                            day_variation=0)
    np.testing.assert_allclose(X[:, :1440], X[:, 1440:], rtol=1e-4)


def test_white_noise():
    W = white_noise(2000, 256, random_state=1)
    assert W.shape == (2000, 256) and W.dtype == np.float32
    assert abs(W.mean()) < 0.01 and abs(W.std() - 1) < 0.01
    assert white_noise(3, 8, 0, dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize("kwargs,match", [
    (dict(n=0), "n must be at least 1"), (dict(n=-5), "n must be at least 1"),
    (dict(n=2.5), "n must be an integer"), (dict(n=True), "n must be an integer"),
    (dict(n=10, T=1), "T must be at least 2"), (dict(n=10, T=3.0), "T must be an integer"),
    (dict(n=10, noise=-0.1), "noise must be a finite number >= 0"),
    (dict(n=10, noise=float("nan")), "noise must be a finite number"),
    (dict(n=10, families=["nope"]), "unknown family 'nope'"),
    (dict(n=10, families={}), "at least one family"),
    (dict(n=10, families={"diurnal": 0}), "must not all be zero"),
    (dict(n=10, families={"diurnal": -1.0}), "weight of family 'diurnal'"),
    (dict(n=10, step_seconds=0), "step_seconds must be in"),
    (dict(n=10, step_seconds=-60), "step_seconds must be in"),
    (dict(n=10, step_seconds=7), "give T"), (dict(n=10, days=0), "days must be positive"),
    (dict(n=10, days=0.3333), "whole number"), (dict(n=10, T=100, days=1), "disagrees"),
    (dict(n=10, random_state=-1), "random_state must be at least 0"),
    (dict(n=10, dtype=np.int32), "dtype must be"), (dict(n=10, dtype="float16"), "dtype must be"),
    (dict(n=10, n_threads=0), "n_threads must be at least 1"),
    (dict(n=10, n_resources=0), "n_resources must be at least 1"),
    (dict(n=10, n_resources=2.0), "n_resources must be an integer"),
    (dict(n=10, n_resources=True), "n_resources must be an integer"),
    (dict(n=10, day_variation=-0.1), r"day_variation must be a finite number in \[0, 1\]"),
    (dict(n=10, day_variation=1.5), r"day_variation must be a finite number in \[0, 1\]"),
    (dict(n=10, day_variation=float("nan")), "day_variation must be a finite number"),
    (dict(n=10, day_variation="0.1"), "day_variation must be a finite number"),
    (dict(n=10, day_variation=None), "day_variation must be a finite number"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(TypeError if "must be an integer" in match else ValueError, match=match):
        make_shapes(**kwargs)


def test_bad_arguments_raise_elsewhere():
    with pytest.raises(ValueError, match="chunk_size must be at least 1"):
        iter_shapes(10, chunk_size=0)
    with pytest.raises(ValueError, match="n must be at least 1"):
        iter_shapes(0)  # checked on the call, not on the first chunk
    with pytest.raises(ValueError, match="n_resources must be at least 1"):
        iter_shapes(10, n_resources=0)
    with pytest.raises(ValueError, match="day_variation must be"):
        iter_shapes(10, day_variation=-1)
    with pytest.raises(ValueError, match="n must be at least 1"):
        white_noise(0, 10)
    with pytest.raises(ValueError, match="random_state must be at least 0"):
        white_noise(10, 10, random_state=-1)
    with pytest.raises(ValueError, match="labels must be 1-D"):
        anti_pairs(np.zeros((2, 2), dtype=int))


def test_public_names():
    for name in syn.__all__:
        assert hasattr(syn, name)
    assert sum(syn.DEFAULT_MIXTURE.values()) == pytest.approx(1.0)
    assert set(syn.DEFAULT_MIXTURE) == set(syn.MIXTURE_COMPONENTS)


# ----------------------------------------------------------------------- one resource, unchanged
# (row, step, value) of make_shapes(...) computed before resources and day variation existed:
# the same arguments and seed must keep giving the same bits.
PINNED = [
    (dict(n=3000, random_state=5), [
        (1510, 22, 2.068572521209717), (1431, 982, 0.025286205112934113),
        (1563, 853, 0.020692680031061172), (1495, 77, 2.899437427520752),
        (1496, 1309, 2.3417470455169678), (1505, 317, 3.6853244304656982)]),
    (dict(n=1100, days=2, step_seconds=300, random_state=9, day_variation=0), [
        (554, 8, 5.199003219604492), (551, 393, 0.07210017740726471),
        (556, 341, 0.12134342640638351), (543, 31, 0.13490918278694153),
        (540, 523, 2.014847993850708), (585, 126, 0.600592315196991)]),
    (dict(n=40, days=3, dtype=np.float64, random_state=2, day_variation=0), [
        (8, 66, 0.1712499021209987), (20, 2947, 0.1046498620024364),
        (26, 2561, 0.006366117503746246), (23, 232, 0.5441868481397749),
        (27, 3927, 0.05537550711951749), (25, 951, 0.3204007938284262)]),
]


@pytest.mark.parametrize("kwargs,values", PINNED)
def test_one_resource_values_unchanged(kwargs, values):
    X, labels = make_shapes(**kwargs)
    assert len({int(labels[r]) for r, _, _ in values}) == 6  # one value of every family
    for r, t, v in values:
        assert X[r, t] == v, (r, t, X[r, t], v)


def test_day_variation_ignored_within_a_day():
    a, _ = make_shapes(1100, T=700, random_state=4, day_variation=0)
    b, _ = make_shapes(1100, T=700, random_state=4, day_variation=0.7)
    np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- several resources
@pytest.mark.parametrize("R", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_resources_shape_dtype_and_cpu_unchanged(R, dtype):
    one, labels1 = make_shapes(1100, T=96, step_seconds=900, random_state=6, dtype=dtype)
    X, labels = make_shapes(1100, T=96, step_seconds=900, random_state=6, dtype=dtype, n_resources=R)
    assert X.shape == ((1100, 96) if R == 1 else (1100, R, 96))
    assert X.dtype == dtype and X.flags.c_contiguous
    assert np.isfinite(X).all() and (X >= 0).all()
    np.testing.assert_array_equal(labels, labels1)
    np.testing.assert_array_equal(X if R == 1 else X[:, 0], one)  # CPU: the same bits
    if R > 1:
        assert (X.std(axis=2) > 0).all()
        assert not np.array_equal(X[:, 0], X[:, 1])
    one_row, _ = make_shapes(1, T=2, step_seconds=43200, random_state=6, dtype=dtype, n_resources=R)
    assert one_row.shape == ((1, 2) if R == 1 else (1, R, 2)) and np.isfinite(one_row).all()


def test_resources_threads_and_chunks_give_the_same_bits():
    kw = dict(T=240, step_seconds=720, random_state=13, n_resources=3)  # two days: day variation too
    a, la = make_shapes(2600, n_threads=1, **kw)
    b, lb = make_shapes(2600, n_threads=2, **kw)
    np.testing.assert_array_equal(a, b)
    for chunk_size in (1000, 1500):
        parts = list(iter_shapes(2600, chunk_size=chunk_size, n_threads=2, **kw))
        assert all(x.shape[1:] == (3, 240) for _, x, _ in parts)
        np.testing.assert_array_equal(np.concatenate([x for _, x, _ in parts]), a)
    c, _ = make_shapes(2600, T=240, step_seconds=720, random_state=14, n_resources=3)
    assert not np.array_equal(a[:, 1:], c[:, 1:])


def _memory_params(seed, n, T, step_seconds):
    """The memory parameters of every row, drawn as make_shapes draws them (block by block)."""
    parts = [_res.draw_memory(np.random.default_rng([seed, syn._STREAM_RESOURCE, b, 1]),
                              min(syn._BLOCK, n - b * syn._BLOCK), T, step_seconds)
             for b in range(-(-n // syn._BLOCK))]
    return {f: np.concatenate([getattr(p, f) for p in parts]) for f in
            ("lag", "decay", "baseline", "knots", "ratio")}


def _memory_reference(cpu, lag, a, b, knots, step_seconds):
    """Memory of one noise-free row from its CPU row, step by step, in float64."""
    T = cpu.size
    u = cpu / cpu.max()
    h = np.empty(T)
    for t in range(T):
        v = u[max(t - lag, 0)]
        h[t] = v if t == 0 else max(v, a * h[t - 1])
    pos = np.arange(T) * step_seconds / (3600 * _res.DRIFT_KNOT_HOURS)
    drift = np.interp(pos, np.arange(knots.size), knots)
    return b * (1 + drift) + (1 - b) * h


@pytest.mark.parametrize("step_seconds,T,dtype,rtol", [
    (60, 1440, np.float32, 2e-5), (300, 576, np.float64, 1e-9), (3600, 72, np.float64, 1e-9)])
def test_memory_matches_stepwise_reference(rng, step_seconds, T, dtype, rtol):
    n, seed = 1300, int(rng.integers(1 << 30))  # two blocks, the second partial
    X, labels = make_shapes(n, T=T, step_seconds=step_seconds, noise=0.0, n_resources=2,
                            random_state=seed, dtype=dtype)
    p = _memory_params(seed, n, T, step_seconds)
    scale = syn._prepare(n, T, None, None, 0.0, step_seconds, 2, seed, dtype, 0.1).scale
    for i in rng.choice(n, 40, replace=False):
        # the model sees CPU / max(CPU): the scaled CPU row gives the same
        want = _memory_reference(X[i, 0].astype(np.float64), p["lag"][i], p["decay"][i],
                                 p["baseline"][i], p["knots"][i], step_seconds)
        want *= scale[i] * p["ratio"][i]
        np.testing.assert_allclose(X[i, 1], want, rtol=rtol, err_msg=f"row {i}")


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_peak_hold_segments_and_edge_rows(rng, dtype, rtol):
    """peak_hold cuts long rows into segments (fast decay): the result must not show it."""
    k, T = 7, 300
    u = rng.random((k, T)).astype(dtype)
    u[1] = 0.0  # all-zero row
    u[2] = 0.5  # constant row
    u[3, 1:] = 0.0  # one peak, then pure decay (rounding grows by a few ulp per segment)
    decay = np.exp(-rng.uniform(0.5, 2.0, k))  # segments of 20-80 steps
    got = _res.peak_hold(u, decay, np.empty((k, T), dtype))
    want = np.empty((k, T))
    want[:, 0] = u[:, 0]
    for t in range(1, T):
        want[:, t] = np.maximum(u[:, t], decay * want[:, t - 1])
    # float32 decays into subnormals, where only an absolute tolerance makes sense
    np.testing.assert_allclose(got, want, rtol=rtol, atol=np.finfo(dtype).tiny)
    assert (got[1] == 0).all() and (got[2] == 0.5).all()
    one = _res.peak_hold(u[:, :1], decay, np.empty((k, 1)))  # length 1
    np.testing.assert_array_equal(one, u[:, :1])


def _corr_rows(a, b):
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    return (a * b).sum(axis=1) / np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))


def test_memory_is_high_and_follows_cpu_with_a_lag():
    n, seed = 800, 21
    X, labels = make_shapes(n, families=["diurnal", "spiky"], n_resources=2, random_state=seed)
    X = X.astype(np.float64)
    cpu, mem = X[:, 0], X[:, 1]
    # a high baseline: memory's low percentile is a large share of its peak, CPU's is not
    low_cpu = np.quantile(cpu, 0.05, axis=1) / cpu.max(axis=1)
    low_mem = np.quantile(mem, 0.05, axis=1) / mem.max(axis=1)
    assert (low_mem > low_cpu).mean() > 0.99
    assert low_mem.mean() > 0.5 > 0.25 > low_cpu.mean()
    lag = _memory_params(seed, n, 1440, 60)["lag"]
    assert lag.min() >= 5 and lag.max() <= 30
    fwd = np.empty(n)  # CPU earlier by the lag
    back = np.empty(n)  # CPU later by the lag
    for L in np.unique(lag):
        i = lag == L
        fwd[i] = _corr_rows(cpu[i, :-L], mem[i, L:])
        back[i] = _corr_rows(cpu[i, L:], mem[i, :-L])
    diurnal = labels == FAMILY_NAMES.index("diurnal")
    spiky = labels == FAMILY_NAMES.index("spiky")
    assert fwd[diurnal].mean() > 0.8 and fwd[spiky].mean() > 0.2
    # memory follows CPU, it does not lead it: bursts show it best
    assert fwd[spiky].mean() > back[spiky].mean() + 0.15
    assert fwd[diurnal].mean() > back[diurnal].mean()
    # np.corrcoef agrees on a few rows
    for i in np.flatnonzero(diurnal)[:5]:
        L = lag[i]
        assert np.corrcoef(cpu[i, :-L], mem[i, L:])[0, 1] == pytest.approx(fwd[i], abs=1e-9)


def test_network_is_cpu_shape_with_its_own_noise():
    kw = dict(T=288, step_seconds=300, n_resources=4, random_state=8, families=["diurnal", "batch"])
    X, _ = make_shapes(1100, noise=0.0, **kw)  # rows without zeros: ratios are defined
    X = X.astype(np.float64)
    assert (X > 0).all()
    for r in (2, 3):  # without noise: the CPU shape times a per-row ratio
        ratio = X[:, r] / X[:, 0]
        np.testing.assert_allclose(ratio, np.broadcast_to(ratio[:, :1], ratio.shape), rtol=1e-5)
        assert np.log(ratio[:, 0]).std() == pytest.approx(_res.RATIO_SIGMA, rel=0.1)
    other = X[:, 2] / X[:, 3]
    assert other.std() > 0.1  # their own ratios
    Y, _ = make_shapes(1100, noise=0.2, **kw)
    own = Y[:, 2] / X[:, 2]  # the network's own noise (uniform, clipped at 0 never)
    assert own.std(axis=1).mean() == pytest.approx(0.2, rel=0.05)
    cpu_noise = Y[:, 0] / X[:, 0]
    assert abs(_corr_rows(own, cpu_noise).mean()) < 0.02  # independent of the CPU's


# --------------------------------------------------------------------------- several days
def _daily(X, steps_per_day):
    return X.reshape(X.shape[0], -1, steps_per_day).astype(np.float64)


def test_no_day_variation_repeats_days_exactly():
    X, labels = make_shapes(1200, days=3, step_seconds=300, noise=0.0, day_variation=0,
                            families=["diurnal", "batch", "anti_pair"], random_state=2)
    D = _daily(X, 288)
    np.testing.assert_allclose(D[:, 1], D[:, 0], rtol=2e-5, atol=1e-7)
    np.testing.assert_allclose(D[:, 2], D[:, 0], rtol=2e-5, atol=1e-7)


@pytest.mark.parametrize("v", [0.05, 0.2])
def test_day_variation_changes_daily_level_by_about_v(v):
    # batch rows keep their daily mean when their runs move: only the level factor remains
    X, _ = make_shapes(400, days=12, step_seconds=600, families=["batch"], day_variation=v,
                       random_state=3)
    means = _daily(X, 144).mean(axis=2)
    rel = means / means.mean(axis=1, keepdims=True)
    spread = np.sqrt(rel.var(axis=1, ddof=1).mean())  # pooled over rows
    assert spread == pytest.approx(np.sqrt(np.exp(v * v) - 1), rel=0.1)


def test_weekends_are_quieter_for_daytime_services():
    v = 0.1
    X, labels = make_shapes(1200, days=7, step_seconds=900, families=["diurnal", "anti_pair"],
                            day_variation=v, random_state=5)
    means = _daily(X, 96).mean(axis=2)
    ratio = means[:, 5:].mean(axis=1) / means[:, :5].mean(axis=1)
    drop = (np.exp(-v) - np.exp(-4 * v)) / (3 * v)  # mean of exp(-v W), W ~ U(1, 4)
    for name, want in (("diurnal", drop), ("day_heavy", drop), ("night_heavy", 1.0)):
        got = ratio[labels == FAMILY_NAMES.index(name)].mean()
        assert got == pytest.approx(want, abs=0.03), name


def test_day_variation_moves_peaks_by_about_four_v_hours():
    v = 0.1
    X, _ = make_shapes(500, days=3, families=["diurnal"], noise=0.0, day_variation=v, random_state=9)
    peak = _daily(X, 1440).argmax(axis=2)  # minute of the day
    moves = (peak[:, 1:] - peak[:, :1]).ravel()  # difference of two independent shifts
    assert moves.std() == pytest.approx(np.sqrt(2) * 4 * v * 60, rel=0.1)
    assert abs(moves.mean()) < 5


def test_smooth_by_day_shifts_each_day_rigidly(rng):
    k, T, step = 5, 3 * 96, 900
    hours = np.arange(T) * step / 3600
    coef = rng.normal(size=(k, 5))
    phase = rng.normal(0, 1, (k, 3))
    bounds = _days.day_bounds(T, step)
    got = _days.smooth_by_day(coef, syn._prepare(1, T, None, None, 0, step, 1, 0, np.float64,
                                                 0).basis, bounds, phase)
    w = 2 * np.pi / 24
    day = np.repeat(np.arange(3), 96)
    h = hours[None, :] - phase[:, day]  # shape(t - shift of the day)
    want = (coef[:, :1] + coef[:, 1:2] * np.cos(w * h) + coef[:, 2:3] * np.sin(w * h)
            + coef[:, 3:4] * np.cos(2 * w * h) + coef[:, 4:5] * np.sin(2 * w * h))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_batch_runs_move_between_days():
    X, _ = make_shapes(300, days=3, families=["batch"], noise=0.0, day_variation=0.2, random_state=4)
    D = _daily(X, 1440)
    moved = 0
    for d in (1, 2):  # each day is day 0 moved by whole minutes, times a level factor
        level = D[:, d].sum(axis=1) / D[:, 0].sum(axis=1)
        xc = np.fft.irfft(np.fft.rfft(D[:, d]) * np.conj(np.fft.rfft(D[:, 0])), n=1440)
        shift = xc.argmax(axis=1)  # circular cross-correlation peaks at the move
        for i in range(X.shape[0]):
            np.testing.assert_allclose(np.roll(D[i, 0], shift[i]) * level[i], D[i, d],
                                       rtol=1e-5, err_msg=f"row {i}, day {d}")
            moved += not np.allclose(D[i, 0] * level[i], D[i, d], rtol=1e-5)
    assert moved > 0.5 * 2 * X.shape[0]


def test_day_bounds_partial_last_day():
    np.testing.assert_array_equal(_days.day_bounds(1500, 60), [0, 1440, 1500])
    np.testing.assert_array_equal(_days.day_bounds(48, 3600), [0, 24, 48])
    np.testing.assert_array_equal(_days.day_bounds(10, 3600), [0, 10])
    X, _ = make_shapes(50, T=1500, n_resources=2, random_state=1)  # a partial second day
    assert X.shape == (50, 2, 1500) and np.isfinite(X).all() and (X >= 0).all()
