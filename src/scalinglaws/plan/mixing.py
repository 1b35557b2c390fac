"""Which training mixture to use: the proportions on the simplex that minimise a loss, under a limit on another.

Two fitted laws speak of mixtures:

- the data mixing law of Ye et al. 2024 (laws/mixing.py), one loss per domain against the proportions of M domains,
  every domain's loss fitted at once (`fit_targets`): `plan_mixture(fit, minimise=..., limits=...)`;
- the D-CPT law of Que et al. 2024 (laws/dcpt.py), one fit for the domain loss and one for the general loss, each
  reading the share of its own corpus, at a model size N and a number of tokens D:
  `plan_dcpt_ratio(domain_fit, general_fit, params=N, tokens=D, general_limit=...)`. Que et al. (2024, Section
  4.2) choose the domain share this way: as much domain data as the general loss allows.

Both become the same problem: T predicted losses L_t(r) of proportions r (M,), minimise Σ_t w_t·L_t(r) subject to
Σ_j r_j = 1, lo_j ≤ r_j ≤ hi_j and L_s(r) ≤ limit_s for the limited losses s. It is solved by SLSQP (Kraft 1988,
scipy.optimize) over r_1 ... r_{M-1}, r_M = 1 − their sum, so every point it tries lies on the simplex; the start
is the best of a set of mixtures spread over the search box (a grid for two domains, seeded Dirichlet draws
beyond), which keeps a non-convex loss from trapping it.

The search box is, by default, the range of every proportion in the fitted runs (`span="fitted"`): a mixture law
says little about shares it never saw. `span="simplex"` searches [0, 1].

Intervals: the problem is solved again under every bootstrap draw of the fit(s) (draw b of the domain fit with draw
b of the general fit); the chosen proportions and each draw's losses at its own choice give percentile intervals
over the draws (the one interval maker, kind "confidence": where the law's optimum lies, not where one run lands).
A draw under which no mixture meets the limits is left out, and the record says how many were.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import ScalingLawsError
from ..records import format_of
from ..render.table import Tabular

SPANS = ("fitted", "simplex")
FEASIBLE = 1e-7  # how far above its limit a loss may lie at a solution (SLSQP's constraint tolerance)


@dataclass(frozen=True, repr=False)
class MixturePlan(Tabular):
    law: str
    domains: tuple[str, ...]  # the proportions, in order
    proportions: dict  # domain -> share at the plan
    losses: dict  # target -> predicted loss at the plan
    objective: dict  # target -> weight of the minimised sum
    limits: dict  # target -> the loss it must not exceed
    active: tuple[str, ...]  # the limits that bind at the plan
    span: dict  # domain -> [lo, hi] searched
    at: dict  # what else the losses were evaluated at (D-CPT: params, tokens)
    intervals: dict | None  # {"proportions": {domain: [lo, hi]}, "losses": {target: [lo, hi]}}
    level: float | None
    interval_method: dict | None
    draws_feasible: int | None  # bootstrap draws under which a mixture meets the limits
    draws: int | None
    table: tuple = ()  # one row per quantity: {"quantity", "value", "lower", "upper"}
    warnings: tuple[str, ...] = ()
    _rows = "table"

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        return {"format": format_of("mixture_plan"), **d, "domains": list(self.domains), "active": list(self.active),
                "table": [dict(r) for r in self.table], "warnings": list(self.warnings)}


@dataclass(frozen=True)
class _Losses:
    """T losses of M proportions for K parameter rows: `of(R (S, M), k) -> (S, T)` at parameter row k."""

    law: str
    domains: tuple[str, ...]
    targets: tuple[str, ...]
    rows: int  # K: the point fit (row 0) and the bootstrap draws
    level: float | None
    of: Callable[[np.ndarray, int], np.ndarray]
    fitted: dict  # domain -> [lo, hi] of its share in the fitted runs
    at: dict


def plan_mixture(fit, *, minimise, limits: Mapping[str, float] | None = None, span: str = "fitted",
                 level: float | None = None, seed: int | None = None) -> MixturePlan:
    """The proportions that minimise `minimise` under a fit of the data mixing law (Ye et al. 2024).

    minimise: a target (one domain's loss column) or {target: weight} for a weighted sum of losses. limits:
    {target: loss it must not exceed}. span: search the fitted range of every proportion, or the whole simplex."""
    return _plan(_ye_losses(fit, level), minimise, limits, span, int(fit.seed if seed is None else seed))


def plan_dcpt_ratio(domain_fit, general_fit, *, params: float, tokens: float, general_limit: float | None = None,
                    minimise="domain", span: str = "fitted", level: float | None = None) -> MixturePlan:
    """The domain share of a continual pre-training mixture under two D-CPT fits (Que et al. 2024), at model size
    `params` and `tokens` tokens: the lowest domain loss (or `minimise`: "general", {"domain": w, "general": v})
    with the general loss at most `general_limit`."""
    model = _dcpt_losses(domain_fit, general_fit, params, tokens, level)
    limits = None if general_limit is None else {"general": general_limit}
    return _plan(model, minimise, limits, span, int(domain_fit.seed))


# -- the two laws as losses of proportions --------------------------------------------------------------------------
def _base_name(fit) -> str:
    """The registered law under a fit's grouping and fixed parameters: 'dcpt' for dcpt with A = 0."""
    name, src = fit.law, fit.law_source or {}
    while src.get("kind") in ("grouped", "fixed"):
        name, src = src["base"], src.get("base_source") or {}
    return name


def _ye_losses(fit, level) -> _Losses:
    from ..fitting.data import law_inputs
    from ..runs import Runs
    from .surface import draws

    if not _base_name(fit).startswith("data_mixing"):
        raise ScalingLawsError(f"planning a mixture needs a fit of the data mixing law (--law data_mixing); this fit's "
                               f"law is '{fit.law}'. For D-CPT fits use plan_dcpt_ratio (`mix --domain-fit`)")
    law = fit.get_law()
    src = fit.law_source or {}
    syms = sorted((s for s in fit.inputs if re.fullmatch(r"r\d+", s)), key=lambda s: int(s[1:]))
    domains = tuple(fit.inputs[s] for s in syms)
    by = src.get("by") if src.get("kind") == "grouped" else None
    targets = tuple(src["groups"]) if by else (fit.target,)
    theta, used = draws(fit, level)
    templates: dict[int, dict] = {}

    def of(R, k):
        S, T = R.shape[0], len(targets)
        if S not in templates:  # the law's inputs at S mixtures × T targets, proportions filled in per call
            cols = {c: np.full(S * T, 1.0 / len(domains)) for c in domains}
            if by:
                cols[by] = np.tile(np.asarray(targets, dtype=object), S).astype(str)
            templates[S] = law_inputs(law, Runs(cols), fit.inputs)
        x = dict(templates[S])
        for j, s in enumerate(syms):
            x[s] = np.repeat(R[:, j], T)
        with np.errstate(all="ignore"):
            return np.asarray(law(x, theta[k:k + 1]), dtype=float).reshape(S, T)

    ranges = fit.data.get("ranges", {})
    fitted = {c: [float(v) for v in ranges.get(c, (0.0, 1.0))[:2]] for c in domains}
    return _Losses(law=fit.law, domains=domains, targets=targets, rows=theta.shape[0], level=used, of=of,
                   fitted=fitted, at={})


def _dcpt_losses(domain_fit, general_fit, params, tokens, level) -> _Losses:
    from .surface import draws, positive

    N = positive(params, "--params", "4.2e9")
    D = positive(tokens, "--tokens", "84e9")
    fits = {"domain": domain_fit, "general": general_fit}
    for role, f in fits.items():
        if _base_name(f) != "dcpt":
            raise ScalingLawsError(f"the {role} fit's law is '{f.law}': a D-CPT ratio plan needs two fits of law dcpt "
                                   "(one of the domain loss, one of the general loss)")
    laws = {role: f.get_law() for role, f in fits.items()}
    thetas, levels = {}, []
    for role, f in fits.items():
        thetas[role], lv = draws(f, level)
        levels.append(lv)
    K = min(t.shape[0] for t in thetas.values())  # draw b of one fit beside draw b of the other
    used = None if K < 2 or None in levels else levels[0]

    def of(R, k):
        S = R.shape[0]
        out = np.empty((S, 2))
        for t, (role, own) in enumerate((("domain", R[:, 0]), ("general", R[:, 1]))):
            x = {"N": np.full(S, N), "D": np.full(S, D), "r": own}  # r: the share of the loss's own corpus
            with np.errstate(all="ignore"):
                out[:, t] = np.asarray(laws[role](x, thetas[role][k:k + 1]), dtype=float).reshape(S)
        return out

    def share(f):
        lo, hi = (f.data.get("ranges", {}).get(f.inputs["r"]) or (0.0, 1.0))[:2]
        return float(lo), float(hi)

    d_lo, d_hi = share(domain_fit)
    g_lo, g_hi = share(general_fit)
    fitted = {"domain": [max(d_lo, 1 - g_hi), min(d_hi, 1 - g_lo)],
              "general": [max(g_lo, 1 - d_hi), min(g_hi, 1 - d_lo)]}
    return _Losses(law="dcpt", domains=("domain", "general"), targets=("domain", "general"), rows=K, level=used,
                   of=of, fitted=fitted, at={"params": N, "tokens": D})


# -- the problem, solved for the point fit and every draw ------------------------------------------------------------
def _weights(minimise, targets) -> np.ndarray:
    spec = {minimise: 1.0} if isinstance(minimise, str) else dict(minimise)
    unknown = [t for t in spec if t not in targets]
    if unknown or not spec:
        raise ScalingLawsError(f"minimise {unknown[0] if unknown else spec!r}: not a loss the fit predicts (it "
                               f"predicts {', '.join(targets)}); name one, or weigh several, e.g. "
                               f"{targets[0]}=0.5,{targets[-1]}=0.5")
    w = np.array([float(spec.get(t, 0.0)) for t in targets])
    if not (np.all(np.isfinite(w)) and np.all(w >= 0) and w.sum() > 0):
        raise ScalingLawsError(f"minimise: the weights must be non-negative and not all zero (got {spec})")
    return w


def _box(model: _Losses, span: str) -> tuple[np.ndarray, np.ndarray]:
    if span not in SPANS:
        raise ScalingLawsError(f"span must be one of {', '.join(SPANS)} (got {span!r})")
    M = len(model.domains)
    if span == "simplex":
        return np.zeros(M), np.ones(M)
    lo = np.array([model.fitted[d][0] for d in model.domains])
    hi = np.array([model.fitted[d][1] for d in model.domains])
    if lo.sum() > 1 + 1e-9 or hi.sum() < 1 - 1e-9 or np.any(lo > hi):
        raise ScalingLawsError("the fitted ranges of the proportions hold no mixture that sums to one; search the "
                               "whole simplex (span='simplex', --simplex)")
    return lo, hi


def _starts(lo, hi, seed: int) -> np.ndarray:
    """(S, M) mixtures on the simplex within [lo, hi]: a grid for two domains, seeded Dirichlet draws beyond."""
    if lo.size == 2:
        a = np.linspace(max(lo[0], 1 - hi[1]), min(hi[0], 1 - lo[1]), 41)
        return np.stack([a, 1 - a], axis=1)
    R = np.random.default_rng(seed).dirichlet(np.ones(lo.size), 4096)
    R = R[np.all((R >= lo) & (R <= hi), axis=1)][:256]
    centre = np.clip(np.full(lo.size, 1 / lo.size), lo, hi)
    centre = centre / centre.sum()
    return np.vstack([centre[None], R]) if R.size else centre[None]


def _solve(model: _Losses, k: int, w, limited, caps, lo, hi, R0) -> tuple[np.ndarray | None, float]:
    """(the best mixture (M,) under parameter row k, or None when no mixture meets the limits; the least excess of
    the limited losses over their limits, 0 when met). When no start meets the limits, a first SLSQP run looks for
    a mixture that does (least total excess), and the second starts from it."""
    from scipy.optimize import minimize

    def full(y):
        return np.append(y, 1.0 - np.sum(y))

    def losses(y):
        return model.of(full(y)[None], k)[0]

    def excess_of(L):
        return float(np.maximum(L[..., limited] - caps, 0.0).sum(axis=-1)) if limited.size else 0.0

    def meets(r, L):
        return (np.all(np.isfinite(L)) and excess_of(L) <= FEASIBLE and lo[-1] - 1e-9 <= r[-1] <= hi[-1] + 1e-9)

    bounds = list(zip(lo[:-1], hi[:-1]))
    simplex = {"type": "ineq", "fun": lambda y: np.array([1.0 - np.sum(y) - lo[-1], hi[-1] - 1.0 + np.sum(y)])}
    options = {"ftol": 1e-12, "maxiter": 300}
    L = model.of(R0, k)  # (S, T)
    excess = np.maximum(L[:, limited] - caps, 0.0).sum(axis=1) if limited.size else np.zeros(len(R0))
    excess = np.where(np.all(np.isfinite(L), axis=1), excess, np.inf)
    ok = excess <= FEASIBLE
    if ok.any():
        best = int(np.argmin(np.where(ok, L @ w, np.inf)))
        start, start_value = R0[best].copy(), float(L[best] @ w)
    else:
        res = minimize(lambda y: excess_of(losses(y)), R0[int(np.argmin(excess)), :-1], method="SLSQP",
                       bounds=bounds, constraints=[simplex], options=options)
        start = full(np.clip(res.x, lo[:-1], hi[:-1]))
        Ls = model.of(start[None], k)[0]
        if not meets(start, Ls):
            return None, min(excess_of(Ls) if np.all(np.isfinite(Ls)) else np.inf, float(np.min(excess)))
        start_value = float(Ls @ w)
    cons = [simplex] + ([{"type": "ineq", "fun": lambda y: caps - losses(y)[limited]}] if limited.size else [])
    res = minimize(lambda y: float(losses(y) @ w), start[:-1], method="SLSQP", bounds=bounds, constraints=cons,
                   options=options)
    r = full(np.clip(res.x, lo[:-1], hi[:-1]))
    Lr = model.of(r[None], k)[0]
    if meets(r, Lr) and Lr @ w <= start_value + 1e-12:
        return r, 0.0
    return start, 0.0  # SLSQP did not improve on its start, which meets the limits: keep it


def _plan(model: _Losses, minimise, limits, span, seed) -> MixturePlan:
    from ..fitting.interval import interval

    targets = model.targets
    w = _weights(minimise, targets)
    limits = dict(limits or {})
    unknown = [t for t in limits if t not in targets]
    if unknown:
        raise ScalingLawsError(f"limit {unknown[0]}: not a loss the fit predicts (it predicts {', '.join(targets)})")
    for t, v in limits.items():
        if not (isinstance(v, (int, float)) and np.isfinite(v)):
            raise ScalingLawsError(f"limit {t}={v!r}: give the loss it must not exceed as a number, e.g. {t}=2.5")
    limited = np.array([targets.index(t) for t in limits], dtype=int)
    caps = np.array([float(limits[t]) for t in limits])
    lo, hi = _box(model, span)
    R0 = _starts(lo, hi, seed)
    r0, _ = _solve(model, 0, w, limited, caps, lo, hi, R0)
    if r0 is None:
        L = model.of(R0, 0)
        names = ", ".join(f"{t} {np.nanmin(L[:, targets.index(t)]):.4g}" for t in limits)
        raise ScalingLawsError(f"no mixture with proportions in the {span} span meets the limits "
                               f"({', '.join(f'{t} <= {v:g}' for t, v in limits.items())}): the lowest each limited "
                               f"loss reaches there is {names}. Raise the limit"
                               + (", or search the whole simplex (--simplex)" if span == "fitted" else ""))
    L0 = model.of(r0[None], 0)[0]
    active = tuple(t for t, c in zip(limits, caps) if L0[targets.index(t)] >= c - 1e-6 * max(1.0, abs(c)))
    notes = []
    for j, d in enumerate(model.domains):
        a, b = model.fitted[d]
        if not (a - 1e-9 <= r0[j] <= b + 1e-9):
            notes.append(f"the plan's share of {d} ({r0[j]:.3g}) lies outside the fitted runs' [{a:.3g}, {b:.3g}]: "
                         "an extrapolation of the mixture law")
    edge = [d for j, d in enumerate(model.domains) if min(r0[j] - lo[j], hi[j] - r0[j]) < 1e-6 and lo[j] < hi[j]]
    if edge and not active:
        notes.append(f"the plan sits at the edge of the searched span ({', '.join(edge)}): the loss would fall "
                     "further beyond it" + (" (search the whole simplex with --simplex)" if span == "fitted" else ""))
    intervals = method = None
    feasible = None
    if model.rows > 1 and model.level is not None:
        M, T = len(model.domains), len(targets)
        out = np.full((model.rows - 1, M + T), np.nan)
        for k in range(1, model.rows):
            r, _ = _solve(model, k, w, limited, caps, lo, hi, R0)
            if r is not None:
                out[k - 1] = np.concatenate([r, model.of(r[None], k)[0]])
        good = np.all(np.isfinite(out), axis=1)
        feasible = int(good.sum())
        if feasible >= 2:
            iv = interval(out[good], level=model.level, kind="confidence",
                          parameters=f"bootstrap over runs ({feasible} draws that meet the limits)")
            pairs = [[float(a), float(b)] for a, b in zip(iv.lower, iv.upper)]
            intervals = {"proportions": dict(zip(model.domains, pairs[:M])), "losses": dict(zip(targets, pairs[M:]))}
            method = {**dict(iv.method), "how": "the plan solved again under every draw; percentiles over the draws"}
        if feasible < model.rows - 1:
            notes.append(f"under {model.rows - 1 - feasible} of {model.rows - 1} bootstrap draws no mixture meets the "
                         "limits; the intervals are of the others")
    proportions = {d: float(v) for d, v in zip(model.domains, r0)}
    losses = {t: float(v) for t, v in zip(targets, L0)}
    rows = []
    for kind, values in (("proportions", proportions), ("losses", losses)):
        for name, v in values.items():
            iv = (intervals or {}).get(kind, {}).get(name)
            rows.append({"quantity": f"{'share of ' if kind == 'proportions' else 'loss '}{name}", "value": v,
                         "lower": None if iv is None else iv[0], "upper": None if iv is None else iv[1]})
    return MixturePlan(law=model.law, domains=model.domains, proportions=proportions, losses=losses,
                       objective={t: float(v) for t, v in zip(targets, w) if v > 0}, limits=limits, active=active,
                       span={d: [float(a), float(b)] for d, a, b in zip(model.domains, lo, hi)}, at=dict(model.at),
                       intervals=intervals, level=model.level if intervals else None, interval_method=method,
                       draws_feasible=feasible, draws=model.rows - 1 if model.rows > 1 else None, table=tuple(rows),
                       warnings=tuple(notes))
