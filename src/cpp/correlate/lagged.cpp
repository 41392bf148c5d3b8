#include "correlate/lagged.hpp"

#include <algorithm>
#include <cmath>

#include "common/parallel.hpp"
#include "common/simd_level.hpp"

namespace pyshape {

namespace {
constexpr double kDirectNsPerMac = 0.1, kFftNsPerPoint = 0.5, kFftNsPerLag = 0.2;
}  // namespace

void lagged_direct(const float* U, size_t n, const float* V, size_t m, size_t T, size_t L,
                   bool symmetric, float* score, int32_t* lag, int n_threads,
                   const ProgressFn& progress) {
  const KernelTable& kt = kernels();
  L = std::min(L, T - 1);
  parallel_for(
      n, n_threads,
      [&](size_t i, int) {
        const float* x = U + i * T;
        for (size_t j = symmetric ? i : 0; j < m; ++j) {
          const float* y = V + j * T;
          float best = kt.dot(x, y, T);
          int32_t best_s = 0;
          for (size_t d = 1; d <= L; ++d) {
            float neg = kt.dot(x, y + d, T - d);  // s = -d
            if (neg > best) { best = neg; best_s = -static_cast<int32_t>(d); }
            float pos = kt.dot(x + d, y, T - d);  // s = +d
            if (pos > best) { best = pos; best_s = static_cast<int32_t>(d); }
          }
          score[i * m + j] = best;
          lag[i * m + j] = best_s;
        }
      },
      progress);
  if (!symmetric) return;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < i; ++j) {
      score[i * m + j] = score[j * m + i];
      lag[i * m + j] = -lag[j * m + i];
    }
}

// Cost model for kAuto, in nanoseconds per pair on one core (TODO measure).
bool lagged_prefers_fft(size_t T, size_t L) {
  L = std::min(L, T - 1);
  const double t = static_cast<double>(T), l = static_cast<double>(L);
  // Direct: sum over |s| <= L of (T - |s|) multiply-adds.
  const double direct_macs = (2 * l + 1) * t - l * (l + 1);
  const double M = static_cast<double>(lagged_fft_half_length(T, L));
  const double direct_ns = kDirectNsPerMac * direct_macs;
  const double fft_ns = kFftNsPerPoint * M * std::log2(std::max(2.0, M)) + kFftNsPerLag * (2 * l + 1);
  return fft_ns < direct_ns;
}

void lagged_correlation(const float* U, size_t n, const float* V, size_t m, size_t T, size_t L,
                        bool symmetric, float* score, int32_t* lag, int n_threads,
                        const ProgressFn& progress, LaggedMethod method) {
  bool fft = method == LaggedMethod::kFft ||
             (method == LaggedMethod::kAuto && T > 0 && lagged_prefers_fft(T, L));
  if (fft)
    lagged_fft(U, n, V, m, T, L, symmetric, score, lag, n_threads, progress);
  else
    lagged_direct(U, n, V, m, T, L, symmetric, score, lag, n_threads, progress);
}

}  // namespace pyshape
