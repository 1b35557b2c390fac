"""The fitting engine: Epoch AI's certified Chinchilla refit, the search record, objectives, bootstrap by run,
diagnostics, and determinism."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from scalinglaws.demo import epoch_runs
from scalinglaws.errors import FitWarning, ScalingLawsError
from scalinglaws.fitting import fit
from scalinglaws.fitting.bootstrap import compact, resample_weights
from scalinglaws.laws import LAWS

# Besiroglu et al. 2024 (Epoch AI): the optimum of Huber(δ=1e-3) on log residuals over their 240 points.
EPOCH = {"E": 1.8172, "A": 477.8, "B": 2143.4, "alpha": 0.34731, "beta": 0.36717}
EPOCH_OBJECTIVE = 0.00101827403  # what Epoch's 4,500-start L-BFGS-B grid reaches


@pytest.fixture(scope="module")
def epoch_fit():
    return fit(epoch_runs(), "chinchilla", bootstrap=1000, seed=0)


def test_recovers_epochs_optimum(epoch_fit):
    assert epoch_fit.n_points == 240
    for name, value in EPOCH.items():
        assert epoch_fit.params[name] == pytest.approx(value, rel=2e-4), name
    assert epoch_fit.objective <= EPOCH_OBJECTIVE
    assert epoch_fit.objective == pytest.approx(0.00101827401770, abs=1e-14)  # the optimum to 13 digits
    assert epoch_fit.converged and epoch_fit.at_bounds == () and epoch_fit.warnings == ()


def test_search_record(epoch_fit):
    s = epoch_fit.starts
    assert s["candidates"] >= 256 and s["refined"] == len(s["objectives"]) == len(s["status"]) == 32
    assert s["reached_best"] >= 3  # several independent starts agree on the optimum
    assert min(s["objectives"]) == epoch_fit.objective
    assert set(s["status"]) <= {"converged", "pruned", "stalled", "iteration limit"}


def test_bootstrap_intervals_agree_with_epoch(epoch_fit):
    lo, hi = epoch_fit.ci["alpha"]
    assert lo == pytest.approx(0.317, abs=0.004) and hi == pytest.approx(0.373, abs=0.004)
    assert epoch_fit.bootstrap.n == 1000 and epoch_fit.bootstrap.failed == 0
    for name, (lo, hi) in epoch_fit.ci.items():
        assert lo < epoch_fit.params[name] < hi


def test_same_seed_same_bytes_and_seed_changes_only_the_draws():
    runs = epoch_runs()
    a = fit(runs, "chinchilla", bootstrap=200, seed=3)
    b = fit(runs, "chinchilla", bootstrap=200, seed=3)
    c = fit(runs, "chinchilla", bootstrap=200, seed=4)
    assert a.to_json() == b.to_json()
    assert c.params["alpha"] == pytest.approx(a.params["alpha"], rel=1e-6)  # the start design moves only noise
    assert c.objective == pytest.approx(a.objective, rel=1e-12)
    assert c.bootstrap.draws != a.bootstrap.draws


def test_resampling_is_by_run():
    run_ids = np.array(["a", "a", "a", "b", "b", "c"])
    w = resample_weights(run_ids, 500, np.random.default_rng(0))
    assert w.shape == (500, 6)
    assert np.all(w[:, 0] == w[:, 1]) and np.all(w[:, 1] == w[:, 2]) and np.all(w[:, 3] == w[:, 4])
    run_counts = w[:, [0, 3, 5]]
    assert np.all(run_counts.sum(axis=1) == 3)  # three runs drawn with replacement
    rows = compact(w)
    for b in range(20):
        kept = rows[b][rows[b] >= 0]
        assert set(kept) == set(np.flatnonzero(w[b] > 0))


def test_checkpoints_of_one_run_do_not_fake_certainty():
    """Ten checkpoints of each run share its run-level noise: resampling rows would understate the spread."""
    rng = np.random.default_rng(1)
    law = LAWS["chinchilla"]
    truth = {"E": 1.8, "A": 480.0, "B": 2100.0, "alpha": 0.35, "beta": 0.37}
    sizes = np.geomspace(2e7, 2e9, 12)
    rows = {"run": [], "params": [], "tokens": [], "loss": []}
    for i, n in enumerate(sizes):
        offset = 0.02 * rng.standard_normal()  # this run's own deviation, shared by its checkpoints
        for d in np.geomspace(2e9, 4e10, 10):
            rows["run"].append(f"r{i}")
            rows["params"].append(n)
            rows["tokens"].append(d)
            rows["loss"].append(law({"N": n, "D": d}, truth)[0] * np.exp(offset + 0.002 * rng.standard_normal()))
    by_run = fit(rows, "chinchilla", bootstrap=300, seed=0)
    by_row = fit({k: v for k, v in rows.items() if k != "run"}, "chinchilla", bootstrap=300, seed=0)
    assert by_run.n_runs == 12 and by_row.n_runs == 120
    width = lambda f: f.ci["alpha"][1] - f.ci["alpha"][0]  # noqa: E731
    assert width(by_run) > 1.5 * width(by_row)


def test_objectives_l2_and_asymmetric():
    runs = epoch_runs()
    l2 = fit(runs, "chinchilla", loss="l2")
    assert l2.loss == {"kind": "l2"}
    resid = np.asarray(l2.residuals)
    assert l2.objective == pytest.approx(np.sum(resid ** 2), rel=1e-10)
    asym = fit(runs, "chinchilla", loss="asymmetric", asymmetry=8.0)
    huber = fit(runs, "chinchilla")
    over = lambda f: np.mean(np.asarray(f.residuals) > 0)  # noqa: E731  fraction of points predicted too high
    assert over(asym) < over(huber)
    with pytest.raises(ScalingLawsError, match="unknown loss 'l1'"):
        fit(runs, "chinchilla", loss="l1")


def test_weights_column_is_used():
    runs = epoch_runs()
    heavy = runs.with_columns(weight=np.where(runs["params"] > 1e9, 10.0, 1.0))
    a, b = fit(runs, "chinchilla"), fit(heavy, "chinchilla")
    assert a.params["alpha"] != pytest.approx(b.params["alpha"], rel=1e-6)
    with pytest.raises(ScalingLawsError, match="weights must be one finite, non-negative number per row"):
        fit(runs, "chinchilla", weights=-np.ones(len(runs)))


def test_parameter_at_bound_is_reported_and_warned():
    """Data without an irreducible term push E to its bound 0: reported, with a warning that says what to try."""
    n = np.geomspace(1e7, 1e10, 20)
    y = 500.0 * n ** -0.3
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fit({"params": n, "loss": y}, "power", inputs={"x": "params"})
    assert "E" in result.at_bounds
    msgs = [str(w.message) for w in caught if issubclass(w.category, FitWarning)]
    assert any("parameter E ended at its bound" in m and "fix it, fit a simpler law" in m for m in msgs)
    assert any("parameter E ended at its bound" in m for m in result.warnings)


def test_too_few_points_and_missing_columns():
    with pytest.raises(ScalingLawsError, match="has 4 usable rows but law 'chinchilla' has 5 parameters"):
        fit({"params": [1e8, 2e8, 4e8, 8e8], "tokens": [1e9] * 4, "loss": [3.0, 2.9, 2.8, 2.7]}, "chinchilla")
    with pytest.raises(ScalingLawsError, match=r"column 'tokens' is missing .* \(law 'chinchilla' needs it\)"):
        fit({"params": [1e8, 2e8], "loss": [3.0, 2.9]}, "chinchilla")
    with pytest.raises(ScalingLawsError, match="must be positive to be fitted in log space.*space='linear'"):
        fit({"params": [1e8, 2e8, 4e8, 8e8], "acc": [0.0, 0.1, 0.2, 0.3]}, "power", inputs={"x": "params"},
            target="acc")


def test_exactly_determined_fit_warns():
    n = np.geomspace(1e7, 1e10, 3)
    with pytest.warns(FitWarning, match="3 points for 3 parameters"):
        fit({"params": n, "loss": 1.5 + 500.0 * n ** -0.3}, "power", inputs={"x": "params"})


def test_fit_record_json_contract(epoch_fit):
    rec = json.loads(epoch_fit.to_json())
    for key in ("law", "params", "objective", "n_points", "converged", "ci", "seed", "version", "data", "starts"):
        assert key in rec
    assert set(rec["params"]) == {"E", "A", "B", "alpha", "beta"}
    assert set(rec["ci"]) == set(rec["params"]) and all(len(v) == 2 for v in rec["ci"].values())
    assert rec["data"]["source"] == "dataset:chinchilla_epoch" and len(rec["data"]["hash"]) == 16
    assert rec["data"]["ranges"]["params"][0] == pytest.approx(5.73e7, rel=1e-2)


def test_record_says_how_to_read_the_same_rows_again(tmp_path):
    """Source as given (with its folder) and every filter, including ?conditions, so the rows can be re-read."""
    from scalinglaws.runs import read_runs

    result = fit("dataset:chinchilla_epoch?epoch_excluded=false", "chinchilla", where=["params>1e8"])
    assert result.data["source"] == "dataset:chinchilla_epoch"
    assert result.data["where"] == ("epoch_excluded=false", "params>1e8")
    again = read_runs(result.data["source"], where=result.data["where"])
    assert again.hash(["params", "tokens", "loss", "run"]) == result.data["hash"]
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "runs.csv").write_text("params,tokens,loss\n1e8,2e9,3.1\n2e8,4e9,2.9\n4e8,8e9,2.7\n8e8,1.6e10,2.6\n")
    assert fit(str(sub / "runs.csv"), "power", inputs={"x": "params"}).data["source"] == str(sub / "runs.csv")


def test_prediction_interval_follows_skewed_residuals():
    """Residuals are log(fit/observed): runs that sit above the fit must widen the interval upward."""
    rng = np.random.default_rng(0)
    n = np.geomspace(1e7, 1e10, 60)
    clean = 1.6 + 400.0 * n ** -0.3
    noise = np.where(rng.random(60) < 0.2, 0.04, 0.0) + 0.002 * rng.standard_normal(60)  # a few runs well above
    result = fit({"params": n, "loss": clean * np.exp(noise)}, "power", inputs={"x": "params"}, loss="l2",
                 bootstrap=300)
    pred = result.predict(params=[2e9])
    assert pred.upper[0] - pred.prediction[0] > pred.prediction[0] - pred.lower[0]


def test_search_and_refine_minimise_any_objective():
    """The engine's minimisers take any objective with value and value_grad: here a bowl with no residuals (so
    BFGS throughout), one centre per data row for refine."""
    from scalinglaws.fitting.optimize import PRUNED, refine, search

    class Bowl:
        def __init__(self, centres):
            self.c = np.atleast_2d(centres)  # (rows, P)

        def _c(self, rows):
            return self.c if len(self.c) == 1 else self.c[rows]

        def value(self, u, rows=None):
            return (((u - self._c(rows)) * [1.0, 30.0]) ** 2).sum(axis=1)

        def value_grad(self, u, rows=None):
            d = u - self._c(rows)
            return ((d * [1.0, 30.0]) ** 2).sum(axis=1), 2 * d * [1.0, 900.0]

    rng = np.random.default_rng(0)
    u0 = rng.uniform(-5, 5, (40, 2))
    found = search(Bowl([1.5, -0.5]), u0)
    assert np.allclose(found.u[found.best], [1.5, -0.5], atol=1e-6)
    assert np.sum(found.status == PRUNED) == 8 and np.all(np.isnan(found.f[found.status == PRUNED]))
    centres = rng.uniform(-3, 3, (6, 2))
    res = refine(Bowl(centres), np.zeros((6, 2)))
    assert np.allclose(res.u, centres, atol=1e-6) and np.all(res.status == 0)
