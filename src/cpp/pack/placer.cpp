// Online Placer and its snapshot format.
//
// Snapshot, version 2 (all integers and floats little-endian):
//   8 bytes  magic "PYSHPLC\0"
//   u32      version (2; version 1 is read too: no scan_limit, taken as 0)
//   u32 R, u32 T, i32 strategy, i32 candidates, i64 max_workers, f64 risk
//   i64      scan_limit (version 2 only)
//   f64[R]   capacity, f64[R] headroom
//   u64      number of workers W
//   per worker: u64 members m, then per member: u32 key length, key bytes,
//               f32[R*T] shape
//   u64      FNV-1a 64 hash of every byte before it
#include "pack/placer.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace pyshape {

namespace {

constexpr char kMagic[8] = {'P', 'Y', 'S', 'H', 'P', 'L', 'C', '\0'};
constexpr uint32_t kVersion = 2;

uint64_t fnv1a(const char* p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(p[i]);
    h *= 1099511628211ull;
  }
  return h;
}

template <class V>
void put(std::string& out, V v) {
  static_assert(std::is_trivially_copyable<V>::value, "pod");
  char b[sizeof(V)];
  std::memcpy(b, &v, sizeof(V));  // x86 / arm64: little-endian
  out.append(b, sizeof(V));
}

struct Reader {
  const std::string& s;
  size_t pos = 0;
  void need(size_t n) {
    if (n > s.size() - pos) throw std::invalid_argument("snapshot is truncated");
  }
  template <class V>
  V get() {
    need(sizeof(V));
    V v;
    std::memcpy(&v, s.data() + pos, sizeof(V));
    pos += sizeof(V);
    return v;
  }
  const char* bytes(size_t n) {
    need(n);
    const char* p = s.data() + pos;
    pos += n;
    return p;
  }
};

// dst[i] = src[i] for i < n with non-temporal stores where possible: the
// pool copy of a shape is read again only by remove() and snapshot(), so
// place() should neither wait for its cache lines nor evict the loads it works
// on to hold it.
void stream_copy(float* dst, const float* src, size_t n) {
#if defined(__SSE2__)
  size_t i = 0;
  for (; i < n && (reinterpret_cast<uintptr_t>(dst + i) & 15u) != 0; ++i) dst[i] = src[i];
  for (; i + 4 <= n; i += 4) _mm_stream_ps(dst + i, _mm_loadu_ps(src + i));
  for (; i < n; ++i) dst[i] = src[i];
  _mm_sfence();  // the stores are visible before anything reads the slot
#else
  std::memcpy(dst, src, n * sizeof(float));
#endif
}

}  // namespace

std::vector<float> Placer::effective(size_t R, const double* capacity, const double* headroom) {
  std::vector<float> e(R);
  for (size_t r = 0; r < R; ++r) {
    if (!(capacity[r] > 0) || !std::isfinite(capacity[r]))
      throw std::invalid_argument("capacity must be positive and finite");
    if (!(headroom[r] >= 0 && headroom[r] < 1)) throw std::invalid_argument("headroom must be in [0, 1)");
    e[r] = static_cast<float>(capacity[r] * (1.0 - headroom[r]));
  }
  return e;
}

Placer::Placer(const PackKernels& kernels, size_t R, size_t T, const double* capacity, const double* headroom,
               PackStrategy strategy, double risk, int candidates, int64_t max_workers, int64_t scan_limit)
    : R_(R),
      T_(T),
      capacity_(capacity, capacity + R),
      headroom_(headroom, headroom + R),
      strategy_(strategy),
      risk_(risk),
      candidates_(candidates),
      max_workers_(max_workers),
      scan_limit_(scan_limit),
      eff_(effective(R, capacity, headroom)),
      fleet_(kernels, R, T, eff_.data(), risk),
      // about 4 MiB per chunk (at most 4096 slots): a new chunk costs ~1 ms of
      // page faults once per that many places, so it stays out of the p99
      chunk_slots_(std::clamp<size_t>((size_t{4} << 20) / (sizeof(float) * std::max<size_t>(1, R * T)), 1, 4096)),
      np_(R) {
  if (R == 0 || T == 0) throw std::invalid_argument("R and T must be at least 1");
  if (!(risk >= 0 && risk < 1)) throw std::invalid_argument("risk must be in [0, 1)");
  if (scan_limit < 0) throw std::invalid_argument("scan_limit must be non-negative");
}

void Placer::check_shape(const float* s, const ShapeSummary& ss) const {
  // From the summaries alone (no pass over the shape of its own): the double
  // volume is finite exactly when every value is (finite floats cannot
  // overflow it), and with finite values the block minima tell a negative one
  // and the block maxima give the peak. Only a bad shape is read again, to
  // name the problem.
  const size_t B = fleet_.blocks();
  for (size_t r = 0; r < R_; ++r) {
    const float* mx = ss.bmax.data() + r * B;
    const float* mn = ss.bmin.data() + r * B;
    float peak = mx[0], low = mn[0];
    for (size_t b = 1; b < B; ++b) {
      peak = mx[b] > peak ? mx[b] : peak;
      low = mn[b] < low ? mn[b] : low;
    }
    if (std::isfinite(ss.vol[r]) && low >= 0.f && !(peak > eff_[r])) continue;
    const float* x = s + r * T_;
    for (size_t t = 0; t < T_; ++t) {
      float v = x[t];
      if (!std::isfinite(v)) throw std::invalid_argument("shape has a NaN or infinite value");
      if (v < 0) throw std::invalid_argument("shape has a negative value");
    }
    throw ShapeTooLarge("shape peak " + std::to_string(peak) + " exceeds the effective capacity " +
                        std::to_string(eff_[r]) + " of resource " + std::to_string(r));
  }
}

size_t Placer::alloc_slot() {
  if (!free_.empty()) {
    size_t s = free_.back();
    free_.pop_back();
    return s;
  }
  size_t s = slot_key_.size();
  if (s == pool_.size() * chunk_slots_) pool_.emplace_back(chunk_slots_ * R_ * T_, 0.f);
  slot_key_.emplace_back();
  slot_worker_.push_back(-1);
  return s;
}

int64_t Placer::place(const std::string& key, const float* shape) {
  // One hash lookup for both the duplicate test and the insertion; the entry
  // is taken out again if anything below throws.
  auto ins = index_.try_emplace(key, kNoSlot);
  if (!ins.second) throw DuplicateId("id is already placed");
  struct Undo {
    std::unordered_map<std::string, size_t>& index;
    std::unordered_map<std::string, size_t>::iterator it;
    bool armed = true;
    ~Undo() {
      if (armed) index.erase(it);
    }
  } undo{index_, ins.first};
  fleet_.summarize(shape, ss_);
  check_shape(shape, ss_);
  bool cut = false;
  int64_t w = fleet_.choose(shape, ss_, strategy_, candidates_, static_cast<size_t>(scan_limit_),
                            scan_limit_ > 0, &cut);
  if (w < 0 && cut && max_workers_ > 0 && static_cast<int64_t>(fleet_.size()) >= max_workers_)
    w = fleet_.choose(shape, ss_, strategy_, candidates_, 0, true, nullptr);  // full: look at all
  if (w < 0) {
    if (max_workers_ > 0 && static_cast<int64_t>(fleet_.size()) >= max_workers_)
      throw FleetFull("no open worker can take the shape and max_workers=" + std::to_string(max_workers_) +
                      " are open");
    w = static_cast<int64_t>(fleet_.open());
    members_.emplace_back();
  }
  // from here on nothing throws except allocation failure
  size_t slot = alloc_slot();
  stream_copy(slot_data(slot), shape, R_ * T_);
  slot_key_[slot] = key;
  slot_worker_[slot] = w;
  members_[w].push_back(slot);
  ins.first->second = slot;
  undo.armed = false;
  fleet_.add(static_cast<size_t>(w), shape, ss_);  // the shape as stored, read from the cached input
  return w;
}

void Placer::recompute(size_t w) {
  std::vector<float> load(R_ * T_, 0.f);
  std::vector<double> vol(R_, 0.0);
  const PackKernels& k = fleet_.kernels();
  for (size_t slot : members_[w]) {
    const float* s = slot_data(slot);
    k.add(load.data(), s, R_ * T_);
    for (size_t r = 0; r < R_; ++r) vol[r] += Fleet::volume_of(s + r * T_, T_);  // as summarize()
  }
  fleet_.set_load(w, load.data(), vol.data());
}

int64_t Placer::remove(const std::string& key) {
  auto it = index_.find(key);
  if (it == index_.end()) throw UnknownId("id is not placed");
  size_t slot = it->second;
  int64_t w = slot_worker_[slot];
  auto& m = members_[w];
  for (size_t k = 0; k < m.size(); ++k)
    if (m[k] == slot) {
      m.erase(m.begin() + static_cast<std::ptrdiff_t>(k));
      break;
    }
  index_.erase(it);
  slot_key_[slot].clear();
  slot_worker_[slot] = -1;
  free_.push_back(slot);
  recompute(static_cast<size_t>(w));
  return w;
}

int64_t Placer::worker_of(const std::string& key) const {
  auto it = index_.find(key);
  return it == index_.end() ? -1 : slot_worker_[it->second];
}

std::vector<std::string> Placer::members(size_t w) const {
  std::vector<std::string> out;
  for (size_t slot : members_[w]) out.push_back(slot_key_[slot]);
  return out;
}

std::string Placer::snapshot() const {
  std::string out;
  out.append(kMagic, 8);
  put<uint32_t>(out, kVersion);
  put<uint32_t>(out, static_cast<uint32_t>(R_));
  put<uint32_t>(out, static_cast<uint32_t>(T_));
  put<int32_t>(out, static_cast<int32_t>(strategy_));
  put<int32_t>(out, candidates_);
  put<int64_t>(out, max_workers_);
  put<double>(out, risk_);
  put<int64_t>(out, scan_limit_);
  for (double c : capacity_) put<double>(out, c);
  for (double h : headroom_) put<double>(out, h);
  put<uint64_t>(out, fleet_.size());
  for (size_t w = 0; w < fleet_.size(); ++w) {
    put<uint64_t>(out, members_[w].size());
    for (size_t slot : members_[w]) {
      const std::string& key = slot_key_[slot];
      put<uint32_t>(out, static_cast<uint32_t>(key.size()));
      out.append(key);
      out.append(reinterpret_cast<const char*>(slot_data(slot)), R_ * T_ * sizeof(float));
    }
  }
  put<uint64_t>(out, fnv1a(out.data(), out.size()));
  return out;
}

Placer Placer::restore(const PackKernels& kernels, const std::string& bytes) {
  if (bytes.size() < 8 + 8 || std::memcmp(bytes.data(), kMagic, 8) != 0)
    throw std::invalid_argument("not a pyshape Placer snapshot (bad magic)");
  uint64_t stored;
  std::memcpy(&stored, bytes.data() + bytes.size() - 8, 8);
  if (stored != fnv1a(bytes.data(), bytes.size() - 8))
    throw std::invalid_argument("snapshot checksum mismatch (corrupt or truncated)");
  const std::string body = bytes.substr(0, bytes.size() - 8);
  Reader rd{body, 8};
  uint32_t version = rd.get<uint32_t>();
  if (version != 1 && version != kVersion)
    throw std::invalid_argument("unsupported snapshot version " + std::to_string(version));
  size_t R = rd.get<uint32_t>(), T = rd.get<uint32_t>();
  int32_t strat = rd.get<int32_t>();
  int32_t cand = rd.get<int32_t>();
  int64_t maxw = rd.get<int64_t>();
  double risk = rd.get<double>();
  int64_t scan_limit = version >= 2 ? rd.get<int64_t>() : 0;
  if (scan_limit < 0) throw std::invalid_argument("snapshot header is invalid");
  if (R == 0 || T == 0 || R > 1024 || strat < 0 || strat > 2) throw std::invalid_argument("snapshot header is invalid");
  std::vector<double> cap(R), head(R);
  for (auto& c : cap) c = rd.get<double>();
  for (auto& h : head) h = rd.get<double>();
  Placer p(kernels, R, T, cap.data(), head.data(), static_cast<PackStrategy>(strat), risk, cand, maxw, scan_limit);
  uint64_t W = rd.get<uint64_t>();
  std::vector<float> shape(R * T);
  for (uint64_t w = 0; w < W; ++w) {
    p.fleet_.open();
    p.members_.emplace_back();
    uint64_t m = rd.get<uint64_t>();
    for (uint64_t k = 0; k < m; ++k) {
      uint32_t len = rd.get<uint32_t>();
      std::string key(rd.bytes(len), len);
      std::memcpy(shape.data(), rd.bytes(R * T * sizeof(float)), R * T * sizeof(float));
      if (p.index_.count(key)) throw std::invalid_argument("snapshot holds a duplicate id");
      size_t slot = p.alloc_slot();
      std::memcpy(p.slot_data(slot), shape.data(), R * T * sizeof(float));
      p.slot_key_[slot] = key;
      p.slot_worker_[slot] = static_cast<int64_t>(w);
      p.members_[w].push_back(slot);
      p.index_.emplace(key, slot);
      p.fleet_.summarize(shape.data(), p.ss_);
      p.fleet_.add(static_cast<size_t>(w), p.slot_data(slot), p.ss_);
    }
  }
  if (rd.pos != body.size()) throw std::invalid_argument("snapshot has trailing bytes");
  return p;
}

}  // namespace pyshape
