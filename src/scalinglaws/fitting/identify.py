"""Which parameters the data pin down: the Jacobian of the residuals at the optimum, read for directions in which
the objective does not change.

A fit can converge to a point that means nothing. If every row has the same N, `E + A·N^-α` is one number and E, A
and α cannot be told apart; if an exponent runs off to 1e304, its term vanishes and its amplitude and exponent no
longer touch any prediction. Both show in the weighted Jacobian J (rows × parameters) of the residuals: a column
that is zero (a parameter with no effect) or a set of columns that are linearly dependent (parameters that trade off
exactly). The columns are scaled by each parameter's natural scale and then to unit length, so the test does not
depend on units; parameters whose share of a singular direction is large are named.
"""

from __future__ import annotations

import numpy as np

from ..laws.spec import predict_with_jacobian

NO_EFFECT = 1e-10  # a column's size, in residual units per natural unit of its parameter, below which it is zero
DEPENDENT = 1e-9  # smallest singular value over the largest of the unit-length columns below which they trade off


def weak_parameters(problem, theta: np.ndarray) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(parameters with no effect on any prediction, parameters that trade off exactly with others) at `theta`."""
    law = problem.law
    names = law.param_names
    with np.errstate(all="ignore"):
        pred, jac = predict_with_jacobian(law, problem.x, np.asarray(theta, dtype=float)[None])  # (1, P, n)
        jr = problem._chain(jac, pred[:, None, :])[0]  # (P, n): d residual / d theta
    keep = problem.weights > 0
    J = (jr[:, keep] * np.sqrt(problem.weights[keep])).T  # (rows, P)
    if not np.all(np.isfinite(J)) or J.shape[0] == 0:
        return (), ()
    scale = np.array([max(abs(float(v)), p.start[1] - p.start[0], 1e-12) for v, p in zip(theta, law.params)])
    J = J * scale
    norms = np.linalg.norm(J, axis=0) / np.sqrt(J.shape[0])
    dead = norms <= NO_EFFECT
    none_effect = tuple(n for n, d in zip(names, dead) if d)
    live = np.flatnonzero(~dead)
    if len(live) < 2:
        return none_effect, ()
    unit = J[:, live] / (norms[live] * np.sqrt(J.shape[0]))
    _, s, vt = np.linalg.svd(unit, full_matrices=False)
    weak = s <= DEPENDENT * s[0]
    if not weak.any():
        return none_effect, ()
    share = np.abs(vt[weak]).max(axis=0)  # each parameter's largest part in a direction the data do not see
    traded = tuple(names[live[j]] for j in np.flatnonzero(share > 0.05))
    return none_effect, traded
