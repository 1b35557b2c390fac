"""Law selection by backtest and published priors: the true law wins, the record says why, and fits with fixed
parameters are ordinary fits that save, load and predict."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.decide import Prior, compare_laws, fit_auto, fit_with_prior, fix_params
from scalinglaws.decide.backtesting import Backtest, Cut
from scalinglaws.decide.select import rank

TRUTH = {"E": 1.8, "A": 400.0, "B": 2000.0, "alpha": 0.34, "beta": 0.36}


def chinchilla_runs(seed: int, sigma: float = 0.003):
    rng = np.random.default_rng(seed)
    n = np.repeat(np.geomspace(3e7, 3e9, 8), 5)
    d = n * np.tile([5.0, 10.0, 20.0, 40.0, 80.0], 8)
    loss = (TRUTH["E"] + TRUTH["A"] * n ** -TRUTH["alpha"] + TRUTH["B"] * d ** -TRUTH["beta"])
    loss = loss * np.exp(rng.normal(0, sigma, len(n)))
    return sl.read_runs({"run": [f"r{i}" for i in range(len(n))], "params": n, "tokens": d, "loss": loss})


@pytest.mark.parametrize("seed", [0, 1])
def test_auto_picks_the_law_that_generated_the_data(seed):
    f = fit_auto(chinchilla_runs(seed), candidates=["power", "chinchilla", "kaplan"], priors=None)
    sel = f.extra["selection"]
    assert sel["winner"] == "chinchilla" == f.law
    scores = {c["label"]: c["score"] for c in sel["candidates"]}
    assert scores["chinchilla"] < scores["power"] and scores["chinchilla"] < scores["kaplan"]
    assert "lowest backtested error" in sel["reason"] and sel["by"] == "flops"
    for k, v in TRUTH.items():
        assert f.params[k] == pytest.approx(v, rel=0.15)


def test_auto_fit_saves_loads_and_predicts(tmp_path):
    f = fit_auto(chinchilla_runs(0), candidates=["power", "chinchilla"], priors=None, bootstrap=50)
    path = f.save(tmp_path / "auto.json")
    back = sl.Fit.load(path)
    assert back.extra["selection"]["winner"] == "chinchilla" and back.bootstrap.n == 50
    p = back.predict(params=7e10, tokens=1.4e12)
    assert p.lower[0] < p.prediction[0] < p.upper[0]


def test_ranking_breaks_near_ties_by_fewer_parameters():
    def bt(label, score, n_params):
        cut = Cut(cut=1.0, train_runs=5, test_runs=5, test_rows=5, extrapolation=2.0, rel_error=score,
                  median_rel_error=score, max_rel_error=score, bias=0.0, coverage=None, converged=True)
        return Backtest(law=label, label=label, by="flops", target="loss", cuts=(cut,), n_params=n_params,
                        level=None, source="x")

    ranked = rank([bt("big", 0.0100, 9), bt("small", 0.0101, 3), bt("worse", 0.02, 2)])
    assert [b.label for b in ranked] == ["small", "big", "worse"]  # within 2%: the simpler law
    ranked = rank([bt("big", 0.0100, 9), bt("small", 0.0110, 3)])
    assert ranked[0].label == "big"  # 10% apart: the evidence decides


def test_incomplete_backtests_rank_last():
    runs = chinchilla_runs(0).take(np.arange(12))  # 12 runs: farseer (9 parameters) cannot fit the first cut
    ranking = compare_laws(runs, candidates=["power", "farseer"], priors=None, cuts=3)
    assert ranking.backtests[-1].label == "farseer" and not ranking.backtests[-1].complete
    json.dumps(ranking.to_dict(), allow_nan=False)


def test_candidates_without_their_columns_are_skipped_with_a_reason():
    ranking = compare_laws(chinchilla_runs(0), candidates=["power", "data_constrained"], priors=None, cuts=2)
    assert [s["law"] for s in ranking.skipped] == ["data_constrained"]
    assert "unique_tokens" in ranking.skipped[0]["reason"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fixing_the_true_exponents_recovers_the_scales(seed):
    prior = Prior("chinchilla", {"alpha": 0.34, "beta": 0.36}, "truth")
    f = fit_with_prior(chinchilla_runs(seed), "chinchilla", prior)
    assert f.law == "chinchilla" and f.params["alpha"] == 0.34 and f.params["beta"] == 0.36
    for k in ("E", "A", "B"):
        assert f.params[k] == pytest.approx(TRUTH[k], rel=0.05)
    assert f.extra["prior"]["name"] == "truth"


def test_prior_fit_bootstrap_keeps_the_fixed_values(tmp_path):
    prior = Prior("chinchilla", {"alpha": 0.34, "beta": 0.36}, "truth")
    f = fit_with_prior(chinchilla_runs(0), "chinchilla", prior, bootstrap=40)
    draws = f.bootstrap.array()
    assert draws.shape == (40, 5)
    assert np.all(draws[:, 3] == 0.34) and np.all(draws[:, 4] == 0.36)
    back = sl.Fit.load(f.save(tmp_path / "prior.json"))
    direct = TRUTH["E"]  # predictions go through the registered chinchilla law with the fixed exponents
    p = back.predict(params=1e10, tokens=1e12).prediction[0]
    assert p == pytest.approx(f.params["E"] + f.params["A"] * 1e10 ** -0.34 + f.params["B"] * 1e12 ** -0.36)
    assert p > direct


def test_borrowing_exponents_from_another_fit():
    donor = sl.fit(chinchilla_runs(5), "chinchilla")
    prior = Prior.from_fit(donor)
    assert set(prior.values) == {"alpha", "beta"}  # the nonlinear parameters
    short = chinchilla_runs(6).where("params<2e8")  # a short ladder: three sizes
    f = fit_with_prior(short, "chinchilla", prior)
    assert f.params["alpha"] == pytest.approx(donor.params["alpha"])


def test_fix_params_makes_a_smaller_law():
    law = fix_params(sl.get_law("chinchilla"), {"alpha": 0.3})
    assert law.param_names == ["E", "A", "B", "beta"] and "alpha" not in law.linear
    with pytest.raises(sl.ScalingLawsError, match="has no parameter gamma"):
        fix_params(sl.get_law("chinchilla"), {"gamma": 1.0})
    with pytest.raises(sl.ScalingLawsError, match="outside the parameter's bounds"):
        fix_params(sl.get_law("chinchilla"), {"alpha": -1.0})
    with pytest.raises(sl.ScalingLawsError, match="at least one parameter free"):
        fix_params(sl.get_law("power"), {"E": 1.0, "A": 1.0, "alpha": 0.1})


def test_published_priors_name_their_source():
    from scalinglaws.decide import PUBLISHED

    for p in PUBLISHED:
        law = sl.get_law(p.law)
        assert set(p.values) < set(law.param_names) and p.reference
    assert any(p.label == "chinchilla@besiroglu2024" for p in PUBLISHED)


def test_unknown_candidate_is_a_clear_error():
    with pytest.raises(sl.ScalingLawsError, match="unknown law 'chinchila'"):
        fit_auto(chinchilla_runs(0), candidates=["chinchila"])


def test_same_data_and_seed_give_the_same_record():
    runs = chinchilla_runs(0)
    a = fit_auto(runs, candidates=["power", "chinchilla"], seed=3).to_json()
    b = fit_auto(runs, candidates=["power", "chinchilla"], seed=3).to_json()
    assert a == b


# -- the runs' shape decides the candidates, the rows each sees and the cuts --------------------------------------
@pytest.fixture(scope="module")
def lr_curves():
    return sl.load_dataset("multipower_lr_curves")


def every(runs, k: int):
    return runs.take(np.arange(0, len(runs), k))  # fewer checkpoints of the same curves: a quicker test


QUICK = dict(cuts=2, starts=64)


def test_auto_on_one_runs_curve_fits_curve_laws_cut_along_its_steps(lr_curves):
    one = every(lr_curves.where("run=25M_cosine_24000"), 3)
    f = fit_auto(one, **QUICK)
    sel = f.extra["selection"]
    assert sel["shape"]["kind"] == "run_curve" and sel["method"] == "backtest along the curves" and sel["by"] == "step"
    assert {c["label"] for c in sel["candidates"]} == {"lr_annealing", "multipower"}
    assert all(one["step"].min() < c < one["step"].max() for c in sel["cuts"])  # cuts inside the one curve
    assert f.law == sel["winner"] and f.law in ("lr_annealing", "multipower")
    assert f.n_runs == 1 and sel["candidates"][0]["score"] < 0.01  # the rest of a cosine curve, within 1%
    assert sel["headline"].startswith("law chosen by backtest for one run's training curve")
    assert f"): {f.law}: lowest backtested error" in sel["headline"]


def test_a_curve_without_a_run_column_is_one_run(lr_curves):
    one = every(lr_curves.where("run=25M_cosine_24000"), 3)
    f = fit_auto({k: one[k] for k in ("step", "lr", "loss")}, candidates=["lr_annealing"], **QUICK)
    assert f.extra["selection"]["shape"]["kind"] == "run_curve" and f.n_runs == 1
    assert any("no run column" in n for n in f.data["notes"])


def test_auto_on_curves_of_one_model_size(lr_curves):
    three = every(lr_curves.where("run=25M_cosine_24000|25M_constant_24000|25M_wsd_20000_24000"), 4)
    f = fit_auto(three, candidates=["lr_annealing", "power"], **QUICK)
    sel = f.extra["selection"]
    assert sel["shape"]["kind"] == "size_curves" and sel["shape"]["runs"] == 3 and sel["shape"]["within"]
    assert "3 training curves of one model size" in sel["headline"]
    assert f.law == "lr_annealing" and f.n_runs == 3 and f.n_points > 0.9 * len(three)  # curves, not their ends
    # a law of final losses sees one row per run: of one model size, nothing to extrapolate along
    assert [s["label"] for s in sel["skipped"]] == ["power"] and "final row" in sel["skipped"][0]["reason"]


def test_auto_on_a_ladder_along_one_axis():
    rng = np.random.default_rng(0)
    n = np.geomspace(1e7, 1e10, 10)
    runs = sl.read_runs({"run": [f"r{i}" for i in range(10)], "params": n,
                         "loss": (1.7 + 300 * n ** -0.3) * np.exp(rng.normal(0, 0.003, 10))})
    f = fit_auto(runs, **QUICK)
    sel = f.extra["selection"]
    assert sel["shape"]["kind"] == "line" and sel["by"] == "params" and "along params alone" in sel["headline"]
    assert {c["label"] for c in sel["candidates"]} == {"power", "bnsl"}
    assert f.law == "power" and dict(f.inputs) == {"x": "params"}
    assert f.params["alpha"] == pytest.approx(0.3, rel=0.2)


def test_auto_on_final_points_is_a_rollout_over_runs():
    f = fit_auto(chinchilla_runs(0), candidates=["power", "chinchilla"], priors=None, **QUICK)
    sel = f.extra["selection"]
    assert sel["shape"]["kind"] == "points" and sel["method"] == "rollout backtest" and sel["by"] == "flops"
    assert sel["headline"].startswith("law chosen by backtest for final points of 40 runs in params and tokens")
    assert "chinchilla: lowest backtested error" in sel["headline"]


def test_laws_of_final_losses_see_one_point_per_curve():
    """Checkpoints before a run's end lie above the loss of a run trained to that length (its learning rate has
    not annealed): fitted to them a law of (N, D) is biased; fitted to each curve's final row it recovers the
    truth."""
    base = chinchilla_runs(0)
    rows = {k: [] for k in ("run", "params", "tokens", "step", "lr", "loss")}
    for i in range(len(base)):
        for share in (0.25, 0.5, 0.75, 1.0):
            n, d = base["params"][i], share * base["tokens"][i]
            law = TRUTH["E"] + TRUTH["A"] * n ** -TRUTH["alpha"] + TRUTH["B"] * d ** -TRUTH["beta"]
            for k, v in (("run", base["run"][i]), ("params", n), ("tokens", d), ("step", 1000 * share),
                         ("lr", 1e-3), ("loss", base["loss"][i] if share == 1.0 else law + 0.05)):
                rows[k].append(v)
    f = fit_auto(rows, candidates=["chinchilla"], priors=None, **QUICK)
    sel = f.extra["selection"]
    assert sel["shape"]["kind"] == "ladder_curves" and sel["by"] == "params"
    assert sel["candidates"][0]["rows"] == "each run's final row"
    assert f.n_points == f.n_runs == len(base) and any("final row" in n for n in f.data["notes"])
    for k, v in TRUTH.items():
        assert f.params[k] == pytest.approx(v, rel=0.15)


# -- runaway laws ---------------------------------------------------------------------------------------------------
@pytest.fixture
def runaway():
    """A law that fits a flops ladder exactly as a power law does, and predicts 1e36 beyond 3e21 FLOPs."""
    from scalinglaws.laws import LAWS, Law, Param, register_law

    def fn(x, p):
        c = x["x"]
        return p["E"] + p["A"] * (c / 1e18) ** -p["alpha"] + np.where(c > 3e21, 1e36, 0.0)

    inf = float("inf")
    law = register_law(Law(name="runaway", formula="power, then 1e36 beyond 3e21", inputs={"x": "flops"},
                           params=(Param("E", (0, inf), (0.5, 3)), Param("A", (0, inf), (0.1, 10)),
                                   Param("alpha", (0, inf), (0.05, 1))), fn=fn, linear=("E", "A")), replace=True)
    yield law
    del LAWS["runaway"]


def flops_ladder():
    rng = np.random.default_rng(0)
    c = np.geomspace(1e18, 1e21, 10)
    return sl.read_runs({"run": [f"r{i}" for i in range(10)], "flops": c,
                         "loss": (1.8 + 2.0 * (c / 1e18) ** -0.2) * np.exp(rng.normal(0, 0.002, 10))})


def test_a_law_that_runs_away_is_rejected_with_its_reason(runaway):
    f = fit_auto(flops_ladder(), candidates=["runaway", "power"], **QUICK)
    sel = f.extra["selection"]
    assert f.law == "power" and sel["diverged"] is None
    rejected = {r["label"]: r["reason"] for r in sel["rejected"]}
    assert "1e+36" in rejected["runaway"] and "10× the largest run's scale" in rejected["runaway"]
    assert [c["label"] for c in sel["candidates"]][-1] == "runaway"  # ranked last, though it backtests as well
    assert "rejected as runaway: runaway" in sel["headline"]
    ranking = compare_laws(flops_ladder(), candidates=["runaway", "power"], **QUICK)
    assert ranking.best.label == "power" and "1e+36" in ranking.rejected["runaway"]
    json.dumps(ranking.to_dict(), allow_nan=False)


def test_a_chosen_law_that_runs_away_warns_and_is_flagged(runaway):
    with pytest.warns(sl.FitWarning, match="runs away"):
        f = fit_auto(flops_ladder(), candidates=["runaway"], **QUICK)
    sel = f.extra["selection"]
    assert f.law == "runaway" and "1e+36" in sel["diverged"] and "WARNING" in sel["headline"]
    json.loads(f.to_json())  # the record stays valid JSON


def test_the_guard_names_what_is_absurd():
    from scalinglaws.decide.datashape import describe
    from scalinglaws.decide.divergence import Guard

    runs = flops_ladder()
    guard = Guard.of(runs, "loss", describe(runs))
    assert guard.why([2.0, 3.0], "here") is None
    assert "not a finite number" in guard.why([2.0, np.nan], "here")
    assert "below zero" in guard.why([-0.1], "here")
    assert "over 10× the largest observed loss" in guard.why([1e36], "here")


# -- the law mixture behind the intervals ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mixed_fit():
    # on Epoch's ladder Chinchilla's law with either paper's exponents backtests within 50% of the other's
    return fit_auto("dataset:chinchilla_epoch", candidates=["chinchilla"], bootstrap=40, cuts=2)


def test_close_runners_up_form_a_law_mixture(mixed_fit):
    sel = mixed_fit.extra["selection"]
    mix = sel["mixture"]
    assert mix["format"] == "scalinglaws.mixture/1" and "exp(-score / best score)" in mix["weighting"]
    labels = [m["label"] for m in mix["members"]]
    assert labels[0] == sel["winner"] and len(labels) == 2 and "intervals mix 2 laws" in sel["headline"]
    assert "would mix" not in sel["headline"]
    plain = fit_auto("dataset:chinchilla_epoch", candidates=["chinchilla"], bootstrap=0, cuts=2)
    assert "; with a bootstrap, intervals would mix 2 laws" in plain.extra["selection"]["headline"]  # none to mix
    scores = {c["label"]: c["score"] for c in sel["candidates"]}
    w = [m["weight"] for m in mix["members"]]
    assert sum(w) == pytest.approx(1)
    assert w[0] / w[1] == pytest.approx(np.exp((scores[labels[1]] - scores[labels[0]]) / min(scores.values())))
    assert mix["members"][0]["params"] == dict(mixed_fit.params)
    assert scores["chinchilla"] > 1.5 * min(scores.values()) and "chinchilla" not in labels  # too far behind


def test_the_headline_says_when_published_exponents_are_fixed(mixed_fit):
    sel = mixed_fit.extra["selection"]
    assert sel["winner"] == "chinchilla@besiroglu2024" and mixed_fit.law == "chinchilla"
    assert sel["fixed"]["values"] == {"alpha": 0.3478, "beta": 0.3658} and sel["fixed"]["exponents"]
    assert ("chinchilla with published exponents fixed (alpha=0.3478, beta=0.3658; Besiroglu et al. 2024)"
            in sel["headline"])
    assert "estimated from these very runs" in sel["headline"]  # Epoch's refit of these runs: the backtest leaks
    free = fit_auto(chinchilla_runs(0), candidates=["chinchilla"], priors=None, **QUICK).extra["selection"]
    assert free["fixed"] is None and "fixed" not in free["headline"]


def test_a_mixture_interval_spans_the_laws_disagreement(mixed_fit, tmp_path):
    from scalinglaws.fitting.data import evaluate_law

    at = {"params": np.array([7e11]), "tokens": np.array([1.4e13])}  # far out, where the laws part
    pred = mixed_fit.predict(at)
    assert pred.method["parameters"]["source"].startswith("law mixture (2 candidates)")
    assert pred.method["parameters"]["draws"] == 80
    alone = replace(mixed_fit, extra={}).predict(at)
    assert pred.prediction[0] == alone.prediction[0]  # the point stays the chosen law's
    conf = mixed_fit.predict(at, interval="confidence")
    points = [evaluate_law(sl.get_law(m["law"]), m["inputs"], at, [list(m["params"].values())])[0, 0]
              for m in mixed_fit.extra["selection"]["mixture"]["members"]]
    assert conf.lower[0] < min(points) and max(points) < conf.upper[0]
    assert pred.upper[0] - pred.lower[0] > alone.upper[0] - alone.lower[0]
    back = sl.Fit.load(mixed_fit.save(tmp_path / "mixed.json"))
    again = back.predict(at)
    assert (again.lower[0], again.upper[0]) == (pred.lower[0], pred.upper[0])


def test_the_figure_band_of_a_mixture_is_predict(mixed_fit):
    from scalinglaws.plots.fitdata import bands

    path = {"params": np.geomspace(1e9, 7e11, 5), "tokens": np.geomspace(2e10, 1.4e13, 5)}
    bd = bands(mixed_fit, path)
    pred = mixed_fit.predict({k: v[-1:] for k, v in path.items()})
    conf = mixed_fit.predict({k: v[-1:] for k, v in path.items()}, interval="confidence")
    assert np.allclose(bd["prediction"][:, -1], [pred.lower[0], pred.upper[0]], rtol=1e-9, atol=0)
    assert np.allclose(bd["confidence"][:, -1], [conf.lower[0], conf.upper[0]], rtol=1e-9, atol=0)
    assert bd["method"]["parameters"]["source"].startswith("law mixture (2 candidates)")
