"""`fit --law auto` against every fixed law, on held-out larger runs of the shared datasets.

For each case the largest runs are held out; every fixed law and `fit_auto` (law selection by rollout backtest on
the remaining runs only) are fitted to the rest, and each predicts the held-out runs. The score is the mean
|prediction - observed| / observed over held-out rows (for training curves: over each held-out run's final point).
Cases of one dataset are averaged first, then datasets are averaged with equal weight.

data_constrained needs unique_tokens; on tables without it (no data was repeated) it is fitted with unique_tokens =
1e30. No token then repeats (the R_D term is inert), but the law still discounts parameters beyond what the
data can use (N > D/20, the R_N term of Muennighoff et al. 2023 eq. 6), so it is Chinchilla's law with an
excess-parameter correction, not Chinchilla's law itself. Auto's candidates do not get this column: it considers
data_constrained only where the table has unique_tokens.

Published priors estimated from the very data under test are left out of auto's candidates there (the Chinchilla
exponents were fitted to chinchilla_epoch's runs, Muennighoff's decay constants to the datablations runs):
using them would leak the answer.

Run from the repository root:  .venv/bin/python benchmarks/bench_auto.py [--quick] [--json out.json]
misfitting_li2025 is read from ../shared/data (not bundled; SCALINGLAWS_SHARED_DATA to point elsewhere) and skipped
when that folder is absent.
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

import scalinglaws as sl
from scalinglaws.decide import fit_auto
from scalinglaws.decide.priors import published
from scalinglaws.laws import LAWS

SHARED = Path(os.environ.get("SCALINGLAWS_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
NO_REPEATS = 1e30  # unique_tokens for data_constrained on tables that never repeat data
# Laws of loss against scale; the training-curve laws (schedule, multipower, ...) model one run's curve under its
# learning-rate schedule and do not forecast larger runs.
LAW_NAMES = [name for name, law in LAWS.items() if law.features is None]


def _top_scales(runs, col: str, k: int) -> np.ndarray:
    """Row mask of runs whose scale (largest value of `col`) is among the k largest distinct scales."""
    ids = np.asarray(runs.run_ids, dtype=str)
    _, idx = np.unique(ids, return_inverse=True)
    scale = np.full(idx.max() + 1, -np.inf)
    np.maximum.at(scale, idx, runs[col])
    top = np.unique(scale)[-k:]
    return np.isin(scale[idx], top)


def _top_share(runs, col: str, share: float) -> np.ndarray:
    cut = np.quantile(runs[col], 1 - share)
    return runs[col] > cut


def _finals(runs):
    """Each run's last row (largest tokens): what a forecast of a training curve is judged on."""
    ids = np.asarray(runs.run_ids, dtype=str)
    keep = np.zeros(len(runs), dtype=bool)
    for rid in np.unique(ids):
        rows = np.flatnonzero(ids == rid)
        keep[rows[np.argmax(runs["tokens"][rows])]] = True
    return runs.take(keep)


def cases(quick: bool):
    """(dataset, case, train runs, test runs, scale column, priors excluded because fitted on this data)."""
    out = []
    r = sl.load_dataset("chinchilla_epoch")
    test = _top_share(r, "flops", 0.2)
    out.append(("chinchilla_epoch", "top 20% flops", r.take(~test), r.take(test), "flops", "chinchilla_epoch"))

    r = sl.load_dataset("porian_isoflop")
    configs = sorted(set(zip(r["family"].tolist(), r["dataset"].tolist())))
    if quick:
        configs = configs[::4]
    for fam, ds in configs:
        sub = r.where(f"family={fam}", f"dataset={ds}")
        test = _top_scales(sub, "flops", 2)
        out.append(("porian_isoflop", f"{fam}/{ds}", sub.take(~test), sub.take(test), "flops", "porian_isoflop"))

    r = sl.load_dataset("datablations_contour")
    test = _top_share(r, "flops", 0.2)
    out.append(("datablations_contour", "top 20% flops", r.take(~test), r.take(test), "flops",
                "datablations_contour"))

    for name in ("gpt3_curves", "opt_trajectories"):
        r = sl.load_dataset(name)
        if name == "gpt3_curves":
            r = r.where("split=validation")
        test = _top_scales(r, "params", 2)
        out.append((name, "top 2 sizes, final points", r.take(~test), _finals(r.take(test)), "params", name))

    path = SHARED / "misfitting_li2025" / "runs.csv"
    if path.exists():
        import pandas as pd

        df = pd.read_csv(path)
        df = df[df.is_final]
        best = df.loc[df.groupby(["model_name", "total_steps"]).loss.idxmin()]  # best peak LR per (size, length)
        runs = sl.read_runs(pd.DataFrame({"run": best.run_id, "params": best.params, "tokens": best.tokens,
                                          "loss": best.loss}))
        test = _top_scales(runs, "params", 2)
        out.append(("misfitting_li2025", "best LR per run length; top 2 sizes", runs.take(~test), runs.take(test),
                    "params", "misfitting_li2025"))
    else:
        print(f"misfitting_li2025: skipped ({path} not found)", file=sys.stderr)
    return out


def rel_error(fit, test) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = fit.predict(test).prediction
    obs = test["loss"]
    return float(np.mean(np.where(np.isfinite(p) & (p > 0), np.abs(p - obs) / obs, np.inf)))


def applicable(law, runs) -> bool:
    return all(c in runs and np.all(np.isfinite(runs[c])) for c in law.inputs.values())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="every fourth porian config only")
    ap.add_argument("--json", help="write the per-case scores here")
    args = ap.parse_args()
    rows = []
    for dataset, case, train, test, by, data_name in cases(args.quick):
        row = {"dataset": dataset, "case": case, "train_runs": train.n_runs, "test_runs": test.n_runs}
        for name in LAW_NAMES:
            law = LAWS[name]
            fit_rows, test_rows = train, test
            if name == "data_constrained" and "unique_tokens" not in train:
                # data that never repeat have unbounded unique data: with U = 1e30 the R_D term is inert, while
                # R_N still discounts parameters beyond D/20 (Muennighoff et al. 2023 eqs. 5-7)
                fit_rows = train.with_columns(unique_tokens=np.full(len(train), NO_REPEATS))
                test_rows = test.with_columns(unique_tokens=np.full(len(test), NO_REPEATS))
            if not applicable(law, fit_rows):
                row[name] = None
                continue
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    row[name] = rel_error(sl.fit(fit_rows, name), test_rows)
                except sl.ScalingLawsError:
                    row[name] = None
            row[f"{name}_s"] = time.perf_counter() - t0
        priors = [p for p in published() if data_name not in p.fitted_on]
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            auto = fit_auto(train, by=by, priors=priors)
        row["auto_s"] = time.perf_counter() - t0
        row["auto"] = rel_error(auto, test)
        row["winner"] = auto.extra["selection"]["winner"]
        rows.append(row)
        print(f"{dataset:22s} {case[:38]:38s} auto {100 * row['auto']:6.2f}%  ({row['winner']}, "
              f"{row['auto_s']:.1f}s)  best fixed: "
              + min(((n, row[n]) for n in LAW_NAMES if row.get(n) is not None), key=lambda t: t[1])[0],
              flush=True)
    report(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


def report(rows) -> None:
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    cols = LAW_NAMES + ["auto"]

    def dmean(ds, col):
        vals = [r[col] for r in rows if r["dataset"] == ds]
        return None if any(v is None for v in vals) else float(np.mean(vals))

    print("\nmean |relative error| on held-out larger runs, % (cases of a dataset averaged first)")
    print(f"{'dataset':22s}" + "".join(f"{c:>11s}" for c in cols))
    table = {ds: {c: dmean(ds, c) for c in cols} for ds in datasets}
    for ds in datasets:
        print(f"{ds:22s}" + "".join(f"{'n/a':>11s}" if table[ds][c] is None else f"{100 * table[ds][c]:11.2f}"
                                   for c in cols))
    print(f"\n{'law':18s}{'datasets':>9s}{'law mean %':>12s}{'auto mean %':>13s}  auto better?")
    for c in LAW_NAMES:
        dss = [ds for ds in datasets if table[ds][c] is not None]
        if not dss:
            continue
        lm = float(np.mean([table[ds][c] for ds in dss]))
        am = float(np.mean([table[ds]["auto"] for ds in dss]))
        print(f"{c:18s}{len(dss):9d}{100 * lm:12.2f}{100 * am:13.2f}  {'yes' if am < lm else 'NO'}")
    wins = sum(1 for r in rows if all(r["auto"] <= (r[c] if r.get(c) is not None else np.inf) for c in LAW_NAMES))
    print(f"\nauto best or tied with the best fixed law in {wins} of {len(rows)} cases; "
          f"auto time: median {np.median([r['auto_s'] for r in rows]):.1f}s, max {max(r['auto_s'] for r in rows):.1f}s")


if __name__ == "__main__":
    sys.exit(main())
