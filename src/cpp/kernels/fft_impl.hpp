// FFT kernels for lagged correlation, written once against the Vec interface
// (vec.hpp) and compiled per SIMD level (kernels_scalar.cpp, kernels_avx2.cpp,
// kernels_avx512.cpp) into namespace pyshape::<level>. See fft_table.hpp for
// the panel layout and the contract of each kernel.
//
// Method. Each SIMD lane carries an independent signal, so a complex FFT of
// length M is a Stockham autosort FFT (radices 2, 3, 4, 5; no bit reversal,
// ping-pong between two buffers) whose "complex numbers" are pairs of
// vectors. Tried and measured slower at M = 1440 on Zen 3 (AVX2): a
// depth-first recursive decimation-in-time order that keeps small subtrees in
// L1 (~8%; probably its per-element twiddle broadcasts), and a radix-8
// butterfly (~10%; 16 data vectors spill with 16 ymm registers).
// A real signal of length N = 2 M is handled as the complex signal
// z[m] = x[2m] + i x[2m+1] of length M plus the standard split step:
//   forward:  X[k] = ((Z[k] + conj Z[M-k]) - i e^{-2 pi i k/N} (Z[k] - conj Z[M-k])) / 2
//   inverse:  Z[k] = (P[k] + conj P[M-k]) + i e^{+2 pi i k/N} (P[k] - conj P[M-k]),
//             then z = unnormalised inverse FFT_M(Z) = N (c[2m] + i c[2m+1]).
// All arithmetic is float32 (FMA where the level has it).
//
// Only pointer code and this namespace's own templates: no std containers or
// std templates, so nothing built with wide instructions leaks into baseline
// code through shared (COMDAT) template symbols.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/fft_table.hpp"
#include "kernels/vec.hpp"

namespace pyshape {
namespace PYSHAPE_ISA {
namespace fft {

constexpr int kW = Vec::W;
constexpr int kE = 2 * kW;  // floats per complex element of a panel

// best, lag <- (v, l) in the lanes where v > best (strictly).
inline void keep_max(Vec& best, Vec& lag, Vec v, Vec l) {
// The value chain goes through max (1 cycle latency) rather than compare +
// blend, so a scan is throughput-bound, not latency-bound. Where v == best,
// max may return either operand, which are equal (inputs are never NaN).
#if defined(__AVX512F__)
  __mmask16 m = _mm512_cmp_ps_mask(v.v, best.v, _CMP_GT_OQ);
  best.v = _mm512_max_ps(best.v, v.v);
  lag.v = _mm512_mask_blend_ps(m, lag.v, l.v);
#elif defined(__AVX2__)
  __m256 m = _mm256_cmp_ps(v.v, best.v, _CMP_GT_OQ);
  best.v = _mm256_max_ps(best.v, v.v);
  lag.v = _mm256_blendv_ps(lag.v, l.v, m);
#else
  for (int i = 0; i < kW; ++i)
    if (v.v[i] > best.v[i]) {
      best.v[i] = v.v[i];
      lag.v[i] = l.v[i];
    }
#endif
}

inline Vec neg(Vec a) { return Vec::zero() - a; }

// In-place DFT of length P on (re[r], im[r]), r < P: b_k = sum_r a_r w^{rk},
// w = exp(sigma 2 pi i / P), sigma = +1 for the inverse, -1 for the forward
// transform.
template <int P, bool Inv>
inline void butterfly(Vec* re, Vec* im) {
  constexpr float sg = Inv ? 1.f : -1.f;
  if constexpr (P == 2) {
    Vec r0 = re[0] + re[1], i0 = im[0] + im[1];
    re[1] = re[0] - re[1];
    im[1] = im[0] - im[1];
    re[0] = r0;
    im[0] = i0;
  } else if constexpr (P == 3) {
    const Vec half = Vec::set1(0.5f), ks = Vec::set1(sg * 0.866025403784438647f);
    Vec tr = re[1] + re[2], ti = im[1] + im[2];
    Vec dr = ks * (re[1] - re[2]), di = ks * (im[1] - im[2]);
    Vec ur = re[0] - half * tr, ui = im[0] - half * ti;
    re[0] = re[0] + tr;
    im[0] = im[0] + ti;
    re[1] = ur - di;
    im[1] = ui + dr;
    re[2] = ur + di;
    im[2] = ui - dr;
  } else if constexpr (P == 4) {
    Vec t0r = re[0] + re[2], t0i = im[0] + im[2];
    Vec t1r = re[0] - re[2], t1i = im[0] - im[2];
    Vec t2r = re[1] + re[3], t2i = im[1] + im[3];
    Vec t3r = re[1] - re[3], t3i = im[1] - im[3];
    re[0] = t0r + t2r;
    im[0] = t0i + t2i;
    re[2] = t0r - t2r;
    im[2] = t0i - t2i;
    // b1 = t1 + i sg t3, b3 = t1 - i sg t3.
    if (Inv) {
      re[1] = t1r - t3i;
      im[1] = t1i + t3r;
      re[3] = t1r + t3i;
      im[3] = t1i - t3r;
    } else {
      re[1] = t1r + t3i;
      im[1] = t1i - t3r;
      re[3] = t1r - t3i;
      im[3] = t1i + t3r;
    }
  } else if constexpr (P == 5) {
    const Vec c1 = Vec::set1(0.309016994374947424f), c2 = Vec::set1(-0.809016994374947424f);
    const Vec s1 = Vec::set1(sg * 0.951056516295153572f), s2 = Vec::set1(sg * 0.587785252292473129f);
    Vec t1r = re[1] + re[4], t1i = im[1] + im[4], d1r = re[1] - re[4], d1i = im[1] - im[4];
    Vec t2r = re[2] + re[3], t2i = im[2] + im[3], d2r = re[2] - re[3], d2i = im[2] - im[3];
    Vec u1r = fmadd(c2, t2r, fmadd(c1, t1r, re[0])), u1i = fmadd(c2, t2i, fmadd(c1, t1i, im[0]));
    Vec u2r = fmadd(c1, t2r, fmadd(c2, t1r, re[0])), u2i = fmadd(c1, t2i, fmadd(c2, t1i, im[0]));
    // v1 = sg (s1 d1 + s2 d2), v2 = sg (s2 d1 - s1 d2) (sg folded into s1, s2).
    Vec v1r = fmadd(s1, d1r, s2 * d2r), v1i = fmadd(s1, d1i, s2 * d2i);
    Vec v2r = fmadd(s2, d1r, neg(s1 * d2r)), v2i = fmadd(s2, d1i, neg(s1 * d2i));
    re[0] = re[0] + t1r + t2r;
    im[0] = im[0] + t1i + t2i;
    re[1] = u1r - v1i;
    im[1] = u1i + v1r;
    re[4] = u1r + v1i;
    im[4] = u1i - v1r;
    re[2] = u2r - v2i;
    im[2] = u2i + v2r;
    re[3] = u2r + v2i;
    im[3] = u2i - v2r;
  }
}

// One Stockham (decimation in frequency) stage: sub-transforms of length len,
// stride s (len * s = M). For j < m = len / P and q < s, the P inputs
// x[q + s (j + r m)] go through a DFT_P, output k is multiplied by the twiddle
// w_len^{jk} and stored at y[q + s (P j + k)].
template <int P, bool Inv>
inline void pass(const float* x, float* y, int len, int s, const float* tw) {
  const int m = len / P;
  const size_t sm = static_cast<size_t>(s) * m;
  // j = 0: no twiddles.
  for (int q = 0; q < s; ++q) {
    Vec re[P], im[P];
    for (int r = 0; r < P; ++r) {
      const float* p = x + (q + r * sm) * kE;
      re[r] = Vec::load(p);
      im[r] = Vec::load(p + kW);
    }
    butterfly<P, Inv>(re, im);
    for (int k = 0; k < P; ++k) {
      float* o = y + static_cast<size_t>(q + s * k) * kE;
      re[k].store(o);
      im[k].store(o + kW);
    }
  }
  for (int j = 1; j < m; ++j) {
    Vec wr[P], wi[P], nwi[P];
    const float* t = tw + 3 * (P - 1) * j;
    for (int k = 1; k < P; ++k) {
      wr[k] = Vec::set1(t[3 * (k - 1)]);
      wi[k] = Vec::set1(t[3 * (k - 1) + 1]);
      nwi[k] = Vec::set1(t[3 * (k - 1) + 2]);
    }
    const float* xj = x + static_cast<size_t>(s) * j * kE;
    float* yj = y + static_cast<size_t>(s) * P * j * kE;
    for (int q = 0; q < s; ++q) {
      Vec re[P], im[P];
      for (int r = 0; r < P; ++r) {
        const float* p = xj + (q + r * sm) * kE;
        re[r] = Vec::load(p);
        im[r] = Vec::load(p + kW);
      }
      butterfly<P, Inv>(re, im);
      re[0].store(yj + static_cast<size_t>(q) * kE);
      im[0].store(yj + static_cast<size_t>(q) * kE + kW);
      for (int k = 1; k < P; ++k) {
        float* o = yj + static_cast<size_t>(q + s * k) * kE;
        fmadd(re[k], wr[k], im[k] * nwi[k]).store(o);
        fmadd(re[k], wi[k], im[k] * wr[k]).store(o + kW);
      }
    }
  }
}

// Complex FFT of the M-element panel in a (b is the other buffer); returns the
// buffer holding the result (a or b). Unnormalised in both directions.
template <bool Inv>
inline float* transform(float* a, float* b, const FftPlan& plan) {
  int s = 1, len = plan.M;
  for (int st = 0; st < plan.n_stages; ++st) {
    const int p = plan.radix[st];
    const float* tw = Inv ? plan.tw_inv[st] : plan.tw_fwd[st];
    switch (p) {
      case 2: pass<2, Inv>(a, b, len, s, tw); break;
      case 3: pass<3, Inv>(a, b, len, s, tw); break;
      case 4: pass<4, Inv>(a, b, len, s, tw); break;
      default: pass<5, Inv>(a, b, len, s, tw); break;
    }
    float* t = a;
    a = b;
    b = t;
    s *= p;
    len /= p;
  }
  return a;
}

inline void rfft_panel(const float* rows, size_t T, int n_rows, const FftPlan& plan, float* out,
                       float* scratch) {
  const int M = plan.M;
  float* a = scratch;
  float* b = scratch + static_cast<size_t>(M) * kE;
  for (int e = 0; e < M; ++e) {
    float* p = a + static_cast<size_t>(e) * kE;
    const size_t t = 2 * static_cast<size_t>(e);
    for (int l = 0; l < kW; ++l) {
      float re = 0.f, im = 0.f;
      if (l < n_rows) {
        const float* row = rows + l * T;
        if (t < T) re = row[t];
        if (t + 1 < T) im = row[t + 1];
      }
      p[l] = re;
      p[kW + l] = im;
    }
  }
  const float* z = transform<false>(a, b, plan);
  const Vec half = Vec::set1(0.5f);
  for (int k = 0; k <= M; ++k) {
    const float* pa = z + static_cast<size_t>(k == M ? 0 : k) * kE;
    const float* pb = z + static_cast<size_t>(k == 0 ? 0 : M - k) * kE;
    Vec ar = Vec::load(pa), ai = Vec::load(pa + kW);
    Vec br = Vec::load(pb), bi = neg(Vec::load(pb + kW));  // B = conj Z[M-k]
    Vec sr = ar + br, si = ai + bi, dr = ar - br, di = ai - bi;
    // w D with w = e^{-2 pi i k/N} = (c, -sn); then X = (S - i w D) / 2.
    const Vec c = Vec::set1(plan.post[2 * k]), sn = Vec::set1(plan.post[2 * k + 1]);
    Vec wdr = fmadd(c, dr, sn * di), wdi = fmadd(c, di, neg(sn * dr));
    float* o = out + static_cast<size_t>(k) * kE;
    (half * (sr + wdi)).store(o);
    (half * (si - wdr)).store(o + kW);
  }
}

inline void lagged_panel(const float* xspec, int xlane, const float* yspec, const FftPlan& plan,
                         size_t L, float* score, int32_t* lag, float* scratch) {
  const int M = plan.M;
  const size_t N = 2 * static_cast<size_t>(M);
  const float inv_n = 1.f / static_cast<float>(N);
  float* a = scratch;
  float* b = scratch + static_cast<size_t>(M) * kE;
  const float* xs = xspec + xlane;
  // P[k] = X[k] conj(Y[k]) / N.
  auto prod = [&](int k, Vec& pr, Vec& pi) {
    const float xr = xs[static_cast<size_t>(k) * kE] * inv_n;
    const float xi = xs[static_cast<size_t>(k) * kE + kW] * inv_n;
    const float* py = yspec + static_cast<size_t>(k) * kE;
    Vec yr = Vec::load(py), yi = Vec::load(py + kW);
    Vec vxr = Vec::set1(xr), vxi = Vec::set1(xi), nxr = Vec::set1(-xr);
    pr = fmadd(vxr, yr, vxi * yi);
    pi = fmadd(vxi, yr, nxr * yi);
  };
  // Z[k] = S + i w D, Z[M-k] = conj S + i w' (-conj D), where A = P[k],
  // B = P[M-k], S = A + conj B, D = A - conj B, w = e^{2 pi i k/N} = (c, sn),
  // w' = w_{M-k} = -conj w. With U = c Di + sn Dr, V = c Dr - sn Di:
  // Z[k] = (Sr - U, Si + V), Z[M-k] = (Sr + U, V - Si).
  for (int k = 0; 2 * k <= M; ++k) {
    Vec ar, ai, br, bi;
    prod(k, ar, ai);
    prod(M - k, br, bi);
    Vec sr = ar + br, si = ai - bi, dr = ar - br, di = ai + bi;
    const Vec c = Vec::set1(plan.post[2 * k]), sn = Vec::set1(plan.post[2 * k + 1]);
    Vec u = fmadd(c, di, sn * dr), v = fmadd(c, dr, neg(sn * di));
    float* o = a + static_cast<size_t>(k) * kE;
    (sr - u).store(o);
    (si + v).store(o + kW);
    if (k > 0 && M - k != k) {
      float* o2 = a + static_cast<size_t>(M - k) * kE;
      (sr + u).store(o2);
      (v - si).store(o2 + kW);
    }
  }
  const float* z = transform<true>(a, b, plan);
  // c[i] is lane-vector (i even ? re : im) of element i / 2, i.e. at z + i W.
  Vec best = Vec::load(z), best_lag = Vec::zero();
  const Vec one = Vec::set1(1.f);
  Vec lag_pos = one, lag_neg = Vec::zero() - one;  // exact: |lag| < 2^24
  const float* pos = z + kW;
  const float* negp = z + (N - 1) * kW;
  for (size_t d = 1; d <= L; ++d, pos += kW, negp -= kW) {
    keep_max(best, best_lag, Vec::load(negp), lag_neg);
    keep_max(best, best_lag, Vec::load(pos), lag_pos);
    lag_pos = lag_pos + one;
    lag_neg = lag_neg - one;
  }
  float lf[kW];
  best.store(score);
  best_lag.store(lf);
  for (int l = 0; l < kW; ++l) lag[l] = static_cast<int32_t>(lf[l]);
}

inline FftKernels make_fft_table() {
  return FftKernels{PYSHAPE_ISA_NAME, kW, &rfft_panel, &lagged_panel};
}

}  // namespace fft
}  // namespace PYSHAPE_ISA
}  // namespace pyshape
