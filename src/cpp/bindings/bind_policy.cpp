// Bindings for the packing policy (pack/policy.hpp): pyshape.pack's
// decisions, made in C++ so that the C API gives the same plans.
#include <cstdint>
#include <string>
#include <vector>

#include "bindings/common.hpp"
#include "common/simd_level.hpp"
#include "pack/policy.hpp"

namespace pyshape {

namespace {

using DArray = py::array_t<double, py::array::c_style | py::array::forcecast>;

// Returns (assignment or None, n_workers, lower_bound, peak_workers, total,
// nonfinite_row, negative_row, too_large_rows): when the data has a problem
// the assignment is None and the rows tell the caller what to report.
py::tuple pack_plan_py(const FArray& D, const DArray& cap, const DArray& head, const std::string& strategy,
                       double risk, int candidates, int improve, size_t shard_size, int n_threads,
                       py::object progress, double effort) {
  if (D.ndim() != 3) throw std::invalid_argument("shapes must be 3-D (n, R, T)");
  PackRequest rq;
  rq.shapes = D.data();
  rq.n = D.shape(0);
  rq.R = D.shape(1);
  rq.T = D.shape(2);
  if (cap.ndim() != 1 || static_cast<size_t>(cap.shape(0)) != rq.R || head.ndim() != 1 ||
      static_cast<size_t>(head.shape(0)) != rq.R)
    throw std::invalid_argument("capacity and headroom need one value per resource");
  rq.capacity = cap.data();
  rq.headroom = head.data();
  rq.strategy = parse_plan_strategy(strategy);
  rq.risk = risk;
  rq.candidates = candidates;
  rq.improve = improve;
  rq.shard_size = shard_size;
  rq.effort = effort;
  py::array_t<int64_t> assign(rq.n);
  py::array_t<double> total({rq.R, rq.T});
  PackFigures fig;
  PackProblem prob;
  ProgressFn pf = make_progress(progress);  // None too: Ctrl-C still stops the work
  const PackKernels& kernels = simd_tables().pack;  // the level, read once for the whole call
  bool ok;
  {
    py::gil_scoped_release nogil;
    ok = plan_pack(kernels, rq, assign.mutable_data(), total.mutable_data(), &fig, &prob, pf, n_threads);
  }
  py::array_t<int64_t> too(prob.too_large_rows.size());
  std::copy(prob.too_large_rows.begin(), prob.too_large_rows.end(), too.mutable_data());
  return py::make_tuple(ok ? py::object(assign) : py::object(py::none()), fig.n_workers, fig.lower_bound,
                        fig.peak_workers, total, prob.nonfinite_row, prob.negative_row, too);
}

size_t lower_bound_py(const DArray& total, const DArray& cap, double risk) {
  if (total.ndim() != 2 || cap.ndim() != 1 || cap.shape(0) != total.shape(0))
    throw std::invalid_argument("total must be (R, T) and capacity (R,)");
  return pack_lower_bound(total.data(), total.shape(0), total.shape(1), cap.data(), risk);
}

}  // namespace

void bind_policy(py::module_& m) {
  m.def("pack_plan", &pack_plan_py, py::arg("shapes"), py::arg("capacity"), py::arg("headroom"),
        py::arg("strategy"), py::arg("risk"), py::arg("candidates"), py::arg("improve"), py::arg("shard_size"),
        py::arg("n_threads") = 0, py::arg("progress") = py::none(), py::arg("effort") = PackOptions().effort,
        "pyshape.pack's policy: (assignment or None, n_workers, lower_bound, peak_workers, total, "
        "nonfinite_row, negative_row, too_large_rows).");
  m.def("lower_bound", &lower_bound_py, py::arg("total"), py::arg("capacity"), py::arg("risk") = 0.0,
        "Fewest workers any plan within the risk budget can use (pyshape.packing.lower_bound).");
}

}  // namespace pyshape
