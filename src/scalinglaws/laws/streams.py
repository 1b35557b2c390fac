"""Loss of parallel-scaled models: P streams over one set of weights (Chen et al. 2025, ParScale).

ParScale runs P forward passes over the same weights, each with its own learned prefix, and aggregates their
outputs. Its law (Chen et al. 2025, eq. 5, their 'parallel scaling law') says P streams act like multiplying the
parameters by (k·log P + 1): log-many extra parameters for P times the computation.
"""

from __future__ import annotations

import numpy as np

from .spec import INF, Law, Param

POS = (0.0, INF)


def stream_equivalent_params(n, p, k):
    """The parameters a single-stream model needs to match N parameters run as P streams: N·(k·ln P + 1)."""
    return n * (k * np.log(p) + 1.0)


def parscale(x, p):
    return (p["A"] / stream_equivalent_params(x["N"], x["P"], p["k"])) ** p["alpha"] + p["E"]


PARSCALE = Law(
    name="parscale",
    formula="L = (A / (N·(k·ln P + 1)))^alpha + E",
    inputs={"N": "params", "P": "streams"},
    params=(
        Param("E", POS, (0.3, 3.0), doc="irreducible loss"),
        Param("A", POS, (1e3, 1e9), log_start=True, doc="scale (in parameters) of the reducible term"),
        Param("alpha", POS, (0.05, 0.6), doc="exponent"),
        Param("k", POS, (0.05, 2.0), doc="how much one more factor e of streams is worth, in multiples of N"),
    ),
    fn=parscale, linear=("E",),
    reference="Chen et al. 2025, 'Parallel Scaling Law for Language Models', arXiv:2505.10475, eq. 5",
    notes="Fitted by the paper at a fixed number of training tokens (42B); P = 1 is the dense model. "
          "It has no data term: to plan a FLOP budget use parscale_nd.",
)


def parscale_nd(x, p):
    return parscale(x, p) + p["B"] * x["D"] ** -p["beta"]


PARSCALE_ND = Law(
    name="parscale_nd",
    formula="L = (A / (N·(k·ln P + 1)))^alpha + B·D^(-beta) + E",
    inputs={"N": "params", "P": "streams", "D": "tokens"},
    params=PARSCALE.params + (
        Param("B", POS, (1.0, 1e5), log_start=True, doc="data term scale"),
        Param("beta", POS, (0.05, 1.0), doc="data exponent"),
    ),
    fn=parscale_nd, linear=("E", "B"),
    reference="Chen et al. 2025, arXiv:2505.10475, eq. 5, with the data term of Hoffmann et al. 2022, eq. 2",
    notes="Not the paper's own fit: its law of N and P, plus a Chinchilla data term so that a FLOP budget "
          "(which P streams spend P times faster per token) has a finite best split.",
)
