"""``pyshape convert IN OUT``: any input the other subcommands read, written as shapes (or a long table)."""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

from pyshape.cli._common import CliError, _is_special, add_common, load_trace, say

_OUT = (".npz", ".npy", ".csv", ".csv.gz", ".parquet")


def _out_format(path: str) -> str:
    name = path.lower()
    for s in _OUT:
        if name.endswith(s):
            return s
    raise CliError(f"{path}: unknown output format (use {', '.join(_OUT)}; .npz keeps everything)")


def cmd_convert(args: argparse.Namespace) -> int:
    from pyshape.traces import save_shapes

    out = Path(args.out)
    special = _is_special(out)
    if not special:
        fmt = _out_format(args.out)
        if out.is_dir():
            raise CliError(f"{args.out}: is a folder")
        if not out.parent.is_dir():
            raise CliError(f"{args.out}: folder {out.parent} does not exist")
        if not os.access(out.parent, os.W_OK):
            raise CliError(f"{args.out}: cannot write into {out.parent}")
    tr = load_trace(args.input, step_seconds=args.step_seconds, args=args)
    if special:                          # /dev/null and the like: the load was the point
        say(args, f"read {tr.n} ids; nothing written to {args.out}")
        return 0
    if args.long:
        if fmt not in (".csv", ".csv.gz", ".parquet"):
            raise CliError(f"--long writes .csv, .csv.gz or .parquet, not {fmt}")
    # Written beside the target and renamed into place: never a half-written OUT.
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=fmt)
    os.close(fd)
    try:
        if args.long:
            frame = tr.to_frame(time="datetime")
            if fmt == ".parquet":
                frame.to_parquet(tmp, index=False)
            else:
                frame.to_csv(tmp, index=False, compression="gzip" if fmt == ".csv.gz" else None)
        else:
            save_shapes(tr, tmp)
        os.replace(tmp, out)
    except (ValueError, ImportError) as e:
        raise CliError(f"{args.out}: {e}") from None
    except OSError as e:
        raise CliError(f"{args.out}: cannot write: {e.strerror or e}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    say(args, f"wrote {args.out}: {tr.n} ids x {len(tr.resources)} resources x {tr.T} steps of {tr.step_seconds} s")
    return 0


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    c = sub.add_parser("convert", help="read any supported input, write it as shapes (.npz keeps everything)",
                       description="Read a trace in any format the other subcommands take (folders, Azure files, "
                                   "long and invocation tables, with the same options) and write it as "
                                   ".npz / .npy / .csv[.gz] / .parquet shapes, or with --long as a long table. "
                                   "OUT is written whole or not at all.")
    c.add_argument("input", help="input file or folder")
    c.add_argument("out", help="output file (.npz, .npy, .csv, .csv.gz, .parquet)")
    c.add_argument("--long", action="store_true", help="write a long table (id,time,<resources>; needs pandas)")
    add_common(c, output=False)
    c.set_defaults(func=cmd_convert)
