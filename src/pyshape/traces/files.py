"""Shapes in and out of files: ``.npy``, ``.npz``, wide ``.csv`` / ``.csv.gz``, ``.parquet``, Bitbrains folders.

Wide layout (CSV and Parquet): a header ``id,0,1,...,T-1`` and one row per
shape, or ``id,resource,0,1,...,T-1`` and one row per shape and resource. In
CSV an id or resource name may be quoted as in RFC 4180 (``"a,b"``; a quote
inside quotes is doubled); :func:`save_shapes` quotes those that need it.
"""
from __future__ import annotations

import gzip
import json
import re
import zipfile
import zlib
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from pyshape._progress import ProgressArg
from pyshape.traces._text import PathArg, TextStream, parse_numbers
from pyshape.traces._trace import ResourceTrace, as_float32

__all__ = ["load_shapes", "save_shapes"]

FORMATS = (".npy", ".npz", ".csv", ".csv.gz", ".parquet")
_DEFAULT_STEP = 60
_PYARROW_HINT = "reading or writing .parquet needs pyarrow (pip install pyarrow)"

#: What a format's loader returns: ids, shapes, resources, the time grid (step_seconds,
#: start) when the file has one, meta columns and info counts.
_Loaded = Tuple[np.ndarray, np.ndarray, Tuple[str, ...], Dict[str, int], Dict[str, np.ndarray], Dict[str, int]]



def load_shapes(path: PathArg, *, mmap: bool = True, step_seconds: Optional[int] = None,
                start: Optional[int] = None, allow_nonfinite: bool = False,
                progress: ProgressArg = False) -> ResourceTrace:
    """Load shapes from a file (format by suffix) or a folder of Bitbrains files.

    - ``.npy``: an ``(n, T)`` or ``(n, R, T)`` array. Memory-mapped (read
      only, no copy) when ``mmap`` and it is float32 C-ordered; otherwise read
      and converted to float32 once. Ids ``'0'..'n-1'``, resources
      ``'r0'..``.
    - ``.npz``: array ``shapes`` ((n, T) or (n, R, T)) and optionally ``ids``,
      ``resources``, ``step_seconds``, ``start``, and ``meta_<name>`` /
      ``info_<name>`` entries (as :func:`save_shapes` writes them).
    - ``.csv``, ``.csv.gz``: wide text (see the module docstring); the step
      columns must be named by consecutive integers from 0 (or 1, as in the
      Azure trace). Rows of one shape need not be adjacent. The header is
      checked first and the rows are parsed in chunks, so that peak memory
      is about twice the float32 result whatever the size of the file.
    - ``.parquet``: the same wide layout as columns (needs pyarrow); the
      grid is read from the file's metadata when :func:`save_shapes` wrote it.
    - a folder: Bitbrains per-VM files, by
      :func:`~pyshape.traces.load_bitbrains` (``step_seconds`` is its grid
      step, default 300).

    Parameters
    ----------
    path : str or path-like
    mmap : bool, default True
        Memory-map ``.npy`` files when possible.
    step_seconds, start : int, optional
        Time grid of the result. Default: the one stored in the file
        (``.npz``, ``.parquet``), else 60 s from Unix time 0. Given values
        replace stored ones (``start`` cannot be set for a Bitbrains folder,
        whose times are real).
    allow_nonfinite : bool, default False
        Keep shapes with NaN or infinite values. By default they are
        refused (ValueError naming the first such shape): correlation,
        clustering and packing need finite values. A Bitbrains folder drops
        such rows instead (see :func:`~pyshape.traces.load_bitbrains`).
    progress : bool or callable, default False
        For a folder: a progress bar while its files are read.

    Returns
    -------
    ResourceTrace

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the suffix is unknown or the file is empty, truncated or corrupt,
        has wrong columns, ragged rows, non-numeric values, values beyond the
        float32 range, NaN or infinite values (unless ``allow_nonfinite``),
        missing or repeated (id, resource) rows, or arrays of the wrong
        shape; the message names the file (and the line, for text).
    TypeError
        If a ``.npy`` / ``.npz`` array does not hold real numbers.
    ImportError
        For ``.parquet`` without pyarrow.

    Examples
    --------
    >>> import numpy as np, tempfile, os, pathlib
    >>> from pyshape.traces import load_shapes, save_shapes, ResourceTrace
    >>> tr = ResourceTrace(np.array(["a", "b"]), np.arange(6.0).reshape(2, 1, 3), ("cpu",), 300, 0)
    >>> p = os.path.join(tempfile.mkdtemp(), "x.csv")
    >>> _ = save_shapes(tr, p)
    >>> pathlib.Path(p).read_text().splitlines()
    ['id,resource,0,1,2', 'a,cpu,0,1,2', 'b,cpu,3,4,5']
    >>> back = load_shapes(p, step_seconds=300)
    >>> back.ids.tolist(), back.resources, back.shapes[1, 0].tolist()
    (['a', 'b'], ('cpu',), [3.0, 4.0, 5.0])
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file or folder")
    if p.is_dir():
        from pyshape.traces.bitbrains import load_bitbrains

        if start is not None:
            raise ValueError(f"{p}: start cannot be set for a Bitbrains folder (its timestamps are real)")
        return load_bitbrains(p, step_seconds=300 if step_seconds is None else step_seconds, progress=progress)
    fmt = _format(p)
    if p.stat().st_size == 0:
        raise ValueError(f"{p}: empty file")
    if fmt == ".npy":
        ids, shapes, resources, grid, meta, info = _load_npy(p, mmap)
    elif fmt == ".npz":
        ids, shapes, resources, grid, meta, info = _load_npz(p)
    elif fmt == ".parquet":
        ids, shapes, resources, grid, meta, info = _load_parquet(p)
    else:
        ids, shapes, resources, grid, meta, info = _load_csv(p)
    step = grid.get("step_seconds", _DEFAULT_STEP) if step_seconds is None else step_seconds
    t0 = grid.get("start", 0) if start is None else start
    try:
        tr = ResourceTrace(ids, shapes, resources, step, t0, meta, info)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{p}: {e}") from None
    if not allow_nonfinite:
        _check_finite(tr, p)
    return tr


def _check_finite(tr: ResourceTrace, p: Path, block: int = 1 << 22) -> None:
    """ValueError naming the first shape with a NaN or inf (rows scanned in blocks: a memory map stays cheap)."""
    per_row = max(1, tr.shapes[0].size)
    rows = max(1, block // per_row)
    bad: List[np.ndarray] = []
    for lo in range(0, tr.n, rows):
        ok = np.isfinite(tr.shapes[lo:lo + rows]).reshape(-1, per_row).all(axis=1)
        bad.append(lo + np.flatnonzero(~ok))
    rows_bad = np.concatenate(bad) if bad else np.zeros(0, dtype=np.intp)
    if rows_bad.size:
        i = int(rows_bad[0])
        raise ValueError(f"{p}: shape {str(tr.ids[i])!r} (row {i}) has a NaN or infinite value; "
                         f"{rows_bad.size} shape(s) do (load_shapes(..., allow_nonfinite=True) keeps them)")


def save_shapes(trace: ResourceTrace, path: PathArg) -> Path:
    """Write a trace in the format given by the suffix of ``path``; return the path.

    - ``.npy``: ``shapes`` only, ``(n, T)`` when R == 1, else ``(n, R, T)``.
    - ``.npz``: ``shapes``, ``ids``, ``resources``, ``step_seconds``,
      ``start``, every ``meta`` column as ``meta_<name>`` and ``info`` entry as
      ``info_<name>`` (text as fixed-width strings, never pickled objects).
    - ``.csv`` / ``.csv.gz``: the wide layout, values written with 9
      significant digits (float32 round-trips exactly); the ``resource``
      column is written unless the trace has the single default resource
      ``'r0'``. Ids and resource names with a comma, a double quote or
      leading / trailing white space are quoted (RFC 4180), so that
      :func:`load_shapes` reads them back unchanged; line breaks cannot be
      written.
    - ``.parquet``: the same wide layout (float32 columns), the grid and the
      resource names in the file's metadata (needs pyarrow).

    Raises
    ------
    ValueError
        If the suffix is unknown or an id or resource name cannot be written
        to CSV (a line break).
    ImportError
        For ``.parquet`` without pyarrow.
    """
    if not isinstance(trace, ResourceTrace):
        raise TypeError(f"trace must be a ResourceTrace, got {type(trace).__name__}")
    p = Path(path)
    fmt = _format(p)
    if fmt == ".npy":
        with open(p, "wb") as f:
            np.save(f, trace.shapes[:, 0, :] if len(trace.resources) == 1 else trace.shapes)
    elif fmt == ".npz":
        arrays = {"shapes": trace.shapes, "ids": _text_safe(trace.ids),
                  "resources": np.array(trace.resources, dtype=str),
                  "step_seconds": np.int64(trace.step_seconds), "start": np.int64(trace.start)}
        arrays.update({f"meta_{k}": _text_safe(v) for k, v in trace.meta.items()})
        arrays.update({f"info_{k}": np.int64(v) for k, v in trace.info.items()})
        with open(p, "wb") as f:
            np.savez(f, **arrays)
    elif fmt == ".parquet":
        _save_parquet(trace, p)
    else:
        _save_csv(trace, p)
    return p


def _format(p: Path) -> str:
    name = p.name.lower()
    for suffix in (".csv.gz",) + FORMATS:
        if name.endswith(suffix):
            return suffix
    raise ValueError(f"{p}: unknown format (use one of {', '.join(FORMATS)}, or a folder of Bitbrains files)")


def _text_safe(a: np.ndarray) -> np.ndarray:
    """Object arrays (Python strings) as fixed-width strings, so that no pickle is needed."""
    a = np.asarray(a)
    return a.astype(str) if a.dtype == object else a


def _default_resources(R: int) -> Tuple[str, ...]:
    return tuple(f"r{i}" for i in range(R))


def _as_3d(a: np.ndarray, p: Path, what: str) -> np.ndarray:
    if a.ndim == 2:
        return a.reshape(a.shape[0], 1, a.shape[1])  # a view: keeps a memory map mapped
    if a.ndim != 3:
        raise ValueError(f"{p}: {what} must be (n, T) or (n, R, T), got shape {a.shape}")
    return a


def _check_not_empty(shapes: np.ndarray, p: Path) -> None:
    if shapes.shape[0] == 0 or shapes.shape[2] == 0:
        raise ValueError(f"{p}: no shapes (array of shape {shapes.shape})")


def _load_npy(p: Path, mmap: bool) -> _Loaded:
    try:
        a = np.load(p, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise ValueError(f"{p}: not a readable .npy file ({e})") from None
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{p}: the array must hold real numbers, got dtype {a.dtype}")
    shapes = _as_3d(a, p, "the array")
    _check_not_empty(shapes, p)
    return np.arange(shapes.shape[0]).astype(str), shapes, _default_resources(shapes.shape[1]), {}, {}, {}


_NPZ_ERRORS = (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile, zlib.error)


def _load_npz(p: Path) -> _Loaded:
    try:
        return _read_npz(p)
    except _NPZ_ERRORS as e:  # truncated or corrupt archive, an object array that would need pickle, ...
        if str(e).startswith(str(p)):
            raise
        raise ValueError(f"{p}: not a readable .npz file ({type(e).__name__}: {e})") from None


def _read_npz(p: Path) -> _Loaded:
    with open(p, "rb") as f, np.load(f, allow_pickle=False) as z:  # our handle: closed even when np.load fails
        if "shapes" not in z.files:
            raise ValueError(f"{p}: no array named 'shapes' (found {sorted(z.files)})")
        shapes = _as_3d(z["shapes"], p, "'shapes'")
        _check_not_empty(shapes, p)
        n, R = shapes.shape[:2]
        ids = z["ids"] if "ids" in z.files else np.arange(n).astype(str)
        resources = tuple(str(r) for r in np.atleast_1d(z["resources"])) if "resources" in z.files \
            else _default_resources(R)
        grid = {k: _scalar(z[k], p, k) for k in ("step_seconds", "start") if k in z.files}
        meta = {k[len("meta_"):]: z[k] for k in z.files if k.startswith("meta_")}
        info = {k[len("info_"):]: _scalar(z[k], p, k) for k in z.files if k.startswith("info_")}
    return ids, shapes, resources, grid, meta, info


def _scalar(a: np.ndarray, p: Path, name: str) -> int:
    if a.shape != () or a.dtype.kind not in "iu":
        raise ValueError(f"{p}: {name!r} must be an integer scalar, got dtype {a.dtype} shape {a.shape}")
    return int(a)


_LABEL_BLOCK = 1 << 16
_SPACE_AROUND_COMMA = re.compile(r"\s*,\s*")


def _step_labels(text: str, p: Path) -> Tuple[int, int]:
    """(first label, T) of the step columns, given as one comma-separated string.

    They must be consecutive integers from 0 (or from 1, as the Azure trace
    names its minutes). Checked a block at a time against the expected text,
    so that a header with millions of columns costs no list of millions of
    strings.
    """
    text = _SPACE_AROUND_COMMA.sub(",", text.strip())
    if not text:
        raise ValueError(f"{p}: no step columns after the id column(s)")
    T = text.count(",") + 1
    first = 1 if text.split(",", 1)[0] == "1" else 0
    pos = 0
    for a in range(0, T, _LABEL_BLOCK):
        want = ",".join(map(str, range(first + a, first + min(T, a + _LABEL_BLOCK))))
        end = pos + len(want)
        if text.startswith(want, pos) and (end == len(text) or text[end] == ","):
            pos = end + 1
            continue
        for i, w in enumerate(want.split(","), start=a):
            e = text.find(",", pos)
            e = len(text) if e < 0 else e
            if text[pos:e] != w:
                raise ValueError(f"{p}: step column {i + 1} of the header is {text[pos:e][:40]!r}, expected {w!r} "
                                 f"(wide layout: id[,resource],0,1,...)")
            pos = e + 1
    return first, T


def _first_is_id(first: str, p: Path) -> None:
    name = first.split(",", 1)[0].strip()
    if name != "id":
        raise ValueError(f"{p}: the first column must be 'id', got {name[:40]!r} "
                         f"(wide layout: id[,resource],0,1,...)")


def _layout(header: str, p: Path) -> Tuple[int, int, int]:
    """(number of text columns (1: id; 2: id,resource), first step label, T) after checking the header."""
    _first_is_id(header, p)
    head = header.split(",", 2)
    n_text = 2 if len(head) > 1 and head[1].strip() == "resource" else 1
    rest = header.split(",", n_text)
    first, T = _step_labels(rest[n_text] if len(rest) > n_text else "", p)
    return n_text, first, T


class _Labels(Sequence):
    """The step column names ``first .. first+T-1`` as strings, without a list of them."""

    def __init__(self, first: int, T: int) -> None:
        self.first, self.T = first, T

    def __len__(self) -> int:
        return self.T

    def __getitem__(self, j: Any) -> Any:  # an int only (slices are not asked for)
        if not 0 <= j < self.T:
            raise IndexError(j)
        return str(self.first + j)


def _stack(blocks: List[np.ndarray], cell: Optional[np.ndarray], n_cells: int) -> np.ndarray:
    """Rows of the float32 ``blocks`` (emptied on the way, so each is freed once copied) put at ``cell``."""
    if len(blocks) == 1 and (cell is None or np.array_equal(cell, np.arange(n_cells))):
        return blocks.pop()
    out = np.empty((n_cells, blocks[0].shape[1]), dtype=np.float32)
    lo = 0
    while blocks:
        b = blocks.pop(0)
        if cell is None:
            out[lo:lo + len(b)] = b
        else:
            out[cell[lo:lo + len(b)]] = b
        lo += len(b)
    return out


def _assemble(ids: np.ndarray, res: Optional[np.ndarray], blocks: List[np.ndarray], p: Path,
              where: Callable[[int], str]) -> Tuple[np.ndarray, np.ndarray, Tuple[str, ...]]:
    """(ids (n,), shapes (n, R, T), resources) from one row per shape (and resource), in first-seen order.

    ``blocks``: the rows' values, float32, in consecutive blocks; the list is
    emptied. ``where(i)``: where row ``i`` is in the file, for messages.
    """
    if res is None:
        _, first, counts = np.unique(ids, return_index=True, return_counts=True)
        if (counts > 1).any():
            dup = ids[first[counts > 1][0]]
            rows = np.flatnonzero(ids == dup)
            raise ValueError(f"{p}: id {str(dup)!r} appears more than once ({where(rows[0])} and {where(rows[1])})")
        return ids, _stack(blocks, None, len(ids)).reshape(len(ids), 1, -1), ("r0",)
    uid, id_first, id_pos = np.unique(ids, return_index=True, return_inverse=True)
    ures, res_first, res_pos = np.unique(res, return_index=True, return_inverse=True)
    # unique() sorts; rank by first appearance instead, to keep the file's order.
    id_rank = np.argsort(np.argsort(id_first))
    res_rank = np.argsort(np.argsort(res_first))
    n, R = len(uid), len(ures)
    cell = id_rank[id_pos.ravel()] * R + res_rank[res_pos.ravel()]
    counts = np.bincount(cell, minlength=n * R)
    if (counts > 1).any():
        c = int(np.flatnonzero(counts > 1)[0])
        rows = np.flatnonzero(cell == c)
        raise ValueError(f"{p}: id {str(ids[rows[0]])!r} has resource {str(res[rows[0]])!r} more than once "
                         f"({where(rows[0])} and {where(rows[1])})")
    if (counts == 0).any():
        c = int(np.flatnonzero(counts == 0)[0])
        id_of = uid[np.argsort(id_rank)][c // R]
        res_of = ures[np.argsort(res_rank)][c % R]
        raise ValueError(f"{p}: id {str(id_of)!r} has no row for resource {str(res_of)!r} "
                         f"(every id needs one row per resource)")
    shapes = _stack(blocks, cell, n * R)
    return uid[np.argsort(id_rank)], shapes.reshape(n, R, -1), tuple(str(r) for r in ures[np.argsort(res_rank)])


def _unquote_fields(ln: str, n_text: int, p: Path, lineno: int) -> Tuple[List[str], Optional[str]]:
    """The first ``n_text`` fields of ``ln``, RFC 4180 quotes removed, and the rest of the line (None if absent)."""
    fields: List[str] = []
    i = 0
    for _ in range(n_text):
        j = i
        while j < len(ln) and ln[j] in " \t":
            j += 1
        if ln.startswith('"', j):
            buf, k = [], j + 1
            while True:
                q = ln.find('"', k)
                if q < 0:
                    raise ValueError(f"{p}, line {lineno}: a quoted field is not closed")
                buf.append(ln[k:q])
                if ln.startswith('"', q + 1):  # "" inside quotes is one "
                    buf.append('"')
                    k = q + 2
                    continue
                break
            field = "".join(buf)
            e = ln.find(",", q + 1)
            after = ln[q + 1:] if e < 0 else ln[q + 1:e]
            if after.strip():
                raise ValueError(f"{p}, line {lineno}: text {after.strip()[:20]!r} after a closing quote")
        else:
            e = ln.find(",", i)
            field = (ln[i:] if e < 0 else ln[i:e]).strip()
        fields.append(field)
        if e < 0:
            return fields, None
        i = e + 1
    return fields, ln[i:]


def _split_row(ln: str, n_text: int, p: Path, lineno: int) -> Tuple[List[str], Optional[str]]:
    parts = ln.split(",", n_text)
    if any(q.lstrip().startswith('"') for q in parts[:n_text]):
        return _unquote_fields(ln, n_text, p, lineno)
    if len(parts) <= n_text:
        return [q.strip() for q in parts], None
    return [q.strip() for q in parts[:n_text]], parts[n_text]


def _load_csv(p: Path) -> _Loaded:
    with TextStream(p) as s:
        header = s.header(check=lambda first: _first_is_id(first, p))
        n_text, first, T = _layout(header, p)
        labels = _Labels(first, T)
        texts: List[List[str]] = [[] for _ in range(n_text)]
        blocks: List[np.ndarray] = []
        where: List[np.ndarray] = []
        for lines, linenos in s.chunks():
            rests = []
            for ln, k in zip(lines, linenos):
                fields, rest = _split_row(ln, n_text, p, k)
                if rest is None:
                    raise ValueError(f"{p}, line {k}: {len(fields)} field(s), expected {n_text + T} (as in the header)")
                for col, f in zip(texts, fields):
                    col.append(f)
                rests.append(rest)
            del lines
            counts = np.fromiter((r.count(",") for r in rests), dtype=np.int64, count=len(rests))
            bad = np.flatnonzero(counts != T - 1)
            if bad.size:
                i = int(bad[0])
                raise ValueError(f"{p}, line {linenos[i]}: {n_text + int(counts[i]) + 1} fields, "
                                 f"expected {n_text + T} (as in the header)")
            blocks.append(parse_numbers(rests, ",", labels, p, linenos, dtype=np.float32))
            where.append(np.asarray(linenos, dtype=np.int64))
            del rests
    if not blocks:
        raise ValueError(f"{p}: no rows after the header")
    linenos = np.concatenate(where)
    ids = np.array(texts[0], dtype=str)
    res = np.array(texts[1], dtype=str) if n_text == 2 else None
    del texts
    ids, shapes, resources = _assemble(ids, res, blocks, p, lambda i: f"line {int(linenos[i])}")
    return ids, shapes, resources, {}, {}, {}


_NEEDS_QUOTES = re.compile(r'[,"]|^\s|\s$|^$')


def _csv_field(text: str, p: Path, what: str) -> str:
    """``text`` as a CSV field: quoted (RFC 4180) when it has a comma, a quote or outer white space."""
    if "\n" in text or "\r" in text:
        raise ValueError(f"{p}: {what} {text!r} contains a line break and cannot be written to CSV")
    if _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def _save_csv(trace: ResourceTrace, p: Path) -> None:
    ids = [_csv_field(str(i), p, "id") for i in trace.ids.tolist()]
    names = [_csv_field(r, p, "resource name") for r in trace.resources]
    with_res = trace.resources != ("r0",)
    T = trace.T
    head = ["id", "resource"] if with_res else ["id"]
    fmt = ",".join(["%.9g"] * T)
    opener = gzip.open if p.name.lower().endswith(".gz") else open
    with opener(p, "wt", newline="") as f:
        f.write(",".join(head + [str(t) for t in range(T)]) + "\n")
        for i, sid in enumerate(ids):
            rows = trace.shapes[i].tolist()
            for r, name in enumerate(names):
                prefix = f"{sid},{name}," if with_res else f"{sid},"
                f.write(prefix + fmt % tuple(rows[r]) + "\n")


def _pyarrow() -> Tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError(_PYARROW_HINT) from None
    return pa, pq


def _load_parquet(p: Path) -> _Loaded:
    pa, pq = _pyarrow()
    try:
        table = pq.read_table(p)
    except (pa.ArrowException, OSError) as e:
        raise ValueError(f"{p}: not a readable .parquet file ({e})") from None
    names = list(table.column_names)
    if not names:
        raise ValueError(f"{p}: no columns")
    n_text = _layout(",".join(names), p)[0]
    if table.num_rows == 0:
        raise ValueError(f"{p}: no rows")
    for name in names[n_text:]:
        col = table.column(name)
        if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)):
            raise ValueError(f"{p}: column {name!r} is not numeric (type {col.type})")
        if col.null_count:
            raise ValueError(f"{p}: column {name!r} has {col.null_count} missing value(s)")
    values = np.empty((table.num_rows, len(names) - n_text), dtype=np.float32)
    for j, c in enumerate(names[n_text:]):
        try:
            values[:, j] = as_float32(table.column(c).to_numpy())
        except ValueError as e:
            raise ValueError(f"{p}: column {c!r}: {e}") from None
    ids = np.array([str(v) for v in table.column("id").to_pylist()], dtype=str)
    res = np.array([str(v) for v in table.column("resource").to_pylist()], dtype=str) if n_text == 2 else None
    ids, shapes, resources = _assemble(ids, res, [values], p, lambda i: f"row {i}")
    grid: Dict[str, int] = {}
    stored = (table.schema.metadata or {}).get(b"pyshape")
    if stored:
        doc = json.loads(stored)
        grid = {k: int(doc[k]) for k in ("step_seconds", "start") if k in doc}
    return ids, shapes, resources, grid, {}, {}


def _save_parquet(trace: ResourceTrace, p: Path) -> None:
    pa, pq = _pyarrow()
    n, R, T = trace.shapes.shape
    flat = trace.shapes.reshape(n * R, T)
    cols = {"id": pa.array(np.repeat(trace.ids.astype(str), R))}
    if trace.resources != ("r0",):
        cols["resource"] = pa.array(np.tile(np.array(trace.resources, dtype=str), n))
    for t in range(T):
        cols[str(t)] = pa.array(np.ascontiguousarray(flat[:, t]))
    table = pa.table(cols)
    doc = {"step_seconds": trace.step_seconds, "start": trace.start, "resources": list(trace.resources)}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"pyshape": json.dumps(doc).encode()})
    pq.write_table(table, p)
