// Squeeze: weighted-overflow search on a fixed number of workers (see squeeze.hpp).
#include "pack/squeeze.hpp"

#include "pack/repack.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <vector>

namespace pyshape {

namespace {

constexpr uint64_t kTenureMin = 2;   // iterations a shape may not go back to the worker it left ...
constexpr uint64_t kTenureSpan = 6;  // ... plus a seeded 0..kTenureSpan-1 (varied, so cycles break)
constexpr size_t kPartners = 4;       // partners of an overflowing worker in pair re-packs
constexpr uint64_t kPairNodes = 2000;  // nodes per pair re-pack
constexpr uint64_t kPieces = 4;        // a try (one seed) gets 1 / kPieces of squeeze_plan's budget

uint64_t mix(uint64_t x) {  // splitmix64: a seed to a generator state (never 0)
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  x ^= x >> 31;
  return x ? x : 1;
}

class Squeeze {
 public:
  Squeeze(const double* S, size_t m, size_t RT, const double* capk, size_t k, int* where, uint64_t seed)
      : S_(S), m_(m), RT_(RT), k_(k), where_(where), rng_(mix(seed)) {
    base_.resize(RT);
    for (size_t q = 0; q < RT; ++q) base_[q] = 1.0 / capk[q];
    M_.assign(RT, 0.0);
    for (size_t i = 0; i < m; ++i)
      for (size_t q = 0; q < RT; ++q) M_[q] = std::max(M_[q], S[i * RT + q]);
    e_.assign(k * RT, 0.0);
    for (size_t b = 0; b < k; ++b)
      for (size_t q = 0; q < RT; ++q) e_[b * RT + q] = -capk[q];
    w_.resize(k * RT);
    for (size_t b = 0; b < k; ++b) std::copy(base_.begin(), base_.end(), w_.begin() + b * RT);
    mem_.assign(k, {});
    pos_.assign(m, 0);
    for (size_t i = 0; i < m; ++i) {
      const int b = where[i];
      pos_[i] = mem_[b].size();
      mem_[b].push_back(static_cast<int>(i));
      double* e = &e_[b * RT];
      const double* x = S + i * RT;
      for (size_t q = 0; q < RT; ++q) e[q] += x[q];
    }
    F_.assign(k, 0.0);
    nv_.assign(k, 0);
    near_.assign(k, {});
    for (size_t b = 0; b < k; ++b) refresh(b);
    tabu_.assign(m * k, 0);
    r_.assign(m, 0.0);
    size_.assign(m, 0.0);
    for (size_t i = 0; i < m; ++i) {
      double pk = 0, v = 0;
      for (size_t q = 0; q < RT; ++q) {
        pk = std::max(pk, S[i * RT + q] * base_[q]);
        v += S[i * RT + q] * base_[q];
      }
      size_[i] = pk + v / static_cast<double>(RT);
    }
    ver_.assign(k, 0);
    capk_.assign(capk, capk + RT);
    work_ = 2 * m * RT + 2 * k * RT;  // the loads, the largest values, the penalties
  }

  SqueezeResult run(uint64_t budget) {
    SqueezeResult res;
    for (uint64_t it = 1;; ++it) {
      size_t over = 0;
      for (size_t b = 0; b < k_; ++b) over += nv_[b] > 0;
      if (over == 0) {
        res.found = true;
        break;
      }
      if (work_ >= budget || k_ < 2) break;
      // the shapes that add to an overflowing step of their worker, by what
      // leaving would save (r_: that saving, 0 on workers within capacity)
      cand_.clear();
      for (size_t a = 0; a < k_; ++a) {
        if (nv_[a] == 0) continue;
        for (int i : mem_[a]) {
          r_[i] = shifted(a, S_ + static_cast<size_t>(i) * RT_, -1.0);
          if (r_[i] < 0) cand_.push_back({r_[i], i});
        }
      }
      std::stable_sort(cand_.begin(), cand_.end(),
                       [](const std::pair<double, int>& x, const std::pair<double, int>& y) { return x.first < y.first; });
      double rmin = 0;
      for (const auto& c : cand_) rmin = std::min(rmin, c.first);
      best_ = std::numeric_limits<double>::infinity();
      ties_ = 0;
      bi_ = -1;
      for (const auto& c : cand_) {
        // no move of this shape (or of the later ones) can beat the best: its
        // worker's saving plus the largest saving of a partner bound them
        if (c.first + rmin > best_ || work_ >= budget) break;
        scan(c.second, it);
      }
      // a move must lower the objective by more than rounding in the penalties
      double tiny = 0;
      for (size_t b = 0; b < k_; ++b) tiny = std::max(tiny, F_[b]);
      if (best_ < -1e-12 * tiny) {
        const int a = where_[bi_];
        move(bi_, bb_);
        tabu_[static_cast<size_t>(bi_) * k_ + a] = it + kTenureMin + rng() % kTenureSpan;
        if (bj_ >= 0) {
          move(bj_, a);
          tabu_[static_cast<size_t>(bj_) * k_ + bb_] = it + kTenureMin + rng() % kTenureSpan;
        }
        ++res.moves;
      } else if (pair_repack(budget)) {
        ++res.repacks;
      } else {
        bump();
        ++res.bumps;
      }
      for (size_t a = 0; a < k_; ++a)  // r_ is 0 off the overflowing workers
        if (nv_[a] == 0)
          for (int i : mem_[a]) r_[i] = 0;
    }
    res.work = work_;
    return res;
  }

 private:
  // penalty of worker b (F_), its count of (resource, step) over capacity
  // (nv_) and its near cells: those where adding the largest value of any
  // shape would overflow (elsewhere no move changes the penalty)
  void refresh(size_t b) {
    const double* e = &e_[b * RT_];
    const double* w = &w_[b * RT_];
    double f = 0;
    size_t c = 0;
    auto& nr = near_[b];
    nr.clear();
    for (size_t q = 0; q < RT_; ++q) {
      f += w[q] * std::max(0.0, e[q]);
      c += e[q] > 0;
      if (e[q] + M_[q] > 0) nr.push_back(static_cast<uint32_t>(q));
    }
    F_[b] = f;
    nv_[b] = c;
    work_ += RT_;
  }

  uint64_t rng() {
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return rng_;
  }

  // penalty of worker b with sign * x added, minus its penalty now
  double shifted(size_t b, const double* x, double sign) {
    const double* e = &e_[b * RT_];
    const double* w = &w_[b * RT_];
    double f = 0;
    for (uint32_t q : near_[b]) f += w[q] * std::max(0.0, e[q] + sign * x[q]);
    work_ += near_[b].size();
    return f - F_[b];
  }

  // penalty of worker b with y added and x taken out, minus its penalty now
  double traded(size_t b, const double* y, const double* x) {
    const double* e = &e_[b * RT_];
    const double* w = &w_[b * RT_];
    double f = 0;
    for (uint32_t q : near_[b]) f += w[q] * std::max(0.0, e[q] + y[q] - x[q]);
    work_ += near_[b].size();
    return f - F_[b];
  }

  void consider(double d, int i, int b, int j) {
    const double eps = std::isinf(best_) ? 0.0 : 1e-12 * std::max(1.0, std::abs(best_));
    if (d < best_ - eps) {
      best_ = d;
      ties_ = 1;
    } else if (d <= best_ + eps) {
      if (rng() % ++ties_ != 0) return;  // reservoir: every tied move equally likely
    } else {
      return;
    }
    bi_ = i;
    bb_ = b;
    bj_ = j;
  }

  // the moves of shape i (on a worker over capacity): relocate, swap. A
  // swap's change is at least r_[i] + r_[j] (taking a shape out never costs),
  // so pairs that cannot beat the best are not evaluated.
  void scan(int i, uint64_t it) {
    const int a = where_[i];
    const double* x = S_ + static_cast<size_t>(i) * RT_;
    const double g = r_[i];
    const uint64_t* tb = &tabu_[static_cast<size_t>(i) * k_];
    for (size_t b = 0; b < k_; ++b) {
      if (static_cast<int>(b) == a || tb[b] > it) continue;
      consider(g + shifted(b, x, 1.0), i, static_cast<int>(b), -1);
    }
    for (size_t b = 0; b < k_; ++b) {
      if (static_cast<int>(b) == a || tb[b] > it) continue;
      for (int j : mem_[b]) {
        if (tabu_[static_cast<size_t>(j) * k_ + a] > it || g + r_[j] > best_) continue;
        const double* y = S_ + static_cast<size_t>(j) * RT_;
        const double da = traded(static_cast<size_t>(a), y, x);
        if (da + r_[j] > best_) continue;
        consider(da + traded(b, x, y), i, static_cast<int>(b), j);
      }
    }
  }

  void move(int i, int b) {
    const int a = where_[i];
    auto& va = mem_[a];
    const size_t p = pos_[i];
    va[p] = va.back();
    pos_[va[p]] = p;
    va.pop_back();
    pos_[i] = mem_[b].size();
    mem_[b].push_back(i);
    where_[i] = b;
    const double* x = S_ + static_cast<size_t>(i) * RT_;
    double* ea = &e_[static_cast<size_t>(a) * RT_];
    double* eb = &e_[static_cast<size_t>(b) * RT_];
    for (size_t q = 0; q < RT_; ++q) {
      ea[q] -= x[q];
      eb[q] += x[q];
    }
    work_ += 2 * RT_;
    ++ver_[a];
    ++ver_[b];
    refresh(static_cast<size_t>(a));
    refresh(static_cast<size_t>(b));
  }

  // A local minimum: an overflowing worker a and a partner b (the kPartners
  // with the most room at a's overflowing cells) re-packed exactly onto two
  // empty workers (repack.hpp, kPairNodes nodes): the precise split of a
  // tight step that single moves and swaps miss. A pair is not tried again
  // while neither worker has changed since it failed. True when one succeeded.
  bool pair_repack(uint64_t budget) {
    order_.clear();
    for (size_t a = 0; a < k_; ++a)
      if (nv_[a] > 0) order_.push_back({-F_[a], static_cast<int>(a)});
    std::stable_sort(order_.begin(), order_.end());
    for (const auto& oa : order_) {
      const size_t a = static_cast<size_t>(oa.second);
      const double* ea = &e_[a * RT_];
      part_.clear();
      for (size_t b = 0; b < k_; ++b) {
        if (b == a) continue;
        const double* eb = &e_[b * RT_];
        double room = 0;
        for (uint32_t q : near_[a])
          if (ea[q] > 0) room += std::min(ea[q], std::max(0.0, -eb[q])) * base_[q];
        work_ += near_[a].size();
        if (room > 0) part_.push_back({-room, static_cast<int>(b)});
      }
      std::stable_sort(part_.begin(), part_.end());
      for (size_t c = 0; c < std::min(part_.size(), kPartners) && work_ < budget; ++c) {
        const size_t b = static_cast<size_t>(part_[c].second);
        const uint64_t key = std::min(a, b) * k_ + std::max(a, b);
        auto it = failed_.find(key);
        const std::pair<uint64_t, uint64_t> stamp{ver_[std::min(a, b)], ver_[std::max(a, b)]};
        if (it != failed_.end() && it->second == stamp) continue;
        if (repack_two(a, b, budget)) return true;
        failed_[key] = stamp;
      }
    }
    return false;
  }

  bool repack_two(size_t a, size_t b, uint64_t budget) {
    items_.assign(mem_[a].begin(), mem_[a].end());
    items_.insert(items_.end(), mem_[b].begin(), mem_[b].end());
    std::stable_sort(items_.begin(), items_.end(), [&](int x, int y) { return size_[x] > size_[y]; });
    ptr_.resize(items_.size());
    for (size_t q = 0; q < items_.size(); ++q) ptr_[q] = S_ + static_cast<size_t>(items_[q]) * RT_;
    rslack_.resize(2 * RT_);
    std::copy(capk_.begin(), capk_.end(), rslack_.begin());
    std::copy(capk_.begin(), capk_.end(), rslack_.begin() + RT_);
    pw_.resize(items_.size());
    RepackResult r = repack_exact(ptr_.data(), items_.size(), RT_, rslack_.data(), 2, kPairNodes,
                                  budget - std::min(budget, work_), pw_.data());
    work_ += r.work;
    if (r.status != RepackStatus::kFound) return false;
    const size_t to[2] = {a, b};
    mem_[a].clear();
    mem_[b].clear();
    for (size_t q = 0; q < items_.size(); ++q) {
      const int i = items_[q];
      const size_t d = to[pw_[q]];
      where_[i] = static_cast<int>(d);
      pos_[i] = mem_[d].size();
      mem_[d].push_back(i);
    }
    for (size_t d : to) {  // the loads re-summed from the shapes
      double* e = &e_[d * RT_];
      for (size_t q = 0; q < RT_; ++q) e[q] = -capk_[q];
      for (int i : mem_[d]) {
        const double* x = S_ + static_cast<size_t>(i) * RT_;
        for (size_t q = 0; q < RT_; ++q) e[q] += x[q];
      }
      work_ += (mem_[d].size() + 1) * RT_;
      ++ver_[d];
      refresh(d);
    }
    return true;
  }

  // a local minimum: every (worker, step) over capacity weighs more
  void bump() {
    for (size_t b = 0; b < k_; ++b) {
      if (nv_[b] == 0) continue;
      const double* e = &e_[b * RT_];
      double* w = &w_[b * RT_];
      for (size_t q = 0; q < RT_; ++q)
        if (e[q] > 0) w[q] += base_[q];
      refresh(b);
    }
  }

  const double* S_;
  size_t m_, RT_, k_;
  int* where_;
  uint64_t rng_, work_ = 0;
  std::vector<double> base_, M_, e_, w_, F_, r_;
  std::vector<size_t> nv_, pos_;
  std::vector<std::vector<uint32_t>> near_;
  std::vector<std::vector<int>> mem_;
  std::vector<std::pair<double, int>> cand_;
  std::vector<uint64_t> tabu_;
  // pair re-packs: sizes (the re-pack's order), versions of the workers, failed pairs
  std::vector<double> size_, capk_, rslack_;
  std::vector<uint64_t> ver_;
  std::unordered_map<uint64_t, std::pair<uint64_t, uint64_t>> failed_;
  std::vector<std::pair<double, int>> order_, part_;
  std::vector<int> items_, pw_;
  std::vector<const double*> ptr_;
  double best_ = 0;
  uint64_t ties_ = 0;
  int bi_ = -1, bb_ = -1, bj_ = -1;
};

// Spread shapes items (in that order) over workers with loads L (k x RT):
// each where it adds the least overflow / capacity (ties: the least load).
void spread(const double* S, const int* items, size_t n, size_t RT, const double* capk, size_t k, double* L,
            int* where) {
  for (size_t c = 0; c < n; ++c) {
    const int i = items[c];
    const double* x = S + static_cast<size_t>(i) * RT;
    int best = 0;
    double bo = std::numeric_limits<double>::infinity(), bl = 0;
    for (size_t b = 0; b < k; ++b) {
      const double* l = L + b * RT;
      double o = 0, f = 0;
      for (size_t q = 0; q < RT; ++q) {
        o += (std::max(0.0, l[q] + x[q] - capk[q]) - std::max(0.0, l[q] - capk[q])) / capk[q];
        f += l[q] / capk[q];
      }
      if (o < bo || (o == bo && f < bl)) {
        bo = o;
        bl = f;
        best = static_cast<int>(b);
      }
    }
    where[i] = best;
    double* l = L + static_cast<size_t>(best) * RT;
    for (size_t q = 0; q < RT; ++q) l[q] += x[q];
  }
}

}  // namespace

SqueezeResult squeeze_into(const double* S, size_t m, size_t RT, const double* capk, size_t k, int* where,
                           uint64_t budget, uint64_t seed) {
  if (k == 0 || m == 0) {
    SqueezeResult r;
    r.found = m == 0;
    return r;
  }
  Squeeze s(S, m, RT, capk, k, where, seed);
  return s.run(budget);
}

void squeeze_start(const double* S, size_t m, size_t RT, const double* capk, size_t k, int* where) {
  if (k == 0) return;
  std::vector<double> L(k * RT, 0.0);
  std::vector<int> items(m);
  for (size_t i = 0; i < m; ++i) items[i] = static_cast<int>(i);
  spread(S, items.data(), m, RT, capk, k, L.data(), where);
}

SqueezePlanResult squeeze_plan(const float* D, size_t m, size_t R, size_t T, const float* cap, int64_t* bin,
                               size_t W, size_t lower, uint64_t budget, uint64_t seed) {
  SqueezePlanResult res;
  res.workers = W;
  const size_t RT = R * T;
  if (m == 0 || W <= 1 || W <= lower) return res;
  std::vector<double> S(m * RT), capk(RT), size(m, 0.0);
  for (size_t i = 0; i < m * RT; ++i) S[i] = D[i];
  for (size_t r = 0; r < R; ++r)
    for (size_t t = 0; t < T; ++t) capk[r * T + t] = cap[r];
  for (size_t i = 0; i < m; ++i)
    for (size_t r = 0; r < R; ++r) {
      double pk = 0, vol = 0;
      for (size_t t = 0; t < T; ++t) {
        pk = std::max(pk, S[i * RT + r * T + t]);
        vol += S[i * RT + r * T + t];
      }
      size[i] += pk / cap[r] + vol / (static_cast<double>(T) * cap[r]);
    }
  res.work += 2 * m * RT;
  std::vector<int> where(m), bysize(m);
  for (size_t i = 0; i < m; ++i) bysize[i] = static_cast<int>(i);
  std::stable_sort(bysize.begin(), bysize.end(), [&](int a, int b) { return size[a] > size[b]; });
  std::vector<double> L, load(RT);
  const uint64_t piece = std::max<uint64_t>(budget / kPieces, 1);
  for (uint64_t round = 0; W > lower && W > 1 && res.work < budget; ++round) {
    const size_t k = W - 1;
    bool found = false;
    // tries from the least-overflow start (shapes by size), each with its own
    // seed and a piece of the budget: a search that fails with one seed often
    // succeeds with another, sooner than by going on
    for (uint64_t t = 0; !found && res.work < budget; ++t) {
      if (m * k * RT > piece) break;  // the start alone would take the try's budget
      L.assign(k * RT, 0.0);
      spread(S.data(), bysize.data(), m, RT, capk.data(), k, L.data(), where.data());
      res.work += m * k * RT;
      const uint64_t share = std::min(budget - std::min(budget, res.work), piece);
      SqueezeResult r = squeeze_into(S.data(), m, RT, capk.data(), k, where.data(), share, seed + 1000 * round + t);
      res.work += r.work;
      found = r.found;
    }
    if (!found) break;
    // re-check from the shapes (float64 sums, Plan.verify's float32 allowance);
    // a worker left empty is dropped (workers renumbered in order)
    bool ok = true;
    std::vector<int64_t> id(k, -1);
    int64_t used = 0;
    for (size_t b = 0; b < k && ok; ++b) {
      std::fill(load.begin(), load.end(), 0.0);
      size_t cnt = 0;
      for (size_t i = 0; i < m; ++i)
        if (static_cast<size_t>(where[i]) == b) {
          ++cnt;
          for (size_t q = 0; q < RT; ++q) load[q] += S[i * RT + q];
        }
      const double tol = (static_cast<double>(cnt) + 0.5) * std::ldexp(1.0, -23);
      for (size_t q = 0; q < RT && ok; ++q) ok = load[q] <= capk[q] * (1.0 + tol);
      if (cnt > 0) id[b] = used++;
    }
    res.work += m * RT;
    if (!ok) break;
    for (size_t i = 0; i < m; ++i) bin[i] = id[where[i]];
    W = static_cast<size_t>(used);
    res.workers = W;
  }
  return res;
}

}  // namespace pyshape
