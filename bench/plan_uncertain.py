"""Plan on uncertainty: next-day replay of the Bitbrains month (and the Azure sample) with the defaults.

For each worker size: :func:`pyshape.evaluate.backtest` with the shared defaults
(:mod:`pyshape.defaults`: forecasters incl. ``'scenario'``, headrooms, partial days left out,
overflow budget 0.1% pooled / 0.5% worst day), then three numbers per size:

* the cheapest peak-based setting within the budget, chosen in hindsight (the baseline);
* ``rolling/peak`` and ``rolling/auto``: the setting chosen each day from the days
  before it only (out of sample), per strategy;
* the cheapest setting within the budget (hindsight), and the oracle.

    python bench/plan_uncertain.py [--data ../shared/data/bitbrains_rnd_2013-07] [--cache out/bb.npz] \
        [--sizes 0,1,2] [--azure] [--why] [--out out/bench.md]
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
    lines.append(margin_sensitivity(bt))
    lines.append("")
    out_rows += lines
    print("\n".join(lines), flush=True)


def margin_sensitivity(bt, margins=(0.5, 1.0)) -> str:
    """The correlation-aware rolling planner with other margins (hindsight: not the default)."""
    from pyshape.evaluate import rolling_choice

    t = {c: v[bt.table["forecaster"] != "rolling"] for c, v in bt.table.items()}
    bits = []
    for m in margins:
        r = {c: np.asarray(v) for c, v in rolling_choice(t, margin=m).items()}
        k = r["strategy"] != "peak"
        pooled = r["overflow_steps"][k].sum() / max(r["worker_steps"][k].sum(), 1)
        bits.append(f"margin {m:g}: {r['workers'][k].mean():.2f} workers/day, {pooled:.3%} pooled, "
                    f"{r['overflow_fraction'][k].max():.3%} worst day")
    return (f"Sensitivity of the rolling correlation-aware planner to its margin (default "
            f"{defaults.ROLLING_MARGIN:g}): " + "; ".join(bits) + ".")


def _counts(bt):
    """How often the correlation-aware rolling planner chose each setting."""
    t = bt.table
    m = (t["forecaster"] == "rolling") & (t["strategy"] != "peak")
    vals, cnt = np.unique(t["chosen"][m], return_counts=True)
    return dict(sorted(zip(vals.tolist(), cnt.tolist()), key=lambda kv: -kv[1]))


def obstacles(D, observed, period, cpu_capacity: float = 32_000.0, window: int = defaults.SCENARIO_DAYS) -> str:
    """What stands between history-based plans and the oracle, in numbers (no planning involved).

    * Day-to-day variation of the fleet's total: the lower bound of the real day (its peak total
      over a worker's capacity) against the largest lower bound of the ``window`` whole days
      before it, which any plan that would have fitted each of those days needs.
    * Big VMs (CPU peak above half a worker): how many there are on the real day and in the
      window, and how many of their pairs fit one worker on the real day, on every day of the
      window, and in all but 0.5% of the window's steps.
    """
    from pyshape.evaluate import day_coverage

    n, R, T = D.shape
    nd = T // period
    X = D[:, :, : nd * period].reshape(n, R, nd, period)
    cov = day_coverage(D[:, :, : nd * period], period, observed[:, : nd * period])
    whole = [d for d in range(nd) if cov[d] >= defaults.MIN_COVERAGE]
    targets = [d for k, d in enumerate(whole) if k >= defaults.WINDOW]
    tot = X.sum(axis=0, dtype=np.float64)  # (R, days, period)
    lines = ["| workers | real-day lower bound | largest lower bound of the 14 days before | "
             "VMs bigger than a worker at some step, per day |", "|---|---|---|---|"]
    for label, cpu, mem in WORKERS:
        cap = np.array([cpu, mem])
        lb = np.ceil((tot.max(axis=2) / cap[:, None]).max(axis=0))
        hist = [lb[[w for w in whole if w < d][-window:]].max() for d in targets]
        over = [int((X[:, :, d].max(axis=2) > cap[None, :]).any(axis=1).sum()) for d in targets]
        lines.append(f"| {label} | {lb[targets].mean():.2f} | {np.mean(hist):.2f} | {np.mean(over):.1f} |")
    cpu = X[:, 0].astype(np.float64)
    half = cpu_capacity / 2
    big_day, big_win, fit_day, fit_win, rare = [], [], [], [], []
    for d in targets:
        win = [w for w in whole if w < d][-window:]
        big = np.flatnonzero(cpu[:, win].max(axis=(1, 2)) > half)
        big_day.append(int((cpu[:, d].max(axis=1) > half).sum()))
        big_win.append(len(big))
        if len(big) > 1:
            iu = np.triu_indices(len(big), 1)
            x, xh = cpu[big][:, d], cpu[big][:, win].reshape(len(big), -1)
            fit_day.append(((x[:, None] + x[None]).max(axis=2) <= cpu_capacity)[iu].mean())
            fit_win.append(((xh[:, None] + xh[None]).max(axis=2) <= cpu_capacity)[iu].mean())
            # pairs that collide in at most 0.5% of the window's steps: what a risk budget could pair
            rare.append((((xh[:, None] + xh[None]) > cpu_capacity).mean(axis=2)[iu] <= 0.005).mean())
    lines += ["", f"VMs with a CPU peak above half a {cpu_capacity / 1000:g} GHz worker: {np.mean(big_day):.1f} per "
              f"real day (from {min(big_day)} to {max(big_day)}), {np.mean(big_win):.1f} in the {window} days "
              f"before; pairs of the latter that fit one worker: {np.mean(fit_day):.1%} on the real day, "
              f"{np.mean(fit_win):.1%} on every one of the {window} days before, {np.mean(rare):.1%} in all but "
              f"0.5% of those days' steps."]
    return "\n".join(lines)


def sensitivity(D, observed, period, sizes=(1, 2), min_history: int = defaults.WINDOW) -> str:
    """Other scenario settings, each at fixed headrooms 0 and 2% with 'auto' (hindsight: what
    each would have done; none of them is the default)."""
    from pyshape.forecast import Scenarios

    dil = defaults.SCENARIO_DILATE_HOURS
    variants = {
        "14 days, +-15 min (default)": Scenarios(days=defaults.SCENARIO_DAYS, dilate_hours=dil),
        "14 days, no timing tolerance": Scenarios(days=defaults.SCENARIO_DAYS, dilate_hours=0.0),
        "7 days": Scenarios(days=7, dilate_hours=dil),
        "28 days": Scenarios(days=28, dilate_hours=dil),
        "14 days, risk 1e-3": Scenarios(days=defaults.SCENARIO_DAYS, dilate_hours=dil, risk=1e-3),
        "14 days, risk 1e-2": Scenarios(days=defaults.SCENARIO_DAYS, dilate_hours=dil, risk=1e-2),
    }
    lines = ["| workers | scenarios | headroom 0: workers, pooled / worst day "
             "| headroom 2%: workers, pooled / worst day |", "|---|---|---|---|"]
    for k in sizes:
        label, cpu, mem = WORKERS[k]
        bt = backtest(D, [cpu, mem], period=period, observed=observed, min_history=min_history,
                      forecasters=variants, strategies=("auto",), headrooms=(0.0, 0.02), oracle=False, rolling=False)
        s = bt.summary()
        for name in variants:
            cells = []
            for h in (0.0, 0.02):
                i = np.flatnonzero((s["forecaster"] == name) & (s["headroom"] == h))[0]
                cells.append(f"{s['workers'][i]:.2f}, {s['overflow_fraction'][i]:.3%} / "
                             f"{s['worst_day_overflow'][i]:.3%}")
            lines.append(f"| {label} | {name} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def main() -> None:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(here.parent.parent / "shared" / "data" / "bitbrains_rnd_2013-07"))
    ap.add_argument("--cache", default=str(here.parent / "out" / "bitbrains_month.npz"))
    ap.add_argument("--sizes", default="0,1,2", help="which worker sizes (indices into WORKERS)")
    ap.add_argument("--min-history", type=int, default=defaults.WINDOW)
    ap.add_argument("--azure", action="store_true", help="also the Azure Functions sample")
    ap.add_argument("--why", action="store_true", help="also what stands in the way, in numbers")
    ap.add_argument("--sensitivity", action="store_true", help="also other scenario settings (32 and 128 GHz)")
    ap.add_argument("--out", default=None, help="write the Markdown here too")
    args = ap.parse_args()
    D, observed, period = load_month(args.data, args.cache)
    out_rows = [f"Bitbrains Rnd 2013-07: {D.shape[0]} VMs, {D.shape[2] // period} days; defaults of "
                f"pyshape.defaults (forecasters {', '.join(defaults.FORECASTERS)}; headrooms "
                f"{', '.join(f'{h:g}' for h in defaults.HEADROOMS)}; budget {defaults.MAX_OVERFLOW:.1%} pooled, "
                f"{defaults.MAX_DAY_OVERFLOW:.1%} worst day; min coverage {defaults.MIN_COVERAGE}).", ""]
    for k in [int(x) for x in args.sizes.split(",") if x.strip()]:
        label, cpu, mem = WORKERS[k]
        t0 = time.perf_counter()
        bt = backtest(D, [cpu, mem], period=period, observed=observed, min_history=args.min_history)
        one(f"Workers of {label} ({time.perf_counter() - t0:.0f} s)", bt, out_rows)
        fits = (D.max(axis=2) <= np.array([cpu, mem])[None, :]).all(axis=1)
        if not fits.all():  # VMs bigger than a worker overflow whatever the plan: also the fleet without them
            t0 = time.perf_counter()
            bt = backtest(D[fits], [cpu, mem], period=period, observed=observed[fits], min_history=args.min_history)
            one(f"Workers of {label}, the {int(fits.sum())} VMs that fit one worker all month "
                f"({time.perf_counter() - t0:.0f} s)", bt, out_rows)
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
    if args.why:
        text = obstacles(D, observed, period)
        out_rows += ["#### What stands in the way", "", text, ""]
        print(text, flush=True)
    if args.sensitivity:
        text = sensitivity(D, observed, period, min_history=args.min_history)
        out_rows += ["#### Other scenario settings (fixed, hindsight)", "", text, ""]
        print(text, flush=True)
    if args.out:
        Path(args.out).write_text("\n".join(out_rows) + "\n")


if __name__ == "__main__":
    main()
