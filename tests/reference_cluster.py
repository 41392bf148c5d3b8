"""Plain NumPy/SciPy versions of the clustering steps, written from the papers
(k-Shape: Paparrizos & Gravano, SIGMOD 2015, Algorithms 1-3 and the authors'
Matlab code), in float64 and with per-pair loops. The tests compare pyshape's
estimators with these."""
from __future__ import annotations

import numpy as np
from scipy.signal import correlate

from reference import unit_rows


def ncc_c(x, y):
    """Normalised cross-correlation of unit rows over all lags -(T-1)..T-1 (lag s at
    index s + T - 1: sum_t x[t] y[t - s])."""
    return correlate(x, y, mode="full", method="direct")


def sbd(x, y, max_shift=None):
    """(distance, shift) of k-Shape's SBD for unit rows x, y; shift s: x[t] ~ y[t - s]."""
    T = len(x)
    L = T - 1 if max_shift is None else max_shift
    cc = ncc_c(x, y)
    lags = np.arange(-(T - 1), T)
    keep = np.abs(lags) <= L
    cc, lags = cc[keep], lags[keep]
    i = int(np.argmax(cc))
    return 1.0 - cc[i], int(lags[i])


def shift_row(x, s):
    """x moved by s steps to line up with the centroid: out[t] = x[t + s], zeros outside."""
    T = len(x)
    out = np.zeros(T)
    for t in range(T):
        if 0 <= t + s < T:
            out[t] = x[t + s]
    return out


def shape_extraction(U, labels, C, shifts):
    """Algorithm 2 for every cluster: align members to C[j] (unless C[j] is zero), z-normalise,
    M = Q^T S Q, centroid = dominant eigenvector (numpy eigh), sign nearer to the members
    (summed Euclidean distance at z-scale, as tslearn), z-normalised (unit norm here)."""
    k, T = C.shape
    out = C.copy()
    for j in range(k):
        members = np.flatnonzero(labels == j)
        if members.size == 0:
            continue
        if np.any(C[j]):
            Xp = np.array([shift_row(U[i], shifts[i]) for i in members])
        else:
            Xp = U[members].copy()
        Y = unit_rows(Xp)
        S = Y.T @ Y
        Q = np.eye(T) - np.ones((T, T)) / T
        M = Q.T @ S @ Q
        _, vec = np.linalg.eigh(M)
        mu = vec[:, -1]
        Z = Xp * np.sqrt(T)
        if np.linalg.norm(Z + mu, axis=1).sum() < np.linalg.norm(Z - mu, axis=1).sum():
            mu = -mu
        out[j] = unit_rows(mu[None, :])[0]
    return out


def sbd_assign(U, C, max_shift=None):
    """Algorithm 3's assignment: (labels, distances, shifts) by least SBD, ties to the lower cluster."""
    n, k = len(U), len(C)
    d = np.empty((n, k))
    s = np.empty((n, k), dtype=np.int64)
    for i in range(n):
        for j in range(k):
            d[i, j], s[i, j] = sbd(U[i], C[j], max_shift)
    lab = d.argmin(axis=1)
    return lab, d[np.arange(n), lab], s[np.arange(n), lab]


def correlation_kmeans(U, C, max_iter, tol):
    """Spherical k-means (assignment by largest dot product of unit rows, centroid =
    normalised member sum), with pyshape's stopping rules. Returns (labels, centroids)."""
    prev = None
    consistent = False
    for _ in range(max_iter):
        lab = np.argmax(U @ C.T, axis=1)
        if prev is not None and np.array_equal(lab, prev):
            consistent = True
            break
        new = np.zeros_like(C)
        for j in range(len(C)):
            s = U[lab == j].sum(axis=0)
            nrm = np.linalg.norm(s)
            new[j] = s / nrm if nrm > 0 else C[j]
        shift = ((new - C) ** 2).sum()
        C, prev = new, lab
        if shift <= tol:
            break
    if not consistent:
        lab = np.argmax(U @ C.T, axis=1)
    return lab, C
