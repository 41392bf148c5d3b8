"""Shape clustering: k-Shape and correlation k-means, as scikit-learn estimators.

Both work on shapes (rows of an ``(n, T)`` array), z-normalised inside, so only
the form of a series matters, not its level or scale:

* :class:`CorrelationKMeans` groups shapes by Pearson correlation (spherical
  k-means on the z-normalised rows): fast, for when shifts do not matter.
* :class:`KShape` groups shapes by the shape-based distance (SBD: one minus the
  largest normalised cross-correlation over shifts, Paparrizos & Gravano,
  SIGMOD 2015), with shape extraction for centroids: for when the same shape
  occurs at different times.

The core loops (assignment against the centroids, per-cluster sums, alignment
of members) run in C++ on all cores and give the same result for any thread
count. scikit-learn is optional: when it is importable the estimators subclass
its ``BaseEstimator``, ``ClusterMixin`` and ``TransformerMixin`` (so they clone,
pickle and sit in a ``Pipeline``, and pass scikit-learn's ``check_estimator``
except ``check_clustering``, see ``_base.SKLEARN_EXPECTED_FAILED_CHECKS``);
without it they offer the same ``get_params`` / ``set_params`` /
``fit_predict`` / ``fit_transform`` / ``get_feature_names_out`` /
``set_output`` ("default" or "pandas"). As scikit-learn estimators do, they
refuse 1-D input (one shape is ``X.reshape(1, -1)``; the functions such as
:func:`pyshape.pearson` take 1-D as one shape), check ``n_features_in_`` and,
after a fit on a DataFrame, ``feature_names_in_``.

Defined behaviour, shared by both estimators
--------------------------------------------
* ``n_clusters > n``: ``ValueError``.
* NaN or infinite input: ``ValueError`` naming the first bad row.
* Distances (``transform``, ``inertia_``, ``score``) are clamped to their range
  ``[0, 2]``: float32 rounding would otherwise leave ``1 - r`` of a shape with
  itself at about ``-1e-7``.
* Constant shapes (no spread) z-normalise to all zeros: their correlation and
  cross-correlation with anything is 0, so their distance (``1 - r``, SBD) to
  every centroid is 1; they go to the lowest-numbered cluster (ties always go
  to the lower cluster number) unless they are re-seeded (next point).
* Empty clusters (after any assignment step) are re-seeded from the farthest
  point: the shape with the largest distance to its own centroid, taken from a
  cluster that keeps at least one member, becomes the cluster's only member and
  its centroid. So no cluster in a fitted model is empty.
* Duplicate shapes are ordinary shapes. With fewer distinct shapes than
  clusters some centroids coincide (re-seeding still keeps every cluster
  non-empty); ties go to the lower cluster number.
"""
from __future__ import annotations

from pyshape.cluster.kmeans import CorrelationKMeans
from pyshape.cluster.kshape import KShape

__all__ = ["CorrelationKMeans", "KShape"]
