"""Day-to-day variation of multi-day synthetic shapes, for :mod:`pyshape.synthetic`.

The model (level factor with a weekend drop, moving peaks, moving batch
runs) is documented in :func:`pyshape.synthetic.make_shapes`; the constants
below are its settings. Every change applies to whole days: a day is the
steps whose time falls in it, the last day may be partial.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PHASE_HOURS = 4.0  # peak-time jitter, standard deviation per unit of day_variation
SHIFT_MINUTES = 60.0  # batch schedule shift, standard deviation per unit of day_variation
WEEKEND_RANGE = (1.0, 4.0)  # weekend log-level drop per unit of day_variation
WEEKEND_DAYS = (5, 6)  # day 0 is a Monday


def day_bounds(T: int, step_seconds: float) -> np.ndarray:
    """First step of every (possibly partial) day, then ``T``: int64 of length days + 1."""
    steps_per_day = 86400.0 / step_seconds
    n_days = max(1, int(np.ceil(T / steps_per_day - 1e-9)))
    # a step belongs to the day its time falls in; 1e-9 guards exact multiples
    starts = np.ceil(np.arange(n_days) * steps_per_day - 1e-9).astype(np.int64)
    return np.append(np.minimum(starts, T), T)


@dataclass
class DayDraws:
    """Per row and per day: level factor, peak shift (hours) and batch shift (minutes)."""

    level: np.ndarray  # (k, D)
    phase_hours: np.ndarray  # (k, D)
    shift_minutes: np.ndarray  # (k, D), whole steps


def draw_days(rng: np.random.Generator, weekend_rows: np.ndarray, n_days: int,
              variation: float, step_minutes: float) -> DayDraws:
    """Draw the day-to-day variation of ``k = weekend_rows.size`` rows.

    ``weekend_rows`` (bool, k) marks the rows that get the weekend drop. All
    draws are made for every row whatever its family, so the draws of a row do
    not depend on the families of the others.
    """
    k = weekend_rows.size
    v = variation
    level = np.exp(v * rng.standard_normal((k, n_days)) - 0.5 * v * v)
    phase = rng.standard_normal((k, n_days)) * (v * PHASE_HOURS)
    shift = np.round(rng.standard_normal((k, n_days)) * (v * SHIFT_MINUTES / step_minutes))
    drop = np.exp(-v * rng.uniform(*WEEKEND_RANGE, k))
    weekend = np.isin(np.arange(n_days) % 7, WEEKEND_DAYS)
    level[np.ix_(weekend_rows, weekend)] *= drop[weekend_rows, None]
    return DayDraws(level=level, phase_hours=phase, shift_minutes=shift * step_minutes)


def rotate(coef: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """Coefficients of ``s(t - hours)``, ``s`` given on the basis 1, cos, sin of wt and 2wt."""
    out = coef.copy()
    w = 2 * np.pi / 24.0
    for harmonic, (i, j) in ((1, (1, 2)), (2, (3, 4))):
        theta = harmonic * w * hours
        c, s = np.cos(theta), np.sin(theta)
        out[:, i] = coef[:, i] * c - coef[:, j] * s
        out[:, j] = coef[:, i] * s + coef[:, j] * c
    return out


def smooth_by_day(coef: np.ndarray, basis: np.ndarray, bounds: np.ndarray,
                  phase_hours: np.ndarray) -> np.ndarray:
    """Smooth-family rows ``(k, T)`` (dtype of ``basis``) with every day's peak shifted.

    Sums the five basis rows by broadcasting: BLAS is several times slower on
    a matrix product whose inner dimension is 5.
    """
    out = np.empty((coef.shape[0], basis.shape[1]), dtype=basis.dtype)
    tmp = np.empty_like(out[:, :int(np.max(np.diff(bounds)))])
    for d in range(bounds.size - 1):
        s, e = bounds[d], bounds[d + 1]
        c = rotate(coef, phase_hours[:, d]).astype(basis.dtype)
        seg, t = out[:, s:e], tmp[:, :e - s]
        np.multiply(c[:, 1, None], basis[1, s:e], out=seg)
        for i in range(2, 5):
            np.multiply(c[:, i, None], basis[i, s:e], out=t)
            seg += t
        seg += c[:, 0, None]
    return out


def shift_by_day(phase: np.ndarray, bounds: np.ndarray, shift_minutes: np.ndarray) -> None:
    """Move every day of batch rows (``phase`` = minutes since the schedule offset) in place."""
    for d in range(bounds.size - 1):
        phase[:, bounds[d]:bounds[d + 1]] -= shift_minutes[:, d, None].astype(phase.dtype)


def scale_by_day(x: np.ndarray, bounds: np.ndarray, level: np.ndarray) -> None:
    """Multiply every day of the rows of ``x`` by its level factor, in place."""
    for d in range(bounds.size - 1):
        x[:, bounds[d]:bounds[d + 1]] *= level[:, d, None].astype(x.dtype)
