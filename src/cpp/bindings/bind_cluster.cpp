// Bindings for clustering (src/cpp/cluster): conversions and output
// allocation with the GIL held, the kernels with it released.
#include <cstdint>
#include <string>

#include "bindings/common.hpp"
#include "cluster/cluster.hpp"
#include "common/simd_level.hpp"

namespace pyshape {

namespace {

using IArray = py::array_t<int64_t, py::array::c_style | py::array::forcecast | kAligned>;
using I32Array = py::array_t<int32_t, py::array::c_style | py::array::forcecast | kAligned>;

void check_centroids(const FArray& u, const FArray& c) {
  require_2d(u, "u");
  require_2d(c, "centroids");
  if (u.shape(1) != c.shape(1)) throw std::invalid_argument("rows and centroids differ in length");
  if (c.shape(0) < 1) throw std::invalid_argument("need at least one centroid");
}

py::tuple corr_assign_py(const FArray& u, const FArray& c, int n_threads, py::object progress) {
  check_centroids(u, c);
  size_t n = u.shape(0), T = u.shape(1), k = c.shape(0);
  py::array_t<int64_t> label(n);
  py::array_t<float> best(n);
  ProgressFn pf = make_progress(progress);
  {
    py::gil_scoped_release nogil;
    corr_assign(simd_tables().k, u.data(), n, T, c.data(), k, label.mutable_data(), best.mutable_data(), n_threads, pf);
  }
  return py::make_tuple(label, best);
}

py::tuple corr_assign_sums_py(const FArray& u, const FArray& c, int n_threads, py::object progress) {
  check_centroids(u, c);
  size_t n = u.shape(0), T = u.shape(1), k = c.shape(0);
  py::array_t<int64_t> label(n);
  py::array_t<float> best(n);
  py::array_t<double> sums({k, T});
  ProgressFn pf = make_progress(progress);
  {
    py::gil_scoped_release nogil;
    corr_assign_sums(simd_tables(), u.data(), n, T, c.data(), k, label.mutable_data(), best.mutable_data(),
                     sums.mutable_data(), n_threads, pf);
  }
  return py::make_tuple(label, best, sums);
}

py::tuple label_sums_py(const FArray& u, const IArray& label, size_t k, int n_threads) {
  require_2d(u, "u");
  size_t n = u.shape(0), T = u.shape(1);
  if (label.ndim() != 1 || static_cast<size_t>(label.shape(0)) != n)
    throw std::invalid_argument("labels must have one entry per row");
  const int64_t* l = label.data();
  for (size_t i = 0; i < n; ++i)
    if (l[i] < 0 || static_cast<size_t>(l[i]) >= k)
      throw std::invalid_argument("label out of range in row " + std::to_string(i));
  py::array_t<double> sums({k, T});
  py::array_t<int64_t> counts(k);
  {
    py::gil_scoped_release nogil;
    label_sums(u.data(), n, T, l, k, sums.mutable_data(), counts.mutable_data(), n_threads);
  }
  return py::make_tuple(sums, counts);
}

py::tuple sbd_assign_py(const FArray& u, const FArray& c, size_t max_shift, int n_threads,
                        py::object progress) {
  check_centroids(u, c);
  size_t n = u.shape(0), T = u.shape(1), k = c.shape(0);
  py::array_t<int64_t> label(n);
  py::array_t<float> best(n);
  py::array_t<int32_t> shift(n);
  ProgressFn pf = make_progress(progress);
  {
    py::gil_scoped_release nogil;
    sbd_assign(simd_tables(), u.data(), n, T, c.data(), k, max_shift, label.mutable_data(), best.mutable_data(),
               shift.mutable_data(), n_threads, pf);
  }
  return py::make_tuple(label, best, shift);
}

py::array_t<float> align_rows_py(const FArray& u, const IArray& rows, const I32Array& shift,
                                 int n_threads) {
  require_2d(u, "u");
  size_t n = u.shape(0), T = u.shape(1);
  if (rows.ndim() != 1 || shift.ndim() != 1 || rows.shape(0) != shift.shape(0))
    throw std::invalid_argument("rows and shift must be 1-D of the same length");
  size_t m = rows.shape(0);
  for (size_t i = 0; i < m; ++i)
    if (rows.data()[i] < 0 || static_cast<size_t>(rows.data()[i]) >= n)
      throw std::invalid_argument("row index out of range");
  py::array_t<float> out({m, T});
  {
    py::gil_scoped_release nogil;
    align_rows(u.data(), T, rows.data(), shift.data(), m, out.mutable_data(), n_threads);
  }
  return out;
}

}  // namespace

void bind_cluster(py::module_& m) {
  m.def("corr_assign", &corr_assign_py, py::arg("u"), py::arg("centroids"), py::arg("n_threads") = 0,
        py::arg("progress") = py::none(),
        "Nearest centroid by dot product of unit-norm rows: (labels int64, best score float32).");
  m.def("corr_assign_sums", &corr_assign_sums_py, py::arg("u"), py::arg("centroids"), py::arg("n_threads") = 0,
        py::arg("progress") = py::none(),
        "corr_assign and, in the same pass, the per-cluster sums of the rows by the labels found "
        "(k x T float64, bitwise label_sums'): (labels int64, best score float32, sums).");
  m.def("label_sums", &label_sums_py, py::arg("u"), py::arg("labels"), py::arg("k"),
        py::arg("n_threads") = 0, "Per-cluster sums of rows (k x T float64) and counts.");
  m.def("sbd_assign", &sbd_assign_py, py::arg("u"), py::arg("centroids"), py::arg("max_shift"),
        py::arg("n_threads") = 0, py::arg("progress") = py::none(),
        "Nearest centroid by max normalised cross-correlation over |shift| <= max_shift: "
        "(labels int64, score float32, shift int32).");
  m.def("align_rows", &align_rows_py, py::arg("u"), py::arg("rows"), py::arg("shift"),
        py::arg("n_threads") = 0, "out[i, t] = u[rows[i], t + shift[i]] (zero outside).");
}

}  // namespace pyshape
