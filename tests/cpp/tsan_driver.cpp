// ThreadSanitizer driver for the C++ core, without Python (.ci/tsan).
//
// Links every core source except src/cpp/bindings/ (the only code that needs
// Python) and runs the kernels the bindings call -- normalisation, Pearson
// matrices, brute-force and pruned top-k, lagged correlation (direct and
// FFT), the clustering steps, batch packing and the online Placer -- from
// several std::threads at once, each call itself with n_threads > 1, on
// shared read-only input. Every result is compared bitwise with a serial
// reference computed first, so the driver also fails (exit status 1) on a
// wrong result, not only on a data race that TSan reports.
//
//   tsan_driver [--threads N] [--rounds N] [--switch-simd]
//
// --switch-simd: another thread switches the SIMD level (set_simd_level) all
// the time while the kernels run; every result must then equal the serial
// reference of one of the levels. (The Python layer offers the same switch:
// pyshape.set_simd_level.)
//
// Built by CMake with -DPYSHAPE_TSAN=ON -DPYSHAPE_TSAN_DRIVER=ON (target
// tsan_driver); also builds and runs without TSan.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cluster/cluster.hpp"
#include "common/simd_level.hpp"
#include "correlate/gemm.hpp"
#include "correlate/lagged.hpp"
#include "correlate/normalize.hpp"
#include "correlate/pearson.hpp"
#include "correlate/topk_pruned.hpp"
#include "pack/pack.hpp"
#include "pack/placer.hpp"

using namespace pyshape;

namespace {

// ------------------------------------------------------------------ data
constexpr size_t kN = 240, kT = 96, kQ = 9, kK = 5, kR = 2, kRank = 12, kClusters = 4, kLag = 7;

struct Data {
  std::vector<float> X;   // kN x kT, structured: a few base rows, scaled, shifted, noisy
  std::vector<float> U;   // unit-norm rows of X
  std::vector<float> D;   // kN x kR x kT, non-negative demand
  std::vector<float> C;   // kClusters x kT unit-norm centroids (rows of U)
  std::vector<float> proj, res;  // rank-kRank projections on the first kRank axes, residual norms
};

Data make_data() {
  Data d;
  std::mt19937_64 rng(12345);
  std::normal_distribution<float> g(0.f, 1.f);
  d.X.resize(kN * kT);
  for (size_t i = 0; i < kN; ++i) {
    const double f = 1 + i % 4, ph = 0.37 * static_cast<double>(i % 7);
    for (size_t t = 0; t < kT; ++t)
      d.X[i * kT + t] = static_cast<float>((i % 3 ? 1.0 : -2.0) * std::sin(2 * M_PI * f * t / kT + ph)) + 0.2f * g(rng);
  }
  d.U.resize(kN * kT);
  if (normalize_rows(d.X.data(), kN, kT, kT, 1.0, d.U.data(), 1) != -1) std::abort();
  d.D.resize(kN * kR * kT);
  for (size_t i = 0; i < d.D.size(); ++i) d.D[i] = std::fabs(d.X[i % (kN * kT)]) * (1 + (i / (kN * kT)));
  d.C.assign(d.U.begin(), d.U.begin() + kClusters * kT);
  // Any orthonormal basis gives valid bounds |u.v - p_u.p_v| <= |e_u| |e_v|: the first kRank axes.
  d.proj.resize(kN * kRank);
  d.res.resize(kN);
  for (size_t i = 0; i < kN; ++i) {
    double rest = 0;
    for (size_t t = 0; t < kT; ++t) {
      const float v = d.U[i * kT + t];
      if (t < kRank) d.proj[i * kRank + t] = v;
      else rest += static_cast<double>(v) * v;
    }
    d.res[i] = std::nextafter(static_cast<float>(std::sqrt(rest + 1e-7)), INFINITY);
  }
  return d;
}

// ------------------------------------------------------------------ one run of every kernel
using Result = std::map<std::string, std::vector<char>>;

template <class V>
void put(Result& out, const std::string& key, const std::vector<V>& v) {
  std::vector<char> b(v.size() * sizeof(V));
  if (!v.empty()) std::memcpy(b.data(), v.data(), b.size());
  out[key] = std::move(b);
}

Result run_all(const Data& d, int nt, std::mutex& shared_placer_mutex, Placer& shared_placer,
               const std::string& tag) {
  Result out;
  // the level, read once for the whole run (as every entry point does), its tables passed down
  const SimdTables& simd = simd_tables();
  const KernelTable& kt = simd.k;
  {
    std::vector<float> z(kN * kT);
    normalize_rows(d.X.data(), kN, kT, kT, std::sqrt(double(kT)), z.data(), nt);
    put(out, "znorm", z);
  }
  {
    std::vector<float> r(kN * kN), rq(kQ * kN);
    pearson_matrix(kt, d.U.data(), kN, d.U.data(), kN, kT, true, r.data(), nt, nullptr);
    pearson_matrix(kt, d.U.data() + 11 * kT, kQ, d.U.data(), kN, kT, false, rq.data(), nt, nullptr);
    put(out, "pearson", r);
    put(out, "pearson_xy", rq);
  }
  {
    PackedRows packed = pack_rows(d.U.data(), kN, kT, kT, kt.nr, nt);
    std::vector<int64_t> pi(kN * kK), ni(kN * kK);
    std::vector<float> ps(kN * kK), ns(kN * kK);
    TopKOutput o{pi.data(), ps.data(), ni.data(), ns.data()};
    topk_bruteforce(kt, d.U.data(), kN, kT, packed.view, kK, 0, o, nt, nullptr);
    put(out, "topk_pi", pi);
    put(out, "topk_ps", ps);
    put(out, "topk_ni", ni);
    put(out, "topk_ns", ns);
    // pruned: the same partners, bitwise (documented), and the same per thread count
    std::vector<int64_t> pi2(kN * kK), ni2(kN * kK);
    std::vector<float> ps2(kN * kK), ns2(kN * kK);
    TopKOutput o2{pi2.data(), ps2.data(), ni2.data(), ns2.data()};
    LowRankSide side{d.U.data(), d.proj.data(), d.res.data(), kN};
    PackedRows full = pack_rows(d.U.data(), kN, kT, kT, kt.nr, nt);
    PruneStats stats;
    topk_pruned(kt, side, side, full.view, kT, kRank, kK, 0, 2e-4f, o2, nt, nullptr, &stats);
    put(out, "pruned_pi", pi2);
    put(out, "pruned_ps", ps2);
    put(out, "pruned_ni", ni2);
    put(out, "pruned_ns", ns2);
  }
  for (auto method : {LaggedMethod::kDirect, LaggedMethod::kFft}) {
    const size_t n = 40;
    std::vector<float> s(n * n);
    std::vector<int32_t> l(n * n);
    lagged_correlation(simd, d.U.data(), n, d.U.data(), n, kT, kLag, true, s.data(), l.data(), nt, nullptr, method);
    const std::string m = method == LaggedMethod::kDirect ? "direct" : "fft";
    put(out, "lagged_s_" + m, s);
    put(out, "lagged_l_" + m, l);
  }
  {
    std::vector<int64_t> label(kN);
    std::vector<float> best(kN);
    corr_assign(kt, d.U.data(), kN, kT, d.C.data(), kClusters, label.data(), best.data(), nt, nullptr);
    put(out, "corr_assign_l", label);
    put(out, "corr_assign_b", best);
    std::vector<double> sums(kClusters * kT);
    std::vector<int64_t> counts(kClusters);
    label_sums(d.U.data(), kN, kT, label.data(), kClusters, sums.data(), counts.data(), nt);
    put(out, "label_sums", sums);
    put(out, "label_counts", counts);
    std::vector<double> fused(kClusters * kT);  // the blocks' in-order hand-over (cluster.cpp's InOrder)
    corr_assign_sums(simd, d.U.data(), kN, kT, d.C.data(), kClusters, label.data(), best.data(), fused.data(), nt,
                     nullptr);
    put(out, "corr_assign_sums", fused);
    std::vector<int32_t> shift(kN);
    sbd_assign(simd, d.U.data(), kN, kT, d.C.data(), kClusters, kLag, label.data(), best.data(), shift.data(), nt, nullptr);
    put(out, "sbd_l", label);
    put(out, "sbd_b", best);
    put(out, "sbd_s", shift);
    std::vector<int64_t> rows(kN);
    for (size_t i = 0; i < kN; ++i) rows[i] = static_cast<int64_t>((i * 7) % kN);
    std::vector<float> al(kN * kT);
    align_rows(d.U.data(), kT, rows.data(), shift.data(), kN, al.data(), nt);
    put(out, "align", al);
  }
  {
    std::vector<float> peaks(kN * kR);
    std::vector<double> total(kR * kT);
    int64_t nonf, neg;
    pack_stats(simd.pack, d.D.data(), kN, kR, kT, peaks.data(), total.data(), &nonf, &neg, nt);
    put(out, "pack_peaks", peaks);
    put(out, "pack_total", total);
    std::vector<int64_t> order(kN);
    for (size_t i = 0; i < kN; ++i) order[i] = static_cast<int64_t>(kN - 1 - i);
    const float cap[kR] = {9.f, 17.f};
    for (auto strat : {PackStrategy::kComplement, PackStrategy::kFirstFit, PackStrategy::kBestFit}) {
      PackOptions opt;
      opt.strategy = strat;
      opt.shard_size = 70;  // four shards, packed in parallel
      opt.improve = 2;
      std::vector<int64_t> assign(kN);
      size_t W = pack_shapes(simd.pack, d.D.data(), kN, kR, kT, cap, order.data(), opt, assign.data(), nullptr, nt);
      assign.push_back(static_cast<int64_t>(W));
      put(out, "pack_" + std::to_string(static_cast<int>(strat)), assign);
    }
  }
  {
    // A Placer per thread (no sharing), then the shared one under a mutex (the GIL's role).
    const double cap[kR] = {9.0, 17.0}, head[kR] = {0.0, 0.1};
    Placer p(simd.pack, kR, kT, cap, head, PackStrategy::kComplement, 0.0, 8, 0, 16);
    std::vector<int64_t> where;
    for (size_t i = 0; i < 60; ++i) where.push_back(p.place("s" + std::to_string(i), d.D.data() + i * kR * kT));
    for (size_t i = 0; i < 60; i += 3) where.push_back(p.remove("s" + std::to_string(i)));
    Placer q = Placer::restore(simd.pack, p.snapshot());
    if (q.snapshot() != p.snapshot()) {
      std::fprintf(stderr, "snapshot of a restored Placer differs\n");
      std::exit(1);
    }
    put(out, "placer", where);
    std::lock_guard<std::mutex> lock(shared_placer_mutex);
    for (size_t i = 0; i < 5; ++i) {
      const std::string key = "s" + tag + "-" + std::to_string(i);  // "s": a string id, as the bindings encode it
      shared_placer.place(key, d.D.data() + ((i * 13) % kN) * kR * kT);
    }
    for (size_t i = 0; i < 5; i += 2) shared_placer.remove("s" + tag + "-" + std::to_string(i));
    (void)Placer::restore(simd.pack, shared_placer.snapshot());
  }
  return out;
}

std::string first_difference(const Result& a, const Result& b) {
  for (const auto& kv : a) {
    auto it = b.find(kv.first);
    if (it == b.end() || it->second != kv.second) return kv.first;
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 4, rounds = 3;
  bool switch_simd = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "--rounds" && i + 1 < argc) rounds = std::atoi(argv[++i]);
    else if (a == "--switch-simd") switch_simd = true;
    else {
      std::fprintf(stderr, "usage: %s [--threads N] [--rounds N] [--switch-simd]\n", argv[0]);
      return 2;
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  const Data d = make_data();
  std::mutex pm;
  const double cap[kR] = {9.0, 17.0}, head[kR] = {0.0, 0.0};
  Placer shared(simd_tables().pack, kR, kT, cap, head, PackStrategy::kFirstFit, 0.0, 8, 0, 0);

  // Serial references: one per SIMD level when switching, else the active level's.
  const std::vector<std::string> levels = available_simd_levels();
  const std::string start_level = simd_level();
  std::map<std::string, Result> want;
  for (const auto& lv : switch_simd ? levels : std::vector<std::string>{start_level}) {
    set_simd_level(lv);
    want[lv] = run_all(d, 1, pm, shared, "ref-" + lv);
    // the result does not depend on the thread count
    std::string diff = first_difference(want[lv], run_all(d, 3, pm, shared, "ref3-" + lv));
    if (!diff.empty()) {
      std::fprintf(stderr, "FAIL: %s at level %s differs between 1 and 3 threads\n", diff.c_str(), lv.c_str());
      return 1;
    }
  }
  set_simd_level(start_level);

  std::atomic<bool> stop{false};
  std::thread flipper;
  std::atomic<long> flips{0};
  if (switch_simd)
    flipper = std::thread([&] {
      for (size_t i = 0; !stop.load(); ++i) {
        set_simd_level(levels[i % levels.size()]);
        flips.fetch_add(1);
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    });

  std::atomic<int> failures{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (int r = 0; r < rounds; ++r) {
        const int nt = 1 + (t + r) % 3;  // 1, 2 or 3 worker threads per call
        Result got = run_all(d, nt, pm, shared, "t" + std::to_string(t) + "r" + std::to_string(r));
        bool ok = false;
        std::string diff;
        for (const auto& kv : want) {
          diff = first_difference(kv.second, got);
          if (diff.empty()) {
            ok = true;
            break;
          }
        }
        if (!ok && switch_simd) {
          // each kernel's result must be one level's (a call may run at a different level than the next)
          ok = true;
          for (const auto& kv : got) {
            bool any = false;
            for (const auto& w : want) any = any || w.second.at(kv.first) == kv.second;
            if (!any) {
              ok = false;
              diff = kv.first;
              break;
            }
          }
        }
        if (!ok) {
          std::fprintf(stderr, "FAIL: thread %d round %d (n_threads %d): %s differs from the serial result\n", t,
                       r, nt, diff.c_str());
          failures.fetch_add(1);
        }
      }
    });
  for (auto& th : pool) th.join();
  stop.store(true);
  if (flipper.joinable()) flipper.join();
  set_simd_level(start_level);

  // The shared Placer: two survivors of every run_all (5 placed, 3 removed each).
  const size_t runs = 2 * want.size() + static_cast<size_t>(threads) * rounds;
  if (shared.n_items() != 2 * runs) {
    std::fprintf(stderr, "FAIL: the shared Placer holds %zu ids, expected %zu\n", shared.n_items(), 2 * runs);
    failures.fetch_add(1);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("tsan_driver: %d threads x %d rounds at %s%s, %zu placed on the shared Placer, %d failure(s), "
              "%.1f s\n", threads, rounds, start_level.c_str(),
              switch_simd ? (" (level switched " + std::to_string(flips.load()) + " times)").c_str() : "",
              shared.n_items(), failures.load(), secs);
  return failures.load() ? 1 : 0;
}
