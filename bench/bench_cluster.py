"""Clustering benchmark: pyshape.KShape and pyshape.CorrelationKMeans against
their peers in the same run, plus the quality (adjusted Rand index) table on
labelled UCR data.

Every peer is warmed up first on a small input, not timed (tslearn compiles its
cross-correlation with numba on its first call: 40-45 s here). The speed cases then
run the implementations alternately (pyshape, peer, pyshape, peer, ...),
``PYSHAPE_BENCH_CLUSTER_REPS`` times each (3), and report the medians and their ratio
(the runs' times in the notes), so that a change of the machine's load hits both.

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
  ``max_iter``; compared per iteration (``time / n_iter_``; the fits' times in
  the notes).
* ``kshape n=100000 T=288`` (pyshape only, the issue's scale target).
* ``ucr ARI``: KShape vs tslearn KShape, same n_clusters (= classes), n_init and
  seeds, on train + test of GunPoint, ItalyPowerDemand, ArrowHead, OSULeaf,
  Coffee and Trace (``/work/shared/data/ucr`` or ``PYSHAPE_UCR_DIR``).
* ``correlation k-means n=1,000,000`` (opt-in: ``PYSHAPE_BENCH_MILLION=1``):
  time per iteration and peak RSS.

Environment (besides bench/conftest.py's): ``PYSHAPE_BENCH_KSHAPE_N`` (5000),
``PYSHAPE_BENCH_TSLEARN_N`` (0 = full), ``PYSHAPE_BENCH_KSHAPEPKG_N`` (0 = full),
``PYSHAPE_BENCH_KMEANS_N`` (100000), ``PYSHAPE_BENCH_KMEANS_K`` (64),
``PYSHAPE_BENCH_KMEANS_ITER`` (10), ``PYSHAPE_BENCH_CLUSTER_REPS`` (3), ``PYSHAPE_BENCH_ARI_SEEDS`` (3),
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
REPS = _env_int("PYSHAPE_BENCH_CLUSTER_REPS", 3)

warnings.filterwarnings("ignore", message=".*h5py.*")


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


# ----------------------------------------------------------------------------- k-Shape speed
KS_CASE = f"kshape fit 1 iteration n={KS_N} T={KS_T} k={KS_K}"


def _alternating(runs: dict, reps: int = REPS) -> dict:
    """Runs every implementation of ``runs`` (name -> zero-argument function returning
    ``(seconds, notes)``) ``reps`` times, alternating them (a, b, a, b, ...), so that a
    change of the machine's load hits both alike; returns name -> (median seconds, all
    seconds, notes of the median run)."""
    times = {name: [] for name in runs}
    notes = {name: [] for name in runs}
    for _ in range(reps):
        for name, fn in runs.items():
            t, nt = fn()
            times[name].append(t)
            notes[name].append(nt)
    out = {}
    for name, ts in times.items():
        i = int(np.argsort(ts)[len(ts) // 2])
        out[name] = (ts[i], ts, notes[name][i])
    return out


def _report(case: str, res: dict, scale: dict | None = None) -> None:
    """Medians into the table (pyshape first), every run's time in the notes."""
    scale = scale or {}
    for name, (t, ts, nt) in res.items():
        f = scale.get(name, 1.0)
        extra = {} if f == 1.0 else dict(scaled=f"x{f:g}", measured_median_s=f"{t:.2f}")
        COLLECTOR.add(case, name, t * f, runs_s="/".join(f"{x:.3g}" for x in ts), **nt, **extra)
    mine = res["pyshape"][0]
    ratios = {f"ratio_{name.split()[0]}": f"{res[name][0] * scale.get(name, 1.0) / mine:.3g}"
              for name in res if name != "pyshape"}
    COLLECTOR.note(case, reps=REPS, **ratios)


def _tslearn_z(sub: int) -> np.ndarray:
    """The peers' input: the z-normalised rows (float64, n x T x 1), made outside the timing."""
    return (unit_rows("structured", KS_N, KS_T)[:sub] * np.sqrt(KS_T)).astype(np.float64)[:, :, None]


def bench_kshape_vs_tslearn():
    tsl = pytest.importorskip("tslearn.clustering")
    X = dataset("structured", KS_N, KS_T)
    case = KS_CASE + " (init=random)"
    sub = KS_N if TSLEARN_N <= 0 else min(TSLEARN_N, KS_N)
    Z = _tslearn_z(sub)
    # Warm-up, not timed: tslearn compiles its cross-correlation with numba on the
    # first call (40-45 s here); pyshape's first call has no such cost but is warmed alike.
    tsl.KShape(n_clusters=2, init="random", max_iter=1, n_init=1, random_state=0).fit(Z[:20, :64])
    pyshape.KShape(2, init="random", max_iter=1, random_state=0, n_threads=CONFIG.threads).fit(X[:20, :64])

    def mine():
        m, t = _timed(lambda: pyshape.KShape(KS_K, init="random", max_iter=1, random_state=0,
                                             n_threads=CONFIG.threads).fit(X))
        return t, dict(n_iter=m.n_iter_)

    def peer():
        ts = tsl.KShape(n_clusters=KS_K, init="random", max_iter=1, n_init=1, random_state=0)
        _, t = _timed(lambda: ts.fit(Z))
        return t, {} if sub == KS_N else dict(measured_rows=sub)

    res = _alternating({"pyshape": mine, "tslearn": peer})
    _report(case, res, scale={"tslearn": KS_N / sub})


def bench_kshape_vs_kshape_package():
    core = pytest.importorskip("kshape.core")
    X = dataset("structured", KS_N, KS_T)
    case = KS_CASE + " (init=random labels)"
    sub = KS_N if KSPKG_N <= 0 else min(KSPKG_N, KS_N)
    Z = _tslearn_z(sub)
    # Warm-up, not timed (the package is NumPy only, but its first call still imports and
    # allocates; pyshape's likewise)
    np.random.seed(0)
    core.KShapeClusteringCPU(2, centroid_init="zero", max_iter=1, n_jobs=CONFIG.threads).fit(Z[:20, :64])
    pyshape.KShape(2, init="random-labels", max_iter=1, random_state=0, n_threads=CONFIG.threads).fit(X[:20, :64])

    def mine():
        m, t = _timed(lambda: pyshape.KShape(KS_K, init="random-labels", max_iter=1, random_state=0,
                                             n_threads=CONFIG.threads).fit(X))
        return t, dict(n_iter=m.n_iter_)

    def peer():
        np.random.seed(0)
        pkg = core.KShapeClusteringCPU(KS_K, centroid_init="zero", max_iter=1, n_jobs=CONFIG.threads)
        _, t = _timed(lambda: pkg.fit(Z))
        return t, {} if sub == KS_N else dict(measured_rows=sub)

    res = _alternating({"pyshape": mine, "kshape (pkg, CPU)": peer})
    _report(case, res, scale={"kshape (pkg, CPU)": KS_N / sub})


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
    # warm-up, not timed (imports, thread pools, first-touch of code pages)
    pyshape.CorrelationKMeans(4, init=init[:4], max_iter=2, n_threads=CONFIG.threads).fit(X[:500])
    skc.KMeans(4, init=init[:4], n_init=1, max_iter=2, algorithm="lloyd").fit(Z[:500])

    # per iteration: the fit's time over its rounds (pyshape's includes the
    # normalisation of the raw rows and the final assignment; scikit-learn's the
    # centring of its copy of Z and its final E-step)
    def mine():
        m, t = _timed(lambda: pyshape.CorrelationKMeans(KM_K, init=init, max_iter=KM_ITER, tol=-1.0,
                                                        n_threads=CONFIG.threads).fit(X))
        return t / m.n_iter_, dict(n_iter=m.n_iter_, fit_s=f"{t:.2f}")

    def peer():
        km = skc.KMeans(KM_K, init=init, n_init=1, max_iter=KM_ITER, tol=0.0, algorithm="lloyd")
        _, t = _timed(lambda: km.fit(Z))
        return t / km.n_iter_, dict(n_iter=km.n_iter_, fit_s=f"{t:.2f}")

    res = _alternating({"pyshape": mine, "sklearn KMeans lloyd f32": peer})
    _report(case + " (s per iteration)", res)


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
