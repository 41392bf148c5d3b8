// Online placement: one shape at a time onto a growing fleet (fleet.hpp),
// with removal and a versioned binary snapshot.
//
// Invariant: a worker's load is the float32 sum of its members' shapes added
// in member order (removal and update recompute it from the members), and
// its volumes the sum of its members' volumes in member order, so a restored
// snapshot reproduces the state bit for bit. Every operation checks
// everything before it changes anything: on an exception the state is as
// before the call.
//
// Reuse of older workers. A bounded scan (scan_limit > 0) visits only the
// newest scan_limit workers; when none of them takes the shape, the
// least-loaded worker of the whole fleet is tried before a new one opens: the
// worker with the smallest max_r peak_r / capacity_r (an empty worker has 0),
// the lowest index on ties, found in O(log W) in a min segment tree over the
// workers that place() and remove() keep up to date. So empty workers are
// reused whatever their age, and the fleet does not grow under churn.
//
// Scores (score()). For one shape and some workers, without placing: the new
// peak and the peak rise per resource (fractions of the effective capacity),
// the steps over a threshold, whether the fit rule accepts it, and the
// covariance and correlation with the worker's load (Fleet::score,
// fleet_score.cpp: one fused kernel per SIMD level reads each load once when
// covariances are asked, O(n R T) for n workers; without them the block
// summaries settle most steps and only the blocks they leave open are read;
// bit-identical both ways and at every SIMD level). It changes nothing that
// place() reads (it keeps each load's sum and sum of squares once computed).
//
// Live updates. update() replaces a placed shape with a new forecast in
// place: the workload stays on its worker whatever the new shape, and the
// call reports whether that worker still passes the fit rule ("report, don't
// move": a scheduler decides whether to move it, with remove() + place()).
// A worker over capacity takes nothing more until it is back under. Cost:
// the worker's load is recomputed from its m members, O(m R T) (that keeps
// the invariant below), plus O(log W).
//
// advance(k) moves the window of every placed shape by k steps: the oldest k
// steps of every shape drop and k new ones (given per id) come in at the end.
// Shapes and loads are ring buffers with one offset shared by the whole
// Placer (head(): logical step t is stored at (head + t) mod T), so the k new
// steps overwrite the k dropped ones in place: O(n R k) for the shapes and
// the loads (the new steps of a load are summed from its members, in member
// order, as everywhere else), O(W R (k + blk)) for the block summaries of
// the blocks that hold them, O(W) to rebuild the least-loaded tree (with a
// risk budget, plus O(R T) per worker that has steps over capacity, to count
// them). Volumes
// (used by best_fit and the complement tie-break) are kept per shape and
// updated by what drops and what comes in (in double). Shapes given to
// place(), update() and score() are rotated to the ring's order when the
// offset is not 0 (one copy of R * T floats); load() and snapshots give the
// logical order.
//
// Limits, checked where a Placer is made (constructor and restore() alike):
// R <= kMaxResources, R * T <= Fleet::kMaxValues. Memory is proportional to
// use: R * T floats per open worker and per placed shape, nothing per step
// before the first worker opens.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "pack/fleet.hpp"

namespace pyshape {

// No worker can take the shape and max_workers are open.
struct FleetFull : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// A shape's peak exceeds the (effective) capacity of an empty worker.
struct ShapeTooLarge : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
struct DuplicateId : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
struct UnknownId : std::out_of_range {
  using std::out_of_range::out_of_range;
};

class Placer {
 public:
  static constexpr size_t kMaxResources = 1024;

  // capacity and headroom: R values each; effective capacity is
  // capacity * (1 - headroom). max_workers 0: no limit.
  //
  // scan_limit > 0 bounds the latency of place(): workers are visited
  // newest-first and at most scan_limit of them (those passing the block
  // filter) are examined; when none of those takes the shape a new worker
  // opens (online first-fit with a bounded scan). Only when max_workers are
  // open does place() fall back to examining every worker before it raises
  // FleetFull. scan_limit 0: every worker, oldest-first (the batch
  // strategies' exact choice).
  //
  // kernels: the placement kernels of the SIMD level to use for the Placer's
  // whole life (the level active at its construction; every level gives
  // bit-identical results, so a snapshot restores the same state at any level).
  // Throws std::invalid_argument for R or T of 0, R > kMaxResources,
  // R * T > Fleet::kMaxValues, a capacity * (1 - headroom) that is not a
  // positive normal float32, headroom outside [0, 1), risk outside [0, 1), or
  // a negative candidates, max_workers or scan_limit.
  Placer(const PackKernels& kernels, size_t R, size_t T, const double* capacity, const double* headroom,
         PackStrategy strategy, double risk, int candidates, int64_t max_workers, int64_t scan_limit = 0);

  // Worker types (heterogeneous fleets; types.hpp). Called before any worker
  // opens, on a Placer whose capacity is the table's largest per resource:
  // n_types types with capacity (n_types x R), cost (n_types) and names.
  // From then on a new worker opens as the cheapest type (lowest cost, then
  // lowest index) whose effective capacity holds the shape's peak, and keeps
  // that type (online: no later resizing); every fit test, score and
  // least-loaded key uses the worker's own capacity, and a shape that fits no
  // type is ShapeTooLarge. Snapshots of a typed Placer are version 4 (they
  // carry the table and each worker's type). Throws std::invalid_argument
  // for a bad table, a capacity that is not the table's largest, or workers
  // already open.
  void set_types(size_t n_types, const double* capacity, const double* cost, std::vector<std::string> names);
  size_t n_types() const { return type_cost_.size(); }
  const std::vector<double>& type_capacity() const { return type_cap_; }
  const std::vector<double>& type_cost() const { return type_cost_; }
  const std::vector<std::string>& type_names() const { return type_names_; }
  // The type of worker w (a row of the table), or -1 without types.
  int32_t worker_type(size_t w) const { return wtype_.empty() ? -1 : wtype_[w]; }

  size_t R() const { return R_; }
  size_t T() const { return T_; }
  // Places a shape (R x T floats) under key; returns its worker.
  int64_t place(const std::string& key, const float* shape);
  // Removes key; returns the worker it was on.
  int64_t remove(const std::string& key);
  // Worker of key, or -1.
  int64_t worker_of(const std::string& key) const;
  size_t n_workers() const { return fleet_.size(); }
  size_t n_items() const { return index_.size(); }
  const float* load(size_t w) const { return fleet_.load(w); }
  std::vector<std::string> members(size_t w) const;
  size_t n_members(size_t w) const { return members_[w].size(); }

  const std::vector<double>& capacity() const { return capacity_; }
  const std::vector<double>& headroom() const { return headroom_; }
  const float* effective_capacity() const { return fleet_.cap(); }
  PackStrategy strategy() const { return strategy_; }
  double risk() const { return risk_; }
  int candidates() const { return candidates_; }
  int64_t max_workers() const { return max_workers_; }
  int64_t scan_limit() const { return scan_limit_; }
  const Fleet& fleet() const { return fleet_; }

  // Scores of shape (R x T floats) on the n workers (each < n_workers();
  // workers nullptr: every worker, n ignored); threshold > 0, the fraction of
  // the effective capacity that steps_over counts from. Throws
  // std::invalid_argument for NaN / infinite / negative values, a bad
  // threshold, std::out_of_range for a worker out of range. See ScoreOut.
  void score(const float* shape, const size_t* workers, size_t n, double threshold, const ScoreOut& out);
  // Replaces key's shape; returns whether its worker still passes the fit
  // rule (it stays there either way). UnknownId; std::invalid_argument for
  // NaN / infinite / negative values (the state is then unchanged).
  bool update(const std::string& key, const float* shape);
  // Advances every shape by k (1 <= k <= T) steps. values: n_items() rows of
  // R * k floats (row i, resource r, new step j at [(i * R + r) * k + j]),
  // row i for keys[i] (each placed key exactly once), or, keys nullptr, for
  // the i-th key of ids(). Throws std::invalid_argument (bad k, values or
  // keys) before anything changes. Returns the workers over capacity after.
  std::vector<size_t> advance(size_t k, const std::vector<std::string>* keys, const float* values);
  // Every placed key: worker 0's members in member order, then worker 1's, ...
  std::vector<std::string> ids() const;
  // key's shape (R x T floats, logical order) to out; UnknownId.
  void shape_of(const std::string& key, float* out) const;
  // w's load in logical order to out (R x T floats).
  void load_logical(size_t w, float* out) const;
  // Whether w's load breaks the fit rule (only update() and advance() can do that).
  bool over_capacity(size_t w) const { return fleet_.over(w); }
  std::vector<size_t> overloaded() const;
  size_t head() const { return head_; }
  // Recomputes every load, volume, summary, leaf and the least-loaded tree
  // from the members and compares them bitwise: "" when all agree (tests).
  std::string check() const;

  std::string snapshot() const;
  // Throws std::invalid_argument for anything that snapshot() cannot have
  // written: bad magic, checksum, version or header, sizes that the bytes do
  // not hold (checked before anything of that size is allocated), malformed
  // or duplicate ids, NaN / infinite / negative shapes, or a worker whose load
  // is over its capacity.
  static Placer restore(const PackKernels& kernels, const std::string& bytes);
  static Placer restore(const PackKernels& kernels, const char* data, size_t size);

 private:
  static size_t check_dims(size_t R, size_t T);  // returns R
  static std::vector<float> effective(size_t R, const double* capacity, const double* headroom);
  void check_shape(const float* shape, const ShapeSummary& ss) const;  // ss = summarize(shape)
  std::vector<float> peaks_of(const ShapeSummary& ss) const;          // max_t per resource, from the blocks
  size_t open_worker(const ShapeSummary& ss);  // a new worker (of the cheapest type that holds the shape)
  size_t alloc_slot();
  void recompute(size_t w);
  // shape (logical order) in the ring's order: shape itself when head_ is 0,
  // else a rotated copy in rot_
  const float* physical(const float* shape);
  // summarize(shape) to ss_ and refuse NaN / infinite / negative values (not too-large ones)
  void check_values(const float* shape);
  void rebuild_keys();
  // The least-loaded index (see the top of this file).
  float load_key(size_t w) const;  // max_r peak_r / eff_r of worker w
  void grow_keys(size_t n);        // room for n workers (rebuilds the tree when it grows)
  void update_key(size_t w);       // after w's load changed; no allocation
  size_t least_loaded() const;     // the lowest-index worker with the smallest key (needs a worker)
  bool loads_within_capacity(size_t w) const;  // restore(): w's load passes the fit rule

  static constexpr size_t kNoSlot = static_cast<size_t>(-1);

  size_t R_, T_;
  std::vector<double> capacity_, headroom_;
  PackStrategy strategy_;
  double risk_;
  int candidates_;
  int64_t max_workers_;
  int64_t scan_limit_;
  std::vector<float> eff_;
  // worker types (set_types): the table, its effective capacities (float32,
  // n_types x R), and each worker's type (empty without types)
  std::vector<double> type_cap_, type_cost_;
  std::vector<float> type_eff_;
  std::vector<std::string> type_names_;
  std::vector<int32_t> wtype_;
  Fleet fleet_;
  std::unordered_map<std::string, size_t> index_;  // key -> slot
  // Every placed shape (R * T floats per slot), in chunks of chunk_slots_
  // slots: growing the pool never moves the shapes already stored, and a new
  // chunk is zeroed when it is allocated, so the page faults of fresh memory
  // are paid once per chunk instead of inside every place().
  std::vector<std::vector<float>> pool_;
  size_t chunk_slots_;
  float* slot_data(size_t slot) { return pool_[slot / chunk_slots_].data() + (slot % chunk_slots_) * R_ * T_; }
  const float* slot_data(size_t slot) const {
    return pool_[slot / chunk_slots_].data() + (slot % chunk_slots_) * R_ * T_;
  }
  std::vector<std::string> slot_key_;
  std::vector<int64_t> slot_worker_;
  std::vector<size_t> free_;
  std::vector<double> slot_vol_;  // R per slot: the shape's volumes (summarize(), then kept by advance())
  size_t head_ = 0;               // ring offset (see the top of this file)
  std::vector<float> rot_;
  std::vector<size_t> all_;       // score(): every worker
  std::vector<size_t> row_of_;    // advance(): slot -> row of values
  std::vector<std::vector<size_t>> members_;  // worker -> slots in member order
  ShapeSummary ss_;
  std::vector<float> np_;
  std::vector<float> key_;  // min segment tree, 1-based, 2 * key_leaves_ nodes; leaves past the fleet: +inf
  size_t key_leaves_ = 0;
};

}  // namespace pyshape
