"""Plan on uncertainty: next-day replay of the Bitbrains month (and the Azure sample) with the defaults.

For each worker size: :func:`pyshape.evaluate.backtest` with the shared defaults
(:mod:`pyshape.defaults`: forecasters incl. ``'scenario'``, headrooms, partial days left out,
overflow budget 0.1% pooled / 0.5% worst day), then three numbers per size:

* the cheapest peak-based setting within the budget, chosen in hindsight (the baseline);
* ``rolling/peak`` and ``rolling/complement``: the setting chosen each day from the days
  before it only (out of sample), per strategy;
* the cheapest setting within the budget (hindsight), and the oracle.

    python bench/plan_uncertain.py [--data ../shared/data/bitbrains_rnd_2013-07] [--cache out/bb.npz]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from pyshape import defaults
from pyshape.evaluate import backtest

WORKERS = (("12 GHz / 24 GB", 12_000.0, 24.0), ("32 GHz / 64 GB", 32_000.0, 64.0),
           ("128 GHz / 256 GB", 128_000.0, 256.0))
#: Azure Functions sample: (label, concurrent executions, memory MB).
AZURE_WORKERS = (("8 concurrent / 4 GB", 8.0, 4096.0), ("32 concurrent / 16 GB", 32.0, 16384.0),
                 ("128 concurrent / 64 GB", 128.0, 65536.0))


def load_month(data: str, cache: str):
    """(shapes, observed, period): from the .npz cache when it exists, else parsed (and cached)."""
    c = Path(cache)
    if c.exists():
        z = np.load(c)
        return z["shapes"], ~z["missing"], int(86400 // int(z["step"]))
    from pyshape.traces import load_bitbrains

    tr = load_bitbrains(data)
    c.parent.mkdir(parents=True, exist_ok=True)
    np.savez(c, shapes=tr.shapes, missing=tr.meta["missing"], ids=np.asarray(tr.ids), step=tr.step_seconds)
    return tr.shapes, ~tr.meta["missing"], tr.steps_per_day


def row(label, r):
    if r is None:
        return f"| {label} | none within the budget | | | |"
    what = r["forecaster"] if r["forecaster"] == "rolling" else f"{r['forecaster']} @ {r['headroom']:.0%}"
    return (f"| {label} | {what} | {r['workers']:.2f} | {r['overflow_fraction']:.3%} | "
            f"{r['worst_day_overflow']:.3%} |")


def one(label, bt, out_rows):
    s = bt.summary()
    base = bt.best(strategy="peak", rolling=False)
    i_rp = np.flatnonzero((s["forecaster"] == "rolling") & (s["strategy"] == "peak"))
    i_rc = np.flatnonzero((s["forecaster"] == "rolling") & (s["strategy"] != "peak"))
    pick = lambda i: {c: (v[i].item() if hasattr(v[i], "item") else v[i]) for c, v in s.items()}  # noqa: E731
    rp, rc = pick(i_rp[0]), pick(i_rc[0])
    best = bt.best(rolling=False)
    o = np.flatnonzero((s["forecaster"] == "oracle") & (s["strategy"] != "peak") & (s["headroom"] == 0))
    lines = [f"#### {label}: {s['days'][0]} planned days, partial days left out: {list(bt.partial_days)}, "
             f"lower bound {s['lower_bound'][0]:.2f} workers/day", "",
             "| plan | setting | workers/day | pooled overflow | worst day |", "|---|---|---|---|---|",
             row("cheapest peak-based within budget (hindsight): **baseline**", base),
             row("rolling peak-based (out of sample)", rp),
             row("rolling correlation-aware (out of sample)", rc),
             row("cheapest within budget (hindsight)", best),
             row("oracle, correlation-aware (plans on the real day)", pick(o[0]) if len(o) else None), ""]
    if base is not None:
        lines.append(f"Rolling correlation-aware against the baseline: "
                     f"{1 - rc['workers'] / base['workers']:.1%} fewer workers; against rolling peak-based: "
                     f"{1 - rc['workers'] / rp['workers']:.1%}. Days chosen: "
                     + ", ".join(f"{k} x{v}" for k, v in _counts(bt).items()) + ".")
    lines.append("")
    out_rows += lines
    print("\n".join(lines), flush=True)


def _counts(bt):
    """How often the correlation-aware rolling planner chose each setting."""
    t = bt.table
    m = (t["forecaster"] == "rolling") & (t["strategy"] != "peak")
    vals, cnt = np.unique(t["chosen"][m], return_counts=True)
    return dict(sorted(zip(vals.tolist(), cnt.tolist()), key=lambda kv: -kv[1]))


def main() -> None:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(here.parent.parent / "shared" / "data" / "bitbrains_rnd_2013-07"))
    ap.add_argument("--cache", default=str(here.parent / "out" / "bitbrains_month.npz"))
    ap.add_argument("--sizes", default="0,1,2", help="which worker sizes (indices into WORKERS)")
    ap.add_argument("--min-history", type=int, default=defaults.WINDOW)
    ap.add_argument("--azure", action="store_true", help="also the Azure Functions sample")
    ap.add_argument("--out", default=None, help="write the Markdown here too")
    args = ap.parse_args()
    D, observed, period = load_month(args.data, args.cache)
    out_rows = [f"Bitbrains Rnd 2013-07: {D.shape[0]} VMs, {D.shape[2] // period} days; defaults of "
                f"pyshape.defaults (forecasters {', '.join(defaults.FORECASTERS)}; headrooms "
                f"{', '.join(f'{h:g}' for h in defaults.HEADROOMS)}; budget {defaults.MAX_OVERFLOW:.1%} pooled, "
                f"{defaults.MAX_DAY_OVERFLOW:.1%} worst day; min coverage {defaults.MIN_COVERAGE}).", ""]
    for k in [int(x) for x in args.sizes.split(",")]:
        label, cpu, mem = WORKERS[k]
        t0 = time.perf_counter()
        bt = backtest(D, [cpu, mem], period=period, observed=observed, min_history=args.min_history)
        one(f"Workers of {label} ({time.perf_counter() - t0:.0f} s)", bt, out_rows)
    if args.azure:
        from pyshape.traces import load_azure_sample

        tr = load_azure_sample()
        for label, conc, mem in AZURE_WORKERS:
            cap = np.array([conc, mem])
            fits = (tr.shapes.max(axis=2) <= cap[None, :]).all(axis=1)
            X = tr.shapes[fits]
            # one hour: "days" of 10 minutes (plan each 10 minutes from the ones before it)
            t0 = time.perf_counter()
            bt = backtest(X, cap, period=10, min_history=2)
            one(f"Azure Functions sample, {label} workers ({int(fits.sum())} of {tr.n} functions fit one; "
                f"periods of 10 minutes; {time.perf_counter() - t0:.0f} s)", bt, out_rows)
    if args.out:
        Path(args.out).write_text("\n".join(out_rows) + "\n")


if __name__ == "__main__":
    main()
