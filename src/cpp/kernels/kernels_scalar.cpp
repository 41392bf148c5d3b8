// The scalar build of the kernels (its compiler flags are set in CMakeLists.txt).
#define PYSHAPE_ISA scalar
#define PYSHAPE_ISA_NAME "scalar"
#include "kernels/kernels_impl.hpp"
#include "kernels/fft_impl.hpp"
#include "kernels/pack_impl.hpp"

namespace pyshape {
namespace scalar {
const KernelTable* table() {
  static const KernelTable t = make_table();
  return &t;
}
const FftKernels* fft_table() {
  static const FftKernels t = fft::make_fft_table();
  return &t;
}
const PackKernels* pack_table() {
  static const PackKernels t = packk::make_pack_table();
  return &t;
}
}  // namespace scalar
}  // namespace pyshape
