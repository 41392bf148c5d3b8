// FFT path of lagged correlation: planning, buffers and threading (baseline
// code); the per-ISA work is in kernels/fft_impl.hpp, reached through the
// FftKernels table the caller passes.
//
// Outline, with N = 2 M >= T + L (so circular wrap-around never reaches a lag
// in [-L, L]) and M a 2^a 3^b 5^c size:
//   1. the real FFT of every (zero-padded) row of U and V, once, in panels of
//      W rows (structure-of-arrays, one row per SIMD lane): O((n + m) N log N);
//   2. for each row i of U and each panel of W rows of V: the W spectra
//      products U_i conj(V_j), one inverse real FFT per lane (all W at once),
//      and the scan of lags 0, -1, +1, ..., -L, +L for the maximum.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

#include "common/parallel.hpp"
#include "common/row_chunks.hpp"
#include "common/score_range.hpp"
#include "correlate/lagged.hpp"
#include "kernels/fft_table.hpp"

namespace pyshape {

namespace {

// A float buffer aligned to 64 bytes.
class AlignedFloats {
 public:
  AlignedFloats() = default;
  explicit AlignedFloats(size_t n) : raw_(new float[n + 16]) {
    auto addr = reinterpret_cast<uintptr_t>(raw_.get());
    data_ = raw_.get() + ((64 - addr % 64) % 64) / sizeof(float);
  }
  float* data() { return data_; }
  const float* data() const { return data_; }

 private:
  std::unique_ptr<float[]> raw_;
  float* data_ = nullptr;
};

bool is_smooth(size_t x) {
  for (size_t p : {2, 3, 5})
    while (x % p == 0) x /= p;
  return x == 1;
}

// The plan's tables live here; FftPlan holds plain pointers into them.
struct PlanStorage {
  std::vector<float> tables;
  FftPlan plan{};

  explicit PlanStorage(size_t M) {
    if (M > (size_t(1) << 30)) throw std::invalid_argument("series too long for the FFT path");
    plan.M = static_cast<int>(M);
    std::vector<int> radix;
    size_t r = M;
    while (r % 4 == 0) { radix.push_back(4); r /= 4; }
    while (r % 2 == 0) { radix.push_back(2); r /= 2; }
    while (r % 3 == 0) { radix.push_back(3); r /= 3; }
    while (r % 5 == 0) { radix.push_back(5); r /= 5; }
    if (r != 1 || radix.size() > static_cast<size_t>(FftPlan::kMaxStages))
      throw std::logic_error("FFT length is not 5-smooth");
    plan.n_stages = static_cast<int>(radix.size());
    // Sizes first (pointers are taken after the single allocation).
    std::vector<size_t> offset_fwd, offset_inv;
    size_t total = 0, len = M;
    for (int p : radix) {
      size_t count = 3 * (len / p) * (p - 1);
      offset_fwd.push_back(total);
      total += count;
      offset_inv.push_back(total);
      total += count;
      len /= p;
    }
    size_t post_offset = total;
    total += 2 * (M + 1);
    tables.assign(total, 0.f);
    const double two_pi = 6.283185307179586476925286766559;
    len = M;
    for (size_t st = 0; st < radix.size(); ++st) {
      const int p = radix[st];
      plan.radix[st] = p;
      float* f = tables.data() + offset_fwd[st];
      float* b = tables.data() + offset_inv[st];
      for (size_t j = 0; j < len / p; ++j)
        for (int k = 1; k < p; ++k) {
          // Reduce j k mod len before scaling, for accurate angles.
          double a = two_pi * static_cast<double>((j * k) % len) / static_cast<double>(len);
          float c = static_cast<float>(std::cos(a)), s = static_cast<float>(std::sin(a));
          size_t at = 3 * ((p - 1) * j + (k - 1));
          f[at] = c; f[at + 1] = -s; f[at + 2] = s;
          b[at] = c; b[at + 1] = s; b[at + 2] = -s;
        }
      plan.tw_fwd[st] = f;
      plan.tw_inv[st] = b;
      len /= p;
    }
    float* post = tables.data() + post_offset;
    for (size_t k = 0; k <= M; ++k) {
      double a = two_pi * static_cast<double>(k) / static_cast<double>(2 * M);
      post[2 * k] = static_cast<float>(std::cos(a));
      post[2 * k + 1] = static_cast<float>(std::sin(a));
    }
    plan.post = post;
  }
  PlanStorage(const PlanStorage&) = delete;
  PlanStorage& operator=(const PlanStorage&) = delete;
};

size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

}  // namespace

size_t lagged_fft_half_length(size_t T, size_t L) {
  size_t M = std::max<size_t>(1, ceil_div(T + L, 2));
  while (!is_smooth(M)) ++M;
  return M;
}

void lagged_fft(const FftKernels& fk, const float* U, size_t n, const float* V, size_t m, size_t T, size_t L,
                bool symmetric, float* score, int32_t* lag, int n_threads,
                const ProgressFn& progress) {
  if (n == 0 || m == 0 || T == 0) return;
  L = std::min(L, T - 1);
  const size_t M = lagged_fft_half_length(T, L);
  const PlanStorage ps(M);
  const FftPlan& plan = ps.plan;
  const size_t W = static_cast<size_t>(fk.width);
  const size_t panel = (M + 1) * 2 * W;  // floats per spectrum panel
  const size_t px = ceil_div(n, W);
  const size_t chunk = lagged_fft_panels_per_item(M, W);

  const int nt = resolve_threads(n_threads);
  std::vector<AlignedFloats> scratch;
  for (int t = 0; t < nt; ++t) scratch.emplace_back(4 * M * W);

  auto spectra = [&](const float* rows, size_t count, float* out) {
    parallel_for(ceil_div(count, W), nt, [&](size_t p, int tid) {
      fk.rfft_panel(rows + p * W * T, T, static_cast<int>(std::min(W, count - p * W)), plan,
                    out + p * panel, scratch[tid].data());
    });
  };
  // Row i of U against the panels [p0, p1) of the spectra ys, whose row 0 is
  // row y0 of V; writes the pairs (i, j) with y0 + j < y1 (and j >= i when
  // symmetric).
  auto row_against = [&](const float* xspec, size_t xlane, size_t i, const float* ys, size_t p0,
                         size_t p1, size_t y0, size_t y1, int tid) {
    float sc[64];
    int32_t lg[64];
    for (size_t p = p0; p < p1; ++p) {
      fk.lagged_panel(xspec, static_cast<int>(xlane), ys + p * panel, plan, L, sc, lg,
                      scratch[tid].data());
      for (size_t l = 0; l < W; ++l) {
        size_t j = y0 + p * W + l;
        if (j >= y1 || (symmetric && j < i)) continue;
        score[i * m + j] = clamp_corr(sc[l]);
        lag[i * m + j] = lg[l];
      }
    }
  };

  if (symmetric) {
    // The spectra of all rows (n (M + 1) 8 bytes: less than the n^2 8 bytes
    // of the result once n > M).
    AlignedFloats xs(px * panel);
    spectra(U, n, xs.data());
    // Items: a row against a chunk of panels (see kItemMacs).
    const RowChunks items(n, px, chunk, [&](size_t i) { return i / W; });
    parallel_for(
        items.items(), nt,
        [&](size_t item, int tid) {
          size_t i, p0, p1;
          items.item(item, i, p0, p1);
          row_against(xs.data() + (i / W) * panel, i % W, i, xs.data(), p0, p1, 0, n, tid);
        },
        progress);
    lagged_mirror(score, lag, n);
    return;
  }

  // X against Y in blocks of rows whose spectra take at most kBlockBytes
  // each, so that memory stays bounded whatever n and m (e.g. one row
  // against millions). Every pair is computed the same way in any block.
  constexpr size_t kBlockBytes = size_t(64) << 20;
  const size_t block = std::max<size_t>(1, kBlockBytes / (panel * sizeof(float))) * W;
  const size_t bx = std::min(block, n), by = std::min(block, m);
  const size_t nyb = ceil_div(m, by);
  AlignedFloats xs(ceil_div(bx, W) * panel), ys(ceil_div(by, W) * panel);
  size_t done = 0;
  const size_t total = n * nyb;
  for (size_t x0 = 0; x0 < n; x0 += bx) {
    const size_t nx = std::min(bx, n - x0);
    spectra(U + x0 * T, nx, xs.data());
    for (size_t y0 = 0; y0 < m; y0 += by) {
      const size_t ny = std::min(by, m - y0);
      if (nyb > 1 || x0 == 0) spectra(V + y0 * T, ny, ys.data());
      const RowChunks items(nx, ceil_div(ny, W), chunk, [](size_t) { return size_t(0); });
      const size_t block_items = items.items();
      ProgressFn block_progress;
      // Progress in rows of U (fractions of a row while a row is in progress).
      if (progress)
        block_progress = [&](size_t d, size_t) { progress(done + d * nx / std::max<size_t>(block_items, 1), total); };
      parallel_for(
          block_items, nt,
          [&](size_t item, int tid) {
            size_t ii, p0, p1;
            items.item(item, ii, p0, p1);
            row_against(xs.data() + (ii / W) * panel, ii % W, x0 + ii, ys.data(), p0, p1, y0, y0 + ny, tid);
          },
          block_progress);
      done += nx;
    }
  }
}

}  // namespace pyshape
