"""One record of fit options: checked once with errors that name the Python argument, and the same record behind
fit, backtest, law selection and comparison, so each fits the way the others do."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.decide import backtest, compare, compare_laws, fit_auto
from scalinglaws.errors import ArgumentError
from scalinglaws.fitting import FitOptions

TRUTH = {"E": 1.8, "A": 400.0, "B": 2000.0, "alpha": 0.34, "beta": 0.36}


def chinchilla(n, d):
    return TRUTH["E"] + TRUTH["A"] * n ** -TRUTH["alpha"] + TRUTH["B"] * d ** -TRUTH["beta"]


def ladder(seed: int, sigma: float = 0.003, contaminated: bool = False) -> sl.Runs:
    """A Chinchilla ladder; `contaminated` adds small badly tuned runs (loss three times too high) of weight 0."""
    rng = np.random.default_rng(seed)
    n = np.repeat(np.geomspace(3e7, 3e9, 8), 5)
    d = n * np.tile([5.0, 10.0, 20.0, 40.0, 80.0], 8)
    cols = {"run": [f"r{i}" for i in range(len(n))], "params": n, "tokens": d,
            "loss": chinchilla(n, d) * np.exp(rng.normal(0, sigma, len(n))), "w": np.ones(len(n))}
    if contaminated:
        cn = np.repeat(np.geomspace(3e7, 1e8, 4), 3)
        cd = cn * np.tile([5.0, 20.0, 80.0], 4)
        bad = {"run": [f"c{i}" for i in range(len(cn))], "params": cn, "tokens": cd,
               "loss": 3.0 * chinchilla(cn, cd) * (cd / cn / 20) ** 0.3, "w": np.zeros(len(cn))}
        cols = {k: np.r_[np.asarray(cols[k]), np.asarray(bad[k])] for k in cols}
    return sl.read_runs(cols)


# -- the record -----------------------------------------------------------------------------------------------------
def test_defaults_are_declared_once_and_the_record_is_frozen():
    o = FitOptions()
    assert (o.loss, o.delta, o.asymmetry, o.bootstrap, o.level, o.seed, o.starts, o.weights, o.transient) == (
        "huber", 1e-3, 4.0, 0, 0.95, 0, None, None, None)
    with pytest.raises(AttributeError):
        o.bootstrap = 3  # type: ignore[misc]
    assert FitOptions.of(None) == o and FitOptions.of(o, seed=2) == FitOptions(seed=2)
    assert FitOptions.of({"bootstrap": 5}, seed=1) == FitOptions(bootstrap=5, seed=1)
    assert o.replace(loss="l2").objective == sl.Objective("l2")
    assert FitOptions(loss=sl.Objective("asymmetric", asymmetry=8.0)).asymmetry == 8.0
    w = FitOptions(weights=np.array([1.0, 2.0]))
    assert w.weights == (1.0, 2.0) and hash(w) == hash(FitOptions(weights=[1, 2]))


@pytest.mark.parametrize("changes, argument, message", [
    ({"bootstrap": -1}, "bootstrap", "bootstrap must be a non-negative integer, got -1"),
    ({"bootstrap": 2.5}, "bootstrap", "bootstrap must be a non-negative integer, got 2.5"),
    ({"level": 95}, "level", "level must be a number between 0 and 1"),
    ({"seed": -3}, "seed", "seed must be a non-negative integer, got -3"),
    ({"starts": 0}, "starts", "starts must be a positive integer or None, got 0"),
    ({"loss": "l1"}, "loss", "unknown loss 'l1'"),
    ({"delta": 0}, "delta", "delta must be a positive number"),
    ({"asymmetry": 0.5}, "asymmetry", "asymmetry must be a number of at least 1"),
    ({"weights": [1.0, -1.0]}, "weights", "weights must be one finite, non-negative number per row"),
    ({"transient": "later"}, "transient", "transient 'later' is not a rule"),
])
def test_bad_options_are_refused_in_python_terms(changes, argument, message):
    with pytest.raises(ArgumentError, match=message) as caught:
        FitOptions(**changes)
    assert caught.value.argument == argument and "--" not in str(caught.value)
    with pytest.raises(ArgumentError) as again:  # the same check, whichever function is called
        sl.fit(ladder(0), "chinchilla", **changes)
    assert str(again.value) == str(caught.value)


def test_library_errors_of_the_options_name_no_flags():
    runs = ladder(0)
    for call in (lambda: backtest(runs, "power", bootstrap=-1), lambda: compare_laws(runs, level=2.0),
                 lambda: fit_auto(runs, seed=-1), lambda: compare(runs, "family", at={"flops": 1e22}, bootstrap=5),
                 lambda: sl.fit(runs, weights="nope"), lambda: fit_auto(runs, law="power")):
        with pytest.raises(ArgumentError) as caught:
            call()
        assert "--" not in str(caught.value), str(caught.value)


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="unexpected keyword argument 'bootstraps'"):
        sl.fit(ladder(0), bootstraps=10)


def test_keywords_and_a_record_give_the_same_fit():
    runs = ladder(0)
    opts = FitOptions(loss="l2", bootstrap=20, seed=4, starts=64)
    a = sl.fit(runs, "chinchilla", options=opts)
    b = sl.fit(runs, "chinchilla", loss="l2", bootstrap=20, seed=4, starts=64)
    c = sl.fit(runs, "chinchilla", options=opts.replace(seed=0), seed=4)  # keywords go on top of the record
    assert a.to_json() == b.to_json() == c.to_json()


# -- threaded through -----------------------------------------------------------------------------------------------
def test_backtest_fits_with_the_options():
    runs = ladder(0, sigma=0.02)
    huber = backtest(runs, "chinchilla", cuts=2, starts=64)
    l2 = backtest(runs, "chinchilla", cuts=2, options=FitOptions(loss="l2", starts=64))
    assert huber.cuts[0].params != l2.cuts[0].params
    # per-row weights follow their rows into every fold: the same as naming a weight column
    w = np.where(runs["params"] > 3e8, 5.0, 1.0)
    by_rows = backtest(runs, "chinchilla", cuts=2, starts=64, weights=w)
    by_column = backtest(runs.with_columns(w=w), "chinchilla", cuts=2, starts=64, weights="w")
    assert by_rows.to_dict()["cuts"] == by_column.to_dict()["cuts"]
    assert by_rows.cuts[0].params != huber.cuts[0].params


def test_fit_auto_chooses_with_the_weights_it_fits_with():
    """Small badly tuned runs of weight 0 mislead an unweighted choice; with the weights the true law wins."""
    candidates = ["power", "chinchilla", "kaplan"]
    for seed in (0, 1):
        runs = ladder(seed, contaminated=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            blind = fit_auto(runs, candidates=candidates, priors=None)
            weighted = fit_auto(runs, candidates=candidates, priors=None, weights="w")
        assert blind.extra["selection"]["winner"] == "power"
        assert weighted.extra["selection"]["winner"] == "chinchilla" == weighted.law
        # the chosen fit is the weighted fit of that law
        direct = sl.fit(runs, "chinchilla", weights="w")
        assert weighted.params == direct.params


def test_fit_auto_passes_every_fit_option_to_selection(monkeypatch):
    from scalinglaws.decide import select

    seen = []
    real = select.backtest

    def spy(*args, options=None, **kw):
        seen.append(options)
        return real(*args, options=options, **kw)

    monkeypatch.setattr(select, "backtest", spy)
    runs = ladder(0)
    f = fit_auto(runs, candidates=["power", "chinchilla"], priors=None, weights="w", transient="none", loss="l2",
                 bootstrap=20, seed=2, starts=2000)
    assert {o.weights for o in seen} == {"w"} and {o.transient for o in seen} == {"none"}
    assert {o.loss for o in seen} == {"l2"} and {o.seed for o in seen} == {2}
    assert {o.bootstrap for o in seen} == {0}  # selection ranks by error: no bootstrap there
    assert {o.starts for o in seen} == {select.BACKTEST_STARTS}  # law selection's budget
    assert f.loss["kind"] == "l2" and f.bootstrap.n == 20 and f.starts["candidates"] == 2000


def test_compare_fits_every_group_with_the_options():
    rng = np.random.default_rng(0)
    n = np.geomspace(1e17, 1e21, 8)
    rows = {"run": [], "flops": [], "family": [], "loss": []}
    for fam, a in (("a", 8.0), ("b", 9.0)):
        for i, x in enumerate(n):
            rows["run"].append(f"{fam}{i}")
            rows["flops"].append(x)
            rows["family"].append(fam)
            rows["loss"].append((1.5 + a * 1e4 * x ** -0.25) * np.exp(rng.normal(0, 0.01)))
    runs = sl.read_runs(rows)
    res = compare(runs, "family", at={"flops": 1e22}, law="power", options=FitOptions(bootstrap=30, level=0.8))
    assert res.level == 0.8
    assert compare(runs, "family", at={"flops": 1e22}, law="power").to_dict() == compare(
        runs, "family", at={"flops": 1e22}, law="power", bootstrap=200).to_dict()  # the default draws
