"""The mixture planner (plan/mixing.py): optima against closed forms and a brute-force search of the simplex, the
limit that binds, bootstrap intervals, the D-CPT domain share, and the command with its errors."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.errors import ScalingLawsError
from scalinglaws.laws import LAWS
from scalinglaws.laws.fixed import fix_params
from scalinglaws.plan.mixing import plan_dcpt_ratio, plan_mixture


def ye_fit(truth: dict, n=24, noise=0.0, bootstrap=0, seed=0):
    m = len(next(iter(truth.values()))[2]) + 1
    rng = np.random.default_rng(seed)
    R = rng.dirichlet(np.ones(m), n)
    R = np.vstack([np.eye(m) * 0.96 + 0.04 / m, R])  # mixtures near every corner: the fitted span is the simplex
    rows = {"run": [f"mix{i}" for i in range(len(R))], **{f"r{j + 1}": R[:, j] for j in range(m)}}
    for name, (c, k, t) in truth.items():
        rows[name] = (c + k * np.exp(R[:, :-1] @ np.asarray(t))) * np.exp(noise * rng.standard_normal(len(R)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sl.fit_targets(rows, f"data_mixing{'' if m == 2 else m}", targets=list(truth), shared="none",
                              bootstrap=bootstrap, seed=seed)


TWO = {"a": (2.0, 0.5, [-1.5]), "b": (0.6, 0.1, [2.5])}  # a falls with r1, b rises with it


def test_a_limit_on_the_other_loss_binds_where_the_closed_form_says():
    f = ye_fit(TWO)
    cap = 0.9
    p = plan_mixture(f, minimise="a", limits={"b": cap}, span="simplex")
    c, k, (t,) = TWO["b"]
    r1 = np.log((cap - c) / k) / t  # L_b(r1) = cap; L_a falls with r1, so the most r1 the limit allows
    assert p.proportions["r1"] == pytest.approx(r1, abs=1e-6) and p.proportions["r2"] == pytest.approx(1 - r1, abs=1e-6)
    assert p.losses["b"] == pytest.approx(cap, abs=1e-7) and p.active == ("b",)
    free = plan_mixture(f, minimise="a", span="simplex")
    assert free.proportions["r1"] == pytest.approx(free.span["r1"][1], abs=1e-6) and free.active == ()
    assert any("edge of the searched span" in w for w in free.warnings)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_weighted_sum_over_three_domains_matches_a_search_of_the_simplex(seed):
    rng = np.random.default_rng(seed)
    truth = {f"l{i}": (rng.uniform(0.5, 2.5), rng.uniform(0.2, 1.0), rng.uniform(-3, 3, 2)) for i in range(3)}
    f = ye_fit(truth, seed=seed)
    w = dict(zip(truth, rng.uniform(0.2, 1.0, 3)))
    p = plan_mixture(f, minimise=w, span="simplex", seed=seed)
    g = np.linspace(0, 1, 401)
    a, b = np.meshgrid(g, g)
    keep = a + b <= 1
    R = np.stack([a[keep], b[keep]], axis=1)  # r1, r2 on a grid of step 1/400; r3 = 1 - r1 - r2
    total = sum(w[n] * (c + k * np.exp(R @ np.asarray(t))) for n, (c, k, t) in truth.items())
    best = R[np.argmin(total)]
    assert sum(w[n] * v for n, v in p.losses.items()) <= total.min() + 1e-9
    assert abs(p.proportions["r1"] - best[0]) < 0.01 and abs(p.proportions["r2"] - best[1]) < 0.01
    assert sum(p.proportions.values()) == pytest.approx(1.0, abs=1e-12)


def test_intervals_come_from_the_draws_and_hold_the_plan():
    f = ye_fit(TWO, noise=0.01, bootstrap=40, seed=3)
    p = plan_mixture(f, minimise="a", limits={"b": 0.9}, span="simplex")
    assert p.draws == 40 and p.draws_feasible == 40 and p.level == 0.95
    lo, hi = p.intervals["proportions"]["r1"]
    assert lo < p.proportions["r1"] < hi and 0 < hi - lo < 0.2
    lo, hi = p.intervals["losses"]["a"]
    assert lo < p.losses["a"] < hi
    rec = json.loads(json.dumps(p.to_dict()))
    assert rec["format"] == "scalinglaws.mixture_plan/1" and rec["interval_method"]["kind"] == "confidence"


def test_a_limit_no_mixture_meets_is_refused_with_the_lowest_reachable():
    f = ye_fit(TWO)
    with pytest.raises(ScalingLawsError, match=r"no mixture .* meets the limits \(b <= 0.5\): the lowest each limited "
                                               r"loss reaches there is b 0\.7"):
        plan_mixture(f, minimise="a", limits={"b": 0.5}, span="simplex")
    with pytest.raises(ScalingLawsError, match="not a loss the fit predicts"):
        plan_mixture(f, minimise="c")


DCPT_DOMAIN = {"E": 0.4, "B": 300.0, "eta": -0.15, "beta": 0.25, "C": 0.08, "gamma": 0.6, "eps": 0.05}
DCPT_GENERAL = {"E": 1.9, "B": 500.0, "eta": 0.1, "beta": 0.28, "C": 0.15, "gamma": 0.5, "eps": 0.05}


def dcpt_fits(bootstrap=0):
    law = fix_params(LAWS["dcpt"], {"A": 0.0, "alpha": 0.3})
    R = np.repeat([0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9], 8)
    D = np.tile(np.geomspace(5e9, 8e10, 8), 7)
    fits = {}
    for role, truth, own in (("domain", DCPT_DOMAIN, R), ("general", DCPT_GENERAL, 1 - R)):
        y = law({"N": np.full(R.size, 4e9), "D": D, "r": own}, truth)
        runs = {"run": [f"r{r:.1f}" for r in R], "params": np.full(R.size, 4e9), "tokens": D, "mix_ratio": own,
                "loss": y * np.exp(0.002 * np.random.default_rng(1).standard_normal(R.size))}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fits[role] = sl.fit(runs, law, bootstrap=bootstrap, seed=0)
    return law, fits


def test_the_dcpt_domain_share_is_the_largest_the_general_limit_allows():
    law, fits = dcpt_fits(bootstrap=30)
    N, D, cap = 4e9, 1e11, 2.55
    p = plan_dcpt_ratio(fits["domain"], fits["general"], params=N, tokens=D, general_limit=cap)
    s = np.linspace(0.1, 0.9, 80001)
    general = law({"N": np.full(s.size, N), "D": np.full(s.size, D), "r": 1 - s}, fits["general"].params)
    allowed = s[general <= cap].max()  # the general loss rises with the domain share: the limit caps it
    assert p.proportions["domain"] == pytest.approx(allowed, abs=2e-5) and p.active == ("general",)
    assert p.losses["general"] == pytest.approx(cap, abs=1e-6)
    lo, hi = p.intervals["proportions"]["domain"]
    assert lo <= p.proportions["domain"] <= hi and p.draws_feasible == 30


def test_the_command_plans_both_laws_and_its_errors_are_one_line(tmp_path, cli):
    f = ye_fit(TWO, noise=0.01, bootstrap=20)
    path = f.save(tmp_path / "ye.json")
    code, out, err = cli("mix", str(path), "--minimise", "a", "--limit", "b=0.9", "--simplex", "--json")
    assert code == 0, err
    assert json.loads(out)["active"] == ["b"]
    code, out, err = cli("mix", str(path), "--minimise", "a=1,b=0.5", "--simplex")
    assert code == 0, err
    assert "share of r1" in out and "95% interval" in out and "0.5·b" in out
    _, fits = dcpt_fits()
    dom, gen = fits["domain"].save(tmp_path / "d.json"), fits["general"].save(tmp_path / "g.json")
    code, out, err = cli("mix", "--domain-fit", str(dom), "--general-fit", str(gen), "-N", "4e9", "-D", "1e11",
                         "--limit", "general=2.55", "--json")
    assert code == 0, err
    assert 0.1 < json.loads(out)["proportions"]["domain"] < 0.9
    for args, message in ((("mix", str(path), "--minimise", "a", "--limit", "b=0.4", "--simplex"), "no mixture"),
                          (("mix", str(path)), "--minimise: name the loss"),
                          (("mix", str(path), "--minimise", "a", "--limit", "b"), "write LOSS=VALUE"),
                          (("mix", str(dom), "--minimise", "domain"), "needs a fit of the data mixing law"),
                          (("mix", "--domain-fit", str(dom), "--general-fit", str(gen)), "give --params and"),
                          (("mix", "--domain-fit", str(dom), "--general-fit", str(gen), "-N", "4e9", "-D", "1e11",
                            "--limit", "domain=1"), "limits the general loss")):
        code, out, err = cli(*args)
        assert code != 0 and err.startswith("Error: ") and message in err and len(err.strip().splitlines()) == 1, err


def test_on_the_code_mixtures_the_interval_holds_where_the_trained_runs_cross_the_limit(shared_data):
    import pandas as pd

    t = pd.read_csv(shared_data / "datablations_muennighoff" / "code_mix_curves.csv")
    t = t[t["tokens"] == t["tokens"].max()]
    wide = t.pivot(index="code_percent", columns="loss_split", values="loss").reset_index()
    wide["code_share"], wide["c4_share"] = 1 - wide["code_percent"] / 100, wide["code_percent"] / 100
    wide["run"] = [f"code{p}" for p in wide["code_percent"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = sl.fit_targets(wide, "data_mixing", inputs={"r1": "code_share", "r2": "c4_share"},
                           targets=["c4_validation", "python_validation"], shared="none", bootstrap=100, seed=0)
    cap = 1.05 * wide["c4_validation"].min()
    p = plan_mixture(f, minimise="python_validation", limits={"c4_validation": cap})
    w = wide.sort_values("code_share")
    grid = np.linspace(0.1, 0.9, 8001)
    crossing = grid[np.interp(grid, w["code_share"], w["c4_validation"]) <= cap].max()  # 0.637
    lo, hi = p.intervals["proportions"]["code_share"]
    assert lo < crossing < hi and abs(p.proportions["code_share"] - crossing) < 0.02


def test_limits_that_leave_a_sliver_narrower_than_the_starting_grid_are_still_met():
    truth = dict(TWO, c=(1.0, 0.5, [-2.0]))  # c falls with r1 as a does; b rises
    f = ye_fit(truth)

    def loss(name, r1):
        c, k, (t,) = truth[name]
        return c + k * np.exp(t * r1)

    p = plan_mixture(f, minimise={"a": 1.0, "c": 0.0}, limits={"b": loss("b", 0.515), "c": loss("c", 0.51)},
                     span="simplex")  # feasible r1 in [0.51, 0.515], between the grid's 0.5 and 0.525
    assert p.proportions["r1"] == pytest.approx(0.515, abs=1e-6) and p.active == ("b",)
