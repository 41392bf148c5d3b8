// The packing policy: everything pyshape.pack decides, in one function that
// the Python binding and the C API both call (so they give the same plan).
//
//   effective capacity  C_eff[r] = float32(capacity[r] * (1 - headroom[r]))
//   size order          decreasing max_r peak[i, r] / C_eff[r] (float32), ties in input order
//   peak baseline       first-fit decreasing on the peaks (shapes of one step), same order,
//                       sharded by the same shard_size
//   plan                pack_shapes() in that order with the strategy's options
//                       (improve only for complement and auto; 'peak' is the baseline itself;
//                       'auto': portfolio + local search, portfolio.hpp)
//   worker types        (a type table instead of capacity) the cheapest of the candidate plans of
//                       types.hpp, each worker downsized to the cheapest type its load fits; the
//                       peak baseline the same on the peaks with first_fit; the worker lower bound
//                       against the largest effective capacity per resource, plus a cost bound
//   lower bound         the smallest W >= 1 with #{t : m[t] > W} <= W * floor(risk * T), where
//                       m[t] = max_r total[r, t] / C_eff[r] * (1 - 4 * 2^-23) (pyshape.packing.lower_bound)
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/progress.hpp"
#include "pack/pack.hpp"

namespace pyshape {

// kAuto: the portfolio and local search of portfolio.hpp (the default).
enum class PlanStrategy : int { kComplement = 0, kFirstFit = 1, kBestFit = 2, kPeak = 3, kAuto = 4 };

// Strategy by name ("auto", "complement", "first_fit", "best_fit", "peak"); throws
// std::invalid_argument for another.
PlanStrategy parse_plan_strategy(const std::string& name);

struct PackRequest {
  const float* shapes = nullptr;  // n x R x T, C order
  size_t n = 0, R = 0, T = 0;
  const double* capacity = nullptr;  // R
  const double* headroom = nullptr;  // R (null: 0)
  PlanStrategy strategy = PlanStrategy::kAuto;
  double risk = 0;
  int candidates = PackOptions().candidates;  // the defaults: PackOptions (pack.hpp), the one source
  int improve = PackOptions().improve;
  size_t shard_size = PackOptions().shard_size;
  double effort = PackOptions().effort;  // kAuto: scale of the local-search budget
  // Worker types (types.hpp): n_types > 0 replaces capacity by a table of
  // types, type_capacity (n_types x R) and type_cost (n_types); the plan
  // minimises the total cost. capacity is then ignored (may be null).
  size_t n_types = 0;
  const double* type_capacity = nullptr;
  const double* type_cost = nullptr;
};

// Problems found in the data itself (the caller words the message, with its ids).
struct PackProblem {
  int64_t nonfinite_row = -1;          // first shape with a NaN or infinite value
  int64_t negative_row = -1;           // first shape with a negative value
  std::vector<int64_t> too_large_rows; // shapes whose peak exceeds C_eff (all of them)
  bool any() const { return nonfinite_row >= 0 || negative_row >= 0 || !too_large_rows.empty(); }
};

struct PackFigures {
  size_t n_workers = 0, lower_bound = 0, peak_workers = 0;
  // The cost of the plan, a lower bound on it (cost_lower_bound, types.hpp)
  // and the cost of the peak-based baseline. Without types every worker
  // costs 1: the worker counts (lower_bound, peak_workers).
  double cost = 0, cost_lower_bound = 0, peak_cost = 0;
  // With types: the type of every worker (n_workers entries); else empty.
  std::vector<int32_t> worker_type;
};

// Throws std::invalid_argument (message as pyshape.pack's) for bad sizes or
// parameters: n, R, T zero, capacity not positive and finite, headroom not
// in [0, 1), an effective capacity below float32's normal range, risk not in [0, 1), 'peak' with risk, negative counts.
void check_pack_request(const PackRequest& rq);

std::vector<float> effective_capacity(size_t R, const double* capacity, const double* headroom);

// Indices 0..n-1 by decreasing max_r peaks[i, r] / eff[r], ties in input order.
std::vector<int64_t> size_order(const float* peaks, size_t n, size_t R, const float* eff);

// Fewest workers any plan within the risk budget can use (see
// pyshape.packing.lower_bound for the proof): the smallest W >= 1 with
// #{t : m[t] > W} <= W * floor(risk * T), m[t] = max_r total[r, t] / cap[r]
// lowered by 4 float32 units; with risk 0, max_r ceil(max_t total / cap).
// Throws std::invalid_argument when the ratio is not finite.
size_t pack_lower_bound(const double* total, size_t R, size_t T, const double* cap, double risk);

// The whole policy. Checks the request (check_pack_request), computes the
// per-shape peaks and the total (R x T, float64, to total), then: when the
// data has a problem, fills *problem and returns false (nothing packed);
// otherwise writes the worker of every shape to assign (n), the figures, and
// returns true. progress is called by the main packing pass only. pk: the
// placement kernels of the SIMD level, read once by the caller.
bool plan_pack(const PackKernels& pk, const PackRequest& rq, int64_t* assign, double* total, PackFigures* figures,
               PackProblem* problem, const ProgressFn& progress, int n_threads);

}  // namespace pyshape
