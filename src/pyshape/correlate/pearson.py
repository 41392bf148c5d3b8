"""Z-normalisation and full Pearson correlation matrices."""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from pyshape import _core
from pyshape._progress import ProgressArg, check_progress, progress_callback
from pyshape._system import resolve_threads
from pyshape._validation import as_shapes, check_finite_row
from pyshape.correlate._common import unit_pair

__all__ = ["pearson", "znorm"]


def znorm(X: ArrayLike, *, n_threads: int | None = None) -> np.ndarray:
    """Z-normalise every shape: subtract its mean, divide by its standard deviation.

    Parameters
    ----------
    X : array_like, shape (n, T) or (T,)
        Shapes, one per row.
    n_threads : int, optional
        Threads to use (default: the CPUs available to this process).

    Returns
    -------
    ndarray of float32, shape (n, T)
        Rows with mean 0 and population standard deviation 1. A constant row
        (spread within float32 rounding of its mean) becomes all zeros.

    Raises
    ------
    ValueError
        On empty input or a NaN / infinite value (the message names the row).

    Examples
    --------
    >>> import numpy as np, pyshape
    >>> z = pyshape.znorm(np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]]))
    >>> np.round(z.astype(np.float64), 4).tolist()
    [[-1.2247, 0.0, 1.2247], [0.0, 0.0, 0.0]]
    """
    x = as_shapes(X, "X", center=True)
    z, bad = _core.normalize_rows(x, float(np.sqrt(x.shape[1])), resolve_threads(n_threads))
    check_finite_row(bad, "X")
    return z


def pearson(X: ArrayLike, Y: ArrayLike | None = None, *, n_threads: int | None = None,
            progress: ProgressArg = False) -> np.ndarray:
    """Pearson correlation of every pair of shapes.

    Parameters
    ----------
    X : array_like, shape (n, T)
    Y : array_like, shape (m, T), optional
        Second set; by default ``X`` against itself (then only half of the
        matrix is computed and mirrored, so the result is exactly symmetric).
    n_threads : int, optional
        Threads to use (default: the CPUs available to this process).
    progress : bool or callable, optional
        True for a progress bar on stderr (when it is a terminal), or a
        callable ``f(done, total)``.

    Returns
    -------
    ndarray of float32, shape (n, m)
        ``r[i, j]``, within about 1e-6 of ``np.corrcoef`` for unit-scale data.
        Pairs involving a constant shape are 0.

    Notes
    -----
    Memory is ``4 n m`` bytes for the result: for large ``n`` use
    :func:`top_partners`, which never holds the full matrix. Besides the
    result, the call holds unit-norm copies of ``X`` and ``Y`` (``4 (n + m) T``
    bytes) and ``Y`` packed in panels for the kernel (``4 m T`` more), plus
    float32 copies of inputs that are not already C-contiguous float32.

    Examples
    --------
    >>> import numpy as np, pyshape
    >>> t = np.arange(24.0)
    >>> r = pyshape.pearson(np.stack([np.sin(t), -np.sin(t), np.cos(t)]))
    >>> float(np.round(r[0, 1], 5))
    -1.0
    """
    nt = resolve_threads(n_threads)
    check_progress(progress)
    _, u, v = unit_pair(X, Y, "Y", nt)
    with progress_callback(progress, "pearson") as cb:
        return _core.pearson(u, v, n_threads=nt, progress=cb)
