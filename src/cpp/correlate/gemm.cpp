#include "correlate/gemm.hpp"

#include <algorithm>

#include "common/parallel.hpp"

namespace pyshape {

PackedRows pack_rows(const float* B, size_t n, size_t K, size_t ldb, int nr, int n_threads) {
  PackedRows P;
  P.n = n;
  P.K = K;
  P.nr = nr;
  P.data.resize(P.n_panels() * K * nr);
  parallel_for(P.n_panels(), n_threads, [&](size_t p, int) {
    float* dst = P.data.data() + p * K * nr;
    size_t rows = std::min<size_t>(nr, n - p * nr);
    for (size_t j = 0; j < rows; ++j) {
      const float* src = B + (p * nr + j) * ldb;
      for (size_t k = 0; k < K; ++k) dst[k * nr + j] = src[k];
    }
    for (size_t j = rows; j < static_cast<size_t>(nr); ++j)
      for (size_t k = 0; k < K; ++k) dst[k * nr + j] = 0.f;
  });
  return P;
}

void gemm_block(const KernelTable& kt, const float* A, size_t lda, size_t mb, const PackedRows& B,
                size_t p0, size_t p1, float* C, size_t ldc) {
  const size_t K = B.K, nr = B.nr, mr = kt.mr;
  for (size_t g0 = p0; g0 < p1; g0 += kPanelsPerGroup) {
    size_t g1 = std::min(p1, g0 + kPanelsPerGroup);
    for (size_t k0 = 0; k0 < K; k0 += kKC) {
      size_t kc = std::min(kKC, K - k0);
      for (size_t p = g0; p < g1; ++p) {
        const float* Bp = B.panel(p) + k0 * nr;
        int n_valid = static_cast<int>(std::min(nr, B.n - p * nr));
        float* Cp = C + (p - p0) * nr;
        for (size_t i = 0; i < mb; i += mr) {
          int m_valid = static_cast<int>(std::min(mr, mb - i));
          kt.micro(A + i * lda + k0, lda, m_valid, Bp, kc, Cp + i * ldc, ldc, n_valid, k0 > 0);
        }
      }
    }
  }
}

}  // namespace pyshape
