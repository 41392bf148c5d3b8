#include "correlate/pearson.hpp"

#include <algorithm>
#include <limits>
#include <numeric>
#include <vector>

#include "common/parallel.hpp"
#include "common/row_chunks.hpp"
#include <stdexcept>
#include "common/score_range.hpp"
#include "correlate/row_heaps.hpp"

namespace pyshape {

size_t row_block(const KernelTable& kt) {
  size_t l = std::lcm<size_t>(kt.mr, kt.nr);
  return l * std::max<size_t>(1, 192 / l);
}

void pearson_matrix(const KernelTable& kt, const float* U, size_t n, const float* V, size_t m, size_t T, bool symmetric,
                    float* out, int n_threads, const ProgressFn& progress) {
  PackedRows P = pack_rows(V, m, T, T, kt.nr, n_threads);
  const size_t mb = row_block(kt);
  const size_t blocks = (n + mb - 1) / mb;
  // Each block of C is computed into a small contiguous buffer and then
  // copied out: written in place, its rows would sit m floats apart, and for
  // some m (e.g. 20,000: 80 KB, a multiple of 256 cache lines) they map to a
  // few L2 sets and can evict each other on every k-chunk.
  const size_t group_cols = kPanelsPerGroup * kt.nr;
  // Work items: a row block against a range of whole panel groups, of about
  // kItemMacs multiply-adds (a row block against all of V can take seconds,
  // and Ctrl-C is only seen between items). Group boundaries are those of a
  // whole-row sweep, so every entry is computed exactly as before. The row
  // block is packed again for each of its items: mb T floats per kItemMacs.
  constexpr double kItemMacs = double(1 << 28);
  const size_t np = P.view.n_panels();
  const double group_macs = static_cast<double>(mb) * group_cols * T;
  const size_t chunk = kPanelsPerGroup * static_cast<size_t>(std::max(1.0, kItemMacs / group_macs));
  // mb is a multiple of nr, so in the symmetric case panel i0 / nr starts
  // exactly at column i0 (the diagonal block).
  const RowChunks items(blocks, np, chunk, [&](size_t b) { return symmetric ? b * mb / kt.nr : 0; });
  const int threads = std::max(1, std::min<int>(resolve_threads(n_threads), static_cast<int>(std::min<size_t>(items.items(), 1 << 20))));
  std::vector<std::vector<float>> abuf(threads, std::vector<float>(packed_floats(mb, T, kt.mr)));
  std::vector<std::vector<float>> cbuf(threads, std::vector<float>(mb * group_cols));
  parallel_for(
      items.items(), threads,
      [&](size_t item, int tid) {
        size_t b, p0, p1;
        items.item(item, b, p0, p1);
        const size_t i0 = b * mb, rows = std::min(mb, n - i0), i1 = i0 + rows;
        pack_panels(U + i0 * T, rows, T, T, kt.mr, abuf[tid].data());
        PanelView A{abuf[tid].data(), rows, T, static_cast<size_t>(kt.mr)};
        float* C = cbuf[tid].data();
        for (size_t g = p0; g < p1; g += kPanelsPerGroup) {
          const size_t g1 = std::min(p1, g + kPanelsPerGroup);
          const size_t c0 = g * kt.nr, c1 = std::min(m, g1 * kt.nr);
          gemm_block(kt, A, P.view, g, g1, C, group_cols);
          for (size_t r = 0; r < rows; ++r) clamp_corr(C + r * group_cols, c1 - c0);
          for (size_t r = 0; r < rows; ++r)
            std::copy(C + r * group_cols, C + r * group_cols + (c1 - c0), out + (i0 + r) * m + c0);
          if (!symmetric) continue;
          // Mirror the columns right of the diagonal block into the rows below.
          for (size_t j = std::max(c0, i1); j < c1; ++j) {
            float* dst = out + j * m + i0;
            const float* src = C + (j - c0);
            for (size_t r = 0; r < rows; ++r) dst[r] = src[r * group_cols];
          }
        }
      },
      progress);
}

void topk_bruteforce(const KernelTable& kt, const float* Q, size_t n_queries, size_t ldq, const PanelView& db, int k,
                     int64_t self_offset, const TopKOutput& out, int n_threads,
                     const ProgressFn& progress) {
  if (db.w != static_cast<size_t>(kt.nr)) throw std::logic_error("topk_bruteforce: db panels do not match the kernels");
  const size_t mb = row_block(kt);
  const size_t blocks = (n_queries + mb - 1) / mb;
  const size_t group_cols = kPanelsPerGroup * kt.nr;
  const int threads = std::max(1, std::min<int>(resolve_threads(n_threads), static_cast<int>(blocks)));
  std::vector<std::vector<float>> cbuf(threads, std::vector<float>(mb * group_cols));
  std::vector<std::vector<float>> abuf(threads, std::vector<float>(packed_floats(mb, ldq, kt.mr)));
  std::vector<std::vector<uint32_t>> sel(threads, std::vector<uint32_t>(group_cols));

  parallel_for(
      blocks, threads,
      [&](size_t b, int tid) {
        size_t i0 = b * mb, rows = std::min(mb, n_queries - i0);
        std::vector<RowHeaps> heaps;
        heaps.reserve(rows);
        for (size_t r = 0; r < rows; ++r) heaps.emplace_back(out, i0 + r, k);
        float* C = cbuf[tid].data();
        pack_panels(Q + i0 * ldq, rows, db.K, ldq, kt.mr, abuf[tid].data());
        PanelView A{abuf[tid].data(), rows, db.K, static_cast<size_t>(kt.mr)};
        uint32_t* idx = sel[tid].data();
        for (size_t g = 0; g < db.n_panels(); g += kPanelsPerGroup) {
          size_t g1 = std::min(db.n_panels(), g + kPanelsPerGroup);
          size_t col0 = g * db.w, cols = std::min(db.n, g1 * db.w) - col0;
          gemm_block(kt, A, db, g, g1, C, group_cols);
          for (size_t r = 0; r < rows; ++r) {
            RowHeaps& h = heaps[r];
            const float* c = C + r * group_cols;
            size_t cnt = kt.select_outside(c, cols, h.hi(), h.lo(), idx);
            int64_t self = self_offset >= 0 ? self_offset + static_cast<int64_t>(i0 + r) : -1;
            for (size_t t = 0; t < cnt; ++t) {
              int64_t j = static_cast<int64_t>(col0 + idx[t]);
              if (j != self) h.offer(c[idx[t]], j);
            }
          }
        }
        for (auto& h : heaps) h.finish();
      },
      progress);
}

}  // namespace pyshape
