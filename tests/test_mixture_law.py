"""The D-CPT law (Que et al. 2024): derivatives, recovery from synthetic curves, and the code-mixture curves of
Muennighoff et al. 2023, whose ratio column reads backwards."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws.laws import LAWS
from scalinglaws.laws.dcpt import DCPT
from scalinglaws.laws.fixed import fix_params
from scalinglaws.laws.spec import predict_with_jacobian

TRUTH = {"E": 1.2, "A": 0.0, "alpha": 0.3, "B": 300.0, "eta": -0.15, "beta": 0.25, "C": 0.08, "gamma": 0.9,
         "eps": 0.05}
R = np.repeat([0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9], 8)
D = np.tile(np.geomspace(5e9, 8e10, 8), 7)


def test_registered_and_derivatives_are_exact():
    assert LAWS["dcpt"] is DCPT
    x = {"N": np.full(4, 4e9), "D": np.geomspace(1e9, 1e11, 4), "r": np.array([0.1, 0.3, 0.6, 1.0])}
    theta = np.array([[1.2, 400.0, 0.3, 300.0, -0.15, 0.25, 0.08, 0.9, 0.05]])
    _, jac = predict_with_jacobian(DCPT, x, theta)
    jac = np.asarray(jac)  # (K, P, n)
    for j in range(theta.shape[1]):
        h = 1e-6 * max(1.0, abs(theta[0, j]))
        up, dn = theta.copy(), theta.copy()
        up[0, j] += h
        dn[0, j] -= h
        fd = (DCPT(x, up) - DCPT(x, dn)) / (2 * h)
        assert np.allclose(jac[:, j], fd, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("seed", [0, 1])
def test_recovers_the_ratio_terms_at_one_model_size(seed):
    law = fix_params(DCPT, {"A": 0.0, "alpha": 0.3})  # one size: the N term folds into E
    x = {"N": np.full(R.size, 4.2e9), "D": D, "r": R}
    y = DCPT(x, TRUTH) * np.exp(np.random.default_rng(seed).normal(0, 0.002, R.size))
    runs = pd.DataFrame({"params": x["N"], "tokens": D, "mix_ratio": R, "loss": y})
    f = sl.fit(runs, law, seed=seed)
    # β and η are pinned by the curves; C, γ and ε trade off against each other over r in [0.1, 0.9], so the
    # check on them is what they predict
    assert f.params["beta"] == pytest.approx(TRUTH["beta"], rel=0.15)
    held = {"N": np.full(3, 4.2e9), "D": np.full(3, 1.6e11), "r": np.array([0.15, 0.6, 1.0])}
    assert np.allclose(law(held, f.params), DCPT(held, TRUTH), rtol=0.01)  # twice the tokens, new ratios


def _code_mix(shared_data) -> pd.DataFrame:
    return pd.read_csv(shared_data / "datablations_muennighoff" / "code_mix_curves.csv")


def test_the_code_mix_ratio_column_reads_backwards(shared_data):
    """Read as the code share, more code lowers the C4 loss and raises the Python loss: each corpus's own loss
    would rise as its share shrinks. Read as the C4 share (code = 100 - it), both move the expected way."""
    t = _code_mix(shared_data)
    final = t[t["tokens"] == t["tokens"].max()].sort_values("code_percent")
    c4 = final[final["loss_split"] == "c4_validation"]["loss"].to_numpy()
    py = final[final["loss_split"] == "python_validation"]["loss"].to_numpy()
    assert np.all(np.diff(c4) < 0) and np.all(np.diff(py) > 0)
    assert c4.min() > 2.3 and py.max() < 0.8  # the magnitudes of a C4 loss and of a code loss: labels as given


def test_dcpt_predicts_new_code_shares_of_the_python_loss(shared_data):
    t = _code_mix(shared_data)
    t = t[t["loss_split"] == "python_validation"].copy()
    t["mix_ratio"] = 1 - t["code_percent"] / 100  # the code share, reading the column as the C4 share
    train, test = t[t["mix_ratio"] <= 0.5], t[t["mix_ratio"] >= 0.7]
    law = fix_params(DCPT, {"A": 0.0, "alpha": 0.3})
    f = sl.fit(train, law)
    pred = law({"N": test["params"].to_numpy(float), "D": test["tokens"].to_numpy(float),
                "r": test["mix_ratio"].to_numpy(float)}, f.params)
    assert np.mean(np.abs(pred / test["loss"].to_numpy() - 1)) < 0.02
