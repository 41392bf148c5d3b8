// Plan verification: what pyshape.Plan.verify and pyshape_plan_verify decide,
// from the shapes and the assignment alone (never from the packer's state), so
// a bug in the packer is caught instead of repeated.
//
// Loads are summed again in float64, shape by shape in increasing index per
// worker. Worker w holding k_w shapes is over at step t when, for some
// resource r,
//   load_w[r, t] - limit_w[r] > (k_w + 1) * 2^-23 * limit_w[r]
// (the packer sums in float32: k terms are within (k - 1) units of the exact
// sum, relative to the capacity they are compared with), where
// limit_w[r] = capacity_w[r] * (1 - headroom[r]) and capacity_w is worker w's
// own capacity (its type's, in a heterogeneous fleet). The plan is feasible
// when every assignment entry is in [0, W), no worker is empty, and every
// worker is over at no more than floor(risk * T + 1e-9) steps.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace pyshape {

struct VerifyResult {
  bool ok = true;
  std::vector<int64_t> steps_over;  // W: steps at which the worker is over
  std::vector<double> max_excess;   // R: largest load - limit over workers and steps, at least 0
  size_t allowed_steps = 0;         // floor(risk * T + 1e-9)
  size_t out_of_range = 0;          // assignment entries outside [0, W) (counted; taken as the nearest worker)
  size_t empty_workers = 0;
  size_t workers_over = 0;          // workers over at more than allowed_steps steps
  std::string message;              // "" when ok; else the problems, "; "-separated
};

// D: n x R x T float32 (C order); assign: n entries; W workers; capacity:
// W x R (each worker's own capacity), headroom: R fractions (nullptr: 0).
// Throws std::invalid_argument for R or T of 0, W of 0 with n > 0, a
// capacity not positive and finite, headroom outside [0, 1), risk outside
// [0, 1). Results do not depend on n_threads.
VerifyResult verify_plan(const float* D, size_t n, size_t R, size_t T, const int64_t* assign, size_t W,
                         const double* capacity, const double* headroom, double risk, int n_threads);

// The shortest decimal that reads back as x (as Python's repr of a float).
std::string repr_double(double x);

}  // namespace pyshape
