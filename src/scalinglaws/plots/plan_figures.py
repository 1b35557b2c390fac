"""Figures of planning records (scalinglaws.plan, docs/planning.md): Chinchilla's three approaches side by side,
where each answer of a plan sits in the (N, D) plane, the over-training trade-off and inference-aware allocation.

Each kind draws the live record and its saved form (`scalinglaws plan ... --json > plan.json`, see plots/saved.py)
from `to_dict()`, so the numbers drawn are the numbers the command printed: a dense over-training curve is a plan
with many ratios (`--ratios 1,2,5,10,20,50,100,200,500,1000`).
"""

from __future__ import annotations

import re
import warnings

import numpy as np

from ..errors import DataWarning, ScalingLawsError
from ..records import kind_of
from ..render.text import beyond, plural
from .registry import figure_kind
from .spec import Figure, Panel, Series, band, errorbars, si

APPROACHES = ("scalinglaws.plan.approaches:Approaches", "scalinglaws.plots.saved:Approaches")
PLAN = ("scalinglaws.plan.planner:Plan", "scalinglaws.plots.saved:Plan")
OVERTRAINING = "scalinglaws.plan.inference:Overtraining"
INFERENCE = "scalinglaws.plan.inference:InferencePlan"
# Hoffmann et al. 2022, §3: approach number (the x position of its exponent) and its legend entry
STEPS = {"envelope": (1.0, "1 envelope: best run per budget"), "isoflop": (2.0, "2 IsoFLOP profile minima"),
         "isoflop-parabola": (2.3, "2 parabola minima (for comparison)"), "parametric": (3.0, "3 parametric fit")}


def pct(level) -> str:
    return f"{int(round(float(level) * 100))}%" if level else ""


def flops_per_param(convention: str) -> float:
    """k of the record's 'C = k·N·D' convention (6 unless it says otherwise)."""
    m = re.search(r"C = ([0-9.eE+-]+)·N·D", convention or "")
    return float(m.group(1)) if m else 6.0


def _warn(note: str) -> str:
    """A DataWarning now (the CLI shows it) and the same text for the figure's record."""
    warnings.warn(note, DataWarning, stacklevel=3)
    return note


def _iv(section: dict, key: str):
    return (section.get("intervals") or {}).get(key)


# -- Chinchilla's three approaches --------------------------------------------------------------------------------
@figure_kind("approaches", accepts=APPROACHES, default=True,
             title="Chinchilla's three approaches side by side: N*(C) per budget and fitted, exponents, profiles")
def approaches_figure(rec, *, data=None, **_) -> Figure:
    d = rec.to_dict()
    prof = d["profile"]
    used = [p for p in d["profiles"] if p.get("used")]
    budgets = [p["flops"] for p in d["profiles"]]
    target, level = d["flops"], pct(d["level"])
    per_budget = {"envelope": "envelope_params", "isoflop": f"{prof}_params", "isoflop-parabola": "parabola_params"}
    series = [Series("span", [min(budgets), max(budgets)], label="budgets of the sweep")]
    xs = np.geomspace(min(budgets), target * 1.5, 80)
    exps, notes = [], []
    for i, a in enumerate(d["approaches"]):
        name = a["name"]
        pos, text = STEPS.get(name, (4.0, a["title"]))
        col = per_budget.get(name)
        if col is not None:
            pts = [(p["flops"], p[col]) for p in used if p.get(col)]
            if pts:
                series.append(Series("points", *zip(*pts), label=text, group=name))
        series.append(Series("line", xs, a["params"] * (xs / target) ** a["exponent_params"], group=name,
                             label=text if col is None else "", legend=col is None))
        iv_n, iv_a = _iv(a, "params"), _iv(a, "a")
        x_t = target * 10 ** (0.06 * (i - 1.5))  # side by side at the target, not on top of each other
        if iv_n:
            series.append(errorbars([x_t], [a["params"]], [iv_n[0]], [iv_n[1]], group=name,
                                    text=[f"{text}: N* = {si(a['params'])} [{si(iv_n[0])}, {si(iv_n[1])}]"]))
        else:
            series.append(Series("star", [x_t], [a["params"]], group=name, text=[f"{text}: N* {si(a['params'])}"]))
        if iv_a:
            exps.append(errorbars([pos], [a["exponent_params"]], [iv_a[0]], [iv_a[1]], group=name,
                                  label=f"{text}: a = {a['exponent_params']:.3f} [{iv_a[0]:.3f}, {iv_a[1]:.3f}]"))
        else:
            exps.append(Series("star", [pos], [a["exponent_params"]], group=name,
                               label=f"{text}: a = {a['exponent_params']:.3f}"))
    series.append(Series("vline", [target], label=""))
    ag = d["agreement"]
    verdict = {True: "their intervals for a overlap", False: "their intervals for a do NOT overlap",
               None: "no intervals (bootstrap 0)"}[ag.get("intervals_overlap")]
    notes = [f"target C = {si(target)} FLOP: bars at the target are {level} intervals, set side by side",
             f"spread of a over approaches 1-3: {ag['exponent_spread']:.3f}; {verdict}"]
    main = Panel("N*(C): each approach's minima and power law, to the target", "training compute C (FLOP)",
                 "compute-optimal parameters N*", tuple(series), notes=tuple(notes))
    expo = Panel("exponent a of N* ∝ C^a" + (f" with {level} intervals" if level else ""),
                 "approach (Hoffmann et al. 2022, §3): 1 envelope · 2 IsoFLOP profiles · 3 parametric",
                 "exponent a", tuple(exps), xlog=False, ylog=False)
    prof_panel, warns = _profiles_panel(d, data)
    caption = (f"{d['source']} ({d['convention']}): the compute-optimal model size per budget by the envelope of the "
               f"runs (1), IsoFLOP profile fits ({prof}, and parabolas for comparison) (2) and a law fitted to every "
               "point (3), each extended as a power law to the target; intervals from "
               f"{d['bootstrap']} bootstrap resamples of runs.")
    return Figure("approaches", f"Chinchilla's three approaches on {d['source']}", (main, expo, prof_panel), caption,
                  tuple(d.get("warnings", [])) + warns, {"agreement": ag})


def _profiles_panel(d: dict, data) -> tuple[Panel, tuple[str, ...]]:
    """The IsoFLOP profiles: each budget's runs (when the sweep's data are given) and the fitted minima."""
    prof = d["profile"]
    used = [p for p in d["profiles"] if p.get("used") and p.get(f"{prof}_params") and p.get(f"{prof}_loss")]
    series, warns, notes = [], (), []
    if data is not None:
        drawn, warns = _sweep_series(d, data)
        series += drawn
    else:
        notes.append("give the sweep's runs (--data SOURCE) to draw each profile's points")
    if used:
        xs, ys = [p[f"{prof}_params"] for p in used], [p[f"{prof}_loss"] for p in used]
        series.append(Series("dashed", xs, ys, legend=False))
        series.append(Series("star", xs, ys, label=f"fitted minimum ({prof} profile)",
                             text=[f"C = {si(p['flops'])}: N* = {si(x)}" for p, x in zip(used, xs)]))
    left = sum(1 for p in d["profiles"] if not p.get("used"))
    if left:
        notes.append(f"{plural(left, 'budget')} left out: best run at the end of the sweep")
    return Panel("IsoFLOP profiles and their fitted minima", "parameters N", "loss (nats/token)", tuple(series),
                 palette="sequential", notes=tuple(notes)), warns


def _sweep_series(d: dict, data) -> tuple[list[Series], tuple[str, ...]]:
    from ..plan.approaches import budget_points
    from ..runs import read_runs

    try:
        runs = read_runs(data, require=["params", "tokens", "loss"], purpose="the IsoFLOP profiles need them")
        _, log_c, log_n, loss, budget, _ = budget_points(runs, flops_per_param(d["convention"]), 0.1)
    except ScalingLawsError as exc:  # the figure stands without the points: say why they are missing
        return [], (_warn(f"the profiles' runs are not drawn: {str(exc).rstrip('.')}"),)
    counts = np.bincount(budget)
    expected = [p["points"] for p in d["profiles"]]
    if list(counts) != expected:
        return [], (_warn(f"the runs of {runs.source} do not make the sweep behind this record ({len(counts)} "
                          f"budgets of {', '.join(map(str, counts[:6]))} points vs {len(expected)} of "
                          f"{', '.join(map(str, expected[:6]))}), so they are not drawn: give the same runs and "
                          f"filters, e.g. --data '{runs.source}?family=...'"),)
    out = []
    for g, p in enumerate(d["profiles"]):
        idx = np.flatnonzero(budget == g)
        idx = idx[np.argsort(log_n[idx], kind="stable")]
        lab = f"C = {si(p['flops'])}"
        out.append(Series("line", np.exp(log_n[idx]), loss[idx], group=lab, legend=False))
        out.append(Series("points", np.exp(log_n[idx]), loss[idx], group=lab, label=lab, legend=g in (0, len(
            counts) - 1)))
    return out, ()


# -- a plan: where each answer sits -------------------------------------------------------------------------------
def _cross(name: str, n: float, dd: float, section: dict, text: str) -> list[Series]:
    """A plan as a marker at (N, D) with its intervals drawn as a cross: bars in D, a segment in N."""
    hover = [f"{text}: N = {si(n)}, D = {si(dd)}"]
    iv_n, iv_d = _iv(section, "params"), _iv(section, "tokens")
    if iv_d and iv_d[0] and iv_d[1]:
        out = [errorbars([n], [dd], [iv_d[0]], [iv_d[1]], label=text, group=name, text=hover)]
    else:
        out = [Series("points", [n], [dd], label=text, group=name, text=hover)]
    if iv_n and iv_n[0] and iv_n[1]:
        out.append(Series("line", iv_n, [dd, dd], group=name, legend=False))
    return out


@figure_kind("plan", accepts=PLAN, default=True,
             title="where each answer of a plan sits in the (N, D) plane, with its intervals and the budget line")
def plan_figure(rec, **_) -> Figure:
    d = rec.to_dict()
    k = flops_per_param(d["convention"])
    series, ns = [], []
    parts = [("compute_optimal", "compute-optimal"), ("constrained", "data-constrained"),
             ("inference", "inference-aware"), ("target", "cheapest run to the target loss")]
    for key, text in parts:
        s = d.get(key)
        if s:
            series += _cross(key, s["params"], s["tokens"], s, text)
            ns.append(s["params"])
    if d.get("inference"):
        b = d["inference"]["baseline"]
        series.append(Series("points", [b["params"]], [b["tokens"]], group="baseline",
                             label="compute-optimal model of the same loss"))
    t = d.get("target")
    if t and t.get("given_params") and t.get("given_tokens"):
        series.append(Series("points", [t["given_params"]], [t["given_tokens"]], group="target", legend=False,
                             text=[f"N = {si(t['given_params'])} reaches loss {t['loss']:g} after "
                                   f"{si(t['given_tokens'])} tokens"]))
    if d.get("frontier"):
        al = d["frontier"]["allocations"]
        series.append(Series("dashed", [a["params"] for a in al], [a["tokens"] for a in al], group="frontier",
                             label="compute-optimal frontier"))
        ns += [a["params"] for a in al]
    if d.get("overtraining"):
        rows = d["overtraining"]["rows"]
        series.append(Series("points", [r["params"] for r in rows], [r["tokens"] for r in rows], group="ratios",
                             label="over-training ratios", text=[f"{r['ratio']:g} tokens/param" for r in rows]))
        ns += [r["params"] for r in rows]
    series.append(Series("star", [d["params"]], [d["tokens"]], group="recommended",
                         label=f"recommended run ({d['objective']})"))
    lo, hi = min(ns + [d["params"]]) / 3, max(ns + [d["params"]]) * 3
    grid = np.geomspace(lo, hi, 50)
    budget = (d.get("compute_optimal") or {}).get("flops") or d["flops"]
    series.insert(0, Series("dashed", grid, budget / (k * grid), label=f"C = {si(budget)} FLOP"))
    iv = _iv(d, "loss")
    notes = [f"recommended: N = {si(d['params'])}, D = {si(d['tokens'])}, loss {d['loss']:.4g}"
             + (f" [{iv[0]:.4g}, {iv[1]:.4g}]" if iv else ""),
             beyond(d["extrapolation"], ("N", "D"))]
    if t and t.get("given_params") and t.get("given_tokens"):
        notes.append(f"small dot of the target's colour: N = {si(t['given_params'])} reaches loss {t['loss']:g} "
                     f"after {si(t['given_tokens'])} tokens")
    panel = Panel(f"Plan under {d['law']}: parameters and tokens of each answer", "parameters N",
                  "training tokens D", tuple(series), notes=tuple(notes))
    caption = (f"Each answer of the plan as (N, D), with its {pct(d['level'])} intervals in N and in D as a cross; "
               f"the dashed line spends the budget ({d['convention']})." if d["level"] else
               "Each answer of the plan as (N, D) (no intervals: the fit has no bootstrap).")
    return Figure("plan", f"Plan ({d['objective']}) under {d['law']}", (panel,), caption,
                  tuple(d.get("warnings", [])))


@figure_kind("frontier", accepts=PLAN, title="compute-optimal model size and tokens against compute",
             applies=lambda rec: bool(rec.to_dict().get("frontier")))
def plan_frontier_figure(rec, **_) -> Figure:
    from ..plan.optimal import Allocation, Frontier
    from .frontier_figures import frontier_panels

    f = rec.to_dict().get("frontier")
    if not f:
        raise ScalingLawsError("this plan has no frontier: plan with --frontier LO:HI (e.g. 1e21:1e25:5)")
    allocations = tuple(Allocation(**{k: v for k, v in a.items() if k not in ("format", "warnings")},
                                   warnings=tuple(a.get("warnings", []))) for a in f["allocations"])
    front = Frontier(allocations=allocations, exponents=f["exponents"], intervals=f["intervals"], level=f["level"],
                     method=f["method"])
    return Figure("frontier", f"Compute-optimal frontier ({front.method})", frontier_panels(front),
                  "The loss-minimising split of each budget between parameters and tokens.")


# -- over-training ----------------------------------------------------------------------------------------------
def _overtraining_panels(o: dict) -> tuple[Panel, ...]:
    rows, ivs = o["rows"], o.get("intervals") or [None] * len(o["rows"])
    r = np.array([row["ratio"] for row in rows])
    dense = len(rows) > 8
    level = pct(o["level"])
    panels = []
    for key, scale, title, ylabel in (
            ("excess_loss", 1.0, f"loss given up at C = {si(o['flops'])} FLOP", "loss above the optimum (nats)"),
            ("compute_overhead", 100.0, "extra compute to match the optimum's loss", "extra compute (%)")):
        y = np.array([row[key] for row in rows]) * scale
        has_iv = all(iv and iv.get(key) for iv in ivs)
        series = []
        if has_iv:
            lo = np.array([iv[key][0] for iv in ivs]) * scale
            hi = np.array([iv[key][1] for iv in ivs]) * scale
            if dense:
                series.append(band(r, lo, hi, label=f"{level} interval", group="ratio"))
            else:
                series.append(errorbars(r, y, lo, hi, label=f"{level} interval", group="ratio"))
        series.append(Series("line", r, y, group="ratio", legend=False))
        series.append(Series("vline", [o["optimal_ratio"]]))
        series.append(Series("hline", [0.0], [0.0]))
        notes = (f"optimum: {o['optimal_ratio']:.3g} tokens per parameter (dashed line), loss {o['optimal_loss']:.4g}",)
        panels.append(Panel(title, "tokens per parameter D/N", ylabel, tuple(series), ylog=False,
                            notes=notes if not panels else ()))
    return tuple(panels)


def _overtraining_caption(o: dict) -> str:
    return (f"At a fixed budget of {si(o['flops'])} FLOP ({o['convention']}), training a smaller model on more tokens "
            "than the optimum costs loss (left) or, to match the optimum's loss, extra compute (right) (de Vries 2023; "
            "Gadre et al. 2024).")


@figure_kind("overtraining", accepts=(OVERTRAINING,) + PLAN, default=True,
             title="over-training: loss given up and extra compute against tokens per parameter",
             applies=lambda rec: kind_of(rec.to_dict()) == "overtraining" or bool(rec.to_dict().get("overtraining")))
def overtraining_figure(rec, **_) -> Figure:
    d = rec.to_dict()
    o = d if kind_of(d) == "overtraining" else d.get("overtraining")
    if not o:
        raise ScalingLawsError("this plan has no over-training table: plan with --ratios 20,100,500 (and --flops)")
    return Figure("overtraining", f"Over-training at {si(o['flops'])} FLOP", _overtraining_panels(o),
                  _overtraining_caption(o))


# -- inference-aware ----------------------------------------------------------------------------------------------
def _lifetime_panel(i: dict) -> Panel:
    """Training plus serving compute of the planned model and of the compute-optimal model of the same loss, as
    the tokens served vary: each is a line k·N·D + s·N·T, exact from the record."""
    b, t = i["baseline"], i["served_tokens"]
    s = i["inference_flops"] / (i["params"] * t)  # serving FLOP per parameter per token
    cross = (i["training_flops"] - b["training_flops"]) / (s * (b["params"] - i["params"])) \
        if b["params"] != i["params"] else float("nan")
    lo = min(t / 1000, cross / 10) if np.isfinite(cross) and cross > 0 else t / 1000
    grid = np.geomspace(lo, t * 100, 80)
    series = [Series("line", grid, i["training_flops"] + s * i["params"] * grid, group="plan",
                     label=f"inference-aware: N = {si(i['params'])}, D = {si(i['tokens'])}"),
              Series("dashed", grid, b["training_flops"] + s * b["params"] * grid, group="baseline",
                     label=f"compute-optimal of the same loss: N = {si(b['params'])}"),
              Series("vline", [t]),
              Series("star", [t, t], [i["total_flops"], b["total_flops"]], group="target",
                     label="planned tokens served",
                     text=[f"total {si(i['total_flops'])} FLOP", f"total {si(b['total_flops'])} FLOP"])]
    iv = _iv(i, "savings")
    notes = [f"{si(t)} tokens served: {i['savings']:.1%} less total compute"
             + (f" [{iv[0]:.1%}, {iv[1]:.1%}]" if iv else "")]
    if np.isfinite(cross) and cross > 0:
        notes.append(f"the smaller model pays off beyond {si(cross)} tokens served")
    return Panel("training plus serving compute against tokens served", "tokens served over the model's life",
                 "total compute (FLOP)", tuple(series), notes=tuple(notes))


@figure_kind("inference", accepts=(INFERENCE,) + PLAN, default=True,
             title="inference-aware allocation: lifetime compute of the planned model against tokens served",
             applies=lambda rec: kind_of(rec.to_dict()) == "inference_plan" or bool(rec.to_dict().get("inference")))
def inference_figure(rec, **_) -> Figure:
    d = rec.to_dict()
    i = d if kind_of(d) == "inference_plan" else d.get("inference")
    if not i:
        raise ScalingLawsError("this plan has no inference-aware section: plan with --inference-tokens T")
    caption = ("Sardana et al. 2024: a model that will serve tokens costs k·N·D to train and s·N per token to serve "
               f"({i['convention']}). Lines: the lifetime compute of the planned model and of the compute-optimal "
               "model of the same loss, against tokens served.")
    return Figure("inference", f"Inference-aware plan for {si(i['served_tokens'])} tokens served",
                  (_lifetime_panel(i),), caption, tuple(i.get("warnings", [])))
