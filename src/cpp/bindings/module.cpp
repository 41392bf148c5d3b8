// The _core extension: system queries here, capabilities in bind_*.cpp.
#include "bindings/common.hpp"
#include "common/parallel.hpp"
#include "common/simd_level.hpp"

namespace pyshape {
void bind_correlate(py::module_& m);
void bind_pack(py::module_& m);
void bind_cluster(py::module_& m);
void bind_policy(py::module_& m);
}

PYBIND11_MODULE(_core, m) {
  using namespace pyshape;
  m.doc() = "pyshape's compiled core (private: use the pyshape package)";
  m.attr("__version__") = PYSHAPE_VERSION;
  m.def("simd_level", &simd_level, "The SIMD level in use: 'scalar', 'avx2' or 'avx512'.");
  m.def("available_simd_levels", &available_simd_levels, "SIMD levels this CPU supports, best last.");
  m.def("set_simd_level", &set_simd_level, py::arg("level"), "Force a SIMD level (for tests and benchmarks).");
  m.def("default_threads", &default_threads, "Threads used when n_threads is not given.");
  m.def("kernel_tile", []() { return py::make_tuple(kernels().mr, kernels().nr); },
        "Micro-tile (rows, columns) of the active level.");
  pyshape::bind_correlate(m);
  pyshape::bind_pack(m);
  pyshape::bind_cluster(m);
  pyshape::bind_policy(m);
}
