/*
 * pyshape.h: the C API of pyshape's engine (libpyshape), for schedulers and
 * other programs that embed it without Python. C89/C99 and C++ compatible.
 *
 * The functions below call the same C++ code as the Python package (pyshape
 * on PyPI), so on the same float32 input they give the same results:
 * pyshape_pack the same assignment, worker count, lower bound and peak-based
 * baseline as pyshape.pack; pyshape_top_partners the same partners and scores
 * (bit for bit) as pyshape.top_partners; the placer the same workers as
 * pyshape.Placer, and its snapshots are the Python Placer's (either side
 * restores the other's); on worker types (API 1.2) pyshape_pack_typed the
 * plan of pyshape.pack(shapes, WorkerTypes(...)); pyshape_plan_verify the
 * decision of pyshape.Plan.verify.
 *
 * Conventions
 * -----------
 * - Every function that can fail returns a pyshape_status: PYSHAPE_OK (0) or
 *   an error code. On an error a message is kept for the calling thread and
 *   pyshape_last_error() returns it; the outputs are then unspecified, and an
 *   object (placer) is left as it was before the call. Successful calls leave
 *   the message alone. No C++ exception ever crosses this interface (out of
 *   memory is PYSHAPE_ENOMEM).
 * - Arrays are dense, row-major (C order), float32 for shapes: a set of n
 *   shapes of R resources over T steps is n * R * T floats, shape i resource r
 *   step t at [(i * R + r) * T + t]. The caller owns every array it passes
 *   and every output buffer (sized as documented); the library keeps no
 *   pointer to them after the call returns.
 * - Objects (pyshape_placer) are created by the library and released with
 *   their _free function; buffers the library allocates (snapshots) are
 *   released with pyshape_free().
 * - n_threads: threads to use, 0 for all CPUs available to the process.
 *   Results never depend on it.
 *
 * Thread safety
 * -------------
 * All functions may be called from any thread and concurrently, except:
 * pyshape_set_simd_level() (call it before anything else runs), and a
 * pyshape_placer, which is not synchronised: calls on one placer must not
 * overlap unless all of them only read (worker_of, load, shape, n_workers,
 * n_items, ids, snapshot, save; not score, which keeps per-worker sums it
 * computes). Different placers are independent.
 *
 * Compatibility
 * -------------
 * PYSHAPE_API_VERSION is MAJOR * 1000 + MINOR of the header you compile
 * against; pyshape_api_version() is that of the library you run with. They
 * are compatible when the majors are equal and the library's minor is at
 * least the header's (PYSHAPE_API_COMPATIBLE). Minor versions only add
 * functions; a change to an existing function or struct bumps the major.
 */
#ifndef PYSHAPE_PYSHAPE_H
#define PYSHAPE_PYSHAPE_H

#include <stddef.h>
#include <stdint.h>

#define PYSHAPE_API_VERSION_MAJOR 1
#define PYSHAPE_API_VERSION_MINOR 2
#define PYSHAPE_API_VERSION (PYSHAPE_API_VERSION_MAJOR * 1000 + PYSHAPE_API_VERSION_MINOR)
/* Nonzero when a library reporting api_version serves this header. */
#define PYSHAPE_API_COMPATIBLE(api_version)                               \
  ((api_version) / 1000 == PYSHAPE_API_VERSION_MAJOR &&                   \
   (api_version) % 1000 >= PYSHAPE_API_VERSION_MINOR)

#if defined(_WIN32)
#if defined(PYSHAPE_BUILDING)
#define PYSHAPE_EXPORT __declspec(dllexport)
#else
#define PYSHAPE_EXPORT
#endif
#elif defined(__GNUC__)
#define PYSHAPE_EXPORT __attribute__((visibility("default")))
#else
#define PYSHAPE_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ status */

typedef enum pyshape_status {
  PYSHAPE_OK = 0,
  PYSHAPE_EINVAL = 1,       /* a bad argument: NULL, size 0, NaN/infinite or negative demand, ... */
  PYSHAPE_ENOMEM = 2,       /* out of memory */
  PYSHAPE_ETOOLARGE = 3,    /* a shape's peak exceeds a worker's effective capacity */
  PYSHAPE_EDUPLICATE = 4,   /* the id is already placed */
  PYSHAPE_EUNKNOWN_ID = 5,  /* the id is not placed */
  PYSHAPE_EFULL = 6,        /* no open worker takes the shape and max_workers are open */
  PYSHAPE_EIO = 7,          /* a file could not be read or written */
  PYSHAPE_ECORRUPT = 8,     /* not a snapshot, an unsupported version, or corrupt */
  PYSHAPE_EUNSUPPORTED = 9, /* the CPU lacks the SIMD level asked for */
  PYSHAPE_EINTERNAL = 99    /* a bug: please report it with pyshape_last_error() */
} pyshape_status;

/* The message of the calling thread's last failed call ("" when none). The
 * pointer stays valid until that thread's next failing call. */
PYSHAPE_EXPORT const char* pyshape_last_error(void);
/* A short constant name for a status ("PYSHAPE_EINVAL"). */
PYSHAPE_EXPORT const char* pyshape_status_name(pyshape_status status);

/* ------------------------------------------------------------------ version and SIMD */

/* The library's PYSHAPE_API_VERSION (see Compatibility above). */
PYSHAPE_EXPORT int pyshape_api_version(void);
/* The package version, e.g. "0.1.0" (a constant string). */
PYSHAPE_EXPORT const char* pyshape_version(void);
/* The SIMD level in use: "scalar", "avx2" or "avx512" (a constant string).
 * Chosen once from the CPU; the environment variable PYSHAPE_SIMD forces a
 * lower one. */
PYSHAPE_EXPORT const char* pyshape_simd_level(void);
/* Forces a SIMD level ("scalar", "avx2", "avx512"): PYSHAPE_EUNSUPPORTED when
 * the CPU lacks it, PYSHAPE_EINVAL for an unknown name. Not thread-safe:
 * call it while no other pyshape call runs. */
PYSHAPE_EXPORT pyshape_status pyshape_set_simd_level(const char* level);

/* Frees a buffer the library allocated (pyshape_placer_snapshot). NULL is ignored. */
PYSHAPE_EXPORT void pyshape_free(void* p);

/* ------------------------------------------------------------------ correlation */
/*
 * Shapes are n rows of T floats. Every row is centred and scaled to unit norm
 * internally (into a copy, or on the fly: the input is never modified); a constant row correlates 0
 * with everything. A NaN or infinite value is PYSHAPE_EINVAL naming the row.
 */

/* Pearson correlation of every pair: out[i * m + j] = r(x_i, y_j), out holds
 * n * m floats. y = NULL: x against itself (m is ignored and taken as n; the
 * result is then exactly symmetric). */
PYSHAPE_EXPORT pyshape_status pyshape_pearson(const float* x, size_t n, const float* y, size_t m, size_t T,
                                              float* out, int n_threads);

/* The k most correlated (corr_*) and/or most anti-correlated (anti_*) partners
 * of every query, exact: corr_index/corr_score get, per query, k database rows
 * (int64 indices into x) and their Pearson r, highest first; anti_* the k
 * lowest, lowest first; ties go to the smaller index. Each output is
 * n_queries * k values (row-major); pass NULL for both arrays of a side you
 * do not want (at least one side is needed).
 * queries = NULL: partners of x's own rows among the other rows (n_queries is
 * ignored and taken as n; 1 <= k <= n - 1); otherwise 1 <= k <= n.
 * This is the brute-force search (every pair scored by blocked SIMD
 * products; pyshape_top_partners_method below offers the faster ones);
 * pyshape.top_partners in Python returns bitwise the same result with any
 * method ('bruteforce', 'pruned', 'int8' or 'auto'), as all sum every score
 * in the same order. */
PYSHAPE_EXPORT pyshape_status pyshape_top_partners(const float* x, size_t n, size_t T, const float* queries,
                                                   size_t n_queries, int k, int64_t* corr_index,
                                                   float* corr_score, int64_t* anti_index, float* anti_score,
                                                   int n_threads);

/* Search methods of pyshape_top_partners_method (the values of Python's
 * top_partners(method=...)); every method gives bitwise the same result. */
typedef enum {
  PYSHAPE_TOPK_AUTO = 0,       /* the cost model's choice, as Python's method='auto' */
  PYSHAPE_TOPK_BRUTEFORCE = 1, /* every pair scored by blocked float32 products */
  PYSHAPE_TOPK_INT8 = 2,       /* int8 candidates with rigorous error bounds, exact re-scoring; T <= 65536 */
  PYSHAPE_TOPK_PRUNED = 3      /* low-rank pruning: Python only (its plan is NumPy code); EINVAL here */
} pyshape_topk_method;

/* The method PYSHAPE_TOPK_AUTO runs for n database shapes of T steps and
 * n_queries queries (n_queries = n for the partners of x's own rows): the
 * same cost model (C++) as pyshape.top_partners(method='auto'), so the same
 * choice: PYSHAPE_TOPK_INT8 wherever it applies (T <= 65536) and the work
 * n_queries * n * T is at least 2e9, PYSHAPE_TOPK_BRUTEFORCE otherwise.
 * (For T > 65536 and large work, Python may run low-rank pruning where a plan
 * made on a sample predicts a clear win; this API runs brute force there.)
 * Added in API version 1.2. */
PYSHAPE_EXPORT pyshape_topk_method pyshape_top_partners_auto_method(size_t n, size_t T, size_t n_queries);

/* pyshape_top_partners with a choice of method (PYSHAPE_TOPK_AUTO,
 * PYSHAPE_TOPK_BRUTEFORCE or PYSHAPE_TOPK_INT8; PYSHAPE_TOPK_INT8 needs
 * T <= 65536). method_run (may be NULL) gets the method that ran. The result
 * is bitwise that of pyshape_top_partners whatever the method. 'int8' makes
 * no float copy of the rows (they are normalised on the fly from 16 bytes of
 * per-row scale, bitwise the same rows): it holds about 3 n T bytes of int8
 * copies, plus 3 n_queries T when queries are given or the CPU lacks
 * AVX-512 VNNI. Added in API version 1.2. */
PYSHAPE_EXPORT pyshape_status pyshape_top_partners_method(const float* x, size_t n, size_t T, const float* queries,
                                                          size_t n_queries, int k, int64_t* corr_index,
                                                          float* corr_score, int64_t* anti_index,
                                                          float* anti_score, int n_threads, int method,
                                                          int* method_run);

/* Lagged correlation: for every pair, the maximum over shifts s in
 * [-max_lag, max_lag] of the normalised cross-correlation
 * sum_t u_x[t] u_y[t - s] (score, n * m floats) and the shift attaining it
 * (lag, n * m int32). y = NULL: x against itself (m taken as n).
 * 0 <= max_lag <= T - 1. Same as pyshape.lagged_correlation(method='auto'). */
PYSHAPE_EXPORT pyshape_status pyshape_lagged_correlation(const float* x, size_t n, const float* y, size_t m,
                                                         size_t T, size_t max_lag, float* score, int32_t* lag,
                                                         int n_threads);

/* ------------------------------------------------------------------ batch packing */

typedef enum pyshape_strategy {
  PYSHAPE_COMPLEMENT = 0, /* correlation-aware greedy (the placer's default) */
  PYSHAPE_FIRST_FIT = 1,
  PYSHAPE_BEST_FIT = 2,
  PYSHAPE_PEAK = 3, /* first-fit decreasing on peaks (the request-based baseline); pack only */
  PYSHAPE_AUTO = 4  /* portfolio of greedy rules + local search (pack's default); pack only */
} pyshape_strategy;

/* Options of pyshape_pack; pyshape_pack_options_init() sets the defaults of
 * pyshape.pack (always call it first: later versions may add fields). */
typedef struct pyshape_pack_options {
  pyshape_strategy strategy; /* PYSHAPE_AUTO */
  double risk;               /* fraction of steps a worker may be over capacity, [0, 1): 0 */
  int candidates;            /* complement: fitting workers compared per shape (0: all): 8 */
  int improve;               /* complement: drain passes after construction: 2 */
  size_t shard_size;         /* above this many shapes, independent shards (0: one): 32768 */
  int n_threads;             /* 0: all CPUs */
} pyshape_pack_options;

PYSHAPE_EXPORT void pyshape_pack_options_init(pyshape_pack_options* options);

/* The figures of a plan, as in pyshape.Plan. */
typedef struct pyshape_plan_figures {
  size_t n_workers;    /* workers the plan uses (numbered 0 .. n_workers - 1) */
  size_t lower_bound;  /* max_r ceil(max_t sum_i D[i, r, t] / C_eff[r]) (at least 1) */
  size_t peak_workers; /* workers of the peak-based baseline on the same input */
} pyshape_plan_figures;

/* Packs n shapes (n * R * T floats, non-negative and finite) onto workers of
 * capacity[R] (positive) with headroom[R] (a fraction in [0, 1) kept free;
 * NULL: 0): plans are made against capacity * (1 - headroom). Writes the
 * worker of every shape to assignment[n] and the figures to *figures (may be
 * NULL). options NULL: the defaults. Every shape must fit an empty worker:
 * otherwise PYSHAPE_ETOOLARGE and the message lists the rows. Deterministic:
 * the same input gives the same plan (for any n_threads), and the same plan
 * as pyshape.pack(shapes, capacity, headroom=..., ...) in Python. */
PYSHAPE_EXPORT pyshape_status pyshape_pack(const float* shapes, size_t n, size_t R, size_t T,
                                           const double* capacity, const double* headroom,
                                           const pyshape_pack_options* options, int64_t* assignment,
                                           pyshape_plan_figures* figures);

/* ---- heterogeneous fleets (API 1.2) */

/* A table of worker types: type t has capacity[t * R + r] of resource r
 * (positive) and costs cost[t] (positive) per worker. */
typedef struct pyshape_worker_types {
  size_t n_types;
  const double* capacity;   /* n_types * R */
  const double* cost;       /* n_types */
  const char* const* names; /* n_types NUL-terminated UTF-8 names (kept in placer snapshots), or NULL: "0", "1", ... */
} pyshape_worker_types;

/* The figures of a plan on worker types, as in pyshape.Plan. */
typedef struct pyshape_typed_figures {
  size_t n_workers;        /* workers the plan uses */
  size_t lower_bound;      /* the worker bound against the largest capacity per resource over the types */
  size_t peak_workers;     /* workers of the peak-based baseline (the same typed policy on the peaks) */
  double cost;             /* the plan's cost: the sum of its workers' type costs */
  double cost_lower_bound; /* no plan costs less (pyshape.packing.cost_lower_bound) */
  double peak_cost;        /* the cost of the peak-based baseline */
} pyshape_typed_figures;

/* pyshape_pack on a fleet of worker types: the plan minimises the total cost
 * of its workers (pyshape.pack(shapes, capacity=WorkerTypes(...)); the policy
 * is documented there and in src/cpp/pack/types.hpp). headroom[R] (NULL: 0)
 * applies to every type. Writes the worker of every shape to assignment[n]
 * and the type (a row of types) of every worker to worker_type, which must
 * have room for n entries (a plan has at most n workers; the first
 * figures->n_workers are written). A shape that fits no type is
 * PYSHAPE_ETOOLARGE, its row in the message; a cost or capacity that is not
 * positive and finite is PYSHAPE_EINVAL naming the type. A table of one type
 * gives the plan pyshape_pack gives for that capacity. */
PYSHAPE_EXPORT pyshape_status pyshape_pack_typed(const float* shapes, size_t n, size_t R, size_t T,
                                                 const pyshape_worker_types* types, const double* headroom,
                                                 const pyshape_pack_options* options, int64_t* assignment,
                                                 int32_t* worker_type, pyshape_typed_figures* figures);

/* ---- plan verification (API 1.2) */

/* What pyshape.Plan.verify decides (the same code): see pyshape_plan_verify. */
typedef struct pyshape_verify_report {
  int ok;               /* 1 when the plan is feasible */
  size_t allowed_steps; /* floor(risk * T): steps a worker may be over */
  size_t out_of_range;  /* assignment entries outside [0, n_workers) */
  size_t empty_workers; /* workers holding no shape */
  size_t workers_over;  /* workers over capacity at more than allowed_steps steps */
  char message[512];    /* "" when ok, else Plan.verify's message (cut to 511 bytes) */
} pyshape_verify_report;

/* Re-checks a plan from the shapes and the assignment alone (float64 sums):
 * every entry in [0, n_workers), no empty worker, and every worker w within
 * worker_capacity[w * R + r] * (1 - headroom[r]) (headroom NULL: 0) at all
 * but floor(risk * T) steps, with a float32 allowance of (k + 1) * 2^-23 *
 * capacity for a worker holding k shapes. worker_capacity is each worker's
 * own capacity (n_workers * R; on worker types, its type's row). Optional
 * outputs: steps_over[n_workers] (steps over per worker), max_excess[R] (the
 * largest load - capacity, at least 0). A plan that is not feasible is still
 * PYSHAPE_OK with report->ok = 0; PYSHAPE_EINVAL is for bad arguments. */
PYSHAPE_EXPORT pyshape_status pyshape_plan_verify(const float* shapes, size_t n, size_t R, size_t T,
                                                  const int64_t* assignment, size_t n_workers,
                                                  const double* worker_capacity, const double* headroom,
                                                  double risk, int64_t* steps_over, double* max_excess,
                                                  pyshape_verify_report* report);

/* ------------------------------------------------------------------ online placer */

/* One workload at a time onto a growing fleet of workers, with removal and
 * snapshots (pyshape.Placer). Not synchronised: see Thread safety. */
typedef struct pyshape_placer pyshape_placer;

/* Options of a placer; pyshape_placer_options_init() sets the defaults of
 * pyshape.Placer (always call it first). */
typedef struct pyshape_placer_options {
  pyshape_strategy strategy; /* PYSHAPE_COMPLEMENT, PYSHAPE_FIRST_FIT or PYSHAPE_BEST_FIT */
  double risk;               /* [0, 1): 0 */
  int candidates;            /* 8 */
  int64_t max_workers;       /* 0: no limit */
  int64_t scan_limit;        /* workers examined per place, newest first (0: all, oldest first): 256 */
} pyshape_placer_options;

PYSHAPE_EXPORT void pyshape_placer_options_init(pyshape_placer_options* options);

/* A new empty placer for shapes of R resources over T steps; capacity[R] and
 * headroom[R] (NULL: 0) as in pyshape_pack; options NULL: the defaults.
 * Release it with pyshape_placer_free(). */
PYSHAPE_EXPORT pyshape_status pyshape_placer_create(size_t R, size_t T, const double* capacity,
                                                    const double* headroom, const pyshape_placer_options* options,
                                                    pyshape_placer** out);
/* A new empty placer on worker types (API 1.2; pyshape.Placer(WorkerTypes(...), T)):
 * a new worker opens as the cheapest type (lowest cost, then lowest index)
 * whose effective capacity holds the shape's peak and keeps that type; every
 * fit test and score uses the worker's own capacity. A shape that fits no
 * type is PYSHAPE_ETOOLARGE. Snapshots carry the types (format version 4). */
PYSHAPE_EXPORT pyshape_status pyshape_placer_create_typed(size_t R, size_t T, const pyshape_worker_types* types,
                                                          const double* headroom,
                                                          const pyshape_placer_options* options,
                                                          pyshape_placer** out);
/* *type = the type of worker (a row of the placer's types), or -1 for a
 * placer without types. PYSHAPE_EINVAL when worker >= n_workers. (API 1.2) */
PYSHAPE_EXPORT pyshape_status pyshape_placer_worker_type(const pyshape_placer* placer, size_t worker,
                                                         int32_t* type);
/* Releases a placer (NULL is ignored). */
PYSHAPE_EXPORT void pyshape_placer_free(pyshape_placer* placer);

/* Ids are NUL-terminated UTF-8 strings (the same ids as Python str ids in a
 * snapshot). */

/* Places shape (R * T floats) under id; *worker (may be NULL) gets its worker.
 * PYSHAPE_EDUPLICATE, PYSHAPE_ETOOLARGE, PYSHAPE_EFULL, PYSHAPE_EINVAL (NaN,
 * infinite or negative values): the placer is unchanged. */
PYSHAPE_EXPORT pyshape_status pyshape_placer_place(pyshape_placer* placer, const char* id, const float* shape,
                                                   int64_t* worker);
/* Removes id; *worker (may be NULL) gets the worker it was on. PYSHAPE_EUNKNOWN_ID. */
PYSHAPE_EXPORT pyshape_status pyshape_placer_remove(pyshape_placer* placer, const char* id, int64_t* worker);
/* *worker = the worker of id, or -1 when it is not placed. */
PYSHAPE_EXPORT pyshape_status pyshape_placer_worker_of(const pyshape_placer* placer, const char* id,
                                                       int64_t* worker);
/* Workers opened so far (empty ones included) and workloads placed. */
PYSHAPE_EXPORT size_t pyshape_placer_n_workers(const pyshape_placer* placer);
PYSHAPE_EXPORT size_t pyshape_placer_n_items(const pyshape_placer* placer);
/* The load of a worker (the sum of its members' shapes) to out (R * T floats).
 * PYSHAPE_EINVAL when worker >= n_workers. */
PYSHAPE_EXPORT pyshape_status pyshape_placer_load(const pyshape_placer* placer, size_t worker, float* out);

/* ---- scores for a scheduler's own loop (API 1.1) */

/* Outputs of pyshape_placer_score, each optional (NULL: not computed; a
 * field left NULL also saves its work). Per candidate k and resource r at
 * [k * R + r]; "capacity" is the effective capacity capacity * (1 - headroom). */
typedef struct pyshape_scores {
  double* new_peak;    /* n * R: max_t (load + shape)[r, t] / capacity[r] */
  double* peak_rise;   /* n * R: new peak - the load's current peak, / capacity[r] */
  double* covariance;  /* n * R: (sum_t L s - sum_t L * sum_t s / T) / T (population covariance) */
  double* correlation; /* n * R: Pearson r of load and shape (0 when either is constant) */
  int64_t* steps_over; /* n: steps t where (load + shape)[r, t] > threshold * capacity[r] for some r */
  uint8_t* fits;       /* n: 1 when the placer's fit rule (capacity, risk budget) accepts the shape there */
} pyshape_scores;

/* Scores of shape (R * T floats) on n candidate workers (indices < n_workers;
 * repeats allowed; workers NULL: every open worker, n ignored) without
 * placing it: what pyshape.Placer.score returns, the same bits. threshold > 0
 * (1.0: steps over capacity). Cost: with covariance or correlation, each
 * candidate's whole load is read once (O(n R T)); without them the peaks,
 * steps and fits come from per-block maxima and minima, and only the blocks
 * those bounds leave open are read (usually a few cache lines per
 * candidate; the same bits). PYSHAPE_EINVAL for a worker out of range, a bad
 * threshold, NaN / infinite / negative values. Allocates nothing per call
 * once the placer has scored a shape. Changes nothing that placement reads,
 * but is not a read-only call (see Thread safety). */
PYSHAPE_EXPORT pyshape_status pyshape_placer_score(pyshape_placer* placer, const float* shape,
                                                   const int64_t* workers, size_t n, double threshold,
                                                   const pyshape_scores* out);

/* ---- live updates (API 1.1) */

/* Replaces the shape of the placed id with shape (R * T floats): it stays on
 * its worker. *fits (may be NULL) gets 1 when the worker still passes the fit
 * rule, 0 when it is now over capacity: the new shape is kept either way
 * ("report, don't move"; move it with remove + place). A worker over capacity
 * takes nothing more until it is back under. Cost O(m R T), m the members of
 * the worker (its load is recomputed from them). PYSHAPE_EUNKNOWN_ID;
 * PYSHAPE_EINVAL for NaN / infinite / negative values (nothing changes). */
PYSHAPE_EXPORT pyshape_status pyshape_placer_update(pyshape_placer* placer, const char* id, const float* shape,
                                                    int* fits);

/* Advances the window of every placed shape by k steps (1 <= k <= T): the
 * oldest k steps drop and k new ones come in at the end. values holds
 * n_items rows of R * k floats (row i, resource r, new step j at
 * [(i * R + r) * k + j]); ids[i] names the id of row i (every placed id
 * exactly once), or ids NULL: rows in the placer's own order (worker 0's
 * members in placement order, then worker 1's, ...: pyshape.Placer.ids()).
 * *n_over (may be NULL) gets the number of workers over capacity afterwards.
 * Shapes and loads are ring buffers: cost O(n R k + W R (k + block)) plus
 * O(W), no pass over whole shapes. Everything is checked before anything
 * changes (PYSHAPE_EINVAL). */
PYSHAPE_EXPORT pyshape_status pyshape_placer_advance(pyshape_placer* placer, size_t k, const char* const* ids,
                                                     const float* values, size_t* n_over);

/* ---- listing (API 1.2) */

/* Every placed id and its worker, in pyshape.Placer.ids() order (worker 0's
 * members in placement order, then worker 1's, ...: the row order of
 * pyshape_placer_advance with ids NULL); there are pyshape_placer_n_items of
 * them. *size (required) gets the bytes the ids take, each followed by its
 * NUL. buffer NULL: only *size (and workers). Otherwise buffer (capacity
 * bytes, owned by the caller) gets the ids one after another, each
 * NUL-terminated; when capacity < *size, PYSHAPE_EINVAL and buffer is left
 * alone (*size is still set: call again with that much). workers (may be
 * NULL; n_items entries, owned by the caller) gets the worker of the i-th
 * id, as pyshape_placer_worker_of gives it. An id placed from Python as an
 * int is listed as its decimal digits (a Python str id holding a NUL
 * character cannot be told from two ids here). Read-only (see Thread
 * safety). */
PYSHAPE_EXPORT pyshape_status pyshape_placer_ids(const pyshape_placer* placer, char* buffer, size_t capacity,
                                                 size_t* size, int64_t* workers);

/* The current shape of id (after updates and advances) to out (R * T floats). PYSHAPE_EUNKNOWN_ID. */
PYSHAPE_EXPORT pyshape_status pyshape_placer_shape(const pyshape_placer* placer, const char* id, float* out);

/* The whole state as bytes: *data (release with pyshape_free) and *size. */
PYSHAPE_EXPORT pyshape_status pyshape_placer_snapshot(const pyshape_placer* placer, void** data, size_t* size);
/* A new placer from snapshot bytes (format version 3, or 4 for a placer on
 * worker types (API 1.2); versions 1 and 2, written before API 1.1, are read
 * too). PYSHAPE_ECORRUPT when they are not
 * a valid snapshot. */
PYSHAPE_EXPORT pyshape_status pyshape_placer_restore(const void* data, size_t size, pyshape_placer** out);
/* The snapshot written to path atomically (a temporary file, fsync, rename). */
PYSHAPE_EXPORT pyshape_status pyshape_placer_save(const pyshape_placer* placer, const char* path);
/* A new placer from a snapshot file. */
PYSHAPE_EXPORT pyshape_status pyshape_placer_restore_file(const char* path, pyshape_placer** out);

#ifdef __cplusplus
}
#endif

#endif /* PYSHAPE_PYSHAPE_H */
