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
