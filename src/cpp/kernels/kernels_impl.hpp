// The float32 kernels, written once against the Vec interface (vec.hpp) and
// compiled per SIMD level (kernels_scalar.cpp, kernels_avx2.cpp,
// kernels_avx512.cpp) into namespace pyshape::<level>.
//
// Accumulation: float32 with FMA where the level has it. dot() keeps 4 vector
// accumulators (4*W partial sums) and adds them pairwise at the end, which
// bounds the rounding error to about log2(n/(4W)) + 2 ulps of the magnitude sum
// for unit-norm inputs. micro() keeps one accumulator per output, summing in k
// order.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/kernel_table.hpp"
#include "kernels/vec.hpp"

namespace pyshape {
namespace PYSHAPE_ISA {

#if defined(PYSHAPE_TILE_MR)  // for tuning experiments only
constexpr int kMR = PYSHAPE_TILE_MR, kNV = PYSHAPE_TILE_NV;
#elif defined(__AVX512F__)
constexpr int kMR = 8, kNV = 2;   // 16 zmm accumulators
#elif defined(__AVX2__)
constexpr int kMR = 6, kNV = 2;   // 12 ymm accumulators + 2 B + 1 broadcast
#else
constexpr int kMR = 4, kNV = 2;
#endif
constexpr int kW = Vec::W;
constexpr int kNR = kNV * kW;
static_assert(kNR <= 32, "bound_tile masks are 32-bit");

inline float dot(const float* a, const float* b, size_t n) {
  Vec s0 = Vec::zero(), s1 = Vec::zero(), s2 = Vec::zero(), s3 = Vec::zero();
  size_t i = 0;
  for (; i + 4 * kW <= n; i += 4 * kW) {
    s0 = fmadd(Vec::load(a + i), Vec::load(b + i), s0);
    s1 = fmadd(Vec::load(a + i + kW), Vec::load(b + i + kW), s1);
    s2 = fmadd(Vec::load(a + i + 2 * kW), Vec::load(b + i + 2 * kW), s2);
    s3 = fmadd(Vec::load(a + i + 3 * kW), Vec::load(b + i + 3 * kW), s3);
  }
  for (; i + kW <= n; i += kW) s0 = fmadd(Vec::load(a + i), Vec::load(b + i), s0);
  float tail = 0.f;
  for (; i < n; ++i) tail += a[i] * b[i];
  return ((s0 + s1) + (s2 + s3)).hsum() + tail;
}

// Accumulates the mr x nr tile in registers from packed panels (both read
// with unit stride, so the hardware prefetcher keeps them streaming).
inline void tile_accumulate(const float* Ap, const float* Bp, size_t kc, Vec (&c)[kMR][kNV]) {
  for (int i = 0; i < kMR; ++i)
    for (int v = 0; v < kNV; ++v) c[i][v] = Vec::zero();
  for (size_t k = 0; k < kc; ++k) {
    Vec b[kNV];
    for (int v = 0; v < kNV; ++v) b[v] = Vec::load(Bp + k * kNR + v * kW);
#pragma GCC unroll 16
    for (int i = 0; i < kMR; ++i) {
      Vec ai = Vec::set1(Ap[k * kMR + i]);
      for (int v = 0; v < kNV; ++v) c[i][v] = fmadd(ai, b[v], c[i][v]);
    }
  }
}

// Writes (or adds) the valid m_valid x n_valid corner of a register tile to C.
inline void store_tile(const Vec (&c)[kMR][kNV], int m_valid, float* C, size_t ldc, int n_valid, bool accumulate) {
  if (m_valid == kMR && n_valid == kNR) {
    for (int i = 0; i < kMR; ++i)
      for (int v = 0; v < kNV; ++v) {
        float* p = C + i * ldc + v * kW;
        (accumulate ? c[i][v] + Vec::load(p) : c[i][v]).store(p);
      }
    return;
  }
  float tmp[kNR];
  for (int i = 0; i < m_valid; ++i) {
    for (int v = 0; v < kNV; ++v) c[i][v].store(tmp + v * kW);
    float* p = C + i * ldc;
    for (int j = 0; j < n_valid; ++j) p[j] = accumulate ? p[j] + tmp[j] : tmp[j];
  }
}

inline void micro(const float* Ap, int m_valid, const float* Bp, size_t kc, float* C, size_t ldc,
                  int n_valid, bool accumulate) {
  Vec c[kMR][kNV];
  tile_accumulate(Ap, Bp, kc, c);
  store_tile(c, m_valid, C, ldc, n_valid, accumulate);
}

// micro() with A unpacked (kernel_table.hpp): row i of the tile at A + i * lda.
// Rows past m_valid alias row 0, so nothing beyond the valid rows is read;
// their sums are computed and dropped. Same accumulation as tile_accumulate,
// so the scores are bitwise those of micro() on the packed rows.
inline void micro_rows(const float* A, size_t lda, int m_valid, const float* Bp, size_t kc, float* C,
                       size_t ldc, int n_valid, bool accumulate) {
  const float* a[kMR];
  for (int i = 0; i < kMR; ++i) a[i] = A + (i < m_valid ? static_cast<size_t>(i) : 0) * lda;
  Vec c[kMR][kNV];
  for (int i = 0; i < kMR; ++i)
    for (int v = 0; v < kNV; ++v) c[i][v] = Vec::zero();
  for (size_t k = 0; k < kc; ++k) {
    Vec b[kNV];
    for (int v = 0; v < kNV; ++v) b[v] = Vec::load(Bp + k * kNR + v * kW);
#pragma GCC unroll 16
    for (int i = 0; i < kMR; ++i) {
      Vec ai = Vec::set1(a[i][k]);
      for (int v = 0; v < kNV; ++v) c[i][v] = fmadd(ai, b[v], c[i][v]);
    }
  }
  store_tile(c, m_valid, C, ldc, n_valid, accumulate);
}

// Scores one packed row against np (<= kMaxRowPanels) packed panels over all
// K, summing in exactly the order of micro() driven by gemm_block() (chunks of
// kc floats, each summed from zero and then added to the running total), so
// the scores are bitwise equal to the blocked product's. a[k * a_stride] is
// element k of the row; panel q starts at panels[q] (K x nr floats). out gets
// np * nr scores.
constexpr int kMaxRowPanels = 6;

template <int NP>
inline void row_panels_n(const float* a, size_t a_stride, const float* const* panels, size_t K,
                         size_t kc_max, float* out) {
  Vec total[NP][kNV];
  for (size_t k0 = 0; k0 < K; k0 += kc_max) {
    const size_t k1 = k0 + kc_max < K ? k0 + kc_max : K;
    Vec c[NP][kNV];
    for (int q = 0; q < NP; ++q)
      for (int v = 0; v < kNV; ++v) c[q][v] = Vec::zero();
    for (size_t k = k0; k < k1; ++k) {
      const Vec ak = Vec::set1(a[k * a_stride]);
#pragma GCC unroll 16
      for (int q = 0; q < NP; ++q)
        for (int v = 0; v < kNV; ++v) c[q][v] = fmadd(ak, Vec::load(panels[q] + k * kNR + v * kW), c[q][v]);
    }
    for (int q = 0; q < NP; ++q)
      for (int v = 0; v < kNV; ++v) total[q][v] = k0 == 0 ? c[q][v] : total[q][v] + c[q][v];
  }
  for (int q = 0; q < NP; ++q)
    for (int v = 0; v < kNV; ++v) total[q][v].store(out + q * kNR + v * kW);
}

inline void row_panels(const float* a, size_t a_stride, const float* const* panels, int np,
                       size_t K, size_t kc_max, float* out) {
  switch (np) {
    case 1: row_panels_n<1>(a, a_stride, panels, K, kc_max, out); break;
    case 2: row_panels_n<2>(a, a_stride, panels, K, kc_max, out); break;
    case 3: row_panels_n<3>(a, a_stride, panels, K, kc_max, out); break;
    case 4: row_panels_n<4>(a, a_stride, panels, K, kc_max, out); break;
    case 5: row_panels_n<5>(a, a_stride, panels, K, kc_max, out); break;
    default: row_panels_n<6>(a, a_stride, panels, K, kc_max, out); break;
  }
}

// One lane of Vec's fmadd, with the same rounding (fused where the level fuses).
inline float fma1(float a, float b, float c) {
#if defined(__FMA__)
  return __builtin_fmaf(a, b, c);
#else
  return Vec::fma_lane(a, b, c);
#endif
}

template <int M>
inline void dots_rows_n(const float* a, const float* const* rows, size_t K, size_t kc_max, float* out) {
  float total[M], c[M];
  for (size_t k0 = 0; k0 < K; k0 += kc_max) {
    const size_t k1 = k0 + kc_max < K ? k0 + kc_max : K;
    for (int p = 0; p < M; ++p) c[p] = 0.f;
    for (size_t k = k0; k < k1; ++k) {
      const float ak = a[k];
#pragma GCC unroll 8
      for (int p = 0; p < M; ++p) c[p] = fma1(ak, rows[p][k], c[p]);
    }
    for (int p = 0; p < M; ++p) total[p] = k0 == 0 ? c[p] : total[p] + c[p];
  }
  for (int p = 0; p < M; ++p) out[p] = total[p];
}

inline void dots_rows(const float* a, const float* const* rows, int m, size_t K, size_t kc_max, float* out) {
  if (K == 0) {
    for (int p = 0; p < m; ++p) out[p] = 0.f;
    return;
  }
  switch (m) {
    case 1: dots_rows_n<1>(a, rows, K, kc_max, out); break;
    case 2: dots_rows_n<2>(a, rows, K, kc_max, out); break;
    case 3: dots_rows_n<3>(a, rows, K, kc_max, out); break;
    case 4: dots_rows_n<4>(a, rows, K, kc_max, out); break;
    case 5: dots_rows_n<5>(a, rows, K, kc_max, out); break;
    case 6: dots_rows_n<6>(a, rows, K, kc_max, out); break;
    case 7: dots_rows_n<7>(a, rows, K, kc_max, out); break;
    default: dots_rows_n<8>(a, rows, K, kc_max, out); break;
  }
}

inline size_t select_outside(const float* x, size_t n, float hi, float lo, uint32_t* out) {
  size_t cnt = 0, i = 0;
  const Vec vh = Vec::set1(hi), vl = Vec::set1(lo);
  for (; i + kW <= n; i += kW) {
    Vec v = Vec::load(x + i);
    uint32_t m = Vec::ge_mask(v, vh) | Vec::le_mask(v, vl);
    while (m) {
      int b = __builtin_ctz(m);
      out[cnt++] = static_cast<uint32_t>(i + b);
      m &= m - 1;
    }
  }
  for (; i < n; ++i)
    if (x[i] >= hi || x[i] <= lo) out[cnt++] = static_cast<uint32_t>(i);
  return cnt;
}

inline bool bound_tile(const float* Ap, int m_valid, const float* Bp, size_t r, const float* ra,
                       const float* rb, const float* hi, const float* lo, uint32_t* mask) {
  Vec c[kMR][kNV];
  tile_accumulate(Ap, Bp, r, c);
  Vec rbv[kNV];
  for (int v = 0; v < kNV; ++v) rbv[v] = Vec::load(rb + v * kW);
  uint32_t any = 0;
  for (int i = 0; i < m_valid; ++i) {
    const Vec rai = Vec::set1(ra[i]), hii = Vec::set1(hi[i]), loi = Vec::set1(lo[i]);
    uint32_t m = 0;
    for (int v = 0; v < kNV; ++v) {
      Vec slack = rai * rbv[v];
      uint32_t bits = Vec::ge_mask(c[i][v] + slack, hii) | Vec::le_mask(c[i][v] - slack, loi);
      m |= bits << (v * kW);
    }
    mask[i] = m;
    any |= m;
  }
  return any != 0;
}

}  // namespace PYSHAPE_ISA
}  // namespace pyshape

#include "kernels/q8_impl.hpp"

namespace pyshape {
namespace PYSHAPE_ISA {

inline KernelTable make_table() {
  KernelTable t{PYSHAPE_ISA_NAME, kMR, kNR, &dot, &micro, &micro_rows, &row_panels, &dots_rows, &select_outside, &bound_tile};
  q8::fill(t);
  return t;
}

}  // namespace PYSHAPE_ISA
}  // namespace pyshape
