// Bindings for correlation: conversions, output allocation (GIL held), then
// the kernel with the GIL released.
#include <cstdint>
#include <vector>

#include "bindings/common.hpp"
#include "common/simd_level.hpp"
#include "correlate/gemm.hpp"
#include "correlate/lagged.hpp"
#include "correlate/normalize.hpp"
#include "correlate/pearson.hpp"
#include "correlate/topk_method.hpp"
#include "correlate/topk_pruned.hpp"
#include "correlate/topk_q8.hpp"

namespace pyshape {

namespace {

py::tuple normalize(const FArray& x, double scale, int n_threads) {
  require_2d(x, "x");
  size_t n = x.shape(0), T = x.shape(1);
  py::array_t<float> out({n, T});
  int64_t bad;
  {
    py::gil_scoped_release nogil;
    bad = normalize_rows(x.data(), n, T, T, scale, out.mutable_data(), n_threads);
  }
  return py::make_tuple(out, bad);
}

using DArray = py::array_t<double, py::array::c_style | kAligned>;

// Per-row (mean, factor) of normalize_rows, as an (n, 2) float64 array.
py::tuple row_scales_py(const FArray& x, double scale, int n_threads) {
  require_2d(x, "x");
  size_t n = x.shape(0), T = x.shape(1);
  DArray out({n, size_t{2}});
  static_assert(sizeof(RowScale) == 2 * sizeof(double), "RowScale is two doubles");
  int64_t bad;
  {
    py::gil_scoped_release nogil;
    bad = row_scales(x.data(), n, T, T, scale, reinterpret_cast<RowScale*>(out.mutable_data()), n_threads);
  }
  return py::make_tuple(out, bad);
}

// An (n, 2) array of row_scales for the n rows of x, or null for None.
const RowScale* take_scales(py::object obj, const FArray& x, DArray& keep, const char* name) {
  if (obj.is_none()) return nullptr;
  keep = obj.cast<DArray>();
  if (keep.ndim() != 2 || keep.shape(0) != x.shape(0) || keep.shape(1) != 2)
    throw std::invalid_argument(std::string(name) + " must be (rows, 2): row_scales of its rows");
  return reinterpret_cast<const RowScale*>(keep.data());
}

py::array_t<float> pearson(const FArray& u, py::object v_obj, int n_threads, py::object progress) {
  require_2d(u, "u");
  bool symmetric = v_obj.is_none();
  FArray v = symmetric ? u : v_obj.cast<FArray>();
  require_2d(v, "v");
  if (u.shape(1) != v.shape(1)) throw std::invalid_argument("u and v differ in length");
  size_t n = u.shape(0), m = v.shape(0), T = u.shape(1);
  py::array_t<float> out({n, m});
  ProgressFn pf = make_progress(progress);
  {
    py::gil_scoped_release nogil;
    pearson_matrix(simd_tables().k, u.data(), n, v.data(), m, T, symmetric, out.mutable_data(), n_threads, pf);
  }
  return out;
}

// Output arrays of a top-k call, allocated with the GIL held.
struct TopKArrays {
  py::object pi = py::none(), ps = py::none(), ni = py::none(), ns = py::none();
  TopKOutput out;
  TopKArrays(size_t nq, int k, bool want_pos, bool want_neg) {
    if (want_pos) alloc(nq, k, pi, ps, out.pos_index, out.pos_score);
    if (want_neg) alloc(nq, k, ni, ns, out.neg_index, out.neg_score);
  }
  py::tuple result() const { return py::make_tuple(pi, ps, ni, ns); }

 private:
  static void alloc(size_t nq, int k, py::object& io, py::object& so, int64_t*& ip, float*& sp) {
    py::array_t<int64_t> a({nq, static_cast<size_t>(k)});
    py::array_t<float> b({nq, static_cast<size_t>(k)});
    ip = a.mutable_data();
    sp = b.mutable_data();
    io = a;
    so = b;
  }
};

void check_k(int k, size_t n, bool self) {
  size_t avail = self ? n - 1 : n;
  if (k < 1 || static_cast<size_t>(k) > avail) throw std::invalid_argument("k out of range");
}

py::tuple topk(const FArray& db, py::object queries, int k, bool want_pos, bool want_neg,
               int n_threads, py::object progress) {
  require_2d(db, "db");
  bool self = queries.is_none();
  FArray q = self ? db : queries.cast<FArray>();
  require_2d(q, "queries");
  size_t n = db.shape(0), nq = q.shape(0), T = db.shape(1);
  if (static_cast<size_t>(q.shape(1)) != T) throw std::invalid_argument("queries and db differ in length");
  check_k(k, n, self);
  TopKArrays res(nq, k, want_pos, want_neg);
  ProgressFn pf = make_progress(progress);
  {
    py::gil_scoped_release nogil;
    const KernelTable& kt = simd_tables().k;  // once: the packing and the kernel must agree
    PackedRows packed = pack_rows(db.data(), n, T, T, kt.nr, n_threads);
    topk_bruteforce(kt, q.data(), nq, T, packed.view, k, self ? 0 : -1, res.out, n_threads, pf);
  }
  return res.result();
}

LowRankSide low_rank_side(const FArray& rows, const FArray& proj, const FArray& res, size_t r,
                          const char* name) {
  require_2d(rows, name);
  require_2d(proj, name);
  size_t n = rows.shape(0);
  if (static_cast<size_t>(proj.shape(0)) != n || static_cast<size_t>(proj.shape(1)) != r ||
      res.ndim() != 1 || static_cast<size_t>(res.shape(0)) != n)
    throw std::invalid_argument(std::string(name) + ": rows, projections and residuals disagree in size");
  return LowRankSide{rows.data(), proj.data(), res.data(), n};
}

using IArray = py::array_t<int64_t, py::array::c_style | kAligned>;

// Optional processing order (a permutation of [0, n)), checked before use.
IArray take_order(py::object obj, size_t n, const char* name) {
  if (obj.is_none()) return IArray();
  IArray a = obj.cast<IArray>();
  if (a.ndim() != 1 || static_cast<size_t>(a.shape(0)) != n)
    throw std::invalid_argument(std::string(name) + " must have one entry per row");
  std::vector<char> seen(n, 0);
  for (size_t i = 0; i < n; ++i) {
    int64_t v = a.data()[i];
    if (v < 0 || static_cast<size_t>(v) >= n || seen[v]) throw std::invalid_argument(std::string(name) + " is not a permutation");
    seen[v] = 1;
  }
  return a;
}

py::tuple topk_pruned_py(const FArray& db, const FArray& db_proj, const FArray& db_res,
                         py::object db_order, py::object queries, py::object q_proj,
                         py::object q_res, py::object q_order, int k, bool want_pos,
                         bool want_neg, float margin, int n_threads, py::object progress) {
  require_2d(db_proj, "db_proj");
  const size_t r = db_proj.shape(1), T = db.shape(1);
  LowRankSide dbs = low_rank_side(db, db_proj, db_res, r, "db");
  IArray dbo = take_order(db_order, dbs.n, "db_order");
  if (!db_order.is_none()) dbs.order = dbo.data();
  bool self = queries.is_none();
  FArray qa = self ? db : queries.cast<FArray>();
  FArray qp = self ? db_proj : q_proj.cast<FArray>();
  FArray qr = self ? db_res : q_res.cast<FArray>();
  LowRankSide qs = self ? dbs : low_rank_side(qa, qp, qr, r, "queries");
  IArray qo = self ? IArray() : take_order(q_order, qs.n, "q_order");
  if (!self && !q_order.is_none()) qs.order = qo.data();
  if (static_cast<size_t>(qa.shape(1)) != T) throw std::invalid_argument("queries and db differ in length");
  check_k(k, dbs.n, self);
  TopKArrays res(qs.n, k, want_pos, want_neg);
  ProgressFn pf = make_progress(progress);
  PruneStats stats;
  {
    py::gil_scoped_release nogil;
    const KernelTable& kt = simd_tables().k;  // once: the packing and the kernel must agree
    PackedRows full = pack_rows(db.data(), dbs.n, T, T, kt.nr, n_threads, dbs.order);
    topk_pruned(kt, qs, dbs, full.view, T, r, k, self ? 0 : -1, margin, res.out, n_threads, pf, &stats);
  }
  return py::make_tuple(res.pi, res.ps, res.ni, res.ns, stats.row_panels, stats.dense_tiles);
}

py::tuple topk_int8(const FArray& db, py::object queries, int k, bool want_pos, bool want_neg, int n_threads,
                    py::object progress, py::object db_scale, py::object q_scale) {
  require_2d(db, "db");
  bool self = queries.is_none();
  FArray q = self ? db : queries.cast<FArray>();
  require_2d(q, "queries");
  size_t n = db.shape(0), nq = q.shape(0), T = db.shape(1);
  if (static_cast<size_t>(q.shape(1)) != T) throw std::invalid_argument("queries and db differ in length");
  if (T == 0 || T > kQ8MaxT) throw std::invalid_argument("int8 top-k needs 1..65536 steps per shape");
  check_k(k, n, self);
  DArray keep_db, keep_q;
  const RowScale* dbs = take_scales(db_scale, db, keep_db, "db_scale");
  const RowScale* qs = self ? dbs : take_scales(q_scale, q, keep_q, "q_scale");
  if ((dbs == nullptr) != (qs == nullptr)) throw std::invalid_argument("give both db_scale and q_scale, or neither");
  TopKArrays res(nq, k, want_pos, want_neg);
  ProgressFn pf = make_progress(progress);
  Q8Stats st;
  {
    py::gil_scoped_release nogil;
    const KernelTable& kt = simd_tables().k;  // once
    topk_q8(kt, q.data(), nq, db.data(), n, T, k, self ? 0 : -1, res.out, n_threads, pf, &st, qs, dbs);
  }
  py::dict stats;
  stats["refined"] = st.refined;
  stats["candidates"] = st.candidates;
  stats["warm_pairs"] = st.warm_pairs;
  stats["delta"] = st.delta;
  return py::make_tuple(res.pi, res.ps, res.ni, res.ns, stats);
}

py::tuple q8_bounds(const FArray& q, const FArray& db) {
  require_2d(q, "q");
  require_2d(db, "db");
  size_t nq = q.shape(0), n = db.shape(0), T = q.shape(1);
  if (static_cast<size_t>(db.shape(1)) != T) throw std::invalid_argument("q and db differ in length");
  py::array_t<int32_t> D({nq, n});
  py::array_t<double> approx({nq, n}), err({nq, n}), approx2({nq, n}), err2({nq, n});
  const KernelTable& kt = simd_tables().k;
  double delta = q8_pair_bounds(kt, q.data(), nq, db.data(), n, T, D.mutable_data(), approx.mutable_data(),
                                err.mutable_data(), approx2.mutable_data(), err2.mutable_data());
  return py::make_tuple(D, approx, err, approx2, err2, delta, std::string(kt.q8_name), kt.q8_amax);
}

std::string topk_auto_method_py(int64_t n_queries, int64_t n, int64_t T, py::object plan_rank,
                               py::object est_cost_ratio) {
  if (n_queries < 0 || n < 0 || T < 0) throw std::invalid_argument("topk_auto_method: sizes must be >= 0");
  const auto nq = static_cast<size_t>(n_queries), nn = static_cast<size_t>(n), tt = static_cast<size_t>(T);
  if (plan_rank.is_none()) return topk_method_name(topk_auto_method(nq, nn, tt));
  return topk_method_name(
      topk_auto_method_with_plan(nq, nn, tt, plan_rank.cast<int>(), est_cost_ratio.cast<double>()));
}

LaggedMethod lagged_method(const std::string& method) {
  if (method == "auto") return LaggedMethod::kAuto;
  if (method == "direct") return LaggedMethod::kDirect;
  if (method == "fft") return LaggedMethod::kFft;
  throw std::invalid_argument("method must be 'auto', 'direct' or 'fft', got '" + method + "'");
}

py::tuple lagged(const FArray& u, py::object v_obj, size_t max_lag, int n_threads, py::object progress,
                 const std::string& method) {
  const LaggedMethod how = lagged_method(method);
  require_2d(u, "u");
  bool symmetric = v_obj.is_none();
  FArray v = symmetric ? u : v_obj.cast<FArray>();
  require_2d(v, "v");
  if (u.shape(1) != v.shape(1)) throw std::invalid_argument("u and v differ in length");
  size_t n = u.shape(0), m = v.shape(0), T = u.shape(1);
  py::array_t<float> score({n, m});
  py::array_t<int32_t> lag({n, m});
  ProgressFn pf = make_progress(progress);
  {
    py::gil_scoped_release nogil;
    lagged_correlation(simd_tables(), u.data(), n, v.data(), m, T, max_lag, symmetric, score.mutable_data(),
                       lag.mutable_data(), n_threads, pf, how);
  }
  return py::make_tuple(score, lag);
}

}  // namespace

void bind_correlate(py::module_& m) {
  m.def("normalize_rows", &normalize, py::arg("x"), py::arg("scale"), py::arg("n_threads") = 0,
        "Centre and scale rows; returns (out, first_non_finite_row or -1).");
  m.def("row_scales", &row_scales_py, py::arg("x"), py::arg("scale"), py::arg("n_threads") = 0,
        "normalize_rows' per-row (mean, factor), (n, 2) float64; returns (scales, first_non_finite_row or -1).");
  m.def("pearson", &pearson, py::arg("u"), py::arg("v") = py::none(), py::arg("n_threads") = 0,
        py::arg("progress") = py::none(), "All-pairs dot products of unit-norm rows.");
  m.def("topk", &topk, py::arg("db"), py::arg("queries") = py::none(), py::arg("k"),
        py::arg("want_pos") = true, py::arg("want_neg") = true, py::arg("n_threads") = 0,
        py::arg("progress") = py::none(), "Exact top-k partners of unit-norm rows.");
  m.def("topk_pruned", &topk_pruned_py, py::arg("db"), py::arg("db_proj"), py::arg("db_res"),
        py::arg("db_order"), py::arg("queries"), py::arg("q_proj"), py::arg("q_res"),
        py::arg("q_order"), py::arg("k"),
        py::arg("want_pos"), py::arg("want_neg"), py::arg("margin"), py::arg("n_threads") = 0,
        py::arg("progress") = py::none(),
        "Exact top-k with low-rank bounds; returns the 4 arrays, the number of (row, panel) jobs "
        "and the number of whole tiles scored.");
  m.def("topk_int8", &topk_int8, py::arg("db"), py::arg("queries") = py::none(), py::arg("k"),
        py::arg("want_pos") = true, py::arg("want_neg") = true, py::arg("n_threads") = 0,
        py::arg("progress") = py::none(), py::arg("db_scale") = py::none(), py::arg("q_scale") = py::none(),
        "Exact top-k with int8 candidates (bitwise = topk); returns the 4 arrays and a stats dict. "
        "With db_scale / q_scale (row_scales of db / queries), db and queries are the raw rows.");
  m.def("topk_auto_method", &topk_auto_method_py, py::arg("n_queries"), py::arg("n"), py::arg("T"),
        py::arg("plan_rank") = py::none(), py::arg("est_cost_ratio") = py::none(),
        "The method top_partners(method='auto') runs (the C API's choice too): 'bruteforce' or 'int8', or "
        "'pruned' meaning 'make a low-rank plan and ask again with its rank and estimate'.");
  m.def("q8_bounds", &q8_bounds, py::arg("q"), py::arg("db"),
        "For tests: int8 products, level-1 and level-2 approximations and error bounds, and delta, of every pair "
        "at the active level; "
        "also the int8 variant's name and the query-side amax.");
  m.def("lagged", &lagged, py::arg("u"), py::arg("v") = py::none(), py::arg("max_lag"),
        py::arg("n_threads") = 0, py::arg("progress") = py::none(), py::arg("method") = "auto",
        "Max normalised cross-correlation over lags in [-max_lag, max_lag], with the lag. "
        "method: 'auto' (cost model), 'direct' or 'fft'.");
}

}  // namespace pyshape
