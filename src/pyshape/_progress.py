"""Progress bars for long kernels.

The C++ side calls back ``(done, total)`` at most every 50 ms from the calling
thread; this module turns that into a tqdm bar (optional dependency) on
stderr, a plain text fallback, or a user callable.
"""
from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator, Union

import numpy as np

ProgressArg = Union[bool, None, Callable[[int, int], None]]


def check_progress(progress: ProgressArg) -> ProgressArg:
    """``progress`` itself when it is None, a bool or a callable, else ``TypeError``.

    Strings and numbers are refused rather than read as true (``progress='no'``).
    """
    if progress is None or callable(progress):
        return progress
    if isinstance(progress, (bool, np.bool_)):
        return bool(progress)
    raise TypeError(f"progress must be True, False, None or a callable f(done, total), "
                    f"got {type(progress).__name__} {progress!r}")


@contextlib.contextmanager
def progress_callback(progress: ProgressArg, desc: str) -> Iterator[Callable[[int, int], None] | None]:
    """Yield the callback to hand to a kernel for ``progress``.

    ``progress`` may be False/None (no output), True (a bar on stderr, shown
    only when stderr is a terminal) or a callable ``f(done, total)``; anything
    else raises ``TypeError``.
    """
    progress = check_progress(progress)
    if progress is None or progress is False:
        yield None
        return
    if callable(progress):
        yield progress
        return
    if not sys.stderr.isatty():
        yield None
        return
    try:
        from tqdm.auto import tqdm
    except ImportError:  # plain fallback
        def plain(done: int, total: int) -> None:
            sys.stderr.write(f"\r{desc}: {100.0 * done / max(total, 1):5.1f}%")
            if done >= total:
                sys.stderr.write("\n")
            sys.stderr.flush()

        yield plain
        return
    bar = None

    def cb(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=desc, unit="blk", file=sys.stderr, leave=False)
        bar.update(done - bar.n)

    try:
        yield cb
    finally:
        if bar is not None:
            bar.close()
