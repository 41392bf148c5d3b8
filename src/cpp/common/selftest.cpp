// Known-answer self-test of a SIMD level (see selftest.hpp for what is
// checked and the tolerances). Baseline code: it only calls the level's
// kernels through their tables.
#include "common/selftest.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "correlate/lagged.hpp"

namespace pyshape {

namespace {

// Deterministic inputs, independent of the standard library's distributions.
struct Lcg {
  uint64_t s;
  explicit Lcg(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint32_t next() {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(s >> 33);
  }
  float uniform() { return static_cast<float>(next() >> 7) * (2.f / 16777216.f) - 1.f; }  // [-1, 1)
  float small_int(int r) { return static_cast<float>(static_cast<int>(next() % (2 * r + 1)) - r); }
};

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }
bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }
bool same_value(double a, double b) { return same_bits(a, b) || (a != a && b != b); }  // NaN == NaN

std::string num(double x) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", x);
  return buf;
}

class SelfTest {
 public:
  SelfTest(const SimdTables& lv, const SimdTables& ref, bool force_fail)
      : lv_(lv), ref_(ref), force_fail_(force_fail) {}

  std::vector<std::string> run() {
    dot();
    micro();
    micro_rows();
    row_panels();
    dots_rows();
    q8_tile();
    q8_rows();
    select_outside();
    bound_tile();
    fft();
    pack();
    return fails_;
  }

 private:
  const SimdTables& lv_;
  const SimdTables& ref_;
  bool force_fail_;
  std::vector<std::string> fails_;

  // Records a failure; returns false so that a kernel's checks stop at its first.
  bool fail(const char* kernel, const std::string& what) {
    fails_.push_back(std::string(kernel) + ": " + what);
    return false;
  }

  // Sizes that reach every loop of every level (4 W blocks, W blocks, tails).
  static constexpr size_t kSizes[] = {0, 1, 3, 7, 15, 16, 17, 33, 64, 65, 97, 130, 257};

  // ---------------------------------------------------------------- KernelTable
  bool dot() {
    Lcg g(1);
    for (size_t n : kSizes) {
      std::vector<float> a(n + 1), b(n + 1);
      int64_t exact = 0;
      for (size_t i = 0; i < n; ++i) {
        a[i] = g.small_int(8);
        b[i] = g.small_int(8);
        exact += static_cast<int64_t>(a[i]) * static_cast<int64_t>(b[i]);
      }
      float got = lv_.k.dot(a.data(), b.data(), n);
      if (force_fail_) got += 1.f;  // the test hook: a wrong answer must be caught
      force_fail_ = false;
      if (!same_bits(got, static_cast<float>(exact)))
        return fail("dot", "n=" + std::to_string(n) + " small integers: " + num(got) + " != " + num(double(exact)));
      // Random floats: within the rounding bound of the scalar result.
      double mag = 0;
      for (size_t i = 0; i < n; ++i) {
        a[i] = g.uniform();
        b[i] = g.uniform();
        mag += std::fabs(double(a[i]) * b[i]);
      }
      float x = lv_.k.dot(a.data(), b.data(), n), y = ref_.k.dot(a.data(), b.data(), n);
      if (!(std::fabs(double(x) - y) <= 2.0 * n * FLT_EPSILON * mag))
        return fail("dot", "n=" + std::to_string(n) + " floats: " + num(x) + " vs scalar " + num(y));
    }
    return true;
  }

  // Packs rows (row r of a rows x K matrix M) into a panel of width w (K x w).
  static std::vector<float> panel(const std::vector<float>& M, size_t rows, size_t K, size_t w) {
    std::vector<float> p(K * w, 99.f);  // unused rows hold junk: never stored
    for (size_t r = 0; r < rows; ++r)
      for (size_t k = 0; k < K; ++k) p[k * w + r] = M[r * K + k];
    return p;
  }

  bool micro() {
    Lcg g(2);
    const size_t mr = lv_.k.mr, nr = lv_.k.nr, ldc = nr + 5;
    const float kSentinel = -12345.f;
    for (size_t K : {size_t(1), size_t(5), size_t(37), size_t(300)})
      for (int mv : {static_cast<int>(mr), static_cast<int>(mr) - 1, 1})
        for (int nv : {static_cast<int>(nr), static_cast<int>(nr) - 3, 1})
          for (bool acc : {false, true}) {
            if (mv < 1 || nv < 1) continue;
            std::vector<float> A(mr * K), B(nr * K);
            for (auto& v : A) v = g.small_int(8);
            for (auto& v : B) v = g.small_int(8);
            std::vector<float> Ap = panel(A, mv, K, mr), Bp = panel(B, nv, K, nr);
            std::vector<float> C((mr + 1) * ldc, kSentinel), init(C.size(), kSentinel);
            for (int i = 0; i < mv; ++i)
              for (int j = 0; j < nv; ++j) C[i * ldc + j] = init[i * ldc + j] = acc ? g.small_int(100) : kSentinel;
            lv_.k.micro(Ap.data(), mv, Bp.data(), K, C.data(), ldc, nv, acc);
            for (size_t i = 0; i <= mr; ++i)
              for (size_t j = 0; j < ldc; ++j) {
                float want = init[i * ldc + j];
                if (static_cast<int>(i) < mv && static_cast<int>(j) < nv) {
                  int64_t s = acc ? static_cast<int64_t>(want) : 0;
                  for (size_t k = 0; k < K; ++k)
                    s += static_cast<int64_t>(A[i * K + k]) * static_cast<int64_t>(B[j * K + k]);
                  want = static_cast<float>(s);
                }
                if (!same_bits(C[i * ldc + j], want))
                  return fail("micro", "K=" + std::to_string(K) + " tile " + std::to_string(mv) + "x" +
                                           std::to_string(nv) + (acc ? " accumulate" : "") + ": C[" +
                                           std::to_string(i) + "," + std::to_string(j) + "] = " +
                                           num(C[i * ldc + j]) + ", expected " + num(want));
              }
          }
    // Random floats against the scalar kernels (each with its own tiles).
    const size_t K = 123, rows = 5, cols = 7;
    std::vector<float> A(rows * K), B(cols * K);
    for (auto& v : A) v = g.uniform();
    for (auto& v : B) v = g.uniform();
    auto product = [&](const KernelTable& kt, std::vector<float>& out) {
      const size_t w = kt.mr, h = kt.nr;
      out.assign(rows * cols, 0.f);
      for (size_t i0 = 0; i0 < rows; i0 += w)
        for (size_t j0 = 0; j0 < cols; j0 += h) {
          const size_t mv = std::min(w, rows - i0), nv = std::min(h, cols - j0);
          std::vector<float> Asub(A.begin() + i0 * K, A.begin() + (i0 + mv) * K);
          std::vector<float> Bsub(B.begin() + j0 * K, B.begin() + (j0 + nv) * K);
          std::vector<float> Ap = panel(Asub, mv, K, w), Bp = panel(Bsub, nv, K, h);
          kt.micro(Ap.data(), static_cast<int>(mv), Bp.data(), K, out.data() + i0 * cols + j0, cols,
                   static_cast<int>(nv), false);
        }
    };
    std::vector<float> x, y;
    product(lv_.k, x);
    product(ref_.k, y);
    for (size_t i = 0; i < rows; ++i)
      for (size_t j = 0; j < cols; ++j) {
        double mag = 0;
        for (size_t k = 0; k < K; ++k) mag += std::fabs(double(A[i * K + k]) * B[j * K + k]);
        if (!(std::fabs(double(x[i * cols + j]) - y[i * cols + j]) <= 2.0 * K * FLT_EPSILON * mag))
          return fail("micro", "floats: C[" + std::to_string(i) + "," + std::to_string(j) + "] = " +
                                   num(x[i * cols + j]) + " vs scalar " + num(y[i * cols + j]));
      }
    return true;
  }

  // micro_rows: bit for bit equal to micro() on the same rows packed, valid
  // rows only read (the rows after them are NaN, which would show).
  bool micro_rows() {
    Lcg g(5);
    const size_t mr = lv_.k.mr, nr = lv_.k.nr, lda = 41, ldc = nr + 3;
    for (size_t K : {size_t(1), size_t(7), size_t(40)})
      for (int mv : {static_cast<int>(mr), static_cast<int>(mr) - 1, 1})
        for (int nv : {static_cast<int>(nr), 2})
          for (bool acc : {false, true}) {
            if (mv < 1) continue;
            std::vector<float> A(mr * lda, kSentinelNaN()), Arows(mr * K, 0.f), B(nr * K);
            for (int i = 0; i < mv; ++i)
              for (size_t k = 0; k < K; ++k) A[i * lda + k] = Arows[i * K + k] = g.uniform();
            for (auto& v : B) v = g.uniform();
            std::vector<float> Ap = panel(Arows, mv, K, mr), Bp = panel(B, nv, K, nr);
            std::vector<float> C1(mr * ldc), C2;
            for (auto& v : C1) v = g.uniform();
            C2 = C1;
            lv_.k.micro(Ap.data(), mv, Bp.data(), K, C1.data(), ldc, nv, acc);
            lv_.k.micro_rows(A.data(), lda, mv, Bp.data(), K, C2.data(), ldc, nv, acc);
            for (size_t e = 0; e < C1.size(); ++e)
              if (!same_bits(C1[e], C2[e]))
                return fail("micro_rows", "K=" + std::to_string(K) + " tile " + std::to_string(mv) + "x" +
                                              std::to_string(nv) + ": C[" + std::to_string(e) + "] = " +
                                              num(C2[e]) + " != micro's " + num(C1[e]));
          }
    return true;
  }

  bool row_panels() {
    Lcg g(3);
    const size_t mr = lv_.k.mr, nr = lv_.k.nr, kc = 8;
    for (size_t K : {size_t(3), size_t(8), size_t(21)})
      for (int np = 1; np <= 6; ++np) {
        std::vector<float> A(mr * K);
        for (auto& v : A) v = g.uniform();
        std::vector<float> Ap = panel(A, mr, K, mr);
        std::vector<std::vector<float>> P(np, std::vector<float>(K * nr));
        std::vector<const float*> ptr(np);
        for (int q = 0; q < np; ++q) {
          for (auto& v : P[q]) v = g.uniform();
          ptr[q] = P[q].data();
        }
        const size_t i = (K + np) % mr;  // some row of the A panel
        std::vector<float> out(np * nr, kSentinelNaN());
        lv_.k.row_panels(Ap.data() + i, mr, ptr.data(), np, K, kc, out.data());
        for (int q = 0; q < np; ++q) {
          std::vector<float> C(mr * nr, 0.f);
          for (size_t k0 = 0; k0 < K; k0 += kc)
            lv_.k.micro(Ap.data() + k0 * mr, static_cast<int>(mr), P[q].data() + k0 * nr, std::min(kc, K - k0),
                        C.data(), nr, static_cast<int>(nr), k0 > 0);
          for (size_t j = 0; j < nr; ++j)
            if (!same_bits(out[q * nr + j], C[i * nr + j]))
              return fail("row_panels", "K=" + std::to_string(K) + " np=" + std::to_string(np) + ": " +
                                            num(out[q * nr + j]) + " != micro's " + num(C[i * nr + j]));
        }
      }
    return true;
  }
  static float kSentinelNaN() { return std::numeric_limits<float>::quiet_NaN(); }

  // dots_rows: bit for bit equal to micro() over the same chunks of K.
  bool dots_rows() {
    Lcg g(11);
    const size_t mr = lv_.k.mr, nr = lv_.k.nr, kc = 8;
    for (size_t K : {size_t(1), size_t(8), size_t(21), size_t(40)})
      for (int m = 1; m <= 8; ++m) {
        std::vector<float> a(K), B(static_cast<size_t>(m) * K);
        for (auto& v : a) v = g.uniform();
        for (auto& v : B) v = g.uniform();
        std::vector<const float*> rows(m);
        for (int p = 0; p < m; ++p) rows[p] = B.data() + p * K;
        std::vector<float> out(m, kSentinelNaN());
        lv_.k.dots_rows(a.data(), rows.data(), m, K, kc, out.data());
        std::vector<float> A1(K);  // a as row 0 of an A panel, the m rows as a B panel
        std::vector<float> Ap = panel(a, 1, K, mr), Bp = panel(B, std::min<size_t>(m, nr), K, nr);
        std::vector<float> C(mr * nr, 0.f);
        for (size_t k0 = 0; k0 < K; k0 += kc)
          lv_.k.micro(Ap.data() + k0 * mr, 1, Bp.data() + k0 * nr, std::min(kc, K - k0), C.data(), nr,
                      static_cast<int>(std::min<size_t>(m, nr)), k0 > 0);
        for (int p = 0; p < m && p < static_cast<int>(nr); ++p)
          if (!same_bits(out[p], C[p]))
            return fail("dots_rows", "K=" + std::to_string(K) + " m=" + std::to_string(m) + ": " + num(out[p]) +
                                         " != micro's " + num(C[p]));
      }
    return true;
  }

  // q8_tile: the integer products exactly (extreme bytes included), and the
  // flags against a float64 evaluation wherever it is clear by a margin.
  bool q8_tile() {
    Lcg g(12);
    const int mr = lv_.k.q8_mr, nr = lv_.k.q8_nr, amax = lv_.k.q8_amax, aoff = lv_.k.q8_aoff;
    for (size_t K4 : {size_t(1), size_t(3), size_t(17), size_t(70)})
      for (int mv : {mr, 1, mr - 1}) {
        if (mv < 1) continue;
        std::vector<int> qa(mr * K4 * 4), qb(nr * K4 * 4);
        for (size_t x = 0; x < qa.size(); ++x)
          qa[x] = x % 7 == 0 ? (x % 2 ? amax : -amax) : static_cast<int>(g.next() % (2 * amax + 1)) - amax;
        for (size_t x = 0; x < qb.size(); ++x)
          qb[x] = x % 5 == 0 ? (x % 2 ? 127 : -127) : static_cast<int>(g.next() % 255) - 127;
        std::vector<uint8_t> Ap(K4 * mr * 4);
        std::vector<int8_t> Bp(K4 * nr * 4);
        for (int i = 0; i < mr; ++i)
          for (size_t t = 0; t < K4 * 4; ++t) Ap[((t / 4) * mr + i) * 4 + t % 4] = static_cast<uint8_t>(qa[i * K4 * 4 + t] + aoff);
        std::vector<int32_t> bsum(nr, 0);
        for (int j = 0; j < nr; ++j)
          for (size_t t = 0; t < K4 * 4; ++t) {
            Bp[((t / 4) * nr + j) * 4 + t % 4] = static_cast<int8_t>(qb[j * K4 * 4 + t]);
            bsum[j] += aoff * qb[j * K4 * 4 + t];
          }
        std::vector<int32_t> D(mr * nr);
        lv_.k.q8_tile(Ap.data(), mv, Bp.data(), K4, Q8Cols{}, Q8Rows{}, nullptr, D.data(), nullptr);
        std::vector<int64_t> exact(mr * nr, 0);
        for (int i = 0; i < mr; ++i)
          for (int j = 0; j < nr; ++j) {
            for (size_t t = 0; t < K4 * 4; ++t) exact[i * nr + j] += int64_t(qa[i * K4 * 4 + t]) * qb[j * K4 * 4 + t];
            if (int64_t(D[i * nr + j]) - bsum[j] != exact[i * nr + j])
              return fail("q8_tile", "K4=" + std::to_string(K4) + " D[" + std::to_string(i) + "," + std::to_string(j) +
                                         "] = " + std::to_string(int64_t(D[i * nr + j]) - bsum[j]) + ", expected " +
                                         std::to_string(exact[i * nr + j]));
          }
        // Flags: random scales and bounds; thresholds near the approximations.
        std::vector<float> sa(mr), A(mr), Bn(mr), hi(mr), lo(mr), sb(nr), N(nr), R(nr);
        for (int j = 0; j < nr; ++j) {
          sb[j] = (g.uniform() + 1.5f) * 1e-3f;
          N[j] = 1.f;
          R[j] = (g.uniform() + 1.f) * 1e-2f;
        }
        for (int i = 0; i < mr; ++i) {
          sa[i] = (g.uniform() + 1.5f) * 1e-3f;
          A[i] = (g.uniform() + 1.f) * 1e-2f;
          Bn[i] = 1.f;
          hi[i] = static_cast<float>(sa[i] * sb[i % nr] * exact[i * nr + i % nr]) + g.uniform() * 0.05f;
          lo[i] = hi[i] - 0.1f;
        }
        std::vector<uint32_t> mask(mr, 0xdeadbeef);
        std::vector<int32_t> dq(mr * nr);
        bool any = lv_.k.q8_tile(Ap.data(), mv, Bp.data(), K4, Q8Cols{bsum.data(), sb.data(), N.data(), R.data()},
                                 Q8Rows{sa.data(), A.data(), Bn.data(), hi.data(), lo.data()}, mask.data(), nullptr,
                                 dq.data());
        bool any_want = false;
        for (int i = 0; i < mv; ++i)
          for (int j = 0; j < nr; ++j) {
            const double a = double(sa[i]) * sb[j] * exact[i * nr + j], e = double(A[i]) * N[j] + double(Bn[i]) * R[j];
            const double up = a + e, dn = a - e, tol = 1e-5 * (std::fabs(a) + e + 1);
            const bool got = (mask[i] >> j) & 1u;
            const bool clear_yes = up >= hi[i] + tol || dn <= lo[i] - tol;
            const bool clear_no = up < hi[i] - tol && dn > lo[i] + tol;
            any_want |= got;
            if ((clear_yes && !got) || (clear_no && got) || dq[i * nr + j] != exact[i * nr + j])
              return fail("q8_tile", "K4=" + std::to_string(K4) + " flag or product of (" + std::to_string(i) + "," +
                                         std::to_string(j) + ") wrong");
          }
        if (any != any_want) return fail("q8_tile", "wrong 'any'");
      }
    return true;
  }

  // q8_rows: exact integer sums, extreme bytes included (the largest query
  // byte the variant takes: 255 where the products are summed in int32
  // directly, 127 where vpmaddubsw pairs them in int16).
  bool q8_rows() {
    Lcg g(13);
    const int ab = lv_.k.q8_aoff + lv_.k.q8_amax;
    for (size_t L : {size_t(64), size_t(128), size_t(1472)})
      for (int m = 1; m <= 8; ++m) {
        std::vector<uint8_t> a(L);
        std::vector<std::vector<int8_t>> rows(m, std::vector<int8_t>(L));
        for (size_t k = 0; k < L; ++k) a[k] = static_cast<uint8_t>(k % 5 == 0 ? ab : g.next() % (ab + 1));
        const int8_t* rp[8];
        for (int p = 0; p < m; ++p) {
          for (size_t k = 0; k < L; ++k)
            rows[p][k] = static_cast<int8_t>(k % 3 == 0 ? (k % 2 ? 127 : -127) : static_cast<int>(g.next() % 255) - 127);
          rp[p] = rows[p].data();
        }
        int32_t out[8];
        lv_.k.q8_rows(a.data(), rp, m, L, out);
        for (int p = 0; p < m; ++p) {
          int64_t want = 0;
          for (size_t k = 0; k < L; ++k) want += int64_t(a[k]) * rows[p][k];
          if (want != out[p])
            return fail("q8_rows", "L=" + std::to_string(L) + " m=" + std::to_string(m) + ": " + std::to_string(out[p]) +
                                       ", expected " + std::to_string(want));
        }
      }
    return true;
  }

  bool select_outside() {
    Lcg g(4);
    for (size_t n : kSizes) {
      std::vector<float> x(n + 1);
      for (auto& v : x) v = g.uniform();
      const float hi = n > 2 ? x[n / 2] : 0.5f, lo = n > 2 ? x[n / 3] - 0.5f : -0.5f;  // equality cases too
      std::vector<uint32_t> got(n + 1), want;
      for (size_t i = 0; i < n; ++i)
        if (x[i] >= hi || x[i] <= lo) want.push_back(static_cast<uint32_t>(i));
      size_t cnt = lv_.k.select_outside(x.data(), n, hi, lo, got.data());
      if (cnt != want.size() || !std::equal(want.begin(), want.end(), got.begin()))
        return fail("select_outside", "n=" + std::to_string(n) + ": " + std::to_string(cnt) + " indices, expected " +
                                          std::to_string(want.size()));
    }
    return true;
  }

  bool bound_tile() {
    Lcg g(5);
    const size_t mr = lv_.k.mr, nr = lv_.k.nr;
    for (size_t r : {size_t(1), size_t(3), size_t(8), size_t(33)})
      for (int mv : {static_cast<int>(mr), 1, static_cast<int>(mr) - 1}) {
        if (mv < 1) continue;
        std::vector<float> Ap(r * mr), Bp(r * nr), ra(mr), rb(nr), hi(mr), lo(mr);
        for (auto& v : Ap) v = g.small_int(4);
        for (auto& v : Bp) v = g.small_int(4);
        for (auto& v : ra) v = 0.5f * g.small_int(2) + 1.f;  // 0, 0.5, ..., 2: products exact
        for (auto& v : rb) v = 0.5f * g.small_int(2) + 1.f;
        std::vector<double> s(mr * nr);
        for (size_t i = 0; i < mr; ++i)
          for (size_t j = 0; j < nr; ++j) {
            double d = 0;
            for (size_t k = 0; k < r; ++k) d += double(Ap[k * mr + i]) * Bp[k * nr + j];
            s[i * nr + j] = d;
          }
        for (size_t i = 0; i < mr; ++i) {  // thresholds met with equality by some pairs
          size_t j1 = g.next() % nr, j2 = g.next() % nr;
          hi[i] = static_cast<float>(s[i * nr + j1] + double(ra[i]) * rb[j1]);
          lo[i] = static_cast<float>(s[i * nr + j2] - double(ra[i]) * rb[j2]);
        }
        std::vector<uint32_t> mask(mr, 0xdeadbeefu);
        bool any = lv_.k.bound_tile(Ap.data(), mv, Bp.data(), r, ra.data(), rb.data(), hi.data(), lo.data(),
                                    mask.data());
        uint32_t any_want = 0;
        for (int i = 0; i < mv; ++i) {
          uint32_t want = 0;
          for (size_t j = 0; j < nr; ++j) {
            const double sl = double(ra[i]) * rb[j], v = s[i * nr + j];
            if (v + sl >= hi[i] || v - sl <= lo[i]) want |= 1u << j;
          }
          any_want |= want;
          if (mask[i] != want)
            return fail("bound_tile", "r=" + std::to_string(r) + " row " + std::to_string(i) + ": mask " +
                                          std::to_string(mask[i]) + ", expected " + std::to_string(want));
        }
        if (any != (any_want != 0)) return fail("bound_tile", "r=" + std::to_string(r) + ": wrong 'any'");
      }
    return true;
  }

  // ---------------------------------------------------------------- FftKernels
  bool fft() {
    Lcg g(6);
    struct Case { size_t T, L; };
    // M = 36 (radices 4, 3, 3), 40 (4, 2, 5), 64 (4, 4, 4).
    for (Case c : {Case{45, 20}, Case{50, 30}, Case{64, 63}}) {
      const size_t T = c.T, L = c.L, n = 4, m = 35;
      std::vector<float> U(n * T), V(m * T);
      auto unit = [&](float* row) {
        double ss = 0;
        for (size_t t = 0; t < T; ++t) ss += double(row[t]) * row[t];
        const double f = 1.0 / std::sqrt(ss);
        for (size_t t = 0; t < T; ++t) row[t] = static_cast<float>(row[t] * f);
      };
      for (size_t i = 0; i < n; ++i) {
        for (size_t t = 0; t < T; ++t) U[i * T + t] = g.uniform();
        unit(&U[i * T]);
      }
      // V row j: row j % n of U moved by a lag in [-L / 2, L / 2], plus a little noise.
      std::vector<long> shift(m);
      for (size_t j = 0; j < m; ++j) {
        const long s = static_cast<long>((j * 7) % (L + 1)) - static_cast<long>(L / 2);
        shift[j] = s;
        const float* x = &U[(j % n) * T];
        for (size_t t = 0; t < T; ++t) {
          const long k = static_cast<long>(t) + s;
          V[j * T + t] = (k >= 0 && k < static_cast<long>(T) ? x[k] : 0.f) + 0.01f * g.uniform();
        }
        unit(&V[j * T]);
      }
      std::vector<float> sl(n * m), sr(n * m);
      std::vector<int32_t> ll(n * m), lr(n * m);
      lagged_fft(lv_.fft, U.data(), n, V.data(), m, T, L, false, sl.data(), ll.data(), 1, nullptr);
      lagged_fft(ref_.fft, U.data(), n, V.data(), m, T, L, false, sr.data(), lr.data(), 1, nullptr);
      for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < m; ++j) {
          // Direct evaluation in double, lags in the documented order.
          double best = -1e300;
          long best_s = 0;
          for (long d = 0; d <= static_cast<long>(L); ++d)
            for (long s : {-d, d}) {
              if (d == 0 && s != 0) continue;
              double acc = 0;
              for (long t = 0; t < static_cast<long>(T); ++t) {
                const long k = t - s;
                if (k >= 0 && k < static_cast<long>(T)) acc += double(U[i * T + t]) * V[j * T + k];
              }
              if (acc > best) { best = acc; best_s = s; }
              if (d == 0) break;
            }
          const size_t at = i * m + j;
          const std::string where = "T=" + std::to_string(T) + " L=" + std::to_string(L) + " pair (" +
                                    std::to_string(i) + "," + std::to_string(j) + "): ";
          if (!(std::fabs(double(sl[at]) - sr[at]) <= 1e-4) || !(std::fabs(sl[at] - best) <= 1e-4))
            return fail("lagged_fft", where + "score " + num(sl[at]) + ", scalar " + num(sr[at]) + ", exact " + num(best));
          if (j % n == i && (ll[at] != best_s || ll[at] != shift[j]))
            return fail("lagged_fft", where + "lag " + std::to_string(ll[at]) + ", expected " + std::to_string(best_s));
        }
    }
    return true;
  }

  // ---------------------------------------------------------------- PackKernels
  bool pack() {
    Lcg g(7);
    const PackKernels &P = lv_.pack, &S = ref_.pack;
    const float inf = std::numeric_limits<float>::infinity();
    for (size_t n : kSizes) {
      if (n == 0) continue;
      const std::string at = "n=" + std::to_string(n) + ": ";
      std::vector<float> a(n), b(n);
      for (auto& v : a) v = 0.5f * (g.uniform() + 1.f);
      for (auto& v : b) v = 0.5f * (g.uniform() + 1.f);
      // max_sum: the exact maximum without a limit; with one, its contract.
      const float mx = S.max_sum(a.data(), b.data(), n, inf);
      if (!same_bits(P.max_sum(a.data(), b.data(), n, inf), mx)) return fail("max_sum", at + "maximum differs");
      for (float limit : {mx, mx - 0.25f, 1.0f}) {
        const float got = P.max_sum(a.data(), b.data(), n, limit);
        if (mx <= limit ? !same_bits(got, mx) : !(got > limit))
          return fail("max_sum", at + "limit " + num(limit) + ": " + num(got) + ", maximum " + num(mx));
        if (P.first_over(a.data(), b.data(), n, limit) != S.first_over(a.data(), b.data(), n, limit))
          return fail("first_over", at + "limit " + num(limit));
        std::vector<uint8_t> f1(n, 0), f2(n, 0);
        P.mark_over(a.data(), b.data(), n, limit, f1.data());
        S.mark_over(a.data(), b.data(), n, limit, f2.data());
        if (f1 != f2) return fail("mark_over", at + "limit " + num(limit));
      }
      {
        std::vector<float> x = a, y = a;
        P.add(x.data(), b.data(), n);
        S.add(y.data(), b.data(), n);
        if (std::memcmp(x.data(), y.data(), n * sizeof(float)) != 0) return fail("add", at + "sums differ");
      }
      for (size_t blk : {size_t(1), size_t(7), size_t(16), size_t(24)}) {
        const size_t nb = (n + blk - 1) / blk;
        std::vector<float> x1(nb), n1(nb), x2(nb), n2(nb);
        P.block_maxmin(a.data(), n, blk, x1.data(), n1.data());
        S.block_maxmin(a.data(), n, blk, x2.data(), n2.data());
        if (x1 != x2 || n1 != n2) return fail("block_maxmin", at + "blk=" + std::to_string(blk));
        std::vector<float> la = a, lb = a;
        P.add_maxmin(la.data(), b.data(), n, blk, x1.data(), n1.data());
        S.add_maxmin(lb.data(), b.data(), n, blk, x2.data(), n2.data());
        if (la != lb || x1 != x2 || n1 != n2) return fail("add_maxmin", at + "blk=" + std::to_string(blk));
      }
      // row_stats: plain, with a negative value, with a NaN, with an infinity.
      for (int variant = 0; variant < 4; ++variant) {
        std::vector<float> x = a;
        const size_t k = (n * 5) / 7;
        if (variant == 1) x[k] = -0.25f;
        if (variant == 2) x[k] = std::numeric_limits<float>::quiet_NaN();
        if (variant == 3) x[k] = inf;
        std::vector<double> acc1(n), acc2(n);
        for (size_t t = 0; t < n; ++t) acc1[t] = acc2[t] = 0.1 * static_cast<double>(t);
        float p1 = 0, p2 = 0;
        uint32_t f1 = P.row_stats(x.data(), n, acc1.data(), &p1);
        uint32_t f2 = S.row_stats(x.data(), n, acc2.data(), &p2);
        bool acc_same = true;
        for (size_t t = 0; t < n; ++t) acc_same &= same_value(acc1[t], acc2[t]);
        // The peak of a row holding a NaN is unspecified (the row is rejected).
        if (f1 != f2 || (variant != 2 && !same_bits(p1, p2)) || !acc_same)
          return fail("row_stats", at + "variant " + std::to_string(variant) + ": flags " + std::to_string(f1) +
                                       " vs " + std::to_string(f2) + ", peak " + num(p1) + " vs " + num(p2));
      }
    }
    // Witness scans over 40 workers of 2 witnesses each.
    const size_t W = 40, steps = 50;
    std::vector<float> s(steps), val(W), lim(W), val2(W), lim2(W);
    std::vector<uint32_t> idx(W), idx2(W);
    for (auto& v : s) v = 0.5f * (g.uniform() + 1.f);
    for (size_t w = 0; w < W; ++w) {
      val[w] = 0.5f * (g.uniform() + 1.f);
      val2[w] = 0.5f * (g.uniform() + 1.f);
      idx[w] = g.next() % steps;
      idx2[w] = g.next() % steps;
      // Mostly over (rejected), a few fitting: the scans must find the same ones.
      lim[w] = (g.next() % 5 == 0) ? 2.f : 0.2f;
      lim2[w] = (g.next() % 4 == 0) ? 0.2f : 2.f;
    }
    for (size_t i : {size_t(0), size_t(3), size_t(17)})
      for (size_t hi : {W, size_t(35), size_t(20)}) {
        if (i >= hi) continue;
        const std::string at = "range [" + std::to_string(i) + ", " + std::to_string(hi) + "): ";
        if (P.witness_next(val.data(), lim.data(), idx.data(), val2.data(), lim2.data(), idx2.data(), s.data(), i, hi) !=
            S.witness_next(val.data(), lim.data(), idx.data(), val2.data(), lim2.data(), idx2.data(), s.data(), i, hi))
          return fail("witness_next", at + "different worker");
        if (P.witness_last(val.data(), lim.data(), idx.data(), val2.data(), lim2.data(), idx2.data(), s.data(), i, hi) !=
            S.witness_last(val.data(), lim.data(), idx.data(), val2.data(), lim2.data(), idx2.data(), s.data(), i, hi))
          return fail("witness_last", at + "different worker");
      }
    return true;
  }
};

constexpr size_t SelfTest::kSizes[];

}  // namespace

std::vector<std::string> simd_selftest(const SimdTables& level, bool force_fail) {
  const SimdTables* ref = simd_tables_for("scalar");
  return SelfTest(level, *ref, force_fail).run();
}

}  // namespace pyshape
