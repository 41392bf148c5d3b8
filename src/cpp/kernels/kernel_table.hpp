// The per-ISA kernel interface.
//
// Every SIMD level (scalar, AVX2, AVX-512) compiles the same kernel source
// (kernels_impl.hpp) into its own namespace and exposes one KernelTable of
// plain function pointers. Kernels take pointers, sizes and strides only: no
// std containers and no allocation, so that nothing built with wide
// instructions can leak into baseline code through shared template symbols.
#pragma once
#include <cstddef>
#include <cstdint>

namespace pyshape {

struct KernelTable {
  const char* name;  // "scalar", "avx2", "avx512"
  int mr;            // micro-tile rows (query side, read in place)
  int nr;            // micro-tile columns (packed side, panels of nr rows)

  // Canonical float32 dot product. Every "exact" score in pyshape is computed
  // by this function, so scores do not depend on blocking or thread count.
  float (*dot)(const float* a, const float* b, size_t n);

  // C[i, j] (+)= sum_k Ap[k, i] * Bp[k, j] for i < m_valid (<= mr), j < n_valid
  // (<= nr). Ap and Bp are packed panel chunks: kc rows of mr (resp. nr)
  // floats (see pack_panel in correlate/gemm.hpp). When accumulate is false, C
  // is overwritten.
  void (*micro)(const float* Ap, int m_valid, const float* Bp, size_t kc, float* C, size_t ldc,
                int n_valid, bool accumulate);

  // One packed row (element k at a[k * a_stride]) against np <= 6 packed
  // panels of all K (panels[q], K x nr each), into out (np x nr): bitwise the
  // same scores as micro() over K in chunks of kc_max, as gemm_block runs it.
  void (*row_panels)(const float* a, size_t a_stride, const float* const* panels, int np, size_t K,
                     size_t kc_max, float* out);

  // Writes to out the indices i < n with x[i] >= hi or x[i] <= lo and returns
  // how many. Used to pick the few entries of a score block that can enter a
  // running top-k.
  size_t (*select_outside)(const float* x, size_t n, float hi, float lo, uint32_t* out);

  // Low-rank pruning tile: for rows i < m_valid of a packed panel Ap (r x mr)
  // against a packed panel Bp (r x nr), computes s = A_i . B_j and flags (i, j) when
  // s + ra[i] * rb[j] >= hi[i] or s - ra[i] * rb[j] <= lo[i]. Flags are written
  // as bits: mask[i] gets bit j set. Returns true when any bit is set.
  bool (*bound_tile)(const float* Ap, int m_valid, const float* Bp, size_t r,
                     const float* ra, const float* rb, const float* hi, const float* lo,
                     uint32_t* mask);
};

namespace scalar { const KernelTable* table(); }
#ifdef PYSHAPE_HAVE_X86
namespace avx2 { const KernelTable* table(); }
namespace avx512 { const KernelTable* table(); }
#endif

}  // namespace pyshape
