"""pyshape.Placer hardening (issue 9): reuse of old workers under churn, restore of
hostile snapshots, size limits checked at construction, stale snapshot temp files,
input conversion nits, and load()/members() types shared with pyshape.Plan."""
from __future__ import annotations

import glob
import math
import os
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import pyshape
from pyshape import _core
from pyshape.packing import DuplicateIdError

UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")


# ---------------------------------------------------------- 1. churn: empty workers are reused, whatever their age
@pytest.mark.parametrize("scan_limit", [None, 16, 1, 0])
def test_churn_reuses_old_empty_workers(scan_limit):
    """The audit's scenario: 3,000 shapes of 0.55, the 1,000 oldest removed, 1,000 more placed."""
    kw = {} if scan_limit is None else {"scan_limit": scan_limit}
    p = pyshape.Placer(1.0, T=4, strategy="first_fit", **kw)
    s = np.full(4, 0.55, np.float32)
    for i in range(3000):
        p.place(i, s)
    assert p.n_workers == 3000
    for i in range(1000):
        p.remove(i)
    assert len(p.workers) == 2000
    got = [p.place(i, s) for i in range(3000, 4000)]
    assert p.n_workers == 3000  # none opened: the 1,000 empty workers are reused
    assert sorted(got) == list(range(1000))
    assert len(p.workers) == 3000 and len(p) == 3000


@pytest.mark.parametrize("strategy", ["first_fit", "best_fit", "complement"])
@pytest.mark.parametrize("scan_limit", [None, 8])
def test_churn_fleet_stays_at_what_the_live_shapes_need(rng, strategy, scan_limit):
    """Shapes of 0.3 on capacity 1: three per worker. Under random churn a worker opens only
    when every open worker holds three, so the fleet never exceeds ceil(peak live / 3)."""
    kw = {} if scan_limit is None else {"scan_limit": scan_limit}
    p = pyshape.Placer(1.0, T=3, strategy=strategy, **kw)
    s = np.full(3, 0.3, np.float32)
    live, nxt, peak_live = [], 0, 0
    for _ in range(40):
        for _ in range(int(rng.integers(50, 150))):
            before = p.n_workers
            p.place(nxt, s)
            if p.n_workers > before:  # opened: every other worker was full
                assert len(p) - 1 == 3 * before
            live.append(nxt)
            nxt += 1
        peak_live = max(peak_live, len(live))
        for k in rng.permutation(len(live))[: int(rng.integers(0, len(live)))]:
            p.remove(live[k])
        live = [x for x in live if x in p]
    assert p.n_workers <= math.ceil(peak_live / 3)
    assert p.n_workers > 8  # the bounded scan did not see every worker


def churn_reference(ops, cap: np.ndarray, limit: int) -> list:
    """NumPy model of the bounded online first-fit with removals: the newest ``limit`` workers
    newest-first, then the least-loaded worker (smallest max_r peak_r / cap_r in float32, lowest
    index on ties) when it is older; loads are float32 sums of the members in member order."""
    members, loads, where, out = [], [], {}, []
    for op, key, s in ops:
        if op == "remove":
            w = where.pop(key)
            members[w] = [(k, x) for k, x in members[w] if k != key]
            L = np.zeros_like(s)
            for _, x in members[w]:
                L += x
            loads[w] = L
            out.append(w)
            continue
        n = len(loads)
        order = range(n - 1, max(n - limit, 0) - 1, -1)
        w = next((w for w in order if np.all(loads[w] + s <= cap[:, None])), None)
        if w is None and n > limit:
            keys = [np.max(L.max(axis=1) / cap) for L in loads]
            c = int(np.argmin(keys))
            if c < n - limit and np.all(loads[c] + s <= cap[:, None]):
                w = c
        if w is None:
            loads.append(np.zeros_like(s))
            members.append([])
            w = n
        loads[w] += s
        members[w].append((key, s))
        where[key] = w
        out.append(w)
    return out


@pytest.mark.parametrize("limit", [1, 3, 7])
def test_churn_matches_numpy_reference(simd, rng, limit):
    T = int(rng.integers(5, 40))
    cap = np.array([4.0, 5.0], np.float32)
    ops, live, nxt = [], [], 0
    for _ in range(600):
        if live and rng.random() < 0.4:
            key = live.pop(int(rng.integers(len(live))))
            ops.append(("remove", key, np.zeros((2, T), np.float32)))
        else:
            s = (rng.random((2, T)) ** 2 * rng.uniform(0.3, 2.5, (2, 1))).astype(np.float32)
            ops.append(("place", nxt, s))
            live.append(nxt)
            nxt += 1
    p = pyshape.Placer(cap.astype(np.float64), T=T, strategy="first_fit", scan_limit=limit)
    got = [p.place(k, s) if op == "place" else p.remove(k) for op, k, s in ops]
    assert got == churn_reference(ops, cap, limit)
    # a restored placer continues identically (the least-loaded index is rebuilt)
    q = pyshape.Placer.restore(p.snapshot())
    extra = (rng.random((30, 2, T)) * 1.5).astype(np.float32)
    assert [p.place(("x", i).__repr__(), e) for i, e in enumerate(extra)] == \
           [q.place(("x", i).__repr__(), e) for i, e in enumerate(extra)]


# ---------------------------------------------------------------- 2. restore of hostile snapshots
def fnv1a(b: bytes) -> int:
    h = 1469598103934665603
    for x in b:
        h = ((h ^ x) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def header(R=1, T=2, strategy=0, candidates=16, max_workers=0, risk=0.0, scan_limit=0, cap=None, head=None,
           version=2, ring=0) -> bytes:
    cap = [1.0] * R if cap is None else cap
    head = [0.0] * R if head is None else head
    h = b"PYSHPLC\0" + struct.pack("<IIIiiqd", version, R, T, strategy, candidates, max_workers, risk)
    if version >= 2:
        h += struct.pack("<q", scan_limit)
    h += struct.pack(f"<{len(cap)}d", *cap) + struct.pack(f"<{len(head)}d", *head)
    return h + (struct.pack("<I", ring) if version >= 3 else b"")


def key(k) -> bytes:
    b = k if isinstance(k, bytes) else (b"s" + k.encode() if isinstance(k, str) else b"i" + str(k).encode())
    return struct.pack("<I", len(b)) + b


def workers(*ws, v3=False, over=()) -> bytes:
    """ws: lists of (key, shape) per worker; v3: with over flags (workers in over) and volumes."""
    out = struct.pack("<Q", len(ws))
    for w, members in enumerate(ws):
        if v3:
            out += struct.pack("<B", w in over)
        out += struct.pack("<Q", len(members))
        for k, s in members:
            a = np.ascontiguousarray(s, "<f4").reshape(-1, np.shape(s)[-1])
            out += key(k) + a.tobytes()
            if v3:
                out += struct.pack(f"<{a.shape[0]}d", *a.astype(np.float64).sum(axis=1))
    return out


def sealed(body: bytes) -> bytes:
    return body + struct.pack("<Q", fnv1a(body))


def hostile_snapshots() -> dict:
    """name -> (snapshot bytes with a valid checksum, the message restore must give)."""
    one = [[1.0, 1.0]]
    big_T = 2**32 - 1
    return {
        # the audit's 92-byte snapshot: T = 2^32 - 1, one worker, one member, no shape bytes
        "huge T": (sealed(header(T=big_T) + struct.pack("<QQ", 1, 1)), r"too large|2\^31"),
        "T at the limit, no body": (sealed(header(T=2**31 - 1) + struct.pack("<QQ", 1, 1)),
                                    "more than the bytes left"),
        "W beyond the bytes": (sealed(header() + struct.pack("<Q", 2**60)), "2" + "[0-9]* workers, more than"),
        "m beyond the bytes": (sealed(header() + struct.pack("<QQ", 1, 10**6)), "more than the bytes left"),
        "key beyond the bytes": (sealed(header() + struct.pack("<QQI", 1, 1, 2**31) + b"s" + b"\0" * 16),
                                 "truncated|malformed"),
        "empty workers beyond memory": (sealed(header(T=2**31 - 1) + struct.pack("<Q", 1000) +
                                               struct.pack("<Q", 0) * 1000), "memory"),
        "R over 1024": (sealed(header(R=1025) + struct.pack("<Q", 0)), "R = 1025"),
        "R = 0": (sealed(header(R=0) + struct.pack("<Q", 0)), "R = 0"),
        "strategy": (sealed(header(strategy=7) + workers()), "strategy"),
        "candidates < 0": (sealed(header(candidates=-1) + workers()), "candidates"),
        "max_workers < 0": (sealed(header(max_workers=-1) + workers()), "max_workers"),
        "risk NaN": (sealed(header(risk=float("nan")) + workers()), "risk"),
        "capacity 0": (sealed(header(cap=[0.0]) + workers()), "capacity"),
        "capacity below float32": (sealed(header(cap=[1e-50]) + workers()), "float32"),
        "headroom 1": (sealed(header(head=[1.0]) + workers()), "headroom"),
        "more workers than max_workers": (sealed(header(max_workers=1) + workers([], [])), "max_workers"),
        "NaN shape": (sealed(header() + workers([("a", [np.nan, 0])])), "NaN"),
        "inf shape": (sealed(header() + workers([("a", [np.inf, 0])])), "infinite"),
        "negative shape": (sealed(header() + workers([("a", [-0.5, 0])])), "negative"),
        "shape over capacity": (sealed(header() + workers([("a", [1.5, 0])])), "exceeds"),
        "load over capacity": (sealed(header() + workers([("a", [0.6, 0.1]), ("b", [0.6, 0.1])])),
                               "over its capacity"),
        "load over capacity, risk": (sealed(header(T=4, risk=0.3) + workers(
            [("a", [0.6, 0.6, 0, 0]), ("b", [0.6, 0.6, 0, 0])])), "over its capacity"),
        "empty key": (sealed(header() + workers([(b"", one[0])])), "malformed id"),
        "unknown tag": (sealed(header() + workers([(b"x1", one[0])])), "malformed id"),
        "int key, no digits": (sealed(header() + workers([(b"i", one[0])])), "malformed id"),
        "int key, leading zero": (sealed(header() + workers([(b"i01", one[0])])), "malformed id"),
        "int key, minus zero": (sealed(header() + workers([(b"i-0", one[0])])), "malformed id"),
        "int key, not digits": (sealed(header() + workers([(b"i1a", one[0])])), "malformed id"),
        "int key, lone minus": (sealed(header() + workers([(b"i-", one[0])])), "malformed id"),
        "str key, bad UTF-8": (sealed(header() + workers([(b"s\xff", one[0])])), "malformed id"),
        "str key, surrogate": (sealed(header() + workers([(b"s\xed\xa0\x80", one[0])])), "malformed id"),
        "str key, overlong": (sealed(header() + workers([(b"s\xc0\xaf", one[0])])), "malformed id"),
        "str key, truncated UTF-8": (sealed(header() + workers([(b"s\xe2\x82", one[0])])), "malformed id"),
        "duplicate id": (sealed(header() + workers([("a", [0.1, 0.1])], [("a", [0.1, 0.1])])), "duplicate"),
        "trailing bytes": (sealed(header() + workers() + b"\0"), "trailing"),
        "truncated header": (sealed(header()[:30]), "truncated"),
    }


@pytest.mark.parametrize("name", list(hostile_snapshots()))
def test_restore_refuses_hostile_snapshots(name):
    data, msg = hostile_snapshots()[name]
    with pytest.raises(ValueError, match=msg):
        pyshape.Placer.restore(data)


def test_hostile_snapshot_of_the_audit_is_92_bytes():
    assert len(hostile_snapshots()["huge T"][0]) == 92


def test_restore_accepts_the_edge_cases_snapshot_writes(tmp_path):
    ids = ["", "é", "a" * 300, 0, -5, 2**70, -(2**70), "0", "-0"]
    p = pyshape.Placer([3.0, 2.0], T=3, risk=0.34, scan_limit=2)
    for k in ids:
        p.place(k, np.full((2, 3), 0.25, np.float32))
    p.place("tmp", np.full((2, 3), 0.25, np.float32))
    p.remove("tmp")
    data = p.snapshot()
    q = pyshape.Placer.restore(data)
    assert q.snapshot() == data
    got = [x for w in range(q.n_workers) for x in q.members(w).tolist()]
    assert sorted(map(repr, got)) == sorted(map(repr, ids))
    # hand-made, equal to what snapshot() writes (version 3): bit-identical round trip
    body = header(R=1, T=2, version=3) + workers([("a", [0.5, 0.25]), (7, [0.5, 0.75])], [], v3=True)
    r = pyshape.Placer.restore(sealed(body))
    assert r.members(0).tolist() == ["a", 7] and r.n_workers == 2 and r.snapshot() == sealed(body)
    assert len(pyshape.Placer.restore(bytearray(sealed(body)))) == 2
    # version 2 (before update / advance) still restores, to the same state
    v2 = header(R=1, T=2) + workers([("a", [0.5, 0.25]), (7, [0.5, 0.75])], [])
    assert pyshape.Placer.restore(sealed(v2)).snapshot() == sealed(body)
    # version 3: a ring offset, a worker flagged over capacity (and only there a shape over capacity)
    ring = header(R=1, T=2, version=3, ring=1) + workers([("a", [0.5, 1.25])], [("b", [0.25, 0.5])], v3=True,
                                                          over={0})
    r = pyshape.Placer.restore(sealed(ring))
    assert r.overloaded().tolist() == [0] and r.shape("a").tolist() == [[0.5, 1.25]] and r.snapshot() == sealed(ring)
    for bad, msg in [(header(R=1, T=2, version=3) + workers([("a", [0.5, 1.25])], v3=True), "capacity"),
                     (header(R=1, T=2, version=3) + workers([("a", [0.5, 0.25])], v3=True, over={0}), "flagged"),
                     (header(R=1, T=2, version=3, ring=2) + workers([("a", [0.5, 0.25])], v3=True), "ring offset"),
                     (header(R=1, T=2, version=3) + struct.pack("<QBQ", 1, 0, 1) + key("a")
                      + np.array([0.5, 0.25], "<f4").tobytes() + struct.pack("<d", 2.0), "volume"),
                     (header(R=1, T=2, version=3) + struct.pack("<QBQ", 1, 2, 0), "over flag")]:
        with pytest.raises(ValueError, match=msg):
            pyshape.Placer.restore(sealed(bad))
    v1 = header(R=1, T=2, version=1) + workers([("a", [0.5, 0.25])])
    assert pyshape.Placer.restore(sealed(v1)).scan_limit == 0


LIMITED = textwrap.dedent("""
    import os, resource, sys, traceback
    import numpy as np
    import pyshape
    pages = int(open("/proc/self/statm").read().split()[0])
    now = pages * os.sysconf("SC_PAGE_SIZE")
    resource.setrlimit(resource.RLIMIT_AS, (now + (256 << 20), resource.RLIM_INFINITY))
    try:
        bytearray(1 << 30)  # the limit works
        print("LIMIT-NOT-ENFORCED")
    except MemoryError:
        pass
    for path in sys.argv[1:]:
        name = os.path.basename(path)
        try:
            if name.startswith("make-"):
                exec(open(path).read())
            else:
                pyshape.Placer.restore(open(path, "rb").read())
            print(name, "OK")
        except Exception as e:
            print(name, type(e).__name__, str(e).splitlines()[0][:200])
""")


def run_limited(tmp_path, files: dict) -> dict:
    """Runs each file (snapshot bytes, or `make-*` Python source) in a child whose address space is
    limited to what it holds after import + 256 MiB; returns name -> 'ErrorType message' / 'OK'."""
    paths = []
    for name, content in files.items():
        f = tmp_path / name
        f.write_bytes(content if isinstance(content, bytes) else content.encode())
        paths.append(str(f))
    r = subprocess.run([sys.executable, "-c", LIMITED, *paths], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "LIMIT-NOT-ENFORCED" not in r.stdout
    return dict(line.split(" ", 1) for line in r.stdout.splitlines())


needs_rlimit = pytest.mark.skipif(UNDER_ASAN or not sys.platform.startswith("linux"),
                                  reason="RLIMIT_AS: Linux, and not under ASan (its shadow memory needs the space)")


@needs_rlimit
def test_hostile_snapshots_allocate_nothing_big(tmp_path):
    files = {f"snap-{i}": data for i, (data, _) in enumerate(hostile_snapshots().values())}
    got = run_limited(tmp_path, files)
    assert len(got) == len(files)
    for name, res in got.items():
        assert res.startswith("ValueError "), (name, res)  # never MemoryError: refused before allocating


# ---------------------------------------------- 3. and 4. sizes: memory in proportion to use, limits at construction
@needs_rlimit
def test_large_T_costs_nothing_until_used(tmp_path):
    make = """
for kw in ({}, {"risk": 0.1}):
    p = pyshape.Placer(1.0, T=2**28, **kw)          # was 256 MiB at construction
    q = pyshape.Placer.restore(p.snapshot())
    assert (q.T, q.n_workers, len(q)) == (2**28, 0, 0)
pyshape.Placer(1.0, T=2**31 - 1)                   # the largest shape: 8 GiB per worker, none yet
pyshape.Placer([1.0] * 1024, T=2**21 - 1)
"""
    assert run_limited(tmp_path, {"make-large-T": make}) == {"make-large-T": "OK"}


def test_large_T_placer_is_usable():
    p = pyshape.Placer(1.0, T=2**28)
    assert p.n_workers == 0 and p.T == 2**28
    assert pyshape.Placer.restore(p.snapshot()).T == 2**28


def test_resources_limit_is_checked_at_construction():
    with pytest.raises(ValueError, match="at most 1024 resources"):
        pyshape.Placer([1.0] * 1025, T=2)
    p = pyshape.Placer([1.0] * 1024, T=2)  # the limit itself: snapshots and restores
    p.place("a", np.full((1024, 2), 0.5, np.float32))
    q = pyshape.Placer.restore(p.snapshot())
    assert q.R == 1024 and q.members(0).tolist() == ["a"]


@pytest.mark.parametrize("R, T", [(1, 2**31), (2, 2**30), (1024, 2**21 + 1), (3, 715827883)])
def test_shapes_over_2_31_values_are_refused_at_construction(R, T):
    with pytest.raises(ValueError, match=r"2\*\*31 - 1"):
        pyshape.Placer([1.0] * R, T=T)
    # the C++ check itself, behind the Python one (the same for batch packing's fleets)
    with pytest.raises(ValueError, match=r"2\^31 - 1"):
        _core.Placer(R, T, np.ones(R), np.zeros(R), "first_fit", 0.0, 16, 0, 0)


@pytest.mark.parametrize("kw, msg", [
    ({"T": 2**64}, "too large"),
    ({"T": 2**63}, "too large"),
    ({"max_workers": 2**64}, "max_workers"),
    ({"max_workers": -(2**70)}, "max_workers"),
    ({"scan_limit": 2**64}, "scan_limit"),
    ({"candidates": 2**40}, "candidates"),
    ({"candidates": -1}, "candidates"),
    ({"capacity": 1e-50}, "float32 range"),
    ({"capacity": 1e300}, "float32 range"),
    ({"capacity": 1e-37, "headroom": 0.99}, "float32 range"),
])
def test_out_of_range_arguments_give_clear_errors(kw, msg):
    args = {"capacity": 1.0, "T": 2, **kw}
    with pytest.raises(ValueError, match=msg) as e:
        pyshape.Placer(args.pop("capacity"), **args)
    assert "incompatible" not in str(e.value)


def test_pack_capacity_below_float32_is_a_clear_error():
    with pytest.raises(ValueError, match="float32 range"):
        pyshape.pack(np.ones((3, 1, 2)) * 1e-51, 1e-50)


# ---------------------------------------------------------------- 5. snapshot temp files of killed processes
KILLED_WRITER = textwrap.dedent("""
    import os, sys
    import pyshape
    p = pyshape.Placer(1.0, T=4)
    p.place("a", [0.5] * 4)
    os.fsync = lambda fd: os._exit(9)  # killed after writing, before the rename
    p.snapshot(sys.argv[1])
""")


@pytest.mark.skipif(os.name != "posix", reason="stale temp files are recognised on POSIX")
def test_snapshot_removes_temp_files_of_dead_processes(tmp_path):
    target = tmp_path / "placer.snap"
    child = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(target)])
    assert child.wait(timeout=120) == 9
    left = glob.glob(str(tmp_path / ".placer.snap.*.tmp"))
    assert len(left) == 1 and not target.exists()
    name = os.path.basename(left[0])
    host_tag = name[len(".placer.snap."):].split("-")[0]
    assert name.startswith(f".placer.snap.{host_tag}-{child.pid}-") and os.path.getsize(left[0]) > 0
    # more leftovers: a dead pid (removed); a live process's, another host's and foreign names (kept)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    keep = [f".placer.snap.{host_tag}-{os.getppid()}-live.tmp", f".placer.snap.{host_tag}-{os.getpid()}-self.tmp",
            ".placer.snap.0badc0de-1-otherhost.tmp", ".placer.snap.abc123xy.tmp", ".other.snap.x-1-y.tmp",
            f".placer.snap.{host_tag}-0-zero.tmp", f".placer.snap.{host_tag}-x-notapid.tmp"]
    gone = [name, f".placer.snap.{host_tag}-{dead}-dead.tmp"]
    for n in keep + gone[1:]:
        (tmp_path / n).write_bytes(b"junk")
    p = pyshape.Placer(1.0, T=4)
    p.place("b", [0.25] * 4)
    p.snapshot(target)
    present = set(os.listdir(tmp_path))
    assert present == set(keep) | {"placer.snap"}
    assert pyshape.Placer.restore(target).members(0).tolist() == ["b"]


# ---------------------------------------------------------------- 6. nits: complex input, NumPy ids, types as Plan
@pytest.mark.parametrize("shape", [
    np.array([0.5 + 1j, 0.2]),
    np.array([0.5 + 0j, 0.2], np.complex64),
    [0.5 + 1j, 0.2],
    [complex(0.5, 0), 0.2],
])
def test_complex_shapes_are_refused(shape):
    p = pyshape.Placer(1.0, T=2)
    with pytest.raises(TypeError, match="complex"):
        p.place("c", shape)
    assert len(p) == 0 and p.n_workers == 0 and "c" not in p
    p.place("c", np.real(np.asarray(shape)))
    assert p.worker_of("c") == 0


def test_numpy_integer_and_string_ids_are_their_python_equivalents():
    p = pyshape.Placer(10.0, T=2)
    s = [1.0, 1.0]
    p.place(np.int64(3), s)
    assert p.worker_of(3) == 0 and 3 in p and np.int32(3) in p and np.uint8(3) in p
    with pytest.raises(DuplicateIdError):
        p.place(3, s)
    p.place(np.uint64(2**64 - 1), s)
    assert p.worker_of(2**64 - 1) == 0
    p.place(np.str_("a"), s)
    assert "a" in p
    assert p.members(0).tolist() == [3, 2**64 - 1, "a"]
    assert p.remove(np.int16(3)) == 0 and 3 not in p
    for bad in (True, np.bool_(True), 1.0, np.float64(1.0), b"a", None):
        with pytest.raises(TypeError, match="str or int"):
            p.place(bad, s)
        assert bad not in p
    # pack's default ids (np.int64 elements) place directly
    D = np.ones((4, 1, 2), np.float32)
    plan = pyshape.pack(D, 2.0)
    q = pyshape.Placer(2.0, T=2)
    for i, ident in enumerate(plan.ids):
        q.place(ident, D[i])
    assert sorted(q.members(0).tolist() + q.members(1).tolist()) == plan.ids.tolist()


def test_big_int_ids_round_trip():
    p = pyshape.Placer(10.0, T=1)
    ids = [2**63 - 1, -(2**63), 2**63, 10**40, -(10**40)]
    for k in ids:
        p.place(k, [1.0])
    q = pyshape.Placer.restore(p.snapshot())
    assert q.members(0).tolist() == ids and q.members(0).dtype == object
    assert all(q.worker_of(k) == 0 for k in ids)
    assert q.members(0)[:2].tolist() == ids[:2]


def test_members_and_load_types_match_plan():
    D = np.array([[[1.0, 0.0]], [[0.0, 1.0]], [[2.0, 2.0]]], np.float32)
    plan = pyshape.pack(D, capacity=2.0, strategy="first_fit")
    p = pyshape.Placer(2.0, T=2, strategy="first_fit", scan_limit=0)
    for i in np.argsort(-D.max(axis=(1, 2)), kind="stable"):
        p.place(plan.ids[i], D[i])
    assert p.n_workers == plan.n_workers
    for w in range(p.n_workers):
        a, b = p.members(w), plan.members(w)
        assert type(a) is type(b) is np.ndarray and a.dtype == b.dtype == np.int64
        assert sorted(a.tolist()) == sorted(b.tolist())
        la, lb = p.load(w), plan.load(w)
        assert la.dtype == lb.dtype == np.float64 and la.shape == lb.shape == (1, 2)
        np.testing.assert_array_equal(la, lb)
    assert p.load().dtype == plan.load().dtype == np.float64
    assert p.load().shape == plan.load().shape == (p.n_workers, 1, 2)
    np.testing.assert_array_equal(p.load(), np.stack([p.load(w) for w in range(p.n_workers)]))


def test_members_dtypes():
    p = pyshape.Placer(10.0, T=1, strategy="first_fit", scan_limit=0)
    for k in ("a", "bb"):
        p.place(k, [4.0])  # worker 0: str ids
    for k in (1, 2):
        p.place(k, [4.0])  # worker 1: int ids
    p.place("x", [4.0])
    p.place(3, [4.0])      # worker 2: mixed
    p.place("gone", [4.0])
    p.remove("gone")       # worker 3: empty
    assert p.members(0).dtype.kind == "U" and p.members(0).tolist() == ["a", "bb"]
    assert p.members(1).dtype == np.int64 and p.members(1).tolist() == [1, 2]
    assert p.members(2).dtype == object and p.members(2).tolist() == ["x", 3]
    assert p.members(3).dtype == np.int64 and p.members(3).shape == (0,)
    q = pyshape.Placer(10.0, T=1)
    q.place("a\0", [1.0])  # a NumPy str array would drop the trailing NUL
    q.place("b", [1.0])
    assert q.members(0).dtype == object and q.members(0).tolist() == ["a\0", "b"]


def test_worker_arguments_are_checked_as_plan_does():
    p = pyshape.Placer(2.0, T=4)
    p.place("a", np.ones(4))
    p.place("b", np.full(4, 1.5))
    assert p.n_workers == 2
    for bad in (-1, 2, 10**12, 2**64, -(2**70), np.int64(-1)):
        with pytest.raises(IndexError, match=r"out of range \[0, 2\)"):
            p.load(bad)
        with pytest.raises(IndexError, match=r"out of range \[0, 2\)"):
            p.members(bad)
    for bad in (1.0, True, "0", np.float32(0), np.bool_(False)):
        with pytest.raises(TypeError, match="worker must be an integer"):
            p.load(bad)
        with pytest.raises(TypeError, match="worker must be an integer"):
            p.members(bad)
    assert p.load(np.int64(1)).shape == (1, 4) and p.members(np.uint8(1)).tolist() == ["b"]
