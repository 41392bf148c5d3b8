"""Cold start: a new workload's period from its first steps, ColdStart against naive carry-forward.

The two protocols of issue 5, every (workload, period, resource) series predicted from its
first ``h`` steps and scored by its MAE over the steps not observed:

- Bitbrains month (250 VMs, 30 whole UTC days of 288 five-minute steps, h = 24, 2 hours).
  *VM split*: the VMs in 2 random folds; each fold's (VM, day) pairs are predicted by a
  ColdStart fitted on every whole day of the other fold's VMs. *Time split*: day d of every
  VM (d = 1..29) is predicted by a ColdStart fitted on all VMs' days before d.
- Azure Functions sample (1000 functions, one hour of 60 one-minute steps, h = 15): the
  functions in 2 random folds; each fold predicted from the other fold's hours.

All-zero series (and (VM, day) pairs / functions whose every resource is all zero) are left
out of the scores and of the libraries, and counted. For every predictor against every
carry-forward baseline (the observed mean, last step or median repeated) the table gives the
share of series whose MAE is lower / equal / higher (equal: within 1e-6 relative, float32
rounding), the mean and median of the per-series MAE ratio (series whose baseline MAE is 0
are left out of the ratios: both are exact there, or the ratio is infinite; they are counted
in the equal / higher shares), and the pooled ratio sum(MAE) / sum(MAE), which large workloads
dominate. "all" pools the series of both resources.

The diagnostics say where the gap is: the share of series whose observed steps are all 0 or
constant (every predictor here then repeats them), the share where ColdStart's forecast
differs from the observed median repeated (it used a profile), and two oracles that know the
rest of the period: the best flat forecast (the median of the unobserved steps) against
carry_forward(median) (what a perfect level would gain), and the best of the library's
profiles with its best scale against that best flat forecast (what a perfectly chosen shape
would gain on top of a perfect level): medians over series, and pooled. A series is "flat"
when that best profile gains less than 5% over the best flat forecast.

    python bench/coldstart.py [--bitbrains ../shared/data/bitbrains_rnd_2013-07] [--out FILE]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np

from pyshape.forecast import ColdStart, carry_forward, mae
from pyshape.forecast.coldstart import match_profiles_mae
from pyshape.traces import load_azure_sample, load_bitbrains

#: the ColdStart models compared (the default, and the previous default) besides the baselines
OLD = "ColdStart(level='mean', match='corr')"
MODELS: Dict[str, Callable[[], ColdStart]] = {"ColdStart": ColdStart,
                                              OLD: lambda: ColdStart(level="mean", match="corr")}
BASELINES = ("mean", "last", "median")
#: (predictor, baseline) rows of the table
ROWS = (("ColdStart", "mean"), ("ColdStart", "last"), ("ColdStart", "median"), (OLD, "mean"),
        ("carry_forward(median)", "mean"), ("carry_forward(median)", "last"))
EQUAL_RTOL = 1e-6
#: a series counts as flat when even the best profile, knowing the rest of the period, lowers the
#: MAE of the best flat forecast by less than this
FLAT_GAIN = 0.05


class Scores:
    """Per-series MAE of every predictor and baseline over the unobserved steps, gathered
    over folds or days, with the diagnostics."""

    def __init__(self, resources: Sequence[str]):
        self.resources = tuple(resources)
        self.err: Dict[str, List[np.ndarray]] = {}
        self.keep: List[np.ndarray] = []
        self.diag: Dict[str, List[np.ndarray]] = {k: [] for k in ("zero", "const", "used", "flat", "shape")}
        self.skipped_pairs = 0
        self.library_sizes: List[int] = []

    def add(self, lib: np.ndarray, actual: np.ndarray, h: int) -> None:
        """Predict ``actual`` (n, R, period) from its first ``h`` steps with a library ``lib``."""
        live = actual.any(axis=(1, 2))
        self.skipped_pairs += int((~live).sum())
        actual = actual[live]
        lib = lib[lib.any(axis=(1, 2))]
        self.library_sizes.append(len(lib))
        period = actual.shape[2]
        part = np.ascontiguousarray(actual[..., :h])
        rest = actual[..., h:]
        fitted = {name: make().fit(lib) for name, make in MODELS.items()}
        preds = {name: cs.predict(part) for name, cs in fitted.items()}
        preds.update({f"carry_forward({b})": carry_forward(part, period, how=b) for b in BASELINES})
        for name, p in preds.items():
            self.err.setdefault(name, []).append(mae(rest, p[..., h:], per_resource=True))
        self.keep.append(actual.any(axis=2))
        self.diag["zero"].append(~part.any(axis=2))
        self.diag["const"].append(part.max(axis=2) == part.min(axis=2))
        self.diag["used"].append((preds["ColdStart"][..., h:] != preds["carry_forward(median)"][..., h:]).any(axis=2))
        flat, shape = _oracles(fitted["ColdStart"], rest, h)
        self.diag["flat"].append(flat)
        self.diag["shape"].append(shape)

    def done(self) -> None:
        self.E = {k: np.concatenate(v) for k, v in self.err.items()}
        self.K = np.concatenate(self.keep)
        self.D = {k: np.concatenate(v) for k, v in self.diag.items()}

    def series(self) -> List[Tuple[str, Callable[[np.ndarray], np.ndarray]]]:
        """(label, pick) for every resource and "all": pick turns an (n, R) array into the kept series."""
        out = [(r, lambda a, i=i: a[self.K[:, i], i]) for i, r in enumerate(self.resources)]
        out.append(("all", lambda a: a[self.K]))
        return out


def _oracles(cs: ColdStart, rest: np.ndarray, h: int) -> Tuple[np.ndarray, np.ndarray]:
    """MAE of the best flat forecast of the unobserved steps (their median), and of the best
    library profile with its best scale there, per series (n, R)."""
    n, R, L = rest.shape
    flat = np.empty((n, R))
    shape = np.empty((n, R))
    for r in range(R):
        A = rest[:, r].astype(np.float64)
        med = np.median(A, axis=1)
        flat[:, r] = np.abs(A - med[:, None]).mean(axis=1)
        C = cs.profiles_[r].astype(np.float64)[:, h:]
        if C.shape[0] == 0:
            shape[:, r] = flat[:, r]
            continue
        best, ok, s = match_profiles_mae(A, C, med)
        shape[:, r] = np.where(ok, np.abs(A - s[:, None] * C[best]).mean(axis=1), flat[:, r])
    return flat, shape


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return a / b


def _compare(e: np.ndarray, b: np.ndarray) -> Tuple[float, float, float, float, float, float]:
    tol = EQUAL_RTOL * np.maximum(e, b)
    lower, higher = (e < b - tol).mean(), (e > b + tol).mean()
    pos = b > 0
    ratio = e[pos] / b[pos]
    return (100 * lower, 100 * (1 - lower - higher), 100 * higher, float(ratio.mean()), float(np.median(ratio)),
            float(e.sum() / b.sum()))


def _md(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    def cell(v):
        return f"{v:.1f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _pooled(label: str, v: float) -> str:
    # "all" pools resources in different units (MHz and GB): a pooled sum would be one resource's
    return "-" if label == "all" else f"{v:.3f}"


def table(sc: Scores) -> str:
    rows = []
    for label, pick in sc.series():
        for pred, base in ROWS:
            lo, eq, hi, mean_r, med_r, pooled = _compare(pick(sc.E[pred]), pick(sc.E[f"carry_forward({base})"]))
            rows.append((label, pred, base, lo, eq, hi, f"{mean_r:.3f}", f"{med_r:.3f}", _pooled(label, pooled)))
    return _md(("series", "predictor", "vs carry_forward", "lower %", "equal %", "higher %", "mean ratio",
                "median ratio", "pooled ratio"), rows)


def diagnostics(sc: Scores) -> str:
    rows = []
    D, E = sc.D, sc.E
    for label, pick in sc.series():
        cf = pick(E["carry_forward(median)"])
        flat, shape = pick(D["flat"]), pick(D["shape"])
        lvl = _ratio(flat, cf)[cf > 0]
        shp = _ratio(shape, flat)[flat > 0]
        flat_share = 100 * (shape >= (1 - FLAT_GAIN) * flat).mean()
        rows.append((label, int(pick(sc.K).size), 100 * pick(D["zero"]).mean(), 100 * pick(D["const"]).mean(),
                     100 * pick(D["used"]).mean(), flat_share,
                     f"{np.median(lvl):.3f}", _pooled(label, flat.sum() / cf.sum()),
                     f"{np.median(shp):.3f}", _pooled(label, shape.sum() / flat.sum())))
    return _md(("series", "scored", "zero prefix %", "constant prefix %", "profile used %",
                f"flat (oracle profile gains < {100 * FLAT_GAIN:.0f}%) %", "best flat / cf(median), median",
                "pooled", "best profile / best flat, median", "pooled"), rows)


def summary(results: Sequence[Tuple[str, Scores]]) -> str:
    """One row per protocol and series: ColdStart's lower / equal / higher shares against each
    carry-forward, and carry_forward(median)'s against carry_forward(mean)."""
    rows = []
    for title, sc in results:
        for label, pick in sc.series():
            row: List = [title, label, int(pick(sc.E["ColdStart"]).size)]
            for pred, base in (("ColdStart", "mean"), ("ColdStart", "last"), ("ColdStart", "median"),
                               ("carry_forward(median)", "mean")):
                lo, eq, hi, *_ = _compare(pick(sc.E[pred]), pick(sc.E[f"carry_forward({base})"]))
                row.append(f"{lo:.1f} / {eq:.1f} / {hi:.1f}")
            rows.append(row)
    return _md(("protocol", "series", "scored", "ColdStart vs cf(mean) %", "ColdStart vs cf(last) %",
                "ColdStart vs cf(median) %", "cf(median) vs cf(mean) %"), rows)


def report(title: str, sc: Scores, note: str) -> str:
    skipped = ", ".join(f"{int((~sc.K[:, i]).sum())} {r}" for i, r in enumerate(sc.resources))
    libs = f"{min(sc.library_sizes)}..{max(sc.library_sizes)}"
    return "\n".join([f"### {title}", "", f"{note} Scored series: "
                      + ", ".join(f"{int(sc.K[:, i].sum())} {r}" for i, r in enumerate(sc.resources))
                      + f"; left out: {sc.skipped_pairs} all-zero pairs, then all-zero series: {skipped}. "
                      f"Library: {libs} periods per fit.", "", table(sc), "", "Diagnostics:", "",
                      diagnostics(sc), ""])


def folds(n: int, seed: int) -> List[Tuple[np.ndarray, np.ndarray]]:
    """Two random folds of ``n`` rows: (test, library) twice."""
    perm = np.random.default_rng(seed).permutation(n)
    a, b = np.sort(perm[: n // 2]), np.sort(perm[n // 2:])
    return [(a, b), (b, a)]


def bitbrains(path: str, h: int, seed: int, time_split: bool) -> List[Tuple[str, Scores, str]]:
    t0 = time.perf_counter()
    tr = load_bitbrains(path)
    per_day, nd = tr.steps_per_day, tr.n_days
    days = tr.shapes[:, :, : nd * per_day].reshape(tr.n, len(tr.resources), nd, per_day).transpose(0, 2, 1, 3)
    out = []
    sc = Scores(tr.resources)
    for test, lib in folds(tr.n, seed):
        sc.add(days[lib].reshape(-1, *days.shape[2:]), days[test].reshape(-1, *days.shape[2:]), h)
    sc.done()
    out.append(("Bitbrains, VM split", sc, report(
        f"Bitbrains, VM split ({time.perf_counter() - t0:.0f} s with the load)", sc,
        f"{tr.n} VMs x {nd} days, first {h} of {per_day} steps observed, 2 folds of VMs (seed {seed}).")))
    if time_split:
        t0 = time.perf_counter()
        sc = Scores(tr.resources)
        for d in range(1, nd):
            sc.add(days[:, :d].reshape(-1, *days.shape[2:]), days[:, d], h)
        sc.done()
        out.append(("Bitbrains, time split", sc, report(
            f"Bitbrains, time split ({time.perf_counter() - t0:.0f} s)", sc,
            f"Day d = 1..{nd - 1} of every VM from a library of all VMs' days before d "
            f"(the VM's own past days included), first {h} steps observed.")))
    return out


def azure(h: int, seed: int) -> List[Tuple[str, Scores, str]]:
    t0 = time.perf_counter()
    tr = load_azure_sample()
    sc = Scores(tr.resources)
    for test, lib in folds(tr.n, seed):
        sc.add(tr.shapes[lib], tr.shapes[test], h)
    sc.done()
    return [("Azure sample", sc, report(
        f"Azure Functions sample ({time.perf_counter() - t0:.0f} s with the load)", sc,
        f"{tr.n} functions x 1 hour, first {h} of {tr.T} one-minute steps observed, 2 folds of "
        f"functions (seed {seed})."))]


def main() -> None:
    root = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bitbrains", default=str(root.parent / "shared" / "data" / "bitbrains_rnd_2013-07"),
                    help="folder of Bitbrains per-VM files (default ../shared/data/bitbrains_rnd_2013-07)")
    ap.add_argument("--h-bitbrains", type=int, default=24, help="observed 5-minute steps (24: 2 hours)")
    ap.add_argument("--h-azure", type=int, default=15, help="observed minutes of the Azure hour (15)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the fold split (0)")
    ap.add_argument("--no-time-split", action="store_true", help="skip the Bitbrains time split")
    ap.add_argument("--out", help="also write the Markdown here")
    args = ap.parse_args()
    results = bitbrains(args.bitbrains, args.h_bitbrains, args.seed, not args.no_time_split)
    results += azure(args.h_azure, args.seed)
    text = "\n".join(["Shares of the scored series whose MAE is lower / equal / higher:", "",
                      summary([(title, sc) for title, sc, _ in results]), ""] + [md for _, _, md in results])
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
