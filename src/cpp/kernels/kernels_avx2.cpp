// The avx2 build of the kernels (its compiler flags are set in CMakeLists.txt).
#define PYSHAPE_ISA avx2
#define PYSHAPE_ISA_NAME "avx2"
#include "kernels/kernels_isa.inc"
