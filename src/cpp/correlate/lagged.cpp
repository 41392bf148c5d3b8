#include "correlate/lagged.hpp"

#include <algorithm>
#include <cmath>

#include "common/parallel.hpp"
#include "common/row_chunks.hpp"
#include "common/score_range.hpp"

namespace pyshape {

namespace {
// Cost model for LaggedMethod::kAuto: nanoseconds per pair on one core,
// fitted to single-thread timings (AVX2, AMD Zen 3 EPYC, n = 100..300 rows,
// white-noise rows; both paths scale with the SIMD width alike):
//   direct ~ 0.07 ns per multiply-add + 4 ns per lag (dot-product overhead):
//     T=512 L=16: 1297 ns; T=1440 L=8: 1969 ns; T=1440 L=128: 23268 ns;
//     T=4096 L=64: 37768 ns; T=32 L=31: 428 ns.
//   FFT ~ 0.16 ns * M log2 M + 10 ns, N = 2M >= T + L (including the scan
//     of 2L + 1 lags and the per-row spectra amortised over 160 rows):
//     T=512 L=16 (M=270): 302 ns; T=1440 L=8 (M=729): ~1070 ns;
//     T=1440 L=1439 (M=1440): 2454 ns; T=4096 L=4095 (M=4096): 9318 ns.
// So the crossover is near L = 4-8 for T = 128..4096 (T=1440: L=4 direct
// 1150 ns vs FFT ~1050 ns; L=16: 3472 vs 1089 ns), and FFT wins from
// L = 1 for T <= 32, where each direct dot product is mostly overhead.
// At the scalar level (4 lanes of plain loops) the FFT slows down 5.4x but
// the direct dot products (auto-vectorised for the baseline ISA) only 1.5x
// (T=1440 L=8: direct 2376 ns, FFT 5708 ns; L=16: 4606 vs 5789 ns), hence
// kFftScalarFactor = 3.6 there, which moves the crossover to L ~ 20.
constexpr double kDirectNsPerMac = 0.07, kDirectNsPerLag = 4.0;
constexpr double kFftNsPerPoint = 0.16, kFftNsFixed = 10.0;
constexpr double kFftScalarFactor = 3.6;
}  // namespace

size_t lagged_fft_panels_per_item(size_t M, size_t W) {
  const double m = static_cast<double>(M);
  const double panel_ns = static_cast<double>(W) * (kFftNsPerPoint * m * std::log2(std::max(2.0, m)) + kFftNsFixed);
  return static_cast<size_t>(std::max(1.0, kItemMacs * kDirectNsPerMac / panel_ns));
}

double lagged_direct_macs(size_t T, size_t L) {
  const double t = static_cast<double>(T), l = static_cast<double>(L);
  return (2 * l + 1) * t - l * (l + 1);
}

void lagged_direct(const KernelTable& kt, const float* U, size_t n, const float* V, size_t m, size_t T, size_t L,
                   bool symmetric, float* score, int32_t* lag, int n_threads,
                   const ProgressFn& progress) {
  L = std::min(L, T - 1);
  // Items of about kItemMacs multiply-adds (a row against a chunk of
  // columns): one row against all columns can take seconds (T = 4096, all
  // lags, m = 3000), and Ctrl-C is only seen between items. The per-lag
  // overhead counts as 64 multiply-adds.
  const double pair = lagged_direct_macs(T, L) + 64.0 * (2.0 * L + 1);
  const RowChunks items(n, m, static_cast<size_t>(std::max(1.0, kItemMacs / pair)),
                        [&](size_t i) { return symmetric ? i : 0; });
  parallel_for(
      items.items(), n_threads,
      [&](size_t item, int) {
        size_t i, j0, j1;
        items.item(item, i, j0, j1);
        const float* x = U + i * T;
        for (size_t j = j0; j < j1; ++j) {
          const float* y = V + j * T;
          float best = kt.dot(x, y, T);
          int32_t best_s = 0;
          for (size_t d = 1; d <= L; ++d) {
            float neg = kt.dot(x, y + d, T - d);  // s = -d
            if (neg > best) { best = neg; best_s = -static_cast<int32_t>(d); }
            float pos = kt.dot(x + d, y, T - d);  // s = +d
            if (pos > best) { best = pos; best_s = static_cast<int32_t>(d); }
          }
          score[i * m + j] = clamp_corr(best);
          lag[i * m + j] = best_s;
        }
      },
      progress);
  if (symmetric) lagged_mirror(score, lag, n);
}

void lagged_mirror(float* score, int32_t* lag, size_t n) {
  constexpr size_t B = 64;
  for (size_t i0 = 0; i0 < n; i0 += B)
    for (size_t j0 = 0; j0 <= i0; j0 += B)
      for (size_t i = i0; i < std::min(n, i0 + B); ++i)
        for (size_t j = j0; j < std::min(i, j0 + B); ++j) {
          score[i * n + j] = score[j * n + i];
          lag[i * n + j] = -lag[j * n + i];
        }
}

bool lagged_prefers_fft(const FftKernels& fk, size_t T, size_t L) {
  if (T == 0) return false;
  L = std::min(L, T - 1);
  const double l = static_cast<double>(L);
  // Direct: sum over |s| <= L of (T - |s|) multiply-adds.
  const double direct_macs = lagged_direct_macs(T, L);
  const double M = static_cast<double>(lagged_fft_half_length(T, L));
  const double direct_ns = kDirectNsPerMac * direct_macs + kDirectNsPerLag * (2 * l + 1);
  const double fft_ns = kFftNsPerPoint * M * std::log2(std::max(2.0, M)) + kFftNsFixed;
  const double factor = fk.width <= 4 ? kFftScalarFactor : 1.0;
  return factor * fft_ns < direct_ns;
}

void lagged_correlation(const SimdTables& simd, const float* U, size_t n, const float* V, size_t m, size_t T, size_t L,
                        bool symmetric, float* score, int32_t* lag, int n_threads,
                        const ProgressFn& progress, LaggedMethod method) {
  bool fft = method == LaggedMethod::kFft ||
             (method == LaggedMethod::kAuto && lagged_prefers_fft(simd.fft, T, L));
  if (fft)
    lagged_fft(simd.fft, U, n, V, m, T, L, symmetric, score, lag, n_threads, progress);
  else
    lagged_direct(simd.k, U, n, V, m, T, L, symmetric, score, lag, n_threads, progress);
}

}  // namespace pyshape
