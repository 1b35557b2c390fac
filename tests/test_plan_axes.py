"""Choosing an extra input of a law at a fixed budget (plan/axes.py)."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws.errors import ScalingLawsError
from scalinglaws.laws import formula_law
from scalinglaws.plan.axes import AxisCost, optimise_axis
from scalinglaws.plan.planner import plan

TRUE = {"E": 1.7, "A": 400.0, "alpha": 0.34, "B": 410.0, "beta": 0.28, "c": 0.3, "r0": 0.4}
LAW = formula_law("E + A*N**-alpha + B*D**-beta + c*(log(r) - log(r0))**2",
                  inputs={"N": "params", "D": "tokens", "r": "mix"})


def _runs(seed: int, noise: float = 0.003) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for n in (1e7, 3e7, 1e8, 3e8):
        for d in (2e8, 1e9, 5e9):
            for r in (0.1, 0.3, 0.5, 0.7):
                t = TRUE
                loss = t["E"] + t["A"] * n ** -t["alpha"] + t["B"] * d ** -t["beta"] + t["c"] * np.log(r / t["r0"]) ** 2
                rows.append({"params": n, "tokens": d, "mix": r, "loss": loss * np.exp(rng.normal(0, noise))})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def fit():
    return sl.fit(_runs(0), law=LAW, bootstrap=40, seed=0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_recovers_the_best_value_of_a_free_input(seed):
    f = sl.fit(_runs(seed), law=LAW, bootstrap=30, seed=seed)
    a = optimise_axis(f, 1e21, "mix", bounds=(0.05, 0.9))
    assert a.value == pytest.approx(TRUE["r0"], rel=0.03)
    lo, hi = a.intervals["value"]
    assert lo <= a.value <= hi
    # a free input leaves the split of the budget to the law of N and D alone
    assert 6 * a.params * a.tokens == pytest.approx(1e21, rel=1e-9)


def test_a_grid_is_searched_as_given(fit):
    a = optimise_axis(fit, 1e21, "mix", values=[0.1, 0.3, 0.5])
    assert a.search == "grid" and [r["value"] for r in a.table] == [0.1, 0.3, 0.5]
    assert a.value == 0.5  # 0.3·ln(5/4)² < 0.3·ln(4/3)²
    assert a.loss == min(r["loss"] for r in a.table)


def test_a_costly_axis_changes_the_split_and_a_memory_limit_bites(fit):
    # streams that multiply the FLOP per token: more of them leave fewer tokens for the same budget
    cost = AxisCost(name="streams", axis="mix", columns=lambda n, d, x: {"params": n, "tokens": d, "mix": x},
                    flops=lambda n, d, x: 6 * n * d * (1 + x), total_params=lambda n, x: n * (1 + 10 * x))
    a = optimise_axis(fit, 1e21, "mix", bounds=(0.05, 0.9), cost=cost)
    assert 6 * a.params * a.tokens * (1 + a.value) == pytest.approx(1e21, rel=1e-9)
    assert a.value < TRUE["r0"]  # the cost pulls the choice below the free optimum
    capped = optimise_axis(fit, 1e21, "mix", values=[0.1, 0.3, 0.5], cost=cost, max_params=5e8)
    assert capped.total_params <= 5e8 * (1 + 1e-9)
    with pytest.raises(ScalingLawsError, match="cannot afford"):
        optimise_axis(fit, 1e21, "mix", values=[0.1, 0.3], cost=cost, max_params=10.0)


def test_the_plan_recommends_the_choice_and_says_how(fit):
    p = plan(fit, flops=1e21, optimise="mix", optimise_bounds=(0.05, 0.9))
    assert p.objective == "compute-optimal mix" and p.axis is not None
    assert set(p.intervals) == {"params", "tokens", "loss", "mix"}
    d = p.to_dict()
    assert d["axis"]["format"] == "scalinglaws.axis_plan/1" and "costs no FLOP" in d["convention"]
    json.dumps(d)


@pytest.mark.parametrize("kwargs, match", [
    ({"optimise": "lr", "optimise_values": [1, 2]}, "does not read column 'lr'"),
    ({"optimise": "mix", "optimise_values": [0.3]}, "at least two values"),
    ({"optimise": "mix", "optimise_bounds": (0.5, 0.1)}, "upper end must exceed"),
    ({"optimise": "mix", "optimise_values": [0.1, 0.3], "frontier_flops": [1e20, 1e21]}, "does not combine"),
    ({"max_params": 1e9}, "give --optimise"),
])
def test_bad_requests_are_refused_with_their_fix(fit, kwargs, match):
    with pytest.raises(ScalingLawsError, match=match):
        plan(fit, flops=1e21, **kwargs)


def test_an_axis_needs_a_budget(fit):
    with pytest.raises(ScalingLawsError, match="give --flops"):
        plan(fit, target_loss=2.5, optimise="mix", optimise_values=[0.1, 0.3])


def test_cli(fit, tmp_path, cli):
    path = tmp_path / "fit.json"
    fit.save(path)
    code, out, err = cli("plan", str(path), "--flops", "1e21", "--optimise", "mix=0.05:0.9")
    assert code == 0, err
    assert re.search(r"mix at 1\.000e\+21 FLOP: best 0\.(39|40)", out) and "costs no FLOP" in out
    code, out, _ = cli("plan", str(path), "--flops", "1e21", "--optimise", "mix=0.1,0.3,0.5", "--json")
    assert code == 0 and json.loads(out)["axis"]["value"] == 0.5
    code, out, err = cli("plan", str(path), "--flops", "1e21", "--optimise", "mix=0.3")
    assert code != 0 and err.startswith("Error: --optimise mix: a grid needs") and "Traceback" not in err


@pytest.fixture(scope="module")
def batch_fit_path(tmp_path_factory):
    """A fit of the batch_size law (ladder 1e8-8e8 parameters on 4e9-6.4e10 tokens, batches 32K-4M tokens)."""
    from test_batch import synthetic_sweep

    from scalinglaws.plan.batch import fit_batch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = fit_batch(synthetic_sweep(0), diverged=5)
    path = tmp_path_factory.mktemp("batch") / "batch.json"
    f.save(path)
    return path


@pytest.mark.parametrize("args, says", [
    # an axis the law does not have
    (("--flops", "1e21", "--optimise", "lr=1e-3,3e-3"), "Error: --optimise lr: the fit's law 'formula' does not read"),
    # a grid of one value
    (("--flops", "1e21", "--optimise", "mix=0.3"), "Error: --optimise mix: a grid needs at least two values"),
    # a budget below the smallest fitted run (1e7 parameters on 2e8 tokens: 1.2e16 FLOP), grid or range
    (("--flops", "10", "--optimise", "mix=0.1,0.3"), "Error: --flops 10 cannot afford the smallest option"),
    (("--flops", "1e15", "--optimise", "mix=0.05:0.9"), "Error: --flops 1e+15 cannot afford the smallest option"),
])
def test_cli_bad_optimise_requests_are_one_error_line(fit, tmp_path, cli, args, says):
    path = tmp_path / "fit.json"
    fit.save(path)
    code, out, err = cli("plan", str(path), *args)
    assert code != 0 and out == "" and err.startswith(says), err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_cli_a_batch_beyond_the_data_is_refused(batch_fit_path, cli):
    """A batch of more tokens than the run trains on is less than one step: at 1e20 FLOP the longest split the
    planner considers trains on 4.1e12 tokens, so batches of 1e13 and 1e14 are refused, not answered."""
    code, out, err = cli("plan", str(batch_fit_path), "--flops", "1e20", "--optimise", "batch_size_tokens=1e13,1e14")
    assert code != 0 and out == "" and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert err.startswith("Error: --optimise batch_size_tokens: no value searched") and "B ≤ D" in err
    # one batch beyond the data among others: that one is marked unrunnable and never chosen
    code, out, err = cli("plan", str(batch_fit_path), "--flops", "1e20", "--optimise",
                         "batch_size_tokens=1e5,1e13", "--json")
    assert code == 0, err
    axis = json.loads(out)["axis"]
    assert axis["value"] == 1e5 and [r["loss"] is None for r in axis["table"]] == [False, True]
    assert all(r["tokens"] >= r["value"] for r in axis["table"] if r["loss"] is not None)


def test_a_budget_at_the_smallest_fitted_run_is_planned(fit):
    """The floor is the cost of the smallest fitted model on the fewest fitted tokens, 6·1e7·2e8 = 1.2e16: at it
    the plan is answered, just below it refused."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = optimise_axis(fit, 1.2e16, "mix", values=[0.1, 0.3])
    assert 6 * a.params * a.tokens == pytest.approx(1.2e16, rel=1e-9)
    with pytest.raises(ScalingLawsError, match="at least 1.2e"):
        optimise_axis(fit, 1.1e16, "mix", values=[0.1, 0.3])
