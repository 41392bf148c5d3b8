// Lagged correlation: the maximum over lags s in [-L, L] of the normalised
// cross-correlation
//     ncc(x, y)[s] = sum_t u_x[t] * u_y[t - s]      (unit-norm rows, zero outside)
// and the lag that attains it (k-Shape's NCC_c; SBD = 1 - max).
// Ties keep the lag nearest 0, the negative one first, so a constant row
// (all zeros) gets score 0 at lag 0.
#pragma once
#include <cstddef>
#include <cstdint>

#include "common/progress.hpp"

namespace pyshape {

// Direct evaluation: (2L + 1) dot products per pair. Best for small L.
// score and lag are n x m, row-major. With symmetric (V == U), pairs (i, j)
// for j < i are taken from (j, i) with the lag negated.
void lagged_direct(const float* U, size_t n, const float* V, size_t m, size_t T, size_t L,
                   bool symmetric, float* score, int32_t* lag, int n_threads,
                   const ProgressFn& progress);

}  // namespace pyshape
