"""Real traces as :class:`ResourceTrace` objects, and shapes in and out of files.

- :func:`load_azure_functions` / :func:`load_azure_sample`: Azure Functions
  Trace 2019 (concurrency and memory per function).
- :func:`load_bitbrains` / :func:`load_bitbrains_sample`: Bitbrains GWA-T-12
  per-VM files (CPU and memory per VM).
- :func:`load_long`: any long table (``id, time, cpu, ...``; CSV, Parquet, a
  DataFrame) resampled onto one grid; :func:`load_invocations`: one row per
  call (start/end or end + duration, e.g. Azure Functions 2021) as
  concurrency per step.
- :func:`load_shapes` / :func:`save_shapes`: ``.npy``, ``.npz``, wide
  ``.csv`` / ``.csv.gz``, ``.parquet``, and Bitbrains folders (loading only).
"""
from __future__ import annotations

from pyshape.traces._trace import ResourceTrace
from pyshape.traces.azure import load_azure_functions, load_azure_sample
from pyshape.traces.bitbrains import load_bitbrains, load_bitbrains_sample
from pyshape.traces.files import FORMATS, load_shapes, save_shapes
from pyshape.traces.long import load_invocations, load_long

__all__ = [
    "FORMATS",
    "ResourceTrace",
    "load_azure_functions",
    "load_azure_sample",
    "load_bitbrains",
    "load_bitbrains_sample",
    "load_invocations",
    "load_long",
    "load_shapes",
    "save_shapes",
]
