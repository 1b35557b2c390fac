"""Downstream forecasts scored on held-out larger models.

Pythia (bundled pythia_evals, zero-shot): fit on the models up to 1.4B, forecast the final checkpoints of 6.9B and
12B (standard and deduplicated: four models). Two steps: LAMBADA loss from model size (a power law fitted to the
small models' final checkpoints), then accuracy from LAMBADA loss (fitted to all their checkpoints from step 1000).
Each link (sigmoid with chance floor, Bhagia 2024; exponential, Gadre 2024) and the per-task choice by backtest
(`auto`) are scored; "link only" applies the fitted link to the observed LAMBADA loss of the large models, which
separates step 2's error from step 1's.

obsscaling (bundled, Ruan et al. 2024): public models of 40+ families. One step (a sigmoid or exponential in log
compute; no loss is published for these models): fit on models below 1e23 FLOP, forecast those at or above it.

Run from the repository root:  .venv/bin/python benchmarks/bench_downstream.py
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np

from scalinglaws.decide import forecast_downstream

PYTHIA_TASKS = ["piqa__acc", "arc_easy__acc", "sciq__acc", "winogrande__acc", "lambada_openai__acc",
                "mmlu_avg__acc", "arc_challenge__acc", "wsc__acc", "logiqa__acc"]
OBS_TASKS = ["mmlu", "arc_c", "hellaswag", "winograd", "xwinograd", "gsm8k", "humaneval", "truthfulqa"]
OBS_CHANCE = {"truthfulqa": 0.0}  # MC2 scores have no single chance level; 0 is the floor


def coverage(task) -> float:
    rows = [r for r in task.rows if r["observed"] is not None]
    return float(np.mean([r["lower"] <= r["observed"] <= r["upper"] for r in rows]))


def run(name, tasks, **kw):
    out = {}
    for link in ("sigmoid", "exponential", "auto"):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = forecast_downstream(name, tasks, link=link, bootstrap=200, **kw)
        out[link] = (res, time.perf_counter() - t0)
    return out


def table(results, title):
    print(f"\n{title}")
    first = results["auto"][0]
    if first.via:
        print(f"step 1 ({first.law} on {first.via}): mean |relative error| at the targets "
              f"{100 * first.loss_error:.2f}%")
    print(f"{'task':22s}{'status':>14s}{'sigmoid':>10s}{'exponential':>13s}{'auto (link)':>20s}{'link only':>11s}"
          f"{'95% cover':>11s}")
    for i, t in enumerate(first.tasks):
        if not t.rows:
            print(f"{t.task:22s}{t.status:>14s}")
            continue
        sig = results["sigmoid"][0].tasks[i]
        exp = results["exponential"][0].tasks[i]
        only = "–" if t.link_only_error is None else f"{t.link_only_error:.3f}"
        print(f"{t.task:22s}{t.status:>14s}{sig.mean_abs_error:10.3f}{exp.mean_abs_error:13.3f}"
              f"{t.mean_abs_error:10.3f} ({t.link[:3]}){only:>11s}{100 * coverage(t):10.0f}%")
    done = [t for t in first.tasks if t.rows]
    for link in ("sigmoid", "exponential", "auto"):
        res = results[link][0]
        errs = [t.mean_abs_error for t in res.tasks if t.rows]
        print(f"  {link:12s} mean |error| over the {len(errs)} forecast tasks: {np.mean(errs):.3f} accuracy points "
              f"({results[link][1]:.1f}s)")
    print(f"  flagged, not forecast: {', '.join(f'{t.task} ({t.status})' for t in first.tasks if not t.rows)}")
    return done


def main() -> int:
    pythia = run("dataset:pythia_evals", PYTHIA_TASKS, via="lambada_openai__loss", where=["shots=0"],
                 train=["params<2e9", "step>=1000"], loss_where=["step=143000"],
                 test=["params>5e9", "step=143000"])
    table(pythia, "Pythia: fit on 70M-1.4B, forecast 6.9B and 12B (final checkpoints); |error| in accuracy points")
    obs = run("dataset:obsscaling", OBS_TASKS, where=["flops>0"], train=["flops<1e23"], test=["flops>=1e23"],
              chance=OBS_CHANCE)
    n_test = len([r for r in obs["auto"][0].tasks[0].rows])
    table(obs, f"obsscaling: one step in log compute, fit below 1e23 FLOP, forecast {n_test} models at or above it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
