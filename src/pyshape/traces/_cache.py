"""A cache of loaded traces: an ``.npz`` per input, keyed by a fingerprint of the input files and the options.

The key hashes every input file's path, size and modification time (the
files of a folder included), the loader's options and the pyshape version;
a changed, added or removed file gives a new key. Entries are written to a
temporary file and renamed into place (never half-written); a damaged entry
is ignored and rewritten. The oldest entries beyond ``MAX_ENTRIES`` are
removed. Folder: ``$PYSHAPE_CACHE_DIR``, else ``$XDG_CACHE_HOME/pyshape``,
else ``~/.cache/pyshape``.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Callable, Dict, Iterable, Tuple

from pyshape.traces._trace import ResourceTrace

MAX_ENTRIES = 16


def cache_dir() -> Path:
    env = os.environ.get("PYSHAPE_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pyshape"


def input_files(path: Path) -> Iterable[Path]:
    if path.is_dir():
        return sorted(q for q in path.iterdir() if q.is_file())
    return [path]


def fingerprint(paths: Iterable[Path], options: Dict) -> str:
    import pyshape

    h = hashlib.sha256()
    for p in paths:
        for q in input_files(Path(p)):
            st = q.stat()
            h.update(f"{q.resolve()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    h.update(json.dumps(options, sort_keys=True, default=str).encode())
    h.update(getattr(pyshape, "__version__", "?").encode())
    h.update(b"cache-format-1")
    return h.hexdigest()[:32]


def cached(paths: Iterable[Path], options: Dict, load: Callable[[], ResourceTrace]) -> Tuple[ResourceTrace, bool]:
    """``(trace, hit)``: the cached trace of these inputs and options, or ``load()`` (then stored)."""
    from pyshape.traces.files import load_shapes, save_shapes

    paths = list(paths)
    folder = cache_dir()
    entry = folder / f"{fingerprint(paths, options)}.npz"
    if entry.is_file():
        try:
            tr = load_shapes(entry, allow_nonfinite=True)
            os.utime(entry)                      # most recently used
            return tr, True
        except (OSError, ValueError, TypeError, KeyError):
            pass                                 # damaged: load again and overwrite
    tr = load()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".npz")
        os.close(fd)
        try:
            save_shapes(tr, tmp)
            os.replace(tmp, entry)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        _prune(folder)
    except OSError:
        pass                                     # a read-only or full cache never stops a load
    return tr, False


def _prune(folder: Path) -> None:
    entries = sorted(folder.glob("*.npz"), key=lambda q: q.stat().st_mtime, reverse=True)
    for q in entries[MAX_ENTRIES:]:
        try:
            q.unlink()
        except OSError:
            pass
