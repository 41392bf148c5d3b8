"""Shapes in and out of files: ``.npy``, ``.npz``, wide ``.csv`` / ``.csv.gz``, ``.parquet``, Bitbrains folders.

Wide layout (CSV and Parquet): a header ``id,0,1,...,T-1`` and one row per
shape, or ``id,resource,0,1,...,T-1`` and one row per shape and resource.
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

from pyshape.traces._text import check_field_counts, parse_numbers, read_lines
from pyshape.traces._trace import ResourceTrace

__all__ = ["load_shapes", "save_shapes"]

FORMATS = (".npy", ".npz", ".csv", ".csv.gz", ".parquet")
_DEFAULT_STEP = 60
_PYARROW_HINT = "reading or writing .parquet needs pyarrow (pip install pyarrow)"


def load_shapes(path, *, mmap: bool = True, step_seconds: Optional[int] = None,
                start: Optional[int] = None) -> ResourceTrace:
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
      Azure trace). Rows of one shape need not be adjacent.
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

    Returns
    -------
    ResourceTrace

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the suffix is unknown or the file is empty, has wrong columns,
        ragged rows, non-numeric values, missing or repeated (id, resource)
        rows, or arrays of the wrong shape; the message names the file.
    TypeError
        If a ``.npy`` / ``.npz`` array does not hold real numbers.
    ImportError
        For ``.parquet`` without pyarrow.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from pyshape.traces import load_shapes, save_shapes, ResourceTrace
    >>> tr = ResourceTrace(np.array(["a", "b"]), np.arange(6.0).reshape(2, 1, 3), ("cpu",), 300, 0)
    >>> p = os.path.join(tempfile.mkdtemp(), "x.csv")
    >>> _ = save_shapes(tr, p)
    >>> open(p).read().splitlines()
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
        return load_bitbrains(p, step_seconds=300 if step_seconds is None else step_seconds)
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
        return ResourceTrace(ids, shapes, resources, step, t0, meta, info)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{p}: {e}") from None


def save_shapes(trace: ResourceTrace, path) -> Path:
    """Write a trace in the format given by the suffix of ``path``; return the path.

    - ``.npy``: ``shapes`` only, ``(n, T)`` when R == 1, else ``(n, R, T)``.
    - ``.npz``: ``shapes``, ``ids``, ``resources``, ``step_seconds``,
      ``start``, every ``meta`` column as ``meta_<name>`` and ``info`` entry as
      ``info_<name>`` (text as fixed-width strings, never pickled objects).
    - ``.csv`` / ``.csv.gz``: the wide layout, values written with 9
      significant digits (float32 round-trips exactly); the ``resource``
      column is written unless the trace has the single default resource
      ``'r0'``. Ids must not contain commas or line breaks.
    - ``.parquet``: the same wide layout (float32 columns), the grid and the
      resource names in the file's metadata (needs pyarrow).

    Raises
    ------
    ValueError
        If the suffix is unknown or an id cannot be written to CSV.
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


def _load_npy(p: Path, mmap: bool):
    try:
        a = np.load(p, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise ValueError(f"{p}: not a readable .npy file ({e})") from None
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{p}: the array must hold real numbers, got dtype {a.dtype}")
    shapes = _as_3d(a, p, "the array")
    _check_not_empty(shapes, p)
    return np.arange(shapes.shape[0]).astype(str), shapes, _default_resources(shapes.shape[1]), {}, {}, {}


def _load_npz(p: Path):
    try:
        z = np.load(p, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise ValueError(f"{p}: not a readable .npz file ({e})") from None
    with z:
        if "shapes" not in z.files:
            raise ValueError(f"{p}: no array named 'shapes' (found {sorted(z.files)})")
        try:
            shapes = _as_3d(z["shapes"], p, "'shapes'")
            _check_not_empty(shapes, p)
            n, R = shapes.shape[:2]
            ids = z["ids"] if "ids" in z.files else np.arange(n).astype(str)
            resources = tuple(str(r) for r in np.atleast_1d(z["resources"])) if "resources" in z.files \
                else _default_resources(R)
            grid = {k: _scalar(z[k], p, k) for k in ("step_seconds", "start") if k in z.files}
            meta = {k[len("meta_"):]: z[k] for k in z.files if k.startswith("meta_")}
            info = {k[len("info_"):]: _scalar(z[k], p, k) for k in z.files if k.startswith("info_")}
        except ValueError as e:  # e.g. an object array that would need pickle
            if str(e).startswith(str(p)):
                raise
            raise ValueError(f"{p}: {e}") from None
    return ids, shapes, resources, grid, meta, info


def _scalar(a: np.ndarray, p: Path, name: str) -> int:
    if a.shape != () or a.dtype.kind not in "iu":
        raise ValueError(f"{p}: {name!r} must be an integer scalar, got dtype {a.dtype} shape {a.shape}")
    return int(a)


def _step_labels(labels: List[str], p: Path) -> None:
    """Step columns must be consecutive integers from 0 (or from 1, as the Azure trace names its minutes)."""
    if not labels:
        raise ValueError(f"{p}: no step columns after the id column(s)")
    first = labels[0] if labels[0] in ("0", "1") else "0"
    want = [str(i) for i in range(int(first), int(first) + len(labels))]
    if labels != want:
        bad = next(i for i, (a, b) in enumerate(zip(labels, want)) if a != b)
        raise ValueError(f"{p}: step column {bad + 1} of the header is {labels[bad]!r}, expected {want[bad]!r} "
                         f"(wide layout: id[,resource],0,1,...)")


def _layout(names: List[str], p: Path) -> int:
    """Number of text columns (1: id; 2: id,resource) after checking the header."""
    if names[0] != "id":
        raise ValueError(f"{p}: the first column must be 'id', got {names[0]!r} "
                         f"(wide layout: id[,resource],0,1,...)")
    n_text = 2 if len(names) > 1 and names[1] == "resource" else 1
    _step_labels(names[n_text:], p)
    return n_text


def _assemble(ids: np.ndarray, res: Optional[np.ndarray], values: np.ndarray, p: Path,
              where: List[str]) -> Tuple[np.ndarray, np.ndarray, Tuple[str, ...]]:
    """(ids (n,), shapes (n, R, T), resources) from one row per shape (and resource), in first-seen order."""
    if res is None:
        _, first, counts = np.unique(ids, return_index=True, return_counts=True)
        if (counts > 1).any():
            dup = ids[first[counts > 1][0]]
            rows = np.flatnonzero(ids == dup)
            raise ValueError(f"{p}: id {str(dup)!r} appears more than once ({where[rows[0]]} and {where[rows[1]]})")
        return ids, values.reshape(len(ids), 1, -1), ("r0",)
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
                         f"({where[rows[0]]} and {where[rows[1]]})")
    if (counts == 0).any():
        c = int(np.flatnonzero(counts == 0)[0])
        id_of = uid[np.argsort(id_rank)][c // R]
        res_of = ures[np.argsort(res_rank)][c % R]
        raise ValueError(f"{p}: id {str(id_of)!r} has no row for resource {str(res_of)!r} "
                         f"(every id needs one row per resource)")
    shapes = np.empty((n * R, values.shape[1]), dtype=np.float32)
    shapes[cell] = values
    return uid[np.argsort(id_rank)], shapes.reshape(n, R, -1), tuple(str(r) for r in ures[np.argsort(res_rank)])


def _load_csv(p: Path):
    header, lines, linenos = read_lines(p)
    names = [h.strip() for h in header.split(",")]
    n_text = _layout(names, p)
    if not lines:
        raise ValueError(f"{p}: no rows after the header")
    check_field_counts(lines, ",", len(names), p, linenos)
    parts = [ln.split(",", n_text) for ln in lines]
    values = parse_numbers([q[n_text] for q in parts], ",", names[n_text:], p, linenos)
    ids = np.array([q[0].strip() for q in parts], dtype=str)
    res = np.array([q[1].strip() for q in parts], dtype=str) if n_text == 2 else None
    ids, shapes, resources = _assemble(ids, res, values, p, [f"line {i}" for i in linenos])
    return ids, shapes, resources, {}, {}, {}


def _save_csv(trace: ResourceTrace, p: Path) -> None:
    ids = [str(i) for i in trace.ids.tolist()]
    bad = next((i for i in ids if "," in i or "\n" in i or "\r" in i), None)
    if bad is not None:
        raise ValueError(f"{p}: id {bad!r} contains a comma or line break and cannot be written to CSV")
    with_res = trace.resources != ("r0",)
    T = trace.T
    head = ["id", "resource"] if with_res else ["id"]
    fmt = ",".join(["%.9g"] * T)
    opener = gzip.open if p.name.lower().endswith(".gz") else open
    with opener(p, "wt", newline="") as f:
        f.write(",".join(head + [str(t) for t in range(T)]) + "\n")
        for i, sid in enumerate(ids):
            rows = trace.shapes[i].tolist()
            for r, name in enumerate(trace.resources):
                prefix = f"{sid},{name}," if with_res else f"{sid},"
                f.write(prefix + fmt % tuple(rows[r]) + "\n")


def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError(_PYARROW_HINT) from None
    return pa, pq


def _load_parquet(p: Path):
    pa, pq = _pyarrow()
    try:
        table = pq.read_table(p)
    except (pa.ArrowException, OSError) as e:
        raise ValueError(f"{p}: not a readable .parquet file ({e})") from None
    names = list(table.column_names)
    if not names:
        raise ValueError(f"{p}: no columns")
    n_text = _layout(names, p)
    if table.num_rows == 0:
        raise ValueError(f"{p}: no rows")
    for name in names[n_text:]:
        col = table.column(name)
        if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)):
            raise ValueError(f"{p}: column {name!r} is not numeric (type {col.type})")
        if col.null_count:
            raise ValueError(f"{p}: column {name!r} has {col.null_count} missing value(s)")
    values = np.column_stack([table.column(c).to_numpy().astype(np.float32, copy=False) for c in names[n_text:]])
    ids = np.array([str(v) for v in table.column("id").to_pylist()], dtype=str)
    res = np.array([str(v) for v in table.column("resource").to_pylist()], dtype=str) if n_text == 2 else None
    ids, shapes, resources = _assemble(ids, res, values, p, [f"row {i}" for i in range(table.num_rows)])
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
