// The packing policy (see policy.hpp).
#include "pack/policy.hpp"

#include "pack/types.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace pyshape {

PlanStrategy parse_plan_strategy(const std::string& s) {
  if (s == "complement") return PlanStrategy::kComplement;
  if (s == "first_fit") return PlanStrategy::kFirstFit;
  if (s == "best_fit") return PlanStrategy::kBestFit;
  if (s == "peak") return PlanStrategy::kPeak;
  if (s == "auto") return PlanStrategy::kAuto;
  throw std::invalid_argument("strategy must be one of ('auto', 'complement', 'first_fit', 'best_fit', 'peak'), got '" +
                              s + "'");
}

namespace {

// The checks of a request against one capacity (R values): the request's, or each type's.
void check_one_capacity(const PackRequest& rq, const double* capacity);

}  // namespace

void check_pack_request(const PackRequest& rq) {
  if (rq.n_types > 0) {
    if (rq.shapes == nullptr) throw std::invalid_argument("shapes are required");
    check_worker_types(rq.n_types, rq.R, rq.type_capacity, rq.type_cost);
    for (size_t t = 0; t < rq.n_types; ++t) check_one_capacity(rq, rq.type_capacity + t * rq.R);
    return;
  }
  check_one_capacity(rq, rq.capacity);
}

namespace {

void check_one_capacity(const PackRequest& rq, const double* capacity) {
  if (rq.shapes == nullptr || capacity == nullptr) throw std::invalid_argument("shapes and capacity are required");
  if (rq.n == 0 || rq.R == 0 || rq.T == 0)
    throw std::invalid_argument("shapes is empty (n=" + std::to_string(rq.n) + ", R=" + std::to_string(rq.R) +
                                ", T=" + std::to_string(rq.T) + "): need at least one shape, resource and step");
  for (size_t r = 0; r < rq.R; ++r) {
    if (!(capacity[r] > 0) || !std::isfinite(capacity[r]))
      throw std::invalid_argument("capacity must be positive and finite, got " + std::to_string(capacity[r]) +
                                  " for resource " + std::to_string(r));
    double h = rq.headroom ? rq.headroom[r] : 0.0;
    if (!(h >= 0 && h < 1))
      throw std::invalid_argument("headroom is a fraction of capacity in [0, 1), got " + std::to_string(h) +
                                  " for resource " + std::to_string(r));
  }
  {
    const std::vector<float> eff = effective_capacity(rq.R, capacity, rq.headroom);
    for (size_t r = 0; r < rq.R; ++r)
      if (!(eff[r] >= std::numeric_limits<float>::min()))
        throw std::invalid_argument("the effective capacity capacity * (1 - headroom) of resource " +
                                    std::to_string(r) + " is below the float32 range: use a larger capacity "
                                    "(or rescale the shapes) or less headroom");
  }
  if (!(rq.risk >= 0 && rq.risk < 1))
    throw std::invalid_argument("risk is a fraction of steps in [0, 1), got " + std::to_string(rq.risk));
  if (rq.strategy == PlanStrategy::kPeak && rq.risk > 0)
    throw std::invalid_argument("the peak strategy reserves peaks: risk must be 0");
  if (static_cast<int>(rq.strategy) < 0 || static_cast<int>(rq.strategy) > 4)
    throw std::invalid_argument("unknown strategy " + std::to_string(static_cast<int>(rq.strategy)));
  if (!(rq.effort >= 0) || !std::isfinite(rq.effort))
    throw std::invalid_argument("effort must be a non-negative finite number, got " + std::to_string(rq.effort));
  if (rq.candidates < 0 || rq.improve < 0)
    throw std::invalid_argument("candidates, improve and shard_size must be non-negative");
}

}  // namespace

std::vector<float> effective_capacity(size_t R, const double* capacity, const double* headroom) {
  std::vector<float> eff(R);
  for (size_t r = 0; r < R; ++r)
    eff[r] = static_cast<float>(capacity[r] * (1.0 - (headroom ? headroom[r] : 0.0)));  // as NumPy: f64, then f32
  return eff;
}

std::vector<int64_t> size_order(const float* peaks, size_t n, size_t R, const float* eff) {
  std::vector<float> key(n);
  for (size_t i = 0; i < n; ++i) {
    float k = peaks[i * R] / eff[0];  // float32 division, as NumPy's peaks / eff
    for (size_t r = 1; r < R; ++r) k = std::max(k, peaks[i * R + r] / eff[r]);
    key[i] = k;
  }
  std::vector<int64_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = static_cast<int64_t>(i);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return key[a] > key[b]; });
  return order;
}

size_t pack_lower_bound(const double* total, size_t R, size_t T, const double* cap, double risk) {
  if (R == 0) throw std::invalid_argument("lower bound: no resources");
  if (!(risk >= 0 && risk < 1)) throw std::invalid_argument("risk is a fraction of steps in [0, 1)");
  if (T == 0) return 1;
  const size_t k = static_cast<size_t>(std::floor(risk * static_cast<double>(T) + 1e-9));  // as Plan.verify
  const double shrink = 1.0 - 4.0 * std::ldexp(1.0, -23);
  // m[t] = max_r total[r, t] / cap[r], lowered by 4 float32 units (as NumPy: divide, max, multiply)
  std::vector<double> m(T);
  bool nan = false;
  for (size_t t = 0; t < T; ++t) {
    double v = total[t] / cap[0];
    nan |= std::isnan(v);
    for (size_t r = 1; r < R; ++r) {
      double q = total[r * T + t] / cap[r];
      nan |= std::isnan(q);
      v = q > v ? q : v;
    }
    m[t] = v * shrink;
  }
  double top = *std::max_element(m.begin(), m.end());
  if (nan) throw std::invalid_argument("lower bound: total demand / capacity is not finite");
  double c = std::ceil(top);
  if (!std::isfinite(c) || c > 9.0e18)
    throw std::invalid_argument("lower bound: total demand / capacity is not finite");
  size_t hi = c < 1 ? 1 : static_cast<size_t>(c);
  if (k == 0) return hi;
  // the smallest W in [1, hi] with #{t : m[t] > W} <= W * k (the count falls as W grows)
  std::sort(m.begin(), m.end());
  auto ok = [&](size_t W) {
    size_t le = static_cast<size_t>(std::upper_bound(m.begin(), m.end(), static_cast<double>(W)) - m.begin());
    return T - le <= W * k;
  };
  size_t lo = 1;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (ok(mid))
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

namespace {

// The options of the plan's engine for a request (the peak baseline has its own).
PackOptions plan_options(const PackRequest& rq) {
  PackOptions opt;
  opt.strategy = rq.strategy == PlanStrategy::kFirstFit  ? PackStrategy::kFirstFit
                 : rq.strategy == PlanStrategy::kBestFit ? PackStrategy::kBestFit
                                                         : PackStrategy::kComplement;
  opt.risk = rq.risk;
  opt.candidates = rq.candidates;
  opt.improve = rq.strategy == PlanStrategy::kComplement || rq.strategy == PlanStrategy::kAuto ? rq.improve : 0;
  opt.search = rq.strategy == PlanStrategy::kAuto;
  opt.effort = rq.effort;
  opt.shard_size = rq.shard_size;
  return opt;
}

// The peak-based baseline's options: first-fit decreasing on one-step shapes
// (the peaks), sharded like the placement (so pack stays linear in n).
PackOptions peak_options(const PackRequest& rq) {
  PackOptions base;
  base.strategy = PackStrategy::kFirstFit;
  base.risk = 0;
  base.candidates = 1;
  base.improve = 0;
  base.shard_size = rq.shard_size;
  return base;
}

// plan_pack with a type table (types.hpp), after the request is checked.
bool plan_pack_typed(const PackKernels& pk, const PackRequest& rq, int64_t* assign, double* total,
                     PackFigures* figures, PackProblem* problem, const ProgressFn& progress, int n_threads) {
  const size_t n = rq.n, R = rq.R, T = rq.T, nt = rq.n_types;
  std::vector<float> eff(nt * R);
  for (size_t t = 0; t < nt; ++t) {
    const std::vector<float> e = effective_capacity(R, rq.type_capacity + t * R, rq.headroom);
    std::copy(e.begin(), e.end(), eff.begin() + t * R);
  }
  std::vector<float> peaks(n * R);
  PackProblem found;
  pack_stats(pk, rq.shapes, n, R, T, peaks.data(), total, &found.nonfinite_row, &found.negative_row, n_threads);
  if (found.nonfinite_row < 0 && found.negative_row < 0) {
    for (size_t i = 0; i < n; ++i)
      if (open_type(peaks.data() + i * R, R, eff.data(), rq.type_cost, nt) < 0)
        found.too_large_rows.push_back(static_cast<int64_t>(i));
  }
  if (found.any()) {
    if (problem) *problem = std::move(found);
    return false;
  }
  std::vector<int32_t> peak_type, plan_type;
  std::vector<int64_t> peak_assign(rq.strategy == PlanStrategy::kPeak ? 0 : n);
  int64_t* pa = rq.strategy == PlanStrategy::kPeak ? assign : peak_assign.data();
  const double peak_cost = pack_typed(pk, peaks.data(), n, R, 1, peaks.data(), eff.data(), rq.type_cost, nt,
                                      peak_options(rq), pa, peak_type, ProgressFn(), n_threads);
  double cost = peak_cost;
  if (rq.strategy == PlanStrategy::kPeak) {
    plan_type = peak_type;
  } else {
    cost = pack_typed(pk, rq.shapes, n, R, T, peaks.data(), eff.data(), rq.type_cost, nt, plan_options(rq), assign,
                      plan_type, progress, n_threads);
  }
  if (figures) {
    std::vector<double> effd(eff.begin(), eff.end()), effmax(effd.begin(), effd.begin() + R);
    for (size_t t = 1; t < nt; ++t)
      for (size_t r = 0; r < R; ++r) effmax[r] = std::max(effmax[r], effd[t * R + r]);
    figures->n_workers = plan_type.size();
    figures->peak_workers = peak_type.size();
    figures->lower_bound = pack_lower_bound(total, R, T, effmax.data(), rq.risk);
    figures->cost = cost;
    figures->peak_cost = peak_cost;
    figures->cost_lower_bound =
        cost_lower_bound(total, R, T, effd.data(), rq.type_cost, nt, rq.risk, peaks.data(), n);
    figures->worker_type = std::move(plan_type);
  }
  return true;
}

}  // namespace

bool plan_pack(const PackKernels& pk, const PackRequest& rq, int64_t* assign, double* total, PackFigures* figures, PackProblem* problem,
               const ProgressFn& progress, int n_threads) {
  check_pack_request(rq);
  if (rq.n_types > 0) return plan_pack_typed(pk, rq, assign, total, figures, problem, progress, n_threads);
  const size_t n = rq.n, R = rq.R, T = rq.T;
  const std::vector<float> eff = effective_capacity(R, rq.capacity, rq.headroom);
  std::vector<float> peaks(n * R);
  PackProblem found;
  pack_stats(pk, rq.shapes, n, R, T, peaks.data(), total, &found.nonfinite_row, &found.negative_row, n_threads);
  if (found.nonfinite_row < 0 && found.negative_row < 0) {
    for (size_t i = 0; i < n; ++i)
      for (size_t r = 0; r < R; ++r)
        if (peaks[i * R + r] > eff[r]) {
          found.too_large_rows.push_back(static_cast<int64_t>(i));
          break;
        }
  }
  if (found.any()) {
    if (problem) *problem = std::move(found);
    return false;
  }
  const std::vector<int64_t> order = size_order(peaks.data(), n, R, eff.data());

  // The peak-based baseline.
  std::vector<int64_t> peak_assign(rq.strategy == PlanStrategy::kPeak ? 0 : n);
  int64_t* pa = rq.strategy == PlanStrategy::kPeak ? assign : peak_assign.data();
  size_t peak_w =
      pack_shapes(pk, peaks.data(), n, R, 1, eff.data(), order.data(), peak_options(rq), pa, ProgressFn(), n_threads);

  size_t W = peak_w;
  if (rq.strategy != PlanStrategy::kPeak)
    W = pack_shapes(pk, rq.shapes, n, R, T, eff.data(), order.data(), plan_options(rq), assign, progress, n_threads);
  if (figures) {
    std::vector<double> effd(eff.begin(), eff.end());
    figures->n_workers = W;
    figures->peak_workers = peak_w;
    figures->lower_bound = pack_lower_bound(total, R, T, effd.data(), rq.risk);
    figures->cost = static_cast<double>(W);
    figures->peak_cost = static_cast<double>(peak_w);
    figures->cost_lower_bound = static_cast<double>(figures->lower_bound);
    figures->worker_type.clear();
  }
  return true;
}

}  // namespace pyshape
