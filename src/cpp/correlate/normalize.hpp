// Row normalisation: the step every correlation starts from.
#pragma once
#include <cstddef>
#include <cstdint>

namespace pyshape {

// out[i] = (x[i] - mean) * scale / ||x[i] - mean||, per row, computed in
// double. scale = 1 gives unit-norm rows (Pearson r is then a plain dot
// product); scale = sqrt(T) gives z-scores (mean 0, population std 1).
// A row whose spread is within float32 rounding of its mean
// (std <= 4 * FLT_EPSILON * |mean|, or exactly 0) is constant: it becomes all
// zeros, so its correlation with anything is 0, never NaN.
// Returns -1, or the smallest row index holding a NaN or infinity (out is
// then unspecified). ldx is the row stride of x, in floats.
int64_t normalize_rows(const float* x, size_t n, size_t T, size_t ldx, double scale, float* out,
                       int n_threads);

}  // namespace pyshape
