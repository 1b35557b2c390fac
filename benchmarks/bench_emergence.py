"""Forecasting abilities small models do not show: pass rates of larger Pythia models from many samples per problem.

Data: ../shared/data/repeated_sampling (per-problem samples drawn and correct; tests only, not bundled).

1. Across size (decide/emergence.py): Pythia at 300B tokens, fitted on 14M-1.4B, forecast at 2.8B, 6.9B and 12B,
   pass@1, pass@10 and pass@100, on GSM8K and MATH. Scored against the held-out sizes' unbiased pass@k: mean
   |log(forecast / observed)| and coverage of the 95% prediction intervals. Baseline: extrapolating the measured
   pass rate directly (a power law in size fitted to the training sizes' mean success rate c/n, least squares in
   log-log), which is what a user without the task law would do; and the plain two-step loss link
   (decide/downstream.py: scale -> loss -> mean pass rate), its loss each model's LAMBADA loss at 300B tokens from the
   bundled `pythia_evals` (the repeated-sampling data has no loss per model), link exponential. pass@1000 and
   pass@10000 are scored where the held-out sizes drew that many samples per problem (MATH).
2. Across k (decide/testtime.py): Monkey Business MATH (7 sizes, 10,000 samples per problem): each problem's counts
   thinned to its first 100 samples (a hypergeometric draw), the difficulty fitted to them, and pass@1000 and
   pass@10000 forecast; scored against the unbiased estimator on all 10,000. Baseline: a power law in k fitted to
   -log(coverage) at k = 1..100 and extrapolated.

3. On the ladder itself (--synthetic, needs torch): a ladder of tiny transformers trained here on D-digit addition
   (train/data.py, `addition:D`), each rung's answers to the held-out problems sampled (`ladder sample`,
   train/sample.py), the law fitted to all rungs but the largest and the largest forecast; scored against its
   sampled pass@k, with every rung's greedy accuracy beside it. --workdir keeps the checkpoints, so a second run
   only samples and fits. --greedy-zero is the setting where the fitted rungs answer no held-out problem greedily
   (three-digit addition, 20 tokens per parameter, 1,000 problems sampled 256 times each: about 10 minutes of one
   core): the forecast must then come from rare sampled successes alone, and the run says whether the largest
   rung's observed pass rate falls inside the forecast's interval.

Run from the repository root:  python benchmarks/bench_emergence.py [--bootstrap 100]
                               python benchmarks/bench_emergence.py --synthetic [--workdir DIR] [--digits 2]
                               python benchmarks/bench_emergence.py --synthetic --greedy-zero
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from scalinglaws.decide.emergence import forecast_emergence
from scalinglaws.decide.testtime import forecast_testtime, pass_at_k
from scalinglaws.errors import ScalingLawsError, ScalingLawsWarning
from scalinglaws.runs import read_runs

SHARED = Path(os.environ.get("SCALINGLAWS_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
DATA = SHARED / "repeated_sampling" / "runs.csv"
COLS = dict(problem="problem_idx", samples="samples_drawn", correct="samples_correct")


def direct(runs, train_sizes, target):
    """The measured pass rate extrapolated as a power law in size (sizes with a success only)."""
    x, y = [], []
    for s in train_sizes:
        rows = runs.take(np.asarray(runs["params"], dtype=float) == s)
        rate = float(np.mean(np.asarray(rows["samples_correct"], float) / np.asarray(rows["samples_drawn"], float)))
        if rate > 0:
            x.append(np.log(s))
            y.append(np.log(rate))
    slope, icpt = np.polyfit(x, y, 1)
    return float(np.exp(icpt + slope * np.log(target)))


def loss_link(runs, bootstrap: int) -> str:
    """The plain two-step forecast of the mean pass rate (scale -> LAMBADA loss -> pass rate), scored on the held-out
    sizes: '|log err| (covered/n)', or why it gives none."""
    from scalinglaws.datasets import load_dataset
    from scalinglaws.decide import forecast_downstream

    ev = load_dataset("pythia_evals").where("step=143000", "shots=0", "variant=standard")
    ev_params, ev_loss = np.asarray(ev["params"], float), np.asarray(ev["lambada_openai__loss"], float)
    params = np.asarray(runs["params"], dtype=float)
    rate = np.asarray(runs["samples_correct"], float) / np.asarray(runs["samples_drawn"], float)
    table = {"params": [], "tokens": [], "loss": [], "pass_rate": []}
    for size in sorted(set(params)):
        j = int(np.argmin(np.abs(np.log(ev_params / size))))
        if abs(np.log(ev_params[j] / size)) < 0.3:  # the same Pythia model (14M has no LAMBADA row)
            for k, v in (("params", size), ("tokens", 3e11), ("loss", ev_loss[j]),
                         ("pass_rate", float(np.mean(rate[params == size])))):
                table[k].append(v)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            d = forecast_downstream(table, "pass_rate", via="loss", train=["params<=1.4e9"], test=["params>1.4e9"],
                                    chance=0.0, link="exponential", bootstrap=bootstrap)
    except ScalingLawsError as e:
        return "none: " + str(e).split(":")[0]
    rows = d.to_dict()["tasks"][0]["forecasts"]
    err = np.mean([abs(np.log(f["prediction"] / f["observed"])) for f in rows])
    held = sum(f["lower"] <= f["observed"] <= f["upper"] for f in rows)
    return f"{err:.3f} ({held}/{len(rows)})"


def across_size(bootstrap: int) -> None:
    print("1. across size: fit 14M-1.4B (300B tokens), forecast 2.8B-12B")
    print(f"   {'benchmark':<9} {'k':>5} {'|log err| law':>14} {'95% cov':>8} {'|log err| direct':>17}"
          f"  two-step loss link, |log err| (95% held)")
    for bench in ("gsm8k", "math"):
        where = [f"benchmark={bench}", "tokens=3e11"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = forecast_emergence(str(DATA), where=where, train=["params<=1.4e9"], test=["params>1.4e9"],
                                     k=[1, 10, 100, 1000, 10000], bootstrap=bootstrap, **COLS)
        runs = read_runs(str(DATA), where=where, dedupe=False)
        train_sizes = sorted(set(np.asarray(runs["params"], dtype=float)[np.asarray(runs["params"]) <= 1.4e9]))
        greedy = max(s["greedy_proxy"] for s in res.sizes)
        for k in (1, 10, 100, 1000, 10000):
            rows = [f for f in res.forecast if f["k"] == k and f["observed"] is not None]
            if not rows:
                print(f"   {bench:<9} {k:>5}  (the held-out sizes drew fewer than {k} samples per problem)")
                continue
            err = np.mean([abs(np.log(f["prediction"] / f["observed"])) for f in rows])
            cov = np.mean([f["inside"] for f in rows])
            line = f"   {bench:<9} {k:>5} {err:>14.3f} {100 * cov:>7.0f}%"
            if k == 1:
                d = np.mean([abs(np.log(direct(runs, train_sizes, f["size"]) / f["observed"])) for f in rows])
                line += f" {d:>17.3f}  {loss_link(runs, bootstrap)}"
            print(line)
        print(f"   {bench}: greedy accuracy (share of problems with c/n > 1/2) at every training size <= {greedy:.3f}")


def thinned(n, c, m, rng):
    """Each problem's correct count among m of its n samples drawn without replacement."""
    return np.array([rng.hypergeometric(int(ci), int(ni - ci), m) for ni, ci in zip(n, c)], dtype=float)


def across_k(bootstrap: int) -> None:
    print("2. across k: fit each Monkey Business MATH model on 100 samples per problem, forecast k = 1000, 10000")
    print(f"   {'params':>8} {'k':>6} {'observed':>9} {'forecast':>9} {'95% interval':>18} {'power law in k':>15}")
    runs = read_runs(str(DATA), where=["sampling_source=monkey_business"], dedupe=False)
    rng = np.random.default_rng(0)
    errs, inside, base_errs = [], [], []
    for size in sorted(set(np.asarray(runs["params"], dtype=float))):
        rows = runs.take(np.asarray(runs["params"], dtype=float) == size)
        n = np.asarray(rows["samples_drawn"], dtype=float)
        c = np.asarray(rows["samples_correct"], dtype=float)
        c100 = thinned(n, c, 100, rng)
        if c100.sum() == 0:
            continue
        table = {"problem": np.arange(len(n)), "samples": np.full(len(n), 100.0), "correct": c100}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = forecast_testtime(table, k=[1000, 10000], bootstrap=bootstrap)
        ks = np.arange(1, 101)
        cov = np.nanmean(pass_at_k(np.full(len(n), 100.0), c100, ks), axis=0)
        ok = (cov > 0) & (cov < 1)
        slope, icpt = np.polyfit(np.log(ks[ok]), np.log(-np.log(1 - cov[ok])), 1)
        for row in f.forecast:
            k = row["k"]
            obs = float(np.nanmean(pass_at_k(n, c, [k])[:, 0]))
            base = float(1 - np.exp(-np.exp(icpt + slope * np.log(k))))
            errs.append(abs(row["coverage"] - obs))
            base_errs.append(abs(base - obs))
            inside.append(row["coverage_lower"] <= obs <= row["coverage_upper"])
            print(f"   {size:>8.2g} {k:>6} {obs:>9.3f} {row['coverage']:>9.3f} "
                  f"[{row['coverage_lower']:.3f}, {row['coverage_upper']:.3f}] {base:>15.3f}")
    print(f"   mean |error| {np.mean(errs):.3f} (power law in k: {np.mean(base_errs):.3f}); 95% intervals hold "
          f"{100 * np.mean(inside):.0f}% of {len(inside)}")


SYNTH_WIDTHS = (16, 24, 32, 40, 48)  # two layers each, heads of width 8; the largest is held out
SYNTH_DEFAULTS = dict(digits=2, tokens_per_param=20.0, samples=256, k="1,10")
# Three digits: a 1-in-1,000-odd guess, so the fitted rungs' greedy answers are all wrong while sampling at
# temperature 1 still finds a correct sum about once in 10^4 draws, which 256 draws of 1,000 problems can measure.
GREEDY_ZERO = dict(digits=3, tokens_per_param=20.0, samples=256, k="1,10,100")


def synthetic(args) -> None:
    import tempfile

    import torch

    from scalinglaws.train import run_ladder, sample_ladder, write_plan
    from scalinglaws.train.ladder import LadderPlan, make_rung

    torch.set_num_threads(args.threads)
    folder = Path(args.workdir or tempfile.mkdtemp(prefix="bench_emergence_"))
    folder.mkdir(parents=True, exist_ok=True)
    widths = [int(w) for w in args.widths.split(",")]
    shape = dict(depth=args.depth, head_dim=8)
    sizes = [make_rung(f"w{w}", w, tokens=100_000, **shape).params for w in widths]
    rungs = tuple(make_rung(f"w{w}", w, tokens=int(args.tokens_per_param * n), evals=4, **shape)
                  for w, n in zip(widths, sizes))
    plan = LadderPlan(name="addition", rungs=rungs, corpus=f"addition:{args.digits}",
                      corpus_bytes=args.corpus_bytes, eval_batches=4, eval_batch=16)
    path = write_plan(plan, folder / "addition.toml")
    print(f"3. on the ladder itself: {len(rungs)} rungs ({', '.join(f'{n:,}' for n in sizes)} parameters, "
          f"{args.tokens_per_param:g} tokens per parameter) on addition:{args.digits}, in {folder}")
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trained = run_ladder(path, folder / "runs.duckdb", threads=args.threads, hold_back=False)
    print(f"   trained in {time.perf_counter() - start:.0f} s")
    start = time.perf_counter()
    sampled = sample_ladder(path, samples=args.samples, problems=args.problems, seed=0, threads=args.threads)
    print(f"   sampled {args.samples} answers (temperature {sampled.temperature:g}) and one greedy answer to each of "
          f"{sampled.rungs[0]['problems']} held-out problems per rung in {time.perf_counter() - start:.0f} s")
    largest = max(r["params"] for r in sampled.rungs)
    table = {c: list(sampled.table[c]) for c in ("params", "problem", "samples", "correct")}
    ks = [int(v) for v in args.k.split(",")]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = forecast_emergence(table, test=[f"params>={largest:g}"], k=ks, bootstrap=args.bootstrap)
        except ScalingLawsError as exc:
            res = None
            print(f"   no forecast: {exc}")
    fitted = {} if res is None else {s["params"]: s["pass_at_k"]["1"] for s in res.sizes}
    losses = {r["name"]: r["loss"] for r in trained.rungs}
    tokens = {r.name: r.tokens for r in plan.rungs}
    print("   pass@1: the share of all sampled answers that are right; law's: pass@1 of the rung's fitted difficulty")
    print(f"   {'rung':<5} {'params':>8} {'tokens':>10} {'loss':>6} {'greedy acc':>10} {'pass@1':>9} {'law':>9} "
          f"{'solved':>7}  role")
    for r in sampled.rungs:
        law = f"{fitted[r['params']]:>9.2e}" if r["params"] in fitted else f"{'-':>9}"
        print(f"   {r['name']:<5} {r['params']:>8,.0f} {tokens[r['name']]:>10,} {losses[r['name']]:>6.3f} "
              f"{r['greedy_accuracy']:>10.3f} {r['pass_at_1']:>9.2e} {law} {100 * r['solved']:>6.0f}%  "
              f"{'held out' if r['params'] >= largest else 'fitted'}")
    if res is None:
        return
    for w in caught:
        if issubclass(w.category, ScalingLawsWarning):
            print(f"   warning: {w.message}")
    law = res.laws[0]
    print(f"   law over {len(res.sizes)} rungs: log(-log pass@1) = {law['log_c']:.3f} - {law['alpha']:.3f} log N")
    for f in res.forecast:
        print(f"   pass@{f['k']} at {f['size']:,.0f}: forecast {f['prediction']:.3g} 95% "
              f"[{f['lower']:.3g}, {f['upper']:.3g}], observed {f['observed']:.3g}: "
              f"{'inside' if f['inside'] else 'outside'}")
    greedy = [r["greedy_accuracy"] for r in sampled.rungs if r["params"] < largest]
    held = next(r for r in sampled.rungs if r["params"] >= largest)
    one = next(f for f in res.forecast if f["k"] == min(ks))
    zero = not any(greedy)
    met = zero and held["pass_at_1"] > 0 and bool(one["inside"])
    print(f"   greedy accuracy of the fitted rungs: {', '.join(f'{g:.3f}' for g in greedy)} "
          f"({'all 0' if zero else 'not all 0'}); held-out pass@1 {held['pass_at_1']:.3g}, "
          f"{'inside' if one['inside'] else 'outside'} its forecast's interval: "
          f"{'forecast from greedy-zero rungs holds' if met else 'not a greedy-zero forecast that holds'}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bootstrap", type=int, default=100)
    ap.add_argument("--synthetic", action="store_true", help="train a ladder on addition and forecast its largest")
    ap.add_argument("--greedy-zero", action="store_true",
                    help="--synthetic on three-digit addition, where the fitted rungs' greedy accuracy is 0 "
                         f"(defaults {', '.join(f'{k}={v}' for k, v in GREEDY_ZERO.items())})")
    ap.add_argument("--workdir", help="--synthetic: folder for the plan, store and checkpoints (kept)")
    ap.add_argument("--digits", type=int)
    ap.add_argument("--widths", default=",".join(map(str, SYNTH_WIDTHS)))
    ap.add_argument("--depth", type=int, default=2)
    ap.add_argument("--tokens-per-param", type=float)
    ap.add_argument("--corpus-bytes", type=int, default=4_000_000)
    ap.add_argument("--samples", type=int)
    ap.add_argument("--problems", type=int, default=None)
    ap.add_argument("--k", help="--synthetic: pass@k to forecast, e.g. 1,10")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    for key, value in (GREEDY_ZERO if args.greedy_zero else SYNTH_DEFAULTS).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.synthetic = args.synthetic or args.greedy_zero
    if args.synthetic:
        start = time.perf_counter()
        synthetic(args)
        print(f"({time.perf_counter() - start:.0f} s)")
        return 0
    if not DATA.exists():
        print(f"{DATA} is not here: nothing to measure (set SCALINGLAWS_SHARED_DATA)")
        return 0
    start = time.perf_counter()
    across_size(args.bootstrap)
    across_k(args.bootstrap)
    print(f"({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
