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
  const float* rows;  // unit-norm rows, n x T (for exact scores), caller's order
  const float* proj;  // projections, n x r, in processing order
  const float* res;   // residual norms, n (rounded up), in processing order
  size_t n;
  // Processing order: position i works on row order[i] (null: row i), which is
  // also the index reported and used to break ties. Similar rows placed next
  // to each other make candidate pairs fill whole tiles.
  const int64_t* order = nullptr;
  int64_t row(size_t pos) const { return order ? order[pos] : static_cast<int64_t>(pos); }
};

// Every exact score is computed in the blocked product's summation order, so
// pruned and brute-force results are bitwise equal (ties included). A tile
// with at least this many candidate pairs is scored whole by the
// micro-kernel; otherwise each query row with candidates is scored against the
// candidate panels (row_panels, up to 6 panels per call to fill the FMA
// pipeline), which costs about one sixth of a tile per panel.
constexpr int kDenseTileMin = 24;

struct PruneStats {
  uint64_t row_panels = 0;   // (query row, db panel) pairs scored by row_panels
  uint64_t dense_tiles = 0;  // mr x nr tiles scored by the micro-kernel
};

// margin is added to every bound to absorb float32 rounding in the
// projections, the bound products and the exact scores.
// db_full: the database rows packed over all T (panels of kt.nr), in processing
// order. With self_offset >= 0, query position i is database position
// self_offset + i.
void topk_pruned(const KernelTable& kt, const LowRankSide& queries, const LowRankSide& db, const PanelView& db_full,
                 size_t T, size_t r, int k, int64_t self_offset, float margin,
                 const TopKOutput& out, int n_threads, const ProgressFn& progress,
                 PruneStats* stats);

}  // namespace pyshape
