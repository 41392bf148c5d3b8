"""Type stub for pyshape's compiled core (private: use the pyshape package).

Every array argument is a C-contiguous float32 array already validated and,
where the function says so, made of unit-norm rows (pyshape.correlate does
both). Kernels release the GIL; ``progress`` is ``None`` or a callable
``f(done, total)`` called from the calling thread at most every 50 ms.
"""
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np
import numpy.typing as npt
from numpy.typing import ArrayLike

__version__: str

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
Progress = Optional[Callable[[int, int], None]]
TopK = Tuple[Optional[I64], Optional[F32], Optional[I64], Optional[F32]]

def simd_level() -> str:
    """The SIMD level in use: 'scalar', 'avx2' or 'avx512'."""

def available_simd_levels() -> list[str]:
    """SIMD levels this CPU supports, best last."""

def set_simd_level(level: str) -> None:
    """Force a SIMD level (ValueError if unknown, unsupported or disabled by its self-test)."""

def _selftest(level: str, force_fail: bool = False) -> list[str]:
    """Run a level's known-answer self-test now: its failures ('kernel: what'), empty when it passes.
    force_fail corrupts one result first (a test hook; PYSHAPE_SIMD_SELFTEST_FAIL=<level> does
    the same for the self-test at import)."""

def default_threads() -> int:
    """Threads used when n_threads is 0 (hardware concurrency)."""

def kernel_tile() -> Tuple[int, int]:
    """Micro-tile (rows, columns) of the active level."""

def normalize_rows(x: F32, scale: float, n_threads: int = 0) -> Tuple[F32, int]:
    """Centre rows and scale them to norm ``scale``; returns (out, first non-finite row or -1)."""

def row_scales(x: F32, scale: float, n_threads: int = 0) -> Tuple[npt.NDArray[np.float64], int]:
    """normalize_rows' per-row (mean, factor) as an (n, 2) float64 array (factor 0: a constant row);
    returns (scales, first non-finite row or -1)."""

def pearson(u: F32, v: Optional[F32] = None, n_threads: int = 0, progress: Progress = None) -> F32:
    """All-pairs dot products of unit-norm rows (u against itself when v is None)."""

def topk(db: F32, queries: Optional[F32] = None, *, k: int, want_pos: bool = True, want_neg: bool = True,
         n_threads: int = 0, progress: Progress = None) -> TopK:
    """Exact top-k partners of unit-norm rows by brute force: (pos_index, pos_score, neg_index, neg_score)."""

def topk_pruned(db: F32, db_proj: F32, db_res: F32, db_order: Optional[I64], queries: Optional[F32],
                q_proj: Optional[F32], q_res: Optional[F32], q_order: Optional[I64], *, k: int,
                want_pos: bool, want_neg: bool, margin: float, n_threads: int = 0,
                progress: Progress = None) -> Tuple[Optional[I64], Optional[F32], Optional[I64], Optional[F32],
                                                    int, int]:
    """Exact top-k with low-rank bounds; rows come back in processing order, followed by the
    number of (row, panel) jobs and of whole tiles scored exactly."""

def topk_int8(db: F32, queries: Optional[F32] = None, *, k: int, want_pos: bool = True, want_neg: bool = True,
              n_threads: int = 0, progress: Progress = None, db_scale: Optional[npt.NDArray[np.float64]] = None,
              q_scale: Optional[npt.NDArray[np.float64]] = None
              ) -> Tuple[Optional[I64], Optional[F32], Optional[I64], Optional[F32], Dict[str, Any]]:
    """Exact top-k with int8 candidates (bitwise equal to topk), then a dict of statistics
    (pairs given the level-2 check, candidates re-scored, warm-up pairs, the rounding margin delta).
    With db_scale (and q_scale when queries are given): row_scales of the raw rows db / queries,
    normalised inside as needed (no unit-norm copy)."""

def topk_auto_method(n_queries: int, n: int, T: int, plan_rank: Optional[int] = None,
                     est_cost_ratio: Optional[float] = None) -> str:
    """The method top_partners(method='auto') runs (the C API's choice too): 'bruteforce' or 'int8',
    or 'pruned' meaning 'make a low-rank plan and ask again with its rank and estimate'."""

def q8_bounds(q: F32, db: F32) -> Tuple[npt.NDArray[np.int32], npt.NDArray[np.float64], npt.NDArray[np.float64],
                                        npt.NDArray[np.float64], npt.NDArray[np.float64], float, str, int]:
    """For tests: int8 products, level-1 approximations and error bounds, level-2 approximations and
    error bounds of every pair at the active level, the margin delta, the int8 variant's name and the
    query-side amax."""

def lagged(u: F32, v: Optional[F32] = None, *, max_lag: int, n_threads: int = 0, progress: Progress = None,
           method: str = "auto") -> Tuple[F32, I32]:
    """Max normalised cross-correlation over lags in [-max_lag, max_lag] and the lag attaining it;
    method is 'auto', 'direct' or 'fft'."""

# --- clustering (src/cpp/cluster, bindings/bind_cluster.cpp) -----------------------------------
def corr_assign(u: F32, centroids: F32, n_threads: int = 0, progress: Progress = None) -> Tuple[I64, F32]:
    """Nearest centroid by dot product of unit-norm rows (ties: the lower index):
    (labels, best dot product)."""

def corr_assign_sums(u: F32, centroids: F32, n_threads: int = 0,
                     progress: Progress = None) -> Tuple[I64, F32, npt.NDArray[np.float64]]:
    """corr_assign and, in the same pass, the per-cluster sums of the rows by the labels found
    (k x T, float64, bitwise those of label_sums): (labels, best dot product, sums)."""

def label_sums(u: F32, labels: I64, k: int, n_threads: int = 0) -> Tuple[npt.NDArray[np.float64], I64]:
    """Per-cluster sums of rows (k x T, float64, summed in row order) and member counts."""

def sbd_assign(u: F32, centroids: F32, max_shift: int, n_threads: int = 0,
               progress: Progress = None) -> Tuple[I64, F32, I32]:
    """Nearest centroid by the largest normalised cross-correlation over |shift| <= max_shift
    (ties: the lower index): (labels, score, shift); SBD = 1 - score."""

def align_rows(u: F32, rows: I64, shift: I32, n_threads: int = 0) -> F32:
    """out[i, t] = u[rows[i], t + shift[i]] where that index is inside the row, else 0."""


# --------------------------------------------------------------------------- placement (pyshape.pack, pyshape.placer)
class FleetFullError(RuntimeError): ...
class ShapeTooLargeError(ValueError): ...  # pyshape.pack adds .ids and .rows; Placer.place does not
class DuplicateIdError(ValueError): ...
class UnknownIdError(KeyError): ...

def pack_stats(shapes: F32, n_threads: int = 0) -> Tuple[F32, npt.NDArray[np.float64], int, int]:
    """One pass over shapes (n, R, T): per-shape peaks (n, R), total demand (R, T) float64,
    first row with a non-finite value and first row with a negative value (-1 when none)."""

PACK_DEFAULT_CANDIDATES: int
PACK_DEFAULT_IMPROVE: int
PACK_DEFAULT_SHARD_SIZE: int
PACK_DEFAULT_EFFORT: float

def pack(shapes: F32, capacity: F32, order: I64, strategy: str, risk: float = 0.0, candidates: int = 8,
         improve: int = 2, shard_size: int = 32768, n_threads: int = 0, progress: Progress = None,
         effort: float = 1.0) -> Tuple[I64, int]:
    """Pack shapes (n, R, T) in the given order (a permutation) with 'first_fit', 'best_fit',
    'complement' or 'auto' against capacity (R,); returns (assignment, n_workers)."""

def size_order(peaks: F32, eff: F32) -> I64:
    """pack's placement order: rows of peaks (n, R) by decreasing max_r peaks[i, r] / eff[r] (float32),
    ties in input order."""

def pack_plan(shapes: F32, capacity: npt.NDArray[np.float64], headroom: npt.NDArray[np.float64], strategy: str,
              risk: float, candidates: int, improve: int, shard_size: int, n_threads: int = 0,
              progress: Progress = None, effort: float = 1.0, cost: Optional[npt.NDArray[np.float64]] = None
              ) -> Tuple[Optional[I64], int, int, int, npt.NDArray[np.float64], int, int, I64, Optional[I64],
                         float, float, float]:
    """pyshape.pack's policy (src/cpp/pack/policy.hpp, shared with the C API): (assignment or None,
    n_workers, lower_bound, peak_workers, total (R, T), nonfinite_row, negative_row, too_large_rows,
    worker_type or None, cost, cost_lower_bound, peak_cost); the assignment is None when the data has
    a problem, which the rows locate. cost given (n_types,): capacity is a worker type table
    (n_types, R) and the plan minimises cost (src/cpp/pack/types.hpp)."""

def cost_lower_bound(total: npt.NDArray[np.float64], capacity: npt.NDArray[np.float64],
                     cost: npt.NDArray[np.float64], risk: float = 0.0, peaks: Optional[F32] = None) -> float:
    """A lower bound on the cost of any plan on worker types (pyshape.packing.cost_lower_bound)."""

def verify_plan(shapes: F32, assignment: I64, n_workers: int, capacity: npt.NDArray[np.float64],
                headroom: npt.NDArray[np.float64], risk: float, n_threads: int = 0
                ) -> Tuple[bool, I64, npt.NDArray[np.float64], int, str]:
    """Plan.verify's decision (src/cpp/pack/verify.hpp): (ok, steps_over (W,), max_excess (R,),
    allowed_steps, message); capacity is each worker's own, (n_workers, R)."""

def lower_bound(total: npt.NDArray[np.float64], capacity: npt.NDArray[np.float64], risk: float = 0.0) -> int:
    """Fewest workers any plan within the risk budget can use (pyshape.packing.lower_bound)."""

def _repack_exact(shapes: F32, capacity: F32, k: int, max_nodes: int) -> Tuple[int, Optional[I64], int]:
    """Test hook: shapes (n, R, T) onto k empty workers by the local search's exact re-pack;
    (status 1 found / 0 infeasible / -1 node budget spent, assignment or None, nodes)."""
def _improve_typed(shapes: F32, capacity: F32, cost: npt.NDArray[np.float64], assign: I64, worker_type: npt.ArrayLike,
                   budget: int) -> Tuple[I64, I64, Dict[str, Any]]:
    """Test hook: the typed local search from a feasible plan on effective capacities (n_types, R)
    and costs, risk 0; (assign, worker_type, stats: cost_before, cost_after, work, moves)."""

def _squeeze(shapes: F32, capacity: F32, k: int, budget: int, seed: int = 0) -> Tuple[bool, I64, int]:
    """Test hook: shapes (n, R, T) onto k workers by 'auto''s fixed-k squeeze from the least-overflow
    start; (found, assignment (the last state when not found), values compared)."""

class Placer:
    """Online placement state (see pyshape.placer.Placer)."""

    def __init__(self, R: int, T: int, capacity: npt.NDArray[np.float64], headroom: npt.NDArray[np.float64],
                 strategy: str, risk: float, candidates: int, max_workers: int,
                 scan_limit: int = 0) -> None: ...
    def place(self, id: str | int, shape: ArrayLike) -> int: ...
    def remove(self, id: str | int) -> int: ...
    def worker_of(self, id: str | int) -> int: ...
    def contains(self, id: object, /) -> bool: ...  # positional only (no py::arg in the binding)
    @property
    def n_workers(self) -> int: ...
    @property
    def n_items(self) -> int: ...
    @property
    def R(self) -> int: ...
    @property
    def T(self) -> int: ...
    @property
    def capacity(self) -> npt.NDArray[np.float64]: ...
    @property
    def headroom(self) -> npt.NDArray[np.float64]: ...
    @property
    def strategy(self) -> str: ...
    @property
    def risk(self) -> float: ...
    @property
    def candidates(self) -> int: ...
    @property
    def max_workers(self) -> int: ...
    @property
    def scan_limit(self) -> int: ...
    @property
    def _stats(self) -> Tuple[int, int, int]:
        """(full checks, witness rejects, leaves examined) of the fleet index, for tests and benchmarks."""
    def n_members(self, worker: int, /) -> int: ...  # positional only (no py::arg in the binding)
    def load(self, worker: Optional[int] = None) -> npt.NDArray[np.float64]:
        """(R, T) of one worker, (W, R, T) of every worker (None); float64 as Plan.load."""
    def members(self, worker: int) -> npt.NDArray[Any]:
        """Ids on worker as an ndarray (int64, str or object), as Plan.members."""
    def score(self, shape: ArrayLike, workers: Optional[npt.NDArray[np.int64]],
              threshold: float = 1.0, covariance: bool = True) -> dict[str, npt.NDArray[Any]]:
        """worker, fits, new_peak, peak_rise, steps_over[, covariance, correlation] (see pyshape.Placer.score)."""
    def update(self, id: str | int, shape: ArrayLike) -> bool: ...
    def advance(self, values: npt.NDArray[np.float32],
                ids: Optional[list[str | int]] = None) -> npt.NDArray[np.int64]: ...
    def ids(self) -> list[str | int]: ...
    def shape(self, id: str | int) -> npt.NDArray[np.float64]: ...
    def overloaded(self) -> npt.NDArray[np.int64]: ...
    @property
    def head(self) -> int: ...
    def set_types(self, capacity: npt.NDArray[np.float64], cost: npt.NDArray[np.float64], names: list[str]) -> None:
        """Worker types, before any worker opens (capacity must be the table's largest per resource)."""
    @property
    def types(self) -> Optional[Tuple[list[str], npt.NDArray[np.float64], npt.NDArray[np.float64]]]: ...
    @property
    def worker_type(self) -> Optional[I64]: ...
    def _check(self) -> str: ...
    def snapshot(self) -> bytes: ...
    @staticmethod
    def restore(data: bytes) -> "Placer": ...
