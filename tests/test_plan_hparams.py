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


# -- LR robustness: sensitivity and transfer -----------------------------------------------------------------------
def test_sensitivity_of_a_flat_profile_is_zero_and_of_a_parabola_its_mean():
    from scalinglaws.plan.lr_robust import sensitivity_of

    lrs = np.geomspace(1e-4, 1e-1, 301)
    assert sensitivity_of(lrs, np.full(301, 2.5), 11.0) == (0.0, 2.5)
    x = np.log(lrs) - np.log(lrs).mean()
    s, best = sensitivity_of(lrs, 2.5 + 0.01 * x ** 2, 11.0)
    half = np.log(lrs[-1] / lrs[0]) / 2
    assert s == pytest.approx(0.01 * half ** 2 / 3, rel=1e-3)  # the mean of c·x² over [-h, h]
    # a diverged run counts as the loss at initialisation, never more
    s_div, _ = sensitivity_of([1e-3, 1e-2, 1e-1], [2.5, 2.4, np.nan], 10.0)
    s_big, _ = sensitivity_of([1e-3, 1e-2, 1e-1], [2.5, 2.4, 50.0], 10.0)
    assert s_div == s_big == pytest.approx(((0.1 + 0.0) / 2 + (0.0 + 7.6) / 2) / 2)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sensitivity_trend_in_n_is_recovered(seed):
    """Curvature in log lr shrinking as N^-0.3: the fitted trend's exponent is -0.3."""
    from scalinglaws.plan.lr_robust import lr_sensitivity

    rng = np.random.default_rng(seed)
    rows = {"params": [], "tokens": [], "lr": [], "loss": []}
    for n in (1e8, 3e8, 1e9, 3e9):
        for lr in np.geomspace(1e-4, 1e-1, 13):
            loss = 2.5 + 0.02 * (n / 1e8) ** -0.3 * np.log(lr / 3e-3) ** 2 + 1e-5 * rng.standard_normal()
            for k, v in zip(rows, (n, 20 * n, lr, loss)):
                rows[k].append(v)
    result = lr_sensitivity({k: np.array(v) for k, v in rows.items()}, init_loss=11.0)
    assert result.trend["exponent"] == pytest.approx(-0.3, abs=0.02)
    assert result.to_dict()["format"] == "scalinglaws.lr_sensitivity/1"


def test_transfer_rules():
    from scalinglaws.plan.lr_robust import transfer

    rows = transfer(3e-3, width=256, to_width=1024, weight_decay=0.1, batch=5e5, to_batch=2e6).rows
    assert rows[0]["to"] == pytest.approx(7.5e-4)  # η ∝ 1/width
    assert rows[1]["to"] == pytest.approx(0.4)  # λ ∝ width: η·λ unchanged
    assert rows[0]["to"] * rows[1]["to"] == pytest.approx(3e-3 * 0.1)
    assert rows[2]["to"] == pytest.approx(7.5e-4 * 2)  # η ∝ √B: 4× the batch, 2× the lr
    with pytest.raises(ScalingLawsError, match="--to-width"):
        transfer(3e-3, width=256)


def test_cli_transfer_and_sensitivity(cli, tmp_path):
    code, out, err = cli("hparams", "--transfer-from", "lr=3e-3,width=256,wd=0.1", "--to-width", "1024", "--json")
    assert code == 0, err
    assert json.loads(out)["rows"][0]["to"] == pytest.approx(7.5e-4)
    code, out, err = cli("hparams", "--transfer-from", "width=256", "--to-width", "1024")
    assert code != 0 and err.startswith("Error:") and len(err.strip().splitlines()) == 1
    code, out, err = cli("hparams")
    assert code != 0 and "--params and --tokens" in err


def test_steplaw_sensitivity_over_the_common_range_of_learning_rates(shared_data):
    """Step Law's 17 dense cells over the learning rates every cell swept (4.9e-4 to 2e-3)."""
    from scalinglaws.plan.lr_robust import lr_sensitivity

    path = shared_data / "steplaw" / "runs.csv"
    if not path.exists():
        pytest.skip(f"{path} is not present")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = lr_sensitivity(f"{path}?arch=dense", init_loss=11.1, lr_range=(4.8e-4, 1.96e-3))
    assert len(result.cells) == 17
    assert all(0 <= c["sensitivity"] < 0.1 for c in result.cells)
    assert result.trend["exponent"] < 0  # larger models are less sensitive (Wortsman et al. 2023, fig. 1)
