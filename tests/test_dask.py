"""pyshape.dask against the in-memory functions, on a LocalCluster of 2 worker
processes (1 thread each): identical results for uneven, single and empty
partitions, and with a worker killed mid-run."""
from __future__ import annotations

import os
import time

import numpy as np
import pytest

import pyshape

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
import dask.array as da  # noqa: E402

import pyshape.dask as pdask  # noqa: E402

T = 24


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      memory_limit="1GiB") as cluster, Client(cluster) as c:
        yield c


def _shapes(n=61, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, T)).astype(np.float32)
    if n > 30:
        X[7] = X[3]  # exact ties in score
        X[20] = 2 * X[3] + 1
        X[9] = 5.0  # a constant shape: r = 0 with everything (more ties)
        X[30] = -X[11]
    return X


CHUNKINGS = {"uneven": (10, 25, 3, 23), "one": (61,), "empty": (0, 20, 0, 41, 0), "tiny": (8,) * 7 + (5,)}


def _equal(p, q):
    for name in ("corr_index", "corr_score", "anti_index", "anti_score"):
        a, b = getattr(p, name), getattr(q, name)
        assert (a is None) == (b is None), name
        if a is not None:
            np.testing.assert_array_equal(a, b, err_msg=name)


@pytest.mark.parametrize("chunks", CHUNKINGS.values(), ids=CHUNKINGS.keys())
def test_top_partners_identical(client, chunks):
    X = _shapes()
    D = da.from_array(X, chunks=(chunks, T))
    cases = (("both", 6), ("corr", 1), ("anti", 60))
    lazy = [pdask.top_partners(D, k, which=which, split_every=2) for which, k in cases]
    got = dask.compute(*[list(p.__dict__.values()) for p in lazy])  # one pass for all three
    for (which, k), fields in zip(cases, got):
        _equal(pyshape.correlate.topk.Partners(*fields), pyshape.top_partners(X, k, which=which))


def test_top_partners_queries(client):
    X = _shapes()
    Q = np.vstack([X[:5] * 3 - 2, _shapes(9, seed=1)])
    D = da.from_array(X, chunks=((30, 0, 31), T))
    Qd = da.from_array(Q, chunks=((4, 0, 10), T))
    _equal(pdask.compute(pdask.top_partners(D, 61, queries=Qd)), pyshape.top_partners(X, 61, queries=Q))
    # a NumPy database is split into chunk_rows blocks
    _equal(pdask.compute(pdask.top_partners(X, 5, queries=Q, chunk_rows=8)), pyshape.top_partners(X, 5, queries=Q))


def test_top_partners_checks(client):
    X = _shapes()
    with pytest.raises(ValueError, match="at most|k"):
        pdask.top_partners(X, 61)
    bad = X.copy()
    bad[45, 3] = np.nan
    with pytest.raises(ValueError, match="row 45"):
        pdask.compute(pdask.top_partners(da.from_array(bad, chunks=(20, T)), 3))


@pytest.mark.parametrize("chunks", [(10, 25, 3, 23), (0, 61, 0)], ids=["uneven", "empty"])
def test_matrices_identical(client, chunks):
    X = _shapes()
    Y = _shapes(17, seed=2)
    D = da.from_array(X, chunks=(chunks, T))
    Yd = da.from_array(Y, chunks=((5, 0, 12), T))
    np.testing.assert_array_equal(pdask.pearson(D).compute(), pyshape.pearson(X))
    np.testing.assert_array_equal(pdask.pearson(D, Yd).compute(), pyshape.pearson(X, Y))
    s, lag = dask.compute(*pdask.lagged_correlation(D, Yd, max_lag=5, method="direct"))
    s0, lag0 = pyshape.lagged_correlation(X, Y, max_lag=5, method="direct")
    np.testing.assert_array_equal(s, s0)
    np.testing.assert_array_equal(lag, lag0)
    # the FFT length may depend on the block: agreement to float32 rounding
    np.testing.assert_allclose(pdask.sbd(D, max_lag=3, method="fft").compute(),
                               pyshape.sbd(X, max_lag=3, method="fft"), atol=1e-6)
    np.testing.assert_allclose(pdask.sbd(D).compute(), pyshape.sbd(X), atol=1e-5)


def _fitted_equal(a, b):
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    assert a.inertia_ == b.inertia_
    assert a.n_iter_ == b.n_iter_


@pytest.mark.parametrize("params", [
    {"random_state": 0},  # k-means++ on all rows (n <= init_size)
    {"random_state": 3, "init_size": 40, "n_init": 2},  # k-means++ on a sample of rows
    {"init": "dup"},  # two equal initial centroids: an empty cluster is re-seeded
])
def test_kmeans_identical(client, params):
    rng = np.random.default_rng(4)
    X = rng.standard_normal((150, T)).astype(np.float32)
    if params.get("init") == "dup":
        params = {"init": X[[0, 0, 1, 2, 3, 4]]}
    D = da.from_array(X, chunks=((7, 0, 60, 83), T))
    a = pyshape.CorrelationKMeans(6, max_iter=6, **params).fit(X)
    b = pdask.fit_kmeans(pyshape.CorrelationKMeans(6, max_iter=6, **params), D)
    _fitted_equal(a, b)
    assert a.n_iter_ > 2


def test_kmeans_one_partition_and_predict(client):
    X = _shapes(80, seed=6)
    a = pyshape.CorrelationKMeans(4, init="random", random_state=1).fit(X)
    b = pdask.fit_kmeans(pyshape.CorrelationKMeans(4, init="random", random_state=1), da.from_array(X, chunks=(80, T)),
                         persist=False)
    _fitted_equal(a, b)
    np.testing.assert_array_equal(pdask.predict(b, da.from_array(X, chunks=((30, 0, 50), T))).compute(),
                                  a.predict(X))


def test_kshape_assign(client):
    X = _shapes(90, seed=7)
    ks = pyshape.KShape(3, max_lag=4, random_state=0).fit(X)
    labels, dist, shift = dask.compute(*pdask.kshape_assign(ks, da.from_array(X, chunks=((40, 0, 50), T))))
    np.testing.assert_array_equal(labels, ks.predict(X))
    np.testing.assert_array_equal(labels, ks.labels_)
    np.testing.assert_allclose(dist, ks.transform(X).min(axis=1), atol=1e-6)
    assert shift.dtype == np.int32 and np.abs(shift).max() <= 4


def _kshape_equal(a, b):
    """The Dask fit against the in-memory one: labels, lags, n_iter_ and inertia_
    identical; centroids to float32 rounding (documented: S instead of the rows)."""
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.lags_, b.lags_)
    assert a.n_iter_ == b.n_iter_
    assert a.inertia_ == b.inertia_
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=0, atol=1e-5)
    assert a.max_lag_ == b.max_lag_


def _kshape_data():
    from pyshape.synthetic import make_shapes

    X, _ = make_shapes(240, 96, step_seconds=900, random_state=5)  # T > 64 and clusters > 64: Lanczos on S
    X[:4] = 3.0  # constant shapes
    X[10] = X[11]  # duplicates
    return X


KSHAPE_CHUNKS = {"uneven": (7, 0, 100, 3, 130), "one": (240,), "empty": (0, 120, 0, 120, 0),
                 "tiny": (16,) * 15}


@pytest.mark.parametrize("chunks", KSHAPE_CHUNKS.values(), ids=KSHAPE_CHUNKS.keys())
def test_kshape_fit_identical(client, chunks):
    X = _kshape_data()
    D = da.from_array(X, chunks=(chunks, X.shape[1]))
    for params in ({"random_state": 0, "max_lag": 8}, {"random_state": 1, "n_init": 2}):
        a = pyshape.KShape(4, max_iter=8, **params).fit(X)
        b = pdask.fit_kshape(pyshape.KShape(4, max_iter=8, **params), D, split_every=2)
        _kshape_equal(a, b)
        assert a.n_iter_ >= 2


def test_kshape_fit_inits_and_edge_cases(client):
    X = _kshape_data()
    D = da.from_array(X, chunks=((50, 0, 90, 100), X.shape[1]))
    labels = np.arange(len(X)) % 3
    labels[:4] = 0  # cluster 0: the constant shapes only -> a zero centroid (no alignment)
    labels[labels == 0] = 1
    labels[:4] = 0
    cases = [
        {"init": "random-labels", "random_state": 2},  # zero centroids, the paper's start
        {"init": labels},  # a cluster of constant shapes
        {"init": X[[20, 20, 30]]},  # two equal centroids: an empty cluster is re-seeded
        {"init": X[[20, 40, 60]], "max_lag": 0},  # correlation k-means with shape extraction
        {"init": "random", "random_state": 3, "max_iter": 1},
    ]
    for params in cases:
        a = pyshape.KShape(3, **params).fit(X)
        b = pdask.fit_kshape(pyshape.KShape(3, **params), D)
        _kshape_equal(a, b)
    # small clusters (<= 64 members): the eigenproblem of the rows themselves, bitwise
    Xs = _shapes(90, seed=12)
    a = pyshape.KShape(3, max_lag=4, random_state=0).fit(Xs)
    b = pdask.fit_kshape(pyshape.KShape(3, max_lag=4, random_state=0), da.from_array(Xs, chunks=((40, 0, 50), T)),
                         persist=False)
    _kshape_equal(a, b)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    # predict / kshape_assign with the Dask-fitted model
    np.testing.assert_array_equal(b.predict(Xs), a.predict(Xs))
    with pytest.raises(TypeError, match="KShape"):
        pdask.fit_kshape(pyshape.CorrelationKMeans(3), D)
    with pytest.raises(ValueError, match="init labels"):
        pdask.fit_kshape(pyshape.KShape(3, init=np.arange(5)), D)
    with pytest.raises(ValueError, match="n_clusters"):
        pdask.fit_kshape(pyshape.KShape(300), D)


def test_compute_in_order():
    """dask.compute groups mixed Delayed / Array arguments by type (dask 2026.8):
    compute_in_order keeps the order given."""
    from pyshape.dask._common import compute_in_order

    A = da.ones(4, chunks=2)
    got = compute_in_order(dask.delayed(sum)([1, 2]), A, dask.delayed(any)([False, True]), A + 1, 7,
                           scheduler="sync")
    assert got[0] == 3 and got[2] is True and got[4] == 7
    np.testing.assert_array_equal(got[1], np.ones(4))
    np.testing.assert_array_equal(got[3], np.full(4, 2.0))


def _slow(block, delay):
    time.sleep(delay)
    return block


def test_worker_killed_mid_run(client):
    """A worker process dies while the top-k graph runs: its tasks are rerun
    elsewhere (and its nanny restarts it); the result is unchanged."""
    from distributed import wait

    X = _shapes(96, seed=8)
    D = da.from_array(X, chunks=(8, T)).map_blocks(_slow, 0.15, dtype=np.float32)
    p = pdask.top_partners(D, 5)
    fut = client.compute(list(p.__dict__.values()))
    deadline = time.time() + 30
    while not any(ts == "memory" for ts in client.run_on_scheduler(
            lambda dask_scheduler: [t.state for t in dask_scheduler.tasks.values()])) and time.time() < deadline:
        time.sleep(0.05)
    victim = sorted(client.scheduler_info()["workers"])[0]
    try:
        client.run(os._exit, 1, workers=[victim], wait=False)
    except Exception:  # the worker may die before answering
        pass
    assert not all(f.done() for f in fut), "the graph finished before the kill: make it slower"
    wait(fut, timeout=120)
    got = pyshape.correlate.topk.Partners(*client.gather(fut))
    _equal(got, pyshape.top_partners(X, 5))
    client.wait_for_workers(2, timeout=60)


def test_pack_sharded_real_traces(client):
    """Shards packed on the cluster, then the under-filled workers repacked: at
    most 3% more workers than the single-machine plan on the packaged traces."""
    from pyshape.traces import load_azure_sample, load_bitbrains_sample

    bb = load_bitbrains_sample()
    az = load_azure_sample()
    cases = [(bb.shapes, (32000.0, 64.0)), (np.ascontiguousarray(bb.shapes[:, :, :288]), (64000.0, 128.0)),
             (az.shapes, (50.0, 32768.0))]
    total, total_single = 0, 0
    for D, cap in cases:
        D = D[(D.max(axis=2) <= np.array(cap)).all(axis=1)]
        sp = pdask.pack(da.from_array(D, chunks=(64, -1, -1)), cap, n_shards=4, compare=True)
        single = pyshape.pack(D, cap)
        assert sp.single_machine_workers == single.n_workers
        assert sp.n_shards == 4 and sp.repacked_to <= sp.repacked_from
        assert sp.lower_bound == single.lower_bound <= sp.n_workers <= sp.shard_workers
        assert sp.n_workers <= 1.03 * single.n_workers + 1e-9, (sp.summary(), single.n_workers)
        plan = sp.to_plan(D)
        assert plan.verify().ok
        assert sorted(np.unique(plan.assignment)) == list(range(sp.n_workers))
        total += sp.n_workers
        total_single += single.n_workers
    assert total <= 1.03 * total_single


def test_pack_one_shard_is_the_single_machine_plan(client):
    rng = np.random.default_rng(9)
    D = rng.random((300, 2, 48)).astype(np.float32)
    sp = pdask.pack(da.from_array(D, chunks=((100, 0, 200), 2, 48)), 6.0)
    plan = pyshape.pack(D, 6.0)
    assert sp.n_shards == 1
    np.testing.assert_array_equal(sp.assignment, plan.assignment)
    assert (sp.n_workers, sp.peak_workers, sp.lower_bound) == (plan.n_workers, plan.peak_workers, plan.lower_bound)
    bad = D.copy()
    bad[123, 1, 5] = -1
    with pytest.raises(ValueError, match="123"):
        pdask.pack(da.from_array(bad, chunks=(50, 2, 48)), 6.0)


@pytest.mark.parametrize("strategy,risk", [("auto", 0.0), ("complement", 0.05), ("first_fit", 0.0),
                                           ("best_fit", 0.0), ("peak", 0.0)])
def test_pack_shards_are_the_engines(client, strategy, risk):
    """Each shard task runs the engine's policy on the engine's shard: with
    no repack the plan is pyshape.pack's with the same shard_size, bit for bit."""
    rng = np.random.default_rng(10)
    D = (rng.random((330, 2, 48)) ** 3).astype(np.float32)
    D[5] = D[6]  # equal sizes: ties in input order
    kw = {"strategy": strategy, "risk": risk, "headroom": (0.1, 0.0), "shard_size": 64}
    plan = pyshape.pack(D, (4.0, 5.0), **kw)
    sp = pdask.pack(da.from_array(D, chunks=((100, 0, 30, 200), 2, 48)), (4.0, 5.0), repack=0, repack_shapes=0,
                   **kw)
    assert sp.n_shards == 6
    np.testing.assert_array_equal(sp.assignment, plan.assignment)
    assert (sp.n_workers, sp.peak_workers, sp.lower_bound) == (plan.n_workers, plan.peak_workers, plan.lower_bound)
    rp = pdask.pack(D, (4.0, 5.0), chunk_rows=50, **kw)  # the repack only ever removes workers
    assert plan.lower_bound <= rp.n_workers <= plan.n_workers
    assert rp.to_plan(D).verify().ok


def _types_case():
    """A packaged Bitbrains day and three worker types (the large one cheapest per unit of CPU)."""
    from pyshape.packing import WorkerTypes
    from pyshape.traces import load_bitbrains_sample

    types = WorkerTypes(["small", "medium", "large"], [[16000.0, 32.0], [32000.0, 64.0], [64000.0, 128.0]],
                        [1.0, 1.9, 3.6])
    D = np.ascontiguousarray(load_bitbrains_sample().shapes[:, :, :288])
    return np.ascontiguousarray(D[(D.max(axis=2) <= types.capacity[-1]).all(axis=1)]), types


def test_pack_worker_types(client):
    """Typed shards and typed repack on the cluster: within a few % of the in-memory
    typed plan's cost, feasible, and the cost figures the engine's."""
    D, types = _types_case()
    mem = pyshape.pack(D, types)
    for S in (2, 4):
        sp = pdask.pack(da.from_array(D, chunks=(64, -1, -1)), types, n_shards=S, compare=True)
        assert sp.types == types and sp.worker_type is not None and sp.worker_type.shape == (sp.n_workers,)
        assert sp.single_machine_cost == mem.cost and sp.single_machine_workers == mem.n_workers
        assert sp.cost <= 1.05 * mem.cost, (S, sp.summary(), mem.cost)
        assert sp.cost <= sp.shard_cost  # the repack only keeps a round that lowers the cost
        assert sp.cost == pytest.approx(types.cost[sp.worker_type].sum())
        assert sum(sp.type_counts.values()) == sp.n_workers and list(sp.type_counts) == list(types.names)
        assert (sp.lower_bound, sp.peak_workers, sp.peak_cost) == (mem.lower_bound, mem.peak_workers, mem.peak_cost)
        assert sp.cost_lower_bound == pytest.approx(mem.cost_lower_bound, rel=1e-9)
        assert sp.cost_lower_bound <= sp.cost
        plan = sp.to_plan(D)
        assert plan.verify().ok and plan.cost == sp.cost and plan.type_counts == sp.type_counts
        assert sorted(np.unique(plan.assignment)) == list(range(sp.n_workers))
        assert sp.summary()["cost"] == sp.cost


def test_pack_one_worker_type_is_untyped(client):
    """A table of one type gives the untyped sharded plan, every worker at its cost."""
    from pyshape.packing import ShapeTooLargeError, WorkerTypes

    D, _ = _types_case()
    cap = (32000.0, 64.0)
    D = np.ascontiguousarray(D[(D.max(axis=2) <= np.array(cap)).all(axis=1)])
    one = WorkerTypes(["only"], [cap], [2.5])
    X = da.from_array(D, chunks=(50, -1, -1))
    a, b = pdask.pack(X, cap, n_shards=4), pdask.pack(X, one, n_shards=4)
    np.testing.assert_array_equal(a.assignment, b.assignment)
    assert (a.n_workers, a.shard_workers, a.lower_bound, a.peak_workers) == \
        (b.n_workers, b.shard_workers, b.lower_bound, b.peak_workers)
    assert b.cost == 2.5 * b.n_workers and b.type_counts == {"only": b.n_workers}
    assert a.cost == a.n_workers and a.worker_type is None and a.type_counts == {"worker": a.n_workers}
    big = D.copy()
    big[17, 0, 3] = 40000.0  # above the only type's CPU
    with pytest.raises(ShapeTooLargeError, match="fit no worker type") as e:
        pdask.pack(da.from_array(big, chunks=(50, -1, -1)), one, n_shards=2)
    assert list(e.value.rows) == [17]


def test_pack_repack_goes_on_after_a_kept_round(client, monkeypatch):
    """A kept round that released all workers but one is followed by a round over
    all of them (the plan's workers changed): the last round covers every worker, so
    the plan is never worse than the single-machine plan, with or without types.
    The tasks run in this process (synchronous scheduler) so that the test sees the
    rows each packing task got: one of them must hold every shape."""
    import importlib

    import dask

    pack_mod = importlib.import_module("pyshape.dask.pack")  # the attribute pyshape.dask.pack is the function

    held: list = []
    kept: list = []
    engine = pack_mod.pack_rows

    def counting(rows, opts):
        held.append(len(rows))
        return engine(rows, opts)

    monkeypatch.setattr(pack_mod, "pack_rows", counting)
    D, types = _types_case()
    for cap in ((32000.0, 64.0), types):
        X = da.from_array(D, chunks=(64, -1, -1))
        p0 = pdask.pack(X, cap, n_shards=4, repack=0, repack_shapes=0)
        eff = (types.capacity if cap is types else np.array([cap]))[p0.worker_type if cap is types else 0]
        vol = np.stack([np.bincount(p0.assignment, weights=D[:, r].sum(axis=1, dtype=np.float64),
                                    minlength=p0.n_workers) for r in range(2)], axis=1)
        fullest = int(np.argsort((vol / (eff.astype(np.float32).astype(np.float64) * D.shape[2])).max(axis=1),
                                 kind="stable")[-1])
        held.clear()
        with dask.config.set(scheduler="synchronous"):
            sp = pdask.pack(X, cap, n_shards=4, repack=0,
                            repack_shapes=D.shape[0] - int((p0.assignment == fullest).sum()), repack_rounds=2)
        kept.append(sp.repacked_from > 0)
        assert held[-1] == D.shape[0], held  # the second round released every worker
        single = pyshape.pack(D, cap)
        assert sp.cost <= single.cost + 1e-9 and sp.to_plan(D).verify().ok
    assert any(kept), "no case kept its first round: the test would not see the bug"
    with pytest.raises(ValueError, match="repack_shapes"):
        pdask.pack(X, types, repack_shapes=-1)


def test_npy_and_parquet_in_blocks(client, tmp_path):
    from pyshape.traces import ResourceTrace, save_shapes  # noqa: F401

    X = _shapes()
    np.save(tmp_path / "x.npy", X)
    D = pdask.open_npy(tmp_path / "x.npy", chunk_rows=16)
    assert D.chunks[0] == (16, 16, 16, 13)
    _equal(pdask.compute(pdask.top_partners(D, 4)), pyshape.top_partners(X, 4))
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = {"id": pa.array([f"s{i}" for i in range(len(X))])}
    cols.update({str(t): pa.array(X[:, t]) for t in range(T)})
    pq.write_table(pa.table(cols), tmp_path / "x.parquet", row_group_size=25)
    P, ids = pdask.read_parquet(tmp_path / "x.parquet")
    assert P.chunks[0] == (25, 25, 11) and ids[3] == "s3"
    np.testing.assert_array_equal(P.compute(), X)
    np.testing.assert_array_equal(pdask.pearson(P, D).compute(), pyshape.pearson(X))


def test_cli_scheduler(client, tmp_path):
    from pyshape.cli import main

    X = np.abs(_shapes())  # pack needs demand >= 0
    np.save(tmp_path / "x.npy", X)
    addr = client.scheduler.address
    for cmd in (["correlate", "-k", "3"], ["cluster", "-n", "3"], ["cluster", "-n", "3", "--method", "kshape"],
                ["pack", "-c", "40"], ["pack", "--worker-type", "small:6:1", "--worker-type", "big:12:1.8"]):
        assert main([*cmd, str(tmp_path / "x.npy"), "-q", "-o", str(tmp_path / "a.csv")]) == 0
        assert main([*cmd, str(tmp_path / "x.npy"), "-q", "-o", str(tmp_path / "b.csv"),
                     "--scheduler", addr, "--chunk-rows", "20"]) == 0
        assert (tmp_path / "a.csv").read_text() == (tmp_path / "b.csv").read_text(), cmd
