"""Batch size and learning-rate robustness on Step Law's dense runs (Li et al. 2025; 17 (N, D) cells, lr × batch).

1. Forecast per batch: the `batch_size` law and a Chinchilla law (which ignores batch) are fitted to each batch
   size's best-lr run at the three smaller model sizes (12 cells); each predicts the 5 cells of the two larger
   sizes. Score: rms and max |log predicted − log observed| over those rows.
2. Best batch: B_opt of the fit of (1) at every held-out cell against Step Law's B* = 0.58·D^0.571.
3. Intervals: the share of held-out cells whose observed B_opt (the best batch among those swept) lies inside the
   95% bootstrap interval of B_opt (a coarse check: the grid is ~√2-spaced and its argmin noisy).
4. Does B_crit grow with N? The law with B_crit = b·D^γ·(N/1e9)^δ, fitted to all 17 cells: Zhang et al. (2024)
   find δ ≈ 0 (B_crit grows with D, not N).
5. LR sensitivity (Wortsman et al. 2023) per cell over the learning rates every cell swept, and its trend in N.

Run from the repository root:  PYTHONPATH=src python benchmarks/bench_batch.py [--bootstrap 100]
Step Law's runs are read from ../shared/data/steplaw (not bundled; SCALINGLAWS_SHARED_DATA to point elsewhere);
the benchmark exits with a note when they are absent.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

from scalinglaws.fitting import fit
from scalinglaws.laws import LAWS
from scalinglaws.laws.spec import Param
from scalinglaws.plan.batch import AXIS, batch_plan, best_per_batch
from scalinglaws.plan.lr_robust import lr_sensitivity

SHARED = Path(os.environ.get("SCALINGLAWS_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
RUNS = SHARED / "steplaw" / "runs.csv"


def with_n(x, p):
    """The batch_size law with B_crit = b·D^γ·(N/1e9)^δ."""
    q = dict(p)
    q["b"] = p["b"] * np.exp(p["delta"] * np.log(x["N"] / 1e9))
    return LAWS["batch_size"].fn(x, q)


WITH_N = replace(LAWS["batch_size"], name="batch_size_n", fn=with_n, grad=None, params=LAWS["batch_size"].params + (
    Param("delta", (-2.0, 2.0), (-0.3, 0.3), doc="growth of the critical batch with N"),))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bootstrap", type=int, default=100)
    args = ap.parse_args()
    if not RUNS.exists():
        print(f"{RUNS} is not here: nothing to measure")
        sys.exit(0)
    warnings.simplefilter("ignore")
    rows = best_per_batch(f"{RUNS}?arch=dense", diverged=5)
    train = rows["params"] < 5e8
    test = {k: v[~train] for k, v in rows.items()}
    x = {"N": test["params"], "D": test["tokens"], "B": test[AXIS]}
    fits = {}
    print(f"1. forecast of the {len(test['loss'])} best-per-batch rows of N >= 5e8 from the {int(train.sum())} of "
          "N < 5e8 (|log error|)")
    for name in ("batch_size", "chinchilla"):
        fits[name] = fit({k: v[train] for k, v in rows.items()}, name, bootstrap=args.bootstrap)
        err = np.abs(np.log(LAWS[name](x, dict(fits[name].params))) - np.log(test["loss"]))
        print(f"   {name:<11} rms {np.sqrt(np.mean(err ** 2)):.4f}   max {err.max():.4f}")
    print("2. best batch at the held-out cells (tokens): the law's B_opt [95%] vs Step Law's B* = 0.58·D^0.571 "
          "and the best batch swept")
    inside = 0
    cells = sorted(set(zip(test["params"], test["tokens"])))
    for n, d in cells:
        r = batch_plan(fits["batch_size"], n, tokens=d)
        m = (test["params"] == n) & (test["tokens"] == d)
        observed = test[AXIS][m][np.argmin(test["loss"][m])]
        lo, hi = r.intervals["optimal_batch"]
        inside += lo <= observed <= hi
        print(f"   N={n:.3g} D={d:.3g}: B_opt {r.optimal_batch:.3g} [{lo:.3g}, {hi:.3g}]  Step Law "
              f"{0.58 * d ** 0.571:.3g} (ratio {r.optimal_batch / (0.58 * d ** 0.571):.2f})  best swept "
              f"{observed:.3g}")
    print(f"3. observed best batch inside the 95% interval of B_opt: {inside} of {len(cells)} held-out cells")
    full = fit(rows, WITH_N, bootstrap=args.bootstrap)
    iv = full.intervals()
    print(f"4. B_crit = b·D^γ·N^δ on all 17 cells: γ = {full.params['gamma']:.3f} [{iv['gamma'][0]:.3f}, "
          f"{iv['gamma'][1]:.3f}], δ = {full.params['delta']:.3f} [{iv['delta'][0]:.3f}, {iv['delta'][1]:.3f}]")
    s = lr_sensitivity(f"{RUNS}?arch=dense", init_loss=11.1, lr_range=(4.8e-4, 1.96e-3))
    print(f"5. LR sensitivity over lr 4.8e-4 to 1.96e-3 (losses capped at 11.1): "
          f"{min(c['sensitivity'] for c in s.cells):.4f} to {max(c['sensitivity'] for c in s.cells):.4f}; "
          f"trend ∝ N^{s.trend['exponent']:.2f} over {s.trend['cells']} cells")


if __name__ == "__main__":
    main()
