"""Does the rung `scalinglaws next` picks narrow the forecast as much as it says, and more than the others?

A synthetic ladder from a known Chinchilla law (E 1.69, A 406.4, B 410.7, alpha 0.34, beta 0.28), 1% log-normal
scatter: 4 sizes 20M-160M at 3 token ratios. Target: 7B at 1.4T tokens. For each candidate rung (sizes 40M-2.5B
at 20 tokens per parameter) the predicted width of the target's 95% prediction interval after adding it
(decide/nextrun.py, no refit) is compared with the width measured by refitting with that rung added (its loss drawn
from the true law with the same scatter; bootstrap 200; averaged over REPEATS draws). Reported: per candidate the
predicted and the measured width, their rank correlation, and whether the rung chosen per FLOP is the best per FLOP
as measured.

Run from the repository root:  python benchmarks/bench_next.py
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

import scalinglaws as sl
from scalinglaws.decide.nextrun import next_runs
from scalinglaws.fitting import space as spaces
from scalinglaws.fitting.data import as_runs, evaluate

TRUE = dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
SIGMA = 0.01
TARGET = {"params": 7e9, "tokens": 1.4e12}
REPEATS = 3


def law(n, d):
    return TRUE["E"] + TRUE["A"] * n ** -TRUE["alpha"] + TRUE["B"] * d ** -TRUE["beta"]


def ladder(rng):
    rows = [{"params": n, "tokens": n * r} for n in (2e7, 4e7, 8e7, 1.6e8) for r in (10, 20, 40)]
    df = pd.DataFrame(rows)
    df["loss"] = law(df.params, df.tokens) * np.exp(rng.normal(0, SIGMA, len(df)))
    return df


def width(fit) -> float:
    """Measured: full width of the target's 95% prediction interval from the bootstrap draws and the scatter,
    relative to the forecast, as nextrun.py defines it."""
    at = as_runs({k: np.array([v]) for k, v in TARGET.items()})
    z = spaces.forward(evaluate(fit, at, fit.bootstrap.array())[:, 0], "log")
    z = z[np.isfinite(z)]
    resid = np.asarray(fit.residuals)
    half = 1.959964 * np.sqrt(np.var(z, ddof=1) + np.mean(resid ** 2))
    return float(2 * np.sinh(half))  # (e^(z+h) - e^(z-h)) / e^z


def main() -> int:
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    base = ladder(rng)
    t0 = time.perf_counter()
    fit = sl.fit(base, law="chinchilla", bootstrap=200, seed=0)
    cands = [{"params": float(n), "tokens": float(20 * n)} for n in np.geomspace(4e7, 2.5e9, 7)]
    plan = next_runs(fit, TARGET, candidates=cands, budget=1e30, max_runs=1)
    print(f"now: width {plan.width:.2%} (predicted floor {plan.floor:.2%}); measured {width(fit):.2%}")
    print(f"{'params':>9} {'flops':>9} {'predicted':>10} {'measured':>9} {'pred/FLOP':>10} {'meas/FLOP':>10}")
    pred, meas, cost = [], [], []
    for c in plan.candidates:
        ws = []
        for r in range(REPEATS):
            row = pd.DataFrame([{"params": c["params"], "tokens": c["tokens"]}])
            row["loss"] = law(row.params, row.tokens) * np.exp(rng.normal(0, SIGMA, 1))
            ws.append(width(sl.fit(pd.concat([base, row], ignore_index=True), law="chinchilla", bootstrap=200,
                                   seed=r + 1)))
        pred.append(c["width_after"])
        meas.append(float(np.mean(ws)))
        cost.append(c["flops"])
        print(f"{c['params']:9.3g} {c['flops']:9.3g} {pred[-1]:10.2%} {meas[-1]:9.2%} "
              f"{(plan.width - pred[-1]) / c['flops']:10.3g} {(width(fit) - meas[-1]) / c['flops']:10.3g}")
    rho = spearmanr(pred, meas).statistic
    per_flop_pred = (plan.width - np.array(pred)) / np.array(cost)
    per_flop_meas = (width(fit) - np.array(meas)) / np.array(cost)
    pick = int(np.argmax(per_flop_pred))
    rank = int(np.argsort(-per_flop_meas).tolist().index(pick)) + 1
    print(f"rank correlation of predicted and measured width after: {rho:.2f}")
    print(f"chosen per FLOP: {plan.chosen[0]['params']:.3g} params; its measured rank per FLOP: {rank} of "
          f"{len(cost)}")
    print(f"time: {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
