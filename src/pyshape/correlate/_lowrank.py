"""Planning the low-rank pruned top-k search (see src/cpp/correlate/topk_pruned.hpp).

The C++ kernel needs, for every unit-norm row u, a projection p = V^T u on an
orthonormal basis V (T x r) and an upper bound on the residual norm
||u - V p||. This module finds V from a sample of rows (randomised subspace
iteration, NumPy/LAPACK), and chooses r, or brute force, by a cost model fed
with the candidate counts measured on a sample of queries.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Relative cost of one candidate pair against one pair of the blocked product:
# candidates are scored in whole panels (row_panels, nr = 16 pairs at AVX2) or
# whole tiles, and most pairs of a scored panel are not candidates themselves.
# A rough setting, not fitted: the cost model only has to rank ranks and brute
# force, and pruned results are exact whatever it picks.
EXACT_PAIR_COST = 4.0
# Per-pair overhead of a bound test, in multiply-adds (the epilogue of a tile).
BOUND_OVERHEAD = 8.0
# The thresholds start low and rise while a row is processed, so more pairs are
# scored than the final thresholds would need (an assumed factor, not fitted).
WARMUP_FACTOR = 1.5
# Added to every bound: float32 rounding of projections (computed in float64,
# rounded once), of the rank-r bound products and of the exact T-term dot.
MARGIN = 2e-4
RANKS = (8, 16, 32, 64)


@dataclass
class LowRankPlan:
    """How top_partners will run: brute force (rank 0) or pruned at rank r.

    For a pruned plan, ``db_proj``/``db_res`` (and ``q_proj``/``q_res`` when the
    queries are a separate set) are ready for the kernel.
    """

    rank: int
    est_cost_ratio: float  # estimated pruned / brute-force cost
    db_proj: np.ndarray | None = None
    db_res: np.ndarray | None = None
    q_proj: np.ndarray | None = None
    q_res: np.ndarray | None = None


def sample_basis(u: np.ndarray, r_max: int, rng: np.random.Generator, n_sample: int = 4096,
                 n_iter: int = 2) -> np.ndarray:
    """Top ``r_max`` right singular vectors (T x r_max) of a sample of rows.

    Randomised subspace iteration (Halko, Martinsson & Tropp, 2011) on at most
    ``n_sample`` rows: cost O(n_sample T r) instead of O(T^3) for an eigh.
    """
    n, T = u.shape
    rows = np.sort(rng.choice(n, size=n_sample, replace=False)) if n > n_sample else np.arange(n)
    S = u[rows].astype(np.float64)
    width = min(T, r_max + 16)
    Q = _orthonormalize(rng.standard_normal((T, width)))
    for _ in range(n_iter):
        Q = _orthonormalize(S.T @ (S @ Q))
    B = S @ Q
    w, v = np.linalg.eigh(B.T @ B)
    return (Q @ v[:, np.argsort(w)[::-1]])[:, :r_max]


def _orthonormalize(Y: np.ndarray) -> np.ndarray:
    """Orthonormal basis of Y's columns via the small Gram matrix (Cholesky-QR
    style, twice for accuracy). Avoids LAPACK's threaded QR, which was seen
    to take seconds on a loaded 2-core machine for a 1440 x 144 matrix."""
    for _ in range(2):
        w, v = np.linalg.eigh(Y.T @ Y)
        keep = w > w.max() * 1e-12
        Y = (Y @ v[:, keep]) / np.sqrt(w[keep])
    return Y


def residuals(norm2: np.ndarray, proj: np.ndarray) -> np.ndarray:
    """Residual norms ||u - V p|| from ||u||^2 and p, rounded up, as float32."""
    p_norm2 = np.einsum("ij,ij->i", proj, proj, dtype=np.float64)
    res = np.sqrt(np.maximum(norm2 - p_norm2, 0.0) + 1e-7)
    return np.nextafter(res.astype(np.float32), np.float32(np.inf))


def _sq_norms(u: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", u, u, dtype=np.float64)


def plan(u: np.ndarray, q: np.ndarray | None, k: int, want_corr: bool, want_anti: bool,
         seed: int = 0, n_probe: int = 48, rank: int | None = None) -> LowRankPlan:
    """Choose brute force or a pruning rank by estimated cost.

    A sample of queries is scored exactly against the whole database (one
    small matrix product) to learn their true k-th thresholds; the number of
    pairs whose bounds would pass at each rank then gives the cost of pruning
    at that rank, compared with brute force at ``T`` multiply-adds per pair.
    ``rank`` forces a rank (no cost model).
    """
    n, T = u.shape
    queries = u if q is None else q
    nq = queries.shape[0]
    rng = np.random.default_rng(seed)
    ranks = [r for r in RANKS if r < T] if rank is None else [int(rank)]
    norm2 = _sq_norms(u)
    if not ranks or ranks[0] >= T or not np.any(norm2 > 0):
        return LowRankPlan(0, 1.0)  # nothing to project: brute force
    basis = sample_basis(u, max(ranks), rng).astype(np.float32)
    P = u @ basis  # (n, r_max): one product; every rank uses a prefix of it
    PQ, qnorm2 = (P, norm2) if q is None else (q @ basis, _sq_norms(q))

    best_rank, best_cost = 0, float(T)
    if rank is None:
        probe = np.sort(rng.choice(nq, size=min(nq, n_probe), replace=False))
        exact = queries[probe] @ u.T  # (probe, n)
        if q is None:
            exact[np.arange(len(probe)), probe] = np.nan
        hi = np.sort(np.nan_to_num(exact, nan=-np.inf), axis=1)[:, -k] if want_corr else np.full(len(probe), np.inf)
        lo = np.sort(np.nan_to_num(exact, nan=np.inf), axis=1)[:, k - 1] if want_anti else np.full(len(probe), -np.inf)
        del exact
        s = np.zeros((len(probe), n), dtype=np.float32)
        done = 0
        for r in ranks:
            s += PQ[probe, done:r] @ P[:, done:r].T
            done = r
            rd = residuals(norm2, P[:, :r])
            rq = residuals(qnorm2[probe], PQ[probe, :r])
            slack = rq[:, None] * rd[None, :]
            passing = ((s + slack >= hi[:, None] - MARGIN) | (s - slack <= lo[:, None] + MARGIN)).sum()
            frac = float(passing) / (len(probe) * n)
            cost = r + BOUND_OVERHEAD + WARMUP_FACTOR * frac * EXACT_PAIR_COST * T
            if cost < best_cost:
                best_rank, best_cost = r, cost
            elif frac * T * EXACT_PAIR_COST < r:  # larger ranks only cost more from here
                break
        if best_rank == 0:
            return LowRankPlan(0, 1.0)
    else:
        best_rank, best_cost = ranks[0], float("nan")
    r = best_rank
    db_proj = np.ascontiguousarray(P[:, :r])
    out = LowRankPlan(r, best_cost / T, db_proj, residuals(norm2, db_proj))
    if q is not None:
        out.q_proj = np.ascontiguousarray(PQ[:, :r])
        out.q_res = residuals(qnorm2, out.q_proj)
    return out


def locality_order(proj: np.ndarray, seed: int = 0, chunk: int = 65536) -> np.ndarray:
    """A processing order that puts rows with similar projections next to each other.

    Spherical k-means (a few Lloyd steps on a sample) in the projected space,
    then a stable sort by cluster. Pruning is exact in any order; this one
    makes the pairs that survive the bounds (and those that do not) come in
    whole tiles, which the kernel then scores as one block product or skips.
    """
    n = len(proj)
    rng = np.random.default_rng(seed)
    c = int(np.clip(n // 128, 1, 1024))
    norms = np.linalg.norm(proj, axis=1, keepdims=True)
    Z = proj / np.where(norms == 0, 1, norms)
    S = Z[rng.choice(n, size=min(n, 32 * c), replace=False)]
    C = S[rng.choice(len(S), size=c, replace=False)]
    for _ in range(5):
        lab = np.argmax(S @ C.T, axis=1)
        sums = np.zeros_like(C)
        np.add.at(sums, lab, S)
        nrm = np.linalg.norm(sums, axis=1, keepdims=True)
        C = np.where(nrm > 0, sums / np.where(nrm == 0, 1, nrm), C)
    labels = np.empty(n, dtype=np.int64)
    for s in range(0, n, chunk):
        labels[s:s + chunk] = np.argmax(Z[s:s + chunk] @ C.T, axis=1)
    return np.argsort(labels, kind="stable").astype(np.int64)
