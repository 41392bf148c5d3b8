#include "pack/fleet.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace pyshape {

namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// out[j] = sum_t double(a[j][t]) * b[j][t] for j < m <= 4. Each sum is one
// chain of double additions in step order, starting from 0: the order fixes
// the bits, so they are those of a plain loop per row (the products are
// exact in double). The chains are independent, so they run side by side,
// two per SSE2 register: the time of one chain's latency, not of m of them.
void dots4(const float* const* a, const float* const* b, size_t m, size_t n, double* out) {
#if defined(__SSE2__)
  const float* A[4];
  const float* B[4];
  for (size_t j = 0; j < 4; ++j) {  // unused lanes repeat row 0 and are dropped
    A[j] = a[j < m ? j : 0];
    B[j] = b[j < m ? j : 0];
  }
  auto pair = [](const float* x, const float* y, size_t t) {
    return _mm_cvtps_pd(_mm_unpacklo_ps(_mm_load_ss(x + t), _mm_load_ss(y + t)));
  };
  __m128d acc0 = _mm_setzero_pd(), acc1 = _mm_setzero_pd();
  if (m <= 2) {
    for (size_t t = 0; t < n; ++t) acc0 = _mm_add_pd(acc0, _mm_mul_pd(pair(A[0], A[1], t), pair(B[0], B[1], t)));
  } else {
    for (size_t t = 0; t < n; ++t) {
      acc0 = _mm_add_pd(acc0, _mm_mul_pd(pair(A[0], A[1], t), pair(B[0], B[1], t)));
      acc1 = _mm_add_pd(acc1, _mm_mul_pd(pair(A[2], A[3], t), pair(B[2], B[3], t)));
    }
  }
  double o[4];
  _mm_storeu_pd(o, acc0);
  _mm_storeu_pd(o + 2, acc1);
  for (size_t j = 0; j < m; ++j) out[j] = o[j];
#else
  for (size_t j = 0; j < m; ++j) {
    double d = 0;
    for (size_t t = 0; t < n; ++t) d += static_cast<double>(a[j][t]) * b[j][t];
    out[j] = d;
  }
#endif
}

}  // namespace

size_t Fleet::check_dims(size_t R, size_t T) {
  if (R == 0 || T == 0) throw std::invalid_argument("R and T must be at least 1");
  if (T > kMaxValues / R)
    throw std::invalid_argument("a shape of R x T = " + std::to_string(R) + " x " + std::to_string(T) +
                                " values is too large: at most " + std::to_string(kMaxValues) +
                                " (2^31 - 1) values per shape");
  return R;
}

Fleet::Fleet(const PackKernels& kernels, size_t R, size_t T, const float* cap, double risk)
    : R_(check_dims(R, T)), T_(T), k_(kernels) {
  B_ = std::min(T, kMaxBlocks);
  blk_ = (T + B_ - 1) / B_;
  if (blk_ > 8) blk_ = (blk_ + 7) / 8 * 8;  // whole SIMD vectors per block
  B_ = (T + blk_ - 1) / blk_;
  RB_ = R * B_;
  cap_.assign(cap, cap + R);
  allowed_ = risk > 0 ? static_cast<size_t>(std::floor(risk * static_cast<double>(T) + 1e-9)) : 0;
  exact_ = allowed_ == 0;
  // flags_ (risk mode, T bytes) is sized by the first fits(): a fleet costs
  // O(R) memory until its first worker opens.
  np_.resize(R);
}

void Fleet::summarize(const float* s, ShapeSummary& out) const {
  out.bmax.resize(RB_);
  out.bmin.resize(RB_);
  out.vol.assign(R_, 0.0);
  for (size_t r = 0; r < R_; ++r) {
    const float* x = s + r * T_;
    k_.block_maxmin(x, T_, blk_, out.bmax.data() + r * B_, out.bmin.data() + r * B_);
    out.vol[r] = volume_of(x, T_);
  }
}

double Fleet::volume_of(const float* x, size_t n) {
  double a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t t = 0;
  for (; t + 8 <= n; t += 8)
    for (int j = 0; j < 8; ++j) a[j] += x[t + j];
  for (; t < n; ++t) a[t & 7] += x[t];
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

void Fleet::reserve(size_t W) {
  load_.reserve(W * R_ * T_);
  bmax_.reserve(W * RB_);
  bmin_.reserve(W * RB_);
  peak_.reserve(W * R_);
  vol_.reserve(W * R_);
  wcap_.reserve(W * R_);
  wtol_.reserve(W * R_);
}

size_t Fleet::open(const float* cap) {
  if (cap == nullptr) cap = cap_.data();
  size_t w = W_++;
  wcap_.insert(wcap_.end(), cap, cap + R_);
  for (size_t r = 0; r < R_; ++r) wtol_.push_back(cap[r] * 1e-6f);
  load_.resize(W_ * R_ * T_, 0.f);
  bmax_.resize(W_ * RB_, 0.f);
  bmin_.resize(W_ * RB_, 0.f);
  peak_.resize(W_ * R_, 0.f);
  vol_.resize(W_ * R_, 0.0);
  enabled_.push_back(1);
  wit_.push_back(0);
  wit_val_.push_back(0.f);
  wit_cap_.push_back(cap[0]);
  wit2_.push_back(0);
  wit2_val_.push_back(0.f);
  wit2_cap_.push_back(cap[0]);
  sq_.resize(W_ * R_, 0.0);
  sum_.resize(W_ * R_, 0.0);
  sq_ok_.push_back(0);
  if (W_ > leaves_) grow_tree();
  set_leaf(w);
  return w;
}

void Fleet::grow_tree() {
  leaves_ = std::max<size_t>(16, leaves_ * 2);
  while (leaves_ < W_) leaves_ *= 2;
  lo_.assign(2 * leaves_ * RB_, kNegInf);
  hi_.assign(2 * leaves_ * RB_, kNegInf);
  for (size_t w = 0; w < W_; ++w) set_leaf(w);
}

void Fleet::set_leaf(size_t w) {
  size_t node = leaves_ + w;
  float* lo = lo_.data() + node * RB_;
  float* hi = hi_.data() + node * RB_;
  if (w < W_ && enabled_[w]) {
    const float* C = cap(w);
    const float* tl = wtol_.data() + w * R_;
    for (size_t r = 0; r < R_; ++r)
      for (size_t b = 0; b < B_; ++b) {
        size_t k = r * B_ + b;
        lo[k] = C[r] - bmin_[w * RB_ + k] + tl[r];
        hi[k] = C[r] - bmax_[w * RB_ + k] + tl[r];
      }
  } else {
    std::fill(lo, lo + RB_, kNegInf);
    std::fill(hi, hi + RB_, kNegInf);
  }
  // Scans are linear (witness first, then this leaf's filter), so inner
  // nodes of the tree are no longer read or kept up to date.
}

void Fleet::refresh(size_t w) {
  const float* L = load_.data() + w * R_ * T_;
  for (size_t r = 0; r < R_; ++r)
    k_.block_maxmin(L + r * T_, T_, blk_, bmax_.data() + w * RB_ + r * B_, bmin_.data() + w * RB_ + r * B_);
  blocks_changed(w);
}

void Fleet::blocks_changed(size_t w) {
  const float* L = load_.data() + w * R_ * T_;
  for (size_t r = 0; r < R_; ++r) {
    const float* mx = bmax_.data() + w * RB_ + r * B_;
    float p = mx[0];
    for (size_t b = 1; b < B_; ++b) p = std::max(p, mx[b]);
    peak_[w * R_ + r] = p;
  }
  wit_val_[w] = L[wit_[w]];
  wit2_val_[w] = L[wit2_[w]];
  sq_ok_[w] = 0;
  set_leaf(w);
}

void Fleet::set_witness(size_t w, const float* s) {
  const float* L = load_.data() + w * R_ * T_;
  for (size_t r = 0; r < R_; ++r) {
    size_t t = k_.first_over(L + r * T_, s + r * T_, T_, cap(w)[r]);
    if (t < T_) {
      wit2_[w] = wit_[w];
      wit2_val_[w] = wit_val_[w];
      wit2_cap_[w] = wit_cap_[w];
      wit_[w] = static_cast<uint32_t>(r * T_ + t);
      wit_val_[w] = L[r * T_ + t];
      wit_cap_[w] = cap(w)[r];
      return;
    }
  }
}

bool Fleet::fits(size_t w, const float* s, float* newpeak) {
  ++full_checks_;
  const float* L = load_.data() + w * R_ * T_;
  const float* C = cap(w);
  if (exact_) {
    for (size_t r = 0; r < R_; ++r) {
      float m = k_.max_sum(L + r * T_, s + r * T_, T_, C[r]);
      if (!(m <= C[r])) {
        set_witness(w, s);
        return false;
      }
      newpeak[r] = m;
    }
    return true;
  }
  flags_.assign(T_, 0);
  for (size_t r = 0; r < R_; ++r) k_.mark_over(L + r * T_, s + r * T_, T_, C[r], flags_.data());
  size_t over = 0;
  for (size_t t = 0; t < T_; ++t) over += flags_[t];
  if (over > allowed_) return false;
  for (size_t r = 0; r < R_; ++r)
    newpeak[r] = k_.max_sum(L + r * T_, s + r * T_, T_, std::numeric_limits<float>::infinity());
  return true;
}

void Fleet::add(size_t w, const float* s, const ShapeSummary& ss) {
  float* L = load_.data() + w * R_ * T_;
  for (size_t r = 0; r < R_; ++r) {
    // the update and the new block summaries in one pass over the load
    k_.add_maxmin(L + r * T_, s + r * T_, T_, blk_, bmax_.data() + w * RB_ + r * B_,
                  bmin_.data() + w * RB_ + r * B_);
    vol_[w * R_ + r] += ss.vol[r];
  }
  blocks_changed(w);
}

void Fleet::set_load(size_t w, const float* load, const double* vol) {
  std::memcpy(load_.data() + w * R_ * T_, load, R_ * T_ * sizeof(float));
  std::memcpy(vol_.data() + w * R_, vol, R_ * sizeof(double));
  refresh(w);
}

void Fleet::clear(size_t w) {
  std::fill(load_.begin() + w * R_ * T_, load_.begin() + (w + 1) * R_ * T_, 0.f);
  std::fill(vol_.begin() + w * R_, vol_.begin() + (w + 1) * R_, 0.0);
  refresh(w);
}

void Fleet::set_steps(size_t w, size_t p0, size_t k, const float* vals, const double* vol) {
  float* L = load_.data() + w * R_ * T_;
  // the steps p0 .. p0 + k - 1 (mod T): one or two runs [a, b)
  const size_t a0 = p0, b0 = std::min(T_, p0 + k), b1 = p0 + k > T_ ? p0 + k - T_ : 0;
  for (size_t r = 0; r < R_; ++r) {
    float* row = L + r * T_;
    const float* v = vals + r * k;
    std::memcpy(row + a0, v, (b0 - a0) * sizeof(float));
    if (b1) std::memcpy(row, v + (b0 - a0), b1 * sizeof(float));
  }
  std::memcpy(vol_.data() + w * R_, vol, R_ * sizeof(double));
  auto blocks = [&](size_t a, size_t b) {  // refresh the blocks that meet [a, b)
    if (a >= b) return;
    for (size_t bl = a / blk_; bl <= (b - 1) / blk_; ++bl) {
      const size_t s0 = bl * blk_, len = std::min(blk_, T_ - s0);
      for (size_t r = 0; r < R_; ++r)
        k_.block_maxmin(L + r * T_ + s0, len, blk_, bmax_.data() + w * RB_ + r * B_ + bl,
                        bmin_.data() + w * RB_ + r * B_ + bl);
    }
  };
  blocks(a0, b0);
  blocks(0, b1);
  blocks_changed(w);
}

bool Fleet::over(size_t w) const {
  bool above = false;
  const float* C = cap(w);
  for (size_t r = 0; r < R_; ++r) above |= peak_[w * R_ + r] > C[r];
  if (exact_ || !above) return above;  // with a risk budget, count the steps only when some are over
  const float* L = load_.data() + w * R_ * T_;
  size_t n = 0;
  for (size_t t = 0; t < T_; ++t) {
    bool o = false;
    for (size_t r = 0; r < R_; ++r) o |= L[r * T_ + t] > C[r];
    n += o;
  }
  return n > allowed_;
}

// Fleet::score: fleet_score.cpp.

std::string Fleet::check(size_t w) const {
  const float* L = load_.data() + w * R_ * T_;
  std::vector<float> mx(RB_), mn(RB_);
  for (size_t r = 0; r < R_; ++r) k_.block_maxmin(L + r * T_, T_, blk_, mx.data() + r * B_, mn.data() + r * B_);
  for (size_t i = 0; i < RB_; ++i)
    if (mx[i] != bmax_[w * RB_ + i] || mn[i] != bmin_[w * RB_ + i])
      return "worker " + std::to_string(w) + ": block summary " + std::to_string(i) + " is stale";
  for (size_t r = 0; r < R_; ++r) {
    float p = mx[r * B_];
    for (size_t b = 1; b < B_; ++b) p = std::max(p, mx[r * B_ + b]);
    if (p != peak_[w * R_ + r]) return "worker " + std::to_string(w) + ": peak is stale";
  }
  if (wit_val_[w] != L[wit_[w]] || wit2_val_[w] != L[wit2_[w]])
    return "worker " + std::to_string(w) + ": witness value is stale";
  const float* lo = lo_.data() + (leaves_ + w) * RB_;
  const float* hi = hi_.data() + (leaves_ + w) * RB_;
  const float* C = cap(w);
  const float* tl = wtol_.data() + w * R_;
  for (size_t r = 0; r < R_; ++r)
    for (size_t b = 0; b < B_; ++b) {
      const size_t k = r * B_ + b;
      const bool on = enabled_[w] != 0;
      if (lo[k] != (on ? C[r] - mn[k] + tl[r] : kNegInf) || hi[k] != (on ? C[r] - mx[k] + tl[r] : kNegInf))
        return "worker " + std::to_string(w) + ": candidate tree leaf is stale";
    }
  if (sq_ok_[w]) {
    std::vector<double> row(T_);
    for (size_t r = 0; r < R_; ++r) {
      for (size_t t = 0; t < T_; ++t) row[t] = L[r * T_ + t];
      if (k_.dot_fd(L + r * T_, row.data(), T_) != sq_[w * R_ + r] ||
          k_.dot_fd(L + r * T_, std::vector<double>(T_, 1.0).data(), T_) != sum_[w * R_ + r])
        return "worker " + std::to_string(w) + ": sum of squares is stale";
    }
  }
  return "";
}

void Fleet::set_enabled(size_t w, bool on) {
  if ((enabled_[w] != 0) != on) n_disabled_ += on ? -1 : 1;
  enabled_[w] = on ? 1 : 0;
  set_leaf(w);
}

template <class F>
bool Fleet::scan(const float* s, const ShapeSummary& ss, size_t limit, bool newest_first, F&& f) {
  size_t examined = 0;
  if (!exact_) {
    for (size_t j = 0; j < W_; ++j) {
      size_t w = newest_first ? W_ - 1 - j : j;
      if (!enabled_[w]) continue;
      if (limit > 0 && examined++ >= limit) return true;
      if (f(w)) return false;
    }
    return false;
  }
  // Linear scan: the witness test reads three contiguous per-worker arrays
  // and one step of s, so rejecting a full worker costs a few ns; only
  // workers that pass it get the leaf block filter and the exact check.
  const float* wv = wit_val_.data();
  const float* wc = wit_cap_.data();
  const uint32_t* wk = wit_.data();
  const char* en = enabled_.data();
  if (!newest_first && limit == 0) {  // batch: SIMD over workers (gathers)
    for (size_t w = 0; w < W_; ++w) {
      size_t j = k_.witness_next(wv, wc, wk, wit2_val_.data(), wit2_cap_.data(), wit2_.data(), s, w, W_);
      witness_rejects_ += j - w;
      if (j >= W_) break;
      w = j;
      if (!en[w]) continue;
      ++leaves_examined_;
      if (!node_passes(leaves_ + w, ss)) {
        set_witness(w, s);  // the filter proved s does not fit: find a step that shows it
        continue;
      }
      if (f(w)) return false;
    }
    return false;
  }
  if (newest_first && n_disabled_ == 0) {  // online: SIMD over workers, downwards
    // every worker is enabled, so the limit is the newest `limit` workers
    const size_t lo = limit > 0 && limit < W_ ? W_ - limit : 0;
    size_t hi = W_;
    while (hi > lo) {
      size_t w = k_.witness_last(wv, wc, wk, wit2_val_.data(), wit2_cap_.data(), wit2_.data(), s, lo, hi);
      if (w == hi) {
        witness_rejects_ += hi - lo;
        break;
      }
      witness_rejects_ += hi - 1 - w;
      hi = w;
      ++leaves_examined_;
      if (!node_passes(leaves_ + w, ss)) {
        set_witness(w, s);
        continue;
      }
      if (f(w)) return false;
    }
    return lo > 0;  // cut short when older workers were left unvisited
  }
  for (size_t j = 0; j < W_; ++j) {
    size_t w = newest_first ? W_ - 1 - j : j;
    if (!en[w]) continue;
    if (limit > 0 && examined >= limit) return true;
    ++examined;
    if (wv[w] + s[wk[w]] > wc[w] || witness2_rejects(w, s)) {
      ++witness_rejects_;
      continue;
    }
    ++leaves_examined_;
    if (!node_passes(leaves_ + w, ss)) {
      set_witness(w, s);
      continue;
    }
    if (f(w)) return false;
  }
  return false;
}

void Fleet::anti_scores(const size_t* ws, size_t nw, const float* s, const ShapeSummary& ss, double* out) {
  // One dot product per (worker, resource), all side by side, four at a time.
  const size_t m = nw * R_;
  dot_a_.resize(m);
  dot_b_.resize(m);
  dot_out_.resize(m);
  for (size_t k = 0; k < nw; ++k)
    for (size_t r = 0; r < R_; ++r) {
      dot_a_[k * R_ + r] = load_.data() + ws[k] * R_ * T_ + r * T_;
      dot_b_[k * R_ + r] = s + r * T_;
    }
  for (size_t j = 0; j < m; j += 4)
    dots4(dot_a_.data() + j, dot_b_.data() + j, std::min<size_t>(4, m - j), T_, dot_out_.data() + j);
  for (size_t k = 0; k < nw; ++k) {
    const size_t w = ws[k];
    double score = 0;
    for (size_t r = 0; r < R_; ++r) {
      double cov = dot_out_[k * R_ + r] - vol_[w * R_ + r] * ss.vol[r] / static_cast<double>(T_);
      score += cov / (static_cast<double>(cap(w)[r]) * cap(w)[r]);
    }
    out[k] = score;
  }
}

int64_t Fleet::choose(const float* s, const ShapeSummary& ss, PackStrategy strategy, int candidates,
                      size_t scan_limit, bool newest_first, bool* truncated) {
  int64_t best = -1;
  double best_score = 0, best_tie = 0;
  bool best_tie_known = false;
  int seen = 0;
  float* np = np_.data();
  bool cut = scan(s, ss, scan_limit, newest_first, [&](size_t w) {
    if (!fits(w, s, np)) return false;
    if (strategy == PackStrategy::kFirstFit) {
      best = static_cast<int64_t>(w);
      return true;
    }
    double score = 0;
    if (strategy == PackStrategy::kBestFit) {
      for (size_t r = 0; r < R_; ++r) score -= vol_[w * R_ + r] / cap(w)[r];
    } else {
      for (size_t r = 0; r < R_; ++r) score += (static_cast<double>(np[r]) - peak_[w * R_ + r]) / cap(w)[r];
    }
    if (best < 0 || score < best_score - 1e-6) {
      best = static_cast<int64_t>(w);
      best_score = score;
      best_tie_known = false;
    } else if (strategy == PackStrategy::kComplement && score <= best_score + 1e-6) {
      double tie;
      if (!best_tie_known) {  // both in one pass (independent chains)
        const size_t pair[2] = {static_cast<size_t>(best), w};
        double both[2];
        anti_scores(pair, 2, s, ss, both);
        best_tie = both[0];
        tie = both[1];
        best_tie_known = true;
      } else {
        anti_scores(&w, 1, s, ss, &tie);
      }
      if (tie < best_tie) {
        best = static_cast<int64_t>(w);
        best_score = std::min(best_score, score);
        best_tie = tie;
      }
    }
    ++seen;
    return strategy == PackStrategy::kComplement && candidates > 0 && seen >= candidates;
  });
  if (truncated) *truncated = cut;
  return best;
}

}  // namespace pyshape
