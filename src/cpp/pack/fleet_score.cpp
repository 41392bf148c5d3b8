// Fleet::score: the Placer's scores of one shape on candidate workers
// (placer.hpp, ScoreOut), without placing it.
//
// Two ways to the same bits, chosen by what is asked:
//
// - Covariance or correlation asked: they need every step, so each
//   candidate's load is read once, row by row, by one kernel (score_row)
//   that yields the row's new peak, its steps over the threshold (bits or-ed
//   across the rows) and its dot product with the shape, plus the load's sum
//   and sum of squares when they are not kept yet (sq_ok_; kept until the
//   load changes). The load is then the only memory read per candidate.
//
// - Otherwise (peaks, steps over, fits): from the block summaries, reading
//   only the blocks of the load that the bounds cannot settle. Float addition
//   rounds monotonically, so in block b every L[t] + s[t] lies in
//   [fl(min_b L + min_b s), fl(max_b L + max_b s)], and the block's largest
//   sum is at least fl(max_b L + min_b s) and fl(min_b L + max_b s)
//   (block_bounds computes them for a row). The new peak starts from the
//   largest of those lower bounds, scans the block of the largest upper
//   bound, then every block whose upper bound is above the best so far; a
//   block left out cannot exceed that best, which never exceeds the true
//   peak, so the result is the peak's exact value. Steps over a limit: a
//   block where some resource's lower bound is above its limit counts whole,
//   one where every resource's upper bound is at or below it counts 0, and
//   only the others are read. A scheduler's usual question ("does it fit, how
//   much does the peak rise") then costs a few cache lines per candidate
//   instead of its whole load (R * T floats).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "pack/fleet.hpp"

namespace pyshape {

namespace {
constexpr float kInf = std::numeric_limits<float>::infinity();

// Set bits of a word. SWAR: this unit is built for the baseline ISA, where
// __builtin_popcountll is a library call.
inline int64_t bits_in(uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ull);
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
  return static_cast<int64_t>((x * 0x0101010101010101ull) >> 56);
}

int64_t popcount(const uint64_t* w, size_t n) {
  int64_t c = 0;
  for (size_t i = 0; i < n; ++i) c += bits_in(w[i]);
  return c;
}
}  // namespace

void Fleet::score(const float* s, const ShapeSummary& ss, const size_t* ws, size_t n, double threshold,
                  const ScoreOut& out) {
  const bool dot = out.covariance || out.correlation;
  const size_t RT = R_ * T_, words = (T_ + 63) / 64;
  const double Td = static_cast<double>(T_);
  // a worker's effective capacity (one per fleet; with worker types, cap(w))
  auto cap_of = [&](size_t w) -> const float* { return cap(w); };
  // threshold * cap as the float the steps are compared with
  auto set_thr = [&](size_t w, float* out) {
    for (size_t r = 0; r < R_; ++r) out[r] = static_cast<float>(threshold * static_cast<double>(cap_of(w)[r]));
  };
  np_.resize(2 * R_);
  float* peak = np_.data();
  float* thr = np_.data() + R_;  // the candidate's
  const bool thr_is_cap = threshold == 1.0;
  // Without dots, the few lines each candidate needs are far apart in a
  // large fleet: candidates go in groups of kGroup, whose bounds are all
  // computed (their summaries prefetched one group ahead) and the blocks
  // those bounds may send the scans to prefetched, before any is scanned,
  // so that the misses overlap instead of queueing one after another. The
  // prefetches go to L2 (locality 1: prefetcht2): measured on the 2-core
  // EPYC (bench/RESULTS.md), the same to L1 overlapped far less.
  constexpr size_t kGroup = 16;
  over_.resize(words);
  bits_.resize(kGroup * 4 * R_);   // per slot and row: the blocks that may hold the peak (pk),
  up_.resize(kGroup * (RB_ + 2 * R_));  // that are over the limit everywhere (all) or maybe somewhere
                                    // (some), that the steps have read (done); the blocks' upper
                                    // bounds (up), the peak's lower one (lo), the candidate's thr
  double* vol_s = nullptr;
  double* sq_s = nullptr;
  if (dot) {  // the shape as doubles, and its sum and sum of squares (dot_fd's bits)
    sd_.resize(RT + 2 * R_);
    for (size_t i = 0; i < RT; ++i) sd_[i] = s[i];
    vol_s = sd_.data() + RT;
    sq_s = vol_s + R_;
    for (size_t r = 0; r < R_; ++r) {
      double d[3];
      k_.score_row(s + r * T_, s + r * T_, sd_.data() + r * T_, T_, kInf, nullptr, d, 2, nullptr);
      vol_s[r] = d[1];
      sq_s[r] = d[2];
    }
  }
  const size_t last = T_ - (B_ - 1) * blk_;  // steps of the last block

  // The bounds of every row of w against lim, to slot j (and prefetches of
  // the blocks that they leave open).
  auto bounds = [&](size_t w, const float* lim, size_t j) {
    const float* bx = bmax_.data() + w * RB_;
    const float* bn = bmin_.data() + w * RB_;
    uint64_t* pk = bits_.data() + j * 4 * R_;
    float* up = up_.data() + j * (RB_ + 2 * R_);
    for (size_t r = 0; r < R_; ++r) {
      const size_t o = r * B_;
      up[RB_ + r] = k_.block_bounds(bx + o, bn + o, ss.bmax.data() + o, ss.bmin.data() + o, B_, lim[r], up + o,
                                    pk + r, pk + R_ + r, pk + 2 * R_ + r);
      pk[3 * R_ + r] = 0;
      const char* L = reinterpret_cast<const char*>(load_.data() + w * RT + r * T_);
      for (uint64_t q = pk[r] | (pk[2 * R_ + r] & ~pk[R_ + r]); q; q &= q - 1) {
        const size_t b = static_cast<size_t>(__builtin_ctzll(q));
        const char* x = L + b * blk_ * sizeof(float);
        const size_t len = (b + 1 == B_ ? last : blk_) * sizeof(float);
        for (size_t o2 = 0; o2 < len; o2 += 64) __builtin_prefetch(x + o2, 0, 1);
        __builtin_prefetch(x + len - 1, 0, 1);
      }
    }
  };
  // Steps of w where L + s is over lim[r] for some r, from slot j of
  // bounds(w, lim, j). record: the maxima of the blocks read raise the
  // peaks' lower bounds, and those blocks are marked done, so that
  // peaks_blocks does not read them again (the peak is often in them).
  auto count_blocks = [&](size_t w, const float* lim, size_t j, bool record) -> int64_t {
    const float* L = load_.data() + w * RT;
    const uint64_t* all = bits_.data() + j * 4 * R_ + R_;
    const uint64_t* some = all + R_;
    uint64_t* done = bits_.data() + j * 4 * R_ + 3 * R_;
    float* lo = up_.data() + j * (RB_ + 2 * R_) + RB_;
    uint64_t A = 0, S = 0;
    for (size_t r = 0; r < R_; ++r) {
      A |= all[r];
      S |= some[r];
    }
    S &= ~A;
    int64_t c = bits_in(A) * static_cast<int64_t>(blk_);
    if ((A >> (B_ - 1)) & 1) c -= static_cast<int64_t>(blk_ - last);
    for (; S; S &= S - 1) {
      const size_t b = static_cast<size_t>(__builtin_ctzll(S));
      const size_t s0 = b * blk_, len = b + 1 == B_ ? last : blk_, nw = (len + 63) / 64;
      std::fill(over_.begin(), over_.begin() + static_cast<std::ptrdiff_t>(nw), uint64_t{0});
      for (size_t r = 0; r < R_; ++r)
        if ((some[r] >> b) & 1) {
          const float m =
              k_.score_row(L + r * T_ + s0, s + r * T_ + s0, nullptr, len, lim[r], over_.data(), nullptr, 0, nullptr);
          if (record) {
            lo[r] = std::max(lo[r], m);
            done[r] |= uint64_t{1} << b;
          }
        }
      c += popcount(over_.data(), nw);
    }
    return c;
  };
  // The new peak of every row of w to peak[], from slot j of bounds(w, ., j)
  // (and of count_blocks(w, ., j, true) when it ran first).
  auto peaks_blocks = [&](size_t w, size_t j) {
    for (size_t r = 0; r < R_; ++r) {
      const float* L = load_.data() + w * RT + r * T_;
      const float* x = s + r * T_;
      const float* u = up_.data() + j * (RB_ + 2 * R_) + r * B_;
      float best = up_[j * (RB_ + 2 * R_) + RB_ + r];
      uint64_t P = bits_[j * 4 * R_ + r] & ~bits_[j * 4 * R_ + 3 * R_ + r];
      peak[r] = best;
      if (!P) continue;
      size_t tb = static_cast<size_t>(__builtin_ctzll(P));
      for (uint64_t q = P & (P - 1); q; q &= q - 1) {
        const size_t b = static_cast<size_t>(__builtin_ctzll(q));
        if (u[b] > u[tb]) tb = b;
      }
      auto scan = [&](size_t b) {
        const size_t s0 = b * blk_;
        best = std::max(best, k_.max_sum(L + s0, x + s0, b + 1 == B_ ? last : blk_, kInf));
      };
      if (u[tb] > best) scan(tb);
      for (P &= ~(uint64_t{1} << tb); P; P &= P - 1) {
        const size_t b = static_cast<size_t>(__builtin_ctzll(P));
        if (u[b] > best) scan(b);
      }
      peak[r] = best;
    }
  };

  auto prefetch_summaries = [&](size_t w) {
    const char* bx = reinterpret_cast<const char*>(bmax_.data() + w * RB_);
    const char* bn = reinterpret_cast<const char*>(bmin_.data() + w * RB_);
    for (size_t b = 0; b < RB_ * sizeof(float); b += 64) {
      __builtin_prefetch(bx + b, 0, 1);
      __builtin_prefetch(bn + b, 0, 1);
    }
  };
  if (!dot)
    for (size_t k = 0; k < std::min(n, kGroup); ++k) prefetch_summaries(ws[k]);
  for (size_t k = 0; k < n; ++k) {
    const size_t w = ws[k];
    const float* L = load_.data() + w * RT;
    const float* cap = cap_of(w);
    set_thr(w, thr);
    int64_t steps = -1;
    if (dot) {
      // the next candidate's load is prefetched along this one's pass (score_row's next)
      const float* nx = k + 1 < n ? load_.data() + ws[k + 1] * RT : nullptr;
      const bool bits = out.steps_over != nullptr;
      if (bits) std::fill(over_.begin(), over_.end(), uint64_t{0});
      const int what = sq_ok_[w] ? 1 : 2;
      for (size_t r = 0; r < R_; ++r) {
        double d[3];
        peak[r] = k_.score_row(L + r * T_, s + r * T_, sd_.data() + r * T_, T_, thr[r], bits ? over_.data() : nullptr,
                               d, what, nx ? nx + r * T_ : nullptr);
        const double vl = what == 2 ? d[1] : sum_[w * R_ + r];
        if (what == 2) {
          sum_[w * R_ + r] = d[1];
          sq_[w * R_ + r] = d[2];
        }
        const double cov = (d[0] - vl * vol_s[r] / Td) / Td;
        if (out.covariance) out.covariance[k * R_ + r] = cov;
        if (out.correlation) {
          // variances from the sums of squares; below 1e-12 of the mean square
          // a row is taken as constant (rounding noise): correlation 0
          const double ql = sq_[w * R_ + r] / Td, qs = sq_s[r] / Td;
          const double ml = vl / Td, ms = vol_s[r] / Td;
          const double var_l = ql - ml * ml, var_s = qs - ms * ms;
          double c = 0;
          if (var_l > 1e-12 * ql && var_s > 1e-12 * qs) c = std::max(-1.0, std::min(1.0, cov / std::sqrt(var_l * var_s)));
          out.correlation[k * R_ + r] = c;
        }
      }
      sq_ok_[w] = 1;
      if (bits) steps = popcount(over_.data(), words);
    } else {
      if (k % kGroup == 0) {
        for (size_t j = k + kGroup; j < std::min(n, k + 2 * kGroup); ++j) prefetch_summaries(ws[j]);
        for (size_t j = k; j < std::min(n, k + kGroup); ++j) {
          float* t = up_.data() + (j - k) * (RB_ + 2 * R_) + RB_ + R_;
          set_thr(ws[j], t);
          bounds(ws[j], t, j - k);
        }
      }
      // the steps first (0 when no block is over thr, as the peak then is not):
      // the blocks they read need not be read again for the peak
      if (out.steps_over) steps = count_blocks(w, thr, k % kGroup, true);
      peaks_blocks(w, k % kGroup);
    }
    bool above_thr = false, above_cap = false;
    for (size_t r = 0; r < R_; ++r) {
      const double c = cap[r];
      if (out.new_peak) out.new_peak[k * R_ + r] = static_cast<double>(peak[r]) / c;
      if (out.peak_rise) out.peak_rise[k * R_ + r] = (static_cast<double>(peak[r]) - peak_[w * R_ + r]) / c;
      above_thr |= peak[r] > thr[r];
      above_cap |= peak[r] > cap[r];
    }
    if (out.steps_over) {
      if (steps < 0) steps = above_thr ? count_blocks(w, thr, k % kGroup, false) : 0;
      out.steps_over[k] = steps;
    }
    if (out.fits) {
      bool ok;
      if (!above_cap) ok = true;
      else if (exact_) ok = false;
      else if (thr_is_cap && steps >= 0) ok = static_cast<size_t>(steps) <= allowed_;
      else {
        bounds(w, cap, k % kGroup);  // this candidate's slot, read above
        ok = static_cast<size_t>(count_blocks(w, cap, k % kGroup, false)) <= allowed_;
      }
      out.fits[k] = ok ? 1 : 0;
    }
  }
}

}  // namespace pyshape
