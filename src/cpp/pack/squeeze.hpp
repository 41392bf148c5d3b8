// Squeeze: fit a plan onto one worker fewer by minimising weighted overflow
// (the fixed-k search of the 'auto' strategy, portfolio.hpp).
//
// The local search of improve.hpp keeps every plan feasible and empties one
// worker at a time; it misses plans that need the whole fleet rearranged
// (few workers, a step where the fleet is nearly full). Squeeze works the
// other way round: it fixes the number of workers k, puts every shape on one
// of them, overflow allowed, and moves shapes until nothing is over capacity.
//
//   Objective: sum over workers b and (resource, step) q of
//   w[b, q] * max(0, load[b, q] - cap[q]); the weights start at 1 / cap per
//   resource (so resources compare as fractions of a worker).
//
//   Moves: a shape on a worker over capacity that adds to one of its
//   overflowing steps goes to another worker (relocate) or trades places
//   with a shape there (swap); the move that lowers the objective most is
//   made (ties broken by a seeded generator). A move just made may not be
//   undone for a few iterations (tabu: the shape may not go back to the
//   worker it left).
//
//   Weights: when no move lowers the objective (a local minimum), the weight
//   of every (worker, step) over capacity grows by its initial value, so the
//   steps that stay over count more and more until some move clears them
//   (the breakout / constraint-weighting scheme of weighted local search).
//
// It stops when no worker is over capacity (a plan on k workers) or after
// its budget of values compared (one per (resource, step) of a move's
// evaluation). It never proves that k workers are too few. Deterministic:
// the outcome depends on the inputs, the seed and the budget only, never on
// time or threads.
#pragma once
#include <cstddef>
#include <cstdint>

namespace pyshape {

struct SqueezeResult {
  bool found = false;    // every worker within capacity
  uint64_t work = 0;     // values compared
  uint64_t moves = 0;    // relocations and swaps made
  uint64_t bumps = 0;    // weight increases (local minima)
  uint64_t repacks = 0;  // pair re-packs that succeeded
};

// Shapes S[m, RT] (float64, contiguous), per-(resource, step) capacity
// capk[RT], k >= 1 workers, where[m]: each shape's worker in [0, k) to start
// from (overflow allowed). On return where holds the last state (a plan
// within capacity when found). The loads are kept incrementally; the caller
// re-checks a found plan from its shapes.
SqueezeResult squeeze_into(const double* S, size_t m, size_t RT, const double* capk, size_t k, int* where,
                           uint64_t budget, uint64_t seed);

// The least-overflow start for squeeze_into: shapes in the given order, each
// on the worker where it adds the least overflow (as a fraction of capacity;
// ties: the worker with the least load). where: m entries, all in [0, k).
void squeeze_start(const double* S, size_t m, size_t RT, const double* capk, size_t k, int* where);

struct SqueezePlanResult {
  size_t workers = 0;  // workers after the search
  uint64_t work = 0;   // values compared
};

// Fewer workers for a plan bin[m] on W workers (0..W-1, none empty) of
// shapes D[m, R, T] with capacity cap[R]: while above lower, squeeze_into on
// k = W - 1 workers from squeeze_start (shapes in decreasing size: max peak /
// capacity plus mean volume / capacity), in tries of budget / kPieces each
// with its own seed (seed + 1000 * round + try) until one is found or the
// budget is spent. Each plan found is re-checked from its shapes (float64
// sums against capacity with Plan.verify's float32 allowance), drops any
// worker left empty, and replaces bin. Returns the workers of the final plan
// (W when nothing was found; bin is then unchanged).
SqueezePlanResult squeeze_plan(const float* D, size_t m, size_t R, size_t T, const float* cap, int64_t* bin,
                               size_t W, size_t lower, uint64_t budget, uint64_t seed);

}  // namespace pyshape
