"""Report sections for backtests, law rankings, `--law auto` fits, recipe comparisons, downstream and test-time
forecasts, from the commands' --json output; hostile group names stay text; and a page of them opened in a real
headless Chromium (skipped where the browser is missing, as in test_report_browser.py)."""

from __future__ import annotations

import contextlib
import io
import json
import warnings

import numpy as np
import pytest

from scalinglaws.cli.app import main
from scalinglaws.plots import load_result
from scalinglaws.report import build_report, report

pytest.importorskip("plotly", reason="the plot extra is not installed")

EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    """Every decision record, as a user keeps it: `scalinglaws COMMAND ... --json > FILE`."""
    from scalinglaws.cli.app import main as run

    folder = tmp_path_factory.mktemp("report_decide")
    rng = np.random.default_rng(0)
    rows = ["run,flops,loss,family"]
    for fam, e, a in (("ref", 2.0, 100.0), (EVIL, 1.9, 200.0)):
        for i, c in enumerate(np.geomspace(1e17, 1e21, 12)):
            rows.append(f"r{fam}{i},{c:.6g},{(e + a * c ** -0.15) * np.exp(rng.normal(0, 0.002)):.6f},\"{fam}\"")
    recipes = folder / "recipes.csv"
    recipes.write_text("\n".join(rows) + "\n")
    p = np.where(rng.random(150) < 0.2, 0.0, rng.beta(0.3, 3.0, 150))
    samples = folder / "samples.csv"
    samples.write_text("problem,samples,correct\n" + "".join(f"p{i},40,{c}\n" for i, c in
                                                             enumerate(rng.binomial(40, p))))
    commands = {
        "bt.json": ["backtest", "dataset:chinchilla_epoch", "--cuts", "3", "--bootstrap", "30"],
        "rank.json": ["backtest", f"{recipes}?family=ref", "--law", "all", "--cuts", "2"],
        "cmp.json": ["compare", str(recipes), "--at", "flops=1e22", "--law", "power", "--bootstrap", "30"],
        "ds.json": ["downstream", "dataset:pythia_evals", "--where", "shots=0", "--via", "lambada_openai__loss",
                    "--task", "piqa__acc", "--task", "logiqa__acc", "--train", "params<2e9", "--train",
                    "step>=1000", "--loss-where", "step=143000", "--test", "params>5e9", "--test", "step=143000",
                    "--bootstrap", "20"],
        "tt.json": ["testtime", str(samples), "--k", "1,10,100,1000", "--fpr", "0.02", "--bootstrap", "30"],
    }
    paths = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, args in commands.items():
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                assert run([*args, "--json"]) == 0
            paths[name] = folder / name
            paths[name].write_text(buf.getvalue())
        assert run(["fit", f"{recipes}?family=ref", "--law", "auto", "-o", str(folder / "auto.json")]) == 0
    paths["auto.json"] = folder / "auto.json"
    return folder, paths


def test_every_decision_record_says_what_it_is(records):
    _, paths = records
    kinds = {"bt.json": "backtest", "rank.json": "ranking", "cmp.json": "comparison", "ds.json": "downstream",
             "tt.json": "testtime", "auto.json": "fit"}
    for name, kind in kinds.items():
        assert json.loads(paths[name].read_text())["format"] == f"scalinglaws.{kind}/1"
        assert load_result(str(paths[name])).to_dict()["format"] == f"scalinglaws.{kind}/1"
    ranking = json.loads(paths["rank.json"].read_text())
    assert {b["format"] for b in ranking["ranking"]} == {"scalinglaws.backtest/1"}


def test_every_decision_record_gets_its_section(records):
    _, paths = records
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = build_report([str(paths[n]) for n in ("bt.json", "rank.json", "auto.json", "cmp.json", "ds.json",
                                                    "tt.json")])
    kinds = [s.kind for s in rep.sections]
    # the auto fit is a law of flops alone: it gets no compute-optimal plan section
    assert kinds == ["backtest", "reliability", "ranking", "fit", "selection", "comparison", "downstream",
                     "testtime"]
    figs = {s.kind: [f.kind for f in s.figures] for s in rep.sections}
    assert figs["backtest"] == ["backtest"] and figs["ranking"] == ["selection"] and figs["selection"] == ["selection"]
    assert figs["reliability"] == ["reliability"]
    assert figs["comparison"] == ["comparison"] and figs["downstream"] == ["downstream"]
    bt = json.loads(paths["bt.json"].read_text())
    sec = rep.sections[0]
    for c in bt["cuts"]:
        assert f"{100 * c['rel_error']:.2f}%" in sec.body
    sel = json.loads(paths["auto.json"].read_text())["extra"]["selection"]
    assert sel["winner"] in rep.sections[4].body
    down = rep.sections[6]
    assert any("logiqa__acc not forecast" in w for w in down.warnings)
    assert "at chance" in down.body and "repeated sampling" in down.body and "loss link" in down.body
    tt = json.loads(paths["tt.json"].read_text())
    assert f"{tt['ceiling']['accuracy']:.3f}" in rep.sections[7].body
    rel = bt["reliability"]
    assert f"{100 * rel['observed'][rel['nominal'].index(0.8)]:.0f}%" in rep.sections[1].body


def test_a_calibration_gets_its_reliability_section(records, tmp_path):
    from scalinglaws.fitting.calibration import resolve

    _, paths = records
    path = resolve("default").save(tmp_path / "calibration.json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = build_report([str(path), "calibration:default", str(paths["rank.json"])])
    kinds = [s.kind for s in rep.sections]
    assert kinds == ["reliability", "reliability", "ranking"]  # a ranking made without a bootstrap has none
    assert [f.kind for f in rep.sections[0].figures] == ["reliability"]
    assert "calibration.json" in rep.sections[0].title and "default calibration" in rep.sections[1].title
    assert "chinchilla_epoch" in rep.sections[0].body


def test_group_names_are_escaped(records, tmp_path):
    _, paths = records
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = report([str(paths["cmp.json"])], tmp_path / "cmp.html")
    html = (tmp_path / "cmp.html").read_text()
    assert EVIL not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert EVIL in rep.sections[0].title  # the record keeps the name as the user wrote it


def test_report_command_errors_name_the_file(records, tmp_path, monkeypatch, capsys):
    folder, _ = records
    broken = tmp_path / "broken.json"
    broken.write_text('{"groups": [], "pairs": [], "axis": "flops"}')  # not a whole comparison: read as a table
    monkeypatch.chdir(tmp_path)
    assert main(["report", str(broken), "-o", "r.html"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and "broken.json" in err and err.count("\n") == 1
    assert not (tmp_path / "r.html").exists()


def test_decision_report_opens_in_chromium(records, tmp_path):
    from test_report_browser import browser_or_skip, open_page

    browser_or_skip()
    _, paths = records
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = report([str(paths[n]) for n in ("bt.json", "rank.json", "cmp.json", "ds.json", "tt.json")],
                     tmp_path / "decide.html")
    n_plots = sum(len(f.panels) for s in rep.sections for f in s.figures)
    seen = open_page(tmp_path / "decide.html", tmp_path / "profile")
    console, requests, dialogs, drawn, legend = (seen[k] for k in ("console", "requests", "dialogs", "drawn",
                                                                   "legend"))
    assert [c for c in console if c[0] in ("error", "pageerror", "warning")] == []
    assert requests == [(tmp_path / "decide.html").as_uri()]
    assert len(drawn) == n_plots and all(n > 0 for n in drawn)
    assert dialogs == [] and any(EVIL in t for t in legend)


def test_an_accuracy_comparison_section_says_who_leads(tmp_path):
    """A higher-is-better comparison on the Pareto front: its section names how it was fitted and who leads."""
    from scalinglaws.decide import compare

    rng = np.random.default_rng(0)
    rows = {"run": [], "recipe": [], "flops": [], "accuracy": []}
    for fam, a, d in (("slow", 17400.0, 0.15), ("fast", 7400.0, 0.25)):
        for i, c in enumerate(np.geomspace(1e17, 1e21, 10)):
            rows["run"].append(f"{fam}{i}")
            rows["recipe"].append(fam)
            rows["flops"].append(c)
            rows["accuracy"].append(1 - a * (c + 1e17) ** -0.25 - d + rng.normal(0, 0.001))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = compare(rows, "recipe", at={"flops": 1e22}, higher_better=True, pareto=True, bootstrap=30, seed=0)
        path = tmp_path / "acc.json"
        path.write_text(json.dumps(res.to_dict()))
        sec = build_report([str(path)]).sections[0]
    assert sec.kind == "comparison" and "fitted as 1 − accuracy, on each group" in sec.body
    assert "Who leads at the target: slow over fast" in sec.body and "no compute lets fast match it" in sec.body
