"""Error against compute that bends at small scale and saturates at a floor (Nezhurina et al. 2025).

E(C) = a·(C + b)^c + d

Nezhurina et al. 2025 ("Scaling Laws for Robust Comparison of Open Foundation Language-Vision Models and Datasets",
arXiv:2506.04598, their `saturation_both`) fit the downstream error 1 - accuracy of CLIP and MaMMUT against
training compute with it. c < 0 is the power-law exponent, d the error that no compute removes, and b the scale
below which the curve flattens towards a·b^c + d (a small model near chance improves slowly at first). b = 0
gives a power law with a floor (`power`).
"""

from __future__ import annotations

import numpy as np

from .spec import INF, Law, Param


def saturating(x, p):
    return p["a"] * (x["x"] + p["b"]) ** p["c"] + p["d"]


def saturating_grad(x, p):
    shifted = x["x"] + p["b"]
    t = shifted ** p["c"]
    return {"a": t, "b": p["a"] * p["c"] * t / shifted, "c": p["a"] * t * np.log(shifted), "d": np.ones_like(t)}


SATURATING = Law(
    name="saturating",
    formula="E = a·(x + b)^c + d",
    inputs={"x": "flops"},
    params=(
        Param("a", (0.0, INF), (1.0, 1e6), log_start=True, doc="scale of the reducible error"),
        Param("b", (0.0, INF), (1.0, 1e30), start_from="x", doc="scale (in x's units) below which the error "
                                                                 "flattens"),
        Param("c", (-5.0, 0.0), (-0.8, -0.02), doc="exponent (negative)"),
        Param("d", (0.0, INF), (0.0, 0.5), doc="irreducible error"),
    ),
    fn=saturating, grad=saturating_grad, linear=("a", "d"),
    target="error",
    reference="Nezhurina et al. 2025, 'Scaling Laws for Robust Comparison of Open Foundation Language-Vision "
              "Models and Datasets', arXiv:2506.04598 (saturation_both)",
    notes="One input, flops by default. The target is an error (1 - accuracy): `compare --higher-better` fits it "
          "to an accuracy column. b = 0 is a power law with a floor.",
)
