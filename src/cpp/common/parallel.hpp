// A minimal parallel-for over independent work items.
//
// Items are handed out dynamically, but each item's result depends only on the
// item (never on which thread ran it or in what order), so output is identical
// for 1 and N threads. An exception in any worker stops the others from taking
// new items and is rethrown once, after the join, on the calling thread.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "common/progress.hpp"

namespace pyshape {

inline int default_threads() {
  unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : static_cast<int>(hc);
}

inline int resolve_threads(int n_threads) { return n_threads > 0 ? n_threads : default_threads(); }

// fn(item, thread_index) for item in [0, n_items). thread_index < n_threads,
// for indexing per-thread scratch buffers. progress, when given, is called by
// the calling thread (thread_index 0) after each item it completes.
template <class Fn>
void parallel_for(size_t n_items, int n_threads, Fn&& fn, const ProgressFn& progress = nullptr) {
  n_threads = std::max(1, std::min<int>(resolve_threads(n_threads), static_cast<int>(std::max<size_t>(n_items, 1))));
  std::atomic<size_t> done{0};
  if (n_threads == 1) {
    for (size_t i = 0; i < n_items; ++i) {
      fn(i, 0);
      if (progress) progress(i + 1, n_items);
    }
    return;
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto worker = [&](int tid) {
    try {
      for (;;) {
        if (failed.load(std::memory_order_relaxed)) return;
        size_t i = next.fetch_add(1, std::memory_order_relaxed);
        if (i >= n_items) return;
        fn(i, tid);
        size_t d = done.fetch_add(1, std::memory_order_relaxed) + 1;
        if (tid == 0 && progress) progress(d, n_items);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      failed.store(true);
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(n_threads - 1);
  for (int t = 1; t < n_threads; ++t) pool.emplace_back(worker, t);
  worker(0);
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
  if (progress) progress(n_items, n_items);
}

}  // namespace pyshape
