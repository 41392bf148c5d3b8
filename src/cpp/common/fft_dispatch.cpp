// Run-time choice of the FFT kernels: those of the active SIMD level
// (simd_level(), which set_simd_level() may change at any time), looked up on
// every call so that the FFT path always matches the rest of pyshape.
#include <string>

#include "common/simd_level.hpp"
#include "kernels/fft_table.hpp"

namespace pyshape {

const FftKernels& fft_kernels() {
  const std::string level = simd_level();
#ifdef PYSHAPE_HAVE_X86
  if (level == "avx512") return *avx512::fft_table();
  if (level == "avx2") return *avx2::fft_table();
#endif
  return *scalar::fft_table();
}

}  // namespace pyshape
