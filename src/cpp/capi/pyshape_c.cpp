// The C API (include/pyshape/pyshape.h): argument checks, then the same C++
// entry points the Python bindings call. Every function catches everything at
// the boundary and turns it into a status and a thread-local message.
#include "pyshape/pyshape.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "common/simd_level.hpp"
#include "correlate/gemm.hpp"
#include "correlate/lagged.hpp"
#include "correlate/normalize.hpp"
#include "correlate/pearson.hpp"
#include "correlate/topk_method.hpp"
#include "correlate/topk_q8.hpp"
#include "pack/placer.hpp"
#include "pack/policy.hpp"
#include "pack/types.hpp"
#include "pack/verify.hpp"

struct pyshape_placer {
  pyshape::Placer p;
};

namespace {

using namespace pyshape;

thread_local std::string g_last_error;

// A failure with its status, thrown inside this file only.
struct Failure {
  pyshape_status status;
  std::string message;
};

[[noreturn]] void fail(pyshape_status s, std::string msg) { throw Failure{s, std::move(msg)}; }

pyshape_status set_error(pyshape_status s, const char* msg) {
  try {
    g_last_error = msg;
  } catch (...) {
    // the message could not be stored (out of memory): the status still tells
  }
  return s;
}

// Runs f, mapping every exception to a status. The C++ exception types of the
// placer (placer.hpp) derive from std exceptions, so they are tested first.
template <class F>
pyshape_status guard(F&& f) noexcept {
  try {
    f();
    return PYSHAPE_OK;
  } catch (const Failure& e) {
    return set_error(e.status, e.message.c_str());
  } catch (const FleetFull& e) {
    return set_error(PYSHAPE_EFULL, e.what());
  } catch (const ShapeTooLarge& e) {
    return set_error(PYSHAPE_ETOOLARGE, e.what());
  } catch (const DuplicateId& e) {
    return set_error(PYSHAPE_EDUPLICATE, e.what());
  } catch (const UnknownId& e) {
    return set_error(PYSHAPE_EUNKNOWN_ID, e.what());
  } catch (const std::bad_alloc&) {
    return set_error(PYSHAPE_ENOMEM, "out of memory");
  } catch (const std::length_error& e) {
    return set_error(PYSHAPE_ENOMEM, e.what());
  } catch (const std::invalid_argument& e) {
    return set_error(PYSHAPE_EINVAL, e.what());
  } catch (const std::out_of_range& e) {
    return set_error(PYSHAPE_EINVAL, e.what());
  } catch (const std::exception& e) {
    return set_error(PYSHAPE_EINTERNAL, e.what());
  } catch (...) {
    return set_error(PYSHAPE_EINTERNAL, "unknown C++ exception");
  }
}

void need(bool ok, const char* msg) {
  if (!ok) fail(PYSHAPE_EINVAL, msg);
}

// n * T (and n * m) without overflow, as a count of elements.
size_t mul(size_t a, size_t b, const char* what) {
  if (a != 0 && b > static_cast<size_t>(-1) / a) fail(PYSHAPE_EINVAL, std::string(what) + ": size overflows");
  return a * b;
}

void fail_non_finite(const char* name, int64_t row) {
  fail(PYSHAPE_EINVAL, std::string(name) + " has a NaN or infinite value in row " + std::to_string(row));
}

// Unit-norm rows of x (n x T), as pyshape's correlation functions make them.
std::vector<float> unit_rows(const float* x, size_t n, size_t T, const char* name, int n_threads) {
  std::vector<float> u(mul(n, T, name));
  int64_t bad = normalize_rows(x, n, T, T, 1.0, u.data(), n_threads);
  if (bad >= 0) fail_non_finite(name, bad);
  return u;
}

// The per-row (mean, factor) that unit_rows would apply: the int8 search
// normalises rows on the fly from these (bitwise the same rows, no n x T copy).
std::vector<RowScale> unit_scales(const float* x, size_t n, size_t T, const char* name, int n_threads) {
  mul(n, T, name);
  std::vector<RowScale> sc(n);
  int64_t bad = row_scales(x, n, T, T, 1.0, sc.data(), n_threads);
  if (bad >= 0) fail_non_finite(name, bad);
  return sc;
}

const char* level_literal(const std::string& s) {
  if (s == "avx512") return "avx512";
  if (s == "avx2") return "avx2";
  return "scalar";
}

std::string id_key(const char* id) {
  need(id != nullptr, "id is NULL");
  std::string key;
  key.reserve(std::strlen(id) + 1);
  key += 's';  // the tag of a str id in pyshape.Placer (so snapshots are shared with Python)
  key += id;
  return key;
}

void check_strategy(pyshape_strategy s, bool allow_peak) {
  int v = static_cast<int>(s);
  if (v < 0 || v > (allow_peak ? 4 : 2))
    fail(PYSHAPE_EINVAL, allow_peak
                             ? "strategy must be PYSHAPE_AUTO, _COMPLEMENT, _FIRST_FIT, _BEST_FIT or _PEAK"
                             : "strategy must be PYSHAPE_COMPLEMENT, PYSHAPE_FIRST_FIT or PYSHAPE_BEST_FIT");
}

PackStrategy placer_strategy(pyshape_strategy s) {
  check_strategy(s, false);
  return s == PYSHAPE_FIRST_FIT ? PackStrategy::kFirstFit
         : s == PYSHAPE_BEST_FIT ? PackStrategy::kBestFit
                                 : PackStrategy::kComplement;
}

// Placer::restore's errors are std::invalid_argument: all mean "not a valid snapshot".
pyshape_placer* restore_bytes(const std::string& bytes) {
  try {
    return new pyshape_placer{Placer::restore(simd_tables().pack, bytes)};
  } catch (const std::invalid_argument& e) {
    fail(PYSHAPE_ECORRUPT, e.what());
  } catch (const std::out_of_range& e) {
    fail(PYSHAPE_ECORRUPT, e.what());
  }
}

// pyshape_pack and pyshape_pack_typed: the request from the options, the
// policy, the data's problems worded as pyshape.pack's (rows as the ids).
PackFigures run_pack(const float* shapes, size_t n, size_t R, size_t T, const double* capacity,
                     const pyshape_worker_types* types, const double* headroom, const pyshape_pack_options* options,
                     int64_t* assignment) {
  pyshape_pack_options o;
  pyshape_pack_options_init(&o);
  if (options) o = *options;
  need(shapes != nullptr && (capacity != nullptr || types != nullptr) && assignment != nullptr,
       types ? "shapes, types and assignment are required" : "shapes, capacity and assignment are required");
  check_strategy(o.strategy, true);
  mul(mul(n, R, "shapes"), T, "shapes");
  PackRequest rq;
  rq.shapes = shapes;
  rq.n = n;
  rq.R = R;
  rq.T = T;
  rq.capacity = capacity;
  if (types) {
    need(types->n_types > 0 && types->capacity != nullptr && types->cost != nullptr,
         "types need n_types >= 1, a capacity table and costs");
    mul(types->n_types, R, "types");
    rq.n_types = types->n_types;
    rq.type_capacity = types->capacity;
    rq.type_cost = types->cost;
  }
  rq.headroom = headroom;
  rq.strategy = static_cast<PlanStrategy>(o.strategy);
  rq.risk = o.risk;
  rq.candidates = o.candidates;
  rq.improve = o.improve;
  rq.shard_size = o.shard_size;
  PackFigures fig;
  PackProblem prob;
  if (!plan_pack(simd_tables().pack, rq, assignment, std::vector<double>(R * T).data(), &fig, &prob, ProgressFn(), o.n_threads)) {
    if (prob.nonfinite_row >= 0)
      fail(PYSHAPE_EINVAL, "shape " + std::to_string(prob.nonfinite_row) + " (row " +
                               std::to_string(prob.nonfinite_row) + ") has a NaN or infinite value");
    if (prob.negative_row >= 0)
      fail(PYSHAPE_EINVAL, "shape " + std::to_string(prob.negative_row) + " (row " +
                               std::to_string(prob.negative_row) + ") has a negative value");
    std::string msg = std::to_string(prob.too_large_rows.size()) + " shape(s) ";
    auto caps = [&](const double* c) {
      std::vector<float> eff = effective_capacity(R, c, headroom);
      std::string out = "[";
      for (size_t r = 0; r < R; ++r) out += (r ? ", " : "") + std::to_string(eff[r]);
      return out + "]";
    };
    if (types) {
      msg += "fit no worker type (effective capacities: ";
      for (size_t t = 0; t < types->n_types; ++t) msg += (t ? ", type " : "type ") + std::to_string(t) + " " +
                                                        caps(types->capacity + t * R);
      msg += "): rows ";
    } else {
      msg += "peak above the effective capacity " + caps(capacity) + " of an empty worker: rows ";
    }
    for (size_t i = 0; i < prob.too_large_rows.size() && i < 10; ++i)
      msg += (i ? ", " : "") + std::to_string(prob.too_large_rows[i]);
    if (prob.too_large_rows.size() > 10) msg += " and " + std::to_string(prob.too_large_rows.size() - 10) + " more";
    msg += ". Nothing was placed; use bigger workers, less headroom, or split them.";
    fail(PYSHAPE_ETOOLARGE, msg);
  }
  return fig;
}

}  // namespace

extern "C" {

const char* pyshape_last_error(void) { return g_last_error.c_str(); }

const char* pyshape_status_name(pyshape_status s) {
  switch (s) {
    case PYSHAPE_OK: return "PYSHAPE_OK";
    case PYSHAPE_EINVAL: return "PYSHAPE_EINVAL";
    case PYSHAPE_ENOMEM: return "PYSHAPE_ENOMEM";
    case PYSHAPE_ETOOLARGE: return "PYSHAPE_ETOOLARGE";
    case PYSHAPE_EDUPLICATE: return "PYSHAPE_EDUPLICATE";
    case PYSHAPE_EUNKNOWN_ID: return "PYSHAPE_EUNKNOWN_ID";
    case PYSHAPE_EFULL: return "PYSHAPE_EFULL";
    case PYSHAPE_EIO: return "PYSHAPE_EIO";
    case PYSHAPE_ECORRUPT: return "PYSHAPE_ECORRUPT";
    case PYSHAPE_EUNSUPPORTED: return "PYSHAPE_EUNSUPPORTED";
    case PYSHAPE_EINTERNAL: return "PYSHAPE_EINTERNAL";
  }
  return "PYSHAPE_UNKNOWN_STATUS";
}

int pyshape_api_version(void) { return PYSHAPE_API_VERSION; }

const char* pyshape_version(void) { return PYSHAPE_VERSION; }

const char* pyshape_simd_level(void) {
  try {
    return level_literal(simd_level());
  } catch (...) {
    return "scalar";
  }
}

pyshape_status pyshape_set_simd_level(const char* level) {
  return guard([&] {
    need(level != nullptr, "level is NULL");
    std::string l(level);
    if (l != "scalar" && l != "avx2" && l != "avx512")
      fail(PYSHAPE_EINVAL, "unknown SIMD level '" + l + "' (use scalar, avx2 or avx512)");
    bool have = false;
    for (const auto& a : available_simd_levels()) have |= (a == l);
    if (!have) fail(PYSHAPE_EUNSUPPORTED, "this CPU does not support SIMD level '" + l + "'");
    set_simd_level(l);
  });
}

void pyshape_free(void* p) { std::free(p); }

// ------------------------------------------------------------------ correlation

pyshape_status pyshape_pearson(const float* x, size_t n, const float* y, size_t m, size_t T, float* out,
                               int n_threads) {
  return guard([&] {
    const SimdTables& simd = simd_tables();  // the level, read once for the whole call
    need(x != nullptr && out != nullptr, "x and out are required");
    need(n > 0 && T > 0, "x is empty: need at least one shape of at least one step");
    const bool symmetric = (y == nullptr);
    if (symmetric) m = n;
    need(m > 0, "y is empty: need at least one shape");
    mul(n, m, "out");
    std::vector<float> u = unit_rows(x, n, T, "X", n_threads);
    std::vector<float> v;
    if (!symmetric) v = unit_rows(y, m, T, "Y", n_threads);
    pearson_matrix(simd.k, u.data(), n, symmetric ? u.data() : v.data(), m, T, symmetric, out, n_threads, ProgressFn());
  });
}

pyshape_topk_method pyshape_top_partners_auto_method(size_t n, size_t T, size_t n_queries) {
  // kPruned ("make a plan") has no plan here: brute force, as documented.
  const TopKMethod m = topk_auto_method(n_queries, n, T);
  return m == TopKMethod::kInt8 ? PYSHAPE_TOPK_INT8 : PYSHAPE_TOPK_BRUTEFORCE;
}

pyshape_status pyshape_top_partners_method(const float* x, size_t n, size_t T, const float* queries,
                                           size_t n_queries, int k, int64_t* corr_index, float* corr_score,
                                           int64_t* anti_index, float* anti_score, int n_threads, int method,
                                           int* method_run) {
  return guard([&] {
    const SimdTables& simd = simd_tables();  // the level, read once for the whole call
    need(x != nullptr, "x is required");
    need(n > 0 && T > 0, "x is empty: need at least one shape of at least one step");
    need((corr_index == nullptr) == (corr_score == nullptr) && (anti_index == nullptr) == (anti_score == nullptr),
         "give both arrays of a side (index and score) or neither");
    need(corr_index != nullptr || anti_index != nullptr, "no output: give the corr_* or the anti_* arrays");
    if (method == PYSHAPE_TOPK_PRUNED)
      fail(PYSHAPE_EINVAL, "method PYSHAPE_TOPK_PRUNED is Python only (its low-rank plan is NumPy code)");
    if (method != PYSHAPE_TOPK_AUTO && method != PYSHAPE_TOPK_BRUTEFORCE && method != PYSHAPE_TOPK_INT8)
      fail(PYSHAPE_EINVAL, "method must be PYSHAPE_TOPK_AUTO, PYSHAPE_TOPK_BRUTEFORCE or PYSHAPE_TOPK_INT8, got " +
                               std::to_string(method));
    if (method == PYSHAPE_TOPK_INT8 && T > kQ8MaxT)
      fail(PYSHAPE_EINVAL, "method PYSHAPE_TOPK_INT8 needs T <= 65536, got T = " + std::to_string(T));
    const bool self = (queries == nullptr);
    if (self) n_queries = n;
    need(n_queries > 0, "queries is empty: need at least one shape");
    const size_t avail = self ? n - 1 : n;
    if (k < 1 || static_cast<size_t>(k) > avail)
      fail(PYSHAPE_EINVAL, "k=" + std::to_string(k) + " is out of range [1, " + std::to_string(avail) + "]" +
                               (self ? " (a shape is not its own partner)" : ""));
    mul(n_queries, static_cast<size_t>(k), "output");
    if (method == PYSHAPE_TOPK_AUTO) method = pyshape_top_partners_auto_method(n, T, n_queries);
    TopKOutput out;
    out.pos_index = corr_index;
    out.pos_score = corr_score;
    out.neg_index = anti_index;
    out.neg_score = anti_score;
    if (method == PYSHAPE_TOPK_INT8) {
      // No float copy (at n = 1e6, T = 1440 that is 5.4 GiB): the caller's rows
      // are normalised on the fly, as Python's top_partners does for big inputs.
      const std::vector<RowScale> xs = unit_scales(x, n, T, "X", n_threads);
      std::vector<RowScale> qs;
      if (!self) qs = unit_scales(queries, n_queries, T, "queries", n_threads);
      topk_q8(simd.k, self ? x : queries, n_queries, x, n, T, k, self ? 0 : -1, out, n_threads, ProgressFn(),
              nullptr, self ? xs.data() : qs.data(), xs.data());
    } else {
      std::vector<float> u = unit_rows(x, n, T, "X", n_threads);
      std::vector<float> q;
      if (!self) q = unit_rows(queries, n_queries, T, "queries", n_threads);
      const float* qp = self ? u.data() : q.data();
      PackedRows packed = pack_rows(u.data(), n, T, T, simd.k.nr, n_threads);
      topk_bruteforce(simd.k, qp, n_queries, T, packed.view, k, self ? 0 : -1, out, n_threads, ProgressFn());
    }
    if (method_run) *method_run = method;
  });
}

pyshape_status pyshape_top_partners(const float* x, size_t n, size_t T, const float* queries, size_t n_queries,
                                    int k, int64_t* corr_index, float* corr_score, int64_t* anti_index,
                                    float* anti_score, int n_threads) {
  return pyshape_top_partners_method(x, n, T, queries, n_queries, k, corr_index, corr_score, anti_index, anti_score,
                                     n_threads, PYSHAPE_TOPK_BRUTEFORCE, nullptr);
}

pyshape_status pyshape_lagged_correlation(const float* x, size_t n, const float* y, size_t m, size_t T,
                                          size_t max_lag, float* score, int32_t* lag, int n_threads) {
  return guard([&] {
    const SimdTables& simd = simd_tables();  // the level, read once for the whole call
    need(x != nullptr && score != nullptr && lag != nullptr, "x, score and lag are required");
    need(n > 0 && T > 0, "x is empty: need at least one shape of at least one step");
    const bool symmetric = (y == nullptr);
    if (symmetric) m = n;
    need(m > 0, "y is empty: need at least one shape");
    if (max_lag > T - 1)
      fail(PYSHAPE_EINVAL, "max_lag must be in [0, T - 1] = [0, " + std::to_string(T - 1) + "], got " +
                               std::to_string(max_lag));
    mul(n, m, "score");
    std::vector<float> u = unit_rows(x, n, T, "X", n_threads);
    std::vector<float> v;
    if (!symmetric) v = unit_rows(y, m, T, "Y", n_threads);
    lagged_correlation(simd, u.data(), n, symmetric ? u.data() : v.data(), m, T, max_lag, symmetric, score, lag,
                       n_threads, ProgressFn(), LaggedMethod::kAuto);
  });
}

// ------------------------------------------------------------------ batch packing

void pyshape_pack_options_init(pyshape_pack_options* o) {
  if (!o) return;
  const PackOptions d;  // the packer's defaults, as pyshape.pack's (one source: pack.hpp)
  o->strategy = PYSHAPE_AUTO;
  o->risk = d.risk;
  o->candidates = d.candidates;
  o->improve = d.improve;
  o->shard_size = d.shard_size;
  o->n_threads = 0;
}

pyshape_status pyshape_pack(const float* shapes, size_t n, size_t R, size_t T, const double* capacity,
                            const double* headroom, const pyshape_pack_options* options, int64_t* assignment,
                            pyshape_plan_figures* figures) {
  return guard([&] {
    need(capacity != nullptr, "shapes, capacity and assignment are required");
    PackFigures fig = run_pack(shapes, n, R, T, capacity, nullptr, headroom, options, assignment);
    if (figures) {
      figures->n_workers = fig.n_workers;
      figures->lower_bound = fig.lower_bound;
      figures->peak_workers = fig.peak_workers;
    }
  });
}

pyshape_status pyshape_pack_typed(const float* shapes, size_t n, size_t R, size_t T, const pyshape_worker_types* types,
                                  const double* headroom, const pyshape_pack_options* options, int64_t* assignment,
                                  int32_t* worker_type, pyshape_typed_figures* figures) {
  return guard([&] {
    need(types != nullptr && worker_type != nullptr, "types and worker_type are required");
    PackFigures fig = run_pack(shapes, n, R, T, nullptr, types, headroom, options, assignment);
    std::copy(fig.worker_type.begin(), fig.worker_type.end(), worker_type);
    if (figures) {
      figures->n_workers = fig.n_workers;
      figures->lower_bound = fig.lower_bound;
      figures->peak_workers = fig.peak_workers;
      figures->cost = fig.cost;
      figures->cost_lower_bound = fig.cost_lower_bound;
      figures->peak_cost = fig.peak_cost;
    }
  });
}

pyshape_status pyshape_plan_verify(const float* shapes, size_t n, size_t R, size_t T, const int64_t* assignment,
                                   size_t n_workers, const double* worker_capacity, const double* headroom,
                                   double risk, int64_t* steps_over, double* max_excess,
                                   pyshape_verify_report* report) {
  return guard([&] {
    need(report != nullptr, "report is required");
    need((shapes != nullptr && assignment != nullptr) || n == 0, "shapes and assignment are required");
    need(worker_capacity != nullptr || n_workers == 0, "worker_capacity is required");
    mul(mul(n, R, "shapes"), T, "shapes");
    mul(n_workers, R, "worker_capacity");
    VerifyResult res = verify_plan(shapes, n, R, T, assignment, n_workers, worker_capacity, headroom, risk, 0);
    if (steps_over) std::copy(res.steps_over.begin(), res.steps_over.end(), steps_over);
    if (max_excess) std::copy(res.max_excess.begin(), res.max_excess.end(), max_excess);
    report->ok = res.ok ? 1 : 0;
    report->allowed_steps = res.allowed_steps;
    report->out_of_range = res.out_of_range;
    report->empty_workers = res.empty_workers;
    report->workers_over = res.workers_over;
    const size_t len = std::min(res.message.size(), sizeof(report->message) - 1);
    std::memcpy(report->message, res.message.data(), len);
    report->message[len] = '\0';
  });
}


// ------------------------------------------------------------------ online placer

void pyshape_placer_options_init(pyshape_placer_options* o) {
  if (!o) return;
  o->strategy = PYSHAPE_COMPLEMENT;
  o->risk = 0.0;
  o->candidates = 8;
  o->max_workers = 0;
  o->scan_limit = 256;
}

pyshape_status pyshape_placer_create(size_t R, size_t T, const double* capacity, const double* headroom,
                                     const pyshape_placer_options* options, pyshape_placer** out) {
  return guard([&] {
    need(out != nullptr, "out is NULL");
    *out = nullptr;
    need(capacity != nullptr, "capacity is required");
    need(R > 0 && T > 0, "R and T must be at least 1");
    mul(R, T, "shape");
    pyshape_placer_options o;
    pyshape_placer_options_init(&o);
    if (options) o = *options;
    need(o.candidates >= 0, "candidates must be non-negative");
    need(o.max_workers >= 0, "max_workers must be at least 1 (or 0: no limit)");
    need(o.scan_limit >= 0, "scan_limit must be non-negative");
    std::vector<double> head(R, 0.0);
    if (headroom) head.assign(headroom, headroom + R);
    *out = new pyshape_placer{
        Placer(simd_tables().pack, R, T, capacity, head.data(), placer_strategy(o.strategy), o.risk, o.candidates, o.max_workers,
               o.scan_limit)};
  });
}

pyshape_status pyshape_placer_create_typed(size_t R, size_t T, const pyshape_worker_types* types,
                                           const double* headroom, const pyshape_placer_options* options,
                                           pyshape_placer** out) {
  return guard([&] {
    need(out != nullptr, "out is NULL");
    *out = nullptr;
    need(types != nullptr && types->n_types > 0 && types->capacity != nullptr && types->cost != nullptr,
         "types need n_types >= 1, a capacity table and costs");
    need(R > 0, "R and T must be at least 1");
    mul(types->n_types, R, "types");
    check_worker_types(types->n_types, R, types->capacity, types->cost);
    std::vector<double> capmax(types->capacity, types->capacity + R);  // the placer's capacity: the largest
    for (size_t t = 1; t < types->n_types; ++t)
      for (size_t r = 0; r < R; ++r) capmax[r] = std::max(capmax[r], types->capacity[t * R + r]);
    std::vector<std::string> names(types->n_types);
    for (size_t t = 0; t < types->n_types; ++t) {
      names[t] = types->names && types->names[t] ? std::string(types->names[t]) : std::to_string(t);
      need(!names[t].empty(), "worker type names must not be empty");
    }
    pyshape_placer* p = nullptr;
    pyshape_status st = pyshape_placer_create(R, T, capmax.data(), headroom, options, &p);
    if (st != PYSHAPE_OK) fail(st, pyshape_last_error());
    std::unique_ptr<pyshape_placer> own(p);
    own->p.set_types(types->n_types, types->capacity, types->cost, std::move(names));
    *out = own.release();
  });
}

pyshape_status pyshape_placer_worker_type(const pyshape_placer* p, size_t worker, int32_t* type) {
  return guard([&] {
    need(p != nullptr && type != nullptr, "placer and type are required");
    if (worker >= p->p.n_workers())
      fail(PYSHAPE_EINVAL, "worker " + std::to_string(worker) + " out of range [0, " +
                               std::to_string(p->p.n_workers()) + ")");
    *type = p->p.worker_type(worker);
  });
}

void pyshape_placer_free(pyshape_placer* p) { delete p; }

pyshape_status pyshape_placer_place(pyshape_placer* p, const char* id, const float* shape, int64_t* worker) {
  return guard([&] {
    need(p != nullptr && shape != nullptr, "placer and shape are required");
    int64_t w = p->p.place(id_key(id), shape);
    if (worker) *worker = w;
  });
}

pyshape_status pyshape_placer_remove(pyshape_placer* p, const char* id, int64_t* worker) {
  return guard([&] {
    need(p != nullptr, "placer is NULL");
    int64_t w = p->p.remove(id_key(id));
    if (worker) *worker = w;
  });
}

pyshape_status pyshape_placer_worker_of(const pyshape_placer* p, const char* id, int64_t* worker) {
  return guard([&] {
    need(p != nullptr && worker != nullptr, "placer and worker are required");
    *worker = p->p.worker_of(id_key(id));
  });
}

size_t pyshape_placer_n_workers(const pyshape_placer* p) { return p ? p->p.n_workers() : 0; }

size_t pyshape_placer_n_items(const pyshape_placer* p) { return p ? p->p.n_items() : 0; }

pyshape_status pyshape_placer_load(const pyshape_placer* p, size_t worker, float* out) {
  return guard([&] {
    need(p != nullptr && out != nullptr, "placer and out are required");
    if (worker >= p->p.n_workers())
      fail(PYSHAPE_EINVAL, "no such worker: " + std::to_string(worker) + " (" + std::to_string(p->p.n_workers()) +
                               " open)");
    p->p.load_logical(worker, out);
  });
}

pyshape_status pyshape_placer_score(pyshape_placer* p, const float* shape, const int64_t* workers, size_t n,
                                    double threshold, const pyshape_scores* out) {
  return guard([&] {
    need(p != nullptr && shape != nullptr && out != nullptr, "placer, shape and out are required");
    if (workers != nullptr)
      for (size_t k = 0; k < n; ++k)
        if (workers[k] < 0 || static_cast<uint64_t>(workers[k]) >= p->p.n_workers())
          fail(PYSHAPE_EINVAL, "worker " + std::to_string(workers[k]) + " (candidate " + std::to_string(k) +
                                   ") out of range [0, " + std::to_string(p->p.n_workers()) + ")");
    // checked non-negative: the same values as size_t (signed and unsigned
    // variants of one type may alias), so no copy per call
    static_assert(sizeof(size_t) == sizeof(int64_t), "64-bit size_t");
    const size_t* ws = reinterpret_cast<const size_t*>(workers);
    ScoreOut o;
    o.new_peak = out->new_peak;
    o.peak_rise = out->peak_rise;
    o.covariance = out->covariance;
    o.correlation = out->correlation;
    o.steps_over = out->steps_over;
    o.fits = out->fits;
    static const size_t no_worker = 0;  // n == 0 candidates is none, not "every worker" (nullptr)
    p->p.score(shape, workers ? (n ? ws : &no_worker) : nullptr, n, threshold, o);
  });
}

pyshape_status pyshape_placer_update(pyshape_placer* p, const char* id, const float* shape, int* fits) {
  return guard([&] {
    need(p != nullptr && shape != nullptr, "placer and shape are required");
    const bool ok = p->p.update(id_key(id), shape);
    if (fits) *fits = ok ? 1 : 0;
  });
}

pyshape_status pyshape_placer_advance(pyshape_placer* p, size_t k, const char* const* ids, const float* values,
                                      size_t* n_over) {
  return guard([&] {
    need(p != nullptr, "placer is NULL");
    const size_t n = p->p.n_items();
    need(values != nullptr || n == 0, "values is NULL");
    std::vector<std::string> keys;
    if (ids != nullptr) {
      keys.reserve(n);
      for (size_t i = 0; i < n; ++i) keys.push_back(id_key(ids[i]));
    }
    static const float kNone = 0.f;
    std::vector<size_t> over = p->p.advance(k, ids ? &keys : nullptr, values ? values : &kNone);
    if (n_over) *n_over = over.size();
  });
}

pyshape_status pyshape_placer_ids(const pyshape_placer* p, char* buffer, size_t capacity, size_t* size,
                                  int64_t* workers) {
  return guard([&] {
    need(p != nullptr && size != nullptr, "placer and size are required");
    const Placer& q = p->p;
    // every key in ids() order (worker 0's members, then worker 1's, ...)
    const std::vector<std::string> keys = q.ids();
    size_t bytes = 0;
    for (const auto& k : keys) bytes += k.size();  // the tag ('s' / 'i') drops, a NUL comes in: the same size
    *size = bytes;
    if (buffer != nullptr && capacity < bytes)
      fail(PYSHAPE_EINVAL, "buffer of " + std::to_string(capacity) + " bytes is too small: the ids take " +
                               std::to_string(bytes) + " (*size)");
    if (workers != nullptr)
      for (size_t w = 0, i = 0; w < q.n_workers(); ++w)
        for (size_t m = 0; m < q.n_members(w); ++m) workers[i++] = static_cast<int64_t>(w);
    if (buffer == nullptr) return;
    char* o = buffer;
    for (const auto& k : keys) {
      std::memcpy(o, k.data() + 1, k.size() - 1);
      o += k.size() - 1;
      *o++ = '\0';
    }
  });
}

pyshape_status pyshape_placer_shape(const pyshape_placer* p, const char* id, float* out) {
  return guard([&] {
    need(p != nullptr && out != nullptr, "placer and out are required");
    p->p.shape_of(id_key(id), out);
  });
}

pyshape_status pyshape_placer_snapshot(const pyshape_placer* p, void** data, size_t* size) {
  return guard([&] {
    need(p != nullptr && data != nullptr && size != nullptr, "placer, data and size are required");
    *data = nullptr;
    *size = 0;
    std::string s = p->p.snapshot();
    void* buf = std::malloc(s.size() ? s.size() : 1);
    if (!buf) throw std::bad_alloc();
    std::memcpy(buf, s.data(), s.size());
    *data = buf;
    *size = s.size();
  });
}

pyshape_status pyshape_placer_restore(const void* data, size_t size, pyshape_placer** out) {
  return guard([&] {
    need(out != nullptr, "out is NULL");
    *out = nullptr;
    need(data != nullptr || size == 0, "data is NULL");
    std::string bytes(static_cast<const char*>(data), size);
    *out = restore_bytes(bytes);
  });
}

pyshape_status pyshape_placer_save(const pyshape_placer* p, const char* path) {
  return guard([&] {
    need(p != nullptr && path != nullptr, "placer and path are required");
    std::string s = p->p.snapshot();
    std::string target(path);
    std::string dir = ".";
    size_t slash = target.rfind('/');
    if (slash != std::string::npos) dir = slash == 0 ? "/" : target.substr(0, slash);
    std::string base = slash == std::string::npos ? target : target.substr(slash + 1);
    std::string tmpl = (dir == "/" ? "" : dir) + "/." + base + ".XXXXXX";
    std::vector<char> tmp(tmpl.begin(), tmpl.end());
    tmp.push_back('\0');
    int fd = mkstemp(tmp.data());
    if (fd < 0) fail(PYSHAPE_EIO, "cannot create a temporary file next to " + target + ": " + std::strerror(errno));
    size_t off = 0;
    bool ok = true;
    while (off < s.size()) {
      ssize_t k = ::write(fd, s.data() + off, s.size() - off);
      if (k < 0) {
        if (errno == EINTR) continue;
        ok = false;
        break;
      }
      off += static_cast<size_t>(k);
    }
    int err = ok ? 0 : errno;
    if (ok && ::fsync(fd) != 0) ok = false, err = errno;
    if (::close(fd) != 0 && ok) ok = false, err = errno;
    if (ok && std::rename(tmp.data(), target.c_str()) != 0) ok = false, err = errno;
    if (!ok) {
      ::unlink(tmp.data());
      fail(PYSHAPE_EIO, "cannot write " + target + ": " + std::strerror(err));
    }
    int dfd = ::open(dir.c_str(), O_RDONLY);  // make the rename itself durable
    if (dfd >= 0) {
      (void)::fsync(dfd);
      ::close(dfd);
    }
  });
}

pyshape_status pyshape_placer_restore_file(const char* path, pyshape_placer** out) {
  return guard([&] {
    need(out != nullptr, "out is NULL");
    *out = nullptr;
    need(path != nullptr, "path is NULL");
    std::ifstream f(path, std::ios::binary);
    if (!f) fail(PYSHAPE_EIO, std::string("cannot open ") + path + ": " + std::strerror(errno));
    std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (f.bad()) fail(PYSHAPE_EIO, std::string("cannot read ") + path);
    *out = restore_bytes(bytes);
  });
}

}  // extern "C"
