"""Columns out of any table: CSV / Parquet files, pandas, polars, pyarrow, the Arrow C stream, the
DataFrame interchange protocol or a plain mapping of arrays, without requiring pandas or pyarrow.

:func:`read_columns` returns the asked columns as :class:`Column` objects,
each holding a NumPy array (numbers as float64 or int64, datetimes as
``datetime64[ns]`` in UTC, text as an object or ``str`` array) and, where
pyarrow read it, the Arrow array (parsed faster by :func:`times_seconds`).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from pyshape.traces._text import TextStream

_NS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
#: File suffixes read as delimited text / as Parquet.
TEXT_SUFFIXES = (".csv", ".csv.gz", ".txt", ".txt.gz", ".tsv", ".tsv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass
class Column:
    name: str
    values: Any                     # ndarray, or None until needed when arrow is set
    arrow: Any = None               # a pyarrow ChunkedArray, when pyarrow read it

    def numpy(self) -> np.ndarray:
        if self.values is None:
            self.values = _arrow_to_numpy(self.arrow)
        return self.values


def _pyarrow() -> Any:
    try:
        import pyarrow as pa
        return pa
    except ImportError:
        return None


def _pandas() -> Any:
    try:
        import pandas as pd
        return pd
    except ImportError:
        return None


def describe(source: Any) -> str:
    """How messages name a source."""
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    mod = type(source).__module__.split(".")[0]
    return f"the {type(source).__name__ if mod == 'builtins' else mod + '.' + type(source).__name__} table"


def is_path(source: Any) -> bool:
    return isinstance(source, (str, os.PathLike))


def column_names(source: Any, *, sep: Optional[str] = None) -> List[str]:
    """The column names of ``source`` (the header of a text file), without reading its rows."""
    if is_path(source):
        p = Path(source)
        if _suffix(p) in PARQUET_SUFFIXES:
            pa = _need_pyarrow(p)
            import pyarrow.parquet as pq
            return list(pq.read_schema(p).names)
        with TextStream(p) as s:
            header = s.header(limit=16 << 20)
        return [_unquote(h) for h in header.split(sep or _sniff(header))]
    if isinstance(source, dict):
        return [str(k) for k in source]
    pa = _pyarrow()
    if pa is not None and isinstance(source, pa.Table):
        return list(source.column_names)
    cols = getattr(source, "columns", None)
    if cols is not None and not callable(cols):
        return [str(c) for c in cols]
    if hasattr(source, "__arrow_c_stream__") and pa is not None:
        return list(pa.RecordBatchReader.from_stream(source).schema.names)
    if hasattr(source, "__dataframe__"):
        return [str(c) for c in source.__dataframe__().column_names()]
    raise TypeError(f"cannot read a table from {type(source).__name__}: give a .csv/.parquet path, a DataFrame "
                    f"(pandas, polars, ...), a pyarrow Table or a dict of arrays")


def read_columns(source: Any, names: Sequence[str], *, sep: Optional[str] = None,
                 text_columns: Sequence[str] = ()) -> Dict[str, Column]:
    """The columns ``names`` of ``source`` (missing ones: one ValueError naming them and the columns there are).

    ``text_columns`` are read as text from a file (ids: ``007`` stays ``007``).
    """
    names = list(dict.fromkeys(names))
    have = column_names(source, sep=sep)
    missing = [c for c in names if c not in have]
    if missing:
        raise ValueError(f"{describe(source)}: no column{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(map(repr, missing))} (columns: {', '.join(have[:20])}"
                         f"{' ...' if len(have) > 20 else ''})")
    if is_path(source):
        return _read_file(Path(source), names, sep, text_columns)
    if isinstance(source, dict):
        return {c: Column(c, _numpy_column(source[c], c)) for c in names}
    pa = _pyarrow()
    pd = _pandas()
    if pd is not None and isinstance(source, pd.DataFrame):
        return {c: Column(c, _pandas_column(source[c], pd)) for c in names}
    if pa is not None:
        if isinstance(source, pa.Table):
            return _from_arrow(source.select(names))
        if hasattr(source, "select") and hasattr(source, "__arrow_c_stream__"):
            try:                     # polars & co: export only the columns asked
                source = source.select(names)
            except Exception:
                pass
        if hasattr(source, "__arrow_c_stream__"):
            return _from_arrow(pa.RecordBatchReader.from_stream(source).read_all().select(names))
        if hasattr(source, "__dataframe__"):
            import pyarrow.interchange as pi
            return _from_arrow(pi.from_dataframe(source.__dataframe__().select_columns_by_name(names)))
    if hasattr(source, "__dataframe__"):
        if pd is not None:
            df = pd.api.interchange.from_dataframe(source.__dataframe__().select_columns_by_name(names))
            return {c: Column(c, _pandas_column(df[c], pd)) for c in names}
        return _from_interchange(source.__dataframe__(), names)
    raise TypeError(f"cannot read columns of a {type(source).__name__} without pyarrow "
                    f"(pip install pyarrow), or pass a dict of arrays")


# --------------------------------------------------------------------------- files
def _suffix(p: Path) -> str:
    name = p.name.lower()
    for s in TEXT_SUFFIXES + PARQUET_SUFFIXES:
        if name.endswith(s):
            return s
    return p.suffix.lower()


def _need_pyarrow(p: Path) -> Any:
    pa = _pyarrow()
    if pa is None:
        raise ImportError(f"{p}: reading .parquet needs pyarrow (pip install pyarrow)")
    return pa


def _sniff(header: str) -> str:
    for d in (",", "\t", ";"):
        if d in header:
            return d
    return ","


def _unquote(h: str) -> str:
    h = h.strip()
    if len(h) >= 2 and h[0] == h[-1] == '"':
        h = h[1:-1].replace('""', '"')
    return h


def _read_file(p: Path, names: List[str], sep: Optional[str], text_columns: Sequence[str]) -> Dict[str, Column]:
    suffix = _suffix(p)
    if suffix in PARQUET_SUFFIXES:
        _need_pyarrow(p)
        import pyarrow.parquet as pq
        try:
            table = pq.read_table(p, columns=names)
        except Exception as e:
            raise ValueError(f"{p}: cannot read this Parquet file ({e})") from None
        return _from_arrow(table)
    if suffix not in TEXT_SUFFIXES:
        raise ValueError(f"{p}: unknown table format {suffix!r} (use .csv, .csv.gz, .txt, .tsv or .parquet)")
    with TextStream(p) as s:
        header = s.header(limit=16 << 20)
    sep = sep or _sniff(header)
    pa = _pyarrow()
    if pa is not None:
        import pyarrow.csv as pc
        try:
            table = pc.read_csv(p, parse_options=pc.ParseOptions(delimiter=sep),
                                convert_options=pc.ConvertOptions(
                                    include_columns=names,
                                    column_types={c: pa.string() for c in text_columns},
                                    strings_can_be_null=True))
            return _from_arrow(table)
        except (pa.ArrowInvalid, UnicodeDecodeError, OSError, EOFError):
            pass             # the NumPy path below names the line of the problem
    pd = _pandas()
    if pd is not None:
        try:
            df = pd.read_csv(p, sep=sep, usecols=names, dtype={c: str for c in text_columns}, engine="c")
            return {c: Column(c, _pandas_column(df[c], pd)) for c in names}
        except Exception:
            pass
    return _read_text_numpy(p, names, sep)


def _read_text_numpy(p: Path, names: List[str], sep: str) -> Dict[str, Column]:
    """Plain NumPy: no quoting; every field is text until the caller parses it."""
    with TextStream(p) as s:
        header = s.header(limit=16 << 20)
        cols = [_unquote(h) for h in header.split(sep)]
        idx = [cols.index(c) for c in names]
        nf = len(cols)
        parts: Dict[str, List[np.ndarray]] = {c: [] for c in names}
        for lines, linenos in s.chunks():
            counts = np.fromiter((ln.count(sep) for ln in lines), dtype=np.int64, count=len(lines))
            bad = np.flatnonzero(counts != nf - 1)
            if bad.size:
                i = int(bad[0])
                raise ValueError(f"{p}, line {linenos[i]}: {counts[i] + 1} fields, expected {nf} (as in the "
                                 f"header); {bad.size} such line(s) in this chunk")
            fields = np.array([ln.split(sep) for ln in lines], dtype=str).reshape(len(lines), nf)
            for c, j in zip(names, idx):
                parts[c].append(np.char.strip(fields[:, j]))
    return {c: Column(c, np.concatenate(v) if v else np.zeros(0, dtype=str)) for c, v in parts.items()}


# --------------------------------------------------------------------------- in-memory tables
def _numpy_column(a: Any, name: str) -> np.ndarray:
    pd = _pandas()
    if pd is not None and isinstance(a, (pd.Series, pd.Index)):
        return _pandas_column(a, pd)
    a = np.asarray(a)
    if a.ndim != 1:
        raise ValueError(f"column {name!r} must be 1-D, got shape {a.shape}")
    return a


def _pandas_column(s: Any, pd: Any) -> np.ndarray:
    dt = s.dtype
    if isinstance(dt, pd.DatetimeTZDtype):
        return s.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]")
    if dt.kind == "M":
        return s.to_numpy("datetime64[ns]")
    if dt.kind in "iufb":
        return s.to_numpy()
    if isinstance(dt, pd.CategoricalDtype):
        return s.astype(object).to_numpy()
    if pd.api.types.is_numeric_dtype(dt):           # nullable Int64 / Float64
        return s.to_numpy(dtype=np.float64, na_value=np.nan)
    return s.to_numpy(dtype=object)


def _from_arrow(table: Any) -> Dict[str, Column]:
    return {name: Column(name, None, table.column(name)) for name in table.column_names}


def _np(col: Any, dtype: Any = None) -> np.ndarray:
    """A pyarrow ChunkedArray as one NumPy array, chunk by chunk (ChunkedArray.to_numpy imports pandas)."""
    parts = [c.to_numpy(zero_copy_only=False) for c in col.chunks]
    if not parts:
        return np.zeros(0, dtype=dtype or np.float64)
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def _arrow_to_numpy(col: Any) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc
    t = col.type
    if pa.types.is_dictionary(t):
        col = col.cast(t.value_type)
        t = col.type
    if pa.types.is_timestamp(t):
        # Stored as UTC whatever the time zone: the integers, scaled to nanoseconds; NaT where missing.
        a = _np(col.cast(pa.int64()).cast(pa.float64())) if col.null_count else \
            _np(col.cast(pa.int64())).astype(np.int64)
        return _ints_to_dt64(a, _NS[t.unit])
    if pa.types.is_date(t):
        return _np(col.cast(pa.timestamp("ns")).cast(pa.int64())).view("datetime64[ns]")
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
        if col.null_count:
            return _np(pc.cast(col, pa.float64()))
        return _np(col)
    return _np(col)


def _ints_to_dt64(a: np.ndarray, scale: int) -> np.ndarray:
    if a.dtype.kind == "f":
        out = np.full(len(a), np.datetime64("NaT"), dtype="datetime64[ns]")
        ok = ~np.isnan(a)
        out[ok] = (a[ok].astype(np.int64) * scale).view("datetime64[ns]")
        return out
    return (a * scale).view("datetime64[ns]")


# --------------------------------------------------------------------------- the interchange protocol, by hand
_KIND_INT, _KIND_UINT, _KIND_FLOAT, _KIND_BOOL, _KIND_STRING, _KIND_DATETIME = 0, 1, 2, 20, 21, 22


def _buffer_array(buf: Any, dtype_tuple: Tuple[Any, ...]) -> np.ndarray:
    import ctypes
    kind, bits = dtype_tuple[0], dtype_tuple[1]
    np_dtype = {(_KIND_INT, 8): np.int8, (_KIND_INT, 16): np.int16, (_KIND_INT, 32): np.int32,
                (_KIND_INT, 64): np.int64, (_KIND_UINT, 8): np.uint8, (_KIND_UINT, 16): np.uint16,
                (_KIND_UINT, 32): np.uint32, (_KIND_UINT, 64): np.uint64, (_KIND_FLOAT, 32): np.float32,
                (_KIND_FLOAT, 64): np.float64, (_KIND_BOOL, 8): np.bool_}.get((int(kind), int(bits)))
    if np_dtype is None and int(kind) == _KIND_DATETIME:
        np_dtype = np.int64
    if np_dtype is None:
        raise TypeError(f"unsupported interchange column type {dtype_tuple}")
    raw = (ctypes.c_char * buf.bufsize).from_address(buf.ptr)
    return np.frombuffer(raw, dtype=np_dtype).copy()


def _from_interchange(df: Any, names: Sequence[str]) -> Dict[str, Column]:
    """Numbers, datetimes and UTF-8 strings of a ``__dataframe__`` object with neither pandas nor pyarrow."""
    out: Dict[str, Column] = {}
    for name in names:
        parts = []
        for col in df.get_column_by_name(name).get_chunks():
            bufs = col.get_buffers()
            data_buf, data_dtype = bufs["data"]
            kind = int(col.dtype[0])
            off = col.offset
            n = col.size()
            if kind == _KIND_STRING:
                obuf, odt = bufs["offsets"]
                offsets = _buffer_array(obuf, odt)[off:off + n + 1]
                import ctypes
                blob = bytes((ctypes.c_char * data_buf.bufsize).from_address(data_buf.ptr))
                a = np.array([blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n)], dtype=object)
            else:
                a = _buffer_array(data_buf, data_dtype)[off:off + n]
                if kind == _KIND_DATETIME:
                    m = re.match(r"ts([smun]):(.*)", col.dtype[2])
                    unit = {"s": "s", "m": "ms", "u": "us", "n": "ns"}[m.group(1)] if m else "ns"
                    a = (a * _NS[unit]).view("datetime64[ns]")
            valid = bufs.get("validity")
            if valid is not None and col.null_count:
                raise ValueError(f"column {name!r} has missing values; read it with pandas or pyarrow installed")
            parts.append(a)
        out[name] = Column(name, np.concatenate(parts) if parts else np.zeros(0))
    return out


# --------------------------------------------------------------------------- times
def _units(time_unit: str) -> int:
    if time_unit not in _NS:
        raise ValueError(f"time_unit must be one of {', '.join(_NS)}, got {time_unit!r}")
    return _NS[time_unit]


def times_seconds(col: Column, *, time_unit: str = "s", what: str = "time") -> np.ndarray:
    """A time column as float64 Unix seconds (UTC); NaN where missing.

    Numbers are in ``time_unit`` units; datetimes with a time zone are
    converted to UTC, naive ones are taken as UTC; text is parsed as ISO 8601
    (``2024-01-01T12:00:00``, ``... 12:00:00.5+02:00``, ``...Z``). A value
    that cannot be parsed is a ValueError naming the column, the row and
    the value.
    """
    scale = _units(time_unit)
    if col.arrow is not None:
        got = _arrow_times(col, scale, what)
        if got is not None:
            return got
    a = col.numpy()
    if a.dtype.kind == "M":
        return _dt64_seconds(a)
    if a.dtype.kind in "iub":
        return a.astype(np.float64) / (1e9 / scale) if scale != 10**9 else a.astype(np.float64)
    if a.dtype.kind == "f":
        return a.astype(np.float64) / (1e9 / scale) if scale != 10**9 else a.astype(np.float64, copy=False)
    return _parse_text_times(a, col.name, scale, what)


def _dt64_seconds(a: np.ndarray) -> np.ndarray:
    ns = a.astype("datetime64[ns]")
    out = ns.view(np.int64).astype(np.float64) / 1e9
    out[np.isnat(ns)] = np.nan
    return out


def _arrow_times(col: Column, scale: int, what: str) -> Optional[np.ndarray]:
    import pyarrow as pa
    t = col.arrow.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        for target in (pa.timestamp("ns", tz="UTC"), pa.timestamp("ns")):
            try:
                ns = _np(col.arrow.cast(target).cast(pa.int64()).cast(pa.float64()))
                return ns / 1e9
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
        # Numbers written as text, mixed zones, or a bad value: the text parser below names it.
        col.values = _np(col.arrow)
        return None
    return None


_TZ = re.compile(r"(Z|[+-]\d\d:?\d\d)$")


def _parse_text_times(a: np.ndarray, name: str, scale: int, what: str) -> np.ndarray:
    """Text times: numbers, or ISO 8601 with an optional ``Z`` / ``+HH:MM`` offset (each row its own)."""
    s = np.asarray(a).astype(str)
    s = np.char.strip(s)
    empty = (s == "") | (s == "nan") | (s == "NaN") | (s == "None")
    try:
        v = np.where(empty, "nan", s).astype(np.float64)
        return v / (1e9 / scale) if scale != 10**9 else v
    except ValueError:
        pass
    pd = _pandas()
    if pd is not None:
        try:
            t = pd.to_datetime(pd.Series(np.where(empty, None, s)), utc=True,  # type: ignore[call-overload]
                               format="ISO8601")
            return _dt64_seconds(t.dt.tz_localize(None).to_numpy("datetime64[ns]"))
        except (ValueError, TypeError, OverflowError):
            pass                      # name the row below
    out = np.full(len(s), np.nan)
    body = s.copy()
    offset = np.zeros(len(s))
    for i, x in enumerate(s.tolist()):
        if len(x) > 10:                       # a time part: a trailing Z or +HH:MM / -HHMM is its zone
            m = _TZ.search(x)
            if m:
                off = m.group(1).replace(":", "")
                if off != "Z":
                    offset[i] = (-1.0 if off[0] == "-" else 1.0) * (int(off[1:3]) * 3600 + int(off[3:5]) * 60)
                body[i] = x[:m.start()]
    ok = ~empty
    try:
        ns = body[ok].astype("datetime64[ns]")
    except ValueError:
        numeric = 0
        for i in np.flatnonzero(ok):
            try:
                float(body[i])
                numeric += 1
                continue
            except ValueError:
                pass
            try:
                np.datetime64(body[i], "ns")
                if numeric:
                    raise ValueError
            except ValueError:
                raise ValueError(f"column {name!r}, row {i}: cannot read {str(a[i])!r} as a {what} (a number of "
                                 f"seconds or an ISO 8601 date-time such as 2024-01-31T12:00:00+01:00)") from None
        raise
    out[ok] = _dt64_seconds(ns) - offset[ok]
    return out


def parse_when(text: Any, what: str) -> float:
    """One time (a number of Unix seconds, an ISO 8601 string, a datetime) as Unix seconds."""
    import datetime as _dt
    if isinstance(text, (int, float, np.integer, np.floating)) and not isinstance(text, bool):
        return float(text)
    if isinstance(text, _dt.datetime):
        if text.tzinfo is None:
            text = text.replace(tzinfo=_dt.timezone.utc)
        return text.timestamp()
    if isinstance(text, np.datetime64):
        return float(_dt64_seconds(np.array([text]))[0])
    if isinstance(text, str):
        try:
            return float(text)
        except ValueError:
            pass
        try:
            d = _dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{what} {text!r} is neither a number of seconds nor an ISO 8601 date-time") from None
        if d.tzinfo is None:
            d = d.replace(tzinfo=_dt.timezone.utc)
        return d.timestamp()
    raise TypeError(f"{what} must be a number of seconds, an ISO 8601 string or a datetime, got "
                    f"{type(text).__name__}")


# --------------------------------------------------------------------------- ids and numbers
def factorize(col: Column) -> Tuple[np.ndarray, np.ndarray]:
    """(codes int64 per row, sorted unique ids); -1 for a missing id."""
    if col.arrow is not None:
        import pyarrow as pa
        import pyarrow.compute as pc
        arr = col.arrow
        if pa.types.is_dictionary(arr.type):
            arr = arr.cast(arr.type.value_type)
        enc = pc.dictionary_encode(arr).combine_chunks()
        codes = enc.indices.to_numpy(zero_copy_only=False)
        codes = np.where(np.isnan(codes), -1, codes).astype(np.int64) if codes.dtype.kind == "f" \
            else codes.astype(np.int64)
        uniq = enc.dictionary.to_numpy(zero_copy_only=False)
        return _sorted_codes(codes, uniq)
    a = col.numpy()
    if a.dtype.kind == "O":
        pd = _pandas()
        if pd is not None:
            codes, uniq = pd.factorize(a, use_na_sentinel=True)
            return _sorted_codes(codes.astype(np.int64), np.asarray(uniq, dtype=object))
        missing = np.array([x is None or (isinstance(x, float) and x != x) for x in a.tolist()], dtype=bool)
        if missing.any():
            uniq, inv = np.unique(a[~missing].astype(str), return_inverse=True)
            codes = np.full(len(a), -1, dtype=np.int64)
            codes[~missing] = inv
            return codes, uniq
        a = a.astype(str)
    if a.dtype.kind == "f":
        bad = np.isnan(a)
        uniq, inv = np.unique(a[~bad], return_inverse=True)
        codes = np.full(len(a), -1, dtype=np.int64)
        codes[~bad] = inv
        return codes, uniq
    if a.dtype.kind in "iu" and len(a):
        lo, hi = int(a.min()), int(a.max())
        if hi - lo <= 4 * len(a) + 1024:          # dense integer ids: a table lookup instead of a sort
            present = np.zeros(hi - lo + 1, dtype=bool)
            present[a - lo] = True
            rank = np.cumsum(present) - 1
            return rank[a - lo].astype(np.int64), (np.flatnonzero(present) + lo).astype(a.dtype)
    uniq, inv = np.unique(a, return_inverse=True)
    return inv.astype(np.int64).ravel(), uniq


def _sorted_codes(codes: np.ndarray, uniq: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Renumber codes so that the ids come out sorted (same result whichever reader)."""
    try:
        order = np.argsort(uniq.astype(str) if uniq.dtype.kind == "O" else uniq, kind="stable")
    except TypeError:
        order = np.argsort(uniq.astype(str), kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    out = np.where(codes >= 0, rank[np.maximum(codes, 0)], -1) if len(order) else codes
    u = uniq[order]
    if u.dtype.kind == "O":
        try:
            u = u.astype(str)
        except (TypeError, ValueError):
            pass
    return out, u


def numbers(col: Column, what: str) -> np.ndarray:
    """A value column as float64 (NaN where missing); text that is not a number: ValueError naming the row."""
    a = col.numpy()
    if a.dtype.kind in "iufb":
        return a.astype(np.float64, copy=False)
    if a.dtype.kind == "M":
        raise ValueError(f"{what} column {col.name!r} holds date-times, not numbers")
    s = np.asarray(a)
    try:
        if s.dtype.kind == "O":
            return np.array([np.nan if x is None else x for x in s.tolist()], dtype=np.float64)
        return np.where(np.char.strip(s.astype(str)) == "", "nan", s).astype(np.float64)
    except (ValueError, TypeError):
        for i, x in enumerate(s.tolist()):
            if x is None or (isinstance(x, str) and not x.strip()):
                continue
            try:
                float(x)
            except (ValueError, TypeError):
                raise ValueError(f"{what} column {col.name!r}, row {i}: {x!r} is not a number") from None
        raise
