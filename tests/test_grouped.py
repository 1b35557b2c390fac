"""Grouped fits (laws/grouped.py, fitting/grouping.py): one law over several groups, some parameters shared."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.errors import ScalingLawsError
from scalinglaws.fitting.bootstrap import resample_weights
from scalinglaws.laws.grouped import group_params

GRID = [(n, d) for n in np.geomspace(1e7, 1e9, 6) for d in np.geomspace(1e9, 1e11, 5)]


def ladder(truth: dict, alpha=0.34, beta=0.28, noise=0.0, seed=0) -> dict:
    rng = np.random.default_rng(seed)
    rows = {"run": [], "params": [], "tokens": [], "loss": [], "family": []}
    for g, (E, A, B) in truth.items():
        for i, (n, d) in enumerate(GRID):
            rows["run"].append(f"{g}{i}")
            rows["params"].append(n)
            rows["tokens"].append(d)
            rows["family"].append(g)
            rows["loss"].append((E + A * n ** -alpha + B * d ** -beta) * np.exp(noise * rng.standard_normal()))
    return rows


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_shared_and_per_group_parameters_are_recovered(seed):
    rng = np.random.default_rng(seed)
    truth = {g: (rng.uniform(1.6, 2.2), rng.uniform(250, 600), rng.uniform(800, 2500)) for g in "abc"}
    alpha, beta = rng.uniform(0.28, 0.4), rng.uniform(0.25, 0.35)
    f = sl.fit_grouped(ladder(truth, alpha, beta), "chinchilla", by="family", shared="alpha,beta")
    assert f.converged
    per = group_params(f)
    for g, (E, A, B) in truth.items():
        got = per[g]
        assert got["alpha"] == pytest.approx(alpha, rel=1e-6) and got["beta"] == pytest.approx(beta, rel=1e-6)
        assert (got["E"], got["A"], got["B"]) == (pytest.approx(E, rel=1e-6), pytest.approx(A, rel=1e-6),
                                                 pytest.approx(B, rel=1e-6))


def test_a_shared_exponent_narrows_as_groups_are_added():
    truth = {g: (1.7 + 0.1 * i, 300 + 50 * i, 1000 + 300 * i) for i, g in enumerate("abcd")}
    widths = []
    for k in (1, 2, 4):
        rows = ladder(dict(list(truth.items())[:k]), noise=0.01, seed=3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = (sl.fit(rows, "chinchilla", bootstrap=60) if k == 1 else
                 sl.fit_grouped(rows, "chinchilla", by="family", shared=["alpha", "beta"], bootstrap=60))
        widths.append(float(np.diff(f.intervals()["alpha"])[0]))
    assert widths[0] > widths[1] > widths[2]


def test_the_bootstrap_resamples_runs_within_each_group():
    ids = np.array([f"r{i}" for i in range(10)])
    strata = np.array(["a"] * 3 + ["b"] * 7)
    counts = resample_weights(ids, 200, np.random.default_rng(0), strata)
    assert np.all(counts[:, :3].sum(axis=1) == 3) and np.all(counts[:, 3:].sum(axis=1) == 7)


def test_predictions_read_their_group_and_refuse_an_unknown_one(tmp_path):
    truth = {"a": (1.7, 400.0, 1500.0), "b": (1.9, 300.0, 900.0)}
    f = sl.fit_grouped(ladder(truth), "chinchilla", by="family", shared=["alpha", "beta"], bootstrap=20)
    at = {"params": [1e10, 1e10], "tokens": [1e12, 1e12], "family": ["a", "b"]}
    p = sl.predict(f, at).prediction
    for g, v in zip("ab", p):
        E, A, B = truth[g]
        assert v == pytest.approx(E + A * 1e10 ** -0.34 + B * 1e12 ** -0.28, rel=1e-6)
    again = sl.Fit.load(f.save(tmp_path / "g.json"))
    assert np.allclose(sl.predict(again, at).prediction, p) and again.law == "chinchilla by family"
    with pytest.raises(ScalingLawsError, match="group 'z' \\(column 'family'\\) was not in the fit"):
        sl.predict(f, {"params": [1e10], "tokens": [1e12], "family": ["z"]})


def test_the_command_and_its_errors(tmp_path, cli):
    rows = ladder({"a": (1.7, 400.0, 1500.0), "b": (1.9, 300.0, 900.0)})
    path = tmp_path / "two.csv"
    path.write_text("run,params,tokens,loss,family\n" + "".join(
        f"{r},{n},{d},{y},{g}\n" for r, n, d, y, g in zip(*(rows[k] for k in ("run", "params", "tokens", "loss",
                                                                           "family")))))
    code, out, err = cli("fit", str(path), "--groups", "family", "--shared", "alpha,beta", "--json")
    assert code == 0, err
    rec = json.loads(out)
    assert rec["law"] == "chinchilla by family" and "A@b" in rec["params"]
    for args, message in ((("--groups", "family", "--shared", "gamma"), "law 'chinchilla' has no such parameter"),
                          (("--groups", "family"), "--groups and --shared go together"),
                          (("--groups", "run2", "--shared", "alpha"), "column 'run2'"),
                          (("--groups", "family", "--shared", "E,A,B,alpha,beta"), "every parameter is shared")):
        code, out, err = cli("fit", str(path), *args)
        assert code != 0 and err.startswith("Error: ") and message in err and len(err.strip().splitlines()) == 1
    code, out, err = cli("fit", str(path), "--groups", "family", "--shared", "alpha", "--where", "family=a")
    assert code != 0 and "two or more groups" in err
    with path.open("a") as f:
        f.write("c0,1e8,1e10,2.5,c\nc1,1e9,1e10,2.3,c\n")  # a third family of 2 runs, for 3 parameters of its own
    code, out, err = cli("fit", str(path), "--groups", "family", "--shared", "alpha,beta")
    assert code != 0 and len(err.strip().splitlines()) == 1, err
    assert err.startswith("Error: group 'c' of column 'family' has 2 rows but 3 parameters of its own (E, A, B)")
    code, out, err = cli("fit", str(path), "--groups", "family", "--shared", "alpha,beta", "--where", "family!=c")
    assert code == 0, err


def two_targets(seed=0):
    rng = np.random.default_rng(seed)
    rows = {"run": [], "params": [], "tokens": [], "c4": [], "code": []}
    for i, (n, d) in enumerate(GRID):
        rows["run"].append(f"r{i}")
        rows["params"].append(n)
        rows["tokens"].append(d)
        rows["c4"].append((1.8 + 400 * n ** -0.34 + 1500 * d ** -0.28) * np.exp(0.002 * rng.standard_normal()))
        rows["code"].append((0.9 + 200 * n ** -0.34 + 3000 * d ** -0.28) * np.exp(0.02 * rng.standard_normal()))
    return rows


def test_several_targets_share_exponents_and_are_weighted_by_their_scatter(tmp_path, cli):
    f = sl.fit_targets(two_targets(), "chinchilla", targets=["c4", "code"], shared=["alpha", "beta"], bootstrap=20)
    assert f.law == "chinchilla by target"
    scale = f.extra["targets"]["residual_scale"]
    assert scale["code"] > 5 * scale["c4"]  # the noisier target is down-weighted, not allowed to drown the other
    assert f.params["alpha"] == pytest.approx(0.34, abs=0.02) and f.params["E@c4"] == pytest.approx(1.8, abs=0.05)
    p = sl.predict(f, {"params": [1e10], "tokens": [1e12], "target": ["c4"]}).prediction[0]
    assert p == pytest.approx(1.8 + 400 * 1e10 ** -0.34 + 1500 * 1e12 ** -0.28, rel=0.01)
    rows = two_targets()
    path = tmp_path / "t.csv"
    path.write_text("run,params,tokens,c4,code\n" + "".join(
        f"{r},{n},{d},{a},{b}\n" for r, n, d, a, b in zip(*(rows[k] for k in ("run", "params", "tokens", "c4",
                                                                          "code")))))
    code, out, err = cli("fit", str(path), "--target", "c4,code", "--shared", "alpha,beta", "--json")
    assert code == 0, err
    assert json.loads(out)["extra"]["targets"]["columns"] == ["c4", "code"]
    code, out, err = cli("fit", str(path), "--target", "c4,code")
    assert code != 0 and "--shared alpha,beta" in err
