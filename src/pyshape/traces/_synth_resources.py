"""Memory-like and network-like resources derived from a synthetic CPU row.

The model is documented in :func:`pyshape.synthetic.make_shapes`; the
constants below are its settings. Memory is ``b * (1 + drift) + (1 - b) *
hold``, ``hold`` a lagged peak-hold of the CPU shape with exponential decay.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

LAG_MINUTES = (5.0, 30.0)  # range of L, memory's lag behind CPU
DECAY_MINUTES = (60.0, 240.0)  # range of tau, the time memory takes to give back 63% of a peak
BASELINE_SHARE = (0.5, 0.85)  # range of b, the share of memory that does not follow CPU
DRIFT_SD = 0.05  # standard deviation of the baseline's knots (relative)
DRIFT_KNOT_HOURS = 6.0  # spacing of the baseline's knots
RATIO_SIGMA = 0.5  # log-normal sigma of a resource's ratio to CPU
MEMORY_NOISE = 0.25  # memory's per-step noise as a fraction of the CPU's
_MAX_GROWTH = 40.0  # peak_hold segments keep a**-j below e**40 (float32 max is about e**88)


@dataclass
class MemoryParams:
    """Per-row parameters of the memory model (k rows)."""

    lag: np.ndarray  # (k,) int64 steps
    decay: np.ndarray  # (k,) per-step factor a in (0, 1)
    baseline: np.ndarray  # (k,) baseline share b
    knots: np.ndarray  # (k, n_knots) drift knots
    ratio: np.ndarray  # (k,) memory-to-CPU ratio


def n_knots(T: int, step_seconds: float) -> int:
    """Drift knots covering ``T`` steps, one every DRIFT_KNOT_HOURS and one at each end."""
    return int(np.ceil(T * step_seconds / (3600.0 * DRIFT_KNOT_HOURS))) + 1


def knot_position(T: int, step_seconds: float) -> np.ndarray:
    """Position of every step in knot spacings (float64, (T,)): knot j is at j."""
    return np.arange(T) * (step_seconds / (3600.0 * DRIFT_KNOT_HOURS))


def add_interpolated(knots: np.ndarray, pos: np.ndarray, out: np.ndarray) -> None:
    """``out[i, t] +=`` the knots of row i linearly interpolated at ``pos[t]``.

    One knot interval at a time (a matrix product with hat functions costs
    several times as much: BLAS is slow with an inner dimension of a few).
    """
    dt = out.dtype
    cell = np.floor(pos).astype(np.int64)
    edges = np.flatnonzero(np.diff(cell)) + 1
    for s, e in zip(np.r_[0, edges], np.r_[edges, pos.size]):
        j = cell[s]
        lo = knots[:, j, None]
        seg = out[:, s:e]
        seg += (knots[:, j + 1, None] - lo).astype(dt) * (pos[s:e] - j).astype(dt)
        seg += lo.astype(dt)


def draw_memory(rng: np.random.Generator, k: int, T: int, step_seconds: float) -> MemoryParams:
    """Draw the memory parameters of ``k`` rows."""
    step_minutes = step_seconds / 60.0
    lag = np.round(rng.uniform(*LAG_MINUTES, k) / step_minutes).astype(np.int64)
    tau = rng.uniform(*DECAY_MINUTES, k)
    return MemoryParams(
        lag=np.minimum(lag, T - 1),
        decay=np.exp(-step_minutes / tau),
        baseline=rng.uniform(*BASELINE_SHARE, k),
        knots=rng.normal(0.0, DRIFT_SD, (k, n_knots(T, step_seconds))),
        ratio=rng.lognormal(0.0, RATIO_SIGMA, k),
    )


def _powers(rate: np.ndarray, m: int, dtype: np.dtype) -> np.ndarray:
    """``exp(rate[:, None] * j)`` for j < m, as (k, m) ``dtype``.

    exp of 64 powers and of every 64th, then products of two: a third of the
    cost of an exp per element, within a few ulp of it.
    """
    w = min(m, 64)
    lo = np.exp(np.multiply.outer(rate, np.arange(w))).astype(dtype)  # exp(rate j), j < w
    hi = np.exp(np.multiply.outer(rate, np.arange(0, m, w))).astype(dtype)  # exp(w rate i)
    return (hi[:, :, None] * lo[:, None, :]).reshape(rate.size, -1)[:, :m]


def peak_hold(u: np.ndarray, decay: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out[:, t] = max(u[:, t], decay * out[:, t - 1])``, ``out[:, 0] = u[:, 0]``; u >= 0.

    The recursion unrolls to ``a**t * cummax_j(u[j] * a**-j)``, a running
    maximum NumPy does in one pass; ``a**-j`` grows without bound, so the row
    is cut into segments short enough to stay finite, each started from the
    last value of the one before. ``out`` may be ``u``.
    """
    k, T = u.shape
    rate = -np.log(decay)  # (k,) > 0
    seg = max(1, min(T, int(_MAX_GROWTH / max(float(rate.max()), 1e-12))))
    grow = _powers(rate, seg, u.dtype)  # a**-j
    for s in range(0, T, seg):
        m = min(seg, T - s)
        x = out[:, s:s + m]
        np.multiply(u[:, s:s + m], grow[:, :m], out=x)
        np.maximum.accumulate(x, axis=1, out=x)
        x /= grow[:, :m]
        if s:  # the previous segment's last value, decayed: carry * a**(j + 1)
            carry = out[:, s - 1] * decay.astype(u.dtype)
            np.maximum(x, carry[:, None] / grow[:, :m], out=x)
    return out


def delay(h: np.ndarray, lag: np.ndarray) -> None:
    """``h[i, t] = h[i, max(t - lag[i], 0)]`` in place, rows grouped by their (few) lags."""
    T = h.shape[1]
    for lag_value in np.unique(lag):
        L = int(lag_value)
        if L:
            rows = np.flatnonzero(lag == lag_value)
            h[rows, L:] = h[rows, :T - L]  # the right side is a copy: overlap is safe
            h[rows, :L] = h[rows, :1]


def noise_factor(rng: np.random.Generator, shape: tuple[int, ...], sigma: float, dtype: np.dtype) -> np.ndarray:
    """``1 + sigma * U`` clipped at 0, U uniform with mean 0 and variance 1."""
    eps = rng.random(shape, dtype=dtype)
    eps *= 2.0 * np.sqrt(3.0) * sigma
    eps += 1.0 - np.sqrt(3.0) * sigma
    if 1.0 - np.sqrt(3.0) * sigma < 0:
        np.maximum(eps, 0, out=eps)
    return eps


def memory_rows(cpu: np.ndarray, p: MemoryParams, pos: np.ndarray, out: np.ndarray) -> None:
    """The noise-free memory rows of the model, without ``ratio``, into ``out`` (k, T).

    ``cpu`` (k, T) >= 0. Works in ``out`` alone (fresh temporaries cost page
    faults), with the shares ``b`` and ``1 - b`` folded into the knots and
    the normalisation (``hold`` scales with its input).
    """
    b = p.baseline[:, None]
    peak = cpu.max(axis=1, keepdims=True).astype(np.float64)
    np.multiply(cpu, ((1 - b) / np.where(peak > 0, peak, 1)).astype(out.dtype), out=out)
    peak_hold(out, p.decay, out=out)
    delay(out, p.lag)
    # knots clipped at -1 keep the baseline >= 0 (interpolation stays between knots)
    add_interpolated(b * (1 + np.maximum(p.knots, -1.0)), pos, out)


def extra_resources(rng_for: Callable[[int], np.random.Generator], cpu: np.ndarray,
                    clean: np.ndarray, out: np.ndarray, T: int, step_seconds: float,
                    noise: float, pos: np.ndarray) -> np.ndarray:
    """Resources 1.. of a block into ``out[:, 1:]`` (k, R, T), before their ratios and scale.

    ``cpu`` is the CPU row after its noise, ``clean`` before it (only read
    when R > 2); ``rng_for(r)`` gives resource r's random stream. Returns the
    per-row ratios ``(k, R - 1)`` for the caller to fold into its scaling.
    """
    k, R = out.shape[0], out.shape[1]
    ratios = np.empty((k, R - 1))
    rng = rng_for(1)
    params = draw_memory(rng, k, T, step_seconds)
    ratios[:, 0] = params.ratio
    mem = out[:, 1]
    memory_rows(cpu, params, pos, mem)
    if noise > 0:
        mem *= noise_factor(rng, (k, T), MEMORY_NOISE * noise, out.dtype)
    for r in range(2, R):
        rng = rng_for(r)
        ratios[:, r - 1] = rng.lognormal(0.0, RATIO_SIGMA, k)
        if noise > 0:
            np.multiply(clean, noise_factor(rng, (k, T), noise, out.dtype), out=out[:, r])
        else:
            out[:, r] = clean
    return ratios
