// Run-time choice of the placement kernels: those of the active SIMD level.
#include <string>

#include "common/simd_level.hpp"
#include "kernels/pack_table.hpp"

namespace pyshape {

const PackKernels& pack_kernels() {
  const std::string level = simd_level();
#ifdef PYSHAPE_HAVE_X86
  if (level == "avx512") return *avx512::pack_table();
  if (level == "avx2") return *avx2::pack_table();
#endif
  return *scalar::pack_table();
}

}  // namespace pyshape
