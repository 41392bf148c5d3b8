// Exact top-k partners with low-rank pruning.
//
// Each unit-norm row u is split as u = V p + e, with V (T x r, orthonormal
// columns) a basis that captures most of the rows' energy, p = V^T u its
// projection and e the residual (||e|| = res). For any pair,
//     |u_i . u_j - p_i . p_j| <= res_i * res_j,
// so p_i . p_j +- res_i res_j bound the score at r/T of the cost. A pair is
// scored exactly (the canonical dot over all T) only when its upper bound
// reaches the row's running k-th highest score, or its lower bound reaches the
// running k-th lowest. The result is the exact top-k: a pair that belongs in
// it always passes its bound test, whatever the current thresholds.
#pragma once
#include <cstddef>
#include <cstdint>

#include "common/progress.hpp"
#include "correlate/gemm.hpp"
#include "correlate/pearson.hpp"

namespace pyshape {

struct LowRankSide {
  const float* rows;  // unit-norm rows, n x T (for exact scores)
  const float* proj;  // projections, n x r
  const float* res;   // residual norms, n (rounded up)
  size_t n;
};

struct PruneStats {
  uint64_t exact_pairs = 0;  // pairs scored over all T
};

// margin is added to every bound to absorb float32 rounding in the
// projections, the bound products and the exact scores.
void topk_pruned(const LowRankSide& queries, const LowRankSide& db, size_t T, size_t r, int k,
                 int64_t self_offset, float margin, const TopKOutput& out, int n_threads,
                 const ProgressFn& progress, PruneStats* stats);

}  // namespace pyshape
