// Batch packing: a construction pass (strategy per shape, in the given order)
// followed by an optional drain step that tries to empty workers.
//
// Drain: workers are visited from the emptiest (smallest sum_r volume_r /
// cap_r); all shapes of the visited worker are re-placed on the other workers
// with the complement rule (largest shape first), never opening a new one. If
// every shape finds a place the worker is closed; otherwise the touched
// workers get their saved loads back (bit for bit), so a failed attempt
// changes nothing. Passes repeat while a pass closes a worker, up to
// opt.improve passes.
#include "pack/pack.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "common/parallel.hpp"
#include "pack/portfolio.hpp"

namespace pyshape {

void pack_stats(const PackKernels& pk, const float* D, size_t n, size_t R, size_t T, float* peaks, double* total,
                int64_t* bad_nonfinite, int64_t* bad_negative, int n_threads) {
  constexpr size_t kBlock = 2048;
  const size_t nb = (n + kBlock - 1) / kBlock;
  std::vector<double> part(nb * R * T, 0.0);
  std::vector<int64_t> nonf(nb, -1), neg(nb, -1);
  parallel_for(nb, n_threads, [&](size_t b, int) {
    double* acc = part.data() + b * R * T;
    size_t e = std::min(n, (b + 1) * kBlock);
    for (size_t i = b * kBlock; i < e; ++i) {
      const float* x = D + i * R * T;
      for (size_t r = 0; r < R; ++r) {
        uint32_t bad = pk.row_stats(x + r * T, T, acc + r * T, peaks + i * R + r);
        if ((bad & 1u) && nonf[b] < 0) nonf[b] = static_cast<int64_t>(i);
        if ((bad & 2u) && neg[b] < 0) neg[b] = static_cast<int64_t>(i);
      }
    }
  });
  std::fill(total, total + R * T, 0.0);
  *bad_nonfinite = -1;
  *bad_negative = -1;
  for (size_t b = 0; b < nb; ++b) {
    const double* acc = part.data() + b * R * T;
    for (size_t k = 0; k < R * T; ++k) total[k] += acc[k];
    if (*bad_nonfinite < 0) *bad_nonfinite = nonf[b];
    if (*bad_negative < 0) *bad_negative = neg[b];
  }
}

namespace {

// Tries to empty workers; updates assign (worker indices stay those of the
// fleet; closed workers are left empty and disabled). Returns workers closed.
size_t drain(Fleet& fleet, const float* D, size_t n, const int64_t* order, const PackOptions& opt,
             int64_t* assign) {
  const size_t R = fleet.R(), T = fleet.T(), RT = R * T, W = fleet.size();
  // members in placement order (order[] is decreasing size)
  std::vector<std::vector<int64_t>> members(W);
  for (size_t k = 0; k < n; ++k) members[assign[order[k]]].push_back(order[k]);
  std::vector<char> closed(W, 0);
  ShapeSummary ss;
  std::vector<float> saved_load;
  std::vector<double> saved_vol;
  std::vector<int64_t> touched, moved_to;
  std::vector<int64_t> slot(W, -1);
  size_t n_closed = 0;
  for (int pass = 0; pass < opt.improve; ++pass) {
    std::vector<size_t> ws;
    for (size_t w = 0; w < W; ++w)
      if (!closed[w]) ws.push_back(w);
    if (ws.size() <= 1) break;
    auto fill = [&](size_t w) {
      double f = 0;
      for (size_t r = 0; r < R; ++r) f += fleet.volume(w)[r] / fleet.cap(w)[r];
      return f;
    };
    std::vector<double> f(W);
    for (size_t w : ws) f[w] = fill(w);
    std::stable_sort(ws.begin(), ws.end(), [&](size_t a, size_t b) { return f[a] < f[b]; });
    size_t closed_this_pass = 0;
    for (size_t w : ws) {
      if (closed[w] || members[w].empty()) continue;
      fleet.set_enabled(w, false);
      touched.clear();
      moved_to.clear();
      saved_load.clear();
      saved_vol.clear();
      bool ok = true;
      for (int64_t i : members[w]) {
        const float* s = D + static_cast<size_t>(i) * RT;
        fleet.summarize(s, ss);
        int64_t v = fleet.choose(s, ss, PackStrategy::kComplement, opt.candidates);
        if (v < 0) {
          ok = false;
          break;
        }
        if (slot[v] < 0) {
          slot[v] = static_cast<int64_t>(touched.size());
          touched.push_back(v);
          saved_load.insert(saved_load.end(), fleet.load(v), fleet.load(v) + RT);
          saved_vol.insert(saved_vol.end(), fleet.volume(v), fleet.volume(v) + R);
        }
        fleet.add(static_cast<size_t>(v), s, ss);
        moved_to.push_back(v);
      }
      if (ok) {
        for (size_t k = 0; k < members[w].size(); ++k) {
          int64_t i = members[w][k], v = moved_to[k];
          assign[i] = v;
          members[v].push_back(i);
        }
        members[w].clear();
        fleet.clear(w);
        closed[w] = 1;
        ++n_closed;
        ++closed_this_pass;
      } else {
        for (size_t k = 0; k < touched.size(); ++k)
          fleet.set_load(touched[k], saved_load.data() + k * RT, saved_vol.data() + k * R);
        fleet.set_enabled(w, true);
      }
      for (int64_t v : touched) slot[v] = -1;
    }
    if (closed_this_pass == 0) break;
  }
  return n_closed;
}

}  // namespace

size_t pack_greedy(const PackKernels& pk, const float* D, size_t R, size_t T, const float* cap, const int64_t* order,
                   size_t m, const PackOptions& opt, int64_t* assign, const ProgressFn& progress) {
  Fleet fleet(pk, R, T, cap, opt.risk);
  greedy_pass(fleet, D, order, m, opt, assign, [&fleet](int64_t) { return fleet.open(); }, progress,
              m + (opt.improve > 0 ? m / 4 : 0));
  size_t W = fleet.size();
  if (opt.improve > 0 && W > 1) {
    size_t closed = drain(fleet, D, m, order, opt, assign);
    if (closed > 0) {
      // renumber the workers left, keeping their order
      std::vector<char> used(W, 0);
      std::vector<int64_t> newid(W, -1);
      for (size_t k = 0; k < m; ++k) used[assign[order[k]]] = 1;
      size_t c = 0;
      for (size_t w = 0; w < W; ++w)
        if (used[w]) newid[w] = static_cast<int64_t>(c++);
      for (size_t k = 0; k < m; ++k) assign[order[k]] = newid[assign[order[k]]];
      W = c;
    }
  }
  return W;
}

namespace {

// One shard: the search ('auto', portfolio.hpp) or one greedy pass.
size_t pack_one(const PackKernels& pk, const float* D, size_t R, size_t T, const float* cap, const int64_t* order,
                size_t m, const PackOptions& opt, int64_t* assign, const ProgressFn& progress) {
  if (opt.search) return pack_search(pk, D, R, T, cap, order, m, opt, assign, progress);
  return pack_greedy(pk, D, R, T, cap, order, m, opt, assign, progress);
}

}  // namespace

size_t pack_shapes(const PackKernels& pk, const float* D, size_t n, size_t R, size_t T, const float* cap,
                   const int64_t* order, const PackOptions& opt, int64_t* assign,
                   const ProgressFn& progress, int n_threads) {
  const size_t shard = opt.shard_size > 0 ? opt.shard_size : n;
  const size_t S = (n + shard - 1) / shard;
  if (S <= 1) {
    size_t W = pack_one(pk, D, R, T, cap, order, n, opt, assign, progress);
    if (progress) progress(1, 1);
    return W;
  }
  // Interleaved shards: shard j takes order[j], order[j + S], ... (each keeps
  // the decreasing order and a like mix of sizes), packed independently.
  std::vector<std::vector<int64_t>> orders(S);
  for (size_t k = 0; k < n; ++k) orders[k % S].push_back(order[k]);
  std::vector<size_t> Ws(S);
  parallel_for(S, n_threads, [&](size_t j, int) {
    Ws[j] = pack_one(pk, D, R, T, cap, orders[j].data(), orders[j].size(), opt, assign, nullptr);
  }, progress);
  size_t off = 0;
  for (size_t j = 0; j < S; ++j) {
    for (int64_t i : orders[j]) assign[i] += static_cast<int64_t>(off);
    off += Ws[j];
  }
  return off;
}

}  // namespace pyshape
