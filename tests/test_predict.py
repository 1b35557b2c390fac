"""Predictions: intervals from the bootstrap, input order, extrapolation flags, and bad targets."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws.demo import epoch_runs
from scalinglaws.errors import ExtrapolationWarning, ScalingLawsError
from scalinglaws.fitting import fit


@pytest.fixture(scope="module")
def boot_fit():
    return fit(epoch_runs(), "chinchilla", bootstrap=400, seed=0)


def test_intervals_bracket_the_prediction(boot_fit):
    pred = boot_fit.predict(params=[1e8, 1e9, 7e10], tokens=[2e9, 2e10, 1.4e12])
    assert np.all(pred.lower < pred.prediction) and np.all(pred.prediction < pred.upper)
    conf = boot_fit.predict(params=[1e8, 1e9, 7e10], tokens=[2e9, 2e10, 1.4e12], interval="confidence")
    assert np.all(conf.upper - conf.lower < pred.upper - pred.lower)  # the law is surer than a new run
    wider = boot_fit.predict(params=[7e10], tokens=[1.4e12], level=0.99)
    assert wider.upper[0] - wider.lower[0] > pred.upper[2] - pred.lower[2]


def test_prediction_interval_covers_held_out_runs():
    """Fitted on 3 of every 4 runs, the plain 90% prediction interval covers roughly 90% of the others (they lie
    inside the fitted range: no model error to add), and the calibrated one more, never less."""
    runs = epoch_runs()
    held = np.arange(len(runs)) % 4 == 0
    f = fit(runs.take(~held), "chinchilla", bootstrap=300, seed=0)
    test = runs.take(held)
    plain = f.predict(test, level=0.9, calibration="none")
    covered = np.mean((plain.lower <= test["loss"]) & (test["loss"] <= plain.upper))
    assert 0.8 <= covered <= 0.98
    made = f.predict(test, level=0.9)
    assert np.all(made.lower <= plain.lower) and np.all(made.upper >= plain.upper)
    assert "model" in made.method and "calibration default" in made.method["model"]["source"]


def test_order_and_records_follow_the_input(boot_fit):
    params = [7e10, 1e8, 1e9, 1e8]
    pred = boot_fit.predict(params=params, tokens=[1.4e12, 2e9, 2e10, 2e9])
    rec = pred.records()
    assert [r["params"] for r in rec] == params
    assert rec[1]["prediction"] == rec[3]["prediction"]  # repeated targets are kept, not deduplicated
    d = pred.to_dict()
    assert d["interval"] == "prediction" and d["level"] == 0.95 and len(d["predictions"]) == 4


def test_far_extrapolation_is_flagged(boot_fit):
    with pytest.warns(ExtrapolationWarning, match="extrapolate up to"):
        pred = boot_fit.predict(params=[1e13], tokens=[1e15])
    assert pred.extrapolation[0] > 100
    inside = boot_fit.predict(params=[1e9], tokens=[2e10])
    assert inside.extrapolation[0] == 1.0


def test_fit_without_bootstrap_has_no_interval():
    f = fit(epoch_runs(), "chinchilla")
    pred = f.predict(params=1e9, tokens=2e10)
    assert pred.lower is None and pred.to_dict()["interval"] is None


def test_bad_targets(boot_fit):
    with pytest.raises(ScalingLawsError, match="missing: tokens"):
        boot_fit.predict(params=[1e9])
    with pytest.raises(ScalingLawsError, match="different lengths"):
        boot_fit.predict(params=[1e9, 2e9], tokens=[1e10, 2e10, 3e10])
    with pytest.raises(ScalingLawsError, match="must be positive"):
        boot_fit.predict(params=[-1e9], tokens=[1e10])
    with pytest.raises(ScalingLawsError, match="interval must be 'prediction' or 'confidence'"):
        boot_fit.predict(params=[1e9], tokens=[1e10], interval="both")


def test_a_bound_with_no_value_is_null_in_json(cli, tmp_path):
    """Where the law or its draws give no finite value (here a power of a negative number) `predict --json` writes
    null, never NaN (JSON has none), and says so; the table shows a dash."""
    import json

    rng = np.random.default_rng(0)
    x = np.geomspace(2e18, 1e21, 12)
    y = (1.8 + 50 * (x - 1e18) ** -0.1) * np.exp(rng.normal(0, 0.002, 12))
    data = tmp_path / "runs.csv"
    data.write_text("run,flops,loss\n" + "".join(f"r{i},{a:.6g},{b:.6f}\n" for i, (a, b) in enumerate(zip(x, y))))
    fit_file = tmp_path / "fit.json"
    code, _, err = cli("fit", str(data), "--law", "E + A*(C-1e18)**-alpha", "--input", "C=flops", "--bootstrap",
                       "20", "-o", str(fit_file))
    assert code == 0, err
    code, out, err = cli("predict", str(fit_file), "--at", "flops=5e17,2e21", "--json")
    assert code == 0, err

    def no_nan(token):
        raise AssertionError(f"{token} in the JSON")

    rec = json.loads(out, parse_constant=no_nan)
    rows = rec["predictions"]
    assert rows[0]["lower"] is None and rows[0]["upper"] is None and rows[0]["prediction"] is None
    assert rows[1]["lower"] < rows[1]["prediction"] < rows[1]["upper"]
    assert any("written as null" in w for w in rec["warnings"]) and "written as null" in err
    code, out, _ = cli("predict", str(fit_file), "--at", "flops=5e17")
    assert code == 0 and "[–, –]" in out


def test_an_interval_record_with_no_finite_value_is_json():
    import json

    from scalinglaws.fitting.prediction import Predictions

    p = Predictions(inputs={"flops": np.array([1e20])}, prediction=np.array([np.inf]), lower=np.array([np.nan]),
                    upper=np.array([np.nan]), extrapolation=np.array([1.0]), level=0.95, interval="prediction",
                    target="loss", method={"model": {"tau": [np.nan, np.inf]}})
    d = json.loads(json.dumps(p.to_dict(), allow_nan=False))
    assert d["predictions"][0]["upper"] is None and d["interval_method"]["model"]["tau"] == [None, None]


def test_extrapolation_is_said_one_way_with_its_unit():
    from scalinglaws.render.text import beyond, num, step

    assert beyond(10.0, ("N", "D")) == "10× beyond the fitted N, D"
    assert beyond(1.0, ("N", "D")) == "inside the fitted range"
    assert beyond(1.0, ("S",), outside=True) == "outside the fitted range"
    assert beyond(61.8, short=True) == "61.8×"
    assert [num(12000), num(143000.0), num(2143.4), step(12000.0), step(1.2e6)] == ["12000", "1.430e+05", "2143",
                                                                                    "12000", "1200000"]


def test_a_curve_prediction_at_step_zero_is_outside_the_data():
    import scalinglaws as sl

    runs = sl.load_dataset("multipower_lr_curves").where("size=25M", "schedule=cosine|constant")
    fit = sl.fit(runs, "schedule")
    rows = runs.where("schedule=cosine").take([0, 1, 30])
    first = rows.with_columns(step=np.where(np.arange(3) == 0, 0.0, rows["step"]))
    pred = fit.predict(first)
    assert pred.records()[0]["beyond_data"] and not pred.records()[2]["beyond_data"]
    assert "outside" in pred._repr_html_()


def test_the_laws_symbols_and_model_names_say_where_to_predict(cli, tmp_path):
    import scalinglaws as sl
    from scalinglaws.runs.values import size_in_name

    assert size_in_name("pythia-160m") == 1.6e8 and size_in_name("meta-llama/Llama-2-7b-hf") == 7e9
    assert size_in_name("EleutherAI/pythia-1.4b-deduped") == 1.4e9
    with pytest.raises(ValueError):
        size_in_name("pythia")
    fit = sl.fit("dataset:chinchilla_epoch", law="chinchilla", where=["params<1e9"])
    by_symbol = sl.predict(fit, {"N": [7e10], "D": [1.4e12]}).prediction
    by_column = sl.predict(fit, {"params": [7e10], "tokens": [1.4e12]}).prediction
    assert by_symbol[0] == by_column[0]
    path = tmp_path / "fit.json"
    fit.save(path)
    code, out, err = cli("predict", str(path), "--at", "params=pythia-160m", "--at", "tokens=3e11", "--json")
    assert code == 0, err
    assert '"params": 160000000.0' in out.replace("1.6e+08", "160000000.0")
