"""scikit-learn's estimator checks on pyshape.CorrelationKMeans and pyshape.KShape.

Every check of ``check_estimator`` runs as its own test; the one that cannot
apply to shape clustering is an expected (strict) failure with its reason,
``pyshape.cluster._base.SKLEARN_EXPECTED_FAILED_CHECKS``. The checks that
``check_estimator`` does not yield (set_output, feature names in and out) run
explicitly below. The whole module is skipped without scikit-learn >= 1.6.
"""
from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn", minversion="1.6")

from sklearn.utils import estimator_checks
from sklearn.utils.estimator_checks import parametrize_with_checks

import pyshape
from pyshape.cluster._base import SKLEARN_EXPECTED_FAILED_CHECKS

ESTIMATORS = [pyshape.CorrelationKMeans(), pyshape.KShape()]


def expected_failed_checks(estimator) -> dict:
    return dict(SKLEARN_EXPECTED_FAILED_CHECKS)


# strict where this scikit-learn can (1.8+): a check that starts passing must lose its tag
_STRICT = ({"xfail_strict": True}
           if "xfail_strict" in inspect.signature(parametrize_with_checks).parameters else {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks, **_STRICT)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# Checks that check_estimator does not run (scikit-learn runs them on its own
# estimators in its test suite); those needing pandas skip without it.
EXTRA_CHECKS = [
    "check_get_feature_names_out_error",
    "check_transformer_get_feature_names_out",
    "check_transformer_get_feature_names_out_pandas",
    "check_set_output_transform",
    "check_set_output_transform_pandas",
    "check_global_output_transform_pandas",
    "check_dataframe_column_names_consistency",
]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("check", EXTRA_CHECKS)
def test_sklearn_extra_checks(estimator, check):
    fn = getattr(estimator_checks, check, None)
    if fn is None:
        pytest.skip(f"{check} is not in this scikit-learn")
    # these checks transform arrays after fitting on DataFrames on purpose:
    # the feature-name UserWarning is expected there
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fn(type(estimator).__name__, estimator)


@pytest.mark.parametrize("cls", [pyshape.CorrelationKMeans, pyshape.KShape])
def test_check_clustering_cannot_apply_to_shapes(cls):
    """Why check_clustering is an expected failure: its 2-feature blob points,
    z-normalised, are only two distinct shapes, and the best split into shapes
    stays under the adjusted Rand index of 0.4 that the check asks for."""
    from sklearn.datasets import make_blobs
    from sklearn.metrics import adjusted_rand_score
    from sklearn.preprocessing import StandardScaler
    from sklearn.utils import shuffle

    X, y = make_blobs(n_samples=50, random_state=1)  # what check_clustering builds
    X, y = shuffle(X, y, random_state=7)
    X = StandardScaler().fit_transform(X)
    assert X.shape[1] == 2
    U = pyshape.znorm(X)
    assert len(np.unique(np.round(U, 5), axis=0)) == 2  # every point is (1, -1) or (-1, 1)
    best = adjusted_rand_score(y, U[:, 0] > 0)
    assert best < 0.4
    labels = cls(n_clusters=3, random_state=0).fit(X).labels_
    assert adjusted_rand_score(y, labels) <= best + 1e-12
    # on data with more than two steps per point the clusterers pass the check's bar
    X3, y3 = make_blobs(n_samples=50, n_features=8, random_state=1)
    assert adjusted_rand_score(y3, cls(n_clusters=3, random_state=0).fit(X3).labels_) > 0.4
