"""Bounds as a change of variables, in one place, so the optimizer works unconstrained.

theta = lo + exp(u)                    for (lo, inf)
theta = hi - exp(u)                    for (-inf, hi)
theta = lo + (hi - lo)·sigmoid(u)      for (lo, hi)
theta = u                              for (-inf, inf)

All maps act on (..., P) arrays at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..laws.spec import Param

FREE, LOWER, UPPER, BOTH = 0, 1, 2, 3


class Transform:
    def __init__(self, params: Sequence[Param]):
        self.lo = np.array([p.bounds[0] for p in params], dtype=float)
        self.hi = np.array([p.bounds[1] for p in params], dtype=float)
        has_lo, has_hi = np.isfinite(self.lo), np.isfinite(self.hi)
        self.kind = np.where(has_lo & has_hi, BOTH, np.where(has_lo, LOWER, np.where(has_hi, UPPER, FREE)))
        self._lo0 = np.where(has_lo, self.lo, 0.0)
        self._hi0 = np.where(has_hi, self.hi, 0.0)
        self._width = np.where(has_lo & has_hi, self.hi - self.lo, 1.0)
        # parameters grouped by kind of bound, so each map touches only the columns it applies to
        self._groups = [(k, np.flatnonzero(self.kind == k)) for k in (LOWER, UPPER, BOTH) if np.any(self.kind == k)]

    def to_theta(self, u: np.ndarray) -> np.ndarray:
        theta = np.array(u, dtype=float)
        for kind, cols in self._groups:
            v = u[..., cols]
            if kind == LOWER:
                theta[..., cols] = self._lo0[cols] + np.exp(np.minimum(v, 700.0))
            elif kind == UPPER:
                theta[..., cols] = self._hi0[cols] - np.exp(np.minimum(v, 700.0))
            else:
                theta[..., cols] = self._lo0[cols] + self._width[cols] * 0.5 * (1.0 + np.tanh(0.5 * v))
        return theta

    def jacobian(self, u: np.ndarray) -> np.ndarray:
        """dtheta/du, elementwise (the map is diagonal)."""
        jac = np.ones_like(u, dtype=float)
        for kind, cols in self._groups:
            v = u[..., cols]
            if kind == LOWER:
                jac[..., cols] = np.exp(np.minimum(v, 700.0))
            elif kind == UPPER:
                jac[..., cols] = -np.exp(np.minimum(v, 700.0))
            else:
                sig = 0.5 * (1.0 + np.tanh(0.5 * v))
                jac[..., cols] = self._width[cols] * sig * (1.0 - sig)
        return jac

    def to_u(self, theta: np.ndarray) -> np.ndarray:
        """Inverse map; values on or past a bound are pulled just inside it."""
        theta = np.asarray(theta, dtype=float)
        tiny = 1e-12 * np.maximum(1.0, np.abs(np.where(np.isfinite(self.lo), self.lo, 0.0)))
        with np.errstate(divide="ignore", invalid="ignore"):
            lower = np.log(np.maximum(theta - self._lo0, tiny + 1e-300))
            upper = np.log(np.maximum(self._hi0 - theta, tiny + 1e-300))
            s = np.clip((theta - self._lo0) / self._width, 1e-15, 1 - 1e-15)
            both = np.log(s) - np.log1p(-s)
        return np.select([self.kind == LOWER, self.kind == UPPER, self.kind == BOTH], [lower, upper, both], theta)
