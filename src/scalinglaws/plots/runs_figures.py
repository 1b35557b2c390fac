"""Figures of a runs table before any fit: the measurements on log axes, and IsoFLOP profiles.

An IsoFLOP profile (Hoffmann et al. 2022, §3.2, Fig. 3) is the loss of runs that spent the same compute, against
model size: its minimum is the best size for that budget. Here the profiles and their observed minima are drawn
straight from the data; fitted parabolas and the frontier they imply belong to the planning module.
"""

from __future__ import annotations

import numpy as np

from ..errors import ScalingLawsError
from ..render.text import plural
from .fitdata import MAX_GROUPS, groups, label, x_of
from .registry import figure_kind
from .spec import Figure, Panel, Series, si

RUNS = "scalinglaws.runs.table:Runs"
MIN_SIZES = 3  # distinct model sizes a budget needs to count as a profile
MIN_SPAN = 2.0  # and the factor they must span: three sizes within 20% of each other trace no profile
MIN_PROFILES = 2  # budgets a panel needs: one profile says nothing about how the optimum moves


def _metric(runs, y: str | None) -> str:
    y = y or "loss"
    if y not in runs:
        raise ScalingLawsError(f"--y {y}: {runs.missing_message(y, 'Choose the metric with --y COLUMN')}")
    if runs[y].dtype.kind != "f":
        raise ScalingLawsError(f"--y {y}: column '{y}' holds labels; the y axis needs numbers")
    return y


@figure_kind("runs", accepts=RUNS, title="the measurements on log axes, per family or model size", default=True)
def runs_figure(runs, *, x: str | None = None, y: str | None = None, by: str | None = None, **_) -> Figure:
    y = _metric(runs, y)
    x = x or ("flops" if "flops" in runs else "tokens" if "tokens" in runs else "params")
    xv = x_of(runs, x)
    keep = np.isfinite(xv) & np.isfinite(runs[y]) & (xv > 0) & (runs[y] > 0)
    if not keep.any():
        raise ScalingLawsError(f"{runs.source} has no rows with positive {x} and {y} to draw")
    runs = runs.take(keep)
    grps, palette = groups(runs, by, None, x)
    series = [Series("points", x_of(runs, x)[g.index], runs[y][g.index], label=g.label, group=g.label,
                     text=runs.take(g.index).run_ids.astype(str)) for g in grps]
    notes = [f"{len(runs)} rows, {plural(runs.n_runs, 'run')}"]
    if not keep.all():
        notes.append(f"{int((~keep).sum())} rows without positive {x}, {y} left out")
    panel = Panel(f"{runs.source}", label(x), label(y), tuple(series), palette=palette, notes=tuple(notes))
    return Figure("runs", f"Runs of {runs.source}", (panel,), f"Each marker is one row: {y} against {x}.")


def _budgets(flops: np.ndarray) -> np.ndarray:
    """Budget labels: compute rounded to 3 significant digits, so 1.0e18 and 1.0000001e18 are one budget."""
    return np.array([float(f"{v:.3g}") for v in flops])


@figure_kind("isoflop", accepts=RUNS, title="IsoFLOP profiles: loss against model size at fixed compute, with "
             "each budget's observed minimum", default=True)
def isoflop_figure(runs, *, y: str | None = None, by: str | None = None, **_) -> Figure:
    y = _metric(runs, y)
    for col in ("params", "flops"):
        if col not in runs:
            raise ScalingLawsError(f"IsoFLOP profiles need '{col}': {runs.missing_message(col)}")
    ok = np.isfinite(runs["params"]) & np.isfinite(runs["flops"]) & np.isfinite(runs[y])
    runs = runs.take(ok)
    if by is None and "family" in runs and len(set(runs["family"].tolist())) > 1:
        by = "family"
    panels_rows = groups(runs, by)[0] if by is not None else None
    if panels_rows is not None and len(panels_rows) > MAX_GROUPS:
        raise ScalingLawsError(f"{len(panels_rows)} values of '{by}' make too many panels (at most {MAX_GROUPS}). "
                               f"Filter with --where, e.g. --where {by}={panels_rows[0].label}")
    panel_list, optima, dup_cols = [], {}, set()
    for g in panels_rows or [None]:
        first = not panel_list  # one legend, on the first panel: every panel shares the budgets' colours
        rows = runs if g is None else runs.take(g.index)
        name = runs.source if g is None else g.label
        budget = _budgets(rows["flops"])
        series, best_x, best_c, edge = [], [], [], 0
        for c in np.unique(budget):
            idx = np.flatnonzero(budget == c)
            n = rows["params"][idx]
            if len(np.unique(n)) < MIN_SIZES or n.max() < MIN_SPAN * n.min():
                continue
            if len(np.unique(n)) < len(n):
                dup_cols |= _differing(rows.take(idx), n)
                continue
            order = idx[np.argsort(n, kind="stable")]
            lab = f"C = {si(c)}"
            series.append(Series("line", rows["params"][order], rows[y][order], label=lab, group=lab, legend=False))
            series.append(Series("points", rows["params"][order], rows[y][order], label=lab, group=lab,
                                 text=rows.take(order).run_ids.astype(str), legend=first))
            j = order[int(np.argmin(rows[y][order]))]
            edge += j in (order[0], order[-1])  # the sweep does not bracket this budget's optimum
            best_x.append(rows["params"][j])
            best_c.append((c, rows[y][j]))
        if len(best_x) < MIN_PROFILES:
            continue
        ys = [b[1] for b in best_c]
        series.append(Series("dashed", best_x, ys, label="observed minimum", legend=False))
        series.append(Series("star", best_x, ys, label="observed minimum", legend=first))
        optima[name] = [{"flops": c, "params": float(nx), y: float(v)} for (c, v), nx in zip(best_c, best_x)]
        notes = (f"{len(best_x)} budgets",) + (
            (f"{edge} minim{'um' if edge == 1 else 'a'} at the edge of the sweep",) if edge else ())
        panel_list.append(Panel(name, label("params"), label(y), tuple(series), palette="sequential", notes=notes))
    if not panel_list:
        if dup_cols:
            raise ScalingLawsError(
                f"{runs.source}: several rows share a budget and a model size, differing in "
                f"{', '.join(sorted(dup_cols)) or 'unnamed columns'}. Split them with --by COLUMN or keep one "
                f"setting with --where, e.g. --where {sorted(dup_cols)[0] if dup_cols else 'COLUMN'}=VALUE")
        raise ScalingLawsError(f"{runs.source} has no IsoFLOP profiles: IsoFLOP profiles need at least "
                               f"{MIN_PROFILES} compute budgets, each with runs of {MIN_SIZES} or more model sizes "
                               f"spanning {MIN_SPAN:g}× or more (sweeps of N at fixed C)")
    caption = ("Each line joins runs that spent the same compute; the star marks the best observed size per budget. "
               "The minima drifting right as compute grows is the compute-optimal frontier.")
    warns = ()
    if dup_cols:
        warns = (f"some budgets were left out: rows repeat at one size, differing in {', '.join(sorted(dup_cols))}; "
                 "split them with --by or --where",)
    return Figure("isoflop", f"IsoFLOP profiles of {runs.source}", tuple(panel_list), caption, warns,
                  {"optima": optima})


def _differing(rows, n: np.ndarray) -> set[str]:
    """Label columns whose values differ among rows of one size: what separates repeated rows."""
    out = set()
    for col in rows.names:
        if col in ("run", "loss") or rows[col].dtype.kind == "f":
            continue
        for v in np.unique(n):
            vals = rows[col][n == v]
            if len(set(vals.tolist())) > 1:
                out.add(col)
    return out
