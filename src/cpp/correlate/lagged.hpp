// Lagged correlation: the maximum over lags s in [-L, L] of the normalised
// cross-correlation
//     ncc(x, y)[s] = sum_t u_x[t] * u_y[t - s]      (unit-norm rows, zero outside)
// and the lag that attains it (k-Shape's NCC_c; SBD = 1 - max).
// Ties keep the lag nearest 0, the negative one first, so a constant row
// (all zeros) gets score 0 at lag 0. Scores are clamped to [-1, 1] after the
// lag is chosen (common/score_range.hpp).
#pragma once
#include <cstddef>
#include <cstdint>

#include "common/progress.hpp"
#include "common/simd_level.hpp"

namespace pyshape {

// Direct evaluation: (2L + 1) dot products per pair. Best for small L.
// score and lag are n x m, row-major. With symmetric (V == U), pairs (i, j)
// for j < i are taken from (j, i) with the lag negated.
void lagged_direct(const KernelTable& kt, const float* U, size_t n, const float* V, size_t m, size_t T, size_t L,
                   bool symmetric, float* score, int32_t* lag, int n_threads,
                   const ProgressFn& progress);

// FFT evaluation (lagged_fft.cpp): one real FFT per row, then per pair a
// spectra product, an inverse real FFT of length N = 2 M >= T + L and a scan
// of the 2L + 1 lags. Best for large L. Same arguments and conventions as
// lagged_direct; scores agree with it to float32 FFT rounding (~1e-6 for
// unit-norm rows), so exactly tied lags may resolve differently.
void lagged_fft(const FftKernels& fk, const float* U, size_t n, const float* V, size_t m, size_t T, size_t L,
                bool symmetric, float* score, int32_t* lag, int n_threads,
                const ProgressFn& progress);

// M (half the real FFT length) that lagged_fft uses: the smallest 2^a 3^b 5^c
// with 2 M >= T + L.
size_t lagged_fft_half_length(size_t T, size_t L);

// Fills the strictly lower triangle of the n x n (score, lag) matrices from
// the upper one, with the lag negated (the symmetric case). Tiled, so both
// sides are read and written in cache-sized blocks.
void lagged_mirror(float* score, int32_t* lag, size_t n);

enum class LaggedMethod { kAuto, kDirect, kFft };

// Work per parallel item of both paths, in multiply-adds of the direct path
// (about 0.3 ms on one core with AVX2, 1 ms scalar): items are a row against a chunk of columns sized to it, so
// that progress callbacks, and the Ctrl-C check they carry, run every few
// milliseconds however long one row against all columns takes.
constexpr double kItemMacs = double(1 << 22);

// Multiply-adds of the direct path for one pair: sum over |s| <= L of T - |s|.
double lagged_direct_macs(size_t T, size_t L);

// Spectrum panels (W pairs each) of half-length M per item of the FFT path:
// about kItemMacs worth of time by the cost model.
size_t lagged_fft_panels_per_item(size_t M, size_t W);

// Whether kAuto takes the FFT path for series of length T and max lag L
// with FFT kernels fk (a measured cost model; see lagged.cpp).
bool lagged_prefers_fft(const FftKernels& fk, size_t T, size_t L);

// lagged_direct or lagged_fft, as method says (kAuto: lagged_prefers_fft),
// with the kernels of one SIMD level (read once by the caller).
void lagged_correlation(const SimdTables& simd, const float* U, size_t n, const float* V, size_t m, size_t T, size_t L,
                        bool symmetric, float* score, int32_t* lag, int n_threads,
                        const ProgressFn& progress, LaggedMethod method);

}  // namespace pyshape
