// Plan verification (see verify.hpp).
#include "pack/verify.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

#include "common/parallel.hpp"

namespace pyshape {

std::string repr_double(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), x);
  std::string s(buf, res.ptr);
  // Python writes integral floats with ".0" and exponents as e+XX / e-XX
  const bool has_exp = s.find('e') != std::string::npos;
  if (!has_exp && s.find('.') == std::string::npos && s.find("inf") == std::string::npos) s += ".0";
  if (has_exp) {
    size_t e = s.find('e');
    std::string mant = s.substr(0, e), ex = s.substr(e + 1);
    char sign = '+';
    if (!ex.empty() && (ex[0] == '-' || ex[0] == '+')) {
      sign = ex[0] == '-' ? '-' : '+';
      ex = ex.substr(1);
    }
    if (ex.size() < 2) ex = "0" + ex;
    s = mant + "e" + sign + ex;
  }
  return s;
}

VerifyResult verify_plan(const float* D, size_t n, size_t R, size_t T, const int64_t* assign, size_t W,
                         const double* capacity, const double* headroom, double risk, int n_threads) {
  if (R == 0 || T == 0) throw std::invalid_argument("verify: R and T must be at least 1");
  if (W == 0 && n > 0) throw std::invalid_argument("verify: shapes but no workers");
  if (!(risk >= 0 && risk < 1)) throw std::invalid_argument("risk is a fraction of steps in [0, 1)");
  for (size_t r = 0; r < R; ++r) {
    const double h = headroom ? headroom[r] : 0.0;
    if (!(h >= 0 && h < 1)) throw std::invalid_argument("headroom is a fraction of capacity in [0, 1)");
  }
  for (size_t k = 0; k < W * R; ++k)
    if (!(capacity[k] > 0) || !std::isfinite(capacity[k]))
      throw std::invalid_argument("verify: capacity must be positive and finite, got " + repr_double(capacity[k]) +
                                  " for worker " + std::to_string(k / R));
  VerifyResult res;
  res.allowed_steps = static_cast<size_t>(std::floor(risk * static_cast<double>(T) + 1e-9));
  res.steps_over.assign(W, 0);
  res.max_excess.assign(R, 0.0);
  // members by worker (a stable counting sort; entries out of range go to the nearest worker)
  std::vector<size_t> starts(W + 1, 0), members(n);
  std::vector<size_t> wof(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t a = assign[i];
    if (a < 0 || static_cast<uint64_t>(a) >= W) {
      ++res.out_of_range;
      a = a < 0 ? 0 : static_cast<int64_t>(W) - 1;
    }
    wof[i] = static_cast<size_t>(a);
    ++starts[wof[i] + 1];
  }
  for (size_t w = 0; w < W; ++w) {
    res.empty_workers += starts[w + 1] == 0;
    starts[w + 1] += starts[w];
  }
  {
    std::vector<size_t> next(starts.begin(), starts.end() - 1);
    for (size_t i = 0; i < n; ++i) members[next[wof[i]]++] = i;
  }
  const size_t RT = R * T;
  const double unit = std::ldexp(1.0, -23);
  // per worker: steps over, and the largest excess per resource (combined in worker order)
  std::vector<double> excess(W * R, 0.0);
  std::vector<double> lim(W * R);
  for (size_t w = 0; w < W; ++w)
    for (size_t r = 0; r < R; ++r) lim[w * R + r] = capacity[w * R + r] * (1.0 - (headroom ? headroom[r] : 0.0));
  parallel_for(W, n_threads, [&](size_t w, int) {
    std::vector<double> acc(RT, 0.0);
    for (size_t k = starts[w]; k < starts[w + 1]; ++k) {
      const float* x = D + members[k] * RT;
      for (size_t j = 0; j < RT; ++j) acc[j] += static_cast<double>(x[j]);
    }
    const double cnt = static_cast<double>(starts[w + 1] - starts[w]);
    std::vector<char> over(T, 0);
    for (size_t r = 0; r < R; ++r) {
      const double L = lim[w * R + r];
      const double tol = (cnt + 1.0) * unit * L;
      double mx = -INFINITY;
      for (size_t t = 0; t < T; ++t) {
        const double e = acc[r * T + t] - L;
        over[t] |= e > tol;
        mx = std::max(mx, e);
      }
      excess[w * R + r] = mx;
    }
    int64_t c = 0;
    for (size_t t = 0; t < T; ++t) c += over[t];
    res.steps_over[w] = c;
  });
  for (size_t w = 0; w < W; ++w) {
    for (size_t r = 0; r < R; ++r) res.max_excess[r] = std::max(res.max_excess[r], excess[w * R + r]);
    res.workers_over += static_cast<size_t>(res.steps_over[w]) > res.allowed_steps;
  }
  std::vector<std::string> problems;
  if (res.out_of_range) problems.push_back("assignment outside [0, " + std::to_string(W) + ")");
  if (res.empty_workers) problems.push_back(std::to_string(res.empty_workers) + " empty worker(s)");
  if (res.workers_over) {
    size_t first = 0;
    while (static_cast<size_t>(res.steps_over[first]) <= res.allowed_steps) ++first;
    std::string ex = "[";
    for (size_t r = 0; r < R; ++r) ex += (r ? ", " : "") + repr_double(res.max_excess[r]);
    ex += "]";
    problems.push_back(std::to_string(res.workers_over) + " worker(s) over capacity at more than " +
                       std::to_string(res.allowed_steps) + " step(s), e.g. worker " + std::to_string(first) +
                       " at " + std::to_string(res.steps_over[first]) + " step(s); largest excess " + ex);
  }
  res.ok = problems.empty();
  for (size_t k = 0; k < problems.size(); ++k) res.message += (k ? "; " : "") + problems[k];
  return res;
}

}  // namespace pyshape
