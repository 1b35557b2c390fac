"""Downstream forecasts: links that respect chance and 1, trend flags, two-step recovery on synthetic data, and the
Pythia check (fit on models up to 1.4B, forecast 6.9B and 12B)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.decide import forecast_downstream
from scalinglaws.decide.links import chance_of, exponential_link, sigmoid_link
from scalinglaws.decide.trend import assess

PYTHIA = "dataset:pythia_evals"


def test_links_stay_between_chance_and_one():
    L = np.linspace(-5, 20, 200)
    sig = sigmoid_link(0.25, (1.0, 4.0))
    rng = np.random.default_rng(0)
    for _ in range(20):
        theta = np.array([rng.uniform(0.25, 1.0), rng.uniform(0.01, 50), rng.uniform(-3, 8)])
        acc = sig({"L": L}, theta[None])[0]
        assert np.all(acc >= 0.25 - 1e-12) and np.all(acc <= 1.0 + 1e-12)
        assert np.all(np.diff(acc) <= 1e-12)  # lower loss, higher accuracy
    exp = exponential_link(0.5, (1.0, 4.0))
    acc = exp({"L": np.array([1e6])}, np.array([[0.5, 3.0, 1.0]]))[0]
    assert acc[0] == pytest.approx(0.5)  # as loss grows the error tends to eps = 1 - chance


def test_chance_levels():
    assert chance_of("piqa__acc") == 0.5
    assert chance_of("downstream__arc_easy_acc") == 0.25
    assert chance_of("lambada_openai__acc") == 0.0
    assert chance_of("my_task", 0.1) == 0.1 and chance_of("t", {"t": 0.2}) == 0.2
    with pytest.raises(sl.ScalingLawsError, match="no known chance level for task 'my_task'"):
        chance_of("my_task")


@pytest.mark.parametrize("shape, status", [("rising", "rising"), ("falling", "inverse"), ("flat", "at chance"),
                                           ("hump", "non-monotone"), ("valley", "non-monotone")])
def test_trend_flags(shape, status):
    rng = np.random.default_rng(1)
    x = np.geomspace(1e18, 1e23, 80)
    t = (np.log10(x) - 18) / 5  # 0 .. 1
    y = {"rising": 0.25 + 0.5 * t, "falling": 0.75 - 0.4 * t, "flat": np.full_like(t, 0.25),
         "hump": 0.3 + 0.6 * t * (1 - t) * 2, "valley": 0.6 - 0.6 * t * (1 - t) * 2}[shape]
    y = np.clip(y + rng.normal(0, 0.01, len(t)), 0, 1)
    assert assess(x, y, 0.25, "task").status == status


def synthetic_ladder(seed: int):
    """L = 1.6 + 30·C^-0.08 (nats); acc = 0.25 + 0.7/(1 + exp(6·(L - 2.4))) + noise, five checkpoints per run."""
    rng = np.random.default_rng(seed)
    rows = {"run": [], "flops": [], "loss": [], "acc": []}
    for i, c_final in enumerate(np.geomspace(1e18, 1e23, 12)):
        for frac in (0.1, 0.25, 0.5, 0.75, 1.0):
            c = c_final * frac
            loss = (1.6 + 30 * c ** -0.08) * np.exp(rng.normal(0, 0.003))
            acc = 0.25 + 0.7 / (1 + np.exp(6 * (loss - 2.4))) + rng.normal(0, 0.005)
            rows["run"].append(f"r{i}")
            rows["flops"].append(c)
            rows["loss"].append(loss)
            rows["acc"].append(acc)
    return sl.read_runs(rows)


@pytest.mark.parametrize("seed", [0, 1])
def test_two_steps_recover_a_known_ladder(seed):
    runs = synthetic_ladder(seed)
    res = forecast_downstream(runs, "acc", via="loss", train=["flops<2e21"], test=["flops>=2e21"],
                              chance=0.25, link="sigmoid", bootstrap=60, seed=seed)
    assert res.law == "power" and res.loss_error < 0.01
    task = res.tasks[0]
    assert task.status == "forecast" and task.mean_abs_error < 0.02
    assert task.link_params["ceiling"] == pytest.approx(0.95, abs=0.05)
    inside = [r["lower"] <= r["observed"] <= r["upper"] for r in task.rows]
    assert np.mean(inside) >= 0.7
    # the record says how its intervals were made: both steps' draws, their noise, and step 1's model term
    m = res.to_dict()["method"]
    assert m["kind"] == "prediction" and m["step1"]["parameters"] == "bootstrap over runs (60 draws)"
    assert "calibration" in m["step1"]["model"]["source"] and "link's bootstrap" in m["step2"]["parameters"]


def test_one_step_forecast_in_log_compute():
    res = forecast_downstream(synthetic_ladder(0), "acc", train=["flops<2e21"], at={"flops": [1e22, 1e23]},
                              chance=0.25, link="sigmoid", bootstrap=40)
    assert res.via is None and res.law is None
    assert res.method["step1"]["parameters"].startswith("none: L = -log10(compute)")
    rows = res.tasks[0].rows
    assert rows[0]["prediction"] < rows[1]["prediction"] <= 1.0
    assert rows[0]["observed"] is None


@pytest.fixture(scope="module")
def pythia():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return forecast_downstream(PYTHIA, ["piqa__acc", "arc_easy__acc", "sciq__acc", "logiqa__acc"],
                                   via="lambada_openai__loss", where=["shots=0"], train=["params<2e9", "step>=1000"],
                                   loss_where=["step=143000"], test=["params>5e9", "step=143000"], bootstrap=60)


def test_pythia_forecasts_of_69b_and_12b(pythia):
    # step 1 from the final checkpoints of 70M-1.4B: LAMBADA loss of 6.9B and 12B within 3%
    assert pythia.loss_error < 0.03
    by_task = {t.task: t for t in pythia.tasks}
    assert {r["run"] for r in by_task["piqa__acc"].rows} == {"pythia-6.9b", "pythia-12b", "pythia-6.9b-deduped",
                                                              "pythia-12b-deduped"}
    # measured: piqa 0.004, arc_easy 0.043, sciq 0.034 accuracy points (benchmarks in docs/decisions.md)
    assert by_task["piqa__acc"].mean_abs_error < 0.03
    assert by_task["arc_easy__acc"].mean_abs_error < 0.08
    assert by_task["sciq__acc"].mean_abs_error < 0.06
    assert by_task["logiqa__acc"].status == "at chance" and not by_task["logiqa__acc"].rows


@pytest.mark.filterwarnings("ignore::scalinglaws.errors.FitWarning")
def test_inverse_tasks_are_flagged_not_forecast():
    with pytest.warns(sl.DataWarning, match="inverse scaling is not forecast"):
        res = forecast_downstream(PYTHIA, ["wsc__acc"], via="lambada_openai__loss", where=["shots=0"],
                                  test=["step=143000", "params>5e9"], bootstrap=20)
    wsc = res.tasks[0]
    assert wsc.status == "inverse" and not wsc.rows and wsc.trend["spearman"] < 0


def test_bad_input_errors():
    with pytest.raises(sl.ScalingLawsError, match="logiqa__acc stays within noise of chance"):
        forecast_downstream(PYTHIA, "logiqa__acc", via="lambada_openai__loss", where=["shots=0"], bootstrap=20)
    with pytest.raises(sl.ScalingLawsError, match="column 'piqa_acc' is missing"):
        forecast_downstream(PYTHIA, "piqa_acc", via="lambada_openai__loss", bootstrap=20)
    with pytest.raises(sl.ScalingLawsError, match="accuracies must lie in"):
        forecast_downstream(PYTHIA, "lambada_openai__ppl", via="lambada_openai__loss", bootstrap=20)
    with pytest.raises(sl.ScalingLawsError, match="column 'pile_loss' is missing"):
        forecast_downstream(PYTHIA, "piqa__acc", via="pile_loss", bootstrap=20)
    with pytest.raises(sl.ScalingLawsError, match="--link must be one of"):
        forecast_downstream(synthetic_ladder(0), "acc", via="loss", chance=0.25, link="logistic", bootstrap=20)
