"""Bitbrains (GWA-T-12) per-VM files as CPU and memory shapes on one time grid."""
from __future__ import annotations

import io
import os
from importlib import resources as _resources
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from pyshape._progress import ProgressArg, progress_callback
from pyshape.traces._text import TextStream, check_field_counts, parse_numbers
from pyshape.traces._trace import ResourceTrace, plain

__all__ = ["load_bitbrains", "load_bitbrains_sample"]

_DAY = 86400
# Header names of the columns used, as in every Bitbrains file (";" + TAB separated).
_COLUMNS = ("Timestamp [ms]", "CPU usage [MHZ]", "Memory usage [KB]")
_FILE_SUFFIXES = (".csv", ".csv.gz")
_HEADER_LIMIT = 64 << 10  # a Bitbrains header is about 150 bytes
#: Without ``max_steps``, a grid may have this many days of steps, or more when the rows justify it ...
_FREE_DAYS = 31
#: ... up to this many steps per data row of the VM with the most rows.
_STEPS_PER_ROW = 16

PathArg = Union[str, "os.PathLike[str]"]


def load_bitbrains(path: Union[PathArg, Sequence[PathArg]], *, step_seconds: int = 300, max_gap_steps: int = 3,
                   vms: Optional[Iterable[Union[str, int]]] = None, max_steps: Optional[int] = None,
                   progress: ProgressArg = False) -> ResourceTrace:
    """Load Bitbrains (GWA-T-12) per-VM files ``<vm>.csv[.gz]`` as CPU and memory shapes.

    Every VM's samples (about every 300 s, each VM with its own offset) are put
    on one grid of ``step_seconds`` steps starting at UTC midnight of the
    earliest sample of all VMs and ending with the step of the latest: a
    sample goes to step ``floor((ts - start) / step)`` (row order does not
    matter), two or more samples in one step keep the largest value of each
    resource, a gap of at most ``max_gap_steps`` empty steps between two
    samples repeats the sample before it, and steps before a VM's first
    sample, after its last one or in longer gaps are 0. Negative values are
    clipped to 0 (and counted); rows with a NaN or infinite value are dropped.

    The time span is checked before any grid is sized: timestamps far apart
    with few rows (a stray 0, a year-2100 typo) would otherwise ask for a
    grid of millions of steps. Without ``max_steps`` the grid may span
    31 days, or more when the rows justify it: up to 16 steps per data row
    of the VM with the most rows (a month of 5-minute samples justifies
    about 16 months).

    Parameters
    ----------
    path : str or path-like, or a sequence of them
        A folder holding ``1.csv.gz``, ``2.csv.gz``, ... (``;``+TAB
        separated, Bitbrains header; the "Timestamp [ms]" column is in Unix
        seconds despite its name), one such file, or a list of files.
    step_seconds : int, default 300
        Grid step; must divide a day.
    max_gap_steps : int, default 3
        Longest run of empty steps that is filled; 0 fills nothing.
    vms : iterable of str or int, optional
        Only these VMs (file names before the first dot), in this order.
    max_steps : int, optional
        Largest grid (number of steps) to build; default: the limit above.
        Pass a larger number to load a sparse trace over a long span anyway.
    progress : bool or callable, default False
        True: a bar on stderr (when it is a terminal) while the files are
        read; a callable is called as ``f(files_read, files)``.

    Returns
    -------
    ResourceTrace
        ``resources = ('cpu_mhz', 'mem_gb')``: CPU usage in MHz and memory
        usage in GiB (KB / 2**20). Ids are the file names before the first
        dot; a folder's files are sorted numerically, a list keeps its order.
        ``meta``: ``filled`` and ``missing`` (n, T) bool (steps repeated over
        a short gap; steps set to 0 for lack of a sample; their row sums are
        the per-VM counts) and ``rows`` (n,) (data rows in each file).
        ``info``: ``rows``, ``duplicate_rows`` (rows in a step that already
        had one, exact repeats included), ``out_of_order_rows`` (rows older
        than the row before), ``nonfinite_rows`` (dropped),
        ``negative_rows`` (rows with a negative CPU or memory value, clipped
        to 0), ``filled_steps``,
        ``missing_steps``, ``vms_empty`` (files with no data row, kept as
        rows of zeros) and ``vms_short`` (VMs with no whole day of the grid
        fully covered by samples and filled steps).

    Raises
    ------
    FileNotFoundError
        If the path, a listed file or a requested VM does not exist, or a
        folder has no ``<vm>.csv[.gz]`` files.
    ValueError
        If a file is empty or not a Bitbrains file, has a row with the wrong
        number of fields or a non-numeric value, timestamps look like
        milliseconds or span more steps than the limit above (``max_steps``),
        no file has a data row, ids repeat, or the step, gap or ``max_steps``
        arguments are invalid.

    Notes
    -----
    With pandas installed its CSV parser is used as a speed-up (same result);
    otherwise NumPy's.

    Examples
    --------
    >>> from pyshape.traces import load_bitbrains_sample
    >>> tr = load_bitbrains_sample()
    >>> tr.n, tr.resources, tr.n_days, tr.day(3).shapes.shape
    (250, ('cpu_mhz', 'mem_gb'), 7, (250, 2, 288))
    """
    if isinstance(step_seconds, bool) or not isinstance(step_seconds, (int, np.integer)) \
            or step_seconds <= 0 or _DAY % step_seconds:
        raise ValueError(f"step_seconds must be a positive integer that divides a day (86400 s), "
                         f"got {plain(step_seconds)!r}")
    if isinstance(max_gap_steps, bool) or not isinstance(max_gap_steps, (int, np.integer)) or max_gap_steps < 0:
        raise ValueError(f"max_gap_steps must be a non-negative integer, got {plain(max_gap_steps)!r}")
    if max_steps is not None and (isinstance(max_steps, bool) or not isinstance(max_steps, (int, np.integer))
                                  or max_steps < 1):
        raise ValueError(f"max_steps must be a positive integer, got {plain(max_steps)!r}")
    step = int(step_seconds)
    files = _vm_files(path, vms)
    with progress_callback(progress, "reading files") as cb:
        series = []
        for i, (_, p) in enumerate(files):
            series.append(_read_vm(p))
            if cb is not None:
                cb(i + 1, len(files))
    n_rows = np.array([len(a) for a in series], dtype=np.int64)
    finite = [np.isfinite(a).all(axis=1) for a in series]
    nonfinite = int(sum(int((~f).sum()) for f in finite))
    series = [a[f] for a, f in zip(series, finite)]
    negative = int(sum(int((a[:, 1:] < 0).any(axis=1).sum()) for a in series))
    nonempty = [a for a in series if len(a)]
    if not nonempty:
        raise ValueError(f"{path}: no data rows in any of the {len(files)} file(s)")
    t0 = min(float(a[:, 0].min()) for a in nonempty)
    t1 = max(float(a[:, 0].max()) for a in nonempty)
    if t1 > 1e11:
        raise ValueError(f"{path}: timestamps up to {t1:.0f} look like milliseconds; Bitbrains files hold Unix seconds")
    start = int(t0 // _DAY) * _DAY
    T = int((t1 - start) // step) + 1
    most_rows = max(len(a) for a in nonempty)
    limit = max(_FREE_DAYS * (_DAY // step), _STEPS_PER_ROW * most_rows) if max_steps is None else int(max_steps)
    if T > limit:
        why = (f"more than {_FREE_DAYS} days and more than {_STEPS_PER_ROW} steps per row of the fullest VM "
               f"({most_rows} rows)") if max_steps is None else f"more than max_steps={limit}"
        raise ValueError(f"{path}: timestamps from {t0:.0f} to {t1:.0f} s span {(t1 - t0) / _DAY:.4g} days, "
                         f"a grid of {T} steps of {step} s: {why}; a stray or mistyped timestamp? "
                         f"(pass max_steps= to load it anyway)")

    n = len(files)
    shapes = np.zeros((n, 2, T), dtype=np.float32)
    have = np.zeros((n, T), dtype=bool)
    duplicates = out_of_order = 0
    for i, a in enumerate(series):
        if not len(a):
            continue
        ts = a[:, 0]
        out_of_order += int((ts[1:] < ts[:-1]).sum())
        k = ((ts - start) // step).astype(np.int64)
        order = np.argsort(k, kind="stable")
        ks = k[order]
        first = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
        duplicates += len(ks) - len(first)
        vals = np.stack([a[order, 1], a[order, 2] / 2.0**20], axis=1)  # MHz, GiB
        peak = np.maximum.reduceat(vals, first, axis=0)
        shapes[i, :, ks[first]] = np.maximum(peak, 0.0)
        have[i, ks[first]] = True

    filled = _fill_short_gaps(shapes, have, max_gap_steps)
    missing = ~have & ~filled
    covered = (have | filled)[:, : (T // (_DAY // step)) * (_DAY // step)].reshape(n, -1, _DAY // step)
    short = ~covered.all(axis=2).any(axis=1)
    info = {"rows": int(n_rows.sum()), "duplicate_rows": duplicates, "out_of_order_rows": out_of_order,
            "nonfinite_rows": nonfinite, "negative_rows": negative, "filled_steps": int(filled.sum()),
            "missing_steps": int(missing.sum()),
            "vms_empty": int((n_rows == 0).sum()), "vms_short": int(short.sum())}
    ids = np.array([vm for vm, _ in files])
    return ResourceTrace(ids, shapes, ("cpu_mhz", "mem_gb"), step, start,
                         {"filled": filled, "missing": missing, "rows": n_rows}, info)


def load_bitbrains_sample(*, step_seconds: int = 300, max_gap_steps: int = 3,
                          vms: Optional[Iterable[Union[str, int]]] = None) -> ResourceTrace:
    """The bundled Bitbrains Rnd sample: 250 VMs, 7 whole UTC days (2013-07-01 to 2013-07-08).

    Real data (GWA-T-12, Shen, van Beek, Iosup, CCGrid 2015); see
    ``pyshape/data/bitbrains_rnd_2013_07/README.md`` for its source and how it
    was cut. Loaded by :func:`load_bitbrains` (same grid, ``meta`` and
    ``info``); 48 of the VMs have no sample in that week and are rows of zeros.

    Examples
    --------
    >>> from pyshape.traces import load_bitbrains_sample
    >>> tr = load_bitbrains_sample()
    >>> tr.shapes.shape, tr.info["vms_empty"]
    ((250, 2, 2016), 48)
    """
    folder = Path(str(_resources.files("pyshape") / "data" / "bitbrains_rnd_2013_07"))
    return load_bitbrains(folder, step_seconds=step_seconds, max_gap_steps=max_gap_steps, vms=vms)


def _vm_id(p: Path) -> str:
    return p.name.split(".")[0]


def _vm_files(path: Union[PathArg, Sequence[PathArg]],
              vms: Optional[Iterable[Union[str, int]]]) -> List[Tuple[str, Path]]:
    """(id, file) pairs to load, in output order."""
    if isinstance(path, (str, os.PathLike)):
        p = Path(path)
        if not p.exists():
            raise FileNotFoundError(f"{p}: no such file or folder")
        if p.is_dir():
            found = [q for q in p.iterdir() if q.is_file() and q.name.endswith(_FILE_SUFFIXES)]
            if not found:
                raise FileNotFoundError(f"{p}: no <vm>.csv or <vm>.csv.gz files in this folder")
            found.sort(key=lambda q: (0, int(_vm_id(q)), q.name) if _vm_id(q).isdigit() else (1, 0, q.name))
        else:
            found = [p]
    else:
        found = [Path(q) for q in path]
        if not found:
            raise ValueError("no Bitbrains files given (empty list)")
        for q in found:
            if not q.is_file():
                raise FileNotFoundError(f"{q}: no such file")
    pairs = [(_vm_id(q), q) for q in found]
    ids = [vm for vm, _ in pairs]
    if len(set(ids)) != len(ids):
        dup = sorted({vm for vm in ids if ids.count(vm) > 1})
        raise ValueError(f"VM ids (file names before the first dot) repeat: {dup[:5]}")
    if vms is None:
        return pairs
    by_id = dict(pairs)
    want = [str(v) for v in vms]
    absent = [v for v in want if v not in by_id]
    if absent:
        raise FileNotFoundError(f"{path}: no file for VM(s) {absent[:5]}")
    return [(v, by_id[v]) for v in want]


def _check_header(header: str, p: Path) -> None:
    names = [h.strip() for h in header.split(";")]
    if any(c not in names for c in _COLUMNS):
        raise ValueError(f"{p}: not a Bitbrains file: the header needs columns {list(_COLUMNS)}, "
                         f"got {header[:80]!r}")


def _read_vm(p: Path) -> np.ndarray:
    """The (rows, 3) float64 array of timestamp (s), CPU usage (MHz) and memory usage (KB) of one file."""
    with TextStream(p) as s:
        try:
            header = s.header(limit=_HEADER_LIMIT)  # read and checked before the rest of the file
        except ValueError as e:
            if "longer than" not in str(e):
                raise
            raise ValueError(f"{e}: not a Bitbrains file") from None
        _check_header(header, p)
        head_lines = s.lineno
        body = s.rest()
    names = [h.strip() for h in header.split(";")]
    cols = [names.index(c) for c in _COLUMNS]
    # Fast paths only when every line can have the header's number of fields
    # (the parsers below would pad short lines or ignore extra fields); with
    # this total right, a long line implies a short one, which gives NaN in
    # pandas and an error in NumPy, and both then go to the checked path.
    n_lines = body.count(b"\n") + (bool(body) and not body.endswith(b"\n"))
    if body.count(b";") == header.count(";") * n_lines:
        if n_lines == 0:
            return np.zeros((0, len(_COLUMNS)))
        a = _read_vm_pandas(body, cols)
        if a is not None:
            return a
        try:
            lines = body.decode("utf-8").splitlines()
            return np.loadtxt(lines, delimiter=";", usecols=cols, ndmin=2, comments=None, dtype=np.float64)
        except ValueError:
            pass
    # Checked path: skips blank lines and names the line of any problem.
    text = body.decode("utf-8", errors="replace").splitlines()
    del body
    numbered = [(i, ln) for i, ln in enumerate(text, start=head_lines + 1) if ln.strip()]
    lines, linenos = [ln for _, ln in numbered], [i for i, _ in numbered]
    check_field_counts(lines, ";", len(names), p, linenos)
    return parse_numbers(lines, ";", _COLUMNS, p, linenos, usecols=cols)


def _read_vm_pandas(body: bytes, cols: Sequence[int]) -> Optional[np.ndarray]:
    """pandas' faster parse when installed and the file is clean, else None (the caller falls back to NumPy)."""
    try:
        import pandas as pd
    except ImportError:
        return None
    try:
        df = pd.read_csv(io.BytesIO(body), sep=";", header=None, usecols=list(cols), dtype=np.float64,
                         engine="c", index_col=False)
    except Exception:  # any parse problem: the NumPy paths find and name it
        return None
    if len(df.columns) != len(cols):
        return None
    # pandas returns the columns in file order; put them back in the order asked.
    a = df.to_numpy(np.float64)[:, np.argsort(np.argsort(cols))]
    if not np.isfinite(a).all():
        return None  # a short line (NaN) or a textual NaN: NumPy decides
    return np.ascontiguousarray(a)


def short_gaps(have: np.ndarray, max_gap: int) -> Tuple[np.ndarray, np.ndarray]:
    """The empty steps ``(n, T)`` of runs of at most ``max_gap`` between two samples, and for every
    step the last sampled step at or before it (-1 when none): what every gap filler needs."""
    n, T = have.shape
    idx = np.arange(T)
    prev = np.maximum.accumulate(np.where(have, idx, -1), axis=1)
    if max_gap == 0 or T < 3:
        return np.zeros_like(have), prev
    nxt = np.minimum.accumulate(np.where(have, idx, T)[:, ::-1], axis=1)[:, ::-1]
    return ~have & (prev >= 0) & (nxt < T) & (nxt - prev - 1 <= max_gap), prev


def _fill_short_gaps(shapes: np.ndarray, have: np.ndarray, max_gap: int) -> np.ndarray:
    """Repeat the sample before each run of at most ``max_gap`` empty steps (in place); return the filled mask."""
    filled, prev = short_gaps(have, max_gap)
    if not filled.any():
        return filled
    src = np.where(filled, prev, np.arange(have.shape[1]))
    for r in range(shapes.shape[1]):
        shapes[:, r, :] = np.take_along_axis(shapes[:, r, :], src, axis=1)
    return filled
