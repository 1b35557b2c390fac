"""Curve laws: loss along a training run as a function of its learning-rate schedule.

Each is a pure function of features computed once from every run's whole schedule (features.py) plus an analytic
gradient, so a fit costs a few array operations per evaluation. Inputs are the columns run, step and lr (and
params for the ladder law); `features` derives S1, S2 and the annealing blocks from them, for fits and predictions
alike, so a table of (run, step, lr) rows of a schedule never run gets a prediction per row.

  lr_annealing   Tissue et al. 2024:  L = L0 + A·S1^-α - C·S2
  multipower     Luo et al. 2025:     L = L0 + A·S1^-α - B·Σ_k Δη_k·(1 - (C·η_k^-γ·S_k(t) + 1)^-β)
  lr_annealing_nd  the momentum law across model sizes: L = E + P·N^-a + A·N^g·S1^-α - C·N^c·S2, so one fit
                 covers a ladder's curves (several sizes, several schedules) at once
  schedule       the default: lr_annealing, the best supported on the bundled curves (docs/curves.md)

A `CurveLaw` also names the early-transient rule its fits apply by default (transient.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from .features import curve_features
from .spec import INF, Law, Param, sharing

POS = (0.0, INF)
CURVE_INPUTS = {"run": "run", "step": "step", "lr": "lr"}
CHUNK = 4_000_000  # parameter rows × points × blocks evaluated per numpy call


@dataclass(frozen=True)
class CurveLaw(Law):
    """A law over training curves: its own early-transient rule leaves out each run's warm-up in a fit."""

    transient: str = "warmup"
    # parameters that belong to one run's configuration (its level and forward-area term): what a partial curve
    # refits when the rest come from a prior fit of finished runs (forecast.py)
    run_params: tuple[str, ...] = ()
    # the annealing term's parameters, amplitude first: a run whose curve and plan never decay has no use for them
    anneal_params: tuple[str, ...] = ()


def _col(v):
    """(..., 1) parameter -> (..., 1, 1), to broadcast against (..., n, blocks) features."""
    return np.asarray(v)[..., None]


# -- lr_annealing: Tissue et al. 2024, arXiv:2408.11029, their law with learning-rate annealing -----------------
def lr_annealing(x, p):
    return p["L0"] + p["A"] * np.exp(-p["alpha"] * np.log(x["S1"])) - p["C"] * x["S2"]


def lr_annealing_grad(x, p):
    log_s = np.log(x["S1"])
    t = np.exp(-p["alpha"] * log_s)
    return {"L0": 1.0, "A": t, "alpha": -p["A"] * t * log_s, "C": -x["S2"]}


LR_ANNEALING = CurveLaw(
    name="lr_annealing",
    formula="L = L0 + A·S1^(-alpha) - C·S2,  S1 = Σ η,  S2 = Σ m_i,  m_i = λ·m_(i-1) + (η_(i-1) - η_i), λ = 0.999",
    inputs=dict(CURVE_INPUTS),
    params=(
        Param("L0", POS, (0.5, 5.0), doc="loss after infinite forward area"),
        Param("A", POS, (0.05, 10.0), log_start=True, doc="scale of the forward-area term"),
        Param("alpha", POS, (0.05, 1.5), doc="forward-area exponent"),
        Param("C", POS, (0.01, 10.0), log_start=True, doc="loss drop per unit of annealing area S2"),
    ),
    fn=lr_annealing, grad=lr_annealing_grad, linear=("L0", "A", "C"),
    features=partial(curve_features, momentum=True), run_params=("L0", "A", "alpha"),
    anneal_params=("C",),
    reference="Tissue et al. 2024, 'Scaling Law with Learning Rate Annealing', arXiv:2408.11029",
    notes="Needs run, step and lr per row. λ is fixed at 0.999 (the paper's default); S1 counts the warm-up, S2 "
          "starts at the peak learning rate.",
)


# -- multipower: Luo et al. 2025, arXiv:2503.12811, the Multi-Power Law --------------------------------------------
def _drop_terms(x, p):
    """u = C·η^-γ·S_k(t) + 1 and the annealing sum Σ w·(1 - u^-β), (..., n), plus pieces for the gradient:
    z = η^-γ·S_k(t), u, u^-β and log u, each (..., n, J).

    The (..., n, J) arrays are the whole cost of the law, so each is made once and updated in place: the same
    arithmetic as the plain expressions, without their temporaries (tens of MB each on a long curve table)."""
    C, beta, gamma = _col(p["C"]), _col(p["beta"]), _col(p["gamma"])
    z = np.multiply(-gamma, x["leta"])
    np.exp(z, out=z)
    z *= x["sk"]  # η_k^-γ·S_k(t)
    u = np.multiply(C, z)
    u += 1.0
    log_u = np.log(u)
    ub = np.multiply(-beta, log_u)
    np.exp(ub, out=ub)  # u^-β
    gain = np.subtract(1.0, ub)
    gain *= x["w"]
    return z, u, ub, log_u, gain.sum(axis=-1)


def _chunked(fn):
    """Evaluate fn over slices of the leading parameter axis when parameters × points × blocks is large (a
    prediction with thousands of bootstrap draws), so memory stays bounded."""
    def wrapped(x, p):
        rows = [np.shape(v)[0] for v in p.values() if np.ndim(v) == 2]  # (K, 1) parameters; fixed ones are scalars
        k, per = (max(rows) if rows else 1), int(np.prod(np.shape(x["w"])))
        if k * per <= CHUNK or np.ndim(x["w"]) != 2 or any(np.ndim(v) > 2 for v in p.values()):
            return fn(x, p)
        step = max(1, CHUNK // per)
        return _joined([fn(x, {kk: v[i:i + step] if np.ndim(v) == 2 else v for kk, v in p.items()})
                        for i in range(0, k, step)])
    return wrapped


def _joined(parts):
    """The slices' results as one: arrays joined along the parameter axis, dicts and tuples member by member, a
    scalar (a constant column) as it is."""
    first = parts[0]
    if isinstance(first, dict):
        return {k: _joined([q[k] for q in parts]) for k in first}
    if isinstance(first, tuple):
        return tuple(_joined([q[i] for q in parts]) for i in range(len(first)))
    return first if np.ndim(first) == 0 else np.concatenate(parts)


@_chunked
def multipower(x, p):
    drop = _drop_terms(x, p)[-1]
    return p["L0"] + p["A"] * np.exp(-p["alpha"] * np.log(x["S1"])) - p["B"] * drop


@_chunked
def multipower_terms(x, p):
    """The law as offset + L0·1 + A·S1^-α + B·(-drop): one annealing sum gives the columns of all three linear
    parameters (each column the same arithmetic as in `multipower`, so the sum is the same to the last bit)."""
    drop = _drop_terms(x, p)[-1]
    return 0.0, {"L0": 1.0, "A": np.exp(-p["alpha"] * np.log(x["S1"])), "B": -drop}


@_chunked
def multipower_value_grad(x, p):
    """The prediction and its derivatives from one annealing sum (the prediction as `multipower` computes it)."""
    log_s = np.log(x["S1"])
    t = np.exp(-p["alpha"] * log_s)
    z, u, ub, log_u, drop = _drop_terms(x, p)
    B, C, beta = _col(p["B"]), _col(p["C"]), _col(p["beta"])
    w = x["w"]
    dG_du = np.multiply(beta, ub)
    dG_du /= u  # d(1 - u^-β)/du
    # each sum's product in the order of w·dG_du·z, w·u^-β·log u and B·w·dG_du·C·z·log η, in two reused buffers
    a = np.multiply(w, dG_du)
    a *= z
    d_c = a.sum(axis=-1)
    np.multiply(w, ub, out=a)
    a *= log_u
    d_beta = a.sum(axis=-1)
    b = np.empty(np.broadcast_shapes(np.shape(B), w.shape, dG_du.shape, np.shape(C), z.shape, x["leta"].shape))
    np.multiply(B, w, out=b)  # (B may be a held scalar: the buffer has the full shape from the start)
    b *= dG_du
    b *= C
    b *= z
    b *= x["leta"]
    d_gamma = b.sum(axis=-1)
    # a fixed parameter is a scalar (laws/fixed.py): every column takes the shape of the free ones' rows
    shape = np.broadcast_shapes(np.shape(t), np.shape(drop), np.shape(p["L0"]))

    def full(v):
        return np.broadcast_to(v, shape)

    return p["L0"] + p["A"] * t - p["B"] * drop, {
        "L0": full(1.0), "A": full(t), "alpha": full(-p["A"] * t * log_s), "B": full(-drop),
        "C": full(-p["B"] * d_c), "beta": full(-p["B"] * d_beta), "gamma": full(d_gamma),
    }


multipower_grad = sharing(multipower_value_grad)


_MULTIPOWER_PARAMS = (
    Param("L0", POS, (0.5, 5.0), doc="loss after infinite forward area"),
    Param("A", POS, (0.05, 10.0), log_start=True, doc="scale of the forward-area term"),
    Param("alpha", POS, (0.05, 1.5), doc="forward-area exponent"),
    Param("B", POS, (1.0, 1e4), log_start=True, doc="loss drop per unit of learning-rate decay, when complete"),
    Param("C", POS, (0.01, 100.0), log_start=True, doc="speed at which a decay's loss drop is realised"),
    Param("beta", POS, (0.1, 1.5), doc="power of the drop's saturation"),
    Param("gamma", POS, (0.1, 1.5), doc="how a lower learning rate slows the drop"),
)

MULTIPOWER = CurveLaw(
    name="multipower",
    formula="L = L0 + A·S1^(-alpha) - B·Σ_k (η_(k-1) - η_k)·(1 - (C·η_k^(-gamma)·S_k(t) + 1)^(-beta)),  "
            "S_k(t) = Σ_(τ=k..t) η_τ",
    inputs=dict(CURVE_INPUTS),
    params=_MULTIPOWER_PARAMS,
    fn=multipower, grad=multipower_grad, linear=("L0", "A", "B"), linear_terms=multipower_terms,
    features=partial(curve_features, drops=True), run_params=("L0", "A", "alpha"),
    anneal_params=("B", "C", "beta", "gamma"),
    reference="Luo et al. 2025, 'A Multi-Power Law for Loss Curve Prediction Across Learning Rate Schedules', "
              "arXiv:2503.12811 (ICLR 2025)",
    notes="Needs run, step and lr per row. The annealing sum is compressed to 48 blocks per run (within 3e-4 nats "
          "of the exact sum on the bundled schedules).",
)


# -- lr_annealing_nd: the momentum law across model sizes ----------------------------------------------------------
def lr_annealing_nd(x, p):
    log_n, log_s = np.log(x["N"]), np.log(x["S1"])
    return (p["E"] + p["P"] * np.exp(-p["a"] * log_n) + p["A"] * np.exp(p["g"] * log_n - p["alpha"] * log_s)
            - p["C"] * np.exp(p["c"] * log_n) * x["S2"])


def lr_annealing_nd_grad(x, p):
    log_n, log_s = np.log(x["N"]), np.log(x["S1"])
    tn = np.exp(-p["a"] * log_n)
    ts = np.exp(p["g"] * log_n - p["alpha"] * log_s)
    tc = np.exp(p["c"] * log_n) * x["S2"]
    return {"E": 1.0, "P": tn, "a": -p["P"] * tn * log_n, "A": ts, "g": p["A"] * ts * log_n,
            "alpha": -p["A"] * ts * log_s, "C": -tc, "c": -p["C"] * tc * log_n}


LR_ANNEALING_ND = CurveLaw(
    name="lr_annealing_nd",
    formula="L = E + P·N^(-a) + A·N^g·S1^(-alpha) - C·N^c·S2  (S1, S2 as in lr_annealing)",
    inputs={**CURVE_INPUTS, "N": "params"},
    params=(
        Param("E", POS, (0.5, 3.0), doc="irreducible loss"),
        Param("P", POS, (1.0, 1e4), log_start=True, doc="model-size term scale"),
        Param("a", POS, (0.05, 1.0), doc="model-size exponent"),
        Param("A", POS, (0.01, 100.0), log_start=True, doc="forward-area term scale"),
        Param("g", (-2.0, 2.0), (-0.3, 0.3), doc="how the forward-area term grows with N"),
        Param("alpha", POS, (0.05, 1.5), doc="forward-area exponent"),
        Param("C", POS, (1e-3, 100.0), log_start=True, doc="annealing term scale"),
        Param("c", (-2.0, 2.0), (-0.5, 0.5), doc="how the annealing gain grows with N"),
    ),
    fn=lr_annealing_nd, grad=lr_annealing_nd_grad, linear=("E", "P", "A", "C"),
    features=partial(curve_features, momentum=True, extra=("N",)), run_params=("E", "A", "alpha"),
    anneal_params=("C", "c"),
    reference="Tissue et al. 2024, arXiv:2408.11029, with the Chinchilla size term of Hoffmann et al. 2022 "
              "and size-dependent amplitudes; measured on the bundled ladder in docs/curves.md",
    notes="Needs run, step, lr and params per row; every size of the ladder at once. S1 counts steps, so runs of "
          "one fit should share a batch size. Needs at least three model sizes to pin the size term.",
)

SCHEDULE = replace(LR_ANNEALING, name="schedule",
                   notes="The default curve law, lr_annealing (Tissue et al. 2024): on the bundled Multi-Power Law "
                         "curves it predicts held-out schedules as well as multipower with 4 well-determined "
                         "parameters instead of 7 (docs/curves.md). " + LR_ANNEALING.notes)
