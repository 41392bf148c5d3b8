// Local search that removes workers from a feasible plan (exact fit, risk 0).
//
// The plan's loads are kept in float64 as slack (capacity - load) per
// (resource, step); a shape fits on a worker when it is nowhere above the
// slack. The search repeats "empty one worker" until it fails, the plan
// meets the lower bound, or the work budget is spent:
//
//   Empty a worker (ejection search). The workers are tried from the emptiest
//   (smallest sum_r volume_r / cap_r). The chosen worker's shapes go to a
//   pool; pool shapes are then placed on the other workers, the heaviest
//   first: where one fits, on the fullest such worker; otherwise by an
//   ejection: the shape goes to a worker from which one or two shapes of
//   smaller total weight are taken out to the pool (the cheapest such move
//   over all workers). Weights start at the shapes' sizes; when no pool shape
//   has a move that lowers the pool's weight, the weights of the pool shapes
//   grow (so that shapes that keep coming back are placed first and may
//   eject heavier ones), a short tabu keeps a shape just placed from being
//   ejected at once. The pool empties (a worker fewer) or the attempt's share
//   of the budget runs out; a failed attempt restores the plan.
//
//   Exact re-pack (repack.hpp: depth-first search with forward checking and
//   a node budget). When ejection fails on the emptiest worker, the shapes of
//   the k emptiest workers (k = 2..4, at most kExactItems shapes) are packed
//   into k - 1 workers.
//
//   Re-pack moves (ImproveOptions::repack). The ejection search above gets a
//   further move, tried first while the pool holds at most 4 shapes: a pool
//   shape and the shapes of 2 or 3 workers (the least deficit for it first)
//   re-packed exactly onto those workers: the coordinated rearrangement of
//   several workers that single ejections miss when a small shape's steps
//   are full on every worker. The exact re-pack of the emptiest workers then
//   takes up to kExactItemsWide shapes. It is a different search, not a
//   stronger one (it spends budget on moves that are often not needed): the
//   portfolio (portfolio.hpp) runs it after the plain one fails.
//
// Work is counted in values compared (one per (resource, step) of a fit test
// or a deficit scan), so the result depends on the budget only: never on
// time, threads or machine. Deterministic.
#pragma once
#include <cstddef>
#include <cstdint>

namespace pyshape {

struct ImproveResult {
  size_t workers = 0;       // workers after the search
  size_t removed = 0;       // workers removed
  uint64_t work = 0;        // values compared
  bool at_bound = false;    // the plan meets the lower bound (optimal)
};

struct ImproveOptions {
  bool repack = false;  // the re-pack moves above
};

// Shapes D[m, R, T] (local, contiguous), capacity cap[R], a feasible plan
// bin[m] (workers 0..W-1, none empty). Rewrites bin with the improved plan
// (workers renumbered 0..W'-1 keeping their order). lower: a lower bound on
// the workers (the search stops there). budget: values compared at most.
ImproveResult improve_plan(const float* D, size_t m, size_t R, size_t T, const float* cap, int64_t* bin,
                           size_t W, size_t lower, uint64_t budget, const ImproveOptions& opt = ImproveOptions());

// A lower bound on the workers of any exact plan: the largest of
// max_{r,t} ceil(sum_i D / cap), max_{r,t} of Martello and Toth's L2 bound of
// the one-step bin packing of D[:, r, t] (any plan packs every step; it
// counts the values above half the capacity, which need a worker each, and
// what of the rest does not fit their room), and the size of a greedy clique
// of shapes that pairwise cannot share a worker (among the largest
// max_clique_items). Capacities are widened by 1e-6 (float32 rounding). The
// search stops at this bound, so a tighter one saves its budget on shards
// already at the optimum.
size_t improve_lower_bound(const float* D, size_t m, size_t R, size_t T, const float* cap,
                           size_t max_clique_items, uint64_t* work);

}  // namespace pyshape
