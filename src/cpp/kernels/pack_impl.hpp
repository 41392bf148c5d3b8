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

// score_row (see pack_table.hpp): the maximum, the over bits and up to three
// dot products of one row in one pass, 32 steps per iteration. The dots keep
// dot_fd's 32 lanes (lane j: the steps t = j mod 32 in increasing t, then
// added pairwise), so they are its bits at every level; the sum (a times 1)
// is an addition and the products a * a and a * b are exact in double, so a
// fused multiply-add rounds as dot_fd's does.
template <bool kOver, int kWhat>
inline float score_row_t(const float* a, const float* b, const double* bd, size_t n, float limit, uint64_t* over,
                         double* dots, const float* next) {
  constexpr int kV = 32 / kW;  // float vectors per iteration
  alignas(64) double l[3][32];
  size_t i = 0;
  const Vec lim = Vec::set1(limit);
  Vec vm[kV];
  for (int j = 0; j < kV; ++j) vm[j] = Vec::set1(-__builtin_inff());
#if defined(__AVX512F__)
  __m512d d[4], su[4], sq[4];
  for (int q = 0; q < 4; ++q) d[q] = su[q] = sq[q] = _mm512_setzero_pd();
#elif defined(__AVX2__)
  __m256d d[8], su[8], sq[8];
  for (int q = 0; q < 8; ++q) d[q] = su[q] = sq[q] = _mm256_setzero_pd();
#else
  for (int k = 0; k < 3; ++k)
    for (int j = 0; j < 32; ++j) l[k][j] = 0;
#endif
  for (; i + 32 <= n; i += 32) {
    if (next) {  // locality 1: prefetcht2, to L2 (measured: to L1 they overlap far less)
      __builtin_prefetch(next + i, 0, 1);
      __builtin_prefetch(next + i + 16, 0, 1);
    }
    uint64_t mk = 0;
    for (int j = 0; j < kV; ++j) {
      const Vec x = Vec::load(a + i + j * kW) + Vec::load(b + i + j * kW);
      vm[j] = vmax(vm[j], x);
      if (kOver) mk |= static_cast<uint64_t>(gt_mask(x, lim)) << (j * kW);
    }
    if (kOver && mk) over[i >> 6] |= mk << (i & 63);
    if (kWhat == 0) continue;
#if defined(__AVX512F__)
    for (int q = 0; q < 4; ++q) {
      const __m512d x = _mm512_cvtps_pd(_mm256_loadu_ps(a + i + 8 * q));
      d[q] = _mm512_fmadd_pd(x, _mm512_loadu_pd(bd + i + 8 * q), d[q]);
      if (kWhat == 2) {
        su[q] = _mm512_add_pd(su[q], x);
        sq[q] = _mm512_fmadd_pd(x, x, sq[q]);
      }
    }
#elif defined(__AVX2__)
    for (int q = 0; q < 8; ++q) {
      const __m256d x = _mm256_cvtps_pd(_mm_loadu_ps(a + i + 4 * q));
      d[q] = _mm256_fmadd_pd(x, _mm256_loadu_pd(bd + i + 4 * q), d[q]);
      if (kWhat == 2) {
        su[q] = _mm256_add_pd(su[q], x);
        sq[q] = _mm256_fmadd_pd(x, x, sq[q]);
      }
    }
#else
    for (int j = 0; j < 32; ++j) {
      const double x = a[i + j];
      l[0][j] += x * bd[i + j];
      if (kWhat == 2) {
        l[1][j] += x;
        l[2][j] += x * x;
      }
    }
#endif
  }
  for (; i + kW <= n; i += kW) {  // whole vectors of the tail: the floats only
    const Vec x = Vec::load(a + i) + Vec::load(b + i);
    vm[0] = vmax(vm[0], x);
    if (kOver) {
      const uint64_t mk = gt_mask(x, lim);
      if (mk) over[i >> 6] |= mk << (i & 63);  // kW divides 64: the bits stay in one word
    }
  }
  Vec m01 = vm[0];
  for (int j = 1; j < kV; ++j) m01 = vmax(m01, vm[j]);
  float m = hmax(m01);
  for (size_t t = i; t < n; ++t) {
    const float x = a[t] + b[t];
    m = x > m ? x : m;
    if (kOver && x > limit) over[t >> 6] |= uint64_t{1} << (t & 63);
  }
  if (next)
    for (size_t t = n - n % 32; t < n; t += 16) __builtin_prefetch(next + t, 0, 1);
  i = n - n % 32;  // the dots' tail goes lane by lane (lane t mod 32), as dot_fd's
#if defined(__AVX512F__)
  for (int q = 0; q < 4; ++q) {
    _mm512_store_pd(l[0] + 8 * q, d[q]);
    _mm512_store_pd(l[1] + 8 * q, su[q]);
    _mm512_store_pd(l[2] + 8 * q, sq[q]);
  }
#elif defined(__AVX2__)
  for (int q = 0; q < 8; ++q) {
    _mm256_store_pd(l[0] + 4 * q, d[q]);
    _mm256_store_pd(l[1] + 4 * q, su[q]);
    _mm256_store_pd(l[2] + 4 * q, sq[q]);
  }
#endif
  for (; kWhat > 0 && i < n; ++i) {
    const double y = a[i];
    l[0][i & 31] += y * bd[i];
    if (kWhat == 2) {
      l[1][i & 31] += y;
      l[2][i & 31] += y * y;
    }
  }
  for (int k = 0; k < kWhat + (kWhat == 2); ++k) {
    double* v = l[k];
    for (int j = 0; j < 16; ++j) v[j] += v[j + 16];
    for (int j = 0; j < 8; ++j) v[j] += v[j + 8];
    for (int j = 0; j < 4; ++j) v[j] += v[j + 4];
    for (int j = 0; j < 2; ++j) v[j] += v[j + 2];
    dots[k] = v[0] + v[1];
  }
  return m;
}

inline float score_row(const float* a, const float* b, const double* bd, size_t n, float limit, uint64_t* over,
                       double* dots, int what, const float* next) {
  if (over) {
    if (what == 0) return score_row_t<true, 0>(a, b, bd, n, limit, over, dots, next);
    if (what == 1) return score_row_t<true, 1>(a, b, bd, n, limit, over, dots, next);
    return score_row_t<true, 2>(a, b, bd, n, limit, over, dots, next);
  }
  if (what == 0) return score_row_t<false, 0>(a, b, bd, n, limit, over, dots, next);
  if (what == 1) return score_row_t<false, 1>(a, b, bd, n, limit, over, dots, next);
  return score_row_t<false, 2>(a, b, bd, n, limit, over, dots, next);
}

inline float block_bounds(const float* ax, const float* an, const float* bx, const float* bn, size_t B, float limit,
                          float* up, uint64_t* peak, uint64_t* all, uint64_t* some) {
  const Vec lim = Vec::set1(limit);
  Vec vlo = Vec::set1(-__builtin_inff());
  uint64_t a = 0, s = 0;
  auto step = [&](const float* x0, const float* y0, const float* bx0, const float* bn0, float* u0, size_t b) {
    const Vec x = Vec::load(x0), y = Vec::load(y0), sx = Vec::load(bx0), sn = Vec::load(bn0);
    const Vec u = x + sx;
    u.store(u0);
    vlo = vmax(vlo, vmax(x + sn, y + sx));
    a |= static_cast<uint64_t>(gt_mask(y + sn, lim)) << b;
    s |= static_cast<uint64_t>(gt_mask(u, lim)) << b;
  };
  size_t b = 0;
  for (; b + kW <= B; b += kW) step(ax + b, an + b, bx + b, bn + b, up + b, b);
  if (b < B) {  // the last blocks as one vector, padded with -inf (no bound, no bit)
    float p[5][kW];
    for (int k = 0; k < 4; ++k)
      for (int j = 0; j < kW; ++j) p[k][j] = -__builtin_inff();
    const size_t m = B - b;
    std::memcpy(p[0], ax + b, m * sizeof(float));
    std::memcpy(p[1], an + b, m * sizeof(float));
    std::memcpy(p[2], bx + b, m * sizeof(float));
    std::memcpy(p[3], bn + b, m * sizeof(float));
    step(p[0], p[1], p[2], p[3], p[4], b);
    std::memcpy(up + b, p[4], m * sizeof(float));
  }
  const float lo = hmax(vlo);
  uint64_t pb = 0;
  const Vec vl = Vec::set1(lo);
  for (b = 0; b + kW <= B; b += kW) pb |= static_cast<uint64_t>(gt_mask(Vec::load(up + b), vl)) << b;
  for (; b < B; ++b) pb |= static_cast<uint64_t>(up[b] > lo) << b;
  *peak = pb;
  *all = a;
  *some = s;
  return lo;
}

inline PackKernels make_pack_table() {
  return PackKernels{PYSHAPE_ISA_NAME, &max_sum,      &first_over, &witness_next, &witness_last, &row_stats,
                     &mark_over,       &add,          &add_maxmin, &block_maxmin, &dot_fd,       &score_row,
                     &block_bounds};
}

}  // namespace packk
}  // namespace PYSHAPE_ISA
}  // namespace pyshape
