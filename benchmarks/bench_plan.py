"""Planning: accuracy of IsoFLOP profile fits, the approaches on Porian's sweeps, and the cost of bootstrap intervals.

1. Profile accuracy. Noise-free IsoFLOP sweeps of Hoffmann et al.'s fitted surface (alpha 0.34 != beta 0.28)
   sampled over ±W× around a centre that drifts from the optimum by up to K× across 9 budgets. For each profile
   fit (shape, the parabola of Hoffmann 2022 as reference, Akima interpolation as Porian 2024), the error of the
   exponent a and of N* extrapolated to 1e23 FLOP. Then the same with 0.5% multiplicative noise, 20 seeds.
2. Porian et al. 2024's ten training setups (refinedweb): exponent a from approaches 1, 2 (shape, parabola) and 3.
3. Speed of intervals: the compute-optimal plan of a law without a closed form for the point fit and 1000
   bootstrap draws, batched (solve.py) against a reference loop of scipy.optimize.minimize_scalar per draw; both
   answers are compared.

Run from the repository root:  .venv/bin/python benchmarks/bench_plan.py [--quick]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import scalinglaws as sl
from scalinglaws.plan.approaches import compare_approaches
from scalinglaws.plan.optimal import chinchilla_optimum, optimum
from scalinglaws.plan.surface import Surface

TRUE = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
A_TRUE = TRUE["beta"] / (TRUE["alpha"] + TRUE["beta"])
TARGET = 1e23


def sweep(width, drift, noise=0.0, seed=0, points=15):
    rng = np.random.default_rng(seed)
    budgets = np.geomspace(1e17, 1e21, 9)
    cols = {"run": [], "params": [], "tokens": [], "loss": []}
    for i, c in enumerate(budgets):
        n_opt, _ = chinchilla_optimum(TRUE, c)
        n = n_opt * drift ** (i / 8) * np.geomspace(1 / width, width, points)
        d = c / (6 * n)
        loss = TRUE["E"] + TRUE["A"] * n ** -TRUE["alpha"] + TRUE["B"] * d ** -TRUE["beta"]
        cols["run"] += [f"{i}-{j}" for j in range(points)]
        cols["params"] += list(n)
        cols["tokens"] += list(d)
        cols["loss"] += list(loss * np.exp(noise * rng.standard_normal(points)))
    return {k: np.array(v) for k, v in cols.items()}


def profile_errors(width, drift, noise=0.0, seeds=1):
    n_true, _ = chinchilla_optimum(TRUE, TARGET)
    out = {}
    for profile in ("shape", "parabola", "interp"):
        da, dn = [], []
        for seed in range(seeds):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = compare_approaches(sweep(width, drift, noise, seed), flops=TARGET, profile=profile, window=10.0,
                                       bootstrap=0)
            a = next(x for x in r.approaches if x.name == "isoflop")
            da.append(a.exponent_params - A_TRUE)
            dn.append(np.log(a.params / n_true))
        out[profile] = (float(np.sqrt(np.mean(np.square(da)))), float(np.sqrt(np.mean(np.square(dn)))))
    return out


def part1(quick: bool):
    print("1. IsoFLOP profile fits on Hoffmann's surface: rms error of a, and of log N* at 1e23 FLOP")
    print(f"   true a = {A_TRUE:.4f}")
    head = " | ".join(f"{p:>21}" for p in ("shape", "parabola", "interp"))
    print(f"   {'width':>6} {'drift':>6} {'noise':>6} | " + head)
    cases = [(3, 1, 0, 1), (10, 1, 0, 1), (30, 1, 0, 1), (10, 3, 0, 1), (30, 3, 0, 1)]
    cases += [(10, 1, 0.005, 5 if quick else 20), (10, 3, 0.005, 5 if quick else 20)]
    for width, drift, noise, seeds in cases:
        e = profile_errors(width, drift, noise, seeds)
        row = " | ".join(f"a {e[p][0]:.1e} N* {e[p][1]:.1e}" for p in ("shape", "parabola", "interp"))
        print(f"   {width:>6} {drift:>6} {noise:>6} | {row}")


def part2(bootstrap: int):
    print("\n2. Porian et al. 2024's setups (refinedweb): exponent a of N* ∝ C^a by approach")
    print(f"   {'setup':<30} {'1 envelope':>11} {'2 shape':>9} {'2 parabola':>11} {'3 parametric':>13}  overlap")
    setups = sl.load_dataset("porian_isoflop").where("dataset=refinedweb")["family"]
    for family in dict.fromkeys(setups.tolist()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = compare_approaches("dataset:porian_isoflop", where=[f"family={family}", "dataset=refinedweb"],
                                   bootstrap=bootstrap)
        a = {x.name: x.exponent_params for x in r.approaches}
        print(f"   {family:<30} {a['envelope']:>11.3f} {a['isoflop']:>9.3f} {a['isoflop-parabola']:>11.3f} "
              f"{a['parametric']:>13.3f}  {r.agreement['intervals_overlap']}")


def part3(draws: int):
    from scipy.optimize import minimize_scalar

    print(f"\n3. Compute-optimal plan with intervals: point fit + {draws} draws, law without a closed form")
    law = sl.formula_law("E + A*N**-alpha + B*D**-beta", name="formula")
    rng = np.random.default_rng(0)
    base = np.array([TRUE[n] for n in law.param_names])
    theta = np.vstack([base, base * (1 + 0.02 * rng.standard_normal((draws, len(base))))])
    s = Surface(law=law, theta=theta, roles={"N": "N", "D": "D"}, fixed={}, level=0.95)
    c = 1e23
    t0 = time.perf_counter()
    n_batched, _, _, _ = optimum(s, c)
    t_batched = time.perf_counter() - t0

    def reference():  # one scalar optimisation per draw, the usual loop
        out = np.empty(len(theta))
        for i, th in enumerate(theta):
            p = dict(zip(law.param_names, th))
            f = lambda ln: law.fn({"N": np.exp(ln), "D": c / (6 * np.exp(ln))}, p)  # noqa: E731
            res = minimize_scalar(f, bracket=(np.log(1e8), np.log(1e11)), tol=1e-12)
            out[i] = np.exp(res.x)
        return out

    t0 = time.perf_counter()
    n_ref = reference()
    t_ref = time.perf_counter() - t0
    print(f"   batched {t_batched * 1e3:.1f} ms, scipy loop {t_ref * 1e3:.1f} ms: {t_ref / t_batched:.1f}× faster; "
          f"largest relative difference in N* {np.max(np.abs(n_batched / n_ref - 1)):.1e}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer seeds and resamples")
    args = ap.parse_args()
    part1(args.quick)
    part2(20 if args.quick else 200)
    part3(1000)


if __name__ == "__main__":
    main()
