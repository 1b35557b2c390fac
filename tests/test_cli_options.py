"""The shared option groups of the command line, and --calibration: one flag on every command that prints a
prediction interval, read once, with one Error line for a file that is missing or is not a calibration."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.fitting.calibration import Calibration
from scalinglaws.plan.planner import plan as make_plan

SOURCE = "dataset:chinchilla_epoch"
TARGET = ("--at", "params=7e10", "--at", "tokens=1.4e12")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A fit with a bootstrap, a calibration with a large model error, and two files that are not calibrations."""
    root = tmp_path_factory.mktemp("calibration")
    fit = sl.fit(SOURCE, "chinchilla", bootstrap=60, seed=0)
    fit.save(root / "fit.json")
    Calibration(tau0=0.2, tau1=0.1, df=None, source=("test",)).save(root / "wide.json")
    (root / "broken.json").write_text("{not json")
    (root / "other.json").write_text(json.dumps({"format": "scalinglaws.fit/1"}))
    return root, fit


def run_json(cli, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code, out, err = cli(*args, "--json")
    assert code == 0, err
    return json.loads(out)


def width(lo, hi) -> float:
    return float(np.log(hi) - np.log(lo))


def test_a_large_model_error_widens_predict_plan_and_plot_intervals(cli, files):
    root, _ = files
    fit, wide = str(root / "fit.json"), str(root / "wide.json")
    narrow = ()
    for cal_args, bigger in ((("--calibration", "none"), False), (("--calibration", wide), True)):
        pred = run_json(cli, "predict", fit, *TARGET, *cal_args)["predictions"][0]
        plan = run_json(cli, "plan", fit, "--flops", "1e24", *cal_args)["intervals"]["loss"]
        fig = run_json(cli, "plot", fit, "--kind", "extrapolation", *cal_args)["figures"][0]
        band = next(s for p in fig["panels"] for s in p["series"] if s["label"].endswith("prediction interval "
                                                                                        "(a new run)"))
        got = (width(pred["lower"], pred["upper"]), width(*plan), width(band["y"][-1], band["y2"][-1]))
        if bigger:
            assert all(w > 1.5 * b for w, b in zip(got, narrow)), (got, narrow)
        narrow = got


def test_calibration_none_is_no_calibration(cli, files):
    root, fit = files
    fit_file = str(root / "fit.json")
    pred = run_json(cli, "predict", fit_file, *TARGET, "--calibration", "none")
    assert pred == fit.predict(params=7e10, tokens=1.4e12, calibration=None).to_dict()
    assert "not included" in pred["interval_method"]["model"]["source"]
    plan = run_json(cli, "plan", fit_file, "--flops", "1e24", "--calibration", "none")
    assert plan == json.loads(json.dumps(make_plan(fit, flops=1e24, calibration=None).to_dict()))
    wide = run_json(cli, "predict", fit_file, *TARGET, "--calibration", str(root / "wide.json"))
    assert wide["interval_method"]["model"]["tau0"] == 0.2


def test_compare_and_report_take_the_calibration(cli, files, tmp_path):
    root, _ = files
    wide = str(root / "wide.json")
    rng = np.random.default_rng(0)
    rows = ["run,family,flops,loss"]
    for fam, a in (("a", 8.0), ("b", 9.0)):
        for i, c in enumerate(np.geomspace(1e17, 1e21, 8)):
            rows.append(f"{fam}{i},{fam},{c:.6g},{(1.5 + a * 1e4 * c ** -0.25) * np.exp(rng.normal(0, 0.01)):.6g}")
    table = tmp_path / "recipes.csv"
    table.write_text("\n".join(rows) + "\n")
    args = ("compare", str(table), "--at", "flops=1e22", "--law", "power", "--bootstrap", "30")
    plain = run_json(cli, *args, "--calibration", "none")["groups"][0]
    widened = run_json(cli, *args, "--calibration", wide)["groups"][0]
    assert width(widened["lower"], widened["upper"]) > 1.5 * width(plain["lower"], plain["upper"])
    assert widened["interval_method"]["model"]["tau1"] == 0.1
    page = tmp_path / "report.html"
    rep = run_json(cli, "report", str(root / "fit.json"), "-o", str(page), *TARGET, "--calibration", wide)
    assert f"--calibration {wide}" in rep["command"]


@pytest.mark.parametrize("name, says", [
    ("missing.json", "no such file"),
    ("broken.json", "broken.json is not a calibration file (not valid JSON)"),
    ("other.json", "other.json is not a scalinglaws calibration"),
])
def test_a_bad_calibration_is_one_error_line(cli, files, name, says):
    root, _ = files
    path = str(root / name)
    for args in (("predict", str(root / "fit.json"), *TARGET), ("plan", str(root / "fit.json"), "--flops", "1e24"),
                 ("plot", str(root / "fit.json"), "--json"), ("compare", SOURCE, "--at", "flops=1e22")):
        code, out, err = cli(*args, "--calibration", path)
        assert code == 1 and not out, args
        assert err.startswith(f"Error: --calibration {path}: {says}") and err.count("\n") == 1, err


def test_every_command_that_prints_a_prediction_interval_takes_the_flag(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    for name in ("predict", "plan", "forecast", "curve", "compare", "downstream", "plot", "report"):
        code, out, _ = cli(name, "--help")
        assert code == 0 and "--calibration" in out, name
