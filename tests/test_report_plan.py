"""Report sections for planning records: a plan's every answer and Chinchilla's three approaches, from the commands'
--json output and from live records, with their figures."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.cli.app import main
from scalinglaws.report import build_report

pytest.importorskip("plotly", reason="the plot extra is not installed")

SWEEP = "dataset:porian_isoflop?family=tuned_no_decay&dataset=refinedweb"


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report_plan")
    rng = np.random.default_rng(0)
    n = np.repeat([1e8, 3e8, 1e9, 3e9], 5)
    d = np.tile(np.geomspace(2e9, 2e11, 5), 4)
    loss = (1.8 + 400 * n ** -0.34 + 2000 * d ** -0.37) * np.exp(rng.normal(0, 0.003, n.size))
    data = folder / "runs.csv"
    data.write_text("run,params,tokens,loss\n" + "".join(f"r{i},{a},{b},{c}\n" for i, (a, b, c)
                                                           in enumerate(zip(n, d, loss))))
    fit_path = sl.fit(str(data), "chinchilla", bootstrap=100, seed=0).save(folder / "fit.json")
    return folder, fit_path


def run_json(capsys, path, args):
    assert main([*args, "--json"]) == 0
    path.write_text(capsys.readouterr().out)
    return path


def test_plan_section_holds_every_answer_and_its_figures(records, capsys):
    folder, fit_path = records
    plan = run_json(capsys, folder / "plan.json", ["plan", str(fit_path), "--flops", "1e22", "--inference-tokens",
                                                   "1e12", "--unique-tokens", "3e10", "--ratios", "20,100",
                                                   "--frontier", "1e20:1e22:3"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = build_report([str(plan)])
    (sec,) = rep.sections
    d = json.loads(plan.read_text())
    assert sec.kind == "plan_record" and sec.title.startswith("Plan: inference-aware run under chinchilla")
    assert [f.kind for f in sec.figures] == ["plan", "frontier", "overtraining", "inference"]
    for caption in ("Recommended run", "Compute-optimal at", "Data-constrained", "Inference-aware", "Over-training",
                    "Frontier"):
        assert caption in sec.body
    assert sl.render.text.num(d["params"]) in sec.body and "total compute saved" in sec.body
    assert rep.inputs[0]["kind"] == "plan"


def test_approaches_section_with_and_without_the_sweep(records, capsys):
    folder, _ = records
    path = run_json(capsys, folder / "approaches.json", ["approaches", SWEEP, "--bootstrap", "20"])
    d = json.loads(path.read_text())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = build_report([str(path)])
        with_data = build_report([str(path)], data=SWEEP)
    (sec,) = rep.sections
    assert sec.kind == "approaches" and "--data" in sec.body
    assert f"{d['approaches'][0]['exponent_params']:.3g}" in sec.body
    for a in d["approaches"]:
        assert a["title"] in sec.body
    (fig,) = with_data.sections[0].figures
    assert sum(s.kind == "points" for s in fig.panels[2].series) == len(d["profiles"])


def test_report_command_on_plans(records, capsys, tmp_path):
    folder, fit_path = records
    plan = run_json(capsys, folder / "plan_small.json", ["plan", str(fit_path), "--flops", "1e21", "--ratios",
                                                         "10,20,40"])
    out = tmp_path / "plans.html"
    assert main(["report", str(fit_path), str(plan), "-o", str(out), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert [s["kind"] for s in rep["sections"]] == ["fit", "plan", "plan_record"]
    assert [f["kind"] for f in rep["sections"][2]["figures"]] == ["plan", "overtraining"]
    html = out.read_text()
    assert html.count("class='sl-plot'") == sum(f["panels"] for s in rep["sections"] for f in s["figures"])
