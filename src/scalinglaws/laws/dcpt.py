"""The D-CPT law: loss against model size, tokens and the mixture ratio of continual pre-training (Que et al. 2024).

Que et al. 2024, "D-CPT Law: Domain-specific Continual Pre-Training Scaling Law for Large Language Models"
(arXiv:2406.01375), eq. (5):

    L(N, D, r) = E + A/N^α + B·r^η/D^β + C/(r + ε)^γ

r is the share of the training mixture that is the corpus the loss is measured on: the domain share for the
domain loss, the general share (1 − the domain share) for the general loss. C/(r + ε)^γ is what a larger share of
its own corpus buys at any length, ε keeps it finite at r = 0, and r^η scales the data term: the more of the
mixture is the loss's own corpus, the more the loss still has to gain from tokens.

With one model size the N term is a constant beside E (A/N^α and E are not separately identified): fix A = 0
(`fix_params(DCPT, {"A": 0, "alpha": 0.3})`, α then inert) and read E as E + A/N^α at that size.
"""

from __future__ import annotations

from .spec import INF, Law, Param

POS = (0.0, INF)


def dcpt(x, p):
    r = x["r"]
    return (p["E"] + p["A"] * x["N"] ** -p["alpha"] + p["B"] * r ** p["eta"] * x["D"] ** -p["beta"]
            + p["C"] * (r + p["eps"]) ** -p["gamma"])


DCPT = Law(
    name="dcpt",
    formula="L = E + A·N^-α + B·r^η·D^-β + C·(r + ε)^-γ",
    inputs={"N": "params", "D": "tokens", "r": "mix_ratio"},
    params=(
        Param("E", POS, (0.0, 2.0), doc="irreducible loss"),
        Param("A", POS, (10.0, 1e4), log_start=True),
        Param("alpha", POS, (0.1, 0.6)),
        Param("B", POS, (10.0, 1e5), log_start=True),
        Param("eta", (-INF, INF), (-0.5, 1.0), doc="how the data term grows with the loss's own share r"),
        Param("beta", POS, (0.1, 0.6)),
        Param("C", POS, (0.01, 1.0), log_start=True),
        Param("gamma", (0.0, 3.0), (0.05, 1.5), doc="how the loss falls with its own share r"),
        Param("eps", (1e-3, 1.0), (0.001, 0.5), log_start=True, doc="keeps C·(r + ε)^-γ finite at r = 0"),
    ),
    fn=dcpt,
    linear=("E", "A", "B", "C"),
    reference="Que et al. 2024, 'D-CPT Law: Domain-specific Continual Pre-Training Scaling Law for Large "
              "Language Models', arXiv:2406.01375, eq. 5",
    notes="r is the share of the mixture that is the corpus the loss is measured on, in (0, 1]: the domain share "
          "for the domain loss, 1 - it for the general loss. With one model size fix A = 0.",
)
