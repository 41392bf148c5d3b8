"""Workers against overflow on the Bitbrains month: plan day d+1 on a forecast from days <= d.

For two worker sizes, every forecaster, strategy and headroom: pack the forecast, replay the
real day, pool overflow over the month. Writes a Markdown table (stdout and --out) and a
frontier PNG per worker size.

    python bench/frontier_bitbrains.py [--data ../shared/data/bitbrains_rnd_2013-07] [--out bench/frontier] \
        [--figure docs/img/frontier.png]     # the README's figure: the 128 GHz frontier
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from pyshape.evaluate import backtest
from pyshape.report import headline
from pyshape.traces import load_bitbrains

#: (label, CPU MHz, memory GB): the issue's reference size and a 2-socket server's share.
WORKERS = (("32 GHz / 64 GB", 32_000.0, 64.0), ("128 GHz / 256 GB", 128_000.0, 256.0))
COLS = ("forecaster", "strategy", "headroom", "workers", "lower_bound", "overflow_fraction", "worst_day_overflow",
        "workers_over", "savings_vs_peak", "mae_cpu_mhz", "peak_error_cpu_mhz")


def main() -> None:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(here.parent.parent / "shared" / "data" / "bitbrains_rnd_2013-07"))
    ap.add_argument("--out", default=str(here / "frontier"))
    ap.add_argument("--min-history", type=int, default=7, help="days before the first planned day (7)")
    ap.add_argument("--figure", default=None, help="also copy the 128 GHz frontier here (docs/img/frontier.png)")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    tr = load_bitbrains(args.data)
    print(f"loaded {tr.shapes.shape} in {time.perf_counter() - t0:.1f} s")
    md = [f"Bitbrains Rnd 2013-07, {tr.n} VMs, every whole day after the first {args.min_history} whole days "
          f"planned from the whole days before (pooled overflow over all planned days).", ""]
    for label, cpu, mem in WORKERS:
        t0 = time.perf_counter()
        bt = backtest(tr, [cpu, mem], min_history=args.min_history)  # the shared defaults (pyshape.defaults)
        s = bt.summary()
        md += [f"### Workers of {label} ({time.perf_counter() - t0:.0f} s; days planned: "
               f"{', '.join(str(d) for d in sorted(set(bt.table['day'].tolist())))})", "", headline(bt), "",
               _table({c: s[c] for c in COLS if c in s})]
        tag = label.split()[0]
        try:
            import matplotlib.pyplot as plt

            from pyshape.plot import plot_frontier

            plt.close(plot_frontier(bt.summary(), out / f"frontier_{tag}ghz.png", reference=None, xscale="symlog",
                                    resources=tr.resources, capacity=(cpu, mem),
                                    title=f"Bitbrains month, workers of {label}: workers against overflow"))
        except ImportError:
            pass
        if args.figure and cpu == 128_000.0 and (out / f"frontier_{tag}ghz.png").exists():
            import shutil

            shutil.copyfile(out / f"frontier_{tag}ghz.png", args.figure)
        from pyshape._table import write_table

        write_table(bt.table, out / f"backtest_{tag}ghz.csv")
    md += ["", spike_analysis(tr, WORKERS[0][1], first_day=args.min_history)]
    text = "\n".join(md) + "\n"
    (out / "frontier.md").write_text(text)
    print(text)


def spike_analysis(tr, cpu_capacity: float, *, first_day: int = 7, window: int = 7) -> str:
    """Why small workers save nothing: big VMs' spikes under a safe (weekly max) forecast vs the real day."""
    from pyshape.forecast import PeriodMax

    P, D = tr.steps_per_day, tr.shapes
    half = cpu_capacity / 2
    big_f, big_a, fit_f, fit_a = [], [], [], []
    for d in range(first_day, tr.n_days):
        actual = D[:, 0, d * P:(d + 1) * P]
        fc = PeriodMax(window=window).forecast(D[:, :, : d * P], P)[:, 0]
        for X, big, fit in ((fc, big_f, fit_f), (actual, big_a, fit_a)):
            b = X[X.max(axis=1) > half]
            big.append(len(b))
            if len(b) > 1:
                ok = (b[:, None, :] + b[None, :, :]).max(axis=2) <= cpu_capacity
                fit.append(ok[np.triu_indices(len(b), 1)].mean())
    return (f"VMs per day with a CPU peak above half a {cpu_capacity / 1000:g} GHz worker: forecast (max of "
            f"{window} days) {np.mean(big_f):.1f}, real day {np.mean(big_a):.1f}; pairs of them that fit one worker "
            f"at every step: forecast {np.mean(fit_f):.1%}, real day {np.mean(fit_a):.1%}")


def _table(cols) -> str:
    from pyshape.evaluate import _markdown

    return _markdown(cols, 4)


if __name__ == "__main__":
    main()
