#include "correlate/normalize.hpp"

#include <atomic>
#include <cfloat>
#include <cmath>

#include "common/parallel.hpp"

namespace pyshape {

namespace {

// The scale of one row; false if it holds a NaN or infinity. The one place
// both normalize_rows and row_scales get their numbers from, so the rows the
// int8 top-k normalises on the fly are bitwise normalize_rows' rows.
bool one_row_scale(const float* xr, size_t T, double scale, RowScale& s) {
  double sum = 0.0;
  bool finite = true;
  for (size_t t = 0; t < T; ++t) {
    sum += xr[t];
    finite &= std::isfinite(xr[t]);
  }
  if (!finite) return false;
  double mean = sum / static_cast<double>(T);
  double ss = 0.0;
  for (size_t t = 0; t < T; ++t) {
    double d = xr[t] - mean;
    ss += d * d;
  }
  double sd = std::sqrt(ss / static_cast<double>(T));
  if (ss == 0.0 || sd <= 4.0 * FLT_EPSILON * std::fabs(mean)) {
    s = RowScale{0.0, 0.0};  // constant: zeros
    return true;
  }
  s = RowScale{mean, scale / std::sqrt(ss)};
  return true;
}

// Runs f(row, scale) on every finite row, in blocks of rows across threads;
// returns the smallest non-finite row or -1.
template <class F>
int64_t for_each_row_scale(const float* x, size_t n, size_t T, size_t ldx, double scale, int n_threads, F&& f) {
  constexpr size_t kRowsPerItem = 256;
  std::atomic<int64_t> first_bad{-1};
  size_t items = (n + kRowsPerItem - 1) / kRowsPerItem;
  parallel_for(items, n_threads, [&](size_t item, int) {
    size_t r1 = std::min(n, (item + 1) * kRowsPerItem);
    for (size_t r = item * kRowsPerItem; r < r1; ++r) {
      RowScale s;
      if (!one_row_scale(x + r * ldx, T, scale, s)) {
        int64_t cur = first_bad.load();
        while ((cur < 0 || static_cast<int64_t>(r) < cur) &&
               !first_bad.compare_exchange_weak(cur, static_cast<int64_t>(r))) {
        }
        continue;
      }
      f(r, s);
    }
  });
  return first_bad.load();
}

}  // namespace

int64_t normalize_rows(const float* x, size_t n, size_t T, size_t ldx, double scale, float* out,
                       int n_threads) {
  return for_each_row_scale(x, n, T, ldx, scale, n_threads,
                            [&](size_t r, const RowScale& s) { apply_row_scale(x + r * ldx, T, s, out + r * T); });
}

int64_t row_scales(const float* x, size_t n, size_t T, size_t ldx, double scale, RowScale* out, int n_threads) {
  return for_each_row_scale(x, n, T, ldx, scale, n_threads, [&](size_t r, const RowScale& s) { out[r] = s; });
}

}  // namespace pyshape
