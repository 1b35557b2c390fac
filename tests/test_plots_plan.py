"""Figures of planning records: each kind is checked against the numbers of the record it draws (the power laws of
the three approaches, the budget line, the lifetime compute of an inference-aware plan), read back from the
commands' --json output as well as live, and drawn."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.cli.app import main
from scalinglaws.errors import DataWarning, ScalingLawsError
from scalinglaws.plots import figure, kinds_for, load_result, save
from scalinglaws.plots.saved import Approaches, Plan

pytest.importorskip("matplotlib", reason="the plot extra is not installed")

SWEEP = "dataset:porian_isoflop?family=tuned_no_decay&dataset=refinedweb"
TRUE = {"E": 1.8, "A": 400.0, "B": 2000.0, "alpha": 0.34, "beta": 0.37}


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plan")
    rng = np.random.default_rng(0)
    n = np.repeat([1e8, 3e8, 1e9, 3e9], 5)
    d = np.tile(np.geomspace(2e9, 2e11, 5), 4)
    loss = (TRUE["E"] + TRUE["A"] * n ** -TRUE["alpha"] + TRUE["B"] * d ** -TRUE["beta"]) * np.exp(
        rng.normal(0, 0.003, n.size))
    data = folder / "runs.csv"
    data.write_text("run,params,tokens,loss\n" + "".join(f"r{i},{a},{b},{c}\n" for i, (a, b, c)
                                                           in enumerate(zip(n, d, loss))))
    fit = sl.fit(str(data), "chinchilla", bootstrap=100, seed=0)
    return folder, fit, fit.save(folder / "fit.json")


@pytest.fixture(scope="module")
def full_plan(fitted):
    from scalinglaws.plan import plan

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the budget lies far beyond these small runs on purpose
        return plan(fitted[1], flops=1e22, inference_tokens=1e12, unique_tokens=3e10, target_loss=2.2,
                    params=3e9, frontier_flops=[1e20, 1e21, 1e22], ratios=[5, 20, 100, 400])


@pytest.fixture(scope="module")
def approaches():
    from scalinglaws.plan import compare_approaches

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compare_approaches(SWEEP, bootstrap=20, seed=0)


def saved(tmp_path, capsys, args, name):
    """Run a command with --json and keep what it printed, as a user would with `> name`."""
    assert main([*args, "--json"]) == 0
    path = tmp_path / name
    path.write_text(capsys.readouterr().out)
    return path


def by_label(panel, kind=None):
    return {s.label: s for s in panel.series if s.label and (kind is None or s.kind == kind)}


def test_approaches_draw_each_power_law_through_its_plan(approaches):
    fig = figure("approaches", approaches)
    main_panel, expo, profiles = fig.panels
    lines = [s for s in main_panel.series if s.kind == "line"]
    assert len(lines) == len(approaches.approaches)
    for line, a in zip(lines, approaches.approaches):
        x, y = np.log(line.x), np.log(line.y)
        np.testing.assert_allclose(np.diff(y) / np.diff(x), a.exponent_params, rtol=1e-9)  # N* ∝ C^a
        np.testing.assert_allclose(np.exp(np.interp(np.log(approaches.flops), x, y)), a.params, rtol=1e-9)
    bars = [s for s in expo.series if s.kind == "errorbar"]
    assert [b.y[0] for b in bars] == [a.exponent_params for a in approaches.approaches]
    np.testing.assert_allclose(bars[0].y2, approaches.approaches[0].intervals["a"])
    assert [b.x[0] for b in bars] == [1.0, 2.0, 2.3, 3.0]  # Hoffmann et al.'s numbering
    env = by_label(main_panel, "points")["1 envelope: best run per budget"]
    used = [p for p in approaches.profiles if p["used"]]
    assert list(env.y) == [p["envelope_params"] for p in used]
    stars = [s for s in profiles.series if s.kind == "star"][0]
    assert list(stars.x) == [p["shape_params"] for p in used if p["shape_params"]]
    assert "--data" in profiles.notes[0]


def test_approaches_profiles_from_the_sweep_and_from_the_saved_record(approaches, tmp_path, capsys):
    fig = figure("approaches", approaches, data=SWEEP)
    profiles = fig.panels[2]
    points = [s for s in profiles.series if s.kind == "points"]
    assert [len(s.x) for s in points] == [p["points"] for p in approaches.profiles]
    for s, p in zip(points, approaches.profiles):  # each budget's runs, and its best run is the envelope
        assert s.x[int(np.argmin(s.y))] == pytest.approx(p["envelope_params"], rel=1e-9)
    path = saved(tmp_path, capsys, ["approaches", SWEEP, "--bootstrap", "20"], "approaches.json")
    rec = load_result(str(path))
    assert isinstance(rec, Approaches) and rec.source == "approaches.json"
    assert rec.to_dict()["format"] == approaches.to_dict()["format"] == "scalinglaws.approaches/1"
    assert figure("approaches", rec).to_dict() == figure("approaches", approaches).to_dict()
    with pytest.warns(DataWarning, match="do not make the sweep"):
        other = figure("approaches", rec, data="dataset:porian_isoflop?dataset=refinedweb&family=cosine_decay")
    assert other.warnings and not [s for s in other.panels[2].series if s.kind == "points"]


def test_plan_places_every_answer_on_its_budget_line(full_plan):
    d = full_plan.to_dict()
    fig = figure("plan", full_plan)
    (panel,) = fig.panels
    budget = [s for s in panel.series if s.label.startswith("C = ")][0]
    np.testing.assert_allclose(6 * np.array(budget.x) * np.array(budget.y), 1e22, rtol=1e-12)  # C = 6·N·D
    marks = by_label(panel, "errorbar")
    for key, text in (("compute_optimal", "compute-optimal"), ("inference", "inference-aware"),
                      ("constrained", "data-constrained"), ("target", "cheapest run to the target loss")):
        s = marks[text]
        assert (s.x[0], s.y[0]) == (d[key]["params"], d[key]["tokens"])
        assert list(s.y2) == d[key]["intervals"]["tokens"]
    star = by_label(panel, "star")["recommended run (inference-aware)"]
    assert (star.x[0], star.y[0]) == (full_plan.params, full_plan.tokens)
    frontier = by_label(panel, "dashed")["compute-optimal frontier"]
    assert list(frontier.x) == [a.params for a in full_plan.frontier.allocations]


def test_overtraining_and_frontier_of_a_plan(full_plan):
    o = full_plan.overtraining
    fig = figure("overtraining", full_plan)
    loss, extra = fig.panels
    ratios = [r["ratio"] for r in o.rows]
    line = [s for s in loss.series if s.kind == "line"][0]
    assert list(line.x) == ratios and list(line.y) == [r["excess_loss"] for r in o.rows]
    np.testing.assert_allclose([s for s in extra.series if s.kind == "line"][0].y,
                               [100 * r["compute_overhead"] for r in o.rows])
    assert [s.x[0] for s in loss.series if s.kind == "vline"] == [o.optimal_ratio]
    assert figure("overtraining", o).to_dict() == fig.to_dict()  # the section record alone draws the same
    front = figure("frontier", full_plan)
    assert [s.y for s in front.panels[0].series if s.kind == "line"][0] == tuple(
        a.params for a in full_plan.frontier.allocations)


def test_inference_lifetime_compute_is_exact(full_plan):
    i = full_plan.inference
    (panel,) = figure("inference", full_plan).panels
    plan_line, base_line = (s for s in panel.series if s.kind in ("line", "dashed"))
    t = np.array(plan_line.x)
    s = 2.0  # serving FLOP per parameter per token
    np.testing.assert_allclose(plan_line.y, i.training_flops + s * i.params * t, rtol=1e-12)
    np.testing.assert_allclose(base_line.y, i.baseline["training_flops"] + s * i.baseline["params"] * t, rtol=1e-12)
    stars = [x for x in panel.series if x.kind == "star"][0]
    np.testing.assert_allclose(stars.y, [i.total_flops, i.baseline["total_flops"]], rtol=1e-12)
    # the smaller model pays off where the two lines cross
    cross = (i.training_flops - i.baseline["training_flops"]) / (s * (i.baseline["params"] - i.params))
    np.testing.assert_allclose(i.training_flops + s * i.params * cross,
                               i.baseline["training_flops"] + s * i.baseline["params"] * cross, rtol=1e-12)
    assert any(f"beyond {sl.plots.spec.si(cross)} tokens" in n for n in panel.notes)


def test_a_plan_read_back_from_its_json(fitted, full_plan, tmp_path, capsys):
    _, _, fit_path = fitted
    path = saved(tmp_path, capsys, ["plan", str(fit_path), "--flops", "1e22", "--inference-tokens", "1e12",
                                    "--unique-tokens", "3e10", "--target-loss", "2.2", "--params", "3e9",
                                    "--frontier", "1e20,1e21,1e22", "--ratios", "5,20,100,400"], "plan.json")
    rec = load_result(str(path))
    assert isinstance(rec, Plan)
    d = json.loads(path.read_text())
    sections = {"compute_optimal": "allocation", "constrained": "constrained_plan", "inference": "inference_plan",
                "target": "target_plan", "frontier": "frontier", "overtraining": "overtraining"}
    assert d["format"] == "scalinglaws.plan/1" == full_plan.to_dict()["format"]
    assert {k: d[k]["format"] for k in sections} == {k: f"scalinglaws.{v}/1" for k, v in sections.items()}
    assert {a["format"] for a in d["frontier"]["allocations"]} == {"scalinglaws.allocation/1"}
    assert kinds_for(rec) == ["frontier", "plan", "overtraining", "inference"]
    assert kinds_for(rec, defaults_only=True)[0] == "plan"  # the frontier is a fit's first picture, not a plan's
    assert kinds_for(fitted[1], defaults_only=True)[0] == "fit"
    for kind in kinds_for(rec):
        assert figure(kind, rec).to_dict() == json.loads(json.dumps(figure(kind, full_plan).to_dict()))
    png = save(rec, tmp_path / "plan.png", kind="all")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_plan_without_a_section_says_how_to_get_it(fitted, tmp_path, capsys, monkeypatch):
    _, fit, fit_path = fitted
    from scalinglaws.plan import plan

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bare = plan(fit, flops=1e21)
    assert kinds_for(bare) == ["plan"]
    with pytest.raises(ScalingLawsError, match="--ratios"):
        figure("overtraining", bare)
    with pytest.raises(ScalingLawsError, match="--inference-tokens"):
        figure("inference", bare)
    path = saved(tmp_path, capsys, ["plan", str(fit_path), "--flops", "1e21"], "bare.json")
    monkeypatch.chdir(tmp_path)
    assert main(["plot", str(path), "--kind", "frontier", "-o", "f.png"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and "--frontier" in err and err.count("\n") == 1
    assert main(["plot", str(path), "--kind", "plan", "-o", "p.png"]) == 0
    assert (tmp_path / "p.png").exists()
