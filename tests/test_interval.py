"""One forecast path: the evaluator, the interval maker, and every place that shows an interval agreeing with it."""

from __future__ import annotations

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.errors import ScalingLawsError
from scalinglaws.fitting import space as spaces
from scalinglaws.fitting.data import evaluate, extrapolation
from scalinglaws.fitting.interval import interval, predictive


@pytest.fixture(scope="module")
def skewed_fit():
    """All 245 Epoch rows, asymmetric loss: residuals skewed, so a flipped residual sign shows."""
    return sl.fit(sl.load_dataset("chinchilla_epoch"), "chinchilla", loss="asymmetric", bootstrap=200, seed=0)


def test_residuals_are_skewed(skewed_fit):
    r = np.asarray(skewed_fit.residuals)
    assert abs(np.mean(r) - np.median(r)) > 1e-3 or abs(np.mean(r ** 3)) > 1e-7


def test_observation_sign():
    """Residuals are g(pred) - g(obs), so an observation is g⁻¹(g(pred) - e), in every space."""
    pred, obs = np.array([2.0]), np.array([1.5])
    for space in ("log", "linear"):
        e = spaces.forward(pred, space) - spaces.forward(obs, space)
        assert np.allclose(spaces.observe(pred, e, space), obs)
    p, o = np.array([0.6]), np.array([0.4])
    e = spaces.forward(p, "logit") - spaces.forward(o, "logit")
    assert np.allclose(spaces.observe(p, e, "logit"), o)


def test_figure_band_report_band_and_predict_agree(skewed_fit):
    """The figure's band, the report's band and `predict` are one computation: equal to 1e-9 at the same point."""
    from scalinglaws.plots.fitdata import bands

    at = {"params": np.array([7e10]), "tokens": np.array([1.4e12])}
    pred = skewed_fit.predict(at)
    bd = bands(skewed_fit, at)
    assert np.allclose(bd["prediction"][:, 0], [pred.lower[0], pred.upper[0]], rtol=1e-9, atol=0)
    conf = skewed_fit.predict(at, interval="confidence")
    assert np.allclose(bd["confidence"][:, 0], [conf.lower[0], conf.upper[0]], rtol=1e-9, atol=0)
    # along a path, the point asked for alone gets the same bounds as inside the path
    path = {"params": np.geomspace(1e9, 7e10, 9), "tokens": np.geomspace(2e10, 1.4e12, 9)}
    bp = bands(skewed_fit, path)
    assert np.allclose(bp["prediction"][:, -1], [pred.lower[0], pred.upper[0]], rtol=1e-9, atol=0)


def test_report_band_is_the_figure_band(skewed_fit):
    """`plot` and the HTML report draw the same Figure record: its band's last point is `predict` at the end of the
    figure's path (a straight line in log inputs from the largest run through the target, to s = 1.15)."""
    from scalinglaws.plots import figure

    fig = figure("extrapolation", skewed_fit, at={"params": 7e10, "tokens": 1.4e12})
    band_ = [s for p in fig.panels for s in p.series if s.kind == "band" and "prediction" in s.label][0]
    runs = sl.load_dataset("chinchilla_epoch")
    i = int(np.argmax(runs["flops"]))
    end = {c: runs[c][i] ** (1 - 1.15) * t ** 1.15 for c, t in (("params", 7e10), ("tokens", 1.4e12))}
    pred = skewed_fit.predict({c: [v] for c, v in end.items()})
    assert np.allclose([band_.y[-1], band_.y2[-1]], [pred.lower[0], pred.upper[0]], rtol=1e-9, atol=0)


def test_interval_is_not_mirrored(skewed_fit):
    """With skewed residuals, the interval follows the observations' side: obs = pred·exp(-e)."""
    at = {"params": np.array([7e10]), "tokens": np.array([1.4e12])}
    pred = skewed_fit.predict(at, calibration="none")
    curves = evaluate(skewed_fit, at, skewed_fit.bootstrap.array())
    r = np.asarray(skewed_fit.residuals)
    right = np.quantile(curves[:, :1] * np.exp(-r[None, :]), [0.025, 0.975])
    mirrored = np.quantile(curves[:, :1] * np.exp(r[None, :]), [0.025, 0.975])
    got = np.array([pred.lower[0], pred.upper[0]])
    assert np.abs(got - right).max() < 0.25 * np.abs(got - mirrored).max()


def test_evaluate_shapes(skewed_fit):
    at = {"params": [1e9, 1e10], "tokens": [2e10, 2e11]}
    one = evaluate(skewed_fit, at)
    many = evaluate(skewed_fit, at, skewed_fit.bootstrap.array()[:5])
    assert one.shape == (2,) and many.shape == (5, 2)
    assert np.allclose(one, skewed_fit.predict(at).prediction)


def test_extrapolation_factor(skewed_fit):
    hi = skewed_fit.data["ranges"]["params"][1]
    f = extrapolation(skewed_fit, {"params": [hi, 10 * hi], "tokens": [1e10, 1e10]})
    assert f[0] == pytest.approx(1.0) and f[1] == pytest.approx(10.0)


def test_predictive_is_deterministic_and_aligned():
    curves = np.full((50, 3), 2.0)
    a = predictive(curves, residuals=[0.01, -0.02], space="log", seed=1)
    b = predictive(curves, residuals=[0.01, -0.02], space="log", seed=1)
    assert np.array_equal(a, b) and a.shape == (100, 3)
    al = predictive(curves, residuals=[0.01], space="log", seed=1, aligned=True)
    assert al.shape == (50, 3)


def test_degenerate_intervals_warn():
    zero = interval(np.full((40, 2), 3.0), level=0.95, kind="confidence")
    assert any("zero width" in w for w in zero.warnings)
    wide = interval(np.geomspace(1e-3, 1e3, 40)[:, None], level=0.95, kind="confidence")
    assert any("order of magnitude" in w or "factor" in w for w in wide.warnings)


def test_method_is_recorded(skewed_fit):
    d = skewed_fit.predict(params=7e10, tokens=1.4e12).to_dict()
    m = d["interval_method"]
    assert m["parameters"]["draws"] == 200 and m["noise"]["residuals"] == 245 and "model" in m
    assert d["format"].startswith("scalinglaws.predictions/")


def test_bad_level():
    with pytest.raises(ScalingLawsError, match="level"):
        interval(np.ones((3, 1)), level=1.5)


def test_every_interval_level_is_checked_once_by_check_level(skewed_fit):
    """Every function that takes a coverage level refuses a bad one with check_level's own words."""
    from scalinglaws.curves import forecast_run
    from scalinglaws.decide import forecast_downstream, forecast_testtime
    from scalinglaws.errors import ArgumentError
    from scalinglaws.fitting.interval import check_level
    from scalinglaws.plan import compare_approaches, compute_optimal, fit_hparams

    with pytest.raises(ArgumentError) as once:
        check_level(2.0)
    calls = {
        "fit": lambda: sl.fit(sl.load_dataset("chinchilla_epoch"), "chinchilla", level=2.0),
        "predict": lambda: skewed_fit.predict(params=1e9, tokens=2e10, level=2.0),
        "Fit.intervals": lambda: skewed_fit.intervals(2.0),
        "compute_optimal": lambda: compute_optimal(skewed_fit, 1e22, level=2.0),
        "compare_approaches": lambda: compare_approaches("no-such.csv", level=2.0),
        "fit_hparams": lambda: fit_hparams("no-such.csv", level=2.0),
        "forecast_testtime": lambda: forecast_testtime("no-such.csv", level=2.0),
        "forecast_downstream": lambda: forecast_downstream("no-such.csv", ["acc"], level=2.0),
        "forecast_run": lambda: forecast_run("no-such.csv", level=2.0),
    }
    for name, call in calls.items():
        with pytest.raises(ArgumentError) as caught:
            call()
        assert str(caught.value) == str(once.value) and caught.value.argument == "level", name


def test_pit_is_the_inverse_of_the_interval_percentiles():
    """y lies inside the central interval at level a exactly when its pit p has |2p - 1| <= a, at every level."""
    from scalinglaws.fitting.interval import covered, position

    rng = np.random.default_rng(0)
    samples = rng.normal(size=(2000, 300))
    samples[:50, 7] = np.nan  # NaN samples are left out, as np.nanquantile leaves them
    y = 1.5 * rng.normal(size=300)
    p = position(samples, y)
    assert np.all((p >= 0) & (p <= 1))
    for a in (0.1, 0.5, 0.8, 0.95, 0.99):
        lo, hi = np.nanquantile(samples, [(1 - a) / 2, (1 + a) / 2], axis=0)
        assert np.array_equal(covered(p, a), (y >= lo) & (y <= hi))
    assert position(samples[:, :2], np.array([-1e9, 1e9])).tolist() == [0.0, 1.0]
    assert np.isnan(position(samples[:, :1], np.array([np.nan]))[0])


def test_prediction_with_observations_says_where_each_fell(skewed_fit):
    """The pit comes from the interval's own samples: the interval holds exactly the observations whose pit says so."""
    from scalinglaws.fitting.interval import covered
    from scalinglaws.fitting.prediction import predict

    runs = sl.load_dataset("chinchilla_epoch").take(np.arange(0, 245, 7))
    obs = np.asarray(runs["loss"], dtype=float)
    pred = predict(skewed_fit, runs, level=0.8, observed=obs)
    inside = (obs >= pred.lower) & (obs <= pred.upper)
    assert np.array_equal(covered(pred.pit, 0.8), inside)
    plain = predict(skewed_fit, runs, level=0.8)
    assert plain.pit is None and np.array_equal(plain.lower, pred.lower)
    assert "pit" in pred.records()[0] and "pit" not in plain.records()[0]


def test_weighted_draws_make_a_mixture_interval():
    """Draws that carry probabilities: a law mixture's interval follows the weights, not the count of draws."""
    from scalinglaws.errors import ArgumentError
    from scalinglaws.fitting.interval import weighted_quantile

    rng = np.random.default_rng(0)
    a = 2.0 + 0.01 * rng.standard_normal((200, 1))  # two laws' draws at one point, 0.5 apart
    b = 2.5 + 0.01 * rng.standard_normal((200, 1))
    curves = np.vstack([a, b])
    even = np.full(400, 1 / 400)
    conf = interval(curves, level=0.9, kind="confidence", weights=even)
    assert conf.lower[0] < 2.02 and conf.upper[0] > 2.48  # spans both laws
    mostly_a = np.r_[np.full(200, 0.97 / 200), np.full(200, 0.03 / 200)]
    conf = interval(curves, level=0.9, kind="confidence", weights=mostly_a)
    assert conf.upper[0] < 2.03  # b's 3% lies beyond the 95th percentile
    pred = interval(curves, level=0.9, residuals=np.zeros(5), weights=even, seed=0)
    assert pred.lower[0] < 2.02 and pred.upper[0] > 2.48
    q = weighted_quantile(np.array([[1.0], [2.0], [np.nan], [3.0]]), np.array([0.25, 0.25, 0.25, 0.25]), [0.5, 1.0])
    assert q[:, 0].tolist() == [2.0, 3.0]  # the NaN sample is left out and the rest renormalised
    with pytest.raises(ArgumentError, match="one non-negative probability per draw"):
        interval(curves, level=0.9, weights=even[:10])
