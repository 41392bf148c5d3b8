// Run-time choice of the FFT kernels: those of the active SIMD level
// (set_simd_level() may change it at any time), looked up on every call so
// that the FFT path always matches the rest of pyshape.
#include "common/simd_level.hpp"
#include "kernels/fft_table.hpp"

namespace pyshape {

const FftKernels& fft_kernels() {
#ifdef PYSHAPE_HAVE_X86
  return for_active_level<FftKernels>(&scalar::fft_table, &avx2::fft_table, &avx512::fft_table);
#else
  return *scalar::fft_table();
#endif
}

}  // namespace pyshape
