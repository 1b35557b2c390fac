"""Fits in a residual space other than log: recovery of known parameters in linear and logit space, the chain rule
against finite differences in every space, the domain check, the space carried by the Fit into its intervals, the
fit command's --space, and the one engine behind the downstream link fits (with the sign of their scatter)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.fitting import Fit, Objective, fit
from scalinglaws.fitting.problem import Problem
from scalinglaws.laws import LAWS, formula_law

FREE_E = {"E": {"bounds": (-10.0, 10.0), "start": (-3.0, 1.0)}}  # finite: a record cannot hold inf


def excess_law():
    """A loss minus its unigram entropy: below zero once the model beats a unigram model."""
    return formula_law("E + A*N**-alpha", params=FREE_E, target="excess")


def accuracy_law():
    starts = {"a": {"start": (-20.0, 0.0)}, "b": {"start": (0.0, 2.0)}}
    return formula_law("1/(1 + exp(-(a + b*log(N))))", params=starts, target="acc")


def excess_runs(seed: int):
    rng = np.random.default_rng(seed)
    n = np.geomspace(1e7, 1e10, 30)
    y = -1.2 + 40 * n ** -0.25 + rng.normal(0, 0.002, n.size)
    return {"params": n, "excess": y}


def accuracy_runs(seed: int):
    rng = np.random.default_rng(seed)
    n = np.geomspace(1e7, 1e10, 30)
    z = -12.0 + 0.6 * np.log(n) + rng.normal(0, 0.05, n.size)  # scatter in logit units
    return {"params": n, "acc": 1 / (1 + np.exp(-z))}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_linear_space_recovers_a_target_below_zero(seed):
    data = excess_runs(seed)
    assert data["excess"].max() < 0
    f = fit(data, excess_law(), space="linear", loss="l2", seed=seed)
    assert f.converged and f.loss == {"kind": "l2", "space": "linear"}
    assert f.params["E"] == pytest.approx(-1.2, abs=0.02)
    assert f.params["alpha"] == pytest.approx(0.25, abs=0.01)
    # residuals are fitted - observed in the target's own units
    pred = f.params["E"] + f.params["A"] * data["params"] ** -f.params["alpha"]
    assert np.allclose(f.residuals, pred - data["excess"], atol=1e-12)
    assert np.sqrt(np.mean(np.square(f.residuals))) == pytest.approx(0.002, rel=0.4)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_logit_space_recovers_an_accuracy(seed):
    f = fit(accuracy_runs(seed), accuracy_law(), space="logit", loss="l2", seed=seed)
    assert f.converged and f.loss["space"] == "logit"
    assert f.params["a"] == pytest.approx(-12.0, abs=0.4)
    assert f.params["b"] == pytest.approx(0.6, abs=0.02)
    assert np.std(f.residuals) == pytest.approx(0.05, rel=0.4)  # the scatter, in logit units


def _problem(space: str, kind: str, law_name: str):
    """A weighted problem whose target lies in every space's domain (rates in (0, 1)), at two parameter rows."""
    rng = np.random.default_rng(7)
    n = np.geomspace(1e7, 1e10, 25)
    if law_name == "power":  # a registered law with an analytic gradient
        law, x = LAWS["power"], {"x": n}
        y = 0.2 + 50 * n ** -0.3
        theta = np.array([[0.15, 40.0, 0.28], [0.25, 70.0, 0.32]])
    else:  # a formula law, differentiated by forward mode
        law, x = accuracy_law(), {"N": n}
        y = 1 / (1 + np.exp(-(-12.0 + 0.6 * np.log(n))))
        theta = np.array([[-11.0, 0.55], [-13.0, 0.65]])
    y = np.clip(y + rng.normal(0, 0.01, n.size), 0.01, 0.99)
    objective = Objective(kind=kind, delta=1e-3 if kind == "l2" else 0.05, space=space)
    problem = Problem(law, x, y, objective, rng.uniform(0.5, 2.0, n.size))
    return problem, problem.transform.to_u(theta)


@pytest.mark.parametrize("space", ["log", "linear", "logit"])
@pytest.mark.parametrize("kind", ["l2", "huber", "asymmetric"])
@pytest.mark.parametrize("law_name", ["power", "formula"])
def test_gradient_and_jacobian_match_finite_differences(space, kind, law_name):
    problem, u = _problem(space, kind, law_name)
    f, g = problem.value_grad(u)
    assert np.all(np.isfinite(f)) and np.allclose(problem.value(u), f, rtol=1e-12)
    r, J, _ = problem.residuals_jacobian(u)
    assert np.allclose(r, problem.residuals(problem.theta(u)), atol=1e-12)
    for j in range(u.shape[1]):
        h = 1e-6 * max(1.0, float(np.abs(u[:, j]).max()))
        up, dn = u.copy(), u.copy()
        up[:, j] += h
        dn[:, j] -= h
        fd = (problem.value(up) - problem.value(dn)) / (2 * h)
        assert np.allclose(g[:, j], fd, rtol=1e-5, atol=1e-9 * (1 + np.abs(f).max())), (j, g[:, j], fd)
        rd = (problem.residuals(problem.theta(up)) - problem.residuals(problem.theta(dn))) / (2 * h)
        assert np.allclose(J[:, j], rd, rtol=1e-5, atol=1e-9), j


def test_variable_projection_is_exact_in_linear_space():
    """Residuals are affine in the linear parameters in linear space, so the projection solves them exactly at the
    true exponent; in log and logit space it linearises g and lands close."""
    from scalinglaws.fitting.starts import project_linear

    n = np.geomspace(1e7, 1e10, 25)
    y = 0.2 + 50 * n ** -0.3
    start = np.array([[0.5, 1.0, 0.3]])  # E and A wrong, alpha right
    for space, tol in (("linear", 1e-9), ("log", 1e-2), ("logit", 1e-2)):
        problem = Problem(LAWS["power"], {"x": n}, y, Objective(kind="l2", space=space))
        E, A, _ = project_linear(problem, start)[0]
        assert E == pytest.approx(0.2, rel=tol) and A == pytest.approx(50.0, rel=tol), space


def test_targets_outside_the_space_are_refused_with_the_fix():
    with pytest.raises(sl.ScalingLawsError, match=r"column 'excess' must be positive to be fitted in log space, "
                                                  r"but is -0\.48.* at row 1 .*space='linear'"):
        fit(excess_runs(0), excess_law())
    acc = accuracy_runs(0)
    acc["acc"][-1] = 1.0
    with pytest.raises(sl.ScalingLawsError, match=r"column 'acc' must lie strictly between 0 and 1 to be fitted in "
                                                  r"logit space, but is 1 at row 30 .*space='linear'"):
        fit(acc, accuracy_law(), space="logit")
    with pytest.raises(sl.ScalingLawsError, match="unknown residual space 'probit'. Choose one of: log, linear"):
        fit(excess_runs(0), excess_law(), space="probit")


def test_log_is_the_default_and_leaves_the_record_as_it_was():
    runs = "dataset:chinchilla_epoch"
    default = fit(runs, "chinchilla", seed=2)
    assert "space" not in default.loss and default.loss == {"kind": "huber", "delta": 0.001}
    assert fit(runs, "chinchilla", seed=2, space="log").to_json() == default.to_json()
    assert Objective().to_dict() == {"kind": "huber", "delta": 0.001}
    assert Objective(kind="l2", space="logit").to_dict() == {"kind": "l2", "space": "logit"}
    assert Objective.from_dict(Objective(space="linear").to_dict()) == Objective(space="linear")
    # an Objective passed as the loss keeps its own space unless space= says otherwise
    own = Objective(kind="l2", space="linear")
    assert fit(excess_runs(0), excess_law(), loss=own).loss["space"] == "linear"


def test_the_fit_carries_its_space_into_files_and_intervals(tmp_path):
    f = fit(excess_runs(1), excess_law(), space="linear", loss="l2", bootstrap=40, seed=1)
    back = Fit.load(f.save(tmp_path / "excess.json"))
    assert back.loss == {"kind": "l2", "space": "linear"} and back.to_json() == f.to_json()
    p = back.predict(params=[3e10])
    assert p.method["space"] == "linear"
    assert p.prediction[0] < 0 and p.lower[0] < p.prediction[0] < p.upper[0]
    # the band holds the run-to-run scatter in the target's units: about ±2σ of the 0.002 noise at least
    assert p.upper[0] - p.lower[0] > 2 * 0.002


def test_fit_command_space_option(cli, tmp_path):
    data = excess_runs(0)
    csv = tmp_path / "excess.csv"
    csv.write_text("params,excess\n" + "".join(f"{n:.6g},{y:.6f}\n" for n, y in zip(data["params"],
                                                                                       data["excess"])))
    formula = "E + A*N**-alpha"
    code, out, _ = cli("fit", str(csv), "--law", formula, "--target", "excess", "--param", "E=bounds:-10:10",
                       "--param", "E=-3:1", "--space", "linear", "--loss", "l2", "--json")
    assert code == 0
    rec = json.loads(out)
    assert rec["loss"] == {"kind": "l2", "space": "linear"} and rec["params"]["E"] == pytest.approx(-1.2, abs=0.02)
    code, _, err = cli("fit", str(csv), "--law", formula, "--target", "excess")
    assert code == 1 and "must be positive to be fitted in log space" in err and "Traceback" not in err
    code, _, err = cli("fit", str(csv), "--law", "auto", "--space", "linear")
    assert code == 1 and "--space applies to a named law" in err and "Traceback" not in err


def test_link_fits_are_the_engines_and_their_scatter_has_the_right_sign():
    """Step 2 of a downstream forecast adds the link's scatter through the interval maker. Accuracies that now and
    then land far above the link (and otherwise a little below it) give a forecast interval with a long upper tail;
    adding the scatter with the wrong sign would put the long tail below."""
    from scalinglaws.decide import forecast_downstream
    from scalinglaws.decide.curvefit import fit_curve
    from scalinglaws.decide.links import sigmoid_link

    for seed in range(3):
        rng = np.random.default_rng(seed)
        flops = np.geomspace(1e18, 1e22, 60)
        acc = 0.25 + 0.7 / (1 + np.exp(1.5 * (-np.log10(flops) + 20)))
        noise = np.where(rng.random(flops.size) < 0.15, 0.06, -0.0106)
        runs = sl.read_runs({"run": [f"r{i}" for i in range(flops.size)], "flops": flops, "acc": acc + noise})
        res = forecast_downstream(runs, "acc", at={"flops": [1e20]}, chance=0.25, link="sigmoid", bootstrap=100,
                                  seed=seed)
        row = res.tasks[0].rows[0]
        above, below = row["upper"] - row["prediction"], row["prediction"] - row["lower"]
        assert above > 0.04 and above > 2 * below, (seed, row)

    link = sigmoid_link(0.25, (-22.0, -18.0))
    L = -np.log10(flops)
    cf = fit_curve(link, {"L": L}, acc + noise, bootstrap=20, seed=0)
    assert cf.fit.loss == {"kind": "l2", "space": "linear"} and cf.draws.shape == (20, 3)
    assert np.allclose(cf.residuals, cf.predict({"L": L}) - (acc + noise), atol=1e-12)  # fitted - observed
