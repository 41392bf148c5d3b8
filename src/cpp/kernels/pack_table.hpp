// The per-ISA kernels of placement (src/cpp/pack/): fit checks of a shape
// against a worker's load, load updates and block summaries.
//
// Like KernelTable (kernel_table.hpp), every SIMD level compiles the same
// source (pack_impl.hpp) into its own namespace and exposes one table of plain
// function pointers; pointers and sizes only, no std containers or templates.
// Every kernel is exact (additions of two floats, maxima, comparisons: no
// reassociation, no FMA), so every SIMD level returns bit-identical results
// and plans do not depend on the level.
#pragma once
#include <cstddef>
#include <cstdint>

namespace pyshape {

struct PackKernels {
  const char* name;  // "scalar", "avx2", "avx512"

  // max_t (a[t] + b[t]) over t < n. Stops early once a sum above limit has
  // been seen and then returns some value > limit (not necessarily the max),
  // so "fits" is exactly max_sum(...) <= limit. n >= 1.
  float (*max_sum)(const float* a, const float* b, size_t n, float limit);

  // The first t < n with a[t] + b[t] > limit, or n when there is none (a
  // witness that b does not fit on a; see Fleet's witness test).
  size_t (*first_over)(const float* a, const float* b, size_t n, float limit);

  // The first j in [i, n) with !(val[j] + s[idx[j]] > lim[j]) and
  // !(val2[j] + s[idx2[j]] > lim2[j]), or n: gathers over workers of their
  // two witness steps (Fleet's witness test).
  size_t (*witness_next)(const float* val, const float* lim, const uint32_t* idx, const float* val2,
                         const float* lim2, const uint32_t* idx2, const float* s, size_t i, size_t n);

  // The last j in [lo, hi) that passes both witness tests (as witness_next),
  // or hi when none does: the newest-first scan of the Placer.
  size_t (*witness_last)(const float* val, const float* lim, const uint32_t* idx, const float* val2,
                         const float* lim2, const uint32_t* idx2, const float* s, size_t lo, size_t hi);

  // One row of the input pass (pack_stats): acc[t] += x[t] (in double) for
  // t < n, *peak = max_t x[t] (NaN ignored); returns bit 0 when some value
  // is NaN or infinite, bit 1 when some value is negative. n >= 1.
  uint32_t (*row_stats)(const float* x, size_t n, double* acc, float* peak);

  // flags[t] |= (a[t] + b[t] > limit) for t < n (flags are 0/1 bytes).
  void (*mark_over)(const float* a, const float* b, size_t n, float limit, uint8_t* flags);

  // a[t] += b[t] for t < n.
  void (*add)(float* a, const float* b, size_t n);

  // a[t] += b[t] for t < n, and the block maxima and minima of the new a (as
  // block_maxmin): a load update and its summaries in one pass.
  void (*add_maxmin)(float* a, const float* b, size_t n, size_t blk, float* bmax, float* bmin);

  // For blocks k = 0, 1, ... of blk steps (the last may be shorter):
  // bmax[k] = max and bmin[k] = min of a over the block. n, blk >= 1.
  void (*block_maxmin)(const float* a, size_t n, size_t blk, float* bmax, float* bmin);

  // sum_t double(a[t]) * b[t] for t < n (n >= 0), in a fixed order that
  // every level shares: 32 partial sums, sum j taking the steps t = j mod 32
  // in increasing t, then added pairwise (j with j + 16, then j + 8, j + 4,
  // j + 2, j + 1). The products of a float and a double made from a float are exact
  // in double, so a fused multiply-add rounds as a multiply then an add: every
  // level returns the same bits (the Placer's scores, placer.hpp).
  double (*dot_fd)(const float* a, const double* b, size_t n);

  // One row of the Placer's scores (Fleet::score) in one read of a (a
  // worker's load row) and b (the shape's row; bd: b as doubles), n >= 0.
  // Returns max_t (a[t] + b[t]) (-inf when n is 0), as max_sum with no limit.
  // over (may be nullptr): bit t of the words (over[t / 64] bit t % 64) is
  // or-ed with (a[t] + b[t] > limit). what: 0 nothing more; 1 dots[0] =
  // dot_fd(a, bd); 2 also dots[1] = dot_fd(a, ones) and dots[2] =
  // dot_fd(a, a as doubles) (the load's sum and sum of squares): the same
  // bits as dot_fd, which shares its order of additions. next (may be
  // nullptr): n floats to prefetch to L2 along the way (the next candidate's
  // row: spread over the pass, those misses overlap this row's work).
  float (*score_row)(const float* a, const float* b, const double* bd, size_t n, float limit, uint64_t* over,
                     double* dots, int what, const float* next);

  // Bounds of the block sums of one row (Fleet::score), from the block
  // maxima and minima of a load (ax, an) and of a shape (bx, bn), B <= 64
  // blocks, fl the float addition: up[b] = fl(ax[b] + bx[b]); returns lo =
  // max_b max(fl(ax[b] + bn[b]), fl(an[b] + bx[b])) (at most the row's
  // largest sum) and sets bit b of *peak when up[b] > lo, of *all when
  // fl(an[b] + bn[b]) > limit (every sum of the block is over), of *some
  // when up[b] > limit (some may be).
  float (*block_bounds)(const float* ax, const float* an, const float* bx, const float* bn, size_t B, float limit,
                        float* up, uint64_t* peak, uint64_t* all, uint64_t* some);
};

namespace scalar { const PackKernels* pack_table(); }
#ifdef PYSHAPE_HAVE_X86
namespace avx2 { const PackKernels* pack_table(); }
namespace avx512 { const PackKernels* pack_table(); }
#endif

}  // namespace pyshape
