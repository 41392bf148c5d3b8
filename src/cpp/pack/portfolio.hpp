// The 'auto' strategy: a portfolio of greedy constructions with the best
// kept, then local search (improve.hpp), within a work budget.
//
// Per shard of m shapes with V = m * R * T values:
//
//   V <= kPortfolioValues (2^21)   the full portfolio: size orders {the given
//                                  order (max_r peak / C), sum_r volume / C,
//                                  sum_r (peak + mean) / C, sum_r peak / C,
//                                  max_r volume / C} (duplicates dropped) x
//                                  rules {first_fit, best_fit, complement +
//                                  drain}, then local search
//   V <= kSearchValues (2^24)      the three rules on the given order, the
//                                  fewest workers kept (ties: complement):
//                                  about three greedy passes, no search, so
//                                  1M x 288 costs ~2x 'complement'
//   larger                         complement + drain only (as 'complement'),
//                                  so 1M x 1440 x 2 (shards of 32,768: 94M
//                                  values each) costs what it did
//
// Local search (small shards): the best construction (fewest workers; ties:
// the most uneven fills, then the first in the list above) is improved by
// improve_plan() with a budget of effort * (2^25 + 16 * V) values compared
// (search_budget), stopping at the lower bound (improve_lower_bound). When
// that plain search stays above the bound, the fixed-k squeeze
// (squeeze.hpp: all shapes on one worker fewer, overflow allowed, moved until
// none is over, by weighted local search with exact pair re-packs) runs with
// kSqueezeShare budgets, one worker fewer at a time, on shards of V <=
// kSqueezeValues (2^17: e.g. 680 shapes of 96 x 2); it finds the plans that
// need the whole fleet rearranged (few workers, a nearly full step), which
// the plain search, emptying one worker at a time, misses. If still above
// the bound, the search with re-pack moves (ImproveOptions::repack) restarts
// from each of the kRestarts best distinct constructions with kRestartShare
// of the budget each, the best plan kept: different searches from different
// starts fail on different instances.
// The given order's first_fit and best_fit are in every portfolio, so 'auto'
// never uses more workers than either on the same shard. Local search needs
// risk 0 (with a risk budget only the portfolio runs). Everything is counted
// in work, never in time, and each shard is sequential: plans do not depend
// on threads or machine.
#pragma once
#include <cstddef>
#include <cstdint>

#include "common/progress.hpp"
#include "pack/pack.hpp"

namespace pyshape {

constexpr size_t kPortfolioValues = size_t{1} << 21;
constexpr size_t kSearchValues = size_t{1} << 24;
constexpr size_t kRestarts = 8;          // restarts with re-pack moves (small shards)
constexpr double kRestartShare = 0.25;   // of the budget, each
constexpr double kSqueezeShare = 3.0;    // the fixed-k squeeze's budget, in budgets
constexpr size_t kSqueezeValues = size_t{1} << 17;  // the squeeze runs on shards of V <= this

// The local-search budget of a shard of V values, in values compared:
// effort * (2^25 + 16 V) up to kPortfolioValues, effort * 2^23 above (unused
// there by pack_search; kept finite for callers).
double search_budget(double effort, size_t V);

// As pack_greedy (pack.hpp), by the rule above.
size_t pack_search(const PackKernels& pk, const float* D, size_t R, size_t T, const float* cap, const int64_t* order, size_t m,
                   const PackOptions& opt, int64_t* assign, const ProgressFn& progress);

}  // namespace pyshape
