"""Loaders for real traces shipped with pyshape (and, later, their full formats)."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

import numpy as np


@dataclass(frozen=True)
class InvocationTrace:
    """Per-function invocation counts per step.

    Attributes
    ----------
    ids : ndarray of str, shape (n,)
    triggers : ndarray of str, shape (n,)
    counts : ndarray of float32, shape (n, T)
    step_seconds : int
    """

    ids: np.ndarray
    triggers: np.ndarray
    counts: np.ndarray
    step_seconds: int = 60


def load_azure_sample() -> InvocationTrace:
    """The bundled Azure Functions 2019 sample: 1000 functions, 60 one-minute steps.

    Real data (CC-BY 4.0, Shahrad et al., USENIX ATC 2020); see
    ``pyshape/data/azure_functions_2019/README.md`` for its source.

    Examples
    --------
    >>> from pyshape.traces import load_azure_sample
    >>> tr = load_azure_sample()
    >>> tr.counts.shape
    (1000, 60)
    """
    path = resources.files("pyshape") / "data" / "azure_functions_2019" / "invocation_traces.csv"
    with path.open("r", newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    if header[:2] != ["HashFunction", "Trigger"]:
        raise ValueError(f"{path}: expected columns HashFunction,Trigger,1..T, got {header[:3]}")
    ids = np.array([r[0] for r in body])
    triggers = np.array([r[1] for r in body])
    counts = np.array([[float(v) for v in r[2:]] for r in body], dtype=np.float32)
    return InvocationTrace(ids, triggers, counts)


@dataclass(frozen=True)
class ResourceTrace:
    """Per-workload demand on several resources over a common time grid.

    Attributes
    ----------
    ids : ndarray of str, shape (n,)
    shapes : ndarray of float32, shape (n, R, T)
    resources : tuple of str, length R
    step_seconds : int
    start : int
        Unix time (seconds, UTC) of step 0.
    """

    ids: np.ndarray
    shapes: np.ndarray
    resources: tuple
    step_seconds: int
    start: int

    def day(self, d: int) -> "ResourceTrace":
        """The ``d``-th whole day (UTC) of the grid, as a trace of its own."""
        per_day = 86400 // self.step_seconds
        lo, hi = d * per_day, (d + 1) * per_day
        if d < 0 or hi > self.shapes.shape[2]:
            raise IndexError(f"day {d} is outside the {self.shapes.shape[2] // per_day} whole days of the trace")
        return ResourceTrace(self.ids, np.ascontiguousarray(self.shapes[:, :, lo:hi]), self.resources,
                             self.step_seconds, self.start + d * 86400)


def load_bitbrains(path, *, step_seconds: int = 300, max_gap_steps: int = 3) -> ResourceTrace:
    """Load a Bitbrains (GWA-T-12) folder of per-VM files ``<vm>.csv[.gz]`` as CPU and memory shapes.

    Every VM's samples (about every 300 s, each VM with its own offset) are put
    on one grid of ``step_seconds`` steps starting at UTC midnight of the
    earliest sample: a sample goes to step ``floor((ts - start) / step)``, two
    samples in one step keep the larger, a gap of at most ``max_gap_steps``
    steps repeats the last sample, and steps before a VM's first sample, after
    its last one or in longer gaps are 0.

    Parameters
    ----------
    path : str or path-like
        Folder holding ``1.csv.gz``, ``2.csv.gz``, ... (``;``+TAB separated,
        Bitbrains header; the "Timestamp [ms]" column is in Unix seconds).

    Returns
    -------
    ResourceTrace
        ``resources = ('cpu_mhz', 'mem_gb')``: CPU usage in MHz and memory
        usage in GB (KB / 2**20). Ids are the file stems, sorted numerically.

    Examples
    --------
    >>> from pyshape.traces import load_bitbrains                  # doctest: +SKIP
    >>> tr = load_bitbrains("data/bitbrains_rnd_2013-07")         # doctest: +SKIP
    >>> tr.day(3).shapes.shape                                     # doctest: +SKIP
    (250, 2, 288)
    """
    import gzip
    from pathlib import Path

    folder = Path(path)
    files = sorted((p for p in folder.iterdir() if p.name.endswith((".csv", ".csv.gz"))),
                   key=lambda p: (len(p.name.split(".")[0]), p.name))
    if not files:
        raise FileNotFoundError(f"no <vm>.csv or <vm>.csv.gz files in {folder}")
    series = []
    for p in files:
        opener = gzip.open if p.name.endswith(".gz") else open
        with opener(p, "rt") as f:
            header = f.readline()
            if "Timestamp" not in header or "Memory usage" not in header:
                raise ValueError(f"{p}: not a Bitbrains file (header {header[:60]!r})")
            arr = np.loadtxt(f, delimiter=";", usecols=(0, 3, 6), ndmin=2)
        series.append(arr)
    t0 = min(int(a[:, 0].min()) for a in series if len(a))
    start = t0 - t0 % 86400
    t1 = max(int(a[:, 0].max()) for a in series if len(a))
    T = (t1 - start) // step_seconds + 1
    out = np.zeros((len(files), 2, T), dtype=np.float32)
    for i, a in enumerate(series):
        if not len(a):
            continue
        k = ((a[:, 0].astype(np.int64) - start) // step_seconds).astype(np.int64)
        vals = np.stack([a[:, 1], a[:, 2] / 2.0**20])  # MHz, GB
        row = np.full((2, T), np.nan)
        np.fmax.at(row[0], k, vals[0])
        np.fmax.at(row[1], k, vals[1])
        have = np.flatnonzero(~np.isnan(row[0]))
        # repeat the last sample over short gaps
        last = np.maximum.accumulate(np.where(~np.isnan(row[0]), np.arange(T), -1))
        fill = (last >= 0) & (np.arange(T) - last <= max_gap_steps) & (np.arange(T) <= have[-1])
        idx = np.where(fill, last, 0)
        filled = np.where(fill[None, :], row[:, idx], 0.0)
        out[i] = np.nan_to_num(np.maximum(filled, 0.0), nan=0.0)
    ids = np.array([p.name.split(".")[0] for p in files])
    return ResourceTrace(ids, out, ("cpu_mhz", "mem_gb"), step_seconds, start)
