"""Rollout backtests: cuts by run, errors that match the truth, coverage, and clear errors for bad input."""

from __future__ import annotations

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.decide import backtest
from scalinglaws.decide.backtesting import choose_cuts, folds, run_scale, thin


def power_runs(seed: int, sigma: float = 0.004, n: int = 40):
    """Final losses from L = 1.7 + 60·C^-0.12 with log-normal scatter sigma."""
    rng = np.random.default_rng(seed)
    c = np.geomspace(1e17, 1e21, n)
    loss = (1.7 + 60.0 * c ** -0.12) * np.exp(rng.normal(0, sigma, n))
    return sl.read_runs({"run": [f"r{i}" for i in range(n)], "flops": c, "loss": loss})


def curve_runs():
    """Four 'runs' with eight checkpoints each: rows of one run must never straddle a cut."""
    rows = {"run": [], "params": [], "tokens": [], "loss": []}
    for i, n in enumerate([1e8, 3e8, 1e9, 3e9]):
        for d in np.geomspace(1e9, 2e10 * (i + 1), 8):
            rows["run"].append(f"m{i}")
            rows["params"].append(n)
            rows["tokens"].append(d)
            rows["loss"].append(1.8 + 400 * n ** -0.34 + 2000 * d ** -0.36)
    return sl.read_runs(rows)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_true_law_backtests_to_the_noise_level(seed):
    bt = backtest(power_runs(seed), "power", cuts=3)
    assert bt.complete and len(bt.cuts) == 3
    # with 0.4% scatter the held-out error of the true law is of that order; bias near zero
    assert bt.score < 0.012
    assert abs(bt.bias) < 0.01
    for c in bt.cuts:
        assert c.train_runs + c.test_runs == 40 and c.extrapolation > 1


def test_coverage_of_the_true_law_is_near_nominal():
    bt = backtest(power_runs(3, sigma=0.01), "power", cuts=2, bootstrap=150, level=0.9)
    assert bt.level == 0.9 and bt.coverage is not None
    assert 0.6 <= bt.coverage <= 1.0


def test_a_misspecified_law_scores_worse():
    runs = power_runs(4)
    true = backtest(runs, "power", cuts=3)
    wrong = backtest(runs, "E + A*C", cuts=3)  # linear in compute: no curvature on log axes
    assert wrong.score > 3 * true.score


def test_cuts_keep_between_half_and_most_runs():
    scale = np.geomspace(1, 1000, 20)
    cuts = choose_cuts(scale, 4, "flops", "x")
    assert cuts == sorted(cuts) and len(cuts) == 4
    kept = [(scale <= c).mean() for c in cuts]
    assert 0.5 <= kept[0] and kept[-1] <= 0.85
    assert choose_cuts(scale, [5.0, 50.0], "flops", "x") == [5.0, 50.0]


def test_runs_never_straddle_a_cut():
    runs = curve_runs()
    for c, train, test, n_train in folds(runs, "params", 2):
        assert not set(train.run_ids.tolist()) & set(test.run_ids.tolist())
        assert train["params"].max() <= c < test["params"].min()
    _, scale = run_scale(runs, "flops")
    assert len(scale) == 4  # a run's scale is its largest flops


def test_thinning_keeps_every_run_and_its_last_row():
    runs = curve_runs()
    small = thin(runs, 12)
    assert len(small) <= 16 and set(small.run_ids.tolist()) == set(runs.run_ids.tolist())
    for rid in set(runs.run_ids.tolist()):
        assert small.where(f"run={rid}")["tokens"].max() == runs.where(f"run={rid}")["tokens"].max()


def test_a_fold_too_small_for_the_law_is_recorded_not_raised():
    bt = backtest(curve_runs(), "farseer", by="params", cuts=[1e8, 1e9])
    assert not bt.cuts[0].ok and "parameters" in bt.cuts[0].error
    assert not bt.complete


def test_bad_input_errors():
    runs = power_runs(0)
    with pytest.raises(sl.ScalingLawsError, match="by='tokens': column 'tokens' is missing"):
        backtest(runs, "power", by="tokens")
    with pytest.raises(sl.ScalingLawsError, match="holds labels"):
        backtest(runs, "power", by="run")
    few = runs.take(np.arange(2))
    with pytest.raises(sl.ScalingLawsError, match="at least 3 scales"):
        backtest(few, "power")
    with pytest.raises(sl.ScalingLawsError, match="no --cut leaves runs on both sides"):
        backtest(runs, "power", cuts=[1e30])


def test_backtest_record_is_json_ready():
    import json

    d = backtest(power_runs(0), "power", cuts=2).to_dict()
    json.dumps(d, allow_nan=False)
    assert d["law"] == "power" and len(d["cuts"]) == 2 and d["score"] > 0


@pytest.fixture(scope="module")
def epoch_backtest():
    return backtest("dataset:chinchilla_epoch", "chinchilla", cuts=2, bootstrap=40)


def test_every_held_out_row_is_kept_with_its_interval(epoch_backtest):
    bt = epoch_backtest
    assert bt.calibration == "default" and bt.level == 0.95
    for c in bt.cuts:
        r = c.rows
        assert len(r) == c.test_rows and len(r.run) == len(r)
        assert np.all(r.beyond_cut > 1) and np.all(r.extrapolation >= 1)  # every held-out run is larger than the cut
        assert np.all((r.lower <= r.prediction) & (r.prediction <= r.upper))
        assert np.mean((r.observed >= r.lower) & (r.observed <= r.upper)) == c.coverage
        assert c.rel_error == pytest.approx(np.mean(np.abs(r.prediction - r.observed) / r.observed))
        assert not r.observed.flags.writeable
    n = sum(len(c.rows) for c in bt.cuts)
    assert bt.coverage == pytest.approx(sum(c.coverage * len(c.rows) for c in bt.cuts) / n)


def test_the_rows_in_the_record_give_back_its_coverage_and_reliability(epoch_backtest):
    import json

    d = json.loads(json.dumps(epoch_backtest.to_dict(), allow_nan=False))
    inside = [lo <= y <= hi for c in d["cuts"] for y, lo, hi in
              zip(c["rows"]["observed"], c["rows"]["lower"], c["rows"]["upper"])]
    assert np.mean(inside) == pytest.approx(d["coverage"], abs=1e-12)
    pit = np.array([p for c in d["cuts"] for p in c["rows"]["pit"]])
    rel = d["reliability"]
    assert rel["rows"] == len(pit) and rel["nominal"][0] == 0.1 and 0.95 in rel["nominal"]
    for a, seen in zip(rel["nominal"], rel["observed"]):
        assert np.mean((pit >= (1 - a) / 2) & (pit <= (1 + a) / 2)) == pytest.approx(seen, abs=1e-12)
    assert rel["observed"][rel["nominal"].index(0.95)] == pytest.approx(d["coverage"])
    assert rel["observed"] == sorted(rel["observed"])  # a wider interval holds at least as many rows


def test_the_calibration_widens_the_intervals_and_is_recorded():
    runs = power_runs(5, sigma=0.01)
    on = backtest(runs, "power", cuts=2, bootstrap=60)
    off = backtest(runs, "power", cuts=2, bootstrap=60, calibration="none")
    assert off.calibration == "none" and on.calibration == "default"
    for a, b in zip(on.cuts, off.cuts):
        assert np.array_equal(a.rows.prediction, b.rows.prediction)
        assert np.all(a.rows.upper - a.rows.lower >= b.rows.upper - b.rows.lower)
    assert on.coverage >= off.coverage
    plain = backtest(runs, "power", cuts=2)  # no bootstrap: the rows' points only, no intervals made
    assert plain.calibration is None and plain.reliability() is None and plain.cuts[0].rows.lower is None
    assert "lower" not in plain.to_dict()["cuts"][0]["rows"]


def test_a_failed_cut_keeps_no_rows():
    bt = backtest(curve_runs(), "farseer", by="params", cuts=[1e8, 1e9])
    assert bt.cuts[0].rows is None and bt.cuts[0].to_dict()["rows"] is None
