"""Loss of models trained in low precision, and the loss added by quantising after training (Kumar et al. 2024).

Training in P bits shrinks the effective parameter count: each of weights, activations and the attention KV
cache multiplies N by a saturating factor 1 - exp(-P/gamma) (Kumar et al. 2024, eq. 4). Quantising a trained
model to P_post bits adds delta_PTQ, which grows with the tokens seen per parameter (their eq. 2).
"""

from __future__ import annotations

import numpy as np

from .spec import INF, Law, Param

POS = (0.0, INF)


def effective_params(n, p_w, p_a, p_kv, gamma_w, gamma_a, gamma_kv):
    """N_eff = N·(1 - e^(-P_w/γ_w))·(1 - e^(-P_a/γ_a))·(1 - e^(-P_kv/γ_kv)) (Kumar et al. 2024, eq. 4)."""
    return (n * (1.0 - np.exp(-p_w / gamma_w)) * (1.0 - np.exp(-p_a / gamma_a))
            * (1.0 - np.exp(-p_kv / gamma_kv)))


def ptq_degradation(n, d, p_post, c_t, gamma_d, gamma_n, gamma_post):
    """Loss added by post-training quantisation to P_post bits: C_T·(D^γ_D / N^γ_N)·e^(-P_post/γ_post)
    (Kumar et al. 2024, eq. 2). Grows with data: past some D more pre-training makes the quantised model worse."""
    return c_t * d ** gamma_d / n ** gamma_n * np.exp(-p_post / gamma_post)


def precision(x, p):
    n_eff = effective_params(x["N"], x["Pw"], x["Pa"], x["Pkv"], p["gamma_w"], p["gamma_a"], p["gamma_kv"])
    return p["E"] + p["A"] * n_eff ** -p["alpha"] + p["B"] * x["D"] ** -p["beta"]


_CHINCHILLA_PARAMS = (
    Param("E", POS, (0.5, 3.0), doc="irreducible loss"),
    Param("A", POS, (10.0, 1e4), log_start=True, doc="model-size term scale"),
    Param("B", POS, (10.0, 1e5), log_start=True, doc="data term scale"),
    Param("alpha", POS, (0.05, 1.0), doc="model-size exponent"),
    Param("beta", POS, (0.05, 1.0), doc="data exponent"),
)

PRECISION = Law(
    name="precision",
    formula="L = E + A·N_eff^(-alpha) + B·D^(-beta),  N_eff = N·Π_x (1 - exp(-P_x/gamma_x)), x = w, a, kv",
    inputs={"N": "params", "D": "tokens", "Pw": "precision_weights", "Pa": "precision_activations",
            "Pkv": "precision_kv"},
    params=_CHINCHILLA_PARAMS + (
        Param("gamma_w", POS, (0.5, 6.0), doc="bits at which weights keep 1 - 1/e of their worth"),
        Param("gamma_a", POS, (0.5, 6.0), doc="the same for activations"),
        Param("gamma_kv", POS, (0.5, 6.0), doc="the same for the KV cache"),
    ),
    fn=precision, linear=("E", "A", "B"),
    reference="Kumar et al. 2024, 'Scaling Laws for Precision', arXiv:2411.04330, eqs. 3-4 (training precision)",
    notes="Precisions in bits of integer quantisation-aware training. Three gammas need runs that vary each "
          "precision separately; with one precision for everything use precision_bits.",
)


def precision_bits(x, p):
    n_eff = effective_params(x["N"], x["P"], x["P"], x["P"], p["gamma_w"], p["gamma_a"], p["gamma_kv"])
    return p["E"] + p["A"] * n_eff ** -p["alpha"] + p["B"] * x["D"] ** -p["beta"]


PRECISION_BITS = Law(
    name="precision_bits",
    formula="L = E + A·N_eff^(-alpha) + B·D^(-beta),  N_eff = N·(1 - exp(-P/gamma))^3",
    inputs={"N": "params", "D": "tokens", "P": "precision_bits"},
    params=_CHINCHILLA_PARAMS + (Param("gamma", POS, (0.5, 6.0), doc="bits scale of the effective parameters"),),
    fn=lambda x, p: precision_bits(x, {**p, "gamma_w": p["gamma"], "gamma_a": p["gamma"],
                                       "gamma_kv": p["gamma"]}),
    linear=("E", "A", "B"),
    reference="Kumar et al. 2024, arXiv:2411.04330, eq. 4 with one precision P for weights, activations and KV "
              "cache and one gamma (their compute-optimal precision analysis, sec. 4.3)",
    notes="One column of bits. Under the accounting 'precision_bits' (FLOP ∝ bits) the compute-optimal precision "
          "does not depend on the budget (Kumar et al. 2024, sec. 4.3).",
)
