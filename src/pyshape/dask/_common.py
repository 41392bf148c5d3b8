"""Shared parts of the Dask layer: inputs as row-partitioned Dask arrays, the
client from an address or ``PYSHAPE_DASK_SCHEDULER``, block offsets."""
from __future__ import annotations

import os
from typing import Any, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

try:
    import dask
    import dask.array as da
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise ImportError("pyshape.dask needs Dask: pip install 'pyshape[dask]' "
                      "(dask[array,distributed])") from e

#: What the functions take as shapes: a Dask array, or anything NumPy reads
#: (an ndarray, a memory map, a list), split into blocks of rows.
ArrayLike = Union["da.Array", npt.ArrayLike]

#: A ``dask.distributed.Client`` (typed loosely: Dask ships no type information mypy reads here).
DaskClient = Any

#: Environment variable read by :func:`get_client` (and the CLI's ``--scheduler``).
SCHEDULER_ENV = "PYSHAPE_DASK_SCHEDULER"

#: Rows per partition when a NumPy array (or memory map) is turned into a Dask array.
DEFAULT_CHUNK_ROWS = 16384


def as_rows(X: ArrayLike, name: str = "X", chunk_rows: Optional[int] = None,
            ndim: Sequence[int] = (2,)) -> "da.Array":
    """``X`` as a Dask array partitioned by rows only (one chunk along every other axis).

    A Dask array keeps its row partitions (empty ones included); anything else
    (NumPy array, memory map, list) is wrapped with ``chunk_rows`` rows per block.
    """
    if isinstance(X, da.Array):
        A = X
    else:
        src: Any = X if hasattr(X, "shape") and hasattr(X, "dtype") else np.asarray(X)
        rows = chunk_rows or DEFAULT_CHUNK_ROWS
        A = da.from_array(src, chunks=(max(1, int(rows)),) + tuple(-1 for _ in src.shape[1:]))
    if A.ndim not in ndim:
        want = " or ".join(f"{d}-D" for d in ndim)
        raise ValueError(f"{name} must be a {want} array, got {A.ndim}-D with shape {A.shape}")
    if any(np.isnan(c) for c in A.chunks[0]):
        raise ValueError(f"{name} has unknown partition sizes: call {name}.compute_chunk_sizes() first")
    if A.shape[0] == 0:
        raise ValueError(f"{name} is empty: need at least one shape")
    if any(s == 0 for s in A.shape[1:]):
        raise ValueError(f"{name} is empty (shape {A.shape}): need at least one step")
    if any(len(c) > 1 for c in A.chunks[1:]):
        A = A.rechunk({i: -1 for i in range(1, A.ndim)})
    if chunk_rows is not None and isinstance(X, da.Array):
        A = A.rechunk({0: int(chunk_rows)})
    return A


def compute_in_order(*objs: Any, **kwargs: Any) -> tuple:
    """``dask.compute(*objs)``, the results in the order given.

    dask 2026.8.0's ``dask.compute`` groups its arguments by collection type
    when Delayed objects and Dask arrays are mixed, and returns them in that
    grouped order (``compute(delayed, array, delayed)`` gives the array last).
    Wrapping every argument in ``dask.delayed`` (one collection type) keeps the
    order; it is one pass over one merged graph all the same."""
    return tuple(dask.compute(*[dask.delayed(o) for o in objs], **kwargs))


def aligned(x: Any) -> np.ndarray:
    """``x`` as aligned C-contiguous float32 (a copy only when needed): blocks arrive
    unpickled from other workers, possibly at odd byte offsets, and the C++
    kernels read whole floats."""
    return np.require(x, np.float32, ["C", "A"])


def offsets(chunks: Sequence[int]) -> np.ndarray:
    """Global index of the first row of every partition (and the total at the end)."""
    return np.concatenate([[0], np.cumsum(chunks)]).astype(np.int64)


def get_client(address: Optional[str] = None) -> Optional[DaskClient]:
    """A ``dask.distributed.Client`` for ``address`` (default: ``$PYSHAPE_DASK_SCHEDULER``).

    ``address`` is a scheduler address (``tcp://host:8786``) or ``'local'`` for a
    :class:`~dask.distributed.LocalCluster` on this machine (one worker process
    per core, one thread each). Returns None when neither is set: the caller
    then keeps Dask's current scheduler (an existing client, or threads).
    """
    address = address or os.environ.get(SCHEDULER_ENV) or None
    if address is None:
        return None
    from dask.distributed import Client, LocalCluster

    if address == "local":
        from pyshape._system import resolve_threads

        cluster = LocalCluster(n_workers=resolve_threads(None), threads_per_worker=1, processes=True)
        client = Client(cluster)
        client._pyshape_owns_cluster = cluster  # closed with the client by close_client
        return client
    return Client(address)


def close_client(client: Optional[DaskClient]) -> None:
    """Close a client of :func:`get_client` (and the LocalCluster it started for ``'local'``)."""
    if client is None:
        return
    cluster = getattr(client, "_pyshape_owns_cluster", None)
    client.close()
    if cluster is not None:
        cluster.close()


def rethrow_row(e: ValueError, row0: int) -> ValueError:
    """A block's ValueError (``... row r``) with the row renumbered to the whole array."""
    import re

    msg = str(e)
    m = re.search(r"(row|shape) (\d+)", msg)
    if m and row0:
        msg = msg[:m.start(2)] + str(int(m.group(2)) + row0) + msg[m.end(2):]
    return ValueError(msg)


__all__ = ["ArrayLike", "DaskClient", "aligned", "compute_in_order", "SCHEDULER_ENV", "DEFAULT_CHUNK_ROWS",
           "as_rows", "offsets", "get_client", "close_client", "dask", "da"]
