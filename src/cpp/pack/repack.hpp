// Exact re-pack of a few shapes onto a few workers: depth-first search with
// forward checking and a node budget (the exact move of the local search,
// improve.hpp).
//
// Given n shapes (R x T values each, float64, as the local search keeps them)
// and k workers with their slack (capacity - load, k x RT), find a worker for
// every shape so that no worker goes below zero slack anywhere, or prove that
// there is none, or give up after max_nodes nodes.
//
// Search. Every unplaced shape keeps the set of workers it still fits on (a
// bit mask; k <= kRepackMaxWorkers). The next shape placed is the one with the
// fewest workers left (fail first; ties: the larger shape), tried on each of
// them, the fullest first. After a placement on worker b only b's slack has
// shrunk, so only the shapes that still had b are re-tested against b, and a
// shape left with no worker cuts the branch at once. Workers whose initial
// slack is identical (e.g. empty ones) are interchangeable: a shape opens at
// most one of those not used yet (symmetry). At the root, the total demand
// must fit the summed slack at every (resource, step) (no branch changes that
// difference, so it is checked once).
//
// Work is counted in values compared (as improve.hpp); the search gives up
// after max_nodes placements or max_work values compared, so the outcome
// depends on the budgets only, never on time or threads. Deterministic.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace pyshape {

constexpr size_t kRepackMaxWorkers = 64;

enum class RepackStatus : int { kFound = 1, kInfeasible = 0, kBudget = -1 };

struct RepackResult {
  RepackStatus status = RepackStatus::kBudget;
  uint64_t nodes = 0;  // placements tried
  uint64_t work = 0;   // values compared
};

// shapes[i]: RT values of shape i (i < n); slack: k x RT, the room left on
// each worker (capacity for an empty one). On kFound, where[i] is shape i's
// worker in [0, k). Shapes are expected in decreasing size (the tie order of
// fail-first). k in [1, kRepackMaxWorkers], else kInfeasible for k = 0 and
// std::invalid_argument for k too large.
RepackResult repack_exact(const double* const* shapes, size_t n, size_t RT, const double* slack, size_t k,
                          uint64_t max_nodes, uint64_t max_work, int* where);

// Convenience for callers with one contiguous array D[n, RT] (float32) and k
// empty workers of capacity capk[RT]: the same search.
RepackResult repack_exact_empty(const float* D, size_t n, size_t RT, const float* capk, size_t k,
                                uint64_t max_nodes, uint64_t max_work, int* where);

}  // namespace pyshape
