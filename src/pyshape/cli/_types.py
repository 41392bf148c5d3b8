"""Worker types on the command line: ``--worker-type NAME:CAP1,CAP2:COST`` (repeatable) or
``--types FILE`` for ``pyshape pack`` (see :class:`pyshape.packing.WorkerTypes`)."""
from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, List, Optional, Sequence

from pyshape.cli._common import CliError, floats

if TYPE_CHECKING:  # pragma: no cover
    from pyshape.packing import WorkerTypes
    from pyshape.traces import ResourceTrace

#: What --worker-type means, for --help.
WORKER_TYPE_HELP = ("a worker type NAME:CAPACITIES:COST, capacities one per resource of the trace in its "
                    "order and units, e.g. small:32000,64:1.0 (repeat for each type; the plan minimises cost)")
TYPES_FILE_HELP = ("worker types from a .csv or .json table: a name and a cost column and one capacity "
                   "column per resource, named as the trace's resources (or, if none matches, the other "
                   "columns in order); JSON: a list of such records, or of {name, capacity: [...], cost}")


def _positive(v: float, what: str) -> float:
    if not (math.isfinite(v) and v > 0):
        raise CliError(f"{what} must be positive and finite, got {v:g}")
    return v


def parse_worker_type(text: str, R: int) -> tuple:
    """``NAME:CAP1,...,CAPR:COST`` as ``(name, [caps], cost)``."""
    parts = str(text).split(":")
    if len(parts) != 3 or not parts[0].strip():
        raise CliError(f"--worker-type takes NAME:CAPACITIES:COST (e.g. small:32000,64:1.0), got {text!r}")
    name = parts[0].strip()
    caps = floats(parts[1], f"--worker-type {name} capacities")
    if len(caps) != R:
        s = "s" if R > 1 else ""
        raise CliError(f"--worker-type {name}: needs {R} capacit{'ies' if R > 1 else 'y'} for {R} resource{s}, "
                       f"got {len(caps)}")
    for c in caps:
        _positive(c, f"--worker-type {name}: capacity")
    try:
        cost = float(parts[2])
    except ValueError:
        raise CliError(f"--worker-type {name}: cost must be a number, got {parts[2]!r}") from None
    return name, caps, _positive(cost, f"--worker-type {name}: cost")


def _records(path: Path) -> List[dict]:
    try:
        text = path.read_text()
    except OSError as e:
        raise CliError(f"--types {path}: {e}") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise CliError(f"--types {path}: not JSON: {e}") from None
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise CliError(f"--types {path}: JSON must be a list of records")
        return data
    if path.suffix.lower() == ".csv":
        return list(csv.DictReader(text.splitlines()))
    raise CliError(f"--types {path}: use a .csv or .json file")


def read_types_file(path: str, resources: Sequence[str]) -> list:
    """The rows of a types table as ``(name, [caps], cost)``."""
    p = Path(path)
    rows = _records(p)
    if not rows:
        raise CliError(f"--types {path}: no worker types in the file")
    out = []
    for k, row in enumerate(rows):
        if "name" not in row or "cost" not in row:
            raise CliError(f"--types {path}: row {k + 1} needs a name and a cost, got {sorted(row)}")
        name = str(row["name"]).strip()
        if "capacity" in row:
            cap_cells: Any = row["capacity"]
            cells = cap_cells if isinstance(cap_cells, list) else str(cap_cells).split(",")
        else:
            others = [c for c in row if c not in ("name", "cost")]
            named = [c for c in resources if c in row]
            cells = [row[c] for c in (named if named else others)]
        try:
            caps = [float(c) for c in cells]
            cost = float(row["cost"])
        except (TypeError, ValueError):
            raise CliError(f"--types {path}: type {name!r}: capacities and cost must be numbers") from None
        if len(caps) != len(resources):
            raise CliError(f"--types {path}: type {name!r} has {len(caps)} capacities for {len(resources)} "
                           f"resource(s) ({', '.join(resources)})")
        for c in caps:
            _positive(c, f"--types {path}: type {name!r}: capacity")
        out.append((name, caps, _positive(cost, f"--types {path}: type {name!r}: cost")))
    return out


def worker_types_arg(args: argparse.Namespace, trace: ResourceTrace) -> Optional[WorkerTypes]:
    """The worker types of ``--worker-type`` / ``--types`` (None when neither is given)."""
    from pyshape.packing import WorkerTypes

    specs = getattr(args, "worker_type", None) or []
    path = getattr(args, "types", None)
    if not specs and not path:
        return None
    resources = list(trace.resources)
    rows = read_types_file(path, resources) if path else [parse_worker_type(s, len(resources)) for s in specs]
    try:
        return WorkerTypes([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
    except (ValueError, TypeError) as e:
        raise CliError(str(e)) from None
