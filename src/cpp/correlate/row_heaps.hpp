// The running top-k state of one query row: the k highest scores ("pos") and
// the k lowest ("neg", kept as negated scores so that one heap type serves),
// stored straight in the caller's output arrays.
#pragma once
#include <limits>

#include "common/topk.hpp"
#include "correlate/pearson.hpp"

namespace pyshape {

class RowHeaps {
 public:
  RowHeaps(const TopKOutput& out, size_t row, int k)
      : want_pos_(out.pos_score != nullptr),
        want_neg_(out.neg_score != nullptr),
        pos_(want_pos_ ? out.pos_score + row * k : nullptr, want_pos_ ? out.pos_index + row * k : nullptr,
             want_pos_ ? k : 0),
        neg_(want_neg_ ? out.neg_score + row * k : nullptr, want_neg_ ? out.neg_index + row * k : nullptr,
             want_neg_ ? k : 0),
        neg_score_(want_neg_ ? out.neg_score + row * k : nullptr),
        k_(k) {}

  // A score must reach hi() or fall to lo() to change either heap.
  float hi() const { return want_pos_ ? pos_.threshold() : std::numeric_limits<float>::infinity(); }
  float lo() const { return want_neg_ ? -neg_.threshold() : -std::numeric_limits<float>::infinity(); }

  void offer(float s, int64_t j) {
    if (want_pos_) pos_.push(s, j);
    if (want_neg_) neg_.push(-s, j);
  }

  // Best first on both sides; neg scores get their sign back (lowest first).
  void finish() {
    if (want_pos_) pos_.sort_best_first();
    if (want_neg_) {
      neg_.sort_best_first();
      for (int t = 0; t < k_; ++t) neg_score_[t] = -neg_score_[t];
    }
  }

 private:
  bool want_pos_, want_neg_;
  TopK pos_, neg_;
  float* neg_score_;
  int k_;
};

}  // namespace pyshape
