"""Multiple-choice accuracy from per-choice log-likelihoods (decide/choices.py) and the harness's samples files
(ingest/lmeval_samples.py): margins followed in log size, accuracy simulated from them."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import norm

from scalinglaws.decide.choices import forecast_choices
from scalinglaws.errors import ScalingLawsError
from scalinglaws.ingest.lmeval_samples import read_choices

SIZES = (1e7, 3e7, 1e8, 3e8, 1e9, 3e9, 1e10)
NOISE = 0.4


def items(seed: int, n: int = 300):
    """Each item's margin u_i + v·log N (+ noise at each size): truth accuracy at N is mean Φ(margin / NOISE)."""
    rng = np.random.default_rng(seed)
    v = 0.35
    u = rng.normal(-7.0, 1.2, n)  # at 1e7 (log 16.1) most items are wrong; by 1e10 (log 23.0) most are right
    return u, v, rng


def table(seed: int) -> dict:
    u, v, rng = items(seed)
    cols = {"params": [], "item": [], "loglik": [], "correct": []}
    for size in SIZES:
        for i, ui in enumerate(u):
            wrong = rng.normal(-3.0, 0.7, 3)
            margin = ui + v * np.log(size) + NOISE * rng.standard_normal()
            for ll, ok in [(wrong.max() + margin, 1.0)] + [(w, 0.0) for w in wrong]:
                cols["params"].append(size)
                cols["item"].append(f"q{i}")
                cols["loglik"].append(float(ll))
                cols["correct"].append(ok)
    return cols


def truth(seed: int, size: float) -> float:
    u, v, _ = items(seed)
    return float(np.mean(norm.cdf((u + v * np.log(size)) / NOISE)))


def test_accuracy_follows_the_margins_where_accuracy_itself_does_not():
    inside, errs, direct = [], [], []
    for seed in range(3):
        res = forecast_choices(table(seed), test=["params>1e9"], bootstrap=100, seed=seed)
        assert res.scatter == pytest.approx(NOISE, rel=0.15)
        assert res.sizes[0]["accuracy"] < 0.2  # the smallest models answer few items
        for f in res.forecast:
            t = truth(seed, f["size"])
            inside.append(f["lower"] <= t <= f["upper"])
            errs.append(abs(f["accuracy"] - t))
            direct.append(abs(f["direct"] - t))
            assert f["observed"] == pytest.approx(t, abs=0.08)
    assert np.mean(inside) >= 0.8 and np.mean(errs) < 0.03
    assert np.mean(errs) < np.mean(direct)  # better than extrapolating accuracy itself
    rec = res.to_dict()
    assert rec["format"] == "scalinglaws.choices/1" and "bootstrap over items" in rec["method"]["parameters"]["source"]


def samples_file(path, rng, n_items=30, margin=0.0):
    with open(path, "w") as fh:
        for i in range(n_items):
            gold = int(rng.integers(0, 4))
            ll = rng.normal(-3, 0.5, 4)
            ll[gold] = ll.max() + margin + 0.3 * rng.standard_normal()
            resps = [[f"{v:.6f}", "False"] for v in ll]
            fh.write(json.dumps({"doc_id": i, "doc": {"q": "..."}, "target": gold, "arguments": [],
                                 "resps": [[r] for r in resps], "filtered_resps": resps, "acc": 0.0}) + "\n")


def test_harness_samples_files_are_read_and_forecast(tmp_path, cli):
    rng = np.random.default_rng(0)
    files = {}
    for size, margin in ((1e8, -1.0), (3e8, -0.5), (1e9, 0.0), (3e9, 0.5)):
        path = tmp_path / f"samples_piqa_{size:g}.jsonl"
        samples_file(path, rng, margin=margin)
        files[str(path)] = size
    cols = read_choices(files)
    assert len(cols["item"]) == 4 * 30 * 4 and sum(cols["correct"]) == 4 * 30
    args = ["choices"] + [a for p, s in files.items() for a in ("--log", f"{p}={s:g}")] + [
        "--at", "params=1e10", "--bootstrap", "50"]
    code, out, err = cli(*args)
    assert code == 0, err
    assert "120 items" not in out and "30 items over 4 sizes" in out
    code, out, err = cli(*args, "--json")
    assert code == 0 and json.loads(out)["forecast"][0]["accuracy"] > 0.5


def test_logs_without_choices_and_bad_rows_are_refused(tmp_path, cli):
    gen = tmp_path / "samples_gsm8k.jsonl"
    gen.write_text(json.dumps({"doc_id": 0, "target": "42", "resps": [["The answer is 42"]],
                               "filtered_resps": ["42"]}) + "\n")
    with pytest.raises(ScalingLawsError, match="has no choices"):
        read_choices({str(gen): 1e8})
    code, out, err = cli("choices", "--log", f"{gen}=1e8")
    assert code != 0 and err.startswith("Error: ") and len(err.strip().splitlines()) == 1
    rows = table(0)
    rows["correct"] = [0.0] * len(rows["correct"])
    with pytest.raises(ScalingLawsError, match="exactly one correct choice"):
        forecast_choices(rows, bootstrap=20)
    few = {k: [v for v, s in zip(vals, table(0)["params"]) if s <= 3e7] for k, vals in table(0).items()}
    with pytest.raises(ScalingLawsError, match="needs at least 3"):
        forecast_choices(few, bootstrap=20)
