"""Shared fixtures of the benchmarks: sizes from the environment, data made once
per session, machine / version facts, and the ratio table printed (and written
as markdown) at the end of the session.

Environment variables (see bench/README.md):

``PYSHAPE_BENCH_FULL=1``      the issue's sizes (Pearson n=20,000; top-k n=100,000)
``PYSHAPE_BENCH_N``           top-k database size (quick default 10,000)
``PYSHAPE_BENCH_KINDS_N``     size of the data-kind top-k comparison (quick 5,000; full 50,000)
``PYSHAPE_BENCH_PEARSON_N``   Pearson matrix size (quick default 4,000)
``PYSHAPE_BENCH_T``           steps per shape (1440)
``PYSHAPE_BENCH_K``           partners per shape (10)
``PYSHAPE_BENCH_ROUNDS``      rounds of the small cases (quick 3, full 1)
``PYSHAPE_BENCH_PEERS``       comma list of peers to run (default all: numpy,faiss)
``PYSHAPE_BENCH_MILLION=1``   also run the n=1,000,000 pyshape-only top-k
``PYSHAPE_BENCH_MILLION_N``   its size (1,000,000)
``PYSHAPE_BENCH_THREADS``     threads for every library (default: all CPUs)
``PYSHAPE_BENCH_REPORT``      markdown file for the ratio table
                              (default <rootdir>/.benchmarks/ratios.md)
"""
from __future__ import annotations

import os
import platform
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ClassVar, Dict, List, Optional

import numpy as np
import pytest

import pyshape
from pyshape.synthetic import make_shapes, white_noise


# --------------------------------------------------------------------------- configuration
def _env_int(name: str, default: int) -> int:
    v = os.environ.get(name, "").strip()
    return int(float(v)) if v else default


FULL = os.environ.get("PYSHAPE_BENCH_FULL", "").strip() not in ("", "0")
MILLION = os.environ.get("PYSHAPE_BENCH_MILLION", "").strip() not in ("", "0")


@dataclass(frozen=True)
class Config:
    full: bool
    pearson_n: int
    topk_n: int
    kinds_n: int
    T: int
    k: int
    rounds: int
    million_n: int
    threads: int
    peers: tuple

    def describe(self) -> str:
        mode = "FULL" if self.full else "quick"
        return (f"mode={mode} pearson_n={self.pearson_n} topk_n={self.topk_n} T={self.T} "
                f"kinds_n={self.kinds_n} k={self.k} rounds={self.rounds} threads={self.threads} "
                f"peers={','.join(self.peers)}")


def _threads() -> int:
    from pyshape._system import resolve_threads

    v = os.environ.get("PYSHAPE_BENCH_THREADS", "").strip()
    return resolve_threads(int(v) if v else None)


CONFIG = Config(
    full=FULL,
    pearson_n=_env_int("PYSHAPE_BENCH_PEARSON_N", 20_000 if FULL else 4_000),
    topk_n=_env_int("PYSHAPE_BENCH_N", 100_000 if FULL else 10_000),
    kinds_n=_env_int("PYSHAPE_BENCH_KINDS_N", 50_000 if FULL else 5_000),
    T=_env_int("PYSHAPE_BENCH_T", 1440),
    k=_env_int("PYSHAPE_BENCH_K", 10),
    rounds=_env_int("PYSHAPE_BENCH_ROUNDS", 1 if FULL else 3),
    million_n=_env_int("PYSHAPE_BENCH_MILLION_N", 1_000_000),
    threads=_threads(),
    peers=tuple(p.strip() for p in os.environ.get("PYSHAPE_BENCH_PEERS", "numpy,faiss").split(",")
                if p.strip()),
)


def _limit_threads() -> None:
    """Give every library the same thread count (BLAS, OpenMP in faiss, pyshape's argument)."""
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(CONFIG.threads)
    except ImportError:
        pass
    try:
        import faiss

        faiss.omp_set_num_threads(CONFIG.threads)
    except ImportError:
        pass


_limit_threads()


@pytest.fixture(scope="session")
def config() -> Config:
    return CONFIG


# --------------------------------------------------------------------------- machine facts
def _cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_facts() -> Dict[str, str]:
    facts = {
        "cpu": _cpu_model(),
        "cpus available": str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                              else os.cpu_count()),
        "threads used": str(CONFIG.threads),
        "python": platform.python_version(),
        "pyshape": f"{pyshape.__version__} (simd {pyshape.simd_level()})",
        "numpy": np.__version__,
    }
    try:
        import faiss

        facts["faiss"] = faiss.__version__
    except ImportError:
        facts["faiss"] = "not installed"
    try:
        from threadpoolctl import threadpool_info

        blas = [f"{i.get('internal_api')} {i.get('version')} ({i.get('num_threads')} threads)"
                for i in threadpool_info() if i.get("user_api") == "blas"]
        facts["numpy BLAS"] = "; ".join(blas) or "unknown"
    except ImportError:
        pass
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        facts["memory"] = f"{mem / 2**30:.0f} GiB"
    except (ValueError, OSError, AttributeError):
        pass
    return facts


def pytest_report_header(config):
    facts = machine_facts()
    return [f"pyshape bench: {CONFIG.describe()}",
            "machine: " + "; ".join(f"{k}={v}" for k, v in facts.items())]


# --------------------------------------------------------------------------- data, made once
_DATA: Dict[tuple, np.ndarray] = {}


def dataset(kind: str, n: int, T: int) -> np.ndarray:
    """Shapes ``(n, T)`` float32: ``'structured'`` (pyshape.synthetic), ``'white'`` noise, or
    the real-derived ``'bitbrains'`` (T = 288) and ``'azure'`` (T = 1440) of bench/realdata.py.

    Cached for the session; a smaller request of the same kind reuses the
    leading rows of a bigger one already made.
    """
    for (k, nn, tt), X in _DATA.items():
        if k == kind and tt == T and nn >= n:
            return X[:n]
    if kind == "structured":
        X, _ = make_shapes(n, T, random_state=2024, step_seconds=86400 / T if T != 1440 else 60)
    elif kind == "white":
        X = white_noise(n, T, random_state=2024)
    elif kind == "bitbrains":  # real-derived, T = 288 whatever T is asked (bench/realdata.py)
        from realdata import bitbrains_days

        X = bitbrains_days(n)
    elif kind == "azure":  # real-derived, T = 1440 whatever T is asked (bench/realdata.py)
        from realdata import azure_days

        X = azure_days(n)
    else:
        raise ValueError(kind)
    _DATA[(kind, n, T)] = X
    return X


_UNIT: Dict[tuple, np.ndarray] = {}


def unit_rows(kind: str, n: int, T: int) -> np.ndarray:
    """Rows of :func:`dataset` centred and scaled to unit norm (float32), by NumPy:
    the peers' input, so that ``U @ U.T`` is the Pearson matrix. Not timed."""
    key = (kind, n, T)
    if key not in _UNIT:
        X = dataset(kind, n, T)
        U = np.empty_like(X)
        for s in range(0, n, 8192):  # float64 per block, float32 result
            x = X[s:s + 8192].astype(np.float64)
            x -= x.mean(axis=1, keepdims=True)
            nrm = np.linalg.norm(x, axis=1, keepdims=True)
            nrm[nrm == 0] = 1.0
            U[s:s + 8192] = x / nrm
        _UNIT[key] = U
    return _UNIT[key]


@pytest.fixture(scope="session")
def data():
    return dataset


@pytest.fixture(scope="session")
def unit():
    return unit_rows


# --------------------------------------------------------------------------- results
@dataclass
class Result:
    case: str
    impl: str
    seconds: float  # best round
    flops: Optional[float] = None
    notes: Dict[str, str] = field(default_factory=dict)

    @property
    def gflops(self) -> Optional[float]:
        return None if self.flops is None or self.seconds <= 0 else self.flops / self.seconds / 1e9


class Collector:
    """Results of the session, in the order measured; one case groups rival implementations."""

    def __init__(self) -> None:
        self.results: List[Result] = []
        self.case_notes: Dict[str, Dict[str, str]] = {}
        self.reference_rate: Optional[float] = None  # GFLOP/s of the plain matrix product
        self.extra: Dict[str, object] = {}  # shared outputs (e.g. pyshape's neighbours)

    def add(self, case: str, impl: str, seconds: float, flops: Optional[float] = None,
            **notes) -> Result:
        r = Result(case, impl, seconds, flops, {k: str(v) for k, v in notes.items()})
        self.results = [x for x in self.results if not (x.case == case and x.impl == impl)]
        self.results.append(r)
        g = r.gflops
        # at once, so a long session that is cut short still shows what it measured
        print(f"\n[pyshape-bench] {case} | {impl} | {seconds:.3f} s"
              + ("" if g is None else f" | {g:.1f} GFLOP/s")
              + "".join(f" | {k}={v}" for k, v in r.notes.items()), flush=True)
        return r

    def note(self, case: str, **notes) -> None:
        self.case_notes.setdefault(case, {}).update({k: str(v) for k, v in notes.items()})

    # ---- the table
    def rows(self) -> List[List[str]]:
        rows = []
        cases = list(dict.fromkeys(r.case for r in self.results))
        for case in cases:
            rs = [r for r in self.results if r.case == case]
            mine = next((r for r in rs if r.impl == "pyshape"), None)
            for r in rs:
                ratio = ("1" if r is mine else f"{mine.seconds / r.seconds:.3g}") if mine else "-"
                g = r.gflops
                gtxt = "-" if g is None else f"{g:.1f}"
                rel = "-"
                if g is not None and self.reference_rate:
                    rel = f"{g / self.reference_rate:.2f}"
                notes = "; ".join(f"{k}={v}" for k, v in r.notes.items())
                rows.append([case, r.impl, f"{r.seconds:.3f}", ratio, gtxt, rel, notes])
        return rows

    HEADER: ClassVar[List[str]] = ["case", "impl", "time s (best)", "pyshape / impl", "GFLOP/s", "x plain GEMM",
                                   "notes"]

    def markdown(self) -> str:
        lines = ["| " + " | ".join(self.HEADER) + " |",
                 "|" + "|".join("---" for _ in self.HEADER) + "|"]
        lines += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in self.rows()]
        for case, notes in self.case_notes.items():
            lines.append("")
            lines.append(f"- **{case}**: " + "; ".join(f"{k}: {v}" for k, v in notes.items()))
        return "\n".join(lines)

    def text(self) -> str:
        rows = [self.HEADER] + self.rows()
        widths = [max(len(r[i]) for r in rows) for i in range(len(self.HEADER) - 1)]
        out = []
        for row in rows:
            out.append("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1])
        for case, notes in self.case_notes.items():
            out.append(f"{case}: " + "; ".join(f"{k}: {v}" for k, v in notes.items()))
        return "\n".join(out)


COLLECTOR = Collector()


@pytest.fixture(scope="session")
def results() -> Collector:
    return COLLECTOR


def run_timed(benchmark, fn: Callable[[], object], rounds: int, group: str):
    """Time ``fn`` with pytest-benchmark (``pedantic``, ``rounds`` x 1 iteration, no
    warm-up) and also by hand, so the best time is known even with
    ``--benchmark-disable``. Returns (last result, best seconds)."""
    times: List[float] = []
    box = {}

    def timed():
        box.clear()  # drop the previous round's result before the next one
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        box["out"] = out
        return None

    benchmark.group = group
    benchmark.pedantic(timed, rounds=rounds, iterations=1, warmup_rounds=0)
    return box["out"], min(times)


@pytest.fixture
def timed(benchmark):
    def _run(fn, *, rounds: int, group: str):
        return run_timed(benchmark, fn, rounds, group)

    return _run


def peak_rss_gib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


# --------------------------------------------------------------------------- report
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not COLLECTOR.results:
        return
    tr = terminalreporter
    tr.section("pyshape ratio table (pyshape time / peer time, same run; < 1: pyshape faster)")
    tr.write_line(CONFIG.describe())
    if COLLECTOR.reference_rate:
        tr.write_line(f"plain float32 matrix product (NumPy BLAS): {COLLECTOR.reference_rate:.1f} GFLOP/s")
    tr.write_line(COLLECTOR.text())
    path = Path(os.environ.get("PYSHAPE_BENCH_REPORT") or Path(config.rootpath) / ".benchmarks" / "ratios.md")
    facts = machine_facts()
    md = ["# pyshape benchmark ratios", "",
          f"Run {time.strftime('%Y-%m-%d %H:%M:%S')}; {CONFIG.describe()}", ""]
    md += [f"- {k}: {v}" for k, v in facts.items()]
    if COLLECTOR.reference_rate:
        md.append(f"- plain float32 matrix product (NumPy BLAS): {COLLECTOR.reference_rate:.1f} GFLOP/s")
    md += ["", COLLECTOR.markdown(), ""]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(md))
        tr.write_line(f"ratio table written to {path}")
    except OSError as exc:
        tr.write_line(f"could not write {path}: {exc}")
