// The per-ISA FFT kernel interface used by the FFT path of lagged correlation
// (src/cpp/correlate/lagged_fft.cpp).
//
// Like KernelTable (kernel_table.hpp), every SIMD level compiles the same
// source (fft_impl.hpp) into its own namespace and exposes one table of plain
// function pointers. The kernels work on "panels": W independent signals (one
// per SIMD lane, W = FftKernels::width) stored structure-of-arrays, so that
// every butterfly runs W FFTs at once at full vector width, with no shuffles.
//
// Panel layout: complex element e of the W signals occupies 2 W floats at
// panel + e * 2 W: the W real parts, then the W imaginary parts.
//
// No std containers or templates here: the plan is plain data owned by the
// caller (baseline code), and every buffer is caller-owned.
#pragma once
#include <cstddef>
#include <cstdint>

namespace pyshape {

// A complex FFT of length M = prod(radix[s]) (radices 2, 3, 4 and 5), used as
// the core of real FFTs of length N = 2 M.
struct FftPlan {
  static constexpr int kMaxStages = 40;
  int M;                              // complex length
  int n_stages;
  int radix[kMaxStages];
  // Stockham stage s works on sub-transforms of length len = M / stride with
  // m = len / radix butterflies each; its twiddles are, for j in [0, m) and
  // k in [1, radix): 3 floats (cos a, sin a, -sin a) at tw[s] + 3 ((radix - 1) j + k - 1)
  // with a = -2 pi j k / len (tw_fwd) or +2 pi j k / len (tw_inv).
  const float* tw_fwd[kMaxStages];
  const float* tw_inv[kMaxStages];
  // Real-FFT split twiddles: for k in [0, M], (cos(2 pi k / N), sin(2 pi k / N)).
  const float* post;
};

struct FftKernels {
  const char* name;  // "scalar", "avx2", "avx512"
  int width;         // W: signals per panel (SIMD lanes)

  // Real FFT (length N = 2 plan.M, zero-padded) of up to W rows of length T
  // (T <= N; row r at rows + r * T, r < n_rows; missing rows are zeros).
  // Writes bins k = 0..M as a panel of M + 1 complex elements to out.
  // scratch: 4 M W floats.
  void (*rfft_panel)(const float* rows, size_t T, int n_rows, const FftPlan& plan, float* out,
                     float* scratch);

  // For the W pairs (x, y_l), x = lane xlane of panel xspec and y_l = lane l
  // of panel yspec (both from rfft_panel with the same plan): the circular
  // cross-correlation c_l[s] = sum_t x[t] y_l[t - s] (mod N), and its maximum
  // over s = 0, -1, +1, ..., -L, +L in that order with strict '>' updates
  // (ties keep the earlier lag). Writes score[l] and lag[l] for l < W.
  // Requires L < N. scratch: 4 M W floats.
  void (*lagged_panel)(const float* xspec, int xlane, const float* yspec, const FftPlan& plan,
                       size_t L, float* score, int32_t* lag, float* scratch);
};

namespace scalar { const FftKernels* fft_table(); }
#ifdef PYSHAPE_HAVE_X86
namespace avx2 { const FftKernels* fft_table(); }
namespace avx512 { const FftKernels* fft_table(); }
#endif

}  // namespace pyshape
