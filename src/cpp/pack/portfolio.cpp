#include "pack/portfolio.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "pack/improve.hpp"

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
  Candidate best, cur;
  bool have = false;
  std::vector<int64_t> tmp(m);
  for (const auto& o : orders) {
    for (PackStrategy rule : rules) {
      PackOptions g = opt;
      g.search = false;
      g.strategy = rule;
      g.improve = rule == PackStrategy::kComplement ? opt.improve : 0;
      size_t W = pack_greedy(pk, Dl.data(), R, T, cap, o.data(), m, g, tmp.data(), nullptr);
      if (have && W > best.W) continue;
      double sp = spread_of(Dl.data(), m, R, T, cap, tmp, W);
      if (!have || W < best.W || sp > best.spread * (1.0 + 1e-12)) {
        best.bin = tmp;
        best.W = W;
        best.spread = sp;
        have = true;
      }
    }
    if (progress) progress(1, orders.size() + 1);
  }
  size_t W = best.W;
  if (opt.risk == 0 && W > 1) {
    uint64_t work = 0;
    size_t lb = improve_lower_bound(Dl.data(), m, R, T, cap, 256, &work);
    if (W > lb) {
      const double budget = std::max(0.0, opt.effort) * (std::ldexp(1.0, 25) + 16.0 * static_cast<double>(V));
      ImproveResult res = improve_plan(Dl.data(), m, R, T, cap, best.bin.data(), W, lb,
                                       static_cast<uint64_t>(std::min(budget, 1e18)));
      W = res.workers;
    }
  }
  for (size_t k = 0; k < m; ++k) assign[order[k]] = best.bin[k];
  return W;
}

}  // namespace pyshape
