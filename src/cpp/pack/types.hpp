// Heterogeneous fleets: worker types, each with a capacity per resource and a
// cost; a plan minimises the total cost of its workers.
//
// The typed policy (plan_pack with a type table, policy.hpp) keeps the
// cheapest of these candidate plans (ties: the first in this list):
//
//   one type   for every type t that every shape fits (in table order): the
//              whole engine of one-type packing (size order by t's effective
//              capacity, the strategy, 'auto''s portfolio and local search,
//              sharding) on t's capacity
//   mixed      (two or more types) one greedy pass in decreasing size (the
//              size against the largest effective capacity per resource)
//              with the strategy's rule over the open workers, each with its
//              own capacity; when no open worker takes the shape, a worker of
//              open_type() opens; sharded like one-type packing
//
// and then, in every candidate, each worker is downsized to the cheapest type
// its final load fits (downsize()), so a worker opened big for an early large
// shape ends as the smallest type that holds what it got; then the tail is
// repacked: the shapes of the k emptiest workers (k = 1..4, at most 4096
// shapes) are packed again on their own by the candidates above (with
// downsizing), or, when that gains nothing, into fixed workers of the
// cheapest mix of at most k + 2 workers that takes them (mixes cheaper than those
// k workers in increasing cost, at most 64 tried, each by first fit, best
// fit and complement, largest worker first), and replace those workers when
// that costs less (a half-empty large worker becomes a small one, two
// mediums a medium and a small); repeated while it gains, up to 16 times. With a single type only the one-type
// candidate runs, and downsizing and the tail repack are skipped: the plan
// is bit for bit the one-type plan.
//
// With strategy 'auto' (opt.search) at risk 0, every candidate then goes
// through the typed local search (types_search.hpp: moves, merges of several
// workers into one bigger type, swaps and moves that let a worker downsize,
// splits into cheaper mixes, and improve_plan within each type; searches from
// different candidates end in different optima) with an equal share of
// effort * (2^25 + V) values of work (V = n R T), and the tail repack runs
// again where the search lowered the cost; the cheapest plan is kept. Small
// inputs (V <= kPortfolioValues, portfolio.hpp) also get the candidates of the
// greedy rules first_fit, best_fit and complement, and there every candidate's
// search gets the whole budget (a few ms each for 250 VMs x 288 steps); the
// cheapest of all is kept.
//
// Cost: one engine run per type plus one greedy pass, so about n_types + 1
// times the one-type cost, plus the tail repacks (small subsets) and the
// search's budget (+7% CPU at n = 100,000, T = 96, R = 2: bench/RESULTS.md).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/progress.hpp"
#include "pack/pack.hpp"

namespace pyshape {

// Throws std::invalid_argument (naming the type) unless n_types >= 1, every
// capacity positive and finite, every cost positive and finite.
void check_worker_types(size_t n_types, size_t R, const double* capacity, const double* cost);

// The type a new worker opens as for a shape with peaks p (R floats): among
// the types whose effective capacity eff (n_types x R) holds p, the one with
// the least cost per copy of the shape it holds, cost_t / min_r (eff_t[r] /
// p[r]) over resources with p[r] > 0 (ties: the lower cost, then the lower
// index); -1 when no type holds p.
int open_type(const float* p, size_t R, const float* eff, const double* cost, size_t n_types);

// The cheapest type (lowest cost, then lowest index) whose effective capacity
// eff (n_types x R) holds the peaks p (R floats); -1 when none does. The
// Placer opens its workers as this type.
int cheapest_type(const float* p, size_t R, const float* eff, const double* cost, size_t n_types);

// Per worker, the cheapest type (lowest cost, then lowest index) whose
// effective capacity its load fits, when that type is cheaper than
// worker_type[w]; worker_type (W entries) is updated in place. The load is
// summed in float64 from the members (shapes D with assign), and "fits" is
// exact: load[r, t] <= eff_t[r] at every step and resource, or, with a risk
// budget, at all but floor(risk * T + 1e-9) steps. Deterministic for any
// n_threads.
void downsize(const float* D, size_t n, size_t R, size_t T, const int64_t* assign, size_t W, const float* eff,
              const double* cost, size_t n_types, double risk, int32_t* worker_type, int n_threads);

// The cheapest multiset of at most k worker types, cheaper than `below`, whose
// workers (opened up front, largest first) take the shapes Ds (m x R x T,
// peaks ps) by first fit, best fit or complement in decreasing size; mixes in
// increasing cost (ties: table order), those whose summed capacity is below
// the shapes' total at some step skipped, at most 64 tried. Returns the cost
// (infinity when none), the mix to bins and each shape's bin to sub (bins may
// be left empty). The tail repack's fixed mixes and the typed local search's
// split (types_search.hpp).
double cheapest_bins(const PackKernels& pk, const float* Ds, size_t m, size_t R, size_t T, const float* ps,
                     const float* eff, const double* cost, size_t n_types, size_t k, double below,
                     const PackOptions& opt, std::vector<int32_t>& bins, int64_t* sub);

// The typed policy above on shapes D (n x R x T) with per-shape peaks (n x R);
// eff: n_types x R effective capacities (float32), cost: n_types. Every
// shape must fit some type. Writes assign (n) and worker_type (resized to the
// workers); returns the plan's cost.
double pack_typed(const PackKernels& pk, const float* D, size_t n, size_t R, size_t T, const float* peaks,
                  const float* eff, const double* cost, size_t n_types, const PackOptions& opt, int64_t* assign,
                  std::vector<int32_t>& worker_type, const ProgressFn& progress, int n_threads);

// A lower bound on the cost of every plan within the risk budget
// (pyshape.packing.cost_lower_bound): the largest of
//   volume   with m[s] the cheapest fractional fleet that covers step s,
//            max { y . total[:, s] : y >= 0, y . eff_t <= cost_t for all t }
//            (the vertices y enumerated once, types.cpp; at least
//            max_r c_r * total[r, s] with c_r = min_t cost_t / eff_t[r]),
//            lowered by 4 float32 units: the smallest C >= 0 with
//            #{s : m[s] > C} <= floor(C / cmin) * k, k = floor(risk * T)
//            (risk 0: max_s m[s])
//   workers  cmin * pack_lower_bound(total, max_t eff_t, risk)
//   shapes   (risk 0 and peaks given) max_i of the cheapest type holding shape i's peak
// where cmin is the smallest cost. eff: n_types x R (as double). peaks:
// n x R or nullptr.
double cost_lower_bound(const double* total, size_t R, size_t T, const double* eff, const double* cost,
                        size_t n_types, double risk, const float* peaks, size_t n);

}  // namespace pyshape
