#include "common/simd_level.hpp"

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <stdexcept>

#include "common/selftest.hpp"

namespace pyshape {
namespace {

const char* const kLevels[] = {"scalar", "avx2", "avx512"};  // worst to best

const SimdTables& scalar_tables() {
  static const SimdTables t{"scalar", *scalar::table(), *scalar::fft_table(), *scalar::pack_table()};
  return t;
}
#ifdef PYSHAPE_HAVE_X86
const SimdTables& avx2_tables() {
  static const SimdTables t{"avx2", *avx2::table(), *avx2::fft_table(), *avx2::pack_table()};
  return t;
}
const SimdTables& avx512_tables() {
  static const SimdTables t{"avx512", *avx512::table(), *avx512::fft_table(), *avx512::pack_table()};
  return t;
}
#endif

int rank_of(const std::string& level) {
  for (int i = 0; i < 3; ++i)
    if (level == kLevels[i]) return i;
  return -1;
}

// Lower case, surrounding white space removed.
std::string normalized(const char* s) {
  std::string out;
  for (const char* p = s; *p; ++p) out += static_cast<char>(std::tolower(static_cast<unsigned char>(*p)));
  const auto b = out.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return out.substr(b, out.find_last_not_of(" \t\r\n") - b + 1);
}

// Levels named in PYSHAPE_SIMD_SELFTEST_FAIL (comma or space separated): a
// test hook that makes their self-test fail.
bool forced_to_fail(const std::string& level) {
  const char* v = std::getenv("PYSHAPE_SIMD_SELFTEST_FAIL");
  if (!v) return false;
  std::string s = normalized(v);
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find_first_of(", ", i);
    if (j == std::string::npos) j = s.size();
    if (s.compare(i, j - i, level) == 0) return true;
    i = j + 1;
  }
  return false;
}

struct LevelState {
  std::vector<std::string> usable;   // best last
  std::vector<std::string> failed;   // level name, per level that failed its self-test
  std::vector<std::string> failure;  // its first failure
  std::vector<std::string> warnings;
  std::atomic<const SimdTables*> active{nullptr};

  LevelState() {
    std::vector<std::string> self_test_msgs;
    for (const char* l : kLevels) {
      if (!simd_tables_for(l) || !cpu_supports(l)) continue;
      if (std::string(l) != "scalar") {
        // The scalar kernels are the reference: every other level is checked
        // against them before it is trusted.
        std::vector<std::string> f = simd_selftest(*simd_tables_for(l), forced_to_fail(l));
        if (!f.empty()) {
          failed.emplace_back(l);
          failure.push_back(f.front());
          continue;
        }
      }
      usable.emplace_back(l);
    }
    std::string chosen = usable.back();
    const char* forced = std::getenv("PYSHAPE_SIMD");
    std::string request = forced ? normalized(forced) : "";
    std::string request_msg;
    if (!request.empty()) {
      const int want = rank_of(request);
      if (want < 0) {
        request_msg = "PYSHAPE_SIMD='" + std::string(forced) +
                      "' is not a SIMD level (use scalar, avx2 or avx512); using '" + chosen + "' instead";
      } else {
        // The best usable level not above the one asked for.
        std::string best;
        for (const auto& u : usable)
          if (rank_of(u) <= want) best = u;
        if (best != request) {
          std::string why = failed_reason(request);
          if (why.empty()) why = "this CPU does not support it";
          request_msg = "PYSHAPE_SIMD='" + std::string(forced) + "' asks for SIMD level '" + request +
                        "', but " + why + "; using '" + best + "' instead";
        }
        chosen = best;
      }
    }
    for (size_t i = 0; i < failed.size(); ++i)
      warnings.push_back("SIMD level '" + failed[i] +
                         "' failed its self-test against the scalar kernels and is disabled (" + failure[i] +
                         "); using '" + chosen + "'");
    if (!request_msg.empty()) warnings.push_back(request_msg);
    active.store(simd_tables_for(chosen), std::memory_order_release);
  }

  std::string failed_reason(const std::string& level) const {
    for (size_t i = 0; i < failed.size(); ++i)
      if (failed[i] == level) return "it failed its self-test on this CPU (" + failure[i] + ")";
    return "";
  }
};

LevelState& state() {
  static LevelState s;  // thread-safe initialisation, once
  return s;
}

}  // namespace

const SimdTables* simd_tables_for(const std::string& level) {
  if (level == "scalar") return &scalar_tables();
#ifdef PYSHAPE_HAVE_X86
  if (level == "avx2") return &avx2_tables();
  if (level == "avx512") return &avx512_tables();
#endif
  return nullptr;
}

bool cpu_supports(const std::string& level) {
  if (level == "scalar") return true;
#if defined(PYSHAPE_HAVE_X86) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (level == "avx2") return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (level == "avx512")
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("fma");
#endif
  return false;
}

std::vector<std::string> available_simd_levels() { return state().usable; }

std::vector<std::string> simd_init_warnings() { return state().warnings; }

const SimdTables& simd_tables() { return *state().active.load(std::memory_order_acquire); }

std::string simd_level() { return simd_tables().name; }

void set_simd_level(const std::string& level) {
  const SimdTables* t = simd_tables_for(level);
  if (!t) throw std::invalid_argument("unknown SIMD level '" + level + "' (use scalar, avx2 or avx512)");
  if (!cpu_supports(level)) throw std::invalid_argument("this CPU does not support SIMD level '" + level + "'");
  LevelState& s = state();
  std::string why = s.failed_reason(level);
  if (!why.empty()) throw std::invalid_argument("SIMD level '" + level + "' is disabled: " + why);
  s.active.store(t, std::memory_order_release);
}

}  // namespace pyshape
