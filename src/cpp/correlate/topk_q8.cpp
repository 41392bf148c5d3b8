#include "correlate/topk_q8.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "common/parallel.hpp"
#include "correlate/gemm.hpp"
#include "correlate/row_heaps.hpp"

namespace pyshape {

namespace {
// x rounded up (down) to float32.
float up(double x) {
  float f = static_cast<float>(x);
  return static_cast<double>(f) < x ? std::nextafter(f, std::numeric_limits<float>::infinity()) : f;
}
float down(double x) {
  float f = static_cast<float>(x);
  return static_cast<double>(f) > x ? std::nextafter(f, -std::numeric_limits<float>::infinity()) : f;
}
constexpr double kRel = 1 + 1e-9;  // covers the float64 rounding of the norms below
}  // namespace

void q8_quantize_row(const float* u, size_t T, int amax, int8_t* q, float& s, float& A, float& B, float& N) {
  double m = 0, nn = 0;
  for (size_t k = 0; k < T; ++k) {
    m = std::max(m, std::fabs(static_cast<double>(u[k])));
    nn += static_cast<double>(u[k]) * u[k];
  }
  N = up(std::sqrt(nn) * kRel);
  s = static_cast<float>(m / amax);
  if (!(s > 0) || !std::isfinite(s)) {  // a zero row (or one too tiny to scale): all residual
    s = 0.f;
    std::fill(q, q + T, int8_t{0});
    A = N;
    B = 0.f;
    return;
  }
  double rr = 0, qq = 0;
  for (size_t k = 0; k < T; ++k) {
    double t = std::nearbyint(static_cast<double>(u[k]) / s);
    t = std::min<double>(amax, std::max<double>(-amax, t));
    q[k] = static_cast<int8_t>(t);
    const double r = static_cast<double>(u[k]) - static_cast<double>(s) * t;  // exact in float64
    rr += r * r;
    qq += t * t;
  }
  A = up(std::sqrt(rr) * kRel);
  B = up(static_cast<double>(s) * std::sqrt(qq) * kRel);
}

double q8_delta(size_t T, double n_q, double n_db, double b_q, double b_db, double a_q, double r_db) {
  const double u = std::ldexp(1.0, -24);
  const double m = static_cast<double>(kKC + (T + kKC - 1) / kKC + 2);
  const double gamma = m * u / (1 - m * u);
  // float32 score vs the real dot product, then the epilogue's roundings (the
  // conversion and two products of a: 3u |s_i s_j D| <= 3u B_i B_j; e: 2u e;
  // the sum compared: u |a + e|), with room to spare.
  const double epi = 8 * u * (b_q * b_db + a_q * n_db + b_q * r_db);
  return (gamma * n_q * n_db + epi) * 1.01 + 1e-12;
}

void topk_q8(const KernelTable& kt, const float* Q, size_t nq, const float* DB, size_t n, size_t T, int k,
             int64_t self_offset, const TopKOutput& out, int n_threads, const ProgressFn& progress,
             Q8Stats* stats) {
  if (T == 0 || T > kQ8MaxT) throw std::logic_error("topk_q8: rows must have 1..65536 steps");
  const size_t mr8 = kt.q8_mr, nr8 = kt.q8_nr, K4 = (T + 3) / 4;
  const int aoff = kt.q8_aoff;

  // ---- database: signed bytes in panels of nr8 columns (K4 x nr8 x 4), per-column data
  const size_t np8 = (n + nr8 - 1) / nr8;
  std::vector<int8_t> Bq(np8 * K4 * nr8 * 4, 0);
  std::vector<int32_t> bsum(np8 * nr8, 0);
  std::vector<float> bs(np8 * nr8, 0.f), bN(np8 * nr8, 0.f), bR(np8 * nr8, 0.f), bB(np8 * nr8, 0.f);
  parallel_for(np8, n_threads, [&](size_t p, int) {
    std::vector<int8_t> q(T);
    int8_t* P = Bq.data() + p * K4 * nr8 * 4;
    for (size_t c = 0; c < nr8 && p * nr8 + c < n; ++c) {
      const size_t j = p * nr8 + c;
      q8_quantize_row(DB + j * T, T, 127, q.data(), bs[j], bR[j], bB[j], bN[j]);
      int64_t sum = 0;
      for (size_t t = 0; t < T; ++t) {
        sum += q[t];
        P[((t / 4) * nr8 + c) * 4 + t % 4] = q[t];
      }
      bsum[j] = static_cast<int32_t>(aoff * sum);
    }
  });

  // ---- queries: offset bytes in panels of mr8 rows (K4 x mr8 x 4), per-row data
  const size_t npa = (nq + mr8 - 1) / mr8;
  std::vector<uint8_t> Aq(npa * K4 * mr8 * 4, static_cast<uint8_t>(aoff));
  std::vector<float> as(npa * mr8, 0.f), aA(npa * mr8, 0.f), aB(npa * mr8, 0.f), aN(npa * mr8, 0.f);
  parallel_for(npa, n_threads, [&](size_t p, int) {
    std::vector<int8_t> q(T);
    uint8_t* P = Aq.data() + p * K4 * mr8 * 4;
    for (size_t r = 0; r < mr8 && p * mr8 + r < nq; ++r) {
      const size_t i = p * mr8 + r;
      q8_quantize_row(Q + i * T, T, kt.q8_amax, q.data(), as[i], aA[i], aB[i], aN[i]);
      for (size_t t = 0; t < T; ++t) P[((t / 4) * mr8 + r) * 4 + t % 4] = static_cast<uint8_t>(q[t] + aoff);
    }
  });
  auto vmax = [](const std::vector<float>& v) { return v.empty() ? 0.0 : double(*std::max_element(v.begin(), v.end())); };
  const double delta = q8_delta(T, vmax(aN), vmax(bN), vmax(aB), vmax(bB), vmax(aA), vmax(bR));

  // ---- the first columns, scored exactly (as brute force) to start the thresholds
  const size_t group_cols = kPanelsPerGroup * kt.nr;
  size_t W0 = (group_cols + nr8 - 1) / nr8 * nr8;
  W0 = std::min(W0, n);
  PackedRows warm = pack_rows(DB, W0, T, T, kt.nr, n_threads);
  const size_t p0 = W0 == n ? np8 : W0 / nr8;  // first int8 panel (W0 < n is a multiple of nr8)

  size_t mb = row_block(kt);
  mb = std::max(mb / std::lcm(mr8, static_cast<size_t>(kt.mr)), size_t{1}) * std::lcm(mr8, static_cast<size_t>(kt.mr));
  const size_t blocks = (nq + mb - 1) / mb;
  const int threads = std::max(1, std::min<int>(resolve_threads(n_threads), static_cast<int>(blocks)));
  constexpr int kMaxPanels = 6;  // = kMaxRowPanels of every level
  const size_t cap = kMaxPanels * kt.nr;
  // A row's candidates are scored once it has this many (or at the end): often
  // enough that its exact thresholds keep up, in whole float panels.
  static const size_t flush_at_env = [] {
    const char* e = std::getenv("PYSHAPE_Q8_FLUSH");
    return e ? static_cast<size_t>(std::atoi(e)) : size_t{0};
  }();
  const size_t flush_at = std::min(cap, flush_at_env ? flush_at_env : size_t{32});
  const bool want_pos = out.pos_score != nullptr, want_neg = out.neg_score != nullptr;
  struct Scratch {
    std::vector<float> afull, C, scores, hi, lo, bounds, lbh, ubh;
    std::vector<uint32_t> sel, mask;
    std::vector<int64_t> cand;
    std::vector<size_t> n_cand;
  };
  std::vector<Scratch> scratch(threads);
  for (auto& s : scratch) {
    s.afull.resize(packed_floats(mb, T, kt.mr));
    s.C.resize(mb * group_cols);
    s.scores.resize(cap);
    s.hi.resize(mb + mr8);
    s.lo.resize(mb + mr8);
    s.sel.resize(group_cols);
    s.mask.resize(mr8);
    s.cand.resize(mb * cap);
    s.n_cand.resize(mb);
    s.bounds.resize(2 * mr8 * nr8);
    s.lbh.resize(mb * k);
    s.ubh.resize(mb * k);
  }
  std::atomic<uint64_t> cand_total{0};

  parallel_for(
      blocks, threads,
      [&](size_t b, int tid) {
        Scratch& s = scratch[tid];
        const size_t i0 = b * mb, rows = std::min(mb, nq - i0);
        std::vector<RowHeaps> heaps;
        heaps.reserve(rows);
        for (size_t r = 0; r < rows; ++r) heaps.emplace_back(out, i0 + r, k);
        auto self_of = [&](size_t r) {
          return self_offset >= 0 ? self_offset + static_cast<int64_t>(i0 + r) : int64_t{-1};
        };
        // Warm-up: brute force on the first W0 columns.
        pack_panels(Q + i0 * T, rows, T, T, kt.mr, s.afull.data());
        PanelView A{s.afull.data(), rows, T, static_cast<size_t>(kt.mr)};
        gemm_block(kt, A, warm.view, 0, warm.view.n_panels(), s.C.data(), group_cols);
        for (size_t r = 0; r < rows; ++r) {
          const float* c = s.C.data() + r * group_cols;
          const size_t cnt = kt.select_outside(c, W0, heaps[r].hi(), heaps[r].lo(), s.sel.data());
          const int64_t self = self_of(r);
          for (size_t t = 0; t < cnt; ++t)
            if (static_cast<int64_t>(s.sel[t]) != self) heaps[r].offer(c[s.sel[t]], s.sel[t]);
        }
        // Per row, the k largest lower bounds a - e (min-heap) and the k smallest
        // upper bounds a + e (max-heap) of the int8 pairs seen (self excluded):
        // the final k-th best exact score is at least lbk - delta (the k pairs
        // behind it score at least that), so a pair whose a + e + delta cannot
        // reach lbk - delta cannot enter the top-k; likewise for the k-th lowest.
        std::vector<int> lbn(rows, 0), ubn(rows, 0);
        const double delta2 = 2 * delta;
        auto refresh = [&](size_t r) {
          double h = static_cast<double>(heaps[r].hi()) - delta, l = static_cast<double>(heaps[r].lo()) + delta;
          if (want_pos && lbn[r] == k) h = std::max(h, static_cast<double>(s.lbh[r * k]) - delta2);
          if (want_neg && ubn[r] == k) l = std::min(l, static_cast<double>(s.ubh[r * k]) + delta2);
          s.hi[r] = down(h);
          s.lo[r] = up(l);
        };
        auto push_bounds = [&](size_t r, float lb, float ub) {
          bool changed = false;
          if (want_pos) {
            float* hp = s.lbh.data() + r * k;
            if (lbn[r] < k) {
              hp[lbn[r]++] = lb;
              std::push_heap(hp, hp + lbn[r], std::greater<float>());
              changed = lbn[r] == k;
            } else if (lb > hp[0]) {
              std::pop_heap(hp, hp + k, std::greater<float>());
              hp[k - 1] = lb;
              std::push_heap(hp, hp + k, std::greater<float>());
              changed = true;
            }
          }
          if (want_neg) {
            float* hp = s.ubh.data() + r * k;
            if (ubn[r] < k) {
              hp[ubn[r]++] = ub;
              std::push_heap(hp, hp + ubn[r]);
              changed |= ubn[r] == k;
            } else if (ub < hp[0]) {
              std::pop_heap(hp, hp + k);
              hp[k - 1] = ub;
              std::push_heap(hp, hp + k);
              changed = true;
            }
          }
          return changed;
        };
        for (size_t r = 0; r < rows; ++r) {
          refresh(r);
          s.n_cand[r] = 0;
        }
        uint64_t n_cand_total = 0;
        // Exact scores of row r's candidates (the brute-force order, dots_rows).
        auto flush = [&](size_t r) {
          const size_t cnt = s.n_cand[r];
          if (cnt == 0) return;
          const int64_t* idx = s.cand.data() + r * cap;
          const float* a = Q + (i0 + r) * T;
          for (size_t t = 0; t < cnt; t += 8) {
            const int m = static_cast<int>(std::min<size_t>(8, cnt - t));
            const float* rp[8];
            for (int p = 0; p < m; ++p) rp[p] = DB + static_cast<size_t>(idx[t + p]) * T;
            kt.dots_rows(a, rp, m, T, kKC, s.scores.data() + t);
          }
          const int64_t self = self_of(r);
          for (size_t t = 0; t < cnt; ++t)
            if (idx[t] != self) heaps[r].offer(s.scores[t], idx[t]);
          n_cand_total += cnt;
          s.n_cand[r] = 0;
          refresh(r);
        };
        const size_t a_panels = (rows + mr8 - 1) / mr8;
        for (size_t p = p0; p < np8; ++p) {
          const Q8Cols cols{bsum.data() + p * nr8, bs.data() + p * nr8, bN.data() + p * nr8, bR.data() + p * nr8};
          const size_t j0 = p * nr8, valid_cols = std::min(nr8, n - j0);
          const uint32_t valid = valid_cols >= 32 ? ~0u : ((1u << valid_cols) - 1u);
          const int8_t* Bp = Bq.data() + p * K4 * nr8 * 4;
          for (size_t ip = 0; ip < a_panels; ++ip) {
            const size_t ib = ip * mr8, g = i0 + ib;
            const int m_valid = static_cast<int>(std::min(mr8, rows - ib));
            const Q8Rows rw{as.data() + g, aA.data() + g, aB.data() + g, s.hi.data() + ib, s.lo.data() + ib};
            if (!kt.q8_tile(Aq.data() + (g / mr8) * K4 * mr8 * 4, m_valid, Bp, K4, cols, rw, s.mask.data(), nullptr,
                            s.bounds.data()))
              continue;
            for (int t = 0; t < m_valid; ++t) {
              uint32_t bits = s.mask[t] & valid;
              if (!bits) continue;
              const size_t r = ib + t;
              const int64_t self = self_of(r);
              const float* lbv = s.bounds.data() + t * nr8;
              const float* ubv = s.bounds.data() + mr8 * nr8 + t * nr8;
              bool changed = false;
              while (bits) {
                const int c = __builtin_ctz(bits);
                bits &= bits - 1;
                const int64_t j = static_cast<int64_t>(j0 + c);
                if (j == self) continue;
                // Only flagged pairs can move the bound heaps: a + e >= a - e.
                changed |= push_bounds(r, lbv[c], ubv[c]);
                s.cand[r * cap + s.n_cand[r]++] = j;
                if (s.n_cand[r] >= flush_at) flush(r);
              }
              if (changed) refresh(r);
            }
          }
        }
        for (size_t r = 0; r < rows; ++r) flush(r);
        for (auto& h : heaps) h.finish();
        cand_total.fetch_add(n_cand_total, std::memory_order_relaxed);
      },
      progress);
  if (stats) {
    stats->candidates = cand_total.load();
    stats->warm_pairs = static_cast<uint64_t>(nq) * W0;
    stats->delta = delta;
  }
}

double q8_pair_bounds(const KernelTable& kt, const float* Q, size_t nq, const float* DB, size_t n, size_t T,
                      int32_t* D, double* approx, double* err) {
  if (T == 0 || T > kQ8MaxT) throw std::invalid_argument("q8_pair_bounds: rows must have 1..65536 steps");
  const size_t mr8 = kt.q8_mr, nr8 = kt.q8_nr, K4 = (T + 3) / 4;
  std::vector<int8_t> q(T);
  std::vector<float> as(nq), aA(nq), aB(nq), aN(nq), bs(n), bR(n), bB(n), bN(n);
  std::vector<std::vector<int8_t>> qa(nq, std::vector<int8_t>(T)), qb(n, std::vector<int8_t>(T));
  for (size_t i = 0; i < nq; ++i) q8_quantize_row(Q + i * T, T, kt.q8_amax, qa[i].data(), as[i], aA[i], aB[i], aN[i]);
  for (size_t j = 0; j < n; ++j) q8_quantize_row(DB + j * T, T, 127, qb[j].data(), bs[j], bR[j], bB[j], bN[j]);
  std::vector<uint8_t> Ap(K4 * mr8 * 4);
  std::vector<int8_t> Bp(K4 * nr8 * 4);
  std::vector<int32_t> tile(mr8 * nr8);
  for (size_t i0 = 0; i0 < nq; i0 += mr8)
    for (size_t j0 = 0; j0 < n; j0 += nr8) {
      std::fill(Ap.begin(), Ap.end(), static_cast<uint8_t>(kt.q8_aoff));
      std::fill(Bp.begin(), Bp.end(), int8_t{0});
      for (size_t r = 0; r < mr8 && i0 + r < nq; ++r)
        for (size_t t = 0; t < T; ++t) Ap[((t / 4) * mr8 + r) * 4 + t % 4] = static_cast<uint8_t>(qa[i0 + r][t] + kt.q8_aoff);
      std::vector<int32_t> bsum(nr8, 0);
      for (size_t c = 0; c < nr8 && j0 + c < n; ++c) {
        int64_t sum = 0;
        for (size_t t = 0; t < T; ++t) {
          Bp[((t / 4) * nr8 + c) * 4 + t % 4] = qb[j0 + c][t];
          sum += qb[j0 + c][t];
        }
        bsum[c] = static_cast<int32_t>(kt.q8_aoff * sum);
      }
      kt.q8_tile(Ap.data(), static_cast<int>(std::min(mr8, nq - i0)), Bp.data(), K4, Q8Cols{}, Q8Rows{}, nullptr,
                 tile.data(), nullptr);
      for (size_t r = 0; r < mr8 && i0 + r < nq; ++r)
        for (size_t c = 0; c < nr8 && j0 + c < n; ++c) {
          const size_t i = i0 + r, j = j0 + c;
          const int32_t d = tile[r * nr8 + c] - bsum[c];
          D[i * n + j] = d;
          approx[i * n + j] = static_cast<double>(as[i]) * bs[j] * d;
          err[i * n + j] = static_cast<double>(aA[i]) * bN[j] + static_cast<double>(aB[i]) * bR[j];
        }
    }
  auto vmax = [](const std::vector<float>& v) { return v.empty() ? 0.0 : double(*std::max_element(v.begin(), v.end())); };
  return q8_delta(T, vmax(aN), vmax(bN), vmax(aB), vmax(bB), vmax(aA), vmax(bR));
}

}  // namespace pyshape
