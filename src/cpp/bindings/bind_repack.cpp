// Bindings of the exact re-pack (pack/repack.hpp) and the fixed-k squeeze
// (pack/squeeze.hpp): test hooks, so that the searches 'auto' relies on can
// be checked against brute force.
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "bindings/common.hpp"
#include "pack/repack.hpp"
#include "pack/squeeze.hpp"

namespace pyshape {

void bind_repack(py::module_& m) {
  m.def(
      "_repack_exact",
      [](const FArray& D, const FArray& cap, size_t k, uint64_t max_nodes) {
        if (D.ndim() != 3) throw std::invalid_argument("shapes must be 3-D (n, R, T)");
        const size_t n = D.shape(0), R = D.shape(1), T = D.shape(2);
        if (cap.ndim() != 1 || static_cast<size_t>(cap.shape(0)) != R)
          throw std::invalid_argument("capacity needs one value per resource");
        if (k > kRepackMaxWorkers)
          throw std::invalid_argument("k must be at most " + std::to_string(kRepackMaxWorkers));
        std::vector<float> capk(R * T);
        for (size_t r = 0; r < R; ++r)
          for (size_t t = 0; t < T; ++t) capk[r * T + t] = cap.data()[r];
        std::vector<int> where(n, -1);
        RepackResult res;
        {
          py::gil_scoped_release nogil;
          res = repack_exact_empty(D.data(), n, R * T, capk.data(), k, max_nodes, ~uint64_t{0}, where.data());
        }
        py::object assign = py::none();
        if (res.status == RepackStatus::kFound) {
          py::array_t<int64_t> a(n);
          for (size_t i = 0; i < n; ++i) a.mutable_data()[i] = where[i];
          assign = a;
        }
        return py::make_tuple(static_cast<int>(res.status), assign, res.nodes);
      },
      py::arg("shapes"), py::arg("capacity"), py::arg("k"), py::arg("max_nodes"),
      "Test hook: shapes (n, R, T) onto k empty workers of capacity (R,) by the exact re-pack of the local "
      "search. Returns (status: 1 found / 0 infeasible / -1 node budget spent, assignment or None, nodes).");
  m.def(
      "_squeeze",
      [](const FArray& D, const FArray& cap, size_t k, uint64_t budget, uint64_t seed) {
        if (D.ndim() != 3) throw std::invalid_argument("shapes must be 3-D (n, R, T)");
        const size_t n = D.shape(0), R = D.shape(1), T = D.shape(2);
        if (cap.ndim() != 1 || static_cast<size_t>(cap.shape(0)) != R)
          throw std::invalid_argument("capacity needs one value per resource");
        if (k == 0) throw std::invalid_argument("k must be at least 1");
        for (size_t r = 0; r < R; ++r)
          if (!(cap.data()[r] > 0) || !std::isfinite(cap.data()[r]))
            throw std::invalid_argument("capacity must be positive and finite");
        std::vector<double> S(n * R * T), capk(R * T);
        for (size_t i = 0; i < n * R * T; ++i) S[i] = D.data()[i];
        for (size_t r = 0; r < R; ++r)
          for (size_t t = 0; t < T; ++t) capk[r * T + t] = cap.data()[r];
        std::vector<int> where(n, 0);
        SqueezeResult res;
        {
          py::gil_scoped_release nogil;
          squeeze_start(S.data(), n, R * T, capk.data(), k, where.data());
          res = squeeze_into(S.data(), n, R * T, capk.data(), k, where.data(), budget, seed);
        }
        py::array_t<int64_t> a(n);
        for (size_t i = 0; i < n; ++i) a.mutable_data()[i] = where[i];
        return py::make_tuple(res.found, a, res.work);
      },
      py::arg("shapes"), py::arg("capacity"), py::arg("k"), py::arg("budget"), py::arg("seed") = 0,
      "Test hook: shapes (n, R, T) onto k workers of capacity (R,) by the fixed-k squeeze of 'auto' (from the "
      "least-overflow start). Returns (found, assignment (the last state when not found), values compared).");
}

}  // namespace pyshape
