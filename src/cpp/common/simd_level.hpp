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

}  // namespace pyshape
