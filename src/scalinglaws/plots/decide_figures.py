"""Figures of the evidence behind a forecast and the decisions it supports (scalinglaws.decide, docs/decisions.md):
backtest errors cut by cut, the ranking that chose a law (`--law auto`), and recipe comparisons with their
effective-compute multiplier and crossover.

Each kind draws the live record and its saved form (`scalinglaws backtest ... --json > bt.json`, plots/saved.py)
from `to_dict()`: the numbers drawn are the numbers the command printed.
"""

from __future__ import annotations

import numpy as np

from ..errors import ScalingLawsError
from ..render.text import plural
from .fitdata import label
from .registry import figure_kind
from .spec import Figure, Panel, Series, band, errorbars, si

BACKTEST = ("scalinglaws.decide.backtesting:Backtest", "scalinglaws.plots.saved:Backtest")
RANKING = ("scalinglaws.decide.select:Ranking", "scalinglaws.plots.saved:Ranking")
FIT = "scalinglaws.fitting.record:Fit"
COMPARISON = ("scalinglaws.decide.comparison:Comparison", "scalinglaws.plots.saved:Comparison")
TOP = 8  # candidate laws drawn by name in a ranking; the rest are grey


def pct(level) -> str:
    return f"{int(round(float(level) * 100))}%" if level else ""


# -- backtests ----------------------------------------------------------------------------------------------------
@figure_kind("backtest", accepts=BACKTEST, default=True,
             title="backtest: held-out error, bias and interval coverage at each cut in scale")
def backtest_figure(rec, **_) -> Figure:
    d = rec.to_dict()
    cuts = d["cuts"]
    ok = [c for c in cuts if c.get("error") is None and c.get("rel_error") is not None]
    if not ok:
        raise ScalingLawsError(f"no cut of the {d['label']} backtest could be fitted: nothing to draw ("
                               + "; ".join(str(c.get("error")) for c in cuts[:2]) + ")")
    x = [c["cut"] for c in ok]
    xlabel = f"cut: runs with {d['by']} ≤ cut fitted ({label(d['by'])})"
    failed = [Series("vline", [c["cut"]]) for c in cuts if c not in ok]
    errs = (Series("line", x, [100 * c["rel_error"] for c in ok], group="mean", legend=False),
            Series("points", x, [100 * c["rel_error"] for c in ok], group="mean", label="mean |error|",
                   text=[f"{c['test_runs']} held-out runs, up to {c['extrapolation']:.3g}× beyond the cut"
                         for c in ok]),
            Series("dashed", x, [100 * c["max_rel_error"] for c in ok], group="max", legend=False),
            Series("points", x, [100 * c["max_rel_error"] for c in ok], group="max", label="max |error|"),
            Series("hline", [0.0], [0.0]))  # errors read from zero
    notes = ["held out up to " + ", ".join(f"{c['extrapolation']:.3g}×" for c in ok) + " beyond each cut"]
    if len(ok) < len(cuts):
        notes.append(f"{plural(len(cuts) - len(ok), 'cut')} could not be fitted (dashed lines)")
    panels = [Panel("relative error on the held-out larger runs", xlabel, "|predicted − observed| / observed (%)",
                    errs + tuple(failed), ylog=False, notes=tuple(notes)),
              Panel("bias (+: predicted too high)", xlabel, "mean log(predicted / observed) (%)",
                    (Series("line", x, [100 * c["bias"] for c in ok], group="bias", label="bias"),
                     Series("points", x, [100 * c["bias"] for c in ok], group="bias", legend=False),
                     Series("hline", [0.0], [0.0])) + tuple(failed), ylog=False)]
    cov = [c for c in ok if c.get("coverage") is not None]
    if cov and d.get("level"):
        xs = [c["cut"] for c in cov]
        panels.append(Panel(f"coverage of the {pct(d['level'])} prediction intervals", xlabel,
                            "held-out rows inside their interval (%)",
                            (Series("line", xs, [100 * c["coverage"] for c in cov], group="cov", label="measured"),
                             Series("points", xs, [100 * c["coverage"] for c in cov], group="cov", legend=False),
                             Series("dashed", [min(x), max(x)], [100 * d["level"]] * 2,
                                    label=f"nominal {pct(d['level'])}"), Series("hline", [0.0], [0.0])),
                            ylog=False))
    score = f"{100 * d['score']:.2f}%" if d.get("score") is not None else "–"
    caption = (f"Rollout backtest of {d['label']} on {d['source']}: at each cut, fit the runs up to it and predict "
               f"every larger run. Mean held-out error {score}"
               + (f", bias {100 * d['bias']:+.2f}%" if d.get("bias") is not None else "")
               + (f", {100 * d['coverage']:.0f}% coverage" if d.get("coverage") is not None else "") + ".")
    return Figure("backtest", f"Backtest of {d['label']} on {d['source']}", tuple(panels), caption,
                  tuple(w for c in cuts for w in c.get("warnings", [])))


# -- law selection ------------------------------------------------------------------------------------------------
def _selection(rec) -> dict:
    """Candidates (label, n_params, score, per_cut, complete), cuts, winner and tolerance of a Ranking or of the
    selection a fit with --law auto carries."""
    if hasattr(rec, "extra") and hasattr(rec, "law"):  # a Fit
        sel = (rec.extra or {}).get("selection")
        if not sel:
            raise ScalingLawsError(f"this fit of '{rec.law}' was not chosen by backtest: fit with --law auto to "
                                   "draw the ranking")
        return {"cuts": sel["cuts"], "by": sel["by"], "winner": sel["winner"], "tolerance": sel["tolerance"],
                "candidates": sel["candidates"], "source": rec.data.get("source", "data"), "reason": sel["reason"]}
    d = rec.to_dict()
    ranking = d["ranking"]
    cands = [{"label": b["label"], "law": b["law"], "n_params": b["n_params"], "score": b["score"],
              "complete": b["complete"], "per_cut": [c["rel_error"] for c in b["cuts"]]} for b in ranking]
    return {"cuts": [c["cut"] for c in ranking[0]["cuts"]], "by": d["by"], "winner": d["best"],
            "tolerance": d["tolerance"], "candidates": cands, "source": d["source"], "reason": ""}


@figure_kind("selection", accepts=RANKING + (FIT,),
             applies=lambda rec: not hasattr(rec, "extra") or "selection" in (rec.extra or {}),
             title="law selection: each candidate's backtested error per cut, and its score against its size")
def selection_figure(rec, **_) -> Figure:
    s = _selection(rec)
    cands = [c for c in s["candidates"] if c.get("score") is not None]
    if not cands:
        raise ScalingLawsError("no candidate law could be backtested: nothing to draw")
    named = cands[:TOP]
    per_cut, scores = [], []
    for c in named:
        pts = [(x, 100 * e) for x, e in zip(s["cuts"], c["per_cut"]) if e is not None]
        won = c["label"] == s["winner"]
        if pts:
            per_cut.append(Series("line" if won else "dashed", *zip(*pts), group=c["label"],
                                  label=c["label"] + (" (chosen)" if won else "")))
            per_cut.append(Series("points", *zip(*pts), group=c["label"], legend=False))
    by_size: dict[int, list] = {}
    for c in cands:
        by_size.setdefault(c["n_params"], []).append(c["label"])
    for c in cands:  # in rank order, so that each candidate has its colour of the first panel
        members = by_size[c["n_params"]]
        x = c["n_params"] + 0.12 * (members.index(c["label"]) - (len(members) - 1) / 2)  # side by side
        kind = "star" if c["label"] == s["winner"] else "points"
        scores.append(Series(kind, [x], [100 * c["score"]], group=c["label"] if c in named else "", legend=False,
                             text=[f"{c['label']}: {100 * c['score']:.2f}%, {c['n_params']} fitted parameters"]))
    best = min(c["score"] for c in cands if c.get("complete", True))
    sizes = [c["n_params"] for c in cands]
    scores.append(Series("dashed", [min(sizes) - 0.5, max(sizes) + 0.5], [100 * best * (1 + s["tolerance"])] * 2,
                         label=f"within {100 * s['tolerance']:.0f}% of the best"))
    xlabel = f"cut: runs with {s['by']} ≤ cut fitted"
    more = len(cands) - len(named)
    notes = (f"{more} more candidate{'s' if more > 1 else ''} in grey",) if more else ()
    panels = (Panel("held-out error of each candidate at each cut", xlabel, "mean |relative error| (%)",
                    tuple(per_cut)),
              Panel("score against the number of fitted parameters (star: chosen)", "fitted parameters",
                    "mean held-out error over the cuts (%)", tuple(scores), xlog=False, notes=notes))
    caption = (f"Every candidate law backtested on the same cuts of {s['source']}: fitted below each cut, scored on "
               f"the larger runs; among candidates within {100 * s['tolerance']:.0f}% of the best score (dashed "
               f"line), the one with the fewest fitted parameters is chosen. Chosen: {s['winner']}"
               + (f" ({s['reason']})." if s["reason"] else "."))
    return Figure("selection", f"Law selection on {s['source']}", panels, caption)


# -- recipe comparison --------------------------------------------------------------------------------------------
def _finite(v) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)


@figure_kind("comparison", accepts=COMPARISON, default=True,
             title="recipe comparison: each group's trend with its band, the compute multiplier and the crossover")
def comparison_figure(rec, **_) -> Figure:
    d = rec.to_dict()
    axis, level, target = d["axis"], pct(d["level"]), d["target"]
    xlabel = label(axis) + (" on each group's compute-optimal frontier" if d["frontier"] else "")
    curves, notes = [], []
    n = len(d["groups"])
    for i, g in enumerate(d["groups"]):
        lab = g["label"]
        c = g.get("curve") or []
        if c:
            x = np.array([r["scale"] for r in c])
            lo = np.array([np.nan if r["lower"] is None else r["lower"] for r in c])
            hi = np.array([np.nan if r["upper"] is None else r["upper"] for r in c])
            y = np.array([np.nan if r["prediction"] is None else r["prediction"] for r in c])
            ok = np.isfinite(lo) & np.isfinite(hi)
            curves.append(band(x[ok], lo[ok], hi[ok], group=lab, label=f"{level} bootstrap band" if i == 0 else ""))
            inside = (x >= g["scale_range"][0]) & (x <= g["scale_range"][1]) & np.isfinite(y)
            beyond = (x >= g["scale_range"][1]) & np.isfinite(y)  # NaN has no place in a page's JSON
            curves.append(Series("line", x[inside], y[inside], group=lab,
                                 label=f"{lab} ({g['law']}, {plural(g['runs'], 'run')})"))
            curves.append(Series("dashed", x[beyond], y[beyond], group=lab, legend=False))
        x_t = target * 10 ** (0.03 * (i - (n - 1) / 2))
        curves.append(errorbars([x_t], [g["prediction"]], [g["lower"]], [g["upper"]], group=lab,
                                text=[f"{lab} at {axis} = {si(target)}: {g['prediction']:.4g} "
                                      f"[{g['lower']:.4g}, {g['upper']:.4g}]"]))
    if not any(g.get("curve") for g in d["groups"]):
        notes.append("this record has no curves (made before they were recorded): targets only")
    mult = []
    top = max([v for p in d["pairs"] for m in p["multipliers"] for v in (m["multiplier"], m["lower"], m["upper"])
               if _finite(v)] + [10.0])  # an interval open to infinity is drawn up to ten times the largest value
    for p in d["pairs"]:
        lab = f"{p['label']} vs {p['baseline']}"
        ms = p["multipliers"]
        x = np.array([m["scale"] for m in ms])
        y = np.array([_finite(m["multiplier"]) or np.nan for m in ms])
        lo = np.array([_finite(m["lower"]) or np.nan for m in ms])
        hi = np.array([_finite(m["upper"]) or np.nan for m in ms])
        hi = np.where(np.isnan(hi) & np.isfinite(lo), top * 10, hi)  # an upper end out of reach: to the top
        ok = np.isfinite(lo) & np.isfinite(hi) & (lo > 0)
        if ok.any():
            mult.append(band(x[ok], lo[ok], hi[ok], group=lab, label=f"{level} interval"))
        fin = np.isfinite(y) & (y > 0)
        mult.append(Series("line", x[fin], y[fin], group=lab, label=f"{lab}: {p['baseline']}'s compute per unit"))
        mult.append(Series("points", x[fin], y[fin], group=lab, legend=False))
        gone = [m["scale"] for m in ms if m["multiplier"] is None and (m["lower"] or 0) > 1]
        if gone:
            notes.append(f"{p['baseline']} never reaches {p['label']}'s loss from {axis} ≈ {si(min(gone))} (∞)")
        for c in p["crossovers"]:
            for panel in (curves, mult):
                panel.append(Series("vline", [c["scale"]]))
                if c.get("lower") and c.get("upper"):
                    panel.append(Series("span", [c["lower"], c["upper"]], label=f"crossover, {level} interval",
                                        alpha=0.18))
            notes.append(f"{lab}: trends cross at {axis} ≈ {si(c['scale'])}"
                         + (f" [{si(c['lower'])}, {si(c['upper'])}]" if c.get("lower") else ""))
    mult.append(Series("hline", [1.0], [1.0]))
    panels = (Panel(f"{d['metric']} along {axis}, each group's law (dashed: beyond its runs)", xlabel,
                    label(d["metric"]), tuple(curves), ylog=False, notes=tuple(notes[:3])),
              Panel("effective-compute multiplier", xlabel,
                    f"{d['baseline']}'s {axis} to match, per unit (×)", tuple(mult)))
    caption = ("Left: each group's fitted trend with its bootstrap band and its forecast at the target; shaded: where "
               "the trends cross. Right: how many times the compute the baseline needs to reach the other group's "
               "loss at each scale (1: no difference). " + " ".join(p["verdict"].rstrip(".") + "." for p in d["pairs"]))
    return Figure("comparison", f"{d['metric']} by {d['by']}: {', '.join(g['label'] for g in d['groups'])}", panels,
                  caption, tuple(w for g in d["groups"] for w in g.get("warnings", [])))
