"""Curve forecasts: runs in flight, schedules never run, the best schedule of a family, predictions of (run, step,
lr) rows, and the commands forecast, curve and best-schedule."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.curves.forecast import forecast_run, forecast_schedule
from scalinglaws.curves.restrict import refit_free
from scalinglaws.curves.schedules import Schedule
from scalinglaws.curves.shapes import best_schedule, candidates
from scalinglaws.errors import ScalingLawsError
from scalinglaws.fitting.data import law_inputs
from scalinglaws.laws import LAWS
from scalinglaws.laws.fixed import fix_params

TRUTH = np.array([3.0, 0.5, 0.45, 0.4])  # lr_annealing: L0, A, alpha, C


@pytest.fixture(scope="module")
def mpl():
    return sl.load_dataset("multipower_lr_curves")


@pytest.fixture(scope="module")
def fit100(mpl):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sl.fit(mpl.where("size=100M"), "schedule", bootstrap=100, seed=0)


def half_run(mpl, name):
    g = mpl.where(f"run={name}")
    total = g["step"].max()
    return g, g.with_columns(loss=np.where(g["step"] <= total / 2, g["loss"], np.nan))


def synthetic_rows(spec: str, every: int = 50) -> dict:
    s = Schedule.parse(spec)
    steps = np.arange(0, s.total + 1, every, dtype=float)
    return {"run": np.array(["r"] * len(steps), dtype=object), "step": steps, "lr": s.lr(steps)}


# -- runs in flight -----------------------------------------------------------------------------------------------
def test_in_flight_without_a_prior_lands_near_the_final_loss(mpl):
    g, data = half_run(mpl, "100M_cosine_24000")
    fc = forecast_run(data, draws=100)
    final = g["loss"][-1]
    assert fc.final == pytest.approx(final, rel=0.005)  # measured: +0.13% (benchmarks/bench_curves.py)
    assert fc.lower[-1] <= final <= fc.upper[-1]
    assert fc.observed_until == 11888 and fc.final_step == 23920 and fc.prior is None
    assert fc.refit == ("L0", "A", "alpha", "C") and fc.backtest["to_step"] == 11888
    assert fc.steps[0] > fc.observed_until and len(fc.steps) <= 200
    d = fc.to_dict()
    assert d["final"]["prediction"] == fc.final and json.dumps(d)


def test_in_flight_with_a_prior_refits_only_the_runs_own_parameters(mpl, fit100):
    g, data = half_run(mpl, "400M_wsd_20000_24000")  # constant until 20000: the half says nothing of annealing
    with pytest.raises(ScalingLawsError, match="has not started to decay"):
        forecast_run(data, draws=0)
    prior = fit100
    fc = forecast_run(data, prior=prior, draws=100)
    assert fc.refit == ("L0", "A", "alpha") and fc.params["C"] == prior.params["C"]
    assert fc.final == pytest.approx(g["loss"][-1], rel=0.01)
    assert fc.lower[-1] < fc.final < fc.upper[-1] and fc.draws == 100
    assert "schedule fit of" in fc.prior


def test_plan_by_name_equals_plan_by_rows(mpl):
    _, data = half_run(mpl, "25M_cosine_24000")
    by_rows = forecast_run(data, draws=0)
    logged = data.take(np.isfinite(data["loss"]))
    by_name = forecast_run(logged, schedule="cosine:peak=3e-4,total=23920,warmup=2160,end=3e-5", draws=0)
    assert by_name.final == pytest.approx(by_rows.final, rel=2e-4)
    assert by_name.schedule["family"] == "cosine" and by_rows.schedule is None


def test_a_run_that_never_decays_is_forecast_without_the_annealing_term(mpl):
    g, data = half_run(mpl, "25M_constant_24000")
    fc = forecast_run(data, draws=0)
    assert fc.params["C"] == 0 and "C" not in fc.refit
    assert fc.final == pytest.approx(g["loss"][-1], rel=0.005)


def test_in_flight_input_errors(mpl, fit100, tmp_path):
    two = mpl.take(np.isin(mpl["run"], ["25M_cosine_24000", "25M_constant_24000"]))
    with pytest.raises(ScalingLawsError, match="holds 2 runs .* choose one with --run"):
        forecast_run(two)
    with pytest.raises(ScalingLawsError, match="run 'nope' is not in"):
        forecast_run(two, run="nope")
    logged = mpl.where("run=25M_cosine_24000")
    with pytest.raises(ScalingLawsError, match="plan of run .* after step 23920 is unknown"):
        forecast_run(logged)
    with pytest.raises(ScalingLawsError, match="schedule ends at step 10000"):
        forecast_run(logged, schedule="cosine:peak=3e-4,total=10000")
    with pytest.raises(ScalingLawsError, match="not a curve law"):
        forecast_run(logged, law="chinchilla")
    _, data = half_run(mpl, "25M_cosine_24000")
    with pytest.raises(ScalingLawsError, match="only with a prior fit of its ladder"):
        forecast_run(data, law="lr_annealing_nd")
    no_loss = data.with_columns(loss=np.full(len(data), np.nan))
    with pytest.raises(ScalingLawsError, match="no logged loss yet"):
        forecast_run(no_loss)


# -- schedules never run ------------------------------------------------------------------------------------------
def test_curve_of_a_schedule_never_run(mpl, fit100):
    g = mpl.where("run=100M_wsdld_20000_24000")
    fc = forecast_schedule(fit100, "wsd:peak=3e-4,total=23904,warmup=2160,decay_start=20000,shape=linear,end=3.648e-5")
    assert fc.final == pytest.approx(g["loss"][-1], rel=0.005)
    assert fc.steps[0] > 2160 and fc.steps[-1] == 23904  # the warm-up is not shown
    assert fc.lower is not None and all(lo <= p <= hi for lo, p, hi in zip(fc.lower, fc.prediction, fc.upper))


def test_predictions_of_run_step_lr_rows_keep_input_order(fit100):
    rows = synthetic_rows("wsd:peak=3e-4,total=24000,warmup=2160,decay=0.2", every=100)
    ordered = fit100.predict(rows).prediction
    perm = np.random.default_rng(0).permutation(len(rows["step"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        shuffled = fit100.predict({k: v[perm] for k, v in rows.items()}).prediction
    np.testing.assert_allclose(shuffled, ordered[perm], rtol=1e-12)


# -- best schedule ------------------------------------------------------------------------------------------------
def test_best_schedule_is_the_brute_force_minimum():
    """With a known law, the search's best wsd decay equals the minimum over every decay length, step by step."""
    rows = synthetic_rows("cosine:peak=1e-3,total=8000,warmup=500")
    law = LAWS["lr_annealing"]
    x = law_inputs(law, sl.read_runs(rows), dict(law.inputs))
    rows["loss"] = law(x, TRUTH[None])[0]
    rows2 = synthetic_rows("constant:peak=1e-3,total=8000,warmup=500")
    x2 = law_inputs(law, sl.read_runs(rows2), dict(law.inputs))
    rows2["loss"] = law(x2, TRUTH[None])[0]
    rows2["run"] = np.array(["c"] * len(rows2["step"]), dtype=object)
    both = {k: np.concatenate([rows[k], rows2[k]]) for k in rows}
    f = sl.fit(both, "lr_annealing", bootstrap=30)
    grid = np.round(np.arange(0.05, 0.61, 0.05), 2)
    search = best_schedule(f, "wsd", total=8000, peak=1e-3, warmup=500, grid={"decay": grid, "shape": ["linear"],
                                                                                "end": [0.0]})
    finals = []
    for d in grid:
        s = Schedule("wsd", 1e-3, 8000, 500, end=0.0, decay=float(d))
        xs = law_inputs(law, sl.read_runs({"run": np.array(["s"] * 8001, dtype=object),
                                           "step": np.arange(8001.0), "lr": s.lr()}), dict(law.inputs))
        finals.append(law(xs, TRUTH[None])[0][-1])
    assert search.best["decay"] == pytest.approx(grid[int(np.argmin(finals))])
    assert search.best["final"] == pytest.approx(min(finals), rel=1e-4)
    assert sum(c["p_best"] for c in search.candidates) == pytest.approx(1.0)
    assert [c["final"] for c in search.candidates] == sorted(c["final"] for c in search.candidates)


def test_family_grids():
    assert len(candidates("wsd", total=1000, peak=1.0)) == 9 * 4 * 3
    assert len(candidates("constant", total=1000, peak=1.0)) == 1
    steps = candidates("step", total=1000, peak=1.0, warmup=600)  # drops inside the warm-up are skipped
    assert all(s.at[0] > 600 for _, s in steps)
    with pytest.raises(ScalingLawsError, match="has no grid axis 'decay'"):
        candidates("cosine", total=1000, peak=1.0, grid={"decay": [0.1]})


def test_restricted_law_and_quick_refits():
    rows = synthetic_rows("cosine:peak=1e-3,total=8000,warmup=500")
    law = LAWS["lr_annealing"]
    x = law_inputs(law, sl.read_runs(rows), dict(law.inputs))
    y = law(x, TRUTH[None])[0]
    small = fix_params(law, {"C": 0.4, "alpha": 0.45})
    assert small.param_names == ["L0", "A"] and small.linear == ("L0", "A")
    np.testing.assert_allclose(small(x, np.array([[3.0, 0.5]])), y[None], rtol=1e-14)
    out = refit_free(law, x, [y, y * 1.01], [TRUTH * [1.1, 0.9, 1, 1]] * 2, ["L0", "A"])
    np.testing.assert_allclose(out[0], TRUTH, rtol=1e-6)
    assert out[1][0] == pytest.approx(1.01 * 3.0, rel=1e-3)


# -- commands -----------------------------------------------------------------------------------------------------
def test_fit_curve_best_schedule_and_predict_commands(cli, tmp_path, mpl):
    fit_path = tmp_path / "fit.json"
    code, out, _ = cli("fit", "dataset:multipower_lr_curves?size=25M", "--law", "schedule", "--bootstrap", "50",
                       "-o", str(fit_path))
    assert code == 0 and "early-transient" in out
    code, out, _ = cli("curve", str(fit_path), "-s", "wsd:peak=3e-4,total=24000,warmup=2160,decay=0.2", "--json")
    assert code == 0
    curve = json.loads(out)["curves"][0]
    assert curve["final"]["step"] == 24000 and curve["schedule"]["decay_start"] == 19200
    code, out, _ = cli("best-schedule", str(fit_path), "--total", "24000", "--peak", "3e-4", "--warmup", "2160",
                       "--grid", "decay=0.1,0.2", "--json")
    best = json.loads(out)
    assert code == 0 and len(best["candidates"]) == 2 * 4 * 3 and best["best"]["p_best"] is not None
    code, out, _ = cli("best-schedule", str(fit_path), "-f", "cosine", "--total", "24000", "--peak", "3e-4")
    assert code == 0 and "P(best)" in out and "best: cosine:" in out
    targets = tmp_path / "targets.csv"
    targets.write_text("run,step,lr\nnew,0,0\nnew,12000,0.0003\nnew,6000,0.0003\nnew,24000,0.00003\n")
    code, out, _ = cli("predict", str(fit_path), "--data", str(targets), "--json")
    preds = json.loads(out)["predictions"]
    assert code == 0 and [p["step"] for p in preds] == [0, 12000, 6000, 24000]
    assert preds[1]["prediction"] < preds[2]["prediction"]


def test_forecast_command(cli, tmp_path, mpl):
    g, data = half_run(mpl, "100M_cosine_24000")
    path = tmp_path / "inflight.csv"
    data.to_pandas()[["run", "step", "lr", "loss"]].to_csv(path, index=False)
    code, out, _ = cli("forecast", str(path), "--draws", "50", "--json")
    assert code == 0
    d = json.loads(out)
    assert d["final"]["step"] == 23920 and d["final"]["lower"] < d["final"]["prediction"] < d["final"]["upper"]
    code, out, _ = cli("forecast", str(path), "--draws", "0", "--rows", "3")
    assert code == 0 and "final loss at step 23920" in out and "backtest" not in out


@pytest.mark.parametrize("args, message", [
    (["forecast", "dataset:multipower_lr_curves"], "holds 27 runs"),
    (["forecast", "dataset:multipower_lr_curves", "--run", "25M_wsd_20000_24000", "--transient", "x"],
     "is not a rule"),
    (["curve", "FIT", "-s", "wsd:peak=3e-4"], "needs total"),
    (["best-schedule", "FIT", "-f", "triangle", "--total", "100", "--peak", "1"], "unknown schedule family"),
    (["best-schedule", "FIT", "--total", "100", "--peak", "1", "--grid", "decay=a"], "comma-separated numbers"),
])
def test_command_errors_are_one_line(cli, tmp_path, args, message):
    fit_path = tmp_path / "fit.json"
    rows = synthetic_rows("cosine:peak=1e-3,total=8000,warmup=500")
    law = LAWS["lr_annealing"]
    rows["loss"] = law(law_inputs(law, sl.read_runs(rows), dict(law.inputs)), TRUTH[None])[0]
    sl.fit(rows, "lr_annealing").save(fit_path)
    args = [str(fit_path) if a == "FIT" else a for a in args]
    code, _, err = cli(*args)
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1, err


def test_predict_table_shows_run_names_and_warns_of_a_late_start(cli, tmp_path):
    fit_path = tmp_path / "fit.json"
    rows = synthetic_rows("cosine:peak=1e-3,total=8000,warmup=500")
    law = LAWS["lr_annealing"]
    rows["loss"] = law(law_inputs(law, sl.read_runs(rows), dict(law.inputs)), TRUTH[None])[0]
    sl.fit(rows, "lr_annealing").save(fit_path)
    targets = tmp_path / "late.csv"
    targets.write_text("run,step,lr\nlate,6000,0.0003\nlate,8000,0.0001\n")
    code, out, err = cli("predict", str(fit_path), "--data", str(targets))
    assert code == 0 and "late" in out and "run 'late' starts late in its schedule" in err
