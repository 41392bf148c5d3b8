"""Seeded synthetic workload shapes with realistic correlation structure.

Real fleets (e.g. the Azure Functions trace) are a mixture of a few kinds of
shape: traffic that follows the day, rare bursts on an idle base, cron-like
batch jobs, interactive services paired with night-time batch work that fills
the gaps they leave, and shapes that look like noise. :func:`make_shapes`
draws such a mixture, reproducibly from a seed (``random_state``), fast enough for millions of
shapes (it fills fixed blocks of rows in parallel threads), and returns the
family of every row so that tests and benchmarks know the ground truth.
Shapes can carry several resources (CPU-like, then memory-like that follows
CPU with a lag and decays slowly, then network-like) and span several days
that differ from each other; :func:`make_shapes` documents both models.

Families (``FAMILY_NAMES[label]``):

``diurnal``
    Day/night cycle peaking in the evening (about 20:00, per-shape jitter of
    about an hour), first plus a random amount of second harmonic, on a night
    floor.
``spiky``
    A low idle base with rectangular bursts: incidents shared by the family
    (each member joins most of them, a few steps early or late) plus a few
    private bursts.
``batch``
    Cron-like jobs every 15, 30 or 60 minutes, mostly at the top of the hour,
    each run lasting a few minutes, on a low base.
``day_heavy`` / ``night_heavy``
    Anti-correlated pairs: an interactive service peaking in business hours
    (about 14:00) and its mirror image, a night-heavy batch workload that
    runs when the service is quiet. Pairs are consecutive rows among the rows
    of the ``'anti_pair'`` mixture component; :func:`anti_pairs` recovers them.
``noise``
    Half white noise around a level, half random walks.

Every shape is then multiplied by a per-shape log-normal scale and by
``1 + noise * U`` per step, U uniform with mean 0 and variance 1 (clipped at 0), so all values are
non-negative. With the defaults, members of the ``diurnal``, ``day_heavy``
and ``night_heavy`` families correlate at about 0.8-0.9 with each other,
``spiky`` and ``batch`` members at about 0.5-0.7, each anti pair at about
-0.9, and ``noise`` rows at about 0.

Examples
--------
>>> from pyshape.synthetic import FAMILY_NAMES, make_shapes
>>> X, labels = make_shapes(1000, random_state=1)
>>> X.shape, X.dtype.name, bool((X >= 0).all())
((1000, 1440), 'float32', True)
>>> sorted(set(FAMILY_NAMES[i] for i in labels))  # doctest: +NORMALIZE_WHITESPACE
['batch', 'day_heavy', 'diurnal', 'night_heavy', 'noise', 'spiky']
"""
from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
from numpy.typing import DTypeLike

from pyshape._validation import check_int
from pyshape.traces import _synth_days as _days
from pyshape.traces import _synth_resources as _res

__all__ = [
    "DEFAULT_MIXTURE",
    "FAMILY_NAMES",
    "MIXTURE_COMPONENTS",
    "anti_pairs",
    "iter_shapes",
    "make_shapes",
    "white_noise",
]

#: Names of the families; ``labels`` returned by :func:`make_shapes` index this tuple.
FAMILY_NAMES: Tuple[str, ...] = ("diurnal", "spiky", "batch", "day_heavy", "night_heavy", "noise")

DIURNAL, SPIKY, BATCH, DAY_HEAVY, NIGHT_HEAVY, NOISE = range(6)

#: Mixture components accepted by ``families=``; ``'anti_pair'`` makes
#: ``day_heavy`` / ``night_heavy`` rows in pairs.
MIXTURE_COMPONENTS: Tuple[str, ...] = ("diurnal", "spiky", "batch", "anti_pair", "noise")

#: Default proportions of the mixture components (fractions of rows).
DEFAULT_MIXTURE: Mapping[str, float] = {
    "diurnal": 0.30,
    "spiky": 0.15,
    "batch": 0.20,
    "anti_pair": 0.25,
    "noise": 0.10,
}

_BLOCK = 1024  # rows per unit of randomness: results never depend on chunking or threads
_SECONDS_PER_DAY = 86400
# random streams: [seed, stream(, block(, resource))]; new streams leave the old ones untouched
_STREAM_PLAN, _STREAM_BLOCK, _STREAM_WHITE, _STREAM_DAYS, _STREAM_RESOURCE = range(5)

FamiliesArg = Union[None, Sequence[str], Mapping[str, float]]
RandomStateArg = Union[None, int, np.random.Generator, np.random.RandomState]


# --------------------------------------------------------------------------- arguments
def _seed(random_state: RandomStateArg, seed: Optional[int] = None) -> int:
    """The integer that seeds every random stream, from ``random_state`` (or the old ``seed=``).

    A non-negative int is used as it is; a NumPy ``Generator`` or legacy
    ``RandomState`` gives one draw of 63 bits (so a seeded generator gives a
    reproducible result, and advances); None fresh entropy from the OS.
    """
    if seed is not None:
        if not (isinstance(random_state, int) and random_state == 0):  # random_state given too
            raise TypeError("pass random_state= or the old name seed=, not both")
        warnings.warn("seed= is renamed random_state= (the name of the estimators and forecasters); "
                      "seed= will be removed", FutureWarning, stacklevel=3)
        random_state = seed
    if random_state is None:
        return int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]  # an int when drawn from the OS
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63, dtype=np.int64))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**63 - 1, dtype=np.int64))
    if isinstance(random_state, (bool, np.bool_)) or not isinstance(random_state, (int, np.integer)):
        raise TypeError(f"random_state must be a non-negative integer, a numpy Generator or RandomState, or None, "
                        f"got {type(random_state).__name__} {random_state!r}")
    return check_int(random_state, "random_state", 0)


def _check_dtype(dtype: DTypeLike) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}") from exc
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64, got {dt}")
    return dt


def _mixture(families: FamiliesArg) -> np.ndarray:
    """Proportions over MIXTURE_COMPONENTS, summing to 1."""
    if families is None:
        families = DEFAULT_MIXTURE
    if isinstance(families, str):
        families = [families]
    if isinstance(families, Mapping):
        items = list(families.items())
    else:
        items = [(name, 1.0) for name in families]
    if not items:
        raise ValueError("families must name at least one family")
    p = np.zeros(len(MIXTURE_COMPONENTS))
    for name, weight in items:
        if name in ("day_heavy", "night_heavy"):
            name = "anti_pair"
        if name not in MIXTURE_COMPONENTS:
            raise ValueError(
                f"unknown family {name!r}; choose from {', '.join(MIXTURE_COMPONENTS)}"
            )
        w = float(weight)
        if not np.isfinite(w) or w < 0:
            raise ValueError(f"weight of family {name!r} must be finite and >= 0, got {weight!r}")
        p[MIXTURE_COMPONENTS.index(name)] += w
    if p.sum() <= 0:
        raise ValueError("family weights must not all be zero")
    return p / p.sum()


def _time_axis(T: Optional[int], days: Optional[float], step_seconds: float) -> Tuple[int, float]:
    if isinstance(step_seconds, bool) or not isinstance(step_seconds, (int, float, np.integer, np.floating)):
        raise ValueError(f"step_seconds must be a positive number, got {step_seconds!r}")
    step = float(step_seconds)
    if not np.isfinite(step) or step <= 0 or step > _SECONDS_PER_DAY:
        raise ValueError(f"step_seconds must be in (0, 86400], got {step_seconds!r}")
    steps_per_day = _SECONDS_PER_DAY / step
    if days is not None:
        if isinstance(days, bool) or not isinstance(days, (int, float, np.integer, np.floating)):
            raise ValueError(f"days must be a positive number, got {days!r}")
        if not np.isfinite(days) or days <= 0:
            raise ValueError(f"days must be positive, got {days!r}")
        t_days = float(days) * steps_per_day
        if abs(t_days - round(t_days)) > 1e-6 * max(1.0, t_days) or round(t_days) < 2:
            raise ValueError(
                f"days * steps per day = {days} * {steps_per_day:g} must be a whole number >= 2"
            )
        if T is not None and check_int(T, "T", 2) != round(t_days):
            raise ValueError(f"T={T} disagrees with days={days} at step_seconds={step_seconds}")
        T = int(round(t_days))
    elif T is None:
        if abs(steps_per_day - round(steps_per_day)) > 1e-9 or round(steps_per_day) < 2:
            raise ValueError("give T when step_seconds does not divide a day into >= 2 steps")
        T = int(round(steps_per_day))
    return check_int(T, "T", 2), step


# --------------------------------------------------------------------------- the plan
@dataclass
class _Plan:
    """Everything about the rows that is drawn once for the whole set (cheap: O(n))."""

    n: int
    T: int
    seed: int
    noise: float
    dtype: np.dtype
    labels: np.ndarray  # int32 (n,)
    scale: np.ndarray  # (n,) log-normal scale
    coef: np.ndarray  # (n, 5) smooth-family coefficients on the Fourier basis
    basis: np.ndarray  # (5, T): 1, cos wt, sin wt, cos 2wt, sin 2wt
    base: np.ndarray  # (n,) idle floor (spiky, batch, noise)
    period: np.ndarray  # (n,) batch period, minutes
    offset: np.ndarray  # (n,) batch offset, minutes
    width: np.ndarray  # (n,) batch run length, minutes
    t_minutes: np.ndarray  # (T,) time of each step, minutes
    ev_start: np.ndarray  # (E,) shared incidents of the spiky family, steps
    ev_len: np.ndarray  # (E,) steps
    ev_height: np.ndarray  # (E,)
    steps_per_minute: float
    days: float
    step_seconds: float
    n_resources: int
    day_variation: float
    bounds: np.ndarray  # (D + 1,) first step of every day, then T
    knot_pos: np.ndarray  # (T,) step positions between the memory baseline's drift knots

    @property
    def varies_by_day(self) -> bool:
        return self.day_variation > 0 and self.bounds.size > 2


def _smooth_coef(amp1: np.ndarray, peak1: np.ndarray, amp2: np.ndarray, peak2: np.ndarray,
                 floor: np.ndarray) -> np.ndarray:
    """Coefficients of floor + amp1 cos(w(t - peak1)) + amp2 cos(2w(t - peak2)) (+ offset)."""
    w = 2 * np.pi / 24.0
    c = np.empty((amp1.size, 5))
    c[:, 1] = amp1 * np.cos(w * peak1)
    c[:, 2] = amp1 * np.sin(w * peak1)
    c[:, 3] = amp2 * np.cos(2 * w * peak2)
    c[:, 4] = amp2 * np.sin(2 * w * peak2)
    c[:, 0] = floor + np.abs(amp1) + np.abs(amp2)  # never below the floor
    return c


def _make_plan(n: int, T: int, step: float, mixture: np.ndarray, noise: float, seed: int, dtype: np.dtype,
               n_resources: int, day_variation: float) -> _Plan:
    rng = np.random.default_rng([seed, _STREAM_PLAN])
    comp = rng.choice(len(MIXTURE_COMPONENTS), size=n, p=mixture)
    labels = np.empty(n, dtype=np.int32)
    name_to_label = {"diurnal": DIURNAL, "spiky": SPIKY, "batch": BATCH, "noise": NOISE}
    for ci, name in enumerate(MIXTURE_COMPONENTS):
        if name in name_to_label:
            labels[comp == ci] = name_to_label[name]
    anti = np.flatnonzero(comp == MIXTURE_COMPONENTS.index("anti_pair"))
    labels[anti[0::2]] = DAY_HEAVY
    labels[anti[1::2]] = NIGHT_HEAVY  # the mirror of the row just before it in `anti`

    scale = rng.lognormal(mean=0.0, sigma=1.0, size=n)

    coef = np.zeros((n, 5))
    d = labels == DIURNAL
    nd = int(d.sum())
    coef[d] = _smooth_coef(
        np.ones(nd), rng.normal(20.0, 1.0, nd), rng.uniform(0.0, 0.4, nd),
        rng.normal(20.0, 1.0, nd), rng.uniform(0.05, 0.5, nd))
    day, night = anti[0::2], anti[1::2]
    nday = day.size
    peak1 = rng.normal(14.0, 1.0, nday)
    amp2 = rng.uniform(0.1, 0.4, nday)
    coef[day] = _smooth_coef(np.ones(nday), peak1, amp2, peak1, rng.uniform(0.05, 0.3, nday))
    # the mirror: same harmonics negated (+ up to half an hour of jitter), its own floor
    m = night.size
    jit = rng.normal(0.0, 0.25, m)
    coef[night] = _smooth_coef(-np.ones(m), peak1[:m] + jit, -amp2[:m], peak1[:m] + jit,
                               rng.uniform(0.05, 0.3, m))

    steps_per_minute = 60.0 / step
    days = T * step / _SECONDS_PER_DAY
    hours = np.arange(T) * (step / 3600.0)
    w = 2 * np.pi / 24.0
    basis = np.stack([np.ones(T), np.cos(w * hours), np.sin(w * hours),
                      np.cos(2 * w * hours), np.sin(2 * w * hours)])

    base = rng.uniform(0.02, 0.1, n)
    period = rng.choice(np.array([15.0, 30.0, 60.0]), size=n, p=[0.15, 0.25, 0.6])
    offset = np.where(rng.random(n) < 0.9, 0.0, np.floor(rng.random(n) * period))
    width = rng.integers(4, 7, n).astype(float)
    width = np.maximum(width, step / 60.0)  # a run lasts at least one step

    n_ev = max(1, int(round(4 * days)))
    ev_start = rng.integers(0, T, n_ev)
    ev_len = np.maximum(1, np.round(rng.uniform(5, 45, n_ev) * steps_per_minute)).astype(np.int64)
    ev_height = rng.lognormal(0.0, 0.3, n_ev)

    return _Plan(n=n, T=T, seed=seed, noise=float(noise), dtype=dtype, labels=labels,
                 scale=scale, coef=coef, basis=basis, base=base, period=period, offset=offset,
                 width=width, t_minutes=np.arange(T) * (step / 60.0), ev_start=ev_start,
                 ev_len=ev_len, ev_height=ev_height, steps_per_minute=steps_per_minute,
                 days=days, step_seconds=step, n_resources=n_resources,
                 day_variation=day_variation, bounds=_days.day_bounds(T, step),
                 knot_pos=_res.knot_position(T, step))


def _fill_block(plan: _Plan, b: int, out: np.ndarray) -> None:
    """Rows [b * _BLOCK, b * _BLOCK + len(out)) into ``out`` (rows x T, or rows x R x T)."""
    r0 = b * _BLOCK
    rows = out.shape[0]
    dt = plan.dtype
    rng = np.random.default_rng([plan.seed, _STREAM_BLOCK, b])
    cpu = out if plan.n_resources == 1 else out[:, 0]
    days = None
    if plan.varies_by_day:
        lab = plan.labels[r0:r0 + rows]
        days = _days.draw_days(np.random.default_rng([plan.seed, _STREAM_DAYS, b]),
                               (lab == DIURNAL) | (lab == DAY_HEAVY), plan.bounds.size - 1,
                               plan.day_variation, plan.step_seconds / 60.0)
    _fill_families(plan, r0, rng, cpu, days)
    if days is not None:
        _days.scale_by_day(cpu, plan.bounds, days.level)
    # network-like resources take the CPU shape before its noise
    clean = cpu.copy() if plan.n_resources > 2 and plan.noise > 0 else cpu

    # multiplicative per-step noise, then the per-shape scale
    if plan.noise > 0:
        # uniform with standard deviation `noise` (a normal draw costs 2-3x as much)
        eps = rng.random((rows, plan.T), dtype=dt)
        eps *= 2.0 * np.sqrt(3.0) * plan.noise
        eps += 1.0 - np.sqrt(3.0) * plan.noise
        np.maximum(eps, 0, out=eps)
        cpu *= eps
    scale = plan.scale[r0:r0 + rows, None]
    if plan.n_resources == 1:
        out *= scale.astype(dt)
        return
    ratios = _res.extra_resources(
        lambda r: np.random.default_rng([plan.seed, _STREAM_RESOURCE, b, r]),
        cpu, clean, out, plan.T, plan.step_seconds, plan.noise, plan.knot_pos)
    # CPU's factor is the scale alone, as with one resource: the same bits
    out *= (scale * np.hstack([np.ones((rows, 1)), ratios])).astype(dt)[:, :, None]


def _fill_families(plan: _Plan, r0: int, rng: np.random.Generator, out: np.ndarray,
                   days: Optional[_days.DayDraws]) -> None:
    """The CPU shape of rows [r0, r0 + len(out)), before noise and scale, into ``out``."""
    rows = out.shape[0]
    T = plan.T
    dt = plan.dtype
    lab = plan.labels[r0:r0 + rows]

    # smooth families: one small matrix product on the Fourier basis, or a sum day by day
    # when peaks move between days
    idx = np.flatnonzero((lab == DIURNAL) | (lab == DAY_HEAVY) | (lab == NIGHT_HEAVY))
    if idx.size:
        if days is None:
            out[idx] = plan.coef[r0 + idx].astype(dt) @ plan.basis.astype(dt)
        else:
            out[idx] = _days.smooth_by_day(plan.coef[r0 + idx], plan.basis.astype(dt),
                                           plan.bounds, days.phase_hours[idx])

    # batch: runs of `width` minutes every `period` minutes from `offset`
    idx = np.flatnonzero(lab == BATCH)
    if idx.size:
        g = r0 + idx
        t = plan.t_minutes.astype(dt)
        phase = np.subtract(t[None, :], plan.offset[g, None].astype(dt), dtype=dt)
        if days is not None:
            _days.shift_by_day(phase, plan.bounds, days.shift_minutes[idx])
        period = plan.period[g, None].astype(dt)
        # phase mod period as x - p * floor(x / p): np.remainder is 5x slower
        q = phase / period
        np.floor(q, out=q)
        q *= period
        phase -= q
        on = phase < plan.width[g, None].astype(dt)
        phase[...] = plan.base[g, None]
        phase += on
        out[idx] = phase

    # spiky: bursts as +h / -h steps in a difference array, then a cumulative sum
    idx = np.flatnonzero(lab == SPIKY)
    if idx.size:
        k = idx.size
        diff = np.zeros((k, T + 1), dtype=dt)
        n_ev = plan.ev_start.size
        join = rng.random((k, n_ev)) < 0.85
        jitter = rng.integers(-2, 3, (k, n_ev))
        hj = rng.lognormal(0.0, 0.2, (k, n_ev))
        rr, ee = np.nonzero(join)
        s = np.clip(plan.ev_start[ee] + jitter[rr, ee], 0, T - 1)
        e = np.minimum(s + plan.ev_len[ee], T)
        h = plan.ev_height[ee] * hj[rr, ee]
        n_priv = rng.poisson(1.0 * plan.days, k)
        pr = np.repeat(np.arange(k), n_priv)
        ps = rng.integers(0, T, pr.size)
        pl = np.maximum(1, np.round(rng.uniform(1, 15, pr.size) * plan.steps_per_minute)).astype(np.int64)
        pe = np.minimum(ps + pl, T)
        ph = rng.lognormal(0.0, 0.5, pr.size)
        rows_all = np.concatenate([rr, pr])
        h_all = np.concatenate([h, ph])
        np.add.at(diff, (rows_all, np.concatenate([s, ps])), h_all)
        np.add.at(diff, (rows_all, np.concatenate([e, pe])), -h_all)
        np.cumsum(diff, axis=1, out=diff)
        diff[:, :T] += plan.base[r0 + idx, None]
        np.maximum(diff, 0, out=diff)  # rounding of the cumulative sum
        out[idx] = diff[:, :T]

    # noise: white noise around a level, or a random walk lifted above 0
    idx = np.flatnonzero(lab == NOISE)
    if idx.size:
        k = idx.size
        z = rng.standard_normal((k, T), dtype=dt)
        walk = rng.random(k) < 0.5
        z[~walk] *= 0.3
        z[~walk] += 1.0
        if walk.any():
            w = z[walk]
            w *= 0.05
            np.cumsum(w, axis=1, out=w)
            lo = w.min(axis=1, keepdims=True)
            hi = w.max(axis=1, keepdims=True)
            w -= lo
            w += plan.base[r0 + idx[walk], None] * (hi - lo + 1e-3)
            z[walk] = w
        np.maximum(z, 0, out=z)
        out[idx] = z


def _check_real(value: Any, name: str, lo: float, hi: float = np.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or not lo <= value <= hi:
        bound = f">= {lo:g}" if hi == np.inf else f"in [{lo:g}, {hi:g}]"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return float(value)


def _prepare(n: int, T: Optional[int], days: Optional[float], families: FamiliesArg, noise: float, step_seconds: float,
             n_resources: int, seed: int, dtype: DTypeLike, day_variation: float) -> _Plan:
    """Checked arguments as a plan; ``seed``: the already resolved integer seed (:func:`_seed`)."""
    n = check_int(n, "n", 1)
    T, step = _time_axis(T, days, step_seconds)
    n_resources = check_int(n_resources, "n_resources", 1)
    noise = _check_real(noise, "noise", 0.0)
    # beyond 1 the log-normal level factors span orders of magnitude: no longer a variation
    day_variation = _check_real(day_variation, "day_variation", 0.0, 1.0)
    return _make_plan(n, T, step, _mixture(families), noise, seed,
                      _check_dtype(dtype), n_resources, day_variation)


def _result_shape(plan: _Plan, rows: int) -> Tuple[int, ...]:
    return (rows, plan.T) if plan.n_resources == 1 else (rows, plan.n_resources, plan.T)


def _threads(n_threads: Optional[int]) -> int:
    if n_threads is None:
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:
            return max(1, os.cpu_count() or 1)
    return check_int(n_threads, "n_threads", 1)


def _fill_rows(plan: _Plan, start: int, stop: int, out: np.ndarray, n_threads: int) -> None:
    """Rows [start, stop) of the set into ``out``, block by block, in threads."""
    b0, b1 = start // _BLOCK, -(-stop // _BLOCK)

    def work(b: int) -> None:
        lo, hi = b * _BLOCK, min((b + 1) * _BLOCK, plan.n)
        if lo >= start and hi <= stop:
            _fill_block(plan, b, out[lo - start:hi - start])
        else:  # a block cut by the chunk edge: make it whole, keep the part inside
            tmp = np.empty(_result_shape(plan, hi - lo), dtype=plan.dtype)
            _fill_block(plan, b, tmp)
            a, z = max(lo, start), min(hi, stop)
            out[a - start:z - start] = tmp[a - lo:z - lo]

    if n_threads == 1 or b1 - b0 == 1:
        for b in range(b0, b1):
            work(b)
    else:
        with ThreadPoolExecutor(max_workers=min(n_threads, b1 - b0)) as pool:
            list(pool.map(work, range(b0, b1)))


# --------------------------------------------------------------------------- public API
def make_shapes(
    n: int,
    T: Optional[int] = None,
    *,
    days: Optional[float] = None,
    families: FamiliesArg = None,
    noise: float = 0.1,
    day_variation: float = 0.1,
    step_seconds: float = 60,
    n_resources: int = 1,
    random_state: RandomStateArg = 0,
    dtype: DTypeLike = np.float32,
    n_threads: Optional[int] = None,
    seed: Optional[int] = None,
) -> Tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` synthetic workload shapes from a mixture of realistic families.

    Every row is one workload: its CPU-like use over time (the families of
    the module docstring), optionally with memory-like and network-like
    resources derived from it, and, over several days, with day-to-day
    changes of level, peak time and schedule.

    Parameters
    ----------
    n : int
        Number of shapes (rows), at least 1.
    T : int, optional
        Steps per shape. Default: one day (``86400 / step_seconds`` steps,
        1440 at the default one-minute step).
    days : float, optional
        Length in days instead of ``T`` (``T = days * 86400 / step_seconds``,
        which must be a whole number).
    families : sequence of str or mapping of str to float, optional
        Mixture components and their proportions (normalised to sum 1):
        names from :data:`MIXTURE_COMPONENTS` (``'day_heavy'`` and
        ``'night_heavy'`` also mean ``'anti_pair'``). A sequence gives equal
        weights. Default: :data:`DEFAULT_MIXTURE`.
    noise : float
        Standard deviation of the multiplicative per-step noise
        ``1 + noise * U`` (U uniform, mean 0, variance 1; clipped at 0).
        0 gives the clean shapes.
    day_variation : float
        Size of the day-to-day changes of shapes longer than a day, in [0, 1]
        (see *Day-to-day variation* below): about the relative standard
        deviation of a row's daily means. 0 repeats every daily pattern
        exactly. Shapes of one day or less do not depend on it.
    step_seconds : float
        Length of a step in seconds (sets the time of day of each step).
    n_resources : int
        Resources per shape, at least 1 (see *Resources* below). 1 returns
        ``(n, T)``; more return ``(n, n_resources, T)``.
    random_state : int, numpy Generator or RandomState, or None
        A non-negative integer seed (default 0): the same arguments and
        seed give the same result whatever ``n_threads``. A Generator (or
        RandomState) is drawn from once for that integer; None draws fresh
        entropy (not reproducible). The same name as the estimators and
        forecasters use.
    seed : int, optional
        The old name of ``random_state`` (a ``FutureWarning``; will be removed).
    dtype : {numpy.float32, numpy.float64}
        Dtype of the result.
    n_threads : int, optional
        Threads filling blocks of rows (default: the CPUs available).

    Returns
    -------
    X : ndarray, shape (n, T) or (n, n_resources, T)
        Non-negative shapes, C-contiguous.
    labels : ndarray of int32, shape (n,)
        Family of every row (of its CPU shape), an index into
        :data:`FAMILY_NAMES`.

    Raises
    ------
    ValueError
        On a bad size, time axis, family, weight, noise, day variation,
        resource count, random_state or dtype.
    TypeError
        A ``random_state`` of the wrong type, or both ``random_state`` and ``seed``.

    Notes
    -----
    **Resources.** Resource 0 is CPU-like: the family shape, times its noise
    and a per-row log-normal(0, 1) scale; it is bit for bit the shape that
    ``n_resources=1`` gives. Resource 1 is memory-like: with ``c`` the CPU
    row before its scale and ``u = c / max(c)``::

        memory(t) = scale * ratio * (b * (1 + drift(t)) + (1 - b) * hold(t))
        hold(t)   = max(u(t - L), a * hold(t - 1)),   u(t - L) = u(0) for t < L

    a high baseline share ``b`` (uniform in [0.5, 0.85]) that drifts slowly
    (``drift`` linear between independent normal knots, standard deviation
    0.05, every 6 hours), plus a share of the CPU shape that follows it with a
    lag of ``L`` steps (5-30 minutes) and, when the load falls, decays by
    ``a = exp(-step / tau)`` per step (``tau`` 60-240 minutes): memory is
    taken as load arrives and given back slowly. ``ratio`` (log-normal(0,
    0.5)) is the row's memory-to-CPU ratio; memory gets its own per-step
    noise, a quarter of ``noise``. Resources 2, 3, ... are network-like: the
    CPU row before its noise, times ``scale``, its own log-normal(0, 0.5)
    ratio and its own per-step noise of size ``noise``. All of ``L``,
    ``tau``, ``b``, the knots and the ratios are drawn per row, uniformly
    where a range is given.

    **Day-to-day variation.** With ``day_variation = v > 0`` and more than one
    day, every row gets, for every day (day 0 is a Monday):

    * a level factor ``exp(v * z - v**2 / 2)``, z standard normal, on the
      whole day (so daily means vary by about ``v`` relative);
      ``diurnal`` and ``day_heavy`` rows are also lower on Saturdays and
      Sundays, by a factor ``exp(-v * W)`` with W uniform in [1, 4] per row
      (0.67-0.90 at ``v = 0.1``);
    * ``diurnal``, ``day_heavy`` and ``night_heavy``: the daily pattern moved
      by ``4 v`` hours times a standard normal (24 minutes at ``v = 0.1``);
    * ``batch``: the day's runs moved by ``60 v`` minutes times a standard
      normal, in whole steps (6 minutes at ``v = 0.1``).

    Changes take effect at midnight. Bursts of ``spiky`` rows and the walks of
    ``noise`` rows are drawn over the whole length, so they differ from day to
    day even at ``v = 0``. Memory and network follow the varied CPU shape.

    **Speed.** Rows are made in fixed blocks of 1024 with their own random
    streams, so memory beyond the result is a few blocks per thread, and
    :func:`iter_shapes` yields exactly the same rows chunk by chunk. 100,000
    one-day shapes take about 3 s on 2 cores (a million, 5.4 GiB of float32,
    about ten times that); ``n_resources=2`` about twice as long.

    Examples
    --------
    >>> import numpy as np
    >>> from pyshape.synthetic import FAMILY_NAMES, make_shapes
    >>> X, labels = make_shapes(200, families={"diurnal": 1.0}, random_state=3)
    >>> {FAMILY_NAMES[i] for i in labels}
    {'diurnal'}
    >>> r = np.corrcoef(X)
    >>> bool(r[np.triu_indices(200, 1)].mean() > 0.6)
    True

    CPU and memory for a week at 5-minute steps:

    >>> X, labels = make_shapes(100, days=7, step_seconds=300, n_resources=2, random_state=1)
    >>> X.shape
    (100, 2, 2016)
    >>> cpu, mem = X[:, 0], X[:, 1]
    >>> bool(np.all(mem.min(axis=1) / mem.max(axis=1) > cpu.min(axis=1) / cpu.max(axis=1)))
    True
    """
    plan = _prepare(n, T, days, families, noise, step_seconds, n_resources, _seed(random_state, seed), dtype,
                    day_variation)
    X = np.empty(_result_shape(plan, plan.n), dtype=plan.dtype)
    _fill_rows(plan, 0, plan.n, X, _threads(n_threads))
    return X, plan.labels


def iter_shapes(
    n: int,
    T: Optional[int] = None,
    *,
    chunk_size: int = 65536,
    days: Optional[float] = None,
    families: FamiliesArg = None,
    noise: float = 0.1,
    day_variation: float = 0.1,
    step_seconds: float = 60,
    n_resources: int = 1,
    random_state: RandomStateArg = 0,
    dtype: DTypeLike = np.float32,
    n_threads: Optional[int] = None,
    seed: Optional[int] = None,
) -> Iterator[Tuple[int, np.ndarray, np.ndarray]]:
    """Yield the rows of :func:`make_shapes` chunk by chunk, never holding all of them.

    Takes the arguments of :func:`make_shapes` plus ``chunk_size`` (rows per
    chunk, at least 1) and yields ``(start, X_chunk, labels_chunk)`` for
    consecutive chunks (``(rows, n_resources, T)`` when ``n_resources > 1``);
    the concatenated chunks equal ``make_shapes(...)`` exactly, for any
    ``chunk_size``. Arguments are checked on the call, before
    the first chunk is asked for.

    Examples
    --------
    >>> import numpy as np
    >>> from pyshape.synthetic import iter_shapes, make_shapes
    >>> parts = [x for _, x, _ in iter_shapes(3000, T=96, step_seconds=900, chunk_size=1000)]
    >>> X, _ = make_shapes(3000, T=96, step_seconds=900)
    >>> bool(np.array_equal(np.concatenate(parts), X))
    True
    """
    plan = _prepare(n, T, days, families, noise, step_seconds, n_resources, _seed(random_state, seed), dtype,
                    day_variation)
    chunk_size = check_int(chunk_size, "chunk_size", 1)
    nt = _threads(n_threads)

    def gen() -> Iterator[Tuple[int, np.ndarray, np.ndarray]]:
        for start in range(0, plan.n, chunk_size):
            stop = min(start + chunk_size, plan.n)
            out = np.empty(_result_shape(plan, stop - start), dtype=plan.dtype)
            _fill_rows(plan, start, stop, out, nt)
            yield start, out, plan.labels[start:stop]

    return gen()


def anti_pairs(labels: np.ndarray) -> np.ndarray:
    """The anti-correlated pairs among rows made by :func:`make_shapes`.

    Parameters
    ----------
    labels : ndarray of int, shape (n,)
        The labels returned with the shapes.

    Returns
    -------
    ndarray of int64, shape (m, 2)
        Row indices ``(day_heavy, night_heavy)`` of every pair; the night-heavy
        row is the mirror of the day-heavy one. A last day-heavy row without a
        partner is left out.

    Examples
    --------
    >>> import numpy as np
    >>> from pyshape.synthetic import anti_pairs, make_shapes
    >>> X, labels = make_shapes(100, families=["anti_pair"], random_state=0)
    >>> p = anti_pairs(labels)
    >>> p[:2].tolist()
    [[0, 1], [2, 3]]
    >>> bool(np.corrcoef(X[0], X[1])[0, 1] < -0.7)
    True
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {labels.shape}")
    anti = np.flatnonzero((labels == DAY_HEAVY) | (labels == NIGHT_HEAVY))
    m = anti.size // 2
    pairs = np.stack([anti[0:2 * m:2], anti[1:2 * m:2]], axis=1).astype(np.int64)
    if m and not ((labels[pairs[:, 0]] == DAY_HEAVY).all() and (labels[pairs[:, 1]] == NIGHT_HEAVY).all()):
        raise ValueError("labels do not come from make_shapes (day/night rows do not alternate)")
    return pairs


def white_noise(
    n: int,
    T: int = 1440,
    random_state: RandomStateArg = 0,
    *,
    dtype: DTypeLike = np.float32,
    n_threads: Optional[int] = None,
    seed: Optional[int] = None,
) -> np.ndarray:
    """Independent standard normal values: shapes with no structure at all.

    The worst case for pruning or approximate search (every correlation is
    near 0, with spread ``1 / sqrt(T)``). Values can be negative.

    Parameters
    ----------
    n, T : int
        Shape of the result, at least 1 and 2.
    random_state : int, numpy Generator or RandomState, or None
        As for :func:`make_shapes` (default 0); the result does not depend
        on ``n_threads``.
    seed : int, optional
        The old name of ``random_state`` (a ``FutureWarning``; will be removed).
    dtype : {numpy.float32, numpy.float64}
    n_threads : int, optional
        Threads (default: the CPUs available).

    Returns
    -------
    ndarray, shape (n, T)

    Examples
    --------
    >>> from pyshape.synthetic import white_noise
    >>> W = white_noise(4, 8, random_state=1)
    >>> W.shape, W.dtype.name
    ((4, 8), 'float32')
    """
    n = check_int(n, "n", 1)
    T = check_int(T, "T", 2)
    seed = _seed(random_state, seed)
    dt = _check_dtype(dtype)
    out = np.empty((n, T), dtype=dt)
    nb = -(-n // _BLOCK)

    def work(b: int) -> None:
        lo, hi = b * _BLOCK, min((b + 1) * _BLOCK, n)
        np.random.default_rng([seed, _STREAM_WHITE, b]).standard_normal(
            out=out[lo:hi], dtype=dt)

    nt = _threads(n_threads)
    if nt == 1 or nb == 1:
        for b in range(nb):
            work(b)
    else:
        with ThreadPoolExecutor(max_workers=min(nt, nb)) as pool:
            list(pool.map(work, range(nb)))
    return out
