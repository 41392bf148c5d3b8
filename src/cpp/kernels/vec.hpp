// Thin SIMD vector types for the kernel templates in kernels_impl.hpp.
//
// Exactly one of VecAVX512 / VecAVX2 / VecScalar is used per translation unit,
// chosen by the flags that unit is compiled with. All three expose the same
// static interface, so one kernel source serves every level.
#pragma once
#include <cstddef>
#include <cstdint>

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace pyshape {
namespace PYSHAPE_ISA {

#if defined(__AVX512F__)
struct Vec {
  static constexpr int W = 16;
  __m512 v;
  static Vec zero() { return {_mm512_setzero_ps()}; }
  static Vec set1(float x) { return {_mm512_set1_ps(x)}; }
  static Vec load(const float* p) { return {_mm512_loadu_ps(p)}; }
  static Vec from_i32(const int32_t* p) { return {_mm512_cvtepi32_ps(_mm512_loadu_si512(p))}; }
  void store(float* p) const { _mm512_storeu_ps(p, v); }
  friend Vec fmadd(Vec a, Vec b, Vec c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
  friend Vec operator+(Vec a, Vec b) { return {_mm512_add_ps(a.v, b.v)}; }
  friend Vec operator-(Vec a, Vec b) { return {_mm512_sub_ps(a.v, b.v)}; }
  friend Vec operator*(Vec a, Vec b) { return {_mm512_mul_ps(a.v, b.v)}; }
  static uint32_t ge_mask(Vec a, Vec b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_GE_OQ); }
  static uint32_t le_mask(Vec a, Vec b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_LE_OQ); }
  float hsum() const { return _mm512_reduce_add_ps(v); }
};
#elif defined(__AVX2__)
struct Vec {
  static constexpr int W = 8;
  __m256 v;
  static Vec zero() { return {_mm256_setzero_ps()}; }
  static Vec set1(float x) { return {_mm256_set1_ps(x)}; }
  static Vec load(const float* p) { return {_mm256_loadu_ps(p)}; }
  static Vec from_i32(const int32_t* p) {
    return {_mm256_cvtepi32_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)))};
  }
  void store(float* p) const { _mm256_storeu_ps(p, v); }
  friend Vec fmadd(Vec a, Vec b, Vec c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
  friend Vec operator+(Vec a, Vec b) { return {_mm256_add_ps(a.v, b.v)}; }
  friend Vec operator-(Vec a, Vec b) { return {_mm256_sub_ps(a.v, b.v)}; }
  friend Vec operator*(Vec a, Vec b) { return {_mm256_mul_ps(a.v, b.v)}; }
  static uint32_t ge_mask(Vec a, Vec b) {
    return static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(a.v, b.v, _CMP_GE_OQ)));
  }
  static uint32_t le_mask(Vec a, Vec b) {
    return static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(a.v, b.v, _CMP_LE_OQ)));
  }
  float hsum() const {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    __m128 s = _mm_add_ps(lo, hi);
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 0x55));
    return _mm_cvtss_f32(s);
  }
};
#else
// Portable fallback: plain loops over 4 lanes (the compiler may still use the
// baseline vector unit, e.g. SSE2, but never anything the CPU might lack).
struct Vec {
  static constexpr int W = 4;
  float v[4];
  static Vec zero() { return {{0.f, 0.f, 0.f, 0.f}}; }
  static Vec set1(float x) { return {{x, x, x, x}}; }
  static Vec load(const float* p) { return {{p[0], p[1], p[2], p[3]}}; }
  static Vec from_i32(const int32_t* p) {
    return {{static_cast<float>(p[0]), static_cast<float>(p[1]), static_cast<float>(p[2]), static_cast<float>(p[3])}};
  }
  void store(float* p) const { for (int i = 0; i < 4; ++i) p[i] = v[i]; }
  friend Vec fmadd(Vec a, Vec b, Vec c) { Vec r; for (int i = 0; i < 4; ++i) r.v[i] = fma_lane(a.v[i], b.v[i], c.v[i]); return r; }
  // One lane of fmadd (the exact re-scoring of single pairs must round alike).
  static float fma_lane(float a, float b, float c) { return a * b + c; }
  friend Vec operator+(Vec a, Vec b) { Vec r; for (int i = 0; i < 4; ++i) r.v[i] = a.v[i] + b.v[i]; return r; }
  friend Vec operator-(Vec a, Vec b) { Vec r; for (int i = 0; i < 4; ++i) r.v[i] = a.v[i] - b.v[i]; return r; }
  friend Vec operator*(Vec a, Vec b) { Vec r; for (int i = 0; i < 4; ++i) r.v[i] = a.v[i] * b.v[i]; return r; }
  static uint32_t ge_mask(Vec a, Vec b) { uint32_t m = 0; for (int i = 0; i < 4; ++i) m |= uint32_t(a.v[i] >= b.v[i]) << i; return m; }
  static uint32_t le_mask(Vec a, Vec b) { uint32_t m = 0; for (int i = 0; i < 4; ++i) m |= uint32_t(a.v[i] <= b.v[i]) << i; return m; }
  float hsum() const { return (v[0] + v[2]) + (v[1] + v[3]); }
};
#endif

}  // namespace PYSHAPE_ISA
}  // namespace pyshape
