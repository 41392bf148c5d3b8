// Exact top-k with int8 candidates ("reduced-precision candidates, exact answers").
//
// Every unit-norm row u is quantised in two levels, u = s q + t p + g: q =
// round(u / s) with s = max|u| / amax, then the residual r = u - s q as
// p = round(r / t) with t = max|r| / amax (q, p integers in [-amax, amax]),
// and g what is left. With v = s q + t p, exactly (real arithmetic),
//     u_i . u_j = s_i s_j q_i . q_j + r_i . u_j + s_i q_i . r_j                      (1)
//               = s_i s_j q_i . q_j + s_i t_j q_i . p_j + t_i s_j p_i . q_j
//                 + t_i t_j p_i . p_j + v_i . g_j + g_i . u_j,                      (2)
// so by Cauchy-Schwarz, with the real norms (float64, rounded up):
//   level 1: |u_i . u_j - a1| <= ||r_i|| ||u_j|| + s_i ||q_i|| ||r_j||              (= e1),
//            a1 = s_i s_j q_i . q_j;
//   level 2: |u_i . u_j - a2| <= t_i ||p_i|| t_j ||p_j|| + ||v_i|| ||g_j|| + ||g_i|| ||u_j|| (= e2),
//            a2 = a1 + s_i t_j q_i . p_j + t_i s_j p_i . q_j.
// Cauchy-Schwarz is tight only when a residual is parallel to the other row,
// so e1 (~ ||r||, the whole quantisation step) is ~sqrt(T) times the actual
// error; e2 is ~1/amax of e1, as tight as the actual level-1 error. Every pair
// gets level 1 in int8 tiles (q8_tile, the integer products exact in int32);
// the pairs whose e1 band reaches the running thresholds get level 2
// (q8_rows: two exact integer products, on row-major bytes); the pairs whose
// e2 band still reaches them are re-scored in float32.
//
// The float32 score c_ij that brute force computes (chunks of kKC FMAs, chunk
// sums added) differs from u_i . u_j by at most gamma_m ||u_i|| ||u_j||, with
// m = kKC + ceil(T / kKC) + 2 roundings on any product's path and
// gamma_m = m 2^-24 / (1 - m 2^-24) (Higham, Accuracy and Stability, 3.1).
// Level 1 is evaluated in float32 (a few roundings, each relative 2^-24 of
// numbers bounded by the per-row maxima), level 2 in float64 (its roundings,
// ~1e-15, are covered by an absolute 1e-12 ||u_i|| ||u_j||), so with
//     delta >= gamma_m max||u_i|| max||u_j|| + (level-1 epilogue rounding) ,
// c_ij >= hi implies a + e >= hi - delta (and c_ij <= lo implies
// a - e <= lo + delta) at both levels. Pairs that pass both are re-scored in
// float32 by the same kernel and summation order as brute force (dots_rows,
// bitwise equal to the blocked product), and offered to the row's heaps;
// every pair of the final top-k passes (its exact score reaches every running
// threshold), and the heaps keep the k best by (score, smaller index), which
// does not depend on which other pairs were offered. So the result is bitwise
// that of topk_bruteforce. The first database columns (one panel group) are
// scored exactly, as brute force does, to start the thresholds.
#pragma once
#include <cstddef>
#include <cstdint>

#include "common/progress.hpp"
#include "correlate/normalize.hpp"
#include "correlate/pearson.hpp"

namespace pyshape {

// Longest rows the int32 accumulation takes without overflow (255 * 127 * T < 2^31).
constexpr size_t kQ8MaxT = 65536;

struct Q8Stats {
  uint64_t refined = 0;     // pairs given the level-2 check (their level-1 band reached a threshold)
  uint64_t candidates = 0;  // pairs re-scored exactly after both checks
  uint64_t warm_pairs = 0;  // pairs scored exactly to start the thresholds
  double delta = 0;         // the rounding margin used
};

// Q: n_queries unit-norm rows (leading dimension T); DB: n rows. With
// self_offset >= 0, query i is database row self_offset + i and is excluded
// from its own partners. T <= kQ8MaxT.
// With q_scale / db_scale given, Q / DB are the caller's rows and the unit
// rows are apply_row_scale of them (normalize.hpp), made when needed: each row
// once for its quantisation, a block of queries at a time, the first database
// columns for the warm-up, and the database rows of the pairs re-scored in
// float32. Bitwise the same unit rows, so the same result, without a 4 n T-byte
// unit-norm copy (5.4 GiB at n = 1e6, T = 1440). Q == DB with q_scale ==
// db_scale is a self-search's database.
void topk_q8(const KernelTable& kt, const float* Q, size_t n_queries, const float* DB, size_t n, size_t T, int k,
             int64_t self_offset, const TopKOutput& out, int n_threads, const ProgressFn& progress,
             Q8Stats* stats, const RowScale* q_scale = nullptr, const RowScale* db_scale = nullptr);

// The per-row data of the two-level quantisation (norms rounded up to float32).
struct Q8Row {
  float s = 0, t = 0;  // scales of q and p
  float A = 0;         // ||r|| = ||u - s q||
  float B = 0;         // s ||q||
  float N = 0;         // ||u||
  float S = 0;         // t ||p||
  float V = 0;         // ||v|| = ||s q + t p||
  float G = 0;         // ||g|| = ||u - v||
};

// The quantisation of one row as used by topk_q8: q and p (T entries each, in
// [-amax, amax]) and the row's data.
void q8_quantize_row(const float* u, size_t T, int amax, int8_t* q, int8_t* p, Q8Row& row);

// Level 2 of a pair from its integer products D = q_i . q_j, X = q_i . p_j,
// Y = p_i . q_j: the approximation a2 and the bound e2 (see above).
inline void q8_refine(const Q8Row& a, const Q8Row& b, int64_t D, int64_t X, int64_t Y, double& approx,
                      double& err) {
  approx = static_cast<double>(a.s) * b.s * static_cast<double>(D) + static_cast<double>(a.s) * b.t * static_cast<double>(X) +
           static_cast<double>(a.t) * b.s * static_cast<double>(Y);
  err = static_cast<double>(a.S) * b.S + static_cast<double>(a.V) * b.G + static_cast<double>(a.G) * b.N +
        1e-12 * (static_cast<double>(a.N) * b.N);
}

// The margin delta of topk_q8 for rows of length T whose norms, s ||q|| and
// residual norms are at most the given maxima.
double q8_delta(size_t T, double n_q, double n_db, double b_q, double b_db, double a_q, double r_db);

// For tests: every pair's exact integer product D = q_i . q_j (computed by
// kt.q8_tile), the level-1 approximation a1 and bound e1, the level-2 a2 and
// e2 (X and Y by kt.q8_rows), all float64 from the per-row data the search
// uses; returns delta. Outputs nq x n.
double q8_pair_bounds(const KernelTable& kt, const float* Q, size_t nq, const float* DB, size_t n, size_t T,
                      int32_t* D, double* approx, double* err, double* approx2, double* err2);

}  // namespace pyshape
