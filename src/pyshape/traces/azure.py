"""Azure Functions Trace 2019: per-function invocations, durations and app memory as concurrency and memory shapes."""
from __future__ import annotations

import re
from importlib import resources as _resources
from pathlib import Path
from typing import Dict, List, Literal, Optional, Sequence, Tuple

import numpy as np

from pyshape.traces._text import PathArg, check_field_counts, parse_numbers, read_lines
from pyshape.traces._trace import ResourceTrace, plain

__all__ = ["load_azure_functions", "load_azure_sample"]

_ID_COLUMNS = ("HashOwner", "HashApp", "HashFunction")
_DAY_FILE = re.compile(r"^invocations_per_function_md\.anon\.(d\d+)\.csv(\.gz)?$")
_ROW_BLOCK = 4096  # rows per block when turning counts into shapes (bounds the float64 temporaries)
_HEADER_LIMIT = 16 << 20  # bytes; a day file's header (1440 minutes) is about 7 KB


def load_azure_functions(invocations: PathArg, durations: Optional[PathArg] = None, memory: Optional[PathArg] = None,
                         *, step_seconds: int = 60,
                         memory_model: Literal["busy", "active"] = "busy", start: int = 0) -> ResourceTrace:
    """Load one day of the Azure Functions Trace 2019 as concurrency and memory shapes.

    Reads the trace's per-day CSV files (``invocations_per_function_md.anon.dNN.csv``:
    ``HashOwner,HashApp,HashFunction,Trigger,1..1440``;
    ``function_durations_percentiles.anon.dNN.csv``; ``app_memory_percentiles.anon.dNN.csv``,
    memory per *application*, joined to functions on ``HashOwner,HashApp``) and the
    variant of the bundled Freyr sample, which has no ``HashOwner``/``HashApp``
    columns and keys all three files by ``HashFunction`` (memory per function).
    Functions are matched on the id columns the two files have in common.

    Models, per function and step ``t`` of ``step_seconds`` seconds:

    - ``concurrency(t) = invocations(t) * mean duration (s) / step (s)``: the
      mean number of busy instances over the step (Little's law), with the
      mean duration the file's ``Average`` (ms, execution only, no cold start).
    - ``memory_mb(t)``, MB, by ``memory_model``:

      - ``'busy'`` (default): ``ceil(concurrency(t))`` busy instances times the
        ``AverageAllocatedMb`` of the function's app (real trace) or of the
        function (sample) per instance. It ignores keep-alive: an idle but
        warm instance holds no memory here, and all functions of an app are
        charged the app's full per-instance memory.
      - ``'active'``: ``AverageAllocatedMb`` in every step with at least one
        invocation, else 0 (one instance while active).

      ``ceil`` is taken after rounding the concurrency to 6 decimals, so that
      float noise (``1.0000000000000002``) does not add an instance.

    Fallbacks: a function with no duration row (or an empty ``Average``) gets
    the median ``Average`` over the functions of this file with the same
    ``Trigger`` that have one, or over all functions that have one if none of
    its trigger does; the same for memory with ``AverageAllocatedMb``. They
    are kept and counted in ``info``.

    Parameters
    ----------
    invocations : str or path-like
        Invocation-count file (``.csv`` or ``.csv.gz``), one row per function,
        per-minute counts in columns ``1..T``.
    durations, memory : str or path-like, optional
        Duration and memory files. By default the files of the same day next
        to ``invocations`` (``function_durations_percentiles.anon.dNN.csv`` and
        ``app_memory_percentiles.anon.dNN.csv``, or ``duration_traces.csv`` and
        ``memory_traces.csv`` beside ``invocation_traces.csv``). The 2019 trace
        has no memory files for days 13 and 14: pass another day's.
    step_seconds : int, default 60
        Step of the result, a multiple of 60: counts of ``step_seconds / 60``
        consecutive minutes are summed (the number of minutes must divide).
    memory_model : {'busy', 'active'}, default 'busy'
        See above.
    start : int, default 0
        Unix time of minute 1. The trace carries no dates (the paper's days
        are in July 2019), so it is 0 unless given.

    Returns
    -------
    ResourceTrace
        ``resources = ('concurrency', 'memory_mb')``, ``ids`` = ``HashFunction``
        (in file order). ``meta``: ``trigger``, ``owner`` and ``app`` (when the
        file has them), ``invocations`` (n, T) float32 (per step),
        ``duration_ms`` and ``instance_mb`` (the values used, fallbacks
        included), ``has_duration`` and ``has_memory`` (bool). ``info``:
        ``no_duration``, ``no_memory`` (functions given the fallback),
        ``all_zero`` (functions with no invocation in the window, kept: drop
        them with ``tr.select(tr.meta['invocations'].any(axis=1))``),
        ``unused_duration_rows``, ``unused_memory_rows`` (rows that match no
        function).

    Raises
    ------
    FileNotFoundError
        If a file is missing.
    ValueError
        If a file is empty, lacks a column, has a row with the wrong number of
        fields, a non-numeric or negative value or a repeated function (or
        app) id, if no function matches the durations or memory file, or if
        ``step_seconds`` / ``memory_model`` are invalid.

    Examples
    --------
    >>> from pyshape.traces import load_azure_functions             # doctest: +SKIP
    >>> tr = load_azure_functions("invocations_per_function_md.anon.d01.csv")  # doctest: +SKIP
    >>> tr.resource("concurrency").shape                             # doctest: +SKIP
    (46413, 1440)
    """
    if isinstance(step_seconds, bool) or not isinstance(step_seconds, (int, np.integer)) \
            or step_seconds <= 0 or step_seconds % 60:
        raise ValueError(f"step_seconds must be a positive multiple of 60 (the trace counts per minute), "
                         f"got {plain(step_seconds)!r}")
    if memory_model not in ("busy", "active"):
        raise ValueError(f"memory_model must be 'busy' or 'active', got {memory_model!r}")
    inv_path = Path(invocations)
    dur_path = Path(durations) if durations is not None else _sibling(inv_path, "durations")
    mem_path = Path(memory) if memory is not None else _sibling(inv_path, "memory")

    keys_cols, keys, trigger, counts = _read_invocations(inv_path)
    n, minutes = counts.shape
    per_step = int(step_seconds) // 60
    if minutes % per_step:
        raise ValueError(f"{inv_path}: {minutes} minutes do not split into steps of {step_seconds} s")
    if per_step > 1:
        counts = counts.reshape(n, minutes // per_step, per_step).sum(axis=2)

    dur, n_dur_unused = _join_values(dur_path, "Average", keys_cols, keys, inv_path, per_function=True)
    mem, n_mem_unused = _join_values(mem_path, "AverageAllocatedMb", keys_cols, keys, inv_path, per_function=False)
    has_dur, has_mem = ~np.isnan(dur), ~np.isnan(mem)
    dur = _fill_by_trigger(dur, trigger, dur_path, inv_path)
    mem = _fill_by_trigger(mem, trigger, mem_path, inv_path)

    T = counts.shape[1]
    shapes = np.empty((n, 2, T), dtype=np.float32)
    for lo in range(0, n, _ROW_BLOCK):
        c = counts[lo:lo + _ROW_BLOCK]
        conc = c * (dur[lo:lo + _ROW_BLOCK, None] / (1000.0 * step_seconds))
        shapes[lo:lo + _ROW_BLOCK, 0] = conc
        if memory_model == "busy":
            busy = np.ceil(np.round(conc, 6))
        else:
            busy = (c > 0).astype(np.float64)
        shapes[lo:lo + _ROW_BLOCK, 1] = busy * mem[lo:lo + _ROW_BLOCK, None]

    meta = {"trigger": trigger}
    for name, col in (("owner", "HashOwner"), ("app", "HashApp")):
        if col in keys_cols:
            meta[name] = keys[:, keys_cols.index(col)]
    meta.update(invocations=counts, duration_ms=dur, instance_mb=mem,
                has_duration=has_dur, has_memory=has_mem)
    info = {"no_duration": int(n - has_dur.sum()), "no_memory": int(n - has_mem.sum()),
            "all_zero": int((~counts.any(axis=1)).sum()),
            "unused_duration_rows": n_dur_unused, "unused_memory_rows": n_mem_unused}
    ids = keys[:, keys_cols.index("HashFunction")]
    return ResourceTrace(ids, shapes, ("concurrency", "memory_mb"), int(step_seconds), start, meta, info)


def load_azure_sample(*, step_seconds: int = 60, memory_model: Literal["busy", "active"] = "busy") -> ResourceTrace:
    """The bundled Azure Functions 2019 sample: 1000 functions, 60 one-minute steps, R=2.

    Real data (CC-BY 4.0, Shahrad et al., USENIX ATC 2020); see
    ``pyshape/data/azure_functions_2019/README.md`` for its source. Loaded by
    :func:`load_azure_functions` (same models and ``meta``), ``start = 0``.

    Examples
    --------
    >>> from pyshape.traces import load_azure_sample
    >>> tr = load_azure_sample()
    >>> tr.shapes.shape, tr.resources, tr.meta["invocations"].shape
    ((1000, 2, 60), ('concurrency', 'memory_mb'), (1000, 60))
    """
    folder = Path(str(_resources.files("pyshape") / "data" / "azure_functions_2019"))
    return load_azure_functions(folder / "invocation_traces.csv", folder / "duration_traces.csv",
                                folder / "memory_traces.csv", step_seconds=step_seconds, memory_model=memory_model)


def _sibling(inv: Path, kind: str) -> Path:
    """The durations / memory file of the same day next to an invocations file.

    By the trace's own names first; otherwise by header: the one file of the
    folder with a durations header (``Average`` and ``Count``) or a memory
    header (``AverageAllocatedMb``), preferring one whose name has the same
    ``dNN`` day token as ``inv``.
    """
    m = _DAY_FILE.match(inv.name)
    names = []
    if m:
        stem = {"durations": "function_durations_percentiles", "memory": "app_memory_percentiles"}[kind]
        names = [f"{stem}.anon.{m.group(1)}.csv", f"{stem}.anon.{m.group(1)}.csv.gz"]
    elif inv.name in ("invocation_traces.csv", "invocation_traces.csv.gz"):
        stem = {"durations": "duration_traces", "memory": "memory_traces"}[kind]
        names = [f"{stem}.csv", f"{stem}.csv.gz"]
    for name in names:
        if (inv.parent / name).exists():
            return inv.parent / name
    found = _by_header(inv, kind)
    if found is not None:
        return found
    hint = " (the 2019 trace has no memory files for days 13 and 14: pass another day's)" if kind == "memory" else ""
    option = "--durations" if kind == "durations" else "--memory"
    where = f"{inv.parent / names[0]}: no such file, needed for the {kind} of {inv.name}, and" if names else \
        f"{inv.parent}: no {kind} file for {inv.name}:"
    raise FileNotFoundError(f"{where} no file in that folder has a {kind} header{hint}; pass {kind}= "
                            f"(CLI: {option} FILE)")


def _header_of(p: Path) -> Optional[List[str]]:
    import gzip
    opener = gzip.open if p.name.lower().endswith(".gz") else open
    try:
        with opener(p, "rb") as f:
            head = f.readline(1 << 16)
        return [h.strip() for h in head.decode("utf-8", errors="replace").lstrip("\ufeff").strip().split(",")]
    except (OSError, EOFError):
        return None


def _by_header(inv: Path, kind: str) -> Optional[Path]:
    day = re.search(r"d\d+", inv.name)
    hits = []
    for q in sorted(inv.parent.iterdir()):
        if q == inv or not q.is_file() or not q.name.lower().endswith((".csv", ".csv.gz")):
            continue
        cols = _header_of(q)
        if not cols or "Trigger" in cols:
            continue
        ok = ("Average" in cols and "Count" in cols and "HashFunction" in cols) if kind == "durations" \
            else "AverageAllocatedMb" in cols
        if ok:
            hits.append(q)
    if day is not None and len(hits) > 1:
        same = [q for q in hits if re.search(rf"{day.group(0)}(?!\d)", q.name)]
        if len(same) == 1:
            return same[0]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        raise ValueError(f"{inv.parent}: {len(hits)} files look like {kind} files "
                         f"({', '.join(q.name for q in hits[:4])}{' ...' if len(hits) > 4 else ''}) and none "
                         f"shares a day token with {inv.name}; pass {kind}= (CLI: "
                         f"{'--durations' if kind == 'durations' else '--memory'} FILE)")
    return None


def _read_invocations(path: Path) -> Tuple[Tuple[str, ...], np.ndarray, np.ndarray, np.ndarray]:
    """(id column names, ids (n, k) str, triggers (n,), per-minute counts (n, minutes) float32)."""
    header, lines, linenos = read_lines(path, header_limit=_HEADER_LIMIT)
    names = [h.strip() for h in header.split(",")]
    if "Trigger" not in names:
        raise ValueError(f"{path}: no Trigger column; expected [HashOwner,HashApp,]HashFunction,Trigger,1,2,... "
                         f"got {','.join(names[:5])}...")
    n_text = names.index("Trigger") + 1
    id_cols = tuple(names[:n_text - 1])
    if id_cols not in (_ID_COLUMNS, ("HashFunction",)):
        raise ValueError(f"{path}: id columns before Trigger must be HashOwner,HashApp,HashFunction or "
                         f"HashFunction, got {','.join(id_cols) or 'none'}")
    labels = names[n_text:]
    if not labels:
        raise ValueError(f"{path}: no per-minute count columns after Trigger")
    if labels != [str(i) for i in range(1, len(labels) + 1)]:
        bad = next(lab for i, lab in enumerate(labels) if lab != str(i + 1))
        raise ValueError(f"{path}: per-minute columns must be named 1..{len(labels)}, found {bad!r}")
    if not lines:
        raise ValueError(f"{path}: no data rows after the header")
    check_field_counts(lines, ",", len(names), path, linenos)
    parts = [ln.split(",", n_text) for ln in lines]
    text = np.array([[f.strip() for f in p[:n_text]] for p in parts], dtype=str).reshape(len(parts), n_text)
    # float32 holds every count below 2**24 exactly and halves the memory of a day file (46k x 1440).
    del lines
    counts = parse_numbers([p.pop() for p in parts], ",", labels, path, linenos, dtype=np.float32)
    bad = ~np.isfinite(counts) | (counts < 0)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(f"{path}, line {linenos[i]}: invocation count {counts[i, j]} in column {labels[j]!r} "
                         f"is not a non-negative number")
    keys = text[:, :-1]
    _check_unique(keys, id_cols, path, linenos)
    return id_cols, keys, text[:, -1], counts


def _check_unique(keys: np.ndarray, cols: Sequence[str], path: Path, linenos: Sequence[int]) -> None:
    seen: Dict[tuple, int] = {}
    for i, k in enumerate(map(tuple, keys.tolist())):
        if k in seen:
            raise ValueError(f"{path}, line {linenos[i]}: duplicate id {dict(zip(cols, k))} "
                             f"(first on line {linenos[seen[k]]})")
        seen[k] = i


def _join_values(path: Path, column: str, inv_cols: Tuple[str, ...], inv_keys: np.ndarray, inv_path: Path,
                 *, per_function: bool) -> Tuple[np.ndarray, int]:
    """``column`` of ``path`` for every invocation row (NaN where none), and the count of unmatched rows.

    Rows are matched on the id columns both files have (among HashOwner,
    HashApp, HashFunction). ``per_function``: the file must have
    HashFunction (durations); otherwise it may be keyed per app (memory).
    """
    header, lines, linenos = read_lines(path, header_limit=_HEADER_LIMIT)
    names = [h.strip() for h in header.split(",")]
    if column not in names:
        raise ValueError(f"{path}: no {column} column (columns: {','.join(names)})")
    key_cols = [c for c in _ID_COLUMNS if c in names and c in inv_cols]
    need = "HashFunction" if per_function or "HashFunction" in names else "HashApp"
    if need not in key_cols:
        raise ValueError(f"{path}: no {need} column shared with {inv_path.name} to join on "
                         f"(columns: {','.join(names)})")
    if not lines:
        raise ValueError(f"{path}: no data rows after the header")
    check_field_counts(lines, ",", len(names), path, linenos)
    rows = [[f.strip() for f in ln.split(",")] for ln in lines]
    kidx = [names.index(c) for c in key_cols]
    vidx = names.index(column)
    keys = np.array([[r[i] for i in kidx] for r in rows], dtype=str).reshape(len(rows), len(kidx))
    _check_unique(keys, key_cols, path, linenos)
    values = np.empty(len(rows))
    for i, r in enumerate(rows):
        v = r[vidx]
        try:
            values[i] = float(v) if v else np.nan  # empty = not recorded: the function gets the fallback
        except ValueError:
            raise ValueError(f"{path}, line {linenos[i]}: non-numeric value {v!r} in column {column!r}") from None
        if values[i] < 0 or np.isinf(values[i]):
            raise ValueError(f"{path}, line {linenos[i]}: {column} = {v} is not a non-negative number")
    lookup = {k: i for i, k in enumerate(map(tuple, keys.tolist()))}
    ikeys = inv_keys[:, [inv_cols.index(c) for c in key_cols]]
    pos = np.array([lookup.get(k, -1) for k in map(tuple, ikeys.tolist())], dtype=np.intp)
    out = np.where(pos >= 0, values[pos], np.nan)
    if not (pos >= 0).any():
        raise ValueError(f"{path}: no row matches a function of {inv_path.name} on {','.join(key_cols)} "
                         f"(files of different days or traces?)")
    used = np.zeros(len(rows), dtype=bool)
    used[pos[pos >= 0]] = True
    return out, int((~used).sum())


def _fill_by_trigger(values: np.ndarray, trigger: np.ndarray, path: Path, inv_path: Path) -> np.ndarray:
    """NaN entries replaced by the median over the rows of the same trigger, else over all rows."""
    have = ~np.isnan(values)
    if not have.any():
        raise ValueError(f"{path}: no function of {inv_path.name} has a value to fall back on")
    if have.all():
        return values
    out = values.copy()
    overall = float(np.median(values[have]))
    for t in np.unique(trigger[~have]):
        same = trigger == t
        pool = values[same & have]
        out[same & ~have] = np.median(pool) if pool.size else overall
    return out
