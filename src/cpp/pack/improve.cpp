#include "pack/improve.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

#include "pack/repack.hpp"

namespace pyshape {

namespace {

constexpr size_t kPairMax = 48;      // pair ejections on workers holding at most this many shapes
constexpr uint64_t kTenure = 3;      // iterations a shape just placed cannot be ejected
constexpr double kGrow = 0.2;        // weight growth of stuck pool shapes (times their size)
constexpr uint64_t kAttempts = 4;    // an attempt to empty one worker gets 1/kAttempts of the budget
constexpr size_t kExactItems = 28;       // shapes at most in an exact re-pack of the emptiest workers
constexpr size_t kExactItemsWide = 64;   // the same with re-pack moves (ImproveOptions::repack)
constexpr uint64_t kExactNodes = 20000;  // nodes per exact re-pack
constexpr size_t kRepackPool = 4;        // pool sizes at which a pool shape is re-packed with 2-3 workers
constexpr size_t kRepackTop = 6;         // workers (least deficit) whose pairs are tried; triples among the first 5
constexpr uint64_t kRepackNodes = 2000;  // nodes per such re-pack

// s[k] <= slack[k] for every k
bool fits(const double* s, const double* slack, size_t n) {
  size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    int bad = 0;
    for (size_t j = 0; j < 8; ++j) bad |= s[k + j] > slack[k + j];
    if (bad) return false;
  }
  for (; k < n; ++k)
    if (s[k] > slack[k]) return false;
  return true;
}

class Search {
 public:
  Search(const float* D, size_t m, size_t R, size_t T, const float* cap, const int64_t* bin, size_t W,
         uint64_t budget, bool repack)
      : m_(m), R_(R), T_(T), RT_(R * T), W_(W), budget_(budget), repack_(repack) {
    S_.resize(m * RT_);
    for (size_t i = 0; i < m * RT_; ++i) S_[i] = D[i];
    capk_.resize(RT_);
    for (size_t r = 0; r < R; ++r)
      for (size_t t = 0; t < T; ++t) capk_[r * T + t] = cap[r];
    size_.resize(m);
    vnorm_.resize(m);
    for (size_t i = 0; i < m; ++i) {
      double sz = 0, v = 0;
      for (size_t r = 0; r < R; ++r) {
        const double* x = S_.data() + i * RT_ + r * T;
        double pk = 0, vol = 0;
        for (size_t t = 0; t < T; ++t) {
          pk = std::max(pk, x[t]);
          vol += x[t];
        }
        sz += pk / cap[r] + vol / (static_cast<double>(T) * cap[r]);
        v += vol / (static_cast<double>(T) * cap[r]);
      }
      size_[i] = sz;
      vnorm_[i] = v;
    }
    slack_.resize(W * RT_);
    for (size_t b = 0; b < W; ++b) std::copy(capk_.begin(), capk_.end(), slack_.begin() + b * RT_);
    mem_.assign(W, {});
    bin_.assign(m, -1);
    alive_.assign(W, 1);
    fill_.assign(W, 0.0);
    w_.assign(m, 0.0);
    tabu_.assign(m, 0);
    for (size_t i = 0; i < m; ++i) add(static_cast<int>(i), static_cast<int>(bin[i]));
  }

  uint64_t work() const { return work_; }
  size_t alive() const {
    size_t c = 0;
    for (char a : alive_) c += a != 0;
    return c;
  }

  // Removes workers until the bound, a failure on every worker, or the budget.
  size_t run(size_t lower) {
    size_t removed = 0;
    while (alive() > lower && work_ < budget_) {
      if (!reduce_once()) break;
      ++removed;
    }
    return removed;
  }

  // Final plan: workers renumbered in index order. Every worker is re-summed
  // from its shapes (float64) and checked against capacity with the float32
  // allowance of Plan.verify; false when one is over (the caller keeps its plan).
  bool result(int64_t* bin) const {
    std::vector<int64_t> id(W_, -1);
    int64_t c = 0;
    for (size_t b = 0; b < W_; ++b)
      if (alive_[b] && !mem_[b].empty()) id[b] = c++;
    std::vector<double> load(RT_);
    for (size_t b = 0; b < W_; ++b) {
      if (id[b] < 0) continue;
      std::fill(load.begin(), load.end(), 0.0);
      for (int i : mem_[b])
        for (size_t k = 0; k < RT_; ++k) load[k] += S_[i * RT_ + k];
      const double tol = (static_cast<double>(mem_[b].size()) + 0.5) * std::ldexp(1.0, -23);
      for (size_t k = 0; k < RT_; ++k)
        if (load[k] > capk_[k] * (1.0 + tol)) return false;
    }
    for (size_t i = 0; i < m_; ++i) {
      if (bin_[i] < 0 || id[bin_[i]] < 0) return false;
      bin[i] = id[bin_[i]];
    }
    return true;
  }

 private:
  void add(int i, int b) {
    double* sl = slack_.data() + b * RT_;
    const double* s = S_.data() + i * RT_;
    for (size_t k = 0; k < RT_; ++k) sl[k] -= s[k];
    mem_[b].push_back(i);
    bin_[i] = b;
    fill_[b] += vnorm_[i];
    ++version_;
  }
  void remove(int i) {
    int b = bin_[i];
    double* sl = slack_.data() + b * RT_;
    const double* s = S_.data() + i * RT_;
    for (size_t k = 0; k < RT_; ++k) sl[k] += s[k];
    auto& v = mem_[b];
    v.erase(std::find(v.begin(), v.end(), i));
    bin_[i] = -1;
    fill_[b] -= vnorm_[i];
    ++version_;
  }

  struct Snapshot {
    std::vector<double> slack, fill;
    std::vector<std::vector<int>> mem;
    std::vector<int> bin;
    std::vector<char> alive;
  };
  void save(Snapshot& s) const {
    s.slack = slack_;
    s.fill = fill_;
    s.mem = mem_;
    s.bin = bin_;
    s.alive = alive_;
  }
  void restore(const Snapshot& s) {
    slack_ = s.slack;
    fill_ = s.fill;
    mem_ = s.mem;
    bin_ = s.bin;
    alive_ = s.alive;
  }

  std::vector<int> by_fill() const {
    std::vector<int> bs;
    for (size_t b = 0; b < W_; ++b)
      if (alive_[b]) bs.push_back(static_cast<int>(b));
    std::stable_sort(bs.begin(), bs.end(), [&](int a, int b) { return fill_[a] < fill_[b]; });
    return bs;
  }

  // One worker fewer: ejection searches on the workers from the emptiest,
  // an exact re-pack of the emptiest ones after the first, then further
  // rounds over the workers with noisy weights, each attempt with
  // 1/kAttempts of the budget, until one succeeds or the budget is spent.
  bool reduce_once() {
    std::vector<int> bs = by_fill();
    Snapshot snap;
    const uint64_t share = std::max<uint64_t>(budget_ / kAttempts, 1);
    for (size_t round = 0; work_ < budget_; ++round) {
      for (size_t c = 0; c < bs.size() && work_ < budget_; ++c) {
        // the snapshot, its restore and the attempt's weights count too (at
        // a large shard they, not the moves, would take the time)
        work_ += 2 * (slack_.size() + m_) + 2 * m_;
        save(snap);
        if (empty_worker(bs[c], share, round > 0)) return true;
        restore(snap);
        if (round == 0 && c == 0 && bs.size() > 1 && exact_repack(bs)) return true;
      }
    }
    return false;
  }

  // ------------------------------------------------------------ ejection search
  bool empty_worker(int e, uint64_t limit, bool noisy) {
    const uint64_t stop = std::min(budget_, work_ + limit);
    pool_.assign(mem_[e].begin(), mem_[e].end());
    for (int i : pool_) remove(i);
    alive_[e] = 0;
    // weights: the sizes (with a little deterministic noise on later tries, for diversity)
    for (size_t i = 0; i < m_; ++i)
      w_[i] = size_[i] * (noisy ? 1.0 + 0.2 * static_cast<double>(rng() % 1024) / 1024.0 : 1.0);
    std::fill(tabu_.begin(), tabu_.end(), 0);
    // a pool that has grown far beyond the worker's shapes is not coming back: give up
    const size_t max_pool = 2 * pool_.size() + 8;
    for (uint64_t it = 1;; ++it) {
      if (pool_.empty()) return true;
      if (work_ >= stop || pool_.size() > max_pool) return false;
      std::stable_sort(pool_.begin(), pool_.end(), [&](int a, int b) { return w_[a] > w_[b]; });
      bool moved = false;
      for (size_t p = 0; p < pool_.size() && !moved && work_ < stop; ++p) moved = try_insert(p);
      if (repack_ && pool_.size() <= kRepackPool)
        for (size_t p = 0; p < pool_.size() && !moved && work_ < stop; ++p) moved = try_repack(p, stop);
      for (size_t p = 0; p < pool_.size() && !moved && work_ < stop; ++p) moved = try_eject(p, it, stop);
      if (!moved)
        for (int i : pool_) w_[i] += kGrow * size_[i];
    }
  }

  uint64_t rng() {
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return rng_;
  }

  // pool_[p] on the fullest worker where it fits
  bool try_insert(size_t p) {
    const int i = pool_[p];
    const double* s = S_.data() + i * RT_;
    int best = -1;
    for (size_t b = 0; b < W_; ++b) {
      if (!alive_[b]) continue;
      work_ += RT_;
      if (fits(s, slack_.data() + b * RT_, RT_) && (best < 0 || fill_[b] > fill_[best])) best = static_cast<int>(b);
    }
    if (best < 0) return false;
    pool_.erase(pool_.begin() + static_cast<long>(p));
    add(i, best);
    return true;
  }

  // pool_[p] and the shapes of two or three workers re-packed exactly onto
  // those workers (repack.hpp): the coordinated rearrangement that single
  // ejections miss when a small shape's steps are full on every worker. The
  // workers: pairs among the kRepackTop with the least deficit for the
  // shape, then triples among the first five; a set is skipped unless the
  // shape fits their summed slack at every step. Not repeated for a shape
  // while the plan is unchanged since it last failed.
  bool try_repack(size_t p, uint64_t stop) {
    const int i = pool_[p];
    if (repack_seen_.size() != m_) repack_seen_.assign(m_, ~uint64_t{0});
    if (repack_seen_[i] == version_) return false;
    const double* s = S_.data() + i * RT_;
    cand_.clear();
    for (size_t b = 0; b < W_; ++b) {
      if (!alive_[b] || mem_[b].empty()) continue;
      const double* sl = slack_.data() + b * RT_;
      double d = 0;
      for (size_t k = 0; k < RT_; ++k) d += std::max(0.0, s[k] - sl[k]);
      work_ += RT_;
      cand_.push_back({d, static_cast<int>(b)});
    }
    std::stable_sort(cand_.begin(), cand_.end(),
                     [](const std::pair<double, int>& a, const std::pair<double, int>& b) { return a.first < b.first; });
    const size_t L = std::min(cand_.size(), kRepackTop);
    int set[3];
    auto attempt = [&](size_t k) {
      size_t items = 1;
      for (size_t c = 0; c < k; ++c) items += mem_[set[c]].size();
      if (items > kExactItemsWide) return false;
      work_ += RT_;
      for (size_t q = 0; q < RT_; ++q) {  // the shape within the summed slack at every step
        double room = 0;
        for (size_t c = 0; c < k; ++c) room += slack_[set[c] * RT_ + q];
        if (s[q] > room) return false;
      }
      return repack_onto(set, k, i);
    };
    for (size_t a = 0; a < L; ++a)
      for (size_t b = a + 1; b < L; ++b) {
        if (work_ >= stop) return false;
        set[0] = cand_[a].second;
        set[1] = cand_[b].second;
        if (attempt(2)) return finish_repack(p);
      }
    const size_t L3 = std::min<size_t>(L, 5);
    for (size_t a = 0; a < L3; ++a)
      for (size_t b = a + 1; b < L3; ++b)
        for (size_t c = b + 1; c < L3; ++c) {
          if (work_ >= stop) return false;
          set[0] = cand_[a].second;
          set[1] = cand_[b].second;
          set[2] = cand_[c].second;
          if (attempt(3)) return finish_repack(p);
        }
    repack_seen_[i] = version_;
    return false;
  }
  bool finish_repack(size_t p) {
    pool_.erase(pool_.begin() + static_cast<long>(p));
    return true;
  }

  // The shapes of workers set[0..k) plus shape extra (-1: none) re-packed
  // exactly onto those k workers; applied when found.
  bool repack_onto(const int* set, size_t k, int extra) {
    items_.clear();
    for (size_t c = 0; c < k; ++c) items_.insert(items_.end(), mem_[set[c]].begin(), mem_[set[c]].end());
    if (extra >= 0) items_.push_back(extra);
    std::stable_sort(items_.begin(), items_.end(), [&](int a, int b) { return size_[a] > size_[b]; });
    ptr_.resize(items_.size());
    for (size_t q = 0; q < items_.size(); ++q) ptr_[q] = S_.data() + items_[q] * RT_;
    rslack_.resize(k * RT_);
    for (size_t c = 0; c < k; ++c) std::copy(capk_.begin(), capk_.end(), rslack_.begin() + c * RT_);
    where_.resize(items_.size());
    RepackResult r = repack_exact(ptr_.data(), items_.size(), RT_, rslack_.data(), k, kRepackNodes,
                                  budget_ - std::min(budget_, work_), where_.data());
    work_ += r.work;
    if (r.status != RepackStatus::kFound) return false;
    for (int q : items_)
      if (bin_[q] >= 0) remove(q);
    for (size_t q = 0; q < items_.size(); ++q) add(items_[q], set[where_[q]]);
    return true;
  }

  // pool_[p] on a worker, ejecting shapes of smaller total weight: one or two
  // (all pairs), or more, chosen greedily by deficit covered per weight
  bool try_eject(size_t p, uint64_t it, uint64_t stop) {
    const int i = pool_[p];
    const double* s = S_.data() + i * RT_;
    double best_cost = w_[i] * (1.0 - 1e-9);
    int best_b = -1;
    std::vector<int>& best_e = best_e_;
    best_e.clear();
    for (size_t b = 0; b < W_ && work_ < stop; ++b) {  // (a scan of a large shard may be long: it stops with the budget)
      if (!alive_[b] || mem_[b].empty()) continue;
      const double* sl = slack_.data() + b * RT_;
      def_k_.clear();
      def_d_.clear();
      size_t top = 0;
      for (size_t k = 0; k < RT_; ++k)
        if (s[k] > sl[k]) {
          def_k_.push_back(static_cast<uint32_t>(k));
          def_d_.push_back(s[k] - sl[k]);
          if (def_d_.back() > def_d_[top]) top = def_d_.size() - 1;
        }
      work_ += RT_;
      if (def_k_.empty()) continue;
      std::swap(def_k_[0], def_k_[top]);  // the largest deficit first: most candidates fail there
      std::swap(def_d_[0], def_d_[top]);
      const size_t nd = def_k_.size();
      const auto& mb = mem_[b];
      auto covers1 = [&](int a) {
        const double* x = S_.data() + a * RT_;
        for (size_t q = 0; q < nd; ++q)
          if (x[def_k_[q]] < def_d_[q]) return false;
        return true;
      };
      auto covers2 = [&](int a, int c) {
        const double* x = S_.data() + a * RT_;
        const double* y = S_.data() + c * RT_;
        for (size_t q = 0; q < nd; ++q)
          if (x[def_k_[q]] + y[def_k_[q]] < def_d_[q]) return false;
        return true;
      };
      bool found_small = false;
      for (int a : mb) {
        if (tabu_[a] >= it || w_[a] >= best_cost) continue;
        work_ += 1;
        if (covers1(a)) {
          best_cost = w_[a];
          best_b = static_cast<int>(b);
          best_e.assign(1, a);
          found_small = true;
        }
      }
      if (mb.size() <= kPairMax) {
        for (size_t x = 0; x < mb.size(); ++x) {
          const int a = mb[x];
          if (tabu_[a] >= it || w_[a] >= best_cost) continue;
          for (size_t y = x + 1; y < mb.size(); ++y) {
            const int c = mb[y];
            if (tabu_[c] >= it || w_[a] + w_[c] >= best_cost) continue;
            work_ += 1;
            if (covers2(a, c)) {
              best_cost = w_[a] + w_[c];
              best_b = static_cast<int>(b);
              best_e.assign({a, c});
              found_small = true;
            }
          }
        }
      }
      if (!found_small && mb.size() > 2) greedy_cover(mb, it, b, best_cost, best_b, best_e);
    }
    if (best_b < 0) return false;
    for (int a : best_e) remove(a);
    work_ += RT_;
    if (!fits(s, slack_.data() + best_b * RT_, RT_)) {  // rounding: the move does not hold after all
      for (int a : best_e) add(a, best_b);
      return false;
    }
    pool_.erase(pool_.begin() + static_cast<long>(p));
    add(i, best_b);
    tabu_[i] = it + kTenure;
    for (int a : best_e) pool_.push_back(a);
    return true;
  }

  // Three or more shapes of b that cover the deficits (def_k_, def_d_): picked
  // by covered deficit per weight, then the heaviest redundant ones dropped.
  void greedy_cover(const std::vector<int>& mb, uint64_t it, size_t b, double& best_cost, int& best_b,
                    std::vector<int>& best_e) {
    const size_t nd = def_k_.size();
    rem_.assign(def_d_.begin(), def_d_.end());
    chosen_.clear();
    double cost = 0;
    for (;;) {
      int pick = -1;
      double pick_score = 0;
      for (int a : mb) {
        if (tabu_[a] >= it || cost + w_[a] >= best_cost) continue;
        if (std::find(chosen_.begin(), chosen_.end(), a) != chosen_.end()) continue;
        const double* x = S_.data() + a * RT_;
        double g = 0;
        for (size_t q = 0; q < nd; ++q)
          if (rem_[q] > 0) g += std::min(x[def_k_[q]], rem_[q]);
        work_ += nd;
        if (g <= 0) continue;
        double score = g / std::max(w_[a], 1e-12);
        if (pick < 0 || score > pick_score) {
          pick = a;
          pick_score = score;
        }
      }
      if (pick < 0) return;
      chosen_.push_back(pick);
      cost += w_[pick];
      const double* x = S_.data() + pick * RT_;
      bool done = true;
      for (size_t q = 0; q < nd; ++q) {
        rem_[q] -= x[def_k_[q]];
        done &= rem_[q] <= 0;
      }
      if (done) break;
    }
    // drop redundant shapes, heaviest first
    std::stable_sort(chosen_.begin(), chosen_.end(), [&](int a, int c) { return w_[a] > w_[c]; });
    for (size_t c = 0; c < chosen_.size();) {
      const double* x = S_.data() + chosen_[c] * RT_;
      bool still = true;
      for (size_t q = 0; q < nd && still; ++q) still = rem_[q] + x[def_k_[q]] <= 0;
      if (still) {
        for (size_t q = 0; q < nd; ++q) rem_[q] += x[def_k_[q]];
        cost -= w_[chosen_[c]];
        chosen_.erase(chosen_.begin() + static_cast<long>(c));
      } else {
        ++c;
      }
    }
    if (cost < best_cost) {
      best_cost = cost;
      best_b = static_cast<int>(b);
      best_e = chosen_;
    }
  }

  // ------------------------------------------------------------ exact re-pack
  // The shapes of the k emptiest workers (k = 2, 3, 4 while they hold at
  // most kExactItems shapes) into k - 1 of them.
  bool exact_repack(const std::vector<int>& bs) {
    for (size_t k = 2; k <= std::min<size_t>(4, bs.size()) && work_ < budget_; ++k) {
      size_t items = 0;
      for (size_t c = 0; c < k; ++c) items += mem_[bs[c]].size();
      if (items > (repack_ ? kExactItemsWide : kExactItems)) break;
      std::vector<int> set(bs.begin(), bs.begin() + static_cast<long>(k - 1));
      items_.clear();
      for (size_t c = 0; c < k; ++c) items_.insert(items_.end(), mem_[bs[c]].begin(), mem_[bs[c]].end());
      std::stable_sort(items_.begin(), items_.end(), [&](int a, int b) { return size_[a] > size_[b]; });
      ptr_.resize(items_.size());
      for (size_t q = 0; q < items_.size(); ++q) ptr_[q] = S_.data() + items_[q] * RT_;
      rslack_.resize((k - 1) * RT_);
      for (size_t c = 0; c + 1 < k; ++c) std::copy(capk_.begin(), capk_.end(), rslack_.begin() + c * RT_);
      where_.resize(items_.size());
      RepackResult r =
          repack_exact(ptr_.data(), items_.size(), RT_, rslack_.data(), k - 1, kExactNodes,
                       budget_ - std::min(budget_, work_), where_.data());
      work_ += r.work;
      if (r.status == RepackStatus::kFound) {
        for (int q : items_)
          if (bin_[q] >= 0) remove(q);
        for (size_t q = 0; q < items_.size(); ++q) add(items_[q], set[where_[q]]);
        alive_[bs[k - 1]] = 0;
        return true;
      }
    }
    return false;
  }

  size_t m_, R_, T_, RT_, W_;
  uint64_t budget_;
  bool repack_;
  uint64_t work_ = 0, rng_ = 0x9E3779B97F4A7C15ull;
  std::vector<double> S_, capk_, size_, vnorm_;
  std::vector<double> slack_, fill_, w_;
  std::vector<std::vector<int>> mem_;
  std::vector<int> bin_, pool_;
  std::vector<char> alive_;
  std::vector<uint64_t> tabu_;
  std::vector<uint32_t> def_k_;
  std::vector<double> def_d_, rem_;
  std::vector<int> best_e_, chosen_;
  // re-pack scratch; version_ counts plan changes (add / remove)
  uint64_t version_ = 0;
  std::vector<uint64_t> repack_seen_;
  std::vector<std::pair<double, int>> cand_;
  std::vector<int> items_, where_;
  std::vector<const double*> ptr_;
  std::vector<double> rslack_;
};

// Martello and Toth's L2 for one-dimensional bin packing of the values x (all
// in (0, C]) into bins of capacity C: for each threshold K in {0} and the
// values <= C / 2, the values above C - K (N1) and in (C / 2, C - K] (N2)
// each need a bin of their own, N1's bins take nothing of size >= K, and the
// values in [K, C / 2] (N3) fill N2's room first:
// |N1| + |N2| + max(0, ceil((sum N3 - (|N2| C - sum N2)) / C)). Sorts x.
size_t step_bound_l2(std::vector<double>& x, double C, std::vector<double>& pre) {
  if (x.empty()) return 0;
  std::sort(x.begin(), x.end());  // ascending
  const size_t n = x.size();
  pre.assign(n + 1, 0.0);
  for (size_t i = 0; i < n; ++i) pre[i + 1] = pre[i] + x[i];
  auto ceil_div = [&](double v) {
    const double c = v / C - 1e-9;
    return c > 0 ? static_cast<size_t>(std::ceil(c)) : size_t{0};
  };
  size_t best = ceil_div(pre[n]);
  // first index with x > C / 2
  const size_t half = static_cast<size_t>(std::upper_bound(x.begin(), x.end(), C / 2) - x.begin());
  auto at = [&](double K) {  // N1: x > C - K; N2: C / 2 < x <= C - K; N3: K <= x <= C / 2
    const size_t hi = static_cast<size_t>(std::upper_bound(x.begin(), x.end(), C - K) - x.begin());
    const size_t lo = static_cast<size_t>(std::lower_bound(x.begin(), x.end(), K) - x.begin());
    const size_t n1 = n - std::max(hi, half);
    const size_t n2 = hi > half ? hi - half : 0;
    const double s2 = hi > half ? pre[hi] - pre[half] : 0.0;
    const double s3 = lo < half ? pre[half] - pre[lo] : 0.0;
    return n1 + n2 + ceil_div(s3 - (static_cast<double>(n2) * C - s2));
  };
  best = std::max(best, at(0.0));
  for (size_t j = 0; j < half; ++j)
    if (j == 0 || x[j] != x[j - 1]) best = std::max(best, at(x[j]));
  return best;
}

}  // namespace

ImproveResult improve_plan(const float* D, size_t m, size_t R, size_t T, const float* cap, int64_t* bin,
                           size_t W, size_t lower, uint64_t budget, const ImproveOptions& opt) {
  ImproveResult res;
  res.workers = W;
  if (W <= lower || W <= 1 || m == 0) {
    res.at_bound = W <= lower;
    return res;
  }
  Search s(D, m, R, T, cap, bin, W, budget, opt.repack);
  size_t removed = s.run(lower);
  res.work = s.work();
  if (removed > 0) {
    std::vector<int64_t> out(m);
    if (s.result(out.data())) {
      std::copy(out.begin(), out.end(), bin);
      res.removed = removed;
      res.workers = W - removed;
    }
  }
  res.at_bound = res.workers <= lower;
  return res;
}

size_t improve_lower_bound(const float* D, size_t m, size_t R, size_t T, const float* cap,
                           size_t max_clique_items, uint64_t* work) {
  const size_t RT = R * T;
  size_t lb = m > 0 ? 1 : 0;
  std::vector<double> tot(RT, 0.0);
  for (size_t i = 0; i < m; ++i)
    for (size_t k = 0; k < RT; ++k) tot[k] += D[i * RT + k];
  for (size_t k = 0; k < RT; ++k) {
    double x = tot[k] / cap[k / T] - 1e-7;
    if (x > 0) lb = std::max(lb, static_cast<size_t>(std::ceil(x)));
  }
  if (work) *work += m * RT;
  // per (resource, step): the Martello-Toth bound L2 of the one-step bin packing
  // (any plan packs every step), on a capacity widened by 1e-6 (float32 rounding)
  std::vector<double> x;
  std::vector<double> pre;
  // (a step with no value above C / 2 has L2 = ceil(sum / C), the bound above:
  // skipped, so fleets of small shapes pay one scan)
  for (size_t k = 0; k < RT; ++k) {
    const double C = cap[k / T] * (1.0 + 1e-6);
    bool big = false;
    for (size_t i = 0; i < m && !big; ++i) big = D[i * RT + k] > C / 2;
    if (work) *work += m;
    if (!big) continue;
    x.clear();
    for (size_t i = 0; i < m; ++i)
      if (D[i * RT + k] > 0) x.push_back(D[i * RT + k]);
    lb = std::max(lb, step_bound_l2(x, C, pre));
    if (work) *work += x.size() * (2 + static_cast<size_t>(std::log2(1.0 + static_cast<double>(x.size()))));
  }
  // greedy cliques of pairwise conflicting shapes among the largest
  std::vector<double> key(m, 0.0);
  for (size_t i = 0; i < m; ++i)
    for (size_t r = 0; r < R; ++r) {
      const float* x = D + i * RT + r * T;
      key[i] = std::max(key[i], static_cast<double>(*std::max_element(x, x + T)) / cap[r]);
    }
  std::vector<size_t> idx(m);
  std::iota(idx.begin(), idx.end(), size_t{0});
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return key[a] > key[b]; });
  const size_t L = std::min(m, max_clique_items);
  // conflict: some (r, t) with D_a + D_b above capacity by more than float32 rounding
  auto conflict = [&](size_t a, size_t b) {
    const float* x = D + a * RT;
    const float* y = D + b * RT;
    for (size_t k = 0; k < RT; ++k)
      if (static_cast<double>(x[k]) + y[k] > cap[k / T] * (1.0 + 1e-6)) return true;
    return false;
  };
  std::vector<char> cf(L * L, 0);
  for (size_t a = 0; a < L; ++a)
    for (size_t b = a + 1; b < L; ++b) {
      if (key[idx[a]] + key[idx[b]] <= 1.0) continue;  // peaks sum within capacity: no conflict
      cf[a * L + b] = cf[b * L + a] = conflict(idx[a], idx[b]);
      if (work) *work += RT;
    }
  for (size_t start = 0; start < std::min<size_t>(L, 8); ++start) {
    std::vector<size_t> cl{start};
    for (size_t a = 0; a < L; ++a) {
      if (a == start) continue;
      bool all = true;
      for (size_t c : cl)
        if (!cf[a * L + c]) {
          all = false;
          break;
        }
      if (all) cl.push_back(a);
    }
    lb = std::max(lb, cl.size());
  }
  return lb;
}

}  // namespace pyshape
