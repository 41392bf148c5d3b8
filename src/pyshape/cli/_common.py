"""What every subcommand shares: one-line errors, input loading, output tables, progress."""
from __future__ import annotations

import sys
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


def load_trace(path: str, *, step_seconds: Optional[int] = None):
    """A :class:`pyshape.traces.ResourceTrace` from any supported file or folder, or a CliError."""
    from pyshape.traces import load_shapes

    try:
        tr = load_shapes(path)
    except FileNotFoundError as e:
        raise CliError(f"{path}: no such file or folder ({e})" if str(path) not in str(e) else str(e)) from None
    except (ValueError, TypeError, ImportError, OSError) as e:
        msg = str(e)
        raise CliError(msg if str(path) in msg else f"{path}: {msg}") from None
    if tr.shapes.size == 0:
        raise CliError(f"{path}: empty trace")
    if step_seconds is not None:
        if step_seconds <= 0:
            raise CliError(f"--step-seconds must be positive, got {step_seconds}")
        from dataclasses import replace

        tr = replace(tr, step_seconds=int(step_seconds))
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
    except (ValueError, ImportError, OSError) as e:
        raise CliError(str(e)) from None
    if path != "-" and args is not None:
        say(args, f"wrote {path}")


def check_finite(trace, path: str) -> None:
    """NaN, inf or negative demand: one clear line, before any work."""
    D = trace.shapes
    if not np.all(np.isfinite(D)):
        raise CliError(f"{path}: the trace has NaN or infinite values")


def add_common(p, *, output: bool = True) -> None:
    """Options every data subcommand takes."""
    if output:
        p.add_argument("-o", "--output", default="-",
                       help="output table: .csv, .json or .parquet; '-' = CSV on stdout (default)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or messages on stderr")
    p.add_argument("--step-seconds", type=int, default=None,
                   help="length of a step, when the input format does not say (default: from the file, else 60)")


def stdout_is_output(args) -> bool:
    return getattr(args, "output", None) == "-"


def ids_of(trace) -> np.ndarray:
    return np.asarray(trace.ids).astype(str)


def capacity_arg(args, trace) -> np.ndarray:
    return np.asarray(floats(args.capacity, "--capacity", count=trace.shapes.shape[1]), dtype=np.float64)


def headrooms_arg(text: str) -> Sequence[float]:
    vals = floats(text, "--headroom")
    bad = [v for v in vals if not 0.0 <= v < 1.0]
    if bad:
        raise CliError(f"--headroom values are fractions in [0, 1), got {bad}")
    return vals
