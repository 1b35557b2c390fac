"""Which run next (decide/nextrun.py): the rungs that most narrow a target's forecast per FLOP."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws.decide.nextrun import next_runs
from scalinglaws.errors import ScalingLawsError

TRUE = dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
TARGET = {"params": 7e9, "tokens": 1.4e12}


def law(n, d):
    return TRUE["E"] + TRUE["A"] * n ** -TRUE["alpha"] + TRUE["B"] * d ** -TRUE["beta"]


def ladder(seed, extra=()):
    rng = np.random.default_rng(seed)
    rows = [{"params": n, "tokens": n * r} for n in (2e7, 4e7, 8e7, 1.6e8) for r in (10, 20, 40)] + list(extra)
    df = pd.DataFrame(rows)
    df["loss"] = law(df.params, df.tokens) * np.exp(rng.normal(0, 0.01, len(df)))
    return df


@pytest.fixture(scope="module")
def fit():
    return sl.fit(ladder(0), law="chinchilla", bootstrap=100, seed=0)


CANDS = [{"params": float(n), "tokens": float(20 * n)} for n in np.geomspace(4e7, 2.5e9, 5)]


def test_the_chosen_rungs_narrow_the_forecast_step_by_step_within_the_budget(fit):
    r = next_runs(fit, TARGET, candidates=CANDS, budget=5e20)
    widths = [r.width] + [c["width_after"] for c in r.chosen]
    assert all(b <= a + 1e-12 for a, b in zip(widths, widths[1:])) and r.chosen
    assert r.spent <= 5e20 and all(c["width_after"] >= r.floor for c in r.chosen)
    assert r.spent == pytest.approx(sum(c["flops"] for c in r.chosen))
    d = r.to_dict()
    assert d["format"] == "scalinglaws.next_runs/1" and len(d["candidates"]) == 5
    json.dumps(d)


def test_stops_at_the_width_wanted_and_says_when_it_cannot(fit):
    first = next_runs(fit, TARGET, candidates=CANDS, budget=1e30, max_runs=1)
    goal = (first.width + first.chosen[0]["width_after"]) / 2  # reached by the first rung
    r = next_runs(fit, TARGET, candidates=CANDS, until_width=goal)
    assert r.reached and len(r.chosen) == 1
    with pytest.warns(sl.FitWarning, match="below the"):
        low = next_runs(fit, TARGET, candidates=CANDS, until_width=r.floor / 2, max_runs=3)
    assert not low.reached and len(low.chosen) == 3


def test_the_predicted_width_matches_a_refit_with_the_rung_added(fit):
    # the ensemble update against the bootstrap of a refit with the rung's run added (the true law's loss)
    r = next_runs(fit, TARGET, candidates=CANDS[:1], budget=1e30, max_runs=1)
    refit = sl.fit(ladder(0, extra=CANDS[:1]), law="chinchilla", bootstrap=100, seed=0)
    measured = next_runs(refit, TARGET, candidates=CANDS[:1], budget=1e30, max_runs=1).width
    assert r.chosen[0]["width_after"] < r.width
    assert measured == pytest.approx(r.chosen[0]["width_after"], rel=0.25)


@pytest.mark.parametrize("kwargs, match", [
    ({}, "say when to stop"),
    ({"budget": -1.0}, "positive"),
    ({"until_width": 5.0}, "relative width"),
    ({"budget": 1e20, "candidates": [{"params": 1e8}]}, "reads column 'tokens'"),
])
def test_bad_requests(fit, kwargs, match):
    with pytest.raises(ScalingLawsError, match=match):
        next_runs(fit, TARGET, **kwargs)


def test_needs_a_bootstrap():
    plain = sl.fit(ladder(1), law="chinchilla")
    with pytest.raises(ScalingLawsError, match="--bootstrap"):
        next_runs(plain, TARGET, budget=1e20)


def test_cli(fit, tmp_path, cli):
    path = tmp_path / "fit.json"
    fit.save(path)
    pd.DataFrame(CANDS).to_csv(tmp_path / "cands.csv", index=False)
    code, out, err = cli("next", str(path), "--at", "params=7e9", "--at", "tokens=1.4e12", "--budget", "1e20",
                         "--candidates", str(tmp_path / "cands.csv"))
    assert code == 0, err
    assert "Train next" in out and "width after" in out
    code, out, err = cli("next", str(path), "--at", "params=7e9", "--at", "tokens=1.4e12", "--budget", "1e22",
                         "--candidates", str(tmp_path / "cands.csv"), "--max-runs", "12")
    rec = json.loads(cli("next", str(path), "--at", "params=7e9", "--at", "tokens=1.4e12", "--budget", "1e22",
                         "--candidates", str(tmp_path / "cands.csv"), "--max-runs", "12", "--json")[1])
    table = [line for line in out.splitlines() if line.strip()[:1].isdigit()]
    counts = [int(line.split()[-2].lstrip("×")) for line in table]
    assert code == 0 and sum(counts) == len(rec["chosen"]) == 12  # a rung chosen again in a row: one line, ×count
    sizes = [c["params"] for c in rec["chosen"]]
    assert len(table) == 1 + sum(a != b for a, b in zip(sizes, sizes[1:]))
    assert "of the 1.000e+22 FLOP budget spent: --max-runs K chooses more" in out
    code, out, _ = cli("next", str(path), "--at", "params=7B", "--at", "tokens=1.4T", "--until-width", "50%",
                       "--json")
    assert code == 0 and json.loads(out)["until_width"] == 0.5
    code, _, err = cli("next", str(path), "--budget", "1e20")
    assert code != 0 and err.startswith("Error: give the target run")
