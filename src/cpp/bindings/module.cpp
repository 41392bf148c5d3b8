// The _core extension: system queries here, capabilities in bind_*.cpp.
#include "bindings/common.hpp"
#include "common/parallel.hpp"
#include "common/selftest.hpp"
#include "common/simd_level.hpp"

namespace pyshape {
void bind_correlate(py::module_& m);
void bind_pack(py::module_& m);
void bind_cluster(py::module_& m);
void bind_policy(py::module_& m);
void bind_repack(py::module_& m);
void bind_types_search(py::module_& m);
}

PYBIND11_MODULE(_core, m) {
  using namespace pyshape;
  m.doc() = "pyshape's compiled core (private: use the pyshape package)";
  m.attr("__version__") = PYSHAPE_VERSION;
  m.def("simd_level", &simd_level, "The SIMD level in use: 'scalar', 'avx2' or 'avx512'.");
  m.def("available_simd_levels", &available_simd_levels, "SIMD levels this CPU supports, best last.");
  m.def("set_simd_level", &set_simd_level, py::arg("level"), "Force a SIMD level (for tests and benchmarks).");
  m.def("default_threads", &default_threads, "Threads used when n_threads is not given.");
  m.def("kernel_tile", []() { const KernelTable& kt = simd_tables().k; return py::make_tuple(kt.mr, kt.nr); },
        "Micro-tile (rows, columns) of the active level.");
  m.def(
      "_selftest",
      [](const std::string& level, bool force_fail) {
        const SimdTables* t = simd_tables_for(level);
        if (!t) throw std::invalid_argument("unknown SIMD level '" + level + "'");
        if (!cpu_supports(level)) throw std::invalid_argument("this CPU does not support SIMD level '" + level + "'");
        std::vector<std::string> fails;
        {
          py::gil_scoped_release nogil;
          fails = simd_selftest(*t, force_fail);
        }
        return fails;
      },
      py::arg("level"), py::arg("force_fail") = false,
      "Run the known-answer self-test of a SIMD level against the scalar kernels now; returns its "
      "failures ('kernel: what', empty when it passes). force_fail corrupts one result (test hook).");
  // Warnings of the level choice (a level that failed its self-test, a
  // PYSHAPE_SIMD value that cannot be honoured), once, at import.
  for (const std::string& w : simd_init_warnings())
    if (PyErr_WarnEx(PyExc_RuntimeWarning, ("pyshape: " + w).c_str(), 1) != 0) throw py::error_already_set();
  pyshape::bind_correlate(m);
  pyshape::bind_pack(m);
  pyshape::bind_cluster(m);
  pyshape::bind_policy(m);
  pyshape::bind_repack(m);
  pyshape::bind_types_search(m);
}
