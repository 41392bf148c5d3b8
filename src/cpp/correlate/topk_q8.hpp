// Exact top-k with int8 candidates ("reduced-precision candidates, exact answers").
//
// Every unit-norm row u is quantised as u = s q + r with s = max|u| / amax,
// q = round(u / s) (integers in [-amax, amax]) and a residual r. For a pair,
// exactly (real arithmetic),
//     u_i . u_j = s_i s_j q_i . q_j + s_i q_i . r_j + r_i . u_j,
// so by Cauchy-Schwarz
//     |u_i . u_j - s_i s_j q_i . q_j| <= s_i ||q_i|| ||r_j|| + ||r_i|| ||u_j||  (= e_ij).
// q_i . q_j is computed exactly in int32 (kernels/q8_impl.hpp). The float32
// score c_ij that brute force computes (chunks of kKC FMAs, chunk sums added)
// differs from u_i . u_j by at most gamma_m ||u_i|| ||u_j||, with
// m = kKC + ceil(T / kKC) + 2 roundings on any product's path and
// gamma_m = m 2^-24 / (1 - m 2^-24) (Higham, Accuracy and Stability, 3.1).
// The approximate score a_ij = float(q_i . q_j) s_j s_i and e_ij are
// evaluated in float32 (a few roundings, each relative 2^-24 of numbers
// bounded by the per-row maxima), so with
//     delta >= gamma_m max||u_i|| max||u_j|| + (epilogue rounding) ,
// c_ij >= hi implies a_ij + e_ij >= hi - delta (and c_ij <= lo implies
// a_ij - e_ij <= lo + delta). Pairs that pass are re-scored in float32 by the
// same kernel and summation order as brute force (row_panels, bitwise equal
// to the blocked product), and offered to the row's heaps; every pair of the
// final top-k passes (its exact score reaches every running threshold), and
// the heaps keep the k best by (score, smaller index), which does not depend
// on which other pairs were offered. So the result is bitwise that of
// topk_bruteforce. The first database columns (one panel group) are scored
// exactly, as brute force does, to start the thresholds.
#pragma once
#include <cstddef>
#include <cstdint>

#include "common/progress.hpp"
#include "correlate/pearson.hpp"

namespace pyshape {

// Longest rows the int32 accumulation takes without overflow (255 * 127 * T < 2^31).
constexpr size_t kQ8MaxT = 65536;

struct Q8Stats {
  uint64_t candidates = 0;  // pairs re-scored exactly after the int8 test
  uint64_t warm_pairs = 0;  // pairs scored exactly to start the thresholds
  double delta = 0;         // the rounding margin used
};

// Q: n_queries unit-norm rows (leading dimension T); DB: n rows. With
// self_offset >= 0, query i is database row self_offset + i and is excluded
// from its own partners. T <= kQ8MaxT.
void topk_q8(const KernelTable& kt, const float* Q, size_t n_queries, const float* DB, size_t n, size_t T, int k,
             int64_t self_offset, const TopKOutput& out, int n_threads, const ProgressFn& progress,
             Q8Stats* stats);

// The quantisation of one row as used by topk_q8 (for tests): q (T entries),
// and s, A = ||r|| (up), B = s ||q|| (up), N = ||u|| (up).
void q8_quantize_row(const float* u, size_t T, int amax, int8_t* q, float& s, float& A, float& B, float& N);

// The margin delta of topk_q8 for rows of length T whose norms, s ||q|| and
// residual norms are at most the given maxima.
double q8_delta(size_t T, double n_q, double n_db, double b_q, double b_db, double a_q, double r_db);

// For tests: every pair's exact integer product D = q_i . q_j (computed by
// kt.q8_tile), the approximation s_i s_j D and the bound e_ij (float64, from
// the float32 per-row data the search uses); returns delta. Outputs nq x n.
double q8_pair_bounds(const KernelTable& kt, const float* Q, size_t nq, const float* DB, size_t n, size_t T,
                      int32_t* D, double* approx, double* err);

}  // namespace pyshape
