"""Data filtering under repetition (Goyal et al. 2024): the utility-decay law, the mix of pools, the planner that
picks a pool per budget, and the fit of a pool's utility and half-life from its curve."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from scalinglaws.errors import ScalingLawsError
from scalinglaws.laws import LAWS
from scalinglaws.laws.curation import NORMALISER, UTILITY_DECAY, mix_error, pool_utility, repeated_error
from scalinglaws.plan.curation import fit_pools, plan_curation

BUDGETS = [32e6, 64e6, 128e6, 640e6]  # what the authors' estimate_best_pool.py predicts


def published(shared_data) -> pd.DataFrame:
    table = pd.read_csv(shared_data / "data_filtering_goyal2024" / "runs.csv")
    return table[table["objective"] == "effective_utility"].reset_index(drop=True)


def test_first_epoch_is_a_plain_power_law():
    n = np.array([1e6, 5e6, 12.8e6])
    y = repeated_error(n, 12.8e6, 0.025, 0.1, pool_utility(-0.16, 6.7))
    assert np.allclose(y, (0.025 * n / NORMALISER) ** -0.16 + 0.1)


def test_each_repetition_continues_with_its_decayed_utility():
    b, tau, n0 = -0.16, 3.0, 1e7
    y = lambda n: repeated_error(np.array([n]), n0, 0.025, 0.1, pool_utility(b, tau))[0]  # noqa: E731
    # within the k-th repetition the log error falls with slope b·0.5^(k/τ) in log samples
    for k in (1, 2, 4):
        lo, hi = (k + 0.2) * n0, (k + 0.8) * n0
        slope = np.log(y(hi) / y(lo)) / np.log(hi / lo)
        assert slope == pytest.approx(b * 0.5 ** (k / tau), rel=1e-9)
    # continuous at the epoch boundaries
    assert y(2 * n0 * (1 + 1e-9)) == pytest.approx(y(2 * n0), rel=1e-7)


def test_a_mix_of_one_pool_is_that_pool_and_equal_pools_average():
    n = np.array([2e7, 8e7])
    one = mix_error(n, [1e7], 0.025, 0.1, [-0.1], [4.0])
    assert np.allclose(one, repeated_error(n, 1e7, 0.025, 0.1, pool_utility(-0.1, 4.0)))
    # two identical pools: twice the samples per epoch, the same utility
    two = mix_error(n, [1e7, 1e7], 0.025, 0.1, [-0.1, -0.1], [4.0, 4.0])
    assert np.allclose(two, repeated_error(n, 2e7, 0.025, 0.1, pool_utility(-0.1, 4.0)))


def test_the_law_is_registered_and_its_derivatives_are_exact():
    from scalinglaws.laws.spec import predict_with_jacobian

    assert LAWS["utility_decay"] is UTILITY_DECAY
    x = {"n": np.array([5e6, 3e7, 9e7]), "N0": np.full(3, 1.28e7)}
    theta = np.array([[0.025, -0.16, 6.7, 0.1]])
    f, jac = predict_with_jacobian(UTILITY_DECAY, x, theta)
    jac = np.asarray(jac)  # (K, P, n)
    for j in range(4):
        h = 1e-6 * max(1.0, abs(theta[0, j]))
        up, dn = theta.copy(), theta.copy()
        up[0, j] += h
        dn[0, j] -= h
        fd = (UTILITY_DECAY(x, up) - UTILITY_DECAY(x, dn)) / (2 * h)
        assert np.allclose(jac[:, j], fd, rtol=1e-5, atol=1e-10)


def test_published_pools_top_ten_percent_wins_small_budgets_a_larger_mix_the_largest(shared_data):
    plan = plan_curation(published(shared_data), BUDGETS, top=4)
    best = [row["pools"] for row in plan.best]
    assert best[0] == ["Top 10%"]  # 32M samples: 2.5 epochs of the most filtered pool
    assert best[1] == ["Top 10%"]
    assert best[2] == ["Top 10%"]
    assert best[3] == ["Top 10%", "Top 10%-20%"]  # 640M: 50 epochs of the top 10% are worth less
    # the frontier moves towards more, less filtered data as compute grows, never back
    sizes = [sum(1 for _ in row["pools"]) for row in plan.best]
    assert sizes == sorted(sizes)
    # the published constants reproduce the authors' law: error of the top 10% pool after 5 epochs
    assert plan.best[1]["error"] == pytest.approx(0.75379, abs=1e-4)
    record = json.loads(json.dumps(plan.to_dict()))
    assert record["format"] == "scalinglaws.curation_plan/1"
    assert len(record["table"]) == (5 + 3) * len(BUDGETS)


def test_curate_command(cli, shared_data, tmp_path):
    path = shared_data / "data_filtering_goyal2024" / "runs.csv"
    code, out, _ = cli("curate", str(path), "--samples", "32e6,640e6", "--top", "4", "--json")
    assert code == 0
    record = json.loads(out)
    assert [r["candidate"] for r in record["best"]] == ["Top 10%", "top 2 mixed"]
    bad = tmp_path / "pools.csv"
    published(shared_data).drop(columns="samples_per_epoch").to_csv(bad, index=False)
    code, out, err = cli("curate", str(bad), "--samples", "32e6")
    assert code != 0 and "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: column 'samples_per_epoch' is missing")


def test_pool_table_checks():
    table = pd.DataFrame({"pool": ["p"], "samples_per_epoch": [1e7], "b": [-0.1], "tau": [np.nan],
                          "a": [0.025], "d": [0.1]})
    with pytest.raises(ScalingLawsError, match="row 2: column 'tau'"):
        plan_curation(table, [1e7])
    table["tau"] = 3.0
    with pytest.raises(ScalingLawsError, match="samples must be positive"):
        plan_curation(table, [-1])


def _curves(pools: pd.DataFrame, epochs: float, seed: int, noise: float = 0.003) -> pd.DataFrame:
    """Error measured at every half epoch up to `epochs` for each pool, with multiplicative noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for _, p in pools.iterrows():
        n = np.arange(1, int(2 * epochs) + 1) * p["samples_per_epoch"] / 2
        y = repeated_error(n, p["samples_per_epoch"], p["a"], p["d"], pool_utility(p["b"], p["tau"]))
        for ni, yi in zip(n, y * np.exp(rng.normal(0, noise, n.size))):
            rows.append({"pool": p["pool"], "samples_per_epoch": p["samples_per_epoch"], "samples": ni, "error": yi})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fit_early_epochs_predicts_later_and_recovers_tau(shared_data, seed):
    pools = published(shared_data).iloc[:3]  # half-lives 6.7, 8.5 and 5.3 repetitions
    early = _curves(pools, epochs=6, seed=seed)
    fits = fit_pools(early, a=0.025, d=0.1, bootstrap=20, seed=seed)
    late = _curves(pools, epochs=10, seed=seed + 100, noise=0.0)
    late = late[late["samples"] > 6 * late["samples_per_epoch"]]
    for _, p in pools.iterrows():
        f = fits[p["pool"]]
        assert f.params["b"] == pytest.approx(p["b"], rel=0.05)
        assert f.params["tau"] == pytest.approx(p["tau"], rel=0.35)
        rows = late[late["pool"] == p["pool"]]
        pred = UTILITY_DECAY({"n": rows["samples"].to_numpy(), "N0": rows["samples_per_epoch"].to_numpy()},
                             {"a": 0.025, "d": 0.1, "b": f.params["b"], "tau": f.params["tau"]})
        assert np.max(np.abs(pred / rows["error"].to_numpy() - 1)) < 0.01  # epochs 6-10 within 1%
        lo, hi = f.intervals()["tau"]  # the bootstrap's interval of the half-life brackets the fit
        assert lo <= f.params["tau"] <= hi
