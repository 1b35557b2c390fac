"""Figures of training curves: a curve law's fit with each run's schedule, forecasts of a run in flight and of
schedules never run, and a family's ranked schedules; checked against the law and the records, live and read back
from the commands' --json output."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.cli.app import main
from scalinglaws.errors import DataWarning, ScalingLawsError
from scalinglaws.plots import figure, kinds_for, load_result, save
from scalinglaws.plots.saved import CurveForecast, CurveForecasts, ScheduleSearch
from scalinglaws.records import json_default

pytest.importorskip("matplotlib", reason="the plot extra is not installed")

RUN = "25M_cosine_24000"
COSINE = "cosine:peak=3e-4,total=23920,warmup=2160,end=3e-5"


@pytest.fixture(scope="module")
def curves(tmp_path_factory):
    folder = tmp_path_factory.mktemp("curves")
    runs = sl.load_dataset("multipower_lr_curves").where("size=25M")
    keep = runs.take(np.isin(runs["schedule"], ["cosine", "constant", "wsd_exp_decay"]))
    data = folder / "curves.csv"
    keep.to_pandas()[["run", "step", "lr", "loss"]].to_csv(data, index=False)
    fit = sl.fit(str(data), "schedule", bootstrap=20, seed=0)
    path = fit.save(folder / "fit.json")
    one = runs.where(f"run={RUN}")
    partial = folder / "partial.csv"
    one.take(one["step"] <= 12000).to_pandas()[["run", "step", "lr", "loss"]].to_csv(partial, index=False)
    return folder, fit, path, data, partial


def test_curves_figure_draws_the_law_along_each_schedule(curves):
    _, fit, path, data, _ = curves
    assert "curves" in kinds_for(fit)
    assert "curves" not in kinds_for(sl.fit("dataset:chinchilla_epoch", "chinchilla"))  # only curve laws
    fig = figure("curves", path)
    loss, lr = fig.panels
    assert not loss.xlog and not lr.xlog  # steps on a linear axis, where a schedule's shape is seen
    table = sl.read_runs(str(data))
    names = sorted(set(table["run"]))
    lines = {s.group: s for s in loss.series if s.kind == "line"}
    assert sorted(lines) == names
    for name in names:
        rows = table.where(f"run={name}")
        pred = fit.predict(rows).prediction  # the law computes each row from the run's whole schedule
        kept = np.isin(rows["step"], lines[name].x)
        np.testing.assert_allclose(lines[name].y, pred[kept], rtol=1e-10)
        sched = [s for s in lr.series if s.group == name][0]
        np.testing.assert_allclose(sched.y, rows["lr"][kept])
    markers = [s for s in loss.series if s.kind == "points"]
    assert all(len(s.x) <= 30 for s in markers)
    with pytest.raises(ScalingLawsError, match="not a training-curve law"):
        figure("curves", sl.fit("dataset:chinchilla_epoch", "chinchilla"))


def test_forecast_of_a_run_in_flight(curves, tmp_path, capsys):
    from scalinglaws.curves import forecast_run

    folder, _, path, _, partial = curves
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fc = forecast_run(str(partial), schedule=COSINE, prior=path, draws=20, seed=0)
    fig = figure("forecast", fc, data=str(partial))
    loss, lr = fig.panels
    line = [s for s in loss.series if s.kind == "line"][0]
    assert line.y == fc.prediction and line.x == fc.steps
    band = [s for s in loss.series if s.kind == "band"][0]
    assert band.y == fc.lower and band.y2 == fc.upper
    final = [s for s in loss.series if s.kind == "errorbar"][0]
    assert (final.x[0], final.y[0], *final.y2) == (fc.final_step, fc.final, fc.lower[-1], fc.upper[-1])
    assert [s.x[0] for s in loss.series if s.kind == "vline"] == [fc.observed_until]
    logged = sl.read_runs(str(partial))
    dots = [s for s in loss.series if s.label == "logged"][0]
    np.testing.assert_allclose(dots.y, logged["loss"])
    assert [s.label for s in lr.series] == ["logged", "planned"]
    assert "backtest" in fig.caption.lower()
    # the same forecast printed by the command and read back
    assert main(["forecast", str(partial), "--schedule", COSINE, "--prior", str(path), "--draws", "20",
                 "--json"]) == 0
    saved = tmp_path / "forecast.json"
    saved.write_text(capsys.readouterr().out)
    rec = load_result(str(saved))
    assert isinstance(rec, CurveForecast)
    assert rec.to_dict()["format"] == fc.to_dict()["format"] == "scalinglaws.curve_forecast/1"
    again = figure("forecast", rec, data=str(partial))
    assert [s for s in again.panels[0].series if s.kind == "line"][0].y == line.y
    without = figure("forecast", rec)
    assert any("--data" in n for n in without.panels[0].notes)
    with pytest.warns(DataWarning, match="no logged loss of run"):
        figure("forecast", rec, data="dataset:multipower_lr_curves?size=400M")


def test_schedules_never_run_and_the_best_schedule(curves, tmp_path, capsys):
    _, fit, path, _, _ = curves
    from scalinglaws.curves import forecast_schedule, forecast_schedules

    wsd = "wsd:peak=3e-4,total=24000,warmup=2160,decay=0.2,shape=linear"
    assert main(["curve", str(path), "--schedule", wsd, "--schedule", COSINE, "--json"]) == 0
    saved = tmp_path / "curves.json"
    saved.write_text(capsys.readouterr().out)
    rec = load_result(str(saved))
    assert isinstance(rec, CurveForecasts) and rec.to_dict()["format"] == "scalinglaws.curve_forecasts/1"
    fig = figure("forecast", rec)
    lines = [s for s in fig.panels[0].series if s.kind == "line"]
    assert len(lines) == 2
    live = forecast_schedule(fit, wsd)
    np.testing.assert_allclose(lines[0].y, live.prediction)
    names = [s.label for s in fig.panels[1].series]
    assert names == ["wsd: total=24000, decay=0.2, shape=linear", "cosine: total=23920"]  # what differs
    both = forecast_schedules(fit, [wsd, COSINE])  # the live record the command printed
    assert json.loads(json.dumps(both.to_dict(), default=json_default)) == rec.to_dict()
    assert json.loads(json.dumps(figure("forecast", both).to_dict(), default=json_default)) == fig.to_dict()
    assert main(["best-schedule", str(path), "--family", "wsd", "--total", "24000", "--peak", "3e-4", "--warmup",
                 "2160", "--json"]) == 0
    best = tmp_path / "best.json"
    best.write_text(capsys.readouterr().out)
    rec = load_result(str(best))
    assert isinstance(rec, ScheduleSearch) and rec.to_dict()["format"] == "scalinglaws.schedule_search/1"
    (panel,) = figure("schedule_search", rec).panels
    points = sorted((x, y) for s in panel.series for x, y in zip(s.x, s.y))
    finals = [c["final"] for c in rec.to_dict()["candidates"][:20]]
    assert [p[0] for p in points] == list(range(1, 21)) and [p[1] for p in points] == finals
    assert finals == sorted(finals)
    assert save(rec, tmp_path / "best.svg").read_text().lstrip().startswith("<?xml")


def test_forecast_errors(curves, tmp_path, capsys, monkeypatch):
    folder, _, path, _, partial = curves
    assert main(["forecast", str(partial), "--schedule", COSINE, "--prior", str(path), "--draws", "0",
                 "--json"]) == 0
    saved = tmp_path / "fc.json"
    saved.write_text(capsys.readouterr().out)
    monkeypatch.chdir(tmp_path)
    assert main(["plot", str(saved), "--data", "dataset:chinchilla_epoch", "-o", "f.png"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: --data: column 'step' is missing") and err.count("\n") == 1
    assert main(["plot", str(saved), "--kind", "curves", "-o", "f.png"]) == 1
    assert "does not draw a CurveForecast" in capsys.readouterr().err
    assert not (tmp_path / "f.png").exists()
    assert main(["plot", str(saved), "-o", "f.png", "--data", str(partial)]) == 0
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
