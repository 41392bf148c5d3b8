// The running top-k state of one query row: the k highest scores ("pos") and
// the k lowest ("neg", kept as negated scores so that one heap type serves),
// stored straight in the caller's output arrays.
#pragma once
#include <limits>

#include "common/score_range.hpp"
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

  // A raw score must reach hi() or fall to lo() to change either heap.
  // Scores are clamped to [-1, 1] when offered (common/score_range.hpp); a
  // heap whose threshold is at the end of that range can still take a
  // clamped score that ties it (by index), whatever the raw score beyond it.
  float hi() const {
    if (!want_pos_) return std::numeric_limits<float>::infinity();
    const float t = pos_.threshold();
    return t <= -1.f ? -std::numeric_limits<float>::infinity() : t;
  }
  float lo() const {
    if (!want_neg_) return -std::numeric_limits<float>::infinity();
    const float t = -neg_.threshold();
    return t >= 1.f ? std::numeric_limits<float>::infinity() : t;
  }

  void offer(float s, int64_t j) {
    s = clamp_corr(s);
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
