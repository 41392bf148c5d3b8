// The avx512 build of the kernels (its compiler flags are set in CMakeLists.txt).
#define PYSHAPE_ISA avx512
#define PYSHAPE_ISA_NAME "avx512"
#include "kernels/kernels_isa.inc"
