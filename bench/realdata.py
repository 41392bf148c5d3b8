"""Seeded builders of benchmark shapes derived from real traces (data nobody tuned to).

* :func:`bitbrains_days`: one-day CPU shapes (T = 288, 5-minute steps) cut from
  the Bitbrains Rnd month (``../shared/data/bitbrains_rnd_2013-07`` beside the
  repository, or ``PYSHAPE_BENCH_BITBRAINS``), each drawn from a random
  VM-day, circularly shifted by up to +-1 h (12 steps), scaled by 0.5-2x and
  given Gaussian noise of 5% of its own standard deviation.
* :func:`azure_days`: one-day per-minute concurrency shapes (T = 1440) from the
  bundled Azure Functions 2019 sample (1000 functions x 60 minutes): a row is
  a function's hour tiled over 24 hours, each hour scaled by a diurnal
  envelope of random phase and amplitude, circularly shifted by up to +-1 h,
  plus 5% noise. Most sampled functions are bursty or idle, so many rows are
  close to white noise or to spikes: not the smooth shapes of make_shapes.

Both are deterministic for a given ``(n, seed)``.

    python bench/realdata.py        # prints a summary of both kinds
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def bitbrains_path() -> Path:
    p = os.environ.get("PYSHAPE_BENCH_BITBRAINS", "").strip()
    return Path(p) if p else HERE.parent.parent / "shared" / "data" / "bitbrains_rnd_2013-07"


@lru_cache(maxsize=2)
def _bitbrains_vm_days(path: str) -> np.ndarray:
    """(VM-days, 288) float64 CPU MHz of every whole day of every VM, constant days dropped."""
    from pyshape.traces import load_bitbrains

    tr = load_bitbrains(path)
    cpu = np.asarray(tr.resource("cpu_mhz"), dtype=np.float64)  # (n, T)
    per_day = tr.steps_per_day
    nd = cpu.shape[1] // per_day
    days = cpu[:, :nd * per_day].reshape(-1, per_day)
    keep = np.isfinite(days).all(axis=1) & (days.std(axis=1) > 0)
    return days[keep]


def _augment(base: np.ndarray, n: int, rng: np.random.Generator, max_shift: int,
             noise: float = 0.05, draw: bool = True) -> np.ndarray:
    idx = rng.integers(0, len(base), size=n) if draw else np.arange(n)
    shift = rng.integers(-max_shift, max_shift + 1, size=n)
    T = base.shape[1]
    cols = (np.arange(T)[None, :] - shift[:, None]) % T  # circular shift by `shift`
    X = base[idx[:, None], cols]
    X *= rng.uniform(0.5, 2.0, size=(n, 1))
    sd = X.std(axis=1, keepdims=True)
    flat = sd <= 1e-6 * (np.abs(X).mean(axis=1, keepdims=True) + 1e-30)  # idle: noise of the level
    sd[flat] = np.abs(X).mean(axis=1, keepdims=True)[flat] + 1.0
    X += noise * sd * rng.standard_normal(X.shape)
    return X.astype(np.float32)


def bitbrains_days(n: int, seed: int = 2024, path: str | os.PathLike | None = None) -> np.ndarray:
    """``n`` one-day CPU shapes (n, 288) float32 from the Bitbrains month (see module doc)."""
    base = _bitbrains_vm_days(str(path or bitbrains_path()))
    rng = np.random.default_rng(seed)
    return _augment(base, n, rng, max_shift=12)


@lru_cache(maxsize=1)
def _azure_hours() -> np.ndarray:
    from pyshape.traces import load_azure_sample

    tr = load_azure_sample()
    conc = np.asarray(tr.resource("concurrency"), dtype=np.float64)  # (1000, 60)
    return conc


def azure_days(n: int, seed: int = 2024) -> np.ndarray:
    """``n`` one-day per-minute concurrency shapes (n, 1440) float32 (see module doc)."""
    hours = _azure_hours()
    rng = np.random.default_rng(seed)
    T = 1440
    out = np.empty((n, T), dtype=np.float32)
    t = np.arange(24)
    for s in range(0, n, 8192):
        m = min(8192, n - s)
        f = rng.integers(0, len(hours), size=m)
        phase = rng.uniform(0, 24, size=(m, 1))
        amp = rng.uniform(0.0, 0.9, size=(m, 1))
        env = 1.0 + amp * np.cos(2 * np.pi * (t[None, :] - phase) / 24)  # (m, 24)
        day = (hours[f][:, None, :] * env[:, :, None]).reshape(m, T)
        day += 1e-3  # idle functions: a constant, then noise only
        out[s:s + m] = _augment(day, m, rng, max_shift=60, draw=False)
    return out


def main() -> None:
    for name, fn in (("bitbrains", bitbrains_days), ("azure", azure_days)):
        X = fn(2000)
        U = X - X.mean(axis=1, keepdims=True)
        U /= np.linalg.norm(U, axis=1, keepdims=True)
        C = U @ U.T
        np.fill_diagonal(C, np.nan)
        top = np.sort(np.nan_to_num(C, nan=-2), axis=1)[:, -10]
        print(f"{name}: {X.shape}, 10th best r per row: median {np.median(top):.3f}, "
              f"10% {np.quantile(top, .1):.3f}, 90% {np.quantile(top, .9):.3f}")


if __name__ == "__main__":
    main()
