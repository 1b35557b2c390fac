"""Which parameters a law is affine in, found numerically.

Variable projection (Golub & Pereyra 1973) solves the parameters a law is linear in by least squares for every
trial of the others, which turns a multi-start search in P dimensions into one in P - L. For built-in laws the
spec declares them; for formula and user laws this module finds them, and tests check the declarations with it.
"""

from __future__ import annotations

import numpy as np

from .spec import Law


def _sample_inputs(law: Law, n: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(12345)
    return {s: 10.0 ** rng.uniform(2.0, 4.0, n) for s in law.inputs}


def _sample_theta(law: Law, k: int, rng) -> np.ndarray:
    cols = []
    for p in law.params:
        if p.start_from:  # located on the input's scale, which _sample_inputs puts at 1e2..1e4
            cols.append(10.0 ** rng.uniform(2.0, 4.0, k))
        elif p.log_start:
            cols.append(np.exp(rng.uniform(np.log(p.start[0]), np.log(p.start[1]), k)))
        else:
            cols.append(rng.uniform(p.start[0], p.start[1], k))
    return np.stack(cols, axis=1)


def _is_affine(law: Law, x, theta: np.ndarray, idx: list[int], rng) -> bool:
    """f(c) == f(0) + Σ_j c_j (f(s_j e_j) - f(0)) / s_j for random c on each parameter's own scale s_j.

    Checked at several random values of the other parameters; a parameter with no visible effect is not counted.
    """
    K = theta.shape[0]
    scale = np.abs(theta[:, idx]) + 1e-3  # (K, L)
    base = theta.copy()
    base[:, idx] = 0.0
    with np.errstate(all="ignore"):
        f0 = law(x, base)
        basis = []
        for m, j in enumerate(idx):
            t = base.copy()
            t[:, j] = scale[:, m]
            basis.append((law(x, t) - f0) / scale[:, m, None])
        c = scale * rng.uniform(0.5, 2.0, (K, len(idx)))
        t = base.copy()
        t[:, idx] = c
        direct = law(x, t)
        combined = f0 + sum(c[:, m, None] * b for m, b in enumerate(basis))
    ok = np.isfinite(direct) & np.isfinite(combined)
    if ok.mean() < 0.5:
        return False
    size = np.abs(direct[ok]) + np.abs(combined[ok]) + 1e-300
    effect = np.abs(c[:, -1, None] * basis[-1])[ok]
    visible = np.median(effect / size) > 1e-6
    return bool(visible and np.all(np.abs(direct[ok] - combined[ok]) <= 1e-8 * size))


def affine_params(law: Law) -> tuple[str, ...]:
    """The largest set of parameters the law is jointly affine in (greedy, in declaration order)."""
    rng = np.random.default_rng(0)
    x = _sample_inputs(law)
    theta = _sample_theta(law, 6, rng)
    chosen: list[int] = []
    for j in range(law.n_params):
        if _is_affine(law, x, theta, chosen + [j], rng):
            chosen.append(j)
    return tuple(law.params[j].name for j in chosen)
