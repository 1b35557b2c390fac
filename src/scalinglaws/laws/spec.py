"""What a law is: a pure function plus a declarative spec.

A law function maps inputs and named parameters to predictions, `fn(x, p) -> array`, where `x` maps input symbols
(N, D, ...) to arrays of shape (n,) and `p` maps parameter names to arrays that broadcast against them, typically
(K, 1) for K parameter vectors at once. It uses only numpy arithmetic, so it broadcasts over any leading axes of
the parameters; that is how many starts, many bootstrap draws and complex-step derivatives all run as array axes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

LawFn = Callable[[Mapping[str, np.ndarray], Mapping[str, np.ndarray]], np.ndarray]
GradFn = Callable[[Mapping[str, np.ndarray], Mapping[str, np.ndarray]], Mapping[str, np.ndarray]]

INF = math.inf


@dataclass(frozen=True)
class Param:
    """One parameter: its bounds, where multi-start draws its starting values, and what it means."""

    name: str
    bounds: tuple[float, float] = (-INF, INF)
    start: tuple[float, float] = (0.0, 1.0)
    log_start: bool = False  # draw starts log-uniformly (scale parameters spanning decades)
    start_from: str | None = None  # draw starts log-uniformly over the data range of this input instead
    doc: str = ""

    def __post_init__(self) -> None:
        lo, hi = self.bounds
        if not lo < hi:
            raise ValueError(f"parameter {self.name}: lower bound {lo} must be below upper bound {hi}")
        if self.log_start and self.start[0] <= 0:
            raise ValueError(f"parameter {self.name}: log_start needs a positive start range")


@dataclass(frozen=True)
class Law:
    """A scaling law: `fn` plus everything the engine and the docs need to know about it."""

    name: str
    formula: str  # for people: "L = E + A·N^-α + B·D^-β"
    inputs: Mapping[str, str]  # input symbol -> default runs-table column, e.g. {"N": "params"}
    params: tuple[Param, ...]
    fn: LawFn
    grad: GradFn | None = None  # optional analytic ∂fn/∂param; else complex-step derivatives
    linear: tuple[str, ...] = ()  # parameters fn is jointly affine in: solved by variable projection for starts
    # Optional: the affine structure in one evaluation, linear_terms(x, p) -> (offset, {name: column}) with
    # fn = offset + Σ p[name]·column over `linear`, offset and columns free of the linear parameters. Variable
    # projection then evaluates the costly nonlinear part once per start instead of len(linear) + 2 times (the
    # Multi-Power Law's annealing sum); without it, it takes the columns by evaluating fn with each set to 1.
    linear_terms: Callable | None = field(default=None, compare=False)
    reference: str = ""
    notes: str = ""
    target: str = "loss"
    complex_step: bool = True  # fn is analytic in its parameters (no abs, min, max, where on them)
    source: Mapping | None = field(default=None, compare=False)  # how to rebuild it (formula laws), for fit files
    # Inputs derived from the whole runs table rather than read column by column (e.g. a training curve's
    # cumulative learning rate, which needs every step of the run): features(runs, binding) -> {symbol: array}.
    # `inputs` then lists the columns it reads. Predictions go through the same function.
    features: Callable | None = field(default=None, compare=False)
    # Data-driven starting points, init(x, y) -> (k, P) parameter vectors, added to the random design.
    init: Callable | None = field(default=None, compare=False)
    # The early-transient rule a fit of this law applies when the caller names none (transient.py): curve laws
    # leave out the warm-up; laws of final points keep every row.
    transient: str = "none"
    # A column whose groups the bootstrap resamples runs within (grouped.py: every group keeps its own runs).
    strata: str | None = None
    # The residual space (fitting/space.py) a fit of this law uses when the caller leaves the space at its default:
    # "linear" for a target that is negative by construction (a unigram-normalised loss), where log space has no
    # meaning. An explicit space other than the default still wins.
    space: str = "log"

    def __post_init__(self) -> None:
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"law {self.name}: parameter names repeat: {names}")
        unknown = set(self.linear) - set(names)
        if unknown:
            raise ValueError(f"law {self.name}: linear names {sorted(unknown)} are not parameters")
        clash = set(names) & set(self.inputs)
        if clash:
            raise ValueError(f"law {self.name}: {sorted(clash)} are both inputs and parameters")

    @property
    def param_names(self) -> list[str]:
        return [p.name for p in self.params]

    @property
    def n_params(self) -> int:
        return len(self.params)

    def transient_rows(self, runs, rule, binding: Mapping[str, str]) -> tuple[np.ndarray, str]:
        """Which rows of `runs` a fit keeps under an early-transient `rule` ('auto' means this law's own rule):
        (keep (n,) booleans, a note saying what was left out)."""
        from .transient import transient_mask

        return transient_mask(runs, self.transient if rule is None else rule, binding, default=self.transient)

    def unpack(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """(..., P) parameter array -> {name: (..., 1)} ready to broadcast against (n,) inputs."""
        return {p.name: theta[..., j, None] for j, p in enumerate(self.params)}

    def __call__(self, x: Mapping[str, np.ndarray], theta) -> np.ndarray:
        """Predictions for (..., P) parameters (or a name -> value mapping) at inputs x: shape (..., n)."""
        if isinstance(theta, Mapping):
            theta = np.array([float(theta[n]) for n in self.param_names])
        return self.fn(x, self.unpack(np.asarray(theta, dtype=float)))


def sharing(value_grad: Callable) -> GradFn:
    """A law's `grad` made from value_grad(x, p) -> (prediction, {name: ∂prediction/∂name}), a function that finds
    both in one pass because the derivatives reuse the prediction's terms. predict_with_jacobian then calls it once
    instead of fn and grad in turn. Its prediction must be fn's to the bit (the same operations in the same order):
    objective values computed from fn and from the pair then agree exactly."""

    def grad(x, p):
        return value_grad(x, p)[1]

    grad.with_value = value_grad
    return grad


def predict_with_jacobian(law: Law, x: Mapping[str, np.ndarray], theta: np.ndarray):
    """Predictions f (K, n) and their Jacobian ∂f/∂θ for K parameter vectors theta (K, P).

    The Jacobian is one (K, P, n) array: slice [:, j] is ∂f/∂θ_j.

    Analytic when the law provides `grad`; otherwise by complex step (Squire & Trapp 1998), exact to machine
    precision for analytic functions at the cost of P complex evaluations; central differences as a last resort.
    """
    K, P = theta.shape
    if law.grad is not None:
        p = law.unpack(theta)
        both = getattr(law.grad, "with_value", None)
        f, g = both(x, p) if both is not None else (law.fn(x, p), law.grad(x, p))
        # one array filled in place: a grad's constants (∂/∂E = 1) and (K, 1) columns broadcast on assignment
        jac = np.empty((f.shape[0], P) + f.shape[1:], dtype=np.result_type(f, *(g[n] for n in law.param_names)))
        for j, name in enumerate(law.param_names):
            jac[:, j] = g[name]
        return f, jac
    # per-row inputs (K, n) gain an axis to line up with the perturbed parameters (K, P, 1)
    xp = {k: (v[:, None, :] if np.ndim(v) == 2 else v) for k, v in x.items()}
    if law.complex_step:
        h = 1e-20
        tc = theta[:, None, :] + 1j * h * np.eye(P)[None]  # (K, P, P): row j perturbs parameter j
        with np.errstate(all="ignore"):
            out = law.fn(xp, law.unpack(tc))  # (K, P, n)
        out = np.broadcast_to(out, (K, P) + np.shape(out)[2:])
        return out[:, 0, :].real.copy(), out.imag / h
    step = 1e-6 * np.maximum(1.0, np.abs(theta))  # (K, P)
    tp = theta[:, None, :] + np.eye(P)[None] * step[:, :, None]
    tm = theta[:, None, :] - np.eye(P)[None] * step[:, :, None]
    with np.errstate(all="ignore"):
        fp, fm = law.fn(xp, law.unpack(tp)), law.fn(xp, law.unpack(tm))
        f = law.fn(x, law.unpack(theta))
    return f, (fp - fm) / (2 * step[:, :, None])
