// Blocked float32 products C = A * B^T for rows of shapes, on top of the
// per-ISA micro-kernel (kernels/kernel_table.hpp).
//
// Both sides are packed into panels of w rows (k-major inside a panel, rows
// past the end zero), so the micro-kernel reads both with unit stride: B in
// panels of nr once for the whole call, A in panels of mr one row block at a
// time into a per-thread buffer.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/kernel_table.hpp"

namespace pyshape {

// A read-only view of packed rows: panel p holds rows [p*w, p*w + w) as K x w.
struct PanelView {
  const float* data = nullptr;
  size_t n = 0;  // valid rows
  size_t K = 0;  // row length
  size_t w = 0;  // panel width
  size_t n_panels() const { return (n + w - 1) / w; }
  const float* panel(size_t p) const { return data + p * K * w; }
};

inline size_t packed_floats(size_t n, size_t K, size_t w) { return (n + w - 1) / w * w * K; }

// Packs rows [0, n) of src (leading dimension ld) into panels of width w at dst
// (packed_floats(n, K, w) floats), single-threaded. With rows non-null, packed
// row i is src row rows[i] (a gather, for reordered data).
void pack_panels(const float* src, size_t n, size_t K, size_t ld, size_t w, float* dst,
                 const int64_t* rows = nullptr);

// Packed rows that own their storage (the database side, packed once).
struct PackedRows {
  std::vector<float> data;
  PanelView view;
};
PackedRows pack_rows(const float* src, size_t n, size_t K, size_t ld, size_t w, int n_threads,
                     const int64_t* rows = nullptr);

// K is split in chunks of kKC so that one B micro-panel chunk (kKC x nr floats)
// stays in L1 while every A micro-panel of the row block streams past it from
// L2; a group of B panels is finished over all of K before the next, so the C
// block stays in L2 too. Tried on Zen 3 (32 KiB L1, 512 KiB L2) at K = 1440.
constexpr size_t kKC = 256;
constexpr size_t kPanelsPerGroup = 16;

// C[0:A.n, 0:cols] = A * B[panels p0..p1)^T, cols = valid B rows in those
// panels. C has leading dimension ldc.
void gemm_block(const KernelTable& kt, const PanelView& A, const PanelView& B, size_t p0, size_t p1,
                float* C, size_t ldc);

}  // namespace pyshape
