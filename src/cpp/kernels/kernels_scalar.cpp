// The scalar build of the kernels (its compiler flags are set in CMakeLists.txt).
#define PYSHAPE_ISA scalar
#define PYSHAPE_ISA_NAME "scalar"
#include "kernels/kernels_isa.inc"
