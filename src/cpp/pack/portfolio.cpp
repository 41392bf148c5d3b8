#include "pack/portfolio.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "pack/improve.hpp"
#include "pack/squeeze.hpp"

namespace pyshape {

namespace {

struct Candidate {
  std::vector<int64_t> bin;  // local worker per local shape
  size_t W = 0;
  double spread = 0;  // sum_w fill_w^2: larger is more uneven (easier to empty a worker)
};

double spread_of(const float* Dl, size_t m, size_t R, size_t T, const float* cap, const std::vector<int64_t>& bin,
                 size_t W) {
  std::vector<double> f(W, 0.0);
  const size_t RT = R * T;
  for (size_t i = 0; i < m; ++i)
    for (size_t r = 0; r < R; ++r) {
      const float* x = Dl + i * RT + r * T;
      double v = 0;
      for (size_t t = 0; t < T; ++t) v += x[t];
      f[bin[i]] += v / (static_cast<double>(T) * cap[r]);
    }
  double s = 0;
  for (double x : f) s += x * x;
  return s;
}

}  // namespace

double search_budget(double effort, size_t V) {
  const double base = V <= kPortfolioValues ? std::ldexp(1.0, 25) + 16.0 * static_cast<double>(V) : std::ldexp(1.0, 23);
  return std::min(std::max(0.0, effort) * base, 1e18);
}

size_t pack_search(const PackKernels& pk, const float* D, size_t R, size_t T, const float* cap, const int64_t* order, size_t m,
                   const PackOptions& opt, int64_t* assign, const ProgressFn& progress) {
  const size_t RT = R * T;
  const size_t V = m * RT;
  if (m == 0 || V > kSearchValues) {
    PackOptions o = opt;
    o.search = false;
    o.strategy = PackStrategy::kComplement;
    return pack_greedy(pk, D, R, T, cap, order, m, o, assign, progress);
  }
  if (V > kPortfolioValues) {
    // the three rules on the given order, the fewest workers kept (ties: complement,
    // then first_fit): no copy, no search, so a large shard costs about three passes
    const PackStrategy big[3] = {PackStrategy::kComplement, PackStrategy::kFirstFit, PackStrategy::kBestFit};
    std::vector<int64_t> tmp(m), out(m);
    size_t best = 0;
    for (size_t r = 0; r < 3; ++r) {
      PackOptions g = opt;
      g.search = false;
      g.strategy = big[r];
      g.improve = big[r] == PackStrategy::kComplement ? opt.improve : 0;
      size_t W = pack_greedy(pk, D, R, T, cap, order, m, g, assign, nullptr);
      for (size_t k = 0; k < m; ++k) tmp[k] = assign[order[k]];
      if (r == 0 || W < best) {
        best = W;
        out = tmp;
      }
      if (progress) progress(r + 1, 3);
    }
    for (size_t k = 0; k < m; ++k) assign[order[k]] = out[k];
    return best;
  }
  // the shard's shapes, contiguous, in the given order: local shape k is order[k]
  std::vector<float> Dl(V);
  for (size_t k = 0; k < m; ++k)
    std::copy(D + static_cast<size_t>(order[k]) * RT, D + static_cast<size_t>(order[k]) * RT + RT,
              Dl.begin() + k * RT);

  // size orders (stable: ties keep the given order)
  std::vector<std::vector<int64_t>> orders;
  std::vector<int64_t> ident(m);
  std::iota(ident.begin(), ident.end(), int64_t{0});
  orders.push_back(ident);
  if (V <= kPortfolioValues) {
    std::vector<double> pk(m * R), vol(m * R);
    for (size_t i = 0; i < m; ++i)
      for (size_t r = 0; r < R; ++r) {
        const float* x = Dl.data() + i * RT + r * T;
        double p = 0, v = 0;
        for (size_t t = 0; t < T; ++t) {
          p = std::max(p, static_cast<double>(x[t]));
          v += x[t];
        }
        pk[i * R + r] = p / cap[r];
        vol[i * R + r] = v / (static_cast<double>(T) * cap[r]);
      }
    auto add_order = [&](auto key) {
      std::vector<double> k(m);
      for (size_t i = 0; i < m; ++i) k[i] = key(i);
      std::vector<int64_t> o = ident;
      std::stable_sort(o.begin(), o.end(), [&](int64_t a, int64_t b) { return k[a] > k[b]; });
      for (const auto& q : orders)
        if (q == o) return;
      orders.push_back(std::move(o));
    };
    add_order([&](size_t i) {
      double s = 0;
      for (size_t r = 0; r < R; ++r) s += vol[i * R + r];
      return s;
    });
    add_order([&](size_t i) {
      double s = 0;
      for (size_t r = 0; r < R; ++r) s += pk[i * R + r] + vol[i * R + r];
      return s;
    });
    add_order([&](size_t i) {
      double s = 0;
      for (size_t r = 0; r < R; ++r) s += pk[i * R + r];
      return s;
    });
    add_order([&](size_t i) {
      double s = 0;
      for (size_t r = 0; r < R; ++r) s = std::max(s, vol[i * R + r]);
      return s;
    });
  }
  const PackStrategy rules[3] = {PackStrategy::kFirstFit, PackStrategy::kBestFit, PackStrategy::kComplement};
  // every distinct construction, the best first (fewest workers, then the most uneven fills)
  std::vector<Candidate> cands;
  std::vector<int64_t> tmp(m);
  for (const auto& o : orders) {
    for (PackStrategy rule : rules) {
      PackOptions g = opt;
      g.search = false;
      g.strategy = rule;
      g.improve = rule == PackStrategy::kComplement ? opt.improve : 0;
      size_t W = pack_greedy(pk, Dl.data(), R, T, cap, o.data(), m, g, tmp.data(), nullptr);
      bool dup = false;
      for (const auto& c : cands) dup |= c.W == W && c.bin == tmp;
      if (dup) continue;
      Candidate c;
      c.bin = tmp;
      c.W = W;
      c.spread = spread_of(Dl.data(), m, R, T, cap, tmp, W);
      cands.push_back(std::move(c));
    }
    if (progress) progress(1, orders.size() + 1);
  }
  std::stable_sort(cands.begin(), cands.end(), [](const Candidate& a, const Candidate& b) {
    return a.W != b.W ? a.W < b.W : a.spread > b.spread * (1.0 + 1e-12);
  });
  Candidate& best = cands[0];
  size_t W = best.W;
  if (opt.risk == 0 && W > 1) {
    uint64_t work = 0;
    const size_t lb = improve_lower_bound(Dl.data(), m, R, T, cap, 256, &work);
    const double budget = search_budget(opt.effort, V);
    // the plain search from the best construction
    ImproveResult res = improve_plan(Dl.data(), m, R, T, cap, best.bin.data(), W, lb, static_cast<uint64_t>(budget));
    W = res.workers;
    // the fixed-k squeeze (squeeze.hpp): the whole shard onto a worker fewer
    // by weighted overflow, from scratch, while above the bound; small shards
    // only (its start and tabu table grow as m x W: on a shard of 10,000
    // shapes it would cost seconds and gain nothing)
    if (V <= kSqueezeValues && W > lb) {
      std::vector<int64_t> bin = best.bin;
      SqueezePlanResult q = squeeze_plan(Dl.data(), m, R, T, cap, bin.data(), W, lb,
                                         static_cast<uint64_t>(budget * kSqueezeShare), 0);
      if (q.workers < W) {
        W = q.workers;
        best.bin = std::move(bin);
      }
    }
    // restarts on small shards: the search with re-pack moves from each of the
    // best kRestarts constructions (a different search from different starts)
    if (V <= kPortfolioValues) {
      ImproveOptions ro;
      ro.repack = true;
      for (size_t c = 0; c < std::min(kRestarts, cands.size()) && W > lb; ++c) {
        std::vector<int64_t> bin = cands[c].bin;
        ImproveResult r = improve_plan(Dl.data(), m, R, T, cap, bin.data(), cands[c].W, lb,
                                       static_cast<uint64_t>(budget * kRestartShare), ro);
        if (r.workers < W) {
          W = r.workers;
          best.bin = std::move(bin);
        }
      }
    }
  }
  for (size_t k = 0; k < m; ++k) assign[order[k]] = best.bin[k];
  return W;
}

}  // namespace pyshape
