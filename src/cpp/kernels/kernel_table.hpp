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

// Per-column (database side) data of one int8 tile (q8_nr entries each, padded).
struct Q8Cols {
  const int32_t* bsum;  // q8_aoff * sum_k q_j[k]: the correction for the offset query bytes
  const float* s;       // scale s_j (u_j ~ s_j q_j)
  const float* N;       // ||u_j|| rounded up
  const float* R;       // ||u_j - s_j q_j|| rounded up
};
// Per-row (query side) data of one int8 tile (m_valid entries each).
struct Q8Rows {
  const float* s;   // scale s_i
  const float* A;   // ||u_i - s_i q_i|| rounded up
  const float* B;   // s_i ||q_i|| rounded up
  const float* hi;  // running k-th highest exact score minus the rounding margin
  const float* lo;  // running k-th lowest exact score plus the rounding margin
};

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

  // micro() with the A side read in place, unpacked: element (i, k) at
  // A[i * lda + k] (rows of the query side as they lie in memory); rows
  // i >= m_valid are never read. Bitwise the same C as micro() on the packed
  // rows (the same multiply-add chain per entry), without the packing copy:
  // what the assignment of correlation k-means (cluster/cluster.cpp) runs.
  void (*micro_rows)(const float* A, size_t lda, int m_valid, const float* Bp, size_t kc, float* C,
                     size_t ldc, int n_valid, bool accumulate);

  // One packed row (element k at a[k * a_stride]) against np <= 6 packed
  // panels of all K (panels[q], K x nr each), into out (np x nr): bitwise the
  // same scores as micro() over K in chunks of kc_max, as gemm_block runs it.
  void (*row_panels)(const float* a, size_t a_stride, const float* const* panels, int np, size_t K,
                     size_t kc_max, float* out);

  // Scores one row a (unit stride) against m <= 8 rows (rows[p], unit stride)
  // over K: bitwise the same scores as micro() over K in chunks of kc_max
  // (one multiply-add chain per chunk, chunk sums added in order), so that
  // single pairs can be re-scored exactly as the blocked product scores them.
  void (*dots_rows)(const float* a, const float* const* rows, int m, size_t K, size_t kc_max, float* out);

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

  // ---- int8 candidate scoring (kernels/q8_impl.hpp, correlate/topk_q8.hpp) ----
  const char* q8_name;  // "scalar", "avx2", "avx512bw", "avx512vnni"
  int q8_mr, q8_nr;     // int8 tile: query rows x database columns (q8_nr <= 32)
  int q8_amax, q8_aoff; // query side: q_i[k] in [-amax, amax], stored as the byte q + aoff
                        // (database side: [-127, 127], signed bytes)
  // For an int8 tile (Ap: K4 groups of q8_mr rows x 4 unsigned bytes; Bp: K4
  // groups of q8_nr columns x 4 signed bytes), the exact integer products
  // D[i][j] = q_i . q_j; then, with a_ij = float(D) * s_j * s_i and
  // e_ij = A_i N_j + B_i R_j, sets bit j of mask[i] when a + e >= hi[i] or
  // a - e <= lo[i]. Returns true when any bit is set (bits of columns past
  // the data are meaningless: the caller masks them). With dots non-null,
  // only stores the raw products of the stored bytes, sum_k (q_i[k] + aoff)
  // q_j[k] (q8_mr x q8_nr, row-major; D = raw - bsum), and returns false.
  // dq (when not null, q8_mr x q8_nr, row-major) gets D of every entry of the
  // tile (rows < m_valid), for the finer check of the flagged pairs.
  bool (*q8_tile)(const uint8_t* Ap, int m_valid, const int8_t* Bp, size_t K4, const Q8Cols& b,
                  const Q8Rows& a, uint32_t* mask, int32_t* dots, int32_t* dq);
  // One row a (unsigned bytes, values <= 127 unless the variant is avx512vnni
  // or scalar) against m <= 8 rows (rows[p], signed bytes), L bytes each (a
  // multiple of 64): out[p] = sum_k a[k] rows[p][k], exact in int32 (L <= kQ8MaxT).
  void (*q8_rows)(const uint8_t* a, const int8_t* const* rows, int m, size_t L, int32_t* out);
  // out[t] = float((double(x[t]) - mean) * f), t < T: a row normalised as
  // normalize_rows does it (correlate/normalize.hpp), at this level's vector
  // width; each step is one IEEE operation, so every level gives the same bits.
  void (*q8_scale_row)(const float* x, size_t T, double mean, double f, float* out);
};

namespace scalar { const KernelTable* table(); }
#ifdef PYSHAPE_HAVE_X86
namespace avx2 { const KernelTable* table(); }
namespace avx512 { const KernelTable* table(); }
#endif

}  // namespace pyshape
