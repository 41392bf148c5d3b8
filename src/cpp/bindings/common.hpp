// Shared helpers for the bindings: array aliases and progress callbacks.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include "common/progress.hpp"

namespace pyshape {
namespace py = pybind11;

// C-contiguous, aligned float32 in: the Python layer has already converted
// (once) and validated, so no copy happens here. kAligned (NumPy's
// NPY_ARRAY_ALIGNED) makes pybind11 copy the rare array that sits at an odd
// byte offset (np.frombuffer, arrays unpickled from a Dask worker's frames)
// instead of handing the kernels floats they may not read.
constexpr int kAligned = 0x0100;
using FArray = py::array_t<float, py::array::c_style | kAligned>;

inline void require_2d(const FArray& a, const char* name) {
  if (a.ndim() != 2) throw std::invalid_argument(std::string(name) + " must be 2-D");
}

// Wraps an optional Python callable(done, total) into a ProgressFn that also
// lets Ctrl-C interrupt long kernels. Python is entered at most every 50 ms.
inline ProgressFn make_progress(py::object cb) {
  auto last = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
  return [cb, last](size_t done, size_t total) {
    auto now = std::chrono::steady_clock::now();
    if (done < total && now - *last < std::chrono::milliseconds(50)) return;
    *last = now;
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    if (!cb.is_none()) cb(done, total);
  };
}

}  // namespace pyshape
