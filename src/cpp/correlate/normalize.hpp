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

// What normalize_rows applies to one row: out[t] = float((x[t] - mean) * f),
// each step one IEEE double operation, so applying it again later (to a few
// rows, into scratch) gives bitwise the rows normalize_rows writes. f = 0
// marks a constant row (all zeros). 16 bytes a row instead of a 4 T-byte copy:
// the int8 top-k keeps these and normalises the rows it needs when it needs
// them (correlate/topk_q8.hpp).
struct RowScale {
  double mean = 0;
  double f = 0;
};

// The RowScale of every row (what normalize_rows would apply); same return
// value as normalize_rows (the scales of non-finite rows are unspecified).
int64_t row_scales(const float* x, size_t n, size_t T, size_t ldx, double scale, RowScale* out, int n_threads);

// out = row x normalised by s (T floats): bitwise normalize_rows' row.
inline void apply_row_scale(const float* x, size_t T, const RowScale& s, float* out) {
  if (s.f == 0) {
    for (size_t t = 0; t < T; ++t) out[t] = 0.f;
    return;
  }
  const double mean = s.mean, f = s.f;
  for (size_t t = 0; t < T; ++t) out[t] = static_cast<float>((static_cast<double>(x[t]) - mean) * f);
}

}  // namespace pyshape
