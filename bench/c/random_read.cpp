// Reading 100 random loads (R x T = 2 x 1440 float32, 11.5 KB each) out of a
// 10,000-worker fleet (115 MB), as Placer::score does with covariances: the
// memory floor of that call, and which prefetch lowers it (bench/RESULTS.md,
// the C API section). Plain C++, no pyshape:
//
//   g++ -O2 -mavx2 bench/c/random_read.cpp -o /tmp/random_read && /tmp/random_read
//
// Prints the median of 2000 calls per variant: plain; the next candidate's
// whole load prefetched to L1 up front (what score() did before); the next
// candidate's rows prefetched to L2 along the current pass (what it does now).
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

int main() {
  const size_t W = 10000, RT = 2880, NC = 100;
  std::vector<float> L(W * RT, 1.0f);  // touched: every page is mapped
  std::mt19937 g(1);
  const char* names[3] = {"plain", "next load to L1 up front", "next load to L2 along the pass"};
  float sink = 0;
  for (int mode = 0; mode < 3; ++mode) {
    std::vector<double> lat;
    for (int it = 0; it < 2000; ++it) {
      size_t c[NC];
      for (auto& x : c) x = g() % W;
      const auto a = std::chrono::steady_clock::now();
      __m256 acc = _mm256_setzero_ps();
      for (size_t k = 0; k < NC; ++k) {
        const float* p = L.data() + c[k] * RT;
        const float* q = k + 1 < NC ? L.data() + c[k + 1] * RT : nullptr;
        if (mode == 1 && q)
          for (size_t b = 0; b < RT; b += 16) _mm_prefetch(reinterpret_cast<const char*>(q + b), _MM_HINT_T0);
        for (size_t t = 0; t < RT; t += 16) {
          if (mode == 2 && q) _mm_prefetch(reinterpret_cast<const char*>(q + t), _MM_HINT_T2);
          acc = _mm256_max_ps(acc, _mm256_max_ps(_mm256_loadu_ps(p + t), _mm256_loadu_ps(p + t + 8)));
        }
      }
      float o[8];
      _mm256_storeu_ps(o, acc);
      sink += o[0];
      lat.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - a).count());
    }
    std::sort(lat.begin(), lat.end());
    std::printf("%-34s median %7.1f us (%.1f GB/s)\n", names[mode], lat[lat.size() / 2],
                static_cast<double>(NC * RT * 4) / lat[lat.size() / 2] / 1e3);
  }
  return sink == 12345.f;  // keeps the reads
}
