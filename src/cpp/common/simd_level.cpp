#include "common/simd_level.hpp"

#include <atomic>
#include <cstdlib>
#include <stdexcept>

namespace pyshape {
namespace {

bool cpu_has(const std::string& level) {
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

const KernelTable* table_for(const std::string& level) {
  if (level == "scalar") return scalar::table();
#ifdef PYSHAPE_HAVE_X86
  if (level == "avx2") return avx2::table();
  if (level == "avx512") return avx512::table();
#endif
  return nullptr;
}

const KernelTable* best_table() {
  const char* forced = std::getenv("PYSHAPE_SIMD");
  if (forced && *forced) {
    std::string f(forced);
    if (table_for(f) && cpu_has(f)) return table_for(f);
    // An impossible request falls back to the best level rather than failing
    // at import; simd_level() shows what is in use.
  }
  auto levels = available_simd_levels();
  return table_for(levels.back());
}

std::atomic<const KernelTable*>& active() {
  static std::atomic<const KernelTable*> t{best_table()};
  return t;
}

}  // namespace

std::vector<std::string> available_simd_levels() {
  std::vector<std::string> out;
  for (const char* l : {"scalar", "avx2", "avx512"})
    if (table_for(l) && cpu_has(l)) out.emplace_back(l);
  return out;
}

const KernelTable& kernels() { return *active().load(std::memory_order_acquire); }

std::string simd_level() { return kernels().name; }

int simd_level_index() {
  const KernelTable* t = active().load(std::memory_order_acquire);
#ifdef PYSHAPE_HAVE_X86
  if (t == avx512::table()) return 2;
  if (t == avx2::table()) return 1;
#endif
  (void)t;
  return 0;
}

void set_simd_level(const std::string& level) {
  const KernelTable* t = table_for(level);
  if (!t) throw std::invalid_argument("unknown SIMD level '" + level + "' (use scalar, avx2 or avx512)");
  if (!cpu_has(level)) throw std::invalid_argument("this CPU does not support SIMD level '" + level + "'");
  active().store(t, std::memory_order_release);
}

}  // namespace pyshape
