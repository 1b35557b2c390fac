"""Laws of experts, parallel streams and precision: extrapolation on real MoE runs, and planning answers next to
the papers'.

1. Step Law's MoE runs (Li et al. 2025; ../shared/data/steplaw, not bundled: skipped where absent): four shapes
   of one 2.15B total size (8 to 89 experts, 188M to 1.24B active), trained on 2B to 20B tokens; the best run per
   cell over the learning-rate and batch grid. Fitted on the runs of at most 8B tokens, predicting the 20B ones:
   Krajewski et al. 2024's law of total parameters, tokens and granularity (FFN width / expert width) against
   Chinchilla's law of active parameters and tokens, and against Chinchilla's of total parameters (all the same
   here, so it can only tell tokens apart). Mean |relative error| on the held-out runs.
2. Planning answers, each from a fit to a synthetic ladder drawn from the paper's form (Krajewski's Table 1; for
   streams, E, A, alpha and k of eq. 5 fitted to the authors' Stack-V2-Python runs, k = 0.393, with an illustrative
   Chinchilla data term; one illustrative gamma = 2.5 for precision):
   the compute-optimal granularity by budget (Krajewski: it grows with compute, and G = 1 is never optimal); the
   number of parallel streams at a budget with and without a limit on the parameters held (Chen et al.: P streams
   ≈ N·(k·ln P + 1) parameters, for P-fold FLOP); the compute-optimal training precision by budget (Kumar et al.:
   the same at every budget; beside it the closed form, P* = 1.9038·γ for one γ).

Run from the repository root:  PYTHONPATH=src python benchmarks/bench_axislaws.py
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import scalinglaws as sl
from scalinglaws.laws import LAWS
from scalinglaws.laws.precision import compute_optimal_precision
from scalinglaws.plan.axes import optimise_axis
from scalinglaws.plan.axis_costs import granular_active_params

SHARED = Path(os.environ.get("SCALINGLAWS_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
STEPLAW = SHARED / "steplaw" / "runs.csv"
KRAJEWSKI = {"c": 0.47, "a": 18.1, "g": 2.1, "b": 30.8, "alpha": 0.115, "beta": 0.147, "gamma": 0.58}
CUT = 8e9


def quiet(fn, *a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*a, **kw)


def steplaw() -> None:
    if not STEPLAW.exists():
        print("Step Law MoE runs: not on this machine, skipped")
        return
    runs = pd.read_csv(STEPLAW)
    moe = runs[(runs.arch == "moe") & (runs.loss < 5)].copy()
    moe["granularity"] = moe.ffn_hidden_size / moe.moe_expert_hidden
    best = moe.loc[moe.groupby(["params_active", "tokens"]).loss.idxmin()].reset_index(drop=True)
    train, test = best[best.tokens <= CUT], best[best.tokens > CUT]
    print(f"Step Law MoE: {len(train)} runs ≤ {CUT:.0e} tokens fitted, {len(test)} at 20B predicted")
    print(f"  {'law':<34} {'inputs':<34} {'held-out |rel err|':>18}")
    for name, law, inputs in (
        ("moe_granular (Krajewski 2024)", "moe_granular", None),
        ("chinchilla on active params", "chinchilla", {"N": "params_active", "D": "tokens"}),
        ("chinchilla on total params", "chinchilla", {"N": "params", "D": "tokens"}),
    ):
        f = quiet(sl.fit, train, law=law, inputs=inputs, seed=0)
        pred = quiet(sl.predict, f, test).prediction
        err = float(np.mean(np.abs(np.asarray(pred) / test.loss.to_numpy() - 1)))
        cols = ", ".join(f.inputs.values())
        print(f"  {name:<34} {cols:<34} {err:>18.4f}")


def ladder(law: str, truth: dict, extra: dict, seed: int = 0, noise: float = 0.0005) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    axes = [np.geomspace(3e7, 1e9, 5), np.geomspace(5e8, 5e10, 4)] + [np.asarray(v, float) for v in extra.values()]
    mesh = [m.ravel() for m in np.meshgrid(*axes, indexing="ij")]
    cols = {"params": mesh[0], "params_active": mesh[0], "tokens": mesh[1], **dict(zip(extra, mesh[2:]))}
    spec = LAWS[law]
    y = spec({s: cols[c] for s, c in spec.inputs.items()}, truth)
    return pd.DataFrame({**{c: cols[c] for c in spec.inputs.values()},
                         "loss": y * np.exp(noise * rng.standard_normal(y.shape))})


def planning() -> None:
    f = quiet(sl.fit, ladder("moe_granular", KRAJEWSKI, {"granularity": (1, 2, 4, 8, 16, 32)}), law="moe_granular")
    grid = [1, 2, 4, 8, 16, 32, 64, 128, 256]
    print("\nCompute-optimal granularity (Krajewski et al. 2024: grows with compute; G = 1 never optimal)")
    for c in (1e19, 1e21, 1e23, 1e25):
        a = quiet(optimise_axis, f, c, "granularity", values=grid)
        active = float(granular_active_params(a.params))
        print(f"  C = {c:.0e}: G* = {a.value:g}, N = {a.params:.3g} (active {active:.3g}), D = {a.tokens:.3g}, "
              f"loss {a.loss:.4f}")

    # E, A, alpha, k: eq. 5 fitted to Chen et al.'s released Stack-V2-Python runs (tests/test_laws_axes.py); the paper
    # has no data term (every run 42B tokens), so B and beta are Chinchilla-like and illustrative
    truth = {"E": 0.691, "A": 1.131e7, "alpha": 0.1894, "k": 0.3935, "B": 2100.0, "beta": 0.37}
    f = quiet(sl.fit, ladder("parscale_nd", truth, {"streams": (1, 2, 4, 8)}), law="parscale_nd")
    print(f"\nParallel streams (Chen et al. 2025: P streams ≈ N·(k·ln P + 1); fitted k = {f.params['k']:.3f}, "
          f"so P = 8 ≈ {1 + f.params['k'] * np.log(8):.2f}× the parameters for 8× the FLOP)")
    for limit in (None, 1e9, 2e8):
        a = quiet(optimise_axis, f, 1e22, "streams", values=[1, 2, 4, 8], max_params=limit)
        held = "no limit" if limit is None else f"held ≤ {limit:.0e}"
        print(f"  C = 1e22, {held:<14}: P* = {a.value:g}, N = {a.params:.3g}, D = {a.tokens:.3g}, loss {a.loss:.4f}")

    truth = {"E": 1.8, "A": 480.0, "B": 2100.0, "alpha": 0.35, "beta": 0.37, "gamma": 2.5}
    f = quiet(sl.fit, ladder("precision_bits", truth, {"precision_bits": (3, 4, 6, 8, 16)}), law="precision_bits")
    print("\nCompute-optimal training precision, C = 6·N·D·P/16 (Kumar et al. 2024: the same at every budget)")
    for c in (1e19, 1e21, 1e23):
        a = quiet(optimise_axis, f, c, "precision_bits", bounds=(2, 16))
        print(f"  C = {c:.0e}: P* = {a.value:.2f} bits (closed form at the fitted γ: "
              f"{compute_optimal_precision(f.params['gamma']):.2f}), N = {a.params:.3g}, D = {a.tokens:.3g}")


def main() -> int:
    start = time.perf_counter()
    steplaw()
    planning()
    print(f"\n{time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
