"""What every subcommand shares: one-line errors, input loading, output tables, progress."""
from __future__ import annotations

import gzip
import sys
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np


class CliError(Exception):
    """Bad input from the user: reported as one line on stderr, exit status 1."""


def say(args, message: str) -> None:
    """A message for the user on stderr (nothing with ``--quiet``)."""
    if not getattr(args, "quiet", False):
        print(message, file=sys.stderr)


def show_progress(args) -> bool:
    """Progress bars go to stderr, only to a terminal and never with ``--quiet``."""
    return not getattr(args, "quiet", False) and sys.stderr.isatty()


#: Inputs whose format records no step length: evaluate and report need --step-seconds for them.
_NO_STEP = (".npy", ".csv", ".csv.gz")


def _is_azure(p: Path) -> bool:
    """An Azure Functions 2019 invocations file (real per-day format or the bundled sample)?"""
    if not p.is_file() or not p.name.lower().endswith((".csv", ".csv.gz")):
        return False
    opener = gzip.open if p.name.lower().endswith(".gz") else open
    try:
        with opener(p, "rt") as f:
            head = f.readline()
    except (OSError, UnicodeDecodeError):
        return False
    cols = head.strip().split(",")
    return "HashFunction" in cols and "Trigger" in cols


def load_trace(path: str, *, step_seconds: Optional[int] = None, need_step: bool = False):
    """A :class:`pyshape.traces.ResourceTrace` from any supported file or folder, or a CliError.

    An Azure Functions invocations file is read with its duration and memory
    files beside it (concurrency and memory shapes); a folder as Bitbrains VM
    files resampled to ``step_seconds``. ``need_step``: the caller slices
    days, so a format that records no step needs ``--step-seconds``.
    """
    from pyshape.traces import load_azure_functions, load_shapes

    if step_seconds is not None and step_seconds <= 0:
        raise CliError(f"--step-seconds must be positive, got {step_seconds}")
    p = Path(path)
    if not p.exists():
        raise CliError(f"{path}: no such file or folder")
    try:
        if _is_azure(p):
            tr = load_azure_functions(p, **({} if step_seconds is None else {"step_seconds": step_seconds}))
        else:
            if need_step and step_seconds is None and p.name.lower().endswith(_NO_STEP):
                raise CliError(f"{path}: this format does not record the step length; "
                               f"pass --step-seconds (e.g. 60 or 300)")
            tr = load_shapes(p, step_seconds=step_seconds)
    except FileNotFoundError as e:
        msg = str(e)
        raise CliError(msg if str(path) in msg else f"{path}: no such file or folder") from None
    except (ValueError, TypeError, ImportError, OSError) as e:
        msg = str(e)
        raise CliError(msg if str(path) in msg else f"{path}: {msg}") from None
    if tr.shapes.size == 0:
        raise CliError(f"{path}: empty trace")
    if need_step and 86400 % int(tr.step_seconds):
        raise CliError(f"{path}: a step of {tr.step_seconds} s does not divide a day")
    return tr


def resource_index(trace, resource: Optional[str]) -> int:
    """Index of ``--resource`` (a name or a number) in the trace, default 0."""
    if resource is None:
        return 0
    names = list(trace.resources)
    if resource in names:
        return names.index(resource)
    try:
        r = int(resource)
    except ValueError:
        raise CliError(f"--resource {resource!r} is not one of {names}") from None
    if not 0 <= r < len(names):
        raise CliError(f"--resource {r} is out of range: the trace has {len(names)} resource(s) {names}")
    return r


def floats(text: str, name: str, *, count: Optional[int] = None) -> List[float]:
    """Comma-separated numbers, e.g. ``--capacity 32000,64``."""
    try:
        vals = [float(v) for v in str(text).split(",") if v.strip() != ""]
    except ValueError:
        raise CliError(f"{name} must be comma-separated numbers, got {text!r}") from None
    if not vals:
        raise CliError(f"{name} is empty")
    if count is not None and len(vals) not in (1, count):
        raise CliError(f"{name} needs 1 or {count} values (one per resource), got {len(vals)}")
    return vals


def write(cols, path: str, args=None) -> None:
    """Write a table (CSV / JSON / Parquet by suffix, ``-`` = stdout), errors as CliError."""
    from pyshape._table import write_table

    try:
        write_table(cols, path)
    except BrokenPipeError:
        raise
    except (ValueError, ImportError, OSError) as e:
        raise CliError(str(e)) from None
    if path != "-" and args is not None:
        say(args, f"wrote {path}")


def check_values(trace, path: str, *, demand: bool = True) -> None:
    """NaN, inf or (for demand, which packing needs) negative values: one clear line naming the
    first bad id, before any work. Correlation and clustering take any finite values."""
    D = trace.shapes.reshape(trace.shapes.shape[0], -1)
    checks = [((~np.isfinite(D)).any(axis=1), "a NaN or infinite value")]
    if demand:
        checks.append(((D < 0).any(axis=1), "negative demand"))
    for bad, what in checks:
        rows = np.flatnonzero(bad)
        if len(rows):
            raise CliError(f"{path}: {len(rows)} shape(s) have {what}, the first is id {trace.ids[rows[0]]}")


def check_output(path: Optional[str], name: str, *, suffixes=(".csv", ".json", ".parquet"),
                 stdout_ok: bool = True) -> None:
    """Refuse an output that cannot be written, before any work is done."""
    if path is None:
        return
    if path == "-":
        if not stdout_ok:
            raise CliError(f"{name} needs a file name ('-' is the main output's stdout)")
        return
    p = Path(path)
    if suffixes and p.suffix.lower() not in suffixes:
        raise CliError(f"{name} {path}: unknown output format {p.suffix!r} (use {', '.join(suffixes)})")
    if not p.parent.is_dir():
        raise CliError(f"{name} {path}: folder {p.parent} does not exist")
    if p.is_dir():
        raise CliError(f"{name} {path}: is a folder")


def add_common(p, *, output: bool = True) -> None:
    """Options every data subcommand takes."""
    if output:
        p.add_argument("-o", "--output", default="-",
                       help="output table: .csv, .json or .parquet; '-' = CSV on stdout (default)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or messages on stderr")
    p.add_argument("--step-seconds", type=int, default=None,
                   help="step length in seconds: the resampling grid of a Bitbrains folder (default 300); "
                        "for files, overrides the step they store (.npy and .csv store none)")


def stdout_is_output(args) -> bool:
    return getattr(args, "output", None) == "-"


def ids_of(trace) -> np.ndarray:
    return np.asarray(trace.ids).astype(str)


def id_list(trace) -> list:
    """Ids as plain Python strings (messages quote them without NumPy reprs)."""
    return [str(i) for i in np.asarray(trace.ids).tolist()]


def capacity_arg(args, trace) -> np.ndarray:
    return np.asarray(floats(args.capacity, "--capacity", count=trace.shapes.shape[1]), dtype=np.float64)


def headrooms_arg(text: str) -> Sequence[float]:
    vals = floats(text, "--headroom")
    bad = [v for v in vals if not 0.0 <= v < 1.0]
    if bad:
        raise CliError(f"--headroom values are fractions in [0, 1), got {bad}")
    return vals
