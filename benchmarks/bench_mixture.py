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
    if args.json:
        Path(args.json).write_text(json.dumps(scores, indent=1))
