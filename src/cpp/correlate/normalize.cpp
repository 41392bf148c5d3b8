#include "correlate/normalize.hpp"

#include <atomic>
#include <cfloat>
#include <cmath>

#include "common/parallel.hpp"

namespace pyshape {

int64_t normalize_rows(const float* x, size_t n, size_t T, size_t ldx, double scale, float* out,
                       int n_threads) {
  constexpr size_t kRowsPerItem = 256;
  std::atomic<int64_t> first_bad{-1};
  size_t items = (n + kRowsPerItem - 1) / kRowsPerItem;
  parallel_for(items, n_threads, [&](size_t item, int) {
    size_t r1 = std::min(n, (item + 1) * kRowsPerItem);
    for (size_t r = item * kRowsPerItem; r < r1; ++r) {
      const float* xr = x + r * ldx;
      float* o = out + r * T;
      double sum = 0.0;
      bool finite = true;
      for (size_t t = 0; t < T; ++t) {
        sum += xr[t];
        finite &= std::isfinite(xr[t]);
      }
      if (!finite) {
        int64_t cur = first_bad.load();
        while ((cur < 0 || static_cast<int64_t>(r) < cur) &&
               !first_bad.compare_exchange_weak(cur, static_cast<int64_t>(r))) {
        }
        continue;
      }
      double mean = sum / static_cast<double>(T);
      double ss = 0.0;
      for (size_t t = 0; t < T; ++t) {
        double d = xr[t] - mean;
        ss += d * d;
      }
      double sd = std::sqrt(ss / static_cast<double>(T));
      if (ss == 0.0 || sd <= 4.0 * FLT_EPSILON * std::fabs(mean)) {
        for (size_t t = 0; t < T; ++t) o[t] = 0.f;
        continue;
      }
      double f = scale / std::sqrt(ss);
      for (size_t t = 0; t < T; ++t) o[t] = static_cast<float>((xr[t] - mean) * f);
    }
  });
  return first_bad.load();
}

}  // namespace pyshape
