// Exact re-pack by depth-first search with forward checking (see repack.hpp).
#include "pack/repack.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace pyshape {

namespace {

// s[k] <= slack[k] for every k (as the local search tests a fit); adds the
// values compared (up to the first block of 8 that fails) to *work
bool fits_all(const double* s, const double* slack, size_t n, uint64_t* work) {
  size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    int bad = 0;
    for (size_t j = 0; j < 8; ++j) bad |= s[k + j] > slack[k + j];
    if (bad) {
      *work += k + 8;
      return false;
    }
  }
  *work += n;
  for (; k < n; ++k)
    if (s[k] > slack[k]) return false;
  return true;
}

int popcount64(uint64_t x) { return __builtin_popcountll(x); }

class Dfs {
 public:
  Dfs(const double* const* shapes, size_t n, size_t RT, const double* slack, size_t k, uint64_t max_nodes,
      uint64_t max_work)
      : S_(shapes), n_(n), RT_(RT), k_(k), max_nodes_(max_nodes), max_work_(max_work), slack_(slack, slack + k * RT) {
    ssum_.assign(k, 0.0);
    for (size_t b = 0; b < k; ++b)
      for (size_t q = 0; q < RT; ++q) ssum_[b] += slack_[b * RT + q];
    vol_.assign(n, 0.0);
    for (size_t i = 0; i < n; ++i)
      for (size_t q = 0; q < RT; ++q) vol_[i] += S_[i][q];
    // interchangeable workers: bitwise identical initial slack
    cls_.assign(k, -1);
    for (size_t b = 0; b < k; ++b) {
      if (cls_[b] >= 0) continue;
      cls_[b] = static_cast<int>(members_.size());
      members_.push_back({static_cast<int>(b)});
      for (size_t c = b + 1; c < k; ++c)
        if (cls_[c] < 0 && std::memcmp(&slack_[b * RT], &slack_[c * RT], RT * sizeof(double)) == 0) {
          cls_[c] = cls_[b];
          members_.back().push_back(static_cast<int>(c));
        }
    }
    opened_.assign(members_.size(), 0);
    allowed_ = 0;
    for (const auto& m : members_) allowed_ |= uint64_t{1} << m[0];
    used_.assign(k, 0);
    mask_.assign(n, 0);
    placed_.assign(n, 0);
    where_.assign(n, -1);
  }

  RepackStatus run(int* where) {
    // root: the total demand within the summed slack at every (resource, step)
    for (size_t q = 0; q < RT_; ++q) {
      double d = 0, s = 0;
      for (size_t i = 0; i < n_; ++i) d += S_[i][q];
      for (size_t b = 0; b < k_; ++b) s += slack_[b * RT_ + q];
      if (d > s + 1e-9 * std::max(1.0, std::abs(s))) return RepackStatus::kInfeasible;
    }
    work_ += n_ * RT_;
    for (size_t i = 0; i < n_; ++i) {
      for (size_t b = 0; b < k_; ++b) {
        if (fits_all(S_[i], &slack_[b * RT_], RT_, &work_)) mask_[i] |= uint64_t{1} << b;
      }
      if (mask_[i] == 0) return RepackStatus::kInfeasible;
    }
    const bool ok = go(0);
    if (ok) {
      std::copy(where_.begin(), where_.end(), where);
      return RepackStatus::kFound;
    }
    return out_of_budget_ ? RepackStatus::kBudget : RepackStatus::kInfeasible;
  }

  uint64_t nodes() const { return nodes_; }
  uint64_t work() const { return work_; }

 private:
  bool go(size_t depth) {
    if (depth == n_) return true;
    // fail first: the unplaced shape with the fewest workers left (ties: the first, i.e. the larger)
    int pick = -1, best = 65;
    for (size_t i = 0; i < n_; ++i) {
      if (placed_[i]) continue;
      const int c = popcount64(mask_[i] & allowed_);
      if (c < best) {
        best = c;
        pick = static_cast<int>(i);
        if (c <= 1) break;
      }
    }
    if (best == 0) return false;
    // its workers, the fullest (least slack) first
    int cand[kRepackMaxWorkers];
    int nc = 0;
    for (uint64_t m = mask_[pick] & allowed_; m; m &= m - 1) cand[nc++] = __builtin_ctzll(m);
    std::stable_sort(cand, cand + nc, [&](int a, int b) { return ssum_[a] < ssum_[b]; });
    const double* s = S_[pick];
    placed_[pick] = 1;
    for (int c = 0; c < nc; ++c) {
      if (++nodes_ > max_nodes_ || work_ > max_work_) {
        out_of_budget_ = true;
        break;
      }
      const int b = cand[c];
      work_ += 2 * RT_;  // the slack update and its undo
      double* sl = &slack_[static_cast<size_t>(b) * RT_];
      for (size_t q = 0; q < RT_; ++q) sl[q] -= s[q];
      ssum_[b] -= vol_[pick];
      const bool opened = !used_[b];
      if (opened) open(b);
      // forward check: shapes that still had b, against b's new slack
      const size_t mark = trail_.size();
      bool dead = false;
      const uint64_t bit = uint64_t{1} << b;
      for (size_t j = 0; j < n_ && !dead; ++j) {
        if (placed_[j] || !(mask_[j] & bit)) continue;
        if (!fits_all(S_[j], sl, RT_, &work_)) {
          mask_[j] &= ~bit;
          trail_.push_back(static_cast<int>(j));
          dead = (mask_[j] & allowed_) == 0;
        }
      }
      where_[pick] = b;
      if (!dead && go(depth + 1)) return true;
      for (size_t t = mark; t < trail_.size(); ++t) mask_[trail_[t]] |= bit;
      trail_.resize(mark);
      if (opened) close(b);
      for (size_t q = 0; q < RT_; ++q) sl[q] += s[q];
      ssum_[b] += vol_[pick];
      if (out_of_budget_) break;
    }
    placed_[pick] = 0;
    where_[pick] = -1;
    return false;
  }

  // b, the first unused worker of its class, gets its first shape: the next of the class becomes allowed
  void open(int b) {
    used_[b] = 1;
    const int c = cls_[b];
    const size_t nxt = static_cast<size_t>(++opened_[c]);
    if (nxt < members_[c].size()) allowed_ |= uint64_t{1} << members_[c][nxt];
  }
  void close(int b) {
    used_[b] = 0;
    const int c = cls_[b];
    const size_t nxt = static_cast<size_t>(opened_[c]--);
    if (nxt < members_[c].size()) allowed_ &= ~(uint64_t{1} << members_[c][nxt]);
  }

  const double* const* S_;
  size_t n_, RT_, k_;
  uint64_t max_nodes_, max_work_, nodes_ = 0, work_ = 0;
  bool out_of_budget_ = false;
  std::vector<double> slack_, ssum_, vol_;
  std::vector<int> cls_, opened_;
  std::vector<std::vector<int>> members_;
  uint64_t allowed_ = 0;
  std::vector<char> used_, placed_;
  std::vector<uint64_t> mask_;
  std::vector<int> where_, trail_;
};

}  // namespace

RepackResult repack_exact(const double* const* shapes, size_t n, size_t RT, const double* slack, size_t k,
                          uint64_t max_nodes, uint64_t max_work, int* where) {
  RepackResult res;
  if (k > kRepackMaxWorkers)
    throw std::invalid_argument("repack_exact: at most " + std::to_string(kRepackMaxWorkers) + " workers, got " +
                                std::to_string(k));
  if (n == 0) {
    res.status = RepackStatus::kFound;
    return res;
  }
  if (k == 0) {
    res.status = RepackStatus::kInfeasible;
    return res;
  }
  Dfs dfs(shapes, n, RT, slack, k, max_nodes, max_work);
  res.status = dfs.run(where);
  res.nodes = dfs.nodes();
  res.work = dfs.work();
  return res;
}

RepackResult repack_exact_empty(const float* D, size_t n, size_t RT, const float* capk, size_t k,
                                uint64_t max_nodes, uint64_t max_work, int* where) {
  std::vector<double> S(n * RT);
  for (size_t i = 0; i < n * RT; ++i) S[i] = D[i];
  std::vector<const double*> ptr(n);
  for (size_t i = 0; i < n; ++i) ptr[i] = S.data() + i * RT;
  std::vector<double> slack(k * RT);
  for (size_t b = 0; b < k; ++b)
    for (size_t q = 0; q < RT; ++q) slack[b * RT + q] = capk[q];
  return repack_exact(ptr.data(), n, RT, slack.data(), k, max_nodes, max_work, where);
}

}  // namespace pyshape
