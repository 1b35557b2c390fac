"""The data mixing law (Ye et al. 2024): derivatives, recovery of every domain's parameters from noise-free losses
fitted jointly, the reference-domain convention, and the refusal of proportions off the simplex."""

from __future__ import annotations

import json

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.errors import ScalingLawsError
from scalinglaws.laws import LAWS, get_law
from scalinglaws.laws.grouped import group_params
from scalinglaws.laws.mixing import DATA_MIXING, DATA_MIXING3, data_mixing_law
from scalinglaws.laws.spec import predict_with_jacobian


def mixtures(m: int, truth: dict, n: int = 16, seed: int = 0) -> dict:
    """n mixtures of m domains drawn on the simplex, each with the loss of every domain in `truth`."""
    R = np.random.default_rng(seed).dirichlet(np.ones(m), n)  # (n, m)
    rows = {"run": [f"mix{i}" for i in range(n)], **{f"r{j + 1}": R[:, j] for j in range(m)}}
    for name, (c, k, t) in truth.items():
        rows[name] = c + k * np.exp(R[:, :-1] @ np.asarray(t))
    return rows


def random_truth(m: int, rng) -> dict:
    return {f"loss{i}": (rng.uniform(0.5, 3.0), rng.uniform(0.2, 1.5), rng.uniform(-3.0, 3.0, m - 1))
            for i in range(1, m + 1)}


def test_registered_and_derivatives_are_exact():
    assert LAWS["data_mixing"] is DATA_MIXING and get_law("ye2024") is DATA_MIXING
    assert LAWS["data_mixing3"] is DATA_MIXING3 and data_mixing_law(4).param_names == ["c", "k", "t1", "t2", "t3"]
    x = {"r1": np.array([0.1, 0.5, 0.2]), "r2": np.array([0.3, 0.1, 0.7]), "r3": np.array([0.6, 0.4, 0.1])}
    theta = np.array([[1.3, 0.7, -1.2, 2.1], [0.4, 2.0, 0.5, -0.3]])
    _, jac = predict_with_jacobian(DATA_MIXING3, x, theta)
    for j in range(theta.shape[1]):
        h = 1e-6
        up, dn = theta.copy(), theta.copy()
        up[:, j] += h
        dn[:, j] -= h
        fd = (DATA_MIXING3(x, up) - DATA_MIXING3(x, dn)) / (2 * h)
        assert np.allclose(np.asarray(jac)[:, j], fd, rtol=1e-6, atol=1e-9)


def test_the_paper_form_with_every_t_is_the_law_with_the_last_domain_as_reference():
    """Σ r = 1: L = c + k·exp(Σ_j t_j r_j) equals c + k·e^{t_M}·exp(Σ_{j<M} (t_j - t_M) r_j)."""
    R = np.random.default_rng(5).dirichlet(np.ones(3), 10)
    c, k, t = 1.1, 0.6, np.array([0.4, -1.3, 0.9])
    paper = c + k * np.exp(R @ t)
    x = {"r1": R[:, 0], "r2": R[:, 1], "r3": R[:, 2]}
    assert np.allclose(DATA_MIXING3(x, {"c": c, "k": k * np.exp(t[2]), "t1": t[0] - t[2], "t2": t[1] - t[2]}),
                       paper, rtol=1e-12)


@pytest.mark.parametrize("m", [2, 3])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_domain_loss_is_recovered_from_a_joint_fit(m, seed):
    truth = random_truth(m, np.random.default_rng(100 + seed))
    f = sl.fit_targets(mixtures(m, truth, seed=seed), data_mixing_law(m), targets=list(truth), shared="none",
                       seed=seed)
    assert f.converged and f.law == f"{data_mixing_law(m).name} by target"
    per = group_params(f)
    for name, (c, k, t) in truth.items():
        got = per[name]
        assert got["c"] == pytest.approx(c, rel=1e-5, abs=1e-6) and got["k"] == pytest.approx(k, rel=1e-5)
        for j, tj in enumerate(t, start=1):
            assert got[f"t{j}"] == pytest.approx(tj, rel=1e-5, abs=1e-6)


def test_a_fit_file_rebuilds_the_joint_law_and_predicts_each_domain(tmp_path):
    truth = random_truth(3, np.random.default_rng(7))
    f = sl.fit_targets(mixtures(3, truth), "data_mixing3", targets=list(truth), shared=[])
    again = sl.Fit.load(f.save(tmp_path / "mix.json"))
    at = {"r1": [0.2, 0.2], "r2": [0.5, 0.5], "r3": [0.3, 0.3], "target": ["loss1", "loss3"]}
    want = [truth[n][0] + truth[n][1] * np.exp(0.2 * truth[n][2][0] + 0.5 * truth[n][2][1]) for n in ("loss1",
                                                                                                    "loss3")]
    assert np.allclose(sl.predict(again, at).prediction, want, rtol=1e-5)


def test_proportions_off_the_simplex_are_refused_by_row():
    rows = mixtures(2, random_truth(2, np.random.default_rng(0)), n=6)
    rows["r2"] = rows["r2"].copy()
    rows["r2"][3] += 0.05
    with pytest.raises(ScalingLawsError, match=r"row 4 of .*r1 = .*, r2 = .* sum to 1\.05.*must each lie in "
                                               r"\[0, 1\] and sum to one.*divide each by the row's sum"):
        sl.fit_targets(rows, "data_mixing", targets=["loss1", "loss2"], shared="none")
    rows = mixtures(2, random_truth(2, np.random.default_rng(0)), n=6)
    with pytest.raises(ScalingLawsError, match="look like percentages: divide them by 100"):
        sl.fit(dict(rows, r1=100 * rows["r1"], r2=100 * rows["r2"]), "data_mixing", target="loss1")


def test_the_command_fits_every_domain_and_names_the_bad_line(tmp_path, cli):
    truth = random_truth(2, np.random.default_rng(3))
    rows = mixtures(2, truth, n=10)
    text = "run,share_a,share_b,loss_a,loss_b\n" + "".join(
        f"{r},{a:.17g},{b:.17g},{x:.17g},{y:.17g}\n"
        for r, a, b, x, y in zip(rows["run"], rows["r1"], rows["r2"], rows["loss1"], rows["loss2"]))
    path = tmp_path / "mix.csv"
    path.write_text(text)
    args = ("fit", str(path), "--law", "data_mixing", "--input", "r1=share_a", "--input", "r2=share_b",
            "--target", "loss_a,loss_b", "--shared", "none")
    code, out, err = cli(*args, "--json")
    assert code == 0, err
    params = json.loads(out)["params"]
    assert params["t1@loss_a"] == pytest.approx(truth["loss1"][2][0], rel=1e-5)
    lines = text.splitlines()
    lines[5] = lines[5].replace(lines[5].split(",")[1], "0.9", 1)
    path.write_text("\n".join(lines) + "\n")
    code, out, err = cli(*args)
    assert code != 0 and err.startswith("Error: line 6 of ") and "share_a = 0.9" in err
    assert len(err.strip().splitlines()) == 1


def _code_mix_final(shared_data):
    """The last checkpoint of the nine code mixtures of Muennighoff et al. 2023, one row per mixture, the ratio
    column read as the C4 share (tests/test_mixture_law.py shows why)."""
    import pandas as pd

    t = pd.read_csv(shared_data / "datablations_muennighoff" / "code_mix_curves.csv")
    t = t[t["tokens"] == t["tokens"].max()]
    wide = t.pivot(index="code_percent", columns="loss_split", values="loss").reset_index()
    wide["code_share"] = 1 - wide["code_percent"] / 100
    wide["c4_share"] = wide["code_percent"] / 100
    wide["run"] = [f"code{p}" for p in wide["code_percent"]]
    return wide


def test_the_law_predicts_code_mixtures_beyond_those_fitted(shared_data):
    wide = _code_mix_final(shared_data)
    train, test = wide[wide["code_share"] <= 0.5 + 1e-9], wide[wide["code_share"] >= 0.6 - 1e-9]
    f = sl.fit_targets(train, "data_mixing", inputs={"r1": "code_share", "r2": "c4_share"},
                       targets=["c4_validation", "python_validation"], shared="none")
    for split in ("c4_validation", "python_validation"):
        at = {"code_share": test["code_share"], "c4_share": test["c4_share"], "target": [split] * len(test)}
        err = np.mean(np.abs(sl.predict(f, at).prediction / test[split].to_numpy() - 1))
        nearest = np.mean(np.abs(train[split].to_numpy()[-1] / test[split].to_numpy() - 1))  # the 50% mixture
        assert err < 0.03 and err < 0.6 * nearest, split  # bench_mixture.py: 1.97% against 5.18% over both
