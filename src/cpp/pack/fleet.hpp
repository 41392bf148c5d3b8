// A fleet of workers with time-varying loads, the state shared by batch
// packing (pack.cpp) and the online Placer (placer.cpp).
//
// Every worker w keeps its own capacity cap_w[r] (heterogeneous fleets: its
// worker type's; by default the fleet's), its load L_w[r, t] (float32, R x T),
// per-resource peaks and volumes (sum over t), and block summaries: for B blocks of blk
// consecutive steps, the max and min of L_w over each block. A shape s fits
// on w when L_w[r, t] + s[r, t] <= cap_w[r] for every r and t (risk budget 0),
// or when the steps t at which some resource is over capacity number at most
// floor(risk * T).
//
// Candidate pruning (exact fit only). For every block b, fitting requires
//   max_b(s) + min_b(L_w) <= cap   and   min_b(s) + max_b(L_w) <= cap
// (take the step where s, resp. L_w, is largest in the block). Per worker
// (the leaves of lo_/hi_; inner tree nodes are no longer used) the largest
// cap - min_b(L_w) and cap - max_b(L_w) are kept per (r, b); a scan tests
// them only for workers that pass the witness test below, and the full SIMD
// check (max_sum, with early exit) runs only on those that pass both. The
// bounds are loosened by 1e-6 of capacity so that float rounding never prunes
// a worker
// that fits; pruning only saves work and never changes which worker is chosen.
//
// Witness test (exact fit only). When the exact check of a shape on w fails,
// the first step (r, t) where L_w + s is over capacity is remembered as w's
// witness. The next scan tests that single step first: L_w[r, t] + s[r, t] >
// cap[r] proves that s cannot fit on w, whatever the other steps. Loads that
// are full somewhere stay full there (a peak of the load), so on a fleet of
// nearly full workers most candidates are rejected by one comparison instead
// of a block filter and an exact check. Two witnesses are kept per worker
// (the newest and the one before), so a worker bound by two resources, or by
// two peaks, is still rejected by comparisons. Like the tree, the witness is a
// necessary condition only: it never changes which worker is chosen.
//
// Bounded scan (online use). choose() can stop after examining scan_limit
// workers that pass the tree filter (witness rejections count), and can visit
// workers newest-first; the Placer uses both to bound its latency (see
// placer.hpp). Batch packing uses neither. Both directions test the witnesses
// a SIMD vector of workers per gather (witness_next, witness_last).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/pack_table.hpp"

namespace pyshape {

enum class PackStrategy : int { kFirstFit = 0, kBestFit = 1, kComplement = 2 };

// Scores of one shape against some workers (Fleet::score), each output
// optional (nullptr: not computed). Per candidate k and resource r at
// [k * R + r]; capacities are each worker's own effective ones (cap(w)).
struct ScoreOut {
  double* new_peak = nullptr;     // max_t (L + s)[r, t] / cap[r]
  double* peak_rise = nullptr;    // (max_t (L + s)[r, t] - max_t L[r, t]) / cap[r]
  double* covariance = nullptr;   // (sum_t L s - sum_t L sum_t s / T) / T
  double* correlation = nullptr;  // covariance / (sd(L) sd(s)); 0 when either is constant
  int64_t* steps_over = nullptr;  // [k]: steps t where (L + s)[r, t] > threshold * cap[r] for some r
  uint8_t* fits = nullptr;        // [k]: 1 when s passes the fit rule on the worker (as choose() tests it)
};

// Summaries of one shape (R x T floats, contiguous).
struct ShapeSummary {
  std::vector<float> bmax, bmin;  // R * B
  std::vector<double> vol;        // R: sum over t
};

class Fleet {
 public:
  static constexpr size_t kMaxBlocks = 32;
  // Values per shape (R * T) at most: witness steps r * T + t are 32-bit and
  // the SIMD gathers read them as signed offsets.
  static constexpr size_t kMaxValues = 0x7fffffff;

  // kernels: the SIMD level's placement kernels, fixed for the fleet's life
  // (every level gives bit-identical results). Throws std::invalid_argument
  // when R or T is 0 or R * T > kMaxValues.
  Fleet(const PackKernels& kernels, size_t R, size_t T, const float* cap, double risk);
  // The same checks, without a fleet; returns R.
  static size_t check_dims(size_t R, size_t T);

  size_t R() const { return R_; }
  size_t T() const { return T_; }
  size_t size() const { return W_; }
  size_t blocks() const { return B_; }  // blocks per resource in a ShapeSummary
  const float* cap() const { return cap_.data(); }  // the fleet's capacity (new workers' default)
  const float* cap(size_t w) const { return wcap_.data() + w * R_; }  // worker w's own
  size_t allowed_over() const { return allowed_; }
  const PackKernels& kernels() const { return k_; }

  void summarize(const float* s, ShapeSummary& out) const;
  // sum_t x[t] in double, 8 interleaved partial sums added in a fixed order
  // (deterministic; 8 independent chains instead of one long one).
  static double volume_of(const float* x, size_t n);

  // Opens a new empty worker and returns its index. cap (R floats): the
  // worker's own capacity (heterogeneous fleets); nullptr: the fleet's.
  size_t open(const float* cap = nullptr);
  // Room for W workers without reallocating (W * R * T floats of loads).
  void reserve(size_t W);
  // Exact fit check of s on w. On success writes max_t(L_w + s) per resource
  // to newpeak (R floats).
  bool fits(size_t w, const float* s, float* newpeak);
  // L_w += s (ss must be summarize(s)).
  void add(size_t w, const float* s, const ShapeSummary& ss);
  // Replaces L_w (R x T floats) and its volumes (R doubles).
  void set_load(size_t w, const float* load, const double* vol);
  // Sets L_w to zero.
  void clear(size_t w);
  // L_w[r, (p0 + j) mod T] = vals[r * k + j] for j < k <= T, volumes to vol
  // (R doubles); refreshes only the blocks that hold those steps, then the
  // peaks, witness values and leaf of w: O(R (k + blk + B)).
  void set_steps(size_t w, size_t p0, size_t k, const float* vals, const double* vol);
  // Scores of s (R x T; ss = summarize(s)) on the n workers ws (each <
  // size()), threshold > 0 (a fraction of cap); see fleet_score.cpp. Reads
  // L only (and fills the lazily kept sums of the loads): witnesses, the
  // tree and the loads are unchanged. O(n R T) with covariances; without,
  // the block summaries leave out most of each load.
  void score(const float* s, const ShapeSummary& ss, const size_t* ws, size_t n, double threshold,
             const ScoreOut& out);
  // Whether L_w breaks the fit rule (some step over cap; with a risk budget,
  // more than allowed_over() such steps).
  bool over(size_t w) const;
  // Recomputes w's block summaries, peaks, witness values and leaf from L_w
  // and compares them bitwise with those kept: "" when equal, else what differs.
  std::string check(size_t w) const;
  // A disabled worker is skipped by scans (choose()).
  void set_enabled(size_t w, bool on);
  bool enabled(size_t w) const { return enabled_[w] != 0; }

  const float* load(size_t w) const { return load_.data() + w * R_ * T_; }
  const double* volume(size_t w) const { return vol_.data() + w * R_; }
  float peak(size_t w, size_t r) const { return peak_[w * R_ + r]; }

  // The worker chosen for s by a strategy among enabled workers, or -1 when
  // none fits. first_fit: the first in index order; best_fit: the fullest
  // (largest sum_r volume_r / cap_r), ties to the lower index; complement:
  // among the first `candidates` workers that fit (in index order), the one
  // whose peak rises least (sum_r rise_r / cap_r), ties (within 1e-6) to
  // the most anti-correlated load (smallest sum_r cov(L_r, s_r) / cap_r^2),
  // then the lower index.
  //
  // scan_limit > 0: examine at most that many workers (those that pass the
  // tree filter, in scan order) and return the best found among them;
  // *truncated (when given) tells whether the limit cut the scan short.
  // newest_first: visit workers in decreasing index order.
  int64_t choose(const float* s, const ShapeSummary& ss, PackStrategy strategy, int candidates,
                 size_t scan_limit = 0, bool newest_first = false, bool* truncated = nullptr);

  // Statistics since construction (for benchmarks).
  uint64_t full_checks() const { return full_checks_; }
  uint64_t witness_rejects() const { return witness_rejects_; }
  uint64_t leaves_examined() const { return leaves_examined_; }

 private:
  template <class F>
  bool scan(const float* s, const ShapeSummary& ss, size_t limit, bool newest_first, F&& f);
  bool witness_rejects(size_t w, const float* s) const {
    return wit_val_[w] + s[wit_[w]] > wit_cap_[w] || wit2_val_[w] + s[wit2_[w]] > wit2_cap_[w];
  }
  void set_witness(size_t w, const float* s);  // s does not fit on w: remember a step that shows it
  bool witness2_rejects(size_t w, const float* s) const { return wit2_val_[w] + s[wit2_[w]] > wit2_cap_[w]; }
  bool node_passes(size_t node, const ShapeSummary& ss) const {
    const float* lo = lo_.data() + node * RB_;
    const float* hi = hi_.data() + node * RB_;
    const float* smax = ss.bmax.data();
    const float* smin = ss.bmin.data();
    bool ok = true;
    for (size_t k = 0; k < RB_; ++k) ok &= (smax[k] <= lo[k]) & (smin[k] <= hi[k]);
    return ok;
  }
  void refresh(size_t w);         // summaries, peak and tree leaf of w from L_w
  void blocks_changed(size_t w);  // peak, witness values and tree leaf of w from its block summaries
  void set_leaf(size_t w);
  void grow_tree();
  // The complement tie-break sum_r cov(L_w[r], s[r]) / cap_r^2 of the nw
  // workers ws, to out; their dot products are computed side by side.
  void anti_scores(const size_t* ws, size_t nw, const float* s, const ShapeSummary& ss, double* out);

  size_t R_, T_, B_, blk_, RB_;
  std::vector<float> cap_;
  // per worker (R each): capacity and the pruning tolerance 1e-6 * capacity.
  // Every worker's fit test, leaf, witness and score reads its own; with one
  // capacity for all they are the fleet's, so plans are unchanged.
  std::vector<float> wcap_, wtol_;
  size_t allowed_;
  bool exact_;
  const PackKernels& k_;
  size_t W_ = 0;
  std::vector<float> load_, bmax_, bmin_, peak_;
  std::vector<double> vol_;
  std::vector<char> enabled_;
  size_t n_disabled_ = 0;
  std::vector<uint32_t> wit_;  // witness step per worker: r * T + t
  std::vector<float> wit_val_;   // L_w at the witness step (kept in step with load_)
  std::vector<float> wit_cap_;   // cap of the witness resource
  // a second, older witness (the previous first one), tested after the first
  std::vector<uint32_t> wit2_;
  std::vector<float> wit2_val_, wit2_cap_;
  size_t leaves_ = 0;
  std::vector<float> lo_, hi_;  // tree nodes (1-based heap), RB_ floats each
  std::vector<uint8_t> flags_;  // risk mode scratch, T bytes
  std::vector<float> np_;       // scratch: new peaks
  // sum_t L_w[r, t]^2 per (w, r), computed by score() when first needed
  // (dot_fd) and dropped whenever L_w changes (blocks_changed)
  std::vector<double> sq_, sum_;  // and sum_t L_w[r, t] (dot_fd with ones)
  std::vector<char> sq_ok_;
  std::vector<double> sd_;      // score(): s as doubles
  std::vector<uint64_t> over_;  // score(): per-step bits
  std::vector<uint64_t> bits_;  // score(): per-block bits of a group of candidates (fleet_score.cpp)
  std::vector<float> up_;       // score(): their per-block upper bounds and limits
  std::vector<const float*> dot_a_, dot_b_;  // scratch of anti_scores
  std::vector<double> dot_out_;
  uint64_t full_checks_ = 0;
  uint64_t witness_rejects_ = 0;
  uint64_t leaves_examined_ = 0;
};

}  // namespace pyshape
