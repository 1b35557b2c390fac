"""Do curve laws fitted to runs that never anneal forecast annealed schedules, and do their intervals hold?

Leave one model size out of the bundled Multi-Power Law curves (25M, 100M, 400M; nine schedules each): the
annealing prior is learned from the other two sizes' curves (decide/priors.py `learn_anneal_prior`), the law is
fitted to the held-out size's two constant-learning-rate runs alone (24k and 72k steps) with a bootstrap, and the
final loss of each of that size's seven schedules that decay is predicted. The same fit without borrowing
(borrow="none") is scored beside it: it predicts a plateau. Reported per size and law: mean |error| of the final
losses, observed coverage of the 80% and 95% prediction intervals, and their median half-width.

Run from the repository root:  python benchmarks/bench_borrow.py [--laws lr_annealing,multipower] [--bootstrap 200]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np

import scalinglaws as sl
from scalinglaws.decide.priors import learn_anneal_prior as learn

DATA = "dataset:multipower_lr_curves"
SIZES = ("25M", "100M", "400M")


def finals(fit, runs, level):
    """(observed, prediction, lower, upper) at the last row of each run, the run's whole schedule predicted."""
    pred = sl.predict(fit, runs, level=level)
    ids = np.asarray(runs.run_ids, dtype=str)
    step = np.asarray(runs["step"], dtype=float)
    last = [np.flatnonzero(ids == r)[np.argmax(step[ids == r])] for r in dict.fromkeys(ids.tolist())]
    obs = np.asarray(runs["loss"], dtype=float)[last]
    if pred.lower is None:
        return obs, np.asarray(pred.prediction)[last], None, None
    return obs, np.asarray(pred.prediction)[last], np.asarray(pred.lower)[last], np.asarray(pred.upper)[last]


def score(fit, targets):
    out = {}
    for level in (0.8, 0.95):
        obs, p, lo, hi = finals(fit, targets, level)
        out["error"] = float(np.mean(np.abs(p / obs - 1)))
        if lo is not None:
            out[f"cov{int(level * 100)}"] = float(np.mean((obs >= lo) & (obs <= hi)))
            out[f"half{int(level * 100)}"] = float(np.median((hi - lo) / 2 / p))
        out["n"] = len(obs)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--laws", default="lr_annealing,multipower")
    ap.add_argument("--bootstrap", type=int, default=200)
    args = ap.parse_args()
    start = time.perf_counter()
    rows = []
    pooled: dict = {}
    for law in args.laws.split(","):
        for held in SIZES:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                prior = learn(DATA, law, by="size", where=[f"size!={held}"])
                train = f"{DATA}?size={held}&schedule=constant"
                targets = sl.read_runs(f"{DATA}?size={held}&schedule!=constant")
                for mode, borrow in (("borrowed", prior), ("none", "none")):
                    f = sl.fit(train, law, bootstrap=args.bootstrap, seed=0, borrow=borrow)
                    s = score(f, targets)
                    rows.append((law, held, mode, s))
                    pooled.setdefault((law, mode), []).append(s)
            print(f"  {law} {held} done ({time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
    print(f"{'law':<13} {'size':<5} {'mode':<9} {'|err|':>7} {'80% cov':>8} {'95% cov':>8} {'95% ±':>7}")
    for law, held, mode, s in rows:
        print(f"{law:<13} {held:<5} {mode:<9} {100 * s['error']:6.2f}% {100 * s.get('cov80', np.nan):7.0f}% "
              f"{100 * s.get('cov95', np.nan):7.0f}% {100 * s.get('half95', np.nan):6.2f}%")
    print("pooled over the three held-out sizes (7 annealed schedules each):")
    for (law, mode), ss in pooled.items():
        m = {k: np.mean([s[k] for s in ss]) for k in ("error", "cov80", "cov95", "half95")}
        print(f"  {law:<13} {mode:<9} |err| {100 * m['error']:.2f}%  80% cov {100 * m['cov80']:.0f}%  "
              f"95% cov {100 * m['cov95']:.0f}%  95% ± {100 * m['half95']:.2f}%")
    print(f"({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
