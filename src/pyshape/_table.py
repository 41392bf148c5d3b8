"""Column tables (dict of equal-length arrays) written as CSV, JSON or Parquet.

The CLI and the report write every result through :func:`write_table`, so all
outputs share one set of formats: the file's suffix picks the format, ``'-'``
means CSV on standard output.
"""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import IO, Any, Mapping, Sequence, Union

import numpy as np

FORMATS = (".csv", ".json", ".parquet")

#: One column of a table: an array or a sequence of cells.
Column = Union[Sequence[Any], np.ndarray]


def _columns(cols: Mapping[str, Column]) -> dict[str, np.ndarray]:
    out = {str(k): np.asarray(v) for k, v in cols.items()}
    lengths = {len(v) for v in out.values()}
    if len(lengths) > 1:
        raise ValueError(f"table columns have different lengths: { {k: len(v) for k, v in out.items()} }")
    return out


def _cell(v: Any) -> Any:
    if isinstance(v, (np.floating, float)):
        return repr(float(v)) if np.isfinite(v) else ("nan" if np.isnan(v) else str(float(v)))
    if isinstance(v, np.generic):
        return v.item()
    return v


def _write_csv(cols: Mapping[str, np.ndarray], f: IO[str]) -> None:
    names = list(cols)
    w = csv.writer(f, lineterminator="\n")
    w.writerow(names)
    n = len(cols[names[0]]) if names else 0
    for i in range(n):
        w.writerow([_cell(cols[c][i]) for c in names])


def write_table(cols: Mapping[str, Column], path: Union[str, Path]) -> None:
    """Write columns to ``path``: ``.csv``, ``.json`` (a list of records) or ``.parquet``.

    Parameters
    ----------
    cols : mapping of str to array_like
        Equal-length columns.
    path : str or path-like
        Output file; ``'-'`` writes CSV to standard output.

    Raises
    ------
    ValueError
        Unknown suffix or columns of different lengths.
    ImportError
        Parquet without pyarrow.
    """
    c = _columns(cols)
    if str(path) == "-":
        _write_csv(c, sys.stdout)
        return
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".csv":
        with open(p, "w", newline="") as f:
            _write_csv(c, f)
    elif suffix == ".json":
        names = list(c)
        n = len(c[names[0]]) if names else 0
        records = [{k: _json_value(c[k][i]) for k in names} for i in range(n)]
        p.write_text(json.dumps(records, indent=1) + "\n")
    elif suffix == ".parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise ImportError(f"{p}: writing Parquet needs pyarrow (pip install pyarrow)") from None
        pq.write_table(pa.table({k: v for k, v in c.items()}), p)
    else:
        raise ValueError(f"{p}: unknown output format {suffix!r} (use one of {', '.join(FORMATS)} or '-')")


def _json_value(v: Any) -> Any:
    if isinstance(v, (np.floating, float)):
        return float(v) if np.isfinite(v) else None
    if isinstance(v, np.generic):
        return v.item()
    return v


def markdown_table(cols: Mapping[str, Column], *, digits: int = 4, nan: str = "nan") -> str:
    """Columns as a Markdown table (floats to ``digits`` significant digits, NaN as ``nan``)."""
    names = list(cols)

    def fmt(v: Any) -> str:
        if isinstance(v, (float, np.floating)):
            return nan if np.isnan(v) else f"{v:.{digits}g}"
        return str(v)

    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    for i in range(len(cols[names[0]]) if names else 0):
        lines.append("| " + " | ".join(fmt(cols[c][i]) for c in names) + " |")
    return "\n".join(lines)
