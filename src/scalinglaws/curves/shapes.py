"""The best schedule shape within a family, for a step budget, by a fitted curve law.

Every candidate of the family's grid (for wsd: decay fraction × decay shape × final lr; for cosine and linear: the
final lr; for step: where the drop falls × by how much) is turned into its per-step schedule and the fitted law
predicts its final loss. With the fit's bootstrap draws every draw ranks the candidates too: `p_best` is the share
of draws in which a candidate is the best, which says how firmly the data prefer it; the intervals are confidence
intervals of the law's curve, since all candidates share the same run-to-run noise.

The peak learning rate and the warm-up are held at the values given: the laws describe how a schedule spends a
peak learning rate, not which peak is best (they were fitted at one peak, and their forward-area term would
always favour a larger one).
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import ExtrapolationWarning, ScalingLawsError
from ..records import format_of
from ..render.table import Tabular
from ..runs import Runs
from .schedules import FAMILIES, SHAPES, Schedule

SEARCH_KNOTS = 500  # per candidate: linear interpolation between them is within 1e-5 of the schedule
GRIDS = {
    "wsd": {"decay": (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6), "shape": SHAPES,
            "end": (0.0, 0.01, 0.1)},
    "cosine": {"end": (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3)},
    "linear": {"end": (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3)},
    "step": {"at": (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95), "factor": (0.03, 0.1, 0.3)},
    "constant": {},
}


@dataclass(frozen=True, repr=False)
class ScheduleSearch(Tabular):
    """Candidates of one family ranked by predicted final loss."""

    family: str
    total: int
    peak: float
    warmup: int
    law: str
    target: str
    candidates: tuple[dict, ...]  # best first: schedule, its grid values, final, lower, upper, p_best
    level: float | None
    draws: int
    warnings: tuple[str, ...] = ()

    @property
    def best(self) -> dict:
        return self.candidates[0]

    def to_dict(self) -> dict:
        return {"format": format_of("schedule_search"), "family": self.family, "total": self.total, "peak": self.peak,
                "warmup": self.warmup, "law": self.law, "target": self.target, "level": self.level, "draws": self.draws,
                "best": self.best, "candidates": list(self.candidates), "warnings": list(self.warnings)}


def candidates(family: str, *, total: int, peak: float, warmup: int = 0, grid: dict | None = None) -> list[tuple]:
    """(grid values, Schedule) for every point of the family's grid (`grid` overrides any axis)."""
    if family not in FAMILIES:
        raise ScalingLawsError(f"unknown schedule family '{family}'. Choose one of: {', '.join(FAMILIES)}")
    axes = dict(GRIDS[family])
    for key, values in (grid or {}).items():
        if key not in axes:
            raise ScalingLawsError(f"family '{family}' has no grid axis '{key}' (its axes: "
                                   f"{', '.join(axes) or 'none'})")
        axes[key] = tuple(values)
    out = []
    for values in itertools.product(*axes.values()) if axes else [()]:
        point = dict(zip(axes, values, strict=True))
        kw: dict = {"peak": peak, "total": total, "warmup": warmup}
        if "end" in point:
            kw["end"] = point["end"] * peak  # the grid gives the final lr as a fraction of the peak
        if family == "wsd":
            kw["decay"], kw["shape"] = point["decay"], point["shape"]
        if family == "step":
            at = int(round(point["at"] * total))
            if not warmup < at <= total:
                continue
            kw["at"], kw["factor"] = (at,), point["factor"]
        out.append((point, Schedule(family=family, **kw)))
    if not out:
        raise ScalingLawsError(f"no '{family}' schedule of the grid fits {total} steps after a {warmup}-step warm-up")
    return out


def best_schedule(fit, family: str, *, total: int, peak: float, warmup: int = 0, grid: dict | None = None,
                  columns: dict | None = None, level: float | None = None) -> ScheduleSearch:
    """Rank a family's schedules for a budget of `total` steps by the final loss `fit` predicts."""
    from ..fitting.data import evaluate, law_inputs
    from ..fitting.interval import interval

    law = fit.get_law()
    if not getattr(law, "run_params", None):
        raise ScalingLawsError(f"law '{fit.law}' is not a curve law: the schedule search needs one of schedule, "
                               "lr_annealing, multipower, lr_annealing_nd")
    cands = candidates(family, total=total, peak=peak, warmup=warmup, grid=grid)
    b = fit.inputs
    parts = {b["run"]: [], b["step"]: [], b["lr"]: []}
    last = []
    for i, (_, sched) in enumerate(cands):
        steps = sched.knots(SEARCH_KNOTS)
        parts[b["run"]].append(np.full(len(steps), f"c{i}", dtype=object))
        parts[b["step"]].append(steps)
        parts[b["lr"]].append(sched.lr(steps))
        last.append(sum(len(p) for p in parts[b["step"]]) - 1)
    cols = {k: np.concatenate(v) for k, v in parts.items()}
    for col in b.values():
        if col not in cols:
            if not columns or col not in columns:
                raise ScalingLawsError(f"law '{fit.law}' also needs {col}: give it, e.g. --at {col}=4e8")
            cols[col] = np.full(len(cols[b["step"]]), float(columns[col]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = law_inputs(law, Runs(cols, source=f"{family} schedules"), b)
    x = {k: v[np.asarray(last)] for k, v in x.items()}
    final = evaluate(fit, x=x)
    notes = []
    seen = fit.data.get("ranges", {}).get(b["step"])
    if seen and total > 2 * seen[1]:
        notes.append(f"the budget of {total} steps is {total / seen[1]:.3g}× the longest run the fit saw "
                     f"({seen[1]:g} steps): the ranking extrapolates")
        warnings.warn(notes[-1], ExtrapolationWarning, stacklevel=2)
    lower = upper = p_best = None
    used_level, n_draws = None, 0
    if fit.bootstrap is not None:
        used_level = fit.bootstrap.level if level is None else level
        preds = evaluate(fit, theta=fit.bootstrap.array(), x=x)  # (B, candidates)
        n_draws = len(preds)
        ok = np.all(np.isfinite(preds), axis=1)
        # where each schedule's final loss lies (the law's uncertainty): the schedules are compared on one law
        made = interval(preds, level=used_level, kind="confidence", parameters="bootstrap over runs")
        lower, upper = made.lower, made.upper
        p_best = np.bincount(np.argmin(preds[ok], axis=1), minlength=len(cands)) / max(1, ok.sum())
    rows = []
    for i, (point, sched) in enumerate(cands):
        rows.append({"schedule": sched.to_text(), **point, "final": float(final[i]),
                     "lower": None if lower is None else float(lower[i]),
                     "upper": None if upper is None else float(upper[i]),
                     "p_best": None if p_best is None else float(p_best[i])})
    rows.sort(key=lambda r: r["final"])
    return ScheduleSearch(family=family, total=int(total), peak=float(peak), warmup=int(warmup), law=fit.law,
                          target=fit.target, candidates=tuple(rows), level=used_level, draws=n_draws,
                          warnings=tuple(notes))
