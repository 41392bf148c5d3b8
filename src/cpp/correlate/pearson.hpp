// Pearson correlation of unit-norm rows: all pairs (a full matrix) and the
// top-k partners of every row (never holding the full matrix).
#pragma once
#include <cstddef>
#include <cstdint>

#include "common/progress.hpp"
#include "correlate/gemm.hpp"

namespace pyshape {

// out[i, j] = U[i] . V[j] for unit-norm rows (n x T and m x T). With
// symmetric (V == U), only the upper triangle is computed and mirrored, which
// halves the work; mirrored entries are bitwise equal (same products, same
// order). Values are clamped to [-1, 1] (common/score_range.hpp). kt: the kernels of the SIMD level to use (read once by the
// caller, see common/simd_level.hpp).
void pearson_matrix(const KernelTable& kt, const float* U, size_t n, const float* V, size_t m, size_t T, bool symmetric,
                    float* out, int n_threads, const ProgressFn& progress);

// Where top-k results go; a null pair means "not wanted".
// pos_*: the k highest scores, best first. neg_*: the k lowest, lowest first.
// Shapes: (n_queries, k), row-major.
struct TopKOutput {
  int64_t* pos_index = nullptr;
  float* pos_score = nullptr;
  int64_t* neg_index = nullptr;
  float* neg_score = nullptr;
};

// Exact top-k by brute force: every score is computed (blocked products) and
// filtered against the running k-th best. Q holds n_queries unit-norm rows of
// length T (leading dimension ldq). When self_offset >= 0, query row i is
// database row self_offset + i and is excluded from its own partners. db must
// be packed in panels of kt.nr rows.
void topk_bruteforce(const KernelTable& kt, const float* Q, size_t n_queries, size_t ldq, const PanelView& db, int k,
                     int64_t self_offset, const TopKOutput& out, int n_threads,
                     const ProgressFn& progress);

// Rows per work item: a multiple of both micro-tile sizes, near 192 (the row
// block then fills about half of a 512 KiB L2 at K = 256).
size_t row_block(const KernelTable& kt);

}  // namespace pyshape
