"""Curve laws fitted to runs that never anneal: the annealing term is borrowed from a prior (fitting/borrow.py),
or reported as not identified, never silently left at its start value."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.cli.app import main
from scalinglaws.decide.priors import learn_anneal_prior as learn
from scalinglaws.errors import ArgumentError, FitWarning, ScalingLawsError
from scalinglaws.fitting.borrow import AnnealPrior, resolve

CONSTANT = "dataset:multipower_lr_curves?size=100M&schedule=constant"
ANNEALED = "dataset:multipower_lr_curves?size=100M&schedule=cosine"


def quiet_fit(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sl.fit(*args, **kwargs)


def test_without_a_prior_the_annealing_term_is_reported_not_identified():
    with pytest.warns(FitWarning, match=r"annealing parameters C are not identified"):
        f = sl.fit(CONSTANT, "lr_annealing", borrow="none")
    assert f.extra["not_identified"] == ("C",) and any("not identified" in w for w in f.warnings)


def test_the_shipped_prior_lends_the_annealing_term_and_its_spread():
    prior = resolve("default", sl.get_law("lr_annealing"))
    assert prior.origin == "default" and len(prior.sources) == 3 and prior.names == ("C",)
    with pytest.warns(FitWarning, match=r"borrowed from 3 fits of curves that anneal"):
        f = sl.fit(CONSTANT, "lr_annealing", bootstrap=40, seed=1)
    assert f.params["C"] == pytest.approx(prior.centre(3e-4)["C"], rel=1e-12)
    assert f.extra["borrowed"]["params"] == ("C",) and "not_identified" not in f.extra
    draws = f.bootstrap.array()
    c = draws[:, list(f.params).index("C")]
    assert np.std(np.log(c)) > 0.1  # every draw its own annealing amplitude
    # the other parameters come from the bootstrap over runs of the constant-lr fit
    plain = quiet_fit(CONSTANT, "lr_annealing", bootstrap=40, seed=1, borrow=AnnealPrior(
        law="lr_annealing", names=("C",), sources=((0.4,),), labels=("x",), peak_lr=3e-4))
    assert np.allclose(plain.bootstrap.array()[:, :3], draws[:, :3])
    pred = sl.predict(f, ANNEALED)
    assert "C drawn from an annealing prior (3 source fits, default" in pred.method["parameters"]["source"]
    obs = np.asarray(sl.read_runs(ANNEALED)["loss"], dtype=float)
    assert abs(pred.prediction[-1] / obs[-1] - 1) < 0.03  # the cosine run's final loss, never seen annealing
    assert pred.lower[-1] <= obs[-1] <= pred.upper[-1]
    none = quiet_fit(CONSTANT, "lr_annealing", bootstrap=40, seed=1, borrow="none")
    assert abs(sl.predict(none, ANNEALED).prediction[-1] / obs[-1] - 1) > 0.03  # the plateau it predicts


def test_runs_that_anneal_borrow_nothing():
    f = quiet_fit(ANNEALED, "lr_annealing")
    assert "borrowed" not in f.extra and "not_identified" not in f.extra


def test_a_learned_prior_a_saved_prior_and_a_fit_file_lend_the_same_way(tmp_path):
    prior = learn("dataset:multipower_lr_curves?size=100M", "lr_annealing", by="size")
    full = quiet_fit("dataset:multipower_lr_curves?size=100M", "lr_annealing")
    assert prior.sources == ((pytest.approx(full.params["C"], rel=1e-9),),) and prior.peak_lr == pytest.approx(3e-4)
    path = prior.save(tmp_path / "prior.json")
    assert json.loads(path.read_text())["format"] == "scalinglaws.anneal_prior/1"
    f = quiet_fit(CONSTANT, "lr_annealing", borrow=str(path))
    assert f.params["C"] == pytest.approx(full.params["C"], rel=1e-9)
    assert f.extra["borrowed"]["prior"]["origin"] == "prior.json"
    fit_path = full.save(tmp_path / "full.json")
    g = quiet_fit(CONSTANT, "lr_annealing", borrow=str(fit_path))
    assert g.params["C"] == pytest.approx(full.params["C"], rel=1e-9)
    # saved and read back, the borrowed fit still says so in its intervals
    again = sl.Fit.load(quiet_fit(CONSTANT, "lr_annealing", bootstrap=10).save(tmp_path / "b.json"))
    assert "annealing prior" in sl.predict(again, ANNEALED).method["parameters"]["source"]


def test_a_prior_is_carried_to_another_peak_learning_rate():
    prior = AnnealPrior(law="lr_annealing", names=("C",), sources=((0.4,),), labels=("x",), peak_lr=3e-4)
    assert prior.centre(6e-4)["C"] == pytest.approx(0.2)  # C·η carries over
    mp = AnnealPrior(law="multipower", names=("B", "C", "beta", "gamma"), sources=((400.0, 0.01, 2.0, 0.5),),
                     labels=("x",), peak_lr=3e-4)
    c = mp.centre(6e-4)
    assert c["B"] == pytest.approx(200.0) and c["C"] == pytest.approx(0.01 * 2 ** -0.5) and c["beta"] == 2.0


def test_bad_priors_are_refused_in_one_line(tmp_path, capsys):
    with pytest.raises(ArgumentError, match="borrow must be"):
        sl.FitOptions(borrow=3)
    with pytest.raises(ScalingLawsError, match="no such file"):
        sl.fit(CONSTANT, "lr_annealing", borrow=str(tmp_path / "missing.json"))
    (tmp_path / "other.json").write_text(json.dumps({"format": "scalinglaws.backtest/1"}))
    with pytest.raises(ScalingLawsError, match="neither an annealing prior nor a fit file"):
        sl.fit(CONSTANT, "lr_annealing", borrow=str(tmp_path / "other.json"))
    assert main(["fit", CONSTANT, "--law", "lr_annealing", "--borrow", str(tmp_path / "other.json")]) != 0
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_multipower_borrows_its_four_annealing_parameters():
    f = quiet_fit(CONSTANT, "multipower", bootstrap=20)
    assert set(f.extra["borrowed"]["params"]) == {"B", "C", "beta", "gamma"}
    cosine = sl.read_runs(ANNEALED + "&total_steps=24000")
    p = sl.predict(f, cosine)
    obs = float(cosine["loss"][-1])
    assert abs(p.prediction[-1] / obs - 1) < 0.03 and p.lower[-1] <= obs <= p.upper[-1]
