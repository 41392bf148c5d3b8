"""pyshape.Placer: online place / remove, snapshots, bad input leaving the state unchanged."""
from __future__ import annotations

import os

import numpy as np
import pytest

import pyshape
from pyshape.packing import DuplicateIdError, FleetFullError, ShapeTooLargeError, UnknownIdError


def loads_ok(p: pyshape.Placer, shapes: dict) -> None:
    """Every worker's load is the sum of its members' shapes and within capacity."""
    eff = p.capacity * (1 - p.headroom)
    for w in range(p.n_workers):
        mem = p.members(w)
        want = sum((np.asarray(shapes[m], np.float64).reshape(p.R, p.T) for m in mem),
                   np.zeros((p.R, p.T)))
        np.testing.assert_allclose(p.load(w), want, rtol=1e-6, atol=1e-6)
        assert (want <= eff[:, None] * (1 + 1e-6)).all()


def test_place_remove_round_trip(rng):
    p = pyshape.Placer([10.0, 20.0], T=24)
    shapes = {}
    for i in range(200):
        s = rng.random((2, 24)).astype(np.float32) * [[4.0], [6.0]]
        shapes[i] = s
        w = p.place(i, s)
        assert p.worker_of(i) == w and i in p
    assert len(p) == 200
    loads_ok(p, shapes)
    for i in range(0, 200, 3):
        w = p.worker_of(i)
        assert p.remove(i) == w
        assert i not in p and p.worker_of(i) == -1
        del shapes[i]
    loads_ok(p, shapes)
    assert sorted(x for w in p.workers for x in p.members(w)) == sorted(shapes)
    # empty workers are reused before a new one opens
    n_open = p.n_workers
    for i in range(1000, 1030):
        s = rng.random((2, 24)).astype(np.float32)
        shapes[i] = s
        p.place(i, s)
    loads_ok(p, shapes)
    assert p.n_workers >= n_open


def test_string_and_int_ids_are_distinct():
    p = pyshape.Placer(10.0, T=2)
    p.place(1, [1.0, 1.0])
    p.place("1", [1.0, 1.0])
    assert p.members(0).tolist() == [1, "1"]
    with pytest.raises(TypeError, match="str or int"):
        p.place(1.5, [1.0, 1.0])
    with pytest.raises(TypeError):
        p.place(True, [1.0, 1.0])


def test_anti_correlated_share_correlated_do_not():
    t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    p = pyshape.Placer(2.0, T=24)
    assert p.place("day", 1 + np.sin(t)) == 0
    assert p.place("night", 1 - np.sin(t)) == 0
    assert p.place("day2", 1 + np.sin(t)) == 1


def test_placer_first_fit_matches_batch_first_fit(rng):
    D = rng.integers(0, 5, size=(80, 2, 16)).astype(np.float32)
    cap = [12.0, 10.0]
    plan = pyshape.pack(D, cap, "first_fit")
    key = (D.max(axis=2) / np.array(cap)).max(axis=1)
    p = pyshape.Placer(cap, T=16, strategy="first_fit", scan_limit=0)
    for i in np.argsort(-key, kind="stable"):
        assert p.place(int(i), D[i]) == plan.assignment[i]
    assert p.n_workers == plan.n_workers


def test_errors_leave_state_unchanged():
    p = pyshape.Placer([4.0, 4.0], T=3, max_workers=2)
    p.place("a", [[3, 3, 3], [1, 1, 1]])
    p.place("b", [[3, 3, 3], [1, 1, 1]])
    before = p.snapshot()
    with pytest.raises(FleetFullError, match="max_workers=2"):
        p.place("c", [[3, 3, 3], [1, 1, 1]])
    with pytest.raises(DuplicateIdError):
        p.place("a", [[0, 0, 0], [0, 0, 0]])
    with pytest.raises(ShapeTooLargeError, match="exceeds"):
        p.place("d", [[5, 0, 0], [0, 0, 0]])
    with pytest.raises(ValueError, match="negative"):
        p.place("e", [[-1, 0, 0], [0, 0, 0]])
    with pytest.raises(ValueError, match="NaN"):
        p.place("e", [[np.nan, 0, 0], [0, 0, 0]])
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        p.place("e", [1, 1, 1])
    with pytest.raises(UnknownIdError):
        p.remove("zzz")
    with pytest.raises(KeyError):  # UnknownIdError is a KeyError
        p.remove("zzz")
    assert p.snapshot() == before
    assert "c" not in p and len(p) == 2
    p.place("c", [[1, 1, 1], [1, 1, 1]])  # fits both: the bounded scan visits newest-first
    assert p.worker_of("c") == 1


def test_constructor_checks():
    with pytest.raises(ValueError):
        pyshape.Placer(0.0, T=3)
    with pytest.raises(ValueError):
        pyshape.Placer(1.0, T=0)
    with pytest.raises(ValueError):
        pyshape.Placer(1.0, T=3, strategy="peak")
    with pytest.raises(ValueError):
        pyshape.Placer(1.0, T=3, headroom=1.5)
    with pytest.raises(ValueError):
        pyshape.Placer(1.0, T=3, risk=-0.1)
    with pytest.raises(ValueError):
        pyshape.Placer(1.0, T=3, max_workers=0)


def test_headroom_and_risk():
    p = pyshape.Placer(10.0, T=4, headroom=0.2)
    with pytest.raises(ShapeTooLargeError):
        p.place("x", [9, 0, 0, 0])
    q = pyshape.Placer(1.0, T=4, risk=0.25, strategy="first_fit")
    q.place("a", [1, 1, 0, 0])
    assert q.place("b", [0, 1, 1, 0]) == 0  # one step of four over: allowed
    assert q.place("c", [0, 0, 1, 1]) == 1  # a second step over: not allowed


def test_snapshot_restore_bytes_and_file(tmp_path, rng):
    p = pyshape.Placer([10.0, 8.0], T=12, strategy="complement", headroom=[0.1, 0.0], risk=0.0,
                       candidates=4, max_workers=500)
    shapes = {}
    for i in range(120):
        s = rng.random((2, 12)).astype(np.float32) * 3
        shapes[f"f{i}"] = s
        p.place(f"f{i}", s)
    for i in range(0, 120, 7):
        p.remove(f"f{i}")
        del shapes[f"f{i}"]
    data = p.snapshot()
    q = pyshape.Placer.restore(data)
    assert q.snapshot() == data
    assert (q.n_workers, len(q), q.strategy, q.T, q.R) == (p.n_workers, len(p), "complement", 12, 2)
    np.testing.assert_array_equal(q.headroom, [0.1, 0.0])
    for w in range(p.n_workers):
        assert q.members(w).tolist() == p.members(w).tolist()
        np.testing.assert_array_equal(q.load(w), p.load(w))  # bit for bit
    s = rng.random((2, 12)).astype(np.float32)
    assert q.place("new", s) == p.place("new", s)  # same state, same decision
    path = tmp_path / "placer.snap"
    assert p.snapshot(path) is None
    assert path.read_bytes() == p.snapshot()
    assert [f for f in os.listdir(tmp_path) if f != "placer.snap"] == []  # no temp file left
    r = pyshape.Placer.restore(path)
    assert r.snapshot() == p.snapshot()
    p.snapshot(str(path))  # overwrite in place
    assert pyshape.Placer.restore(str(path)).snapshot() == p.snapshot()


def test_corrupt_snapshots_are_refused():
    p = pyshape.Placer(5.0, T=4)
    p.place("a", [1, 2, 3, 4])
    data = bytearray(p.snapshot())
    with pytest.raises(ValueError, match="magic"):
        pyshape.Placer.restore(b"hello world, not a snapshot")
    flipped = bytearray(data)
    flipped[40] ^= 0xFF
    with pytest.raises(ValueError, match="checksum"):
        pyshape.Placer.restore(bytes(flipped))
    with pytest.raises(ValueError):
        pyshape.Placer.restore(bytes(data[:-3]))
    assert pyshape.Placer.restore(bytes(data)).members(0).tolist() == ["a"]


def test_repr_and_workers():
    p = pyshape.Placer([2.0], T=2)
    p.place("a", [[2.0, 2.0]])
    p.place("b", [[2.0, 2.0]])
    p.remove("a")
    assert p.workers == [1] and p.n_workers == 2
    assert "workloads=1" in repr(p)
    with pytest.raises(IndexError):
        p.load(5)


# ---------------------------------------------------------------- bounded scan (scan_limit)
def test_scan_limit_default_validation_and_snapshot():
    from pyshape.packing import DEFAULT_SCAN_LIMIT

    p = pyshape.Placer(10.0, T=4)
    assert p.scan_limit == DEFAULT_SCAN_LIMIT > 0
    for bad in (-1, 1.5, True, "3"):
        with pytest.raises((TypeError, ValueError), match="scan_limit"):
            pyshape.Placer(10.0, T=4, scan_limit=bad)
    q = pyshape.Placer(10.0, T=4, scan_limit=3)
    q.place("a", [1, 2, 3, 4])
    r = pyshape.Placer.restore(q.snapshot())
    assert r.scan_limit == 3 and r.members(0).tolist() == ["a"]


def test_scan_limit_bounds_the_scan_newest_first():
    # three workers holding 9 of 10; scan_limit=1 looks at the newest worker only
    q = pyshape.Placer(10.0, T=2, scan_limit=0, strategy="first_fit")
    b = pyshape.Placer(10.0, T=2, scan_limit=1, strategy="first_fit")
    for pl in (q, b):
        for h in (9, 9, 9):
            pl.place(f"s{h}{pl.n_workers}", [h, h])
    assert q.n_workers == b.n_workers == 3
    q.place("x", [1, 1])
    b.place("x", [1, 1])
    assert q.worker_of("x") == 0  # exhaustive: first fit
    assert b.worker_of("x") == 2  # bounded: newest first
    # newest (2) is now full: the bounded scan (1 worker) falls back to the least-loaded
    # worker (0 and 1 hold 9: the lower index), the exhaustive one takes the first fit
    q.place("y", [1, 1])
    b.place("y", [1, 1])
    assert q.worker_of("y") == 1 and q.n_workers == 3
    assert b.worker_of("y") == 0 and b.n_workers == 3
    # every worker is full: only then does the bounded scan open a new one
    b.place("z", [1, 1])
    assert b.worker_of("z") == 1
    b.place("w", [1, 1])
    assert b.worker_of("w") == 3 and b.n_workers == 4


def test_scan_limit_falls_back_to_full_scan_before_fleet_full():
    p = pyshape.Placer(10.0, T=2, scan_limit=1, max_workers=2, strategy="first_fit")
    p.place("a", [5, 5])
    p.place("b", [10, 10])  # worker 1, full
    assert p.place("c", [5, 5]) == 0  # the limited scan saw only worker 1
    with pytest.raises(FleetFullError):
        p.place("d", [1, 1])


@pytest.mark.parametrize("limit", [1, 4, 0])
@pytest.mark.parametrize("strategy", ["first_fit", "best_fit", "complement"])
def test_bounded_scan_plans_stay_feasible(rng, limit, strategy):
    cap = np.array([12.0, 10.0], np.float32)
    p = pyshape.Placer(cap, T=16, strategy=strategy, scan_limit=limit)
    D = rng.integers(0, 5, size=(150, 2, 16)).astype(np.float32)
    for i in range(len(D)):
        p.place(i, D[i])
        if i % 7 == 3:
            p.remove(i - 2)
    for w in range(p.n_workers):
        L = p.load(w)
        assert (L <= cap[:, None]).all()
        m = p.members(w)
        assert np.array_equal(L, D[m].sum(axis=0) if len(m) else np.zeros_like(L))
    assert len(p) == sum(len(p.members(w)) for w in range(p.n_workers))


# ---------------------------------------------------------------- input conversion on the request path
def test_place_converts_any_numeric_input_as_numpy_does(rng):
    """float32 C-contiguous arrays go in as they are; everything else is converted like
    np.ascontiguousarray(shape, dtype=np.float32): same loads as placing that array."""
    T = 6
    base = rng.random((2, T)) * 2  # float64
    variants = {
        "f64": base,
        "list": base.tolist(),
        "int": (base * 3).astype(np.int64),
        "f32": base.astype(np.float32),
        "f32-strided": np.asfortranarray(base.astype(np.float32)),  # not C-contiguous
        "f32-view": np.repeat(base.astype(np.float32), 2, axis=1)[:, ::2],  # a strided view
        "f32-big-endian": base.astype(">f4"),
        "f16": base.astype(np.float16),
    }
    p = pyshape.Placer([100.0, 100.0], T=T, strategy="first_fit")
    want = np.zeros((2, T))
    for key, x in variants.items():
        assert p.place(key, x) == 0
        want += np.asarray(x, dtype=np.float64)
    np.testing.assert_allclose(p.load(0), want, rtol=1e-6)
    ref = np.zeros((2, T), np.float32)  # float32 sums in placement order, as the Placer adds
    for x in variants.values():
        ref += np.ascontiguousarray(x, dtype=np.float32)
    np.testing.assert_array_equal(p.load(0), ref)


def test_place_rejects_what_numpy_cannot_convert_and_keeps_state():
    p = pyshape.Placer(10.0, T=2)
    with pytest.raises(ValueError, match="could not convert"):
        p.place("s", ["a", "b"])
    with pytest.raises(ValueError, match=r"\(1, 2\) or \(T,\)"):
        p.place("s", [[1.0, 1.0, 1.0]])
    with pytest.raises(ValueError, match="shape must be"):
        p.place("s", np.ones((2, 2), np.float32))
    assert "s" not in p and len(p) == 0 and p.n_workers == 0
    assert p.place("s", np.array([1.0, 2.0], np.float32)) == 0  # the id was not left behind


def test_failed_place_leaves_the_id_free():
    p = pyshape.Placer(4.0, T=3)
    for bad, err in (([5, 0, 0], ShapeTooLargeError), ([np.inf, 0, 0], ValueError), ([0, -np.inf, 0], ValueError),
                     ([-1, 0, 0], ValueError), ([0, 0, np.nan], ValueError)):
        with pytest.raises(err):
            p.place("x", bad)
        assert "x" not in p and p.worker_of("x") == -1
    assert p.place("x", [1, 1, 1]) == 0 and p.worker_of("x") == 0


def test_shape_checks_name_the_first_bad_resource():
    # the check runs on block summaries first; the message must still name the problem of
    # the first bad resource (a peak above capacity on resource 0 before a NaN on resource 1)
    p = pyshape.Placer([4.0, 4.0], T=101)  # 26 blocks of 4 steps, the last one of 1
    s = np.ones((2, 101), np.float32)
    s[0, 100] = 4.5
    s[1, 3] = np.nan
    with pytest.raises(ShapeTooLargeError, match="peak 4.5.* resource 0"):
        p.place("a", s)
    s[0, 100] = 4.0  # exactly the capacity: fits
    with pytest.raises(ValueError, match="NaN"):
        p.place("a", s)
    s[1, 3] = -0.0  # a negative zero is not negative
    assert p.place("a", s) == 0


def expected_shape_error(s: np.ndarray, eff: np.ndarray):
    """NumPy reference of Placer.place's shape check: resources in order; in the first bad
    one, the first non-finite or negative step names the error, else its peak is too large."""
    for r in range(s.shape[0]):
        x = s[r].astype(np.float64)
        bad = ~np.isfinite(x) | (x < 0)
        if bad.any():
            return "NaN or infinite" if not np.isfinite(x[np.argmax(bad)]) else "negative"
        if x.max() > eff[r]:
            return "too large"
    return None


def test_shape_check_matches_numpy_reference(rng):
    for _ in range(300):
        R, T = int(rng.integers(1, 4)), int(rng.integers(1, 300))
        eff = rng.uniform(1.0, 3.0, R).astype(np.float32)
        s = (rng.random((R, T)) * 0.9).astype(np.float32)
        for _ in range(int(rng.integers(0, 3))):  # 0-2 defects anywhere
            r, t = rng.integers(0, R), rng.integers(0, T)
            s[r, t] = rng.choice([np.nan, np.inf, -np.inf, -0.5, -1e-30, 3.5, eff[r], np.nextafter(eff[r], 9)])
        p = pyshape.Placer(eff.astype(np.float64), T=T)
        want = expected_shape_error(s, eff)
        if want is None:
            assert p.place("x", s) == 0
            continue
        err = ShapeTooLargeError if want == "too large" else ValueError
        with pytest.raises(err, match="exceeds" if want == "too large" else want):
            p.place("x", s)
        assert len(p) == 0 and p.n_workers == 0


def bounded_first_fit_reference(D: np.ndarray, cap: np.ndarray, limit: int) -> list:
    """NumPy online first-fit, newest worker first, looking at the newest ``limit`` workers
    (all of them when 0: then oldest first, like pack); when none of those fits and older
    workers exist, the least-loaded worker (smallest max_r peak_r / cap_r in float32, lowest
    index on ties) is tried. Loads summed in float32 like the Placer."""
    loads, out = [], []
    for s in D:
        n = len(loads)
        order = range(n - 1, max(n - limit, 0) - 1, -1) if limit else range(n)
        w = next((w for w in order if np.all(loads[w] + s <= cap[:, None])), None)
        if w is None and limit and n > limit:
            keys = [np.max(L.max(axis=1) / cap) for L in loads]
            c = int(np.argmin(keys))
            if c < n - limit and np.all(loads[c] + s <= cap[:, None]):
                w = c
        if w is None:
            loads.append(np.zeros_like(s))
            w = n
        loads[w] += s
        out.append(w)
    return out


@pytest.mark.parametrize("limit", [1, 5, 8, 13, 40, 0])
def test_bounded_scan_matches_numpy_reference_at_every_simd_level(simd, rng, limit):
    # enough workers (~60) that the SIMD witness scans run over many whole vectors
    T = int(rng.integers(20, 70))
    D = (rng.random((500, 2, T)) ** 3 * rng.uniform(0.5, 4.0, (500, 1, 1))).astype(np.float32)
    cap = np.array([6.0, 7.0], np.float32)
    p = pyshape.Placer(cap.astype(np.float64), T=T, strategy="first_fit", scan_limit=limit)
    got = [p.place(i, D[i]) for i in range(len(D))]
    assert got == bounded_first_fit_reference(D, cap, limit)
    assert p.n_workers > 40
