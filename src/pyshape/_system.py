"""Run-time facts and switches: SIMD level and thread count."""
from __future__ import annotations

import os

from pyshape import _core
from pyshape._validation import INT32_MAX, check_int


def simd_level() -> str:
    """Return the SIMD level the kernels use: ``'scalar'``, ``'avx2'`` or ``'avx512'``.

    The best level the CPU supports is chosen at import; the environment
    variable ``PYSHAPE_SIMD`` (read at import, any case) or
    :func:`set_simd_level` forces a lower one. A ``PYSHAPE_SIMD`` value that
    cannot be honoured (unknown, not supported by the CPU, or failed its
    self-test) gives a ``RuntimeWarning`` at import naming the level used
    instead.
    """
    return _core.simd_level()


def available_simd_levels() -> list[str]:
    """Return the SIMD levels this CPU supports, ``'scalar'`` first and the best last.

    Before a level is trusted, a known-answer self-test (small fixed inputs,
    at import) compares its kernels with the scalar ones; a level that fails
    is left out, with a ``RuntimeWarning`` naming the level and the kernel.
    """
    return list(_core.available_simd_levels())


def set_simd_level(level: str) -> None:
    """Force the SIMD level of every kernel (for tests and benchmarks).

    Parameters
    ----------
    level : {'scalar', 'avx2', 'avx512'}
        Must be one of :func:`available_simd_levels`. Safe to call while
        kernels run in other threads: every call reads the level once.

    Raises
    ------
    ValueError
        If the level is unknown, this CPU does not support it, or it failed
        its self-test.
    """
    _core.set_simd_level(str(level))


def resolve_threads(n_threads: int | None) -> int:
    """Threads to use: ``n_threads`` if given, else the CPUs this process may run on."""
    if n_threads is None:
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # not on Linux
            return max(1, os.cpu_count() or 1)
    return check_int(n_threads, "n_threads", 1, INT32_MAX)
