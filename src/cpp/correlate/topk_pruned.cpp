#include "correlate/topk_pruned.hpp"

#include <algorithm>
#include <atomic>
#include <vector>

#include "common/parallel.hpp"
#include "common/simd_level.hpp"
#include "correlate/row_heaps.hpp"

namespace pyshape {

void topk_pruned(const LowRankSide& q, const LowRankSide& db, const PanelView* db_full, size_t T,
                 size_t r, int k, int64_t self_offset, float margin, const TopKOutput& out,
                 int n_threads, const ProgressFn& progress, PruneStats* stats) {
  const KernelTable& kt = kernels();
  const size_t mr = kt.mr, nr = kt.nr;
  // Database projections packed once; residuals padded to whole panels (the
  // padded columns are masked out below).
  PackedRows dbp = pack_rows(db.proj, db.n, r, r, nr, n_threads);
  std::vector<float> db_res(dbp.view.n_panels() * nr, 0.f);
  std::copy(db.res, db.res + db.n, db_res.begin());

  // Query rows per work item: few enough that their full rows (mb * T floats)
  // stay in L2 next to one database panel while candidates are scored.
  const size_t mb = std::max<size_t>(mr, std::min<size_t>(row_block(kt), (256u << 10) / (T * 4) / mr * mr));
  const size_t blocks = (q.n + mb - 1) / mb;
  const int threads = std::max(1, std::min<int>(resolve_threads(n_threads), static_cast<int>(blocks)));
  struct Scratch {
    std::vector<float> apack, afull, hi, lo, tile;
    std::vector<uint32_t> mask;
  };
  std::vector<Scratch> scratch(threads);
  for (auto& s : scratch) {
    s.apack.resize(packed_floats(mb, r, mr));
    if (db_full) s.afull.resize(packed_floats(mb, T, mr));
    s.hi.resize(mb + mr);
    s.lo.resize(mb + mr);
    s.tile.resize(mr * nr);
    s.mask.resize(mr);
  }
  std::atomic<uint64_t> exact_total{0}, dense_total{0};


  parallel_for(
      blocks, threads,
      [&](size_t b, int tid) {
        Scratch& s = scratch[tid];
        const size_t i0 = b * mb, rows = std::min(mb, q.n - i0);
        pack_panels(q.proj + i0 * r, rows, r, r, mr, s.apack.data());
        if (db_full && q.order) pack_panels(q.rows, rows, T, T, mr, s.afull.data(), q.order + i0);
        if (db_full && !q.order) pack_panels(q.rows + i0 * T, rows, T, T, mr, s.afull.data());
        std::vector<RowHeaps> heaps;
        heaps.reserve(rows);
        for (size_t i = 0; i < rows; ++i) heaps.emplace_back(out, i0 + i, k);
        auto refresh = [&](size_t i) {
          s.hi[i] = heaps[i].hi() - margin;
          s.lo[i] = heaps[i].lo() + margin;
        };
        for (size_t i = 0; i < rows; ++i) refresh(i);
        const size_t a_panels = (rows + mr - 1) / mr;
        uint64_t exact = 0, dense = 0;
        for (size_t p = 0; p < dbp.view.n_panels(); ++p) {
          const float* Bp = dbp.view.panel(p);
          const float* rb = db_res.data() + p * nr;
          const size_t j0 = p * nr;
          const uint32_t valid = db.n - j0 >= 32 ? ~0u : ((1u << (db.n - j0)) - 1u);
          for (size_t ip = 0; ip < a_panels; ++ip) {
            const size_t ib = ip * mr;
            const int m_valid = static_cast<int>(std::min(mr, rows - ib));
            if (!kt.bound_tile(s.apack.data() + ip * r * mr, m_valid, Bp, r, q.res + i0 + ib, rb,
                               s.hi.data() + ib, s.lo.data() + ib, s.mask.data()))
              continue;
            int flagged = 0;
            for (int t = 0; t < m_valid; ++t) flagged += __builtin_popcount(s.mask[t] & valid);
            if (db_full && flagged >= kDenseTileMin) {
              // Score the whole tile in the product and offer every pair: the
              // extra exact scores can only raise the thresholds sooner.
              const int n_valid = static_cast<int>(std::min<size_t>(nr, db.n - j0));
              for (size_t k0 = 0; k0 < T; k0 += kKC)
                kt.micro(s.afull.data() + ip * T * mr + k0 * mr, m_valid,
                         db_full->panel(p) + k0 * nr, std::min(kKC, T - k0), s.tile.data(), nr,
                         n_valid, k0 > 0);
              for (int t = 0; t < m_valid; ++t) {
                const size_t i = ib + t;
                const int64_t self = self_offset >= 0 ? self_offset + static_cast<int64_t>(i0 + i) : -1;
                for (int c = 0; c < n_valid; ++c) {
                  const int64_t j = static_cast<int64_t>(j0) + c;
                  if (j != self) heaps[i].offer(s.tile[t * nr + c], db.row(j));
                }
                refresh(i);
              }
              ++dense;
              continue;
            }
            for (int t = 0; t < m_valid; ++t) {
              uint32_t m = s.mask[t] & valid;
              if (!m) continue;
              const size_t i = ib + t;
              const float* qi = q.rows + q.row(i0 + i) * T;
              const int64_t self = self_offset >= 0 ? self_offset + static_cast<int64_t>(i0 + i) : -1;
              while (m) {
                const int64_t j = static_cast<int64_t>(j0) + __builtin_ctz(m);
                m &= m - 1;
                if (j == self) continue;
                const int64_t src = db.row(j);
                heaps[i].offer(kt.dot(qi, db.rows + src * T, T), src);
                ++exact;
              }
              refresh(i);
            }
          }
        }
        for (auto& h : heaps) h.finish();
        exact_total.fetch_add(exact, std::memory_order_relaxed);
        dense_total.fetch_add(dense, std::memory_order_relaxed);
      },
      progress);
  if (stats) {
    stats->exact_pairs = exact_total.load();
    stats->dense_tiles = dense_total.load();
  }
}

}  // namespace pyshape
