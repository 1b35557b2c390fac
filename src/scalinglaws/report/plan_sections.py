"""Report sections for planning records (docs/planning.md): a plan from `plan.plan(...)` (`scalinglaws plan --json`)
with every answer it holds, and Chinchilla's three approaches side by side (`scalinglaws approaches --json`).

Records are read through `to_dict()`, so a live record and one read back from its --json file report alike.
"""

from __future__ import annotations

from html import escape
from types import SimpleNamespace

from ..render.html_tables import allocation_html, table
from ..render.text import beyond, interval, num
from .sections import Context, Section, section_kind, try_figure

PLAN = ("scalinglaws.plan.planner:Plan", "scalinglaws.plots.saved:Plan")
APPROACHES = ("scalinglaws.plan.approaches:Approaches", "scalinglaws.plots.saved:Approaches")


def _rows(section: dict, fields) -> list[list]:
    """[label, value, interval] for each (label, key) the section has."""
    ivs = section.get("intervals") or {}
    return [[text, num(section[key]) if not isinstance(section[key], str) else section[key],
             interval(ivs.get(key)) if ivs.get(key) else "–"]
            for text, key in fields if section.get(key) is not None]


def _muted(lines) -> str:
    return "".join(f"<div class='muted'>{escape(str(n))}</div>" for n in lines)


@section_kind("plan_record", accepts=PLAN, order=20)
def plan_record_section(rec, ctx: Context, label: str) -> list[Section]:
    d = rec.to_dict()
    level = f"{int(round(d['level'] * 100))}% interval" if d.get("level") else "interval"
    body = [f"<p>Recommended: the <strong>{escape(d['objective'])}</strong> run under law "
            f"<code>{escape(d['law'])}</code> ({escape(d['convention'])})"
            + (f", {beyond(d['extrapolation'], ('N', 'D'))}" if d["extrapolation"] > 1 else "") + ".</p>"
            + (f"<p class='sl-warn'><strong>{escape(d['headline'])}</strong></p>" if "OVER the budget"
               in str(d.get("headline", "")) else ""),
            table("Recommended run", ["", "value", level],
                  _rows(d, [("parameters N", "params"), ("tokens D", "tokens"), ("tokens per parameter",
                                                                                  "tokens_per_param"),
                            ("loss", "loss"), ("training FLOP", "flops")]), style=False, left=1)]
    if d.get("compute_optimal"):
        a = d["compute_optimal"]
        body.append(allocation_html(SimpleNamespace(**a), style=False,
                                    caption=f"Compute-optimal at {num(a['flops'])} FLOP ({a['method']})"))
    c = d.get("constrained")
    if c:
        rep = c["repetition"]
        body.append(table(f"Data-constrained: {num(c['unique_tokens'])} unique tokens (R_D {rep['R_D']:.3g}, "
                          f"R_N {rep['R_N']:.3g}: {rep['source']})", ["", "value", level],
                          _rows(c, [("parameters N", "params"), ("tokens D", "tokens"), ("epochs", "epochs"),
                                    ("loss", "loss"), ("loss given up to the data wall", "loss_penalty"),
                                    ("effective tokens D'", "effective_tokens"), ("useful budget (FLOP)",
                                                                                  "useful_flops")]), style=False))
    i = d.get("inference")
    if i:
        rows = _rows(i, [("parameters N", "params"), ("tokens D", "tokens"), ("tokens per parameter",
                                                                              "tokens_per_param"),
                         ("loss", "loss"), ("training FLOP", "training_flops"), ("serving FLOP", "inference_flops"),
                         ("total FLOP", "total_flops")])
        iv = (i.get("intervals") or {}).get("savings")
        rows += [["compute-optimal model of that loss: N", num(i["baseline"]["params"]), "–"],
                 ["its total FLOP", num(i["baseline"]["total_flops"]), "–"],
                 ["total compute saved", f"{i['savings']:.1%}", f"[{iv[0]:.1%}, {iv[1]:.1%}]" if iv else "–"]]
        body.append(table(f"Inference-aware: {num(i['served_tokens'])} tokens served ({i['mode']})",
                          ["", "value", level], rows, style=False))
    t = d.get("target")
    if t:
        rows = _rows(t, [("cheapest N", "params"), ("its tokens", "tokens"), ("its FLOP", "flops"),
                         ("smallest N that can reach it", "smallest_params")])
        if t.get("given_params") is not None:
            rows += _rows(t, [(f"tokens for N = {num(t['given_params'])}", "given_tokens"),
                              ("their FLOP", "given_flops")])
        body.append(table(f"Target loss {t['loss']:g}", ["", "value", level], rows, style=False))
    o = d.get("overtraining")
    if o:
        rows = [[num(r["ratio"]), num(r["params"]), num(r["loss"], 5), f"{r['excess_loss']:+.4f}",
                 num(r["params_same_loss"]), f"{r['compute_overhead']:+.1%}"] for r in o["rows"]]
        body.append(table(f"Over-training at {num(o['flops'])} FLOP (optimum {o['optimal_ratio']:.1f} tokens per "
                          "parameter)", ["tokens/param", "N", "loss", "Δloss", "N for the optimum's loss",
                                         "extra compute"], rows, style=False, left=0))
    if d.get("frontier"):
        f = d["frontier"]
        body.append(allocation_html([SimpleNamespace(**a) for a in f["allocations"]], style=False,
                                    caption=f"Frontier: N* ∝ C^{f['exponents']['params']:.3f}, D* ∝ "
                                            f"C^{f['exponents']['tokens']:.3f} ({f['method']})"))
    notes: list[str] = []
    figs = [try_figure("plan", rec, notes)]
    for kind, key in (("frontier", "frontier"), ("overtraining", "overtraining"), ("inference", "inference")):
        if d.get(key):
            figs.append(try_figure(kind, rec, notes))
    body.append(_muted(notes))
    title = f"Plan: {d['objective']} run under {d['law']}" + (f" ({label})" if label else "")
    return [Section(title, "plan_record", "".join(body), tuple(f for f in figs if f is not None),
                    tuple(d.get("warnings", [])), label)]


@section_kind("approaches", accepts=APPROACHES, order=25)
def approaches_section(rec, ctx: Context, label: str) -> list[Section]:
    d = rec.to_dict()
    level = f"{int(round(d['level'] * 100))}%"

    def cell(a, key, value, digits=3):
        iv = (a.get("intervals") or {}).get(key)
        return num(value, digits) + (f" {interval(iv)}" if iv else "")

    rows = [[a["title"], cell(a, "a", a["exponent_params"]), cell(a, "params", a["params"]),
             cell(a, "tokens_per_param", a["tokens_per_param"]), a["budgets"], "; ".join(a.get("notes", []))]
            for a in d["approaches"]]
    ag = d["agreement"]
    verdict = {True: "their intervals for a overlap", False: "their intervals for a do NOT overlap",
               None: "no intervals (bootstrap 0)"}[ag.get("intervals_overlap")]
    prof = d["profile"]
    prows = [[num(p["flops"]), p["points"], "yes" if p["used"] else "no (best run at the end of the sweep)",
              num(p.get("envelope_params")), num(p.get(f"{prof}_params")), num(p.get(f"{prof}_loss"))]
             for p in d["profiles"]]
    body = [f"<p>N* ∝ C^a on <code>{escape(d['source'])}</code> ({escape(d['convention'])}), and the plan at "
            f"C = {escape(num(d['flops']))} FLOP, by each of Hoffmann et al. (2022)'s approaches; {level} intervals "
            f"from {d['bootstrap']} resamples. Spread of a over approaches 1-3: {ag['exponent_spread']:.3f}; "
            f"{escape(verdict)}; tokens per parameter at the target from {num(ag['tokens_per_param_range'][0])} to "
            f"{num(ag['tokens_per_param_range'][1])}.</p>",
            table("Approaches (value [interval])", ["approach", "a", "N* at C", "tokens per parameter", "budgets / "
                  "points", "notes"], rows, style=False, left=1),
            "<details><summary>each budget's profile</summary>"
            + table("", ["C (FLOP)", "points", "used", "envelope N*", f"{prof} N*", f"{prof} loss"], prows,
                    style=False, left=0) + "</details>"]
    notes: list[str] = []
    fig = try_figure("approaches", rec, notes, data=ctx.data)
    if ctx.data is None:
        notes.append("the profiles' runs are drawn when the report is given the sweep with --data SOURCE")
    body.append(_muted(notes))
    title = f"Chinchilla's three approaches: {d['source']}" + (f" ({label})" if label else "")
    return [Section(title, "approaches", "".join(body), (fig,) if fig else (), tuple(d.get("warnings", [])),
                    label)]
