// The method top_partners(method='auto') runs: one cost model for Python
// (pyshape.correlate.topk) and the C API (pyshape_top_partners_method), so
// both make the same choice for the same sizes.
//
// Measured on the project's 2-core AVX-512 machine (bench/RESULTS.md, "Top-k
// on every data kind"): the int8 path (topk_q8.hpp) is faster than brute force
// on every data kind of the bench (structured, white noise, Bitbrains- and
// Azure-derived) from about 2e9 multiply-adds of work, and faster than the
// low-rank pruned path on all of them, make_shapes included (2.2x at
// n = 10,000, 1.25x at n = 20,000, T = 1440). So int8 runs wherever it applies (1 <= T <= kQ8MaxT) and
// the work is not small; brute force below that. Only where int8 does not
// apply (T > kQ8MaxT) and the work is large is a low-rank plan worth its cost
// (~1 s): then pruning runs if the plan predicts a clear win. The plan is
// NumPy/LAPACK code (pyshape.correlate._lowrank), so the C API, which has no
// pruned path, runs brute force there; everywhere else its choice is Python's.
#pragma once
#include <cstddef>

namespace pyshape {

enum class TopKMethod : int { kAuto = 0, kBruteForce = 1, kInt8 = 2, kPruned = 3 };

// Below this many multiply-adds (n_queries * n * T) brute force is used: the
// int8 path's quantisation and exact warm-up cost more than its tiles save.
constexpr double kInt8MinWork = 2e9;
// A low-rank plan is considered only from this much work (planning costs about
// a second on 2 cores, brute force at this size about as much).
constexpr double kPlanMinWork = 1.5e11;
// The plan's estimate (pruned / brute-force cost) was measured up to this
// factor too optimistic, so pruning runs only when its estimate, so inflated,
// is below 1.
constexpr double kPrunedTrust = 2.0;

// The method 'auto' runs for these sizes when no plan is given
// (kBruteForce or kInt8), or kPruned meaning "make a low-rank plan and ask
// again" (only where int8 does not apply and the work is large).
TopKMethod topk_auto_method(size_t n_queries, size_t n, size_t T);

// The final choice once a plan was made (plan_rank 0: the plan found nothing
// to project): kPruned if est_cost_ratio * kPrunedTrust < 1, else brute force.
TopKMethod topk_auto_method_with_plan(size_t n_queries, size_t n, size_t T, int plan_rank, double est_cost_ratio);

// "bruteforce", "int8", "pruned" ("auto" for kAuto).
const char* topk_method_name(TopKMethod m);

}  // namespace pyshape
