// int8 candidate kernels (KernelTable::q8_tile), compiled per SIMD level like
// kernels_impl.hpp. The integer products are exact (int32 accumulation, no
// saturation for the byte ranges of each variant, K4 * 4 <= kQ8MaxT); the
// float epilogue turns them into approximate scores and flags the pairs whose
// error bound reaches the running top-k thresholds (correlate/topk_q8.hpp).
// q8_rows (one byte row against up to 8 others, exact int32 sums) serves the
// second, finer check of the flagged pairs.
//
// Variants:
//   avx512vnni  vpdpbusd: query bytes q + 128 (q in [-127, 127]) times signed
//               database bytes, 4 products summed into int32 in one instruction.
//   avx512bw /  vpmaddubsw + vpmaddwd: pairs of u8 x s8 products are summed in
//   avx2        int16 with saturation, so the query side is kept to 7 bits
//               (q in [-63, 63], bytes q + 64 <= 127): 2 * 127 * 127 < 32768.
//   scalar      plain loops, the vnni ranges.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <type_traits>

#include "kernels/kernel_table.hpp"
#include "kernels/vec.hpp"

namespace pyshape {
namespace PYSHAPE_ISA {
namespace q8 {

// Calls f(std::integral_constant<int, m>) for a row count m in 1..8 (larger: 8), so that
// each ISA's rows kernel is instantiated once per count and picked here, not in a switch
// of its own.
template <class F>
inline void with_row_count(int m, F&& f) {
  switch (m) {
    case 1: f(std::integral_constant<int, 1>{}); break;
    case 2: f(std::integral_constant<int, 2>{}); break;
    case 3: f(std::integral_constant<int, 3>{}); break;
    case 4: f(std::integral_constant<int, 4>{}); break;
    case 5: f(std::integral_constant<int, 5>{}); break;
    case 6: f(std::integral_constant<int, 6>{}); break;
    case 7: f(std::integral_constant<int, 7>{}); break;
    default: f(std::integral_constant<int, 8>{}); break;
  }
}

// normalize.hpp's apply_row_scale (f != 0), vectorised by the compiler at
// this unit's flags: the int8 top-k normalises the rows it re-scores on the
// fly, and the scalar loop cost about as much as the re-scoring itself.
inline void scale_row(const float* x, size_t T, double mean, double f, float* out) {
  for (size_t t = 0; t < T; ++t) out[t] = static_cast<float>((static_cast<double>(x[t]) - mean) * f);
}

// The float epilogue on a stored tile D (MR x NR int32, offset not yet removed).
template <int MR, int NR>
inline bool epilogue(const int32_t* D, int m_valid, const Q8Cols& b, const Q8Rows& a, uint32_t* mask,
                     int32_t* dq) {
  static_assert(NR % Vec::W == 0, "tile width must be whole vectors");
  constexpr int NV = NR / Vec::W;
  Vec sb[NV], Nb[NV], Rb[NV];
  int32_t corr[MR * NR];
  for (int v = 0; v < NV; ++v) {
    sb[v] = Vec::load(b.s + v * Vec::W);
    Nb[v] = Vec::load(b.N + v * Vec::W);
    Rb[v] = Vec::load(b.R + v * Vec::W);
  }
  int32_t* c = dq ? dq : corr;
  for (int i = 0; i < m_valid; ++i)
    for (int j = 0; j < NR; ++j) c[i * NR + j] = D[i * NR + j] - b.bsum[j];
  uint32_t any = 0;
  for (int i = 0; i < m_valid; ++i) {
    const Vec sa = Vec::set1(a.s[i]), Aa = Vec::set1(a.A[i]), Ba = Vec::set1(a.B[i]);
    const Vec hi = Vec::set1(a.hi[i]), lo = Vec::set1(a.lo[i]);
    uint32_t m = 0;
    for (int v = 0; v < NV; ++v) {
      const Vec approx = (Vec::from_i32(c + i * NR + v * Vec::W) * sb[v]) * sa;
      const Vec e = Aa * Nb[v] + Ba * Rb[v];
      const Vec upper = approx + e, lower = approx - e;
      const uint32_t bits = Vec::ge_mask(upper, hi) | Vec::le_mask(lower, lo);
      m |= bits << (v * Vec::W);
    }
    mask[i] = m;
    any |= m;
  }
  return any != 0;
}

#if defined(__AVX512F__)
constexpr int kMR = 8, kNR = 32;

__attribute__((target("avx512vnni"))) inline void dots_vnni(const uint8_t* Ap, const int8_t* Bp, size_t K4,
                                                             int32_t* D) {
  __m512i c[kMR][2];
  for (int i = 0; i < kMR; ++i) c[i][0] = c[i][1] = _mm512_setzero_si512();
  for (size_t g = 0; g < K4; ++g) {
    const __m512i b0 = _mm512_loadu_si512(Bp + g * kNR * 4), b1 = _mm512_loadu_si512(Bp + g * kNR * 4 + 64);
    const uint8_t* ag = Ap + g * kMR * 4;
#pragma GCC unroll 8
    for (int i = 0; i < kMR; ++i) {
      int32_t w;
      __builtin_memcpy(&w, ag + 4 * i, 4);
      const __m512i a = _mm512_set1_epi32(w);
      c[i][0] = _mm512_dpbusd_epi32(c[i][0], a, b0);
      c[i][1] = _mm512_dpbusd_epi32(c[i][1], a, b1);
    }
  }
  for (int i = 0; i < kMR; ++i) {
    _mm512_storeu_si512(D + i * kNR, c[i][0]);
    _mm512_storeu_si512(D + i * kNR + 16, c[i][1]);
  }
}

inline void dots_bw(const uint8_t* Ap, const int8_t* Bp, size_t K4, int32_t* D) {
  __m512i c[kMR][2];
  for (int i = 0; i < kMR; ++i) c[i][0] = c[i][1] = _mm512_setzero_si512();
  const __m512i ones = _mm512_set1_epi16(1);
  for (size_t g = 0; g < K4; ++g) {
    const __m512i b0 = _mm512_loadu_si512(Bp + g * kNR * 4), b1 = _mm512_loadu_si512(Bp + g * kNR * 4 + 64);
    const uint8_t* ag = Ap + g * kMR * 4;
#pragma GCC unroll 8
    for (int i = 0; i < kMR; ++i) {
      int32_t w;
      __builtin_memcpy(&w, ag + 4 * i, 4);
      const __m512i a = _mm512_set1_epi32(w);
      c[i][0] = _mm512_add_epi32(c[i][0], _mm512_madd_epi16(_mm512_maddubs_epi16(a, b0), ones));
      c[i][1] = _mm512_add_epi32(c[i][1], _mm512_madd_epi16(_mm512_maddubs_epi16(a, b1), ones));
    }
  }
  for (int i = 0; i < kMR; ++i) {
    _mm512_storeu_si512(D + i * kNR, c[i][0]);
    _mm512_storeu_si512(D + i * kNR + 16, c[i][1]);
  }
}

__attribute__((target("avx512vnni"))) inline bool tile_vnni(const uint8_t* Ap, int m_valid, const int8_t* Bp,
                                                             size_t K4, const Q8Cols& b, const Q8Rows& a,
                                                             uint32_t* mask, int32_t* dots, int32_t* dq) {
  alignas(64) int32_t D[kMR * kNR];
  dots_vnni(Ap, Bp, K4, dots ? dots : D);
  if (dots) return false;
  return epilogue<kMR, kNR>(D, m_valid, b, a, mask, dq);
}
inline bool tile_bw(const uint8_t* Ap, int m_valid, const int8_t* Bp, size_t K4, const Q8Cols& b,
                    const Q8Rows& a, uint32_t* mask, int32_t* dots, int32_t* dq) {
  alignas(64) int32_t D[kMR * kNR];
  dots_bw(Ap, Bp, K4, dots ? dots : D);
  if (dots) return false;
  return epilogue<kMR, kNR>(D, m_valid, b, a, mask, dq);
}

// One row a (unsigned bytes) against m <= 8 rows (signed bytes), L bytes each
// (a multiple of 64): out[p] = sum_k a[k] rows[p][k], exact in int32.
template <int M>
__attribute__((target("avx512vnni"))) inline void rows_vnni_n(const uint8_t* a, const int8_t* const* rows,
                                                              size_t L, int32_t* out) {
  __m512i c[M];
  for (int p = 0; p < M; ++p) c[p] = _mm512_setzero_si512();
  for (size_t k = 0; k < L; k += 64) {
    const __m512i av = _mm512_loadu_si512(a + k);
#pragma GCC unroll 8
    for (int p = 0; p < M; ++p) c[p] = _mm512_dpbusd_epi32(c[p], av, _mm512_loadu_si512(rows[p] + k));
  }
  for (int p = 0; p < M; ++p) out[p] = _mm512_reduce_add_epi32(c[p]);
}
template <int M>
inline void rows_bw_n(const uint8_t* a, const int8_t* const* rows, size_t L, int32_t* out) {
  __m512i c[M];
  for (int p = 0; p < M; ++p) c[p] = _mm512_setzero_si512();
  const __m512i ones = _mm512_set1_epi16(1);
  for (size_t k = 0; k < L; k += 64) {
    const __m512i av = _mm512_loadu_si512(a + k);
#pragma GCC unroll 8
    for (int p = 0; p < M; ++p)
      c[p] = _mm512_add_epi32(c[p], _mm512_madd_epi16(_mm512_maddubs_epi16(av, _mm512_loadu_si512(rows[p] + k)), ones));
  }
  for (int p = 0; p < M; ++p) out[p] = _mm512_reduce_add_epi32(c[p]);
}
__attribute__((target("avx512vnni"))) inline void rows_vnni(const uint8_t* a, const int8_t* const* rows, int m,
                                                             size_t L, int32_t* out) {
  with_row_count(m, [&](auto n) { rows_vnni_n<decltype(n)::value>(a, rows, L, out); });
}
inline void rows_bw(const uint8_t* a, const int8_t* const* rows, int m, size_t L, int32_t* out) {
  with_row_count(m, [&](auto n) { rows_bw_n<decltype(n)::value>(a, rows, L, out); });
}

inline void fill(KernelTable& t) {
  // PYSHAPE_INT8_NO_VNNI=1 (read once, when the table is made) forces the
  // vpmaddubsw variant on a CPU with VNNI, so that tests can reach it.
  const char* env = std::getenv("PYSHAPE_INT8_NO_VNNI");
  const bool no_vnni = env && *env && *env != '0';
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512vnni") && !no_vnni) {
    t.q8_name = "avx512vnni";
    t.q8_amax = 127;
    t.q8_aoff = 128;
    t.q8_tile = &tile_vnni;
    t.q8_rows = &rows_vnni;
  } else {
    t.q8_name = "avx512bw";
    t.q8_amax = 63;
    t.q8_aoff = 64;
    t.q8_tile = &tile_bw;
    t.q8_rows = &rows_bw;
  }
  t.q8_mr = kMR;
  t.q8_nr = kNR;
  t.q8_scale_row = &scale_row;
}

#elif defined(__AVX2__)
constexpr int kMR = 4, kNR = 16;

inline bool tile(const uint8_t* Ap, int m_valid, const int8_t* Bp, size_t K4, const Q8Cols& b,
                 const Q8Rows& a, uint32_t* mask, int32_t* dots, int32_t* dq) {
  __m256i c[kMR][2];
  for (int i = 0; i < kMR; ++i) c[i][0] = c[i][1] = _mm256_setzero_si256();
  const __m256i ones = _mm256_set1_epi16(1);
  for (size_t g = 0; g < K4; ++g) {
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(Bp + g * kNR * 4));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(Bp + g * kNR * 4 + 32));
    const uint8_t* ag = Ap + g * kMR * 4;
#pragma GCC unroll 4
    for (int i = 0; i < kMR; ++i) {
      int32_t w;
      __builtin_memcpy(&w, ag + 4 * i, 4);
      const __m256i av = _mm256_set1_epi32(w);
      c[i][0] = _mm256_add_epi32(c[i][0], _mm256_madd_epi16(_mm256_maddubs_epi16(av, b0), ones));
      c[i][1] = _mm256_add_epi32(c[i][1], _mm256_madd_epi16(_mm256_maddubs_epi16(av, b1), ones));
    }
  }
  alignas(32) int32_t D[kMR * kNR];
  int32_t* out = dots ? dots : D;
  for (int i = 0; i < kMR; ++i) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i * kNR), c[i][0]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i * kNR + 8), c[i][1]);
  }
  if (dots) return false;
  return epilogue<kMR, kNR>(D, m_valid, b, a, mask, dq);
}

template <int M>
inline void rows_n(const uint8_t* a, const int8_t* const* rows, size_t L, int32_t* out) {
  __m256i c[M];
  for (int p = 0; p < M; ++p) c[p] = _mm256_setzero_si256();
  const __m256i ones = _mm256_set1_epi16(1);
  for (size_t k = 0; k < L; k += 32) {
    const __m256i av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + k));
#pragma GCC unroll 8
    for (int p = 0; p < M; ++p) {
      const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows[p] + k));
      c[p] = _mm256_add_epi32(c[p], _mm256_madd_epi16(_mm256_maddubs_epi16(av, b), ones));
    }
  }
  for (int p = 0; p < M; ++p) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(c[p]), _mm256_extracti128_si256(c[p], 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    out[p] = _mm_cvtsi128_si32(s);
  }
}
inline void rows(const uint8_t* a, const int8_t* const* r, int m, size_t L, int32_t* out) {
  with_row_count(m, [&](auto n) { rows_n<decltype(n)::value>(a, r, L, out); });
}

inline void fill(KernelTable& t) {
  t.q8_name = "avx2";
  t.q8_mr = kMR;
  t.q8_nr = kNR;
  t.q8_amax = 63;
  t.q8_aoff = 64;
  t.q8_tile = &tile;
  t.q8_rows = &rows;
  t.q8_scale_row = &scale_row;
}

#else
constexpr int kMR = 4, kNR = 16;

inline bool tile(const uint8_t* Ap, int m_valid, const int8_t* Bp, size_t K4, const Q8Cols& b,
                 const Q8Rows& a, uint32_t* mask, int32_t* dots, int32_t* dq) {
  int32_t D[kMR * kNR] = {};
  for (size_t g = 0; g < K4; ++g)
    for (int i = 0; i < kMR; ++i)
      for (int j = 0; j < kNR; ++j) {
        int32_t s = 0;
        for (int t = 0; t < 4; ++t)
          s += static_cast<int32_t>(Ap[(g * kMR + i) * 4 + t]) * static_cast<int32_t>(Bp[(g * kNR + j) * 4 + t]);
        D[i * kNR + j] += s;
      }
  if (dots) {
    for (int x = 0; x < kMR * kNR; ++x) dots[x] = D[x];
    return false;
  }
  return epilogue<kMR, kNR>(D, m_valid, b, a, mask, dq);
}

template <int M>
inline void rows_n(const uint8_t* a, const int8_t* const* rows, size_t L, int32_t* out) {
  int32_t c[M] = {};
  for (size_t k = 0; k < L; ++k)
    for (int p = 0; p < M; ++p) c[p] += static_cast<int32_t>(a[k]) * static_cast<int32_t>(rows[p][k]);
  for (int p = 0; p < M; ++p) out[p] = c[p];
}
inline void rows(const uint8_t* a, const int8_t* const* r, int m, size_t L, int32_t* out) {
  with_row_count(m, [&](auto n) { rows_n<decltype(n)::value>(a, r, L, out); });
}

inline void fill(KernelTable& t) {
  t.q8_name = "scalar";
  t.q8_mr = kMR;
  t.q8_nr = kNR;
  t.q8_amax = 127;
  t.q8_aoff = 128;
  t.q8_tile = &tile;
  t.q8_rows = &rows;
  t.q8_scale_row = &scale_row;
}
#endif

}  // namespace q8
}  // namespace PYSHAPE_ISA
}  // namespace pyshape
