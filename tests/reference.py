"""Slow, obviously right NumPy/SciPy versions of every kernel, computed in
float64. Every fast path in pyshape is compared with these."""
from __future__ import annotations

import numpy as np


def unit_rows(x) -> np.ndarray:
    """Rows centred and scaled to unit norm; constant rows become zeros."""
    x = np.asarray(x, dtype=np.float64)
    d = x - x.mean(axis=1, keepdims=True)
    nrm = np.sqrt((d * d).sum(axis=1, keepdims=True))
    sd = nrm / np.sqrt(x.shape[1])
    const = (nrm == 0) | (sd <= 4 * np.finfo(np.float32).eps * np.abs(x.mean(axis=1, keepdims=True)))
    out = np.where(const, 0.0, d / np.where(nrm == 0, 1.0, nrm))
    return out


def pearson(x, y=None) -> np.ndarray:
    """np.corrcoef-equivalent, with 0 (not NaN) for constant rows."""
    ux = unit_rows(x)
    uy = ux if y is None else unit_rows(y)
    return ux @ uy.T


def top_partners(x, k, queries=None):
    """(corr_idx, corr_score, anti_idx, anti_score) by full sort, ties by index."""
    r = pearson(x if queries is None else queries, x)
    n = r.shape[1]
    cols = np.arange(n)
    ci, cs, ai, as_ = [], [], [], []
    for i, row in enumerate(r):
        keep = cols != i if queries is None else np.ones(n, bool)
        c, s = cols[keep], row[keep]
        o = np.lexsort((c, -s))[:k]
        ci.append(c[o])
        cs.append(s[o])
        o = np.lexsort((c, s))[:k]
        ai.append(c[o])
        as_.append(s[o])
    return np.array(ci), np.array(cs), np.array(ai), np.array(as_)


def lagged(x, y=None, max_lag=None):
    """(score, lag) by scipy.signal.correlate per pair; ties to the lag nearest 0, negative first."""
    from scipy.signal import correlate

    ux = unit_rows(x)
    uy = ux if y is None else unit_rows(y)
    T = ux.shape[1]
    L = T - 1 if max_lag is None else max_lag
    lags = np.arange(-(T - 1), T)
    # Search order: 0, -1, +1, -2, +2, ... so that argmax picks the lag nearest 0.
    order = np.argsort(np.abs(lags) * 2 + (lags > 0), kind="stable")
    order = order[np.abs(lags[order]) <= L]
    score = np.empty((len(ux), len(uy)))
    lag = np.empty((len(ux), len(uy)), dtype=np.int64)
    for i, a in enumerate(ux):
        for j, b in enumerate(uy):
            cc = correlate(a, b, mode="full", method="direct")[order]
            t = int(np.argmax(cc))
            score[i, j] = cc[t]
            lag[i, j] = lags[order][t]
    return score, lag


def assert_same_partners(a, b) -> None:
    """Two top-k results bitwise equal, field by field (indices, scores, absent signs)."""
    for f in ("corr_index", "corr_score", "anti_index", "anti_score"):
        x, y = getattr(a, f), getattr(b, f)
        if x is None or y is None:
            assert x is None and y is None, f
            continue
        assert x.dtype == y.dtype and np.array_equal(x.view(np.uint8), y.view(np.uint8)), f
