// Heterogeneous fleets (see types.hpp).
#include "pack/types.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "common/parallel.hpp"
#include "pack/policy.hpp"
#include "pack/portfolio.hpp"
#include "pack/types_search.hpp"

namespace pyshape {

void check_worker_types(size_t n_types, size_t R, const double* capacity, const double* cost) {
  if (n_types == 0) throw std::invalid_argument("worker types: need at least one type");
  if (capacity == nullptr || cost == nullptr) throw std::invalid_argument("worker types: capacity and cost are required");
  for (size_t t = 0; t < n_types; ++t) {
    if (!(cost[t] > 0) || !std::isfinite(cost[t]))
      throw std::invalid_argument("worker type " + std::to_string(t) + ": cost must be positive and finite, got " +
                                  std::to_string(cost[t]));
    for (size_t r = 0; r < R; ++r)
      if (!(capacity[t * R + r] > 0) || !std::isfinite(capacity[t * R + r]))
        throw std::invalid_argument("worker type " + std::to_string(t) + ": capacity must be positive and finite, got " +
                                    std::to_string(capacity[t * R + r]) + " for resource " + std::to_string(r));
  }
}

int open_type(const float* p, size_t R, const float* eff, const double* cost, size_t n_types) {
  int best = -1;
  double best_key = 0;
  for (size_t t = 0; t < n_types; ++t) {
    const float* e = eff + t * R;
    bool holds = true;
    double copies = std::numeric_limits<double>::infinity();
    for (size_t r = 0; r < R; ++r) {
      holds &= p[r] <= e[r];
      if (p[r] > 0) copies = std::min(copies, static_cast<double>(e[r]) / p[r]);
    }
    if (!holds) continue;
    const double key = cost[t] / copies;  // 0 for a shape of zeros: then the cost decides
    if (best < 0 || key < best_key || (key == best_key && cost[t] < cost[best])) {
      best = static_cast<int>(t);
      best_key = key;
    }
  }
  return best;
}

int cheapest_type(const float* p, size_t R, const float* eff, const double* cost, size_t n_types) {
  int best = -1;
  for (size_t t = 0; t < n_types; ++t) {
    bool holds = true;
    for (size_t r = 0; r < R; ++r) holds &= p[r] <= eff[t * R + r];
    if (holds && (best < 0 || cost[t] < cost[best])) best = static_cast<int>(t);
  }
  return best;
}

void downsize(const float* D, size_t n, size_t R, size_t T, const int64_t* assign, size_t W, const float* eff,
              const double* cost, size_t n_types, double risk, int32_t* worker_type, int n_threads) {
  if (n_types <= 1 || W == 0) return;
  const size_t RT = R * T;
  const size_t allowed = static_cast<size_t>(std::floor(risk * static_cast<double>(T) + 1e-9));
  std::vector<size_t> by_cost(n_types);
  for (size_t t = 0; t < n_types; ++t) by_cost[t] = t;
  std::stable_sort(by_cost.begin(), by_cost.end(), [&](size_t a, size_t b) { return cost[a] < cost[b]; });
  std::vector<size_t> starts(W + 1, 0), members(n);
  for (size_t i = 0; i < n; ++i) ++starts[static_cast<size_t>(assign[i]) + 1];
  for (size_t w = 0; w < W; ++w) starts[w + 1] += starts[w];
  {
    std::vector<size_t> next(starts.begin(), starts.end() - 1);
    for (size_t i = 0; i < n; ++i) members[next[static_cast<size_t>(assign[i])]++] = i;
  }
  parallel_for(W, n_threads, [&](size_t w, int) {
    std::vector<double> acc(RT, 0.0);
    for (size_t k = starts[w]; k < starts[w + 1]; ++k) {
      const float* x = D + members[k] * RT;
      for (size_t j = 0; j < RT; ++j) acc[j] += static_cast<double>(x[j]);
    }
    std::vector<char> over(T);
    for (size_t t : by_cost) {
      if (!(cost[t] < cost[worker_type[w]])) break;  // sorted: nothing cheaper is left
      const float* e = eff + t * R;
      std::fill(over.begin(), over.end(), 0);
      for (size_t r = 0; r < R; ++r)
        for (size_t s = 0; s < T; ++s) over[s] |= acc[r * T + s] > static_cast<double>(e[r]);
      size_t c = 0;
      for (size_t s = 0; s < T; ++s) c += over[s];
      if (c <= allowed) {
        worker_type[w] = static_cast<int32_t>(t);
        break;
      }
    }
  });
}

namespace {

// One greedy pass over order[0..m) on a fleet whose workers each have their
// type's capacity: local worker indices to assign, their types to wtype.
size_t pack_mixed_one(const PackKernels& pk, const float* D, size_t R, size_t T, const float* peaks, const float* eff,
                      const double* cost, size_t n_types, const float* effmax, const int64_t* order, size_t m,
                      const PackOptions& opt, int64_t* assign, std::vector<int32_t>& wtype) {
  Fleet fleet(pk, R, T, effmax, opt.risk);
  wtype.clear();
  greedy_pass(fleet, D, order, m, opt, assign, [&](int64_t i) {
    const int t = open_type(peaks + static_cast<size_t>(i) * R, R, eff, cost, n_types);
    if (t < 0) throw std::invalid_argument("shape " + std::to_string(i) + " fits no worker type");
    wtype.push_back(t);
    return fleet.open(eff + static_cast<size_t>(t) * R);
  }, ProgressFn(), m);
  return fleet.size();
}

// pack_mixed_one over round-robin shards of the order (as pack_shapes deals them).
size_t pack_mixed(const PackKernels& pk, const float* D, size_t n, size_t R, size_t T, const float* peaks,
                  const float* eff, const double* cost, size_t n_types, const int64_t* order, const PackOptions& opt,
                  int64_t* assign, std::vector<int32_t>& wtype, int n_threads) {
  std::vector<float> effmax(eff, eff + R);
  for (size_t t = 1; t < n_types; ++t)
    for (size_t r = 0; r < R; ++r) effmax[r] = std::max(effmax[r], eff[t * R + r]);
  const size_t shard = opt.shard_size > 0 ? opt.shard_size : n;
  const size_t S = std::max<size_t>(1, (n + shard - 1) / shard);
  std::vector<std::vector<int64_t>> orders(S);
  for (size_t k = 0; k < n; ++k) orders[k % S].push_back(order[k]);
  std::vector<std::vector<int32_t>> types(S);
  std::vector<size_t> Ws(S);
  parallel_for(S, n_threads, [&](size_t j, int) {
    Ws[j] = pack_mixed_one(pk, D, R, T, peaks, eff, cost, n_types, effmax.data(), orders[j].data(),
                           orders[j].size(), opt, assign, types[j]);
  });
  size_t off = 0;
  wtype.clear();
  for (size_t j = 0; j < S; ++j) {
    for (int64_t i : orders[j]) assign[i] += static_cast<int64_t>(off);
    off += Ws[j];
    wtype.insert(wtype.end(), types[j].begin(), types[j].end());
  }
  return off;
}

double plan_cost(const std::vector<int32_t>& wtype, const double* cost) {
  double c = 0;
  for (int32_t t : wtype) c += cost[t];
  return c;
}

}  // namespace

namespace {

double candidates_of(const PackKernels& pk, const float* D, size_t n, size_t R, size_t T, const float* peaks,
                     const float* eff, const double* cost, size_t n_types, const PackOptions& opt, int64_t* assign,
                     std::vector<int32_t>& worker_type, const ProgressFn& progress, int n_threads, bool tail,
                     double search = 0);

// Tail repack (see types.hpp): the shapes of the k emptiest workers
// (k = 1 .. kTailWorkers, fill = sum_r volume_r / capacity_r of the worker's
// own type) are packed again on their own by the typed candidates; when that
// costs less than those k workers, they are replaced (the other workers keep
// their order, the new ones follow). Repeated while it gains, at most
// kTailRounds times. Deterministic.
constexpr size_t kTailWorkers = 4, kTailRounds = 16, kTailShapes = 4096;

// Fixed bins: the shapes (Ds, m x R x T, peaks ps) into workers opened up
// front as the types `bins` (largest first), in decreasing size with `rule`;
// true when every shape finds a place (sub: the local worker of each).
bool pack_into(const PackKernels& pk, const float* Ds, size_t m, size_t R, size_t T, const float* ps,
               const float* eff, const std::vector<int32_t>& bins, PackStrategy rule, const PackOptions& opt,
               int64_t* sub) {
  std::vector<float> effmax(eff + static_cast<size_t>(bins[0]) * R, eff + static_cast<size_t>(bins[0]) * R + R);
  for (int32_t t : bins)
    for (size_t r = 0; r < R; ++r) effmax[r] = std::max(effmax[r], eff[static_cast<size_t>(t) * R + r]);
  Fleet fleet(pk, R, T, effmax.data(), opt.risk);
  for (int32_t t : bins) fleet.open(eff + static_cast<size_t>(t) * R);
  const std::vector<int64_t> order = size_order(ps, m, R, effmax.data());
  ShapeSummary ss;
  for (size_t k = 0; k < m; ++k) {
    const float* x = Ds + static_cast<size_t>(order[k]) * R * T;
    fleet.summarize(x, ss);
    const int64_t w = fleet.choose(x, ss, rule, opt.candidates);
    if (w < 0) return false;
    fleet.add(static_cast<size_t>(w), x, ss);
    sub[order[k]] = w;
  }
  return true;
}

}  // namespace

// The cheapest multiset of at most k types (k workers), cheaper than `below`, whose
// workers take the shapes by pack_into (first_fit, best_fit or complement);
// multisets in increasing cost (ties: table order), those whose summed
// capacity is below the shapes' total at some step skipped. Returns the cost
// (infinity when none), the types to bins and the workers to sub.
double cheapest_bins(const PackKernels& pk, const float* Ds, size_t m, size_t R, size_t T, const float* ps,
                     const float* eff, const double* cost, size_t n_types, size_t k, double below,
                     const PackOptions& opt, std::vector<int32_t>& bins, int64_t* sub) {
  std::vector<double> need(R, 0.0);  // max_t of the shapes' total per resource
  {
    std::vector<double> tot(R * T, 0.0);
    for (size_t i = 0; i < m; ++i)
      for (size_t j = 0; j < R * T; ++j) tot[j] += Ds[i * R * T + j];
    for (size_t r = 0; r < R; ++r) need[r] = *std::max_element(tot.begin() + r * T, tot.begin() + (r + 1) * T);
  }
  std::vector<std::pair<double, std::vector<int32_t>>> sets;
  std::vector<int32_t> cur;
  // multisets as non-decreasing type sequences of length 1..k
  auto rec = [&](auto&& self, int32_t from, double c) -> void {
    if (!cur.empty() && c < below * (1.0 - 1e-12)) sets.emplace_back(c, cur);
    if (cur.size() == k || sets.size() > 4096) return;  // k: the most workers a mix may have
    for (int32_t t = from; t < static_cast<int32_t>(n_types); ++t) {
      cur.push_back(t);
      self(self, t, c + cost[t]);
      cur.pop_back();
    }
  };
  rec(rec, 0, 0.0);
  std::stable_sort(sets.begin(), sets.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  const PackStrategy rules[3] = {PackStrategy::kFirstFit, PackStrategy::kBestFit, PackStrategy::kComplement};
  size_t tried = 0;
  for (auto& [c, set] : sets) {
    bool covers = true;  // a fluid check first: the capacities must hold the total at every step
    for (size_t r = 0; r < R && covers; ++r) {
      double capsum = 0;
      for (int32_t t : set) capsum += eff[static_cast<size_t>(t) * R + r];
      covers = capsum >= need[r] * (1.0 - 1e-6) || opt.risk > 0;
    }
    if (!covers) continue;
    if (++tried > 64) break;
    // largest first, so first fit fills the big workers before the small ones
    std::stable_sort(set.begin(), set.end(), [&](int32_t a, int32_t b) {
      double fa = 0, fb = 0;
      for (size_t r = 0; r < R; ++r) fa += eff[static_cast<size_t>(a) * R + r], fb += eff[static_cast<size_t>(b) * R + r];
      return fa > fb;
    });
    for (PackStrategy rule : rules)
      if (pack_into(pk, Ds, m, R, T, ps, eff, set, rule, opt, sub)) {
        bins = set;
        return c;
      }
  }
  return std::numeric_limits<double>::infinity();
}

namespace {

void repack_tail(const PackKernels& pk, const float* D, size_t n, size_t R, size_t T, const float* peaks,
                 const float* eff, const double* cost, size_t n_types, const PackOptions& opt, int64_t* assign,
                 std::vector<int32_t>& wtype, int n_threads) {
  const size_t RT = R * T;
  std::vector<double> vol(n * R);
  for (size_t i = 0; i < n; ++i)
    for (size_t r = 0; r < R; ++r) vol[i * R + r] = Fleet::volume_of(D + i * RT + r * T, T);
  for (size_t round = 0; round < kTailRounds; ++round) {
    const size_t W = wtype.size();
    std::vector<double> fill(W, 0.0);
    std::vector<size_t> count(W, 0);
    for (size_t i = 0; i < n; ++i) {
      const size_t w = static_cast<size_t>(assign[i]);
      ++count[w];
      for (size_t r = 0; r < R; ++r) fill[w] += vol[i * R + r] / eff[static_cast<size_t>(wtype[w]) * R + r];
    }
    std::vector<size_t> by_fill(W);
    for (size_t w = 0; w < W; ++w) by_fill[w] = w;
    std::stable_sort(by_fill.begin(), by_fill.end(), [&](size_t a, size_t b) { return fill[a] < fill[b]; });
    bool gained = false;
    for (size_t k = 1; k <= std::min(kTailWorkers, W) && !gained; ++k) {
      std::vector<char> chosen(W, 0);
      double old_cost = 0;
      size_t m = 0;
      for (size_t j = 0; j < k; ++j) {
        chosen[by_fill[j]] = 1;
        old_cost += cost[wtype[by_fill[j]]];
        m += count[by_fill[j]];
      }
      if (m == 0 || m > kTailShapes) break;
      std::vector<size_t> rows;  // the subset, in input order
      for (size_t i = 0; i < n; ++i)
        if (chosen[static_cast<size_t>(assign[i])]) rows.push_back(i);
      std::vector<float> Ds(m * RT), ps(m * R);
      for (size_t j = 0; j < m; ++j) {
        std::copy(D + rows[j] * RT, D + (rows[j] + 1) * RT, Ds.begin() + j * RT);
        std::copy(peaks + rows[j] * R, peaks + (rows[j] + 1) * R, ps.begin() + j * R);
      }
      std::vector<int64_t> sub(m);
      std::vector<int32_t> stype;
      PackOptions so = opt;
      so.shard_size = 0;
      double c = candidates_of(pk, Ds.data(), m, R, T, ps.data(), eff, cost, n_types, so, sub.data(), stype,
                               ProgressFn(), 1, false);
      if (!(c < old_cost * (1.0 - 1e-12))) {  // then fixed workers of a cheaper mix of types
        // up to two workers more than it replaces: several small ones can be cheaper than one big
        c = cheapest_bins(pk, Ds.data(), m, R, T, ps.data(), eff, cost, n_types, k + 2, old_cost, so, stype,
                          sub.data());
        if (std::isfinite(c)) {  // drop bins left empty, keeping the order of the others
          std::vector<int64_t> id(stype.size(), -1);
          for (size_t j = 0; j < m; ++j) id[static_cast<size_t>(sub[j])] = 0;
          std::vector<int32_t> kept;
          c = 0;
          for (size_t b = 0; b < stype.size(); ++b)
            if (id[b] == 0) {
              id[b] = static_cast<int64_t>(kept.size());
              kept.push_back(stype[b]);
              c += cost[stype[b]];
            }
          for (size_t j = 0; j < m; ++j) sub[j] = id[static_cast<size_t>(sub[j])];
          stype.swap(kept);
        }
      }
      if (!(c < old_cost * (1.0 - 1e-12))) continue;
      // replace: the kept workers renumbered in order, then the new ones
      std::vector<int64_t> newid(W, -1);
      std::vector<int32_t> types;
      for (size_t w = 0; w < W; ++w)
        if (!chosen[w]) {
          newid[w] = static_cast<int64_t>(types.size());
          types.push_back(wtype[w]);
        }
      const int64_t base = static_cast<int64_t>(types.size());
      for (size_t i = 0; i < n; ++i)
        if (!chosen[static_cast<size_t>(assign[i])]) assign[i] = newid[static_cast<size_t>(assign[i])];
      for (size_t j = 0; j < m; ++j) assign[rows[j]] = base + sub[j];
      types.insert(types.end(), stype.begin(), stype.end());
      wtype.swap(types);
      gained = true;
    }
    if (!gained) break;
  }
  (void)n_threads;
}

double candidates_of(const PackKernels& pk, const float* D, size_t n, size_t R, size_t T, const float* peaks,
                     const float* eff, const double* cost, size_t n_types, const PackOptions& opt, int64_t* assign,
                     std::vector<int32_t>& worker_type, const ProgressFn& progress, int n_threads, bool tail,
                     double search) {
  std::vector<int64_t> cand(n);
  std::vector<int32_t> ctype;
  bool have = false;
  double best = 0;
  auto keep = [&](size_t W) {
    (void)W;
    downsize(D, n, R, T, cand.data(), ctype.size(), eff, cost, n_types, opt.risk, ctype.data(), n_threads);
    if (tail && n_types > 1) repack_tail(pk, D, n, R, T, peaks, eff, cost, n_types, opt, cand.data(), ctype, n_threads);
    if (search > 0 && n_types > 1) {  // the typed local search from every candidate: they end in different optima
      const double before = plan_cost(ctype, cost);
      const double after = improve_typed(pk, D, n, R, T, peaks, eff, cost, n_types, opt, cand.data(), ctype,
                                         static_cast<uint64_t>(std::min(search, 1e18)));
      if (after < before) repack_tail(pk, D, n, R, T, peaks, eff, cost, n_types, opt, cand.data(), ctype, n_threads);
    }
    const double c = plan_cost(ctype, cost);
    if (!have || c < best) {
      std::copy(cand.begin(), cand.end(), assign);
      worker_type = ctype;
      best = c;
      have = true;
    }
  };
  for (size_t t = 0; t < n_types; ++t) {
    const float* e = eff + t * R;
    bool all_fit = true;
    for (size_t i = 0; i < n && all_fit; ++i)
      for (size_t r = 0; r < R; ++r) all_fit &= peaks[i * R + r] <= e[r];
    if (!all_fit) continue;
    const std::vector<int64_t> order = size_order(peaks, n, R, e);
    const size_t W = pack_shapes(pk, D, n, R, T, e, order.data(), opt, cand.data(),
                                 t == 0 ? progress : ProgressFn(), n_threads);
    ctype.assign(W, static_cast<int32_t>(t));
    keep(W);
  }
  if (n_types > 1) {
    std::vector<float> effmax(eff, eff + R);
    for (size_t t = 1; t < n_types; ++t)
      for (size_t r = 0; r < R; ++r) effmax[r] = std::max(effmax[r], eff[t * R + r]);
    const std::vector<int64_t> order = size_order(peaks, n, R, effmax.data());
    const size_t W = pack_mixed(pk, D, n, R, T, peaks, eff, cost, n_types, order.data(), opt, cand.data(), ctype,
                                n_threads);
    keep(W);
  }
  return best;
}

}  // namespace

double pack_typed(const PackKernels& pk, const float* D, size_t n, size_t R, size_t T, const float* peaks,
                  const float* eff, const double* cost, size_t n_types, const PackOptions& opt, int64_t* assign,
                  std::vector<int32_t>& worker_type, const ProgressFn& progress, int n_threads) {
  // 'auto' on a fleet of several types at risk 0: the typed local search (types_search.hpp) from every
  // candidate (large inputs: the budget shared equally), then the tail repack again where it lowered the cost
  const bool search = n_types > 1 && opt.search && opt.risk == 0 && opt.effort > 0;
  const bool small = n * R * T <= kPortfolioValues;
  const double share = small ? 1.0 : static_cast<double>(n_types + 1);
  const double budget = search ? typed_search_budget(opt.effort, n * R * T) / share : 0.0;
  double best = candidates_of(pk, D, n, R, T, peaks, eff, cost, n_types, opt, assign, worker_type, progress,
                              n_threads, true, budget);
  if (search && small) {
    // small fleets: the candidates of the three greedy rules too (one-type passes without the one-type search),
    // each searched: on the Bitbrains week the search from best fit found a plan 7% cheaper than from 'auto's
    std::vector<int64_t> a(n);
    std::vector<int32_t> wt;
    for (PackStrategy rule : {PackStrategy::kFirstFit, PackStrategy::kBestFit, PackStrategy::kComplement}) {
      PackOptions o = opt;
      o.search = false;
      o.strategy = rule;
      o.improve = rule == PackStrategy::kComplement ? opt.improve : 0;
      const double c = candidates_of(pk, D, n, R, T, peaks, eff, cost, n_types, o, a.data(), wt, ProgressFn(),
                                     n_threads, true, budget);
      if (c < best * (1.0 - 1e-12)) {
        best = c;
        std::copy(a.begin(), a.end(), assign);
        worker_type = wt;
      }
    }
  }
  return best;
}

namespace {

// #{s : m[s] > C} for sorted m
size_t count_above(const std::vector<double>& m, double C) {
  return static_cast<size_t>(m.end() - std::upper_bound(m.begin(), m.end(), C));
}

}  // namespace

namespace {

// Prices per unit of each resource that no worker type beats: y >= 0 with
// sum_r y_r eff_t[r] <= cost_t for every type t. Any such y bounds the cost
// of covering a demand d by workers (sum_w eff_w >= d in every resource):
// cost = sum_w cost_w >= sum_w y . eff_w >= y . d. The best y for d is a
// vertex of this polytope (the LP dual of "cheapest fractional fleet that
// covers d"), so the vertices are enumerated once (R of the n_types + R
// constraints tight, an R x R solve each) and every step takes the best of
// them. Each vertex is clipped to y >= 0 and scaled down until every type's
// constraint holds, so rounding never makes a price too high. The R vertices
// with one resource priced (y_r = min_t cost_t / eff_t[r], the rest 0) are
// always in the list; above kMaxPriceSystems systems only those are used.
constexpr size_t kMaxPriceSystems = 20000;

std::vector<double> cover_prices(size_t R, const double* eff, const double* cost, size_t n_types,
                                 const std::vector<double>& unit) {
  std::vector<double> Y;
  for (size_t r = 0; r < R; ++r) {  // one resource priced at its cheapest unit
    for (size_t q = 0; q < R; ++q) Y.push_back(q == r ? unit[r] : 0.0);
  }
  if (R < 2) return Y;
  const size_t N = n_types + R;  // constraints: the types, then y_r >= 0
  double systems = 1;            // C(N, R), stopping early when it is too many
  for (size_t k = 0; k < R; ++k) systems = systems * static_cast<double>(N - k) / static_cast<double>(k + 1);
  if (systems > static_cast<double>(kMaxPriceSystems)) return Y;
  std::vector<size_t> pick(R);
  for (size_t k = 0; k < R; ++k) pick[k] = k;
  std::vector<double> A(R * R), b(R), y(R);
  while (true) {
    // the system: rows of the picked constraints, A y = b
    for (size_t k = 0; k < R; ++k) {
      const size_t j = pick[k];
      for (size_t r = 0; r < R; ++r) A[k * R + r] = j < n_types ? eff[j * R + r] : (r == j - n_types ? 1.0 : 0.0);
      b[k] = j < n_types ? cost[j] : 0.0;
    }
    bool singular = false;  // Gaussian elimination with partial pivoting
    for (size_t col = 0; col < R && !singular; ++col) {
      size_t piv = col;
      for (size_t k = col + 1; k < R; ++k)
        if (std::fabs(A[k * R + col]) > std::fabs(A[piv * R + col])) piv = k;
      if (!(std::fabs(A[piv * R + col]) > 1e-300)) {
        singular = true;
        break;
      }
      if (piv != col) {
        for (size_t r = 0; r < R; ++r) std::swap(A[col * R + r], A[piv * R + r]);
        std::swap(b[col], b[piv]);
      }
      for (size_t k = col + 1; k < R; ++k) {
        const double f = A[k * R + col] / A[col * R + col];
        for (size_t r = col; r < R; ++r) A[k * R + r] -= f * A[col * R + r];
        b[k] -= f * b[col];
      }
    }
    if (!singular) {
      for (size_t k = R; k-- > 0;) {
        double v = b[k];
        for (size_t r = k + 1; r < R; ++r) v -= A[k * R + r] * y[r];
        y[k] = v / A[k * R + k];
      }
      bool ok = true;
      for (size_t r = 0; r < R; ++r) {
        ok &= std::isfinite(y[r]) && y[r] > -1e-9 * (1.0 + std::fabs(y[r]));
        y[r] = std::max(0.0, y[r]);
      }
      double scale = 1.0;  // largest scale <= 1 that keeps every type's constraint
      for (size_t t = 0; t < n_types && ok; ++t) {
        double lhs = 0;
        for (size_t r = 0; r < R; ++r) lhs += y[r] * eff[t * R + r];
        if (lhs > cost[t]) scale = std::min(scale, cost[t] / lhs);
      }
      if (ok && scale > 1.0 - 1e-9)  // a vertex (up to rounding): keep it, scaled to be feasible
        for (size_t r = 0; r < R; ++r) Y.push_back(y[r] * scale);
    }
    // next combination of R out of N
    size_t k = R;
    while (k > 0 && pick[k - 1] == N - R + k - 1) --k;
    if (k == 0) break;
    ++pick[k - 1];
    for (size_t q = k; q < R; ++q) pick[q] = pick[q - 1] + 1;
  }
  return Y;
}

}  // namespace

double cost_lower_bound(const double* total, size_t R, size_t T, const double* eff, const double* cost,
                        size_t n_types, double risk, const float* peaks, size_t n) {
  if (R == 0 || n_types == 0) throw std::invalid_argument("cost lower bound: no resources or no types");
  if (!(risk >= 0 && risk < 1)) throw std::invalid_argument("risk is a fraction of steps in [0, 1)");
  if (T == 0) return 0.0;
  const size_t k = static_cast<size_t>(std::floor(risk * static_cast<double>(T) + 1e-9));
  const double shrink = 1.0 - 4.0 * std::ldexp(1.0, -23);
  double cmin = cost[0];
  for (size_t t = 1; t < n_types; ++t) cmin = std::min(cmin, cost[t]);
  std::vector<double> c(R), effmax(R, 0.0);
  for (size_t r = 0; r < R; ++r) {
    c[r] = std::numeric_limits<double>::infinity();
    for (size_t t = 0; t < n_types; ++t) {
      c[r] = std::min(c[r], cost[t] / eff[t * R + r]);
      effmax[r] = std::max(effmax[r], eff[t * R + r]);
    }
  }
  // m[s]: the fluid cost of step s, max over prices y of y . total[:, s] (see cover_prices)
  const std::vector<double> Y = cover_prices(R, eff, cost, n_types, c);
  const size_t nv = Y.size() / R;
  std::vector<double> m(T);
  for (size_t s = 0; s < T; ++s) {
    double v = 0;
    for (size_t k = 0; k < nv; ++k) {
      double d = 0;
      for (size_t r = 0; r < R; ++r) d += Y[k * R + r] * total[r * T + s];
      v = std::max(v, d);
    }
    m[s] = v * shrink * (1.0 - 1e-12);  // 1e-12: the rounding of the prices and of the sum
  }
  std::sort(m.begin(), m.end());
  if (!std::isfinite(m.back())) throw std::invalid_argument("cost lower bound: total demand * cost is not finite");
  double vol;
  if (k == 0) {
    vol = m.back();
  } else {
    // ok(C): #{s : m[s] > C} <= floor(C / cmin) * k, monotone in C; the least
    // C is 0, some m[s], or some j * cmin. First the least j with ok(j cmin).
    auto ok = [&](double C) { return static_cast<double>(count_above(m, C)) <= std::floor(C / cmin) * k; };
    double jlo = 0, jhi = std::ceil(m.back() / cmin);
    if (ok(0)) {
      jhi = 0;
    } else {
      while (jhi - jlo > 1) {  // ok(jhi cmin) holds (m.back() <= jhi cmin), ok(jlo cmin) does not
        const double mid = std::floor((jlo + jhi) / 2);
        if (ok(mid * cmin)) jhi = mid; else jlo = mid;
      }
    }
    vol = jhi * cmin;
    // inside ((jhi - 1) cmin, jhi cmin) the floor is jhi - 1: the least m[s] there that is ok
    if (jhi > 0) {
      const double lo = (jhi - 1) * cmin;
      for (auto it = std::upper_bound(m.begin(), m.end(), lo); it != m.end() && *it < vol; ++it)
        if (ok(*it)) {
          vol = *it;
          break;
        }
    }
  }
  double lb = vol;
  lb = std::max(lb, cmin * static_cast<double>(pack_lower_bound(total, R, T, effmax.data(), risk)));
  if (k == 0 && peaks != nullptr) {
    for (size_t i = 0; i < n; ++i) {
      double best = std::numeric_limits<double>::infinity();
      for (size_t t = 0; t < n_types; ++t) {
        bool holds = true;
        for (size_t r = 0; r < R; ++r) holds &= static_cast<double>(peaks[i * R + r]) <= eff[t * R + r];
        if (holds) best = std::min(best, cost[t]);
      }
      if (std::isfinite(best)) lb = std::max(lb, best);
    }
  }
  return lb;
}

}  // namespace pyshape
