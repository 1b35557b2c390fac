"""Figures of backtests, law selection, recipe comparisons, downstream and test-time forecasts: each checked against
the mathematics of the record it draws (a power law's curve, the link through its forecasts, the crossing of two
trends), live and read back from the commands' --json output."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.cli.app import main
from scalinglaws.errors import ScalingLawsError
from scalinglaws.plots import figure, kinds_for, load_result, save
from scalinglaws.plots import saved as saved_records

pytest.importorskip("matplotlib", reason="the plot extra is not installed")


def crossing(path):
    """ref: L = 2.0 + 100·C^-0.15; new: L = 1.9 + 200·C^-0.15; they cross at C = 1e20."""
    rng = np.random.default_rng(0)
    rows = ["run,flops,loss,family"]
    for fam, e, a in (("ref", 2.0, 100.0), ("new", 1.9, 200.0)):
        for i, c in enumerate(np.geomspace(1e17, 1e21, 14)):
            rows.append(f"{fam}{i},{c:.6g},{(e + a * c ** -0.15) * np.exp(rng.normal(0, 0.002)):.6f},{fam}")
    path.write_text("\n".join(rows) + "\n")
    return path


def chinchilla_runs():
    rng = np.random.default_rng(1)
    n = np.repeat(np.geomspace(5e7, 3e9, 6), 5)
    d = n * np.tile([5, 10, 20, 40, 80], 6)
    loss = (1.8 + 400 * n ** -0.34 + 2000 * d ** -0.37) * np.exp(rng.normal(0, 0.003, n.size))
    return sl.read_runs({"run": [f"r{i}" for i in range(n.size)], "params": n, "tokens": d, "flops": 6 * n * d,
                         "loss": loss})


def keep(tmp_path, capsys, args, name, kind):
    """Run a command with --json, keep what it printed, check the record says it is a `kind`, and read it back."""
    assert main([*args, "--json"]) == 0
    path = tmp_path / name
    path.write_text(capsys.readouterr().out)
    assert json.loads(path.read_text())["format"] == f"scalinglaws.{kind}/1"
    rec = load_result(str(path))
    assert rec.to_dict()["format"] == f"scalinglaws.{kind}/1"
    return rec


def test_backtest_errors_bias_and_coverage(tmp_path, capsys):
    from scalinglaws.decide import backtest

    bt = backtest(chinchilla_runs(), "chinchilla", cuts=3, bootstrap=50, seed=0)
    fig = figure("backtest", bt)
    errs, bias, cov = fig.panels
    ok = [c for c in bt.cuts if c.ok]
    mean = [s for s in errs.series if s.label == "mean |error|"][0]
    assert list(mean.x) == [c.cut for c in ok]
    np.testing.assert_allclose(mean.y, [100 * c.rel_error for c in ok])
    np.testing.assert_allclose([s for s in bias.series if s.kind == "line"][0].y, [100 * c.bias for c in ok])
    np.testing.assert_allclose([s for s in cov.series if s.kind == "line"][0].y, [100 * c.coverage for c in ok])
    assert [s for s in cov.series if s.kind == "dashed"][0].y == (95.0, 95.0)  # the nominal level
    assert bt.to_dict()["format"] == "scalinglaws.backtest/1"
    rec = keep(tmp_path, capsys, ["backtest", "dataset:chinchilla_epoch", "--law", "chinchilla", "--cuts", "3"],
               "bt.json", "backtest")
    assert isinstance(rec, saved_records.Backtest) and kinds_for(rec) == ["backtest"]
    assert len(figure("backtest", rec).panels) == 2  # no bootstrap: no coverage to draw


def test_reliability_of_a_calibration_draws_its_stored_scores(tmp_path, capsys):
    from scalinglaws.fitting.calibration import resolve

    cal = resolve("default")
    path = cal.save(tmp_path / "calibration.json")
    out = tmp_path / "reliability.png"
    assert main(["plot", str(path), "--kind", "reliability", "-o", str(out)]) == 0
    assert out.stat().st_size > 10_000
    capsys.readouterr()
    assert main(["plot", str(path), "--kind", "reliability", "--json"]) == 0
    fig = json.loads(capsys.readouterr().out)["figures"][0]
    stored = cal.scores["reliability"]
    assert fig["meta"]["reliability"] == json.loads(json.dumps(stored))
    for panel, key in zip(fig["panels"], ("calibrated", "plain")):
        ideal = panel["series"][0]
        assert ideal["x"] == ideal["y"] == [0.0, 100.0]
        lines = {s["label"].split(" (")[0]: s for s in panel["series"] if s["kind"] == "line"}
        assert set(lines) == set(stored)
        for name, s in lines.items():
            np.testing.assert_allclose(s["x"], [100 * a for a in stored[name]["nominal"]])
            np.testing.assert_allclose(s["y"], [100 * v for v in stored[name][key]])
    assert kinds_for(load_result("calibration:default")) == ["reliability"]
    assert main(["plot", "calibration:default", "-o", str(tmp_path / "default.png")]) == 0


def test_reliability_of_a_backtest_is_its_rows_coverage(tmp_path, capsys):
    rec = keep(tmp_path, capsys, ["backtest", "dataset:chinchilla_epoch", "--cuts", "2", "--bootstrap", "30"],
               "bt.json", "backtest")
    assert kinds_for(rec) == ["backtest", "reliability"]
    d = rec.to_dict()
    fig = figure("reliability", rec)
    (panel,) = fig.panels
    pooled = [s for s in panel.series if s.kind == "line"][0]
    np.testing.assert_allclose(pooled.x, [100 * a for a in d["reliability"]["nominal"]])
    np.testing.assert_allclose(pooled.y, [100 * v for v in d["reliability"]["observed"]])
    per_cut = [s for s in panel.series if s.kind == "dashed" and s.label.startswith("cut")]
    assert len(per_cut) == 2
    star = [s for s in panel.series if s.kind == "star"][0]
    assert star.x == (95.0,) and star.y == (100 * d["coverage"],)
    save(rec, tmp_path / "rel.png", "reliability")
    plain = keep(tmp_path, capsys, ["backtest", "dataset:chinchilla_epoch", "--cuts", "2"], "plain.json", "backtest")
    with pytest.raises(ScalingLawsError, match="--bootstrap"):
        figure("reliability", plain)


def test_selection_from_a_ranking_and_from_an_auto_fit(tmp_path):
    from scalinglaws.decide import compare_laws, fit_auto

    runs = chinchilla_runs()
    ranking = compare_laws(runs, candidates=["power", "chinchilla", "kaplan"], priors=None, cuts=3)
    fig = figure("selection", ranking)
    per_cut, scores = fig.panels
    best = ranking.best
    line = [s for s in per_cut.series if s.label == f"{best.label} (chosen)"][0]
    np.testing.assert_allclose(line.y, [100 * c.rel_error for c in best.cuts])
    star = [s for s in scores.series if s.kind == "star"][0]
    assert star.y[0] == pytest.approx(100 * best.score)
    assert round(star.x[0]) == best.n_params
    tol = [s for s in scores.series if s.kind == "dashed"][0]
    assert tol.y[0] == pytest.approx(100 * min(b.score for b in ranking.backtests) * 1.02)
    auto = fit_auto(runs, candidates=["power", "chinchilla", "kaplan"], priors=None)
    assert "selection" in kinds_for(auto) and "selection" not in kinds_for(sl.fit(runs, "chinchilla"))
    from_fit = figure("selection", auto.save(tmp_path / "auto.json"))
    assert [s.y for s in from_fit.panels[1].series] == [s.y for s in scores.series]  # the same backtests
    with pytest.raises(ScalingLawsError, match="--law auto"):
        figure("selection", sl.fit(runs, "chinchilla"))


def test_comparison_curves_multiplier_and_crossover(tmp_path, capsys):
    data = crossing(tmp_path / "recipes.csv")
    rec = keep(tmp_path, capsys, ["compare", str(data), "--by", "family", "--at", "flops=1e22", "--law", "power",
                                  "--bootstrap", "50"], "cmp.json", "comparison")
    assert isinstance(rec, saved_records.Comparison)
    d = rec.to_dict()
    fig = figure("comparison", rec)
    trends, mult = fig.panels
    for g in d["groups"]:  # each group's drawn trend is its power law at the point fit
        p = g["params"]
        line = [s for s in trends.series if s.kind == "line" and s.group == g["label"]][0]
        x = np.array(line.x)
        np.testing.assert_allclose(line.y, p["E"] + p["A"] * x ** -p["alpha"], rtol=1e-9)
        assert g["scale_range"][0] <= x.min() and x.max() <= g["scale_range"][1]
        band = [s for s in trends.series if s.kind == "band" and s.group == g["label"]][0]
        mid = np.interp(np.log(band.x), np.log(x), line.y, left=np.nan, right=np.nan)
        inside = np.isfinite(mid)
        assert np.all(np.array(band.y)[inside] <= mid[inside] + 1e-9)
        assert np.all(mid[inside] <= np.array(band.y2)[inside] + 1e-9)
    (cross,) = d["pairs"][0]["crossovers"]
    assert [s.x[0] for s in trends.series if s.kind == "vline"] == [cross["scale"]]
    span = [s for s in trends.series if s.kind == "span"][0]
    assert span.x == (cross["lower"], cross["upper"]) and cross["lower"] <= 1e20 <= cross["upper"]
    m = [s for s in mult.series if s.kind == "line"][0]
    finite = [r for r in d["pairs"][0]["multipliers"] if r["multiplier"] is not None]
    assert list(m.y) == [r["multiplier"] for r in finite]
    assert any("never reaches" in n for n in trends.notes)  # beyond new's floor the multiplier is infinite
    assert save(rec, tmp_path / "cmp.png").read_bytes()[:4] == b"\x89PNG"


def test_downstream_link_runs_through_its_forecasts_and_flags_stay_flagged(tmp_path, capsys):
    rec = keep(tmp_path, capsys, ["downstream", "dataset:pythia_evals", "--where", "shots=0", "--via",
                                  "lambada_openai__loss", "--task", "piqa__acc", "--task", "logiqa__acc", "--train",
                                  "params<2e9", "--train", "step>=1000", "--loss-where", "step=143000", "--test",
                                  "params>5e9", "--test", "step=143000", "--bootstrap", "20"], "ds.json",
               "downstream")
    assert isinstance(rec, saved_records.Downstream)
    d = rec.to_dict()
    piqa, logiqa = d["tasks"]
    fig = figure("downstream", rec)
    scale_piqa, scale_logiqa, link_piqa = fig.panels
    assert "FLAGGED (at chance)" in scale_logiqa.title and not any(s.kind == "errorbar" and s.label.startswith(
        "forecast") for s in scale_logiqa.series)
    for panel, t in ((scale_piqa, piqa), (scale_logiqa, logiqa), (link_piqa, piqa)):
        chance = [s for s in panel.series if s.label.startswith("chance")][0]
        assert chance.y == (t["chance"], t["chance"])
    bars = [s for s in scale_piqa.series if s.label.startswith("forecast")][0]
    assert list(bars.y) == [r["prediction"] for r in piqa["forecasts"]]
    assert list(bars.x) == [r["flops"] for r in piqa["forecasts"]]
    curve = [s for s in link_piqa.series if s.kind == "line" and s.label][0]
    for r in piqa["forecasts"]:  # the point forecast is the link at the forecast loss
        assert np.interp(r["loss"], curve.x, curve.y) == pytest.approx(r["prediction"], abs=2e-3)
    assert any("logiqa__acc" in w for w in fig.warnings)


def test_testtime_coverage_and_ceiling(tmp_path, capsys):
    rng = np.random.default_rng(0)
    p = np.where(rng.random(200) < 0.2, 0.0, rng.beta(0.3, 3.0, 200))
    data = tmp_path / "samples.csv"
    data.write_text("problem,samples,correct\n" + "".join(f"p{i},50,{c}\n" for i, c in
                                                          enumerate(rng.binomial(50, p))))
    rec = keep(tmp_path, capsys, ["testtime", str(data), "--k", "1,10,100,1000", "--fpr", "0.05",
                                  "--sample-cost", "0.001", "--wrong-cost", "1", "--bootstrap", "50"], "tt.json",
               "testtime")
    assert isinstance(rec, saved_records.TestTimeForecast)
    d = rec.to_dict()
    cov, util = figure("testtime", rec).panels
    measured = [s for s in cov.series if s.label.startswith("coverage measured")][0]
    assert list(measured.y) == [r["coverage"] for r in d["observed"]]
    forecast = [s for s in cov.series if s.label.startswith("coverage forecast")][0]
    assert list(forecast.x) == [1, 10, 100, 1000]
    np.testing.assert_allclose(np.reshape(forecast.y2, (-1, 2)),
                               [[r["coverage_lower"], r["coverage_upper"]] for r in d["forecast"]])
    ceiling = [s for s in cov.series if s.label.startswith("coverage ceiling")][0]
    assert ceiling.y[0] == d["ceiling"]["coverage_interval"][0] and ceiling.y2[0] == d["ceiling"][
        "coverage_interval"][1]
    assert d["ceiling"]["accuracy"] < d["ceiling"]["coverage"]  # false positives cap what sampling buys
    assert [s for s in util.series if s.kind == "star"][0].x == (d["best"]["k"],)


def test_records_are_recognised_by_their_format_never_by_their_keys(tmp_path):
    from scalinglaws.plots.registry import LOADERS
    from scalinglaws.records import KINDS

    # every saved class is read back for exactly one format kind, and each kind is one this version writes
    classes = [target.split(":")[1] for kind, target in LOADERS.items() if "." not in target.split(":")[1]]
    assert sorted(classes) == sorted({n for n in dir(saved_records) if isinstance(getattr(saved_records, n), type)
                                      and issubclass(getattr(saved_records, n), saved_records.Saved)} - {"Saved"})
    assert set(LOADERS) <= set(KINDS)
    rows = [{"run": "a", "params": 1e8, "tokens": 2e9, "loss": 3.1}, {"run": "b", "params": 2e8, "tokens": 4e9,
                                                                      "loss": 2.9}]
    for name, table in (("rows.json", rows), ("runs.json", {"runs": rows})):  # runs tables stay data
        (tmp_path / name).write_text(json.dumps(table))
        assert type(load_result(str(tmp_path / name))).__name__ == "Runs"
    bt = {"law": "x", "label": "x", "cuts": [], "n_params": 3, "score": None}
    (tmp_path / "bt.json").write_text(json.dumps({"format": "scalinglaws.backtest/1", **bt}))
    assert isinstance(load_result(str(tmp_path / "bt.json")), saved_records.Backtest)
    (tmp_path / "old.json").write_text(json.dumps(bt))  # the keys of a backtest, but no format: not a record
    with pytest.raises(ScalingLawsError, match=r"old.json holds a JSON object with no 'format' field \(keys: law, "
                       r"label, .*Re-run the command that made it with --json with this version") as err:
        load_result(str(tmp_path / "old.json"))
    assert "\n" not in str(err.value)
    cases = {"scalinglaws.backtest/2": r"holds a 'scalinglaws.backtest/2' record; this version reads "
                                       r"scalinglaws.backtest/1. Re-run",
             "scalinglaws.nothing/1": r"format 'scalinglaws.nothing/1', which no command of this version writes",
             "csv": r"format 'csv', which no command of this version writes \(readable: .*scalinglaws.plan/1",
             "scalinglaws.store/1": r"holds a 'scalinglaws.store/1' record, which cannot be drawn yet"}
    for fmt, message in cases.items():
        (tmp_path / "x.json").write_text(json.dumps({"format": fmt, **bt}))
        with pytest.raises(ScalingLawsError, match=message) as err:
            load_result(str(tmp_path / "x.json"))
        assert "\n" not in str(err.value) and "x.json" in str(err.value)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rec = saved_records.Backtest({"law": "x"}, "bt.json")
    assert rec.to_dict() == {"law": "x"} and "bt.json" in rec._repr_html_()
