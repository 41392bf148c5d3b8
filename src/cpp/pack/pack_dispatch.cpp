// Run-time choice of the placement kernels: those of the active SIMD level.
#include "common/simd_level.hpp"
#include "kernels/pack_table.hpp"

namespace pyshape {

const PackKernels& pack_kernels() {
#ifdef PYSHAPE_HAVE_X86
  return for_active_level<PackKernels>(&scalar::pack_table, &avx2::pack_table, &avx512::pack_table);
#else
  return *scalar::pack_table();
#endif
}

}  // namespace pyshape
