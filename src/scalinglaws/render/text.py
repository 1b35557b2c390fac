"""Plain-text renderings shared by the terminal, notebooks and reports: numbers people can read."""

from __future__ import annotations

import math


def plural(n, word: str) -> str:
    """'1 run', '240 runs': a count and its noun."""
    return f"{n} {word}" + ("" if n == 1 else "s")


def num(v, digits: int = 4) -> str:
    """1.817, 477.8, 2.143e+03, 5.76e+23: short, and never misleading about magnitude."""
    if v is None:
        return "–"
    v = float(v)
    if not math.isfinite(v):
        return str(v)
    if v == 0:
        return "0"
    a = abs(v)
    if 10 ** digits <= a < 1e5:
        return f"{v:.0f}"  # 12000, not 1.2e+04: steps, batch sizes and counts below 1e5 print whole
    if 1e-3 <= a < 1e5:
        return f"{v:.{digits}g}"
    return f"{v:.{max(1, digits - 1)}e}"


def beyond(factor, over=(), outside: bool = False, short: bool = False) -> str:
    """The one wording of extrapolation: the factor by which a point lies beyond the fitted range of the law's
    inputs (the largest over them of value / largest fitted, or smallest fitted / value), with that unit:
    '10× beyond the fitted N, D'; 'inside the fitted range' at 1; 'outside the fitted range' for a point the factor
    cannot measure (a training curve's step 0). short: the table cell ('10×', 'inside', 'outside')."""
    unit = ", ".join(over) if over else "inputs"
    if factor is not None and factor > 1 + 1e-9:
        return f"{factor:.3g}×" if short else f"{factor:.3g}× beyond the fitted {unit}"
    word = "outside" if outside else "inside"
    return word if short else f"{word} the fitted range"


def step(v) -> str:
    """An optimizer step as the integer it is: 12000, 143000, 1200000 (never 1.2e+04)."""
    v = float(v)
    return str(int(round(v))) if math.isfinite(v) else str(v)


def interval(ci) -> str:
    return "–" if ci is None else f"[{num(ci[0])}, {num(ci[1])}]"


def fit_summary(fit) -> str:
    """The fitted law in words and numbers, as `print(fit.summary())` shows it."""
    fixed = set(getattr(fit, "fixed", ()))
    lines = [f"{getattr(fit, 'label', fit.law)}: {fit.formula}"]
    ci = fit.ci or {}
    width = max(len(k) for k in fit.params)
    for name, value in fit.params.items():
        extra = f"   {int(round(fit.bootstrap.level * 100))}% CI {interval(ci[name])}" if name in ci else ""
        if name in fixed:
            extra = "   fixed (published value, not fitted)"
        lines.append(f"  {name:<{width}} = {num(value, 5):<10}{extra}")
    status = "converged" if fit.converged else "NOT converged"
    lines.append(f"objective {fit.objective:.10g} ({_objective_kind(fit)}) on {fit.n_points} points from "
                 f"{plural(fit.n_runs, 'run')}; {status}; {fit.starts['reached_best']} of {fit.starts['refined']} "
                 "refined starts reached the best objective")
    for note in fit.data.get("notes", []):
        lines.append(f"note: {note}")
    for w in fit.warnings:
        lines.append(f"warning: {w}")
    return "\n".join(lines)


def _objective_kind(fit) -> str:
    """'huber', or 'huber, linear residuals' for a fit outside the default log space."""
    return fit.loss["kind"] + (f", {fit.loss['space']} residuals" if "space" in fit.loss else "")
