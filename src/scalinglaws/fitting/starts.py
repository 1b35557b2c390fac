"""Where the multi-start search begins: a space-filling design over the nonlinear parameters, with the linear ones
solved exactly for each design point (variable projection, Golub & Pereyra 1973).

For Chinchilla's law that turns a 5-dimensional search into a 2-dimensional one over (alpha, beta): every candidate
already has the best E, A, B for its exponents, so a few hundred candidates cover the space that a 4,500-point grid
over all five parameters covers worse.
"""

from __future__ import annotations

import numpy as np

from . import space as spaces
from .problem import Problem

MAX_ELEMENTS = 2_000_000  # candidates × points evaluated per numpy call


def n_candidates(n_nonlinear: int) -> int:
    return int(min(4096, max(256, 256 * n_nonlinear)))


def latin_hypercube(k: int, dims: int, rng: np.random.Generator) -> np.ndarray:
    """k points in [0, 1)^dims, one in each of k slices along every axis (McKay et al. 1979)."""
    cut = (np.arange(k)[:, None] + rng.random((k, dims))) / k
    for j in range(dims):
        cut[:, j] = cut[rng.permutation(k), j]
    return cut


def design(problem: Problem, k: int, rng: np.random.Generator) -> np.ndarray:
    """(k, P) parameter values: nonlinear ones from a Latin hypercube over their start ranges."""
    law = problem.law
    theta = np.zeros((k, law.n_params))
    unit = latin_hypercube(k, law.n_params, rng)
    for j, p in enumerate(law.params):
        if p.start_from:
            data = problem.x[p.start_from]
            lo, hi = np.log(data.min()), np.log(data.max())
            theta[:, j] = np.exp(lo + (hi - lo) * unit[:, j])
        elif p.log_start:
            lo, hi = np.log(p.start[0]), np.log(p.start[1])
            theta[:, j] = np.exp(lo + (hi - lo) * unit[:, j])
        else:
            theta[:, j] = p.start[0] + (p.start[1] - p.start[0]) * unit[:, j]
    return theta


def linear_design(problem: Problem, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The prediction with every linear parameter at 0, f0 (K, n), and the column each multiplies, X (K, n, L):
    the prediction is f0 + X·θ_linear. From the law's `linear_terms` in one evaluation when it has them, else from
    L + 1 evaluations (each linear parameter set to 1 in turn)."""
    law = problem.law
    idx = [law.param_names.index(n) for n in law.linear]
    base = theta.copy()
    base[:, idx] = 0.0
    shape = (len(theta), problem.n)
    with np.errstate(all="ignore"):
        if law.linear_terms is not None:
            offset, cols = law.linear_terms(problem.x, law.unpack(base))
            f0 = np.broadcast_to(np.asarray(offset, dtype=float), shape)
            return f0, np.stack([np.broadcast_to(np.asarray(cols[n], dtype=float), shape) for n in law.linear], axis=2)
        f0 = problem.predict(base)  # (K, n)
        cols = []
        for j in idx:
            t = base.copy()
            t[:, j] = 1.0
            cols.append(problem.predict(t) - f0)
    return f0, np.stack(cols, axis=2)


def project_linear(problem: Problem, theta: np.ndarray) -> np.ndarray:
    """Fill the linear parameters of every row of theta by weighted least squares on linearised residuals.

    Near a fit g(pred) - g(y) ≈ g'(y)·(pred - y), and pred is affine in the linear parameters in every space (the
    law is; g comes after it), so least squares on g'(y)·(pred - y) is the objective's quadratic approximation:
    relative residuals (pred - y)/y in log space, exact residuals in linear space, (pred - y)/(y(1 - y)) in logit
    space. The solution is only a start: the search that follows minimises the true objective in its own space.
    """
    return _projected(problem, theta)[0]


def _projected(problem: Problem, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """project_linear's theta (K, P), and the predictions (K, n) at it when the law's `linear_terms` give them
    without another evaluation (else None)."""
    law = problem.law
    idx = [law.param_names.index(n) for n in law.linear]
    if not idx:
        return theta, None
    theta = theta.copy()
    f0, X = linear_design(problem, theta)  # (K, n), (K, n, L)
    if problem.space == "log":
        sw = np.sqrt(problem.weights) / problem.y  # (n,): g'(y) = 1/y, divided as log fits always have been
    else:
        sw = np.sqrt(problem.weights) * spaces.derivative(problem.y, problem.space)  # (n,)
    Xw = X * sw[None, :, None]
    rw = (problem.y - f0) * sw[None, :]
    norm = np.sqrt((Xw ** 2).sum(axis=1)) + 1e-300  # (K, L): column scaling keeps the normal equations sane
    Xs = Xw / norm[:, None, :]
    A = np.einsum("kni,knj->kij", Xs, Xs) + 1e-10 * np.eye(len(idx))
    b = np.einsum("kni,kn->ki", Xs, rw)
    with np.errstate(all="ignore"):
        coef = np.linalg.solve(A, b[..., None])[..., 0] / norm
    for m, j in enumerate(idx):
        p = law.params[j]
        lo, hi = p.bounds
        margin = 1e-3 * (p.start[1] - p.start[0])
        c = np.nan_to_num(coef[:, m], nan=p.start[0], posinf=p.start[1], neginf=p.start[0])
        theta[:, j] = np.clip(c, lo + margin if np.isfinite(lo) else -np.inf,
                              hi - margin if np.isfinite(hi) else np.inf)
    if law.linear_terms is None:
        return theta, None
    pred = np.array(f0)  # offset + Σ θ_j·column_j in the order of `linear`, as the law's own fn adds them
    with np.errstate(all="ignore"):
        for m, j in enumerate(idx):
            pred += theta[:, j, None] * X[:, :, m]
    return theta, pred


def objective_in_chunks(problem: Problem, theta: np.ndarray) -> np.ndarray:
    step = max(1, MAX_ELEMENTS // max(1, problem.n))
    return np.concatenate([problem.value_theta(theta[i:i + step]) for i in range(0, len(theta), step)])


def candidates(problem: Problem, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """k candidate starts (k, P) and their objectives (k,)."""
    step = max(1, MAX_ELEMENTS // max(1, problem.n * (1 + len(problem.law.linear))))
    theta = design(problem, k, rng)
    if problem.law.init is not None:
        with np.errstate(all="ignore"):
            own = np.asarray(problem.law.init(problem.x, problem.y), dtype=float).reshape(-1, problem.law.n_params)
        theta = np.concatenate([own[np.all(np.isfinite(own), axis=1)], theta])
    chunks = [_projected(problem, theta[i:i + step]) for i in range(0, len(theta), step)]
    theta = np.concatenate([t for t, _ in chunks])
    if all(pred is not None for _, pred in chunks):  # the projection's predictions: no second evaluation
        return theta, np.concatenate([problem.value_of(pred) for _, pred in chunks])
    return theta, objective_in_chunks(problem, theta)
