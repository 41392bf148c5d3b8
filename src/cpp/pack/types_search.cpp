// Local search over a typed plan (see types_search.hpp).
#include "pack/types_search.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

#include "pack/improve.hpp"
#include "pack/portfolio.hpp"
#include "pack/types.hpp"

namespace pyshape {

double typed_search_budget(double effort, size_t V) {
  return effort * (std::ldexp(1.0, 25) + static_cast<double>(V));
}

namespace {

constexpr double kGain = 1e-9;  // a change is kept when it saves more than this fraction of a cost

class Search {
 public:
  Search(const PackKernels& pk, const float* D, size_t n, size_t R, size_t T, const float* peaks, const float* eff,
         const double* cost, size_t nt, const PackOptions& opt, const int64_t* assign,
         const std::vector<int32_t>& wtype, uint64_t budget, TypedSearchStats& st)
      : pk_(pk), D_(D), n_(n), R_(R), T_(T), RT_(R * T), peaks_(peaks), eff_(eff), cost_(cost), nt_(nt),
        opt_(opt), budget_(budget), st_(st), type_(wtype) {
    const size_t W = wtype.size();
    by_cost_.resize(nt);
    for (size_t t = 0; t < nt; ++t) by_cost_[t] = static_cast<int32_t>(t);
    std::stable_sort(by_cost_.begin(), by_cost_.end(), [&](int32_t a, int32_t b) { return cost[a] < cost[b]; });
    effmax_.assign(R, 0.0);
    for (size_t t = 0; t < nt; ++t)
      for (size_t r = 0; r < R; ++r) effmax_[r] = std::max(effmax_[r], static_cast<double>(eff[t * R + r]));
    mem_.resize(W);
    for (size_t i = 0; i < n; ++i) mem_[static_cast<size_t>(assign[i])].push_back(static_cast<int64_t>(i));
    size_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      double s = 0;
      for (size_t r = 0; r < R; ++r) s = std::max(s, static_cast<double>(peaks[i * R + r]) / effmax_[r]);
      size_[i] = s;
    }
    L_.assign(W * RT_, 0.0);
    alive_.assign(W, 1);
    for (size_t w = 0; w < W; ++w) reload(w);
  }

  void run() {
    st_.cost_before = total_cost();
    for (size_t round = 0; round < kTypedRounds && !spent(); ++round) {
      const double before = total_cost();
      retype_all();
      for (size_t w : by_waste())
        if (!spent() && alive_[w]) st_.emptied += empty(w);
      for (size_t w : by_waste())
        if (!spent() && alive_[w]) st_.merged += merge(w);
      {
        const std::vector<size_t> order = by_waste();
        for (size_t k = order.size(); k-- > 0;)  // the fullest first: they are the ones worth growing
          if (!spent() && alive_[order[k]]) st_.merged += grow(order[k]);
      }
      for (size_t w : by_waste())
        if (!spent() && alive_[w]) shed(w);
      for (size_t w : by_waste())
        if (!spent() && alive_[w]) st_.split += split(w);
      same_type();  // last: it may take what is left of the budget
      retype_all();
      ++st_.rounds;
      if (!(total_cost() < before * (1.0 - kGain))) break;
    }
    st_.cost_after = total_cost();
  }

  // The plan back: alive workers renumbered in order.
  void result(int64_t* assign, std::vector<int32_t>& wtype) const {
    std::vector<int32_t> types;
    for (size_t w = 0; w < mem_.size(); ++w) {
      if (!alive_[w] || mem_[w].empty()) continue;
      for (int64_t i : mem_[w]) assign[i] = static_cast<int64_t>(types.size());
      types.push_back(type_[w]);
    }
    wtype.swap(types);
  }

  uint64_t work() const { return work_; }

 private:
  bool spent() const { return work_ >= budget_; }
  const float* shape(int64_t i) const { return D_ + static_cast<size_t>(i) * RT_; }
  double* load(size_t w) { return L_.data() + w * RT_; }
  double eff(int32_t t, size_t r) const { return static_cast<double>(eff_[static_cast<size_t>(t) * R_ + r]); }

  double total_cost() const {
    double c = 0;
    for (size_t w = 0; w < mem_.size(); ++w)
      if (alive_[w]) c += cost_[type_[w]];
    return c;
  }

  // L_w summed again from the members (in member order).
  void reload(size_t w) {
    double* L = load(w);
    std::fill(L, L + RT_, 0.0);
    for (int64_t i : mem_[w]) {
      const float* x = shape(i);
      for (size_t j = 0; j < RT_; ++j) L[j] += static_cast<double>(x[j]);
    }
    work_ += mem_[w].size() * RT_;
  }

  // The cheapest type whose effective capacity holds the peaks pk (R), -1 when none.
  int32_t cheapest_holding(const double* pk) const {
    for (int32_t t : by_cost_) {
      bool holds = true;
      for (size_t r = 0; r < R_ && holds; ++r) holds = pk[r] <= eff(t, r);
      if (holds) return t;
    }
    return -1;
  }

  // Per-resource peaks of a + sign * x (x: a shape, or nullptr for a alone); stops early (returning
  // false) once a peak passes limit[r].
  bool peaks_of(const double* a, const float* x, double sign, const double* limit, double* pk) {
    for (size_t r = 0; r < R_; ++r) {
      const double* ar = a + r * T_;
      double m = -std::numeric_limits<double>::infinity();
      if (x == nullptr) {
        for (size_t s = 0; s < T_; ++s) m = std::max(m, ar[s]);
      } else {
        const float* xr = x + r * T_;
        size_t s = 0;
        for (; s < T_; ++s) {
          m = std::max(m, ar[s] + sign * static_cast<double>(xr[s]));
          if (m > limit[r]) break;
        }
        work_ += s < T_ ? s + 1 : T_;
        pk[r] = m;
        if (m > limit[r]) return false;
        continue;
      }
      work_ += T_;
      pk[r] = m;
      if (m > limit[r]) return false;
    }
    return true;
  }

  // The cheapest type holding L_w (re-type when cheaper).
  void retype(size_t w) {
    std::vector<double> pk(R_);
    peaks_of(load(w), nullptr, 1.0, effmax_.data(), pk.data());
    // pk holds every resource's peak (limit effmax: a plan that fits its type never passes it)
    const int32_t t = cheapest_holding(pk.data());
    if (t >= 0 && cost_[t] < cost_[type_[w]]) type_[w] = t;
  }
  void retype_all() {
    for (size_t w = 0; w < mem_.size(); ++w)
      if (alive_[w]) retype(w);
  }

  std::vector<size_t> by_waste() const {
    std::vector<size_t> ws;
    std::vector<double> waste(mem_.size(), 0.0);
    for (size_t w = 0; w < mem_.size(); ++w) {
      if (!alive_[w]) continue;
      const double* L = L_.data() + w * RT_;
      double fill = 0;
      for (size_t r = 0; r < R_; ++r) {
        double v = 0;
        for (size_t s = 0; s < T_; ++s) v += L[r * T_ + s];
        fill += v / (eff(type_[w], r) * static_cast<double>(T_));
      }
      waste[w] = cost_[type_[w]] * (1.0 - fill / static_cast<double>(R_));
      ws.push_back(w);
    }
    std::stable_sort(ws.begin(), ws.end(), [&](size_t a, size_t b) { return waste[a] > waste[b]; });
    return ws;
  }

  // The receiver for shape i among alive workers other than `skip`: the least
  // rise in cost (re-typed to the cheapest type holding the new load when its
  // own no longer does), ties to the fullest (most summed peak / capacity),
  // then the lower index. Returns the worker (-1: none) with its new type and
  // the rise; `cap_rise`: rises at or above it are not wanted.
  int64_t receiver(int64_t i, size_t skip, double cap_rise, int32_t* new_type, double* rise) {
    const float* x = shape(i);
    std::vector<double> pk(R_), lim(R_);
    int64_t best = -1;
    double best_rise = cap_rise, best_fill = 0;
    int32_t best_t = -1;
    for (size_t b = 0; b < mem_.size() && !spent(); ++b) {
      if (b == skip || !alive_[b]) continue;
      const int32_t tb = type_[b];
      // once a receiver with no rise is found, only those that keep their type can compete
      for (size_t r = 0; r < R_; ++r) lim[r] = best >= 0 && best_rise <= 0 ? eff(tb, r) : effmax_[r];
      if (!peaks_of(load(b), x, 1.0, lim.data(), pk.data())) continue;
      const int32_t u = cheapest_holding(pk.data());
      if (u < 0) continue;
      const int32_t keep = [&] {
        for (size_t r = 0; r < R_; ++r)
          if (pk[r] > eff(tb, r)) return u;
        return cost_[u] < cost_[tb] ? u : tb;
      }();
      const double d = cost_[keep] - cost_[tb];
      double fill = 0;
      for (size_t r = 0; r < R_; ++r) fill += pk[r] / eff(keep, r);
      if (d < best_rise - 1e-12 * cost_[tb] || (best >= 0 && d <= best_rise + 1e-12 * cost_[tb] && fill > best_fill)) {
        best = static_cast<int64_t>(b);
        best_rise = d;
        best_fill = fill;
        best_t = keep;
      }
    }
    *new_type = best_t;
    *rise = best_rise;
    return best;
  }

  // Tentative changes of one move, undone unless committed.
  struct Undo {
    std::vector<size_t> ws;
    std::vector<double> loads;
    std::vector<int32_t> types;
  };
  void save(Undo& u, size_t w) {
    if (std::find(u.ws.begin(), u.ws.end(), w) != u.ws.end()) return;
    u.ws.push_back(w);
    u.loads.insert(u.loads.end(), load(w), load(w) + RT_);
    u.types.push_back(type_[w]);
  }
  void restore(const Undo& u) {
    for (size_t k = 0; k < u.ws.size(); ++k) {
      std::copy(u.loads.begin() + k * RT_, u.loads.begin() + (k + 1) * RT_, load(u.ws[k]));
      type_[u.ws[k]] = u.types[k];
    }
  }
  void add(size_t w, int64_t i, double sign) {
    double* L = load(w);
    const float* x = shape(i);
    for (size_t j = 0; j < RT_; ++j) L[j] += sign * static_cast<double>(x[j]);
    work_ += RT_;
  }
  void move_member(int64_t i, size_t from, size_t to) {
    auto& m = mem_[from];
    m.erase(std::find(m.begin(), m.end(), i));
    mem_[to].push_back(i);
  }

  // Members of w, the largest first (ties: the lower row).
  std::vector<int64_t> largest_first(size_t w) const {
    std::vector<int64_t> m = mem_[w];
    std::stable_sort(m.begin(), m.end(), [&](int64_t a, int64_t b) { return size_[a] > size_[b]; });
    return m;
  }

  // Tentatively onto its receiver (receiver()): shape i of w, when the rises
  // so far plus its own stay below `gain`; the receiver saved to u, the move
  // recorded (w's own load is the caller's).
  bool move_out(int64_t i, size_t w, double gain, Undo& u, double& rise,
                std::vector<std::pair<int64_t, size_t>>& moves) {
    int32_t t;
    double d;
    const int64_t b = receiver(i, w, gain * (1.0 - kGain) - rise, &t, &d);
    if (b < 0) return false;
    save(u, static_cast<size_t>(b));
    add(static_cast<size_t>(b), i, 1.0);
    type_[b] = t;
    rise += d;
    moves.emplace_back(i, static_cast<size_t>(b));
    return true;
  }

  bool empty(size_t w) {
    const double own = cost_[type_[w]];
    Undo u;
    std::vector<std::pair<int64_t, size_t>> moves;
    double rise = 0;
    for (int64_t i : largest_first(w)) {
      if (!move_out(i, w, own, u, rise, moves)) {
        restore(u);
        return false;
      }
    }
    for (auto& [i, b] : moves) move_member(i, w, b);
    alive_[w] = 0;
    return true;
  }

  bool merge(size_t w) {
    const double own = cost_[type_[w]];
    std::vector<double> sum(RT_), pk(R_), lim(R_);
    int64_t best = -1;
    int32_t best_t = -1;
    double best_gain = kGain * own;
    for (size_t b = 0; b < mem_.size() && !spent(); ++b) {
      if (b == w || !alive_[b]) continue;
      const double pair = own + cost_[type_[b]];
      // only types cheaper than the pair can gain: their largest capacities bound the peaks
      std::fill(lim.begin(), lim.end(), -1.0);
      for (int32_t t : by_cost_) {
        if (!(cost_[t] < pair - best_gain)) break;
        for (size_t r = 0; r < R_; ++r) lim[r] = std::max(lim[r], eff(t, r));
      }
      if (lim[0] < 0) continue;
      const double *a = load(w), *c = load(b);
      bool ok = true;
      for (size_t r = 0; r < R_ && ok; ++r) {
        double m = 0;
        size_t s = 0;
        for (; s < T_; ++s) {
          m = std::max(m, a[r * T_ + s] + c[r * T_ + s]);
          if (m > lim[r]) break;
        }
        work_ += s < T_ ? s + 1 : T_;
        ok = !(m > lim[r]);
        pk[r] = m;
      }
      if (!ok) continue;
      const int32_t t = cheapest_holding(pk.data());
      if (t < 0) continue;
      const double gain = pair - cost_[t];
      if (gain > best_gain) {
        best_gain = gain;
        best = static_cast<int64_t>(b);
        best_t = t;
      }
    }
    if (best < 0) return false;
    const size_t b = static_cast<size_t>(best);
    double* Lb = load(b);
    const double* Lw = load(w);
    for (size_t j = 0; j < RT_; ++j) Lb[j] += Lw[j];
    for (int64_t i : mem_[w]) mem_[b].push_back(i);
    mem_[w].clear();
    alive_[w] = 0;
    type_[b] = best_t;
    return true;
  }

  // Worker b re-typed to a dearer type u (the cheapest first) absorbs whole
  // workers (the most wasteful first) while its load fits u; kept when the
  // absorbed workers cost more than the rise: k workers merged into one.
  size_t grow(size_t b) {
    const int32_t tb = type_[b];
    const std::vector<size_t> order = by_waste();
    for (int32_t u : by_cost_) {
      if (!(cost_[u] > cost_[tb]) || spent()) continue;
      bool bigger = false;
      for (size_t r = 0; r < R_; ++r) bigger |= eff(u, r) > eff(tb, r);
      if (!bigger) continue;
      std::vector<double> acc(load(b), load(b) + RT_);
      std::vector<size_t> taken;
      double saved = 0;
      for (size_t w : order) {
        if (w == b || !alive_[w] || spent()) continue;
        const double* Lw = load(w);
        bool fits = true;
        size_t j = 0;
        for (; j < RT_ && fits; ++j) fits = acc[j] + Lw[j] <= eff(u, j / T_);
        work_ += j;
        if (!fits) continue;
        for (size_t q = 0; q < RT_; ++q) acc[q] += Lw[q];
        taken.push_back(w);
        saved += cost_[type_[w]];
      }
      if (!(saved > (cost_[u] - cost_[tb]) * (1.0 + kGain)) || taken.size() < 2) continue;
      for (size_t w : taken) {
        for (int64_t i : mem_[w]) mem_[b].push_back(i);
        mem_[w].clear();
        alive_[w] = 0;
      }
      type_[b] = u;
      reload(b);
      retype(b);
      return taken.size();
    }
    return 0;
  }

  // Load of w above type t's capacity, summed over resources and steps (relative to the capacity).
  double over(const double* L, int32_t t) {
    double o = 0;
    for (size_t r = 0; r < R_; ++r) {
      const double c = eff(t, r);
      for (size_t s = 0; s < T_; ++s) o += std::max(0.0, L[r * T_ + s] - c) / c;
    }
    work_ += RT_;
    return o;
  }

  void shed(size_t w) {
    const int32_t tw = type_[w];
    for (int32_t t : by_cost_) {
      if (!(cost_[t] < cost_[tw] * (1.0 - kGain)) || spent()) break;
      const double saving = cost_[tw] - cost_[t];
      if (shed_moves(w, t, saving)) {
        ++st_.shed;
        return;
      }
      if (shed_swap(w, t)) {
        ++st_.swapped;
        return;
      }
    }
  }

  // Moves up to kShedMoves members of w away until the rest fits t.
  bool shed_moves(size_t w, int32_t t, double saving) {
    Undo u;
    save(u, w);
    std::vector<int64_t> rest = mem_[w];
    std::vector<std::pair<int64_t, size_t>> moves;
    double rise = 0;
    double* Lw = load(w);
    for (size_t k = 0;; ++k) {
      if (over(Lw, t) <= 0) break;
      if (k == kShedMoves || rest.size() <= 1 || spent()) {
        restore(u);
        return false;
      }
      // the member that takes away the most of the overflow (ties: the smaller, then the lower row)
      int64_t pick = -1;
      double best = 0;
      for (int64_t i : rest) {
        const float* x = shape(i);
        double red = 0;
        for (size_t r = 0; r < R_; ++r) {
          const double c = eff(t, r);
          for (size_t s = 0; s < T_; ++s) {
            const double o = Lw[r * T_ + s] - c;
            if (o > 0) red += std::min(o, static_cast<double>(x[r * T_ + s])) / c;
          }
        }
        work_ += RT_;
        if (red > best || (red == best && pick >= 0 && red > 0 && size_[i] < size_[pick])) {
          best = red;
          pick = i;
        }
      }
      if (pick < 0) {
        restore(u);
        return false;
      }
      if (!move_out(pick, w, saving, u, rise, moves)) {
        restore(u);
        return false;
      }
      add(w, pick, -1.0);
      rest.erase(std::find(rest.begin(), rest.end(), pick));
    }
    for (auto& [i, b] : moves) move_member(i, w, b);
    reload(w);  // exact sums of what is left (the moves subtracted)
    type_[w] = t;
    retype(w);
    for (auto& [i, b] : moves) {
      (void)i;
      reload(b);
    }
    return true;
  }

  // Does L + sign_a x_a + sign_b x_b fit type t everywhere? (early exit)
  bool fits_with(const double* L, const float* xa, const float* xb, int32_t t) {
    for (size_t r = 0; r < R_; ++r) {
      const double c = eff(t, r);
      const size_t o = r * T_;
      for (size_t s = 0; s < T_; ++s)
        if (L[o + s] - static_cast<double>(xa[o + s]) + static_cast<double>(xb[o + s]) > c) {
          work_ += o + s + 1;
          return false;
        }
    }
    work_ += RT_;
    return true;
  }

  // One swap: a member i of w for a member j of another worker b, such that w
  // then fits t and b still fits its type.
  bool shed_swap(size_t w, int32_t t) {
    const double* Lw = load(w);
    for (int64_t i : largest_first(w)) {
      for (size_t b = 0; b < mem_.size(); ++b) {
        if (b == w || !alive_[b]) continue;
        for (int64_t j : mem_[b]) {
          if (spent()) return false;
          if (!(size_[j] < size_[i])) continue;
          if (!fits_with(Lw, shape(i), shape(j), t)) continue;
          if (!fits_with(load(b), shape(j), shape(i), type_[b])) continue;
          move_member(i, w, b);
          move_member(j, b, w);
          reload(w);
          reload(b);
          type_[w] = t;
          retype(w);
          return true;
        }
      }
    }
    return false;
  }

  bool split(size_t w) {
    const size_t m = mem_[w].size();
    if (m < 2) return false;
    std::vector<float> Ds(m * RT_), ps(m * R_);
    for (size_t k = 0; k < m; ++k) {
      const size_t i = static_cast<size_t>(mem_[w][k]);
      std::copy(D_ + i * RT_, D_ + (i + 1) * RT_, Ds.begin() + k * RT_);
      std::copy(peaks_ + i * R_, peaks_ + (i + 1) * R_, ps.begin() + k * R_);
    }
    work_ += m * RT_ * 4;  // the greedy packs of cheapest_bins, roughly
    std::vector<int32_t> bins;
    std::vector<int64_t> sub(m);
    PackOptions so = opt_;
    so.shard_size = 0;
    const double c = cheapest_bins(pk_, Ds.data(), m, R_, T_, ps.data(), eff_, cost_, nt_, 3, cost_[type_[w]], so,
                                   bins, sub.data());
    if (!(c < cost_[type_[w]] * (1.0 - kGain))) return false;
    // bins left empty are dropped; the first used bin keeps w's place, the others are appended
    std::vector<int64_t> id(bins.size(), -1);
    const std::vector<int64_t> members = mem_[w];
    mem_[w].clear();
    bool w_used = false;
    for (size_t k = 0; k < m; ++k) {
      const size_t bb = static_cast<size_t>(sub[k]);
      if (id[bb] < 0) {
        if (!w_used) {
          id[bb] = static_cast<int64_t>(w);
          type_[w] = bins[bb];
          w_used = true;
        } else {
          id[bb] = static_cast<int64_t>(mem_.size());
          mem_.emplace_back();
          type_.push_back(bins[bb]);
          alive_.push_back(1);
          L_.resize(mem_.size() * RT_, 0.0);
        }
      }
      mem_[static_cast<size_t>(id[bb])].push_back(members[k]);
    }
    for (int64_t v : id)
      if (v >= 0) {
        reload(static_cast<size_t>(v));
        retype(static_cast<size_t>(v));
      }
    return true;
  }

  // Per type, its workers in chunks through improve_plan (improve.hpp).
  void same_type() {
    for (size_t t = 0; t < nt_ && !spent(); ++t) {
      std::vector<size_t> ws;
      for (size_t w = 0; w < mem_.size(); ++w)
        if (alive_[w] && type_[w] == static_cast<int32_t>(t)) ws.push_back(w);
      size_t a = 0;
      while (a < ws.size() && !spent()) {
        size_t b = a, values = 0;
        while (b < ws.size() && (b == a || values + mem_[ws[b]].size() * RT_ <= kTypedChunkValues))
          values += mem_[ws[b++]].size() * RT_;
        if (b - a >= 2) improve_chunk(std::vector<size_t>(ws.begin() + a, ws.begin() + b), static_cast<int32_t>(t));
        a = b;
      }
    }
  }

  void improve_chunk(const std::vector<size_t>& ws, int32_t t) {
    std::vector<int64_t> rows;
    std::vector<int64_t> bin;
    for (size_t k = 0; k < ws.size(); ++k)
      for (int64_t i : mem_[ws[k]]) {
        rows.push_back(i);
        bin.push_back(static_cast<int64_t>(k));
      }
    const size_t m = rows.size();
    std::vector<float> Dl(m * RT_);
    for (size_t k = 0; k < m; ++k)
      std::copy(shape(rows[k]), shape(rows[k]) + RT_, Dl.begin() + k * RT_);
    const float* cap = eff_ + static_cast<size_t>(t) * R_;
    uint64_t lw = 0;
    const size_t lb = improve_lower_bound(Dl.data(), m, R_, T_, cap, 256, &lw);
    work_ += lw;
    if (lb >= ws.size() || spent()) return;
    // as 'auto' does per shard (portfolio.hpp): the plain search, then, when it stays above the bound,
    // the search with re-pack moves from the same start
    ImproveResult res;
    for (int pass = 0; pass < 2 && !spent(); ++pass) {
      const uint64_t give = std::min<uint64_t>(budget_ - work_, static_cast<uint64_t>(search_share(m)));
      ImproveOptions io;
      io.repack = pass == 1;
      std::vector<int64_t> trial = bin;
      res = improve_plan(Dl.data(), m, R_, T_, cap, trial.data(), ws.size(), lb, give, io);
      work_ += res.work;
      if (res.removed > 0) {
        bin.swap(trial);
        break;
      }
    }
    if (res.removed == 0) return;
    st_.same_type_removed += res.removed;
    for (size_t w : ws) mem_[w].clear();
    for (size_t k = 0; k < m; ++k) mem_[ws[static_cast<size_t>(bin[k])]].push_back(rows[k]);
    for (size_t w : ws) {
      if (mem_[w].empty()) {
        alive_[w] = 0;
      } else {
        std::sort(mem_[w].begin(), mem_[w].end());
        reload(w);
      }
    }
  }

  // improve_plan's budget for a chunk of m shapes: what 'auto' gives a shard of that size.
  double search_share(size_t m) const { return search_budget(opt_.effort, m * RT_); }

  const PackKernels& pk_;
  const float* D_;
  size_t n_, R_, T_, RT_;
  const float* peaks_;
  const float* eff_;
  const double* cost_;
  size_t nt_;
  const PackOptions& opt_;
  uint64_t budget_, work_ = 0;
  TypedSearchStats& st_;
  std::vector<int32_t> type_, by_cost_;
  std::vector<double> effmax_, size_, L_;
  std::vector<std::vector<int64_t>> mem_;
  std::vector<char> alive_;
};

}  // namespace

double improve_typed(const PackKernels& pk, const float* D, size_t n, size_t R, size_t T, const float* peaks,
                     const float* eff, const double* cost, size_t n_types, const PackOptions& opt, int64_t* assign,
                     std::vector<int32_t>& wtype, uint64_t budget, TypedSearchStats* stats) {
  if (opt.risk != 0) throw std::invalid_argument("improve_typed: the local search needs risk 0");
  TypedSearchStats local;
  TypedSearchStats& st = stats ? *stats : local;
  Search s(pk, D, n, R, T, peaks, eff, cost, n_types, opt, assign, wtype, budget, st);
  s.run();
  s.result(assign, wtype);
  st.work = s.work();
  double c = 0;
  for (int32_t t : wtype) c += cost[t];
  return c;
}

}  // namespace pyshape
