"""One-call reports: cluster, pack, backtest a trace and write figures plus a summary.

:func:`build_report` is what ``pyshape report`` and ``pyshape demo`` run. It
takes a :class:`pyshape.traces.ResourceTrace` and a worker size and produces,
in an output folder:

* ``centroids.png``: shape families (CorrelationKMeans on the mean daily
  profile of the first resource),
* ``plan_comparison.png`` and ``worker_load.png``: the last whole day packed
  peak-based and correlation-aware, worker load against capacity,
* ``frontier.png``: workers against overflow for every forecaster and
  headroom, planning day d+1 from days <= d and replaying the real day
  (only for traces of two or more whole days),
* ``report.md`` or ``report.html``: the tables and the figures.

Figures need matplotlib (``pip install 'pyshape[plot]'``); without it the
tables are still written and the report says the figures were skipped.
"""
from __future__ import annotations

import html
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

import numpy as np

from pyshape import defaults as _d
from pyshape._progress import ProgressArg
from pyshape._table import Column, markdown_table, write_table

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from pyshape.evaluate import Backtest
    from pyshape.packing import Plan
    from pyshape.traces import ResourceTrace

__all__ = ["Report", "build_report", "headline"]


@dataclass
class Report:
    """What :func:`build_report` made.

    Attributes
    ----------
    outdir : Path
    files : dict of str to Path
        Every file written, by role (``'report'``, ``'centroids'``, ...).
    text : str
        The report (Markdown or HTML, as written).
    plans : dict of str to Plan
        The last day's plans by strategy.
    backtest : Backtest or None
        None for traces shorter than two whole days.
    seconds : float
    """

    outdir: Path
    files: Dict[str, Path]
    text: str
    plans: Dict[str, Plan]
    backtest: Optional[Backtest] = None
    notes: List[str] = field(default_factory=list)
    seconds: float = 0.0


# --------------------------------------------------------------------------- document model
class _Doc:
    """A tiny document (headings, paragraphs, tables, images) rendered to Markdown or HTML."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.parts: List[tuple] = []

    def h(self, text: str) -> None:
        self.parts.append(("h", text))

    def p(self, text: str) -> None:
        self.parts.append(("p", text))

    def table(self, cols: Mapping[str, Column]) -> None:
        self.parts.append(("table", cols))

    def img(self, path: str, alt: str) -> None:
        self.parts.append(("img", path, alt))

    def markdown(self) -> str:
        out = [f"# {self.title}", ""]
        for part in self.parts:
            if part[0] == "h":
                out += [f"## {part[1]}", ""]
            elif part[0] == "p":
                out += [part[1], ""]
            elif part[0] == "img":
                out += [f"![{part[2]}]({part[1]})", ""]
            else:
                out += [_md_table(part[1]), ""]
        return "\n".join(out)

    def html(self) -> str:
        e = html.escape
        out = ["<!doctype html>", "<meta charset='utf-8'>", f"<title>{e(self.title)}</title>",
               "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
               "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;"
               "text-align:right}img{max-width:100%}</style>", f"<h1>{e(self.title)}</h1>"]
        for part in self.parts:
            if part[0] == "h":
                out.append(f"<h2>{e(part[1])}</h2>")
            elif part[0] == "p":
                out.append(f"<p>{e(part[1])}</p>")
            elif part[0] == "img":
                out.append(f"<img src='{e(part[1])}' alt='{e(part[2])}'>")
            else:
                cols = part[1]
                names = list(cols)
                rows = ["<tr>" + "".join(f"<th>{e(n)}</th>" for n in names) + "</tr>"]
                for i in range(len(cols[names[0]])):
                    rows.append("<tr>" + "".join(f"<td>{e(_fmt(cols[n][i]))}</td>" for n in names) + "</tr>")
                out.append("<table>" + "".join(rows) + "</table>")
        return "\n".join(out) + "\n"


def _fmt(v: Any) -> str:
    if isinstance(v, (float, np.floating)):
        if np.isnan(v):
            return "-"
        return f"{v:.4g}"
    return str(v)


def _md_table(cols: Mapping[str, Column]) -> str:
    return markdown_table(cols, digits=4, nan="-")


# --------------------------------------------------------------------------- pieces
def _plt_available() -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        return True
    except ImportError:
        return False


def _daily_profile(shapes: np.ndarray, period: int) -> np.ndarray:
    """Mean day of resource 0, (n, period): what the families are made of."""
    n, _, T = shapes.shape
    days = max(T // period, 1)
    if T < period:
        return np.ascontiguousarray(shapes[:, 0, :])
    return shapes[:, 0, : days * period].reshape(n, days, period).mean(axis=1, dtype=np.float64).astype(np.float32)


def _fewer(saving: float) -> str:
    return f"{saving:.1%} fewer workers" if saving >= 0 else f"{-saving:.1%} more workers"


def headline(bt: "Backtest", *, max_overflow: float = _d.MAX_OVERFLOW,
             max_day_overflow: Optional[float] = _d.MAX_DAY_OVERFLOW) -> str:
    """A few sentences: the cheapest plan within the overflow budget against the cheapest
    peak-based plan within the same budget, then the same choice made out of sample.

    The budget is ``max_overflow`` (pooled fraction of worker-steps over capacity) and
    ``max_day_overflow`` (the worst day; None: no bound), defaults from
    :mod:`pyshape.defaults`. The first comparison picks each setting in hindsight (the
    frontier's view); the ``'rolling'`` rows of :func:`pyshape.evaluate.backtest` chose
    each day's setting from the days before it only. Partial days left out are counted.
    """
    budget = f"{max_overflow:.2%} pooled overflow" + (
        f" and {max_day_overflow:.2%} on the worst day" if max_day_overflow is not None else "")
    best = bt.best(max_overflow=max_overflow, max_day_overflow=max_day_overflow, rolling=False)
    peak_ok = bt.best(max_overflow=max_overflow, max_day_overflow=max_day_overflow, strategy="peak", rolling=False)
    parts = []
    if best is None:
        parts.append(f"No setting stayed within {budget}.")
    else:
        txt = (f"Cheapest plan within {budget}: forecaster '{best['forecaster']}', strategy '{best['strategy']}', "
               f"headroom {best['headroom']:.0%}: {best['workers']:.2f} workers/day (lower bound "
               f"{best['lower_bound']:.2f}), overflow {best['overflow_fraction']:.3%} pooled, "
               f"{best['worst_day_overflow']:.3%} worst day")
        if peak_ok is None:
            txt += "; no peak-based setting stayed within the budget"
        else:
            txt += (f"; cheapest peak-based plan within the same budget ('{peak_ok['forecaster']}', headroom "
                    f"{peak_ok['headroom']:.0%}): {peak_ok['workers']:.2f} workers/day, so "
                    f"{_fewer(1 - best['workers'] / peak_ok['workers'])}")
        parts.append(txt + ".")
    s = bt.summary()
    roll = {st: i for i, (f, st) in enumerate(zip(s["forecaster"], s["strategy"])) if f == "rolling"}
    if roll:
        bits = []
        for st, i in roll.items():
            bits.append(f"'{st}' {s['workers'][i]:.2f} workers/day, overflow {s['overflow_fraction'][i]:.3%} "
                        f"pooled, {s['worst_day_overflow'][i]:.3%} worst day")
        txt = "Chosen out of sample (each day's setting from the days before it): " + "; ".join(bits)
        ip, ic = roll.get("peak"), next((i for st, i in roll.items() if st != "peak"), None)
        if ip is not None and ic is not None:
            txt += f" ({_fewer(1 - s['workers'][ic] / s['workers'][ip])})"
        parts.append(txt + ".")
    part = tuple(getattr(bt, "partial_days", ()))
    if part:
        parts.append(f"{len(part)} partial day(s) (coverage below {bt.min_coverage:g}) left out of histories "
                     f"and evaluation: {', '.join(str(d) for d in part)}.")
    else:
        parts.append(f"0 partial days (coverage below {bt.min_coverage:g}).")
    return " ".join(parts)


def build_report(
    trace: "ResourceTrace",
    capacity: Union[float, Sequence[float], np.ndarray],
    outdir: Union[str, Path],
    *,
    fmt: str = "md",
    title: Optional[str] = None,
    n_clusters: int = _d.N_CLUSTERS,
    forecasters: Optional[Iterable] = None,
    strategies: Sequence[str] = _d.STRATEGIES,
    headrooms: Sequence[float] = _d.HEADROOMS,
    max_overflow: float = _d.MAX_OVERFLOW,
    max_day_overflow: Optional[float] = _d.MAX_DAY_OVERFLOW,
    min_coverage: float = _d.MIN_COVERAGE,
    plots: bool = True,
    random_state: int = _d.RANDOM_STATE,
    n_threads: Optional[int] = None,
    progress: ProgressArg = False,
) -> Report:
    """Cluster, pack and backtest a trace; write PNG figures and a Markdown/HTML summary.

    Parameters
    ----------
    trace : ResourceTrace
        The workloads (see :mod:`pyshape.traces`).
    capacity : float or array_like, shape (R,)
        Worker capacity per resource, in the trace's units.
    outdir : str or path-like
        Folder for the files (created).
    fmt : {'md', 'html'}
        Format of the summary file ``report.md`` / ``report.html``.
    title : str, optional
    n_clusters : int
        Shape families to find, and clusters of the ``'cluster'`` forecaster (fewer
        when the trace has fewer shapes).
    forecasters : sequence, optional
        For the backtest (default: :data:`pyshape.defaults.FORECASTERS`).
    strategies, headrooms : sequence
        Settings compared in the backtest.
    max_overflow, max_day_overflow : float
        Overflow budget (pooled fraction of worker-steps; worst day) for the headline
        and the out-of-sample choice.
    min_coverage : float
        Days covered less than this are partial and left out (see
        :func:`pyshape.evaluate.backtest`).

    Every default comes from :mod:`pyshape.defaults`, as in ``backtest`` and the CLI.
    plots : bool
        Write PNG figures (needs matplotlib).
    random_state : int
    n_threads : int, optional
    progress : bool or callable
        Progress of the backtest.

    Returns
    -------
    Report

    Raises
    ------
    ValueError
        Bad format, capacity, or a trace the steps cannot use (see
        :func:`pyshape.pack` and :func:`pyshape.evaluate.backtest`).
    """
    import pyshape
    from pyshape.evaluate import FORECASTERS, backtest, make_forecaster

    t0 = time.perf_counter()
    if fmt not in ("md", "html"):
        raise ValueError(f"fmt must be 'md' or 'html', got {fmt!r}")
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    files: Dict[str, Path] = {}
    notes: List[str] = []
    D = trace.shapes
    n, R, T = D.shape
    period = trace.steps_per_day
    n_days = T // period
    cap = np.broadcast_to(np.asarray(capacity, dtype=np.float64), (R,)).copy()
    draw = plots and _plt_available()
    if plots and not draw:
        notes.append("Figures skipped: matplotlib is not installed (pip install 'pyshape[plot]').")

    doc = _Doc(title or "pyshape report")
    info = ", ".join(f"{k} {v}" for k, v in getattr(trace, "info", {}).items())
    doc.p(f"{n} workloads, resources {', '.join(trace.resources)}, {T} steps of {trace.step_seconds} s "
          f"({T * trace.step_seconds / 86400:.2f} days). Worker capacity: "
          + ", ".join(f"{c:g} {r}" for c, r in zip(cap, trace.resources)) + "."
          + (f" Loader counts: {info}." if info else ""))

    # Shape families.
    prof = _daily_profile(D, period)
    varying = np.flatnonzero(prof.max(axis=1) > prof.min(axis=1))
    k = int(min(n_clusters, len(varying)))
    if k >= 2:
        km = pyshape.CorrelationKMeans(k, random_state=random_state, n_threads=n_threads).fit(prof[varying])
        sizes = np.bincount(km.labels_, minlength=k)
        doc.h("Shape families")
        doc.p(f"CorrelationKMeans, {k} clusters of the mean daily profile of '{trace.resources[0]}' "
              f"({len(varying)} non-constant workloads; {n - len(varying)} constant ones left out). "
              f"Cluster sizes: {', '.join(str(s) for s in sorted(sizes, reverse=True))}.")
        if draw:
            from pyshape.plot import plot_centroids

            files["centroids"] = out / "centroids.png"
            _close(plot_centroids(km, files["centroids"], X=prof[varying]))
            doc.img("centroids.png", "cluster centroids")

    # The last whole day (or the whole trace when shorter), packed on its real shapes.
    day = np.ascontiguousarray(D[:, :, (n_days - 1) * period: n_days * period]) if n_days >= 1 else D
    plans = {s: pyshape.pack(day, cap, strategy=s, n_threads=n_threads) for s in strategies}
    for p in plans.values():
        p.verify()
    doc.h("Packing the last day")
    doc.p("Every plan is re-checked by Plan.verify(): no worker exceeds its capacity at any step.")
    doc.table({
        "strategy": list(plans),
        "workers": [p.n_workers for p in plans.values()],
        "lower bound": [p.lower_bound for p in plans.values()],
        "peak-based": [p.peak_workers for p in plans.values()],
        "savings vs peak": [float(p.savings) for p in plans.values()],
        "mean utilisation": [float(np.mean(p.utilisation)) for p in plans.values()],
        "seconds": [float(p.seconds) for p in plans.values()],
    })
    if draw:
        from pyshape.plot import plot_plan_comparison, plot_worker_load

        files["plan_comparison"] = out / "plan_comparison.png"
        _close(plot_plan_comparison(plans, files["plan_comparison"], step_seconds=trace.step_seconds))
        doc.img("plan_comparison.png", "worker load against capacity, per strategy")
        last = list(plans)[-1]
        files["worker_load"] = out / "worker_load.png"
        _close(plot_worker_load(plans[last], files["worker_load"], step_seconds=trace.step_seconds,
                                title=f"busiest workers, strategy '{last}'"))
        doc.img("worker_load.png", "busiest workers' load")

    # Plan on a forecast, replay the real day.
    bt = None
    if n_days >= 2:
        fcs = forecasters
        if fcs is None:
            fcs = {nm: make_forecaster(nm, n_clusters=max(2, min(n_clusters, n)), random_state=random_state)
                   for nm in FORECASTERS}
        bt = backtest(trace, cap, forecasters=fcs, strategies=strategies, headrooms=headrooms,
                      min_coverage=min_coverage, max_overflow=max_overflow,
                      max_day_overflow=_d.MAX_DAY_OVERFLOW if max_day_overflow is None else max_day_overflow,
                      n_threads=n_threads, progress=progress)
        doc.h("Plan on a forecast, replay the real day")
        doc.p("For each whole day d: forecast day d from the whole days before it, pack the forecast "
              "(against capacity x (1 - headroom)), replay the real day on that assignment. "
              "Overflow = fraction of worker-steps where some resource exceeds the full capacity, pooled "
              "over days and on the worst day. 'scenario' packs the joint history of the last days as "
              "scenarios of the next; 'rolling' chooses each day's forecaster and headroom from the days "
              "before it only (the correlation-aware one falls back to a peak-based setting when its own "
              "overflowed before); 'oracle' plans on the real day itself. Means over days.")
        doc.p(headline(bt, max_overflow=max_overflow, max_day_overflow=max_day_overflow))
        s = bt.summary()
        keep = ["forecaster", "strategy", "headroom", "workers", "lower_bound", "peak_workers",
                "overflow_fraction", "worst_day_overflow", "savings_vs_peak"] + \
            [c for c in s if c.startswith("mae_")]
        doc.table({c: s[c] for c in keep})
        files["backtest"] = out / "backtest.csv"
        write_table(bt.table, files["backtest"])
        if draw:
            from pyshape.plot import plot_frontier

            files["frontier"] = out / "frontier.png"
            _close(plot_frontier(bt.summary(), files["frontier"], reference=None, xscale="symlog",
                                 resources=trace.resources, capacity=cap))
            doc.img("frontier.png", "workers against overflow per forecaster and headroom")
    else:
        notes.append(f"No backtest: the trace has {n_days} whole day(s); it needs at least 2.")

    for note in notes:
        doc.p(note)
    text = doc.markdown() if fmt == "md" else doc.html()
    files["report"] = out / f"report.{fmt}"
    files["report"].write_text(text)
    return Report(outdir=out, files=files, text=text, plans=plans, backtest=bt, notes=notes,
                  seconds=time.perf_counter() - t0)


def _close(fig: Figure) -> None:
    import matplotlib.pyplot as plt

    plt.close(fig)
