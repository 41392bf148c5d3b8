"""Forecast errors per shape: mean absolute error and peak error.

Both take ``(actual, pred)``: what happened first, then the forecast, in
scikit-learn's order (``y_true, y_pred``) and :func:`pyshape.plot.plot_forecast`'s.
(Before 0.2 the order was ``(pred, actual)``; the names are unchanged, so calls
by keyword, ``mae(actual=a, pred=p)``, mean the same in every version.)
"""
from __future__ import annotations

from typing import Tuple

import numpy as np
from numpy.typing import ArrayLike

from pyshape._validation import check_bool
from pyshape.forecast._checks import as_shapes3

__all__ = ["mae", "peak_error"]


def _pair(actual: ArrayLike, pred: ArrayLike) -> Tuple[np.ndarray, np.ndarray, bool]:
    """``(a, p, flat)``: validated actual and forecast, and whether they came as ``(n, T)``."""
    a, flat_a = as_shapes3(actual, "actual", finite_only=True)
    p, flat_p = as_shapes3(pred, "pred", finite_only=True)
    if p.shape != a.shape or flat_p != flat_a:
        raise ValueError(f"actual and pred must have the same shape, got "
                         f"{np.shape(actual)} and {np.shape(pred)}")
    return a, p, flat_a


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den with NumPy's conventions for den = 0 (0/0 = nan, x/0 = +-inf), silently."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return num / den


def mae(actual: ArrayLike, pred: ArrayLike, *, per_resource: bool = False, relative: bool = False) -> np.ndarray:
    """Mean absolute error of every shape.

    Parameters
    ----------
    actual, pred : array_like, shape (n, R, T) or (n, T)
        What happened and the forecast; same shape, finite.
    per_resource : bool, default False
        Keep one value per resource, ``(n, R)``, instead of the mean over
        resources. A 2-D input has no resource axis and gives ``(n,)`` either way.
    relative : bool, default False
        Divide each resource's MAE by its mean actual value (the weighted
        absolute percentage error, a unit-free number) before any mean over
        resources; so resources in different units (MHz, GB) weigh alike.
        A resource whose actual mean is 0 gives inf (nan if its MAE is 0 too).

    Returns
    -------
    ndarray of float64, shape (n,) or (n, R)

    Raises
    ------
    ValueError
        On shapes that differ, are not 2-D / 3-D, or hold NaN / infinite values.

    Examples
    --------
    >>> import numpy as np
    >>> from pyshape.forecast import mae
    >>> actual, pred = np.array([[2.0, 2.0], [1.0, 3.0]]), np.array([[1.0, 2.0], [0.0, 0.0]])
    >>> mae(actual, pred).tolist(), mae(actual, pred, relative=True).tolist()
    ([0.5, 2.0], [0.25, 1.0])
    """
    per_resource, relative = check_bool(per_resource, "per_resource"), check_bool(relative, "relative")
    a, p, flat = _pair(actual, pred)
    err = np.abs(p.astype(np.float64) - a).mean(axis=2)
    if relative:
        err = _ratio(err, a.mean(axis=2, dtype=np.float64))
    if flat:
        return err[:, 0]
    return err if per_resource else err.mean(axis=1)


def peak_error(actual: ArrayLike, pred: ArrayLike, *, relative: bool = False) -> np.ndarray:
    """Signed error of the peak: ``max(pred) - max(actual)`` per shape and resource.

    Positive means the forecast over-provisions the peak, negative that it
    misses it. The peaks need not be at the same step.

    Parameters
    ----------
    actual, pred : array_like, shape (n, R, T) or (n, T)
        What happened and the forecast; same shape, finite.
    relative : bool, default False
        Divide by ``max(actual)``; an actual peak of 0 gives inf (nan when the
        forecast's peak is 0 too).

    Returns
    -------
    ndarray of float64, shape (n, R) or (n,) for 2-D input

    Raises
    ------
    ValueError
        On shapes that differ, are not 2-D / 3-D, or hold NaN / infinite values.

    Examples
    --------
    >>> import numpy as np
    >>> from pyshape.forecast import peak_error
    >>> peak_error(actual=np.array([[4.0, 2.0]]), pred=np.array([[1.0, 5.0]])).tolist()
    [1.0]
    """
    relative = check_bool(relative, "relative")
    a, p, flat = _pair(actual, pred)
    pa = a.max(axis=2).astype(np.float64)
    err = p.max(axis=2).astype(np.float64) - pa
    if relative:
        err = _ratio(err, pa)
    return err[:, 0] if flat else err
