"""Loss as a function of model size and data: the laws of the pre-training literature.

Each law is one pure function (inputs `x`, parameters `p`, both mappings of arrays) and one spec. Conventions:
N = parameters, D = training tokens, C = training FLOP; loss in nats per token.
"""

from __future__ import annotations

import numpy as np

from .spec import INF, Law, Param, sharing

POS = (0.0, INF)


# -- power: Hestness et al. 2017; Henighan et al. 2020 -------------------------------------------------------------
def power(x, p):
    return p["E"] + p["A"] * x["x"] ** -p["alpha"]


def power_value_grad(x, p):
    t = x["x"] ** -p["alpha"]
    return p["E"] + p["A"] * t, {"E": 1.0, "A": t, "alpha": -p["A"] * t * np.log(x["x"])}


power_grad = sharing(power_value_grad)


def power_terms(x, p):
    """E + A·x^-alpha as 0 + E·1 + A·x^-alpha: the prediction variable projection builds is fn's to the bit."""
    return 0.0, {"E": 1.0, "A": x["x"] ** -p["alpha"]}


POWER = Law(
    name="power",
    formula="L = E + A·x^(-alpha)",
    inputs={"x": "flops"},
    params=(
        Param("E", POS, (0.5, 3.0), doc="irreducible loss"),
        Param("A", POS, (1.0, 1e4), log_start=True, doc="scale of the reducible term"),
        Param("alpha", POS, (0.01, 1.5), doc="exponent"),
    ),
    fn=power, grad=power_grad, linear=("E", "A"), linear_terms=power_terms,
    reference="Hestness et al. 2017, arXiv:1712.00409; Henighan et al. 2020, arXiv:2010.14701",
    notes="One input, flops by default; choose another with inputs={'x': 'params'} or --input x=params.",
)


# -- chinchilla: Hoffmann et al. 2022, Approach 3, eq. (2) -----------------------------------------------------------
def chinchilla(x, p):
    # exp(-alpha·log N) is N^-alpha, computed the faster way
    return p["E"] + p["A"] * np.exp(-p["alpha"] * np.log(x["N"])) + p["B"] * np.exp(-p["beta"] * np.log(x["D"]))


def chinchilla_value_grad(x, p):
    log_n, log_d = np.log(x["N"]), np.log(x["D"])
    tn, td = np.exp(-p["alpha"] * log_n), np.exp(-p["beta"] * log_d)
    return (p["E"] + p["A"] * tn + p["B"] * td,
            {"E": 1.0, "A": tn, "B": td, "alpha": -p["A"] * tn * log_n, "beta": -p["B"] * td * log_d})


chinchilla_grad = sharing(chinchilla_value_grad)


def chinchilla_terms(x, p):
    return 0.0, {"E": 1.0, "A": np.exp(-p["alpha"] * np.log(x["N"])), "B": np.exp(-p["beta"] * np.log(x["D"]))}


CHINCHILLA = Law(
    name="chinchilla",
    formula="L = E + A·N^(-alpha) + B·D^(-beta)",
    inputs={"N": "params", "D": "tokens"},
    params=(
        Param("E", POS, (0.5, 3.0), doc="irreducible loss"),
        Param("A", POS, (10.0, 1e4), log_start=True, doc="model-size term scale"),
        Param("B", POS, (10.0, 1e5), log_start=True, doc="data term scale"),
        Param("alpha", POS, (0.05, 1.5), doc="model-size exponent"),
        Param("beta", POS, (0.05, 1.5), doc="data exponent"),
    ),
    fn=chinchilla, grad=chinchilla_grad, linear=("E", "A", "B"), linear_terms=chinchilla_terms,
    reference="Hoffmann et al. 2022, arXiv:2203.15556, eq. 2 (Approach 3); refit: Besiroglu et al. 2024",
    notes="Compute-optimal allocation in closed form: N* ∝ C^(beta/(alpha+beta)).",
)


# -- kaplan: Kaplan et al. 2020, eq. (1.5) ---------------------------------------------------------------------------
def kaplan(x, p):
    return ((p["N_c"] / x["N"]) ** (p["alpha_N"] / p["alpha_D"]) + p["D_c"] / x["D"]) ** p["alpha_D"]


def kaplan_value_grad(x, p):
    # L = s^aD with s = q + d, q = (N_c/N)^r, r = aN/aD, d = D_c/D: ∂L/∂s = aD·L/s, ∂q/∂r = q·log(N_c/N).
    # ∂L/∂aD = L·(log s - (q/s)·log q) is written L·((d/s)·log s - w·log w), w = q/s, to avoid the cancellation.
    r = p["alpha_N"] / p["alpha_D"]
    log_ratio = np.log(p["N_c"] / x["N"])
    q = (p["N_c"] / x["N"]) ** r
    d = p["D_c"] / x["D"]
    s = q + d
    loss = s ** p["alpha_D"]
    per_s = loss / s
    w = q / s
    return loss, {"N_c": p["alpha_D"] * per_s * r * q / p["N_c"], "D_c": p["alpha_D"] * per_s / x["D"],
                  "alpha_N": per_s * q * log_ratio, "alpha_D": loss * ((d / s) * np.log(s) - w * np.log(w))}


kaplan_grad = sharing(kaplan_value_grad)


KAPLAN = Law(
    name="kaplan",
    formula="L = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D",
    inputs={"N": "params", "D": "tokens"},
    params=(
        Param("N_c", POS, (1e8, 1e16), log_start=True, doc="critical model size"),
        Param("D_c", POS, (1e8, 1e16), log_start=True, doc="critical dataset size"),
        Param("alpha_N", POS, (0.02, 0.5), doc="model-size exponent"),
        Param("alpha_D", POS, (0.02, 0.5), doc="data exponent"),
    ),
    fn=kaplan, grad=kaplan_grad,
    reference="Kaplan et al. 2020, arXiv:2001.08361, eq. 1.5",
    notes="No irreducible term: loss tends to 0. Kaplan counted non-embedding parameters.",
)


# -- skaling: a Chinchilla form whose reducible part is raised to a power k ------------------------------------------
def skaling(x, p):
    return p["E"] + (p["A"] * x["N"] ** -p["alpha"] + p["B"] * x["D"] ** -p["beta"]) ** p["k"]


def skaling_value_grad(x, p):
    # L = E + S^k with S = A·N^-alpha + B·D^-beta: ∂L/∂S = k·S^k/S, ∂L/∂k = S^k·log S
    tn, td = x["N"] ** -p["alpha"], x["D"] ** -p["beta"]
    s = p["A"] * tn + p["B"] * td
    sk = s ** p["k"]
    per_s = p["k"] * sk / s
    return p["E"] + sk, {"E": 1.0, "A": per_s * tn, "B": per_s * td, "alpha": -per_s * p["A"] * tn * np.log(x["N"]),
                         "beta": -per_s * p["B"] * td * np.log(x["D"]), "k": sk * np.log(s)}


skaling_grad = sharing(skaling_value_grad)


SKALING = Law(
    name="skaling",
    formula="L = E + (A·N^(-alpha) + B·D^(-beta))^k",
    inputs={"N": "params", "D": "tokens"},
    params=(
        Param("E", POS, (0.5, 3.0), doc="irreducible loss"),
        Param("A", POS, (1.0, 1e4), log_start=True),
        Param("B", POS, (1.0, 1e5), log_start=True),
        Param("alpha", POS, (0.05, 1.5)),
        Param("beta", POS, (0.05, 1.5)),
        Param("k", POS, (0.3, 2.0), doc="curvature of the combined reducible term; k=1 is Chinchilla"),
    ),
    fn=skaling, grad=skaling_grad, linear=("E",),
    reference="Generalises Hoffmann et al. 2022 eq. 2; k=1 recovers it",
    notes="A, B, alpha and k are only weakly identified together: expect wide intervals without a broad grid.",
)


# -- overtrain: Gadre et al. 2024, eq. (4) ---------------------------------------------------------------------------
def overtrain(x, p):
    m = x["D"] / x["N"]  # tokens per parameter
    return p["E"] + (p["a"] * m ** p["eta"] + p["b"] * m ** -p["eta"]) * x["C"] ** -p["eta"]


def overtrain_value_grad(x, p):
    m = x["D"] / x["N"]
    up, down, c = m ** p["eta"], m ** -p["eta"], x["C"] ** -p["eta"]
    au, bd = p["a"] * up, p["b"] * down
    return p["E"] + (au + bd) * c, {"E": 1.0, "a": up * c, "b": down * c,
                                    "eta": c * ((au - bd) * np.log(m) - (au + bd) * np.log(x["C"]))}


overtrain_grad = sharing(overtrain_value_grad)


OVERTRAIN = Law(
    name="overtrain",
    formula="L = E + (a·M^eta + b·M^(-eta))·C^(-eta),  M = D/N",
    inputs={"C": "flops", "N": "params", "D": "tokens"},
    params=(
        Param("E", POS, (0.5, 3.0), doc="irreducible loss"),
        Param("a", POS, (1.0, 1e5), log_start=True),
        Param("b", POS, (1.0, 1e5), log_start=True),
        Param("eta", POS, (0.01, 0.5), doc="compute exponent, shared by both terms"),
    ),
    fn=overtrain, grad=overtrain_grad, linear=("E", "a", "b"),
    reference="Gadre et al. 2024, 'Language models scale reliably with over-training and on downstream tasks', "
              "arXiv:2403.08540, eq. 4",
    notes="At fixed tokens-per-parameter M the loss is a power law in compute with one exponent eta.",
)


# -- data_constrained: Muennighoff et al. 2023, eqs. (5)-(7) ---------------------------------------------------------
TOKENS_PER_PARAM_OPT = 20.0  # Chinchilla's compute-optimal ratio, used to size the "unique parameters" U_N


def data_constrained(x, p):
    unique = np.minimum(x["D"], x["U"])
    reps_d = x["D"] / unique - 1.0  # R_D: repetitions beyond the first epoch
    d_eff = unique + unique * p["R_D"] * (1.0 - np.exp(-reps_d / p["R_D"]))
    unique_n = np.minimum(x["N"], unique / TOKENS_PER_PARAM_OPT)
    reps_n = x["N"] / unique_n - 1.0  # R_N: parameters in excess of what the unique data can use
    n_eff = unique_n + unique_n * p["R_N"] * (1.0 - np.exp(-reps_n / p["R_N"]))
    return p["E"] + p["A"] * n_eff ** -p["alpha"] + p["B"] * d_eff ** -p["beta"]


DATA_CONSTRAINED = Law(
    name="data_constrained",
    formula="L = E + A·N'^(-alpha) + B·D'^(-beta),  D' = U_D + U_D·R_D·(1 - exp(-R/R_D)), N' likewise",
    inputs={"N": "params", "D": "tokens", "U": "unique_tokens"},
    params=(
        Param("E", POS, (0.5, 3.0), doc="irreducible loss"),
        Param("A", POS, (10.0, 1e4), log_start=True),
        Param("B", POS, (10.0, 1e5), log_start=True),
        Param("alpha", POS, (0.05, 1.0)),
        Param("beta", POS, (0.05, 1.0)),
        Param("R_D", POS, (1.0, 100.0), log_start=True, doc="repetitions at which repeated data has decayed by 1/e"),
        Param("R_N", POS, (1.0, 100.0), log_start=True, doc="the same for excess parameters"),
    ),
    fn=data_constrained, linear=("E", "A", "B"),
    reference="Muennighoff et al. 2023, 'Scaling Data-Constrained Language Models', arXiv:2305.16264, eqs. 5-7",
    notes="Needs unique_tokens. U_N = min(N, U_D/20): the compute-optimal size for the unique data (Chinchilla "
          "ratio). The paper's fit: R_D ≈ 15.4, R_N ≈ 5.3.",
)
