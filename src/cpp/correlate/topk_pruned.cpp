#include "correlate/topk_pruned.hpp"

#include <algorithm>
#include <atomic>
#include <vector>

#include "common/parallel.hpp"
#include <stdexcept>
#include "correlate/row_heaps.hpp"

namespace pyshape {

void topk_pruned(const KernelTable& kt, const LowRankSide& q, const LowRankSide& db, const PanelView& db_full, size_t T,
                 size_t r, int k, int64_t self_offset, float margin, const TopKOutput& out,
                 int n_threads, const ProgressFn& progress, PruneStats* stats) {
  const size_t mr = kt.mr, nr = kt.nr;
  if (db_full.w != nr) throw std::logic_error("topk_pruned: db panels do not match the kernels");
  // Database projections packed once; residuals padded to whole panels (the
  // padded columns are masked out below).
  PackedRows dbp = pack_rows(db.proj, db.n, r, r, nr, n_threads);
  std::vector<float> db_res(dbp.view.n_panels() * nr, 0.f);
  std::copy(db.res, db.res + db.n, db_res.begin());

  // Query rows per work item: few enough that their packed rows (mb * T
  // floats) stay in L2 beside a database panel while candidates are scored.
  const size_t mb = std::max<size_t>(mr, std::min<size_t>(row_block(kt), (256u << 10) / (T * 4) / mr * mr));
  const size_t blocks = (q.n + mb - 1) / mb;
  const int threads = std::max(1, std::min<int>(resolve_threads(n_threads), static_cast<int>(blocks)));
  struct Scratch {
    std::vector<float> apack, afull, hi, lo, scores;
    std::vector<uint32_t> mask;
    std::vector<size_t> pending;  // per row: up to kMaxRowPanels panels waiting to be scored
    std::vector<int> n_pending;
  };
  constexpr int kMaxPending = 6;  // = kMaxRowPanels of every level
  std::vector<Scratch> scratch(threads);
  for (auto& s : scratch) {
    s.apack.resize(packed_floats(mb, r, mr));
    s.afull.resize(packed_floats(mb, T, mr));
    s.hi.resize(mb + mr);
    s.lo.resize(mb + mr);
    s.scores.resize(std::max<size_t>(mr, kMaxPending) * nr);
    s.mask.resize(mr);
    s.pending.resize(mb * kMaxPending);
    s.n_pending.resize(mb);
  }
  std::atomic<uint64_t> rows_total{0}, dense_total{0};

  parallel_for(
      blocks, threads,
      [&](size_t b, int tid) {
        Scratch& s = scratch[tid];
        const size_t i0 = b * mb, rows = std::min(mb, q.n - i0);
        pack_panels(q.proj + i0 * r, rows, r, r, mr, s.apack.data());
        if (q.order)
          pack_panels(q.rows, rows, T, T, mr, s.afull.data(), q.order + i0);
        else
          pack_panels(q.rows + i0 * T, rows, T, T, mr, s.afull.data());
        std::vector<RowHeaps> heaps;
        heaps.reserve(rows);
        for (size_t i = 0; i < rows; ++i) heaps.emplace_back(out, i0 + i, k);
        auto refresh = [&](size_t i) {
          s.hi[i] = heaps[i].hi() - margin;
          s.lo[i] = heaps[i].lo() + margin;
        };
        for (size_t i = 0; i < rows; ++i) {
          refresh(i);
          s.n_pending[i] = 0;
        }
        auto self_of = [&](size_t i) {
          return self_offset >= 0 ? self_offset + static_cast<int64_t>(i0 + i) : int64_t{-1};
        };
        // Offers every valid pair of row i against panel p (scores at sc).
        auto offer_panel = [&](size_t i, size_t p, const float* sc) {
          const int64_t self = self_of(i);
          const size_t cols = std::min(nr, db.n - p * nr);
          for (size_t c = 0; c < cols; ++c) {
            const int64_t j = static_cast<int64_t>(p * nr + c);
            if (j != self) heaps[i].offer(sc[c], db.row(j));
          }
        };
        uint64_t row_jobs = 0, dense = 0;
        // Scores row i against its pending panels (one row_panels call).
        auto flush = [&](size_t i) {
          const int np = s.n_pending[i];
          if (np == 0) return;
          const float* panels[kMaxPending];
          for (int t = 0; t < np; ++t) panels[t] = db_full.panel(s.pending[i * kMaxPending + t]);
          kt.row_panels(s.afull.data() + (i / mr) * T * mr + i % mr, mr, panels, np, T, kKC, s.scores.data());
          for (int t = 0; t < np; ++t) offer_panel(i, s.pending[i * kMaxPending + t], s.scores.data() + t * nr);
          s.n_pending[i] = 0;
          row_jobs += np;
          refresh(i);
        };

        const size_t a_panels = (rows + mr - 1) / mr;
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
            if (flagged == 0) continue;
            if (flagged >= kDenseTileMin) {
              // The whole tile in the blocked product, exactly as brute force runs it.
              const int n_valid = static_cast<int>(std::min<size_t>(nr, db.n - j0));
              for (size_t k0 = 0; k0 < T; k0 += kKC)
                kt.micro(s.afull.data() + ip * T * mr + k0 * mr, m_valid, db_full.panel(p) + k0 * nr,
                         std::min(kKC, T - k0), s.scores.data(), nr, n_valid, k0 > 0);
              for (int t = 0; t < m_valid; ++t) {
                offer_panel(ib + t, p, s.scores.data() + t * nr);
                refresh(ib + t);
              }
              ++dense;
              continue;
            }
            for (int t = 0; t < m_valid; ++t) {
              if (!(s.mask[t] & valid)) continue;
              const size_t i = ib + t;
              s.pending[i * kMaxPending + s.n_pending[i]++] = p;
              if (s.n_pending[i] == kMaxPending) flush(i);
            }
          }
        }
        for (size_t i = 0; i < rows; ++i) flush(i);
        for (auto& h : heaps) h.finish();
        rows_total.fetch_add(row_jobs, std::memory_order_relaxed);
        dense_total.fetch_add(dense, std::memory_order_relaxed);
      },
      progress);
  if (stats) {
    stats->row_panels = rows_total.load();
    stats->dense_tiles = dense_total.load();
  }
}

}  // namespace pyshape
