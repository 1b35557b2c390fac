"""`plan` and `scalinglaws plan`: which answer is recommended, the JSON record, warnings and one-line errors."""

from __future__ import annotations

import json
import warnings

import pytest

import scalinglaws as sl
from scalinglaws.errors import ExtrapolationWarning, ScalingLawsError
from scalinglaws.plan import compute_optimal
from scalinglaws.plan.planner import plan


@pytest.fixture(scope="module")
def demo_fit():
    from scalinglaws.demo import epoch_runs

    return sl.fit(epoch_runs(), "chinchilla", bootstrap=60, seed=0)


@pytest.fixture(scope="module")
def fit_file(demo_fit, tmp_path_factory):
    return str(demo_fit.save(tmp_path_factory.mktemp("plan") / "fit.json"))


def test_recommendation_precedence(demo_fit):
    c = 5.76e23
    assert plan(demo_fit, flops=c).objective == "compute-optimal"
    assert plan(demo_fit, flops=c, unique_tokens=3e11).objective == "data-constrained"
    both = plan(demo_fit, flops=c, unique_tokens=3e11, inference_tokens=1e13)
    assert both.objective == "inference-aware" and both.params == both.inference.params
    target = plan(demo_fit, target_loss=2.0)
    assert target.objective == "target" and target.flops == target.target.flops
    p = plan(demo_fit, flops=c, frontier_flops=[1e21, 1e23], ratios=[20, 200])
    assert p.params == compute_optimal(demo_fit, c).params
    assert p.frontier is not None and len(p.overtraining.rows) == 2


def test_inference_aware_under_repetition_uses_the_constrained_surface(demo_fit):
    p = plan(demo_fit, flops=5.76e23, unique_tokens=1e11, inference_tokens=1e12)
    # the quality to match is the data-constrained optimum's, which is worse than the unconstrained one
    assert p.inference.loss == pytest.approx(p.constrained.loss, rel=1e-9)
    assert p.inference.loss > p.compute_optimal.loss


def test_cli_plan_json(cli, fit_file, demo_fit):
    code, out, err = cli("plan", fit_file, "--flops", "5.76e23", "--json")
    assert code == 0, err
    d = json.loads(out)
    a = compute_optimal(demo_fit, 5.76e23)
    assert d["params"] == pytest.approx(a.params) and d["tokens"] == pytest.approx(a.tokens)
    assert d["loss"] == pytest.approx(a.loss) and d["objective"] == "compute-optimal"
    assert set(d["intervals"]) >= {"params", "tokens", "loss", "tokens_per_param"} and d["level"] == 0.95
    assert 15 < d["tokens_per_param"] < 21


def test_cli_inference_picks_smaller_models(cli, fit_file):
    sizes = []
    for served in ("1e11", "1e13", "1e15"):
        code, out, err = cli("plan", fit_file, "--flops", "5.76e23", "--inference-tokens", served, "--json")
        assert code == 0, err
        sizes.append(json.loads(out)["params"])
    assert sizes[0] > sizes[1] > sizes[2]


def test_cli_plan_text(cli, fit_file):
    code, out, err = cli("plan", fit_file, "--flops", "5.76e23", "--unique-tokens", "3e11", "--inference-tokens",
                         "1e13", "--target-loss", "2.0", "--params", "7e10", "--frontier", "1e21:1e24:4", "--ratios",
                         "20,100")
    assert code == 0, err
    for heading in ("Recommended run (inference-aware)", "Compute-optimal at", "Data-constrained", "Inference-aware",
                    "Target loss 2", "Frontier", "Over-training"):
        assert heading in out


def test_cli_far_budget_warns_with_the_factor(cli, fit_file):
    code, out, err = cli("plan", fit_file, "--flops", "1e32", "--json")
    assert code == 0
    assert "Warning:" in err and "beyond the range of the fitted runs" in err
    assert json.loads(out)["extrapolation"] > 100


def test_library_far_budget_warns(demo_fit):
    with pytest.warns(ExtrapolationWarning, match=r"\d+× beyond"):
        p = plan(demo_fit, flops=1e32)
    assert p.extrapolation > 100 and any("beyond" in w for w in p.warnings)


@pytest.mark.parametrize("args, message", [
    (["--flops", "-1e23"], "--flops must be positive"),
    (["--flops", "0"], "--flops must be positive"),
    (["--flops", "big"], "--flops 'big' is not a number"),
    ([], "a plan needs a budget or a goal"),
    (["--target-loss", "2", "--ratios", "20"], "--ratios compares"),
    (["--flops", "1e23", "--params", "7e10"], "--params asks"),
    (["--flops", "1e23", "--r-d", "10"], "--r-d and --r-n"),
    (["--flops", "1e23", "--frontier", "1e25:1e21"], "upper budget must exceed"),
    (["--flops", "1e23", "--frontier", "1e21:1e22:3:4"], "write LO:HI"),
    (["--flops", "1e23", "--inference-tokens", "1e12", "--inference-mode", "cheap"], "--inference-mode"),
    (["--flops", "1e23", "--unique-tokens", "-5"], "--unique-tokens must be positive"),
    (["--flops", "1e23", "--level", "2"], "--level must be a number between 0 and 1"),
    (["--flops", "1e23", "--at", "lr=1e-3"], "--at lr"),
    (["--target-loss", "1.0"], "out of reach"),
])
def test_cli_plan_bad_input(cli, fit_file, args, message):
    code, out, err = cli("plan", fit_file, *args)
    assert code == 1, err
    assert message in err and err.startswith("Error: ") and err.count("\n") == 1


def test_cli_plan_missing_fit_file(cli, tmp_path):
    code, out, err = cli("plan", str(tmp_path / "nope.json"), "--flops", "1e23")
    assert code == 1 and "fit file not found" in err


def test_a_fit_without_bootstrap_has_no_intervals():
    from scalinglaws.demo import epoch_runs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = sl.fit(epoch_runs(), "chinchilla")
    p = plan(f, flops=1e22, inference_tokens=1e12)
    assert p.intervals is None and p.level is None
    json.dumps(p.to_dict(), allow_nan=False)


def test_plan_rejects_bad_combinations(demo_fit):
    with pytest.raises(ScalingLawsError, match="a plan needs"):
        plan(demo_fit)


def test_a_plan_over_the_budget_says_so_in_its_headline(cli, tmp_path):
    import scalinglaws as sl
    from scalinglaws.plan import plan

    runs = sl.load_dataset("chinchilla_epoch").where("epoch_excluded=false")
    fit = sl.fit(runs, "chinchilla")
    p = plan(fit, flops="5.76e23", inference_tokens=1e13)
    assert p.budget == 5.76e23 and p.over_budget == pytest.approx(p.flops / 5.76e23) and p.over_budget > 1.2
    assert p.headline().startswith(f"Recommended run (inference-aware): trains on {p.flops:.3g} FLOP, "
                                   f"{p.over_budget:.2f}× OVER the budget of 5.76e+23")
    assert any("inference_mode='budget'" in w for w in p.warnings)
    assert plan(fit, flops=5.76e23).headline() == "Recommended run (compute-optimal)"
    fit.save(tmp_path / "fit.json")
    code, out, err = cli("plan", str(tmp_path / "fit.json"), "--flops", "5.76e23", "--inference-tokens", "1e13")
    assert code == 0 and out.splitlines()[0] == p.headline()
