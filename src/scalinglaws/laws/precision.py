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


def compute_optimal_precision(gammas, offsets=None, iters: int = 100) -> float:
    """The training precision P* (bits, one for weights, activations and KV cache) that minimises the loss at a
    fixed budget C ∝ N·D·P, over N, D and P together (Kumar et al. 2024, sec. 4.3.2 and App. E.2.3).

    With M = N_eff the loss is A·M^-α + B·(C·f(P)/(k·P·M))^-β + E, f(P) = Π_x (1 - e^(-(P/γ_x - n_x))), so at
    every M the best P maximises f(P)/P: it depends on neither C nor A, B, α, β. The first-order condition is
    Σ_x (P/γ_x)·e^(-z_x)/(1 - e^(-z_x)) = 1 with z_x = P/γ_x - n_x, whose left side falls with P (solved by
    bisection in log P). One γ and no offset: P* = x*·γ with e^x* = 1 + 3x*, x* = 1.9038. (The paper's eq. 28
    as printed keeps a factor u(P) on the right that cancels; α drops out.)

    gammas: γ_x per part (one value: the same γ for all three parts, as in `precision_bits`); offsets: n_x,
    the shifts of Kumar et al.'s fitted constants (App. K, 'e^(x/γ_x + n)'), read as z_x = P/γ_x - n_x."""
    g = np.atleast_1d(np.asarray(gammas, dtype=float))
    if g.size == 1:
        g = np.repeat(g, 3)
    n = np.zeros_like(g) if offsets is None else np.broadcast_to(np.asarray(offsets, dtype=float), g.shape)
    if not (np.all(g > 0) and np.all(np.isfinite(n))):
        raise ValueError(f"gammas must be positive and offsets finite (got gammas={gammas}, offsets={offsets})")

    def excess(bits):  # Σ_x (P/γ_x)·e^-z/(1 - e^-z) - 1, decreasing in P where every factor is positive
        z = bits / g - n
        return float(np.sum((bits / g) / np.expm1(z))) - 1.0

    lo = float(np.max(g * n)) * (1 + 1e-12) + 1e-9  # below it a factor is not positive
    hi = max(lo * 2.0, 1.0)
    while excess(hi) > 0:
        hi *= 2.0
    lo_l, hi_l = np.log(lo), np.log(hi)
    for _ in range(iters):
        mid = 0.5 * (lo_l + hi_l)
        lo_l, hi_l = (mid, hi_l) if excess(np.exp(mid)) > 0 else (lo_l, mid)
    return float(np.exp(0.5 * (lo_l + hi_l)))


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
