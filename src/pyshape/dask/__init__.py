"""pyshape on Dask: the same engine over row-partitioned Dask arrays, on one
machine or a ``dask.distributed`` cluster, with the C++ kernels inside every task.

Install with ``pip install "pyshape[dask]"``. Functions take Dask arrays (or
NumPy arrays / memory maps, split into blocks of rows) and run on Dask's
current scheduler: create a ``dask.distributed.Client`` first (or use
:func:`get_client`, which reads ``PYSHAPE_DASK_SCHEDULER``) to run on a cluster.

- :func:`top_partners`: exact top-k partners, block pairs as tasks and a tree
  reduction of partial lists; identical to :func:`pyshape.top_partners`.
- :func:`pearson`, :func:`lagged_correlation`, :func:`sbd`: blocked Dask arrays.
- :func:`fit_kmeans`: :class:`pyshape.CorrelationKMeans` fitted from
  per-partition statistics, identical to the in-memory fit;
  :func:`fit_kshape`: :class:`pyshape.KShape` likewise (per-cluster T x T
  matrices reduced over partitions for the shape extraction);
  :func:`kshape_assign`, :func:`predict`: assignment per partition.
- :func:`pack`: placement in shards packed in parallel, then a joint repack (one
  capacity or worker types).
- :func:`open_npy`, :func:`read_parquet`: larger-than-memory inputs read in blocks.
"""
from pyshape.dask._common import SCHEDULER_ENV, as_rows, close_client, get_client
from pyshape.dask.cluster import fit_kmeans, kshape_assign, predict, unit_rows
from pyshape.dask.correlate import compute, lagged_correlation, pearson, sbd, top_partners
from pyshape.dask.io import open_npy, read_parquet
from pyshape.dask.kshape import fit_kshape
from pyshape.dask.pack import ShardedPlan, pack

__all__ = [
    "SCHEDULER_ENV", "ShardedPlan", "as_rows", "close_client", "compute", "fit_kmeans", "fit_kshape", "get_client",
    "kshape_assign", "lagged_correlation", "open_npy", "pack", "pearson", "predict", "read_parquet", "sbd",
    "top_partners", "unit_rows",
]
