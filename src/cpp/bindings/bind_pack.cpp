// Bindings for placement: batch pack (stats + packing) and the online Placer.
// Ids cross as Python str or int (NumPy strings and integers as their Python
// equivalents); inside C++ they are byte strings tagged 's' (UTF-8 text) or
// 'i' (decimal integer, as str(int) writes it).
#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "bindings/common.hpp"
#include "common/simd_level.hpp"
#include "pack/pack.hpp"
#include "pack/placer.hpp"

namespace pyshape {

namespace {

using DArray = py::array_t<double, py::array::c_style | py::array::forcecast | kAligned>;
using I64Array = py::array_t<int64_t, py::array::c_style | kAligned>;

void require_3d(const FArray& a, const char* name) {
  if (a.ndim() != 3) throw std::invalid_argument(std::string(name) + " must be 3-D (n, R, T)");
}

PackStrategy parse_strategy(const std::string& s) {
  if (s == "first_fit") return PackStrategy::kFirstFit;
  if (s == "best_fit") return PackStrategy::kBestFit;
  if (s == "complement") return PackStrategy::kComplement;
  throw std::invalid_argument("unknown strategy '" + s + "' (first_fit, best_fit or complement)");
}

const char* strategy_name(PackStrategy s) {
  switch (s) {
    case PackStrategy::kFirstFit: return "first_fit";
    case PackStrategy::kBestFit: return "best_fit";
    default: return "complement";
  }
}

py::tuple stats_py(const FArray& D, int n_threads) {
  require_3d(D, "shapes");
  size_t n = D.shape(0), R = D.shape(1), T = D.shape(2);
  py::array_t<float> peaks({n, R});
  py::array_t<double> total({R, T});
  int64_t nonf, neg;
  {
    py::gil_scoped_release nogil;
    pack_stats(simd_tables().pack, D.data(), n, R, T, peaks.mutable_data(), total.mutable_data(), &nonf, &neg, n_threads);
  }
  return py::make_tuple(peaks, total, nonf, neg);
}

py::tuple pack_py(const FArray& D, const FArray& cap, const I64Array& order, const std::string& strategy,
                  double risk, int candidates, int improve, size_t shard_size, int n_threads,
                  py::object progress, double effort) {
  require_3d(D, "shapes");
  size_t n = D.shape(0), R = D.shape(1), T = D.shape(2);
  if (cap.ndim() != 1 || static_cast<size_t>(cap.shape(0)) != R)
    throw std::invalid_argument("capacity must have one value per resource");
  if (order.ndim() != 1 || static_cast<size_t>(order.shape(0)) != n)
    throw std::invalid_argument("order must have one entry per shape");
  {
    std::vector<char> seen(n, 0);
    for (size_t k = 0; k < n; ++k) {
      int64_t v = order.data()[k];
      if (v < 0 || static_cast<size_t>(v) >= n || seen[v]) throw std::invalid_argument("order is not a permutation");
      seen[v] = 1;
    }
  }
  PackOptions opt;
  // 'auto': the portfolio and local search of portfolio.hpp (complement is its fallback rule)
  opt.search = strategy == "auto";
  opt.strategy = opt.search ? PackStrategy::kComplement : parse_strategy(strategy);
  opt.effort = effort;
  opt.risk = risk;
  opt.candidates = candidates;
  opt.improve = improve;
  opt.shard_size = shard_size;
  py::array_t<int64_t> assign(n);
  ProgressFn pf = make_progress(progress);
  size_t W;
  {
    py::gil_scoped_release nogil;
    W = pack_shapes(simd_tables().pack, D.data(), n, R, T, cap.data(), order.data(), opt, assign.mutable_data(), pf, n_threads);
  }
  return py::make_tuple(assign, W);
}

// numpy.integer, numpy.asarray, numpy.array (imported once; released on
// purpose: no Python object outlives the interpreter in a static destructor)
py::handle numpy_attr(const char* name) { return py::object(py::module_::import("numpy").attr(name)).release(); }

const py::handle& np_integer() {
  static py::handle h = numpy_attr("integer");
  return h;
}

std::string type_name(py::handle o) { return py::str(py::type::handle_of(o).attr("__name__")).cast<std::string>(); }

// int (not bool) or numpy.integer (numpy.bool_ is not one)
bool is_integer(py::handle o) {
  if (PyLong_Check(o.ptr())) return !PyBool_Check(o.ptr());
  int r = PyObject_IsInstance(o.ptr(), np_integer().ptr());
  if (r < 0) throw py::error_already_set();
  return r == 1;
}

std::string encode_id(py::handle id) {
  if (PyUnicode_Check(id.ptr())) {  // one allocation (at most): the tag, then the UTF-8 bytes
    Py_ssize_t n = 0;
    const char* u = PyUnicode_AsUTF8AndSize(id.ptr(), &n);
    if (u == nullptr) throw py::error_already_set();
    std::string key;
    key.reserve(static_cast<size_t>(n) + 1);
    key += 's';
    key.append(u, static_cast<size_t>(n));
    return key;
  }
  if (is_integer(id)) {
    int overflow = 0;
    long long v = PyLong_Check(id.ptr()) ? PyLong_AsLongLongAndOverflow(id.ptr(), &overflow) : 0;
    if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
    if (PyLong_Check(id.ptr()) && !overflow) return "i" + std::to_string(v);  // as str(int) writes it
    py::object as_int = py::reinterpret_steal<py::object>(PyNumber_Index(id.ptr()));  // numpy.integer, big ints
    if (!as_int) throw py::error_already_set();
    return "i" + py::str(as_int).cast<std::string>();
  }
  throw py::type_error("ids must be str or int (or a NumPy string or integer), got " + type_name(id));
}

bool is_id(py::handle id) { return PyUnicode_Check(id.ptr()) || is_integer(id); }

py::object decode_id(const std::string& key) {
  if (!key.empty() && key[0] == 'i') return py::int_(py::str(key.substr(1)));
  return py::str(key.substr(1));
}

// The shape argument of Placer.place as a C-contiguous float32 array: used as
// it is when it already is one (the request path: a type and flag test, no
// Python call), otherwise converted by numpy.ascontiguousarray(shape,
// dtype=float32), so any input converts (and fails) as it does in NumPy; a
// float32 array at a misaligned address (np.frombuffer at an odd offset) is
// copied by numpy.require(..., "CA"), since the kernels read whole floats.
// Complex input is refused (TypeError): NumPy would drop the imaginary part.
FArray as_shape_array(py::handle shape) {
  if (FArray::check_(shape)) {
    FArray arr = py::reinterpret_borrow<FArray>(shape);
    if (reinterpret_cast<uintptr_t>(arr.data()) % alignof(float) == 0) return arr;
    static py::handle require = numpy_attr("require");
    return py::reinterpret_borrow<FArray>(require(arr, py::none(), "CA"));
  }
  static py::handle asarray = numpy_attr("asarray");
  static py::handle convert = numpy_attr("ascontiguousarray");
  static py::handle f32 = numpy_attr("float32");
  py::object a = asarray(shape);
  if (py::isinstance<py::array>(a)) {
    py::dtype dt = py::reinterpret_borrow<py::array>(a).dtype();
    if (dt.kind() == 'c')
      throw py::type_error("shape is complex (" + py::str(dt).cast<std::string>() +
                           "): a shape takes real values; pass shape.real to drop the imaginary part");
  }
  return py::reinterpret_borrow<FArray>(convert(a, py::arg("dtype") = f32));
}

// A worker argument as pyshape.Plan checks it: TypeError unless an integer
// (not bool), IndexError unless in [0, n_workers).
size_t worker_index(const Placer& p, py::handle worker) {
  if (!is_integer(worker))
    throw py::type_error("worker must be an integer, got " + py::repr(worker).cast<std::string>());
  py::object v = py::reinterpret_steal<py::object>(PyNumber_Index(worker.ptr()));
  if (!v) throw py::error_already_set();
  int overflow = 0;
  long long w = PyLong_AsLongLongAndOverflow(v.ptr(), &overflow);
  if (w == -1 && PyErr_Occurred()) throw py::error_already_set();
  if (overflow || w < 0 || static_cast<unsigned long long>(w) >= p.n_workers())
    throw py::index_error("worker " + py::str(v).cast<std::string>() + " out of range [0, " +
                          std::to_string(p.n_workers()) + ")");
  return static_cast<size_t>(w);
}

// The ids on worker w as pyshape.Plan.members returns them, an ndarray: int64
// when every id is an int that fits (an empty worker too), str when every id
// is a str, object otherwise (also for a str ending in NUL, which a NumPy str
// array would drop).
py::object members_array(const Placer& p, size_t w) {
  const std::vector<std::string> keys = p.members(w);
  std::vector<int64_t> ints;
  ints.reserve(keys.size());
  bool all_int = true, all_str = true;
  for (const auto& k : keys) {
    all_str &= !k.empty() && k[0] == 's' && k.back() != '\0';
    if (!all_int) continue;
    int64_t v = 0;
    auto res = k.size() > 1 && k[0] == 'i' ? std::from_chars(k.data() + 1, k.data() + k.size(), v)
                                          : std::from_chars_result{k.data(), std::errc::invalid_argument};
    all_int = res.ec == std::errc() && res.ptr == k.data() + k.size();
    ints.push_back(v);
  }
  if (all_int) return py::array_t<int64_t>(static_cast<py::ssize_t>(ints.size()), ints.data());
  static py::handle array = numpy_attr("array");
  static py::handle str_type = py::handle(reinterpret_cast<PyObject*>(&PyUnicode_Type));
  static py::handle object_type = py::handle(reinterpret_cast<PyObject*>(&PyBaseObject_Type));
  py::list out;
  for (const auto& k : keys) out.append(decode_id(k));
  return array(out, py::arg("dtype") = all_str ? str_type : object_type);
}

const float* shape_ptr(const Placer& p, const FArray& s) {
  size_t need = p.R() * p.T();
  bool ok = (s.ndim() == 1 && p.R() == 1 && static_cast<size_t>(s.shape(0)) == p.T()) ||
            (s.ndim() == 2 && static_cast<size_t>(s.shape(0)) == p.R() && static_cast<size_t>(s.shape(1)) == p.T());
  if (!ok || static_cast<size_t>(s.size()) != need)
    throw std::invalid_argument("shape must be (R, T) = (" + std::to_string(p.R()) + ", " + std::to_string(p.T()) +
                                ")" + (p.R() == 1 ? " or (T,)" : ""));
  return s.data();
}

}  // namespace

void bind_pack(py::module_& m) {
  py::register_exception<FleetFull>(m, "FleetFullError", PyExc_RuntimeError);
  py::register_exception<ShapeTooLarge>(m, "ShapeTooLargeError", PyExc_ValueError);
  py::register_exception<DuplicateId>(m, "DuplicateIdError", PyExc_ValueError);
  py::register_exception<UnknownId>(m, "UnknownIdError", PyExc_KeyError);

  m.def("pack_stats", &stats_py, py::arg("shapes"), py::arg("n_threads") = 0,
        "Per-shape peaks (n, R), total demand (R, T) float64, first non-finite row, first negative row.");
  const PackOptions defaults;
  m.attr("PACK_DEFAULT_CANDIDATES") = defaults.candidates;
  m.attr("PACK_DEFAULT_IMPROVE") = defaults.improve;
  m.attr("PACK_DEFAULT_SHARD_SIZE") = defaults.shard_size;
  m.def("pack", &pack_py, py::arg("shapes"), py::arg("capacity"), py::arg("order"), py::arg("strategy"),
        py::arg("risk") = defaults.risk, py::arg("candidates") = defaults.candidates,
        py::arg("improve") = defaults.improve, py::arg("shard_size") = defaults.shard_size, py::arg("n_threads") = 0, py::arg("progress") = py::none(), py::arg("effort") = defaults.effort,
        "Pack shapes in the given order; returns (assignment, n_workers). strategy 'auto': portfolio + local search.");
  m.attr("PACK_DEFAULT_EFFORT") = defaults.effort;

  py::class_<Placer>(m, "Placer")
      .def(py::init([](size_t R, size_t T, const DArray& cap, const DArray& head, const std::string& strategy,
                       double risk, int candidates, int64_t max_workers, int64_t scan_limit) {
             if (cap.ndim() != 1 || static_cast<size_t>(cap.shape(0)) != R || head.ndim() != 1 ||
                 static_cast<size_t>(head.shape(0)) != R)
               throw std::invalid_argument("capacity and headroom need one value per resource");
             return Placer(simd_tables().pack, R, T, cap.data(), head.data(), parse_strategy(strategy), risk, candidates, max_workers,
                           scan_limit);
           }),
           py::arg("R"), py::arg("T"), py::arg("capacity"), py::arg("headroom"), py::arg("strategy"),
           py::arg("risk"), py::arg("candidates"), py::arg("max_workers"), py::arg("scan_limit") = 0)
      .def("place",
           [](Placer& p, py::handle id, py::handle shape) {
             std::string key = encode_id(id);
             FArray arr = as_shape_array(shape);
             return p.place(key, shape_ptr(p, arr));
           },
           py::arg("id"), py::arg("shape"))
      .def("remove", [](Placer& p, py::handle id) { return p.remove(encode_id(id)); }, py::arg("id"))
      .def("worker_of", [](const Placer& p, py::handle id) { return p.worker_of(encode_id(id)); }, py::arg("id"))
      .def("contains", [](const Placer& p, py::handle id) { return is_id(id) && p.worker_of(encode_id(id)) >= 0; })
      .def("set_types",
           [](Placer& p, const DArray& cap, const DArray& cost, const std::vector<std::string>& names) {
             if (cap.ndim() != 2 || static_cast<size_t>(cap.shape(1)) != p.R() || cost.ndim() != 1 ||
                 cost.shape(0) != cap.shape(0))
               throw std::invalid_argument("worker types need a capacity table (n_types, R) and one cost per type");
             p.set_types(static_cast<size_t>(cap.shape(0)), cap.data(), cost.data(), names);
           },
           py::arg("capacity"), py::arg("cost"), py::arg("names"))
      .def_property_readonly("types",
           [](const Placer& p) -> py::object {
             if (p.n_types() == 0) return py::none();
             py::array_t<double> cap({p.n_types(), p.R()});
             std::copy(p.type_capacity().begin(), p.type_capacity().end(), cap.mutable_data());
             py::array_t<double> cost(p.n_types());
             std::copy(p.type_cost().begin(), p.type_cost().end(), cost.mutable_data());
             py::list names;
             for (const auto& nm : p.type_names()) names.append(py::str(nm));
             return py::make_tuple(names, cap, cost);
           })
      .def_property_readonly("worker_type",
           [](const Placer& p) -> py::object {
             if (p.n_types() == 0) return py::none();
             py::array_t<int64_t> out(p.n_workers());
             for (size_t w = 0; w < p.n_workers(); ++w) out.mutable_data()[w] = p.worker_type(w);
             return out;
           })
      .def_property_readonly("n_workers", &Placer::n_workers)
      .def_property_readonly("n_items", &Placer::n_items)
      .def_property_readonly("R", &Placer::R)
      .def_property_readonly("T", &Placer::T)
      .def_property_readonly("capacity", [](const Placer& p) { return py::array_t<double>(p.capacity().size(), p.capacity().data()); })
      .def_property_readonly("headroom", [](const Placer& p) { return py::array_t<double>(p.headroom().size(), p.headroom().data()); })
      .def_property_readonly("strategy", [](const Placer& p) { return std::string(strategy_name(p.strategy())); })
      .def_property_readonly("risk", &Placer::risk)
      .def_property_readonly("candidates", &Placer::candidates)
      .def_property_readonly("max_workers", &Placer::max_workers)
      .def_property_readonly("scan_limit", &Placer::scan_limit)
      .def_property_readonly("_stats", [](const Placer& p) {
             return py::make_tuple(p.fleet().full_checks(), p.fleet().witness_rejects(), p.fleet().leaves_examined());
           })
      .def("n_members", [](const Placer& p, size_t w) {
             if (w >= p.n_workers()) throw py::index_error("no such worker");
             return p.n_members(w);
           })
      // As pyshape.Plan.load: float64, (R, T) for one worker, (W, R, T) for
      // every worker (worker None). The float32 state converts exactly.
      .def("load",
           [](const Placer& p, py::handle worker) {
             const size_t RT = p.R() * p.T();
             std::vector<float> buf(RT);
             auto copy = [&](size_t w, double* dst) {
               p.load_logical(w, buf.data());
               for (size_t i = 0; i < RT; ++i) dst[i] = buf[i];
             };
             if (worker.is_none()) {
               py::array_t<double> out({p.n_workers(), p.R(), p.T()});
               for (size_t w = 0; w < p.n_workers(); ++w) copy(w, out.mutable_data() + w * RT);
               return out;
             }
             py::array_t<double> out({p.R(), p.T()});
             copy(worker_index(p, worker), out.mutable_data());
             return out;
           },
           py::arg("worker") = py::none())
      .def("members", [](const Placer& p, py::handle worker) { return members_array(p, worker_index(p, worker)); },
           py::arg("worker"))
      .def("score",
           [](Placer& p, py::handle shape, py::object workers, double threshold, bool covariance) {
             FArray arr = as_shape_array(shape);
             const float* s = shape_ptr(p, arr);
             std::vector<size_t> ws;
             if (workers.is_none()) {
               ws.resize(p.n_workers());
               for (size_t w = 0; w < ws.size(); ++w) ws[w] = w;
             } else {
               auto a = workers.cast<py::array_t<int64_t, py::array::c_style | py::array::forcecast | kAligned>>();
               ws.resize(static_cast<size_t>(a.size()));
               for (size_t k = 0; k < ws.size(); ++k) {
                 const int64_t w = a.data()[k];
                 if (w < 0 || static_cast<uint64_t>(w) >= p.n_workers())
                   throw py::index_error("worker " + std::to_string(w) + " out of range [0, " +
                                         std::to_string(p.n_workers()) + ")");
                 ws[k] = static_cast<size_t>(w);
               }
             }
             const size_t n = ws.size(), R = p.R();
             const size_t nc = covariance ? n : 0;  // without: no columns, and no full read of the loads
             py::array_t<double> peak({n, R}), rise({n, R}), cov({nc, R}), corr({nc, R});
             py::array_t<int64_t> over(n), idx(n);
             py::array_t<bool> fits(n);
             ScoreOut out;
             out.new_peak = peak.mutable_data();
             out.peak_rise = rise.mutable_data();
             out.covariance = covariance ? cov.mutable_data() : nullptr;
             out.correlation = covariance ? corr.mutable_data() : nullptr;
             out.steps_over = over.mutable_data();
             static_assert(sizeof(bool) == 1, "bool is one byte");
             out.fits = reinterpret_cast<uint8_t*>(fits.mutable_data());
             for (size_t k = 0; k < n; ++k) idx.mutable_data()[k] = static_cast<int64_t>(ws[k]);
             // an empty list is no candidates: never a null pointer (which score() takes as "every worker")
             static const size_t no_worker = 0;
             p.score(s, n ? ws.data() : &no_worker, n, threshold, out);
             py::dict d;
             d["worker"] = idx;
             d["fits"] = fits;
             d["new_peak"] = peak;
             d["peak_rise"] = rise;
             d["steps_over"] = over;
             if (covariance) {
               d["covariance"] = cov;
               d["correlation"] = corr;
             }
             return d;
           },
           py::arg("shape"), py::arg("workers") = py::none(), py::arg("threshold") = 1.0,
           py::arg("covariance") = true)
      .def("update",
           [](Placer& p, py::handle id, py::handle shape) {
             std::string key = encode_id(id);
             FArray arr = as_shape_array(shape);
             return p.update(key, shape_ptr(p, arr));
           },
           py::arg("id"), py::arg("shape"))
      .def("advance",
           [](Placer& p, const FArray& values, py::object ids) {
             if (values.ndim() != 3 || static_cast<size_t>(values.shape(0)) != p.n_items() ||
                 static_cast<size_t>(values.shape(1)) != p.R() || values.shape(2) < 1)
               throw std::invalid_argument("new steps must be (n_items, R, k) = (" + std::to_string(p.n_items()) +
                                           ", " + std::to_string(p.R()) + ", k)");
             std::vector<std::string> keys;
             if (!ids.is_none()) {
               for (py::handle id : ids) keys.push_back(encode_id(id));
             }
             std::vector<size_t> over =
                 p.advance(static_cast<size_t>(values.shape(2)), ids.is_none() ? nullptr : &keys, values.data());
             py::array_t<int64_t> out(over.size());
             for (size_t i = 0; i < over.size(); ++i) out.mutable_data()[i] = static_cast<int64_t>(over[i]);
             return out;
           },
           py::arg("values"), py::arg("ids") = py::none())
      .def("ids",
           [](const Placer& p) {
             py::list out;
             for (const auto& k : p.ids()) out.append(decode_id(k));
             return out;
           })
      .def("shape",
           [](const Placer& p, py::handle id) {
             std::vector<float> buf(p.R() * p.T());
             p.shape_of(encode_id(id), buf.data());
             py::array_t<double> out({p.R(), p.T()});
             for (size_t i = 0; i < buf.size(); ++i) out.mutable_data()[i] = buf[i];
             return out;
           },
           py::arg("id"))
      .def("overloaded",
           [](const Placer& p) {
             std::vector<size_t> over = p.overloaded();
             py::array_t<int64_t> out(over.size());
             for (size_t i = 0; i < over.size(); ++i) out.mutable_data()[i] = static_cast<int64_t>(over[i]);
             return out;
           })
      .def_property_readonly("head", &Placer::head)
      .def("_check", &Placer::check)
      .def("snapshot", [](const Placer& p) { return py::bytes(p.snapshot()); })
      .def_static("restore",
                  [](py::bytes b) {
                    char* data = nullptr;
                    Py_ssize_t n = 0;
                    if (PyBytes_AsStringAndSize(b.ptr(), &data, &n) != 0) throw py::error_already_set();
                    const PackKernels& kernels = simd_tables().pack;  // the level, read once
                    py::gil_scoped_release nogil;  // bytes are immutable and b outlives the call
                    return Placer::restore(kernels, data, static_cast<size_t>(n));
                  },
                  py::arg("data"));
}

}  // namespace pyshape
