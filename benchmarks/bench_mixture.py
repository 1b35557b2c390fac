"""The D-CPT law against a per-ratio Chinchilla-style baseline on the code-mixture curves of Muennighoff et al.

4.2B models trained on 84B tokens of C4 mixed with Python at nine ratios, each evaluated on C4 and on Python
(../shared/data/datablations_muennighoff/code_mix_curves.csv; not bundled, skipped when absent). Two held-out
tasks, each for both losses, scored as the mean |prediction - observed| / observed over the held-out rows:

- ratios: fit the curves of code shares 10-50%, predict those of 70-90%. The baseline, E + B/D^β fitted per
  ratio, cannot speak of a ratio it never saw: it predicts with the curve of the nearest fitted ratio (50%).
- tokens: fit every ratio's curve up to 42B tokens, predict the rest; the baseline is fitted per ratio.

r is the share of the loss's own corpus (Que et al. 2024): the code share for the Python loss, 1 - it for the C4
loss. With one model size the law's N term is held at A = 0 (E absorbs it). Both readings of the table's ratio
column are scored: `as labelled` (the column is the code share) and `flipped` (the column is the C4 share, code
= 100 - it). Under the label the C4 loss falls and the Python loss rises as code grows; flipped, both move the
way more of a corpus moves its own loss.

Two more parts read the column flipped (code share = 1 - code_percent / 100, the reading under which each corpus's
share lowers its own loss):

- plan: D-CPT fitted to every curve of each loss (200 bootstrap draws), then the code share with the lowest Python
  loss whose C4 loss stays within 1%, 2% or 5% of the lowest C4 loss seen, at the runs' N and their last D
  (`plan_dcpt_ratio`), beside the best mixture among those trained that meets the same limit, and the share the
  data mixing law fitted to the last checkpoints of the nine mixtures chooses (`plan_mixture`). `observed` is where
  the trained mixtures' C4 losses, joined by straight lines, cross the limit: what each interval should hold.
- Ye: the data mixing law of Ye et al. 2024 fitted to both losses at once (`fit_targets`) on some mixtures, scored
  on the others, at every checkpoint length that all nine mixtures have (13 of 17; the law is of one N and D):
  interpolation (fit code shares 10, 30, 50, 70, 90%, predict 20, 40, 60, 80%), extrapolation (fit 10-50%, predict
  60-90%) and leave-one-mixture-out. Per-ratio baselines: the loss of the nearest fitted mixture, and linear
  interpolation between fitted mixtures (held flat beyond them).

Run from the repository root:  PYTHONPATH=src python benchmarks/bench_mixture.py [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import scalinglaws as sl
from scalinglaws.laws import LAWS
from scalinglaws.laws.fixed import fix_params

SHARED = Path(os.environ.get("SCALINGLAWS_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
CURVES = SHARED / "datablations_muennighoff" / "code_mix_curves.csv"
SPLIT_OF = {"c4_validation": "general", "python_validation": "domain"}
EARLY = 42e9  # tokens: the token task fits up to here


def table(reading: str) -> pd.DataFrame:
    t = pd.read_csv(CURVES)
    code = t["code_percent"] / 100 if reading == "as labelled" else 1 - t["code_percent"] / 100
    t["code_share"] = code
    t["mix_ratio"] = np.where(t["loss_split"] == "python_validation", code, 1 - code)
    return t


def law():
    return fix_params(LAWS["dcpt"], {"A": 0.0, "alpha": 0.3})


def err(pred, obs) -> float:
    return float(np.mean(np.abs(np.asarray(pred) / np.asarray(obs) - 1)))


def baseline(train: pd.DataFrame, test: pd.DataFrame) -> float:
    """E + B/D^β per ratio; a ratio not fitted borrows the curve of the nearest fitted one."""
    fits = {r: sl.fit(g, "E + B*D**-beta", inputs={"D": "tokens"}) for r, g in train.groupby("code_share")}
    ratios = np.array(sorted(fits))
    preds = np.empty(len(test))
    for i, (_, row) in enumerate(test.iterrows()):
        near = ratios[np.argmin(np.abs(ratios - row["code_share"]))]
        preds[i] = sl.predict(fits[near], {"tokens": [row["tokens"]]}).prediction[0]
    return err(preds, test["loss"])


def dcpt(train: pd.DataFrame, test: pd.DataFrame) -> tuple[float, dict]:
    held = law()
    f = sl.fit(train, held)
    pred = held({"N": test["params"].to_numpy(float), "D": test["tokens"].to_numpy(float),
                 "r": test["mix_ratio"].to_numpy(float)}, f.params)
    return err(pred, test["loss"]), dict(f.params)


PLAN_SLACK = (0.01, 0.02, 0.05)  # the C4 loss may lie this far above the lowest one seen
YE_TASKS = {"interpolate": ([0.1, 0.3, 0.5, 0.7, 0.9], [0.2, 0.4, 0.6, 0.8]),
            "extrapolate": ([0.1, 0.2, 0.3, 0.4, 0.5], [0.6, 0.7, 0.8, 0.9])}


def plan(draws: int = 200) -> dict:
    """The D-CPT code share under a C4-loss limit, with its interval, beside the best trained mixture."""
    from scalinglaws.plan.mixing import plan_dcpt_ratio, plan_mixture

    t = table("flipped")
    last = t["tokens"].max()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = {split: sl.fit(t[t["loss_split"] == split], law(), bootstrap=draws, seed=0) for split in SPLIT_OF}
    final = t[t["tokens"] == last].pivot(index="code_share", columns="loss_split", values="loss")
    wide = final.reset_index()
    wide["c4_share"] = 1 - wide["code_share"]
    wide["run"] = [f"code{100 * r:.0f}" for r in wide["code_share"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ye_fit = sl.fit_targets(wide, "data_mixing", inputs={"r1": "code_share", "r2": "c4_share"},
                                targets=list(SPLIT_OF), shared="none", bootstrap=draws, seed=0)
    out = {}
    for slack in PLAN_SLACK:
        cap = float(final["c4_validation"].min() * (1 + slack))
        p = plan_dcpt_ratio(fits["python_validation"], fits["c4_validation"], params=float(t["params"].iloc[0]),
                            tokens=float(last), general_limit=cap)
        q = plan_mixture(ye_fit, minimise="python_validation", limits={"c4_validation": cap})
        seen = final[final["c4_validation"] <= cap]
        grid = np.linspace(final.index.min(), final.index.max(), 100001)
        crossing = float(grid[np.interp(grid, final.index, final["c4_validation"]) <= cap].max())
        best = float(seen["python_validation"].idxmin())
        out[f"C4 loss <= {cap:.4f} (+{100 * slack:g}%)"] = {
            "code_share": p.proportions["domain"], "interval": p.intervals["proportions"]["domain"],
            "python_loss": p.losses["domain"], "python_loss_interval": p.intervals["losses"]["domain"],
            "draws_feasible": p.draws_feasible, "draws": p.draws, "best_trained_share": best,
            "interpolated_share": crossing,
            "ye": {"code_share": q.proportions["code_share"], "interval": q.intervals["proportions"]["code_share"],
                   "python_loss": q.losses["python_validation"], "draws_feasible": q.draws_feasible},
            "best_trained_python_loss": float(seen.loc[best, "python_validation"]), "tokens": float(last)}
    return out


def ye(train_shares, test_shares, wide: pd.DataFrame) -> dict:
    """Mean relative error of the Ye law and the two per-ratio baselines on the held-out mixtures of one length."""
    near = lambda r: np.isin(np.round(wide["code_share"], 6), np.round(r, 6))  # noqa: E731
    train, test = wide[near(train_shares)], wide[near(test_shares)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = sl.fit_targets(train, "data_mixing", inputs={"r1": "code_share", "r2": "c4_share"},
                           targets=list(SPLIT_OF), shared="none", seed=0)
    out = {"ye": [], "nearest": [], "linear": []}
    xs = train["code_share"].to_numpy()
    for split in SPLIT_OF:
        at = {"code_share": test["code_share"].to_numpy(), "c4_share": test["c4_share"].to_numpy(),
              "target": [split] * len(test)}
        obs = test[split].to_numpy()
        ys = train[split].to_numpy()
        nearest = ys[np.argmin(np.abs(xs[None, :] - test["code_share"].to_numpy()[:, None]), axis=1)]
        order = np.argsort(xs)
        out["ye"].append(np.abs(sl.predict(f, at).prediction / obs - 1))
        out["nearest"].append(np.abs(nearest / obs - 1))
        out["linear"].append(np.abs(np.interp(test["code_share"], xs[order], ys[order]) / obs - 1))
    return {k: np.concatenate(v) for k, v in out.items()}


def ye_scores() -> dict:
    t = table("flipped")
    out = {}
    shares = sorted(t["code_share"].round(6).unique())
    tasks = dict(YE_TASKS, **{"leave one out": None})
    for name, split in tasks.items():
        errs = {"ye": [], "nearest": [], "linear": []}
        final = {}
        for tokens, g in t.groupby("tokens"):
            if g["code_share"].nunique() < len(shares):
                continue  # a checkpoint some mixtures lack
            wide = g.pivot(index="code_share", columns="loss_split", values="loss").reset_index()
            wide["c4_share"] = 1 - wide["code_share"]
            wide["run"] = [f"code{100 * r:.0f}" for r in wide["code_share"]]
            cases = [split] if split else [([r for r in shares if r != h], [h]) for h in shares]
            got = [ye(a, b, wide) for a, b in cases]
            for k in errs:
                e = np.concatenate([x[k] for x in got])
                errs[k].append(e)
                if tokens == t["tokens"].max():
                    final[k] = float(np.mean(e))
        out[name] = {"every length": {k: float(np.mean(np.concatenate(v))) for k, v in errs.items()},
                     "last length": final}
    return out


def main() -> dict:
    out = {}
    for reading in ("as labelled", "flipped"):
        t = table(reading)
        for split, name in SPLIT_OF.items():
            s = t[t["loss_split"] == split]
            low = s["code_share"] <= 0.5 + 1e-9
            high = s["code_share"] >= 0.7 - 1e-9
            for task, train, test in (("ratios", s[low], s[high]),
                                      ("tokens", s[s["tokens"] <= EARLY], s[s["tokens"] > EARLY])):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    e_law, params = dcpt(train, test)
                    e_base = baseline(train, test)
                out[f"{reading} / {name} loss / {task}"] = {"dcpt": e_law, "per_ratio_chinchilla": e_base,
                                                           "dcpt_params": params}
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="write the scores here")
    args = ap.parse_args()
    if not CURVES.is_file():
        raise SystemExit(f"skipped: {CURVES} is not present")
    scores = main()
    print(f"{'case':48s} {'D-CPT':>8s} {'per-ratio':>10s}")
    for case, s in scores.items():
        print(f"{case:48s} {100 * s['dcpt']:7.2f}% {100 * s['per_ratio_chinchilla']:9.2f}%")
    plans = plan()
    print("\nD-CPT plan (flipped reading): the code share with the lowest Python loss under a C4-loss limit, "
          f"N = 4.25e9, D = {next(iter(plans.values()))['tokens']:.3g}")
    print(f"{'limit':30s} {'code share [95%]':>24s} {'Python loss [95%]':>26s} {'draws':>8s} {'best trained':>14s}"
          f" {'Ye law share [95%]':>26s} {'observed':>9s}")
    for case, p in plans.items():
        lo, hi = p["interval"]
        plo, phi = p["python_loss_interval"]
        ylo, yhi = p["ye"]["interval"]
        print(f"{case:30s} {p['code_share']:8.3f} [{lo:.3f}, {hi:.3f}] {p['python_loss']:9.4f} [{plo:.4f}, "
              f"{phi:.4f}] {p['draws_feasible']:4d}/{p['draws']} {p['best_trained_share']:6.1f} "
              f"({p['best_trained_python_loss']:.4f}) {p['ye']['code_share']:10.3f} [{ylo:.3f}, {yhi:.3f}] "
              f"{p['interpolated_share']:9.3f}")
    ye_out = ye_scores()
    print("\nYe et al. data mixing law, held-out mixtures (flipped reading), mean |pred/obs - 1| over both losses")
    print(f"{'task':28s} {'Ye law':>8s} {'nearest':>8s} {'linear':>8s}")
    for task, s in ye_out.items():
        for length, e in s.items():
            print(f"{task + ' / ' + length:28s} {100 * e['ye']:7.3f}% {100 * e['nearest']:7.3f}% "
                  f"{100 * e['linear']:7.3f}%")
    if args.json:
        Path(args.json).write_text(json.dumps({"dcpt": scores, "plan": plans, "ye": ye_out}, indent=1))
