// Blocked float32 products C = A * B^T for rows of shapes, on top of the
// per-ISA micro-kernel (kernels/kernel_table.hpp).
//
// B is packed once into panels of nr rows (k-major inside a panel, the tail
// panel zero-padded), so the micro-kernel reads it with unit stride. A is read
// in place: its mr rows are broadcast element by element.
#pragma once
#include <cstddef>
#include <vector>

#include "kernels/kernel_table.hpp"

namespace pyshape {

struct PackedRows {
  size_t n = 0;       // rows
  size_t K = 0;       // row length
  int nr = 0;         // panel width
  std::vector<float> data;  // n_panels * K * nr
  size_t n_panels() const { return (n + nr - 1) / nr; }
  const float* panel(size_t p) const { return data.data() + p * K * nr; }
};

PackedRows pack_rows(const float* B, size_t n, size_t K, size_t ldb, int nr, int n_threads);

// K is split in chunks of kKC so that one micro-panel chunk (kKC x nr floats)
// stays in L1 while every row of the A block streams past it; a group of
// panels is finished over all of K before the next, so the C block stays in
// L2. 256 and 16 panels were the best of the values tried on Zen 3 (512 KiB
// L2) for K = 1440; they are not critical within a factor of 2.
constexpr size_t kKC = 256;
constexpr size_t kPanelsPerGroup = 16;

// C[0:mb, 0:cols] = A[0:mb] * B[panels p0..p1)^T where cols is the number of
// valid B rows in those panels. C has leading dimension ldc.
void gemm_block(const KernelTable& kt, const float* A, size_t lda, size_t mb, const PackedRows& B,
                size_t p0, size_t p1, float* C, size_t ldc);

}  // namespace pyshape
