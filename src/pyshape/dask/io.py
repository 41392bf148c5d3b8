"""Larger-than-memory inputs as Dask arrays read in blocks: memory-mapped
``.npy`` files and (wide) Parquet files, on one machine or a cluster whose
workers see the same path."""
from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np

from pyshape.dask._common import DEFAULT_CHUNK_ROWS, da, dask

PathArg = Union[str, "os.PathLike[str]"]

__all__ = ["open_npy", "read_parquet"]


class _Npy:
    """A ``.npy`` file as an array-like that opens a read-only memory map where
    it is read (pickled as its path: a task carries no data)."""

    def __init__(self, path: PathArg) -> None:
        self.path = os.fspath(path)
        mm = np.load(self.path, mmap_mode="r")
        self.shape, self.dtype, self.ndim = mm.shape, mm.dtype, mm.ndim

    def __getstate__(self) -> Dict[str, Any]:
        return {"path": self.path, "shape": self.shape, "dtype": self.dtype, "ndim": self.ndim}

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __getitem__(self, key: Any) -> np.ndarray:
        mm = np.load(self.path, mmap_mode="r")
        return np.array(mm[key], dtype=np.float32)  # the block only, read from the page cache or disk

    def __len__(self) -> int:
        return self.shape[0]


def open_npy(path: PathArg, *, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> "da.Array":
    """A ``.npy`` file of shapes ((n, T) or (n, R, T)) as a float32 Dask array of
    ``chunk_rows`` rows per block, each read from a memory map by its task:
    the file is never read whole, and tasks on a cluster carry only the path
    (the workers must see the same file)."""
    src = _Npy(path)
    if src.ndim not in (2, 3):
        raise ValueError(f"{path}: shapes must be (n, T) or (n, R, T), got shape {src.shape}")
    chunks = (max(1, int(chunk_rows)),) + tuple(-1 for _ in src.shape[1:])
    return da.from_array(src, chunks=chunks, asarray=False, fancy=False,
                         name=f"npy-{dask.base.tokenize(src.path, os.path.getmtime(src.path), src.shape)}",
                         meta=np.empty((0,) * src.ndim, dtype=np.float32))


def _parquet_group(path: str, group: int, columns: List[str], R: int) -> np.ndarray:
    import pyarrow.parquet as pq

    t = pq.ParquetFile(path).read_row_group(group, columns=columns)
    out = np.empty((t.num_rows, len(columns)), dtype=np.float32)
    for j, c in enumerate(columns):
        out[:, j] = t.column(c).to_numpy()
    if R > 1:
        out = out.reshape(t.num_rows // R, R, len(columns))
    return out


def read_parquet(path: PathArg, *, resources: Optional[int] = None) -> Tuple["da.Array", Optional[np.ndarray]]:
    """A wide Parquet file (as :func:`pyshape.traces.save_shapes` writes: an
    ``id`` column, optionally ``resource``, then one column per step) as a
    float32 Dask array with one block per row group, read by its task.

    With a ``resource`` column the result is (n, R, T); every row group must
    then hold whole shapes (a multiple of R rows, ids grouped). Returns
    ``(array, ids)``: ids as a NumPy array of str (read from the id column).
    """
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError("reading .parquet needs pyarrow (pip install pyarrow)") from None
    path = os.fspath(path)
    f = pq.ParquetFile(path)
    names = f.schema_arrow.names
    text = [c for c in ("id", "resource") if c in names]
    steps = [c for c in names if c not in text]
    if not steps:
        raise ValueError(f"{path}: no step columns")
    R = 1
    if "resource" in names:
        res = f.read(columns=["resource"]).column("resource").to_numpy()
        R = resources or len(np.unique(res))
    counts = [f.metadata.row_group(g).num_rows for g in range(f.num_row_groups)]
    if any(c % R for c in counts):
        raise ValueError(f"{path}: a row group holds part of a shape ({R} resources per shape)")
    blocks = [da.from_delayed(dask.delayed(_parquet_group, pure=True)(path, g, steps, R),
                              shape=(c // R,) + ((R,) if R > 1 else ()) + (len(steps),), dtype=np.float32)
              for g, c in enumerate(counts)]
    ids = np.array([str(v) for v in f.read(columns=["id"]).column("id").to_pylist()]) if "id" in names else None
    if ids is not None and R > 1:
        ids = ids[::R]
    return da.concatenate(blocks, axis=0), ids
