"""Long tables (one row per id and sample) and invocation tables (one row per call) as shapes on one grid."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from pyshape.traces._frames import (
    Column,
    column_names,
    describe,
    factorize,
    numbers,
    parse_when,
    read_columns,
    times_seconds,
)
from pyshape.traces._trace import ResourceTrace, plain
from pyshape.traces.bitbrains import _fill_short_gaps, short_gaps

__all__ = ["load_long", "load_invocations", "parse_step"]

_DAY = 86400
_AGGS = ("max", "mean", "sum", "min")
#: Without ``max_steps`` a grid may span this many days, or more when the rows justify it ...
_FREE_DAYS = 31
#: ... up to this many steps per row of the id with the most rows (as in load_bitbrains).
_STEPS_PER_ROW = 16
#: Without ``max_cells`` the grid (ids x steps) may have this many cells, or this many per row.
_FREE_CELLS = 1 << 27
_CELLS_PER_ROW = 32
_NICE_STEPS = (1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
_UNITS = {"s": 1, "sec": 1, "second": 1, "seconds": 1, "min": 60, "m": 60, "minute": 60, "minutes": 60, "t": 60,
          "h": 3600, "hour": 3600, "hours": 3600, "d": 86400, "day": 86400, "days": 86400}

Period = Optional[Tuple[object, object]]


def parse_step(step: Union[int, float, str]) -> int:
    """A step as whole seconds: ``300``, ``"300"``, ``"300s"``, ``"5min"``, ``"1h"``, ``"1d"``."""
    if isinstance(step, (int, np.integer)) and not isinstance(step, bool):
        v = int(step)
    elif isinstance(step, float) and step.is_integer():
        v = int(step)
    elif isinstance(step, str):
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", step)
        unit = _UNITS.get(m.group(2).lower() if m else "", None) if (m and m.group(2)) else 1
        if not m or unit is None or not float(m.group(1)) * unit == int(float(m.group(1)) * unit):
            raise ValueError(f"step must be whole seconds such as 300, '300s', '5min', '1h' or '1d', got {step!r}")
        v = int(float(m.group(1)) * unit)
    else:
        raise ValueError(f"step must be whole seconds such as 300, '5min' or '1h', got {plain(step)!r}")
    if v <= 0:
        raise ValueError(f"step must be positive, got {plain(step)!r}")
    return v


def _check_limit(name: str, v: Any) -> None:
    if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1):
        raise ValueError(f"{name} must be a positive integer, got {plain(v)!r}")


def load_long(source: Any, *, id: Union[str, Sequence[str], None] = "id", time: str = "time",
              values: Union[str, Sequence[str], None] = None, step: Union[int, float, str, None] = None,
              agg: Union[str, Dict[str, str]] = "max",
              fill: Union[str, float] = "previous", max_gap_steps: int = 3, period: Period = None,
              time_unit: str = "s", sep: Optional[str] = None, max_steps: Optional[int] = None,
              max_cells: Optional[int] = None) -> ResourceTrace:
    """A long table (one row per id and sample: ``id, time, cpu, mem, ...``) as shapes on one grid.

    Samples of each id go to step ``floor((time - start) / step)`` (row order
    does not matter, ids need not be contiguous); two or more samples of one
    id in one step are reduced by ``agg``. Steps with no sample are gaps:
    filled by ``fill`` and counted in ``info``.

    Parameters
    ----------
    source : path, DataFrame, pyarrow Table or dict of arrays
        ``.csv`` / ``.csv.gz`` / ``.txt`` / ``.tsv`` (delimiter sniffed from
        the header, or ``sep``) or ``.parquet`` file; a pandas or polars
        DataFrame, a pyarrow Table, any object with ``__arrow_c_stream__`` or
        ``__dataframe__``; or a mapping of column name to 1-D array. pandas
        is never required: files are read by pyarrow, else pandas, else
        plain NumPy (no quoted fields then).
    id : str, list of str or None, default "id"
        Id column (several: joined with ``/``); None: the whole table is one series.
    time : str, default "time"
        Time column: numbers (Unix ``time_unit``, default seconds), datetimes
        (with a time zone, converted to UTC; naive ones are taken as UTC) or
        ISO 8601 text (``2024-01-31T12:00:00+01:00``, ``...Z``).
    values : str or list of str, optional
        Value columns, one resource each, in this order. Default: every
        column but the id and time columns.
    step : int or str, optional
        Grid step (seconds, or ``'5min'``, ``'1h'``...). Default: inferred
        from the data (the median interval of each id, snapped to a round
        step); ids sampled at clearly different rates are refused (pass step).
    agg : {'max', 'mean', 'sum', 'min'} or dict of column to one of them, default 'max'
    fill : {'previous', 'zero'} or a number, default 'previous'
        Gaps of at most ``max_gap_steps`` empty steps between two samples:
        repeat the step before (``'previous'``), 0 (``'zero'``) or the
        number. Longer gaps, and steps before an id's first or after its
        last sample, are 0.
    max_gap_steps : int, default 3
    period : (start, end), optional
        Keep ``[start, end)`` only (numbers of seconds, ISO 8601 text or
        datetimes; either may be None). The grid starts at ``start``;
        without it at UTC midnight before the first sample (when the step
        divides a day, else at the first sample's step).
    time_unit : {'s', 'ms', 'us', 'ns'}, default 's'
        Unit of numeric times.
    max_steps, max_cells : int, optional
        Refuse grids longer than ``max_steps`` steps / larger than
        ``max_cells`` ids x steps. Default: 31 days of steps or 16 per row of
        the id with the most rows; ``2**27`` cells or 32 per row. A stray
        timestamp (0, year 2100) would otherwise size a huge grid.

    Returns
    -------
    ResourceTrace
        Ids sorted; ``resources`` = the value column names. ``meta``:
        ``filled``, ``missing`` (n, T) bool and ``rows`` (n,). ``info``:
        ``rows``, ``duplicate_rows`` (rows in a step of their id that already
        had one), ``out_of_order_rows`` (rows before a row of an earlier step
        of the same id), ``nonfinite_rows`` (a missing or non-finite time or
        value: dropped), ``no_id_rows`` (dropped), ``outside_rows`` (outside
        ``period``), ``filled_steps``, ``missing_steps``.

    Raises
    ------
    ValueError
        A missing column, a time that cannot be read, mixed sampling rates
        without ``step``, a grid over the limits, no row left, bad arguments:
        one line naming the column, the row or the value.

    Examples
    --------
    >>> from pyshape.traces import load_long
    >>> tr = load_long({"id": ["a", "a", "b"], "time": [0, 300, 0], "cpu": [1.0, 2.0, 5.0]}, step=300)
    >>> tr.ids.tolist(), tr.shapes[:, 0, :2].tolist()
    (['a', 'b'], [[1.0, 2.0], [5.0, 0.0]])
    """
    where = describe(source)
    step_s = None if step is None else parse_step(step)
    _check_limit("max_steps", max_steps)
    _check_limit("max_cells", max_cells)
    if isinstance(max_gap_steps, bool) or not isinstance(max_gap_steps, (int, np.integer)) or max_gap_steps < 0:
        raise ValueError(f"max_gap_steps must be a non-negative integer, got {plain(max_gap_steps)!r}")
    if not (fill in ("previous", "zero") or (isinstance(fill, (int, float)) and not isinstance(fill, bool)
                                            and np.isfinite(fill))):
        raise ValueError(f"fill must be 'previous', 'zero' or a finite number, got {fill!r}")
    id_cols = [] if id is None else ([id] if isinstance(id, str) else list(id))
    if values is None:
        values = [c for c in column_names(source, sep=sep) if c not in id_cols and c != time]
        if not values:
            raise ValueError(f"{where}: no value columns besides {id_cols + [time]}")
    values = [values] if isinstance(values, str) else list(values)
    if not values:
        raise ValueError("values is empty: name at least one value column")
    aggs = {c: (agg.get(c, "max") if isinstance(agg, dict) else agg) for c in values}
    bad = {c: a for c, a in aggs.items() if a not in _AGGS}
    if bad:
        raise ValueError(f"agg must be one of {', '.join(_AGGS)}, got {bad}")
    cols = read_columns(source, id_cols + [time] + values, sep=sep, text_columns=id_cols)
    try:
        t = times_seconds(cols[time], time_unit=time_unit)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None
    m = len(t)
    codes, ids = _ids(cols, id_cols, m)
    V = np.empty((m, len(values)))
    for j, c in enumerate(values):
        try:
            V[:, j] = numbers(cols[c], "value")
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from None
    del cols
    info = {"rows": m}
    keep = codes >= 0
    info["no_id_rows"] = int(m - keep.sum())
    finite = np.isfinite(t) & np.isfinite(V).all(axis=1)
    info["nonfinite_rows"] = int((keep & ~finite).sum())
    keep &= finite
    _ms_check(t[keep], time_unit, where)
    lo, hi = _period(period)
    inside = keep & (t >= lo) & (t < hi)
    info["outside_rows"] = int((keep & ~inside).sum())
    keep = inside
    if not keep.all():
        codes, t, V = codes[keep], t[keep], V[keep]
    if not len(t):
        raise ValueError(f"{where}: no rows left with an id, a time and finite values"
                         f"{' inside the period' if period is not None else ''}")
    n = len(ids)
    if step_s is None:
        step_s = _infer_step(codes, t, n, ids, where)
    start, T = _grid(t, step_s, lo, hi)
    per_id = np.bincount(codes, minlength=n)
    _check_grid(where, n, T, step_s, float(t.min()), float(t.max()), int(per_id.max()), len(t), max_steps, max_cells)

    k = ((t - start) // step_s).astype(np.int64)
    del t
    shapes, have, dup, ooo = _reduce(codes, k, V, n, T, [aggs[c] for c in values])
    info["duplicate_rows"] = dup
    info["out_of_order_rows"] = ooo
    if fill == "previous":
        filled = _fill_short_gaps(shapes, have, int(max_gap_steps))
    else:
        filled = _fill_value(shapes, have, int(max_gap_steps), 0.0 if fill == "zero" else float(fill))
    missing = ~have & ~filled
    info["filled_steps"] = int(filled.sum())
    info["missing_steps"] = int(missing.sum())
    try:
        return ResourceTrace(ids, shapes, tuple(values), step_s, start,
                             {"filled": filled, "missing": missing, "rows": per_id}, info)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None


def _ids(cols: Dict[str, Column], id_cols: List[str], m: int) -> Tuple[np.ndarray, np.ndarray]:
    if not id_cols:
        return np.zeros(m, dtype=np.int64), np.array(["0"])
    codes, ids = factorize(cols[id_cols[0]])
    for c in id_cols[1:]:
        c2, u2 = factorize(cols[c])
        bad = (codes < 0) | (c2 < 0)
        comb = np.where(bad, -1, codes * len(u2) + c2)
        used, inv = np.unique(comb[~bad], return_inverse=True)
        codes = np.full(m, -1, dtype=np.int64)
        codes[~bad] = inv
        ids = np.array([f"{ids[u // len(u2)]}/{u2[u % len(u2)]}" for u in used.tolist()])
    return codes, ids


def _ms_check(t: np.ndarray, unit: str, where: str) -> None:
    if unit == "s" and len(t) and float(np.max(np.abs(t))) > 1e11:
        raise ValueError(f"{where}: times up to {float(np.max(np.abs(t))):.0f} look like milliseconds or finer; "
                         f"pass time_unit='ms' (or 'us', 'ns')")


def _period(period: Period) -> Tuple[float, float]:
    if period is None:
        return -np.inf, np.inf
    try:
        a, b = period
    except (TypeError, ValueError):
        raise ValueError(f"period must be a pair (start, end), got {period!r}") from None
    lo = -np.inf if a is None else parse_when(a, "period start")
    hi = np.inf if b is None else parse_when(b, "period end")
    if not lo < hi:
        raise ValueError(f"period start must be before its end, got {a!r} .. {b!r}")
    return lo, hi


def _grid(t: np.ndarray, step: int, lo: float, hi: float) -> Tuple[int, int]:
    """(start, T): start at ``lo`` when given, else at UTC midnight (or the step) before the first time."""
    if np.isfinite(lo):
        start = int(np.floor(lo))
    else:
        unit = _DAY if _DAY % step == 0 else step
        start = int(np.floor(float(t.min()) / unit)) * unit
    if np.isfinite(hi):
        T = int(np.ceil((hi - start) / step))
    else:
        T = int((float(t.max()) - start) // step) + 1
    return start, max(T, 1)


def _check_grid(where: str, n: int, T: int, step: int, t0: float, t1: float, most_rows: int, rows: int,
                max_steps: Optional[int], max_cells: Optional[int]) -> None:
    limit = max(_FREE_DAYS * _DAY // step, _STEPS_PER_ROW * most_rows) if max_steps is None else max_steps
    if T > limit:
        why = (f"more than {_FREE_DAYS} days and more than {_STEPS_PER_ROW} steps per row of the fullest id "
               f"({most_rows} rows)") if max_steps is None else f"more than max_steps={max_steps}"
        raise ValueError(f"{where}: times from {t0:.0f} to {t1:.0f} s span {(t1 - t0) / _DAY:.4g} days, a grid of "
                         f"{T} steps of {step} s: {why}; a stray timestamp, or the wrong time_unit? "
                         f"(pass max_steps=, a larger step or a period)")
    cells = max(_FREE_CELLS, _CELLS_PER_ROW * rows) if max_cells is None else max_cells
    if n * T > cells:
        raise ValueError(f"{where}: {n} ids x {T} steps of {step} s = {n * T} cells, more than "
                         f"{'max_cells=' if max_cells is not None else 'the limit of '}{cells} "
                         f"for {rows} rows (pass max_cells=, a larger step or a period)")


def _infer_step(codes: np.ndarray, t: np.ndarray, n: int, ids: np.ndarray, where: str) -> int:
    order = np.lexsort((t, codes))
    cs, ts = codes[order], t[order]
    d = np.diff(ts)
    same = (cs[1:] == cs[:-1]) & (d > 0)
    if not same.any():
        raise ValueError(f"{where}: cannot infer the step (no id has two samples at different times); pass step=")
    dc, dd = cs[1:][same], d[same]
    near = dd >= 0.25 * np.median(dd)            # repeats a moment apart are not the sampling interval
    dc, dd = dc[near], dd[near]
    # median interval of each id
    o = np.lexsort((dd, dc))
    dc, dd = dc[o], dd[o]
    first = np.flatnonzero(np.r_[True, dc[1:] != dc[:-1]])
    counts = np.diff(np.r_[first, len(dc)])
    med = dd[first + counts // 2]
    lo_i, hi_i = int(np.argmin(med)), int(np.argmax(med))
    if med[hi_i] > 1.5 * med[lo_i] and counts[lo_i] > 2 and counts[hi_i] > 2:
        raise ValueError(f"{where}: mixed sampling steps: id {ids[dc[first[lo_i]]]} every {med[lo_i]:g} s, "
                         f"id {ids[dc[first[hi_i]]]} every {med[hi_i]:g} s; pass step= to put them on one grid")
    s = float(np.median(med))
    nice = min(_NICE_STEPS, key=lambda x: abs(x - s) / x)
    if abs(nice - s) <= 0.1 * nice:
        return nice
    return max(1, int(round(s)))


def _reduce(codes: np.ndarray, k: np.ndarray, V: np.ndarray, n: int, T: int,
            aggs: Sequence[str]) -> Tuple[np.ndarray, np.ndarray, int, int]:
    """(shapes (n, R, T) float32, have (n, T), duplicate rows, out-of-order rows)."""
    key = codes * T + k
    order = np.argsort(key, kind="stable")
    ks = key[order]
    first = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
    dup = len(ks) - len(first)
    # rows of one id whose file position is before that of the previous row in time order
    same_id = (ks[1:] // T) == (ks[:-1] // T)
    ooo = int((same_id & (order[1:] < order[:-1])).sum())
    cells = ks[first]
    R = V.shape[1]
    shapes = np.zeros((n, R, T), dtype=np.float32)
    have = np.zeros(n * T, dtype=bool)
    have[cells] = True
    ci, ti = cells // T, cells % T
    counts = np.diff(np.r_[first, len(ks)])
    for j, a in enumerate(aggs):
        v = V[order, j]
        if a == "max":
            r = np.maximum.reduceat(v, first)
        elif a == "min":
            r = np.minimum.reduceat(v, first)
        else:
            r = np.add.reduceat(v, first)
            if a == "mean":
                r /= counts
        shapes[ci, j, ti] = r
    return shapes, have.reshape(n, T), dup, ooo


def _fill_value(shapes: np.ndarray, have: np.ndarray, max_gap: int, value: float) -> np.ndarray:
    """Put ``value`` in each run of at most ``max_gap`` empty steps between two samples; return the mask."""
    filled, _ = short_gaps(have, max_gap)
    if value != 0.0:
        for r in range(shapes.shape[1]):
            shapes[:, r, :][filled] = value
    return filled


# --------------------------------------------------------------------------- invocations
def load_invocations(source: Any, *, id: Union[str, Sequence[str], None] = ("app", "func"),
                     end: Optional[str] = "end_timestamp", duration: Optional[str] = "duration",
                     start: Optional[str] = None, memory: Optional[str] = None, step: Union[int, float, str] = 60,
                     how: str = "mean", duration_unit: str = "s", time_unit: str = "s", period: Period = None,
                     sep: Optional[str] = None, max_steps: Optional[int] = None,
                     max_cells: Optional[int] = None) -> ResourceTrace:
    """An invocation table (one row per call) as concurrency (and memory) per step.

    Each call is busy over ``[start, end)``: from a ``start`` and an ``end``
    column, or an ``end`` (or ``start``) and a ``duration`` column. The
    default columns are those of the Azure Functions Trace 2021
    (``app,func,end_timestamp,duration``, seconds).

    ``how='mean'`` (default): the exact average number of calls in flight
    over each step, i.e. the busy time of all calls in the step divided by
    the step (overlap-weighted; computed with difference arrays, so a
    one-second call in a 60 s step counts 1/60). ``how='max'``: the largest
    number of calls in flight at any instant of the step (an event sweep).
    ``memory``: a column of memory per call; the memory resource is the
    same mean or max with each call weighted by its memory.

    Parameters
    ----------
    source : path, DataFrame, pyarrow Table or dict of arrays
        As for :func:`load_long`.
    id : str, list of str or None, default ('app', 'func')
    end, duration, start : str or None
        Column names (give two of the three).
    memory : str, optional
        Memory per call (any unit; the resource is named after the column).
    step : int or str, default 60
    how : {'mean', 'max'}, default 'mean'
    duration_unit, time_unit : {'s', 'ms', 'us', 'ns'}, default 's'
    period : (start, end), optional
        Keep ``[start, end)``; calls overlapping its edges are cut to it.
        Default: from UTC midnight (or the step) before the first *end* (a
        trace records the calls that ended in its window; earlier parts of
        calls that began before are cut and counted) to the last end.
    max_steps, max_cells : int, optional
        As for :func:`load_long` (the limit per row counts calls).

    Returns
    -------
    ResourceTrace
        ``resources = ('concurrency',)`` or ``('concurrency', <memory>)``.
        ``meta``: ``invocations`` (n, T) float32, calls starting in each step;
        ``rows`` (n,). ``info``: ``rows``, ``nonfinite_rows``, ``no_id_rows``,
        ``negative_duration_rows`` (dropped), ``outside_rows`` (calls wholly
        outside ``period``), ``clipped_rows`` (calls cut at its edges).

    Examples
    --------
    >>> from pyshape.traces import load_invocations
    >>> tab = {"app": ["a", "a"], "func": ["f", "f"], "end_timestamp": [30.0, 120.0], "duration": [30.0, 90.0]}
    >>> load_invocations(tab, step=60).shapes[0, 0].tolist()   # busy 30+30 s, then 60 s
    [1.0, 1.0]
    """
    where = describe(source)
    step_s = parse_step(step)
    _check_limit("max_steps", max_steps)
    _check_limit("max_cells", max_cells)
    if how not in ("mean", "max"):
        raise ValueError(f"how must be 'mean' or 'max', got {how!r}")
    given = [c for c in (start, end, duration) if c is not None]
    if len(given) != 2:
        raise ValueError(f"give two of start, end and duration (column names), got start={start!r}, "
                         f"end={end!r}, duration={duration!r}")
    id_cols = [] if id is None else ([id] if isinstance(id, str) else list(id))
    cols = read_columns(source, id_cols + given + ([memory] if memory else []), sep=sep, text_columns=id_cols)
    try:
        if start is not None:
            s = times_seconds(cols[start], time_unit=time_unit, what="start time")
        if end is not None:
            e = times_seconds(cols[end], time_unit=time_unit, what="end time")
        if duration is not None:
            from pyshape.traces._frames import _units
            d = numbers(cols[duration], "duration") / (1e9 / _units(duration_unit))
            if start is None:
                s = e - d
            else:
                e = s + d
        w_mem = numbers(cols[memory], "memory") if memory else None
    except ValueError as err:
        raise ValueError(f"{where}: {err}") from None
    m = len(s)
    codes, ids = _ids(cols, id_cols, m)
    del cols
    info = {"rows": m}
    keep = codes >= 0
    info["no_id_rows"] = int(m - keep.sum())
    finite = np.isfinite(s) & np.isfinite(e) & (np.isfinite(w_mem) if w_mem is not None else True)
    info["nonfinite_rows"] = int((keep & ~finite).sum())
    keep &= finite
    neg = keep & (e < s)
    info["negative_duration_rows"] = int(neg.sum())
    keep &= ~neg
    _ms_check(e[keep], time_unit, where)
    lo, hi = _period(period)
    inside = keep & (e > lo) & (s < hi) | keep & (s == e) & (s >= lo) & (s < hi)
    info["outside_rows"] = int((keep & ~inside).sum())
    keep = inside
    codes, s, e = codes[keep], s[keep], e[keep]
    if w_mem is not None:
        w_mem = w_mem[keep]
    if not len(s):
        raise ValueError(f"{where}: no calls left with an id and finite times"
                         f"{' inside the period' if period is not None else ''}")
    n = len(ids)
    start0, T = _grid_span(s, e, step_s, lo, hi)
    lo = max(lo, float(start0))
    info["clipped_rows"] = int(((s < lo) | (e > hi)).sum())
    s, e = np.maximum(s, lo), np.minimum(e, hi)
    per_id = np.bincount(codes, minlength=n)
    _check_grid(where, n, T, step_s, float(s.min()), float(e.max()), int(per_id.max()), len(s), max_steps, max_cells)
    s -= start0
    e -= start0
    weights = [None] + ([w_mem] if w_mem is not None else [])
    R = len(weights)
    shapes = np.empty((n, R, T), dtype=np.float32)
    for r, w in enumerate(weights):
        shapes[:, r, :] = (_mean_in_flight if how == "mean" else _max_in_flight)(codes, s, e, w, n, T, step_s)
    ks = np.minimum((s // step_s).astype(np.int64), T - 1)
    calls = np.bincount(codes * T + ks, minlength=n * T).reshape(n, T).astype(np.float32)
    resources = ("concurrency",) + ((memory,) if memory else ())
    return ResourceTrace(ids, shapes, resources, step_s, start0, {"invocations": calls, "rows": per_id}, info)


def _grid_span(s: np.ndarray, e: np.ndarray, step: int, lo: float, hi: float) -> Tuple[int, int]:
    if np.isfinite(lo):
        start = int(np.floor(lo))
    else:
        unit = _DAY if _DAY % step == 0 else step
        start = int(np.floor(float(e.min()) / unit)) * unit
    if np.isfinite(hi):
        T = int(np.ceil((hi - start) / step))
    else:
        last = float(e.max())
        T = int(np.ceil((last - start) / step)) if last > start else 1
        T = max(T, int((float(s.max()) - start) // step) + 1)  # zero-length calls at the end
    return start, max(T, 1)


def _mean_in_flight(codes: np.ndarray, s: np.ndarray, e: np.ndarray, w: np.ndarray, n: int, T: int,
                    step: int) -> np.ndarray:
    """Busy time per step / step, exactly, by difference arrays on each call's start and end.

    A call over [s, e) adds ``b(js+1) - s`` to its first step js, a full step
    to every step after, and takes back ``b(je+1) - e`` from step je and a
    full step from every step after je (b(j): the start of step j).
    """
    js = np.minimum((s // step).astype(np.int64), T - 1)
    je = np.minimum((e // step).astype(np.int64), T - 1)
    ps = (js + 1) * step - s           # partial of the first step
    pe = (je + 1) * step - e           # taken back from the last
    wt = np.ones(len(s)) if w is None else w
    W = T + 1
    base = codes * W
    slope = np.bincount(base + js + 1, weights=wt, minlength=n * W) - np.bincount(base + je + 1, weights=wt,
                                                                                    minlength=n * W)
    part = np.bincount(base + js, weights=wt * ps, minlength=n * W) - np.bincount(base + je, weights=wt * pe,
                                                                                   minlength=n * W)
    busy = np.cumsum(slope.reshape(n, W), axis=1) * step + part.reshape(n, W)
    return (busy[:, :T] / step).astype(np.float32)


def _max_in_flight(codes: np.ndarray, s: np.ndarray, e: np.ndarray, w: np.ndarray, n: int, T: int,
                   step: int) -> np.ndarray:
    """Most calls in flight at any instant of each step (weighted by ``w``), by an event sweep.

    Calls are half-open ``[s, e)``: one ending when another starts does not
    overlap it; a call of zero length is in flight at its instant only.
    """
    wt = np.ones(len(s)) if w is None else w
    zero = e == s
    # Events at one instant in this order: ends of calls, starts of calls, then each zero-length call's
    # start and end (it is in flight at its instant, with every call that started by then).
    t_ev = np.concatenate([s, e])
    c_ev = np.concatenate([codes, codes])
    d_ev = np.concatenate([wt, -wt])
    phase = np.concatenate([np.where(zero, 2, 1), np.where(zero, 3, 0)]).astype(np.int8)
    order = np.lexsort((phase, t_ev, c_ev))
    t_ev, c_ev, d_ev = t_ev[order], c_ev[order], d_ev[order]
    level = np.cumsum(d_ev)
    idfirst = np.flatnonzero(np.r_[True, c_ev[1:] != c_ev[:-1]])   # restart the sum at each id
    level -= np.repeat(np.r_[0.0, level][idfirst], np.diff(np.r_[idfirst, len(level)]))
    k = np.minimum((t_ev // step).astype(np.int64), T - 1)
    cell = c_ev * T + k
    first = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]])
    cells = cell[first]
    out = np.zeros(n * T)
    out[cells] = np.maximum.reduceat(level, first)
    lastv = np.full(n * T, np.nan)
    lastv[cells] = level[np.r_[first[1:], len(level)] - 1]
    out, lastv = out.reshape(n, T), lastv.reshape(n, T)
    # the level carried into each step: that after the last event of an earlier step (0 before any)
    idx = np.maximum.accumulate(np.where(np.isnan(lastv), -1, np.arange(T)), axis=1)
    carried = np.where(idx >= 0, np.take_along_axis(np.nan_to_num(lastv), np.maximum(idx, 0), axis=1), 0.0)
    out[:, 1:] = np.maximum(out[:, 1:], carried[:, :-1])
    np.maximum(out, 0.0, out=out)                    # float noise of the running sum
    return out.astype(np.float32)
