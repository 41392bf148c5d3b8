"""``pyshape demo``: the whole pipeline on the real traces bundled with the package.

1. Azure Functions 2019 sample (1000 functions, one hour): concurrency and
   memory shapes, the most anti-correlated functions, the hour packed.
2. Bitbrains Rnd sample (VMs, a week at 5-minute steps, CPU and memory):
   clusters, forecasts, plans on the forecast of day d+1 made from days <= d
   with the peak-based and the default strategy, replays the real day, and
   prints workers, lower bound, savings and overflow; PNG figures and a
   Markdown report go to the output folder.
"""
from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any, List, Sequence, Tuple

import numpy as np

from pyshape import defaults
from pyshape.cli._common import (
    add_min_coverage,
    capacities,
    check_capacity_count,
    check_outdir,
    fraction_closed,
    say,
    show_progress,
)

if TYPE_CHECKING:  # pragma: no cover
    from pyshape.evaluate import Backtest

#: Worker size for the Bitbrains part: CPU in MHz, memory in GB (a 2-socket
#: server's share: 128 GHz is e.g. 48 cores at 2.7 GHz).
BITBRAINS_WORKER = (128_000.0, 256.0)
#: Worker size for the Azure part: concurrent executions and memory in MB.
AZURE_WORKER = (32.0, 16_384.0)


def _table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    line = lambda vals: "  ".join(str(v).rjust(w) for v, w in zip(vals, widths))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def _azure(args: argparse.Namespace) -> None:
    import pyshape
    from pyshape.traces import load_azure_sample

    tr = load_azure_sample()
    inv = tr.meta["invocations"]
    trig = tr.meta["trigger"]
    counted = ", ".join(f"{k} {v}" for k, v in tr.info.items())
    print(f"Azure Functions 2019 sample: {tr.n} functions x {tr.T} minutes "
          f"(resources: {', '.join(tr.resources)}; loader counts: {counted})")
    active = np.flatnonzero((inv > 0).sum(axis=1) >= 10)
    X = np.ascontiguousarray(inv[active])
    t0 = time.perf_counter()
    p = pyshape.top_partners(X, k=1, which="anti")
    assert p.anti_index is not None and p.anti_score is not None  # which="anti"
    dt = time.perf_counter() - t0
    order = np.argsort(p.anti_score[:, 0])
    used: set = set()
    pairs = []
    for i in order:
        j = int(p.anti_index[i, 0])
        if i in used or j in used:
            continue
        used.update((int(i), j))
        a, b = active[i], active[j]
        pairs.append((tr.ids[a], trig[a], tr.ids[b], trig[b], f"{p.anti_score[i, 0]:.3f}"))
        if len(pairs) == 5:
            break
    print(f"\nMost anti-correlated functions (invocations per minute, Pearson r; all-pairs top-1 over "
          f"{len(X)} active functions in {dt * 1e3:.1f} ms):")
    print(_table(pairs, ["function", "trigger", "partner", "trigger", "r"]))
    cap = np.array(AZURE_WORKER)
    D = tr.shapes
    fits = (D.max(axis=2) <= cap[None, :]).all(axis=1)
    rows = []
    for s in defaults.STRATEGIES:
        plan = pyshape.pack(D[fits], cap, strategy=s)
        plan.verify()
        rows.append((s, plan.n_workers, plan.lower_bound, f"{plan.savings:.1%}",
                     f"{np.mean(plan.utilisation):.1%}"))
    print(f"\nThe hour packed on workers of {cap[0]:g} concurrent executions / {cap[1]:g} MB "
          f"({int((~fits).sum())} function(s) bigger than a worker left out):")
    print(_table(rows, ["strategy", "workers", "lower bound", "savings vs peak", "mean utilisation"]))


def _best_rows(bt: Backtest, max_overflow: float,
               max_day_overflow: float = defaults.MAX_DAY_OVERFLOW) -> List[Tuple[Any, ...]]:
    """For each forecaster and strategy, the cheapest headroom that keeps overflow within the budget
    (pooled and worst day); savings compare with the peak-based row chosen the same way for the
    same forecaster (the 'rolling' rows: each day's setting chosen from the days before it)."""
    s = bt.summary()
    chosen = {}
    for f in dict.fromkeys(s["forecaster"]):
        for strat in dict.fromkeys(s["strategy"]):
            m = np.flatnonzero((s["forecaster"] == f) & (s["strategy"] == strat))
            if not len(m):
                continue
            ok = m[(s["overflow_fraction"][m] <= max_overflow) & (s["worst_day_overflow"][m] <= max_day_overflow)]
            chosen[(f, strat)] = (ok[np.argmin(s["workers"][ok])], True) if len(ok) else \
                (m[np.argmin(s["overflow_fraction"][m])], False)
    rows = []
    for (f, strat), (i, ok) in chosen.items():
        base = chosen.get((f, "peak"))
        saving = "-"
        if ok and base is not None and base[1] and strat != "peak":
            saving = f"{1 - s['workers'][i] / s['workers'][base[0]]:.1%}"
        head = "rolling" if np.isnan(s["headroom"][i]) else f"{s['headroom'][i]:.0%}"
        rows.append((f, strat, head, f"{s['workers'][i]:.1f}", f"{s['lower_bound'][i]:.1f}",
                     f"{s['overflow_fraction'][i]:.3%}", f"{s['worst_day_overflow'][i]:.3%}", saving,
                     "yes" if ok else "no"))
    return rows


def cmd_demo(args: argparse.Namespace) -> int:
    from pyshape.report import build_report, headline
    from pyshape.traces import load_bitbrains_sample

    # Everything the user gave is checked before any work (main() has checked -d and -c's numbers too).
    cap = capacities(args.capacity) if args.capacity else list(BITBRAINS_WORKER)
    check_capacity_count(cap, ("cpu_mhz", "mem_gb"))
    check_outdir(args.outdir, "-d")
    t_start = time.perf_counter()
    _azure(args)
    tr = load_bitbrains_sample()
    counted = ", ".join(f"{k} {v}" for k, v in tr.info.items())
    # VMs without a single sample in the week are counted by the loader and left out here:
    # an all-zero shape packs anywhere and would only dilute the averages.
    busy = tr.shapes.reshape(tr.n, -1).any(axis=1)
    print(f"\nBitbrains Rnd sample: {tr.n} VMs x {tr.n_days} days of {tr.steps_per_day} five-minute steps "
          f"(resources: {', '.join(tr.resources)}; loader counts: {counted}); {int((~busy).sum())} VMs "
          f"with no sample or all-zero usage left out; workers of {cap[0]:g} MHz / {cap[1]:g} GB")
    tr = tr.select(busy)
    # the defaults of pyshape.defaults, as `pyshape evaluate` and `pyshape report` use them
    rep = build_report(tr, cap, args.outdir, title="pyshape demo: Bitbrains Rnd sample",
                       max_overflow=args.max_overflow, plots=not args.no_plots, min_coverage=args.min_coverage,
                       progress=show_progress(args))
    bt = rep.backtest
    assert bt is not None  # the sample has a week: at least two days to backtest
    planned = sorted(set(bt.table["day"].tolist()))
    print(f"\nPlan day d on a forecast from the whole days before it, replay the real day (days "
          f"{', '.join(str(d) for d in planned)}; {len(bt.partial_days)} partial day(s) left out; means per day; "
          f"for each forecaster and strategy the cheapest setting keeping overflow <= {args.max_overflow:.1%} "
          f"pooled and <= {defaults.MAX_DAY_OVERFLOW:.1%} on the worst day, else the safest; savings against "
          f"peak-based chosen the same way):")
    print(_table(_best_rows(bt, args.max_overflow),
                 ["forecaster", "strategy", "headroom", "workers", "lower bound", "overflow", "worst day",
                  "savings vs peak", "in target"]))
    print("\n" + headline(bt, max_overflow=args.max_overflow))
    for note in rep.notes:
        say(args, note)
    print("\nwrote " + ", ".join(str(p) for p in rep.files.values()))
    print(f"demo finished in {time.perf_counter() - t_start:.1f} s")
    return 0


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    d = sub.add_parser("demo", help="run the whole pipeline on the bundled real traces",
                       description="Load, correlate, cluster, forecast, pack and replay the bundled Azure "
                                   "Functions and Bitbrains samples; print tables, write PNGs and a report.")
    d.add_argument("-d", "--outdir", default="pyshape-demo", help="folder for figures and report (pyshape-demo)")
    d.add_argument("-c", "--capacity", default=None,
                   help=f"Bitbrains worker size: two values, CPU in MHz and memory in GB "
                        f"(default {BITBRAINS_WORKER[0]:g},{BITBRAINS_WORKER[1]:g})")
    d.add_argument("--max-overflow", type=fraction_closed, default=defaults.MAX_OVERFLOW,
                   help=f"overflow budget, pooled fraction of worker-steps (default {defaults.MAX_OVERFLOW:g})")
    add_min_coverage(d)
    d.add_argument("--no-plots", action="store_true", help="tables only")
    d.add_argument("-q", "--quiet", action="store_true", help="no progress bars or messages on stderr")
    d.set_defaults(func=cmd_demo)
