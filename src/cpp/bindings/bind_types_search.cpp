// Binding of the typed local search (pack/types_search.hpp): a test hook, so
// that the search can be started from any feasible typed plan and checked
// (cost never rises, plan feasible, deterministic) against brute force.
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "bindings/common.hpp"
#include "pack/types.hpp"
#include "pack/types_search.hpp"
#include "common/simd_level.hpp"

namespace pyshape {

using DArray = py::array_t<double, py::array::c_style | py::array::forcecast | kAligned>;

void bind_types_search(py::module_& m) {
  m.def(
      "_improve_typed",
      [](const FArray& D, const FArray& eff, const DArray& cost,
         const py::array_t<int64_t, py::array::c_style | py::array::forcecast | kAligned>& assign,
         const py::array_t<int32_t, py::array::c_style | py::array::forcecast | kAligned>& worker_type,
         uint64_t budget) {
        if (D.ndim() != 3) throw std::invalid_argument("shapes must be 3-D (n, R, T)");
        const size_t n = D.shape(0), R = D.shape(1), T = D.shape(2);
        if (eff.ndim() != 2 || static_cast<size_t>(eff.shape(1)) != R || cost.ndim() != 1 ||
            cost.shape(0) != eff.shape(0) || eff.shape(0) == 0)
          throw std::invalid_argument("worker types need a capacity table (n_types, R) and one cost per type");
        const size_t nt = eff.shape(0);
        std::vector<double> effd(eff.data(), eff.data() + nt * R);
        check_worker_types(nt, R, effd.data(), cost.data());
        if (assign.ndim() != 1 || static_cast<size_t>(assign.shape(0)) != n)
          throw std::invalid_argument("assignment must have one worker per shape");
        const size_t W = worker_type.ndim() == 1 ? worker_type.shape(0) : 0;
        std::vector<int32_t> wt(worker_type.data(), worker_type.data() + W);
        for (int32_t t : wt)
          if (t < 0 || static_cast<size_t>(t) >= nt) throw std::invalid_argument("worker type out of range");
        std::vector<int64_t> a(assign.data(), assign.data() + n);
        std::vector<char> used(W, 0);
        for (int64_t w : a) {
          if (w < 0 || static_cast<size_t>(w) >= W) throw std::invalid_argument("assignment out of range");
          used[static_cast<size_t>(w)] = 1;
        }
        for (char u : used)
          if (!u) throw std::invalid_argument("every worker must hold a shape");
        std::vector<float> peaks(n * R);
        for (size_t i = 0; i < n; ++i)
          for (size_t r = 0; r < R; ++r) {
            float p = 0;
            for (size_t t = 0; t < T; ++t) p = std::max(p, D.data()[(i * R + r) * T + t]);
            peaks[i * R + r] = p;
          }
        PackOptions opt;
        opt.search = true;
        TypedSearchStats st;
        {
          py::gil_scoped_release nogil;
          improve_typed(simd_tables().pack, D.data(), n, R, T, peaks.data(), eff.data(), cost.data(), nt, opt,
                        a.data(), wt, budget, &st);
        }
        py::array_t<int64_t> ao(n);
        std::copy(a.begin(), a.end(), ao.mutable_data());
        py::array_t<int64_t> to(wt.size());
        for (size_t w = 0; w < wt.size(); ++w) to.mutable_data()[w] = wt[w];
        py::dict s;
        s["cost_before"] = st.cost_before;
        s["cost_after"] = st.cost_after;
        s["work"] = st.work;
        s["rounds"] = st.rounds;
        s["emptied"] = st.emptied;
        s["merged"] = st.merged;
        s["shed"] = st.shed;
        s["swapped"] = st.swapped;
        s["split"] = st.split;
        s["same_type_removed"] = st.same_type_removed;
        return py::make_tuple(ao, to, s);
      },
      py::arg("shapes"), py::arg("capacity"), py::arg("cost"), py::arg("assign"), py::arg("worker_type"),
      py::arg("budget"),
      "Test hook: the typed local search from a feasible plan (assign (n,), worker_type (W,)) on effective "
      "capacities (n_types, R) float32 and costs; risk 0. Returns (assign, worker_type, stats dict).");
}

}  // namespace pyshape
