"""The ``pyshape`` command line.

Subcommands write their result table to stdout (CSV) or to ``-o FILE``
(.csv / .json / .parquet; ``/dev/null`` and other devices get CSV), progress
bars and messages to stderr (progress only when stderr is a terminal; nothing
with ``--quiet``). Arguments, input files and outputs are checked before any
work; a problem is one line ``pyshape <command>: error: ...`` on stderr, never
a traceback, with exit status 2 for a usage error (a bad option or number),
1 for bad input or an output that cannot be written, 130 on Ctrl-C. Set
``PYSHAPE_DEBUG=1`` to see the traceback of an unexpected error.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn

from pyshape.cli._common import CliError, precheck


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line: ``pyshape <command>: error: ... (see ... --help)``."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")

__all__ = ["CliError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``pyshape`` command (all subcommands)."""
    import pyshape
    from pyshape.cli._commands import add_parsers
    from pyshape.cli._convert import add_parser as add_convert
    from pyshape.cli._demo import add_parser as add_demo

    parser = _Parser(
        prog="pyshape",
        description="Correlate, cluster, forecast and pack workload shapes (resource use over time).",
        epilog="Run 'pyshape demo' to see it all on the bundled real traces.")
    parser.add_argument("--version", action="version", version=f"pyshape {pyshape.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_demo(sub)
    add_parsers(sub)
    add_convert(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    prog = f"pyshape {args.command}"
    try:
        precheck(args)
        return args.func(args)
    except CliError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("pyshape: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. piped into head: the reader has all it wanted
        # Point stdout at /dev/null so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as e:  # e.g. the disk filled up while writing
        where = f"{e.filename}: " if e.filename else ""
        print(f"{prog}: error: {where}{e.strerror or e}", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"{prog}: error: out of memory", file=sys.stderr)
        return 1
    except Exception as e:  # a bug: one line unless asked for the traceback
        if os.environ.get("PYSHAPE_DEBUG"):
            raise
        print(f"{prog}: error: unexpected {type(e).__name__}: {e} (PYSHAPE_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
