// Batch placement of n shapes D[n, R, T] (float32, C-contiguous) onto
// workers of capacity cap[R] (see fleet.hpp for feasibility and pruning).
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

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

// The construction loop of every greedy pass (one-type and typed fleets): each
// shape of order[0..m) in turn goes to the worker opt.strategy chooses among
// fleet's open workers, or, when none takes it, to a new worker opened by
// open_worker(i) (i: the shape's row; returns the new worker's index: a
// one-type fleet opens its default worker, a typed one a worker of the type
// open_type() picks), which must hold the shape (else std::invalid_argument).
// assign[order[k]] gets the worker. progress(k, total) every 1024 shapes.
// A template so the one-type pass calls fleet.open() inline, as before.
template <class OpenWorker>
void greedy_pass(Fleet& fleet, const float* D, const int64_t* order, size_t m, const PackOptions& opt,
                 int64_t* assign, OpenWorker&& open_worker, const ProgressFn& progress, size_t total);

// One greedy pass of opt.strategy over order[0..m) on a fleet of its own
// (then opt.improve drain passes); assign[order[k]] gets local worker indices
// 0..W-1. Returns W.
size_t pack_greedy(const PackKernels& pk, const float* D, size_t R, size_t T, const float* cap, const int64_t* order,
                   size_t m, const PackOptions& opt, int64_t* assign, const ProgressFn& progress);

template <class OpenWorker>
void greedy_pass(Fleet& fleet, const float* D, const int64_t* order, size_t m, const PackOptions& opt,
                 int64_t* assign, OpenWorker&& open_worker, const ProgressFn& progress, size_t total) {
  const size_t RT = fleet.R() * fleet.T();
  ShapeSummary ss;
  std::vector<float> np(fleet.R());
  for (size_t k = 0; k < m; ++k) {
    const int64_t i = order[k];
    const float* s = D + static_cast<size_t>(i) * RT;
    fleet.summarize(s, ss);
    int64_t w = fleet.choose(s, ss, opt.strategy, opt.candidates);
    if (w < 0) {
      w = static_cast<int64_t>(open_worker(i));
      if (!fleet.fits(static_cast<size_t>(w), s, np.data()))
        throw std::invalid_argument("shape " + std::to_string(i) + " does not fit an empty worker");
    }
    fleet.add(static_cast<size_t>(w), s, ss);
    assign[i] = w;
    if (progress && (k & 1023) == 1023) progress(k + 1, total);
  }
}

}  // namespace pyshape
