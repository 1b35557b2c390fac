"""The HTML report: its sections, its provenance, escaping of user text, and the command that rebuilds it.

The page is opened in a real browser in test_report_browser.py.
"""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.cli.app import main
from scalinglaws.report import build_report, command_line, report
from scalinglaws.report.build import number_text
from scalinglaws.report.page import script_json

pytest.importorskip("plotly", reason="the plot extra is not installed")

EVIL = "<img src=x onerror=alert(1)>"
EVIL_RUN = "</script><script>alert(2)</script>"


def write_ladder(path, families=("base", EVIL), seed=0):
    """Chinchilla-like runs of two families; names carry HTML that must never reach the page unescaped."""
    rng = np.random.default_rng(seed)
    rows = []
    for f, fam in enumerate(families):
        for n in (1e8, 3e8, 1e9):
            for d in np.geomspace(2e9, 1e11, 5):
                loss = (1.8 + 0.05 * f + 400 * n ** -0.34 + 2000 * d ** -0.37) * np.exp(rng.normal(0, 0.003))
                name = EVIL_RUN if (f, n, len(rows) % 5) == (1, 1e8, 0) else f"{fam}-{n:.0e}-{d:.0e}"
                rows.append({"run": name, "params": n, "tokens": d, "loss": loss, "family": fam})
    path.write_text(json.dumps(rows))
    return path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    data = write_ladder(folder / "runs.json")
    fit = sl.fit(str(data), "chinchilla", bootstrap=100, seed=0)
    fit_path = fit.save(folder / "fit.json")
    return folder, fit_path, data


def test_sections_figures_and_provenance(inputs):
    folder, fit_path, data = inputs
    rep = build_report([str(fit_path), "dataset:porian_isoflop?loss_split=val&dataset=refinedweb"],
                       at={"params": [7e10], "tokens": [1.4e12]}, budgets=[5.76e23], output=folder / "r.html")
    kinds = [s.kind for s in rep.sections]
    assert kinds == ["fit", "plan", "runs"]
    fit_sec, plan_sec, runs_sec = rep.sections
    assert [f.kind for f in fit_sec.figures] == ["fit", "residuals", "extrapolation"]
    assert [f.kind for f in plan_sec.figures] == ["frontier"]
    assert [f.kind for f in runs_sec.figures] == ["runs", "isoflop"]
    # the fit's rows were found beside the fit file and still hash to the fit's data hash: listed run by run
    assert "still holds exactly these rows" in fit_sec.body and "the 30 runs this fit used" in fit_sec.body
    alloc = sl.compute_optimal(sl.Fit.load(fit_path), 5.76e23)
    assert f"{alloc.params:.4g}".replace("e+", "e+")[:4] in plan_sec.body.replace("e+1", "e+1")
    assert rep.inputs[0]["kind"] == "fit" and sl.Fit.load(fit_path).data["hash"] in rep.inputs[0]["identity"]
    assert rep.command == (f"scalinglaws report {fit_path} 'dataset:porian_isoflop?loss_split=val&dataset=refinedweb'"
                           f" -o {folder / 'r.html'} --at params=7e+10 --at tokens=1.4e+12 --budget 5.76e+23")
    d = rep.to_dict()
    assert d["sections"][0]["figures"][0]["kind"] == "fit" and json.dumps(d)


def test_page_is_self_contained_and_escapes_user_text(inputs):
    folder, fit_path, data = inputs
    out = report([str(fit_path), str(data)], folder / "page.html", title=f"Ladder {EVIL}")
    html = (folder / "page.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "Plotly" in html
    # nothing to fetch: no external scripts, styles, images or frames
    assert not re.search(r"""<(script|link|img|iframe)[^>]*\s(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
    # user text never appears raw, neither in the HTML nor in the figures' JSON
    assert EVIL not in html and EVIL_RUN not in html and "alert(2)</script>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # escaped in the page's text
    scripts = re.findall(r"<script type='application/json' class='sl-data' data-target='(sl-plot-\d+)'>(.*?)</script>",
                         html, re.S)
    assert len(scripts) == sum(len(f.panels) for s in out.sections for f in s.figures) > 0
    for _, body in scripts:
        spec = json.loads(body)
        assert spec["data"] and spec["layout"]["xaxis"]["type"] in ("log", "linear")
    names = {t["name"] for _, body in scripts for t in json.loads(body)["data"]}
    assert "&lt;img src=x onerror=alert(1)&gt;" in names and EVIL not in names
    assert script_json({"a": "</script>&"}) == '{"a":"\\u003c/script\\u003e\\u0026"}'


def test_same_inputs_same_bytes(inputs, tmp_path):
    _, fit_path, _ = inputs
    a = report([str(fit_path)], tmp_path / "a.html", budgets=[1e23]).html()
    b = (tmp_path / "a.html").read_text()
    assert a == b
    report([str(fit_path)], tmp_path / "b.html", budgets=[1e23])
    assert (tmp_path / "b.html").read_text() == b.replace("a.html", "b.html")
    assert not list(tmp_path.glob(".*.tmp"))


def test_changed_data_is_reported(inputs, tmp_path):
    folder, fit_path, data = inputs
    changed = write_ladder(tmp_path / "runs.json", seed=1)
    with pytest.warns(sl.ScalingLawsWarning, match="differ from those the fit saw"):
        rep = build_report([str(fit_path)], data=str(changed))
    assert "NO: " in rep.sections[0].body
    assert any("differ from those the fit saw" in w for w in rep.warnings)


def test_several_fits_are_compared(inputs, tmp_path):
    folder, fit_path, data = inputs
    other = sl.fit(str(data), "chinchilla", loss="l2", seed=0).save(folder / "fit_l2.json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = build_report([str(fit_path), str(other)])
    assert [s.kind for s in rep.sections] == ["fit", "plan", "fit", "plan", "compare_fits"]
    assert "fit_l2.json" in rep.sections[-1].body


def test_plan_section_for_a_law_without_a_plan(tmp_path):
    c = np.geomspace(1e18, 1e21, 8)
    fit = sl.fit({"flops": c, "loss": 2 + 50 * c ** -0.1}, "power", seed=0)
    rep = build_report([fit], budgets=[1e23])
    assert rep.command.startswith("scalinglaws.report.build_report(")
    assert [s.kind for s in rep.sections if s.kind == "plan"] == []  # a law of flops alone has no N/D split


def test_command_line_round_trips_numbers():
    assert [number_text(v) for v in (7e10, 1.4e12, 0.95, 5.76e23, 1 / 3)] == ["7e+10", "1.4e+12", "0.95",
                                                                             "5.76e+23", "0.3333333333333333"]
    assert command_line(["a b.json"], "r.html", at={"params": [1e9, 2e9]}, by="family") == \
        "scalinglaws report 'a b.json' -o r.html --at params=1e+09,2e+09 --by family"


def test_report_command(inputs, tmp_path, capsys):
    folder, fit_path, _ = inputs
    out = tmp_path / "r.html"
    assert main(["report", str(fit_path), "dataset:porian_isoflop?loss_split=val&dataset=refinedweb", "-o", str(out),
                 "--budget", "1e24", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["output"] == str(out) and d["bytes"] == out.stat().st_size
    assert [s["kind"] for s in d["sections"]] == ["fit", "plan", "runs"]
    assert "--budget 1e+24" in d["command"]
    assert main(["report", str(fit_path), "-o", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["-o", "r.pdf"], "a report is an HTML page"),
    (["-o", "missing/r.html"], "does not exist"),
    (["--budget", "-1", "-o", "r.html"], "--budget must be a positive"),
    (["--at", "params", "-o", "r.html"], "--at 'params' is not NAME=VALUE"),
])
def test_report_command_errors(inputs, tmp_path, monkeypatch, capsys, args, message):
    _, fit_path, _ = inputs
    monkeypatch.chdir(tmp_path)
    assert main(["report", str(fit_path), *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and message in err and err.count("\n") == 1
    assert not list(tmp_path.iterdir())


def test_report_command_bad_inputs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["report", "nothere.json", "-o", "r.html"]) == 1
    assert "file not found: nothere.json" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text('{"format": "scalinglaws.fit/1", "law": "chinchilla"}')
    assert main(["report", "bad.json", "-o", "r.html"]) == 1
    assert "lacks" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_notebook_tables_escape(inputs):
    folder, fit_path, data = inputs
    runs = sl.read_runs(str(data))
    html = runs.take(np.arange(15, 30))._repr_html_()  # the second family's rows
    assert EVIL not in html and "&lt;img" in html
    from scalinglaws.render.html_tables import allocation_html, record_html

    fit = sl.Fit.load(fit_path)
    assert "95% CI" in fit._repr_html_()
    alloc = sl.compute_optimal(fit, 1e23)
    assert "tokens D*" in allocation_html([alloc]) and "closed form" in allocation_html(alloc)
    rec = record_html({"name": EVIL, "nested": {"a": 1.5, "b": list(range(20))}}, caption="record")
    assert EVIL not in rec and "nested.a" in rec and "(20 items)" in rec


def test_fits_of_different_laws_are_compared_in_a_table_each(inputs):
    folder, fit_path, data = inputs
    other = sl.fit(str(data), "E + A*N**-alpha + B*D**-beta", seed=0).save(folder / "fit_formula.json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = build_report([str(fit_path), str(other)])
    body = rep.sections[-1].body
    assert body.count("parameters of every fit") == 2 and "chinchilla: parameters" in body
    assert "formula: parameters" in body


def test_figures_keep_the_toolbar_off_the_title_and_axis_titles_off_the_ticks():
    from scalinglaws.plots.spec import Panel
    from scalinglaws.report.interactive import panel_json

    layout = panel_json(Panel(title="t", xlabel="x", ylabel="y", series=()))["layout"]
    assert layout["title"]["xanchor"] == "left" and layout["title"]["x"] < 0.1
    assert layout["xaxis"]["automargin"] and layout["yaxis"]["title"]["standoff"] > 0
