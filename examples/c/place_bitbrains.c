/*
 * place_bitbrains: pack a set of workload shapes with pyshape's engine and
 * print the plan, as a scheduler embedding pyshape would.
 *
 *   python examples/export_shapes.py day0.bin       # the bundled Bitbrains day (250 VMs, CPU + memory)
 *   ./place_bitbrains day0.bin 32000 64              # one capacity per resource
 *
 * Prints "id,worker" for every shape (input order), then one summary line:
 *   # workers=W lower_bound=L peak_workers=P simd=LEVEL
 * The placements are those of pyshape.pack(shapes, capacity) in Python.
 *
 * The file (see examples/export_shapes.py): "PYSHSET1", u32 n, R, T, n ids
 * (u32 length + bytes), n*R*T float32, little-endian.
 */
#include <pyshape/pyshape.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_u32(FILE* f, uint32_t* v) {
  unsigned char b[4];
  if (fread(b, 1, 4, f) != 4) return 0;
  *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
  return 1;
}

int main(int argc, char** argv) {
  FILE* f;
  char magic[8];
  uint32_t n, R, T, i, r;
  char** ids;
  float* shapes;
  double* capacity;
  int64_t* assignment;
  pyshape_plan_figures fig;
  pyshape_pack_options opt;
  pyshape_status st;
  size_t count;

  if (!PYSHAPE_API_COMPATIBLE(pyshape_api_version())) {
    fprintf(stderr, "libpyshape API %d does not serve this program (built for %d)\n", pyshape_api_version(),
            PYSHAPE_API_VERSION);
    return 1;
  }
  if (argc < 3) {
    fprintf(stderr, "usage: %s SHAPES.bin CAPACITY_1 [CAPACITY_2 ...]\n", argv[0]);
    return 2;
  }
  f = fopen(argv[1], "rb");
  if (!f || fread(magic, 1, 8, f) != 8 || memcmp(magic, "PYSHSET1", 8) != 0 || !read_u32(f, &n) ||
      !read_u32(f, &R) || !read_u32(f, &T)) {
    fprintf(stderr, "%s: not a shapes file\n", argv[1]);
    return 1;
  }
  if ((uint32_t)(argc - 2) != R) {
    fprintf(stderr, "need %u capacities (one per resource), got %d\n", R, argc - 2);
    return 2;
  }
  ids = (char**)calloc(n, sizeof(char*));
  for (i = 0; i < n; ++i) {
    uint32_t len;
    if (!read_u32(f, &len) || !(ids[i] = (char*)malloc(len + 1)) || fread(ids[i], 1, len, f) != len) {
      fprintf(stderr, "%s: truncated ids\n", argv[1]);
      return 1;
    }
    ids[i][len] = '\0';
  }
  count = (size_t)n * R * T;
  shapes = (float*)malloc(count * sizeof(float)); /* little-endian host assumed (x86-64, arm64) */
  if (!shapes || fread(shapes, sizeof(float), count, f) != count) {
    fprintf(stderr, "%s: truncated shapes\n", argv[1]);
    return 1;
  }
  fclose(f);

  capacity = (double*)malloc(R * sizeof(double));
  for (r = 0; r < R; ++r) capacity[r] = strtod(argv[2 + r], NULL);
  assignment = (int64_t*)malloc(n * sizeof(int64_t));

  pyshape_pack_options_init(&opt); /* pyshape.pack's defaults: complement, improve=2, ... */
  st = pyshape_pack(shapes, n, R, T, capacity, NULL, &opt, assignment, &fig);
  if (st != PYSHAPE_OK) {
    fprintf(stderr, "pyshape_pack: %s: %s\n", pyshape_status_name(st), pyshape_last_error());
    return 1;
  }
  for (i = 0; i < n; ++i) printf("%s,%lld\n", ids[i], (long long)assignment[i]);
  printf("# workers=%zu lower_bound=%zu peak_workers=%zu simd=%s\n", fig.n_workers, fig.lower_bound,
         fig.peak_workers, pyshape_simd_level());

  for (i = 0; i < n; ++i) free(ids[i]);
  free(ids);
  free(shapes);
  free(capacity);
  free(assignment);
  return 0;
}
