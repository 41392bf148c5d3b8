// Local search over a typed plan (heterogeneous fleets, types.hpp): lowers
// the total cost of a feasible plan (risk 0) with moves between workers of
// different types, after the typed greedy candidates and their tail repack.
//
// Loads are kept per worker in float64 (R x T, summed from the members), and
// a worker fits type t when its load is nowhere above t's effective capacity
// (the fit test of downsize() at risk 0). The cheapest type that holds a load
// depends on its per-resource peaks only. One round, in this order (every
// worker first re-typed to the cheapest type its load fits: downsizing):
//
//   empty       from the worker that wastes the most (cost x (1 - fill),
//               fill = mean_r volume_r / (capacity_r T)): its shapes, the
//               largest first, each to the other worker whose cost rises
//               least when it takes the shape (0 when it still fits its type;
//               else it is re-typed to the cheapest type that holds its new
//               load), ties to the fullest; kept when the rises sum to less
//               than the emptied worker's cost. Moving every shape onto one
//               worker made bigger is a merge of two workers into one type
//   merge       two workers into one of the cheapest type that holds both
//               loads, when that costs less than the two (the best partner
//               per worker): the merge that per-shape choices above can miss
//   grow        a worker re-typed to a dearer, bigger type (the cheapest
//               first) absorbs whole workers, the most wasteful first, while
//               its load fits; kept when the workers absorbed (at least two)
//               cost more than the rise: k workers merged into one (e.g. four
//               mediums into one large when the large costs less than four)
//   shed        a worker of type t is made to fit a cheaper type t' (the
//               cheapest first): the member that removes the most load above
//               t''s capacity moves to another worker (as in empty), up to
//               kShedMoves members, kept when the saving beats the receivers'
//               rises; failing that, one swap of a member with a member of
//               another worker that leaves that worker within its type and
//               this one within t'
//   split       a worker's shapes into the cheapest mix of at most 3 workers
//               that is cheaper than it and takes them (cheapest_bins,
//               types.hpp: fixed workers, first fit / best fit / complement)
//   same type   for each type, its workers (in chunks of at most
//               kTypedChunkValues values, in worker order) go through
//               improve_plan (improve.hpp) as 'auto' runs it on a shard (the
//               plain search, then the one with re-pack moves; the budget of
//               search_budget, portfolio.hpp, capped by what is left):
//               ejection moves and exact re-packs that remove workers while
//               every shape stays on a worker of that type; then downsizing
//
// Rounds repeat while one lowers the cost, at most kTypedRounds. Work is
// counted in values read (one per (resource, step) of a load scan; the
// improve_plan chunks report theirs), and the search stops when the budget is
// spent, so the plan depends on the budget only, never on time or threads:
// everything runs on one thread, in a fixed order. The cost never rises:
// every change is kept only when it lowers the cost (downsizing only lowers
// it). Shapes keep their worker or move whole; workers that empty are dropped
// and the rest renumbered in order (split's new workers after them).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "pack/pack.hpp"

namespace pyshape {

constexpr size_t kTypedChunkValues = size_t{1} << 21;  // values of one improve_plan chunk
constexpr size_t kTypedRounds = 4;
constexpr size_t kShedMoves = 4;

struct TypedSearchStats {
  double cost_before = 0, cost_after = 0;
  uint64_t work = 0;  // values read
  size_t emptied = 0, merged = 0,  // merged: workers merged away (merge and grow)
          shed = 0, swapped = 0, split = 0, same_type_removed = 0, rounds = 0;
};

// The work budget of the search on V = n R T values: effort * (2^25 + V)
// (pack_typed shares it equally among its candidates). On 100,000 synthetic
// shapes x 2 resources, three types: +7% CPU on the typed pack at T = 96,
// +3.5% at T = 288 (bench/RESULTS.md); 4 V instead of V gave +11%.
double typed_search_budget(double effort, size_t V);

// Improves the plan (assign: n workers in [0, W), wtype: W types) of shapes
// D (n x R x T) with peaks (n x R) in place; eff (n_types x R), cost (n_types)
// as in pack_typed. Risk must be 0 (opt.risk). Returns the plan's cost.
double improve_typed(const PackKernels& pk, const float* D, size_t n, size_t R, size_t T, const float* peaks,
                     const float* eff, const double* cost, size_t n_types, const PackOptions& opt, int64_t* assign,
                     std::vector<int32_t>& wtype, uint64_t budget, TypedSearchStats* stats = nullptr);

}  // namespace pyshape
