"""Learning rate and batch size: Step Law's published values, recovery from synthetic sweeps, the Step Law grids."""

from __future__ import annotations

import csv
import json
import warnings

import numpy as np
import pytest

from scalinglaws.errors import ExtrapolationWarning, ScalingLawsError
from scalinglaws.plan.hparams import STEP_LAW, recommend
from scalinglaws.plan.hparams_fit import cell_optimum, fit_hparams

TRUE = {"lr": (1.79, -0.713, 0.307), "batch": (0.58, 0.571)}  # Step Law's form and values as the truth


def synthetic_sweep(seed: int, noise: float = 0.002):
    """(lr, batch) grids at 12 (N, D) cells; loss is quadratic in log lr and log batch around the true optimum, with
    a steeper high-lr side (as real sweeps have) and Gaussian noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for n in (1e8, 2e8, 4e8, 8e8):
        for d in (4e9, 1.6e10, 6.4e10):
            lr_opt = TRUE["lr"][0] * n ** TRUE["lr"][1] * d ** TRUE["lr"][2]
            b_opt = TRUE["batch"][0] * d ** TRUE["batch"][1]
            # the grids are fixed per cell and not centred on the optimum
            for lr in 2.0 ** (np.arange(-12, -4.5, 0.5)):
                for b in 2.0 ** np.arange(15, 23):
                    x, y = np.log(lr / lr_opt), np.log(b / b_opt)
                    loss = 2.5 + 0.04 * x * x + 0.025 * y * y + 0.01 * x * y + 0.02 * max(x, 0) ** 3
                    rows.append({"params": n, "tokens": d, "lr": lr, "batch_size": b,
                                 "loss": loss + noise * rng.standard_normal()})
    return {k: np.array([r[k] for r in rows]) for k in rows[0]}


def test_published_step_law_by_hand():
    h = recommend(7e9, 1.4e12, seq_len=4096)
    assert h.lr == pytest.approx(1.79 * 7e9 ** -0.713 * 1.4e12 ** 0.307, rel=1e-12)
    assert h.batch_size == pytest.approx(0.58 * 1.4e12 ** 0.571, rel=1e-12)
    assert h.batch_sequences == pytest.approx(h.batch_size / 4096)
    assert h.intervals is None and "Li et al. 2025" in h.law["source"]
    with pytest.warns(ExtrapolationWarning, match="beyond the runs"):
        far = recommend(4e11, 1e13)
    assert far.extrapolation > 100


def test_cell_optimum_is_the_vertex_of_a_quadratic():
    x, y = np.meshgrid(np.linspace(-2, 2, 9), np.linspace(-2, 2, 9))
    x, y = x.ravel(), y.ravel()
    loss = np.exp(1.0 + 0.1 * (x - 0.3) ** 2 + 0.05 * (y + 0.4) ** 2)  # log loss exactly quadratic
    ox, oy, how = cell_optimum(x, y, loss, np.ones_like(x), 0.7)
    assert how == "local quadratic"
    assert ox == pytest.approx(0.3, abs=1e-9) and oy == pytest.approx(-0.4, abs=1e-9)
    ox, oy, how = cell_optimum(x[:9], None, loss[:9], np.ones(9), 0.7)  # one batch size: lr only
    assert ox == pytest.approx(0.3, abs=1e-9) and np.isnan(oy)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_synthetic_sweeps_recover_the_law(seed):
    fit = fit_hparams(synthetic_sweep(seed), bootstrap=30, seed=seed)
    law = fit.law
    assert law.lr_params_exp == pytest.approx(TRUE["lr"][1], abs=0.05)
    assert law.lr_tokens_exp == pytest.approx(TRUE["lr"][2], abs=0.05)
    assert law.batch_tokens_exp == pytest.approx(TRUE["batch"][1], abs=0.05)
    assert all(c["method"] == "local quadratic" for c in fit.cells)
    h = fit.predict(1e9, 1e11)
    lo, hi = h.intervals["lr"]
    assert lo < h.lr < hi
    assert json.loads(json.dumps(fit.to_dict(), allow_nan=False))["format"] == "scalinglaws.hparam_fit/1"


def test_step_law_grids_give_the_published_exponents(shared_data):
    path = shared_data / "steplaw" / "runs.csv"
    if not path.exists():
        pytest.skip(f"{path} is not present")
    fit = fit_hparams(str(path), rename={"batch_size_tokens": "batch_size"}, where=["arch=dense"], bootstrap=40)
    law = fit.law
    assert len(fit.cells) == 17
    assert law.lr_params_exp == pytest.approx(-0.713, abs=0.08)
    assert law.lr_tokens_exp == pytest.approx(0.307, abs=0.06)
    assert law.batch_tokens_exp == pytest.approx(0.571, abs=0.08)
    # our intervals overlap the spread of the paper's own 1000 bootstrap fits
    with open(shared_data / "steplaw" / "raw" / "1004_fitted_lr_bs_scaling_model_parameters.csv") as f:
        theirs = {k: np.array([float(r[k]) for r in rows]) for rows in [list(csv.DictReader(f))] for k in rows[0]}
    ours = law.to_dict()["intervals"]
    for mine, key in (("lr_params_exp", "lr_coefN"), ("lr_tokens_exp", "lr_coefD"), ("batch_tokens_exp", "bs_coefD")):
        lo, hi = np.quantile(theirs[key], [0.025, 0.975])
        assert ours[mine][0] < hi and lo < ours[mine][1], mine


def test_cli_hparams(cli, tmp_path):
    code, out, err = cli("hparams", "--params", "7e9", "--tokens", "1.4e12", "--seq-len", "4096", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["lr"] == pytest.approx(STEP_LAW.lr_coef * 7e9 ** STEP_LAW.lr_params_exp * 1.4e12 ** 0.307)
    assert d["fit"] is None
    data = synthetic_sweep(0)
    path = tmp_path / "sweep.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(data))
        w.writerows(zip(*data.values()))
    code, out, err = cli("hparams", "--params", "5e8", "--tokens", "2e10", "--sweep", str(path), "-b", "10", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["intervals"]["lr"][0] < d["lr"] < d["intervals"]["lr"][1] and len(d["fit"]["cells"]) == 12
    code, out, err = cli("hparams", "--params", "5e8", "--tokens", "2e10", "--sweep", str(path), "-b", "10")
    assert code == 0 and "learning rate" in out and "fitted to sweep.csv" in out


@pytest.mark.parametrize("args, message", [
    (["--params", "-7e9", "--tokens", "1e12"], "--params must be positive"),
    (["--params", "7e9", "--tokens", "lots"], "--tokens 'lots' is not a number"),
    (["--params", "7e9", "--tokens", "1e12", "--seq-len", "0"], "--seq-len must be positive"),
])
def test_cli_hparams_bad_input(cli, args, message):
    code, out, err = cli("hparams", *args)
    assert code == 1 and message in err and err.count("\n") == 1


def test_bad_sweeps(tmp_path):
    data = synthetic_sweep(0)
    with pytest.raises(ScalingLawsError, match="--bandwidth must be positive"):
        fit_hparams(data, bandwidth=0)
    few = {k: v[data["params"] == 1e8] for k, v in data.items()}  # three cells
    with pytest.raises(ScalingLawsError, match="needs at least 4"):
        fit_hparams(few, bootstrap=0)
    with pytest.raises(ScalingLawsError, match="batch_size"):
        fit_hparams({k: v for k, v in data.items() if k != "batch_size"})
    bad = dict(data, lr=np.where(np.arange(len(data["lr"])) == 3, -1.0, data["lr"]))
    with pytest.raises(ScalingLawsError, match="'lr' must be positive|lr"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit_hparams(bad)
