"""Placer.score, Placer.update and Placer.advance against a NumPy model.

The model keeps every id's shape (float32, logical order: step 0 the oldest)
and every worker's members in placement order; after every operation each
load must be the float32 sum of its members in member order, bit for bit,
and the Placer's own consistency check (loads, volumes, block summaries,
witnesses, candidate leaves, the least-loaded tree, recomputed from the
members) must pass. At every SIMD level.
"""
from __future__ import annotations

import numpy as np
import pytest

import pyshape
from pyshape.packing import UnknownIdError


class Model:
    def __init__(self, p: pyshape.Placer):
        self.p = p
        self.shape = {}   # id -> (R, T) float32
        self.members = {}  # worker -> [ids]

    def place(self, i, s):
        w = self.p.place(i, s)
        self.shape[i] = np.asarray(s, np.float32).copy()
        self.members.setdefault(w, []).append(i)
        return w

    def remove(self, i):
        w = self.p.remove(i)
        self.members[w].remove(i)
        del self.shape[i]

    def update(self, i, s):
        ok = self.p.update(i, s)
        self.shape[i] = np.asarray(s, np.float32).copy()
        return ok

    def advance(self, new):  # new: id -> (R, k)
        k = next(iter(new.values())).shape[1] if new else 1
        for i, v in new.items():
            self.shape[i] = np.concatenate([self.shape[i][:, k:], v.astype(np.float32)], axis=1)

    def load(self, w):
        p = self.p
        L = np.zeros((p.R, p.T), np.float32)
        for i in self.members.get(w, []):
            L = L + self.shape[i]  # float32, member order
        return L

    def check(self):
        p = self.p
        assert p._p._check() == ""
        assert sorted(map(str, p.ids())) == sorted(map(str, self.shape))
        for w in range(p.n_workers):
            assert np.array_equal(p.load(w), self.load(w).astype(np.float64)), w
            assert list(p.members(w)) == self.members.get(w, [])
        for i, s in self.shape.items():
            assert np.array_equal(p.shape(i), s.astype(np.float64))
            assert p.worker_of(i) >= 0


def smooth(rng, n, R, T, scale=1.0):
    t = np.arange(T)
    ph = rng.uniform(0, 2 * np.pi, (n, R, 1))
    return (scale * rng.uniform(0.2, 1.0, (n, R, 1)) * (1.1 + np.sin(2 * np.pi * t / T + ph))
            + rng.uniform(0, 0.2 * scale, (n, R, T))).astype(np.float32)


def eff32(p):
    return (p.capacity * (1 - p.headroom)).astype(np.float32)


def model_scores(p, model, s, workers, threshold=1.0):
    s = np.asarray(s, np.float32)
    e = eff32(p).astype(np.float64)
    thr = (threshold * e).astype(np.float32)
    out = {k: [] for k in ("new_peak", "peak_rise", "steps_over", "fits", "covariance", "correlation")}
    T = p.T
    for w in workers:
        L = model.load(w)
        S = L + s
        m = S.max(axis=1).astype(np.float64)
        out["new_peak"].append(m / e)
        out["peak_rise"].append((m - L.max(axis=1).astype(np.float64)) / e)
        out["steps_over"].append(int((S > thr[:, None]).any(axis=0).sum()))
        over = int((S > e.astype(np.float32)[:, None]).any(axis=0).sum())
        out["fits"].append(over <= int(np.floor(p._p.risk * T + 1e-9)))
        L64, s64 = L.astype(np.float64), s.astype(np.float64)
        cov = ((L64 - L64.mean(1, keepdims=True)) * (s64 - s64.mean(1, keepdims=True))).mean(1)
        out["covariance"].append(cov)
        sd = L64.std(1) * s64.std(1)
        out["correlation"].append(np.where(sd > 1e-9, cov / np.where(sd > 0, sd, 1), 0.0))
    return {k: np.array(v) for k, v in out.items()}


def assert_scores(got, want, workers):
    assert np.array_equal(got["worker"], np.asarray(workers, np.int64))
    for k in ("new_peak", "peak_rise", "steps_over", "fits"):
        assert np.array_equal(got[k], want[k]), k  # exact: the same float32 sums
    scale = np.abs(want["covariance"]).max() + 1e-12
    np.testing.assert_allclose(got["covariance"], want["covariance"], rtol=1e-9, atol=1e-9 * scale)
    np.testing.assert_allclose(got["correlation"], want["correlation"], rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("risk", [0.0, 0.05])
def test_ops_against_numpy_model(simd, rng, risk):
    R, T = 2, 50
    p = pyshape.Placer([6.0, 8.0], T, headroom=[0.0, 0.1], risk=risk, scan_limit=8)
    m = Model(p)
    nid = 0
    for step in range(120):
        op = rng.random()
        live = list(m.shape)
        if op < 0.45 or len(live) < 3:
            m.place(f"v{nid}", smooth(rng, 1, R, T)[0])
            nid += 1
        elif op < 0.6:
            m.remove(live[rng.integers(len(live))])
        elif op < 0.8:
            i = live[rng.integers(len(live))]
            ok = m.update(i, smooth(rng, 1, R, T, scale=rng.choice([0.5, 1.0, 3.0]))[0])
            assert ok == (p.worker_of(i) not in set(p.overloaded().tolist()))
        else:
            k = int(rng.choice([1, 1, 3, T // 2, T]))
            ids = p.ids()
            vals = smooth(rng, len(ids), R, k, scale=rng.choice([0.5, 1.0]))
            how = rng.integers(3)
            if how == 0:
                over = p.advance(vals)
            elif how == 1:
                perm = rng.permutation(len(ids))
                over = p.advance(vals[perm], ids=[ids[j] for j in perm])
                vals = vals  # the same rows, given in another order
            else:
                over = p.advance({i: vals[j] for j, i in enumerate(ids)})
            m.advance({i: vals[j] for j, i in enumerate(ids)})
            assert over.tolist() == p.overloaded().tolist()
        m.check()
        if step % 10 == 0 and p.n_workers:
            s = smooth(rng, 1, R, T)[0]
            ws = rng.integers(0, p.n_workers, 5)
            assert_scores(p.score(s, ws), model_scores(p, m, s, ws), ws)
            th = float(rng.choice([0.5, 0.8, 1.0]))
            assert_scores(p.score(s, ws, threshold=th), model_scores(p, m, s, ws, th), ws)
    # the restored Placer is the same state, and takes the same decisions
    q = pyshape.Placer.restore(p.snapshot())
    assert q._p.head == p._p.head and q._p._check() == "" and q.snapshot() == p.snapshot()
    for w in range(p.n_workers):
        assert np.array_equal(q.load(w), p.load(w))
    extra = smooth(rng, 30, R, T)
    assert [p.place(f"x{j}", e) for j, e in enumerate(extra)] == [q.place(f"x{j}", e) for j, e in enumerate(extra)]


def test_scores_bitwise_equal_at_every_simd_level(rng):
    R, T = 2, 1440
    p = pyshape.Placer([40.0, 40.0], T, scan_limit=0)
    for j, s in enumerate(smooth(rng, 300, R, T)):
        p.place(j, s)
    p.advance(smooth(rng, len(p), R, 7))
    snap = p.snapshot()
    s = smooth(rng, 1, R, T)[0]
    ws = np.arange(p.n_workers)
    before = pyshape.simd_level()
    res = {}
    try:
        for level in pyshape.available_simd_levels():
            pyshape.set_simd_level(level)
            q = pyshape.Placer.restore(snap)
            res[level] = q.score(s, ws, threshold=0.9)
    finally:
        pyshape.set_simd_level(before)
    ref = next(iter(res.values()))
    for level, r in res.items():
        for k in ref:
            assert ref[k].tobytes() == r[k].tobytes(), (level, k)


def test_score_all_workers_default_and_errors(rng):
    p = pyshape.Placer([4.0], T=3)
    m = Model(p)
    m.place("a", [3, 1, 3])
    m.place("b", [1, 3, 1])
    m.place("c", [3, 3, 3])
    s = np.array([1, 0, 1], np.float32)
    r = p.score(s)
    assert r["worker"].tolist() == list(range(p.n_workers))
    want = model_scores(p, m, s[None], range(p.n_workers))
    assert_scores(r, want, range(p.n_workers))
    assert p.score(s, [])["new_peak"].shape == (0, 1)
    with pytest.raises(IndexError):
        p.score(s, [p.n_workers])
    with pytest.raises(IndexError):
        p.score(s, [-1])
    with pytest.raises(TypeError):
        p.score(s, [0.5])
    with pytest.raises(ValueError):
        p.score([1, np.nan, 1])
    with pytest.raises(ValueError):
        p.score([1, -1, 1])
    with pytest.raises(ValueError):
        p.score(s, threshold=0)
    # a shape too large for any worker still scores (it fits nowhere)
    big = p.score([5, 5, 5])
    assert not big["fits"].any() and (big["steps_over"] == 3).all()
    # a and b fill each other's valleys: their sum is flat, and a flat load correlates 0
    assert p.worker_of("b") == p.worker_of("a") == 0 and r["correlation"][0, 0] == 0
    q = pyshape.Placer([4.0], T=3)
    q.place("a", [3, 1, 3])
    assert q.score(s)["correlation"][0, 0] == pytest.approx(1.0) and q.score([0, 1, 0])["correlation"][0, 0] < -0.99


def test_update_reports_and_does_not_move(rng):
    p = pyshape.Placer([4.0], T=3, strategy="first_fit")
    assert p.place("a", [1, 1, 1]) == 0
    assert p.place("b", [2, 2, 2]) == 0
    assert p.update("a", [2, 2, 2]) is True
    assert p.update("a", [3, 1, 1]) is False  # 5 > 4 at step 0: stays on 0, reported
    assert p.worker_of("a") == 0 and p.overloaded().tolist() == [0]
    assert p.load(0)[0].tolist() == [5.0, 3.0, 3.0]
    assert p.place("c", [0.5, 0.5, 0.5]) == 1  # an overloaded worker takes nothing
    snap = p.snapshot()
    q = pyshape.Placer.restore(snap)  # a worker flagged over restores
    assert q.overloaded().tolist() == [0] and q.snapshot() == snap
    assert p.update("a", [5, 5, 5]) is False  # larger than a worker: kept, reported
    q = pyshape.Placer.restore(p.snapshot())
    assert np.array_equal(q.shape("a"), [[5, 5, 5]])
    assert p.update("a", [1, 1, 1]) is True and p.overloaded().size == 0
    assert p.score([1, 1, 1], [0])["fits"].tolist() == [True]
    with pytest.raises(UnknownIdError):
        p.update("zz", [1, 1, 1])
    before = p.snapshot()
    for bad in ([1, np.inf, 1], [1, -1, 1], [1, 1]):
        with pytest.raises(ValueError):
            p.update("a", bad)
    assert p.snapshot() == before


def test_advance_checks_everything_first(rng):
    R, T = 2, 6
    p = pyshape.Placer([10.0, 10.0], T)
    for j, s in enumerate(smooth(rng, 8, R, T)):
        p.place(j, s)
    before = p.snapshot()
    n = len(p)
    good = np.ones((n, R, 2), np.float32)
    bad_vals = good.copy()
    bad_vals[3, 1, 1] = np.nan
    neg = good.copy()
    neg[5, 0, 0] = -1
    for args, kw in [((bad_vals,), {}), ((neg,), {}), ((good[:-1],), {}), ((np.ones((n, R, T + 1)),), {}),
                     ((good,), {"ids": list(range(n - 1)) + [0]}), ((good,), {"ids": list(range(n - 1)) + [99]}),
                     ((np.ones((n, R + 1, 2)),), {}), (({j: np.ones((R, 1)) for j in range(n - 1)},), {})]:
        with pytest.raises((ValueError, TypeError)):
            p.advance(*args, **kw)
        assert p.snapshot() == before
    # k = T replaces every step
    new = smooth(rng, n, R, T)
    p.advance(new)
    for j, i in enumerate(p.ids()):
        assert np.array_equal(p.shape(i), new[j].astype(np.float64))
    assert p._p._check() == ""


def test_empty_placer_advances_and_old_snapshots_restore(rng):
    p = pyshape.Placer([2.0], T=4)
    assert p.advance(np.empty((0, 1, 1), np.float32)).size == 0
    assert p._p.head == 1
    assert p.place("a", [1, 2, 1, 0]) == 0
    assert p.load(0)[0].tolist() == [1, 2, 1, 0]
    p.advance({"a": [[0.5]]})
    assert p.shape("a")[0].tolist() == [2, 1, 0, 0.5]
    q = pyshape.Placer.restore(p.snapshot())
    assert q.shape("a")[0].tolist() == [2, 1, 0, 0.5] and q._p.head == p._p.head


@pytest.mark.parametrize("strategy", ["complement", "first_fit", "best_fit"])
def test_churn_with_updates_and_advances(rng, strategy):
    """A scheduler's day: arrivals, departures, new forecasts and the window moving, under a worker limit."""
    R, T = 2, 96
    p = pyshape.Placer([10.0, 10.0], T, strategy=strategy, scan_limit=16)
    m = Model(p)
    nid = 0
    for rnd in range(60):
        for _ in range(int(rng.integers(5, 15))):
            try:
                m.place(nid, smooth(rng, 1, R, T)[0])
            except pyshape.packing.FleetFullError:
                pass
            nid += 1
        live = list(m.shape)
        for i in rng.choice(live, size=min(len(live), int(rng.integers(0, 8))), replace=False):
            m.remove(int(i))
        live = list(m.shape)
        for i in rng.choice(live, size=min(len(live), 5), replace=False):
            m.update(int(i), smooth(rng, 1, R, T, scale=float(rng.choice([0.7, 1.0, 1.3])))[0])
        ids = p.ids()
        vals = smooth(rng, len(ids), R, 1)
        p.advance(vals)
        m.advance({i: vals[j] for j, i in enumerate(ids)})
        # overloaded workers shed their newest member, as a scheduler would
        for w in p.overloaded().tolist():
            m.remove(m.members[w][-1])
        if rnd % 6 == 0:
            m.check()
    m.check()
    live = sum(len(v) for v in m.members.values())
    assert live == len(p) > 0
    q = pyshape.Placer.restore(p.snapshot())
    assert q._p._check() == "" and q.snapshot() == p.snapshot()


def ref_scores(p, s, workers, threshold):
    """Every score column from the Placer's loads (checked above against the members) in NumPy."""
    s = np.asarray(s, np.float32).reshape(p.R, p.T)
    e = eff32(p).astype(np.float64)
    thr = (threshold * e).astype(np.float32)
    allowed = int(np.floor(p._p.risk * p.T + 1e-9))
    out = {k: [] for k in ("new_peak", "peak_rise", "steps_over", "fits", "covariance", "correlation")}
    for w in workers:
        L = p.load(int(w)).astype(np.float32)  # exact: the loads are float32 sums
        S = L + s
        m = S.max(axis=1).astype(np.float64)
        out["new_peak"].append(m / e)
        out["peak_rise"].append((m - L.max(axis=1).astype(np.float64)) / e)
        out["steps_over"].append(int((S > thr[:, None]).any(axis=0).sum()))
        out["fits"].append(int((S > e.astype(np.float32)[:, None]).any(axis=0).sum()) <= allowed)
        L64, s64 = L.astype(np.float64), s.astype(np.float64)
        cov = ((L64 - L64.mean(1, keepdims=True)) * (s64 - s64.mean(1, keepdims=True))).mean(1)
        out["covariance"].append(cov)
        sd = L64.std(1) * s64.std(1)
        out["correlation"].append(np.where(sd > 1e-9, cov / np.where(sd > 0, sd, 1), 0.0))
    return {k: np.array(v) for k, v in out.items()}


@pytest.mark.parametrize("R,T", [(1, 1), (2, 7), (1, 33), (3, 48), (2, 95), (2, 1440), (1, 1441)])
@pytest.mark.parametrize("integer", [False, True])
def test_every_score_column_against_numpy(simd, rng, R, T, integer):
    """Each column, both ways of computing it (with covariance: one read of every load; without: the
    block bounds), on random loads: exact where the Placer's sums are float32, to 1e-9 for the
    covariances. Integer-valued data puts sums exactly on the thresholds and on the block bounds."""
    risk = float(rng.choice([0.0, 0.05]))
    cap = rng.uniform(8, 12, R).round() if integer else rng.uniform(8, 12, R)
    p = pyshape.Placer(cap, T, risk=risk, scan_limit=int(rng.choice([0, 4])))

    def draw(n):
        if integer:
            return rng.integers(0, 3, (n, R, T)).astype(np.float32)
        x = smooth(rng, n, R, T, scale=float(rng.choice([0.5, 2.0])))
        spikes = rng.random((n, R, T)) < 0.02  # narrow peaks: the block bounds must not miss them
        return (x + spikes * rng.uniform(0, 3, (n, R, T))).astype(np.float32)

    for j, s in enumerate(draw(60)):
        try:
            p.place(j, s)
        except ValueError:  # too large for an empty worker
            pass
    if T > 1 and rng.random() < 0.5:  # a ring offset: shapes and loads rotated
        p.advance(draw(len(p))[:, :, : max(1, T // 3)])
    for _ in range(3):
        s = draw(1)[0]
        ws = rng.integers(0, p.n_workers, 25)
        th = float(rng.choice([0.2, 0.7, 1.0, 1.3]))
        full = p.score(s, ws, threshold=th)
        fast = p.score(s, ws, threshold=th, covariance=False)
        want = ref_scores(p, s, ws, th)
        assert set(fast) == {"worker", "fits", "new_peak", "peak_rise", "steps_over"}
        for k in fast:
            assert fast[k].tobytes() == full[k].tobytes(), k  # both ways: the same bits
        for k in ("new_peak", "peak_rise", "steps_over", "fits"):
            assert np.array_equal(full[k], want[k]), (k, th)
        scale = np.abs(want["covariance"]).max() + 1e-12
        np.testing.assert_allclose(full["covariance"], want["covariance"], rtol=1e-9, atol=1e-9 * scale)
        np.testing.assert_allclose(full["correlation"], want["correlation"], rtol=1e-7, atol=1e-7)
    assert p._p._check() == ""  # the sums of squares score() keeps are those of the loads


def test_score_covariance_false_keeps_per_level_bits(rng):
    """covariance=False gives the same bits at every SIMD level (block bounds and scans are exact)."""
    R, T = 2, 1440
    p = pyshape.Placer([40.0, 40.0], T, scan_limit=0)
    for j, s in enumerate(smooth(rng, 300, R, T)):
        p.place(j, s)
    snap = p.snapshot()
    s = smooth(rng, 1, R, T)[0]
    ws = rng.integers(0, p.n_workers, 64)
    before = pyshape.simd_level()
    res = {}
    try:
        for level in pyshape.available_simd_levels():
            pyshape.set_simd_level(level)
            res[level] = pyshape.Placer.restore(snap).score(s, ws, threshold=0.95, covariance=False)
    finally:
        pyshape.set_simd_level(before)
    ref = next(iter(res.values()))
    for level, r in res.items():
        for k in ref:
            assert ref[k].tobytes() == r[k].tobytes(), (level, k)
