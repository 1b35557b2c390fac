"""Learning the model-error term from held-out larger runs (decide/calibrate.py) and the record it makes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scalinglaws.decide.calibrate import BUNDLED, HeldOut, Ladder, held_out, interval_score, learn, scores
from scalinglaws.errors import ScalingLawsError
from scalinglaws.fitting.calibration import DEFAULT_PATH, FORMAT, Calibration, resolve


def test_interval_score_is_width_plus_scaled_misses():
    lo, hi = np.array([1.0, 1.0, 1.0]), np.array([2.0, 2.0, 2.0])
    y = np.array([1.5, 0.5, 2.25])
    # inside: the width; below by 0.5 and above by 0.25, each miss times 2/alpha = 40 at alpha = 0.05
    assert interval_score(lo, hi, y, 0.05) == pytest.approx([1.0, 21.0, 11.0])


def synthetic(name: str, spread: float, error: float, n: int = 300, seed: int = 0) -> HeldOut:
    """Held-out rows whose plain samples scatter by `spread` but whose observations miss by `error` (log units)."""
    rng = np.random.default_rng(seed)
    point = np.full(n, 2.0)
    base = np.log(point)[:, None] + rng.normal(0, spread, (n, 1000))
    obs = point * np.exp(rng.normal(0, error, n))
    return HeldOut(ladder=name, group=name, law=np.full(n, "chinchilla", dtype=object), cut=np.ones(n),
                   observed=obs, prediction=point, extrapolation=np.full(n, 2.0), base=base,
                   noise=np.full(n, spread), eps=rng.standard_normal(1000), weight=np.full(n, 1 / n))


def test_learning_widens_intervals_that_are_too_narrow_until_they_cover():
    held = [synthetic("a", 0.01, 0.03, seed=1), synthetic("b", 0.01, 0.03, seed=2)]
    plain = scores(held, None)["pooled"]
    assert plain["0.95"]["coverage"] < 0.5
    cal = learn(held)
    made = scores(held, cal)["pooled"]
    assert cal.tau0 + cal.tau_noise * 0.01 + cal.tau1 * np.log(2.0) > 0.02
    assert 0.88 <= made["0.95"]["coverage"] <= 0.99
    assert made["weighted_interval_score"] < plain["weighted_interval_score"]
    assert set(cal.scores["reliability"]) == {"a", "b"}


def test_learning_leaves_honest_intervals_about_alone():
    held = [synthetic("a", 0.03, 0.03, seed=3), synthetic("b", 0.03, 0.03, seed=4)]
    cal = learn(held)
    made = scores(held, cal)["pooled"]
    assert 0.9 <= made["0.95"]["coverage"] <= 0.99
    assert made["0.95"]["median_width"] < 1.3 * scores(held, None)["pooled"]["0.95"]["median_width"]


def test_held_out_keeps_every_larger_run_with_its_extrapolation():
    h = held_out(Ladder("epoch", "dataset:chinchilla_epoch", by="flops", cuts=2), bootstrap=20)
    assert h is not None and len(h) > 50
    assert np.all(h.extrapolation >= 1) and h.base.shape[0] == len(h)
    assert np.all(np.isfinite(h.prediction)) and h.weight.sum() == pytest.approx(1.0)


def test_learning_refuses_nothing_to_learn_from():
    with pytest.raises(ScalingLawsError, match="no held-out rows"):
        learn([])


def test_the_shipped_calibration_is_learned_from_the_bundled_ladders_and_applied_by_default():
    cal = resolve("default")
    assert DEFAULT_PATH.is_file() and cal is not None and cal.origin == "default"
    assert set(cal.source) == {ladder.key for ladder in BUNDLED}
    assert cal.tau0 > 0 and cal.scores["calibrated"]["0.95"]["coverage"] > cal.scores["plain"]["0.95"]["coverage"]
    assert resolve("none") is None
    d = json.loads(DEFAULT_PATH.read_text())
    assert d["format"] == FORMAT and Calibration.from_dict(d).tau_noise == cal.tau_noise


def test_a_calibration_file_that_is_not_one_is_refused(tmp_path):
    bad = tmp_path / "cal.json"
    bad.write_text(json.dumps({"tau0": 0.1}))
    with pytest.raises(ScalingLawsError, match="not a scalinglaws calibration"):
        resolve(str(bad))
    bad.write_text(json.dumps({"format": FORMAT, "tau0": -1, "tau1": 0, "df": None}))
    with pytest.raises(ScalingLawsError, match="non-negative"):
        resolve(str(bad))


def test_calibrate_command_writes_a_calibration(tmp_path):
    from scalinglaws.cli.app import main

    out = tmp_path / "cal.json"
    assert main(["calibrate", "dataset:chinchilla_epoch", "--cuts", "2", "--bootstrap", "20", "-o", str(out),
                 "--json"]) == 0
    cal = resolve(str(out))
    assert cal.source == ("dataset:chinchilla_epoch",) and cal.scores["rows"] > 50
    assert main(["calibrate", "-o", str(tmp_path / "x.json")]) == 1
    assert not (tmp_path / "x.json").exists()


def test_learning_reads_the_rows_a_backtest_keeps():
    """One record of a rolling backtest's held-out runs: calibration learns from the rows `backtest` reports."""
    from scalinglaws.decide import backtest

    h = held_out(Ladder("epoch", "dataset:chinchilla_epoch", by="flops", cuts=2), bootstrap=20)
    bt = backtest("dataset:chinchilla_epoch", "chinchilla", by="flops", cuts=2, bootstrap=20)
    for name in ("observed", "prediction", "extrapolation"):
        assert np.array_equal(getattr(h, name), np.concatenate([getattr(c.rows, name) for c in bt.cuts]))
    assert np.array_equal(h.cut, np.concatenate([np.full(len(c.rows), c.cut) for c in bt.cuts]))
