"""pyshape.KShape and pyshape.CorrelationKMeans: against the NumPy references in
reference_cluster.py, scikit-learn API, determinism, SIMD levels and threads,
defined edge cases, and the centroid plot."""
from __future__ import annotations

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

import pyshape
from pyshape import _core
from pyshape.cluster.kshape import _shape_extraction
import reference_cluster as rc
from reference import unit_rows

# Centroids come from float32 products (pyshape) vs float64 (reference); on the
# well-separated data below no shape is within this of a tie.
CENTROID_ATOL = 1e-4


def shifted_shapes(rng, n_per=20, T=48, k=3, max_shift=6, noise=0.15):
    """k base shapes (smooth random walks), each repeated with random shifts and noise."""
    t = np.arange(T)
    bases = [np.sin(2 * np.pi * (j + 1) * t / T + rng.uniform(0, 6)) + 0.5 * np.cos(2 * np.pi * t / T * (j + 2))
             for j in range(k)]
    X, y = [], []
    for j, b in enumerate(bases):
        for _ in range(n_per):
            s = int(rng.integers(-max_shift, max_shift + 1))
            X.append(np.roll(b, s) * rng.uniform(0.5, 2) + rng.uniform(-3, 3) + noise * rng.standard_normal(T))
            y.append(j)
    return np.array(X, dtype=np.float32), np.array(y)


# ----------------------------------------------------------------------------- k-Shape vs reference
def test_kshape_one_iteration_from_labels_matches_reference(rng):
    X, y = shifted_shapes(rng)
    k = 3
    # True labels with a quarter of them scrambled: every cluster then has a
    # dominant eigenvector (fully random labels can leave the top two nearly
    # equal, and ARPACK and eigh may then pick different, equally valid ones).
    labels0 = y.copy()
    flip = rng.random(len(X)) < 0.25
    labels0[flip] = rng.integers(k, size=int(flip.sum()))
    labels0[[0, 20, 40]] = np.arange(k)  # no empty cluster to re-seed
    ks = pyshape.KShape(k, init=labels0, max_iter=1).fit(X)
    U = unit_rows(X)
    C = rc.shape_extraction(U, labels0, np.zeros((k, X.shape[1])), np.zeros(len(X), int))
    lab, dist, shifts = rc.sbd_assign(U, C)
    # Centroids from random labels can leave a row nearly tied between two
    # clusters (float32 vs float64 then legitimately differ): compare the rows
    # whose best cluster wins by more than float32 rounding.
    per_c = np.stack([rc.sbd_assign(U, C[[c]])[1] for c in range(k)], axis=1)
    per_c.sort(axis=1)
    clear = per_c[:, 1] - per_c[:, 0] > 1e-4
    assert clear.mean() > 0.9
    np.testing.assert_array_equal(ks.labels_[clear], lab[clear])
    np.testing.assert_allclose(ks.cluster_centers_ / np.sqrt(X.shape[1]), C, atol=CENTROID_ATOL)
    np.testing.assert_array_equal(ks.lags_[clear], shifts[clear])
    assert ks.inertia_ == pytest.approx(dist.sum(), rel=1e-4)
    assert ks.n_iter_ == 1


@pytest.mark.parametrize("max_shift", [None, 3])
def test_kshape_step_with_alignment_matches_reference(rng, max_shift):
    X, _ = shifted_shapes(rng, T=40)
    U32, _ = _core.normalize_rows(X, 1.0, 1)
    U = unit_rows(X)
    C0 = U[[0, 20, 40]]
    L = X.shape[1] - 1 if max_shift is None else max_shift
    lab, _, sh = rc.sbd_assign(U, C0, max_shift)
    l2, b2, s2 = _core.sbd_assign(U32, C0.astype(np.float32), L)
    np.testing.assert_array_equal(l2, lab)
    np.testing.assert_array_equal(s2, sh)
    C1 = rc.shape_extraction(U, lab, C0, sh)
    C1p = _shape_extraction(U32, l2, s2, C0.astype(np.float32), 1)
    np.testing.assert_allclose(C1p, C1, atol=CENTROID_ATOL)
    lab2, _, _ = rc.sbd_assign(U, C1, max_shift)
    np.testing.assert_array_equal(_core.sbd_assign(U32, C1p, L)[0], lab2)


def test_kshape_finds_shifted_clusters(rng):
    X, y = shifted_shapes(rng, n_per=30)
    ks = pyshape.KShape(3, n_init=3, random_state=1).fit(X)
    adjusted_rand_score = pytest.importorskip("sklearn.metrics").adjusted_rand_score

    assert adjusted_rand_score(y, ks.labels_) > 0.9
    np.testing.assert_array_equal(ks.predict(X), ks.labels_)
    d = ks.transform(X)
    assert d.shape == (len(X), 3)
    np.testing.assert_array_equal(d.argmin(axis=1), ks.labels_)
    assert ks.inertia_ == pytest.approx(float(d.min(axis=1).sum()), rel=1e-4)


def test_kshape_max_lag_bounds_lags(rng):
    X, _ = shifted_shapes(rng)
    ks = pyshape.KShape(3, max_lag=2, random_state=0).fit(X)
    assert np.abs(ks.lags_).max() <= 2 and ks.max_lag_ == 2
    with pytest.raises(ValueError, match="max_lag"):
        pyshape.KShape(3, max_lag=X.shape[1]).fit(X)
    with pytest.raises(TypeError, match="max_lag"):
        pyshape.KShape(3, max_lag=2.0).fit(X)


def test_kshape_max_shift_and_shifts_deprecated(rng):
    """The former names still work for one release, with a FutureWarning."""
    X, _ = shifted_shapes(rng, n_per=10)
    new = pyshape.KShape(3, max_lag=2, random_state=0).fit(X)
    with pytest.warns(FutureWarning, match="max_shift was renamed max_lag"):
        old = pyshape.KShape(3, max_shift=2, random_state=0).fit(X)
    assert old.get_params()["max_shift"] == 2 and old.get_params()["max_lag"] is None
    np.testing.assert_array_equal(old.labels_, new.labels_)
    with pytest.warns(FutureWarning, match="shifts_ was renamed lags_"):
        np.testing.assert_array_equal(old.shifts_, new.lags_)
    with pytest.raises(AttributeError):  # read-only
        old.shifts_ = new.lags_
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning when the old names are not used
        pyshape.KShape(3, random_state=0).fit(X)
        assert not hasattr(pyshape.KShape(3), "shifts_")  # unfitted: no attribute, no warning
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="max_lag only"):
        pyshape.KShape(3, max_lag=2, max_shift=2).fit(X)
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="max_shift must be in"):
        pyshape.KShape(3, max_shift=X.shape[1]).fit(X)
    # a model pickled under the old names loads with the new ones
    state = dict(new.__getstate__())
    state["max_shift"] = state.pop("max_lag")
    state["shifts_"] = state.pop("lags_")
    state["max_shift_"] = state.pop("max_lag_")
    m = pyshape.KShape.__new__(pyshape.KShape)
    m.__setstate__(state)
    assert m.max_lag == 2 and m.max_shift == "deprecated" and m.max_lag_ == 2
    np.testing.assert_array_equal(m.lags_, new.lags_)
    np.testing.assert_array_equal(m.predict(X), new.predict(X))


# ----------------------------------------------------------------------------- k-means vs reference
@pytest.mark.parametrize("n,T,k", [(97, 33, 4), (300, 100, 7)])
def test_correlation_kmeans_matches_reference(rng, n, T, k):
    centers = rng.standard_normal((k, T))
    y = rng.integers(k, size=n)
    X = (centers[y] + 0.3 * rng.standard_normal((n, T))) * rng.uniform(0.5, 3, (n, 1)) + rng.uniform(-5, 5, (n, 1))
    # Start near the true centres: float32 and float64 runs from random rows can
    # meet a near-tie early and then follow different (equally valid) paths.
    init = centers + 0.1 * rng.standard_normal((k, T))
    km = pyshape.CorrelationKMeans(k, init=init, max_iter=20, tol=0.0).fit(X)
    lab, C = rc.correlation_kmeans(unit_rows(X), unit_rows(init), 20, 0.0)
    np.testing.assert_array_equal(km.labels_, lab)
    np.testing.assert_allclose(km.cluster_centers_ / np.sqrt(T), C, atol=CENTROID_ATOL)
    r = unit_rows(X) @ C.T
    assert km.inertia_ == pytest.approx((1 - r.max(axis=1)).sum(), rel=1e-4, abs=1e-3)
    np.testing.assert_allclose(km.transform(X), 1 - r, atol=1e-5)
    np.testing.assert_array_equal(km.predict(X), lab)


def test_corr_assign_blocks_and_ties(rng):
    # sizes that do not divide the row block or the micro-tile; duplicated centroids tie
    U = unit_rows(rng.standard_normal((517, 29))).astype(np.float32)
    C = U[[3, 3, 100, 200, 3]].copy()
    lab, best = _core.corr_assign(U, C, n_threads=2)
    r = U.astype(np.float64) @ C.T.astype(np.float64)
    # the chosen centroid is the best up to float32 rounding (random rows can nearly tie) ...
    np.testing.assert_allclose(r[np.arange(len(U)), lab], r.max(axis=1), atol=1e-5)
    np.testing.assert_allclose(best, r.max(axis=1), atol=1e-5)
    assert (lab == np.argmax(r, axis=1)).mean() > 0.99
    # ... and of exactly equal centroids, the first
    assert not np.isin(lab, [1, 4]).any()


def test_label_sums(rng):
    U = rng.standard_normal((301, 300)).astype(np.float32)
    lab = rng.integers(5, size=301)
    s, c = _core.label_sums(U, lab, 5, n_threads=2)
    ref = np.zeros((5, 300))
    np.add.at(ref, lab, U.astype(np.float64))
    np.testing.assert_allclose(s, ref, atol=1e-9)
    np.testing.assert_array_equal(c, np.bincount(lab, minlength=5))
    with pytest.raises(ValueError, match="label out of range"):
        _core.label_sums(U, lab + 1, 5)


def test_corr_assign_bitwise_pearson_and_fused_sums_every_level(simd, rng):
    """The assignment reads the rows in place (micro_rows) yet scores exactly as the
    blocked product of pearson() (transform) does; the fused sums are label_sums'
    bit for bit, for any thread count. Sizes: partial row tiles and panels, T not a
    multiple of the K chunk (256), more than one item of rows, k above one panel group."""
    for n, T, k in [(517, 29, 5), (203, 300, 33), (130, 1, 2), (9, 600, 70), (1, 17, 1)]:
        U = unit_rows(rng.standard_normal((n, T))).astype(np.float32)
        C = U[rng.integers(n, size=k)].copy()
        C[-1] = -C[0]  # a centroid no row may pick: its sum stays 0
        lab, best = _core.corr_assign(U, C, n_threads=2)
        r = _core.pearson(U, C, n_threads=2)
        np.testing.assert_array_equal(lab, r.argmax(axis=1))
        np.testing.assert_array_equal(best, r[np.arange(n), lab])
        ref = np.zeros((k, T))
        for i in range(n):  # each cluster's members added in row order
            ref[lab[i]] += U[i].astype(np.float64)
        for nt in (1, 2, 3):
            l2, b2, s2 = _core.corr_assign_sums(U, C, n_threads=nt)
            np.testing.assert_array_equal(l2, lab)
            np.testing.assert_array_equal(b2, best)
            np.testing.assert_array_equal(s2, _core.label_sums(U, l2, k, n_threads=nt)[0])
            np.testing.assert_array_equal(s2, ref)
    with pytest.raises(ValueError, match="differ in length"):
        _core.corr_assign_sums(U, np.zeros((2, T + 1), np.float32))


def test_corr_assign_large_blocks_threads(rng):
    """Many items of rows handed over in order: the sums do not depend on the thread count."""
    U = unit_rows(rng.standard_normal((5000, 64)) + np.sin(np.arange(64))).astype(np.float32)
    C = U[:40].copy()
    out = [_core.corr_assign_sums(U, C, n_threads=nt) for nt in (1, 2, 4, 7)]
    for lab, best, sums in out[1:]:
        np.testing.assert_array_equal(lab, out[0][0])
        np.testing.assert_array_equal(best, out[0][1])
        np.testing.assert_array_equal(sums, out[0][2])
    np.testing.assert_allclose(out[0][2].sum(axis=0), U.astype(np.float64).sum(axis=0), atol=1e-9)


# ----------------------------------------------------------------------------- determinism
@pytest.mark.parametrize("cls", [pyshape.KShape, pyshape.CorrelationKMeans])
def test_random_state_and_threads_deterministic(rng, cls):
    X, _ = shifted_shapes(rng, n_per=25)
    a = cls(3, n_init=2, random_state=7, n_threads=1).fit(X)
    b = cls(3, n_init=2, random_state=7, n_threads=2).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    assert a.inertia_ == b.inertia_ and a.n_iter_ == b.n_iter_


@pytest.mark.parametrize("cls", [pyshape.KShape, pyshape.CorrelationKMeans])
def test_every_simd_level(simd, cls):
    X, y = shifted_shapes(np.random.default_rng(3), n_per=15)
    m = cls(3, n_init=2, random_state=0).fit(X)
    ref = getattr(test_every_simd_level, "_ref", {})
    key = cls.__name__
    if key not in ref:  # the first level seen; the others must agree
        ref[key] = m.labels_.copy()
        test_every_simd_level._ref = ref
    np.testing.assert_array_equal(m.labels_, ref[key])
    np.testing.assert_array_equal(m.predict(X), m.labels_)


def test_assign_kernels_every_simd_level(simd, rng):
    U = unit_rows(rng.standard_normal((203, 71))).astype(np.float32)
    C = U[:9].copy()
    lab, best = _core.corr_assign(U, C)
    r = U.astype(np.float64) @ C.T
    np.testing.assert_allclose(best, r.max(axis=1), atol=1e-5)
    lab2, b2, s2 = _core.sbd_assign(U, C, 70)
    d = np.array([[rc.sbd(u, c)[0] for c in C.astype(np.float64)] for u in U.astype(np.float64)])
    np.testing.assert_allclose(b2, 1 - d.min(axis=1), atol=1e-5)


# ----------------------------------------------------------------------------- edge cases
@pytest.mark.parametrize("cls", [pyshape.KShape, pyshape.CorrelationKMeans])
def test_k_larger_than_n(cls):
    with pytest.raises(ValueError, match="n_clusters=5 is larger than the number of shapes n=4"):
        cls(5).fit(np.random.default_rng(0).standard_normal((4, 10)))


@pytest.mark.parametrize("cls", [pyshape.KShape, pyshape.CorrelationKMeans])
def test_nan_names_row(cls):
    X = np.random.default_rng(0).standard_normal((10, 12))
    X[6, 3] = np.nan
    with pytest.raises(ValueError, match="row 6"):
        cls(2).fit(X)


@pytest.mark.parametrize("cls", [pyshape.KShape, pyshape.CorrelationKMeans])
def test_constant_shapes_distance_one(cls, rng):
    X, _ = shifted_shapes(rng, n_per=10)
    X[4] = 7.0
    m = cls(3, random_state=0).fit(X)
    d = m.transform(np.vstack([np.full(X.shape[1], 2.5), X[:2]]))
    np.testing.assert_allclose(d[0], 1.0, atol=1e-6)
    assert np.isfinite(m.cluster_centers_).all()


@pytest.mark.parametrize("cls", [pyshape.KShape, pyshape.CorrelationKMeans])
def test_duplicates_and_no_empty_clusters(cls):
    t = np.arange(30.0)
    X = np.vstack([np.sin(t / 3)] * 6 + [np.cos(t / 5)] * 4)
    m = cls(4, random_state=0, n_init=2).fit(X)
    assert np.bincount(m.labels_, minlength=4).min() >= 1
    assert m.inertia_ == pytest.approx(0.0, abs=1e-4)


def test_empty_cluster_reseeded_from_farthest(rng):
    X, _ = shifted_shapes(rng, n_per=10, max_shift=0)
    T = X.shape[1]
    U = unit_rows(X)
    # centroid 2 is the negation of the data's mean shape: no shape picks it at first
    init = np.vstack([U[0], U[10], -U.sum(axis=0)])
    km = pyshape.CorrelationKMeans(3, init=init, max_iter=1).fit(X)
    assert np.bincount(km.labels_, minlength=3).min() >= 1
    km2 = pyshape.KShape(3, init=init, max_iter=1).fit(X)
    assert np.bincount(km2.labels_, minlength=3).min() >= 1
    assert km.cluster_centers_.shape == (3, T)


def test_bad_init_and_params(rng):
    X = rng.standard_normal((20, 8))
    with pytest.raises(ValueError, match="init"):
        pyshape.KShape(2, init="nope").fit(X)
    with pytest.raises(ValueError, match="shape"):
        pyshape.CorrelationKMeans(2, init=np.zeros((3, 8))).fit(X)
    with pytest.raises(ValueError, match="init labels"):
        pyshape.KShape(2, init=np.full(20, 5)).fit(X)
    with pytest.raises(TypeError):
        pyshape.KShape(2.5).fit(X)
    km = pyshape.CorrelationKMeans(2, random_state=0).fit(X)
    for method in (km.predict, km.transform, km.score):
        with pytest.raises(ValueError, match="X has 9 features, but CorrelationKMeans is expecting 8 features"):
            method(rng.standard_normal((3, 9)))


@pytest.mark.parametrize("cls", [pyshape.KShape, pyshape.CorrelationKMeans])
def test_1d_input_refused(cls, rng):
    """Estimators refuse 1-D input (scikit-learn's rule: one shape or one step?);
    the functions (pyshape.pearson, ...) keep taking 1-D as one shape."""
    X = rng.standard_normal((20, 8))
    with pytest.raises(ValueError, match="Expected 2D array.*Reshape your data"):
        cls(1).fit(X[0])
    m = cls(2, random_state=0).fit(X)
    for method in (m.predict, m.transform, m.score):
        with pytest.raises(ValueError, match="Reshape your data using X.reshape"):
            method(X[0])
    np.testing.assert_array_equal(m.predict(X[0].reshape(1, -1)), m.labels_[:1])
    assert pyshape.pearson(X[0], X[1]).shape == (1, 1)


@pytest.mark.parametrize("cls", [pyshape.KShape, pyshape.CorrelationKMeans])
def test_bad_input_types(cls, rng):
    X = rng.standard_normal((20, 8))
    m = cls(2, random_state=0).fit(X.astype(object))  # numeric object arrays are numbers
    np.testing.assert_array_equal(m.labels_, cls(2, random_state=0).fit(X).labels_)
    bad = X.astype(object)
    bad[0, 0] = {"a": 1}
    with pytest.raises(TypeError, match="argument must be a string or a real number"):
        cls(2).fit(bad)
    with pytest.raises(ValueError, match="Complex data not supported"):
        cls(2).fit(X + 1j)
    with pytest.raises(ValueError, match=r"0 feature\(s\) \(shape=\(20, 0\)\) while a minimum of 1 is required"):
        cls(2).fit(X[:, :0])
    with pytest.raises(ValueError, match=r"0 sample\(s\)"):
        cls(2).fit(X[:0])
    sparse = pytest.importorskip("scipy.sparse")
    with pytest.raises(TypeError, match="sparse"):
        cls(2).fit(sparse.csr_matrix(X))


@pytest.mark.parametrize("cls", [pyshape.KShape, pyshape.CorrelationKMeans])
def test_distances_never_negative(cls, rng):
    """1 - r of a centroid with itself rounds to about -1e-7 in float32: transform,
    inertia_ and score are clamped to the distance's range ([0, 2])."""
    for T in (7, 333):
        X = rng.standard_normal((60, T)) * 1000 + 5
        m = cls(3, random_state=0).fit(np.vstack([X, X[:3]]))
        d = m.transform(m.cluster_centers_)
        assert d.dtype == np.float32 and d.min() >= 0 and d.max() <= 2
        np.testing.assert_allclose(np.diag(d), 0.0, atol=1e-5)
        assert m.inertia_ >= 0
        assert m.score(m.cluster_centers_) <= 0
        assert m.score(X) == pytest.approx(-float(m.transform(X).min(axis=1).sum()), rel=1e-6)


def test_not_fitted():
    with pytest.raises(Exception, match="not fitted"):
        pyshape.KShape(2).predict(np.zeros((2, 5)))


# ----------------------------------------------------------------------------- scikit-learn API
@pytest.mark.parametrize("cls", [pyshape.KShape, pyshape.CorrelationKMeans])
def test_sklearn_clone_pickle_pipeline(cls, rng):
    sklearn = pytest.importorskip("sklearn")
    from sklearn.base import clone
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X, _ = shifted_shapes(rng, n_per=10)
    m = cls(3, random_state=0, n_threads=1)
    c = clone(m)
    assert c.get_params() == m.get_params() and c is not m
    m.set_params(n_clusters=2, max_iter=5)
    assert m.get_params()["n_clusters"] == 2
    with pytest.raises(ValueError):
        m.set_params(bogus=1)
    m.fit(X)
    m2 = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(m2.predict(X), m.predict(X))
    np.testing.assert_array_equal(m2.cluster_centers_, m.cluster_centers_)
    pipe = make_pipeline(FunctionTransformer(np.log1p), cls(3, random_state=0))
    lab = pipe.fit_predict(X - X.min() + 1)
    assert lab.shape == (len(X),)
    assert pipe.transform(X - X.min() + 1).shape == (len(X), 3)
    assert isinstance(m, sklearn.base.ClusterMixin)
    np.testing.assert_array_equal(cls(3, random_state=0).fit_predict(X), cls(3, random_state=0).fit(X).labels_)
    assert cls(3, random_state=0).fit_transform(X).shape == (len(X), 3)


@pytest.mark.parametrize("cls", [pyshape.KShape, pyshape.CorrelationKMeans])
def test_dataframe_feature_names_and_set_output(cls, rng):
    pd = pytest.importorskip("pandas")
    X = rng.standard_normal((30, 6))
    cols = [f"t{i}" for i in range(6)]
    df = pd.DataFrame(X, columns=cols, index=[f"s{i}" for i in range(30)])
    m = cls(3, random_state=0).fit(df)
    assert m.n_features_in_ == 6 and m.feature_names_in_.dtype == object
    assert list(m.feature_names_in_) == cols
    prefix = cls.__name__.lower()
    assert list(m.get_feature_names_out()) == [f"{prefix}{j}" for j in range(3)]
    np.testing.assert_array_equal(m.predict(df), m.labels_)
    with pytest.raises(ValueError, match="Feature names must be in the same order"):
        m.predict(df[cols[::-1]])
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        m.transform(X)
    out = m.set_output(transform="pandas").transform(df)
    assert isinstance(out, pd.DataFrame) and list(out.index) == list(df.index)
    assert list(out.columns) == list(m.get_feature_names_out())
    np.testing.assert_array_equal(out.to_numpy(), m.set_output(transform="default").transform(df))
    m.fit(X)  # refitted on an array: no names
    assert not hasattr(m, "feature_names_in_")


def test_without_sklearn_params_still_work():
    code = (
        "import sys; sys.modules['sklearn'] = None; sys.modules['sklearn.base'] = None\n"
        "import numpy as np, pickle, pyshape\n"
        "from pyshape.cluster._base import HAVE_SKLEARN; assert not HAVE_SKLEARN\n"
        "m = pyshape.KShape(3, max_lag=2)\n"
        "assert m.get_params()['max_lag'] == 2 and m.get_params()['n_clusters'] == 3\n"
        "m.set_params(n_clusters=2)\n"
        "try:\n    m.set_params(bogus=1)\nexcept ValueError: pass\nelse: raise SystemExit('no error')\n"
        "X = np.random.default_rng(0).standard_normal((20, 16))\n"
        "assert m.fit_predict(X).shape == (20,)\n"
        "k = pyshape.CorrelationKMeans(2, random_state=0)\n"
        "assert k.fit_transform(X).shape == (20, 2)\n"
        "assert repr(k) == 'CorrelationKMeans(n_clusters=2, random_state=0)', repr(k)\n"
        "pickle.loads(pickle.dumps(k.fit(X)))\n"
        # the scikit-learn API that KMeans has, without scikit-learn
        "assert list(k.get_feature_names_out()) == ['correlationkmeans0', 'correlationkmeans1']\n"
        "try:\n    pyshape.KShape(2).get_feature_names_out()\n"
        "except AttributeError as e: assert 'not fitted' in str(e)\n"
        "else: raise SystemExit('no error')\n"
        "assert k.set_output(transform='default') is k and k.transform(X).shape == (20, 2)\n"
        "try:\n    k.fit(X[0])\nexcept ValueError as e: assert 'Reshape your data' in str(e)\n"
        "else: raise SystemExit('1-D accepted')\n"
        "try:\n    import pandas as pd\nexcept ImportError:\n    pd = None\n"
        "if pd is not None:\n"
        "    df = pd.DataFrame(X, columns=[f'c{i}' for i in range(16)])\n"
        "    out = k.set_output(transform='pandas').fit_transform(df)\n"
        "    assert list(out.columns) == ['correlationkmeans0', 'correlationkmeans1'], out\n"
        "    assert list(k.feature_names_in_) == list(df.columns) and k.n_features_in_ == 16\n"
        "    k.set_output(transform='default').fit(X); assert not hasattr(k, 'feature_names_in_')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ----------------------------------------------------------------------------- plot
def test_plot_centroids(tmp_path, rng):
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    X, _ = shifted_shapes(rng, n_per=8)
    ks = pyshape.KShape(3, random_state=0).fit(X)
    fig = pyshape.plot.plot_centroids(ks, tmp_path / "c.png", X=X, ncols=2)
    assert isinstance(fig, Figure)
    assert sum(a.get_visible() for a in fig.axes) == 3
    assert (tmp_path / "c.png").stat().st_size > 1000
    plt.close(fig)
    with pytest.raises(Exception, match="not fitted"):
        pyshape.plot.plot_centroids(pyshape.CorrelationKMeans(2))
