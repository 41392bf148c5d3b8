// Batch placement of n shapes D[n, R, T] (float32, C-contiguous) onto
// workers of capacity cap[R] (see fleet.hpp for feasibility and pruning).
#pragma once
#include <cstddef>
#include <cstdint>

#include "common/progress.hpp"
#include "pack/fleet.hpp"

namespace pyshape {

// One pass over the shapes (threads over fixed blocks of rows, so results do
// not depend on the thread count): per-shape peaks (n x R), the total demand
// per resource and step (R x T, float64, summed block by block in order), and
// the first row holding a non-finite or a negative value (-1 when none).
void pack_stats(const PackKernels& pk, const float* D, size_t n, size_t R, size_t T, float* peaks, double* total,
                int64_t* bad_nonfinite, int64_t* bad_negative, int n_threads);

struct PackOptions {
  PackStrategy strategy = PackStrategy::kComplement;
  double risk = 0;
  // The defaults of every front end (Python reads them from _core, the C API
  // from here): one source.
  int candidates = 8;    // complement: fitting workers compared per shape
  int improve = 2;       // passes of the drain step (0: none)
  // Above this many shapes, the order is dealt round-robin into
  // ceil(n / shard_size) shards packed independently (in parallel) and their
  // workers concatenated; 0: one shard. Fixed by n, never by the thread
  // count, so plans do not depend on threads.
  size_t shard_size = 32768;
  // 'auto' (see portfolio.hpp): per shard, the best of a portfolio of greedy
  // orders and rules, then local search (improve.hpp), within a work budget
  // scaled by effort; shards too large for it get the complement rule.
  bool search = false;
  double effort = 1.0;
};

// Places shapes in the given order (a permutation of [0, n)); writes the
// worker of every shape to assign (workers numbered 0..W-1 in order of
// opening; shard by shard when sharded) and returns W. Every shape must fit
// an empty worker.
size_t pack_shapes(const PackKernels& pk, const float* D, size_t n, size_t R, size_t T, const float* cap,
                   const int64_t* order, const PackOptions& opt, int64_t* assign,
                   const ProgressFn& progress, int n_threads = 0);

// One greedy pass of opt.strategy over order[0..m) on a fleet of its own
// (then opt.improve drain passes); assign[order[k]] gets local worker indices
// 0..W-1. Returns W.
size_t pack_greedy(const PackKernels& pk, const float* D, size_t R, size_t T, const float* cap, const int64_t* order,
                   size_t m, const PackOptions& opt, int64_t* assign, const ProgressFn& progress);

}  // namespace pyshape
