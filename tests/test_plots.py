"""Figures: what each kind draws is checked against the mathematics it claims to show, then drawn and saved."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.cli.app import main
from scalinglaws.errors import DataWarning, ScalingLawsError
from scalinglaws.plots import figure, figures, kinds_for, load_result, plot, save
from scalinglaws.plots.spec import Figure, Panel, Series, palette, si

pytest.importorskip("matplotlib", reason="the plot extra is not installed")

TRUE = {"E": 1.8, "A": 400.0, "B": 2000.0, "alpha": 0.34, "beta": 0.37}


def chinchilla(n, d, p=TRUE):
    return p["E"] + p["A"] * n ** -p["alpha"] + p["B"] * d ** -p["beta"]


def ladder(seed=0, noise=0.003):
    """Three model sizes, each trained on six token counts: a grid like a real sweep."""
    rng = np.random.default_rng(seed)
    n = np.repeat([1e8, 3e8, 1e9], 6)
    d = np.tile(np.geomspace(2e9, 1e11, 6), 3)
    loss = chinchilla(n, d) * np.exp(rng.normal(0, noise, n.size))
    return {"run": [f"r{i}" for i in range(n.size)], "params": n, "tokens": d, "loss": loss}


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plots")
    data = folder / "runs.csv"
    cols = ladder()
    with open(data, "w") as fh:
        fh.write("run,params,tokens,loss\n")
        for row in zip(*cols.values()):
            fh.write(",".join(str(v) for v in row) + "\n")
    fit = sl.fit(str(data), "chinchilla", bootstrap=100, seed=0)
    path = fit.save(folder / "fit.json")
    return fit, path, data


def test_fit_figure_draws_the_law_through_each_size(fitted):
    fit, path, _ = fitted
    fig = figure("fit", path)
    (panel,) = fig.panels
    assert panel.xlabel.startswith("training compute") and panel.xlog and panel.ylog
    assert panel.palette == "sequential" and panel.groups() == ["N = 100M", "N = 300M", "N = 1B"]
    lines = [s for s in panel.series if s.kind == "line"]
    assert len(lines) == 3
    for line, n in zip(lines, (1e8, 3e8, 1e9)):
        c = np.array(line.x)
        # at fixed N the law is drawn along C = 6·N·D, so D = C / (6N)
        np.testing.assert_allclose(line.y, chinchilla(n, c / (6 * n), fit.params), rtol=1e-12)
    points = [s for s in panel.series if s.kind == "points"]
    assert sum(len(s.x) for s in points) == fit.n_points
    assert set(points[0].text) <= {f"r{i}" for i in range(18)}


def test_residuals_are_observed_over_predicted_in_fit_order(fitted):
    fit, path, data = fitted
    fig = figure("residuals", fit, near=path.parent)
    left = fig.panels[0]
    xs = np.concatenate([s.x for s in left.series if s.kind == "points"])
    rs = np.concatenate([s.y for s in left.series if s.kind == "points"])
    runs = sl.read_runs(str(data))
    # the record stores log(pred) - log(obs); the figure shows log(obs / pred)
    expected = dict(zip(runs["flops"].tolist(), (-np.asarray(fit.residuals)).tolist()))
    np.testing.assert_allclose(rs, [expected[x] for x in xs], atol=1e-12)
    assert fig.meta["rms"] == pytest.approx(np.sqrt(np.mean(np.square(fit.residuals))))


def test_extrapolation_band_and_target_agree_with_predict(fitted):
    fit, path, _ = fitted
    at = {"params": [7e10], "tokens": [1.4e12]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig = figure("extrapolation", path, at=at)
        pred = fit.predict(at)
    (panel,) = fig.panels
    target = next(s for s in panel.series if s.kind == "errorbar")
    assert target.x[0] == pytest.approx(6 * 7e10 * 1.4e12)
    assert target.y[0] == pytest.approx(pred.prediction[0])
    assert target.y2 == pytest.approx((pred.lower[0], pred.upper[0]))
    line = next(s for s in panel.series if s.kind == "line")
    conf, predband = [s for s in panel.series if s.kind == "band"][::-1]
    x, y = np.array(line.x), np.array(line.y)
    # the path passes through the largest run of the data (s = 0) and the target (s = 1), straight in log N, log D
    s = np.log(x / (6 * 1e9 * 1e11)) / np.log(7e10 * 1.4e12 / (1e9 * 1e11))
    n_path = 1e9 ** (1 - s) * 7e10 ** s
    assert s[0] < 0 and s[-1] > 1  # from below the data to past the target
    np.testing.assert_allclose(y, chinchilla(n_path, x / (6 * n_path), fit.params), rtol=1e-9)
    lo_c, hi_c, lo_p, hi_p = map(np.array, (conf.y, conf.y2, predband.y, predband.y2))
    assert np.all(lo_c <= y + 1e-12) and np.all(y <= hi_c + 1e-12)
    assert np.all(hi_p - lo_p >= hi_c - lo_c - 1e-9)  # a new run scatters around the law: the wider band
    assert abs(np.interp(np.log(target.x[0]), np.log(x), hi_p) - pred.upper[0]) < 0.02 * pred.prediction[0]
    assert fig.meta["targets"][0]["extrapolation"] == pytest.approx(pred.extrapolation[0])


def test_default_target_is_a_hundred_times_the_largest_run(fitted):
    fit, path, _ = fitted
    fig = figure("extrapolation", path)
    assert any(s.kind == "points" for s in fig.panels[0].series)  # the data were found beside the fit file
    target = next(s for s in fig.panels[0].series if s.kind == "errorbar")
    assert target.x[0] == pytest.approx(100 * 6 * 1e9 * 1e11)


def test_frontier_is_the_closed_form_optimum_with_bootstrap_band(fitted):
    fit, path, _ = fitted
    fig = figure("frontier", path, budget=[1e23])
    n_panel, d_panel = fig.panels
    n_line = next(s for s in n_panel.series if s.kind == "line")
    d_line = next(s for s in d_panel.series if s.kind == "line")
    c = np.array(n_line.x)
    np.testing.assert_allclose(6 * np.array(n_line.y) * np.array(d_line.y), c, rtol=1e-10)
    a, b = fit.params["alpha"], fit.params["beta"]
    g = (a * fit.params["A"] / (b * fit.params["B"])) ** (1 / (a + b))
    np.testing.assert_allclose(n_line.y, g * (c / 6) ** (b / (a + b)), rtol=1e-10)  # Hoffmann 2022, App. D.2
    band = next(s for s in n_panel.series if s.kind == "band")
    assert np.all(np.array(band.y) <= np.array(n_line.y) * 1.0001)
    assert np.all(np.array(band.y2) >= np.array(n_line.y) * 0.9999)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mid = sl.compute_optimal(fit, c[20])
    assert (band.y[20], band.y2[20]) == pytest.approx(tuple(mid.intervals["params"]))
    star = next(s for s in n_panel.series if s.kind == "star")
    assert star.y[0] == pytest.approx(fig.meta["allocations"][0]["params"])
    assert fig.meta["exponents"]["params"] == pytest.approx(b / (a + b))


def test_frontier_of_other_laws_and_of_plan_records(fitted):
    from scalinglaws.plan import frontier

    fit, path, data = fitted
    kaplan = sl.fit(str(data), "kaplan", seed=0)
    fig = figure("frontier", kaplan, data=str(data))
    n_line = next(s for s in fig.panels[0].series if s.kind == "line")
    d_line = next(s for s in fig.panels[1].series if s.kind == "line")
    np.testing.assert_allclose(6 * np.array(n_line.y) * np.array(d_line.y), n_line.x, rtol=1e-8)
    record = frontier(fit, [1e20, 1e21, 1e22])
    rec_fig = figure("frontier", record)
    np.testing.assert_allclose(rec_fig.panels[0].series[-1].y if rec_fig.panels[0].series[-1].kind == "line"
                               else next(s for s in rec_fig.panels[0].series if s.kind == "line").y,
                               [a.params for a in record.allocations])
    c = np.geomspace(1e18, 1e21, 8)
    power = sl.fit({"flops": c, "loss": 2 + 50 * c ** -0.1}, "power", seed=0)
    with pytest.raises(ScalingLawsError, match="needs a law of params and tokens"):
        figure("frontier", power)


def test_isoflop_minima_are_each_budgets_lowest_loss():
    runs = sl.read_runs("dataset:porian_isoflop?loss_split=val&dataset=refinedweb&family=cosine_decay")
    fig = figure("isoflop", runs)
    optima = fig.meta["optima"]["dataset:porian_isoflop"]
    budgets = np.array([float(f"{v:.3g}") for v in runs["flops"]])
    assert len(optima) == 12
    for o in optima:
        rows = budgets == o["flops"]
        assert o["loss"] == runs["loss"][rows].min()
        assert o["params"] == runs["params"][rows][np.argmin(runs["loss"][rows])]
    # the optimum grows with compute: the reason IsoFLOP profiles are drawn
    assert optima[-1]["params"] > 10 * optima[0]["params"]


def test_isoflop_panels_by_family_and_clear_errors():
    fig = figure("isoflop", "dataset:porian_isoflop?loss_split=val&dataset=refinedweb")
    assert [p.title for p in fig.panels] == ["count_last_layer_flops", "correct_warmup", "cosine_decay",
                                             "tuned_no_decay"]
    with pytest.raises(ScalingLawsError, match="several rows share a budget and a model size, differing in dataset"):
        figure("isoflop", "dataset:porian_isoflop?family=cosine_decay&loss_split=val")
    with pytest.raises(ScalingLawsError, match="no IsoFLOP profiles"):
        figure("isoflop", "dataset:chinchilla_epoch")


def test_changed_data_is_flagged_not_hidden(fitted, tmp_path):
    fit, _, data = fitted
    text = data.read_text().splitlines()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the very rows the fit saw: no warning
        assert figure("fit", fit, data=str(data)).warnings == ()
    changed = tmp_path / "runs.csv"
    changed.write_text("\n".join(text[:-1]) + "\n")  # one run fewer than the fit saw
    with pytest.warns(DataWarning, match="differ from those the fit saw"):
        fig = figure("fit", fit, data=str(changed))
    assert fig.warnings and "hash" in fig.warnings[0]
    with pytest.raises(ScalingLawsError, match="cannot be read.*--data"):
        figure("fit", fit, data=str(tmp_path / "missing.csv"))


def test_registry_dispatches_by_record(fitted, tmp_path):
    fit, path, _ = fitted
    assert kinds_for(fit) == ["fit", "extrapolation", "residuals", "frontier"]
    assert kinds_for(sl.load_dataset("porian_isoflop")) == ["runs", "isoflop"]
    assert type(load_result(str(path))).__name__ == "Fit"
    other = tmp_path / "plan.json"
    other.write_text(json.dumps({"format": "scalinglaws.somethingelse/1"}))
    with pytest.raises(ScalingLawsError, match="plan.json has format 'scalinglaws.somethingelse/1', which no command"):
        load_result(str(other))
    other.write_text(json.dumps(fit.predict(params=1e9, tokens=2e10).to_dict()))
    with pytest.raises(ScalingLawsError, match="holds a 'scalinglaws.predictions/1' record, which cannot be drawn"):
        load_result(str(other))
    assert [f.kind for f in figures(path, "all")] == kinds_for(fit)
    with pytest.raises(ScalingLawsError, match="does not draw a Runs"):
        figure("frontier", sl.load_dataset("porian_isoflop"))


def test_predictions_figure(fitted):
    fit, _, _ = fitted
    pred = fit.predict(params=[1e9, 2e9], tokens=[2e10, 4e10])
    fig = figure("predictions", pred)
    bars = fig.panels[0].series[0]
    np.testing.assert_allclose(bars.y, pred.prediction)
    np.testing.assert_allclose(np.reshape(bars.y2, (-1, 2)), np.column_stack([pred.lower, pred.upper]))


def test_palette_and_labels():
    seq = Panel("t", "x", "y", tuple(Series("points", [1], [1], group=g) for g in "abc"), palette="sequential")
    cols = palette(seq)
    assert cols["a"] == "#2b1a6e" and len(set(cols.values())) == 3  # ordered hues, dark to light
    qual = Panel("t", "x", "y", tuple(Series("points", [1], [1], group=g) for g in "ab"))
    assert palette(qual) == {"a": "#0072B2", "b": "#E69F00"}
    assert [si(v) for v in (5.7e7, 1.4e9, 7e10, 2.5e12, 5.76e23, 3.0)] == ["57M", "1.4B", "70B", "2.5T", "5.8e+23",
                                                                          "3"]
    with pytest.raises(ValueError):
        Series("band", [1, 2], [1, 2], [3])


def test_pictures_are_written_atomically_and_reproducibly(fitted, tmp_path):
    fit, path, _ = fitted
    png = save(path, tmp_path / "fit.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = save(path, tmp_path / "again.png")
    assert png.read_bytes() == again.read_bytes()  # same record, same bytes
    assert save(path, tmp_path / "fit.svg", kind="residuals").read_text().lstrip().startswith("<?xml")
    assert save(path, tmp_path / "fit.pdf", kind="all").read_bytes()[:4] == b"%PDF"
    assert not list(tmp_path.glob(".*.tmp"))
    mpl_fig = plot(path, "all")
    assert len([a for a in mpl_fig.get_axes() if a.get_visible()]) == 6
    fig = figure("fit", path)
    assert isinstance(fig, Figure) and fig._repr_png_()[:4] == b"\x89PNG"
    with pytest.raises(ScalingLawsError, match="unknown picture type '.jpg'"):
        save(fit, tmp_path / "fit.jpg")
    with pytest.raises(ScalingLawsError, match="does not exist"):
        save(fit, tmp_path / "no" / "fit.png")


def test_plot_command(fitted, tmp_path, capsys):
    _, path, _ = fitted
    out = tmp_path / "f.png"
    assert main(["plot", str(path), "-o", str(out), "--kind", "fit,residuals"]) == 0
    assert out.exists() and "wrote" in capsys.readouterr().out
    assert main(["plot", str(path), "--kind", "extrapolation", "--at", "params=7e10", "--at", "tokens=1.4e12",
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["figures"][0]["kind"] == "extrapolation"
    assert data["figures"][0]["meta"]["targets"][0]["params"] == 7e10
    assert main(["plot", str(path), "--kind", "list", "--json"]) == 0
    assert {k["name"] for k in json.loads(capsys.readouterr().out)["kinds"]} == set(kinds_for(sl.Fit.load(path)))
    assert main(["plot", "dataset:porian_isoflop?loss_split=val&dataset=refinedweb", "--kind", "isoflop", "-o",
                 str(tmp_path / "iso.svg")]) == 0


@pytest.mark.parametrize("args, message", [
    (["--kind", "nope", "-o", "x.png"], "unknown figure kind 'nope'"),
    (["-o", "x.gif"], "unknown picture type '.gif'"),
    ([], "give the picture to write with -o"),
    (["--where", "params>1", "-o", "x.png"], "--where and --map apply to runs tables"),
    (["--kind", "isoflop", "-o", "x.png"], "does not draw a Fit"),
    (["--x", "seed", "-o", "x.png"], "column 'seed' is missing"),
])
def test_plot_command_errors(fitted, tmp_path, monkeypatch, capsys, args, message):
    _, path, _ = fitted
    monkeypatch.chdir(tmp_path)
    assert main(["plot", str(path), *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and message in err and err.count("\n") == 1
    assert not list(tmp_path.iterdir())


def test_plot_composes_onto_the_users_axes_and_takes_figure_options(fitted):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from scalinglaws.errors import ArgumentError

    fit = fitted[0]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3))
    try:
        assert sl.plot(fit, ax=axes[0], title="mine") is axes[0]
        assert axes[0].get_title() == "mine" and axes[0].collections  # drawn onto the user's Axes
        assert sl.plot(fit, "residuals", ax=axes[1:]) is not None  # one Axes per panel
        with pytest.raises(ArgumentError, match="has 2 panels but 1 Axes"):
            sl.plot(fit, "residuals", ax=axes[2])
    finally:
        plt.close(fig)
    own = sl.plot(fit, figsize=(5, 4), dpi=80, title="A title")
    assert tuple(own.get_size_inches()) == (5, 4) and own.dpi == 80 and own.axes[0].get_title() == "A title"
    assert own._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"  # a notebook shows the picture, not a repr
    with pytest.raises(ArgumentError, match=r"foo: no such option of a figure"):
        sl.plot(fit, foo=1)
    with pytest.raises(ArgumentError, match=r"did you mean title="):
        sl.plot(fit, titel="x")
    with pytest.raises(ArgumentError, match="figsize must be"):
        sl.plot(fit, figsize=5)


def test_fit_figure_shows_the_law_its_band_and_a_key(fitted):
    fit = fitted[0]
    fig = figure("fit", fit)
    notes = "\n".join(fig.panels[0].notes)
    assert f"fitted: {fit.formula}" in notes and f"E={fit.params['E']:.4g}" in notes
    assert "dots: measured runs · lines: fitted law · bands: 95% confidence (100 bootstrap refits)" in notes
    assert any(s.kind == "band" for s in fig.panels[0].series)
    assert fig.title.startswith("chinchilla law fitted to runs.csv")


def test_plot_command_takes_title_and_dpi(cli, fitted, tmp_path):
    _, fit_path, _ = fitted
    code, out, err = cli("plot", str(fit_path), "-o", str(tmp_path / "a.png"), "--dpi", "60", "--title", "Mine")
    assert code == 0, err
    from PIL import Image

    with Image.open(tmp_path / "a.png") as im:
        assert im.size[0] < 6.4 * 150  # 60 dpi, not the default 150


def test_fits_made_from_a_dataframe_with_a_rename_or_with_constants_can_be_drawn(cli, tmp_path, monkeypatch):
    import pandas as pd

    cols = ladder()
    df = pd.DataFrame({"model_size": cols["params"], "tokens": cols["tokens"], "loss": cols["loss"]})
    fit = sl.fit(df, "chinchilla", rename={"model_size": "params"})
    assert fit.data["map"] == ("params=model_size",)
    assert figure("fit", fit).panels[0].series  # read again from the DataFrame the fit was made from
    monkeypatch.chdir(tmp_path)
    (tmp_path / "one.csv").write_text("size,tokens,loss\n" + "".join(
        f"x,{t},{2.6 + 3e4 * t ** -0.5}\n" for t in (2e9, 4e9, 8e9, 1.6e10, 3.2e10)))
    code, out, err = cli("fit", "one.csv", "--law", "power", "--input", "x=tokens", "--set", "params=160M", "--map",
                         "run=size", "-o", "one.json")
    assert code == 0, err
    assert "note: set for every row: params=1.6e+08" in out
    saved = sl.Fit.load(tmp_path / "one.json")
    assert saved.data["set"] == {"params": 1.6e8} and saved.data["map"] == ("run=size",)
    code, _, err = cli("plot", "one.json", "-o", "one.png")
    assert code == 0 and "differ" not in err, err  # its rows found again, mapped and set as they were
