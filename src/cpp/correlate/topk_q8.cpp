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

namespace {
// x rounded to the nearest integer, for |x| < 2^51 (adding and subtracting
// 1.5 * 2^52 rounds in the default rounding mode; vectorisable, unlike
// nearbyint). Any integer would do: the residuals are kept exactly.
inline double round_int(double x) {
  constexpr double big = 6755399441055744.0;
  return (x + big) - big;
}
// s = max|x| / amax as float32, or 0 for a row with nothing to scale (zero,
// or so tiny that s is not a normal float).
float level_scale(double m, int amax) {
  const float s = static_cast<float>(m / amax);
  return (s > 0 && std::isfinite(s) && std::isnormal(s)) ? s : 0.f;
}
}  // namespace

void q8_quantize_row(const float* u, size_t T, int amax, int8_t* q, int8_t* p, Q8Row& row) {
  thread_local std::vector<double> r;  // the level-1 residual; no allocation per row
  r.resize(T);
  const double lim = amax;
  double m = 0, uu = 0;
  for (size_t k = 0; k < T; ++k) {
    const double x = u[k];
    m = std::max(m, std::fabs(x));
    uu += x * x;
  }
  row.N = up(std::sqrt(uu) * kRel);
  // Level 1: q = round(u / s), r = u - s q (exact in float64: s q has at most
  // 31 significant bits, and u - s q spans few more).
  row.s = level_scale(m, amax);
  const double s = row.s, inv_s = row.s > 0 ? 1.0 / s : 0.0;
  double rr = 0, qq = 0, mr = 0;
  for (size_t k = 0; k < T; ++k) {
    const double x = u[k];
    const double t = std::min(lim, std::max(-lim, round_int(x * inv_s)));
    q[k] = static_cast<int8_t>(t);
    const double d = x - s * t;
    r[k] = d;
    rr += d * d;
    qq += t * t;
    mr = std::max(mr, std::fabs(d));
  }
  row.A = up(std::sqrt(rr) * kRel);
  row.B = up(s * std::sqrt(qq) * kRel);
  // Level 2: p = round(r / t), g = r - t p, exact in float64 too (r spans ~26
  // bits below s, t p ~34 bits); v = s q + t p exact (~40 bits). kRel covers
  // the norms' roundings.
  row.t = level_scale(mr, amax);
  const double tt = row.t, inv_t = row.t > 0 ? 1.0 / tt : 0.0;
  double pp = 0, gg = 0, vv = 0;
  for (size_t k = 0; k < T; ++k) {
    const double c = std::min(lim, std::max(-lim, round_int(r[k] * inv_t)));
    p[k] = static_cast<int8_t>(c);
    const double g = r[k] - tt * c, v = s * q[k] + tt * c;
    pp += c * c;
    gg += g * g;
    vv += v * v;
  }
  row.S = up(tt * std::sqrt(pp) * kRel);
  row.V = up(std::sqrt(vv) * kRel);
  row.G = up(std::sqrt(gg) * kRel);
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

namespace {
// Bytes per row of the row-major copies read by q8_rows: T rounded up to 64.
size_t padded(size_t T) { return (T + 63) / 64 * 64; }
}  // namespace

void topk_q8(const KernelTable& kt, const float* Q, size_t nq, const float* DB, size_t n, size_t T, int k,
             int64_t self_offset, const TopKOutput& out, int n_threads, const ProgressFn& progress,
             Q8Stats* stats, const RowScale* q_scale, const RowScale* db_scale) {
  if (T == 0 || T > kQ8MaxT) throw std::logic_error("topk_q8: rows must have 1..65536 steps");
  // Unit row i of X: X's row itself, or (scales given) normalised into buf.
  auto scale_row = [&kt, T](const float* x, const RowScale& sc, float* out) {
    if (sc.f == 0)
      std::fill(out, out + T, 0.f);  // a constant row
    else
      kt.q8_scale_row(x, T, sc.mean, sc.f, out);  // = apply_row_scale, vectorised
  };
  auto unit_row = [&](const float* X, const RowScale* sc, size_t i, float* buf) -> const float* {
    if (!sc) return X + i * T;
    scale_row(X + i * T, sc[i], buf);
    return buf;
  };
  const size_t mr8 = kt.q8_mr, nr8 = kt.q8_nr, K4 = (T + 3) / 4, L = padded(T);
  const int aoff = kt.q8_aoff, amax = kt.q8_amax;

  size_t mb = row_block(kt);
  mb = std::max(mb / std::lcm(mr8, static_cast<size_t>(kt.mr)), size_t{1}) * std::lcm(mr8, static_cast<size_t>(kt.mr));
  const size_t blocks = (nq + mb - 1) / mb;
  // The setup passes report no progress but let the callback see Ctrl-C.
  ProgressFn setup_check;
  if (progress) setup_check = [&](size_t, size_t) { progress(0, blocks); };

  // ---- database: q in signed-byte panels of nr8 columns (K4 x nr8 x 4) for
  // the tiles; [p | q] row-major (2 L bytes a row, zero padded) for level 2.
  const size_t np8 = (n + nr8 - 1) / nr8;
  std::vector<int8_t> Bq(np8 * K4 * nr8 * 4, 0), Bw(n * 2 * L, 0);
  std::vector<int32_t> bsum(np8 * nr8, 0), psum(n, 0);
  std::vector<float> bs(np8 * nr8, 0.f), bN(np8 * nr8, 0.f), bR(np8 * nr8, 0.f);
  std::vector<Q8Row> brow(n);
  parallel_for(np8, n_threads, [&](size_t pn, int) {
    std::vector<float> ubuf(db_scale ? T : 0);
    int8_t* P = Bq.data() + pn * K4 * nr8 * 4;
    for (size_t c = 0; c < nr8 && pn * nr8 + c < n; ++c) {
      const size_t j = pn * nr8 + c;
      int8_t* w = Bw.data() + j * 2 * L;  // p at w, q at w + L
      q8_quantize_row(unit_row(DB, db_scale, j, ubuf.data()), T, 127, w + L, w, brow[j]);
      bs[j] = brow[j].s;
      bN[j] = brow[j].N;
      bR[j] = brow[j].A;
      int64_t qs = 0, ps = 0;
      for (size_t t = 0; t < T; ++t) {
        qs += w[L + t];
        ps += w[t];
        P[((t / 4) * nr8 + c) * 4 + t % 4] = w[L + t];
      }
      bsum[j] = static_cast<int32_t>(aoff * qs);
      psum[j] = static_cast<int32_t>(ps);
    }
  }, setup_check);

  // ---- queries: offset bytes in panels of mr8 rows (K4 x mr8 x 4) for the
  // tiles, per-row data, and [q + aoff | p + aoff] row-major for level 2. A
  // self-search whose query side has the database's range (amax 127, offset
  // 128) reuses the database's quantisation: its bytes are Bw's, halves
  // swapped, each xor 0x80 (= + 128), made per block, and so are its tile
  // panels (no n x 2L or n x T copy: 4.1 GiB at n = 1e6, T = 1440).
  const bool reuse = Q == DB && nq == n && q_scale == db_scale && amax == 127 && aoff == 128;
  const size_t npa = (nq + mr8 - 1) / mr8;
  std::vector<uint8_t> Aq(reuse ? 0 : npa * K4 * mr8 * 4, static_cast<uint8_t>(aoff)), Aw(reuse ? 0 : nq * 2 * L);
  std::vector<float> as(npa * mr8, 0.f), aA(npa * mr8, 0.f), aB(npa * mr8, 0.f);
  std::vector<Q8Row> arow_own(reuse ? 0 : nq);
  const std::vector<Q8Row>& arow = reuse ? brow : arow_own;
  parallel_for(npa, n_threads, [&](size_t pn, int) {
    std::vector<int8_t> q(T), pq(T);
    std::vector<float> ubuf(q_scale && !reuse ? T : 0);
    for (size_t r = 0; r < mr8 && pn * mr8 + r < nq; ++r) {
      const size_t i = pn * mr8 + r;
      if (!reuse) {
        q8_quantize_row(unit_row(Q, q_scale, i, ubuf.data()), T, amax, q.data(), pq.data(), arow_own[i]);
        uint8_t* w = Aw.data() + i * 2 * L;
        std::fill(w, w + 2 * L, static_cast<uint8_t>(aoff));
        for (size_t t = 0; t < T; ++t) {
          w[t] = static_cast<uint8_t>(q[t] + aoff);
          w[L + t] = static_cast<uint8_t>(pq[t] + aoff);
        }
      }
      as[i] = arow[i].s;
      aA[i] = arow[i].A;
      aB[i] = arow[i].B;
      if (reuse) continue;
      uint8_t* P = Aq.data() + pn * K4 * mr8 * 4;
      for (size_t t = 0; t < T; ++t) P[((t / 4) * mr8 + r) * 4 + t % 4] = static_cast<uint8_t>(q[t] + aoff);
    }
  }, setup_check);
  double mN[2] = {0, 0}, mB[2] = {0, 0}, mA[2] = {0, 0};
  for (const auto& r : arow) mN[0] = std::max<double>(mN[0], r.N), mB[0] = std::max<double>(mB[0], r.B), mA[0] = std::max<double>(mA[0], r.A);
  for (const auto& r : brow) mN[1] = std::max<double>(mN[1], r.N), mB[1] = std::max<double>(mB[1], r.B), mA[1] = std::max<double>(mA[1], r.A);
  const double delta = q8_delta(T, mN[0], mN[1], mB[0], mB[1], mA[0], mA[1]);

  // ---- the first columns, scored exactly (as brute force) to start the thresholds
  const size_t group_cols = kPanelsPerGroup * kt.nr;
  size_t W0 = (group_cols + nr8 - 1) / nr8 * nr8;
  W0 = std::min(W0, n);
  PackedRows warm = [&] {
    if (!db_scale) return pack_rows(DB, W0, T, T, kt.nr, n_threads);
    std::vector<float> w0(W0 * T);
    for (size_t j = 0; j < W0; ++j) scale_row(DB + j * T, db_scale[j], w0.data() + j * T);
    return pack_rows(w0.data(), W0, T, T, kt.nr, n_threads);
  }();
  const size_t p0 = W0 == n ? np8 : W0 / nr8;  // first int8 panel (W0 < n is a multiple of nr8)

  const int threads = std::max(1, std::min<int>(resolve_threads(n_threads), static_cast<int>(blocks)));
  constexpr int kMaxPanels = 6;  // = kMaxRowPanels of every level
  const size_t cap = kMaxPanels * kt.nr;
  constexpr size_t kPend = 8;  // level-2 checks are run 8 pairs at a time (q8_rows)
  // A row's candidates (pairs that passed level 2) wait, with their level-2
  // bounds, until it has cap of them or the block ends; then those the row's
  // thresholds have since left behind are dropped and the rest re-scored. Most
  // pairs that enter the running top-k while the scan goes on are out of the
  // final one: deferring spares their float32 scores.
  const bool want_pos = out.pos_score != nullptr, want_neg = out.neg_score != nullptr;
  struct Scratch {
    std::vector<float> afull, C, scores, hi, lo, lbh, ubh, cand_lb, cand_ub;
    std::vector<float> ublock, ucand;  // with scales: the block's unit query rows, 8 unit database rows
    std::vector<uint32_t> sel, mask;
    std::vector<int32_t> dq, pendD;
    std::vector<int64_t> cand, pend;
    std::vector<size_t> n_cand, n_pend;
    std::vector<uint8_t> aw;  // the block's query rows, [q + aoff | p + aoff] row-major
    std::vector<uint8_t> aq;  // the block's tile panels (self-search reusing the database's bytes)
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
    s.dq.resize(mr8 * nr8);
    s.cand.resize(mb * cap);
    s.cand_lb.resize(mb * cap);
    s.cand_ub.resize(mb * cap);
    s.n_cand.resize(mb);
    s.pend.resize(mb * kPend);
    s.pendD.resize(mb * kPend);
    s.n_pend.resize(mb);
    s.aw.resize(reuse ? mb * 2 * L : 0);
    s.aq.resize(reuse ? mb * K4 * 4 : 0);
    s.ublock.resize(q_scale ? mb * T : 0);
    s.ucand.resize(db_scale ? 8 * T : 0);
    s.lbh.resize(mb * k);
    s.ubh.resize(mb * k);
  }
  std::atomic<uint64_t> cand_total{0}, refined_total{0};
  // Cancellation within a block (a block is 192 rows against all n columns:
  // seconds at n = 1e6): the calling thread reports progress every few panels
  // (the callback checks Ctrl-C, throttled); when it throws, the others leave
  // their blocks at their next panel.
  std::atomic<size_t> blocks_done{0};
  std::atomic<bool> cancelled{false};

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
        // The block's query bytes for level 2.
        auto qbytes = [&](size_t r) -> const uint8_t* {
          return reuse ? s.aw.data() + r * 2 * L : Aw.data() + (i0 + r) * 2 * L;
        };
        if (reuse)
          for (size_t r = 0; r < rows; ++r) {
            const int8_t* b = Bw.data() + (i0 + r) * 2 * L;
            uint8_t* w = s.aw.data() + r * 2 * L;
            for (size_t t = 0; t < L; ++t) {
              w[t] = static_cast<uint8_t>(b[L + t]) ^ 0x80u;
              w[L + t] = static_cast<uint8_t>(b[t]) ^ 0x80u;
            }
          }
        if (reuse) {
          std::fill(s.aq.begin(), s.aq.end(), static_cast<uint8_t>(aoff));
          for (size_t r = 0; r < rows; ++r) {
            const uint8_t* w = s.aw.data() + r * 2 * L;
            uint8_t* P = s.aq.data() + (r / mr8) * K4 * mr8 * 4;
            for (size_t t = 0; t < T; ++t) P[((t / 4) * mr8 + r % mr8) * 4 + t % 4] = w[t];
          }
        }
        // The block's tile panels of query rows starting at block row ib (a multiple of mr8).
        auto qpanel = [&](size_t ib) -> const uint8_t* {
          return reuse ? s.aq.data() + (ib / mr8) * K4 * mr8 * 4 : Aq.data() + ((i0 + ib) / mr8) * K4 * mr8 * 4;
        };
        // The block's unit query rows (for the warm-up and the re-scoring).
        const float* qblock = Q + i0 * T;
        if (q_scale) {
          for (size_t r = 0; r < rows; ++r) scale_row(qblock + r * T, q_scale[i0 + r], s.ublock.data() + r * T);
          qblock = s.ublock.data();
        }
        // Warm-up: brute force on the first W0 columns.
        pack_panels(qblock, rows, T, T, kt.mr, s.afull.data());
        PanelView A{s.afull.data(), rows, T, static_cast<size_t>(kt.mr)};
        gemm_block(kt, A, warm.view, 0, warm.view.n_panels(), s.C.data(), group_cols);
        for (size_t r = 0; r < rows; ++r) {
          const float* c = s.C.data() + r * group_cols;
          const size_t cnt = kt.select_outside(c, W0, heaps[r].hi(), heaps[r].lo(), s.sel.data());
          const int64_t self = self_of(r);
          for (size_t t = 0; t < cnt; ++t)
            if (static_cast<int64_t>(s.sel[t]) != self) heaps[r].offer(c[s.sel[t]], s.sel[t]);
        }
        // Per row, the k largest level-2 lower bounds a2 - e2 (min-heap) and the
        // k smallest upper bounds a2 + e2 (max-heap) of the pairs checked (self
        // excluded, each pair once): the final k-th best exact score is at least
        // lbk - delta (the k pairs behind it score at least that), so a pair whose
        // a + e + delta cannot reach lbk - delta cannot enter the top-k; likewise
        // for the k-th lowest. Pairs not checked at level 2 have a1 + e1 below
        // the running threshold, so they could not raise lbk.
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
          s.n_pend[r] = 0;
        }
        uint64_t n_cand_total = 0, n_refined = 0;
        // Drops row r's candidates that can no longer reach its thresholds.
        auto prune = [&](size_t r) {
          int64_t* idx = s.cand.data() + r * cap;
          float* lb = s.cand_lb.data() + r * cap;
          float* ub = s.cand_ub.data() + r * cap;
          const float h = s.hi[r], l = s.lo[r];
          size_t m = 0;
          for (size_t t = 0; t < s.n_cand[r]; ++t)
            if (ub[t] >= h || lb[t] <= l) {
              idx[m] = idx[t];
              lb[m] = lb[t];
              ub[m++] = ub[t];
            }
          s.n_cand[r] = m;
        };
        // Exact scores of row r's candidates (the brute-force order, dots_rows).
        auto flush = [&](size_t r) {
          prune(r);
          const size_t cnt = s.n_cand[r];
          if (cnt == 0) return;
          const int64_t* idx = s.cand.data() + r * cap;
          const float* a = qblock + r * T;
          for (size_t t = 0; t < cnt; t += 8) {
            const int m = static_cast<int>(std::min<size_t>(8, cnt - t));
            const float* rp[8];
            for (int p = 0; p < m; ++p)
              rp[p] = unit_row(DB, db_scale, static_cast<size_t>(idx[t + p]), s.ucand.data() + p * T);
            kt.dots_rows(a, rp, m, T, kKC, s.scores.data() + t);
          }
          for (size_t t = 0; t < cnt; ++t) heaps[r].offer(s.scores[t], idx[t]);  // self never gets here
          n_cand_total += cnt;
          s.n_cand[r] = 0;
          refresh(r);
        };
        // Level 2 of row r's pending pairs: X = q_i . p_j and Y = p_i . q_j in
        // int8, then a2, e2; bounds to the heaps, survivors to the candidates.
        auto refine = [&](size_t r) {
          const int m = static_cast<int>(s.n_pend[r]);
          if (m == 0) return;
          const int64_t* idx = s.pend.data() + r * kPend;
          const int32_t* Dv = s.pendD.data() + r * kPend;
          const int8_t* rp[kPend];
          const int8_t* rq[kPend];
          int32_t X[kPend], Y[kPend];
          for (int t = 0; t < m; ++t) {
            rp[t] = Bw.data() + static_cast<size_t>(idx[t]) * 2 * L;
            rq[t] = rp[t] + L;
          }
          const uint8_t* w = qbytes(r);
          kt.q8_rows(w, rp, m, L, X);
          kt.q8_rows(w + L, rq, m, L, Y);
          const Q8Row& ar = arow[i0 + r];
          for (int t = 0; t < m; ++t) {
            const size_t j = static_cast<size_t>(idx[t]);
            double a2, e2;
            q8_refine(ar, brow[j], Dv[t], int64_t{X[t]} - int64_t{aoff} * psum[j],
                      int64_t{Y[t]} - bsum[j], a2, e2);
            const float lb = down(a2 - e2), ub = up(a2 + e2);
            if (push_bounds(r, lb, ub)) refresh(r);
            if (ub >= s.hi[r] || lb <= s.lo[r]) {
              if (s.n_cand[r] == cap) {
                prune(r);
                if (s.n_cand[r] > cap / 2) flush(r);
              }
              const size_t slot = r * cap + s.n_cand[r]++;
              s.cand[slot] = idx[t];
              s.cand_lb[slot] = lb;
              s.cand_ub[slot] = ub;
            }
          }
          n_refined += static_cast<uint64_t>(m);
          s.n_pend[r] = 0;
        };
        const size_t a_panels = (rows + mr8 - 1) / mr8;
        for (size_t p = p0; p < np8; ++p) {
          if ((p & 15) == 0) {
            if (cancelled.load(std::memory_order_relaxed)) return;
            if (tid == 0 && progress) {
              try {
                progress(blocks_done.load(std::memory_order_relaxed), blocks);
              } catch (...) {
                cancelled.store(true);
                throw;
              }
            }
          }
          const Q8Cols cols{bsum.data() + p * nr8, bs.data() + p * nr8, bN.data() + p * nr8, bR.data() + p * nr8};
          const size_t j0 = p * nr8, valid_cols = std::min(nr8, n - j0);
          const uint32_t valid = valid_cols >= 32 ? ~0u : ((1u << valid_cols) - 1u);
          const int8_t* Bp = Bq.data() + p * K4 * nr8 * 4;
          for (size_t ip = 0; ip < a_panels; ++ip) {
            const size_t ib = ip * mr8, g = i0 + ib;
            const int m_valid = static_cast<int>(std::min(mr8, rows - ib));
            const Q8Rows rw{as.data() + g, aA.data() + g, aB.data() + g, s.hi.data() + ib, s.lo.data() + ib};
            if (!kt.q8_tile(qpanel(ib), m_valid, Bp, K4, cols, rw, s.mask.data(), nullptr,
                            s.dq.data()))
              continue;
            for (int t = 0; t < m_valid; ++t) {
              uint32_t bits = s.mask[t] & valid;
              if (!bits) continue;
              const size_t r = ib + t;
              const int64_t self = self_of(r);
              while (bits) {
                const int c = __builtin_ctz(bits);
                bits &= bits - 1;
                const int64_t j = static_cast<int64_t>(j0 + c);
                if (j == self) continue;
                const size_t slot = r * kPend + s.n_pend[r]++;
                s.pend[slot] = j;
                s.pendD[slot] = s.dq[t * nr8 + c];
                if (s.n_pend[r] == kPend) refine(r);
              }
            }
          }
        }
        for (size_t r = 0; r < rows; ++r) {
          refine(r);
          flush(r);
        }
        for (auto& h : heaps) h.finish();
        cand_total.fetch_add(n_cand_total, std::memory_order_relaxed);
        refined_total.fetch_add(n_refined, std::memory_order_relaxed);
        blocks_done.fetch_add(1, std::memory_order_relaxed);
      },
      progress);
  if (stats) {
    stats->refined = refined_total.load();
    stats->candidates = cand_total.load();
    stats->warm_pairs = static_cast<uint64_t>(nq) * W0;
    stats->delta = delta;
  }
}

double q8_pair_bounds(const KernelTable& kt, const float* Q, size_t nq, const float* DB, size_t n, size_t T,
                      int32_t* D, double* approx, double* err, double* approx2, double* err2) {
  if (T == 0 || T > kQ8MaxT) throw std::invalid_argument("q8_pair_bounds: rows must have 1..65536 steps");
  const size_t mr8 = kt.q8_mr, nr8 = kt.q8_nr, K4 = (T + 3) / 4, L = padded(T);
  const int aoff = kt.q8_aoff;
  std::vector<Q8Row> ar(nq), br(n);
  std::vector<std::vector<int8_t>> qa(nq, std::vector<int8_t>(T)), pa(nq, std::vector<int8_t>(T)),
      qb(n, std::vector<int8_t>(T)), pb(n, std::vector<int8_t>(T));
  for (size_t i = 0; i < nq; ++i) q8_quantize_row(Q + i * T, T, kt.q8_amax, qa[i].data(), pa[i].data(), ar[i]);
  for (size_t j = 0; j < n; ++j) q8_quantize_row(DB + j * T, T, 127, qb[j].data(), pb[j].data(), br[j]);
  std::vector<uint8_t> Ap(K4 * mr8 * 4);
  std::vector<int8_t> Bp(K4 * nr8 * 4);
  std::vector<int32_t> tile(mr8 * nr8);
  for (size_t i0 = 0; i0 < nq; i0 += mr8)
    for (size_t j0 = 0; j0 < n; j0 += nr8) {
      std::fill(Ap.begin(), Ap.end(), static_cast<uint8_t>(aoff));
      std::fill(Bp.begin(), Bp.end(), int8_t{0});
      for (size_t r = 0; r < mr8 && i0 + r < nq; ++r)
        for (size_t t = 0; t < T; ++t) Ap[((t / 4) * mr8 + r) * 4 + t % 4] = static_cast<uint8_t>(qa[i0 + r][t] + aoff);
      std::vector<int32_t> bsum(nr8, 0);
      for (size_t c = 0; c < nr8 && j0 + c < n; ++c) {
        int64_t sum = 0;
        for (size_t t = 0; t < T; ++t) {
          Bp[((t / 4) * nr8 + c) * 4 + t % 4] = qb[j0 + c][t];
          sum += qb[j0 + c][t];
        }
        bsum[c] = static_cast<int32_t>(aoff * sum);
      }
      kt.q8_tile(Ap.data(), static_cast<int>(std::min(mr8, nq - i0)), Bp.data(), K4, Q8Cols{}, Q8Rows{}, nullptr,
                 tile.data(), nullptr);
      for (size_t r = 0; r < mr8 && i0 + r < nq; ++r)
        for (size_t c = 0; c < nr8 && j0 + c < n; ++c) {
          const size_t i = i0 + r, j = j0 + c;
          const int32_t d = tile[r * nr8 + c] - bsum[c];
          D[i * n + j] = d;
          approx[i * n + j] = static_cast<double>(ar[i].s) * br[j].s * d;
          err[i * n + j] = static_cast<double>(ar[i].A) * br[j].N + static_cast<double>(ar[i].B) * br[j].A;
        }
    }
  // Level 2 through q8_rows on the same row-major layout as the search.
  std::vector<uint8_t> wa(2 * L);
  std::vector<int8_t> wb(n * 2 * L, 0);
  std::vector<int64_t> ps(n, 0), qs(n, 0);
  for (size_t j = 0; j < n; ++j)
    for (size_t t = 0; t < T; ++t) {
      wb[j * 2 * L + t] = pb[j][t];
      wb[j * 2 * L + L + t] = qb[j][t];
      ps[j] += pb[j][t];
      qs[j] += qb[j][t];
    }
  for (size_t i = 0; i < nq; ++i) {
    std::fill(wa.begin(), wa.end(), static_cast<uint8_t>(aoff));
    for (size_t t = 0; t < T; ++t) {
      wa[t] = static_cast<uint8_t>(qa[i][t] + aoff);
      wa[L + t] = static_cast<uint8_t>(pa[i][t] + aoff);
    }
    for (size_t j0 = 0; j0 < n; j0 += 8) {
      const int m = static_cast<int>(std::min<size_t>(8, n - j0));
      const int8_t* rp[8];
      const int8_t* rq[8];
      int32_t X[8], Y[8];
      for (int t = 0; t < m; ++t) {
        rp[t] = wb.data() + (j0 + t) * 2 * L;
        rq[t] = rp[t] + L;
      }
      kt.q8_rows(wa.data(), rp, m, L, X);
      kt.q8_rows(wa.data() + L, rq, m, L, Y);
      for (int t = 0; t < m; ++t) {
        const size_t j = j0 + t;
        q8_refine(ar[i], br[j], D[i * n + j], X[t] - aoff * ps[j], Y[t] - aoff * qs[j], approx2[i * n + j],
                  err2[i * n + j]);
      }
    }
  }
  auto vmax = [](const std::vector<Q8Row>& v, float Q8Row::*f) {
    double m = 0;
    for (const auto& r : v) m = std::max<double>(m, r.*f);
    return m;
  };
  return q8_delta(T, vmax(ar, &Q8Row::N), vmax(br, &Q8Row::N), vmax(ar, &Q8Row::B), vmax(br, &Q8Row::B),
                  vmax(ar, &Q8Row::A), vmax(br, &Q8Row::A));
}

}  // namespace pyshape
