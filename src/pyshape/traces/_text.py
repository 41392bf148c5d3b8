"""Reading delimited text files fast, with errors that name the file, the line and the column.

The loaders split off the few text columns (ids, triggers) themselves and
hand the numeric rest of every line to :func:`parse_numbers`, which uses
NumPy's C parser (integers first: it parses them several times faster than
floats) and only on failure walks the lines in Python to say where.

:class:`TextStream` reads a (gzipped) file as a header line, read with a
bounded read and checked before anything else, then chunks of lines, so that
a loader's peak memory follows the rows it keeps, not the size of the file.
"""
from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple, TypeVar, Union

import numpy as np
from numpy.typing import DTypeLike

#: A file name as the loaders take it.
PathArg = Union[str, "os.PathLike[str]"]
_R = TypeVar("_R")

_F32_MAX = float(np.finfo(np.float32).max)
_PIECE = 1 << 20          # header bytes read at a time; the check sees the first piece
_CHUNK = 4 << 20          # about this many bytes of lines per chunk
#: Default cap on the header line (a wide CSV with millions of step columns fits).
HEADER_LIMIT = 64 << 20
_GZIP_ERRORS = (OSError, EOFError, zlib.error)


def _mib(n: int) -> str:
    return f"{n / 2**20:g} MiB" if n >= 2**20 else f"{n / 2**10:g} KiB"


class TextStream:
    """A text file (gunzipped when its name ends in ``.gz``) as a header line, then chunks of lines.

    Use as a context manager. :meth:`header` returns the first non-blank
    line; :meth:`chunks` then yields ``(lines, linenos)``: the non-blank
    lines (str, no line end) and their 1-based numbers, about ``_CHUNK``
    bytes at a time. Every error (missing file, a folder, bad gzip, not
    UTF-8, an overlong header) is a FileNotFoundError / ValueError naming
    the file.
    """

    def __init__(self, path: PathArg) -> None:
        p = Path(path)
        if not p.exists():
            raise FileNotFoundError(f"{p}: no such file")
        if p.is_dir():
            raise ValueError(f"{p}: is a directory, expected a file")
        self.path = p
        self._raw = open(p, "rb")
        self._f = gzip.GzipFile(fileobj=self._raw, mode="rb") if p.name.lower().endswith(".gz") else self._raw
        self.lineno = 0

    def __enter__(self) -> "TextStream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._f is not self._raw:
            self._f.close()
        self._raw.close()

    def _read(self, fn: Callable[..., _R], *a: Any) -> _R:
        try:
            return fn(*a)
        except _GZIP_ERRORS as e:
            raise ValueError(f"{self.path}: not a valid gzip file ({e})") from None

    def _decode(self, b: bytes, lineno: int) -> str:
        try:
            return b.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ValueError(f"{self.path}, line {lineno}: not UTF-8 text ({e})") from None

    def header(self, *, limit: int = HEADER_LIMIT, check: Optional[Callable[[str], None]] = None) -> str:
        """The first non-blank line, stripped of its line end (and a UTF-8 BOM).

        ``check`` is called with the start of that line (its first piece, up
        to 1 MiB) before the rest is read, and raises to refuse the file
        early. A line longer than ``limit`` bytes is refused.
        """
        while True:
            pieces: List[bytes] = []
            size = 0
            while True:
                b = self._read(self._f.readline, min(_PIECE, limit + 1 - size))
                if not b:
                    break
                if not pieces and self.lineno == 0 and b.startswith(b"\xef\xbb\xbf"):
                    b = b[3:]
                pieces.append(b)
                size += len(b)
                if len(pieces) == 1 and check is not None and b.strip():
                    check(b.decode("utf-8", errors="replace").rstrip("\r\n"))
                if b.endswith(b"\n"):
                    break
                if size > limit:
                    raise ValueError(f"{self.path}, line {self.lineno + 1}: the header line is longer than "
                                     f"{_mib(limit)}")
            if not pieces:
                raise ValueError(f"{self.path}: empty file")
            self.lineno += 1
            line = self._decode(b"".join(pieces), self.lineno).rstrip("\r\n")
            if line.strip():
                return line

    def chunks(self, size: int = _CHUNK) -> Iterator[Tuple[List[str], List[int]]]:
        """``(lines, linenos)`` of the non-blank lines after the header, about ``size`` bytes at a time."""
        while True:
            raw = self._read(self._f.readlines, size)
            if not raw:
                return
            lines: List[str] = []
            linenos: List[int] = []
            n0 = self.lineno
            for k, b in enumerate(raw, start=n0 + 1):
                if b.strip():
                    lines.append(self._decode(b, k).rstrip("\r\n"))
                    linenos.append(k)
            self.lineno = n0 + len(raw)
            del raw
            if lines:
                yield lines, linenos

    def rest(self) -> bytes:
        """Everything after the header line, as bytes."""
        return self._read(self._f.read)


def read_lines(path: PathArg, *, header_limit: int = HEADER_LIMIT,
               check: Optional[Callable[[str], None]] = None) -> Tuple[str, List[str], List[int]]:
    """Header line, the non-blank data lines and their 1-based line numbers in the file.

    The header is read first with a bounded read and given to ``check``
    (see :meth:`TextStream.header`).
    """
    with TextStream(path) as s:
        header = s.header(limit=header_limit, check=check)
        lines: List[str] = []
        linenos: List[int] = []
        for ls, ns in s.chunks():
            lines += ls
            linenos += ns
    return header, lines, linenos


def check_field_counts(lines: Sequence[str], delimiter: str, n_fields: int, path: PathArg,
                       linenos: Sequence[int]) -> None:
    """Raise ValueError at the first line that does not have ``n_fields`` fields."""
    want = n_fields - 1
    counts = np.fromiter((ln.count(delimiter) for ln in lines), dtype=np.int64, count=len(lines))
    bad = np.flatnonzero(counts != want)
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{path}, line {linenos[i]}: {counts[i] + 1} fields, expected {n_fields} "
                         f"(as in the header); {bad.size} such line(s)")


def parse_numbers(lines: Sequence[str], delimiter: str, names: Sequence[str], path: PathArg, linenos: Sequence[int],
                  usecols: Sequence[int] | None = None, dtype: DTypeLike = np.float64) -> np.ndarray:
    """Parse delimited numeric ``lines`` into a ``(len(lines), k)`` array of ``dtype``.

    ``names`` are the column names (for messages), one per parsed column when
    ``usecols`` is given, else one per field. Every line must already have
    the right number of fields (:func:`check_field_counts`).
    """
    if not len(lines):
        return np.zeros((0, len(names)), dtype=dtype)
    kw: dict[str, Any] = dict(delimiter=delimiter, ndmin=2, usecols=usecols, comments=None)
    try:
        a = np.loadtxt(lines, dtype=np.int64, **kw)
    except (ValueError, OverflowError):
        a = None
    if a is None:
        try:
            a = np.loadtxt(lines, dtype=np.float64, **kw)
        except ValueError as e:
            first_error = str(e)
    if a is not None:
        if np.dtype(dtype) == np.float32:
            big = np.abs(a) > _F32_MAX
            big &= np.isfinite(a) if a.dtype.kind == "f" else True
            if big.any():
                i, j = np.argwhere(big)[0]
                raise ValueError(f"{path}, line {linenos[i]}: value {a[i, j].item():g} in column {names[j]!r} "
                                 f"is beyond the float32 range (+-3.4e38)")
        return a.astype(dtype, copy=False)
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
