#include "cluster/cluster.hpp"

#include <algorithm>
#include <cstring>
#include <mutex>
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

namespace {

// Blocks of rows finished in any order, handed to fn(block) one at a time and
// in block order: a finished block whose predecessors are all done is taken
// by the thread that finished it, or, when another thread is already handing
// blocks over, by that thread before it stops. No thread ever waits for
// another's block.
class InOrder {
 public:
  explicit InOrder(size_t blocks) : done_(blocks, 0) {}
  template <class Fn>
  void finished(size_t b, Fn&& fn) {
    std::unique_lock<std::mutex> lock(mu_);
    done_[b] = 1;
    if (busy_) return;
    busy_ = true;
    while (next_ < done_.size() && done_[next_]) {
      const size_t item = next_++;
      lock.unlock();
      fn(item);
      lock.lock();
    }
    busy_ = false;
  }

 private:
  std::mutex mu_;
  std::vector<uint8_t> done_;
  size_t next_ = 0;
  bool busy_ = false;
};

// Rows per work item of the assignment: small enough that the item's rows
// are still in L2 when their sums are added, large enough that the scores of
// every panel group are computed from a row tile while it is in L1.
constexpr size_t kAssignRows = 64;
// Packed centroid panels whose whole length K a row tile is run against
// before the next group: the group (K x nr floats each) stays in L2.
constexpr size_t kGroupBytes = size_t(384) << 10;

void assign_impl(const KernelTable& kt, const PackKernels* pk, const float* U, size_t n, size_t T, const float* C,
                 size_t k, int64_t* label, float* best, double* sums, int n_threads,
                 const ProgressFn& progress) {
  if (sums) std::fill(sums, sums + k * T, 0.0);
  if (n == 0 || k == 0) return;
  const int nt = resolve_threads(n_threads);
  // Centroids packed once (k x T: at most a few MiB), read by every item.
  PackedRows P = pack_rows(C, k, T, T, kt.nr, 1);
  const size_t mr = kt.mr, nr = kt.nr, np = P.view.n_panels();
  const size_t ldc = np * nr;
  const size_t group = std::max<size_t>(1, kGroupBytes / (std::max<size_t>(T, 1) * nr * sizeof(float)));
  const size_t items = (n + kAssignRows - 1) / kAssignRows;
  const int threads = std::max(1, std::min<int>(nt, static_cast<int>(items)));
  std::vector<std::vector<float>> sbuf(threads, std::vector<float>(kAssignRows * ldc));
  InOrder in_order(items);
  // Adds the rows of item b to their clusters' sums, in row order (the
  // pack kernels' double accumulation: acc[t] += double(x[t]), as label_sums).
  auto add_rows = [&](size_t b) {
    const size_t i1 = std::min(n, (b + 1) * kAssignRows);
    float peak;
    for (size_t i = b * kAssignRows; i < i1; ++i)
      pk->row_stats(U + i * T, T, sums + static_cast<size_t>(label[i]) * T, &peak);
  };
  parallel_for(
      items, threads,
      [&](size_t b, int tid) {
        const size_t i0 = b * kAssignRows, rows = std::min(kAssignRows, n - i0);
        float* S = sbuf[tid].data();
        // Per entry the same chain as gemm_block: chunks of kKC in increasing
        // k, the first overwriting, the next added (bitwise pearson_matrix).
        for (size_t g0 = 0; g0 < np; g0 += group) {
          const size_t g1 = std::min(np, g0 + group);
          for (size_t r0 = 0; r0 < rows; r0 += mr) {
            const int m_valid = static_cast<int>(std::min(mr, rows - r0));
            const float* A = U + (i0 + r0) * T;
            for (size_t k0 = 0; k0 < T; k0 += kKC) {
              const size_t kc = std::min(kKC, T - k0);
              for (size_t p = g0; p < g1; ++p) {
                const int n_valid = static_cast<int>(std::min(nr, k - p * nr));
                kt.micro_rows(A + k0, T, m_valid, P.view.panel(p) + k0 * nr, kc, S + r0 * ldc + p * nr, ldc,
                              n_valid, k0 > 0);
              }
            }
          }
        }
        for (size_t r = 0; r < rows; ++r) {
          // Clamped first (as pearson() returns them), so that the label is
          // the argmin of the distances transform() reports.
          clamp_corr(S + r * ldc, k);
          const size_t arg = first_argmax(S + r * ldc, k);
          label[i0 + r] = static_cast<int64_t>(arg);
          best[i0 + r] = S[r * ldc + arg];
        }
        if (sums) in_order.finished(b, add_rows);
      },
      progress);
}

}  // namespace

void corr_assign(const KernelTable& kt, const float* U, size_t n, size_t T, const float* C, size_t k, int64_t* label,
                 float* best, int n_threads, const ProgressFn& progress) {
  assign_impl(kt, nullptr, U, n, T, C, k, label, best, nullptr, n_threads, progress);
}

void corr_assign_sums(const SimdTables& simd, const float* U, size_t n, size_t T, const float* C, size_t k,
                      int64_t* label, float* best, double* sums, int n_threads, const ProgressFn& progress) {
  assign_impl(simd.k, &simd.pack, U, n, T, C, k, label, best, sums, n_threads, progress);
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
  // The centroids are the first operand and the rows the second: the FFT
  // path runs W pairs per inverse transform (one per SIMD lane) of one row
  // of the first operand against a panel of W rows of the second, so with
  // the rows there every lane is used (k = 10 centroids on 16 lanes would
  // leave 6 of 16 idle). ncc(c, u)[s] = ncc(u, c)[-s]: the lag is negated.
  // Rows per block: the block's spectra (8 (M + 1) bytes a row) take about
  // 2 MiB, so that they stay in cache while every centroid is run against
  // them (a block as large as the score matrices allow, 57 MB of spectra at
  // n = 5000, T = 1440, was read from memory once per centroid: 1.45x the
  // time; 8 MiB blocks 1.25x, 1 MiB 1.03x, on Zen 4 with 1 MiB L2), and its
  // score and lag matrices at most ~32 MiB.
  const size_t M = lagged_fft_half_length(T, std::min(L, T - 1));
  const size_t cache_rows = std::max<size_t>(64, ((size_t(2) << 20) / (8 * (M + 1))) / 16 * 16);
  const size_t block = std::min(cache_rows, std::max<size_t>(256, (size_t(4) << 20) / k));
  const size_t blocks = (n + block - 1) / block;
  const int nt = resolve_threads(n_threads);
  // Threads take whole blocks (each block's spectra then stay in its core's
  // cache, and nothing is started or planned per block on other threads);
  // with fewer blocks than threads, the blocks one after the other, each on
  // all threads. Every pair's score is computed the same way either way.
  const bool by_block = blocks >= static_cast<size_t>(nt);
  const int workers = by_block ? nt : 1;
  std::vector<std::vector<float>> score(workers, std::vector<float>(std::min(block, n) * k));
  std::vector<std::vector<int32_t>> lag(workers, std::vector<int32_t>(std::min(block, n) * k));
  auto run_block = [&](size_t b, int tid, int inner, const ProgressFn& p) {
    const size_t i0 = b * block, rows = std::min(block, n - i0);
    float* sc = score[tid].data();
    int32_t* lg = lag[tid].data();
    lagged_correlation(simd, C, k, U + i0 * T, rows, T, L, false, sc, lg, inner, p, LaggedMethod::kAuto);
    for (size_t r = 0; r < rows; ++r) {
      size_t arg = 0;  // the first of the largest: ties go to the lower cluster number
      for (size_t j = 1; j < k; ++j)
        if (sc[j * rows + r] > sc[arg * rows + r]) arg = j;
      label[i0 + r] = static_cast<int64_t>(arg);
      best[i0 + r] = sc[arg * rows + r];
      shift[i0 + r] = -lg[arg * rows + r];
    }
  };
  if (by_block) {
    ProgressFn p;
    if (progress) p = [&](size_t d, size_t tot) { progress(d * n / std::max<size_t>(tot, 1), n); };
    parallel_for(blocks, nt, [&](size_t b, int tid) { run_block(b, tid, 1, nullptr); }, p);
  } else {
    for (size_t b = 0; b < blocks; ++b) {
      const size_t i0 = b * block, rows = std::min(block, n - i0);
      ProgressFn p;
      if (progress) p = [&](size_t d, size_t tot) { progress(i0 + d * rows / std::max<size_t>(tot, 1), n); };
      run_block(b, 0, nt, p);
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
