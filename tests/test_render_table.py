"""Every result a user gets in Python shows as a table in a notebook, prints in one line, and has to_pandas();
tables print as csv, markdown or latex from one place."""

from __future__ import annotations

import warnings

import pytest

import scalinglaws as sl
from scalinglaws.plan import plan
from scalinglaws.render.table import render, table_of


@pytest.fixture(scope="module")
def results():
    warnings.simplefilter("ignore")
    runs = sl.load_dataset("chinchilla_epoch").where("epoch_excluded=false")
    fit = sl.fit(runs, "chinchilla", bootstrap=30, seed=0)
    porian = sl.load_dataset("porian_isoflop").where("dataset=refinedweb")
    return {
        "fit": fit,
        "predictions": fit.predict(params=[7e10, 1e11], tokens=[1.4e12, 2e12]),
        "allocation": sl.compute_optimal(fit, 5.76e23),
        "frontier": sl.frontier(fit, [1e21, 1e22, 1e23]),
        "plan": plan(fit, flops=5.76e23, inference_tokens=1e13),
        "target": sl.reach_target(fit, 2.0),
        "inference": sl.inference_optimal(fit, 1e13, flops=5.76e23),
        "backtest": sl.backtest(runs, "chinchilla", cuts=2),
        "comparison": sl.compare(porian.where("family=cosine_decay|tuned_no_decay"), by="family",
                                 at={"flops": 1e21}, law="chinchilla"),
    }


@pytest.mark.parametrize("name", ["fit", "predictions", "allocation", "frontier", "plan", "target", "inference",
                                  "backtest", "comparison"])
def test_results_render_as_tables(results, name):
    rec = results[name]
    text = repr(rec)
    assert "\n" not in text and len(text) < 300, text  # one line, not a page of dataclass fields
    html = rec._repr_html_()
    assert "<table" in html and "<td" in html
    frame = rec.to_pandas()
    assert len(frame) >= 1 and len(frame.columns) >= 2 and "format" not in frame.columns


def test_the_rows_of_a_record_are_its_list_of_rows(results):
    header, rows, field = table_of(results["frontier"])
    assert field == "allocations" and len(rows) == 3 and header[:3] == ["flops", "params", "tokens"]
    assert list(results["backtest"].to_pandas()["cut"]) == [c.cut for c in results["backtest"].cuts]
    assert list(results["fit"].to_pandas()["parameter"]) == list(results["fit"].params)


def test_text_formats():
    header, rows = ["law", "loss", "note"], [["chinchilla", 1.9741234567, "a_b & 50%"], ["kaplan", None, "x|y"]]
    assert render(header, rows, "csv") == "law,loss,note\nchinchilla,1.9741234567,a_b & 50%\nkaplan,,x|y\n"
    md = render(header, rows, "markdown").splitlines()
    assert md[0] == "| law | loss | note |" and md[2] == "| chinchilla | 1.974 | a_b & 50% |" and "x\\|y" in md[3]
    tex = render(header, rows, "latex")
    assert "\\begin{tabular}{lrr}" in tex and "a\\_b \\& 50\\%" in tex and tex.rstrip().endswith("\\end{tabular}")


def test_commands_print_their_tables_in_every_format(cli, tmp_path):
    fit_path = tmp_path / "fit.json"
    assert cli("fit", "dataset:chinchilla_epoch", "--where", "epoch_excluded=false", "-o", str(fit_path))[0] == 0
    code, out, err = cli("fit", "dataset:chinchilla_epoch", "--format", "csv")
    assert code == 0 and out.splitlines()[0] == "parameter,value,lower,upper,at_bound"
    assert [line.split(",")[0] for line in out.splitlines()[1:]] == ["E", "A", "B", "alpha", "beta"]
    code, out, _ = cli("predict", str(fit_path), "--at", "params=7e10,1e11", "--at", "tokens=1.4e12", "-f",
                       "markdown")
    assert code == 0 and out.startswith("| params | tokens |") and len(out.splitlines()) == 4
    code, out, _ = cli("plan", str(fit_path), "--flops", "5.76e23", "--format", "latex")
    assert code == 0 and out.startswith("\\begin{tabular}{lr}") and "tokens\\_per\\_param" in out
    code, out, _ = cli("backtest", "dataset:chinchilla_epoch", "--cuts", "2", "--format", "csv")
    assert code == 0 and out.splitlines()[0].startswith("cut,train_runs,test_runs") and len(out.splitlines()) == 3
    boot = tmp_path / "boot.json"
    assert cli("fit", "dataset:chinchilla_epoch", "-b", "20", "-o", str(boot))[0] == 0
    code, out, _ = cli("plan", str(boot), "--flops", "5.76e23", "--format", "markdown")
    lines = out.splitlines()
    assert code == 0 and lines[0] == "| quantity | value | lower | upper |"
    params = next(line for line in lines if line.startswith("| params |")).split("|")
    assert float(params[3]) < float(params[2]) < float(params[4])  # the interval beside the value
    assert "compute_optimal" not in out and "| constrained |" not in out  # no repeated answer, no unset fields
    code, out, _ = cli("plan", str(fit_path), "--flops", "5.76e23", "--format", "json")
    assert code == 0 and out.lstrip().startswith("{")
    code, _, err = cli("fit", "dataset:chinchilla_epoch", "--format", "xls")
    assert code == 1 and err == "Error: --format xls: choose one of table, json, csv, markdown, latex\n"
