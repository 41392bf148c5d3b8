// Building blocks of shape clustering (pyshape.cluster): the assignment steps
// of correlation k-means and k-Shape, the per-cluster sums of the k-means
// update, and the alignment of members to their centroid for k-Shape's shape
// extraction. The rest of both algorithms (initialisation, empty clusters,
// eigenvectors, convergence) is in Python.
//
// Every function is deterministic for any thread count: work is split in a
// fixed partition (row blocks, or column chunks for the sums) and every
// output depends only on its own inputs, never on the order threads run.
#pragma once
#include <cstddef>
#include <cstdint>

#include "common/progress.hpp"
#include "common/simd_level.hpp"

namespace pyshape {

// Correlation k-means assignment. U: n unit-norm rows of length T; C: k
// unit-norm centroids. For every row, label[i] = argmax_j U[i] . C[j] (ties:
// the lowest j) and best[i] = that dot product (Pearson r), scores clamped to
// [-1, 1] first (common/score_range.hpp). The rows are read in place by the
// micro-kernel (KernelTable::micro_rows) against the packed centroids, in the
// blocked product's summation order: the scores are bitwise those of
// pearson_matrix (transform) at the same SIMD level.
void corr_assign(const KernelTable& kt, const float* U, size_t n, size_t T, const float* C, size_t k, int64_t* label,
                 float* best, int n_threads, const ProgressFn& progress);

// corr_assign, and in the same pass over the rows the per-cluster sums of the
// Lloyd update: sums (k x T, double) bitwise those of label_sums on the labels
// found (each cluster's members added in row order). A block of rows is added
// right after its assignment, while it is still in cache, by one thread at a
// time and in block order, so the order of the additions is the same for any
// thread count.
void corr_assign_sums(const SimdTables& simd, const float* U, size_t n, size_t T, const float* C, size_t k,
                      int64_t* label, float* best, double* sums, int n_threads, const ProgressFn& progress);

// Per-cluster sums of rows: sums[j] = sum of U[i] over label[i] == j (k x T,
// double, summed in row order) and counts[j]. Labels must be in [0, k).
// Threads take whole clusters, so every sum has the same order for any thread
// count.
void label_sums(const float* U, size_t n, size_t T, const int64_t* label, size_t k, double* sums,
                int64_t* counts, int n_threads);

// k-Shape assignment: for every row, the centroid of largest normalised
// cross-correlation over shifts |s| <= L (SBD = 1 - score), label[i] (ties:
// the lowest j), best[i] (the score) and shift[i] (the lag of
// correlate/lagged.hpp: U[i][t] best matches C[label][t - shift]). Rows go
// through lagged_correlation in blocks, so memory is bounded, as its second
// operand (the centroids first: every FFT lane then holds a row). Lags that
// tie exactly keep the one nearest 0, the positive one first.
void sbd_assign(const SimdTables& simd, const float* U, size_t n, size_t T, const float* C, size_t k, size_t L,
                int64_t* label, float* best, int32_t* shift, int n_threads,
                const ProgressFn& progress);

// out[i][t] = U[rows[i]][t + shift[i]] where 0 <= t + shift[i] < T, else 0:
// row rows[i] moved by shift[i] steps to line up with its centroid (m x T).
void align_rows(const float* U, size_t T, const int64_t* rows, const int32_t* shift, size_t m,
                float* out, int n_threads);

}  // namespace pyshape
