#include "correlate/topk_method.hpp"

#include "correlate/topk_q8.hpp"

namespace pyshape {

TopKMethod topk_auto_method(size_t n_queries, size_t n, size_t T) {
  // In double: n_queries * n * T overflows 64 bits only far beyond any
  // memory, but the product of three size_t could still wrap in size_t.
  const double work = static_cast<double>(n_queries) * static_cast<double>(n) * static_cast<double>(T);
  if (T >= 1 && T <= kQ8MaxT) return work >= kInt8MinWork ? TopKMethod::kInt8 : TopKMethod::kBruteForce;
  return work >= kPlanMinWork ? TopKMethod::kPruned : TopKMethod::kBruteForce;
}

TopKMethod topk_auto_method_with_plan(size_t n_queries, size_t n, size_t T, int plan_rank, double est_cost_ratio) {
  const TopKMethod m = topk_auto_method(n_queries, n, T);
  if (m != TopKMethod::kPruned) return m;
  return plan_rank > 0 && est_cost_ratio * kPrunedTrust < 1.0 ? TopKMethod::kPruned : TopKMethod::kBruteForce;
}

const char* topk_method_name(TopKMethod m) {
  switch (m) {
    case TopKMethod::kBruteForce: return "bruteforce";
    case TopKMethod::kInt8: return "int8";
    case TopKMethod::kPruned: return "pruned";
    default: return "auto";
  }
}

}  // namespace pyshape
