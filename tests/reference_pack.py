"""Plain brute-force references for the packing searches (exact re-pack, fixed-k squeeze)."""
from __future__ import annotations

import numpy as np


def brute_force_fits(D: np.ndarray, cap: np.ndarray, k: int) -> bool:
    """Whether shapes D (n, R, T) fit on k workers of capacity cap (R,): every assignment, up to
    relabelling (shape i opens at most worker max-so-far + 1)."""
    X = D.astype(np.float64)
    c = cap.astype(np.float64)[:, None]
    loads = np.zeros((k,) + D.shape[1:])

    def go(i: int, used: int) -> bool:
        if i == len(X):
            return True
        for w in range(min(used + 1, k)):
            if np.all(loads[w] + X[i] <= c):
                loads[w] += X[i]
                if go(i + 1, max(used, w + 1)):
                    return True
                loads[w] -= X[i]
        return False

    return go(0, 0)


def random_items(seed: int, larger_first: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """3-9 integer shapes (exact in float32), R = 1-2, T = 2-8, idle steps, capacity 7-14;
    ``larger_first`` sorts them by total demand, largest first (what the exact re-pack expects)."""
    rng = np.random.default_rng(seed)
    n, R, T = int(rng.integers(3, 10)), int(rng.integers(1, 3)), int(rng.integers(2, 9))
    D = rng.integers(0, 7, (n, R, T)).astype(np.float32)
    D *= rng.random((n, 1, T)) < 0.7  # idle steps
    cap = np.full(R, float(rng.integers(7, 15)), np.float32)
    if larger_first:
        D = D[np.argsort(-D.sum(axis=(1, 2)), kind="stable")]
    return np.ascontiguousarray(D), cap


def daily_fleet(seed: int, n: int, R: int, T: int) -> tuple[np.ndarray, np.ndarray]:
    """Peaky daily shapes on an integer grid (exact in float32), capacity a few times the largest."""
    rng = np.random.default_rng(seed)
    t = np.arange(T)
    phase = rng.uniform(0, T, (n, R, 1))
    width = rng.uniform(0.1, 0.5, (n, 1, 1)) * T
    level = rng.integers(20, 400, (n, R, 1))
    on = (np.abs((t - phase + T / 2) % T - T / 2) < width / 2)
    D = np.ceil(level * (0.15 + on) + rng.integers(0, 20, (n, R, T))).astype(np.float32)
    cap = np.ceil(D.max(axis=(0, 2)) * rng.uniform(1.05, 3.0)).astype(np.float64)
    return D, cap
