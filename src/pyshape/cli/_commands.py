"""The data subcommands: correlate, cluster, pack, evaluate, report (and info)."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List

import numpy as np

from pyshape import defaults
from pyshape.cli._common import (
    CliError,
    capacity_arg,
    check_output,
    check_values,
    headrooms_arg,
    id_list,
    ids_of,
    load_trace,
    resource_index,
    say,
    show_progress,
    write,
)
from pyshape.cli._dask import add_scheduler, dask_client

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from pyshape.forecast import Forecaster
    from pyshape.traces import ResourceTrace

#: The shared default headroom grid (pyshape.defaults), as the CLI writes it.
_HEADROOMS = ",".join(f"{h:g}" for h in defaults.HEADROOMS)


def _one_resource(args: argparse.Namespace, tr: ResourceTrace) -> np.ndarray:
    return tr.shapes[:, resource_index(tr, getattr(args, "resource", None)), :]


def cmd_info(args: argparse.Namespace) -> int:
    import pyshape
    from pyshape._system import resolve_threads

    print(f"pyshape {pyshape.__version__}")
    print(f"simd level: {pyshape.simd_level()} (available: {', '.join(pyshape.available_simd_levels())})")
    print(f"threads: {resolve_threads(None)}")
    return 0


def cmd_correlate(args: argparse.Namespace) -> int:
    import pyshape

    check_output(args.output, "-o")
    tr = load_trace(args.input, step_seconds=args.step_seconds, args=args)
    check_values(tr, args.input, demand=False)
    X = _one_resource(args, tr)
    ids = ids_of(tr)
    if args.k < 1 or args.k >= len(X):
        raise CliError(f"-k must be in 1..{len(X) - 1} for {len(X)} shapes, got {args.k}")
    t0 = time.perf_counter()
    try:
        with dask_client(args) as pdask:
            if pdask is None:
                p = pyshape.top_partners(X, args.k, which=args.which, progress=show_progress(args))
            else:
                p = pdask.compute(pdask.top_partners(X, args.k, which=args.which, chunk_rows=args.chunk_rows))
    except (ValueError, TypeError) as e:
        raise CliError(f"{args.input}: {e}") from None
    say(args, f"top-{args.k} partners of {len(X)} shapes in {time.perf_counter() - t0:.2f} s")
    # which: the --which word
    cols: Dict[str, List[np.ndarray]] = {"id": [], "which": [], "rank": [], "partner": [], "score": []}
    n, k = len(X), args.k
    for which, idx, sc in (("corr", p.corr_index, p.corr_score), ("anti", p.anti_index, p.anti_score)):
        if idx is None or sc is None:  # both or neither
            continue
        cols["id"].append(np.repeat(ids, k))
        cols["which"].append(np.full(n * k, which))
        cols["rank"].append(np.tile(np.arange(1, k + 1), n))
        cols["partner"].append(ids[idx.ravel()])
        cols["score"].append(np.round(sc.ravel().astype(np.float64), 6))
    # Rows grouped by shape then which (corr first), as a reader of one shape's partners expects.
    out = {c: np.concatenate(v) for c, v in cols.items()}
    order = np.lexsort((out["rank"], np.where(out["which"] == "corr", 0, 1),
                        np.concatenate([np.arange(n).repeat(k)] * len(cols["which"]))))
    write({c: v[order] for c, v in out.items()}, args.output, args)
    return 0


def cmd_cluster(args: argparse.Namespace) -> int:
    import pyshape

    check_output(args.output, "-o")
    check_output(args.centroids, "--centroids", stdout_ok=False)
    check_output(args.plot, "--plot", suffixes=(".png", ".pdf", ".svg"), stdout_ok=False)
    tr = load_trace(args.input, step_seconds=args.step_seconds, args=args)
    check_values(tr, args.input, demand=False)
    X = _one_resource(args, tr)
    if not 1 <= args.n_clusters <= len(X):
        raise CliError(f"--n-clusters must be in 1..{len(X)} for {len(X)} shapes, got {args.n_clusters}")
    est = (pyshape.KShape(args.n_clusters, random_state=args.seed, n_init=args.n_init)
           if args.method == "kshape" else
           pyshape.CorrelationKMeans(args.n_clusters, random_state=args.seed, n_init=args.n_init))
    t0 = time.perf_counter()
    try:
        with dask_client(args) as pdask:
            if pdask is None:
                labels = est.fit_predict(X)
            else:  # the same fit on the Dask cluster (the same result as in memory)
                fit = pdask.fit_kshape if args.method == "kshape" else pdask.fit_kmeans
                labels = fit(est, X, chunk_rows=args.chunk_rows).labels_
        dist = est.transform(X)[np.arange(len(X)), labels]
    except (ValueError, TypeError) as e:
        raise CliError(f"{args.input}: {e}") from None
    say(args, f"{args.method}: {args.n_clusters} clusters of {len(X)} shapes in {time.perf_counter() - t0:.2f} s, "
              f"{est.n_iter_} iterations, inertia {est.inertia_:.4g}")
    write({"id": ids_of(tr), "cluster": labels, "distance": np.round(dist.astype(np.float64), 6)},
          args.output, args)
    if args.centroids:
        C = np.asarray(est.cluster_centers_)
        write({"cluster": np.arange(len(C)), **{f"{t}": C[:, t] for t in range(C.shape[1])}}, args.centroids, args)
    if args.plot:
        from pyshape.plot import plot_centroids

        _plot(lambda: plot_centroids(est, args.plot, X=X))
        say(args, f"wrote {args.plot}")
    return 0


def _plot(draw: Callable[[], Figure]) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise CliError("plots need matplotlib (pip install 'pyshape[plot]')") from None
    try:
        fig = draw()
    except OSError as e:
        raise CliError(f"cannot write the plot: {e}") from None
    plt.close(fig)


def cmd_pack(args: argparse.Namespace) -> int:
    import pyshape
    from pyshape.packing import ShapeTooLargeError

    check_output(args.output, "-o")
    check_output(args.summary, "--summary", suffixes=(".json",), stdout_ok=False)
    check_output(args.plot, "--plot", suffixes=(".png", ".pdf", ".svg"), stdout_ok=False)
    from pyshape.cli._types import worker_types_arg

    tr = load_trace(args.input, step_seconds=args.step_seconds, args=args)
    check_values(tr, args.input)
    types = worker_types_arg(args, tr)  # argparse lets through one of -c, --worker-type, --types
    cap = capacity_arg(args, tr) if types is None else types
    head = headrooms_arg(args.headroom)
    if len(head) != 1:
        raise CliError("pack takes one --headroom value")
    try:
        with dask_client(args) as pdask:
            if pdask is None:
                plan = pyshape.pack(tr.shapes, cap, strategy=args.strategy, ids=id_list(tr), headroom=head[0],
                                    risk=args.risk, progress=show_progress(args))
            else:
                sp = pdask.pack(tr.shapes, cap, strategy=args.strategy, ids=id_list(tr), headroom=head[0],
                                risk=args.risk, chunk_rows=args.chunk_rows)
                say(args, f"dask: {sp.n_shards} shard(s), {sp.shard_workers} workers (cost {sp.shard_cost:g}) "
                          f"before the repack of {sp.repacked_from} under-filled workers into {sp.repacked_to}")
                plan = sp.to_plan(tr.shapes, id_list(tr))
    except ShapeTooLargeError as e:
        ids = list(getattr(e, "ids", []))
        what = "a worker's capacity" if types is None else f"every worker type ({', '.join(types.names)})"
        raise CliError(f"{args.input}: {len(ids)} shape(s) exceed {what}: "
                       f"{', '.join(map(str, ids[:5]))}{' ...' if len(ids) > 5 else ''}") from None
    except (ValueError, TypeError) as e:
        raise CliError(f"{args.input}: {e}") from None
    plan.verify()
    s = plan.summary()
    say(args, f"{s['strategy']}: {s['workers']} workers (lower bound {s['lower_bound']}, peak-based "
              f"{s['peak_workers']}, savings {s['savings vs peak']:.1%}) in {s['seconds']:.2f} s")
    cols: Dict[str, Any] = {"id": ids_of(tr), "worker": plan.assignment}
    if plan.types is not None and plan.worker_type is not None:
        counts = ", ".join(f"{k} {v}" for k, v in plan.type_counts.items())
        say(args, f"cost {plan.cost:g} (lower bound {s['cost_lower_bound']:g}, peak-based {s['peak_cost']:g}); "
                  f"workers per type: {counts}")
        cols["worker_type"] = np.asarray(plan.types.names, dtype=object)[plan.worker_type[plan.assignment]]
    write(cols, args.output, args)
    if args.summary:
        try:
            with open(args.summary, "w") as f:
                json.dump(s, f, indent=1)
        except OSError as e:
            raise CliError(f"--summary {args.summary}: {e}") from None
        say(args, f"wrote {args.summary}")
    if args.plot:
        from pyshape.plot import plot_worker_load

        _plot(lambda: plot_worker_load(plan, args.plot, step_seconds=tr.step_seconds))
        say(args, f"wrote {args.plot}")
    return 0


def _forecasters(names: str, n: int = defaults.N_CLUSTERS) -> Dict[str, Forecaster]:
    """The named forecasters, built as :func:`pyshape.evaluate.backtest` and the report build
    them (the clusters clipped to the ``n`` workloads), so the same trace gives the same headline."""
    from pyshape.evaluate import FORECASTERS, make_forecaster

    chosen = FORECASTERS if names in ("", "all") else [nm.strip() for nm in names.split(",")]
    k = max(2, min(defaults.N_CLUSTERS, int(n)))
    try:
        return {nm: make_forecaster(nm, n_clusters=k) for nm in chosen}
    except ValueError as e:
        raise CliError(f"--forecasters: {e}") from None


def _check_fits(tr: ResourceTrace, cap: np.ndarray, path: str) -> None:
    """A workload bigger than a worker can be placed nowhere: say so before planning days."""
    too = np.flatnonzero((tr.shapes.max(axis=2) > cap[None, :]).any(axis=1))
    if len(too):
        ids = id_list(tr)
        raise CliError(f"{path}: {len(too)} shape(s) exceed a worker's capacity at some step: "
                       f"{', '.join(ids[i] for i in too[:5])}{' ...' if len(too) > 5 else ''}")


def cmd_evaluate(args: argparse.Namespace) -> int:
    from pyshape.evaluate import backtest
    from pyshape.packing import STRATEGIES
    from pyshape.report import headline

    check_output(args.output, "-o")
    check_output(args.plot, "--plot", suffixes=(".png", ".pdf", ".svg"), stdout_ok=False)
    _forecasters(args.forecasters)          # options checked first: cheap, and before any loading
    strategies = [s.strip() for s in args.strategies.split(",")]
    unknown = [s for s in strategies if s not in STRATEGIES]
    if unknown:
        raise CliError(f"--strategies: unknown {unknown} (known: {', '.join(STRATEGIES)})")
    headrooms = headrooms_arg(args.headroom)
    tr = load_trace(args.input, step_seconds=args.step_seconds, need_step=True, args=args)
    check_values(tr, args.input)
    cap = capacity_arg(args, tr)
    _check_fits(tr, cap, args.input)
    forecasters = _forecasters(args.forecasters, tr.n)
    try:
        bt = backtest(tr, cap, forecasters=forecasters, strategies=strategies, headrooms=headrooms,
                      min_history=args.min_history, min_coverage=args.min_coverage, progress=show_progress(args))
    except (ValueError, TypeError) as e:
        raise CliError(f"{args.input}: {e}") from None
    say(args, f"backtest: {len(bt)} plans in {bt.seconds:.1f} s")
    say(args, headline(bt, max_overflow=args.max_overflow))
    write(bt.table if args.full else bt.summary(), args.output, args)
    if args.plot:
        from pyshape.plot import plot_frontier

        _plot(lambda: plot_frontier(bt.summary(), args.plot, reference=None, xscale="symlog",
                                    resources=tr.resources, capacity=cap))
        say(args, f"wrote {args.plot}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from pyshape.report import build_report

    outdir = Path(args.outdir)
    if outdir.exists() and not outdir.is_dir():
        raise CliError(f"-d {args.outdir}: exists and is not a folder")
    tr = load_trace(args.input, step_seconds=args.step_seconds, need_step=True, args=args)
    check_values(tr, args.input)
    cap = capacity_arg(args, tr)
    _check_fits(tr, cap, args.input)
    try:
        rep = build_report(tr, cap, args.outdir, fmt=args.format, title=f"pyshape report: {args.input}",
                           headrooms=headrooms_arg(args.headroom), plots=not args.no_plots,
                           min_coverage=args.min_coverage, progress=show_progress(args))
    except (ValueError, TypeError) as e:
        raise CliError(f"{args.input}: {e}") from None
    except OSError as e:
        raise CliError(f"-d {args.outdir}: {e}") from None
    for note in rep.notes:
        say(args, note)
    for path in rep.files.values():
        print(path)
    say(args, f"report in {rep.seconds:.1f} s")
    return 0


def add_parsers(sub: argparse._SubParsersAction[Any]) -> None:
    """Register the data subcommands on an argparse subparsers object."""
    from pyshape.cli._common import (
        CAPACITY_HELP,
        add_common,
        add_min_coverage,
        fraction,
        fraction_closed,
        nonnegative_int,
        positive_int,
    )

    inp = "trace: .npy / .npz / .csv[.gz] / .parquet shapes, or a folder of Bitbrains VM files"

    c = sub.add_parser("correlate", help="top-k correlated / anti-correlated partners of every shape",
                       description="Top-k most correlated and anti-correlated partners (Pearson) of every shape; "
                                   "writes id,which,rank,partner,score (which: corr or anti).")
    c.add_argument("input", help=inp)
    c.add_argument("-k", type=positive_int, default=10, help="partners per shape (default 10)")
    c.add_argument("--which", choices=["both", "corr", "anti"], default="both")
    c.add_argument("--resource", help="resource name or index (default: the first)")
    add_common(c)
    add_scheduler(c)
    c.set_defaults(func=cmd_correlate)

    k = sub.add_parser("cluster", help="group shapes into families (k-Shape or correlation k-means)",
                       description="Cluster shapes; writes id,cluster,distance.")
    k.add_argument("input", help=inp)
    k.add_argument("-n", "--n-clusters", type=positive_int, default=16, help="number of clusters (default 16)")
    k.add_argument("--method", choices=["kmeans", "kshape"], default="kmeans",
                   help="kmeans = CorrelationKMeans (default), kshape = KShape (shift-invariant)")
    k.add_argument("--n-init", type=positive_int, default=1, help="restarts, the best kept (default 1)")
    k.add_argument("--seed", type=nonnegative_int, default=0, help="random seed (default 0)")
    k.add_argument("--resource", help="resource name or index (default: the first)")
    k.add_argument("--centroids", metavar="FILE", help="also write the centroids (.csv/.json/.parquet)")
    k.add_argument("--plot", metavar="PNG", help="also draw the centroids as small multiples")
    add_common(k)
    add_scheduler(k)
    k.set_defaults(func=cmd_cluster)

    p = sub.add_parser("pack", help="place shapes on as few workers as possible",
                       description="Pack shapes onto workers; writes id,worker (and worker_type with worker "
                                   "types) and reports workers, lower bound and peak-based workers "
                                   "(and cost) on stderr.")
    p.add_argument("input", help=inp)
    from pyshape.cli._types import TYPES_FILE_HELP, WORKER_TYPE_HELP

    fleet = p.add_mutually_exclusive_group(required=True)  # one capacity, or worker types
    fleet.add_argument("-c", "--capacity", help=CAPACITY_HELP + "; or give worker types instead")
    fleet.add_argument("--worker-type", action="append", metavar="NAME:CAPS:COST", help=WORKER_TYPE_HELP)
    fleet.add_argument("--types", metavar="FILE", help=TYPES_FILE_HELP)
    from pyshape.packing import STRATEGIES
    from pyshape.packing._checks import DEFAULT_STRATEGY

    p.add_argument("-s", "--strategy", default=DEFAULT_STRATEGY, choices=list(STRATEGIES))
    p.add_argument("--headroom", default="0", help="safety margin, fraction of capacity (default 0)")
    p.add_argument("--risk", type=fraction, default=0.0, help="fraction of steps a worker may overflow (default 0)")
    p.add_argument("--summary", metavar="JSON", help="also write the plan's summary as JSON")
    p.add_argument("--plot", metavar="PNG", help="also draw the busiest workers' load against capacity")
    add_common(p)
    add_scheduler(p)
    p.set_defaults(func=cmd_pack)

    e = sub.add_parser("evaluate", help="plan each day on a forecast, replay the real day",
                       description="Backtest: for each day d, forecast it from days < d, pack, replay "
                                   "the real day; writes workers, overflow and forecast error.")
    e.add_argument("input", help=inp + " (two or more whole days)")
    e.add_argument("-c", "--capacity", required=True, help=CAPACITY_HELP)
    e.add_argument("--forecasters", default="all",
                   help=f"comma-separated: {', '.join(defaults.FORECASTERS)} (names as printed; default all)")
    e.add_argument("--strategies", default=",".join(defaults.STRATEGIES),
                   help=f"comma-separated (default {','.join(defaults.STRATEGIES)})")
    e.add_argument("--headroom", default=_HEADROOMS, help=f"comma-separated fractions (default {_HEADROOMS})")
    e.add_argument("--min-history", type=positive_int, default=1, help="days of history before the first target day")
    e.add_argument("--max-overflow", type=fraction_closed, default=defaults.MAX_OVERFLOW,
                   help=f"pooled overflow budget for the headline ({defaults.MAX_OVERFLOW:g})")
    add_min_coverage(e)
    e.add_argument("--full", action="store_true", help="one row per day instead of means over days")
    e.add_argument("--plot", metavar="PNG", help="also draw workers against overflow")
    add_common(e)
    e.set_defaults(func=cmd_evaluate)

    r = sub.add_parser("report", help="figures (PNG) and a Markdown/HTML summary for a trace",
                       description="Cluster, pack and backtest a trace; write PNGs and report.md/html "
                                   "into OUTDIR and print the paths written.")
    r.add_argument("input", help=inp)
    r.add_argument("-c", "--capacity", required=True, help=CAPACITY_HELP)
    r.add_argument("-d", "--outdir", default="pyshape-report", help="output folder (default pyshape-report)")
    r.add_argument("--format", choices=["md", "html"], default="md")
    r.add_argument("--headroom", default=_HEADROOMS, help=f"comma-separated fractions (default {_HEADROOMS})")
    add_min_coverage(r)
    r.add_argument("--no-plots", action="store_true", help="tables only")
    add_common(r, output=False)
    r.set_defaults(func=cmd_report)

    i = sub.add_parser("info", help="version, SIMD level and threads")
    i.set_defaults(func=cmd_info)
