"""Figures of task-level forecasts (scalinglaws.decide, docs/decisions.md): benchmark accuracy forecast from scale
through a loss, with each task's chance floor and the tasks the trend checks flagged; and test-time coverage of
repeated sampling against the number of samples, with its ceiling under an imperfect verifier.

Both draw the live records and their saved forms (`--json` output, plots/saved.py) from `to_dict()`.
"""

from __future__ import annotations

import numpy as np

from ..errors import ScalingLawsError
from ..render.text import plural
from .fitdata import label
from .registry import figure_kind
from .spec import Figure, Panel, Series, band, errorbars, si

DOWNSTREAM = ("scalinglaws.decide.downstream:Downstream", "scalinglaws.plots.saved:Downstream")
TESTTIME = ("scalinglaws.decide.testtime:TestTimeForecast", "scalinglaws.plots.saved:TestTimeForecast")
EMERGENCE = ("scalinglaws.decide.emergence:Emergence", "scalinglaws.plots.saved:Emergence")
MAX_TASKS = 9  # task panels in one figure
LINK_POINTS = 120


def pct(level) -> str:
    return f"{int(round(float(level) * 100))}%" if level else ""


def _link_curve(t: dict, ls: np.ndarray) -> np.ndarray:
    """A task's fitted link (decide/links.py) at losses ls, from the parameters the record keeps."""
    from ..decide.links import make_link

    law = make_link(t["link"], t["chance"], (float(ls.min()), float(ls.max())))
    theta = np.array([[t["link_params"][p] for p in law.param_names]])
    with np.errstate(all="ignore"):
        return np.clip(np.asarray(law({"L": ls}, theta), dtype=float)[0], 0.0, 1.0)


def _wrap(text: str, width: int = 70, lines: int = 3) -> list[str]:
    import textwrap

    out = textwrap.wrap(text, width)
    return out[:lines - 1] + [" ".join(out[lines - 1:])[:width]] if len(out) > lines else out


def _scale_panel(d: dict, t: dict) -> Panel:
    """A task's accuracy against scale: the training trend (binned), the forecasts, what was observed, chance."""
    axis, level = d["axis"], pct(d["level"])
    bins = t["trend"].get("bins") or []
    rows = t.get("forecasts") or []
    series = []
    if bins:
        x = [b[0] for b in bins]
        series.append(errorbars(x, [b[1] for b in bins], [b[1] - 2 * b[2] for b in bins],
                                [b[1] + 2 * b[2] for b in bins], label="fitted runs: binned mean ± 2 s.e.",
                                group="trend"))
    xs = [b[0] for b in bins]
    have_axis = bool(rows) and all(axis in r for r in rows)
    if have_axis:
        x = [r[axis] for r in rows]
        xs += x
        names = [str(r.get("run", "")) for r in rows]
        series.append(errorbars(x, [r["prediction"] for r in rows], [r["lower"] for r in rows],
                                [r["upper"] for r in rows], label=f"forecast, {level} {d['interval']} interval",
                                group="forecast", text=names))
        seen = [(xv, r["observed"]) for xv, r in zip(x, rows) if r.get("observed") is not None]
        if seen:
            series.append(Series("star", *zip(*seen), label="observed", group="observed"))
    if xs:
        series.append(Series("dashed", [min(xs) / 1.5, max(xs) * 1.5], [t["chance"]] * 2,
                             label=f"chance ({t['chance']:g})"))
    flagged = not t["status"].startswith("forecast")
    title = (f"{t['task']}: FLAGGED ({t['status']}), not forecast" if flagged else
             f"{t['task']} ({t['link']} link)")
    notes = _wrap(t["reason"]) if flagged else []
    if not flagged and t.get("mean_abs_error") is not None:
        notes.append(f"mean |error| {t['mean_abs_error']:.3f} accuracy points")
    return Panel(title, label(axis), f"{t['task']} (accuracy)", tuple(series), ylog=False, notes=tuple(notes))


def _link_panel(d: dict, t: dict) -> Panel:
    """Step 2: the task's link from the loss to accuracy, and the targets at their forecast loss, with the interval
    of each step as a cross (loss across, accuracy up and down)."""
    rows = t["forecasts"]
    lo = min(r["loss_lower"] for r in rows)
    hi = max(r["loss_upper"] for r in rows)
    ls = np.linspace(0.9 * lo, 2.0 * hi, LINK_POINTS)  # towards the higher losses of the smaller fitted models
    series = [Series("line", ls, _link_curve(t, ls), label=f"{t['link']} link, fitted", group="link"),
              Series("dashed", ls[[0, -1]], [t["chance"]] * 2, label=f"chance ({t['chance']:g})")]
    names = [str(r.get("run", "")) for r in rows]
    series.append(errorbars([r["loss"] for r in rows], [r["prediction"] for r in rows], [r["lower"] for r in rows],
                            [r["upper"] for r in rows], label="forecast", group="forecast", text=names))
    for r in rows:
        series.append(Series("line", [r["loss_lower"], r["loss_upper"]], [r["prediction"]] * 2, group="forecast",
                             legend=False))
    return Panel(f"{t['task']}: accuracy from {d['via']}", f"{d['via']} (step 1's forecast, lower is better)",
                 f"{t['task']} (accuracy)", tuple(series), xlog=False, ylog=False,
                 notes=(f"horizontal bars: {pct(d['level'])} interval of {d['via']}",))


@figure_kind("downstream", accepts=DOWNSTREAM, default=True,
             title="downstream forecasts: accuracy against scale with the chance floor, and each task's link")
def downstream_figure(rec, **_) -> Figure:
    d = rec.to_dict()
    tasks = d["tasks"][:MAX_TASKS]
    if not tasks:
        raise ScalingLawsError("the downstream record holds no task")
    panels = [_scale_panel(d, t) for t in tasks]
    if d.get("via"):
        panels += [_link_panel(d, t) for t in tasks if t.get("forecasts") and t.get("link_params")]
    flagged = [t["task"] for t in d["tasks"] if not t["status"].startswith("forecast")]
    step1 = (f"Step 1: {d['via']} from scale by {d['law']}" + (f" ({100 * d['loss_error']:.2f}% error on the "
             "targets)" if d.get("loss_error") is not None else "") + "; step 2: a link to accuracy bounded by "
             "chance and 1." if d.get("via") else "One step: accuracy from log compute, bounded by chance and 1.")
    caption = (f"{step1} Markers with bars: the fitted runs' accuracy in bins along {d['axis']}; diamonds: the "
               f"forecasts with their {pct(d['level'])} {d['interval']} intervals; stars: what was measured."
               + (f" Flagged and not forecast: {', '.join(flagged)}." if flagged else ""))
    warns = tuple(f"{t['task']}: {t['reason']}" for t in d["tasks"] if not t["status"].startswith("forecast"))
    more = len(d["tasks"]) - len(tasks)
    if more:
        warns += (f"{plural(more, 'more task')} not drawn: at most {MAX_TASKS} per figure",)
    return Figure("downstream", "Downstream forecasts" + (f" through {d['via']}" if d.get("via") else ""),
                  tuple(panels), caption, warns)


@figure_kind("testtime", accepts=TESTTIME, default=True,
             title="test-time scaling: coverage and verified accuracy against samples per problem, with ceilings")
def testtime_figure(rec, **_) -> Figure:
    d = rec.to_dict()
    level = pct(d["level"])
    fc, obs, ceil = d["forecast"], d["observed"], d["ceiling"]
    fpr, tpr = d["verifier"]["fpr"], d["verifier"]["tpr"]
    ks = [r["k"] for r in fc] + [r["k"] for r in obs]
    span = [min(ks) / 1.5, max(ks) * 1.5]
    series = [Series("span", [1, d["samples"][0]], label="k measured on every problem"),
              Series("points", [r["k"] for r in obs], [r["coverage"] for r in obs], label="coverage measured (pass@k)",
                     group="coverage"),
              Series("line", [r["k"] for r in obs], [r["fitted"] for r in obs], group="coverage", legend=False)]
    k = [r["k"] for r in fc]
    series.append(Series("dashed", k, [r["coverage"] for r in fc], group="coverage", legend=False))
    series.append(errorbars(k, [r["coverage"] for r in fc], [r["coverage_lower"] for r in fc],
                            [r["coverage_upper"] for r in fc], label=f"coverage forecast, {level}", group="coverage"))
    series.append(band(span, *([v] * 2 for v in ceil["coverage_interval"]), group="coverage", alpha=0.12,
                       label="coverage ceiling {:.3f} [{:.3f}, {:.3f}]".format(ceil["coverage"],
                                                                               *ceil["coverage_interval"])))
    imperfect = fpr > 0 or tpr < 1
    if imperfect:
        series.append(Series("dashed", k, [r["accuracy"] for r in fc], group="accuracy", legend=False))
        series.append(errorbars(k, [r["accuracy"] for r in fc], [r["accuracy_lower"] for r in fc],
                                [r["accuracy_upper"] for r in fc], group="accuracy",
                                label=f"accuracy with the verifier (fpr {fpr:g}, tpr {tpr:g})"))
        series.append(band(span, *([v] * 2 for v in ceil["accuracy_interval"]), group="accuracy", alpha=0.12,
                           label="accuracy ceiling {:.3f} [{:.3f}, {:.3f}]".format(ceil["accuracy"],
                                                                                   *ceil["accuracy_interval"])))
    p = d["params"]
    lo_n, hi_n = d["samples"]
    panels = [Panel(f"{d['problems']} problems, {lo_n if lo_n == hi_n else f'{lo_n}–{hi_n}'} samples each",
                    "samples per problem k", "share of problems", tuple(series), ylog=False)]
    if d.get("best"):
        b = d["best"]
        util = [Series("line", k, [r["utility"] for r in fc], group="utility", label="utility at the forecast k"),
                Series("points", k, [r["utility"] for r in fc], group="utility", legend=False),
                Series("star", [b["k"]], [b["utility"]], group="best", label=f"best k = {b['k']}")]
        panels.append(Panel("value of a correct answer less the costs", "samples per problem k", "expected utility",
                            tuple(util), ylog=False, notes=(f"searched up to k = {si(b['searched_up_to'])}",)))
    caption = ("Coverage (pass@k): the share of problems solved by at least one of k samples, measured up to the "
               "samples drawn and forecast beyond them from the fitted difficulty distribution (Brown et al. 2024): "
               f"{100 * p['unsolvable']:.1f}% unsolvable, the rest p ~ Beta({p['a']:.3g}, {p['b']:.3g}), within "
               f"{100 * d['fit_error']:.2f} points of the measured coverage; "
               + ("with an imperfect verifier, the accuracy of the accepted answer levels off lower (Stroebl et al. "
                  "2024)." if imperfect else "a perfect verifier is assumed."))
    return Figure("testtime", "Test-time scaling: coverage against samples", tuple(panels), caption)


@figure_kind("emergence", accepts=EMERGENCE, default=True,
             title="emergence: pass@k against model size from many samples per problem, the task law and forecasts")
def emergence_figure(rec, **_) -> Figure:
    d = rec.to_dict()
    scale, level = d["scale"], pct(d["level"])
    sizes, fc = d["sizes"], d["forecast"]
    lo = min(s[scale] for s in sizes)
    hi = max([s[scale] for s in sizes] + [f["size"] for f in fc])
    grid = np.geomspace(lo, hi, 60)
    series = []
    for law in d["laws"]:
        k, g = law["k"], f"pass@{law['k']}"
        series.append(Series("points", [s[scale] for s in sizes], [s["pass_at_k"][str(k)] for s in sizes], group=g,
                             label=f"pass@{k} of the fitted sizes", text=[f"{s['problems']} problems, "
                             f"{100 * s['solved_share']:.0f}% solved at least once" for s in sizes]))
        curve = np.exp(-np.exp(law["log_c"] + law["slope"] * np.log(grid)))
        series.append(Series("line", grid, curve, group=g, legend=False))
        rows = [f for f in fc if f["k"] == k]
        if rows:
            series.append(errorbars([f["size"] for f in rows], [f["prediction"] for f in rows],
                                    [f["lower"] for f in rows], [f["upper"] for f in rows], group=g,
                                    label=f"pass@{k} forecast, {level} {d['interval']}"))
            seen = [f for f in rows if f["observed"] is not None and f["observed"] > 0]
            if seen:
                series.append(Series("star", [f["size"] for f in seen], [f["observed"] for f in seen], group=g,
                                     label=f"pass@{k} measured at the held-out sizes"))
    cur = d["curvature"]
    notes = []
    if cur.get("coefficient") is not None:
        notes.append(f"curvature of log(-log pass rate) in log size {cur['coefficient']:.3g} "
                     f"[{cur['interval'][0]:.3g}, {cur['interval'][1]:.3g}]"
                     + (": accelerated emergence" if cur["accelerated"] else ""))
    greedy = max(s["greedy_proxy"] for s in sizes)
    notes.append(f"greedy accuracy (problems solved in over half their samples) at most {100 * greedy:.0f}% at "
                 "the fitted sizes")
    law = d["laws"][0]
    panels = (Panel(f"log(-log pass@{law['k']}) = {law['log_c']:.3g} - {law['alpha']:.3g}·log {scale}",
                    label(scale), "pass@k (share of problems)", tuple(series), notes=tuple(notes)),)
    caption = ("Pass rates measured by sampling each problem many times (a zero-inflated beta-binomial per size, so "
               "problems not yet solved count as rare, not impossible) follow a straight line in "
               "log(-log pass rate) against log size (Hu et al. 2023), which forecasts the sizes to the right; "
               f"the bars are {level} {d['interval']} intervals from a bootstrap over problems.")
    return Figure("emergence", "Emergence: pass rates from repeated sampling", panels, caption)
