"""The ``pyshape`` command line.

Subcommands print results to stdout (tables, or CSV with ``-o -``), progress
and messages to stderr, and exit non-zero with a one-line message on bad input.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np


class CliError(Exception):
    """Bad input from the user: reported as one line, exit status 1."""


def _load_shapes(path: str) -> tuple[np.ndarray, np.ndarray]:
    """Shapes from .npy (rows = shapes) or a wide CSV (first column id, rest numbers)."""
    p = Path(path)
    if not p.exists():
        raise CliError(f"{path}: no such file")
    if p.suffix == ".npy":
        X = np.load(p, mmap_mode="r")
        return np.arange(len(X)).astype(str), X
    if p.suffix == ".csv":
        import csv

        with p.open(newline="") as f:
            rows = list(csv.reader(f))
        if len(rows) < 2:
            raise CliError(f"{path}: empty trace (need a header and at least one row)")
        try:
            body = [[float(v) for v in r[1:]] for r in rows[1:]]
        except ValueError as e:
            raise CliError(f"{path}: non-numeric value ({e}); expected id,v1,v2,... per row") from None
        if len({len(r) for r in body}) != 1:
            raise CliError(f"{path}: rows have different numbers of values")
        return np.array([r[0] for r in rows[1:]]), np.array(body, dtype=np.float32)
    raise CliError(f"{path}: unknown format {p.suffix!r} (use .npy or .csv)")


def _cmd_info(args) -> int:
    import pyshape

    print(f"pyshape {pyshape.__version__}")
    print(f"simd level: {pyshape.simd_level()} (available: {', '.join(pyshape.available_simd_levels())})")
    from pyshape._system import resolve_threads

    print(f"threads: {resolve_threads(None)}")
    return 0


def _cmd_correlate(args) -> int:
    import pyshape

    ids, X = _load_shapes(args.input)
    t0 = time.perf_counter()
    try:
        p = pyshape.top_partners(X, args.k, which=args.which, progress=not args.quiet)
    except (ValueError, TypeError) as e:
        raise CliError(f"{args.input}: {e}") from None
    if not args.quiet:
        print(f"top-{args.k} partners of {len(X)} shapes in {time.perf_counter() - t0:.2f} s", file=sys.stderr)
    out = sys.stdout if args.output == "-" else open(args.output, "w", newline="")
    try:
        out.write("id,kind,rank,partner,score\n")
        for kind, idx, sc in (("corr", p.corr_index, p.corr_score), ("anti", p.anti_index, p.anti_score)):
            if idx is None:
                continue
            for i in range(len(X)):
                for r in range(args.k):
                    out.write(f"{ids[i]},{kind},{r + 1},{ids[idx[i, r]]},{sc[i, r]:.6f}\n")
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


def _cmd_demo(args) -> int:
    import pyshape
    from pyshape.traces import load_azure_sample

    tr = load_azure_sample()
    X = tr.counts
    active = (X > 0).sum(axis=1) >= 10
    Xa, ids, trig = X[active], tr.ids[active], tr.triggers[active]
    print(f"Azure Functions 2019 sample: {len(X)} functions x {X.shape[1]} minutes; "
          f"{len(Xa)} active in >= 10 minutes")
    t0 = time.perf_counter()
    p = pyshape.top_partners(Xa, k=3)
    dt = time.perf_counter() - t0
    order = np.argsort(p.anti_score[:, 0])
    print(f"\nMost anti-correlated pairs, each function listed once (Pearson r over the hour),"
          f" from all-pairs top-3 in {dt * 1e3:.1f} ms:")
    print(f"{'function':>10} {'trigger':>13}  {'partner':>10} {'trigger':>13}  {'r':>7}")
    used: set[int] = set()
    shown = 0
    for i in order:
        j = int(p.anti_index[i, 0])
        if i in used or j in used:
            continue
        used.update((int(i), j))
        print(f"{ids[i]:>10} {trig[i]:>13}  {ids[j]:>10} {trig[j]:>13}  {p.anti_score[i, 0]:7.3f}")
        shown += 1
        if shown == 8:
            break
    s, lag = pyshape.lagged_correlation(Xa, max_lag=5)
    r0 = pyshape.pearson(Xa)
    gain = s - r0
    np.fill_diagonal(gain, -1)
    i, j = np.unravel_index(np.argmax(gain), gain.shape)
    print(f"\nLargest gain from a shift of up to 5 minutes: {ids[i]} vs {ids[j]}: "
          f"r = {r0[i, j]:.3f} at lag 0, {s[i, j]:.3f} at lag {lag[i, j]:+d}")
    if args.plot:
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            raise CliError("--plot needs matplotlib (pip install matplotlib)") from None
        a = order[0]
        b = int(p.anti_index[a, 0])
        fig, ax = plt.subplots(figsize=(8, 3))
        ax.plot(Xa[a], label=f"{ids[a]} ({trig[a]})")
        ax.plot(Xa[b], label=f"{ids[b]} ({trig[b]})")
        ax.set_xlabel("minute")
        ax.set_ylabel("invocations / min")
        ax.set_title(f"Most anti-correlated pair, r = {p.anti_score[a, 0]:.2f}")
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"\nwrote {args.plot}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    import pyshape

    parser = argparse.ArgumentParser(prog="pyshape", description="Correlate, cluster and pack workload shapes.")
    parser.add_argument("--version", action="version", version=f"pyshape {pyshape.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="run on the bundled real trace sample")
    d.add_argument("--plot", metavar="PNG", help="also write a plot of the most anti-correlated pair")
    d.set_defaults(func=_cmd_demo)

    c = sub.add_parser("correlate", help="top-k correlated / anti-correlated partners of every shape")
    c.add_argument("input", help="shapes: .npy (n, T) or wide .csv (id, v1, v2, ...)")
    c.add_argument("-k", type=int, default=10, help="partners per shape (default 10)")
    c.add_argument("--which", choices=["both", "corr", "anti"], default="both")
    c.add_argument("-o", "--output", default="-", help="CSV output file (default: stdout)")
    c.add_argument("-q", "--quiet", action="store_true", help="no progress or timing on stderr")
    c.set_defaults(func=_cmd_correlate)

    i = sub.add_parser("info", help="version, SIMD level and threads")
    i.set_defaults(func=_cmd_info)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CliError as e:
        print(f"pyshape: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("pyshape: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. piped into head
        return 0


if __name__ == "__main__":
    sys.exit(main())
