"""Clustering benchmark: pyshape.KShape and pyshape.CorrelationKMeans against
their peers in the same run, plus the quality (adjusted Rand index) table on
labelled UCR data.

Cases:

* ``kshape fit n=5000 T=1440 k=10``, one iteration each (the same work):
  - pyshape ``KShape(init='random', max_iter=1)`` vs tslearn ``KShape(init='random',
    max_iter=1)``: both draw k rows as centroids, assign, extract k shapes,
    assign again. tslearn gets z-normalised float64 rows (prepared outside the
    timing); it runs at the full size by default. ``PYSHAPE_BENCH_TSLEARN_N=m``
    times it on the first m rows and scales the time by n / m (the assignment and
    alignment are linear in n, but the eigenvector step is not: scaling
    overstates that part, so use it only for a quick look).
  - pyshape ``KShape(init='random-labels', max_iter=1)`` vs the ``kshape``
    package's ``KShapeClusteringCPU(max_iter=1, n_jobs=threads)``: both start
    from random labels and zero centroids, extract k shapes, assign once.
* ``correlation k-means``: pyshape ``CorrelationKMeans`` (raw rows in,
  normalisation included) vs scikit-learn ``KMeans(algorithm='lloyd')`` on the
  z-normalised float32 rows, both from the same initial centroids, same
  ``max_iter``; compared per iteration (``time / n_iter_``) and in total.
* ``kshape n=100000 T=288`` (pyshape only, the issue's scale target).
* ``ucr ARI``: KShape vs tslearn KShape, same n_clusters (= classes), n_init and
  seeds, on train + test of GunPoint, ItalyPowerDemand, ArrowHead, OSULeaf,
  Coffee and Trace (``/work/shared/data/ucr`` or ``PYSHAPE_UCR_DIR``).
* ``correlation k-means n=1,000,000`` (opt-in: ``PYSHAPE_BENCH_MILLION=1``):
  time per iteration and peak RSS.

Environment (besides bench/conftest.py's): ``PYSHAPE_BENCH_KSHAPE_N`` (5000),
``PYSHAPE_BENCH_TSLEARN_N`` (0 = full), ``PYSHAPE_BENCH_KSHAPEPKG_N`` (0 = full),
``PYSHAPE_BENCH_KMEANS_N`` (100000), ``PYSHAPE_BENCH_KMEANS_K`` (64),
``PYSHAPE_BENCH_KMEANS_ITER`` (10), ``PYSHAPE_BENCH_ARI_SEEDS`` (3),
``PYSHAPE_BENCH_ARI_NINIT`` (2), ``PYSHAPE_BENCH_KSHAPE_BIG_N`` (100000; 0 skips).

Run: ``python -m pytest bench/bench_cluster.py -s -p no:cacheprovider``
"""
from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import pyshape
from conftest import COLLECTOR, CONFIG, dataset, peak_rss_gib, unit_rows


def _env_int(name: str, default: int) -> int:
    v = os.environ.get(name, "").strip()
    return int(float(v)) if v else default


KS_N = _env_int("PYSHAPE_BENCH_KSHAPE_N", 5000)
KS_T = CONFIG.T
KS_K = 10
TSLEARN_N = _env_int("PYSHAPE_BENCH_TSLEARN_N", 0)
KSPKG_N = _env_int("PYSHAPE_BENCH_KSHAPEPKG_N", 0)
KM_N = _env_int("PYSHAPE_BENCH_KMEANS_N", 100_000)
KM_K = _env_int("PYSHAPE_BENCH_KMEANS_K", 64)
KM_ITER = _env_int("PYSHAPE_BENCH_KMEANS_ITER", 10)
ARI_SEEDS = _env_int("PYSHAPE_BENCH_ARI_SEEDS", 3)
ARI_NINIT = _env_int("PYSHAPE_BENCH_ARI_NINIT", 2)
BIG_N = _env_int("PYSHAPE_BENCH_KSHAPE_BIG_N", 100_000)
UCR = Path(os.environ.get("PYSHAPE_UCR_DIR", "/work/shared/data/ucr"))
MILLION = os.environ.get("PYSHAPE_BENCH_MILLION", "").strip() not in ("", "0")

warnings.filterwarnings("ignore", message=".*h5py.*")


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


# ----------------------------------------------------------------------------- k-Shape speed
KS_CASE = f"kshape fit 1 iteration n={KS_N} T={KS_T} k={KS_K}"


def bench_kshape_vs_tslearn():
    tsl = pytest.importorskip("tslearn.clustering")
    X = dataset("structured", KS_N, KS_T)
    case = KS_CASE + " (init=random)"
    m, t = _timed(lambda: pyshape.KShape(KS_K, init="random", max_iter=1, random_state=0,
                                         n_threads=CONFIG.threads).fit(X))
    COLLECTOR.add(case, "pyshape", t, n_iter=m.n_iter_)
    sub = KS_N if TSLEARN_N <= 0 else min(TSLEARN_N, KS_N)
    Z = (unit_rows("structured", KS_N, KS_T)[:sub] * np.sqrt(KS_T)).astype(np.float64)[:, :, None]
    ts = tsl.KShape(n_clusters=KS_K, init="random", max_iter=1, n_init=1, random_state=0)
    _, t = _timed(lambda: ts.fit(Z))
    scale = KS_N / sub
    notes = {} if sub == KS_N else dict(measured_rows=sub, measured_s=f"{t:.2f}", scaled=f"x{scale:g}")
    COLLECTOR.add(case, "tslearn", t * scale, **notes)


def bench_kshape_vs_kshape_package():
    core = pytest.importorskip("kshape.core")
    X = dataset("structured", KS_N, KS_T)
    case = KS_CASE + " (init=random labels)"
    m, t = _timed(lambda: pyshape.KShape(KS_K, init="random-labels", max_iter=1, random_state=0,
                                         n_threads=CONFIG.threads).fit(X))
    COLLECTOR.add(case, "pyshape", t, n_iter=m.n_iter_)
    sub = KS_N if KSPKG_N <= 0 else min(KSPKG_N, KS_N)
    Z = (unit_rows("structured", KS_N, KS_T)[:sub] * np.sqrt(KS_T)).astype(np.float64)[:, :, None]
    np.random.seed(0)
    pkg = core.KShapeClusteringCPU(KS_K, centroid_init="zero", max_iter=1, n_jobs=CONFIG.threads)
    _, t = _timed(lambda: pkg.fit(Z))
    scale = KS_N / sub
    notes = {} if sub == KS_N else dict(measured_rows=sub, measured_s=f"{t:.2f}", scaled=f"x{scale:g}")
    COLLECTOR.add(case, "kshape (pkg, CPU)", t * scale, **notes)


def bench_kshape_big():
    if BIG_N <= 0:
        pytest.skip("PYSHAPE_BENCH_KSHAPE_BIG_N=0")
    X = dataset("structured", BIG_N, 288)
    k = 20
    m, t = _timed(lambda: pyshape.KShape(k, max_iter=10, random_state=0, n_threads=CONFIG.threads).fit(X))
    COLLECTOR.add(f"kshape fit n={BIG_N} T=288 k={k}", "pyshape", t, n_iter=m.n_iter_,
                  s_per_iter=f"{t / max(m.n_iter_, 1):.2f}", peak_rss_gib=f"{peak_rss_gib():.2f}")


# ----------------------------------------------------------------------------- k-means speed
def bench_correlation_kmeans_vs_sklearn():
    skc = pytest.importorskip("sklearn.cluster")
    X = dataset("structured", KM_N, CONFIG.T)
    Z = (unit_rows("structured", KM_N, CONFIG.T) * np.float32(np.sqrt(CONFIG.T))).astype(np.float32)
    init = Z[np.random.default_rng(0).choice(KM_N, KM_K, replace=False)]
    case = f"correlation k-means n={KM_N} T={CONFIG.T} k={KM_K} max_iter={KM_ITER}"
    m, t = _timed(lambda: pyshape.CorrelationKMeans(KM_K, init=init, max_iter=KM_ITER, tol=-1.0,
                                                    n_threads=CONFIG.threads).fit(X))
    COLLECTOR.add(case, "pyshape", t, n_iter=m.n_iter_, s_per_iter=f"{t / m.n_iter_:.3f}")
    km = skc.KMeans(KM_K, init=init, n_init=1, max_iter=KM_ITER, tol=0.0, algorithm="lloyd")
    _, t2 = _timed(lambda: km.fit(Z))
    COLLECTOR.add(case, "sklearn KMeans lloyd f32", t2, n_iter=km.n_iter_,
                  s_per_iter=f"{t2 / km.n_iter_:.3f}")
    COLLECTOR.note(case, per_iteration_ratio=f"{(t / m.n_iter_) / (t2 / km.n_iter_):.3g}")


def bench_correlation_kmeans_million():
    if not MILLION:
        pytest.skip("set PYSHAPE_BENCH_MILLION=1")
    n, T, k = CONFIG.million_n, CONFIG.T, 256
    X = dataset("structured", n, T)
    iters = _env_int("PYSHAPE_BENCH_MILLION_ITER", 3)
    est = pyshape.CorrelationKMeans(k, max_iter=iters, tol=-1.0, random_state=0, n_threads=CONFIG.threads)
    seeding = est._kmeanspp
    box = {}

    def timed_seeding(*args, **kwargs):  # to report the seeding apart from the iterations
        t0 = time.perf_counter()
        out = seeding(*args, **kwargs)
        box["init"] = time.perf_counter() - t0
        return out

    est._kmeanspp = timed_seeding
    m, t = _timed(lambda: est.fit(X))
    # n_iter_ rounds of (assignment + update), then one final assignment
    per_iter = (t - box["init"]) / (m.n_iter_ + 1)
    COLLECTOR.add(f"correlation k-means n={n} T={T} k={k}", "pyshape", t, n_iter=m.n_iter_,
                  kmeanspp_s=f"{box['init']:.1f}", s_per_iter=f"{per_iter:.1f}",
                  peak_rss_gib=f"{peak_rss_gib():.2f}")


# ----------------------------------------------------------------------------- quality
def load_ucr(name: str):
    """All series (train + test) of a UCR dataset in UCR: (X float64 (n, T), y)."""
    d = UCR / name
    if (d / f"{name}.npz").exists():
        z = np.load(d / f"{name}.npz")
        X = np.concatenate([z["X_train"][..., 0], z["X_test"][..., 0]])
        y = np.concatenate([z["y_train"], z["y_test"]])
        return X.astype(np.float64), y
    X, y = [], []
    for part in ("TRAIN", "TEST"):
        ts, txt = d / f"{name}_{part}.ts", d / f"{name}_{part}.txt"
        if ts.exists():
            data = False
            for line in ts.read_text().splitlines():
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                if line.lower().startswith("@data"):
                    data = True
                    continue
                if data:
                    vals, lab = line.rsplit(":", 1)
                    X.append([float(v) for v in vals.split(",")])
                    y.append(lab)
        else:
            a = np.loadtxt(txt)
            X.extend(a[:, 1:])
            y.extend(a[:, 0])
    return np.array(X, dtype=np.float64), np.array(y)


UCR_SETS = ["GunPoint", "ItalyPowerDemand", "ArrowHead", "OSULeaf", "Coffee", "Trace"]


def bench_ucr_ari():
    tsl = pytest.importorskip("tslearn.clustering")
    from sklearn.metrics import adjusted_rand_score

    if not UCR.exists():
        pytest.skip(f"{UCR} not found")
    rows = []
    for name in UCR_SETS:
        X, y = load_ucr(name)
        k = len(np.unique(y))
        Z = pyshape.znorm(X).astype(np.float64)
        a_p, a_t, t_p, t_t = [], [], 0.0, 0.0
        for seed in range(ARI_SEEDS):
            m, t = _timed(lambda: pyshape.KShape(k, n_init=ARI_NINIT, random_state=seed).fit(X))
            a_p.append(adjusted_rand_score(y, m.labels_))
            t_p += t
            ts = tsl.KShape(n_clusters=k, n_init=ARI_NINIT, random_state=seed)
            lab, t = _timed(lambda: ts.fit_predict(Z[:, :, None]))
            a_t.append(adjusted_rand_score(y, lab))
            t_t += t
        rows.append((name, X.shape[0], X.shape[1], k, np.mean(a_p), np.mean(a_t), t_p, t_t))
    lines = [f"ARI vs true labels, train + test, mean over seeds 0..{ARI_SEEDS - 1}, n_init={ARI_NINIT}, "
             f"n_clusters = number of classes; tslearn on z-normalised rows",
             "", "| dataset | n | T | k | pyshape KShape | tslearn KShape | diff | pyshape s | tslearn s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]:.3f} | {r[5]:.3f} | {r[4] - r[5]:+.3f} "
                     f"| {r[6]:.2f} | {r[7]:.2f} |")
    mp, mt = np.mean([r[4] for r in rows]), np.mean([r[5] for r in rows])
    lines.append(f"| **mean** | | | | **{mp:.3f}** | **{mt:.3f}** | **{mp - mt:+.3f}** | | |")
    text = "\n".join(lines)
    print("\n" + text)
    out = Path(os.environ.get("PYSHAPE_BENCH_ARI_REPORT", Path(__file__).parent / ".benchmarks" / "ari.md"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")
    COLLECTOR.note("ucr ARI", mean_pyshape=f"{mp:.3f}", mean_tslearn=f"{mt:.3f}", diff=f"{mp - mt:+.3f}")
    assert mp >= mt - 0.02
