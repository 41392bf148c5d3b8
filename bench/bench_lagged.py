"""Lagged-correlation benchmark: ``pyshape.lagged_correlation(X)`` (all pairs of
X against itself, all lags -(T-1)..T-1, max score and best lag) against its
peers, measured in the same run.

Peers (their input: rows centred and scaled to unit norm outside the timing;
pyshape's time includes its own normalisation):

* ``tslearn.metrics.cdist_normalized_cc`` (what tslearn's KShape uses;
  float64, numba-parallel loop with one ``np.fft`` call per pair, scores only,
  no lags), called with ``self_similarity=True`` on the full problem size or,
  by default, on a subset of rows against all rows (``self_similarity=False``)
  and scaled linearly in the number of pairs to the n (n - 1) / 2 pairs it
  computes at full size.
* batched NumPy ``rfft`` (float32 / complex64): the real FFT of every row once
  (length ``scipy.fft.next_fast_len(2T - 1, real=True)``), then for each row i
  ``irfft(Xf[i] * conj(Xf[i:]))`` (only the pairs j >= i, like pyshape), max
  and argmax over the valid lags. By default on a subset of rows spread over
  [0, n) and scaled to all n (n + 1) / 2 pairs.

Environment (besides bench/conftest.py's):

``PYSHAPE_BENCH_LAGGED_N``        rows (default 2000, the issue's size)
``PYSHAPE_BENCH_LAGGED_NUMPY``    NumPy rows timed, 0 = all (default 100)
``PYSHAPE_BENCH_LAGGED_TSLEARN``  tslearn rows timed against all n, 0 = the
                                  full self-similarity call (default 10)

Run: ``python -m pytest bench/bench_lagged.py -s``
"""
from __future__ import annotations

import os
import time

import numpy as np
import pytest

import pyshape
from conftest import COLLECTOR, CONFIG, dataset, unit_rows


def _env_int(name: str, default: int) -> int:
    v = os.environ.get(name, "").strip()
    return int(float(v)) if v else default


N = _env_int("PYSHAPE_BENCH_LAGGED_N", 2000)
T = CONFIG.T
NUMPY_ROWS = _env_int("PYSHAPE_BENCH_LAGGED_NUMPY", 100)
TSLEARN_ROWS = _env_int("PYSHAPE_BENCH_LAGGED_TSLEARN", 10)
CASE = f"lagged all lags n={N} T={T}"
SCORE_ATOL = 1e-4  # float32 FFT (pyshape, NumPy complex64) vs float64 (tslearn)

_STATE: dict = {}


def _best_of(fn, rounds):
    best, out = np.inf, None
    for _ in range(rounds):
        out = None
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


def test_lagged_pyshape(benchmark, timed):
    X = dataset("structured", N, T)
    pyshape.lagged_correlation(X[:64], n_threads=CONFIG.threads)  # warm-up (page faults, plan)
    (score, lag), secs = timed(lambda: pyshape.lagged_correlation(X, n_threads=CONFIG.threads),
                               rounds=CONFIG.rounds, group="lagged")
    _STATE["pyshape"] = (score, lag, secs)
    COLLECTOR.add(CASE, "pyshape", secs, pairs=N * (N + 1) // 2, simd=pyshape.simd_level())


def _numpy_rows(Xf, nfft, rows):
    """Scores and lags of rows i (against j >= i) by batched irfft; list per row."""
    out = []
    for i in rows:
        c = np.fft.irfft(Xf[i][None, :] * np.conj(Xf[i:]), nfft, axis=1)
        # lags 0..T-1 at c[:, :T]; lags -(T-1)..-1 at c[:, nfft-T+1:]
        pos, neg = c[:, :T], c[:, nfft - T + 1:]
        pa, na = pos.argmax(axis=1), neg.argmax(axis=1)
        pm, nm = pos[np.arange(len(c)), pa], neg[np.arange(len(c)), na]
        use_neg = nm > pm
        out.append((np.where(use_neg, nm, pm), np.where(use_neg, na - (T - 1), pa)))
    return out


def test_lagged_numpy_rfft(benchmark, timed):
    from scipy.fft import next_fast_len

    U = unit_rows("structured", N, T)
    nfft = next_fast_len(2 * T - 1, real=True)
    rows = np.arange(N) if NUMPY_ROWS <= 0 or NUMPY_ROWS >= N else \
        np.unique(np.linspace(0, N - 1, NUMPY_ROWS).astype(int))
    pairs_timed = int(sum(N - i for i in rows))
    pairs_full = N * (N + 1) // 2

    def run():
        Xf = np.fft.rfft(U, nfft, axis=1)  # complex64 for float32 input (NumPy >= 2)
        return _numpy_rows(Xf, nfft, rows)

    out, secs = timed(run, rounds=1 if len(rows) < N else CONFIG.rounds, group="lagged")
    scale = pairs_full / pairs_timed
    COLLECTOR.add(CASE, "numpy_rfft", secs * scale, nfft=nfft, dtype="complex64",
                  timed=f"{len(rows)} rows ({pairs_timed} pairs, {secs:.2f} s) scaled x{scale:.1f}"
                  if scale > 1 else "full")
    _STATE["numpy"] = (secs * scale, len(rows), pairs_timed, secs)
    if "pyshape" in _STATE:
        score = _STATE["pyshape"][0]
        for i, (s, _) in zip(rows, out):
            np.testing.assert_allclose(s, score[i, i:], rtol=0, atol=SCORE_ATOL)


def test_lagged_tslearn(benchmark, timed):
    metrics = pytest.importorskip("tslearn.metrics")
    try:
        import numba

        numba.set_num_threads(min(CONFIG.threads, numba.config.NUMBA_NUM_THREADS))
    except ImportError:
        pass
    U = unit_rows("structured", N, T).astype(np.float64)
    D = U[:, :, None]
    # Compile outside the timing.
    metrics.cdist_normalized_cc(D[:3], D[:3], -np.ones(3), -np.ones(3), True)
    pairs_full = N * (N - 1) // 2
    if TSLEARN_ROWS <= 0 or TSLEARN_ROWS >= N:
        rows, self_sim, pairs_timed = N, True, pairs_full
    else:
        rows, self_sim, pairs_timed = TSLEARN_ROWS, False, TSLEARN_ROWS * N
    A = D[:rows]
    out, secs = timed(lambda: metrics.cdist_normalized_cc(A, D, -np.ones(rows), -np.ones(N), self_sim),
                      rounds=1, group="lagged")
    scale = pairs_full / pairs_timed
    COLLECTOR.add(CASE, "tslearn_cdist_normalized_cc", secs * scale, dtype="float64",
                  timed=f"{rows} rows x {N} ({pairs_timed} pairs, {secs:.2f} s) scaled x{scale:.1f}"
                  if scale > 1 else "full")
    _STATE["tslearn"] = (secs * scale, rows, pairs_timed, secs)
    if "pyshape" in _STATE:
        score = _STATE["pyshape"][0]
        off = ~np.eye(rows, N, dtype=bool)  # tslearn leaves the diagonal at 0 with self_similarity
        np.testing.assert_allclose(out[off], score[:rows][off], rtol=0, atol=SCORE_ATOL)


def test_lagged_report(request):
    """Print the speed-up table (peer time / pyshape time) for this case."""
    if "pyshape" not in _STATE:
        pytest.skip("pyshape case did not run")
    py_secs = _STATE["pyshape"][2]
    lines = [f"lagged correlation, all pairs, all lags: n={N}, T={T}, threads={CONFIG.threads}, "
             f"simd={pyshape.simd_level()}",
             f"{'impl':<30} {'time s':>10} {'speed-up of pyshape':>20}  how timed",
             f"{'pyshape.lagged_correlation':<30} {py_secs:>10.3f} {'1':>20}  full, best of {CONFIG.rounds}"]
    for key, name in [("numpy", "numpy rfft/irfft (complex64)"),
                      ("tslearn", "tslearn cdist_normalized_cc")]:
        if key in _STATE:
            full, rows, pairs, secs = _STATE[key]
            how = "full" if full == secs else \
                f"{rows} rows: {pairs} pairs in {secs:.2f} s, scaled linearly in pairs"
            lines.append(f"{name:<30} {full:>10.2f} {full / py_secs:>19.1f}x  {how}")
    tr = request.config.pluginmanager.get_plugin("terminalreporter")
    text = "\n".join(lines)
    if tr is not None:
        tr.write_line("")
        for line in lines:
            tr.write_line(line)
    else:
        print(text)
