"""pyshape.forecast: every forecaster, the cold start and the metrics against plain
NumPy references on fresh random data, edge cases, and bad input."""
from __future__ import annotations

import numpy as np
import pytest

import pyshape
from pyshape.forecast import (
    ClusterProfile,
    ColdStart,
    PeriodMax,
    PeriodMean,
    PeriodQuantile,
    SeasonalNaive,
    carry_forward,
    mae,
    peak_error,
)
from pyshape.synthetic import make_shapes

# float32 results of float64 arithmetic: a real bug is far larger than this
RTOL = 2e-6


def _history(rng, n=7, R=2, days=5, period=6, flat=False):
    """Random non-negative history, (n, R, days * period) or (n, days * period), float32."""
    x = rng.gamma(2.0, 3.0, (n, R, days * period)).astype(np.float32)
    return x[:, 0] if flat else x


def _stack_days(x, period, window):
    """(w, ..., period): the last ``window`` periods, one slice per period."""
    D = x.shape[-1] // period
    first = 0 if window is None else max(0, D - window)
    return np.stack([x[..., d * period:(d + 1) * period] for d in range(first, D)]).astype(np.float64)


SHAPES = [  # (n, R, days, period, flat)
    (7, 2, 5, 6, False),
    (7, 1, 5, 6, True),
    (1, 3, 4, 5, False),   # n = 1
    (5, 2, 9, 1, False),   # period = 1
    (4, 1, 1, 8, True),    # one period only
]


# ----------------------------------------------------------------------------- seasonal forecasters
@pytest.mark.parametrize("n,R,days,period,flat", SHAPES)
@pytest.mark.parametrize("window", [None, 1, 3, 50])
def test_seasonal_forecasters_match_numpy(rng, n, R, days, period, flat, window):
    x = _history(rng, n, R, days, period, flat)
    w = _stack_days(x, period, window)
    q = float(rng.uniform(0, 1))
    cases = [
        (PeriodMean(window=window), w.mean(axis=0)),
        (PeriodMax(window=window), w.max(axis=0)),
        (PeriodQuantile(q=q, window=window), np.quantile(w, q, axis=0)),
        (PeriodQuantile(q=0.0, window=window), w.min(axis=0)),
        (PeriodQuantile(q=1.0, window=window), w.max(axis=0)),
        (PeriodQuantile(q=0.5, window=window), np.median(w, axis=0)),
    ]
    if window is None:
        cases.append((SeasonalNaive(), x[..., -period:]))
    for f, want in cases:
        got = f.forecast(x, period)
        assert got.dtype == np.float32 and got.shape == want.shape, f.name
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=0, err_msg=f.name)


def test_quantile_per_step_loop_reference(rng):
    # np.quantile step by step, independent of any reshaping
    period, days = 7, 6
    x = _history(rng, n=3, R=2, days=days, period=period)
    for q in rng.uniform(0, 1, 4):
        got = PeriodQuantile(q=q, window=4).forecast(x, period)
        for i in range(3):
            for r in range(2):
                for s in range(period):
                    vals = x[i, r, s + period * np.arange(days - 4, days)].astype(np.float64)
                    assert got[i, r, s] == pytest.approx(np.quantile(vals, q), rel=RTOL)


def test_window_clipping_and_equivalences(rng):
    x = _history(rng, days=4)
    for cls in (PeriodMean, PeriodMax, PeriodQuantile):
        np.testing.assert_array_equal(cls(window=4).forecast(x, 6), cls().forecast(x, 6))
        np.testing.assert_array_equal(cls(window=99).forecast(x, 6), cls().forecast(x, 6))
        np.testing.assert_array_equal(cls(window=1).forecast(x, 6), SeasonalNaive().forecast(x, 6))


def test_constant_rows_and_zero_rows(rng):
    x = _history(rng, n=4, R=2)
    x[1] = 3.5
    x[2, 1] = 0.0
    for f in (SeasonalNaive(), PeriodMean(), PeriodMax(), PeriodQuantile(0.3), ClusterProfile(n_clusters=2),
              ClusterProfile(n_clusters=2, scale="lsq")):
        got = f.forecast(x, 6)
        np.testing.assert_allclose(got[1], 3.5, rtol=RTOL, err_msg=f.name)
        np.testing.assert_array_equal(got[2, 1], 0.0, err_msg=f.name)
        assert (got >= 0).all()


def test_forecast_does_not_alias_or_change_history(rng):
    x = _history(rng)
    before = x.copy()
    for f in (SeasonalNaive(), PeriodMean(), PeriodMax(), PeriodQuantile(), ClusterProfile(n_clusters=3)):
        out = f.forecast(x, 6)
        out[...] = -1
        np.testing.assert_array_equal(x, before, err_msg=f.name)


def test_integer_and_float64_history_are_accepted(rng):
    x = rng.integers(0, 50, (5, 2, 24))
    np.testing.assert_allclose(PeriodMean().forecast(x, 6), _stack_days(x, 6, None).mean(axis=0), rtol=RTOL)
    np.testing.assert_allclose(PeriodMean().forecast(x.astype(np.float64), 6),
                               _stack_days(x, 6, None).mean(axis=0), rtol=RTOL)


def test_names_are_distinct_and_readable():
    fs = [SeasonalNaive(), PeriodMean(), PeriodMean(window=7), PeriodQuantile(), PeriodQuantile(0.5, window=7),
          PeriodMax(window=3), ClusterProfile(), ClusterProfile(window=7, scale="lsq")]
    names = [f.name for f in fs]
    assert len(set(names)) == len(names)
    assert names[2] == "PeriodMean(window=7)" and names[4] == "PeriodQuantile(q=0.5, window=7)"
    assert repr(fs[5]) == "PeriodMax(window=3)"


@pytest.mark.parametrize("make", [SeasonalNaive, PeriodMean, PeriodMax, PeriodQuantile,
                                  lambda: ClusterProfile(n_clusters=2)])
def test_bad_history(rng, make):
    f = make()
    x = _history(rng)
    with pytest.raises(ValueError, match="not a whole multiple of period"):
        f.forecast(x[..., :-1], 6)
    with pytest.raises(ValueError, match="fewer than 1 whole period"):
        f.forecast(x[..., :5], 6)
    with pytest.raises(ValueError, match="period must be at least 1"):
        f.forecast(x, 0)
    with pytest.raises(TypeError, match="period must be an integer"):
        f.forecast(x, 6.0)
    with pytest.raises(ValueError, match="2-D .* or 3-D"):
        f.forecast(x[0, 0], 6)
    with pytest.raises(ValueError, match="2-D .* or 3-D"):
        f.forecast(x[None], 6)
    with pytest.raises(TypeError, match="real numbers"):
        f.forecast(x.astype(str), 6)
    with pytest.raises(ValueError, match="empty"):
        f.forecast(x[:0], 6)
    for bad, what in ((np.nan, "NaN or infinite"), (np.inf, "NaN or infinite"), (-1.0, "negative")):
        y = x.copy()
        y[3, 1, 7] = bad
        with pytest.raises(ValueError, match=f"{what} value in shape 3"):
            f.forecast(y, 6)


def test_bad_parameters():
    for q in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match=r"q must be in \[0, 1\]"):
            PeriodQuantile(q=q)
    with pytest.raises(TypeError, match="q must be a real number"):
        PeriodQuantile(q="0.5")
    for cls in (PeriodMean, PeriodMax, PeriodQuantile, ClusterProfile):
        with pytest.raises(ValueError, match="window must be at least 1"):
            cls(window=0)
        with pytest.raises(TypeError, match="window must be None or an integer"):
            cls(window=2.5)
    with pytest.raises(ValueError, match="n_clusters must be at least 1"):
        ClusterProfile(n_clusters=0)
    with pytest.raises(ValueError, match="scale must be one of"):
        ClusterProfile(scale="max")
    with pytest.raises(ValueError, match="n_clusters must be at least 1"):
        ColdStart(n_clusters=0)


# ----------------------------------------------------------------------------- ClusterProfile
def _unit_z(P):
    """z-normalised rows (population std), float64."""
    mu, sd = P.mean(axis=1, keepdims=True), P.std(axis=1, keepdims=True)
    return (P - mu) / sd


@pytest.mark.parametrize("scale", ["mean", "lsq"])
def test_cluster_profile_matches_numpy_given_its_labels(rng, scale):
    period, n, R = 12, 40, 2
    x = _history(rng, n=n, R=R, days=6, period=period)
    x += (5 * np.sin(2 * np.pi * np.arange(6 * period) / period + rng.uniform(0, 6, (n, R, 1))) + 5).astype(np.float32)
    x[0, 1] = 0.0
    cp = ClusterProfile(n_clusters=4, window=4, scale=scale)
    got = cp.forecast(x, period)
    prof = _stack_days(x, period, 4).mean(axis=0)                  # (n, R, period)
    for r in range(R):
        P = prof[:, r]
        lab = cp.labels_[:, r]
        assert lab[0] == -1 if r == 1 else lab[0] >= 0
        live = lab >= 0
        Z = _unit_z(P[live])
        k = lab.max() + 1
        C = np.stack([Z[lab[live] == j].mean(axis=0) for j in range(k)])
        C = _unit_z(C)                                             # spherical k-means centroid, std 1
        np.testing.assert_allclose(cp.centers_[r], C, atol=1e-4)
        # every label is the centroid the profile correlates with most (k-means fixed point)
        corr = Z @ C.T / period
        top2 = np.sort(corr, axis=1)[:, -2:]
        clear = top2[:, 1] - top2[:, 0] > 1e-4
        np.testing.assert_array_equal(lab[live][clear], corr.argmax(axis=1)[clear])
        mu, sd = P.mean(axis=1), P.std(axis=1)
        amp = sd[live]
        if scale == "lsq":
            amp = amp * np.clip((Z * C[lab[live]]).mean(axis=1), 0, None)
        want = np.repeat(mu[:, None], period, axis=1)
        want[live] += amp[:, None] * C[lab[live]]
        want = np.maximum(want, 0)
        np.testing.assert_allclose(got[:, r], want, rtol=1e-4, atol=1e-4 * P.max())


def test_cluster_profile_with_own_clusters_is_period_mean(rng):
    # n = 1, and n < n_clusters (clamped): every profile is its own centroid
    for n in (1, 5):
        x = _history(rng, n=n, R=2, days=3, period=10)
        got = ClusterProfile(n_clusters=16).forecast(x, 10)
        np.testing.assert_allclose(got, PeriodMean().forecast(x, 10), rtol=1e-5, atol=1e-5)
    x = _history(rng, n=6, R=2, days=7, period=1)   # period 1: every profile is constant
    np.testing.assert_allclose(ClusterProfile().forecast(x, 1), PeriodMean().forecast(x, 1), rtol=RTOL)
    x2 = x[:, 0]
    assert ClusterProfile().forecast(x2, 1).shape == (6, 1)


def test_cluster_profile_recovers_known_profiles(rng):
    period, days, per = 48, 8, 20
    t = np.arange(period) / period
    truth_profiles = np.stack([1 + np.sin(2 * np.pi * t), 1 + np.exp(-((t - 0.7) / 0.08) ** 2) * 3,
                               1 + (np.abs(t - 0.3) < 0.15)])
    which = np.repeat(np.arange(3), per)
    level = rng.uniform(1, 10, 3 * per)
    truth = truth_profiles[which] * level[:, None]                  # the noise-free day
    x = np.tile(truth, days) * rng.uniform(0.6, 1.4, (3 * per, days * period))
    cp = ClusterProfile(n_clusters=3)
    got = cp.forecast(x, period)
    lab = cp.labels_[:, 0]
    assert all(len(set(lab[which == j])) == 1 for j in range(3)) and len(set(lab)) == 3
    err = np.abs(got - truth).mean()
    assert err < 0.3 * np.abs(SeasonalNaive().forecast(x, period) - truth).mean()
    assert err < np.abs(PeriodMean().forecast(x, period) - truth).mean()


# ----------------------------------------------------------------------------- cold start
def _ref_level(p, level):
    return float(np.median(p)) if level == "median" else float(p.mean())


def _ref_lad_scale(p, c):
    """Smallest s >= 0 minimising sum |p - s c|, by trying every breakpoint p_t / c_t (c_t > 0)."""
    cand = np.sort(p[c > 0] / c[c > 0])
    if cand.size == 0:
        return 0.0
    cost = np.array([np.abs(p - s * c).sum() for s in cand])
    return float(cand[np.flatnonzero(cost <= cost.min() * (1 + 1e-12))[0]])


def _ref_prefix_match(P, C, level="mean", match="corr"):
    """Per row, by a loop: (use, best, s, clear, m). 'corr': np.corrcoef (0 for constant sides) and
    the least-squares s; 'mae': the least absolute error of the best absolute-error s, used when it
    beats the flat level m. ``clear``: the choice is not within rounding of a tie (with h = 2 every
    r is +-1)."""
    h = P.shape[1]
    out = []
    for p in P:
        m = _ref_level(p, level)
        if match == "corr":
            r = np.array([0.0 if np.ptp(p) == 0 or np.ptp(c[:h]) == 0 else np.corrcoef(p, c[:h])[0, 1]
                          for c in C])
            j = int(np.argmax(r))
            use = r[j] > 0 and np.ptp(p) > 0
            s = max(0.0, float(np.linalg.lstsq(C[j, :h, None], p, rcond=None)[0][0])) if use else 0.0
            top = np.sort(r)[-2:]
            clear = len(r) == 1 or top[1] - top[0] > 1e-9 or not use
        else:
            scales = [_ref_lad_scale(p, c[:h]) for c in C]
            err = np.array([np.abs(p - sj * c[:h]).sum() for sj, c in zip(scales, C)])
            j = int(np.argmin(err))
            flat = np.abs(p - m).sum()
            use = err[j] < flat
            s = scales[j] if use else 0.0
            top = np.sort(err)[:2]
            tol = 1e-9 * max(flat, 1e-30)
            clear = (len(err) == 1 or top[1] - top[0] > tol) and abs(err[j] - flat) > tol
        out.append((use, j, s, clear, m))
    return out


def _lib_with_shapes(rng, m, R, period):
    """Library of whole periods: gamma noise on sine days of random phase, and 3 constant periods."""
    lib = _history(rng, n=m, R=R, days=1, period=period)
    lib += (4 * np.sin(2 * np.pi * np.arange(period) / period + rng.uniform(0, 6, (m, R, 1))) + 4).astype(np.float32)
    lib[:3, 0] = 2.0
    return lib


MATCHERS = [("mean", "corr"), ("median", "corr"), ("median", "mae"), ("mean", "mae")]


@pytest.mark.parametrize("level,match", MATCHERS)
def test_cold_start_matches_numpy_without_shrink(rng, level, match):
    period, m, R = 16, 120, 2
    lib = _lib_with_shapes(rng, m, R, period)
    lib[3:6, 1, :4] = 0.0                                           # profiles may start at 0
    cs = ColdStart(n_clusters=5, shrink=False, level=level, match=match).fit(lib)
    assert cs.labels_.shape == (m, R) and (cs.labels_[:3, 0] == -1).all()
    for r in range(R):                                              # profiles: per-step median of member / mean
        lab = cs.labels_[:, r]
        want = np.stack([np.median(lib[lab == j, r] / lib[lab == j, r].mean(axis=1, keepdims=True), axis=0)
                         for j in range(lab.max() + 1)])
        np.testing.assert_allclose(cs.profiles_[r], want, rtol=1e-5)
    new = _history(rng, n=30, R=R, days=1, period=period)
    new[0, 1, :] = 7.0                                              # constant observed part
    new[1, 0, :] = 0.0                                              # all-zero observed part
    new[2, 1, ::2] = 0.0                                            # half of it 0: median between 0 and a value
    n_used = 0
    for h in (1, 2, 5, 15):
        part = new[..., :h]
        got = cs.predict(part)
        assert got.shape == (30, R, period) and got.dtype == np.float32 and (got >= 0).all()
        np.testing.assert_array_equal(got[..., :h], part)          # the observed steps, exactly
        for r in range(R):
            C = cs.profiles_[r].astype(np.float64)
            P = part[:, r].astype(np.float64)
            for i, (use, j, s, clear, lv) in enumerate(_ref_prefix_match(P, C, level, match)):
                if not clear:
                    continue
                n_used += use
                want = s * C[j, h:] if use else np.full(period - h, lv)
                np.testing.assert_allclose(got[i, r, h:], want, rtol=1e-5, atol=1e-6)
    assert n_used > 20                                              # the profiles were used, not only the level
    np.testing.assert_allclose(cs.predict(new[..., :1]), carry_forward(new[..., :1], period))


@pytest.mark.parametrize("level,match", MATCHERS)
def test_cold_start_shrinkage_is_the_least_absolute_error(rng, level, match):
    period, m, h = 12, 200, 4
    lib = (_history(rng, n=m, R=1, days=1, period=period, flat=True)
           + 3 * (np.arange(period) > rng.integers(3, 9, (m, 1)))).astype(np.float32)
    cs = ColdStart(n_clusters=4, level=level, match=match).fit(lib)  # m < 4096: calibrated on the library
    raw = ColdStart(n_clusters=4, shrink=False, level=level, match=match).fit(lib)
    (beta,) = cs.shrinkage(h)
    assert beta.shape == (cs.profiles_[0].shape[0],) and ((beta >= 0) & (beta <= 1)).all()
    assert beta.max() > 0
    L = lib.astype(np.float64)
    f = raw.predict(lib[:, :h]).astype(np.float64)[:, h:]
    use = _ref_prefix_match(L[:, :h], cs.profiles_[0].astype(np.float64), level, match)
    m0 = np.array([u[4] for u in use])[:, None]
    grid = np.linspace(0, 1, 401)
    for j in range(len(beta)):
        rows = [i for i, (u, jj, _, _, _) in enumerate(use) if u and jj == j]
        if not rows:
            assert beta[j] == 0
            continue
        cost = [np.abs(m0[rows] + b * (f[rows] - m0[rows]) - L[rows, h:]).sum() for b in (beta[j], *grid)]
        assert cost[0] <= min(cost[1:]) * (1 + 1e-6) + 1e-6
    # the forecast is the raw one shrunk towards the flat level
    new = _history(rng, n=25, R=1, days=1, period=period, flat=True)
    got, fr = cs.predict(new[:, :h]), raw.predict(new[:, :h]).astype(np.float64)
    for i, (u, j, _, clear, lv) in enumerate(_ref_prefix_match(new[:, :h].astype(np.float64),
                                                               cs.profiles_[0].astype(np.float64), level, match)):
        if not clear:
            continue
        want = lv + (beta[j] if u else 0) * (fr[i, h:] - lv)
        np.testing.assert_allclose(got[i, h:], want, rtol=1e-5, atol=1e-5)


def test_cold_start_match_mae_reference_in_blocks(rng, monkeypatch):
    # many rows, long prefixes and profiles with zero steps: the blocked weighted medians of
    # match_profiles_mae against the loop reference, with blocks of a few rows
    from pyshape.forecast import coldstart

    n, k, h = 40, 5, 9
    P = rng.gamma(1.5, 2.0, (n, h))
    P[:5, ::3] = 0.0
    C = rng.gamma(2.0, 1.0, (k, h + 3))
    C[1, :h] = 0.0                                                  # no step to fit a scale: s = 0
    C[2, ::2] = 0.0
    m = np.median(P, axis=1)
    monkeypatch.setattr(coldstart, "_MATCH_BLOCK", 7 * k * h + 1)    # 7 rows a block, the last one short
    best, ok, s = coldstart.match_profiles_mae(P, C, m)
    for i, (use, j, sj, clear, _) in enumerate(_ref_prefix_match(P, C, "median", "mae")):
        if clear:
            assert (ok[i], best[i]) == (use, j)
            assert s[i] == pytest.approx(sj, rel=1e-12)
    assert 0 < ok.sum() < n


def test_cold_start_beats_carry_forward_on_synthetic_days(rng):
    period, h = 288, 72                                             # 5-minute steps, the first 6 hours
    seed = int(rng.integers(0, 2**31 - 1))
    # 400 shapes: the shares below vary by about 0.02 between seeds, far from the thresholds
    # (measured over 12 seeds at 200 shapes: 0.73-0.86, 0.55-0.65, 0.63-0.80).
    past, _ = make_shapes(400, days=3, step_seconds=300, random_state=seed)
    new, _ = make_shapes(400, days=1, step_seconds=300, random_state=seed + 1)
    lib = past.reshape(-1, period)                                  # 1200 whole past days
    # (model, baseline, share of shapes it must beat, bound on its mean MAE / the baseline's)
    cases = ((ColdStart(), "mean", 0.55, 0.9), (ColdStart(), "median", 0.5, 0.85),
             (ColdStart(level="mean", match="corr"), "mean", 0.55, 0.9))
    for cs, how, wins, ratio in cases:
        got = cs.fit(lib).predict(new[:, :h])
        np.testing.assert_array_equal(got[:, :h], new[:, :h])
        e, base = mae(new, got), mae(new, carry_forward(new[:, :h], period, how=how))
        assert (e < base).mean() > wins, (cs.name, how)
        assert e.mean() < ratio * base.mean(), (cs.name, how)


def test_cold_start_edge_cases(rng):
    period = 10
    flat_lib = np.full((6, period), 3.0)
    part = _history(rng, n=4, R=1, days=1, period=period, flat=True)[:, :4]
    for level in ("median", "mean"):                                # nothing to cluster: carry forward
        cs = ColdStart(level=level).fit(flat_lib)
        np.testing.assert_allclose(cs.predict(part), carry_forward(part, period, how=level))
        assert cs.profiles_[0].shape == (0, period)
    small = _history(rng, n=3, R=1, days=1, period=period, flat=True)
    for match in ("mae", "corr"):
        cs = ColdStart(n_clusters=16, match=match).fit(small)       # clamped to 3 profiles
        assert cs.profiles_[0].shape == (3, period)
        assert cs.predict(part).shape == (4, period)
        assert (cs.predict(part) >= 0).all()
    one = ColdStart(n_clusters=2).fit(small[:1])                    # a library of 1 period, n = 1
    got = one.predict(part[:1])
    assert got.shape == (1, period) and (got >= 0).all()
    np.testing.assert_array_equal(got[:, :4], part[:1])


def test_cold_start_names():
    names = [ColdStart().name, ColdStart(shrink=False).name, ColdStart(level="mean").name,
             ColdStart(match="corr").name, ColdStart(level="mean", match="corr").name]
    assert len(set(names)) == len(names)
    assert names[0] == "ColdStart(n_clusters=16)"
    assert repr(ColdStart(level="mean", match="corr")) == "ColdStart(n_clusters=16, level='mean', match='corr')"


def test_cold_start_bad_input(rng):
    lib = _history(rng, n=20, R=2, days=1, period=8)
    with pytest.raises(ValueError, match="not fitted yet"):
        ColdStart().predict(lib[..., :3])
    with pytest.raises(ValueError, match="not fitted yet"):
        ColdStart().shrinkage(3)
    with pytest.raises(ValueError, match="level must be one of"):
        ColdStart(level="last")
    with pytest.raises(ValueError, match="match must be one of"):
        ColdStart(match="dtw")
    cs = ColdStart(n_clusters=3).fit(lib)
    with pytest.raises(ValueError, match="must be shorter than the period of 8"):
        cs.predict(lib)
    with pytest.raises(ValueError, match="must be shorter than the period of 8"):
        cs.shrinkage(8)
    with pytest.raises(ValueError, match="partial has 1 resources, but the library was fitted on 2"):
        cs.predict(lib[:, 0, :3])
    with pytest.raises(ValueError, match="2-D .* or 3-D"):
        cs.predict(lib[0, 0, :3])
    bad = lib[..., :3].copy()
    bad[2, 0, 1] = np.nan
    with pytest.raises(ValueError, match="partial has a NaN or infinite value in shape 2"):
        cs.predict(bad)
    bad[2, 0, 1] = -0.5
    with pytest.raises(ValueError, match="partial has a negative value in shape 2"):
        cs.predict(bad)
    lib[4, 1, 0] = np.inf
    with pytest.raises(ValueError, match="days has a NaN or infinite value in shape 4"):
        ColdStart().fit(lib)
    with pytest.raises(ValueError, match="2-D .* or 3-D"):
        ColdStart().fit(lib[0, 0])


def test_carry_forward_matches_numpy(rng):
    for shape in ((6, 2, 5), (6, 5), (1, 1, 1), (3, 2, 4)):
        part = rng.gamma(2.0, 1.0, shape).astype(np.float32)
        if shape == (3, 2, 4):
            part[0, 0] = 0.0                                        # constant rows
            part[1, 1, :2] = 0.0                                    # even h: median of a pair
        h = shape[-1]
        P = part.astype(np.float64)
        for how, level in (("mean", P.mean(axis=-1)), ("last", P[..., -1]),
                           ("median", np.apply_along_axis(np.median, -1, P))):
            got = carry_forward(part, 9, how=how)
            want = np.concatenate([P, np.repeat(level[..., None], 9 - h, axis=-1)], axis=-1)
            assert got.dtype == np.float32
            np.testing.assert_allclose(got, want, rtol=RTOL)
            np.testing.assert_array_equal(got[..., :h], part)
    with pytest.raises(ValueError, match="how must be one of"):
        carry_forward(part, 9, how="max")
    with pytest.raises(ValueError, match="must be shorter than the period of 1"):
        carry_forward(part, 1)
    with pytest.raises(ValueError, match="period must be at least 1"):
        carry_forward(part, 0)


# ----------------------------------------------------------------------------- metrics
def test_metrics_match_numpy(rng):
    a = rng.gamma(2.0, 1.0, (9, 3, 20)).astype(np.float32)
    p = rng.gamma(2.0, 1.0, (9, 3, 20)).astype(np.float32)
    a[0, 2] = 0.0
    p[0, 2] = 0.0                                                   # 0 / 0
    a[1, 1] = 0.0                                                   # x / 0
    A, P = a.astype(np.float64), p.astype(np.float64)
    per = np.abs(P - A).mean(axis=2)
    np.testing.assert_allclose(mae(a, p, per_resource=True), per, rtol=1e-12)
    np.testing.assert_allclose(mae(a, p), per.mean(axis=1), rtol=1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = per / A.mean(axis=2)
        prel = (P.max(axis=2) - A.max(axis=2)) / A.max(axis=2)
    np.testing.assert_allclose(mae(a, p, per_resource=True, relative=True), rel, rtol=1e-12)
    np.testing.assert_allclose(mae(a, p, relative=True), rel.mean(axis=1), rtol=1e-12)
    assert np.isnan(rel[0, 2]) and np.isinf(rel[1, 1])
    np.testing.assert_allclose(peak_error(a, p), P.max(axis=2) - A.max(axis=2), rtol=1e-12)
    np.testing.assert_allclose(peak_error(a, p, relative=True), prel, rtol=1e-12)
    # 2-D input: no resource axis in the result
    np.testing.assert_allclose(mae(a[:, 1], p[:, 1]), per[:, 1], rtol=1e-12)
    np.testing.assert_allclose(mae(a[:, 1], p[:, 1], per_resource=True), per[:, 1], rtol=1e-12)
    np.testing.assert_allclose(peak_error(a[:, 1], p[:, 1]), P[:, 1].max(axis=1) - A[:, 1].max(axis=1))
    assert mae(a[:1, :1, :1], p[:1, :1, :1]).shape == (1,)


def test_metrics_bad_input(rng):
    a = rng.random((4, 2, 6))
    for f in (mae, peak_error):
        with pytest.raises(ValueError, match="same shape"):
            f(a[:, :, :5], a)
        with pytest.raises(ValueError, match="same shape"):
            f(a[:, 0], a[:, :1])
        b = a.copy()
        b[1, 0, 0] = np.nan
        with pytest.raises(ValueError, match="pred has a NaN or infinite value in shape 1"):
            f(a, b)
        with pytest.raises(ValueError, match="2-D .* or 3-D"):
            f(a[0, 0], a[0, 0])
    assert mae(a, -a).shape == (4,)                                 # a forecast may be negative


def test_exported_from_pyshape():
    for name in ("SeasonalNaive", "PeriodMean", "PeriodQuantile", "PeriodMax", "ClusterProfile", "ColdStart",
                 "carry_forward"):
        assert getattr(pyshape, name) is getattr(pyshape.forecast, name)
        assert name in pyshape.__all__
