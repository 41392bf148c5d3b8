"""ClusterProfile: forecast every workload by its cluster's typical day, rescaled
to the workload's own level and spread (smooth: the noise of single days and of
single workloads averages out)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, Tuple

import numpy as np

from pyshape.forecast._checks import check_count, check_window, last_periods
from pyshape.forecast.seasonal import Forecaster, _window_name

if TYPE_CHECKING:  # pragma: no cover (pyshape.cluster is imported on first use: it may load scikit-learn)
    from pyshape.cluster._base import RandomState

__all__ = ["ClusterProfile"]

_SCALES = ("mean", "lsq")


def _check_scale(scale: Any) -> str:
    if scale not in _SCALES:
        raise ValueError(f"scale must be one of {_SCALES}, got {scale!r}")
    return scale


def constant_rows(P: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Rows with no spread beyond float32 rounding of their level (these
    z-normalise to zeros, so they carry no shape to cluster or match)."""
    return sd <= 4 * np.finfo(np.float32).eps * np.abs(mu)


def fit_shape_clusters(P: np.ndarray, n_clusters: int, random_state: RandomState) -> Tuple[np.ndarray, np.ndarray]:
    """Cluster the non-constant rows of ``P`` (m, L) with CorrelationKMeans.

    Returns ``(labels, centers)``: labels (m,) with -1 for constant rows, and
    the z-normalised centroids (k, L) in float64, ``k = min(n_clusters,
    number of non-constant rows)`` (k = 0 when every row is constant).
    """
    from pyshape.cluster import CorrelationKMeans

    mu, sd = P.mean(axis=1, dtype=np.float64), P.std(axis=1, dtype=np.float64)
    live = ~constant_rows(P, mu, sd)
    labels = np.full(P.shape[0], -1, dtype=np.int64)
    k = min(n_clusters, int(live.sum()))
    if k == 0:
        return labels, np.zeros((0, P.shape[1]))
    km = CorrelationKMeans(k, random_state=random_state).fit(P[live])
    labels[live] = km.labels_
    return labels, km.cluster_centers_.astype(np.float64)


class ClusterProfile(Forecaster):
    """Forecast = the workload's cluster centroid day, at its own level and spread.

    For every workload and resource the mean day over the last ``window``
    periods (its *profile*) is computed. Profiles are clustered by shape
    (Pearson correlation, :class:`pyshape.CorrelationKMeans` on the
    z-normalised profiles), one clustering per resource: a workload's CPU
    and memory days are often unrelated (flat memory, diurnal CPU), and one
    clustering of the concatenated resources would need a cluster for every
    combination of a CPU shape and a memory shape. The forecast is the
    cluster's centroid (z-normalised) rescaled to the profile's own mean and
    spread, clipped at 0: a smooth, noise-free day shared with similar
    workloads.

    Parameters
    ----------
    n_clusters : int, default 16
        Clusters per resource. Clamped to the number of workloads whose
        profile is not constant (so ``n < n_clusters`` is allowed; with
        ``n_clusters >= n`` every distinct profile is its own cluster and the
        forecast is the profile itself, i.e. :class:`PeriodMean`).
    window : int, optional
        Periods averaged into the profile; all by default.
    random_state : int, numpy Generator or None, default 0
        Seed of the k-means seeding.
    scale : {'mean', 'lsq'}, default 'mean'
        ``'mean'``: ``mean + std * centroid`` (the forecast has the
        profile's mean and standard deviation). ``'lsq'``: the least-squares
        fit of ``a + b * centroid`` to the profile, ``b = r * std`` with
        ``r`` its correlation to the centroid (clipped at 0): shrinks the
        swing of workloads that fit their cluster poorly.

    Attributes
    ----------
    labels_ : ndarray of int64, shape (n, R)
        After :meth:`forecast`: every workload's cluster per resource, -1 for a
        constant profile (all-zero rows included), whose forecast is that
        constant.
    centers_ : tuple of R ndarrays, shape (k_r, period)
        The z-normalised centroids per resource, float32.

    Examples
    --------
    >>> import numpy as np
    >>> from pyshape.forecast import ClusterProfile
    >>> day = np.sin(np.linspace(0, 2 * np.pi, 24, endpoint=False)) + 1.5
    >>> rng = np.random.default_rng(0)
    >>> h = np.tile(day, 7) * rng.uniform(1, 3, (20, 1)) + 0.05 * rng.random((20, 168))
    >>> f = ClusterProfile(n_clusters=2).forecast(h, 24)
    >>> f.shape, bool(np.abs(f - h[:, -24:]).mean() < 0.1)
    ((20, 24), True)
    """

    def __init__(self, n_clusters: int = 16, window: Optional[int] = None,
                 random_state: RandomState = 0, scale: str = "mean") -> None:
        self.n_clusters = check_count(n_clusters, "n_clusters")
        self.window = check_window(window)
        self.random_state = random_state
        self.scale = _check_scale(scale)

    @property
    def name(self) -> str:
        extra: dict[str, object] = {"n_clusters": self.n_clusters}
        if self.scale != "mean":
            extra["scale"] = repr(self.scale)
        return _window_name("ClusterProfile", self.window, **extra)

    def _forecast(self, x: np.ndarray, period: int) -> np.ndarray:
        k = check_count(self.n_clusters, "n_clusters")
        scale = _check_scale(self.scale)
        prof = last_periods(x, period, check_window(self.window)).mean(axis=2, dtype=np.float64)
        n, R, _ = prof.shape
        out = np.empty((n, R, period), dtype=np.float32)
        self.labels_ = np.empty((n, R), dtype=np.int64)
        centers = []
        for r in range(R):
            P = prof[:, r, :]
            labels, C = fit_shape_clusters(P, k, self.random_state)
            mu, sd = P.mean(axis=1), P.std(axis=1)
            live = labels >= 0
            f = np.repeat(mu[:, None], period, axis=1)
            if live.any():
                c = C[labels[live]]
                amp = sd[live]
                if scale == "lsq":
                    # centroids have mean 0 and std 1, so r = mean(z * c)
                    z = (P[live] - mu[live, None]) / amp[:, None]
                    amp = amp * np.clip((z * c).mean(axis=1), 0.0, None)
                f[live] += amp[:, None] * c
            np.maximum(f, 0.0, out=f)
            out[:, r, :] = f
            self.labels_[:, r] = labels
            centers.append(C.astype(np.float32))
        self.centers_ = tuple(centers)
        return out
