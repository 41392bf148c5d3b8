#include "cluster/cluster.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/parallel.hpp"
#include "common/score_range.hpp"
#include "common/simd_level.hpp"
#include "correlate/gemm.hpp"
#include "correlate/lagged.hpp"
#include "correlate/pearson.hpp"

namespace pyshape {

namespace {
// Index of the largest of s[0..k); ties go to the lower cluster number.
size_t first_argmax(const float* s, size_t k) {
  size_t arg = 0;
  for (size_t j = 1; j < k; ++j)
    if (s[j] > s[arg]) arg = j;
  return arg;
}
}  // namespace

void corr_assign(const KernelTable& kt, const float* U, size_t n, size_t T, const float* C, size_t k, int64_t* label,
                 float* best, int n_threads, const ProgressFn& progress) {
  if (n == 0 || k == 0) return;
  const int nt = resolve_threads(n_threads);
  // Centroids packed once (k x T: at most a few MiB), read by every block.
  PackedRows P = pack_rows(C, k, T, T, kt.nr, 1);
  const size_t mb = row_block(kt);
  const size_t blocks = (n + mb - 1) / mb;
  const int threads = std::max(1, std::min<int>(nt, static_cast<int>(blocks)));
  const size_t ldc = P.view.n_panels() * kt.nr;
  std::vector<std::vector<float>> abuf(threads, std::vector<float>(packed_floats(mb, T, kt.mr)));
  std::vector<std::vector<float>> cbuf(threads, std::vector<float>(mb * ldc));
  parallel_for(
      blocks, threads,
      [&](size_t b, int tid) {
        size_t i0 = b * mb, rows = std::min(mb, n - i0);
        pack_panels(U + i0 * T, rows, T, T, kt.mr, abuf[tid].data());
        PanelView A{abuf[tid].data(), rows, T, static_cast<size_t>(kt.mr)};
        float* S = cbuf[tid].data();
        gemm_block(kt, A, P.view, 0, P.view.n_panels(), S, ldc);
        for (size_t r = 0; r < rows; ++r) {
          // Clamped first (as pearson() returns them), so that the label is
          // the argmin of the distances transform() reports.
          clamp_corr(S + r * ldc, k);
          const size_t arg = first_argmax(S + r * ldc, k);
          label[i0 + r] = static_cast<int64_t>(arg);
          best[i0 + r] = S[r * ldc + arg];
        }
      },
      progress);
}

void label_sums(const float* U, size_t n, size_t T, const int64_t* label, size_t k, double* sums,
                int64_t* counts, int n_threads) {
  std::fill(sums, sums + k * T, 0.0);
  std::fill(counts, counts + k, 0);
  for (size_t i = 0; i < n; ++i) ++counts[label[i]];
  // Members of each cluster in row order (a counting sort), then one work
  // item per cluster summing its rows in that order: every row is read once,
  // whole, and every sum has the same order for any thread count.
  std::vector<size_t> start(k + 1, 0);
  for (size_t j = 0; j < k; ++j) start[j + 1] = start[j] + static_cast<size_t>(counts[j]);
  std::vector<size_t> members(n), fill(start.begin(), start.end() - 1);
  for (size_t i = 0; i < n; ++i) members[fill[label[i]]++] = i;
  parallel_for(k, n_threads, [&](size_t j, int) {
    double* s = sums + j * T;
    for (size_t p = start[j]; p < start[j + 1]; ++p) {
      const float* u = U + members[p] * T;
      for (size_t t = 0; t < T; ++t) s[t] += u[t];
    }
  });
}

void sbd_assign(const SimdTables& simd, const float* U, size_t n, size_t T, const float* C, size_t k, size_t L,
                int64_t* label, float* best, int32_t* shift, int n_threads,
                const ProgressFn& progress) {
  if (n == 0 || k == 0) return;
  // Rows per block: the block's score and lag matrices take at most ~32 MiB.
  const size_t block = std::max<size_t>(256, (size_t(4) << 20) / k);
  std::vector<float> score(std::min(block, n) * k);
  std::vector<int32_t> lag(std::min(block, n) * k);
  for (size_t i0 = 0; i0 < n; i0 += block) {
    const size_t rows = std::min(block, n - i0);
    ProgressFn p;
    if (progress) p = [&](size_t d, size_t tot) { progress(i0 + d * rows / std::max<size_t>(tot, 1), n); };
    lagged_correlation(simd, U + i0 * T, rows, C, k, T, L, false, score.data(), lag.data(), n_threads, p,
                       LaggedMethod::kAuto);
    for (size_t r = 0; r < rows; ++r) {
      const size_t arg = first_argmax(score.data() + r * k, k);
      label[i0 + r] = static_cast<int64_t>(arg);
      best[i0 + r] = score[r * k + arg];
      shift[i0 + r] = lag[r * k + arg];
    }
  }
  if (progress) progress(n, n);
}

void align_rows(const float* U, size_t T, const int64_t* rows, const int32_t* shift, size_t m,
                float* out, int n_threads) {
  constexpr size_t kRowsPerItem = 256;
  const size_t items = (m + kRowsPerItem - 1) / kRowsPerItem;
  const long long LT = static_cast<long long>(T);
  parallel_for(items, n_threads, [&](size_t item, int) {
    const size_t r1 = std::min(m, (item + 1) * kRowsPerItem);
    for (size_t r = item * kRowsPerItem; r < r1; ++r) {
      const float* u = U + static_cast<size_t>(rows[r]) * T;
      float* o = out + r * T;
      const long long s = shift[r];
      // o[t] = u[t + s] for t in [max(0, -s), min(T, T - s)).
      const long long lo = std::max(0LL, -s), hi = std::min(LT, LT - s);
      if (hi <= lo) {
        std::fill(o, o + T, 0.f);
        continue;
      }
      std::fill(o, o + lo, 0.f);
      std::memcpy(o + lo, u + lo + s, static_cast<size_t>(hi - lo) * sizeof(float));
      std::fill(o + hi, o + T, 0.f);
    }
  });
}

}  // namespace pyshape
