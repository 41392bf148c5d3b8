// Online placement: one shape at a time onto a growing fleet (fleet.hpp),
// with removal and a versioned binary snapshot.
//
// Invariant: a worker's load is the float32 sum of its members' shapes added
// in member order (removal recomputes it from the members left), so a
// restored snapshot reproduces the state bit for bit. Every operation checks
// everything before it changes anything: on an exception the state is as
// before the call.
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
  Placer(const PackKernels& kernels, size_t R, size_t T, const double* capacity, const double* headroom,
         PackStrategy strategy, double risk, int candidates, int64_t max_workers, int64_t scan_limit = 0);

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

  std::string snapshot() const;
  static Placer restore(const PackKernels& kernels, const std::string& bytes);

 private:
  static std::vector<float> effective(size_t R, const double* capacity, const double* headroom);
  void check_shape(const float* shape, const ShapeSummary& ss) const;  // ss = summarize(shape)
  size_t alloc_slot();
  void recompute(size_t w);

  static constexpr size_t kNoSlot = static_cast<size_t>(-1);

  size_t R_, T_;
  std::vector<double> capacity_, headroom_;
  PackStrategy strategy_;
  double risk_;
  int candidates_;
  int64_t max_workers_;
  int64_t scan_limit_;
  std::vector<float> eff_;
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
  std::vector<std::vector<size_t>> members_;  // worker -> slots in member order
  ShapeSummary ss_;
  std::vector<float> np_;
};

}  // namespace pyshape
