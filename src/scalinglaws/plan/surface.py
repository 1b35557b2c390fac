"""A fitted law as a loss surface L(N, D) for planning, evaluated for the point fit and every bootstrap draw at once.

Planning asks questions along the (N, D) plane: where on the line C = k·N·D is the loss lowest, how many tokens
does a model of size N need to reach a loss, and so on. `Surface` binds a fit's law to that plane:

- its inputs are given roles from the columns they were fitted on: params -> N, tokens -> D, flops -> C = k·N·D,
  unique_tokens -> U; any other input (a learning rate, say) must be held at a value the caller gives;
- its parameters are a (K, P) array: row 0 the point estimate, rows 1..K-1 the bootstrap draws, so every planned
  quantity is computed per draw and its interval is the percentile interval over draws (Efron & Tibshirani 1993,
  ch. 13); a planned loss is a forecast of a run not yet trained, so its interval is a prediction interval made
  as `Fit.predict` makes one (fitting/interval.py): the draws, the fit's residual scatter and the calibrated model
  error at the plan's extrapolation;
- optionally, for a law of N and D alone, data repetition is added the way Muennighoff et al. (2023, eqs. 5-6)
  do it: the law is evaluated at the effective data D' and effective parameters N' that U unique tokens allow.

C = k·N·D with k = 6 (forward and backward pass, Kaplan et al. 2020 §2.1) unless the caller says otherwise: N is
whatever the fit's `params` column counted, so the convention is the data's (see docs/planning.md).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import ExtrapolationWarning, ScalingLawsError
from ..fitting import space as spaces
from ..fitting.calibration import resolve
from ..fitting.data import point
from ..fitting.interval import check_level, interval
from ..fitting.prediction import EXTRAPOLATION_WARN
from ..runs.values import parse_number

FLOPS_PER_PARAM = 6.0  # training FLOP per parameter per token (forward 2, backward 4)
SERVE_FLOPS_PER_PARAM = 2.0  # inference FLOP per parameter per generated token: the forward pass only
TOKENS_PER_PARAM_BOUNDS = (1e-4, 1e6)  # where allocation searches look for an optimum
ROLES = {"params": "N", "tokens": "D", "flops": "C", "unique_tokens": "U"}
# Muennighoff et al. 2023 (Table/§5): the fitted decay constants of repeated data and of excess parameters.
MUENNIGHOFF_R_D = 15.4
MUENNIGHOFF_R_N = 5.3
CHINCHILLA_RATIO = 20.0  # tokens per parameter that define the "unique parameters" U_N (Muennighoff 2023, §3.1)


def effective_data(n, d, u, r_d: float, r_n: float):
    """Muennighoff et al. 2023, eqs. 5-6: (N', D') that U unique tokens make of N parameters and D tokens.

    D' = U + U·R_D·(1 - exp(-R/R_D)) with R = D/U - 1 repetitions; parameters beyond U_N = min(N, U/20) decay
    likewise with R_N. Arrays broadcast; r_d and r_n may be arrays of the same leading shape.
    """
    unique = np.minimum(d, u)
    d_eff = unique + unique * r_d * (1.0 - np.exp(-(d / unique - 1.0) / r_d))
    unique_n = np.minimum(n, unique / CHINCHILLA_RATIO)
    n_eff = unique_n + unique_n * r_n * (1.0 - np.exp(-(n / unique_n - 1.0) / r_n))
    return n_eff, d_eff


@dataclass(frozen=True)
class Surface:
    law: object  # the Law
    theta: np.ndarray  # (K, P): row 0 the point estimate, rows 1.. bootstrap draws
    roles: Mapping[str, str]  # law input symbol -> "N", "D", "C", "U" or "fixed"
    fixed: Mapping[str, float]  # law input symbol -> value, for "U" and "fixed" inputs
    flops_per_param: float = FLOPS_PER_PARAM
    ranges: Mapping[str, list] = field(default_factory=dict)  # "N", "D", "C" -> [lo, hi] of the fitted data
    level: float | None = None
    repetition: Mapping | None = None  # {"unique_tokens", "R_D", "R_N", "source"} when repetition is added
    residuals: tuple[float, ...] = ()  # the fit's, for the noise term of a planned loss's prediction interval
    space: str = "log"  # the fit's residual space
    seed: int = 0
    calibration: object = None  # a Calibration (fitting/calibration.py) or None: the model-error term

    @property
    def rows(self) -> int:
        return self.theta.shape[0]

    @property
    def has_draws(self) -> bool:
        return self.rows > 1

    @property
    def closed_form(self) -> bool:
        """Chinchilla's law of N and D alone: allocation and targets have closed forms (Hoffmann 2022, App. D)."""
        return (self.law.name == "chinchilla" and self.law.source is None and self.repetition is None
                and set(self.roles.values()) == {"N", "D"})

    def param(self, name: str) -> np.ndarray:
        """(K,) values of one law parameter across the point fit and the draws."""
        return self.theta[:, self.law.param_names.index(name)]

    def loss(self, n, d) -> np.ndarray:
        """Loss at N = n, D = d for every row: n, d broadcast against (K, m); returns (K, m)."""
        n = np.asarray(n, dtype=float)
        d = np.asarray(d, dtype=float)
        if self.repetition is not None:
            n, d = effective_data(n, d, self.repetition["unique_tokens"], self.repetition["R_D"],
                                  self.repetition["R_N"])
        x = {}
        for sym, role in self.roles.items():
            if role == "N":
                x[sym] = n
            elif role == "D":
                x[sym] = d
            elif role == "C":
                x[sym] = self.flops_per_param * n * d
            else:
                x[sym] = np.asarray(self.fixed[sym], dtype=float)
        with np.errstate(all="ignore"):
            out = self.law.fn(x, self.law.unpack(self.theta))
        return np.broadcast_to(out, np.broadcast_shapes(np.shape(out), (self.rows, 1)))

    # -- reporting ----------------------------------------------------------------------------------------------
    def _draws_of(self, values: np.ndarray) -> np.ndarray | None:
        """The finite values of the draws (rows 1..) of a per-row quantity; None without draws or a level."""
        if not self.has_draws or self.level is None:
            return None
        v = np.asarray(values, dtype=float)[1:]
        v = v[np.isfinite(v)]
        return v if v.size else None

    def interval(self, values: np.ndarray) -> list[float] | None:
        """Percentile interval over the draws (rows 1..) of a per-row quantity; None without draws."""
        v = self._draws_of(values)
        if v is None:
            return None
        q = np.quantile(v, [(1 - self.level) / 2, (1 + self.level) / 2])
        return [float(q[0]), float(q[1])]

    def predictive(self, values: np.ndarray, extrapolation: float = 1.0) -> list[float] | None:
        """Prediction interval of a planned loss (K,): where a run trained at the planned point will land, from the
        one interval maker, with the calibrated model error at `extrapolation`; None without draws."""
        v = self._draws_of(values)
        if v is None:
            return None
        made = interval(v[:, None], level=self.level, kind="prediction", residuals=self.residuals, space=self.space,
                        seed=self.seed, extrapolation=np.array([max(1.0, float(extrapolation))]),
                        calibration=self.calibration, parameters=f"bootstrap over runs ({v.size} draws)")
        lo, hi = float(made.lower[0]), float(made.upper[0])
        return [lo, hi] if np.isfinite(lo) and np.isfinite(hi) else None

    def intervals(self, extrapolation: float = 1.0, **quantities: np.ndarray) -> dict[str, list[float] | None] | None:
        """Intervals of planned quantities over the draws; `loss` (a forecast) gets a prediction interval at
        `extrapolation` (see `predictive`), the rest (choices and differences) percentile intervals."""
        if not self.has_draws:
            return None
        return {name: self.predictive(v, extrapolation) if name == "loss" else self.interval(v)
                for name, v in quantities.items()}

    def interval_method(self, extrapolation: float = 1.0) -> dict | None:
        """How `intervals` makes its intervals (None without draws): percentiles over the draws for planned
        choices, the one interval maker's prediction interval for a planned loss, with its model term here."""
        if not self.has_draws:
            return None
        from ..fitting.interval import model_term

        n = int(np.shape(self.theta)[0] - 1)
        _, _, model = model_term(self.calibration, 1, np.array([max(1.0, float(extrapolation))]),
                                 np.asarray(self.residuals, dtype=float), self.space)
        return {"level": self.level,
                "choices": {"kind": "confidence", "parameters": f"bootstrap over runs ({n} draws)",
                            "how": "each quantity computed per draw; percentile interval over the draws"},
                "loss": {"kind": "prediction", "parameters": f"bootstrap over runs ({n} draws)",
                         "noise": "resampled residuals of the fit", "model": model}}

    def extrapolation(self, n: float, d: float) -> float:
        """How far (N, D) lies outside the fitted data: the largest factor beyond the range of N, D or C; 1 inside."""
        factor = 1.0
        for key, v in (("N", n), ("D", d), ("C", self.flops_per_param * n * d)):
            lo, hi = self.ranges.get(key, (None, None))
            if lo is None or not (lo > 0 and hi > 0 and v > 0 and np.isfinite(v)):
                continue
            factor = max(factor, v / hi, lo / v)
        return float(factor)

    def check_extrapolation(self, n: float, d: float, what: str, notes: list[str]) -> float:
        """Record and warn when a planned point lies more than EXTRAPOLATION_WARN times beyond the data."""
        factor = self.extrapolation(n, d)
        if factor > EXTRAPOLATION_WARN:
            note = (f"{what} lies {factor:.3g}× beyond the range of the fitted runs (N = {n:.3g}, D = {d:.3g}): "
                    "treat it as a rough extrapolation")
            notes.append(note)
            warnings.warn(note, ExtrapolationWarning, stacklevel=4)
        return factor

    @property
    def data_assumption(self) -> str:
        """What the surface assumes about the data a planned run trains on, in words."""
        if self.repetition is not None:
            r = self.repetition
            return (f"{r['unique_tokens']:.3g} unique tokens, repeated as Muennighoff et al. 2023 discount them, "
                    f"R_D {r['R_D']:.3g} and R_N {r['R_N']:.3g}")
        u = [self.fixed[sym] for sym, role in self.roles.items() if role == "U" and np.isfinite(self.fixed[sym])]
        if u:
            return f"{u[0]:.3g} unique tokens, the law's own input"
        return "unlimited fresh data, no token repeated"

    @property
    def convention(self) -> str:
        return f"C = {self.flops_per_param:g}·N·D (N as counted in the fitted data)"


def as_surface(fit, *, level: float | None = None, flops_per_param: float = FLOPS_PER_PARAM,
               fixed: Mapping[str, float] | None = None, unique_tokens: float | None = None,
               repetition: Mapping[str, float] | None = None, calibration="default") -> Surface:
    """The Surface of a Fit. A Surface passes through, with unique tokens (and repetition constants) applied.

    calibration: the model-error term of planned losses' prediction intervals ("default", "none", a file or a
    Calibration; fitting/calibration.py)."""
    if isinstance(fit, Surface):
        return fit if unique_tokens is None else with_unique_tokens(fit, unique_tokens, repetition)
    if not (np.isfinite(flops_per_param) and flops_per_param > 0):
        raise ScalingLawsError(f"--flops-per-param must be a positive number (got {flops_per_param:g}); 6 counts "
                               "a forward and a backward pass")
    law = fit.get_law()
    if law.features is not None:
        raise ScalingLawsError(f"law '{law.name}' derives its inputs from whole training curves; planning needs a "
                               "law of final loss in params and tokens (e.g. chinchilla)")
    fixed_cols = dict(fixed or {})
    roles: dict[str, str] = {}
    values: dict[str, float] = {}
    for sym, col in fit.inputs.items():
        role = ROLES.get(col, "fixed")
        roles[sym] = role
        if role == "U":
            values[sym] = float(np.inf if unique_tokens is None else unique_tokens)
        elif role == "fixed":
            if col not in fixed_cols:
                raise ScalingLawsError(f"law '{law.name}' also reads column '{col}'; planning holds it fixed: give "
                                       f"its value, e.g. --at {col}=VALUE")
            values[sym] = float(fixed_cols.pop(col))
    if "N" not in roles.values() or "D" not in roles.values():
        bound = ", ".join(f"{s}={c}" for s, c in fit.inputs.items())
        raise ScalingLawsError(f"planning splits compute between parameters and tokens, so it needs a law of both "
                               f"params and tokens; this fit's law '{law.name}' reads {bound}. Fit e.g. --law "
                               "chinchilla")
    if fixed_cols:
        raise ScalingLawsError(f"--at {next(iter(fixed_cols))}: the fit's law does not read that column (it reads "
                               f"{', '.join(fit.inputs.values())})")
    theta, used_level = draws(fit, level)
    ranges = {}
    for sym, col in fit.inputs.items():
        if roles[sym] in ("N", "D", "C") and col in fit.data.get("ranges", {}):
            ranges[roles[sym]] = list(fit.data["ranges"][col])
    surface = Surface(law=law, theta=theta, roles=roles, fixed=values, flops_per_param=float(flops_per_param),
                      ranges=ranges, level=used_level, residuals=tuple(fit.residuals), space=spaces.of(fit.loss),
                      seed=int(fit.seed), calibration=resolve(calibration))
    return surface if unique_tokens is None else with_unique_tokens(surface, unique_tokens, repetition)


def draws(fit, level: float | None = None) -> tuple[np.ndarray, float | None]:
    """(theta (K, P): the point fit then its bootstrap draws, the level of their intervals or None without draws)."""
    theta = point(fit)[None]
    if fit.bootstrap is None:
        return theta, None
    return (np.vstack([theta, fit.bootstrap.array()]),
            check_level(fit.bootstrap.level if level is None else level))


def with_unique_tokens(surface: Surface, unique_tokens: float, repetition: Mapping[str, float] | None = None
                       ) -> Surface:
    """The surface with U unique tokens: the law's own U input if it has one, else Muennighoff's effective data."""
    if not (np.isfinite(unique_tokens) and unique_tokens > 0):
        raise ScalingLawsError(f"--unique-tokens must be a positive number of tokens (got {unique_tokens:g})")
    u_syms = [sym for sym, role in surface.roles.items() if role == "U"]
    if u_syms:
        return replace(surface, fixed={**surface.fixed, **{sym: float(unique_tokens) for sym in u_syms}})
    r = dict(repetition or {})
    rep = {"unique_tokens": float(unique_tokens), "R_D": float(r.get("R_D", MUENNIGHOFF_R_D)),
           "R_N": float(r.get("R_N", MUENNIGHOFF_R_N)),
           "source": "given" if r else "Muennighoff et al. 2023 (R_D = 15.4, R_N = 5.3)"}
    return replace(surface, repetition=rep)


def unconstrained(surface: Surface) -> Surface:
    """The same surface with unlimited fresh data: no repetition, U = infinity."""
    return replace(surface, repetition=None,
                   fixed={sym: (np.inf if surface.roles[sym] == "U" else v) for sym, v in surface.fixed.items()})


def log_bounds_for_budget(flops: float, k: float) -> tuple[float, float]:
    """The log N bracket of allocation searches at budget C: tokens per parameter within TOKENS_PER_PARAM_BOUNDS."""
    lo_r, hi_r = TOKENS_PER_PARAM_BOUNDS
    return 0.5 * np.log(flops / (k * hi_r)), 0.5 * np.log(flops / (k * lo_r))


def positive(value, option: str, example: str) -> float:
    """A positive, finite number or a one-line error naming the option."""
    try:
        v = parse_number(value)
    except (TypeError, ValueError):
        raise ScalingLawsError(f"{option} must be a number (got {value!r}), e.g. {option} {example}") from None
    if not (np.isfinite(v) and v > 0):
        raise ScalingLawsError(f"{option} must be positive (got {v:g}), e.g. {option} {example}")
    return v
