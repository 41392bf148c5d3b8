// Run-time choice of the SIMD level.
//
// The best level the CPU (and OS, for AVX-512 register state) supports is
// chosen once. PYSHAPE_SIMD=scalar|avx2|avx512 in the environment, or
// set_simd_level() at run time, forces a lower one (asking for a level the CPU
// lacks is an error, never a crash).
#pragma once
#include <string>
#include <vector>

#include "kernels/kernel_table.hpp"

namespace pyshape {

// Levels this CPU can run, best last ("scalar" always first).
std::vector<std::string> available_simd_levels();
// The active level's kernels.
const KernelTable& kernels();
std::string simd_level();
// Throws std::invalid_argument for an unknown or unsupported level.
void set_simd_level(const std::string& level);

// The active level as 0 (scalar), 1 (avx2) or 2 (avx512): cheap, for hot paths.
int simd_level_index();

// The active level's entry of a per-level family of tables (the FFT, placement
// ... kernels), given each level's getter; one definition of the choice.
template <class Table>
const Table& for_active_level(const Table* (*scalar_t)(), const Table* (*avx2_t)(),
                              const Table* (*avx512_t)()) {
  switch (simd_level_index()) {
    case 2: return *avx512_t();
    case 1: return *avx2_t();
    default: return *scalar_t();
  }
}

}  // namespace pyshape
