"""SIMD-level safety: switching levels while kernels run, the per-level
self-test and its fallback, PYSHAPE_SIMD handling, scores kept in range, and
prompt interruption of long kernels."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import pyshape
from pyshape import _core

LEVELS = pyshape.available_simd_levels()


# --------------------------------------------------------------------------- level switching races
def _race_data():
    rng = np.random.default_rng(7)
    t = np.arange(96)
    base = np.sin(2 * np.pi * t / 24)
    # Structured rows (so the pruned top-k has something to prune) plus noise.
    X = (rng.standard_normal((260, 1)) * base + 0.5 * rng.standard_normal((260, 96))).astype(np.float32)
    D = rng.uniform(0.0, 0.3, (120, 2, 48)).astype(np.float32)
    return X, D


def _race_calls(X, D):
    """Name -> (call, compare(ref, got)) for every kernel family that reads the SIMD level."""
    Q = X[:40]
    km = pyshape.CorrelationKMeans(5, random_state=0).fit(X)
    ks = pyshape.KShape(4, max_shift=6, random_state=0).fit(X[:120])
    r_full = pyshape.pearson(X).astype(np.float64)

    def close(tol):
        def cmp(ref, got):
            np.testing.assert_allclose(got, ref, rtol=0, atol=tol)
        return cmp

    def partners(ref, got):
        # Indices may swap between near-tied scores at another level: check that
        # every reported pair has its true score and that the k scores match.
        for idx, sc, ridx, rsc in ((got.corr_index, got.corr_score, ref.corr_index, ref.corr_score),
                                   (got.anti_index, got.anti_score, ref.anti_index, ref.anti_score)):
            np.testing.assert_allclose(sc, rsc, rtol=0, atol=2e-5)
            true = np.take_along_axis(r_full[: len(idx)], idx, axis=1)
            np.testing.assert_allclose(sc, true, rtol=0, atol=2e-5)

    def lagged(ref, got):
        np.testing.assert_allclose(got[0], ref[0], rtol=0, atol=5e-5)

    def labels_where_clear(ref, got):
        # Assignment: the distance to the chosen centroid must be the smallest.
        dist = km.transform(X)
        chosen = np.take_along_axis(dist, got[:, None], axis=1)[:, 0]
        assert (chosen <= dist.min(axis=1) + 2e-5).all()

    def plans(ref, got):
        np.testing.assert_array_equal(got.assignment, ref.assignment)

    return {
        "pearson": (lambda: pyshape.pearson(X), close(2e-5)),
        "pearson_xy": (lambda: pyshape.pearson(X, Q), close(2e-5)),
        "top_partners_bruteforce": (lambda: pyshape.top_partners(X, k=7, method="bruteforce"), partners),
        "top_partners_pruned": (lambda: pyshape.top_partners(X, k=7, method="pruned", rank=8), partners),
        "top_partners_queries": (lambda: pyshape.top_partners(X, k=5, queries=Q, method="bruteforce"), partners),
        "lagged_direct": (lambda: pyshape.lagged_correlation(X[:80], max_lag=5, method="direct"), lagged),
        "lagged_fft": (lambda: pyshape.lagged_correlation(X[:80], max_lag=40, method="fft"), lagged),
        "sbd": (lambda: pyshape.sbd(X[:60], X[60:100]), close(5e-5)),
        "kmeans_predict": (lambda: km.predict(X), labels_where_clear),
        "kmeans_transform": (lambda: km.transform(X), close(2e-5)),
        "kshape_transform": (lambda: ks.transform(X), close(5e-5)),
        "pack": (lambda: pyshape.pack(D, 1.0), plans),
        "pack_first_fit": (lambda: pyshape.pack(D, 1.0, "first_fit"), plans),
    }


class _Toggler:
    """A thread that cycles through every SIMD level as fast as it can."""

    def __init__(self):
        self.stop = threading.Event()
        self.switches = 0
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            while not self.stop.is_set():
                for level in LEVELS:
                    pyshape.set_simd_level(level)
                    self.switches += 1
                time.sleep(0.0002)
        except BaseException as e:  # pragma: no cover - reported by the test
            self.error = e

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(10)


@pytest.fixture
def restore_level():
    before = pyshape.simd_level()
    yield
    pyshape.set_simd_level(before)


@pytest.mark.skipif(len(LEVELS) < 2, reason="one SIMD level only: nothing to switch")
def test_switching_levels_while_kernels_run(restore_level):
    """set_simd_level() from another thread never breaks a running kernel: every
    call reads the kernel tables once, so results stay right (at whichever level
    ran it) and the process never aborts."""
    X, D = _race_data()
    calls = _race_calls(X, D)
    refs = {name: call() for name, (call, _) in calls.items()}
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        with _Toggler() as tog:
            deadline = time.monotonic() + 6.0
            rounds = 0
            while time.monotonic() < deadline:
                for name, (call, cmp) in calls.items():
                    got = call()
                    try:
                        cmp(refs[name], got)
                    except AssertionError as e:
                        raise AssertionError(f"{name} wrong while levels switch: {e}") from None
                rounds += 1
        assert tog.error is None, tog.error
        assert tog.switches > 10 * rounds
    finally:
        sys.setswitchinterval(old)
