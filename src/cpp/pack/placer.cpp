// Online Placer and its snapshot format.
//
// Snapshot, version 3 (all integers and floats little-endian; version 4, written
// by a Placer with worker types, adds the lines marked v4):
//   8 bytes  magic "PYSHPLC\0"
//   u32      version (3; versions 1 and 2 are read too: v1 has no
//            scan_limit (taken as 0); v1 and v2 have no ring offset, over
//            flags or volumes (offset 0, no worker over, volumes computed))
//   u32 R, u32 T, i32 strategy, i32 candidates, i64 max_workers, f64 risk
//   i64      scan_limit (version >= 2)
//   f64[R]   capacity, f64[R] headroom
//   u32      ring offset (head(), < T) (version >= 3)
//   v4: u32 number of types, then per type: u32 name length, name bytes,
//       f64[R] capacity, f64 cost (capacity above is the types' largest)
//   u64      number of workers W
//   per worker: u8 over (version >= 3: 1 when the load breaks the fit rule,
//               which only update() and advance() can cause), v4: u32 type,
//               u64 members m,
//               then per member: u32 key length, key bytes, f32[R*T] shape
//               (logical order: step 0 the oldest), f64[R] volumes (version >= 3)
//   u64      FNV-1a 64 hash of every byte before it
// A worker flagged over must be over (and only it may hold a shape whose
// peak exceeds the capacity); one not flagged must be within capacity.
//
// A key is 's' + the id's UTF-8 bytes or 'i' + the id's decimal digits
// (canonical: str(int)). restore() accepts only what snapshot() can write
// (see placer.hpp); it reads the bytes twice: first their layout (counts and
// lengths against the bytes left, keys), allocating nothing that the header
// sizes, then the shapes, into the state.
#include "pack/placer.hpp"

#include "pack/types.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace pyshape {

namespace {

constexpr char kMagic[8] = {'P', 'Y', 'S', 'H', 'P', 'L', 'C', '\0'};
constexpr uint32_t kVersion = 3;
constexpr uint32_t kVersionTyped = 4;  // version 3 + worker types (written only by a typed Placer)

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
  const char* data;
  size_t size;
  size_t pos = 0;
  size_t left() const { return size - pos; }
  void need(size_t n) {
    if (n > left()) throw std::invalid_argument("snapshot is truncated");
  }
  template <class V>
  V get() {
    need(sizeof(V));
    V v;
    std::memcpy(&v, data + pos, sizeof(V));
    pos += sizeof(V);
    return v;
  }
  const char* bytes(size_t n) {
    need(n);
    const char* p = data + pos;
    pos += n;
    return p;
  }
};

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.9g", v);
  return b;
}

[[noreturn]] void bad_snapshot(const std::string& why) { throw std::invalid_argument("invalid snapshot: " + why); }

// Strict UTF-8 (what Python's str.encode('utf-8') writes): no overlong forms,
// no surrogates, nothing above U+10FFFF.
bool valid_utf8(const unsigned char* p, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (n - i < len) return false;
    if (p[i + 1] < lo || p[i + 1] > hi) return false;
    for (size_t k = 2; k < len; ++k)
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return false;
    i += len;
  }
  return true;
}

// A key as the bindings encode an id: 's' + UTF-8, or 'i' + str(int).
bool valid_key(const char* k, size_t n) {
  if (n == 0) return false;
  if (k[0] == 's') return valid_utf8(reinterpret_cast<const unsigned char*>(k + 1), n - 1);
  if (k[0] != 'i') return false;
  size_t i = 1;
  const bool neg = i < n && k[i] == '-';
  if (neg) ++i;
  if (i == n) return false;
  if (k[i] == '0') return i + 1 == n && !neg;  // "0"; not "-0" nor "01"
  for (; i < n; ++i)
    if (k[i] < '0' || k[i] > '9') return false;
  return true;
}

// Bytes of physical memory, or 0 when unknown.
uint64_t physical_memory() {
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page);
#endif
  return 0;
}

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

size_t Placer::check_dims(size_t R, size_t T) {
  Fleet::check_dims(R, T);
  if (R > kMaxResources)
    throw std::invalid_argument("a Placer takes at most " + std::to_string(kMaxResources) + " resources, got R = " +
                                std::to_string(R));
  return R;
}

std::vector<float> Placer::effective(size_t R, const double* capacity, const double* headroom) {
  std::vector<float> e(R);
  for (size_t r = 0; r < R; ++r) {
    if (!(capacity[r] > 0) || !std::isfinite(capacity[r]))
      throw std::invalid_argument("capacity must be positive and finite");
    if (!(headroom[r] >= 0 && headroom[r] < 1)) throw std::invalid_argument("headroom must be in [0, 1)");
    const double c = capacity[r] * (1.0 - headroom[r]);
    // loads are float32: the effective capacity must be a normal float32
    if (!(c >= std::numeric_limits<float>::min() && c <= std::numeric_limits<float>::max()))
      throw std::invalid_argument("effective capacity " + num(c) + " of resource " + std::to_string(r) +
                                  " (capacity * (1 - headroom)) is outside the float32 range [" +
                                  num(std::numeric_limits<float>::min()) + ", " +
                                  num(std::numeric_limits<float>::max()) + "]");
    e[r] = static_cast<float>(c);
  }
  return e;
}

Placer::Placer(const PackKernels& kernels, size_t R, size_t T, const double* capacity, const double* headroom,
               PackStrategy strategy, double risk, int candidates, int64_t max_workers, int64_t scan_limit)
    : R_(check_dims(R, T)),
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
  if (candidates < 0) throw std::invalid_argument("candidates must be non-negative");
  if (max_workers < 0) throw std::invalid_argument("max_workers must be non-negative (0: no limit)");
}

float Placer::load_key(size_t w) const {
  float k = 0.f;
  const float* c = fleet_.cap(w);  // the worker's own (its type's; eff_ without types)
  for (size_t r = 0; r < R_; ++r) k = std::max(k, fleet_.peak(w, r) / c[r]);
  return k;
}

void Placer::set_types(size_t n_types, const double* capacity, const double* cost, std::vector<std::string> names) {
  if (fleet_.size() > 0) throw std::invalid_argument("worker types are set before any worker opens");
  check_worker_types(n_types, R_, capacity, cost);
  if (names.size() != n_types) throw std::invalid_argument("worker types need one name per type");
  for (size_t r = 0; r < R_; ++r) {
    double mx = capacity[r];
    for (size_t t = 1; t < n_types; ++t) mx = std::max(mx, capacity[t * R_ + r]);
    if (mx != capacity_[r])
      throw std::invalid_argument("a typed placer's capacity must be the types' largest per resource");
  }
  std::vector<float> eff(n_types * R_);
  for (size_t t = 0; t < n_types; ++t) {
    const std::vector<float> e = effective(R_, capacity + t * R_, headroom_.data());
    std::copy(e.begin(), e.end(), eff.begin() + t * R_);
  }
  type_cap_.assign(capacity, capacity + n_types * R_);
  type_cost_.assign(cost, cost + n_types);
  type_eff_ = std::move(eff);
  type_names_ = std::move(names);
}

std::vector<float> Placer::peaks_of(const ShapeSummary& ss) const {
  const size_t B = fleet_.blocks();
  std::vector<float> p(R_);
  for (size_t r = 0; r < R_; ++r) p[r] = *std::max_element(ss.bmax.begin() + r * B, ss.bmax.begin() + (r + 1) * B);
  return p;
}

size_t Placer::open_worker(const ShapeSummary& ss) {
  if (type_cost_.empty()) return fleet_.open();
  const int t = cheapest_type(peaks_of(ss).data(), R_, type_eff_.data(), type_cost_.data(), type_cost_.size());
  if (t < 0) throw ShapeTooLarge("the shape fits no worker type");  // check_shape refused it already
  wtype_.reserve(fleet_.size() + 1);
  const size_t w = fleet_.open(type_eff_.data() + static_cast<size_t>(t) * R_);
  wtype_.push_back(t);
  return w;
}

void Placer::grow_keys(size_t n) {
  if (n <= key_leaves_) return;
  size_t leaves = std::max<size_t>(64, key_leaves_ * 2);
  while (leaves < n) leaves *= 2;
  std::vector<float> key(2 * leaves, std::numeric_limits<float>::infinity());
  const size_t W = fleet_.size();
  for (size_t w = 0; w < W; ++w) key[leaves + w] = load_key(w);
  for (size_t i = leaves - 1; i >= 1; --i) key[i] = std::min(key[2 * i], key[2 * i + 1]);
  key_.swap(key);
  key_leaves_ = leaves;
}

void Placer::update_key(size_t w) {
  size_t i = key_leaves_ + w;
  key_[i] = load_key(w);
  for (i >>= 1; i >= 1; i >>= 1) {
    const float m = std::min(key_[2 * i], key_[2 * i + 1]);
    if (m == key_[i]) break;  // the nodes above depend on this one only through its value
    key_[i] = m;
  }
}

size_t Placer::least_loaded() const {
  size_t i = 1;
  while (i < key_leaves_) i = key_[2 * i] <= key_[2 * i + 1] ? 2 * i : 2 * i + 1;
  return i - key_leaves_;
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
  // with types, within the largest per resource is not enough: one type must hold every resource's peak
  if (!type_cost_.empty() &&
      cheapest_type(peaks_of(ss).data(), R_, type_eff_.data(), type_cost_.data(), type_cost_.size()) < 0) {
    std::string p;
    for (float v : peaks_of(ss)) p += (p.empty() ? "" : ", ") + std::to_string(v);
    throw ShapeTooLarge("shape peaks [" + p + "] fit no worker type");
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
  slot_vol_.resize((s + 1) * R_, 0.0);
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
  shape = physical(shape);
  fleet_.summarize(shape, ss_);
  check_shape(shape, ss_);
  bool cut = false;
  int64_t w = fleet_.choose(shape, ss_, strategy_, candidates_, static_cast<size_t>(scan_limit_),
                            scan_limit_ > 0, &cut);
  if (w < 0 && cut) {
    // The bounded scan saw the newest scan_limit workers only: try the
    // least-loaded one of the whole fleet (an empty one when there is one)
    // unless the scan already rejected it.
    const size_t c = least_loaded();
    if (c + static_cast<size_t>(scan_limit_) < fleet_.size() && fleet_.fits(c, shape, np_.data()))
      w = static_cast<int64_t>(c);
  }
  if (w < 0 && cut && max_workers_ > 0 && static_cast<int64_t>(fleet_.size()) >= max_workers_)
    w = fleet_.choose(shape, ss_, strategy_, candidates_, 0, true, nullptr);  // full: look at all
  if (w < 0) {
    if (max_workers_ > 0 && static_cast<int64_t>(fleet_.size()) >= max_workers_)
      throw FleetFull("no open worker can take the shape and max_workers=" + std::to_string(max_workers_) +
                      " are open");
    grow_keys(fleet_.size() + 1);
    w = static_cast<int64_t>(open_worker(ss_));
    members_.emplace_back();
  }
  // from here on nothing throws except allocation failure
  size_t slot = alloc_slot();
  stream_copy(slot_data(slot), shape, R_ * T_);
  slot_key_[slot] = key;
  slot_worker_[slot] = w;
  std::memcpy(slot_vol_.data() + slot * R_, ss_.vol.data(), R_ * sizeof(double));
  members_[w].push_back(slot);
  ins.first->second = slot;
  undo.armed = false;
  fleet_.add(static_cast<size_t>(w), shape, ss_);  // the shape as stored, read from the cached input
  update_key(static_cast<size_t>(w));
  return w;
}

void Placer::recompute(size_t w) {
  std::vector<float> load(R_ * T_, 0.f);
  std::vector<double> vol(R_, 0.0);
  const PackKernels& k = fleet_.kernels();
  for (size_t slot : members_[w]) {
    const float* s = slot_data(slot);
    k.add(load.data(), s, R_ * T_);
    for (size_t r = 0; r < R_; ++r) vol[r] += slot_vol_[slot * R_ + r];
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
  update_key(static_cast<size_t>(w));
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

const float* Placer::physical(const float* shape) {
  if (head_ == 0) return shape;
  rot_.resize(R_ * T_);
  for (size_t r = 0; r < R_; ++r) {  // logical t -> (head + t) mod T
    const float* x = shape + r * T_;
    float* y = rot_.data() + r * T_;
    std::memcpy(y + head_, x, (T_ - head_) * sizeof(float));
    std::memcpy(y, x + (T_ - head_), head_ * sizeof(float));
  }
  return rot_.data();
}

void Placer::load_logical(size_t w, float* out) const {
  const float* L = fleet_.load(w);
  for (size_t r = 0; r < R_; ++r) {
    const float* x = L + r * T_;
    float* y = out + r * T_;
    std::memcpy(y, x + head_, (T_ - head_) * sizeof(float));
    std::memcpy(y + (T_ - head_), x, head_ * sizeof(float));
  }
}

void Placer::shape_of(const std::string& key, float* out) const {
  auto it = index_.find(key);
  if (it == index_.end()) throw UnknownId("id is not placed");
  const float* x0 = slot_data(it->second);
  for (size_t r = 0; r < R_; ++r) {
    const float* x = x0 + r * T_;
    float* y = out + r * T_;
    std::memcpy(y, x + head_, (T_ - head_) * sizeof(float));
    std::memcpy(y + (T_ - head_), x, head_ * sizeof(float));
  }
}

void Placer::check_values(const float* s) {
  fleet_.summarize(s, ss_);
  const size_t B = fleet_.blocks();
  for (size_t r = 0; r < R_; ++r) {
    float low = ss_.bmin[r * B];
    for (size_t b = 1; b < B; ++b) low = std::min(low, ss_.bmin[r * B + b]);
    if (std::isfinite(ss_.vol[r]) && low >= 0.f) continue;
    for (size_t t = 0; t < T_; ++t) {
      const float v = s[r * T_ + t];
      if (!std::isfinite(v)) throw std::invalid_argument("shape has a NaN or infinite value");
      if (v < 0) throw std::invalid_argument("shape has a negative value");
    }
  }
}

void Placer::rebuild_keys() {
  if (key_leaves_ == 0) return;
  const size_t W = fleet_.size();
  for (size_t w = 0; w < W; ++w) key_[key_leaves_ + w] = load_key(w);
  for (size_t i = key_leaves_ - 1; i >= 1; --i) key_[i] = std::min(key_[2 * i], key_[2 * i + 1]);
}

void Placer::score(const float* shape, const size_t* workers, size_t n, double threshold, const ScoreOut& out) {
  if (!(threshold > 0) || !std::isfinite(threshold))
    throw std::invalid_argument("threshold must be positive and finite (a fraction of the effective capacity)");
  const size_t W = fleet_.size();
  if (workers == nullptr) {
    all_.resize(W);
    for (size_t w = 0; w < W; ++w) all_[w] = w;
    workers = all_.data();
    n = W;
  }
  for (size_t k = 0; k < n; ++k)
    if (workers[k] >= W)
      throw std::out_of_range("worker " + std::to_string(workers[k]) + " out of range [0, " + std::to_string(W) + ")");
  const float* s = physical(shape);
  check_values(s);  // also summarizes s to ss_: score() reads its block summaries
  fleet_.score(s, ss_, workers, n, threshold, out);
}

bool Placer::update(const std::string& key, const float* shape) {
  auto it = index_.find(key);
  if (it == index_.end()) throw UnknownId("id is not placed");
  const size_t slot = it->second;
  const float* s = physical(shape);
  check_values(s);
  std::memcpy(slot_data(slot), s, R_ * T_ * sizeof(float));
  std::memcpy(slot_vol_.data() + slot * R_, ss_.vol.data(), R_ * sizeof(double));
  const size_t w = static_cast<size_t>(slot_worker_[slot]);
  recompute(w);
  update_key(w);
  return !fleet_.over(w);
}

std::vector<std::string> Placer::ids() const {
  std::vector<std::string> out;
  out.reserve(index_.size());
  for (const auto& m : members_)
    for (size_t slot : m) out.push_back(slot_key_[slot]);
  return out;
}

std::vector<size_t> Placer::overloaded() const {
  std::vector<size_t> out;
  for (size_t w = 0; w < fleet_.size(); ++w)
    if (fleet_.over(w)) out.push_back(w);
  return out;
}

std::vector<size_t> Placer::advance(size_t k, const std::vector<std::string>* keys, const float* values) {
  if (k < 1 || k > T_)
    throw std::invalid_argument("steps to advance must be in [1, T] = [1, " + std::to_string(T_) + "], got " +
                                std::to_string(k));
  const size_t n = index_.size(), Rk = R_ * k;
  // every check before anything changes
  for (size_t i = 0; i < n * Rk; ++i) {
    const float v = values[i];
    if (!(v >= 0.f) || !std::isfinite(v))
      throw std::invalid_argument(std::string("new steps: row ") + std::to_string(i / Rk) + " has a " +
                                  (v < 0.f ? "negative" : "NaN or infinite") + " value");
  }
  const bool keyed = keys != nullptr;
  if (keyed) {
    if (keys->size() != n)
      throw std::invalid_argument("new steps: " + std::to_string(keys->size()) + " ids for " + std::to_string(n) +
                                  " placed");
    row_of_.assign(slot_key_.size(), kNoSlot);
    for (size_t i = 0; i < n; ++i) {
      auto it = index_.find((*keys)[i]);
      if (it == index_.end()) throw std::invalid_argument("new steps: id of row " + std::to_string(i) + " is not placed");
      if (row_of_[it->second] != kNoSlot)
        throw std::invalid_argument("new steps: the id of row " + std::to_string(i) + " is given twice");
      row_of_[it->second] = i;
    }
  }
  std::vector<float> add(Rk);
  std::vector<double> vol(R_), d(R_);
  std::vector<size_t> over;
  over.reserve(fleet_.size());
  // from here on nothing throws
  size_t row = 0;
  // The shapes' and loads' new steps are a few cache lines each, far apart:
  // prefetched a few members (and the next worker's load rows) ahead.
  constexpr size_t kAhead = 6;
  auto prefetch_slot = [&](size_t slot) {
    const float* x = slot_data(slot);
    for (size_t r = 0; r < R_; ++r) __builtin_prefetch(x + r * T_ + head_, 1);
  };
  for (size_t w = 0; w < fleet_.size(); ++w) {
    const auto& m = members_[w];
    if (w + 1 < fleet_.size()) {
      const float* L = fleet_.load(w + 1);
      for (size_t r = 0; r < R_; ++r) __builtin_prefetch(L + r * T_ + head_, 1);
      const auto& m1 = members_[w + 1];
      for (size_t i = 0; i < m1.size() && i < kAhead; ++i) prefetch_slot(m1[i]);
    }
    if (m.empty()) continue;  // an empty load stays 0
    std::fill(add.begin(), add.end(), 0.f);
    std::fill(vol.begin(), vol.end(), 0.0);
    for (size_t i = 0; i < m.size(); ++i) {
      const size_t slot = m[i];
      if (i + kAhead < m.size()) prefetch_slot(m[i + kAhead]);
      const float* v = values + (keyed ? row_of_[slot] : row++) * Rk;
      float* x = slot_data(slot);
      for (size_t r = 0; r < R_; ++r) {
        double dr = 0;
        float* xr = x + r * T_;
        const float* vr = v + r * k;
        float* ar = add.data() + r * k;
        for (size_t j = 0; j < k; ++j) {
          size_t t = head_ + j;
          if (t >= T_) t -= T_;
          dr += static_cast<double>(vr[j]) - static_cast<double>(xr[t]);
          xr[t] = vr[j];
          ar[j] += vr[j];
        }
        double& sv = slot_vol_[slot * R_ + r];
        sv += dr;
        vol[r] += sv;
      }
    }
    fleet_.set_steps(w, head_, k, add.data(), vol.data());
    if (fleet_.over(w)) over.push_back(w);
  }
  head_ = (head_ + k) % T_;
  rebuild_keys();
  return over;
}

std::string Placer::check() const {
  const size_t W = fleet_.size();
  std::vector<float> load(R_ * T_);
  std::vector<double> vol(R_);
  const PackKernels& k = fleet_.kernels();
  for (size_t w = 0; w < W; ++w) {
    std::fill(load.begin(), load.end(), 0.f);
    std::fill(vol.begin(), vol.end(), 0.0);
    for (size_t slot : members_[w]) {
      k.add(load.data(), slot_data(slot), R_ * T_);
      for (size_t r = 0; r < R_; ++r) vol[r] += slot_vol_[slot * R_ + r];
    }
    if (std::memcmp(load.data(), fleet_.load(w), R_ * T_ * sizeof(float)) != 0)
      return "worker " + std::to_string(w) + ": load is not the sum of its members";
    for (size_t r = 0; r < R_; ++r)
      if (vol[r] != fleet_.volume(w)[r]) return "worker " + std::to_string(w) + ": volume is not the sum of its members'";
    std::string e = fleet_.check(w);
    if (!e.empty()) return e;
    if (key_[key_leaves_ + w] != load_key(w)) return "worker " + std::to_string(w) + ": least-loaded key is stale";
  }
  for (size_t i = key_leaves_ > 0 ? key_leaves_ - 1 : 0; i >= 1; --i)
    if (key_[i] != std::min(key_[2 * i], key_[2 * i + 1])) return "least-loaded tree node " + std::to_string(i) + " is stale";
  return "";
}

std::string Placer::snapshot() const {
  std::string out;
  out.append(kMagic, 8);
  const bool typed = !type_cost_.empty();
  put<uint32_t>(out, typed ? kVersionTyped : kVersion);  // untyped placers keep writing version 3
  put<uint32_t>(out, static_cast<uint32_t>(R_));
  put<uint32_t>(out, static_cast<uint32_t>(T_));
  put<int32_t>(out, static_cast<int32_t>(strategy_));
  put<int32_t>(out, candidates_);
  put<int64_t>(out, max_workers_);
  put<double>(out, risk_);
  put<int64_t>(out, scan_limit_);
  for (double c : capacity_) put<double>(out, c);
  for (double h : headroom_) put<double>(out, h);
  put<uint32_t>(out, static_cast<uint32_t>(head_));
  if (typed) {
    put<uint32_t>(out, static_cast<uint32_t>(type_cost_.size()));
    for (size_t t = 0; t < type_cost_.size(); ++t) {
      put<uint32_t>(out, static_cast<uint32_t>(type_names_[t].size()));
      out.append(type_names_[t]);
      for (size_t r = 0; r < R_; ++r) put<double>(out, type_cap_[t * R_ + r]);
      put<double>(out, type_cost_[t]);
    }
  }
  put<uint64_t>(out, fleet_.size());
  for (size_t w = 0; w < fleet_.size(); ++w) {
    put<uint8_t>(out, fleet_.over(w) ? 1 : 0);
    if (typed) put<uint32_t>(out, static_cast<uint32_t>(wtype_[w]));
    put<uint64_t>(out, members_[w].size());
    for (size_t slot : members_[w]) {
      const std::string& key = slot_key_[slot];
      put<uint32_t>(out, static_cast<uint32_t>(key.size()));
      out.append(key);
      const char* x = reinterpret_cast<const char*>(slot_data(slot));
      for (size_t r = 0; r < R_; ++r) {  // logical order
        out.append(x + (r * T_ + head_) * sizeof(float), (T_ - head_) * sizeof(float));
        out.append(x + r * T_ * sizeof(float), head_ * sizeof(float));
      }
      for (size_t r = 0; r < R_; ++r) put<double>(out, slot_vol_[slot * R_ + r]);
    }
  }
  put<uint64_t>(out, fnv1a(out.data(), out.size()));
  return out;
}

bool Placer::loads_within_capacity(size_t w) const {
  // float32 rounding of the m additions: (m + 1) units in the last place
  const double slack = 1.0 + static_cast<double>(members_[w].size() + 1) * std::ldexp(1.0, -23);
  if (fleet_.allowed_over() == 0) {
    for (size_t r = 0; r < R_; ++r)
      if (!(static_cast<double>(fleet_.peak(w, r)) <= static_cast<double>(fleet_.cap(w)[r]) * slack)) return false;
    return true;
  }
  const float* L = fleet_.load(w);
  size_t over = 0;
  for (size_t t = 0; t < T_; ++t) {
    bool o = false;
    for (size_t r = 0; r < R_; ++r) o |= !(static_cast<double>(L[r * T_ + t]) <= static_cast<double>(fleet_.cap(w)[r]) * slack);
    over += o;
  }
  return over <= fleet_.allowed_over();
}

Placer Placer::restore(const PackKernels& kernels, const std::string& bytes) {
  return restore(kernels, bytes.data(), bytes.size());
}

Placer Placer::restore(const PackKernels& kernels, const char* data, size_t size) {
  if (size < 8 + 8 || std::memcmp(data, kMagic, 8) != 0)
    throw std::invalid_argument("not a pyshape Placer snapshot (bad magic)");
  uint64_t stored;
  std::memcpy(&stored, data + size - 8, 8);
  if (stored != fnv1a(data, size - 8))
    throw std::invalid_argument("snapshot checksum mismatch (corrupt or truncated)");
  Reader rd{data, size - 8, 8};
  uint32_t version = rd.get<uint32_t>();
  if (version < 1 || version > kVersionTyped)
    throw std::invalid_argument("unsupported snapshot version " + std::to_string(version));
  const size_t R = rd.get<uint32_t>(), T = rd.get<uint32_t>();
  const int32_t strat = rd.get<int32_t>();
  const int32_t cand = rd.get<int32_t>();
  const int64_t maxw = rd.get<int64_t>();
  const double risk = rd.get<double>();
  const int64_t scan_limit = version >= 2 ? rd.get<int64_t>() : 0;
  if (strat < 0 || strat > 2) bad_snapshot("header: unknown strategy " + std::to_string(strat));
  if (R == 0 || R > kMaxResources) bad_snapshot("header: R = " + std::to_string(R) + " resources");
  rd.need(2 * R * sizeof(double));
  std::vector<double> cap(R), head(R);
  for (auto& c : cap) c = rd.get<double>();
  for (auto& h : head) h = rd.get<double>();
  // the header as the constructor checks it (R * T included); nothing of size T is allocated yet
  auto make = [&]() -> Placer {
    try {
      return Placer(kernels, R, T, cap.data(), head.data(), static_cast<PackStrategy>(strat), risk, cand, maxw, scan_limit);
    } catch (const std::invalid_argument& e) {
      bad_snapshot(std::string("header: ") + e.what());
    }
  };
  Placer p = make();
  const size_t shape_bytes = R * T * sizeof(float);
  const bool v3 = version >= 3;
  const size_t member_bytes = shape_bytes + (v3 ? R * sizeof(double) : 0);  // after the key
  if (v3) {
    const uint32_t head = rd.get<uint32_t>();
    if (head >= T) bad_snapshot("header: ring offset " + std::to_string(head) + " is not below T = " + std::to_string(T));
    p.head_ = head;
  }
  const bool v4 = version >= 4;
  if (v4) {
    const uint32_t nt = rd.get<uint32_t>();
    if (nt == 0 || nt > rd.left() / (sizeof(uint32_t) + (R + 1) * sizeof(double)))
      bad_snapshot("header: " + std::to_string(nt) + " worker types");
    std::vector<std::string> names(nt);
    std::vector<double> tcap(nt * R), tcost(nt);
    for (uint32_t t = 0; t < nt; ++t) {
      const uint32_t len = rd.get<uint32_t>();
      names[t].assign(rd.bytes(len), len);
      rd.need((R + 1) * sizeof(double));
      for (size_t r = 0; r < R; ++r) tcap[t * R + r] = rd.get<double>();
      tcost[t] = rd.get<double>();
    }
    try {
      p.set_types(nt, tcap.data(), tcost.data(), std::move(names));
    } catch (const std::invalid_argument& e) {
      bad_snapshot(std::string("header: ") + e.what());
    }
  }

  // Pass 1: the layout. Every count is checked against the bytes left before
  // it is used, so a header that names more than the bytes hold is refused
  // here, having allocated nothing.
  const size_t body = rd.pos;
  const uint64_t W = rd.get<uint64_t>();
  if (W > rd.left() / sizeof(uint64_t))
    bad_snapshot("it names " + std::to_string(W) + " workers, more than its " + std::to_string(size) +
                 " bytes can hold");
  if (maxw > 0 && W > static_cast<uint64_t>(maxw))
    bad_snapshot("it holds " + std::to_string(W) + " workers, more than max_workers = " + std::to_string(maxw));
  uint64_t n_items = 0;
  for (uint64_t w = 0; w < W; ++w) {
    if (v3 && rd.get<uint8_t>() > 1) bad_snapshot("worker " + std::to_string(w) + ": over flag is not 0 or 1");
    if (v4 && rd.get<uint32_t>() >= p.n_types()) bad_snapshot("worker " + std::to_string(w) + ": unknown type");
    const uint64_t m = rd.get<uint64_t>();
    if (m > rd.left() / (sizeof(uint32_t) + member_bytes))
      bad_snapshot("worker " + std::to_string(w) + " names " + std::to_string(m) +
                   " members, more than the bytes left can hold");
    for (uint64_t k = 0; k < m; ++k) {
      const uint32_t len = rd.get<uint32_t>();
      const char* key = rd.bytes(len);
      if (!valid_key(key, len))
        bad_snapshot("malformed id (worker " + std::to_string(w) + ", member " + std::to_string(k) + ")");
      rd.bytes(member_bytes);
    }
    n_items += m;
  }
  if (rd.left() != 0) bad_snapshot("it has trailing bytes");
  // The loads (R * T floats per worker) are not bounded by the bytes: an
  // empty worker takes 8 of them. Refuse more than this machine's memory.
  const uint64_t phys = physical_memory();
  if (phys > 0 && W > 0 && W > phys / shape_bytes)
    bad_snapshot("its " + std::to_string(W) + " workers of R x T = " + std::to_string(R) + " x " + std::to_string(T) +
                 " need " + num(static_cast<double>(W) * static_cast<double>(shape_bytes) / 1073741824.0) +
                 " GiB, more than the " + num(static_cast<double>(phys) / 1073741824.0) +
                 " GiB of memory of this machine");

  // Pass 2: the state, checking the values.
  rd.pos = body + sizeof(uint64_t);
  p.fleet_.reserve(W);
  p.grow_keys(W);
  p.index_.reserve(n_items);
  p.members_.reserve(W);
  for (uint64_t w = 0; w < W; ++w) {
    p.members_.emplace_back();
    const bool flagged = v3 && rd.get<uint8_t>() == 1;
    if (v4) {
      const uint32_t t = rd.get<uint32_t>();
      p.fleet_.open(p.type_eff_.data() + static_cast<size_t>(t) * R);
      p.wtype_.push_back(static_cast<int32_t>(t));
    } else {
      p.fleet_.open();
    }
    const uint64_t m = rd.get<uint64_t>();
    p.members_[w].reserve(m);
    for (uint64_t k = 0; k < m; ++k) {
      const uint32_t len = rd.get<uint32_t>();
      std::string key(rd.bytes(len), len);
      const char* src = rd.bytes(shape_bytes);
      if (p.index_.count(key)) bad_snapshot("it holds a duplicate id (worker " + std::to_string(w) + ")");
      size_t slot = p.alloc_slot();
      float* s = p.slot_data(slot);
      const size_t h = p.head_;
      for (size_t r = 0; r < R; ++r) {  // logical -> ring order
        std::memcpy(s + r * T + h, src + r * T * sizeof(float), (T - h) * sizeof(float));
        std::memcpy(s + r * T, src + (r * T + T - h) * sizeof(float), h * sizeof(float));
      }
      const std::string where = "worker " + std::to_string(w) + ", member " + std::to_string(k) + ": ";
      try {
        if (flagged) {
          p.check_values(s);  // a shape over capacity may sit on a worker flagged over
        } else {
          p.fleet_.summarize(s, p.ss_);
          p.check_shape(s, p.ss_);
        }
      } catch (const std::invalid_argument& e) {
        bad_snapshot(where + e.what());
      }
      if (v3) {  // the volumes as kept (advance() updates them in double): close to the shape's
        for (size_t r = 0; r < R; ++r) {
          const double v = rd.get<double>(), c = p.ss_.vol[r];
          if (!std::isfinite(v) || !(std::fabs(v - c) <= 1e-6 * c + 1e-9 * static_cast<double>(T) * p.eff_[r]))
            bad_snapshot(where + "volume " + num(v) + " of resource " + std::to_string(r) +
                         " does not match its shape (" + num(c) + ")");
          p.ss_.vol[r] = v;
        }
      }
      std::memcpy(p.slot_vol_.data() + slot * R, p.ss_.vol.data(), R * sizeof(double));
      p.slot_worker_[slot] = static_cast<int64_t>(w);
      p.members_[w].push_back(slot);
      p.index_.emplace(key, slot);
      p.slot_key_[slot] = std::move(key);
      p.fleet_.add(static_cast<size_t>(w), s, p.ss_);
    }
    if (flagged) {
      if (!p.fleet_.over(static_cast<size_t>(w)))
        bad_snapshot("worker " + std::to_string(w) + " is flagged over capacity but is not");
    } else if (!p.loads_within_capacity(static_cast<size_t>(w))) {
      bad_snapshot("the load of worker " + std::to_string(w) + " (the sum of its members) is over its capacity");
    }
    p.update_key(static_cast<size_t>(w));
  }
  return p;
}

}  // namespace pyshape
