"""Build the README figures into docs/img/.

    python docs/make_figures.py [BITBRAINS_FOLDER] [--day 2013-07-03]

plan_comparison.png: one day of the Bitbrains Rnd trace (250 VMs, CPU and memory at 5-minute
steps) packed onto workers of 32 GHz CPU and 64 GB memory, peak-based against the default
(correlation-aware) strategy. The day is named by its UTC date, so the month and the bundled
7-day sample give the same figure. Default folder: ../shared/data/bitbrains_rnd_2013-07 beside
the repository, else the sample bundled with pyshape.

centroids.png: CorrelationKMeans centroids of synthetic one-day shapes, with members behind.
"""
from __future__ import annotations

import argparse
import calendar
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import pyshape
from pyshape.plot import plot_centroids, plot_plan_comparison
from pyshape.synthetic import make_shapes

ROOT = Path(__file__).resolve().parents[1]
MONTH = ROOT.parent / "shared" / "data" / "bitbrains_rnd_2013-07"
IMG = ROOT / "docs" / "img"
#: A worker: 32 GHz of CPU and 64 GB of memory, in the trace's units.
WORKER = {"cpu_mhz": 32000.0, "mem_gb": 64.0}


def load_trace(folder):
    from pyshape import traces

    if folder is not None:
        return traces.load_bitbrains(folder)
    if MONTH.is_dir():
        return traces.load_bitbrains(MONTH)
    return traces.load_bitbrains_sample()


def plan_comparison(folder, day: str) -> None:
    t0 = time.perf_counter()
    tr = load_trace(folder)
    d = (calendar.timegm(time.strptime(day, "%Y-%m-%d")) - tr.start) // 86400
    shapes = tr.day(d).shapes
    capacity = [WORKER[name] for name in tr.resources]
    plans = {"peak-based": pyshape.pack(shapes, capacity, strategy="peak"),
             "correlation-aware": pyshape.pack(shapes, capacity)}
    for name, plan in plans.items():
        plan.verify()
        print(f"{name:18s} {plan.summary()}")
    fig = plot_plan_comparison(plans, IMG / "plan_comparison.png", step_seconds=tr.step_seconds,
                               resource_name="CPU",
                               title=f"Worker load against capacity: {len(shapes)} Bitbrains VMs on {day} (UTC), "
                                     "32 GHz / 64 GB workers")
    plt.close(fig)
    print(f"plan_comparison.png: day index {d}, {time.perf_counter() - t0:.1f} s")


def centroids() -> None:
    X, _ = make_shapes(600, 144, step_seconds=600, random_state=0)
    km = pyshape.CorrelationKMeans(6, random_state=0).fit(X)
    fig = plot_centroids(km, IMG / "centroids.png", X=X, ncols=3, max_members=15)
    plt.close(fig)
    print("centroids.png: CorrelationKMeans(6) on 600 synthetic one-day shapes (10-minute steps)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", help="Bitbrains folder of <vm>.csv[.gz] files")
    ap.add_argument("--day", default="2013-07-03", help="UTC date of the day to pack (default %(default)s)")
    args = ap.parse_args()
    IMG.mkdir(parents=True, exist_ok=True)
    plan_comparison(args.folder, args.day)
    centroids()
    for p in sorted(IMG.glob("*.png")):
        print(f"{p.relative_to(ROOT)}: {p.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
