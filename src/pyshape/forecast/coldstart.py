"""Cold start: the rest of a brand-new workload's first period from its first
few steps, by matching them to typical periods learnt from other workloads."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Tuple

import numpy as np
from numpy.typing import ArrayLike

from pyshape._validation import check_bool, make_rng
from pyshape.forecast._checks import as_shapes3, back, check_count, check_period
from pyshape.forecast.profile import constant_rows, fit_shape_clusters

if TYPE_CHECKING:  # pragma: no cover (pyshape.cluster is imported on first use: it may load scikit-learn)
    from pyshape.cluster._base import RandomState

__all__ = ["ColdStart", "carry_forward"]

_HOW = ("mean", "median", "last")
_LEVELS = ("median", "mean")
_MATCHES = ("mae", "corr")

# Library periods kept to calibrate the shrinkage: about 250 per cluster at
# the default 16, and a bounded cost per new h (a sort of this many periods).
_CALIBRATION_PERIODS = 4096


def _check_choice(value: Any, name: str, choices: Tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def _check_partial(partial: ArrayLike, period: int) -> Tuple[np.ndarray, bool]:
    x, flat = as_shapes3(partial, "partial")
    h = x.shape[2]
    if h >= period:
        raise ValueError(f"partial has {h} observed steps; it must be shorter than the "
                         f"period of {period} (nothing left to forecast)")
    return x, flat


def _level(x: np.ndarray, how: str) -> np.ndarray:
    """The level of every row of ``x`` (..., h) in float64: its mean, median or last value."""
    if how == "last":
        return x[..., -1].astype(np.float64)
    if how == "median":
        # in float64, so that the middle pair's mean is not rounded to float32 first
        return np.median(x.astype(np.float64), axis=-1)
    return x.mean(axis=-1, dtype=np.float64)


def _fill(x: np.ndarray, period: int, how: str) -> np.ndarray:
    """(n, R, period): ``x`` observed, then its level (:func:`_level`) repeated."""
    n, R, h = x.shape
    out = np.empty((n, R, period), dtype=np.float32)
    out[:, :, :h] = x
    out[:, :, h:] = _level(x, how)[:, :, None]
    return out


def carry_forward(partial: ArrayLike, period: int, *, how: str = "mean") -> np.ndarray:
    """Naive cold-start baseline: keep the observed steps, then repeat one level.

    Parameters
    ----------
    partial : array_like, shape (n, R, h) or (n, h)
        The first ``h`` steps of a period, ``1 <= h < period``; finite, >= 0.
    period : int
        Steps in the whole period.
    how : {'mean', 'median', 'last'}, default 'mean'
        The level repeated: the mean of the observed steps, their median,
        or the last one. The mean is the usual naive baseline (single steps
        are noisy: it beats the last step on most Bitbrains memory series).
        The median is the stronger baseline under MAE, which medians
        minimise: on the Bitbrains month from the first 2 hours it has a
        lower MAE than the mean on 56% of the (VM, day) CPU series (higher
        on 30%), and on the Azure sample from the first 15 minutes on 66%
        of the functions (higher on 7%); see ``bench/RESULTS.md``.

    Returns
    -------
    ndarray of float32, shape (n, R, period) or (n, period)
        The observed steps unchanged, then the level.

    Raises
    ------
    ValueError
        If ``h >= period``, ``period < 1``, ``how`` is unknown, or
        ``partial`` is empty, not 2-D / 3-D, or has a NaN, infinite or
        negative value.

    Examples
    --------
    >>> import numpy as np
    >>> from pyshape.forecast import carry_forward
    >>> carry_forward(np.array([[1.0, 3.0]]), period=5).tolist()
    [[1.0, 3.0, 2.0, 2.0, 2.0]]
    >>> carry_forward(np.array([[1.0, 3.0]]), period=5, how="last").tolist()
    [[1.0, 3.0, 3.0, 3.0, 3.0]]
    >>> carry_forward(np.array([[1.0, 9.0, 2.0]]), period=5, how="median").tolist()
    [[1.0, 9.0, 2.0, 2.0, 2.0]]
    """
    how = _check_choice(how, "how", _HOW)
    period = check_period(period)
    x, flat = _check_partial(partial, period)
    return back(_fill(x, period, how), flat)


def _prefix_corr(P: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Pearson r (n, k) of rows ``P`` (n, h) with rows ``C`` (k, h) in float64; 0
    where either side is constant."""
    def unit(a: np.ndarray) -> np.ndarray:
        d = a - a.mean(axis=1, keepdims=True)
        nrm = np.linalg.norm(d, axis=1, keepdims=True)
        return np.divide(d, nrm, out=np.zeros_like(d), where=nrm > 0)

    return unit(P) @ unit(C).T


def match_profiles(P: np.ndarray, C: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best profile of every observed prefix by correlation, and its least-squares scale.

    ``P`` (n, h) observed steps, ``C`` (k, period) profiles, both float64.
    Returns ``(best, ok, s)``: the profile whose first h steps correlate best
    with the row (ties: the lower number), whether to use it (the row is not
    constant and the best correlation is positive), and the scale ``s >= 0``
    minimising ``|P - s * C[best, :h]|^2``.
    """
    n, h = P.shape
    corr = _prefix_corr(P, C[:, :h])
    best = corr.argmax(axis=1)
    mu = P.mean(axis=1)
    ok = (corr[np.arange(n), best] > 0) & ~constant_rows(P, mu, P.std(axis=1))
    c = C[best, :h]
    den = (c * c).sum(axis=1)
    # a profile that correlates positively is not constant there, so den > 0 where ok
    s = np.divide((P * c).sum(axis=1), den, out=np.zeros(n), where=ok)
    return best, ok, np.maximum(s, 0.0)


def weighted_median(v: np.ndarray, w: np.ndarray) -> float:
    """The lower weighted median: a minimiser of ``sum(w * |v - b|)`` over b (w >= 0, sum > 0)."""
    o = np.argsort(v, kind="stable")
    cw = np.cumsum(w[o])
    return float(v[o][np.searchsorted(cw, 0.5 * cw[-1])])


def _row_weighted_medians(v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """:func:`weighted_median` of every row of ``v`` (..., L) with weights ``w`` (same
    shape, >= 0); 0 for a row whose weights are all 0."""
    o = np.argsort(v, axis=-1, kind="stable")
    cw = np.cumsum(np.take_along_axis(w, o, axis=-1), axis=-1)
    total = cw[..., -1:]
    # first position whose cumulative weight reaches half (np.searchsorted's side='left')
    pos = (cw < 0.5 * total).sum(axis=-1, keepdims=True)
    pos = np.minimum(pos, v.shape[-1] - 1)
    med = np.take_along_axis(np.take_along_axis(v, o, axis=-1), pos, axis=-1)[..., 0]
    return np.where(total[..., 0] > 0, med, 0.0)


# Elements of one (rows, profiles, h) block of match_profiles_mae: bounds its
# temporaries to some tens of MB whatever the number of rows.
_MATCH_BLOCK = 1 << 20


def match_profiles_mae(P: np.ndarray, C: np.ndarray, level: np.ndarray
                       ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best profile of every observed prefix by absolute error, and its scale.

    ``P`` (n, h) observed steps, ``C`` (k, period) profiles (>= 0), both
    float64, ``level`` (n,) the flat forecast of every row. For each row and
    profile ``c = C[j, :h]``, ``s_j >= 0`` minimises ``sum |P - s * c|`` (the
    lower weighted median of ``P / c`` with weights ``c``, over the steps with
    ``c > 0``; 0 when there are none). Returns ``(best, ok, s)``: the profile
    with the least such error (ties: the lower number), whether to use it
    (its error is below that of the flat ``level``, so a constant prefix
    never uses one), and its ``s``.
    """
    n, h = P.shape
    c = C[:, :h]
    k = c.shape[0]
    best = np.empty(n, dtype=np.int64)
    err_best = np.empty(n)
    s = np.empty(n)
    rows = max(1, _MATCH_BLOCK // max(1, k * h))
    for a in range(0, n, rows):
        X = P[a:a + rows, None, :]
        # steps where the profile is 0 get weight 0 and sort last (+inf)
        ratio = np.divide(X, c, out=np.full((X.shape[0], k, h), np.inf), where=c > 0)
        sj = _row_weighted_medians(ratio, np.broadcast_to(c, ratio.shape))
        err = np.abs(X - sj[:, :, None] * c).sum(axis=2)
        b = err.argmin(axis=1)
        i = np.arange(len(b))
        best[a:a + rows], err_best[a:a + rows], s[a:a + rows] = b, err[i, b], sj[i, b]
    ok = err_best < np.abs(P - level[:, None]).sum(axis=1)
    return best, ok, np.where(ok, s, 0.0)


class ColdStart:
    """Forecast the rest of a brand-new workload's period from its first steps.

    :meth:`fit` learns typical periods from a library of whole past periods:
    per resource, the periods are clustered by shape
    (:class:`pyshape.CorrelationKMeans`, constant periods left out), and
    every cluster's *profile* is the per-step median of its members, each
    divided by its own mean (a median, since forecasts are judged by their
    absolute error; the division keeps how far a typical member swings
    around its level). :meth:`predict` fits every profile's first ``h``
    steps to the ``h`` observed steps ``x`` of every new shape, at the
    scale ``s >= 0`` with the least absolute error ``sum |x - s * p|``
    (a weighted median), takes the profile with the least such error and
    forecasts ``s * p`` for the steps not seen yet. The observed steps are
    kept as observed.

    A short prefix often matches a profile by chance, and then ``s * p`` is
    worse than repeating the observed *level* ``m`` (:func:`carry_forward`).
    So by default (``shrink=True``) the forecast is ``m + beta * (s * p - m)``
    with one ``beta`` in [0, 1] per profile and prefix length, the one with
    the least absolute error on the library's own periods cut to the same
    ``h`` (see :meth:`shrinkage`): profiles that predict well keep ``beta``
    near 1, profiles whose matches are luck get ``beta`` near 0.

    The level is the median of the observed steps by default: under MAE
    a median is the better flat forecast of spiky, mostly flat workloads
    (most Bitbrains VM-days, sparse Azure functions). The previous
    behaviour, correlation matching and the observed mean, is
    ``ColdStart(level='mean', match='corr')``. Measured by
    ``bench/coldstart.py`` (``bench/RESULTS.md``, "Cold start"): from the
    first 2 hours of a Bitbrains VM-day (VMs not in the library) the MAE
    is lower than :func:`carry_forward` (the mean) on 56% of the CPU and
    52% of the memory series, higher on 30% / 39% (previous behaviour:
    lower on 26% / 29%, higher on 19% / 28%); from the first 15 minutes
    of an Azure function's hour, lower on 67% and higher on 4-6%
    (previous: 50-54% / 11-16%). Most of the Bitbrains gain is the median
    itself (``carry_forward(how='median')`` does about as well: most of
    those days are flat noise that no profile explains); on the Azure
    sample the profiles add to it.

    Falls back to the level for a shape whose observed steps are constant
    (``h = 1`` included), for a resource whose library periods are all
    constant, and when no profile fits the observed steps better than the
    flat level (``match='mae'``) or none correlates positively with them
    (``match='corr'``).

    Parameters
    ----------
    n_clusters : int, default 16
        Profiles per resource; clamped to the number of non-constant library
        periods (so a library smaller than ``n_clusters`` is allowed).
    random_state : int, numpy Generator or None, default 0
        Seed of the k-means seeding and of the calibration sample.
    shrink : bool, default True
        Shrink every forecast towards the observed level, as calibrated on
        the library; False gives the matched profile ``s * p`` itself, which
        can overshoot badly when a profile is near 0 over the observed steps
        (``s`` is then large).
    level : {'median', 'mean'}, default 'median'
        The flat forecast shrunk to and fallen back to: the median or the
        mean of the observed steps.
    match : {'mae', 'corr'}, default 'mae'
        How the profile is chosen and scaled: ``'mae'`` as above;
        ``'corr'`` the profile whose first ``h`` steps correlate best with
        the observed ones (Pearson), scaled by least squares
        (``s = <x, p> / <p, p>``, at least 0).

    Attributes
    ----------
    profiles_ : tuple of R ndarrays of float32, shape (k_r, period)
        The profiles of every resource (each member divided by its mean,
        then the per-step median).
    labels_ : ndarray of int64, shape (m, R)
        Cluster of every library period per resource; -1 for a constant one.
    period_ : int
        Steps per period of the library.
    n_resources_ : int

    Notes
    -----
    The shrinkage is calibrated on up to 4096 library periods (a random
    sample, kept from :meth:`fit`) the first time a prefix length ``h`` is
    predicted, and cached per ``h``. The profiles were fitted on these same
    periods, which makes the calibration slightly optimistic for small
    clusters.

    Examples
    --------
    >>> import numpy as np
    >>> from pyshape.forecast import ColdStart
    >>> t = np.arange(24)
    >>> rng = np.random.default_rng(0)
    >>> lib = np.vstack([1.5 + np.sin(2 * np.pi * t / 24) * rng.uniform(0.8, 1, (30, 1)),
    ...                  1.5 + np.cos(2 * np.pi * t / 24) * rng.uniform(0.8, 1, (30, 1))])
    >>> cs = ColdStart(n_clusters=2).fit(lib)
    >>> new = 3 * (1.5 + np.cos(2 * np.pi * t / 24))
    >>> f = cs.predict(new[None, :6])
    >>> bool(np.abs(f[0] - new).max() < 0.5), bool((f[0, :6] == new[:6].astype(np.float32)).all())
    (True, True)
    """

    def __init__(self, n_clusters: int = 16, random_state: RandomState = 0, shrink: bool = True,
                 level: str = "median", match: str = "mae") -> None:
        self.n_clusters = check_count(n_clusters, "n_clusters")
        self.random_state = random_state
        self.shrink = check_bool(shrink, "shrink")
        self.level = _check_choice(level, "level", _LEVELS)
        self.match = _check_choice(match, "match", _MATCHES)

    @property
    def name(self) -> str:
        """Short label for tables (the options that differ from the defaults)."""
        extra = "" if self.shrink else ", shrink=False"
        if self.level != "median":
            extra += f", level={self.level!r}"
        if self.match != "mae":
            extra += f", match={self.match!r}"
        return f"ColdStart(n_clusters={self.n_clusters}{extra})"

    def __repr__(self) -> str:
        return self.name

    def fit(self, days: ArrayLike) -> "ColdStart":
        """Learn the profiles from whole past periods.

        Parameters
        ----------
        days : array_like, shape (m, R, period) or (m, period)
            One whole period per row (of any workloads); finite, >= 0.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            On NaN, infinite or negative values, an empty library, or a
            wrong number of dimensions.
        """
        k = check_count(self.n_clusters, "n_clusters")
        x, _ = as_shapes3(days, "days")
        m, R, period = x.shape
        rng = make_rng(self.random_state)
        profiles, labels = [], np.empty((m, R), dtype=np.int64)
        for r in range(R):
            lab, _ = fit_shape_clusters(x[:, r, :], k, rng)
            kr = int(lab.max()) + 1
            prof = np.empty((kr, period), dtype=np.float32)
            for j in range(kr):
                M = x[lab == j, r, :].astype(np.float64)
                prof[j] = np.median(M / M.mean(axis=1, keepdims=True), axis=0)
            profiles.append(prof)
            labels[:, r] = lab
        keep = np.sort(rng.choice(m, min(m, _CALIBRATION_PERIODS), replace=False))
        self.profiles_ = tuple(profiles)
        self.labels_ = labels
        self.period_ = period
        self.n_resources_ = R
        self._calibration = x[keep].copy()  # a copy: the library may change after fit
        self._betas: Dict[int, tuple] = {}
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "profiles_"):
            raise ValueError("this ColdStart is not fitted yet: call fit(days) with a library "
                             "of whole periods first")

    def shrinkage(self, h: int) -> tuple:
        """The shrinkage factor of every profile for prefixes of ``h`` steps.

        ``beta_j`` minimises, over the calibration periods whose first ``h``
        steps match profile j (as :meth:`predict` matches, with the same
        ``level`` and ``match``), the absolute error of
        ``m + beta * (s * p_j - m)`` on the remaining steps, ``m`` the
        observed level (a weighted median, clipped to [0, 1]); 0 for a
        profile that no calibration period matches.

        Parameters
        ----------
        h : int
            Observed steps, ``1 <= h < period``.

        Returns
        -------
        tuple of R ndarrays of float64, shape (k_r,)
        """
        self._check_fitted()
        h = check_count(h, "h")
        if h >= self.period_:
            raise ValueError(f"h={h} must be shorter than the period of {self.period_}")
        if h not in self._betas:
            self._betas[h] = tuple(self._calibrate(r, h) for r in range(self.n_resources_))
        return self._betas[h]

    def _match(self, P: np.ndarray, C: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(best, ok, s, m)`` of prefixes ``P`` (n, h) against profiles ``C``, float64;
        ``m`` (n,) is the flat level the forecast falls back and shrinks to."""
        m = _level(P, _check_choice(self.level, "level", _LEVELS))
        if _check_choice(self.match, "match", _MATCHES) == "corr":
            return (*match_profiles(P, C), m)
        return (*match_profiles_mae(P, C, m), m)

    def _calibrate(self, r: int, h: int) -> np.ndarray:
        C = self.profiles_[r].astype(np.float64)
        beta = np.zeros(C.shape[0])
        if C.shape[0] == 0:
            return beta
        D = self._calibration[:, r, :].astype(np.float64)
        best, ok, s, m = self._match(D[:, :h], C)
        m = m[:, None]
        # error of m + b * d against the actual a is sum |d| * |b - (a - m) / d|
        d = s[:, None] * C[best, h:] - m
        a = D[:, h:] - m
        for j in np.unique(best[ok]):
            dj, aj = d[ok & (best == j)].ravel(), a[ok & (best == j)].ravel()
            nz = dj != 0
            if nz.any():
                b = weighted_median(aj[nz] / dj[nz], np.abs(dj[nz]))
                beta[j] = min(max(b, 0.0), 1.0)  # a convex error: the clipped minimiser
        return beta

    def predict(self, partial: ArrayLike) -> np.ndarray:
        """The whole period of every new shape from its first ``h`` steps.

        Parameters
        ----------
        partial : array_like, shape (n, R, h) or (n, h)
            The first ``h`` steps of a period, ``1 <= h < period``, with the
            library's R resources (2-D only when R = 1); finite, >= 0.

        Returns
        -------
        ndarray of float32, shape (n, R, period) or (n, period)
            Steps ``[0, h)`` exactly as observed, the rest forecast (>= 0).

        Raises
        ------
        ValueError
            Before :meth:`fit`; if ``h >= period`` or R differs from the
            library's; on NaN, infinite or negative values.
        """
        self._check_fitted()
        x, flat = _check_partial(partial, self.period_)
        if x.shape[1] != self.n_resources_:
            raise ValueError(f"partial has {x.shape[1]} resources, but the library was fitted "
                             f"on {self.n_resources_}")
        n, R, h = x.shape
        level = _check_choice(self.level, "level", _LEVELS)
        out = _fill(x, self.period_, level)
        betas = self.shrinkage(h) if self.shrink else None
        for r in range(R):
            C = self.profiles_[r].astype(np.float64)
            if C.shape[0] == 0:
                continue
            best, ok, s, m = self._match(x[:, r, :].astype(np.float64), C)
            f = s[ok, None] * C[best[ok], h:]
            if betas is not None:
                m = m[ok, None]
                # m + beta * (f - m) < 0 only where m < 0 or f < 0: never, both are >= 0
                f = m + betas[r][best[ok], None] * (f - m)
            out[ok, r, h:] = f
        return back(out, flat)
