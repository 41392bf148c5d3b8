"""What every subcommand shares: one-line errors, input loading, output tables, progress."""
from __future__ import annotations

import argparse
import contextlib
import gzip
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np


class CliError(Exception):
    """Bad input from the user: reported as one line ``pyshape <command>: error: ...`` on stderr, exit status 1."""


# --------------------------------------------------------------------------- argparse types (usage errors, exit 2)
def _number(kind, text: str, what: str):
    try:
        v = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
    if isinstance(v, float) and not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
    return v


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    v = _number(int, text, "a positive integer")
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {v}")
    return v


def nonnegative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    v = _number(int, text, "a non-negative integer")
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {v}")
    return v


def fraction(text: str) -> float:
    """argparse type: a number in [0, 1)."""
    v = _number(float, text, "a fraction in [0, 1)")
    if not 0.0 <= v < 1.0:
        raise argparse.ArgumentTypeError(f"must be a fraction in [0, 1), got {v:g}")
    return v


def fraction_closed(text: str) -> float:
    """argparse type: a number in [0, 1]."""
    v = _number(float, text, "a fraction in [0, 1]")
    if not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a fraction in [0, 1], got {v:g}")
    return v


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
    if not p.is_dir() and not os.access(p, os.R_OK):
        raise CliError(f"{path}: cannot read this file (permission denied)")
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
    except OSError as e:
        raise CliError(f"{path}: cannot read: {e.strerror or e}") from None
    except MemoryError:
        raise CliError(f"{path}: not enough memory to load this trace") from None
    except (ValueError, TypeError, ImportError) as e:
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


def floats(text: str, name: str) -> List[float]:
    """Comma-separated finite numbers, e.g. ``--headroom 0,0.1``."""
    try:
        vals = [float(v) for v in str(text).split(",") if v.strip() != ""]
    except ValueError:
        raise CliError(f"{name} must be comma-separated numbers, got {text!r}") from None
    if not vals:
        raise CliError(f"{name} is empty")
    if not all(math.isfinite(v) for v in vals):
        raise CliError(f"{name} must be finite numbers, got {text!r}")
    return vals


#: What --capacity means, for the --help of every subcommand that takes it.
CAPACITY_HELP = ("worker capacity, one value per resource of the trace, in its order and units, "
                 "e.g. 32000,64 for cpu_mhz,mem_gb (a trace with one resource takes one value)")


def capacities(text: str) -> List[float]:
    """``--capacity`` as positive numbers (their count is checked against the trace by :func:`capacity_arg`)."""
    vals = floats(text, "--capacity")
    bad = [v for v in vals if not v > 0]
    if bad:
        raise CliError(f"--capacity values must be positive, got {', '.join(f'{v:g}' for v in bad)}")
    return vals


def check_capacity_count(vals: Sequence[float], resources: Sequence[str]) -> None:
    """One capacity per resource: a single value is not spread over resources of different units."""
    R = len(resources)
    if len(vals) != R:
        s = "s" if R > 1 else ""
        raise CliError(f"--capacity needs {R} value{s} for {R} resource{s} ({', '.join(resources)}), "
                       f"got {len(vals)}: {','.join(f'{v:g}' for v in vals)}")


def _is_special(p: Path) -> bool:
    """An existing output that is neither a file nor a folder: /dev/null, /dev/stdout, a FIFO."""
    return p.exists() and not p.is_file() and not p.is_dir()


def write(cols, path: str, args=None) -> None:
    """Write a table (CSV / JSON / Parquet by suffix, ``-`` = stdout, CSV to a device), errors as CliError."""
    from pyshape._table import write_table

    try:
        if path != "-" and _is_special(Path(path)):
            with open(path, "w", newline="") as f, contextlib.redirect_stdout(f):
                write_table(cols, "-")
        else:
            write_table(cols, path)
    except BrokenPipeError:
        raise
    except OSError as e:
        raise CliError(f"{path}: cannot write: {e.strerror or e}") from None
    except (ValueError, ImportError) as e:
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
            raise CliError(f"{path}: {len(rows)} shape(s) have {what}, the first is id {str(trace.ids[rows[0]])}")


def check_output(path: Optional[str], name: str, *, suffixes=(".csv", ".json", ".parquet"),
                 stdout_ok: bool = True) -> None:
    """Refuse an output that cannot be written, before any work is done.

    ``-`` is stdout (where ``stdout_ok``); an existing device or FIFO such as
    ``/dev/null`` is accepted whatever its name; a file must have one of
    ``suffixes`` and be creatable (or writable, if it exists): it is tried,
    and a file created for the try is removed.
    """
    if path is None:
        return
    if path == "-":
        if not stdout_ok:
            raise CliError(f"{name} needs a file name ('-' is the main output's stdout)")
        return
    p = Path(path)
    if _is_special(p):
        if not os.access(p, os.W_OK):
            raise CliError(f"{name} {path}: not writable")
        return
    if p.is_dir():
        raise CliError(f"{name} {path}: is a folder")
    if suffixes and p.suffix.lower() not in suffixes:
        raise CliError(f"{name} {path}: unknown output format {p.suffix!r} (use {', '.join(suffixes)})")
    if not p.parent.exists():
        raise CliError(f"{name} {path}: folder {p.parent} does not exist")
    if not p.parent.is_dir():
        raise CliError(f"{name} {path}: {p.parent} is not a folder")
    try:
        if p.exists():
            open(p, "ab").close()       # writable, and not truncated by the try
        else:
            open(p, "xb").close()
            p.unlink()
    except OSError as e:
        raise CliError(f"{name} {path}: cannot write: {e.strerror or e}") from None


def check_outdir(path: str, name: str) -> None:
    """Refuse an output folder that is a file or cannot be created or written into, before any work."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise CliError(f"{name} {path}: exists and is not a folder")
    q = p if p.exists() else p.absolute().parent
    while not q.exists():
        q = q.parent
    if not q.is_dir():
        raise CliError(f"{name} {path}: {q} is not a folder")
    try:
        tempfile.TemporaryFile(dir=q).close()
    except OSError as e:
        where = "into it" if q == p else f"in {q}"
        raise CliError(f"{name} {path}: cannot write {where}: {e.strerror or e}") from None


def precheck(args) -> None:
    """What every subcommand checks before any work: numbers and outputs common to several of them."""
    if getattr(args, "capacity", None) is not None:
        capacities(args.capacity)
    if getattr(args, "headroom", None) is not None:
        headrooms_arg(args.headroom)
    if getattr(args, "outdir", None) is not None:
        check_outdir(args.outdir, "-d")


def add_common(p, *, output: bool = True) -> None:
    """Options every data subcommand takes."""
    if output:
        p.add_argument("-o", "--output", default="-",
                       help="output table: .csv, .json or .parquet; '-' = CSV on stdout (default)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or messages on stderr")
    p.add_argument("--step-seconds", type=positive_int, default=None,
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
    """``--capacity`` checked against the trace: positive, one value per resource."""
    vals = capacities(args.capacity)
    check_capacity_count(vals, trace.resources)
    return np.asarray(vals, dtype=np.float64)


def headrooms_arg(text: str) -> Sequence[float]:
    vals = floats(text, "--headroom")
    bad = [v for v in vals if not 0.0 <= v < 1.0]
    if bad:
        raise CliError(f"--headroom values are fractions in [0, 1), got {bad}")
    return vals
