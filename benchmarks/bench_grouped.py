"""Do families that share a law's exponents forecast their larger budgets better fitted together than apart?

Porian et al. 2024's IsoFLOP sweeps (bundled `porian_isoflop`, RefinedWeb validation loss): four setups (families)
of the same model ladder. Each is fitted on its budgets up to a cut and its larger budgets are predicted, by
Chinchilla's law fitted to each family alone, and by one grouped fit of all four (laws/grouped.py) that shares
alpha and beta and keeps E, A and B per family. Reported per family and cut: mean |relative error| on the held-out
budgets, and the width of alpha's interval (bootstrap 100) alone and shared.

Run from the repository root:  python benchmarks/bench_grouped.py
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np

import scalinglaws as sl

DATA = "dataset:porian_isoflop?loss_split=val&dataset=refinedweb"
CUTS = (8e17, 3.2e18)


def err(fit, rows):
    p = sl.predict(fit, rows).prediction
    return float(np.mean(np.abs(p / np.asarray(rows["loss"], dtype=float) - 1)))


def main() -> int:
    start = time.perf_counter()
    runs = sl.read_runs(DATA)
    families = list(dict.fromkeys(np.asarray(runs["family"]).astype(str).tolist()))
    print(f"{'cut':>8} {'family':<24} {'alone':>7} {'shared':>7} {'alpha ± alone':>14} {'alpha ± shared':>15}")
    pooled = {"alone": [], "shared": []}
    for cut in CUTS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            joint = sl.fit_grouped(DATA, "chinchilla", by="family", shared=["alpha", "beta"],
                                   where=[f"flops<={cut:g}"], bootstrap=100, seed=0)
        ci = joint.intervals()
        for fam in families:
            test = runs.where(f"family={fam}", f"flops>{cut:g}")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                alone = sl.fit(DATA, "chinchilla", where=[f"family={fam}", f"flops<={cut:g}"], bootstrap=100, seed=0)
            a, s = err(alone, test), err(joint, test)
            pooled["alone"].append(a)
            pooled["shared"].append(s)
            wa = np.diff(alone.intervals()["alpha"])[0] / 2
            ws = np.diff(ci["alpha"])[0] / 2
            print(f"{cut:>8.2g} {fam:<24} {100 * a:6.2f}% {100 * s:6.2f}% {wa:>14.3f} {ws:>15.3f}")
    print(f"mean over families and cuts: alone {100 * np.mean(pooled['alone']):.2f}%, "
          f"shared exponents {100 * np.mean(pooled['shared']):.2f}%  ({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
