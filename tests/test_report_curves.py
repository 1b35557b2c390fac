"""Report sections for training curves: a curve law's fit with its schedules, a run in flight, schedules never run
and a family's ranked schedules, from fit files and the commands' --json output."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.cli.app import main
from scalinglaws.report import build_report

pytest.importorskip("plotly", reason="the plot extra is not installed")

EVIL_RUN = "<b>run</b>"
COSINE = "cosine:peak=3e-4,total=23920,warmup=2160,end=3e-5"


@pytest.fixture(scope="module")
def curves(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report_curves")
    runs = sl.load_dataset("multipower_lr_curves").where("size=25M")
    keep = runs.take(np.isin(runs["schedule"], ["cosine", "constant"]))
    data = folder / "curves.csv"
    keep.to_pandas()[["run", "step", "lr", "loss"]].to_csv(data, index=False)
    fit_path = sl.fit(str(data), "schedule", bootstrap=20, seed=0).save(folder / "fit.json")
    one = runs.where("run=25M_cosine_24000")
    half = one.take(one["step"] <= 12000).to_pandas()[["run", "step", "lr", "loss"]]
    half["run"] = EVIL_RUN  # a user's run name: text, never markup
    partial = folder / "partial.csv"
    half.to_csv(partial, index=False)
    return folder, fit_path, partial


def run_json(capsys, path, args):
    assert main([*args, "--json"]) == 0
    path.write_text(capsys.readouterr().out)
    return path


def test_curve_fit_gets_its_schedules_section(curves):
    _, fit_path, _ = curves
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = build_report([str(fit_path)])
    kinds = [s.kind for s in rep.sections]
    assert kinds[:2] == ["fit", "curve_fit"]
    sec = rep.sections[1]
    assert [f.kind for f in sec.figures] == ["curves"] and "learning-rate schedule" in sec.body
    chinchilla = sl.fit("dataset:chinchilla_epoch", "chinchilla")
    assert "curve_fit" not in [s.kind for s in build_report([chinchilla]).sections]


def test_forecasts_and_schedule_search_sections(curves, capsys, tmp_path):
    folder, fit_path, partial = curves
    fc = run_json(capsys, folder / "fc.json", ["forecast", str(partial), "--schedule", COSINE, "--prior",
                                               str(fit_path), "--draws", "20"])
    never = run_json(capsys, folder / "never.json", ["curve", str(fit_path), "--schedule", COSINE])
    best = run_json(capsys, folder / "best.json", ["best-schedule", str(fit_path), "--family", "cosine", "--total",
                                                   "24000", "--peak", "3e-4", "--warmup", "2160"])
    out = tmp_path / "curves.html"
    assert main(["report", str(fc), str(never), str(best), "-o", str(out), "--data", str(partial), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert [s["kind"] for s in rep["sections"]] == ["curve_forecast", "curve_forecast", "schedule_search"]
    assert rep["sections"][0]["title"] == f"Forecast of run {EVIL_RUN} in flight ({fc})"
    assert all(s["figures"] for s in rep["sections"])
    html = out.read_text()
    assert EVIL_RUN not in html and "&lt;b&gt;run&lt;/b&gt;" in html
    d = json.loads(fc.read_text())
    assert f"{d['final']['prediction']:.4f}" in html and "backtest of" in html
    top = json.loads(best.read_text())["best"]
    assert top["schedule"] in html
