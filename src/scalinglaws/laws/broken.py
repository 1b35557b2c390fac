"""Smoothly broken power laws (Caballero et al. 2022) for trends that bend, plateau or emerge.

y = a + b·x^(-c0) · Π_i (1 + (x/d_i)^(1/f_i))^(-c_i·f_i)

Each break i changes the slope on log axes by -c_i around x = d_i, with sharpness f_i (small f: sharp).
"""

from __future__ import annotations

import numpy as np

from .spec import INF, Law, Param, sharing


def _softplus(z):
    """log(1 + e^z) without overflow, for real or complex z (complex-step derivatives pass through)."""
    if np.iscomplexobj(z):  # |z| is not analytic: choose the branch by the real part instead
        with np.errstate(over="ignore", invalid="ignore"):
            return np.where(np.real(z) > 0, z + np.log1p(np.exp(-z)), np.log1p(np.exp(z)))
    return _softplus_parts(z)[0]


def _softplus_parts(z):
    """For real z: softplus(z) = max(z, 0) + log1p(e^-|z|), and e^-|z| and log1p(e^-|z|) for a gradient to reuse.
    The same bits as either branch of z + log1p(e^-z) (z > 0) and log1p(e^z) (z <= 0), with one exp and one log1p
    instead of both branches' two."""
    e = np.exp(-np.abs(z))
    tail = np.log1p(e)
    return np.maximum(z, 0.0) + tail, e, tail


def make_bnsl(n_breaks: int) -> Law:
    """The law with n_breaks breaks; `bnsl` in the registry has one, `bnsl2` two."""

    def bnsl(x, p):
        logx = np.log(x["x"])
        log_term = -p["c0"] * logx
        for i in range(1, n_breaks + 1):
            f = p[f"f{i}"]
            # (1 + (x/d)^(1/f))^(-c f) computed in log space: -c f softplus((log x - log d)/f)
            log_term = log_term - p[f"c{i}"] * f * _softplus((logx - np.log(p[f"d{i}"])) / f)
        return p["a"] + p["b"] * np.exp(log_term)

    def value_grad(x, p):
        # y = a + b·T, T = exp(L), L = -c0·log x - Σ c_i·f_i·sp(u_i), u_i = (log x - log d_i)/f_i; with
        # sp' = σ: ∂L/∂d_i = c_i·σ(u_i)/d_i and ∂(f·sp(u))/∂f = sp(u) - u·σ(u)
        logx = np.log(x["x"])
        log_term, parts = -p["c0"] * logx, []
        for i in range(1, n_breaks + 1):
            f, c, d = p[f"f{i}"], p[f"c{i}"], p[f"d{i}"]
            u = (logx - np.log(d)) / f
            sp, e, tail = _softplus_parts(u)  # e = e^-|u|, tail = log1p(e) = sp(-|u|)
            log_term = log_term - c * f * sp
            parts.append((i, f, c, d, u, sp, e, tail))
        t = np.exp(log_term)
        bt = p["b"] * t
        out = {"a": np.ones_like(bt), "b": t, "c0": -bt * logx}
        for i, f, c, d, u, sp, e, tail in parts:
            one_e = 1.0 + e
            out[f"c{i}"] = -bt * f * sp
            out[f"d{i}"] = bt * c * (np.where(u >= 0, 1.0, e) / one_e) / d  # σ(u)
            # sp(u) - u·σ(u) = sp(-|u|) + |u|·σ(-|u|): the same value without the cancellation at large u
            out[f"f{i}"] = -bt * c * (tail + np.abs(u) * (e / one_e))
        return p["a"] + bt, out  # bt is fn's b·exp(log_term), to the bit

    def affine(x, p):  # a + b·T as 0 + a·1 + b·T, T as fn computes it
        return 0.0, {"a": 1.0, "b": bnsl(x, {**p, "a": 0.0, "b": 1.0})}

    params = [Param("a", (0.0, INF), (0.0, 3.0), doc="limit as x grows (irreducible)"),
              Param("b", (0.0, INF), (1.0, 1e4), log_start=True, doc="scale"),
              Param("c0", start=(0.0, 1.0), doc="slope before the first break")]
    for i in range(1, n_breaks + 1):
        params += [Param(f"c{i}", start=(-1.0, 1.0), doc=f"change of slope at break {i}"),
                   Param(f"d{i}", (0.0, INF), (1.0, 1e30), start_from="x", doc=f"location of break {i}"),
                   Param(f"f{i}", (0.0, INF), (0.05, 2.0), log_start=True, doc=f"sharpness of break {i}")]
    terms = "·".join(f"(1 + (x/d{i})^(1/f{i}))^(-c{i}·f{i})" for i in range(1, n_breaks + 1))
    return Law(
        name="bnsl" if n_breaks == 1 else f"bnsl{n_breaks}",
        formula=f"y = a + b·x^(-c0)·{terms}",
        inputs={"x": "flops"},
        params=tuple(params),
        fn=bnsl, grad=sharing(value_grad), linear=("a", "b"), linear_terms=affine,
        reference="Caballero et al. 2022, 'Broken Neural Scaling Laws', arXiv:2210.14891, eq. 1",
        notes=f"{n_breaks} break{'s' if n_breaks > 1 else ''}; one input (flops by default). Fits non-monotone "
              "and emergent trends that a single power law cannot.",
    )


BNSL = make_bnsl(1)
BNSL2 = make_bnsl(2)
