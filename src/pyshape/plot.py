"""Figures: worker load against capacity, plans side by side, the evaluation frontier, forecasts
and cluster centroids.

matplotlib is an optional dependency (``pip install 'pyshape[plot]'``), imported inside each
function. Every function returns the :class:`matplotlib.figure.Figure`; it draws on a new pyplot
figure, or into the axes given as ``ax`` / ``axes``; with ``path`` it also writes the figure there
(a PNG, rendered by Agg, unless the extension names another format).
"""
from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Optional, Sequence, Union

import numpy as np

from pyshape._validation import as_shapes3

if TYPE_CHECKING:  # pyshape imports cluster, which re-exports plot_centroids from here
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from pyshape import Plan

__all__ = [
    "FRONTIER_COLUMNS",
    "plot_centroids",
    "plot_forecast",
    "plot_frontier",
    "plot_plan_comparison",
    "plot_worker_load",
]

PathArg = Optional[Union[str, "os.PathLike[str]"]]
#: Resolution of saved figures (README-sized PNGs stay small at 100).
DPI = 100
#: Columns :func:`plot_frontier` needs in its table.
FRONTIER_COLUMNS = ("forecaster", "strategy", "headroom", "workers", "overflow_fraction")


# --------------------------------------------------------------------------- helpers
def _pyplot(what: str) -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(f"{what} needs matplotlib, an optional dependency: pip install 'pyshape[plot]'") from exc
    return plt


def _save(fig: "Figure", path: PathArg) -> None:
    if path is None:
        return
    fmt = Path(os.fspath(path)).suffix.lstrip(".").lower() or "png"
    # Agg renders PNGs without a display and identically under any interactive backend.
    fig.savefig(path, dpi=DPI, backend="agg" if fmt == "png" else None)


def _check_plan(plan: Any, name: str) -> None:
    from pyshape import Plan  # here, not at import: see the TYPE_CHECKING note above

    if not isinstance(plan, Plan):
        raise TypeError(f"{name} must be a pyshape.Plan, got {type(plan).__name__}")


def _index(value: Any, size: int, what: str, of: str) -> int:
    """``value`` as an index in ``[0, size)``, or a ValueError saying what the valid range is."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or not 0 <= value < size:
        raise ValueError(f"unknown {what} {value!r}: {of} has {size}, numbered 0..{size - 1}")
    return int(value)


def _resource(resource: Any, R: int, of: str) -> int:
    return _index(resource, R, "resource", f"{of} (R={R} resources)")


def _time_axis(T: int, step_seconds: Optional[float]) -> tuple[np.ndarray, float, str]:
    """Step times (hours when the step is known, else step numbers), the step width, the label."""
    if step_seconds is None:
        return np.arange(T, dtype=np.float64), 1.0, "step"
    step = float(step_seconds)
    if not (np.isfinite(step) and step > 0):
        raise ValueError(f"step_seconds must be positive and finite, got {step_seconds!r}")
    dx = step / 3600.0
    return np.arange(T) * dx, dx, "hours"


def _time_ticks(ax: "Axes", xlabel: str) -> None:
    if xlabel == "hours":  # ticks on whole multiples of an hour that divide a day
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 3, 6, 10]))


def _axes_list(axes: Any, count: int, name: str) -> list:
    flat = list(np.ravel(np.asarray(axes, dtype=object)))
    if len(flat) != count:
        raise ValueError(f"{name} must hold {count} Axes (one per panel), got {len(flat)}")
    return flat


def _load_label(resource_name: Optional[str], r: int) -> str:
    return resource_name if resource_name else f"resource {r}"


def _count(k: int, word: str) -> str:
    """``'1 worker'``, ``'3 workers'``."""
    return f"{k} {word}" if k == 1 else f"{k} {word}s"


#: Units of the resource names the loaders give (name suffix -> (what, unit)).
_UNITS = {"mhz": "MHz", "ghz": "GHz", "gb": "GB", "mb": "MB", "kb": "KB", "cores": "cores", "pct": "%"}


def _resource_label(name: str) -> str:
    """``'cpu_mhz'`` -> ``'cpu (MHz)'``; names without a known unit suffix are kept."""
    head, _, tail = str(name).rpartition("_")
    if head and tail.lower() in _UNITS:
        return f"{head} ({_UNITS[tail.lower()]})"
    return str(name)


def _percent_tick(v: float, _pos: Any = None) -> str:
    """Tick label of a fraction in percent with as many digits as it needs (distinct on a log axis)."""
    if v == 0:
        return "0%"
    return f"{100 * v:.3g}%"


# --------------------------------------------------------------------------- worker load
def plot_worker_load(
    plan: "Plan",
    path: PathArg = None,
    *,
    resource: int = 0,
    workers: Optional[Sequence[int]] = None,
    max_workers: int = 12,
    step_seconds: Optional[float] = None,
    title: Optional[str] = None,
    resource_name: Optional[str] = None,
    ax: Optional["Axes"] = None,
) -> "Figure":
    """Draw the load of the busiest (or the given) workers of a plan over time against capacity.

    Parameters
    ----------
    plan : pyshape.Plan
    path : str or path-like, optional
        Also save the figure there.
    resource : int
        Resource index in ``0 .. R-1``.
    workers : sequence of int, optional
        Workers to draw, in this order. Default: the ``max_workers`` with the largest peak load
        on ``resource`` (ties to the lower number), busiest first.
    max_workers : int
        Workers drawn when ``workers`` is not given.
    step_seconds : float, optional
        Length of a step: the x axis is then in hours, else in steps.
    title : str, optional
        Default: how many workers are shown, of how many, and the plan's strategy.
    resource_name : str, optional
        Name of the resource for the y label (e.g. ``'CPU (MHz)'``).
    ax : matplotlib Axes, optional
        Draw there instead of on a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        One line per worker (labelled ``'worker <w>'``), the capacity as a solid horizontal line
        and, when the plan has headroom on ``resource``, the effective capacity dashed. A plan on
        worker types (``pack(..., capacity=types)``) draws each worker against its own type's
        capacity: workers are labelled ``'worker <w> (<type>)'`` and there is one capacity line
        per type drawn (labelled and gid ``'capacity <type>'``, dotted in the type's shade).

    Raises
    ------
    ValueError
        Unknown resource or worker, empty ``workers``, ``max_workers < 1``, bad ``step_seconds``.
    TypeError
        ``plan`` is not a :class:`pyshape.Plan`.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np, pyshape
    >>> from pyshape.plot import plot_worker_load
    >>> t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    >>> plan = pyshape.pack(np.stack([1 + np.sin(t), 1 - np.sin(t), np.ones(24)]), capacity=2.5)
    >>> fig = plot_worker_load(plan, step_seconds=3600)
    >>> [line.get_label() for line in fig.axes[0].lines]
    ['worker 0', 'worker 1', 'capacity']
    """
    plt = _pyplot("plot_worker_load")
    _check_plan(plan, "plan")
    W = plan.n_workers
    r = _resource(resource, plan.capacity.shape[0], "the plan")
    if workers is None:
        if isinstance(max_workers, bool) or not isinstance(max_workers, (int, np.integer)) or max_workers < 1:
            raise ValueError(f"max_workers must be an integer of at least 1, got {max_workers!r}")
        k = min(int(max_workers), W)
        loads = plan.load()[:, r, :]
        chosen = np.argsort(-loads.max(axis=1), kind="stable")[:k]
        series = loads[chosen]
    else:
        chosen = [_index(w, W, "worker", "the plan") for w in np.atleast_1d(np.asarray(workers, dtype=object))]
        if not chosen:
            raise ValueError("workers is empty: give at least one worker, or None for the busiest")
        series = np.stack([plan.load(w)[r] for w in chosen])
    x, _, xlabel = _time_axis(series.shape[1], step_seconds)

    fig = plt.figure(figsize=(8, 3.6), layout="constrained") if ax is None else ax.figure.figure
    if ax is None:
        ax = fig.add_subplot()
    import matplotlib

    colours = matplotlib.colormaps["tab20"]
    head = float(plan.headroom[r])
    types, wtype = plan.types, plan.worker_type
    typed = types is not None and wtype is not None
    names = [types.names[int(wtype[int(w)])] for w in chosen] if types is not None and wtype is not None else []
    for i, (w, y) in enumerate(zip(chosen, series)):
        label = f"worker {int(w)} ({names[i]})" if typed else f"worker {int(w)}"
        ax.plot(x, y, color=colours(i % 20), linewidth=1.0, label=label, gid=f"worker {int(w)}")
    if types is not None and wtype is not None:  # each worker's own capacity: a line per type drawn, larger darker
        tcap = types.capacity
        drawn = sorted({int(wtype[int(w)]) for w in chosen}, key=lambda t: tcap[t, r])
        greys = np.linspace(0.55, 0.0, len(drawn)) if len(drawn) > 1 else [0.0]
        for t, g in zip(drawn, greys):
            cap_t, name = float(tcap[t, r]), types.names[t]
            ax.axhline(cap_t, color=str(g), linestyle=":", linewidth=1.4, label=f"capacity {name}",
                       gid=f"capacity {name}")
            if head > 0:
                ax.axhline(cap_t * (1 - head), color=str(g), linestyle="--", linewidth=0.8,
                           label=f"effective capacity {name} ({head:.0%} headroom)", gid=f"effective capacity {name}")
        cap = max(float(tcap[t, r]) for t in drawn)
    else:
        cap = float(plan.capacity[r])
        ax.axhline(cap, color="black", linewidth=1.4, label="capacity", gid="capacity")
        if head > 0:
            ax.axhline(cap * (1 - head), color="black", linestyle="--", linewidth=1.0,
                       label=f"effective capacity ({head:.0%} headroom)", gid="effective capacity")
    ax.set_ylim(0, 1.05 * max(cap, float(series.max())))
    ax.set_xlim(x[0], x[-1] if len(x) > 1 else x[0] + 1)
    ax.set_xlabel(xlabel)
    _time_ticks(ax, xlabel)
    ax.set_ylabel(f"load: {_load_label(resource_name, r)}")
    which = "busiest" if workers is None else "selected"
    default = f"{len(chosen)} {which} of {_count(W, 'worker')} ({plan.strategy})"
    if typed:
        default += f", cost {plan.cost:.4g}"
    ax.set_title(title if title is not None else default)
    ax.legend(fontsize=7, ncol=2 if len(chosen) > 6 else 1, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              borderaxespad=0.0)
    _save(fig, path)
    return fig


# --------------------------------------------------------------------------- plan comparison
def plot_plan_comparison(
    plans: Mapping[str, "Plan"],
    path: PathArg = None,
    *,
    resource: int = 0,
    step_seconds: Optional[float] = None,
    kind: str = "heat",
    resource_name: Optional[str] = None,
    title: Optional[str] = None,
    axes: Optional[Sequence["Axes"]] = None,
) -> "Figure":
    """Draw the load of every worker of several plans over time against capacity, one panel each.

    The figure for "peak-based vs correlation-aware": each panel is titled with its plan's
    workers, lower bound and mean utilisation, all panels share one y scale (so a plan with
    fewer workers shows the saving as empty rows or a lower stack), and a bar panel on the
    right compares the worker counts with the lower bound.

    Parameters
    ----------
    plans : mapping of str to pyshape.Plan
        Panel titles and plans, drawn left to right (e.g. ``{'peak-based': p, 'correlation-aware': c}``).
        The plans may differ in workers, capacity and steps.
    path : str or path-like, optional
        Also save the figure there.
    resource : int
        Resource index, valid for every plan.
    step_seconds : float, optional
        Length of a step: the x axis is then in hours, else in steps.
    kind : {'heat', 'lines'}
        ``'heat'``: one row per worker (worker 0 at the bottom), coloured by load / capacity
        (the worker's own, its type's, on worker types; above capacity in red), a dashed white
        line below the row of the lower bound.
        ``'lines'``: one thin line per worker in load units with the capacity as a black line
        (the effective capacity dashed when there is headroom).
    resource_name : str, optional
        Name of the resource for the labels (e.g. ``'CPU'``).
    title : str, optional
        Title over all panels.
    axes : sequence of matplotlib Axes, optional
        One per plan, to draw the panels there; the worker-count bars are then left out (the
        panel titles carry the counts) and a ``'heat'`` colour bar takes room from these axes.

    Returns
    -------
    matplotlib.figure.Figure
        Panels in ``fig.axes[:len(plans)]``; with ``'heat'``, each holds one image whose data is
        ``plan.load()[:, resource, :] / plan.worker_capacity[:, resource, None]``; with ``'lines'``,
        one line per worker (gid ``'worker <w>'``) and then the capacity line(s).

    Raises
    ------
    ValueError
        Empty ``plans``, unknown resource or kind, wrong number of axes, bad ``step_seconds``.
    TypeError
        A value that is not a :class:`pyshape.Plan`.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np, pyshape
    >>> from pyshape.plot import plot_plan_comparison
    >>> t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    >>> X = np.stack([1 + np.sin(t), 1 - np.sin(t)] * 3)
    >>> plans = {s: pyshape.pack(X, capacity=4.0, strategy=s) for s in ("peak", "complement")}
    >>> fig = plot_plan_comparison(plans)
    >>> [ax.images[0].get_array().shape for ax in fig.axes[:2]]
    [(3, 24), (2, 24)]
    """
    plt = _pyplot("plot_plan_comparison")
    if not isinstance(plans, Mapping):
        raise TypeError(f"plans must be a mapping of names to plans, got {type(plans).__name__}")
    if not plans:
        raise ValueError("plans is empty: give at least one name -> Plan")
    for name, plan in plans.items():
        _check_plan(plan, f"plans[{name!r}]")
    if kind not in ("heat", "lines"):
        raise ValueError(f"kind must be 'heat' or 'lines', got {kind!r}")
    names, items = list(plans), list(plans.values())
    for n, p in zip(names, items):
        r = _resource(resource, p.capacity.shape[0], f"plan {n!r}")
    loads = [p.load()[:, r, :] for p in items]
    T = max(load.shape[1] for load in loads)
    _, dx, xlabel = _time_axis(T, step_seconds)
    P = len(items)

    if axes is None:
        fig = plt.figure(figsize=(3.6 * P + 1.9, 3.4), layout="constrained")
        ratios = [1.0] * P + ([0.05] if kind == "heat" else []) + [0.36]
        gs = fig.add_gridspec(1, len(ratios), width_ratios=ratios)
        panels = [fig.add_subplot(gs[0, i]) for i in range(P)]
        cax = fig.add_subplot(gs[0, P]) if kind == "heat" else None
        bars = fig.add_subplot(gs[0, len(ratios) - 1])
    else:
        panels = _axes_list(axes, P, "axes")
        fig, cax, bars = panels[0].figure.figure, None, None

    import matplotlib

    what = _load_label(resource_name, r)
    if kind == "heat":
        cmap = matplotlib.colormaps["viridis"].with_extremes(over="red")
        over = any(bool((ld > p.worker_capacity[:, r][:, None]).any()) for ld, p in zip(loads, items))
        w_max = max(p.n_workers for p in items)
        for ax, plan, load in zip(panels, items, loads):
            W, Tp = load.shape
            im = ax.imshow(load / plan.worker_capacity[:, r][:, None], aspect="auto", origin="lower",
                           interpolation="nearest",
                           cmap=cmap, vmin=0.0, vmax=1.0, extent=(0.0, Tp * dx, -0.5, W - 0.5))
            ax.axhline(plan.lower_bound - 0.5, color="white", linestyle="--", linewidth=1.0)
            ax.text(Tp * dx, plan.lower_bound - 0.5, "lower bound ", color="white", fontsize=7,
                    ha="right", va="bottom")
            ax.set_ylim(-0.5, w_max - 0.5)
            ax.set_xlim(0.0, T * dx)
            ax.yaxis.get_major_locator().set_params(integer=True)
        panels[0].set_ylabel("worker")
        cb = fig.colorbar(im, cax=cax, ax=None if cax is not None else panels, extend="max" if over else "neither")
        cb.set_label(f"{what} load / capacity")
    else:
        top = 1.05 * max(max(float(p.capacity[r]), float(ld.max())) for ld, p in zip(loads, items))
        for i, (ax, plan, load) in enumerate(zip(panels, items, loads)):
            x = np.arange(load.shape[1]) * dx
            for w, y in enumerate(load):
                ax.plot(x, y, color=f"C{i}", linewidth=0.6, alpha=0.6, gid=f"worker {w}")
            cap, head = float(plan.capacity[r]), float(plan.headroom[r])
            ax.axhline(cap, color="black", linewidth=1.4, gid="capacity")
            if head > 0:
                ax.axhline(cap * (1 - head), color="black", linestyle="--", linewidth=1.0, gid="effective capacity")
            ax.set_ylim(0.0, top)
            ax.set_xlim(0.0, T * dx)
        panels[0].set_ylabel(f"load: {what}")
    for ax, name, plan in zip(panels, names, items):
        util = float(plan.utilisation[r])
        ax.set_title(f"{name}\n{_count(plan.n_workers, 'worker')} (lower bound {plan.lower_bound}), "
                     f"mean use {util:.0%}", fontsize=9)
        ax.set_xlabel(xlabel)
        _time_ticks(ax, xlabel)
        ax.tick_params(labelsize=8)
    for ax in panels[1:]:
        ax.tick_params(labelleft=False)

    if bars is not None:
        pos = np.arange(P)
        cont = bars.barh(pos, [p.n_workers for p in items], color=[f"C{i}" for i in range(P)], height=0.6)
        bars.bar_label(cont, padding=2, fontsize=8)
        bars.plot([p.lower_bound for p in items], pos, linestyle="none", marker="|", markersize=18,
                  markeredgewidth=2, color="black")
        bars.set_yticks(pos, [textwrap.fill(n, 12) for n in names], fontsize=8)
        bars.invert_yaxis()
        bars.set_xlim(0, 1.25 * max(p.n_workers for p in items))
        bars.tick_params(axis="x", labelsize=8)
        bars.set_title("workers used\n(| lower bound)", fontsize=9)
    if title is not None:
        fig.suptitle(title, fontsize=10)
    _save(fig, path)
    return fig


# --------------------------------------------------------------------------- frontier
def _table_columns(table: Any, needed: Sequence[str]) -> dict:
    if not hasattr(table, "keys"):
        raise TypeError(f"table must be a mapping of column names to columns, got {type(table).__name__}")
    have = list(table.keys())
    missing = [c for c in needed if c not in have]
    if missing:
        raise ValueError(f"table is missing column(s) {missing}; it has {have}")
    cols = {c: np.asarray(table[c]) for c in dict.fromkeys(needed)}
    bad = {c: v.shape for c, v in cols.items() if v.ndim != 1}
    if bad:
        raise ValueError(f"table columns must be one-dimensional, got shapes {bad}")
    lengths = {c: len(v) for c, v in cols.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"table columns differ in length: {lengths}")
    if not next(iter(lengths.values())):
        raise ValueError("table has no rows")
    return cols


def _numeric(cols: dict, name: str, allow_nan: bool = False) -> np.ndarray:
    try:
        v = cols[name].astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"table column {name!r} must hold numbers, got {cols[name].dtype} values") from None
    if not np.all(np.isfinite(v) | (allow_nan & np.isnan(v))):
        raise ValueError(f"table column {name!r} has a NaN or infinite value (row {int(np.argmin(np.isfinite(v)))})")
    return v


def _percent(h: float) -> str:
    return f"{100 * h:.3g}%"


def plot_frontier(
    table: Mapping[str, Any],
    path: PathArg = None,
    *,
    x: str = "overflow_fraction",
    y: str = "workers",
    reference: Union[str, float, None] = "peak",
    xscale: str = "linear",
    title: Optional[str] = None,
    resources: Optional[Sequence[str]] = None,
    capacity: Union[Sequence[float], np.ndarray, None] = None,
    ax: Optional["Axes"] = None,
) -> "Figure":
    """Draw the evaluation frontier: workers against overflow, one line per forecaster, by headroom.

    Rows sharing ``forecaster``, ``strategy`` and ``headroom`` are averaged (the mean of ``x``
    and the mean of ``y``) before plotting, so a table with one row per day gives the mean over
    days, and a table already averaged is drawn as it is: :attr:`pyshape.evaluate.Backtest.table`
    has one row per day (overflow averaged over days here), ``Backtest.summary()`` one row per
    group (overflow pooled over worker-steps of all days). Each (forecaster, strategy) pair
    other than the reference strategy is one line through its points in increasing headroom,
    each point labelled with its headroom in percent. Rows with a NaN headroom (the
    out-of-sample ``'rolling'`` rows of :func:`pyshape.evaluate.backtest`) are drawn as single
    star markers.

    Parameters
    ----------
    table : mapping of str to array_like
        Equal-length columns (NumPy arrays or lists; a pandas DataFrame works too) with at least
        :data:`FRONTIER_COLUMNS` (``forecaster``, ``strategy``, ``headroom``, ``workers``,
        ``overflow_fraction``) and the ``x`` and ``y`` columns; other columns (e.g. ``day``)
        are ignored.
    path : str or path-like, optional
        Also save the figure there.
    x, y : str
        Columns for the axes (numbers). ``overflow_fraction`` is the fraction of
        worker-steps over capacity, drawn in percent.
    reference : str or float or None
        A strategy (default ``'peak'``): its rows are drawn as one dotted horizontal line at the
        mean ``y`` of its rows with the smallest headroom (peak-based planning), not as a curve;
        no line when the table has no such rows. A number: a line at that ``y``. None: no line,
        and every strategy is drawn as curves (line style per strategy).
    xscale : {'linear', 'symlog'}
        ``'symlog'`` is linear below 0.01% and logarithmic above: overflow spans zero to tens of
        percent, and the choices that matter are made below 1%. Ticks at 0 and the powers of
        ten, each labelled with the digits it needs (0%, 0.01%, 0.1%, 1%, ...).
    title : str, optional
    resources : sequence of str, optional
        Resource names (e.g. ``('cpu_mhz', 'mem_gb')``): the overflow axis names them with
        their units (``cpu (MHz)``).
    capacity : sequence of float, optional
        A worker's capacity per resource: the workers axis says the worker size.
    ax : matplotlib Axes, optional
        Draw there instead of on a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        One line per (forecaster, strategy) with gid ``'<forecaster>/<strategy>'``, and the
        reference line with gid ``'reference'``.

    Raises
    ------
    ValueError
        Missing columns, columns of different lengths, no rows, non-numeric or non-finite
        ``x``, ``y`` or ``headroom``.
    TypeError
        ``table`` has no columns (no ``keys()``).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from pyshape.plot import plot_frontier
    >>> table = {"forecaster": ["naive"] * 3, "strategy": ["complement", "complement", "peak"],
    ...          "headroom": [0.0, 0.1, 0.0], "workers": [16, 18, 21],
    ...          "overflow_fraction": [0.03, 0.01, 0.002]}
    >>> fig = plot_frontier(table)
    >>> [(line.get_gid(), np.asarray(line.get_ydata(), float).tolist()) for line in fig.axes[0].lines]
    [('naive/complement', [16.0, 18.0]), ('reference', [21.0, 21.0])]
    """
    plt = _pyplot("plot_frontier")
    cols = _table_columns(table, FRONTIER_COLUMNS + (x, y))
    xv, yv = _numeric(cols, x), _numeric(cols, y)
    head = _numeric(cols, "headroom", allow_nan=True)
    forecaster, strategy = cols["forecaster"].astype(str), cols["strategy"].astype(str)
    rows_of: dict = {}
    singles: dict = {}
    for i, key in enumerate(zip(forecaster.tolist(), strategy.tolist(), head.tolist())):
        if np.isnan(key[2]):
            singles.setdefault(key[:2], []).append(i)
        else:
            rows_of.setdefault(key, []).append(i)
    pairs = list(dict.fromkeys((f, s) for f, s, _ in rows_of))
    ref_name = reference if isinstance(reference, str) else None
    curves = [(f, s) for f, s in pairs if s != ref_name]
    forecasters = list(dict.fromkeys(f for f, _ in curves))
    strategies = list(dict.fromkeys(s for _, s in curves))

    fig = plt.figure(figsize=(8.0, 4.2), layout="constrained") if ax is None else ax.figure.figure
    if ax is None:
        ax = fig.add_subplot()
    markers, styles = "osD^vPX*", ["-", "--", "-.", ":"]
    for f, s in curves:
        hs, px, py = np.array(sorted((h, xv[idx].mean(), yv[idx].mean())
                                     for (kf, ks, h), idx in rows_of.items() if (kf, ks) == (f, s))).T
        fi, si = forecasters.index(f), strategies.index(s)
        colour = f"C{fi % 10}"
        ax.plot(px, py, color=colour, marker=markers[fi % len(markers)], linestyle=styles[si % len(styles)],
                label=f if len(strategies) == 1 else f"{f} ({s})", gid=f"{f}/{s}")
        for h, xi, yi in zip(hs, px, py):
            ax.annotate(_percent(h), (xi, yi), xytext=(4, 3), textcoords="offset points", fontsize=7, color=colour)
    for k, ((f, s), idx) in enumerate(singles.items()):
        ax.plot([xv[idx].mean()], [yv[idx].mean()], linestyle="none", marker="*", markersize=11,
                color=f"C{(len(forecasters) + k) % 10}", label=f"{f} ({s})", gid=f"{f}/{s}")
    if ref_name is not None:
        is_ref = (strategy == ref_name) & ~np.isnan(head)
        if is_ref.any():
            at_min = is_ref & (head == head[is_ref].min())
            y_ref = float(yv[at_min].mean())
            what = "peak-based planning" if ref_name == "peak" else ref_name
            ax.axhline(y_ref, color="0.35", linestyle=":", linewidth=1.5, label=f"{what} ({y_ref:.3g})",
                       gid="reference")
    elif reference is not None:
        y_ref = float(reference)
        ax.axhline(y_ref, color="0.35", linestyle=":", linewidth=1.5, label=f"reference ({y_ref:.3g})",
                   gid="reference")
    if xscale not in ("linear", "symlog"):
        raise ValueError(f"xscale must be 'linear' or 'symlog', got {xscale!r}")
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, PercentFormatter

    if xscale == "symlog":
        # Overflow spans 0 to tens of percent; the decisions are made below 1%.
        ax.set_xscale("symlog", linthresh=1e-4, linscale=0.5)
        top = max(float(np.nanmax(xv)), 1e-4)
        ticks = [0.0] + [10.0 ** e for e in range(-4, int(np.ceil(np.log10(top))) + 1)]
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_formatter(NullFormatter())
    res_txt = ""
    if resources is not None:
        res_txt = " (" + " or ".join(_resource_label(r) for r in resources) + ")"
    if x == "overflow_fraction":
        ax.xaxis.set_major_formatter(FuncFormatter(_percent_tick) if xscale == "symlog"
                                     else PercentFormatter(xmax=1.0))
        ax.set_xlabel(f"overflow: worker-steps with load over capacity{res_txt}, % of worker-steps")
    else:
        ax.set_xlabel(x)
    if y == "workers":
        size = ""
        if capacity is not None:
            names = list(resources) if resources is not None else [f"resource {r}" for r in range(len(capacity))]
            # on a second line: a worker's size is longer than the axis is high
            size = "\nworker = " + " / ".join(f"{float(c):g} {_resource_label(nm)}"
                                               for c, nm in zip(capacity, names))
        ax.set_ylabel(f"workers per day (mean){size}")
    else:
        ax.set_ylabel(y)
    ax.set_title(title if title is not None else f"{y} against {x.replace('_', ' ')} (labels: headroom)",
                 fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    _save(fig, path)
    return fig


# --------------------------------------------------------------------------- forecasts
def plot_forecast(
    actual: np.ndarray,
    forecasts: Mapping[str, np.ndarray],
    path: PathArg = None,
    *,
    rows: Union[int, Sequence[int]] = 4,
    resource: int = 0,
    step_seconds: Optional[float] = None,
    ids: Optional[Sequence[Any]] = None,
    resource_name: Optional[str] = None,
    axes: Optional[Sequence["Axes"]] = None,
) -> "Figure":
    """Draw a few shapes' actual next period against each forecaster's prediction (small multiples).

    Parameters
    ----------
    actual : array_like, shape (n, T) or (n, R, T)
        What happened, finite.
    forecasts : mapping of str to array_like
        Forecaster name -> its prediction of the same shape as ``actual``, finite.
    path : str or path-like, optional
        Also save the figure there.
    rows : int or sequence of int
        A number: that many shapes (at most n), those whose actual varies most (largest standard
        deviation over time on ``resource``; ties to the lower row), most varying first. A
        sequence: these rows, in this order.
    resource : int
        Resource index (0 for ``(n, T)`` input).
    step_seconds : float, optional
        Length of a step: the x axis is then in hours, else in steps.
    ids : sequence, optional
        One id per shape, for the panel titles (default ``'shape <row>'``).
    resource_name : str, optional
        Name of the resource for the y label.
    axes : sequence of matplotlib Axes, optional
        One per shown row, to draw there instead of on a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        One visible panel per row; in each, the actual (gid ``'actual'``), then one line per
        forecaster (gid = its name), in the mapping's order.

    Raises
    ------
    ValueError
        Empty ``forecasts``, shapes that do not match ``actual``, NaN/inf, unknown resource or
        row, empty ``rows``, wrong number of axes or ids.
    TypeError
        Non-numeric arrays, ``forecasts`` not a mapping.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from pyshape.plot import plot_forecast
    >>> actual = np.array([[1.0, 2, 3, 2], [5, 5, 5, 5]])
    >>> fig = plot_forecast(actual, {"flat": np.full((2, 4), 2.0)}, rows=1)
    >>> [line.get_gid() for line in fig.axes[0].lines], fig.axes[0].get_title()
    (['actual', 'flat'], 'shape 0')
    """
    plt = _pyplot("plot_forecast")
    A = as_shapes3(actual, "actual", finite=True, keep_precision=True)
    if not isinstance(forecasts, Mapping):
        raise TypeError(f"forecasts must be a mapping of names to arrays, got {type(forecasts).__name__}")
    if not forecasts:
        raise ValueError("forecasts is empty: give at least one name -> prediction")
    F = {name: as_shapes3(v, f"forecasts[{name!r}]", finite=True, keep_precision=True) for name, v in forecasts.items()}
    for name, v in F.items():
        if v.shape != A.shape:
            raise ValueError(f"forecasts[{name!r}] has shape {np.shape(forecasts[name])}, "
                             f"actual has {np.shape(actual)}")
    n, R, T = A.shape
    r = _resource(resource, R, "actual")
    if isinstance(rows, (int, np.integer)) and not isinstance(rows, bool):
        if rows < 1:
            raise ValueError(f"rows must be at least 1 (or a list of rows), got {rows}")
        shown = np.argsort(-A[:, r, :].std(axis=1), kind="stable")[: min(int(rows), n)].tolist()
    else:
        shown = [_index(i, n, "row", "actual") for i in np.atleast_1d(np.asarray(rows, dtype=object))]
        if not shown:
            raise ValueError("rows is empty: give at least one row, or a number of rows")
    if ids is not None and len(ids) != n:
        raise ValueError(f"ids must have one entry per shape ({n}), got {len(ids)}")
    x, _, xlabel = _time_axis(T, step_seconds)

    k = len(shown)
    if axes is None:
        ncols = min(k, 4)
        nrows = -(-k // ncols)
        fig, grid = plt.subplots(nrows, ncols, figsize=(3.0 * ncols, 2.3 * nrows + 0.3), squeeze=False,
                                 layout="constrained")
        panels = list(grid.flat)
        for ax in panels[k:]:
            ax.set_visible(False)
    else:
        panels = _axes_list(axes, k, "axes")
        fig = panels[0].figure.figure
    for ax, i in zip(panels, shown):
        ax.plot(x, A[i, r], color="black", linewidth=1.5, label="actual", gid="actual")
        for j, (name, v) in enumerate(F.items()):
            ax.plot(x, v[i, r], color=f"C{j % 10}", linewidth=1.0, label=name, gid=name)
        ax.set_title(f"shape {i}" if ids is None else str(ids[i]), fontsize=9)
        ax.set_xlabel(xlabel, fontsize=8)
        _time_ticks(ax, xlabel)
        ax.tick_params(labelsize=7)
    panels[0].set_ylabel(_load_label(resource_name, r), fontsize=8)
    panels[0].legend(fontsize=7)
    _save(fig, path)
    return fig


# --------------------------------------------------------------------------- centroids
def plot_centroids(model: Any, path: PathArg = None, *, ncols: Optional[int] = None, X: Optional[np.ndarray] = None,
                   max_members: int = 20, axes: Optional[Sequence["Axes"]] = None) -> "Figure":
    """Draw a fitted model's centroids as small multiples (one panel per cluster).

    Needs matplotlib (an optional dependency: ``pip install 'pyshape[plot]'``).

    Parameters
    ----------
    model : KShape or CorrelationKMeans
        A fitted model.
    path : str or path-like, optional
        Also save the figure there (format from the extension).
    ncols : int, optional
        Panels per row (default: about the square root of ``n_clusters``).
    X : array_like, shape (n, T), optional
        The training shapes: up to ``max_members`` members of each cluster are
        drawn in grey behind its centroid (z-normalised; for a ``KShape``
        model, moved by their lag (lags_) to line up with the centroid).
    max_members : int, default 20
    axes : sequence of matplotlib Axes, optional
        One per cluster, to draw there instead of on a new figure (``ncols`` is then unused).

    Returns
    -------
    matplotlib.figure.Figure
        In each panel the members (grey), then the centroid as the last line.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np, pyshape
    >>> X = np.random.default_rng(0).standard_normal((30, 24))
    >>> km = pyshape.CorrelationKMeans(3, random_state=0).fit(X)
    >>> fig = pyshape.plot.plot_centroids(km)
    >>> len([a for a in fig.axes if a.get_visible()])
    3
    """
    plt = _pyplot("plot_centroids")
    from pyshape.cluster._base import not_fitted_error

    if not hasattr(model, "cluster_centers_"):
        raise not_fitted_error(type(model).__name__)
    C = np.asarray(model.cluster_centers_)
    k, T = C.shape
    counts = np.bincount(model.labels_, minlength=k)
    if axes is None:
        ncols = int(ncols) if ncols else int(np.ceil(np.sqrt(k)))
        nrows = int(np.ceil(k / ncols))
        fig, grid = plt.subplots(nrows, ncols, figsize=(2.4 * ncols, 1.7 * nrows), sharex=True, squeeze=False)
        panels = list(grid.flat)
    else:
        panels = _axes_list(axes, k, "axes")
        fig = panels[0].figure.figure
    members = None
    if X is not None:
        from pyshape.correlate import znorm

        Z = znorm(X)
        if Z.shape != (len(model.labels_), T):
            raise ValueError("X must be the training shapes of the model")
        members = Z
        lags = getattr(model, "lags_", None)
        if lags is not None:
            from pyshape.cluster.kshape import align

            members = align(Z, lags)
    t = np.arange(T)
    for j, ax in enumerate(panels):
        if j >= k:
            ax.set_visible(False)
            continue
        if members is not None:
            idx = np.flatnonzero(model.labels_ == j)[:max_members]
            for i in idx:
                ax.plot(t, members[i], color="0.8", linewidth=0.5)
        ax.plot(t, C[j], color="C0", linewidth=1.2)
        ax.set_title(f"cluster {j} (n={counts[j]})", fontsize=8)
        ax.tick_params(labelsize=6)
    if axes is None:
        fig.tight_layout()
    _save(fig, path)
    return fig
