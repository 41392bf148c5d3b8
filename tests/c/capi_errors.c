/* The C API's error paths: every bad input gives a status and a message,
 * never a crash; objects are unchanged after a failed call. Exit 0 when all
 * checks pass; prints one line per failed check. Argument: a writable
 * directory for snapshot files. */
#include <pyshape/pyshape.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define EXPECT(cond)                                                    \
  do {                                                                  \
    if (!(cond)) {                                                      \
      printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);            \
      ++failures;                                                       \
    }                                                                   \
  } while (0)

/* status s with a message containing want */
#define EXPECT_ERR(call, s, want)                                                               \
  do {                                                                                          \
    pyshape_status got_ = (call);                                                               \
    if (got_ != (s) || strstr(pyshape_last_error(), (want)) == NULL) {                          \
      printf("FAIL %s:%d: %s -> %s \"%s\" (want %s \"%s\")\n", __FILE__, __LINE__, #call,       \
             pyshape_status_name(got_), pyshape_last_error(), pyshape_status_name(s), (want));  \
      ++failures;                                                                               \
    }                                                                                           \
  } while (0)

int main(int argc, char** argv) {
  float x[4 * 8], y[2 * 8], out[64], sc[64];
  int64_t idx[64], w = -7;
  int32_t lag[64];
  double cap[2] = {10.0, 10.0}, head[2] = {0.0, 0.0};
  float shapes[3 * 2 * 4];
  int64_t assign[3];
  pyshape_plan_figures fig;
  pyshape_pack_options opt;
  pyshape_placer *p = NULL, *q = NULL;
  pyshape_placer_options po;
  float s[2 * 4], load[2 * 4];
  void* snap = NULL;
  size_t snap_size = 0, i;
  char path[1024];
  const char* dir = argc > 1 ? argv[1] : ".";

  EXPECT(PYSHAPE_API_COMPATIBLE(pyshape_api_version()));
  EXPECT(strlen(pyshape_version()) > 0);
  EXPECT(strcmp(pyshape_last_error(), "") == 0);
  EXPECT_ERR(pyshape_set_simd_level("sse9"), PYSHAPE_EINVAL, "unknown SIMD level");
  EXPECT_ERR(pyshape_set_simd_level(NULL), PYSHAPE_EINVAL, "NULL");
  EXPECT(pyshape_set_simd_level("scalar") == PYSHAPE_OK && strcmp(pyshape_simd_level(), "scalar") == 0);

  for (i = 0; i < 4 * 8; ++i) x[i] = (float)sin(0.3 * (double)i) + (float)(i % 3);
  for (i = 0; i < 2 * 8; ++i) y[i] = (float)cos(0.2 * (double)i);

  /* correlation */
  EXPECT(pyshape_pearson(x, 4, NULL, 0, 8, out, 1) == PYSHAPE_OK);
  EXPECT(fabsf(out[0] - 1.0f) < 1e-5f && out[1] == out[4]);
  EXPECT_ERR(pyshape_pearson(NULL, 4, NULL, 0, 8, out, 1), PYSHAPE_EINVAL, "required");
  EXPECT_ERR(pyshape_pearson(x, 0, NULL, 0, 8, out, 1), PYSHAPE_EINVAL, "empty");
  x[9] = NAN;
  EXPECT_ERR(pyshape_pearson(x, 4, NULL, 0, 8, out, 1), PYSHAPE_EINVAL, "NaN or infinite value in row 1");
  EXPECT_ERR(pyshape_top_partners(x, 4, 8, NULL, 0, 1, idx, sc, NULL, NULL, 1), PYSHAPE_EINVAL, "row 1");
  EXPECT_ERR(pyshape_lagged_correlation(x, 4, NULL, 0, 8, 2, out, lag, 1), PYSHAPE_EINVAL, "row 1");
  x[9] = 0.5f;
  y[3] = INFINITY;
  EXPECT_ERR(pyshape_pearson(x, 4, y, 2, 8, out, 1), PYSHAPE_EINVAL, "Y has a NaN or infinite value in row 0");
  y[3] = 0.0f;
  EXPECT(pyshape_top_partners(x, 4, 8, NULL, 0, 3, idx, sc, NULL, NULL, 1) == PYSHAPE_OK);
  EXPECT_ERR(pyshape_top_partners(x, 4, 8, NULL, 0, 4, idx, sc, NULL, NULL, 1), PYSHAPE_EINVAL, "k=4");
  EXPECT_ERR(pyshape_top_partners(x, 4, 8, NULL, 0, 0, idx, sc, NULL, NULL, 1), PYSHAPE_EINVAL, "k=0");
  EXPECT(pyshape_top_partners(x, 4, 8, y, 2, 4, NULL, NULL, idx, sc, 1) == PYSHAPE_OK);
  EXPECT_ERR(pyshape_top_partners(x, 4, 8, y, 2, 5, NULL, NULL, idx, sc, 1), PYSHAPE_EINVAL, "k=5");
  EXPECT_ERR(pyshape_top_partners(x, 4, 8, NULL, 0, 1, idx, NULL, NULL, NULL, 1), PYSHAPE_EINVAL, "both arrays");
  EXPECT_ERR(pyshape_top_partners(x, 4, 8, NULL, 0, 1, NULL, NULL, NULL, NULL, 1), PYSHAPE_EINVAL, "no output");
  EXPECT(pyshape_lagged_correlation(x, 4, y, 2, 8, 7, out, lag, 1) == PYSHAPE_OK);
  EXPECT_ERR(pyshape_lagged_correlation(x, 4, y, 2, 8, 8, out, lag, 1), PYSHAPE_EINVAL, "max_lag");

  /* batch packing */
  for (i = 0; i < 3 * 2 * 4; ++i) shapes[i] = 1.0f + (float)(i % 4);
  pyshape_pack_options_init(&opt);
  EXPECT(pyshape_pack(shapes, 3, 2, 4, cap, head, &opt, assign, &fig) == PYSHAPE_OK);
  EXPECT(fig.n_workers >= fig.lower_bound && fig.lower_bound >= 1 && fig.peak_workers >= fig.n_workers);
  EXPECT(pyshape_pack(shapes, 3, 2, 4, cap, NULL, NULL, assign, NULL) == PYSHAPE_OK);
  shapes[2 * 8 + 1] = NAN;
  EXPECT_ERR(pyshape_pack(shapes, 3, 2, 4, cap, head, &opt, assign, &fig), PYSHAPE_EINVAL,
             "shape 2 (row 2) has a NaN or infinite value");
  shapes[2 * 8 + 1] = -1.0f;
  EXPECT_ERR(pyshape_pack(shapes, 3, 2, 4, cap, head, &opt, assign, &fig), PYSHAPE_EINVAL,
             "shape 2 (row 2) has a negative value");
  shapes[2 * 8 + 1] = 11.0f;
  shapes[0] = 12.0f;
  EXPECT_ERR(pyshape_pack(shapes, 3, 2, 4, cap, head, &opt, assign, &fig), PYSHAPE_ETOOLARGE, "rows 0, 2");
  shapes[2 * 8 + 1] = 1.0f;
  shapes[0] = 1.0f;
  head[1] = 0.8; /* effective capacity 2 < peak 4 */
  EXPECT_ERR(pyshape_pack(shapes, 3, 2, 4, cap, head, &opt, assign, &fig), PYSHAPE_ETOOLARGE, "3 shape(s)");
  head[1] = 1.0;
  EXPECT_ERR(pyshape_pack(shapes, 3, 2, 4, cap, head, &opt, assign, &fig), PYSHAPE_EINVAL, "headroom");
  head[1] = 0.0;
  cap[1] = -1.0;
  EXPECT_ERR(pyshape_pack(shapes, 3, 2, 4, cap, head, &opt, assign, &fig), PYSHAPE_EINVAL, "capacity");
  cap[1] = NAN;
  EXPECT_ERR(pyshape_pack(shapes, 3, 2, 4, cap, head, &opt, assign, &fig), PYSHAPE_EINVAL, "capacity");
  cap[1] = 10.0;
  EXPECT_ERR(pyshape_pack(shapes, 0, 2, 4, cap, head, &opt, assign, &fig), PYSHAPE_EINVAL, "empty");
  EXPECT_ERR(pyshape_pack(NULL, 3, 2, 4, cap, head, &opt, assign, &fig), PYSHAPE_EINVAL, "required");
  opt.strategy = PYSHAPE_PEAK;
  opt.risk = 0.1;
  EXPECT_ERR(pyshape_pack(shapes, 3, 2, 4, cap, head, &opt, assign, &fig), PYSHAPE_EINVAL, "risk must be 0");
  opt.risk = 1.5;
  opt.strategy = PYSHAPE_COMPLEMENT;
  EXPECT_ERR(pyshape_pack(shapes, 3, 2, 4, cap, head, &opt, assign, &fig), PYSHAPE_EINVAL, "risk");
  opt.risk = 0;
  opt.strategy = (pyshape_strategy)17;
  EXPECT_ERR(pyshape_pack(shapes, 3, 2, 4, cap, head, &opt, assign, &fig), PYSHAPE_EINVAL, "strategy");
  opt.strategy = PYSHAPE_COMPLEMENT;
  opt.candidates = -1;
  EXPECT_ERR(pyshape_pack(shapes, 3, 2, 4, cap, head, &opt, assign, &fig), PYSHAPE_EINVAL, "non-negative");
  EXPECT_ERR(pyshape_pack(shapes, (size_t)1 << 62, 1024, 1024, cap, head, NULL, assign, &fig), PYSHAPE_EINVAL,
             "overflow");

  /* worker types and plan verification (API 1.2) */
  {
    double tcap[4] = {5.0, 5.0, 10.0, 10.0}, tcost[2] = {1.0, 1.8}, wcap[6];
    const char* names[2] = {"small", "large"};
    pyshape_worker_types wt;
    pyshape_typed_figures tf;
    pyshape_verify_report rep;
    int32_t wtype[3];
    int64_t over[3];
    double excess[2];
    size_t k;
    wt.n_types = 2;
    wt.capacity = tcap;
    wt.cost = tcost;
    wt.names = names;
    EXPECT(pyshape_pack_typed(shapes, 3, 2, 4, &wt, NULL, NULL, assign, wtype, &tf) == PYSHAPE_OK);
    EXPECT(tf.cost >= tf.cost_lower_bound && tf.cost_lower_bound > 0 && tf.n_workers >= 1);
    for (k = 0; k < tf.n_workers; ++k) {
      wcap[2 * k] = tcap[2 * wtype[k]];
      wcap[2 * k + 1] = tcap[2 * wtype[k] + 1];
    }
    EXPECT(pyshape_plan_verify(shapes, 3, 2, 4, assign, tf.n_workers, wcap, NULL, 0.0, over, excess, &rep) ==
           PYSHAPE_OK);
    EXPECT(rep.ok == 1 && rep.message[0] == '\0' && excess[0] == 0.0);
    for (k = 0; k < 3; ++k) assign[k] = 0; /* everything on one small worker: over capacity */
    wcap[0] = wcap[1] = 5.0;
    EXPECT(pyshape_plan_verify(shapes, 3, 2, 4, assign, 1, wcap, NULL, 0.0, over, excess, &rep) == PYSHAPE_OK);
    EXPECT(rep.ok == 0 && rep.workers_over == 1 && over[0] == 3 && strstr(rep.message, "over capacity") != NULL);
    EXPECT_ERR(pyshape_plan_verify(shapes, 3, 2, 4, assign, 1, wcap, NULL, 0.0, over, excess, NULL), PYSHAPE_EINVAL,
               "report");
    EXPECT_ERR(pyshape_plan_verify(shapes, 3, 2, 4, assign, 1, NULL, NULL, 0.0, over, excess, &rep), PYSHAPE_EINVAL,
               "worker_capacity");
    EXPECT_ERR(pyshape_plan_verify(shapes, 3, 2, 4, assign, 1, wcap, NULL, 1.5, over, excess, &rep), PYSHAPE_EINVAL,
               "risk");
    tcost[1] = -1.0;
    EXPECT_ERR(pyshape_pack_typed(shapes, 3, 2, 4, &wt, NULL, NULL, assign, wtype, &tf), PYSHAPE_EINVAL,
               "worker type 1: cost");
    tcost[1] = 1.8;
    tcap[0] = tcap[2] = 0.5; /* no type holds the shapes (peak 4) */
    tcap[2] = 3.0;
    EXPECT_ERR(pyshape_pack_typed(shapes, 3, 2, 4, &wt, NULL, NULL, assign, wtype, &tf), PYSHAPE_ETOOLARGE,
               "fit no worker type");
    tcap[0] = 5.0;
    tcap[2] = 10.0;
    EXPECT_ERR(pyshape_pack_typed(shapes, 3, 2, 4, NULL, NULL, NULL, assign, wtype, &tf), PYSHAPE_EINVAL, "required");
    EXPECT_ERR(pyshape_pack_typed(shapes, 3, 2, 4, &wt, NULL, NULL, assign, NULL, &tf), PYSHAPE_EINVAL, "required");
    wt.n_types = 0;
    EXPECT_ERR(pyshape_pack_typed(shapes, 3, 2, 4, &wt, NULL, NULL, assign, wtype, &tf), PYSHAPE_EINVAL, "n_types");
    wt.n_types = 2;
    EXPECT_ERR(pyshape_placer_create_typed(2, 4, NULL, NULL, NULL, &p), PYSHAPE_EINVAL, "types");
    EXPECT(pyshape_placer_create_typed(2, 4, &wt, NULL, NULL, &p) == PYSHAPE_OK);
    EXPECT(pyshape_placer_place(p, "a", shapes, NULL) == PYSHAPE_OK);
    EXPECT(pyshape_placer_worker_type(p, 0, &wtype[0]) == PYSHAPE_OK && wtype[0] == 0);
    EXPECT_ERR(pyshape_placer_worker_type(p, 5, &wtype[0]), PYSHAPE_EINVAL, "out of range");
    pyshape_placer_free(p);
    p = NULL;
  }

  /* online placer */
  pyshape_placer_options_init(&po);
  po.max_workers = 1;
  EXPECT_ERR(pyshape_placer_create(0, 4, cap, NULL, &po, &p), PYSHAPE_EINVAL, "at least 1");
  EXPECT(p == NULL);
  EXPECT_ERR(pyshape_placer_create(2, 4, NULL, NULL, &po, &p), PYSHAPE_EINVAL, "capacity");
  po.strategy = PYSHAPE_PEAK;
  EXPECT_ERR(pyshape_placer_create(2, 4, cap, NULL, &po, &p), PYSHAPE_EINVAL, "strategy");
  po.strategy = PYSHAPE_COMPLEMENT;
  po.risk = -0.5;
  EXPECT_ERR(pyshape_placer_create(2, 4, cap, NULL, &po, &p), PYSHAPE_EINVAL, "risk");
  po.risk = 0;
  cap[0] = 0;
  EXPECT_ERR(pyshape_placer_create(2, 4, cap, NULL, &po, &p), PYSHAPE_EINVAL, "capacity");
  cap[0] = 10.0;
  EXPECT(pyshape_placer_create(2, 4, cap, NULL, &po, &p) == PYSHAPE_OK && p != NULL);
  for (i = 0; i < 8; ++i) s[i] = 6.0f;
  EXPECT(pyshape_placer_place(p, "a", s, &w) == PYSHAPE_OK && w == 0);
  EXPECT_ERR(pyshape_placer_place(p, "a", s, &w), PYSHAPE_EDUPLICATE, "already placed");
  EXPECT_ERR(pyshape_placer_place(p, "b", s, &w), PYSHAPE_EFULL, "max_workers=1");
  s[3] = 11.0f;
  EXPECT_ERR(pyshape_placer_place(p, "c", s, &w), PYSHAPE_ETOOLARGE, "exceeds the effective capacity");
  s[3] = NAN;
  EXPECT_ERR(pyshape_placer_place(p, "c", s, &w), PYSHAPE_EINVAL, "NaN");
  s[3] = -1.0f;
  EXPECT_ERR(pyshape_placer_place(p, "c", s, &w), PYSHAPE_EINVAL, "negative");
  EXPECT_ERR(pyshape_placer_place(p, NULL, s, &w), PYSHAPE_EINVAL, "NULL");
  EXPECT(pyshape_placer_n_items(p) == 1 && pyshape_placer_n_workers(p) == 1);
  EXPECT(pyshape_placer_worker_of(p, "a", &w) == PYSHAPE_OK && w == 0);
  EXPECT(pyshape_placer_worker_of(p, "zz", &w) == PYSHAPE_OK && w == -1);
  EXPECT(pyshape_placer_load(p, 0, load) == PYSHAPE_OK && load[0] == 6.0f);
  EXPECT_ERR(pyshape_placer_load(p, 1, load), PYSHAPE_EINVAL, "no such worker");
  EXPECT_ERR(pyshape_placer_remove(p, "zz", &w), PYSHAPE_EUNKNOWN_ID, "not placed");
  { /* ids: the size first, then the ids; a short buffer is refused and left alone */
    char ids[8] = "#######";
    size_t size = 99;
    int64_t ws[1] = {-9};
    EXPECT(pyshape_placer_ids(p, NULL, 0, &size, NULL) == PYSHAPE_OK && size == 2);
    EXPECT_ERR(pyshape_placer_ids(p, ids, 1, &size, NULL), PYSHAPE_EINVAL, "too small");
    EXPECT(size == 2 && ids[0] == '#');
    EXPECT_ERR(pyshape_placer_ids(p, ids, sizeof ids, NULL, ws), PYSHAPE_EINVAL, "required");
    EXPECT(pyshape_placer_ids(p, ids, sizeof ids, &size, ws) == PYSHAPE_OK && strcmp(ids, "a") == 0 &&
           ws[0] == 0 && ids[2] == '#');
  }

  EXPECT(pyshape_placer_snapshot(p, &snap, &snap_size) == PYSHAPE_OK && snap_size > 16);
  EXPECT(pyshape_placer_restore(snap, snap_size, &q) == PYSHAPE_OK && pyshape_placer_n_items(q) == 1);
  pyshape_placer_free(q);
  q = NULL;
  ((unsigned char*)snap)[snap_size / 2] ^= 1u;
  EXPECT_ERR(pyshape_placer_restore(snap, snap_size, &q), PYSHAPE_ECORRUPT, "checksum");
  EXPECT(q == NULL);
  EXPECT_ERR(pyshape_placer_restore(snap, 5, &q), PYSHAPE_ECORRUPT, "snapshot");
  EXPECT_ERR(pyshape_placer_restore("hello world, not a snapshot", 27, &q), PYSHAPE_ECORRUPT, "magic");
  pyshape_free(snap);

  snprintf(path, sizeof path, "%s/placer.snap", dir);
  EXPECT(pyshape_placer_save(p, path) == PYSHAPE_OK);
  EXPECT(pyshape_placer_restore_file(path, &q) == PYSHAPE_OK && pyshape_placer_worker_of(q, "a", &w) == PYSHAPE_OK &&
         w == 0);
  pyshape_placer_free(q);
  q = NULL;
  snprintf(path, sizeof path, "%s/no/such/dir/placer.snap", dir);
  EXPECT_ERR(pyshape_placer_save(p, path), PYSHAPE_EIO, "no/such/dir");
  EXPECT_ERR(pyshape_placer_restore_file(path, &q), PYSHAPE_EIO, "cannot open");

  EXPECT(pyshape_placer_remove(p, "a", &w) == PYSHAPE_OK && w == 0 && pyshape_placer_n_items(p) == 0);
  EXPECT(pyshape_placer_load(p, 0, load) == PYSHAPE_OK && load[0] == 0.0f);
  pyshape_placer_free(p);
  pyshape_placer_free(NULL);
  pyshape_free(NULL);

  if (failures) {
    printf("%d check(s) failed\n", failures);
    return 1;
  }
  printf("ok\n");
  return 0;
}
