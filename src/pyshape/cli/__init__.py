"""The ``pyshape`` command line.

Subcommands write their result table to stdout (CSV) or to ``-o FILE``
(.csv / .json / .parquet), progress bars and messages to stderr (progress only
when stderr is a terminal; nothing with ``--quiet``), and exit with status 1
and a one-line ``pyshape: error: ...`` on bad input (2 on a usage error, 130
on Ctrl-C).
"""
from __future__ import annotations

import argparse
import sys

from pyshape.cli._common import CliError

__all__ = ["CliError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``pyshape`` command (all subcommands)."""
    import pyshape
    from pyshape.cli._commands import add_parsers
    from pyshape.cli._demo import add_parser as add_demo

    parser = argparse.ArgumentParser(
        prog="pyshape",
        description="Correlate, cluster, forecast and pack workload shapes (resource use over time).",
        epilog="Run 'pyshape demo' to see it all on the bundled real traces.")
    parser.add_argument("--version", action="version", version=f"pyshape {pyshape.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_demo(sub)
    add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CliError as e:
        print(f"pyshape: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("pyshape: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. piped into head: the reader has all it wanted
        import os

        # Point stdout at /dev/null so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
