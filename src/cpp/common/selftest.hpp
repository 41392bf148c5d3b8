// Known-answer self-test of one SIMD level's kernels (common/selftest.cpp).
//
// Run once per level the CPU supports, at first use (module import), before
// the level is trusted (common/simd_level.cpp); a level that fails is disabled
// and the next lower one is used. Small fixed inputs (a few milliseconds in
// all), every entry of the three kernel tables:
//
//   KernelTable  dot, micro, bound_tile: on small integers every product and
//                sum is exact in float32, so the result must equal the exact
//                answer (and so the scalar kernels' answer) bit for bit, for
//                every size and tail. On random floats, dot and micro must
//                agree with the scalar kernels within 2 n FLT_EPSILON
//                sum_k |a_k b_k| (any summation order with or without FMA
//                stays within n FLT_EPSILON of that sum; n = terms).
//                row_panels: bit for bit equal to micro() over the same
//                chunks of K (as the code is designed), on random floats.
//                micro_rows: bit for bit equal to micro() on the same rows
//                packed (partial tiles: the rows past the valid ones are NaN).
//                select_outside: the same indices as a plain loop, exactly.
//   FftKernels   rfft_panel + lagged_panel, through lagged_fft on unit-norm
//                rows (radices 2, 3, 4 and 5, partial panels): every score
//                within 1e-4 of the scalar kernels' and of a double-precision
//                direct evaluation (float32 FFT rounding is ~1e-6 there), and
//                the same lag where the answer is clear (shifted copies).
//   PackKernels  all nine kernels: bit for bit equal to the scalar kernels
//                (they only add, compare and take maxima); max_sum with a
//                finite limit as its contract says (equal when the maximum
//                fits, else some value over the limit).
#pragma once
#include <string>
#include <vector>

#include "common/simd_level.hpp"

namespace pyshape {

// The failures of a level's self-test, each "kernel: what went wrong" (empty:
// the level passed). force_fail corrupts one result (the first dot product)
// before it is checked, so the check itself must catch it (a test hook).
std::vector<std::string> simd_selftest(const SimdTables& level, bool force_fail = false);

}  // namespace pyshape
