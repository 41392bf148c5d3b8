// Run-time choice of the SIMD level.
//
// A level is usable when the CPU (and OS, for AVX-512 register state)
// supports it and its kernels pass a known-answer self-test against the
// scalar kernels (common/selftest.cpp), run once at first use. The best usable
// level is chosen; PYSHAPE_SIMD=scalar|avx2|avx512 in the environment (read
// once, case-insensitive) or set_simd_level() at run time forces a lower one.
// Asking for a level that cannot be used is an error from set_simd_level()
// and a warning (see simd_init_warnings()) from PYSHAPE_SIMD, never a crash.
//
// Thread safety: set_simd_level() may run at any time, from any thread, while
// kernels run. Every call into pyshape therefore reads the active level ONCE,
// as a SimdTables snapshot (simd_tables()), at its entry point (the bindings)
// and passes that snapshot (or one of its tables) down; no code below an entry
// point reads the global level. Tables are static and never freed, so a
// snapshot stays valid for the whole call whatever the level becomes.
#pragma once
#include <string>
#include <vector>

#include "kernels/fft_table.hpp"
#include "kernels/kernel_table.hpp"
#include "kernels/pack_table.hpp"

namespace pyshape {

// The kernel tables of one SIMD level, always of the same level.
struct SimdTables {
  const char* name;  // "scalar", "avx2", "avx512"
  const KernelTable& k;
  const FftKernels& fft;
  const PackKernels& pack;
};

// Levels this CPU can run and whose self-test passed, best last ("scalar"
// always first).
std::vector<std::string> available_simd_levels();
// The active level's tables: read once per call, then pass them down.
const SimdTables& simd_tables();
std::string simd_level();
// Throws std::invalid_argument for an unknown or unsupported level, or one
// that failed its self-test.
void set_simd_level(const std::string& level);

// The tables of a level compiled into this build (nullptr for an unknown
// name), whether or not the CPU can run them.
const SimdTables* simd_tables_for(const std::string& level);
// Whether the CPU (and OS) support a level.
bool cpu_supports(const std::string& level);

// Messages of the level choice made at first use (a level that failed its
// self-test, a PYSHAPE_SIMD value that cannot be honoured), each naming the
// level used instead; the module issues them as RuntimeWarnings at import.
std::vector<std::string> simd_init_warnings();

}  // namespace pyshape
