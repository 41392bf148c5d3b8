// place_bitbrains in Go (cgo): packs a shapes file with pyshape's engine and
// prints "id,worker" lines then a summary, exactly as examples/c does.
//
//	python examples/export_shapes.py day0.bin
//	CGO_CFLAGS="-I$PREFIX/include" CGO_LDFLAGS="$PREFIX/lib/libpyshape.a -lstdc++ -lm -lpthread" go build -o place_bitbrains .
//	./place_bitbrains day0.bin 32000 64
package main

/*
#include <stdlib.h>
#include <pyshape/pyshape.h>
*/
import "C"

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"unsafe"
)

// Plan is the result of Pack: the worker of every shape and the plan's figures.
type Plan struct {
	Assignment  []int64
	Workers     int
	LowerBound  int
	PeakWorkers int
}

// Pack places n shapes (n*R*T float32, C order) on workers of the given
// capacity (one per resource) with pyshape.pack's defaults.
func Pack(shapes []float32, n, R, T int, capacity []float64) (*Plan, error) {
	if len(shapes) != n*R*T || len(capacity) != R || n == 0 {
		return nil, errors.New("pack: sizes disagree")
	}
	var opt C.pyshape_pack_options
	C.pyshape_pack_options_init(&opt)
	assign := make([]int64, n)
	var fig C.pyshape_plan_figures
	// Go memory passed for the call's duration only (cgo pointer rules hold: no Go pointers inside).
	st := C.pyshape_pack((*C.float)(unsafe.Pointer(&shapes[0])), C.size_t(n), C.size_t(R), C.size_t(T),
		(*C.double)(unsafe.Pointer(&capacity[0])), nil, &opt, (*C.int64_t)(unsafe.Pointer(&assign[0])), &fig)
	if st != C.PYSHAPE_OK {
		return nil, fmt.Errorf("pyshape_pack: %s: %s", C.GoString(C.pyshape_status_name(st)), C.GoString(C.pyshape_last_error()))
	}
	return &Plan{assign, int(fig.n_workers), int(fig.lower_bound), int(fig.peak_workers)}, nil
}

// readShapes reads the file written by examples/export_shapes.py.
func readShapes(path string) (ids []string, shapes []float32, n, R, T int, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	if len(data) < 20 || string(data[:8]) != "PYSHSET1" {
		err = fmt.Errorf("%s: not a shapes file", path)
		return
	}
	le := binary.LittleEndian
	n, R, T = int(le.Uint32(data[8:])), int(le.Uint32(data[12:])), int(le.Uint32(data[16:]))
	pos := 20
	for i := 0; i < n; i++ {
		if pos+4 > len(data) {
			err = fmt.Errorf("%s: truncated ids", path)
			return
		}
		k := int(le.Uint32(data[pos:]))
		if pos+4+k > len(data) {
			err = fmt.Errorf("%s: truncated ids", path)
			return
		}
		ids = append(ids, string(data[pos+4:pos+4+k]))
		pos += 4 + k
	}
	if len(data)-pos != 4*n*R*T {
		err = fmt.Errorf("%s: truncated shapes", path)
		return
	}
	shapes = make([]float32, n*R*T)
	for i := range shapes {
		shapes[i] = math.Float32frombits(le.Uint32(data[pos+4*i:]))
	}
	return
}

func main() {
	if api := int(C.pyshape_api_version()); api/1000 != C.PYSHAPE_API_VERSION_MAJOR || api%1000 < C.PYSHAPE_API_VERSION_MINOR {
		fmt.Fprintf(os.Stderr, "libpyshape API %d does not serve this program (built for %d)\n", api, C.PYSHAPE_API_VERSION)
		os.Exit(1)
	}
	if len(os.Args) < 3 {
		fmt.Fprintf(os.Stderr, "usage: %s SHAPES.bin CAPACITY_1 [CAPACITY_2 ...]\n", os.Args[0])
		os.Exit(2)
	}
	ids, shapes, n, R, T, err := readShapes(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if len(os.Args)-2 != R {
		fmt.Fprintf(os.Stderr, "need %d capacities (one per resource), got %d\n", R, len(os.Args)-2)
		os.Exit(2)
	}
	capacity := make([]float64, R)
	for r := range capacity {
		if capacity[r], err = strconv.ParseFloat(os.Args[2+r], 64); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	plan, err := Pack(shapes, n, R, T, capacity)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	for i, id := range ids {
		fmt.Fprintf(w, "%s,%d\n", id, plan.Assignment[i])
	}
	fmt.Fprintf(w, "# workers=%d lower_bound=%d peak_workers=%d simd=%s\n", plan.Workers, plan.LowerBound,
		plan.PeakWorkers, C.GoString(C.pyshape_simd_level()))
}
