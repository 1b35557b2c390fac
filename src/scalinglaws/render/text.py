"""Plain-text renderings shared by the terminal, notebooks and reports: numbers people can read."""

from __future__ import annotations

import math


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
    if 1e-3 <= a < 1e5:
        return f"{v:.{digits}g}"
    return f"{v:.{max(1, digits - 1)}e}"


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
                 f"{fit.n_runs} runs; {status}; {fit.starts['reached_best']} of {fit.starts['refined']} refined "
                 "starts reached the best objective")
    for note in fit.data.get("notes", []):
        lines.append(f"note: {note}")
    for w in fit.warnings:
        lines.append(f"warning: {w}")
    return "\n".join(lines)


def _objective_kind(fit) -> str:
    """'huber', or 'huber, linear residuals' for a fit outside the default log space."""
    return fit.loss["kind"] + (f", {fit.loss['space']} residuals" if "space" in fit.loss else "")
