"""Batch size: the critical batch of Kaplan et al. (2020) and McCandlish et al. (2018), and a law of loss in N, D, B.

The trade-off between steps and tokens (McCandlish et al. 2018, "An Empirical Model of Large-Batch Training",
eq. 2.11; Kaplan et al. 2020, §5.1, eqs. 5.1-5.5): to reach a loss L, training at batch B (tokens) takes S steps
and E = S·B tokens, with

    (S/S_min − 1)·(E/E_min − 1) = 1,   S_min = S/(1 + B_crit/B),   E_min = E/(1 + B/B_crit),   B_crit = E_min/S_min

where S_min (E_min) is the fewest steps (tokens) that reach L, at very large (very small) batches. Kaplan fit
B_crit(L) = B*/L^(1/α_B) with B* ≈ 2e8 tokens and α_B ≈ 0.21 (eq. 5.3).

The law `batch_size` reads that trade-off into a loss at (N, D, B): D tokens at batch B are worth E_min = D/(1 +
B/B_crit) tokens at a very small batch, so

    L = E + A·N^-α + G·(D/(1 + B/B_crit))^-β + K·(B_crit/B)^κ,     B_crit = b·D^γ

The critical batch grows with the data, not the model: Zhang et al. 2024 ("How Does Critical Batch Size Scale in
Pre-training?", arXiv:2410.21676) find B_crit rises with D at fixed N and hardly moves with N at fixed D. The last
term is the small-batch penalty seen in tuned sweeps (Li et al. 2025, Step Law: at fixed N and D the best loss over
learning rates is U-shaped in B; many steps at a small batch reach a worse loss than the trade-off alone allows);
it makes the loss-optimal batch B_opt(N, D) a fixed multiple of B_crit(D) (`optimal_ratio`), so B_opt ∝ D^γ, the
form of Step Law's B* = 0.58·D^0.571.
"""

from __future__ import annotations

import numpy as np

from .spec import INF, Law, Param

POS = (0.0, INF)


# -- the trade-off, as pure functions (arrays broadcast) --------------------------------------------------------------
def critical_batch_of_loss(loss, b_star: float = 2.0e8, alpha_b: float = 0.21):
    """B_crit(L) = B*/L^(1/α_B) tokens (Kaplan et al. 2020, eq. 5.3; their fit: B* ≈ 2e8, α_B ≈ 0.21)."""
    return b_star / np.asarray(loss, dtype=float) ** (1.0 / alpha_b)


def min_steps(steps, batch, b_crit):
    """S_min = S/(1 + B_crit/B): the steps a very large batch would need for the loss S steps at B reach (eq. 5.4)."""
    return np.asarray(steps, dtype=float) / (1.0 + np.asarray(b_crit, dtype=float) / np.asarray(batch, dtype=float))


def min_tokens(tokens, batch, b_crit):
    """E_min = E/(1 + B/B_crit): the tokens a very small batch would need for the same loss (eq. 5.5)."""
    return np.asarray(tokens, dtype=float) / (1.0 + np.asarray(batch, dtype=float) / np.asarray(b_crit, dtype=float))


def tradeoff(steps, tokens, s_min, e_min):
    """(S/S_min − 1)(E/E_min − 1): 1 on the trade-off curve of McCandlish et al. (2018, eq. 2.11)."""
    return (np.asarray(steps, float) / s_min - 1.0) * (np.asarray(tokens, float) / e_min - 1.0)


def batch_for_steps(steps, s_min, e_min):
    """The batch (tokens) that reaches the loss of (S_min, E_min) in `steps` steps: from the trade-off,
    E = E_min·S/(S − S_min), B = E/S = E_min/(S − S_min); infinite (unreachable) for S ≤ S_min."""
    s = np.asarray(steps, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s > s_min, np.asarray(e_min, float) / (s - s_min), np.inf)


# -- the law ---------------------------------------------------------------------------------------------------------
def critical_batch(d, p):
    """B_crit = b·D^γ tokens, for parameters p of the `batch_size` law."""
    return p["b"] * np.exp(p["gamma"] * np.log(d))


def batch_size_law(x, p):
    bc = critical_batch(x["D"], p)
    e_min = x["D"] / (1.0 + x["B"] / bc)
    return (p["E"] + p["A"] * np.exp(-p["alpha"] * np.log(x["N"])) + p["G"] * np.exp(-p["beta"] * np.log(e_min))
            + p["K"] * np.exp(p["kappa"] * np.log(bc / x["B"])))


def optimal_ratio(tokens, p, iters: int = 80):
    """u = B_opt/B_crit minimising the law at D = tokens, by bisection in log u.

    With u = B/B_crit, dL/du = 0 reads β·G·D^-β·u^(κ+1)·(1+u)^(β−1) = κ·K, whose left side rises with u
    (κ + 1 > 1 − β), so the root is unique. Arrays broadcast: p's arrays (K, 1) against tokens (m,) -> (K, m)."""
    d = np.asarray(tokens, dtype=float)
    lhs = p["beta"] * p["G"] * np.exp(-p["beta"] * np.log(d))
    lo, hi = np.full(np.broadcast(lhs, p["K"]).shape, -30.0), np.full(np.broadcast(lhs, p["K"]).shape, 30.0)
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        u = np.exp(mid)
        up = lhs * u ** (p["kappa"] + 1.0) * (1.0 + u) ** (p["beta"] - 1.0) > p["kappa"] * p["K"]
        hi, lo = np.where(up, mid, hi), np.where(up, lo, mid)
    return np.exp(0.5 * (lo + hi))


BATCH_SIZE = Law(
    name="batch_size",
    formula="L = E + A·N^(-alpha) + G·(D/(1 + B/B_crit))^(-beta) + K·(B_crit/B)^kappa,  B_crit = b·D^gamma",
    inputs={"N": "params", "D": "tokens", "B": "batch_size_tokens"},
    params=(
        Param("E", POS, (0.5, 3.0), doc="irreducible loss"),
        Param("A", POS, (10.0, 1e4), log_start=True, doc="model-size term scale"),
        Param("G", POS, (10.0, 1e5), log_start=True, doc="data term scale (tokens at a very small batch)"),
        Param("alpha", POS, (0.05, 1.5), doc="model-size exponent"),
        Param("beta", POS, (0.05, 1.5), doc="data exponent"),
        Param("b", POS, (1e-3, 1e3), log_start=True, doc="critical batch at D = 1 token (tokens)"),
        Param("gamma", (0.0, 2.0), (0.2, 1.0), doc="growth of the critical batch with D"),
        Param("K", POS, (1e-4, 1e-1), log_start=True, doc="small-batch penalty at B = B_crit"),
        Param("kappa", POS, (0.1, 2.0), doc="small-batch penalty exponent"),
    ),
    fn=batch_size_law, linear=("E", "A", "G", "K"),
    reference="McCandlish et al. 2018, arXiv:1812.06162, eq. 2.11; Kaplan et al. 2020, arXiv:2001.08361, §5.1; "
              "Zhang et al. 2024, arXiv:2410.21676 (B_crit grows with D)",
    notes="Fit it to each batch size's best-learning-rate run (plan/batch.py: best_per_batch, fit_batch). "
          "B_opt = optimal_ratio·B_crit; `scalinglaws batch` answers B_crit, the fewest steps and tokens to a loss, "
          "and the batch that meets a step limit.",
)
