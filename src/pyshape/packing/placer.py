"""Online placement: one workload at a time, for a scheduler's request path.

:class:`Placer` keeps the fleet in C++ (loads, block summaries, the candidate
tree, every placed shape) so that :meth:`Placer.place` is one thin call: a
shape is checked, the strategy picks a worker among the open ones (or a new
worker opens), and the load is updated. Removal recomputes the worker's load
from the shapes left, so the state is always exactly the sum of its members,
and a snapshot restores it bit for bit.

A scheduler that keeps its own placement loop uses :meth:`Placer.score` (per
candidate worker: fits, new peak, peak rise, steps over a threshold,
covariance and correlation with its load, without placing), and keeps the
forecasts current with :meth:`Placer.update` (one workload's new shape; it
stays on its worker and the call reports whether that still fits) and
:meth:`Placer.advance` (every shape's window moves by k steps; ring buffers,
no pass over whole shapes).

Snapshots are a versioned binary format (see ``src/cpp/pack/placer.cpp``,
checksummed) written to a temporary file in the target folder, flushed to
disk and renamed over the target (:func:`os.replace`), so a crash leaves the
previous snapshot or the new one, never a torn file. The temporary file is
named ``.<name>.<host>-<pid>-<random>.tmp``: one left by a process that was
killed is removed by the next snapshot to the same path on the same host.

Examples
--------
>>> import numpy as np, pyshape
>>> p = pyshape.Placer(capacity=[4.0, 8.0], T=3)
>>> p.place("web", [[1, 3, 1], [2, 2, 2]])
0
>>> p.place("batch", [[3, 1, 3], [2, 2, 2]])      # fills the valleys of "web"
0
>>> p.place("db", [[1, 1, 1], [5, 5, 5]])        # memory: needs a new worker
1
>>> p.load(0)[0].tolist(), p.worker_of("db")
([4.0, 4.0, 4.0], 1)
>>> q = pyshape.Placer.restore(p.snapshot())
>>> q.members(0).tolist(), q.n_workers
(['web', 'batch'], 2)
"""
from __future__ import annotations

import os
import socket
import tempfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Union

import numpy as np

from pyshape import _core
from pyshape._validation import INT32_MAX, INT64_MAX, check_int
from pyshape.packing._checks import (
    DEFAULT_CANDIDATES,
    ArrayLike,
    DuplicateIdError,
    FleetFullError,
    ShapeTooLargeError,
    UnknownIdError,
    check_capacity,
    check_headroom,
    check_risk,
)

if TYPE_CHECKING:  # pragma: no cover
    from pyshape.packing.worker_types import WorkerTypes

#: Workers examined per :meth:`Placer.place` at most (see ``scan_limit``).
DEFAULT_SCAN_LIMIT = 256

_MAX_VALUES = 2**31 - 1  # R * T at most (the fleet indexes steps with 32-bit integers)

__all__ = ["DEFAULT_SCAN_LIMIT", "DuplicateIdError", "FleetFullError", "Placer", "ShapeTooLargeError", "UnknownIdError"]

Id = Union[str, int]
PathLike = Union[str, "os.PathLike[str]"]


class Placer:
    """Place workloads one at a time onto workers of a fixed capacity.

    Parameters
    ----------
    capacity : float, array_like of shape (R,), or WorkerTypes
        Worker capacity per resource (R = number of values), or a table of
        worker types (:class:`~pyshape.packing.WorkerTypes`, or a DataFrame as
        :meth:`WorkerTypes.from_frame` reads it). With types, a new worker
        opens as the cheapest type (lowest cost, then first in the table)
        whose effective capacity holds the shape's peak, and keeps that type:
        an online placer does not resize workers later (pack the fleet again
        with :func:`pyshape.pack` for a cost-optimised plan). Every fit test,
        score and least-loaded choice uses each worker's own capacity; a shape
        that fits no type raises :class:`ShapeTooLargeError`; :attr:`capacity`
        is the largest per resource; :attr:`worker_type` and :attr:`cost` tell
        the fleet's types and cost; snapshots carry the table.
    T : int
        Steps per shape.
    strategy : {'complement', 'first_fit', 'best_fit'}
        How a worker is chosen among those where the shape fits (see
        :mod:`pyshape.packing`); default ``'complement'``.
    headroom : float or array_like, shape (R,)
        Safety margin, a fraction of capacity kept free.
    risk : float
        Fraction of steps a worker may exceed capacity (0: exact).
    candidates : int
        ``'complement'``: fitting workers compared per shape (0: all).
    max_workers : int, optional
        Upper limit on open workers: a shape that fits none of them raises
        :class:`FleetFullError` instead of opening one.
    scan_limit : int
        Latency bound (default :data:`DEFAULT_SCAN_LIMIT`): workers are
        visited newest-first and at most ``scan_limit`` of them (those that
        pass the cheap block and witness filters count) are examined per
        :meth:`place`; when none of those takes the shape, the least-loaded
        worker of the whole fleet is tried (smallest ``max_r peak_r /
        capacity_r``: an empty worker first, whatever its age; found in
        O(log W)), and only then a new worker opens. This is online first-fit
        with a bounded scan: ``place`` costs O(scan_limit + log W) whatever
        the fleet size, at the price of sometimes opening a worker that an
        exhaustive scan would have avoided. An empty worker is always reused
        before a new one opens, so under churn the fleet grows only when
        every worker holds something. With
        ``max_workers`` reached, ``place`` examines every worker before it
        raises :class:`FleetFullError`. ``0``: examine every worker,
        oldest-first, exactly as :func:`pyshape.pack` chooses (same worker for
        the same sequence with ``strategy='first_fit'``).

    Raises
    ------
    ValueError
        Bad capacity, T, headroom, risk, strategy, candidates, max_workers or
        scan_limit; more than 1,024 resources; ``R * T`` over 2**31 - 1; an
        effective capacity outside the float32 range.

    Notes
    -----
    Every method checks its input before changing anything, so after an
    exception the state is as before the call. Ids are ``str`` or ``int``
    (NumPy strings and integers count as their Python equivalents: ``np.int64(3)``
    is the id ``3``). Workers stay open when they become empty (they are
    reused before a new one opens); workers are numbered in order of opening.
    Memory is proportional to use: ``R * T`` float32 per open worker and per
    placed shape, none before the first place.

    :meth:`load` and :meth:`members` return what :meth:`pyshape.Plan.load` and
    :meth:`pyshape.Plan.members` return: float64 loads and an ndarray of ids.
    """

    __slots__ = ("_p",)

    def __init__(self, capacity: Union[float, ArrayLike, "WorkerTypes"], T: int, *, strategy: str = "complement",
                 headroom: Union[float, ArrayLike] = 0.0, risk: float = 0.0,
                 candidates: int = DEFAULT_CANDIDATES, max_workers: Optional[int] = None,
                 scan_limit: Optional[int] = None) -> None:
        from pyshape.packing.worker_types import type_table

        scan_limit = check_int(DEFAULT_SCAN_LIMIT if scan_limit is None else scan_limit, "scan_limit", 0, INT64_MAX)
        types = type_table(capacity)
        if types is not None:
            cap = types.capacity.max(axis=0)
        else:
            cap = np.atleast_1d(np.asarray(capacity, dtype=np.float64))
        R = cap.size
        cap = check_capacity(cap, R)
        head = check_headroom(headroom, R)
        T = check_int(T, "T", 1)  # bounded by R * T just below
        if R * T > _MAX_VALUES:
            raise ValueError(f"a shape of R x T = {R} x {T} values is too large: at most 2**31 - 1 values per shape")
        if strategy not in ("complement", "first_fit", "best_fit"):
            raise ValueError(f"strategy must be 'complement', 'first_fit' or 'best_fit', got {strategy!r}")
        max_workers = 0 if max_workers is None else check_int(max_workers, "max_workers", 1, INT64_MAX)
        candidates = check_int(candidates, "candidates", 0, INT32_MAX)
        self._p = _core.Placer(R, T, cap, head, strategy, check_risk(risk), candidates, max_workers, scan_limit)
        if types is not None:
            self._p.set_types(types.capacity, types.cost, list(types.names))

    # ------------------------------------------------------------------ the request path
    def place(self, id: Id, shape: ArrayLike) -> int:
        """Place ``shape`` (``(R, T)``, or ``(T,)`` when R = 1) under ``id``; return its worker.

        Raises
        ------
        DuplicateIdError
            ``id`` is already placed.
        ShapeTooLargeError
            The shape's peak exceeds the effective capacity.
        FleetFullError
            No open worker can take it and ``max_workers`` are open.
        ValueError
            Wrong size, NaN / infinite or negative values.
        TypeError
            ``id`` is not a str or int, or ``shape`` is complex.

        Notes
        -----
        The request path: a C-contiguous float32 ``shape`` goes to C++ as it
        is (no copy, no Python-level conversion); anything else is converted
        there with ``np.ascontiguousarray(shape, dtype=np.float32)``.
        """
        return self._p.place(id, shape)

    def remove(self, id: Id) -> int:
        """Remove ``id``; return the worker it was on. Raises :class:`UnknownIdError` (a KeyError)."""
        return self._p.remove(id)

    # ------------------------------------------------------------------ scores and live updates
    def score(self, shape: ArrayLike, workers: Optional[ArrayLike] = None, *,
              threshold: float = 1.0, covariance: bool = True) -> Dict[str, np.ndarray]:
        """Scores of ``shape`` on candidate workers, without placing it (for a scheduler's own loop).

        Parameters
        ----------
        shape : array_like, (R, T) (or (T,) when R = 1)
            The workload's forecast, as :meth:`place` takes it.
        workers : sequence of int, optional
            Candidate workers (indices; repeats allowed); None: every open worker.
        threshold : float
            ``steps_over`` counts the steps where some resource is over
            ``threshold`` times its effective capacity (default 1.0: over capacity).
        covariance : bool
            Whether to compute ``covariance`` and ``correlation`` (default
            True). They need every step of every candidate's load; without
            them (False: those keys are absent) the peaks, steps and fits come
            from per-block maxima and minima, and only the blocks those bounds
            leave open are read: the same values, several times faster on a
            large fleet (bench/RESULTS.md).

        Returns
        -------
        dict of ndarray, one row per candidate, in the order given:
            ``worker`` (n,) int64; ``fits`` (n,) bool: whether :meth:`place`'s
            fit rule accepts the shape there (capacity, headroom and risk
            budget); ``new_peak`` (n, R) float64: max over t of load + shape,
            as a fraction of the effective capacity ``capacity * (1 -
            headroom)``; ``peak_rise`` (n, R): new peak minus the current peak,
            same unit; ``steps_over`` (n,) int64; ``covariance`` (n, R):
            population covariance over the T steps of the worker's load and
            the shape, ``(sum_t L s - sum_t L sum_t s / T) / T`` (every
            sum in double); ``correlation`` (n, R): Pearson r of
            the same (0 when either is constant); the last two only with
            ``covariance=True``.

        Notes
        -----
        Exact and computed by the kernels :meth:`place` uses (the peaks and
        the steps by the same float32 additions; the products in double, in
        one fixed order at every SIMD level): the C API
        (``pyshape_placer_score``) returns the same bits. Costs O(n R T)
        with ``covariance`` (each load read once), a few cache lines per
        candidate usually without; changes nothing that placement reads.

        Raises
        ------
        IndexError, TypeError
            A worker out of range / not an integer.
        ValueError
            A bad shape (size, NaN / infinite / negative values) or threshold.
        """
        threshold = float(threshold)
        if workers is not None:
            w = np.asarray(workers)
            if w.ndim > 1 or (w.size and w.dtype.kind not in "iu"):
                raise TypeError(f"workers must be a sequence of integers, got {w.dtype} of shape {w.shape}")
            if w.dtype.kind == "u" and w.size and w.max() > INT64_MAX:
                raise IndexError(f"worker {int(w.max())} out of range [0, {self.n_workers})")
            workers = w.astype(np.int64, copy=False).reshape(-1)
        return self._p.score(shape, workers, threshold, bool(covariance))

    def update(self, id: Id, shape: ArrayLike) -> bool:
        """Replace the shape of the placed ``id`` by a new forecast; it stays on its worker.

        Returns whether that worker still passes the fit rule. Policy: report,
        don't move. The new shape is kept even when the worker is now over
        capacity (False), or when its peak is above a worker's capacity
        (such a shape could not be placed): the workload is running there, and the scheduler
        decides whether to move it (:meth:`remove` then :meth:`place`). A
        worker over capacity takes no new workload until it is back under;
        :meth:`overloaded` lists such workers.

        Cost: the worker's load is recomputed from its ``m`` members,
        O(m R T), plus O(log W) (the load stays exactly the float32 sum of the
        members, as after every operation).

        Raises
        ------
        UnknownIdError
            ``id`` is not placed.
        ValueError
            Wrong size, NaN / infinite or negative values (nothing changes).
        """
        return self._p.update(id, shape)

    def advance(self, new_steps: Union[Dict[Id, ArrayLike], ArrayLike],
                ids: Optional[Sequence[Id]] = None) -> np.ndarray:
        """Move the window of every placed shape by k steps: the oldest k drop, k new ones come in.

        Parameters
        ----------
        new_steps : dict or array_like
            ``{id: (R, k) or (k,) when R = 1}`` for every placed id, or an
            ``(n_items, R, k)`` array whose rows follow ``ids`` (or, ``ids``
            None, the order of :meth:`ids`).
        ids : sequence of ids, optional
            The id of every row of an array ``new_steps`` (each placed id once).

        Returns
        -------
        ndarray of int64
            Workers over capacity after the step (see :meth:`update`: nothing moves).

        Notes
        -----
        Shapes and loads are ring buffers sharing one offset, so the k new
        steps overwrite the k dropped ones in place: O(n R k) for the shapes
        and loads (each new step of a load is the float32 sum of its members'
        in member order, as everywhere else), O(W R (k + 48)) for the block
        summaries of the blocks that hold the new steps (T = 1440), O(W) for
        the least-loaded tree; nothing is O(n T). ``1 <= k <= T``. Every value
        is checked before anything changes.
        """
        if isinstance(new_steps, dict):
            if ids is not None:
                raise TypeError("ids is for an array of new steps, not a dict")
            ids = list(new_steps.keys())
            rows = [np.asarray(new_steps[i], dtype=np.float32) for i in ids]
            R = self.R
            rows = [r.reshape(1, -1) if r.ndim == 1 and R == 1 else r for r in rows]
            if any(r.ndim != 2 or r.shape[0] != R for r in rows) or len({r.shape for r in rows}) > 1:
                raise ValueError(f"every entry of new_steps must be (R, k) = ({R}, k), all with the same k")
            values = np.stack(rows) if rows else np.empty((0, R, 1), np.float32)
        else:
            values = np.asarray(new_steps)
            if values.dtype.kind == "c":
                raise TypeError("new steps are complex: they take real values")
            values = np.ascontiguousarray(values, dtype=np.float32)
            if values.ndim == 2 and self.R == 1:
                values = values[:, None, :]
            if ids is not None:
                ids = list(ids)
        if values.ndim != 3:
            raise ValueError(f"new steps must be (n_items, R, k) = ({len(self)}, {self.R}, k), got {values.shape}")
        return self._p.advance(np.ascontiguousarray(values), ids)

    def ids(self) -> List[Id]:
        """Every placed id: worker 0's members in placement order, then worker 1's, ...

        The row order of :meth:`advance` when it is given no ``ids``; with
        :meth:`worker_of`, what the C API's ``pyshape_placer_ids`` lists.
        """
        return self._p.ids()

    def shape(self, id: Id) -> np.ndarray:
        """The current shape of ``id`` (after :meth:`update` / :meth:`advance`), (R, T) float64."""
        return self._p.shape(id)

    def overloaded(self) -> np.ndarray:
        """Workers whose load breaks the fit rule (only :meth:`update` and :meth:`advance` can cause it)."""
        return self._p.overloaded()

    def worker_of(self, id: Id) -> int:
        """Worker of ``id``, or -1 when it is not placed."""
        return self._p.worker_of(id)

    def __contains__(self, id: object) -> bool:
        return self._p.contains(id)

    def __len__(self) -> int:
        return self._p.n_items

    # ------------------------------------------------------------------ state
    @property
    def n_workers(self) -> int:
        """Workers opened so far (including any that became empty)."""
        return self._p.n_workers

    @property
    def workers(self) -> List[int]:
        """Workers holding at least one workload."""
        p = self._p
        return [w for w in range(p.n_workers) if p.n_members(w) > 0]

    def load(self, worker: Optional[int] = None) -> np.ndarray:
        """Load of ``worker``, ``(R, T)``, or of every worker, ``(W, R, T)`` (``worker`` None), float64.

        The sum of the members' shapes, as the Placer keeps it (float32 sums,
        converted exactly); the same types as :meth:`pyshape.Plan.load`.
        Raises IndexError / TypeError for a worker out of range / not an integer.
        """
        return self._p.load(worker)

    def members(self, worker: int) -> np.ndarray:
        """Ids on ``worker``, in the order they were placed, as an ndarray (as :meth:`pyshape.Plan.members`).

        int64 when every id on the worker is an int within int64 (an empty
        worker too), str when every id is a str, object otherwise.
        """
        return self._p.members(worker)

    @property
    def capacity(self) -> np.ndarray:
        """Capacity per resource (with worker types: the largest over the types)."""
        return self._p.capacity

    @property
    def types(self) -> Optional["WorkerTypes"]:
        """The worker types (None for one capacity)."""
        from pyshape.packing.worker_types import WorkerTypes

        t = self._p.types
        return None if t is None else WorkerTypes(*t)

    @property
    def worker_type(self) -> Optional[np.ndarray]:
        """With worker types: the type of every open worker, ``(n_workers,)`` int64 rows of :attr:`types`."""
        return self._p.worker_type

    @property
    def cost(self) -> float:
        """Total cost of the open workers (empty ones included; without types, 1 per worker)."""
        wt, types = self._p.worker_type, self._p.types
        if wt is None or types is None:
            return float(self.n_workers)
        return float(types[2][wt].sum())

    @property
    def headroom(self) -> np.ndarray:
        return self._p.headroom

    @property
    def strategy(self) -> str:
        return self._p.strategy

    @property
    def scan_limit(self) -> int:
        return self._p.scan_limit

    @property
    def T(self) -> int:
        return self._p.T

    @property
    def R(self) -> int:
        return self._p.R

    def __repr__(self) -> str:
        return (f"Placer(R={self.R}, T={self.T}, strategy={self.strategy!r}, workloads={len(self)}, "
                f"workers={self.n_workers})")

    # ------------------------------------------------------------------ snapshots
    def snapshot(self, path: Optional[PathLike] = None) -> Optional[bytes]:
        """The whole state as bytes, or written atomically to ``path`` (then returns None).

        The file is written to a temporary name in the same folder, flushed
        (``fsync``) and renamed over ``path``.
        """
        data = self._p.snapshot()
        if path is None:
            return data
        target = Path(path)
        tag = _remove_stale_temps(target)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{tag}-", suffix=".tmp", dir=target.parent or ".")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        try:  # make the rename itself durable
            dfd = os.open(target.parent or ".", os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError:
            pass
        return None

    @classmethod
    def restore(cls, source: Union[bytes, bytearray, memoryview, PathLike]) -> "Placer":
        """A Placer from :meth:`snapshot` bytes or a snapshot file.

        Raises
        ------
        ValueError
            Not a snapshot, an unsupported version, corrupt (checksum), or
            content that :meth:`snapshot` cannot have written (sizes the bytes
            do not hold, malformed ids, NaN or negative shapes, loads over
            capacity): checked before anything of the header's sizes is
            allocated.
        """
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
        else:
            data = Path(source).read_bytes()
        obj = cls.__new__(cls)
        obj._p = _core.Placer.restore(data)
        return obj


def _host_tag() -> str:
    return f"{zlib.crc32(socket.gethostname().encode('utf-8', 'surrogatepass')):08x}"


def _remove_stale_temps(target: Path) -> str:
    """Remove ``.<name>.<host>-<pid>-*.tmp`` files next to ``target`` left by dead processes of this host.

    Returns ``<host>-<pid>``, the tag of this process's own temporary files.
    A file whose process is alive (or whose pid is now another live process's)
    is kept; so are other hosts' files (another machine sharing the folder)
    and names in any other form.
    """
    host = _host_tag()
    tag = f"{host}-{os.getpid()}"
    if os.name != "posix":  # os.kill(pid, 0) would terminate the process on Windows
        return tag
    prefix = f".{target.name}.{host}-"
    try:
        names = [e.name for e in os.scandir(target.parent or ".") if e.name.startswith(prefix)]
    except OSError:
        return tag
    for name in names:
        pid, sep, rest = name[len(prefix):].partition("-")
        if not (sep and rest.endswith(".tmp") and pid.isdigit() and int(pid) > 0) or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # alive
        except ProcessLookupError:
            pass
        except OSError:  # alive (another user's) or unknown: keep
            continue
        try:
            os.unlink(os.path.join(target.parent or ".", name))
        except OSError:
            pass
    return tag
