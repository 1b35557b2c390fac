"""Loss of mixture-of-experts models: granularity (Krajewski et al. 2024) and the number of experts (Clark et al.
2022).

Accounting: an MoE run has two parameter counts. The active parameters (those one token passes through) set the
FLOP per token; the total parameters (every expert) set the memory. The two laws read different ones, as their
papers do: Krajewski et al. 2024 fit the loss to the TOTAL non-embedding count (their sec. 5: "total number of
non-embedding parameters N"; Table 2 lists models as E × N_act), Clark et al. 2022 to the dense model's count,
which the experts multiply. The planning accountings (plan/axis_costs.py) add what each axis costs.
"""

from __future__ import annotations

import numpy as np

from .spec import INF, Law, Param

POS = (0.0, INF)


# -- moe_granular: Krajewski et al. 2024, eq. 9 ---------------------------------------------------------------------
def moe_granular(x, p):
    # the granularity term scales the model-size term: finer experts (larger G) lower it towards a·N^-alpha
    size = (p["g"] * x["G"] ** -p["gamma"] + p["a"]) * x["N"] ** -p["alpha"]
    return p["c"] + size + p["b"] * x["D"] ** -p["beta"]


def moe_granular_grad(x, p):
    log_n, log_d, log_g = np.log(x["N"]), np.log(x["D"]), np.log(x["G"])
    tn, td, tg = x["N"] ** -p["alpha"], x["D"] ** -p["beta"], x["G"] ** -p["gamma"]
    inner = p["g"] * tg + p["a"]
    return {"c": 1.0, "a": tn, "g": tg * tn, "b": td, "alpha": -inner * tn * log_n,
            "beta": -p["b"] * td * log_d, "gamma": -p["g"] * tg * log_g * tn}


MOE_GRANULAR = Law(
    name="moe_granular",
    formula="L = c + (g·G^(-gamma) + a)·N^(-alpha) + b·D^(-beta)",
    inputs={"N": "params", "D": "tokens", "G": "granularity"},
    params=(
        Param("c", POS, (0.3, 3.0), doc="irreducible loss"),
        Param("a", POS, (1.0, 1e3), log_start=True, doc="model-size scale at infinite granularity"),
        Param("g", POS, (0.1, 100.0), log_start=True, doc="extra model-size scale of coarse experts"),
        Param("b", POS, (1.0, 1e4), log_start=True, doc="data term scale"),
        Param("alpha", POS, (0.05, 0.6), doc="model-size exponent"),
        Param("beta", POS, (0.05, 0.6), doc="data exponent"),
        Param("gamma", POS, (0.1, 1.5), doc="granularity exponent"),
    ),
    fn=moe_granular, grad=moe_granular_grad, linear=("c", "a", "g", "b"),
    reference="Krajewski et al. 2024, 'Scaling Laws for Fine-Grained Mixture of Experts', arXiv:2402.07871, eq. 9 "
              "(fitted constants: Table 1)",
    notes="N counts TOTAL non-embedding parameters (every expert), as in the paper; G = FFN width / expert width "
          "(G=1: experts as wide as the dense FFN). The paper fixes the expansion rate at E = 64 (total FFN "
          "parameters over one dense FFN's), so N = N_active·(8E + 4)/12; the loss falls with G, and what stops G "
          "growing is the router's cost, which the planning accounting 'granularity' counts.",
)


# -- moe_routed: Clark et al. 2022, eqs. 2 and 9 ----------------------------------------------------------------------
def saturated_experts(e, e_start, e_max):
    """Clark et al. 2022, eq. 9: the expert count seen by the law, Ê. Ê equals E_start at E = 1, grows like E in
    between, and saturates at E_max, so that very many experts stop helping."""
    inner = e - 1.0 + 1.0 / (1.0 / e_start - 1.0 / e_max)
    return 1.0 / (1.0 / inner + 1.0 / e_max)


def moe_routed(x, p):
    # base-10 logarithms, as in the paper (its Table of a, b, c, d is fitted in log10; the interaction c and the
    # intercept d change with the base, so the published values only hold in log10)
    log_n = np.log10(x["N"])
    log_e = np.log10(saturated_experts(x["E"], p["E_start"], p["E_max"]))
    return 10.0 ** (p["a"] * log_n + p["b"] * log_e + p["c"] * log_n * log_e + p["d"])


def routing_cutoff(b, c):
    """The dense size past which more experts stop helping, N_cutoff = 10^(-b/c) (Clark et al. 2022, sec. 4):
    there the slope of log L in log Ê, b + c·log10 N, reaches zero."""
    return 10.0 ** (-np.asarray(b, dtype=float) / np.asarray(c, dtype=float))


MOE_ROUTED = Law(
    name="moe_routed",
    formula="log10 L = a·log10 N + b·log10 Ê + c·log10 N·log10 Ê + d,  1/Ê = 1/(E - 1 + (1/E_start - 1/E_max)^-1) "
            "+ 1/E_max",
    inputs={"N": "params_active", "E": "moe_num_experts"},
    params=(
        Param("a", (-2.0, 0.0), (-0.2, -0.02), doc="log-loss slope in log N (dense)"),
        Param("b", (-2.0, 2.0), (-0.2, 0.0), doc="log-loss slope in log Ê"),
        Param("c", (-1.0, 1.0), (-0.01, 0.02), doc="interaction: how expert gains fade with N"),
        Param("d", (-20.0, 20.0), (0.5, 3.0), doc="intercept (log10 of the loss at N = 1, E = 1)"),
        Param("E_start", (1.0 + 1e-6, 1e3), (1.2, 5.0), doc="Ê at a single expert"),
        Param("E_max", (2.0, 1e6), (50.0, 1000.0), log_start=True, doc="where the benefit of experts saturates"),
    ),
    fn=moe_routed, linear=(),
    reference="Clark et al. 2022, 'Unified Scaling Laws for Routed Language Models', arXiv:2202.01169, eqs. 2 and 9",
    notes="A law at a fixed number of tokens (the paper trains every model on the same 130B): it has no data term, "
          "so planning a FLOP budget with it needs a law of tokens too. N counts the dense model's (active) "
          "parameters, E the experts per routed layer. Logarithms are base 10, so the paper's a, b, c, d plug in "
          "as published.",
)
