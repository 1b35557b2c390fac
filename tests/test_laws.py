"""The law library: derivatives, declared structure, and recovery of known parameters from synthetic data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from scalinglaws.errors import ScalingLawsError
from scalinglaws.fitting import fit
from scalinglaws.fitting.objectives import Objective
from scalinglaws.fitting.problem import Problem
from scalinglaws.laws import LAWS, get_law, make_bnsl
from scalinglaws.laws.linearity import affine_params
from scalinglaws.laws.spec import predict_with_jacobian

# A grid of 8 sizes × 6 token counts, as a small ladder would give; unique data shrinks as tokens grow.
N = np.repeat(np.geomspace(1e7, 3e9, 8), 6)
D = np.tile(np.geomspace(1e8, 1e11, 6), 8)
U = np.minimum(D, np.repeat(np.geomspace(2e8, 5e10, 8), 6)[::-1])
C = np.geomspace(1e16, 1e22, 40)
BATCH = np.random.default_rng(3).permutation(np.geomspace(3e4, 1e7, 48))  # batch sizes in tokens, mixed over cells

TRUTH = {
    "power": {"E": 1.7, "A": 2e5, "alpha": 0.3},
    "chinchilla": {"E": 1.8, "A": 480.0, "B": 2100.0, "alpha": 0.35, "beta": 0.37},
    "kaplan": {"N_c": 8.8e13, "D_c": 5.4e13, "alpha_N": 0.076, "alpha_D": 0.095},
    "skaling": {"E": 1.8, "A": 480.0, "B": 2100.0, "alpha": 0.35, "beta": 0.37, "k": 0.8},
    "overtrain": {"E": 1.8, "a": 50.0, "b": 3000.0, "eta": 0.12},
    "data_constrained": {"E": 1.8, "A": 480.0, "B": 2100.0, "alpha": 0.35, "beta": 0.37, "R_D": 15.4, "R_N": 5.3},
    "farseer": {"a1": 0.05, "b1": -1.3, "alpha": 0.08, "a2": 0.5, "b2": 6.5, "beta": 0.05, "a3": -0.3, "b3": 0.8,
                "gamma": 0.05},
    "batch_size": {"E": 1.1, "A": 22.0, "G": 360.0, "alpha": 0.16, "beta": 0.3, "b": 1700.0, "gamma": 0.29,
                   "K": 0.02, "kappa": 0.5},
    "vocabulary": {"E": 5.5, "A1": 3000.0, "A2": 40.0, "B": 1.5e5, "alpha2": 0.35, "beta": 0.5},
    "bnsl": {"a": 1.5, "b": 2000.0, "c0": 0.3, "c1": 0.4, "d1": 1e19, "f1": 0.3},
    "bnsl2": {"a": 1.5, "b": 2000.0, "c0": 0.3, "c1": 0.4, "d1": 1e18, "f1": 0.3, "c2": -0.3, "d2": 1e20, "f2": 0.5},
    "moe_granular": {"c": 0.47, "a": 18.1, "g": 2.1, "b": 30.8, "alpha": 0.115, "beta": 0.147, "gamma": 0.58},
    "moe_routed": {"a": -0.08, "b": -0.1, "c": 0.004, "d": 1.1, "E_start": 1.8, "E_max": 300.0},
    "parscale": {"E": 1.0, "A": 1e7, "alpha": 0.19, "k": 0.4},
    "parscale_nd": {"E": 1.0, "A": 1e7, "alpha": 0.19, "k": 0.4, "B": 2100.0, "beta": 0.37},
    "precision": {"E": 1.8, "A": 480.0, "B": 2100.0, "alpha": 0.35, "beta": 0.37, "gamma_w": 2.7, "gamma_a": 2.2,
                  "gamma_kv": 1.8},
    "precision_bits": {"E": 1.8, "A": 480.0, "B": 2100.0, "alpha": 0.35, "beta": 0.37, "gamma": 2.5},
    "saturating": {"a": 2e5, "b": 1e18, "c": -0.3, "d": 0.2},
    "sparse_average": {"E": 1.8, "A": 480.0, "B": 2100.0, "alpha": 0.35, "beta": 0.37},
}

# Extra inputs of the laws of experts, streams, precision and sparsity, by column (48 values, one per run).
_CYCLE = np.arange(48)
EXTRA = {
    "params_active": N, "params_average": N,
    "granularity": np.array([1.0, 2.0, 4.0, 8.0, 16.0, 32.0])[_CYCLE % 6],
    "moe_num_experts": np.array([1.0, 4.0, 16.0, 64.0, 256.0, 512.0, 8.0, 32.0])[_CYCLE % 8],
    "streams": np.array([1.0, 2.0, 4.0, 8.0])[_CYCLE % 4],
    "precision_bits": np.array([3.0, 4.0, 6.0, 8.0, 16.0])[_CYCLE % 5],
    "precision_weights": np.array([3.0, 4.0, 6.0, 8.0, 16.0])[_CYCLE % 5],
    "precision_activations": np.array([16.0, 3.0, 8.0, 4.0, 6.0, 16.0, 5.0])[_CYCLE % 7],
    "precision_kv": np.array([2.0, 16.0, 4.0])[(_CYCLE // 3) % 3],
}


# Laws of (N, D, C, U), of a batch size B, the vocabulary law's inputs, and of experts, streams and precision;
# schedule-aware curve laws and laws of other inputs (samples of a repeated pool, a mixture ratio) have their own
# tests (test_curves*.py, test_curation.py, test_mixture_law.py).
POINT_LAWS = sorted(name for name, law in LAWS.items()
                    if law.features is None and set(law.inputs) <= {"x", "N", "D", "C", "U", "B", "N_nv", "N_v", "H",
                                                                     "G", "E", "P", "Pw", "Pa", "Pkv"})


def synthetic(name: str):
    law = LAWS[name]
    if set(law.inputs) == {"x"}:
        x, cols = {"x": C}, {"flops": C}
    elif name == "vocabulary":  # N_nv, vocabulary parameters V·d of three vocabularies, characters
        nv = N * np.tile([4096 * 1024.0, 32768 * 512.0, 65536 * 2048.0], 16) / 1e9
        x = {"N_nv": N, "N_v": nv, "H": 4 * D}
        cols = {"params_non_vocab": N, "params_vocab": nv, "characters": 4 * D}
    else:
        base = {"params": N, "tokens": D, "flops": 6 * N * D, "unique_tokens": U, "batch_size_tokens": BATCH,
                **EXTRA}
        cols = {col: base[col] for col in law.inputs.values()}
        x = {sym: base[col] for sym, col in law.inputs.items()}
    return law, x, cols, law(x, TRUTH[name])


def test_every_law_has_a_truth_and_a_reference():
    assert set(TRUTH) == set(POINT_LAWS)
    for law in LAWS.values():
        assert law.reference and law.formula and law.params


@pytest.mark.parametrize("name", POINT_LAWS)
def test_jacobian_matches_finite_differences(name):
    law, x, _, _ = synthetic(name)
    nudge = np.array([1.0 + 0.01 * j for j in range(law.n_params)])
    theta = np.array([[TRUTH[name][p] for p in law.param_names]]) * nudge
    f, jac = predict_with_jacobian(law, x, theta)
    jac = np.asarray(jac) if isinstance(jac, np.ndarray) else np.stack(jac, axis=1)
    for j in range(law.n_params):
        h = 1e-6 * max(1.0, abs(theta[0, j]))
        tp, tm = theta.copy(), theta.copy()
        tp[0, j] += h
        tm[0, j] -= h
        fd = (law(x, tp) - law(x, tm)) / (2 * h)
        np.testing.assert_allclose(jac[0, j], fd[0], rtol=1e-5, atol=1e-9 * np.abs(f).max(),
                                   err_msg=f"{name}: d/d{law.param_names[j]}")


@pytest.mark.parametrize("name", POINT_LAWS)
def test_declared_linear_parameters_are_the_affine_ones(name):
    assert LAWS[name].linear == affine_params(LAWS[name])


@pytest.mark.parametrize("name", POINT_LAWS)
@pytest.mark.parametrize("seed", [0, 1])
def test_noise_free_data_recovers_the_parameters(name, seed):
    law, _, cols, y = synthetic(name)
    result = fit({**cols, law.target: y}, law, seed=seed)
    params = canonical(name, result.params)
    for p, true in TRUTH[name].items():
        assert params[p] == pytest.approx(true, rel=1e-6), (name, p)
    assert result.converged


def canonical(name: str, params: dict) -> dict:
    """Breaks of a broken power law are interchangeable: order them by location before comparing."""
    if not name.startswith("bnsl"):
        return params
    k = sum(1 for p in params if p.startswith("d"))
    order = sorted(range(1, k + 1), key=lambda i: params[f"d{i}"])
    out = {p: v for p, v in params.items() if p in ("a", "b", "c0")}
    for new, old in enumerate(order, start=1):
        for s in "cdf":
            out[f"{s}{new}"] = params[f"{s}{old}"]
    return out


@pytest.mark.parametrize("name", POINT_LAWS)
def test_noisy_fit_is_at_least_as_good_as_the_truth(name):
    """The global search does not miss the optimum: the fitted objective is never above the true parameters'."""
    law, x, cols, y = synthetic(name)
    rng = np.random.default_rng(7)
    for _ in range(2):
        noisy = y * np.exp(0.005 * rng.standard_normal(y.shape))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = fit({**cols, law.target: noisy}, law)
        problem = Problem(law, x, noisy, Objective(space=law.space))
        at_truth = problem.value_theta(np.array([[TRUTH[name][p] for p in law.param_names]]))[0]
        assert result.objective <= at_truth * (1 + 1e-9)


def test_chinchilla_exponents_recovered_under_noise():
    """0.5% noise on 48 points: each fit within 10%, and no systematic bias across seeds (mean within 2%)."""
    law, _, cols, y = synthetic("chinchilla")
    fits = []
    for seed in range(6):
        noisy = y * np.exp(0.005 * np.random.default_rng(seed).standard_normal(y.shape))
        fits.append(fit({**cols, "loss": noisy}, law, seed=seed).params)
    for p in ("E", "alpha", "beta"):
        values = np.array([f[p] for f in fits])
        assert np.all(np.abs(values / TRUTH["chinchilla"][p] - 1) < 0.10), (p, values)
        assert abs(values.mean() / TRUTH["chinchilla"][p] - 1) < 0.02, (p, values)


def test_rescaling_inputs_leaves_exponents_unchanged():
    """Counting parameters in thousands multiplies A by 1000^-alpha and changes nothing else."""
    law, _, cols, y = synthetic("chinchilla")
    noisy = y * np.exp(0.005 * np.random.default_rng(3).standard_normal(y.shape))
    a = fit({**cols, "loss": noisy}, law)
    b = fit({**cols, "params": cols["params"] * 1000.0, "loss": noisy}, law)
    for p in ("E", "B", "alpha", "beta"):
        assert b.params[p] == pytest.approx(a.params[p], rel=1e-6)
    assert b.params["A"] == pytest.approx(a.params["A"] * 1000.0 ** a.params["alpha"], rel=1e-5)
    assert b.objective == pytest.approx(a.objective, rel=1e-8)


def test_power_law_input_can_be_rebound():
    law = LAWS["power"]
    y = law({"x": N}, TRUTH["power"])
    result = fit({"params": N, "tokens": D, "loss": y}, "power", inputs={"x": "params"})
    assert result.inputs == {"x": "params"}
    assert result.params["alpha"] == pytest.approx(0.3, rel=1e-6)
    with pytest.raises(ScalingLawsError, match="law 'power' has no input 'N'"):
        fit({"params": N, "tokens": D, "loss": y}, "power", inputs={"N": "params"})


def test_bnsl_softplus_is_both_branches_to_the_last_bit():
    """One exp and one log1p give exactly z + log1p(e^-z) for z > 0 and log1p(e^z) below, ends included; complex
    arguments (complex-step derivatives) keep the branch by the real part."""
    from scalinglaws.laws.broken import _softplus

    z = np.concatenate([np.linspace(-800.0, 800.0, 4001), [0.0, -0.0, 1e-300, -1e-300, np.inf, -np.inf]])
    with np.errstate(over="ignore"):
        branches = np.where(z > 0, z + np.log1p(np.exp(-z)), np.log1p(np.exp(z)))
    np.testing.assert_array_equal(_softplus(z), branches)
    h = 1e-20
    zc = np.array([-30.0, -1.0, 0.5, 40.0])
    slope = _softplus(zc + 1j * h).imag / h
    np.testing.assert_allclose(slope, 1.0 / (1.0 + np.exp(-zc)), rtol=1e-14)


def test_bnsl_with_more_breaks_and_unknown_laws():
    assert make_bnsl(3).n_params == 3 + 3 * 3
    with pytest.raises(ScalingLawsError, match="unknown law 'chinchila'"):
        get_law("chinchila")


def test_data_constrained_reduces_to_chinchilla_without_repetition():
    x = {"N": N, "D": D, "U": D * 10}  # every token unique
    p = TRUTH["data_constrained"]
    chin = LAWS["chinchilla"]({"N": N, "D": D}, {k: p[k] for k in ("E", "A", "B", "alpha", "beta")})
    # with U >= D there is no repetition; excess parameters still count only where N exceeds U/20
    no_excess = N <= D / 20  # U_N = min(N, U_D/20) with U_D = D
    np.testing.assert_allclose(LAWS["data_constrained"](x, p)[no_excess], chin[no_excess], rtol=1e-12)


def test_the_momentum_filter_matches_the_step_by_step_recursion():
    """m_i = λ m_{i-1} + Δ_i computed blockwise in numpy equals the plain recursion (to a few ulps) at every
    length, including across block boundaries, without scipy."""

    from scalinglaws.laws.features import recursive_filter

    rng = np.random.default_rng(3)
    for lam in (0.999, 0.99, 0.5, 0.0):
        for size in (0, 1, 7, 20_000, 60_000):
            x = rng.normal(size=size) * 1e-4
            want, m = np.empty(size), 0.0
            for i, v in enumerate(x.tolist()):
                m = lam * m + v
                want[i] = m
            got = recursive_filter(x, lam)
            assert got.shape == want.shape
            if size:
                assert np.max(np.abs(got - want)) <= 1e-13 * np.max(np.abs(want))


def test_laws_answer_to_the_names_papers_give_them():
    from scalinglaws.laws import ALIASES, get_law

    assert get_law("Hoffmann").name == "chinchilla" and get_law("multi-power").name == "multipower"
    assert all(get_law(alias).name == name for alias, name in ALIASES.items())
    with pytest.raises(ScalingLawsError, match="Did you mean 'chinchilla'"):
        get_law("chinchila")


def test_a_fit_of_a_law_with_fixed_parameters_loads_back(tmp_path):
    import scalinglaws as sl
    from scalinglaws.laws.fixed import fix_params

    law = fix_params(get_law("E + A*N**-alpha + B*D**-beta"), {"alpha": 0.34})
    fitted = fit({"params": N, "tokens": D, "loss": 1.8 + 480 * N ** -0.34 + 2100 * D ** -0.37}, law)
    fitted.save(tmp_path / "fit.json")
    again = sl.Fit.load(tmp_path / "fit.json")
    at = {"params": [7e10], "tokens": [1.4e12]}
    assert again.law == "formula with alpha fixed" and "alpha" not in again.params
    assert sl.predict(again, at).prediction[0] == pytest.approx(sl.predict(fitted, at).prediction[0], rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_saturating_law_recovers_its_bend_and_floor_under_noise(seed):
    """1% noise on the error of 40 points over six decades (as 1 - accuracy of a contrastive model ladder): the
    exponent and the floor within 10%, and the bend b within a factor 2 (it is pinned only by the small runs)."""
    law, _, cols, y = synthetic("saturating")
    noisy = y * np.exp(0.01 * np.random.default_rng(seed).standard_normal(y.shape))
    got = fit({**cols, "error": noisy}, law, seed=seed).params
    truth = TRUTH["saturating"]
    assert got["c"] == pytest.approx(truth["c"], rel=0.1)
    assert got["d"] == pytest.approx(truth["d"], rel=0.1)
    assert 0.5 < got["b"] / truth["b"] < 2.0
    assert get_law("saturation_both").name == "saturating"
