"""Farseer (Li et al. 2025): L = exp(a3·N^gamma + b3) + exp(a2·N^beta + b2)·D^(-exp(a1·N^alpha + b1)).

At every model size N the law is a power law in D, L = E_N + B_N·D^(-b_N), whose three coefficients each vary
with N as exp(a·N^c + b). Nine parameters that trade off against each other make a random multi-start unreliable,
so the law brings its own data-driven starts, following the paper's staged construction: fit the power law in D
within each model size, then fit each coefficient's trend across sizes.
"""

from __future__ import annotations

import numpy as np

from .spec import Law, Param, sharing


def farseer(x, p):
    n = x["N"]
    return (np.exp(p["a3"] * n ** p["gamma"] + p["b3"])
            + np.exp(p["a2"] * n ** p["beta"] + p["b2"]) * x["D"] ** -np.exp(p["a1"] * n ** p["alpha"] + p["b1"]))


def farseer_value_grad(x, p):
    """L and ∂L/∂θ: with T3 = exp(a3·N^gamma + b3), e = exp(a1·N^alpha + b1) and T2 = exp(a2·N^beta + b2)·D^-e,
    ∂T2/∂(a1·N^alpha + b1) = -T2·log D·e."""
    n, logd = x["N"], np.log(x["D"])
    logn = np.log(n)
    ng, nb, na = n ** p["gamma"], n ** p["beta"], n ** p["alpha"]
    t3 = np.exp(p["a3"] * ng + p["b3"])
    e = np.exp(p["a1"] * na + p["b1"])
    t2 = np.exp(p["a2"] * nb + p["b2"]) * x["D"] ** -e
    inner = -t2 * logd * e
    return t3 + t2, {"a3": t3 * ng, "b3": t3, "gamma": t3 * p["a3"] * ng * logn,
                     "a2": t2 * nb, "b2": t2, "beta": t2 * p["a2"] * nb * logn,
                     "a1": inner * na, "b1": inner, "alpha": inner * p["a1"] * na * logn}


farseer_grad = sharing(farseer_value_grad)


def _least_squares(X: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least squares for a stack of systems X (G, m, 2) against t (G, m) or (m,), by one batched QR (as stable as
    one lstsq per system, without its per-call cost): coefficients (G, 2) and squared errors (G,)."""
    t = np.broadcast_to(t, X.shape[:2])
    q, r = np.linalg.qr(X)
    coef = np.linalg.solve(r, np.einsum("gmi,gm->gi", q, t)[..., None])[..., 0]
    err = np.sum((np.einsum("gmi,gi->gm", X, coef) - t) ** 2, axis=1)
    return coef, err


def _power_in_d(d: np.ndarray, y: np.ndarray) -> tuple[float, float, float] | None:
    """E + B·D^-b by a grid over b with E, B solved by least squares on relative residuals; None if E or B <= 0."""
    b = np.linspace(0.03, 1.2, 235)
    X = np.stack([np.broadcast_to(1.0, (len(b), len(d))), d[None, :] ** -b[:, None]], axis=2) / y[None, :, None]
    coef, err = _least_squares(X, np.ones_like(y))
    ok = np.flatnonzero((coef[:, 0] > 0) & (coef[:, 1] > 0))
    if not ok.size:
        return None
    i = ok[np.argmin(err[ok])]  # the first of equal errors, as a scan in order keeps it
    return coef[i, 0], coef[i, 1], b[i]


def _trend(n: np.ndarray, v: np.ndarray, k: int = 3) -> list[tuple[float, float, float]]:
    """The k best (a, b, c) with v ≈ a·N^c + b, by a grid over c and least squares for (a, b)."""
    c = np.concatenate([np.linspace(-0.5, -0.005, 100), np.linspace(0.005, 0.5, 100)])
    X = np.stack([n[None, :] ** c[:, None], np.broadcast_to(1.0, (len(c), len(n)))], axis=2)
    coef, err = _least_squares(X, v)
    best = np.argsort(err, kind="stable")[:k]
    return [(coef[i, 0], coef[i, 1], c[i]) for i in best]


def farseer_starts(x, y) -> np.ndarray:
    """Candidate parameter vectors (k, 9) from the staged fit; empty when the data lack a grid over D per size."""
    n_all, d_all = np.asarray(x["N"], float), np.asarray(x["D"], float)
    edges = np.unique(np.round(np.log(n_all) / np.log(1.15)))  # sizes within 15% are one size (digitised data)
    sizes, coefs = [], []
    for e in edges:
        m = np.round(np.log(n_all) / np.log(1.15)) == e
        if len(np.unique(np.round(np.log(d_all[m]), 3))) < 3:
            continue
        fitted = _power_in_d(d_all[m], np.asarray(y, float)[m])
        if fitted is not None:
            sizes.append(np.exp(np.mean(np.log(n_all[m]))))
            coefs.append(fitted)
    if len(sizes) < 3:
        return np.empty((0, 9))
    n = np.array(sizes)
    e_n, b_n, slope = (np.array(c) for c in zip(*coefs))
    starts = []
    for a3, b3, gamma in _trend(n, np.log(e_n)):
        for a2, b2, beta in _trend(n, np.log(b_n)):
            for a1, b1, alpha in _trend(n, np.log(slope)):
                starts.append([a1, b1, alpha, a2, b2, beta, a3, b3, gamma])
    return np.array(starts)


FARSEER = Law(
    name="farseer",
    formula="L = exp(a3·N^gamma + b3) + exp(a2·N^beta + b2)·D^(-exp(a1·N^alpha + b1))",
    inputs={"N": "params", "D": "tokens"},
    params=(
        Param("a1", start=(-3.0, 3.0)), Param("b1", start=(-3.0, 1.0)), Param("alpha", start=(-0.3, 0.3)),
        Param("a2", start=(-3.0, 3.0)), Param("b2", start=(0.0, 10.0)), Param("beta", start=(-0.3, 0.3)),
        Param("a3", start=(-3.0, 3.0)), Param("b3", start=(-2.0, 2.0)), Param("gamma", start=(-0.3, 0.3)),
    ),
    fn=farseer, grad=farseer_grad, init=farseer_starts,
    reference="Li et al. 2025, 'Farseer: A Refined Scaling Law in Large Language Models'",
    notes="Nine parameters: the data exponent and both scales vary with N. Needs several D per model size; "
          "starts come from per-size power-law fits (the paper's staged construction) plus a random design.",
)
