"""One fitting problem: a law, its data, an objective and a change of variables, evaluated for K points at once.

`value(u, rows)` and `value_grad(u, rows)` take unconstrained parameters u of shape (K, P) and return the objective
(K,) and its gradient (K, P). A problem's data are either shared by all K rows (x, y, weights of shape (n,): the
multi-start search) or one set per row (shape (B, m): bootstrap draws, each with only the runs it drew). `rows`
says which of the B data rows the K parameter rows belong to; it is ignored for shared data.

Residuals are r = g(prediction) - g(observed) in the objective's space (space.py: log, linear or logit), and every
derivative of r goes through the chain rule ∂r/∂θ = g'(prediction)·∂prediction/∂θ.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..laws.spec import Law, predict_with_jacobian
from . import space as spaces
from .objectives import Objective
from .transforms import Transform


class Problem:
    def __init__(self, law: Law, x: Mapping[str, np.ndarray], y: np.ndarray, objective: Objective,
                 weights: np.ndarray | None = None):
        self.law = law
        self.x = {k: np.asarray(v, dtype=float) for k, v in x.items()}
        self.y = np.asarray(y, dtype=float)
        self.objective = objective
        self.space = objective.space
        self.gy = spaces.forward(self.y, self.space)  # g(observed), NaN outside the space's domain
        self.weights = np.ones_like(self.y) if weights is None else np.asarray(weights, dtype=float)
        self.transform = Transform(law.params)
        self.batched = self.y.ndim == 2
        self.n = self.y.shape[-1]
        # unit weights leave w·ρ equal to ρ to the bit: the objective skips that product in the hot loop (for
        # this array only: weights set later, as a bootstrap sets its draws' counts, are multiplied)
        self._unit_weights = self.weights if bool(np.all(self.weights == 1.0)) else None

    def per_row(self, rows: np.ndarray) -> Problem:
        """A batched problem: data row b holds the rows `rows[b]` of this one (index -1: padding, weight 0)."""
        take = np.where(rows < 0, 0, rows)
        weights = np.where(rows < 0, 0.0, self.weights[take])
        return Problem(self.law, {k: v[take] for k, v in self.x.items()}, self.y[take], self.objective, weights)

    def per_row_subset(self, rows: np.ndarray) -> Problem:
        """The batched problem restricted to some of its data rows."""
        sub = Problem(self.law, {k: v[rows] for k, v in self.x.items()}, self.y[rows], self.objective,
                      self.weights[rows])
        return sub

    def _data(self, rows):
        if not self.batched or rows is None or (len(rows) == len(self.y) and rows[-1] == len(rows) - 1):
            return self.x, self.gy, self.weights  # shared data, or every data row in order: no copy
        return {k: v[rows] for k, v in self.x.items()}, self.gy[rows], self.weights[rows]

    def theta(self, u: np.ndarray) -> np.ndarray:
        return self.transform.to_theta(u)

    def predict(self, theta: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.asarray(self.law(self.x, theta), dtype=float)

    def residuals(self, theta: np.ndarray) -> np.ndarray:
        """Residuals g(pred) - g(obs) (K, n); NaN where the prediction is outside the space's domain."""
        return spaces.forward(self.predict(theta), self.space) - self.gy

    def _g(self, pred: np.ndarray) -> np.ndarray:
        """g(pred) inside the objective. In log space a bare log: a prediction <= 0 gives NaN or -inf, and either
        makes the objective infinite, as space.forward's NaN would, without its masking passes in the hot loop."""
        if self.space == "log":
            return np.log(pred)
        return spaces.forward(pred, self.space)

    def _chain(self, d: np.ndarray, pred: np.ndarray) -> np.ndarray:
        """d·g'(pred): a derivative in the prediction turned into one in g(prediction)."""
        if self.space == "log":
            return d / pred  # g' = 1/pred, divided rather than multiplied so log fits keep their exact arithmetic
        return d * spaces.derivative(pred, self.space)

    def value_theta(self, theta: np.ndarray, rows=None) -> np.ndarray:
        x, gy, w = self._data(rows)
        with np.errstate(all="ignore"):
            return self._value_at(np.asarray(self.law.fn(x, self.law.unpack(theta)), dtype=float), gy, w)

    def value_of(self, pred: np.ndarray) -> np.ndarray:
        """The objective (K,) of predictions (K, n) of the shared data, as value_theta finds it from parameters."""
        with np.errstate(all="ignore"):
            return self._value_at(np.asarray(pred, dtype=float), self.gy, self.weights)

    def _value_at(self, pred: np.ndarray, gy: np.ndarray, w: np.ndarray) -> np.ndarray:
        r = self._g(pred) - gy  # not finite outside the domain
        rho = self.objective.rho(r)
        f = (rho if w is self._unit_weights else w * rho).sum(axis=-1)
        return np.where(np.isfinite(f), f, np.inf)

    def value(self, u: np.ndarray, rows=None) -> np.ndarray:
        return self.value_theta(self.theta(u), rows)

    def value_grad(self, u: np.ndarray, rows=None) -> tuple[np.ndarray, np.ndarray]:
        x, gy, w = self._data(rows)
        theta = self.theta(u)
        with np.errstate(all="ignore"):
            pred, jac = predict_with_jacobian(self.law, x, theta)  # (K, n), (K, P, n)
            r = self._g(pred) - gy
            rho, psi = self.objective.rho_psi(r)
            f = (w * rho).sum(axis=-1)
            coef = self._chain(w * psi, pred)  # dρ/dpred, (K, n)
            g = np.einsum("kn,kpn->kp", coef, jac) * self.transform.jacobian(u)
        bad = ~np.isfinite(f) | ~np.all(np.isfinite(g), axis=1)
        f = np.where(bad, np.inf, f)
        g[bad] = 0.0
        return f, g

    def residuals_jacobian(self, u: np.ndarray, rows=None):
        """Residuals r (K, n), their Jacobian in u (K, P, n), and the row weights: what Levenberg-Marquardt
        needs."""
        x, gy, w = self._data(rows)
        theta = self.theta(u)
        with np.errstate(all="ignore"):
            pred, jac = predict_with_jacobian(self.law, x, theta)  # (K, n), (K, P, n)
            r = self._g(pred) - gy
            jr = self._chain(jac, pred[:, None, :]) * self.transform.jacobian(u)[:, :, None]
        return r, jr, w
