// Placement kernels (see pack_table.hpp for the contract of each), written
// once against the Vec interface (vec.hpp) plus the max / min / greater-than
// helpers below, and compiled per SIMD level (kernels_scalar.cpp,
// kernels_avx2.cpp, kernels_avx512.cpp) into namespace pyshape::<level>::packk.
//
// Only exact operations (one float addition per element, max, min,
// comparisons), so every level gives bit-identical results (up to the sign of
// a zero maximum or minimum, which nothing can tell apart: see hmax). max_sum
// keeps four running maxima and tests them against the limit once per 4 W
// elements: a shape that does not fit is usually rejected within the first
// few hundred steps.
//
// Pointer code only: no std containers or templates (see kernel_table.hpp).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/pack_table.hpp"
#include "kernels/vec.hpp"

namespace pyshape {
namespace PYSHAPE_ISA {
namespace packk {

constexpr int kW = Vec::W;

#if defined(__AVX512F__)
inline Vec vmax(Vec a, Vec b) { return {_mm512_max_ps(a.v, b.v)}; }
inline Vec vmin(Vec a, Vec b) { return {_mm512_min_ps(a.v, b.v)}; }
inline uint32_t gt_mask(Vec a, Vec b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_GT_OQ); }
#elif defined(__AVX2__)
inline Vec vmax(Vec a, Vec b) { return {_mm256_max_ps(a.v, b.v)}; }
inline Vec vmin(Vec a, Vec b) { return {_mm256_min_ps(a.v, b.v)}; }
inline uint32_t gt_mask(Vec a, Vec b) {
  return static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(a.v, b.v, _CMP_GT_OQ)));
}
#else
inline Vec vmax(Vec a, Vec b) { Vec r; for (int i = 0; i < 4; ++i) r.v[i] = a.v[i] > b.v[i] ? a.v[i] : b.v[i]; return r; }
inline Vec vmin(Vec a, Vec b) { Vec r; for (int i = 0; i < 4; ++i) r.v[i] = a.v[i] < b.v[i] ? a.v[i] : b.v[i]; return r; }
inline uint32_t gt_mask(Vec a, Vec b) { uint32_t m = 0; for (int i = 0; i < 4; ++i) m |= uint32_t(a.v[i] > b.v[i]) << i; return m; }
#endif

// Horizontal max / min. A reduction tree on AVX2 / AVX-512 (a few shuffles
// instead of a round trip through memory: block summaries take one per block
// and resource). On the non-negative, finite loads and shapes the kernels see,
// max and min do not depend on the order; only the sign of a zero result may,
// and no comparison or difference can tell -0 from +0.
#if defined(__AVX512F__)
inline float hmax(Vec a) { return _mm512_reduce_max_ps(a.v); }
inline float hmin(Vec a) { return _mm512_reduce_min_ps(a.v); }
#elif defined(__AVX2__)
inline float hmax(Vec a) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  return _mm_cvtss_f32(_mm_max_ss(m, _mm_shuffle_ps(m, m, 0x55)));
}
inline float hmin(Vec a) {
  __m128 m = _mm_min_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
  m = _mm_min_ps(m, _mm_movehl_ps(m, m));
  return _mm_cvtss_f32(_mm_min_ss(m, _mm_shuffle_ps(m, m, 0x55)));
}
#else
inline float hmax(Vec a) {
  float m = a.v[0];
  for (int i = 1; i < kW; ++i) m = a.v[i] > m ? a.v[i] : m;
  return m;
}
inline float hmin(Vec a) {
  float m = a.v[0];
  for (int i = 1; i < kW; ++i) m = a.v[i] < m ? a.v[i] : m;
  return m;
}
#endif

inline float max_sum(const float* a, const float* b, size_t n, float limit) {
  size_t i = 0;
  float m = -__builtin_inff();
  if (n >= 4 * kW) {
    const Vec lim = Vec::set1(limit);
    Vec m0 = Vec::load(a) + Vec::load(b), m1 = m0, m2 = m0, m3 = m0;
    for (; i + 4 * kW <= n; i += 4 * kW) {
      m0 = vmax(m0, Vec::load(a + i) + Vec::load(b + i));
      m1 = vmax(m1, Vec::load(a + i + kW) + Vec::load(b + i + kW));
      m2 = vmax(m2, Vec::load(a + i + 2 * kW) + Vec::load(b + i + 2 * kW));
      m3 = vmax(m3, Vec::load(a + i + 3 * kW) + Vec::load(b + i + 3 * kW));
      if (gt_mask(vmax(vmax(m0, m1), vmax(m2, m3)), lim)) return hmax(vmax(vmax(m0, m1), vmax(m2, m3)));
    }
    m = hmax(vmax(vmax(m0, m1), vmax(m2, m3)));
  }
  for (; i + kW <= n; i += kW) {
    float v = hmax(Vec::load(a + i) + Vec::load(b + i));
    m = v > m ? v : m;
  }
  for (; i < n; ++i) {
    float v = a[i] + b[i];
    m = v > m ? v : m;
  }
  return m;
}

inline size_t first_over(const float* a, const float* b, size_t n, float limit) {
  size_t i = 0;
  const Vec lim = Vec::set1(limit);
  for (; i + 4 * kW <= n; i += 4 * kW) {
    Vec s0 = Vec::load(a + i) + Vec::load(b + i);
    Vec s1 = Vec::load(a + i + kW) + Vec::load(b + i + kW);
    Vec s2 = Vec::load(a + i + 2 * kW) + Vec::load(b + i + 2 * kW);
    Vec s3 = Vec::load(a + i + 3 * kW) + Vec::load(b + i + 3 * kW);
    if (gt_mask(vmax(vmax(s0, s1), vmax(s2, s3)), lim)) break;
  }
  for (; i + kW <= n; i += kW) {
    uint32_t m = gt_mask(Vec::load(a + i) + Vec::load(b + i), lim);
    if (m) return i + static_cast<size_t>(__builtin_ctz(m));
  }
  for (; i < n; ++i)
    if (a[i] + b[i] > limit) return i;
  return n;
}

inline size_t witness_next(const float* val, const float* lim, const uint32_t* idx, const float* val2,
                           const float* lim2, const uint32_t* idx2, const float* s, size_t i, size_t n) {
#if defined(__AVX512F__) || defined(__AVX2__)
  constexpr uint32_t kAll = kW >= 32 ? 0xffffffffu : ((1u << kW) - 1u);
  for (; i + kW <= n; i += kW) {
#if defined(__AVX512F__)
    Vec g{_mm512_i32gather_ps(_mm512_loadu_si512(reinterpret_cast<const void*>(idx + i)), s, 4)};
    Vec g2{_mm512_i32gather_ps(_mm512_loadu_si512(reinterpret_cast<const void*>(idx2 + i)), s, 4)};
#else
    Vec g{_mm256_i32gather_ps(s, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(idx + i)), 4)};
    Vec g2{_mm256_i32gather_ps(s, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(idx2 + i)), 4)};
#endif
    uint32_t over = gt_mask(Vec::load(val + i) + g, Vec::load(lim + i)) |
                    gt_mask(Vec::load(val2 + i) + g2, Vec::load(lim2 + i));
    uint32_t pass = ~over & kAll;
    if (pass) return i + static_cast<size_t>(__builtin_ctz(pass));
  }
#endif
  for (; i < n; ++i)
    if (!(val[i] + s[idx[i]] > lim[i]) && !(val2[i] + s[idx2[i]] > lim2[i])) return i;
  return n;
}

inline size_t witness_last(const float* val, const float* lim, const uint32_t* idx, const float* val2,
                           const float* lim2, const uint32_t* idx2, const float* s, size_t lo, size_t hi) {
  size_t i = hi;
#if defined(__AVX512F__) || defined(__AVX2__)
  constexpr uint32_t kAll = kW >= 32 ? 0xffffffffu : ((1u << kW) - 1u);
  for (; i >= lo + kW; i -= kW) {
    const size_t b = i - kW;
#if defined(__AVX512F__)
    Vec g{_mm512_i32gather_ps(_mm512_loadu_si512(reinterpret_cast<const void*>(idx + b)), s, 4)};
    Vec g2{_mm512_i32gather_ps(_mm512_loadu_si512(reinterpret_cast<const void*>(idx2 + b)), s, 4)};
#else
    Vec g{_mm256_i32gather_ps(s, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(idx + b)), 4)};
    Vec g2{_mm256_i32gather_ps(s, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(idx2 + b)), 4)};
#endif
    uint32_t over = gt_mask(Vec::load(val + b) + g, Vec::load(lim + b)) |
                    gt_mask(Vec::load(val2 + b) + g2, Vec::load(lim2 + b));
    uint32_t pass = ~over & kAll;
    if (pass) return b + 31 - static_cast<size_t>(__builtin_clz(pass));
  }
#endif
  while (i > lo) {
    --i;
    if (!(val[i] + s[idx[i]] > lim[i]) && !(val2[i] + s[idx2[i]] > lim2[i])) return i;
  }
  return hi;
}

inline uint32_t row_stats(const float* x, size_t n, double* acc, float* peak) {
  for (size_t t = 0; t < n; ++t) acc[t] += static_cast<double>(x[t]);  // vectorizes (no reduction)
  size_t i = 0;
  float m = x[0];
  uint32_t flags = 0;
  if (n >= static_cast<size_t>(kW)) {
    const Vec zero = Vec::zero();
    Vec vm = Vec::load(x), z = zero;
    uint32_t neg = 0;
    for (; i + kW <= n; i += kW) {
      Vec v = Vec::load(x + i);
      vm = vmax(v, vm);           // a NaN in v keeps vm (as v > m ? v : m)
      z = z + v * zero;           // NaN once some value is NaN or infinite
      neg |= gt_mask(zero, v);
    }
    m = hmax(vm);
    float zs[kW];
    z.store(zs);
    for (int j = 0; j < kW; ++j)
      if (zs[j] != zs[j]) flags |= 1u;
    if (neg) flags |= 2u;
  }
  for (; i < n; ++i) {
    float v = x[i];
    m = v > m ? v : m;
    if (!(v - v == 0.f)) flags |= 1u;
    if (v < 0.f) flags |= 2u;
  }
  *peak = m;
  return flags;
}

#if defined(__AVX2__) && !defined(__AVX512F__)
// The 8 bits of m as 8 bytes of 0 / 1 (bit j to byte j).
inline uint64_t spread8(uint32_t m) {
  uint64_t x = m & 0xffu;
  x = (x | (x << 28)) & 0x0000000f0000000full;
  x = (x | (x << 14)) & 0x0003000300030003ull;
  x = (x | (x << 7)) & 0x0101010101010101ull;
  return x;
}
#endif

inline void mark_over(const float* a, const float* b, size_t n, float limit, uint8_t* flags) {
  size_t i = 0;
  const Vec lim = Vec::set1(limit);
  for (; i + kW <= n; i += kW) {
    uint32_t m = gt_mask(Vec::load(a + i) + Vec::load(b + i), lim);
    if (!m) continue;
#if defined(__AVX512F__)
    // flags[i + j] = 1 where bit j is set, the other bytes unchanged
    _mm_mask_storeu_epi8(flags + i, static_cast<__mmask16>(m), _mm_set1_epi8(1));
#elif defined(__AVX2__)
    uint64_t f;
    std::memcpy(&f, flags + i, 8);
    f |= spread8(m);
    std::memcpy(flags + i, &f, 8);
#else
    while (m) {
      int j = __builtin_ctz(m);
      flags[i + j] = 1;
      m &= m - 1;
    }
#endif
  }
  for (; i < n; ++i)
    if (a[i] + b[i] > limit) flags[i] = 1;
}

inline void add(float* a, const float* b, size_t n) {
  size_t i = 0;
  for (; i + kW <= n; i += kW) (Vec::load(a + i) + Vec::load(b + i)).store(a + i);
  for (; i < n; ++i) a[i] += b[i];
}

inline void block_maxmin(const float* a, size_t n, size_t blk, float* bmax, float* bmin) {
  for (size_t s = 0, k = 0; s < n; s += blk, ++k) {
    size_t e = s + blk < n ? s + blk : n;
    float mx = a[s], mn = a[s];
    size_t i = s;
    if (e - s >= static_cast<size_t>(kW)) {
      Vec vx = Vec::load(a + s), vn = vx;
      for (i = s + kW; i + kW <= e; i += kW) {
        Vec v = Vec::load(a + i);
        vx = vmax(vx, v);
        vn = vmin(vn, v);
      }
      mx = hmax(vx);
      mn = hmin(vn);
    }
    for (; i < e; ++i) {
      mx = a[i] > mx ? a[i] : mx;
      mn = a[i] < mn ? a[i] : mn;
    }
    bmax[k] = mx;
    bmin[k] = mn;
  }
}

inline void add_maxmin(float* a, const float* b, size_t n, size_t blk, float* bmax, float* bmin) {
  for (size_t s = 0, k = 0; s < n; s += blk, ++k) {
    size_t e = s + blk < n ? s + blk : n;
    size_t i = s;
    float mx, mn;
    if (e - s >= static_cast<size_t>(kW)) {
      Vec v = Vec::load(a + s) + Vec::load(b + s);
      v.store(a + s);
      Vec vx = v, vn = v;
      for (i = s + kW; i + kW <= e; i += kW) {
        v = Vec::load(a + i) + Vec::load(b + i);
        v.store(a + i);
        vx = vmax(vx, v);
        vn = vmin(vn, v);
      }
      mx = hmax(vx);
      mn = hmin(vn);
    } else {
      a[s] += b[s];
      mx = mn = a[s];
      i = s + 1;
    }
    for (; i < e; ++i) {
      a[i] += b[i];
      mx = a[i] > mx ? a[i] : mx;
      mn = a[i] < mn ? a[i] : mn;
    }
    bmax[k] = mx;
    bmin[k] = mn;
  }
}

// 32 partial sums, lane j over t = j (mod 32); see pack_table.hpp. 32 lanes
// (4 AVX-512 or 8 AVX2 accumulators) so that the chains of additions hide
// the latency of the fused multiply-add.
inline double dot_fd(const float* a, const double* b, size_t n) {
  size_t i = 0;
  alignas(64) double l[32];
#if defined(__AVX512F__)
  __m512d s0 = _mm512_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm256_loadu_ps(a + i)), _mm512_loadu_pd(b + i), s0);
    s1 = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm256_loadu_ps(a + i + 8)), _mm512_loadu_pd(b + i + 8), s1);
    s2 = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm256_loadu_ps(a + i + 16)), _mm512_loadu_pd(b + i + 16), s2);
    s3 = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm256_loadu_ps(a + i + 24)), _mm512_loadu_pd(b + i + 24), s3);
  }
  _mm512_store_pd(l, s0);
  _mm512_store_pd(l + 8, s1);
  _mm512_store_pd(l + 16, s2);
  _mm512_store_pd(l + 24, s3);
#elif defined(__AVX2__)
  __m256d s[8];
  for (int j = 0; j < 8; ++j) s[j] = _mm256_setzero_pd();
  for (; i + 32 <= n; i += 32)
    for (int j = 0; j < 8; ++j)
      s[j] = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm_loadu_ps(a + i + 4 * j)), _mm256_loadu_pd(b + i + 4 * j), s[j]);
  for (int j = 0; j < 8; ++j) _mm256_store_pd(l + 4 * j, s[j]);
#else
  for (int j = 0; j < 32; ++j) l[j] = 0;
  for (; i + 32 <= n; i += 32)
    for (int j = 0; j < 32; ++j) l[j] += static_cast<double>(a[i + j]) * b[i + j];
#endif
  for (; i < n; ++i) l[i & 31] += static_cast<double>(a[i]) * b[i];
  for (int j = 0; j < 16; ++j) l[j] += l[j + 16];
  for (int j = 0; j < 8; ++j) l[j] += l[j + 8];
  for (int j = 0; j < 4; ++j) l[j] += l[j + 4];
  for (int j = 0; j < 2; ++j) l[j] += l[j + 2];
  return l[0] + l[1];
}

inline PackKernels make_pack_table() {
  return PackKernels{PYSHAPE_ISA_NAME, &max_sum, &first_over, &witness_next, &witness_last, &row_stats,
                     &mark_over,       &add,     &add_maxmin, &block_maxmin, &dot_fd};
}

}  // namespace packk
}  // namespace PYSHAPE_ISA
}  // namespace pyshape
