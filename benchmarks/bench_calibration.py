"""Do the prediction intervals hold what they claim on larger runs of a dataset the calibration never saw?

Leave one dataset out: every ladder (the bundled ones of decide/calibrate.py BUNDLED, and two from ../shared/data:
Li et al. 2025's best-LR finals and the StepLaw dense optima) is backtested by rollout with a bootstrap of 100
per cut (every held-out larger run kept row by row); then for each dataset the model-error term is learned on the
other datasets' rows only and scored on that dataset's. Reported per dataset and pooled (every dataset weighing
the same): observed coverage of the 50%, 80% and 95% prediction intervals, their median width (in log loss), and
the interval score (Gneiting & Raftery 2007, eq. 43; lower is better) against the plain bootstrap (parameter draws
with resampled residuals, no model term).

The targets (checked at the end): pooled 95% coverage in [90%, 98%], 80% in [72%, 88%], no dataset's 95% coverage
below 75%, and a better pooled weighted interval score than the plain bootstrap.

Run from the repository root:  python benchmarks/bench_calibration.py [--bootstrap 100] [--json out.json]
The ../shared/data ladders are skipped (with a note) where that folder is absent; set SCALINGLAWS_SHARED_DATA to
read it from elsewhere.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from scalinglaws.decide.calibrate import BUNDLED, LEVELS, Ladder, held_out, learn, scores

SHARED = Path(os.environ.get("SCALINGLAWS_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
TARGETS = {"0.95": (0.90, 0.98), "0.8": (0.72, 0.88)}
FLOOR_95 = 0.75


def shared_ladders() -> list[Ladder]:
    """The ladders of ../shared/data that the package may not bundle (tests and benchmarks only)."""
    if not SHARED.is_dir():
        print(f"note: {SHARED} not found: the shared ladders are skipped", file=sys.stderr)
        return []
    import pandas as pd

    out = []
    mis = SHARED / "misfitting_li2025" / "runs.csv"
    if mis.is_file():
        df = pd.read_csv(mis)
        df = df[df.is_final]
        best = df.loc[df.groupby(["model_name", "total_steps"]).loss.idxmin()]  # the best peak LR of each run
        out.append(Ladder("misfitting_li2025", best[["run_id", "params", "tokens", "flops", "loss"]]
                          .rename(columns={"run_id": "run"}).reset_index(drop=True), by="flops"))
    step = SHARED / "steplaw" / "best_per_config.csv"
    if step.is_file():
        df = pd.read_csv(step)
        df = df[df.arch == "dense"]  # the best (LR, batch) of each dense (N, D) cell
        out.append(Ladder("steplaw", df[["run_name", "params", "tokens", "flops", "loss"]]
                          .rename(columns={"run_name": "run"}).reset_index(drop=True), by="flops"))
    return out


def pooled(per: dict, names: list[str], key: str) -> dict:
    """Mean over datasets (equal weight) of each level's coverage, width and score, and of the weighted score."""
    out = {str(a): {m: float(np.mean([per[n][key][str(a)][m] for n in names]))
                    for m in ("coverage", "median_width", "interval_score")} for a in LEVELS}
    out["weighted_interval_score"] = float(np.mean([per[n][key]["weighted_interval_score"] for n in names]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bootstrap", type=int, default=100)
    ap.add_argument("--json", type=Path, help="write every figure to this file")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    start = time.perf_counter()
    held = []
    for ladder in list(BUNDLED) + shared_ladders():
        h = held_out(ladder, bootstrap=args.bootstrap, seed=0)
        if h is None:
            print(f"note: {ladder.name}: no cut could be fitted", file=sys.stderr)
            continue
        held.append(h)
    groups = list(dict.fromkeys(h.group for h in held))
    print(f"{len(held)} ladders in {len(groups)} datasets, {sum(len(h) for h in held)} held-out rows "
          f"({time.perf_counter() - start:.0f} s of backtests)\n")
    per, learned = {}, {}
    for g in groups:
        train = [h for h in held if h.group != g]
        test = [h for h in held if h.group == g]
        cal = learn(train)
        learned[g] = {"tau0": cal.tau0, "tau_noise": cal.tau_noise, "tau1": cal.tau1, "df": cal.df}
        made, plain = scores(test, cal)["pooled"], scores(test, None)["pooled"]
        per[g] = {"calibrated": made, "plain": plain, "rows": sum(len(h) for h in test),
                  "extrapolation": float(max(h.extrapolation.max() for h in test))}
    head = (f"{'dataset':22s} {'rows':>5s} {'f max':>6s}  {'':10s} {'cov50':>6s} {'cov80':>6s} {'cov95':>6s} "
            f"{'width95':>8s} {'IS50':>7s} {'IS80':>7s} {'IS95':>7s} {'WIS':>7s}")
    print(head)
    print("-" * len(head))

    def line(name, rows, f, label, r):
        cells = " ".join(f"{100 * r[str(a)]['coverage']:5.1f}%" for a in LEVELS)
        iss = " ".join(f"{r[str(a)]['interval_score']:7.4f}" for a in LEVELS)
        print(f"{name:22s} {rows:>5s} {f:>6s}  {label:10s} {cells} {r['0.95']['median_width']:8.4f} {iss} "
              f"{r['weighted_interval_score']:7.4f}")

    for g in groups:
        line(g, str(per[g]["rows"]), f"{per[g]['extrapolation']:.1f}×", "plain", per[g]["plain"])
        line("", "", "", "calibrated", per[g]["calibrated"])
    pool = {k: pooled(per, groups, k) for k in ("plain", "calibrated")}
    print("-" * len(head))
    line("pooled", str(sum(per[g]["rows"] for g in groups)), "", "plain", pool["plain"])
    line("", "", "", "calibrated", pool["calibrated"])
    skill = float(np.mean([per[g]["calibrated"]["weighted_interval_score"] / per[g]["plain"]["weighted_interval_score"]
                           for g in groups]))
    print(f"\nmean over datasets of calibrated / plain weighted interval score: {skill:.3f} (< 1 is better)")
    print("learned on the others (tau0, tau_noise, tau1, df): " + "; ".join(
        f"{g} ({v['tau0']:.4f}, {v['tau_noise']:.3f}, {v['tau1']:.4f}, {v['df']})" for g, v in learned.items()))
    c = pool["calibrated"]
    checks = [(f"pooled 95% coverage {100 * c['0.95']['coverage']:.1f}% in [90%, 98%]",
               TARGETS["0.95"][0] <= c["0.95"]["coverage"] <= TARGETS["0.95"][1]),
              (f"pooled 80% coverage {100 * c['0.8']['coverage']:.1f}% in [72%, 88%]",
               TARGETS["0.8"][0] <= c["0.8"]["coverage"] <= TARGETS["0.8"][1]),
              ("every dataset's 95% coverage >= 75% (lowest: "
               f"{100 * min(per[g]['calibrated']['0.95']['coverage'] for g in groups):.1f}%)",
               all(per[g]["calibrated"]["0.95"]["coverage"] >= FLOOR_95 for g in groups)),
              (f"pooled weighted interval score {c['weighted_interval_score']:.5f} < plain "
               f"{pool['plain']['weighted_interval_score']:.5f}",
               c["weighted_interval_score"] < pool["plain"]["weighted_interval_score"])]
    print()
    for text, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    print(f"\n{time.perf_counter() - start:.0f} s in all")
    if args.json:
        args.json.write_text(json.dumps({"datasets": per, "pooled": pool, "skill": skill, "learned": learned,
                                         "checks": {t: ok for t, ok in checks}}, indent=1))
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
