/* Placer latency from C (include/pyshape/pyshape.h): place at W open workers,
 * scoring 100 candidate workers, update of one shape, advance by one step
 * with N shapes placed. Built by tests/c/CMakeLists.txt (the same cmake as the
 * library's tests); see bench/RESULTS.md.
 *
 *   bench_placer [W=10000] [N=100000] [T=1440] [probes=3000]
 *
 * Shapes (R = 2) are synthetic daily curves (a sine of random phase and
 * amplitude plus noise); capacity holds about 3 mean peaks per resource, as
 * bench/bench_pack.py's Placer case. Prints one line per figure: median and
 * p99 in microseconds (advance: milliseconds). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pyshape/pyshape.h"

#define R 2
#define NBASE 4096

static uint64_t rng_state = 88172645463325252ull;
static double uni(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (double)(rng_state >> 11) / 9007199254740992.0;
}

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

static void report(const char* what, double* v, size_t n, double unit, const char* uname) {
  qsort(v, n, sizeof(double), cmp);
  size_t i99 = (size_t)(0.99 * (double)(n - 1));
  printf("%-58s median %9.2f %s  p99 %9.2f %s  (n=%zu)\n", what, v[n / 2] / unit, uname, v[i99] / unit, uname, n);
}

#define CHECK(x)                                                                        \
  do {                                                                                  \
    pyshape_status st_ = (x);                                                           \
    if (st_ != PYSHAPE_OK) {                                                            \
      fprintf(stderr, "%s: %s: %s\n", #x, pyshape_status_name(st_), pyshape_last_error()); \
      exit(1);                                                                          \
    }                                                                                   \
  } while (0)

static void make_shape(float* s, size_t T, double scale) {
  for (int r = 0; r < R; ++r) {
    /* heavy-tailed sizes (Pareto-like, capped), as pyshape.synthetic's: a few large shapes set
     * the capacity and most are small, ~35 per worker at the capacity below */
    double ph = uni() * 6.283185307179586, amp = fmin(40.0, 0.25 * pow(1.0 - uni(), -0.9));
    for (size_t t = 0; t < T; ++t)
      s[r * T + t] = (float)(scale * (amp * (1.1 + sin(6.283185307179586 * (double)t / (double)T + ph)) + 0.2 * uni()));
  }
}

static pyshape_placer* fill(const float* base, size_t T, const double* cap, size_t want_workers, size_t want_items,
                            size_t* placed) {
  pyshape_placer* p;
  CHECK(pyshape_placer_create(R, T, cap, NULL, NULL, &p));
  char id[32];
  size_t k = 0;
  while ((want_workers && pyshape_placer_n_workers(p) < want_workers) || (want_items && k < want_items)) {
    snprintf(id, sizeof id, "s%zu", k);
    CHECK(pyshape_placer_place(p, id, base + (k % NBASE) * R * T, NULL));
    ++k;
  }
  *placed = k;
  return p;
}

int main(int argc, char** argv) {
  size_t W = argc > 1 ? (size_t)atol(argv[1]) : 10000;
  size_t N = argc > 2 ? (size_t)atol(argv[2]) : 100000;
  size_t T = argc > 3 ? (size_t)atol(argv[3]) : 1440;
  size_t P = argc > 4 ? (size_t)atol(argv[4]) : 3000;
  printf("# pyshape %s, SIMD %s, T=%zu R=%d\n", pyshape_version(), pyshape_simd_level(), T, R);
  float* base = malloc(sizeof(float) * NBASE * R * T);
  double mean_peak[R] = {0, 0}, max_peak[R] = {0, 0};
  for (size_t i = 0; i < NBASE; ++i) {
    make_shape(base + i * R * T, T, 1.0);
    for (int r = 0; r < R; ++r) {
      float m = 0;
      for (size_t t = 0; t < T; ++t) m = fmaxf(m, base[(i * R + r) * T + t]);
      mean_peak[r] += m / NBASE;
      max_peak[r] = fmax(max_peak[r], m);
    }
  }
  double cap[R];
  for (int r = 0; r < R; ++r) cap[r] = fmax(max_peak[r], 3.0 * mean_peak[r]);
  float* probe = malloc(sizeof(float) * P * R * T);
  for (size_t j = 0; j < P; ++j) {
    const float* b = base + (size_t)(uni() * NBASE) * R * T;
    float f = (float)(0.2 + 0.8 * uni());
    for (size_t i = 0; i < R * T; ++i) probe[j * R * T + i] = b[i] * f;
  }
  double* lat = malloc(sizeof(double) * (P > 2000 ? P : 2000));
  char id[48];

  /* ---- place at W workers */
  size_t placed;
  double t0 = now_us();
  pyshape_placer* p = fill(base, T, cap, W, 0, &placed);
  printf("# filled %zu workers with %zu shapes in %.1f s\n", pyshape_placer_n_workers(p), placed, (now_us() - t0) / 1e6);
  for (size_t j = 0; j < P; ++j) {
    snprintf(id, sizeof id, "probe%zu", j);
    double a = now_us();
    CHECK(pyshape_placer_place(p, id, probe + j * R * T, NULL));
    lat[j] = now_us() - a;
  }
  char line[128];
  snprintf(line, sizeof line, "place (%zu workers open)", pyshape_placer_n_workers(p));
  report(line, lat, P, 1, "us");
  for (size_t j = 0; j < P; ++j) {
    snprintf(id, sizeof id, "probe%zu", j);
    CHECK(pyshape_placer_remove(p, id, NULL));
  }

  /* ---- score 100 candidate workers */
  const size_t NC = 100, NS = 2000;
  size_t nw = pyshape_placer_n_workers(p);
  int64_t cand[100];
  double peak[100 * R], rise[100 * R], cov[100 * R], corr[100 * R];
  int64_t over[100];
  uint8_t fits[100];
  pyshape_scores all = {peak, rise, cov, corr, over, fits};
  pyshape_scores fit_only = {peak, rise, NULL, NULL, over, fits};
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t j = 0; j < NS; ++j) {
      for (size_t c = 0; c < NC; ++c) cand[c] = (int64_t)(uni() * (double)nw);
      const float* s = probe + (j % P) * R * T;
      double a = now_us();
      CHECK(pyshape_placer_score(p, s, cand, NC, 1.0, pass == 0 ? &all : &fit_only));
      lat[j] = now_us() - a;
    }
    report(pass == 0 ? "score 100 random candidates (every output)"
                     : "score 100 random candidates (peaks, steps over, fits)", lat, NS, 1, "us");
  }
  /* the same 100 candidates every time: their loads stay in cache (the compute alone) */
  for (size_t c = 0; c < NC; ++c) cand[c] = (int64_t)(uni() * (double)nw);
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t j = 0; j < NS; ++j) {
      double a = now_us();
      CHECK(pyshape_placer_score(p, probe + (j % P) * R * T, cand, NC, 1.0, pass == 0 ? &all : &fit_only));
      lat[j] = now_us() - a;
    }
    report(pass == 0 ? "score 100 candidates, the same each time (cache-warm)"
                     : "same, peaks, steps over, fits (cache-warm)", lat, NS, 1, "us");
  }

  /* ---- update one shape */
  for (size_t j = 0; j < NS; ++j) {
    size_t k = (size_t)(uni() * (double)placed);
    snprintf(id, sizeof id, "s%zu", k);
    const float* s = base + (k % NBASE) * R * T;  /* the same forecast: the worker keeps fitting */
    int ok;
    double a = now_us();
    CHECK(pyshape_placer_update(p, id, s, &ok));
    lat[j] = now_us() - a;
  }
  snprintf(line, sizeof line, "update one shape (~%.0f members per worker)", (double)placed / (double)nw);
  report(line, lat, NS, 1, "us");
  pyshape_placer_free(p);

  /* ---- advance by one step with N shapes placed */
  p = fill(base, T, cap, 0, N, &placed);
  printf("# %zu shapes on %zu workers\n", placed, pyshape_placer_n_workers(p));
  float* vals = malloc(sizeof(float) * placed * R);
  const char** ids = malloc(sizeof(char*) * placed);
  char* idbuf = malloc(placed * 24);
  for (size_t i = 0; i < placed; ++i) {
    snprintf(idbuf + i * 24, 24, "s%zu", i);
    ids[i] = idbuf + i * 24;
  }
  const int NA = 30;
  for (int pass = 0; pass < 2; ++pass) {
    for (int j = 0; j < NA; ++j) {
      for (size_t i = 0; i < placed * R; ++i) vals[i] = (float)(0.5 * uni());
      size_t n_over;
      double a = now_us();
      CHECK(pyshape_placer_advance(p, 1, pass == 0 ? NULL : ids, vals, &n_over));
      lat[j] = now_us() - a;
    }
    snprintf(line, sizeof line, "advance 1 step, %zu shapes (%s)", placed, pass == 0 ? "placer's order" : "ids given");
    report(line, lat, NA, 1000, "ms");
  }
  pyshape_placer_free(p);
  free(vals);
  free(ids);
  free(idbuf);
  free(lat);
  free(probe);
  free(base);
  return 0;
}
