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
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from pyshape._table import Column
    from pyshape.traces import ResourceTrace


class CliError(Exception):
    """Bad input from the user: reported as one line ``pyshape <command>: error: ...`` on stderr, exit status 1."""


# --------------------------------------------------------------------------- argparse types (usage errors, exit 2)
def _number(kind: Callable[[str], Any], text: str, what: str) -> Any:
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


def say(args: argparse.Namespace, message: str) -> None:
    """A message for the user on stderr (nothing with ``--quiet``)."""
    if not getattr(args, "quiet", False):
        print(message, file=sys.stderr)


def show_progress(args: argparse.Namespace) -> bool:
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


FORMAT_CHOICES = ("auto", "shapes", "bitbrains", "azure", "long", "invocations")


def _header_cols(p: Path) -> List[str]:
    if not p.is_file() or not p.name.lower().endswith((".csv", ".csv.gz", ".txt", ".txt.gz", ".tsv", ".tsv.gz")):
        return []
    opener = gzip.open if p.name.lower().endswith(".gz") else open
    try:
        with opener(p, "rb") as f:
            head = f.readline(1 << 16).decode("utf-8", errors="replace")
    except (OSError, EOFError):
        return []
    for d in (",", "\t", ";"):
        if d in head:
            return [c.strip().strip('"') for c in head.strip().lstrip("\ufeff").split(d)]
    return [head.strip()]


def input_format(p: Path, args: Optional[argparse.Namespace] = None) -> str:
    """The format of an input: --format, else by what it is (a folder, a header, a suffix)."""
    fmt = getattr(args, "input_format", None) or "auto"
    if fmt != "auto":
        return fmt
    if p.is_dir():
        return "bitbrains"
    if _is_azure(p):
        return "azure"
    cols = _header_cols(p)
    if {"end_timestamp", "duration"} <= set(cols):
        return "invocations"
    if getattr(args, "time_col", None) or getattr(args, "id_col", None) or getattr(args, "value_cols", None):
        return "long"
    if p.name.lower().endswith((".txt", ".txt.gz", ".tsv", ".tsv.gz")):
        return "long"
    return "shapes"


def _cols(text: Optional[str]) -> Optional[List[str]]:
    if text is None:
        return None
    cols = [c.strip() for c in text.split(",") if c.strip()]
    if not cols:
        raise CliError("--value-cols is empty")
    return cols


def _loader(p: Path, fmt: str, step_seconds: Optional[int],
            args: Optional[argparse.Namespace]) -> Tuple[Callable[[], ResourceTrace], Dict[str, Any], Any]:
    """(load(), options for the cache key, cacheable) for one input."""
    from pyshape.traces import load_azure_functions, load_invocations, load_long, load_shapes
    from pyshape.traces.long import parse_step

    a = args if args is not None else argparse.Namespace()
    step = getattr(a, "step", None)
    if step is not None:
        try:
            step = parse_step(step)
        except ValueError as e:
            raise CliError(f"--step: {e}") from None
        if step_seconds is not None and step_seconds != step:
            raise CliError(f"--step {step} s and --step-seconds {step_seconds} disagree; give one")
        step_seconds = step
    step = step or step_seconds
    progress = show_progress(a) if args is not None else False
    if fmt == "long":
        id_col = getattr(a, "id_col", None) or "id"
        kw: Dict[str, Any] = dict(id=None if id_col == "-" else _cols(id_col) if "," in id_col else id_col,
                  time=getattr(a, "time_col", None) or "time", values=_cols(getattr(a, "value_cols", None)),
                  step=step, agg=getattr(a, "agg", None) or "max", time_unit=getattr(a, "time_unit", None) or "s")
        fill = getattr(a, "fill", None) or "previous"
        try:
            kw["fill"] = float(fill)
        except ValueError:
            kw["fill"] = fill
        if getattr(a, "max_gap_steps", None) is not None:
            kw["max_gap_steps"] = a.max_gap_steps
        return (lambda: load_long(p, **kw)), {"format": fmt, **kw}, True
    if fmt == "invocations":
        id_col = getattr(a, "id_col", None) or "app,func"
        kw = dict(id=None if id_col == "-" else _cols(id_col), step=step or 60,
                  how=getattr(a, "how", None) or "mean", time_unit=getattr(a, "time_unit", None) or "s",
                  duration_unit=getattr(a, "duration_unit", None) or "s",
                  memory=getattr(a, "memory_col", None))
        ends = {"start": getattr(a, "start_col", None), "end": getattr(a, "end_col", None),
                "duration": getattr(a, "duration_col", None)}
        if any(v is not None for v in ends.values()):
            kw.update(ends)
        return (lambda: load_invocations(p, **kw)), {"format": fmt, **kw}, True
    if fmt == "azure":
        kw = {} if step_seconds is None else {"step_seconds": step_seconds}
        for name in ("durations", "memory"):
            v = getattr(a, name, None)
            if v is not None:
                if not Path(v).is_file():
                    raise CliError(f"--{name} {v}: no such file")
                kw[name] = Path(v)
        extra = [kw[k] for k in ("durations", "memory") if k in kw]
        return (lambda: load_azure_functions(p, **kw)), {"format": fmt, **{k: str(v) for k, v in kw.items()}}, \
            extra
    if fmt == "bitbrains":
        if not p.is_dir():
            from pyshape.traces import load_bitbrains
            return (lambda: load_bitbrains(p, step_seconds=step_seconds or 300)), {}, False
        return (lambda: load_shapes(p, step_seconds=step_seconds, progress=progress)), \
            {"format": fmt, "step_seconds": step_seconds or 300}, True
    if p.is_dir():
        raise CliError(f"{p}: a folder, but --format {fmt} reads a file")
    return (lambda: load_shapes(p, step_seconds=step_seconds)), {}, False


def load_trace(path: str, *, step_seconds: Optional[int] = None, need_step: bool = False,
               args: Optional[argparse.Namespace] = None) -> ResourceTrace:
    """A :class:`pyshape.traces.ResourceTrace` from any supported file or folder, or a CliError.

    The format is ``--format`` or found by :func:`input_format`: a folder is
    Bitbrains VM files resampled to ``step_seconds``; an Azure Functions 2019
    invocations file is read with its duration and memory files (beside it,
    found by name or header, or ``--durations`` / ``--memory``); a table with
    ``end_timestamp,duration`` columns is an invocation table; ``--format
    long`` (or any ``--*-col`` option) a long table. Folders, long and
    invocation tables and Azure files are cached (see
    :mod:`pyshape.traces._cache`) unless ``--no-cache``. ``--day``,
    ``--days``, ``--start`` and ``--end`` then cut the period. ``need_step``:
    the caller slices days, so a format that records no step needs
    ``--step-seconds``.
    """
    import time as _time

    if step_seconds is not None and step_seconds <= 0:
        raise CliError(f"--step-seconds must be positive, got {step_seconds}")
    p = Path(path)
    if not p.exists():
        raise CliError(f"{path}: no such file or folder")
    if not p.is_dir() and not os.access(p, os.R_OK):
        raise CliError(f"{path}: cannot read this file (permission denied)")
    t0 = _time.perf_counter()
    try:
        fmt = input_format(p, args)
        if need_step and step_seconds is None and fmt == "shapes" and p.name.lower().endswith(_NO_STEP):
            raise CliError(f"{path}: this format does not record the step length; "
                           f"pass --step-seconds (e.g. 60 or 300)")
        load, options, cacheable = _loader(p, fmt, step_seconds, args)
        hit = False
        if cacheable and not getattr(args, "no_cache", True):
            from pyshape.traces._cache import cached

            extra = cacheable if isinstance(cacheable, list) else []
            tr, hit = cached([p] + extra, options, load)
        else:
            tr = load()
        if args is not None:
            tr = _choose_period(tr, args)
    except CliError:
        raise
    except FileNotFoundError as e:
        msg = str(e)
        raise CliError(msg if str(path) in msg or "--" in msg else f"{path}: no such file or folder") from None
    except OSError as e:
        raise CliError(f"{path}: cannot read: {e.strerror or e}") from None
    except MemoryError:
        raise CliError(f"{path}: not enough memory to load this trace") from None
    except (ValueError, TypeError, ImportError, IndexError) as e:
        msg = str(e)
        raise CliError(msg if str(path) in msg else f"{path}: {msg}") from None
    if args is not None:
        say(args, f"{path}: {tr.n} ids x {len(tr.resources)} resources x {tr.T} steps of {tr.step_seconds} s "
                  f"in {_time.perf_counter() - t0:.2f} s{' (cached)' if hit else ''}")
    if tr.shapes.size == 0:
        raise CliError(f"{path}: empty trace")
    if need_step and 86400 % int(tr.step_seconds):
        raise CliError(f"{path}: a step of {tr.step_seconds} s does not divide a day")
    return tr


def _day_range(text: str) -> tuple:
    try:
        if ":" in text:
            a, b = text.split(":", 1)
            return int(a), int(b)
        if "-" in text.strip()[1:]:
            a, b = text.split("-", 1)
            return int(a), int(b) + 1
        d = int(text)
        return d, d + 1
    except ValueError:
        raise CliError(f"--days must be D, A:B (days A..B-1) or A-B (days A..B), counted from 0, got {text!r}") \
            from None


def _choose_period(tr: ResourceTrace, args: Optional[argparse.Namespace]) -> ResourceTrace:
    day, days = getattr(args, "day", None), getattr(args, "days", None)
    start, end = getattr(args, "start", None), getattr(args, "end", None)
    if day is not None and days is not None:
        raise CliError("give --day or --days, not both")
    if (day is not None or days is not None) and (start is not None or end is not None):
        raise CliError("give --day/--days or --start/--end, not both")
    if day is not None or days is not None:
        lo, hi = (day, day + 1) if day is not None else _day_range(days)  # type: ignore[arg-type]  # days set
        try:
            nd = tr.n_days
        except ValueError as e:
            raise CliError(f"--day/--days: {e}") from None
        if not 0 <= lo < hi <= nd:
            raise CliError(f"--day/--days {lo}..{hi - 1}: the trace has {nd} whole day(s), 0..{nd - 1}")
        return tr.days(lo, hi)
    if start is not None or end is not None:
        try:
            return tr.window(start, end)
        except (ValueError, TypeError) as e:
            raise CliError(f"--start/--end: {e}") from None
    return tr


def resource_index(trace: ResourceTrace, resource: Optional[str]) -> int:
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


def write(cols: Mapping[str, Column], path: str, args: Optional[argparse.Namespace] = None) -> None:
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


def check_values(trace: ResourceTrace, path: str, *, demand: bool = True) -> None:
    """NaN, inf or (for demand, which packing needs) negative values: one clear line naming the
    first bad id, before any work. Correlation and clustering take any finite values."""
    D = trace.shapes.reshape(trace.shapes.shape[0], -1)
    checks = [((~np.isfinite(D)).any(axis=1), "a NaN or infinite value")]
    if demand:
        checks.append(((D < 0).any(axis=1), "negative demand"))
    for bad, what in checks:
        rows = np.flatnonzero(bad)
        if len(rows):
            raise CliError(f"{path}: {len(rows)} shape(s) have {what}, the first is id {trace.ids[rows[0]]!s}")


def check_output(path: Optional[str], name: str, *, suffixes: Tuple[str, ...] = (".csv", ".json", ".parquet"),
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


def precheck(args: argparse.Namespace) -> None:
    """What every subcommand checks before any work: numbers and outputs common to several of them."""
    if getattr(args, "capacity", None) is not None:
        capacities(args.capacity)
    if getattr(args, "headroom", None) is not None:
        headrooms_arg(args.headroom)
    if getattr(args, "outdir", None) is not None:
        check_outdir(args.outdir, "-d")


def add_min_coverage(p: argparse.ArgumentParser) -> None:
    """``--min-coverage``: the share of a day a trace must have seen for the day to count
    (partial days are left out of histories and evaluation, and counted in the output)."""
    from pyshape import defaults

    p.add_argument("--min-coverage", type=fraction_closed, default=defaults.MIN_COVERAGE,
                   help="days whose observed share of (workload, step) cells is below this are partial: left out "
                        f"of histories and evaluation, and counted (default {defaults.MIN_COVERAGE:g}; 0 keeps all)")


def add_common(p: argparse.ArgumentParser, *, output: bool = True) -> None:
    """Options every data subcommand takes."""
    if output:
        p.add_argument("-o", "--output", default="-",
                       help="output table: .csv, .json or .parquet; '-' = CSV on stdout (default)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or messages on stderr")
    p.add_argument("--step-seconds", type=positive_int, default=None,
                   help="step length in seconds: the resampling grid of a Bitbrains folder (default 300); "
                        "for files, overrides the step they store (.npy and .csv store none)")
    add_input_options(p)


def add_input_options(p: argparse.ArgumentParser) -> None:
    """How the input is read: its format and columns, the period, the cache."""
    g = p.add_argument_group("input")
    names = ["--input-format"] if "--format" in p._option_string_actions else ["--format", "--input-format"]
    g.add_argument(*names, dest="input_format", choices=FORMAT_CHOICES, default="auto",
                   help="input format (default auto: a folder is Bitbrains, an Azure 2019 header is azure, "
                        "end_timestamp,duration columns are invocations, any --*-col option means long, "
                        "else wide shapes by suffix)")
    g.add_argument("--id-col", help="long/invocations: id column(s), comma-separated ('-' = none; "
                                    "default id, or app,func)")
    g.add_argument("--time-col", help="long: time column (default time): seconds, or ISO 8601 / datetimes")
    g.add_argument("--value-cols", help="long: value columns, comma-separated (default: all other columns)")
    g.add_argument("--step", help="grid step, e.g. 300, 5min, 1h (long: inferred by default; invocations: 60 s; "
                                  "a folder: 300 s); same as --step-seconds")
    g.add_argument("--agg", choices=["max", "mean", "sum", "min"], help="long: samples in one step (default max)")
    g.add_argument("--fill", help="long: short gaps: previous (default), zero, or a number")
    g.add_argument("--max-gap-steps", type=nonnegative_int, help="long: longest gap filled (default 3)")
    g.add_argument("--time-unit", choices=["s", "ms", "us", "ns"], help="numeric times (default s)")
    g.add_argument("--start-col", help="invocations: start time column")
    g.add_argument("--end-col", help="invocations: end time column (default end_timestamp)")
    g.add_argument("--duration-col", help="invocations: duration column (default duration)")
    g.add_argument("--duration-unit", choices=["s", "ms", "us", "ns"], help="invocations: durations (default s)")
    g.add_argument("--memory-col", help="invocations: memory per call, a second resource")
    g.add_argument("--how", choices=["mean", "max"],
                   help="invocations: mean (exact average calls in flight, default) or max per step")
    g.add_argument("--durations", metavar="FILE", help="azure: the durations file (default: found beside)")
    g.add_argument("--memory", metavar="FILE", help="azure: the memory file (default: found beside)")
    g.add_argument("--day", type=nonnegative_int, help="only this whole day (0 = the first)")
    g.add_argument("--days", help="only these days: A:B (A..B-1) or A-B (A..B)")
    g.add_argument("--start", help="only steps from this time on: Unix seconds or ISO 8601 (naive = UTC)")
    g.add_argument("--end", help="only steps before this time")
    g.add_argument("--no-cache", action="store_true",
                   help="do not read or write the load cache ($XDG_CACHE_HOME/pyshape; PYSHAPE_CACHE_DIR)")


def stdout_is_output(args: argparse.Namespace) -> bool:
    return getattr(args, "output", None) == "-"


def ids_of(trace: ResourceTrace) -> np.ndarray:
    return np.asarray(trace.ids).astype(str)


def id_list(trace: ResourceTrace) -> List[str]:
    """Ids as plain Python strings (messages quote them without NumPy reprs)."""
    return [str(i) for i in np.asarray(trace.ids).tolist()]


def capacity_arg(args: argparse.Namespace, trace: ResourceTrace) -> np.ndarray:
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
