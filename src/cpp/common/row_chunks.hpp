// Work items of a sweep over (row, column) pairs: row i covers columns
// [first(i), m) in chunks of at most `chunk` columns, one item per chunk.
//
// parallel_for calls the progress callback (and with it the Ctrl-C check,
// bindings/common.hpp) between items only, so items must stay short even
// when one row against every column takes seconds: callers size `chunk` to a
// fixed amount of work. Which thread runs an item never changes its result.
#pragma once
#include <algorithm>
#include <cstddef>
#include <vector>

namespace pyshape {

class RowChunks {
 public:
  template <class First>
  RowChunks(size_t n, size_t m, size_t chunk, First first) : chunk_(std::max<size_t>(1, chunk)), m_(m) {
    first_.resize(n);
    start_.resize(n + 1);
    start_[0] = 0;
    for (size_t i = 0; i < n; ++i) {
      first_[i] = std::min(m, static_cast<size_t>(first(i)));
      start_[i + 1] = start_[i] + (m - first_[i] + chunk_ - 1) / chunk_;
    }
  }
  size_t items() const { return start_.back(); }
  // Item t: row i, columns [c0, c1).
  void item(size_t t, size_t& i, size_t& c0, size_t& c1) const {
    i = static_cast<size_t>(std::upper_bound(start_.begin(), start_.end(), t) - start_.begin()) - 1;
    c0 = first_[i] + (t - start_[i]) * chunk_;
    c1 = std::min(m_, c0 + chunk_);
  }

 private:
  size_t chunk_, m_;
  std::vector<size_t> first_, start_;
};

}  // namespace pyshape
