"""Residual spaces: where a fit measures the distance between its law and the observations.

A residual is g(prediction) - g(observed) for the space's transform g:

  log     g = log: relative errors, the standard for losses (Hoffmann 2022; Besiroglu 2024). Needs y > 0.
  linear  g = identity: absolute errors, for targets that can be zero or negative (a unigram-normalised loss,
          a loss difference).
  logit   g = log(y / (1 - y)): for rates in (0, 1) (an accuracy, a pass rate), whose errors shrink near 0 and 1.

An observation is recovered from a prediction and a residual e as g⁻¹(g(prediction) - e): every interval that adds
run-to-run scatter to a law's draws does it through `observe`, so the sign is written once.
"""

from __future__ import annotations

import numpy as np

from ..errors import ScalingLawsError

SPACES = ("log", "linear", "logit")
DEFAULT = "log"


def check(space: str) -> str:
    if space not in SPACES:
        raise ScalingLawsError(f"unknown residual space '{space}'. Choose one of: {', '.join(SPACES)}")
    return space


def of(loss) -> str:
    """The residual space of a fit's objective (its `loss` mapping); fits that do not say are in log space."""
    return str((loss or {}).get("space", DEFAULT))


def forward(y: np.ndarray, space: str) -> np.ndarray:
    """g(y): NaN where y is outside the space's domain."""
    y = np.asarray(y, dtype=float)
    with np.errstate(all="ignore"):
        if space == "log":
            return np.where(y > 0, np.log(np.where(y > 0, y, 1.0)), np.nan)
        if space == "logit":
            ok = (y > 0) & (y < 1)
            s = np.where(ok, y, 0.5)
            return np.where(ok, np.log(s) - np.log1p(-s), np.nan)
        return y


def inverse(z: np.ndarray, space: str) -> np.ndarray:
    """g⁻¹(z)."""
    z = np.asarray(z, dtype=float)
    with np.errstate(all="ignore"):
        if space == "log":
            return np.exp(z)
        if space == "logit":
            return 1.0 / (1.0 + np.exp(-z))
        return z


def derivative(y: np.ndarray, space: str) -> np.ndarray:
    """g'(y), for the chain rule of the objective's gradient."""
    y = np.asarray(y, dtype=float)
    with np.errstate(all="ignore"):
        if space == "log":
            return 1.0 / y
        if space == "logit":
            return 1.0 / (y * (1.0 - y))
        return np.ones_like(y)


def observe(pred: np.ndarray, resid: np.ndarray, space: str) -> np.ndarray:
    """Observations implied by predictions and residuals e = g(pred) - g(obs): g⁻¹(g(pred) - e)."""
    return inverse(forward(pred, space) - resid, space)


def domain_message(space: str) -> str:
    return {"log": "must be positive to be fitted in log space",
            "logit": "must lie strictly between 0 and 1 to be fitted in logit space"}.get(space, "")


def in_domain(y: np.ndarray, space: str) -> np.ndarray:
    y = np.asarray(y, dtype=float)
    if space == "log":
        return y > 0
    if space == "logit":
        return (y > 0) & (y < 1)
    return np.isfinite(y)
