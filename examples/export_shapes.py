"""Write shapes to the simple binary file the C and Go examples read.

    python examples/export_shapes.py bitbrains-day0.bin            # day 0 of the bundled Bitbrains sample
    python examples/export_shapes.py out.bin --day 3

Format (little-endian): 8 bytes magic ``PYSHSET1``; u32 n, u32 R, u32 T; then n
ids (u32 byte length, UTF-8 bytes); then n * R * T float32 values, shape i
resource r step t at ``(i * R + r) * T + t`` (the C order of an (n, R, T) array).
"""
from __future__ import annotations

import argparse
import struct
from pathlib import Path

import numpy as np

MAGIC = b"PYSHSET1"


def write_shapes(path, ids, shapes) -> None:
    D = np.ascontiguousarray(shapes, dtype="<f4")
    if D.ndim == 2:
        D = D.reshape(D.shape[0], 1, D.shape[1])
    n, R, T = D.shape
    parts = [MAGIC, struct.pack("<III", n, R, T)]
    for i in ids:
        b = str(i).encode("utf-8")
        parts += [struct.pack("<I", len(b)), b]
    parts.append(D.tobytes())
    Path(path).write_bytes(b"".join(parts))


def read_shapes(path):
    data = Path(path).read_bytes()
    if data[:8] != MAGIC:
        raise ValueError(f"{path}: not a shapes file")
    n, R, T = struct.unpack_from("<III", data, 8)
    pos, ids = 20, []
    for _ in range(n):
        (k,) = struct.unpack_from("<I", data, pos)
        ids.append(data[pos + 4:pos + 4 + k].decode("utf-8"))
        pos += 4 + k
    D = np.frombuffer(data, dtype="<f4", count=n * R * T, offset=pos).reshape(n, R, T)
    return ids, D


def bitbrains_day(d: int = 0):
    from pyshape.traces import load_bitbrains_sample

    tr = load_bitbrains_sample().day(d)
    return [str(i) for i in tr.ids], tr.shapes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("output")
    ap.add_argument("--day", type=int, default=0, help="day of the bundled Bitbrains week (default 0)")
    a = ap.parse_args()
    ids, D = bitbrains_day(a.day)
    write_shapes(a.output, ids, D)
    print(f"{a.output}: {D.shape[0]} shapes, R={D.shape[1]}, T={D.shape[2]}")


if __name__ == "__main__":
    main()
