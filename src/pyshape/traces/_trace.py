"""The common result of every trace loader: per-workload demand on R resources over one time grid."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Sequence, Tuple, Union

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["ResourceTrace"]

_DAY = 86400
_F32_MAX = float(np.finfo(np.float32).max)


def plain(v: Any) -> Any:
    """A NumPy scalar as the Python value it holds (messages print ``0``, not ``np.int64(0)``)."""
    return v.item() if isinstance(v, np.generic) else v


def as_float32(a: np.ndarray) -> np.ndarray:
    """``a`` as a C-contiguous float32 array (no copy when it already is one).

    Raises ValueError naming the first element when a finite value does not
    fit in float32 (instead of NumPy's overflow warning and an ``inf``).
    """
    with np.errstate(over="raise"):
        try:
            return np.ascontiguousarray(a, dtype=np.float32)
        except FloatingPointError:
            pass
    big = np.isfinite(a) & (np.abs(a) > _F32_MAX)
    where = tuple(int(i) for i in np.argwhere(big)[0])
    raise ValueError(f"value {plain(a[where]):.6g} at index {where} is beyond the float32 range (+-3.4e38); "
                     f"{int(big.sum())} such value(s)")


@dataclass(frozen=True, eq=False)
class ResourceTrace:
    """Per-workload demand on several resources over a common time grid.

    Attributes
    ----------
    ids : ndarray, shape (n,)
        One id per workload (strings for the bundled loaders).
    shapes : ndarray of float32, shape (n, R, T), C-contiguous
        ``shapes[i, r, t]``: demand of workload ``i`` on resource ``r`` in
        step ``t``. Other real dtypes and layouts are converted once; a
        float32 C-contiguous array (a memory map included) is kept as is.
    resources : tuple of str, length R
        Resource names, in the order of axis 1.
    step_seconds : int
        Length of one step in seconds.
    start : int
        Unix time (seconds, UTC) of the beginning of step 0.
    meta : dict of str to ndarray
        Per-row columns, sliced along with the rows by :meth:`select`. An
        array of shape ``(n, T)`` is a per-step column (e.g. invocation
        counts) and is also sliced in time by :meth:`days`.
    info : dict of str to int
        What the loader counted (rows without a duration, filled gap steps,
        ...). It describes the load and is carried unchanged by
        :meth:`select` and :meth:`days`.

    Raises
    ------
    TypeError
        If ``shapes`` does not hold real numbers.
    ValueError
        If ``shapes`` is not 3-D, holds a finite value beyond the float32
        range (about 3.4e38), ``ids`` or a ``meta`` column does not have one
        entry per row, ``len(resources) != R``, resource names repeat,
        ``T == 0`` or ``step_seconds`` is not a positive integer.

    Examples
    --------
    >>> import numpy as np
    >>> from pyshape.traces import ResourceTrace
    >>> tr = ResourceTrace(np.array(["a", "b"]), np.ones((2, 1, 48)), ("cpu",), 3600, 0)
    >>> tr.n, tr.T, tr.n_days, tr.days(0, 2).shapes.shape
    (2, 48, 2, (2, 1, 48))
    """

    ids: np.ndarray
    shapes: np.ndarray
    resources: Tuple[str, ...]
    step_seconds: int
    start: int
    meta: Dict[str, np.ndarray] = field(default_factory=dict)
    info: Dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        shapes = np.asarray(self.shapes)
        if shapes.dtype.kind not in "biuf":
            raise TypeError(f"shapes must hold real numbers, got dtype {shapes.dtype}")
        if shapes.ndim != 3:
            raise ValueError(f"shapes must be 3-D (n, R, T), got {shapes.ndim}-D with shape {shapes.shape}")
        n, R, T = shapes.shape
        if T == 0:
            raise ValueError(f"shapes has no time steps (shape {shapes.shape})")
        # A float32 C-contiguous array (np.memmap included) passes without a copy.
        shapes = as_float32(shapes)
        ids = np.asarray(self.ids)
        if ids.shape != (n,):
            raise ValueError(f"ids must have one entry per row of shapes ({n}), got shape {ids.shape}")
        resources = tuple(self.resources) if not isinstance(self.resources, str) else (self.resources,)
        if len(resources) != R:
            raise ValueError(f"shapes has R={R} resources but {len(resources)} names were given: {resources}")
        if not all(isinstance(r, str) for r in resources) or len(set(resources)) != R:
            raise ValueError(f"resource names must be distinct strings, got {resources}")
        step = self.step_seconds
        if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step <= 0:
            raise ValueError(f"step_seconds must be a positive integer, got {plain(step)!r}")
        meta = {}
        for k, v in dict(self.meta).items():
            a = np.asarray(v)
            if a.ndim == 0 or a.shape[0] != n:
                raise ValueError(f"meta[{k!r}] must have one entry per row ({n}), got shape {a.shape}")
            meta[str(k)] = a
        object.__setattr__(self, "shapes", shapes)
        object.__setattr__(self, "ids", ids)
        object.__setattr__(self, "resources", resources)
        object.__setattr__(self, "step_seconds", int(step))
        object.__setattr__(self, "start", int(self.start))
        object.__setattr__(self, "meta", meta)
        object.__setattr__(self, "info", {str(k): int(v) for k, v in dict(self.info).items()})

    def __repr__(self) -> str:
        return (f"ResourceTrace(n={self.n}, resources={self.resources}, T={self.T}, "
                f"step_seconds={self.step_seconds}, start={self.start}, meta={sorted(self.meta)}, info={self.info})")

    @property
    def n(self) -> int:
        """Number of workloads (rows)."""
        return self.shapes.shape[0]

    @property
    def T(self) -> int:
        """Number of time steps."""
        return self.shapes.shape[2]

    @property
    def steps_per_day(self) -> int:
        """Steps in one day; raises ValueError if ``step_seconds`` does not divide 86400."""
        if _DAY % self.step_seconds:
            raise ValueError(f"step_seconds={self.step_seconds} does not divide a day (86400 s) into whole steps")
        return _DAY // self.step_seconds

    @property
    def n_days(self) -> int:
        """Number of whole days in the grid, counted from ``start``."""
        return self.T // self.steps_per_day

    def resource(self, name: str) -> np.ndarray:
        """The ``(n, T)`` demand on one resource: a view of ``shapes``, no copy.

        Raises
        ------
        ValueError
            If ``name`` is not one of ``resources``.
        """
        try:
            r = self.resources.index(name)
        except ValueError:
            raise ValueError(f"no resource {name!r}; this trace has {self.resources}") from None
        return self.shapes[:, r, :]

    def select(self, rows: Union[ArrayLike, slice]) -> "ResourceTrace":
        """The sub-trace of some rows: a boolean mask of length n, integer indices or a slice.

        ``meta`` columns are sliced the same way; ``info`` is carried as is.
        Rows come out in the order given (indices may repeat).

        Raises
        ------
        TypeError
            If ``rows`` is neither a boolean mask, integers nor a slice.
        ValueError
            If a mask does not have length n.
        IndexError
            If an index is out of range.
        """
        if not isinstance(rows, slice):
            rows = np.asarray(rows)
            if rows.dtype == bool:
                if rows.shape != (self.n,):
                    raise ValueError(f"a row mask must have shape ({self.n},), got {rows.shape}")
            elif rows.dtype.kind in "iu" or rows.size == 0:
                rows = rows.astype(np.intp).ravel()
                bad = (rows < -self.n) | (rows >= self.n)
                if bad.any():
                    raise IndexError(f"row index {int(rows[bad][0])} is out of range for {self.n} rows")
            else:
                raise TypeError(f"rows must be a boolean mask, integer indices or a slice, got dtype {rows.dtype}")
        return ResourceTrace(self.ids[rows], self.shapes[rows], self.resources, self.step_seconds, self.start,
                             {k: v[rows] for k, v in self.meta.items()}, self.info)

    def days(self, lo: int, hi: int) -> "ResourceTrace":
        """Whole days ``lo, lo+1, ..., hi-1`` (counted from ``start``) as a trace of their own.

        The result starts at ``start + lo * 86400`` and has ``(hi - lo) *
        steps_per_day`` steps; per-step ``meta`` columns (shape ``(n, T)``)
        are cut the same way.

        Raises
        ------
        ValueError
            If ``lo >= hi``.
        IndexError
            If the range is not inside ``[0, n_days]``.
        """
        lo, hi = int(lo), int(hi)
        if lo >= hi:
            raise ValueError(f"need lo < hi for a range of days, got lo={lo}, hi={hi}")
        per_day, nd = self.steps_per_day, self.n_days
        if lo < 0 or hi > nd:
            raise IndexError(f"days [{lo}, {hi}) are outside the {nd} whole days of the trace")
        a, b = lo * per_day, hi * per_day
        T = self.T
        meta = {k: (v[:, a:b] if v.ndim == 2 and v.shape[1] == T else v) for k, v in self.meta.items()}
        return ResourceTrace(self.ids, self.shapes[:, :, a:b], self.resources, self.step_seconds,
                             self.start + lo * _DAY, meta, self.info)

    def day(self, d: int) -> "ResourceTrace":
        """The ``d``-th whole day (counted from ``start``) as a trace of its own; see :meth:`days`."""
        d = int(d)
        if d < 0 or d >= self.n_days:
            raise IndexError(f"day {d} is outside the {self.n_days} whole days of the trace")
        return self.days(d, d + 1)

    def window(self, start: Any = None, end: Any = None) -> "ResourceTrace":
        """The steps that begin in ``[start, end)`` as a trace of their own.

        ``start`` / ``end``: Unix seconds, ISO 8601 text (``2013-07-03``,
        ``2013-07-03T12:00+02:00``; naive = UTC) or datetimes; None = open.
        Per-step ``meta`` columns are cut the same way.

        Raises
        ------
        ValueError
            If no step of the trace begins in the window.
        """
        from pyshape.traces._frames import parse_when

        lo = -np.inf if start is None else parse_when(start, "start")
        hi = np.inf if end is None else parse_when(end, "end")
        t = self.start + self.step_seconds * np.arange(self.T, dtype=np.float64)
        inside = np.flatnonzero((t >= lo) & (t < hi))
        if not inside.size:
            raise ValueError(f"no step of the trace begins in [{start}, {end}) (it covers {_iso(self.start)} to "
                             f"{_iso(self.start + self.T * self.step_seconds)})")
        a, b = int(inside[0]), int(inside[-1]) + 1
        T = self.T
        meta = {k: (v[:, a:b] if v.ndim == 2 and v.shape[1] == T else v) for k, v in self.meta.items()}
        return ResourceTrace(self.ids, self.shapes[:, :, a:b], self.resources, self.step_seconds,
                             self.start + a * self.step_seconds, meta, self.info)

    def to_frame(self, *, time: str = "datetime") -> Any:
        """The trace as a long pandas DataFrame: ``id``, ``time``, one column per resource; n x T rows.

        ``time='datetime'`` (default): UTC datetimes of the start of each
        step; ``'seconds'``: Unix seconds. :meth:`from_frame` reads it back.
        Needs pandas.

        Examples
        --------
        >>> import numpy as np
        >>> from pyshape.traces import ResourceTrace
        >>> tr = ResourceTrace(np.array(["a"]), np.arange(2.0).reshape(1, 1, 2), ("cpu",), 300, 0)
        >>> tr.to_frame(time="seconds").values.tolist()
        [['a', 0, 0.0], ['a', 300, 1.0]]
        """
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("to_frame needs pandas (pip install pandas)") from None
        if time not in ("datetime", "seconds"):
            raise ValueError(f"time must be 'datetime' or 'seconds', got {time!r}")
        n, R, T = self.shapes.shape
        t = self.start + self.step_seconds * np.arange(T, dtype=np.int64)
        cols = {"id": np.repeat(self.ids, T),
                "time": np.tile(pd.to_datetime(t, unit="s", utc=True) if time == "datetime" else t, n)}
        clash = [r for r in self.resources if r in cols]
        if clash:
            raise ValueError(f"resource names {clash} clash with the id / time columns")
        for r, name in enumerate(self.resources):
            cols[name] = self.shapes[:, r, :].reshape(-1)
        return pd.DataFrame(cols)

    @classmethod
    def from_frame(cls, frame: Any, *, id: Union[str, Sequence[str], None] = "id", time: str = "time",
                   values: Union[str, Sequence[str], None] = None, step: Union[int, float, str, None] = None,
                   **kwargs: Any) -> "ResourceTrace":
        """A long table (pandas, polars, pyarrow, a dict of arrays) as a trace: :func:`~pyshape.traces.load_long`.

        The defaults read what :meth:`to_frame` writes (ids come out sorted).
        """
        from pyshape.traces.long import load_long

        return load_long(frame, id=id, time=time, values=values, step=step, **kwargs)


def _iso(t: int) -> str:
    import datetime as _dt
    try:
        return _dt.datetime.fromtimestamp(int(t), _dt.timezone.utc).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return f"{t} s"
