// Fixed-capacity top-k of (score, index) pairs, best = highest score, ties
// broken by the smaller index so that results are fully deterministic.
//
// Kept as a min-heap on that order in caller-owned arrays (no allocation):
// the root is the worst kept entry, and threshold() is the score a newcomer
// must reach (ties are then decided by index in push()).
#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>

namespace pyshape {

class TopK {
 public:
  TopK(float* score, int64_t* index, int k) : s_(score), ix_(index), k_(k), size_(0) {}

  float threshold() const { return size_ < k_ ? -std::numeric_limits<float>::infinity() : s_[0]; }
  int size() const { return size_; }

  void push(float score, int64_t idx) {
    if (size_ < k_) {
      int i = size_++;
      s_[i] = score;
      ix_[i] = idx;
      sift_up(i);
      return;
    }
    if (!better(score, idx, s_[0], ix_[0])) return;
    s_[0] = score;
    ix_[0] = idx;
    sift_down(0);
  }

  // Sorts the kept entries best first, in place.
  void sort_best_first() {
    int n = size_;
    while (size_ > 1) {
      --size_;
      swap(0, size_);
      sift_down(0);
    }
    size_ = n;
  }

 private:
  static bool better(float a, int64_t ia, float b, int64_t ib) { return a > b || (a == b && ia < ib); }
  void swap(int a, int b) {
    float t = s_[a]; s_[a] = s_[b]; s_[b] = t;
    int64_t u = ix_[a]; ix_[a] = ix_[b]; ix_[b] = u;
  }
  // Min-heap on "better": parent is worse than (or equal to) its children.
  void sift_up(int i) {
    while (i > 0) {
      int p = (i - 1) / 2;
      if (!better(s_[p], ix_[p], s_[i], ix_[i])) break;
      swap(p, i);
      i = p;
    }
  }
  void sift_down(int i) {
    for (;;) {
      int l = 2 * i + 1, r = l + 1, w = i;
      if (l < size_ && better(s_[w], ix_[w], s_[l], ix_[l])) w = l;
      if (r < size_ && better(s_[w], ix_[w], s_[r], ix_[r])) w = r;
      if (w == i) return;
      swap(i, w);
      i = w;
    }
  }
  float* s_;
  int64_t* ix_;
  int k_;
  int size_;
};

}  // namespace pyshape
