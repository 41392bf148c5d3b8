// Scores leave the kernels inside their mathematical range.
//
// A correlation of unit-norm float32 rows can round to just outside [-1, 1]
// (1.0000002 for near-identical rows, or rows equal up to scale), which would
// make distances 1 - r negative (k-means inertia of -1e-6). Every correlation
// pyshape returns (pearson, top-k scores, lagged / SBD scores, assignment
// scores) goes through clamp_corr where it is produced, so r is in [-1, 1]
// and every distance 1 - r is in [0, 2]. NaN cannot occur (inputs are
// validated finite) and would pass through unchanged.
#pragma once
#include <cstddef>

namespace pyshape {

inline float clamp_corr(float r) { return r > 1.f ? 1.f : (r < -1.f ? -1.f : r); }

inline void clamp_corr(float* r, size_t n) {
  for (size_t i = 0; i < n; ++i) r[i] = clamp_corr(r[i]);
}

}  // namespace pyshape
