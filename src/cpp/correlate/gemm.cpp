#include "correlate/gemm.hpp"

#include <algorithm>

#include "common/parallel.hpp"

namespace pyshape {

namespace {
// Panel of rows [r0, r0 + rows) (through the gather index when given).
void pack_one(const float* src, const int64_t* idx, size_t r0, size_t rows, size_t K, size_t ld,
              size_t w, float* dst) {
  for (size_t j = 0; j < rows; ++j) {
    const float* s = src + static_cast<size_t>(idx ? idx[r0 + j] : static_cast<int64_t>(r0 + j)) * ld;
    for (size_t k = 0; k < K; ++k) dst[k * w + j] = s[k];
  }
  for (size_t j = rows; j < w; ++j)
    for (size_t k = 0; k < K; ++k) dst[k * w + j] = 0.f;
}
}  // namespace

void pack_panels(const float* src, size_t n, size_t K, size_t ld, size_t w, float* dst,
                 const int64_t* rows) {
  for (size_t p = 0; p * w < n; ++p) pack_one(src, rows, p * w, std::min(w, n - p * w), K, ld, w, dst + p * K * w);
}

PackedRows pack_rows(const float* src, size_t n, size_t K, size_t ld, size_t w, int n_threads,
                     const int64_t* rows) {
  PackedRows P;
  P.data.resize(packed_floats(n, K, w));
  P.view = PanelView{P.data.data(), n, K, w};
  float* dst = P.data.data();
  parallel_for(P.view.n_panels(), n_threads, [&](size_t p, int) {
    pack_one(src, rows, p * w, std::min(w, n - p * w), K, ld, w, dst + p * K * w);
  });
  return P;
}

void gemm_block(const KernelTable& kt, const PanelView& A, const PanelView& B, size_t p0, size_t p1,
                float* C, size_t ldc) {
  const size_t K = B.K, nr = B.w, mr = A.w;
  const size_t a_panels = A.n_panels();
  for (size_t g0 = p0; g0 < p1; g0 += kPanelsPerGroup) {
    size_t g1 = std::min(p1, g0 + kPanelsPerGroup);
    for (size_t k0 = 0; k0 < K; k0 += kKC) {
      size_t kc = std::min(kKC, K - k0);
      for (size_t p = g0; p < g1; ++p) {
        const float* Bp = B.panel(p) + k0 * nr;
        int n_valid = static_cast<int>(std::min(nr, B.n - p * nr));
        float* Cp = C + (p - p0) * nr;
        for (size_t ip = 0; ip < a_panels; ++ip) {
          int m_valid = static_cast<int>(std::min(mr, A.n - ip * mr));
          kt.micro(A.panel(ip) + k0 * mr, m_valid, Bp, kc, Cp + ip * mr * ldc, ldc, n_valid, k0 > 0);
        }
      }
    }
  }
}

}  // namespace pyshape
