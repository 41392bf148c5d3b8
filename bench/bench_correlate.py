"""Correlation benchmarks: pyshape against its peers, measured in the same run.

Cases (sizes from bench/conftest.py; quick by default, PYSHAPE_BENCH_FULL=1 for
the issue's sizes):

* full Pearson matrix: ``pyshape.pearson(X)`` against NumPy ``U @ U.T`` on
  pre-normalised float32 rows, and the plain matrix product ``U @ V.T``
  (V a copy of U, so BLAS cannot use the symmetric product) as the reference
  rate. 2 n^2 T flops are counted for all three.
* exact top-k partners (``which='anti'`` and ``'both'``) on structured shapes
  (pyshape.synthetic) and on white noise: pyshape against faiss
  ``IndexFlatIP`` (exact inner-product search on unit rows; negated queries for
  the most anti-correlated) and blocked NumPy (4096-row products +
  argpartition). The neighbour sets are compared with pyshape's.
* opt-in (PYSHAPE_BENCH_MILLION=1): n = 1,000,000 top-k, pyshape only, wall
  time and peak memory.
* top-k on every data kind (``bench_topk_kinds``): every method of
  ``top_partners`` and the peers alternated on make_shapes, white noise and
  the real-derived kinds of bench/realdata.py; ``PYSHAPE_BENCH_KINDS`` (e.g.
  ``bitbrains,white``) and ``PYSHAPE_BENCH_KINDS_IMPLS`` (e.g.
  ``pyshape_auto,faiss``) select kinds and implementations.

Peers get unit-normalised rows prepared outside the timing; pyshape's time
includes its own normalisation of the raw shapes.
"""
from __future__ import annotations

import gc
import os

import numpy as np
import pytest

import pyshape
from conftest import COLLECTOR, CONFIG, dataset, peak_rss_gib, unit_rows

TOPK_BLOCK = 4096


def _peer_available(name: str) -> bool:
    if name not in CONFIG.peers:
        return False
    if name == "faiss":
        try:
            import faiss  # noqa: F401
        except ImportError:
            return False
    return True


def _skip_unless_peer(name: str) -> None:
    if not _peer_available(name):
        pytest.skip(f"peer {name!r} not selected (PYSHAPE_BENCH_PEERS) or not installed")


def _pyshape_topk_kwargs() -> dict:
    """Extra arguments for top_partners from PYSHAPE_BENCH_METHOD (e.g. 'bruteforce')."""
    m = os.environ.get("PYSHAPE_BENCH_METHOD", "").strip()
    return {"method": m} if m else {}


# =========================================================================== Pearson matrix
PEARSON_IMPLS = ["pyshape", "numpy_syrk", "numpy_gemm"]


@pytest.mark.parametrize("impl", PEARSON_IMPLS)
def bench_pearson_matrix(impl, timed):
    n, T = CONFIG.pearson_n, CONFIG.T
    case = f"pearson n={n} T={T}"
    X = dataset("structured", n, T)
    U = unit_rows("structured", n, T)
    flops = 2.0 * n * n * T
    if impl == "pyshape":
        fn = lambda: pyshape.pearson(X, n_threads=CONFIG.threads)  # noqa: E731
    elif impl == "numpy_syrk":
        _skip_unless_peer("numpy")
        fn = lambda: U @ U.T  # noqa: E731  (NumPy may use the symmetric product)
    else:
        _skip_unless_peer("numpy")
        V = U.copy()
        fn = lambda: U @ V.T  # noqa: E731  (distinct operands: a plain GEMM)
    gc.collect()
    out, best = timed(fn, rounds=CONFIG.rounds, group=case)
    notes = {}
    if impl == "pyshape":
        m = min(n, 256)
        ref = U[:m].astype(np.float64) @ U.astype(np.float64).T
        notes["max abs error vs float64 (256 rows)"] = f"{np.abs(out[:m] - ref).max():.1e}"
    COLLECTOR.add(case, impl, best, flops, **notes)
    if impl == "numpy_gemm":
        COLLECTOR.reference_rate = flops / best / 1e9
    del out
    gc.collect()


# =========================================================================== top-k partners
def faiss_topk(U: np.ndarray, k: int, which: str):
    """Exact top-k by faiss IndexFlatIP on unit rows: (corr_index, anti_index)."""
    import faiss

    index = faiss.IndexFlatIP(U.shape[1])
    index.add(U)
    corr = anti = None
    if which in ("anti", "both"):
        _, anti = index.search(-U, k)  # largest <-u, v> = most negative r
    if which in ("corr", "both"):
        _, I = index.search(U, k + 1)  # the row itself comes back too
        corr = _drop_self(I, k)
    return corr, anti


def _drop_self(I: np.ndarray, k: int) -> np.ndarray:
    """k of the k+1 neighbours, leaving out the query's own row (or the last one)."""
    n = I.shape[0]
    is_self = I == np.arange(n)[:, None]
    keep = ~is_self
    none = ~is_self.any(axis=1)
    keep[none, -1] = False
    return I[keep].reshape(n, k)


def numpy_topk(U: np.ndarray, k: int, which: str, block: int = TOPK_BLOCK):
    """Exact top-k by blocked NumPy: U[b] @ U.T for 4096-row blocks + argpartition."""
    n = U.shape[0]
    want_anti = which in ("anti", "both")
    want_corr = which in ("corr", "both")
    anti = np.empty((n, k), np.int64) if want_anti else None
    corr = np.empty((n, k), np.int64) if want_corr else None
    sub = 256  # argpartition a few rows at a time: its int64 index array is 2x the scores
    for s in range(0, n, block):
        e = min(s + block, n)
        S = U[s:e] @ U.T
        for a in range(0, e - s, sub):
            Sb = S[a:a + sub]
            if want_anti:  # the row itself (r = 1) is never among the smallest
                p = np.argpartition(Sb, k - 1, axis=1)[:, :k]
                o = np.argsort(np.take_along_axis(Sb, p, 1), axis=1, kind="stable")
                anti[s + a:s + a + Sb.shape[0]] = np.take_along_axis(p, o, 1)
            if want_corr:
                rows = np.arange(Sb.shape[0])
                Sb[rows, s + a + rows] = -np.inf  # a row is not its own partner
                p = np.argpartition(Sb, n - k, axis=1)[:, n - k:]
                o = np.argsort(-np.take_along_axis(Sb, p, 1), axis=1, kind="stable")
                corr[s + a:s + a + Sb.shape[0]] = np.take_along_axis(p, o, 1)
        del S
    return corr, anti


def agreement(U: np.ndarray, mine: np.ndarray, theirs: np.ndarray, sign: float,
              tol: float = 1e-5):
    """(identical neighbour sets, sets equal up to ties) as fractions of rows.

    Rows whose sets differ are re-scored in float64: they count as tied when the
    sorted exact scores of both sets agree within ``tol``.
    """
    a = np.sort(mine, axis=1)
    b = np.sort(theirs, axis=1)
    same = (a == b).all(axis=1)
    diff_rows = np.flatnonzero(~same)
    tied = 0
    for i in diff_rows:
        u = U[i].astype(np.float64)
        sa = np.sort(sign * (U[mine[i]].astype(np.float64) @ u))
        sb = np.sort(sign * (U[theirs[i]].astype(np.float64) @ u))
        tied += bool(np.abs(sa - sb).max() <= tol)
    n = mine.shape[0]
    return same.mean(), (same.sum() + tied) / n


TOPK_CASES = [(kind, which, impl)
              for kind in ("structured", "white")
              for which in ("anti", "both")
              for impl in ("pyshape", "faiss", "numpy")]


@pytest.mark.parametrize("kind,which,impl", TOPK_CASES,
                         ids=[f"{a}-{b}-{c}" for a, b, c in TOPK_CASES])
def bench_topk(kind, which, impl, timed):
    n, T, k = CONFIG.topk_n, CONFIG.T, CONFIG.k
    case = f"top-k {which} {kind} n={n} T={T} k={k}"
    flops = 2.0 * n * n * T
    X = dataset(kind, n, T)
    U = unit_rows(kind, n, T)
    rounds = CONFIG.rounds if n <= 20_000 else 1
    gc.collect()
    if impl == "pyshape":
        kw = _pyshape_topk_kwargs()
        fn = lambda: pyshape.top_partners(X, k, which=which, n_threads=CONFIG.threads, **kw)  # noqa: E731
        p, best = timed(fn, rounds=rounds, group=case)
        COLLECTOR.extra[case] = (p.corr_index, p.anti_index)
        COLLECTOR.add(case, "pyshape", best, flops, **({"method": kw["method"]} if kw else {}))
        return
    _skip_unless_peer(impl)
    fn = (lambda: faiss_topk(U, k, which)) if impl == "faiss" else (lambda: numpy_topk(U, k, which))
    (corr, anti), best = timed(fn, rounds=rounds, group=case)
    notes = {}
    ref = COLLECTOR.extra.get(case)
    if ref is not None:
        for name, mine, theirs, sign in (("anti", ref[1], anti, -1.0), ("corr", ref[0], corr, 1.0)):
            if mine is None or theirs is None:
                continue
            same, up_to_ties = agreement(U, mine, theirs, sign)
            notes[f"{name} sets identical"] = f"{same:.4f}"
            notes[f"{name} equal up to ties"] = f"{up_to_ties:.4f}"
            print(f"\n{case} vs {impl}: {name} neighbour sets identical {same:.4%}, "
                  f"equal up to ties {up_to_ties:.4%}")
    COLLECTOR.add(case, impl, best, flops, **notes)


# =========================================================================== one million
@pytest.mark.skipif(os.environ.get("PYSHAPE_BENCH_MILLION", "").strip() in ("", "0"),
                    reason="opt-in: set PYSHAPE_BENCH_MILLION=1 (long: hours on 2 cores)")
def bench_topk_million(timed):
    n, T, k = CONFIG.million_n, CONFIG.T, CONFIG.k
    case = f"top-k both structured n={n} T={T} k={k} (pyshape only)"
    X = dataset("structured", n, T)
    rss_data = peak_rss_gib()
    kw = _pyshape_topk_kwargs()
    p, best = timed(lambda: pyshape.top_partners(X, k, which="both", n_threads=CONFIG.threads, **kw),
                    rounds=1, group=case)
    rss = peak_rss_gib()
    COLLECTOR.add(case, "pyshape", best, 2.0 * n * n * T,
                  **{"peak RSS GiB": f"{rss:.2f}", "peak RSS before search GiB": f"{rss_data:.2f}",
                     "input GiB": f"{X.nbytes / 2**30:.2f}"}, **({"method": kw["method"]} if kw else {}))
    print(f"\n{case}: {best:.1f} s, peak RSS {rss:.2f} GiB (input {X.nbytes / 2**30:.2f} GiB)")
    assert p.anti_index.shape == (n, k) and p.corr_index.shape == (n, k)


# =========================================================================== data kinds, alternated
# Top-k (which='both') on every data kind, every exact method of pyshape and the peers in
# one test per kind, alternating the implementations round by round (a loaded machine
# then slows all of them alike), against the float32 matrix product (NumPy sgemm) of the
# same data measured in the same rounds. Ratios: best time of `auto` / best time of impl.
KIND_T = {"structured": None, "white": None, "bitbrains": 288, "azure": 1440}
KIND_METHODS = ("auto", "bruteforce", "pruned", "int8")


def _kind_impls():
    """Every pyshape method and peer, or those named in PYSHAPE_BENCH_KINDS_IMPLS (e.g.
    'pyshape_auto,faiss' for the long n = 50,000 runs)."""
    impls = [f"pyshape_{m}" for m in KIND_METHODS]
    impls = [i for i in impls if i.split("_", 1)[1] in _supported_methods()]
    impls += [p for p in ("faiss", "numpy") if _peer_available(p)]
    only = [v.strip() for v in os.environ.get("PYSHAPE_BENCH_KINDS_IMPLS", "").split(",") if v.strip()]
    return [i for i in impls if i in only] if only else impls


def _supported_methods():
    import inspect

    from pyshape.correlate import topk as _topk

    src = inspect.getsource(_topk.top_partners)
    return [m for m in KIND_METHODS if f"'{m}'" in src or m == "auto"]


def _kinds():
    """The data kinds, or those named in PYSHAPE_BENCH_KINDS (e.g. 'bitbrains,white')."""
    only = [v.strip() for v in os.environ.get("PYSHAPE_BENCH_KINDS", "").split(",") if v.strip()]
    return [k for k in KIND_T if k in only] if only else list(KIND_T)


@pytest.mark.parametrize("kind", _kinds())
def bench_topk_kinds(kind):
    import time

    n, k = CONFIG.kinds_n, CONFIG.k
    T = KIND_T[kind] or CONFIG.T
    X = dataset(kind, n, T)
    T = X.shape[1]
    U = unit_rows(kind, n, T)
    rounds = max(1, CONFIG.rounds if n <= 20_000 else 1)
    case = f"top-k both {kind} n={n} T={T} k={k} (alternated)"
    impls = _kind_impls()
    best = {i: float("inf") for i in impls + ["sgemm"]}
    outs = {}
    ran = {}
    rows = min(n, TOPK_BLOCK)
    for r in range(rounds):
        # The order rotates round by round, and a pause follows every BLAS / OpenMP call: their
        # worker threads spin for a while after returning, which slowed whichever ran next by
        # up to 36% (measured: 'auto' right after sgemm against the same code as 'int8').
        for impl in ["sgemm"] + impls[r % len(impls):] + impls[:r % len(impls)]:
            gc.collect()
            t0 = time.perf_counter()
            if impl == "sgemm":
                S = U[:rows] @ U.T
                del S
            elif impl.startswith("pyshape_"):
                p = pyshape.top_partners(X, k, which="both", method=impl.split("_", 1)[1],
                                         n_threads=CONFIG.threads)
                outs[impl] = (p.corr_index, p.anti_index, p.corr_score, p.anti_score)
                if impl == "pyshape_auto":
                    from pyshape.correlate.topk import top_partners_auto_method

                    ran[impl] = top_partners_auto_method(n, n, T)
            elif impl == "faiss":
                outs[impl] = faiss_topk(U, k, "both")
            else:
                outs[impl] = numpy_topk(U, k, "both")
            best[impl] = min(best[impl], time.perf_counter() - t0)
            if impl in ("sgemm", "faiss", "numpy"):
                time.sleep(0.5)
    sgemm_macs = rows * n * T / best["sgemm"]
    pairs_macs = float(n) * n * T
    ref = outs.get("pyshape_bruteforce")
    sets_ref = ref if ref is not None else outs.get("pyshape_auto")  # bitwise the same arrays
    for impl in impls:
        notes = {"GMAC/s": f"{pairs_macs / best[impl] / 1e9:.1f}",
                 "x sgemm": f"{pairs_macs / best[impl] / sgemm_macs:.2f}"}
        if impl == "pyshape_auto":
            notes["ran"] = ran.get(impl, "?")
        if impl.startswith("pyshape_") and ref is not None and impl != "pyshape_bruteforce":
            o = outs[impl]
            same = all(np.array_equal(a, b) for a, b in zip(o, ref))
            notes["bitwise = bruteforce"] = str(same)
        if impl in ("faiss", "numpy") and sets_ref is not None:
            corr, anti = outs[impl]
            _, c = agreement(U, sets_ref[0], corr, 1.0)
            _, a = agreement(U, sets_ref[1], anti, -1.0)
            notes["sets equal up to ties (corr, anti)"] = f"{c:.4f}, {a:.4f}"
        name = "pyshape" if impl == "pyshape_auto" else impl
        COLLECTOR.add(case, name, best[impl], 2.0 * pairs_macs, **notes)
    extra = {"sgemm GMAC/s (U[:4096] @ U.T)": f"{sgemm_macs / 1e9:.1f}"}
    others = [(best[i], i) for i in impls if i.startswith("pyshape_") and i != "pyshape_auto"]
    if "pyshape_auto" in best and others:
        fastest = min(others)
        extra["auto / best exact method"] = f"{best['pyshape_auto'] / fastest[0]:.3f} ({fastest[1]})"
        extra["auto ran"] = ran.get("pyshape_auto", "?")
    if "pyshape_auto" in best and "faiss" in best:
        extra["faiss / auto"] = f"{best['faiss'] / best['pyshape_auto']:.2f}"
    COLLECTOR.note(case, **extra)
