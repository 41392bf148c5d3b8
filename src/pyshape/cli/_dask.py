"""``--scheduler ADDRESS`` (or ``$PYSHAPE_DASK_SCHEDULER``): correlate, cluster
and pack (one capacity or worker types) run on a Dask cluster through :mod:`pyshape.dask`."""
from __future__ import annotations

import argparse
import contextlib
import os
from typing import Any, Iterator, Optional

from pyshape.cli._common import CliError

ENV = "PYSHAPE_DASK_SCHEDULER"


def add_scheduler(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help=f"run on this Dask scheduler (tcp://host:8786, or 'local' for a cluster of this "
                        f"machine's cores); default ${ENV}; pack runs in shards there, with -c or worker types; "
                        f"needs pip install 'pyshape[dask]'")
    p.add_argument("--chunk-rows", type=int, default=None, metavar="N",
                   help="with --scheduler: shapes per Dask partition (default 16384)")


def scheduler_of(args: argparse.Namespace) -> Optional[str]:
    return getattr(args, "scheduler", None) or os.environ.get(ENV) or None


@contextlib.contextmanager
def dask_client(args: argparse.Namespace) -> Iterator[Any]:
    """The pyshape.dask module and a client for ``--scheduler`` (None when not asked)."""
    address = scheduler_of(args)
    if address is None:
        yield None
        return
    try:
        import pyshape.dask as pdask
    except ImportError as e:
        raise CliError(f"--scheduler needs Dask: {e}") from None
    try:
        client = pdask.get_client(address)
    except (OSError, ValueError, TimeoutError) as e:
        raise CliError(f"--scheduler {address}: cannot connect ({e})") from None
    try:
        yield pdask
    finally:
        pdask.close_client(client)
