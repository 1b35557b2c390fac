"""Extrapolation accuracy: fit on the smaller runs, predict the larger held-out ones, against a plain multi-start fit.

Each case fits one law on the runs below a cut (in compute or size) and scores the relative error of the
predicted loss on every run above it. Both fitters minimise the same objective (Huber δ=1e-3 on log residuals):
- ours: `scalinglaws.fit` (Latin-hypercube design with variable projection, Levenberg-Marquardt, BFGS polish);
- reference (written here): the plain approach, scipy L-BFGS-B with finite-difference gradients from many starts,
  the best result winning. For Chinchilla's law that is Epoch AI's 4,500-point grid in the log-sum-exp
  parametrisation (Besiroglu et al. 2024); for other laws, --starts random starts in the law's start ranges,
  within its bounds.

    python benchmarks/bench_extrapolation.py             # the full reference (several minutes)
    python benchmarks/bench_extrapolation.py --quick     # 100 random starts for every reference fit

Reported per case: mean and worst relative error on the held-out runs, mean signed error (bias), the objective
each fitter reached on the training runs, and seconds. Cases read from ../shared/data are skipped where absent.
A plain fit that stops in a worse local optimum can extrapolate better or worse by luck; `--quick` shows that.
"""

from __future__ import annotations

import argparse
import itertools
import time
import warnings
from pathlib import Path

import numpy as np
from bench_fit import huber_objective
from scipy.optimize import minimize

from scalinglaws import fit, load_dataset, read_runs
from scalinglaws.fitting.objectives import Objective
from scalinglaws.fitting.problem import Problem
from scalinglaws.laws import LAWS

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def cases():
    """(name, law, training runs, held-out runs)."""
    chin = load_dataset("chinchilla_epoch").where("epoch_excluded=false")
    yield "chinchilla_epoch, C<=1e21 -> C>1e21", "chinchilla", chin.where("flops<=1e21"), chin.where("flops>1e21")
    porian = load_dataset("porian_isoflop")
    for config in ("tuned_no_decay", "cosine_decay", "correct_warmup"):
        runs = porian.where(f"family={config}", "dataset=refinedweb")
        yield (f"porian {config}, C<=1.6e18 -> C>=6.4e18", "chinchilla", runs.where("flops<=1.6e18"),
               runs.where("flops>=6.4e18"))
    contour = load_dataset("datablations_contour")
    yield ("datablations contour, N<1e9 -> N>=1e9", "data_constrained", contour.where("params<1e9"),
           contour.where("params>=1e9"))
    mis = SHARED / "misfitting_li2025" / "runs.csv"
    if mis.exists():
        final = read_runs(mis, where=["is_final=true"])
        yield ("misfitting finals, N<=4e8 -> N>4e8", "chinchilla", final.where("params<=4e8"),
               final.where("params>4e8"))


def plain_fit(law, train, n_starts: int, seed: int = 0):
    """The reference: L-BFGS-B within the law's bounds from random starts; returns (params, objective)."""
    x = {s: train[c] for s, c in law.inputs.items()}
    problem = Problem(law, x, train["loss"], Objective())
    rng = np.random.default_rng(seed)
    bounds = [(None if not np.isfinite(p.bounds[0]) else p.bounds[0] + 1e-12,
               None if not np.isfinite(p.bounds[1]) else p.bounds[1]) for p in law.params]
    best = None
    for _ in range(n_starts):
        start = [np.exp(rng.uniform(np.log(p.start[0]), np.log(p.start[1]))) if p.log_start
                 else rng.uniform(*p.start) for p in law.params]
        with np.errstate(all="ignore"):
            res = minimize(lambda t: float(problem.value_theta(np.asarray(t)[None])[0]), start, method="L-BFGS-B",
                           bounds=bounds)
        if np.isfinite(res.fun) and (best is None or res.fun < best.fun):
            best = res
    return dict(zip(law.param_names, best.x)), float(best.fun)


def epoch_grid_fit(train):
    """Epoch AI's method for Chinchilla's law: L-BFGS-B from each of 4,500 grid points, in (log A, log B, log E)."""
    log_n, log_d, log_l = np.log(train["params"]), np.log(train["tokens"]), np.log(train["loss"])
    best = None
    for alpha, beta, e, a, b in itertools.product(np.arange(0, 2.5, 0.5), np.arange(0, 2.5, 0.5),
                                                  np.arange(-1, 1.5, 0.5), np.arange(0, 30, 5), np.arange(0, 30, 5)):
        res = minimize(huber_objective, [a, b, e, alpha, beta], args=(log_n, log_d, log_l), method="L-BFGS-B")
        if best is None or res.fun < best.fun:
            best = res
    a, b, e, alpha, beta = best.x
    return {"E": np.exp(e), "A": np.exp(a), "B": np.exp(b), "alpha": alpha, "beta": beta}, float(best.fun)


def score(law, params, held) -> np.ndarray:
    x = {s: held[c] for s, c in law.inputs.items()}
    return law(x, params) / held["loss"] - 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 random starts for every reference fit")
    parser.add_argument("--starts", type=int, default=300, help="random starts of the reference for laws other "
                        "than chinchilla")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"{'case':46s} {'fitter':10s} {'train objective':>16s} {'mean |err|':>10s} {'worst':>8s} "
          f"{'bias':>8s} {'seconds':>8s}")
    totals = {"ours": [], "reference": []}
    for name, law_name, train, held in cases():
        law = LAWS[law_name]
        t0 = time.perf_counter()
        ours = fit(train, law)
        t_ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        if law_name == "chinchilla" and not args.quick:
            ref_params, ref_obj = epoch_grid_fit(train)
        else:
            ref_params, ref_obj = plain_fit(law, train, 100 if args.quick else args.starts)
        t_ref = time.perf_counter() - t0
        for label, params, obj, secs in (("ours", ours.params, ours.objective, t_ours),
                                         ("reference", ref_params, ref_obj, t_ref)):
            err = score(law, params, held)
            totals[label].append(np.mean(np.abs(err)))
            print(f"{name:46s} {label:10s} {obj:16.10g} {100 * np.mean(np.abs(err)):9.2f}% "
                  f"{100 * np.max(np.abs(err)):7.2f}% {100 * np.mean(err):+7.2f}% {secs:8.2f}", flush=True)
        print(f"{'':46s} ({law_name}: {len(train)} training rows, {len(held)} held out)")
    print(f"\nmean over cases of the mean relative error: ours {100 * np.mean(totals['ours']):.3f}%, "
          f"reference {100 * np.mean(totals['reference']):.3f}%")
    pairs = list(zip(totals["ours"], totals["reference"]))
    tie = sum(abs(o - r) < 1e-4 for o, r in pairs)  # within 0.01 percentage points
    better = sum(o < r - 1e-4 for o, r in pairs)
    worse = len(pairs) - tie - better
    print(f"ours more accurate in {better}, equal within 0.01 points in {tie}, less accurate in {worse} of "
          f"{len(pairs)} cases (a reference that stops in a worse training optimum can extrapolate better or worse "
          "by luck; compare the train objectives)")


if __name__ == "__main__":
    main()
