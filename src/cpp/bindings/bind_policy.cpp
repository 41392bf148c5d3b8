// Bindings for the packing policy (pack/policy.hpp): pyshape.pack's
// decisions, made in C++ so that the C API gives the same plans.
#include <cstdint>
#include <string>
#include <vector>

#include "bindings/common.hpp"
#include "common/simd_level.hpp"
#include "pack/policy.hpp"
#include "pack/types.hpp"
#include "pack/verify.hpp"

namespace pyshape {

namespace {

using DArray = py::array_t<double, py::array::c_style | py::array::forcecast | kAligned>;

// Returns (assignment or None, n_workers, lower_bound, peak_workers, total,
// nonfinite_row, negative_row, too_large_rows, worker_type or None, cost,
// cost_lower_bound, peak_cost): when the data has a problem the assignment is
// None and the rows tell the caller what to report. cost given (n_types
// values): capacity is the type table (n_types, R) and the plan minimises cost.
py::tuple pack_plan_py(const FArray& D, const DArray& cap, const DArray& head, const std::string& strategy,
                       double risk, int candidates, int improve, size_t shard_size, int n_threads,
                       py::object progress, double effort, py::object cost) {
  if (D.ndim() != 3) throw std::invalid_argument("shapes must be 3-D (n, R, T)");
  PackRequest rq;
  rq.shapes = D.data();
  rq.n = D.shape(0);
  rq.R = D.shape(1);
  rq.T = D.shape(2);
  DArray costs;
  if (!cost.is_none()) {
    costs = cost.cast<DArray>();
    if (cap.ndim() != 2 || static_cast<size_t>(cap.shape(1)) != rq.R || costs.ndim() != 1 ||
        costs.shape(0) != cap.shape(0) || cap.shape(0) == 0)
      throw std::invalid_argument("worker types need a capacity table (n_types, R) and one cost per type");
    rq.n_types = static_cast<size_t>(cap.shape(0));
    rq.type_capacity = cap.data();
    rq.type_cost = costs.data();
  } else {
    if (cap.ndim() != 1 || static_cast<size_t>(cap.shape(0)) != rq.R)
      throw std::invalid_argument("capacity and headroom need one value per resource");
    rq.capacity = cap.data();
  }
  if (head.ndim() != 1 || static_cast<size_t>(head.shape(0)) != rq.R)
    throw std::invalid_argument("capacity and headroom need one value per resource");
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
  py::object wtype = py::none();
  if (ok && rq.n_types > 0) {
    py::array_t<int64_t> a(fig.worker_type.size());
    std::copy(fig.worker_type.begin(), fig.worker_type.end(), a.mutable_data());
    wtype = a;
  }
  return py::make_tuple(ok ? py::object(assign) : py::object(py::none()), fig.n_workers, fig.lower_bound,
                        fig.peak_workers, total, prob.nonfinite_row, prob.negative_row, too, wtype, fig.cost,
                        fig.cost_lower_bound, fig.peak_cost);
}

double cost_lower_bound_py(const DArray& total, const DArray& eff, const DArray& cost, double risk, py::object peaks) {
  if (total.ndim() != 2 || eff.ndim() != 2 || eff.shape(1) != total.shape(0) || cost.ndim() != 1 ||
      cost.shape(0) != eff.shape(0))
    throw std::invalid_argument("total must be (R, T), capacity (n_types, R) and cost (n_types,)");
  const size_t R = total.shape(0), nt = eff.shape(0);
  check_worker_types(nt, R, eff.data(), cost.data());
  FArray pk;
  size_t n = 0;
  if (!peaks.is_none()) {
    pk = peaks.cast<FArray>();
    if (pk.ndim() != 2 || static_cast<size_t>(pk.shape(1)) != R) throw std::invalid_argument("peaks must be (n, R)");
    n = pk.shape(0);
  }
  return cost_lower_bound(total.data(), R, total.shape(1), eff.data(), cost.data(), nt, risk,
                          peaks.is_none() ? nullptr : pk.data(), n);
}

// (ok, steps_over (W,), max_excess (R,), allowed_steps, message); see verify.hpp.
py::tuple verify_py(const FArray& D, const py::array_t<int64_t, py::array::c_style | py::array::forcecast | kAligned>& assign,
                    size_t W, const DArray& capacity, const DArray& headroom, double risk, int n_threads) {
  if (D.ndim() != 3) throw std::invalid_argument("shapes must be 3-D (n, R, T)");
  const size_t n = D.shape(0), R = D.shape(1), T = D.shape(2);
  if (assign.ndim() != 1 || static_cast<size_t>(assign.shape(0)) != n)
    throw std::invalid_argument("assignment must have one entry per shape");
  if (capacity.ndim() != 2 || static_cast<size_t>(capacity.shape(0)) != W || static_cast<size_t>(capacity.shape(1)) != R ||
      headroom.ndim() != 1 || static_cast<size_t>(headroom.shape(0)) != R)
    throw std::invalid_argument("capacity must be (n_workers, R) and headroom (R,)");
  VerifyResult res;
  {
    py::gil_scoped_release nogil;
    res = verify_plan(D.data(), n, R, T, assign.data(), W, capacity.data(), headroom.data(), risk, n_threads);
  }
  py::array_t<int64_t> over(W);
  std::copy(res.steps_over.begin(), res.steps_over.end(), over.mutable_data());
  py::array_t<double> ex(R);
  std::copy(res.max_excess.begin(), res.max_excess.end(), ex.mutable_data());
  return py::make_tuple(res.ok, over, ex, res.allowed_steps, res.message);
}

size_t lower_bound_py(const DArray& total, const DArray& cap, double risk) {
  if (total.ndim() != 2 || cap.ndim() != 1 || cap.shape(0) != total.shape(0))
    throw std::invalid_argument("total must be (R, T) and capacity (R,)");
  return pack_lower_bound(total.data(), total.shape(0), total.shape(1), cap.data(), risk);
}

}  // namespace

// The order pack deals and places shapes in (decreasing max_r peak / eff, ties in input
// order): exposed so that pyshape.dask deals its shards by the engine's own rule.
py::array_t<int64_t> size_order_py(const FArray& peaks, const FArray& eff) {
  require_2d(peaks, "peaks");
  const size_t n = static_cast<size_t>(peaks.shape(0)), R = static_cast<size_t>(peaks.shape(1));
  if (eff.ndim() != 1 || static_cast<size_t>(eff.shape(0)) != R)
    throw std::invalid_argument("eff must hold one capacity per resource (peaks' columns)");
  if (R == 0) throw std::invalid_argument("size order: no resources");
  std::vector<int64_t> order;
  {
    py::gil_scoped_release nogil;
    order = size_order(peaks.data(), n, R, eff.data());
  }
  py::array_t<int64_t> out(static_cast<py::ssize_t>(n));
  std::copy(order.begin(), order.end(), out.mutable_data());
  return out;
}

void bind_policy(py::module_& m) {
  m.def("size_order", &size_order_py, py::arg("peaks"), py::arg("eff"),
        "pack's placement order: rows by decreasing max_r peaks[i, r] / eff[r] (float32), ties in input order.");
  m.def("pack_plan", &pack_plan_py, py::arg("shapes"), py::arg("capacity"), py::arg("headroom"),
        py::arg("strategy"), py::arg("risk"), py::arg("candidates"), py::arg("improve"), py::arg("shard_size"),
        py::arg("n_threads") = 0, py::arg("progress") = py::none(), py::arg("effort") = PackOptions().effort,
        py::arg("cost") = py::none(),
        "pyshape.pack's policy: (assignment or None, n_workers, lower_bound, peak_workers, total, "
        "nonfinite_row, negative_row, too_large_rows, worker_type, cost, cost_lower_bound, peak_cost); "
        "cost given: capacity is a worker type table (n_types, R).");
  m.def("cost_lower_bound", &cost_lower_bound_py, py::arg("total"), py::arg("capacity"), py::arg("cost"),
        py::arg("risk") = 0.0, py::arg("peaks") = py::none(),
        "A lower bound on the cost of any plan on worker types (pyshape.packing.cost_lower_bound).");
  m.def("verify_plan", &verify_py, py::arg("shapes"), py::arg("assignment"), py::arg("n_workers"),
        py::arg("capacity"), py::arg("headroom"), py::arg("risk"), py::arg("n_threads") = 0,
        "Plan.verify's decision: (ok, steps_over, max_excess, allowed_steps, message).");
  m.def("lower_bound", &lower_bound_py, py::arg("total"), py::arg("capacity"), py::arg("risk") = 0.0,
        "Fewest workers any plan within the risk budget can use (pyshape.packing.lower_bound).");
}

}  // namespace pyshape
