"""Comparing CLIP with MaMMUT (Nezhurina et al. 2025) from small runs: who leads at larger compute, by how much,
and how well each way of fitting forecasts the larger runs it never saw.

Data: the authors' best-of-sweep ImageNet-1k zero-shot accuracies for every model × samples-seen cell (notebook
rows of ../shared/data/laion_comparison, cosine schedule), on DataComp-1.4B and Re-LAION-2B. DFN is not in these
files (the repository's full result table is absent), so it is not compared.

For each dataset:
1. Fit on the cells with forward FLOPs ≤ 1e20, by three methods:
   - saturating-on-front: `compare --higher-better --pareto`, error 1 - accuracy = a·(C + b)^c + d fitted to each
     model type's compute-Pareto front (the paper's recipe);
   - power-on-front: the same front, error = E + A·C^-alpha (law `power`);
   - saturating-all-runs: the saturating law fitted to every cell, on the front or not.
2. Held out: each model type's compute-Pareto front above 1e20 (front of all its cells, up to 1.39e21 FLOPs).
   Score: mean |forecast - measured accuracy| over those points, and the share inside the 95% prediction interval
   (the group's curve and band from the comparison record, interpolated in log compute between its grid points).
3. Who leads at the largest held-out compute both model types reached (the smaller of their largest FLOPs): the
   forecast winner (`lead`) against the measured one, each model type's measured front read there by log-linear
   interpolation between its two neighbouring front points (the best it had reached, past its last one).

Run from the repository root:  PYTHONPATH=src python benchmarks/bench_compare.py [--bootstrap 200]
The runs are read from ../shared/data/laion_comparison (not bundled: no licence; SCALINGLAWS_SHARED_DATA to point
elsewhere); the benchmark says so and stops when they are absent.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from scalinglaws.decide import compare
from scalinglaws.runs.pareto import pareto_front

SHARED = Path(os.environ.get("SCALINGLAWS_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
RUNS = SHARED / "laion_comparison" / "runs.csv"
METRIC = "imagenet1k_acc1"
CUT = 1e20
DATASETS = {"datacomp_1b": "DataComp-1.4B", "relaion2b-en": "Re-LAION-2B"}
METHODS = {"saturating-on-front": dict(law="saturating", pareto=True),
           "power-on-front": dict(law="power", pareto=True),
           "saturating-all-runs": dict(law="saturating", pareto=False)}


def cells(df: pd.DataFrame, dataset: str) -> pd.DataFrame:
    keep = ((df.row_kind == "best_of_sweep") & (df.lr_scheduler == "cosine") & (df.pretrain_dataset == dataset)
            & df.model_type.isin(["clip", "mammut"]) & df[METRIC].notna())
    out = df[keep][["model_name", "model_type", "samples_seen_label", "flops", METRIC]].copy()
    out["run"] = out.model_name + "@" + out.samples_seen_label
    return out.reset_index(drop=True)


def front(g: pd.DataFrame) -> pd.DataFrame:
    """A model type's compute-Pareto front of accuracy, by compute."""
    return g[pareto_front(g.flops.to_numpy(), g[METRIC].to_numpy(), higher_better=True)].sort_values("flops")


def measured_at(f: pd.DataFrame, c: float) -> float:
    """The measured front at compute c: log-linear between neighbouring front points, its last value past them."""
    x, y = np.log(f.flops.to_numpy()), f[METRIC].to_numpy()
    return float(np.interp(np.log(c), x, y))


def band_at(group, c: np.ndarray):
    """(prediction, lower, upper) of a group's comparison curve at compute c, interpolated in log compute."""
    s = np.log([r["scale"] for r in group.curve])
    pick = [np.array([r[k] for r in group.curve]) for k in ("prediction", "lower", "upper")]
    return [np.interp(np.log(c), s, v) for v in pick]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if not RUNS.exists():
        print(f"{RUNS} is not here: nothing to benchmark")
        return 0
    df = pd.read_csv(RUNS)
    found = sorted(df.pretrain_dataset.unique())
    print(f"pretraining sets in the data: {', '.join(found)}; DFN "
          f"{'present' if any('dfn' in s.lower() for s in found) else 'absent (not compared)'}")
    print(f"ImageNet-1k zero-shot accuracy; fitted on cells ≤ {CUT:.0e} FLOPs (forward), forecast the "
          f"compute-Pareto front above; bootstrap {args.bootstrap}, seed {args.seed}\n")
    totals = {m: {"err": [], "inside": [], "width": [], "right": []} for m in METHODS}
    for dataset, name in DATASETS.items():
        data = cells(df, dataset)
        train = data[data.flops <= CUT]
        fronts = {t: front(g) for t, g in data.groupby("model_type")}
        held = {t: f[f.flops > CUT] for t, f in fronts.items()}
        c_top = min(g.flops.max() for _, g in data.groupby("model_type"))
        measured = {t: measured_at(f, c_top) for t, f in fronts.items()}
        truth = max(measured, key=measured.get)
        print(f"{name}: {len(train)} cells ≤ {CUT:.0e} for fitting, held-out front points: "
              + ", ".join(f"{t} {len(h)}" for t, h in held.items())
              + f"; largest compute both reached {c_top:.3g}: measured front "
              + ", ".join(f"{t} {v:.3f}" for t, v in measured.items()) + f" → {truth} leads")
        for method, how in METHODS.items():
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = compare(train, "model_type", at={"flops": c_top}, groups=["clip", "mammut"],
                              higher_better=True, target=METRIC, bootstrap=args.bootstrap, seed=args.seed, **how)
            secs = time.perf_counter() - t0
            errs, inside, width = [], [], []
            for g in res.groups:
                h = held[g.label]
                pred, lo, hi = band_at(g, h.flops.to_numpy())
                y = h[METRIC].to_numpy()
                errs += list(np.abs(pred - y))
                inside += list((lo <= y) & (y <= hi))
                width += list(hi - lo)
            lead = res.lead
            right = lead.winner == truth
            totals[method]["err"] += errs
            totals[method]["inside"] += inside
            totals[method]["width"] += width
            totals[method]["right"].append(right)
            cross = lead.crossover
            print(f"  {method:20s} mean |err| {np.mean(errs):.4f}  coverage {np.mean(inside):4.0%} "
                  f"({sum(inside)}/{len(inside)}, width {np.mean(width):.3f})  lead: {lead.winner} by {lead.gap:+.4f} "
                  f"[{lead.lower:+.4f}, {lead.upper:+.4f}] ({'right' if right else 'wrong'}), runner-up needs "
                  f"{lead.multiplier:.3g}× [{lead.multiplier_lower:.3g}, {lead.multiplier_upper:.3g}], crossover "
                  + ("none" if cross is None else f"{cross['scale']:.3g} [{_g(cross['lower'])}, "
                                                  f"{_g(cross['upper'])}]")
                  + f"  ({secs:.1f} s)")
        print()
    print("all held-out front points:")
    for method, t in totals.items():
        print(f"  {method:20s} mean |err| {np.mean(t['err']):.4f}  coverage {np.mean(t['inside']):4.0%} "
              f"({sum(t['inside'])}/{len(t['inside'])}, mean width {np.mean(t['width']):.3f})  "
              f"winner right {sum(t['right'])}/{len(t['right'])}")
    return 0


def _g(v) -> str:
    return "–" if v is None else f"{v:.3g}"


if __name__ == "__main__":
    sys.exit(main())
