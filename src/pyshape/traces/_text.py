"""Reading delimited text files fast, with errors that name the file, the line and the column.

The loaders split off the few text columns (ids, triggers) themselves and
hand the numeric rest of every line to :func:`parse_numbers`, which uses
NumPy's C parser (integers first: it parses them several times faster than
floats) and only on failure walks the lines in Python to say where.
"""
from __future__ import annotations

import gzip
from pathlib import Path
from typing import List, Sequence, Tuple

import numpy as np


def read_bytes(path) -> bytes:
    """The bytes of ``path``, gunzipped when its name ends in ``.gz``.

    Raises FileNotFoundError / ValueError naming the file when it is missing,
    a directory, not valid gzip, or empty.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    if p.is_dir():
        raise ValueError(f"{p}: is a directory, expected a file")
    data = p.read_bytes()
    if p.name.lower().endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise ValueError(f"{p}: not a valid gzip file ({e})") from None
    if not data.strip():
        raise ValueError(f"{p}: empty file")
    return data


def read_lines(path) -> Tuple[str, List[str], List[int]]:
    """Header line, the non-blank data lines and their 1-based line numbers in the file."""
    raw = read_bytes(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not a UTF-8 text file ({e})") from None
    lines = text.splitlines()
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is None:
        raise ValueError(f"{path}: empty file")
    body = [(i + 1, ln) for i, ln in enumerate(lines[first + 1:], start=first + 1) if ln.strip()]
    return lines[first], [ln for _, ln in body], [i for i, _ in body]


def check_field_counts(lines: Sequence[str], delimiter: str, n_fields: int, path, linenos: Sequence[int]) -> None:
    """Raise ValueError at the first line that does not have ``n_fields`` fields."""
    want = n_fields - 1
    counts = np.fromiter((ln.count(delimiter) for ln in lines), dtype=np.int64, count=len(lines))
    bad = np.flatnonzero(counts != want)
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{path}, line {linenos[i]}: {counts[i] + 1} fields, expected {n_fields} "
                         f"(as in the header); {bad.size} such line(s)")


def parse_numbers(lines: Sequence[str], delimiter: str, names: Sequence[str], path, linenos: Sequence[int],
                  usecols: Sequence[int] | None = None, dtype=np.float64) -> np.ndarray:
    """Parse delimited numeric ``lines`` into a ``(len(lines), k)`` array of ``dtype``.

    ``names`` are the column names (for messages), one per parsed column when
    ``usecols`` is given, else one per field. Every line must already have
    the right number of fields (:func:`check_field_counts`).
    """
    if not len(lines):
        return np.zeros((0, len(names)), dtype=dtype)
    kw = dict(delimiter=delimiter, ndmin=2, usecols=usecols, comments=None)
    try:
        return np.loadtxt(lines, dtype=np.int64, **kw).astype(dtype)
    except (ValueError, OverflowError):
        pass
    try:
        return np.loadtxt(lines, dtype=np.float64, **kw).astype(dtype, copy=False)
    except ValueError as e:
        first_error = str(e)
    cols = list(usecols) if usecols is not None else None
    for i, ln in enumerate(lines):
        fields = ln.split(delimiter)
        for j, name in enumerate(names):
            v = fields[cols[j] if cols is not None else j]
            try:
                float(v)
            except ValueError:
                raise ValueError(f"{path}, line {linenos[i]}: non-numeric value {v.strip()!r} in column "
                                 f"{name!r}") from None
    raise ValueError(f"{path}: could not parse the numbers ({first_error})")
