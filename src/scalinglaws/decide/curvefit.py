"""Least squares on the natural scale, for quantities that can be zero: accuracies, error rates, coverage.

An accuracy of 0 (a generative task before it emerges, pass@1 on hard problems) has no logarithm, so links from loss
to accuracy are fitted in linear space: residuals in accuracy points, least squares. The fit is the engine's
(scalinglaws.fitting.fit with space="linear", loss="l2"): the same start design, search, diagnostics and bootstrap
over runs as any law (Efron & Tibshirani 1993, ch. 6). A link is a Law built at run time (its task's chance level
and loss range are part of it), so a CurveFit keeps that Law beside the engine's Fit record to evaluate it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import FitWarning
from ..fitting import Fit
from ..fitting import fit as engine_fit
from ..laws.spec import Law
from ..runs import Runs

STARTS = 64
SPACE = "linear"  # residuals in the target's own units: an accuracy of 0 is a measurement, not an error


@dataclass(frozen=True)
class CurveFit:
    """A natural-scale least-squares fit: the engine's record, with the Law it was made with."""

    law: Law
    fit: Fit

    @property
    def params(self) -> Mapping[str, float]:
        return self.fit.params

    @property
    def draws(self) -> np.ndarray | None:
        """(B, P) bootstrap draws in the law's parameter order, or None without a bootstrap."""
        return None if self.fit.bootstrap is None else self.fit.bootstrap.array()

    @property
    def residuals(self) -> np.ndarray:
        """fitted - observed, in data order (the engine's sign: an observation is fitted - residual)."""
        return np.asarray(self.fit.residuals, dtype=float)

    @property
    def space(self) -> str:
        return SPACE

    @property
    def rmse(self) -> float:
        return float(np.sqrt(np.mean(self.residuals ** 2)))

    @property
    def converged(self) -> bool:
        return self.fit.converged

    def theta(self) -> np.ndarray:
        return np.array([self.params[n] for n in self.law.param_names])

    def predict(self, x: Mapping[str, np.ndarray], draws: bool = False) -> np.ndarray:
        """(n,) at the point estimate, or (B, n) for the bootstrap draws."""
        theta = self.draws if draws else self.theta()[None]
        with np.errstate(all="ignore"):
            out = np.asarray(self.law(x, theta), dtype=float)
        return out if draws else out[0]


def fit_curve(law: Law, x: Mapping[str, np.ndarray], y: np.ndarray, *, runs: np.ndarray | None = None,
              bootstrap: int = 0, seed: int = 0, starts: int = STARTS) -> CurveFit:
    """Fit `law` to y by least squares in linear space; with `bootstrap`, refit on resampled runs (run ids `runs`;
    None: every row its own run).

    The engine's notes (a parameter at its bound, a start that did not converge) are kept in `fit.warnings` rather
    than issued: a link is one step inside a forecast that reports its own errors.
    """
    columns = {sym: np.asarray(v, dtype=float) for sym, v in x.items()}
    columns[law.target] = np.asarray(y, dtype=float)
    if runs is not None:
        columns["run"] = np.asarray(runs).astype(str).astype(object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        result = engine_fit(Runs(columns), law, inputs={sym: sym for sym in x}, loss="l2", space=SPACE,
                            bootstrap=bootstrap, seed=seed, starts=starts)
    return CurveFit(law=law, fit=result)
