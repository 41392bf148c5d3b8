"""Run-time facts and switches: SIMD level and thread count."""
from __future__ import annotations

import os

from pyshape import _core
from pyshape._validation import INT32_MAX, check_int


def simd_level() -> str:
    """Return the SIMD level the kernels use: ``'scalar'``, ``'avx2'`` or ``'avx512'``.

    The best level the CPU supports is chosen at import; the environment
    variable ``PYSHAPE_SIMD`` (read at import) or :func:`set_simd_level`
    forces a lower one.
    """
    return _core.simd_level()


def available_simd_levels() -> list[str]:
    """Return the SIMD levels this CPU supports, ``'scalar'`` first and the best last."""
    return list(_core.available_simd_levels())


def set_simd_level(level: str) -> None:
    """Force the SIMD level of every kernel (for tests and benchmarks).

    Parameters
    ----------
    level : {'scalar', 'avx2', 'avx512'}
        Must be one of :func:`available_simd_levels`.

    Raises
    ------
    ValueError
        If the level is unknown or this CPU does not support it.
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
