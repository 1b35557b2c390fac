"""Report sections for the evidence behind forecasts and the decisions built on them (docs/decisions.md): backtests,
law rankings and the choice of `fit --law auto`, recipe comparisons, downstream forecasts, test-time scaling and
emergence.

Records are read through `to_dict()`, so a live record and one read back from its --json file report alike.
"""

from __future__ import annotations

from html import escape

from ..render.html_tables import table
from ..render.text import num
from .sections import Context, Section, section_kind, try_figure

BACKTEST = ("scalinglaws.decide.backtesting:Backtest", "scalinglaws.plots.saved:Backtest")
RANKING = ("scalinglaws.decide.select:Ranking", "scalinglaws.plots.saved:Ranking")
FIT = "scalinglaws.fitting.record:Fit"
COMPARISON = ("scalinglaws.decide.comparison:Comparison", "scalinglaws.plots.saved:Comparison")
DOWNSTREAM = ("scalinglaws.decide.downstream:Downstream", "scalinglaws.plots.saved:Downstream")
TESTTIME = ("scalinglaws.decide.testtime:TestTimeForecast", "scalinglaws.plots.saved:TestTimeForecast")
EMERGENCE = ("scalinglaws.decide.emergence:Emergence", "scalinglaws.plots.saved:Emergence")


def _pct(v, digits: int = 2) -> str:
    return "–" if v is None else f"{100 * v:.{digits}f}%"


def _mult(v) -> str:
    return "∞ (out of reach)" if v is None else f"{v:.3g}×"


def _titled(text: str, label: str) -> str:
    return text + (f" ({label})" if label else "")


def _section(kind: str, title: str, body: list[str], rec, figure: str, warns=(), label: str = "",
             **options) -> list[Section]:
    notes: list[str] = []
    fig = try_figure(figure, rec, notes, **options)
    body.append("".join(f"<div class='muted'>{escape(n)}</div>" for n in notes))
    return [Section(_titled(title, label), kind, "".join(body), (fig,) if fig else (), tuple(warns), label)]


@section_kind("backtest", accepts=BACKTEST, order=50)
def backtest_section(rec, ctx: Context, label: str) -> list[Section]:
    d = rec.to_dict()
    cov = d.get("level") is not None and any(c.get("coverage") is not None for c in d["cuts"])
    header = ["cut", "fit runs", "held out", "extrapolation", "mean |err|", "max |err|", "bias"] + (
        [f"{int(round(d['level'] * 100))}% coverage"] if cov else [])
    rows = []
    for c in d["cuts"]:
        if c.get("error"):
            rows.append([num(c["cut"]), c["train_runs"], c["test_runs"], f"{c['extrapolation']:.3g}×",
                         f"failed: {c['error']}", "", ""] + ([""] if cov else []))
            continue
        rows.append([num(c["cut"]), c["train_runs"], c["test_runs"], f"{c['extrapolation']:.3g}×",
                     _pct(c["rel_error"]), _pct(c["max_rel_error"]), f"{100 * c['bias']:+.2f}%"]
                    + ([_pct(c["coverage"], 0)] if cov else []))
    body = [f"<p>Fit <code>{escape(d['label'])}</code> to the runs of <code>{escape(d['source'])}</code> up to each "
            f"cut in {escape(d['by'])}, predict every larger run: mean held-out error {_pct(d.get('score'))}"
            + (f", bias {100 * d['bias']:+.2f}% (+: too high)" if d.get("bias") is not None else "")
            + (f", {_pct(d['coverage'], 0)} of held-out rows inside their interval" if d.get("coverage") is not None
               else "") + ".</p>",
            table("Cuts", header, rows, style=False, left=0)]
    warns = tuple(dict.fromkeys(w for c in d["cuts"] for w in c.get("warnings", [])))
    return _section("backtest", f"Backtest: {d['label']} on {d['source']}", body, rec, "backtest", warns, label)


def _ranking_table(cands, winner: str) -> str:
    rows = [[i, c["label"] + (" (chosen)" if c["label"] == winner else ""), c["n_params"], _pct(c.get("score")),
             f"{100 * c['bias']:+.2f}%" if c.get("bias") is not None else "–",
             " ".join(_pct(e, 1) if e is not None else "failed" for e in c["per_cut"]),
             "yes" if c.get("complete", True) else "no"] for i, c in enumerate(cands, 1)]
    return table("Candidates, best first", ["", "law", "fitted parameters", "mean |err|", "bias", "per cut",
                                             "every cut fitted"], rows, style=False, left=2)


@section_kind("ranking", accepts=RANKING, order=51)
def ranking_section(rec, ctx: Context, label: str) -> list[Section]:
    d = rec.to_dict()
    cands = [{"label": b["label"], "n_params": b["n_params"], "score": b["score"], "bias": b["bias"],
              "complete": b["complete"], "per_cut": [c["rel_error"] for c in b["cuts"]]} for b in d["ranking"]]
    body = [f"<p>Every candidate law backtested on the same cuts of <code>{escape(d['source'])}</code> (on "
            f"{escape(d['by'])}); among those within {100 * d['tolerance']:.0f}% of the lowest error, the one with "
            f"the fewest fitted parameters ranks first: <strong>{escape(d['best'])}</strong>.</p>",
            _ranking_table(cands, d["best"])]
    body += [f"<div class='muted'>skipped {escape(s['label'])}: {escape(s['reason'])}</div>" for s in d["skipped"]]
    return _section("ranking", f"Laws ranked by backtest on {d['source']}", body, rec, "selection", (), label)


@section_kind("selection", accepts=FIT, order=11)
def selection_section(fit, ctx: Context, label: str) -> list[Section]:
    """Beside a fit made with --law auto: which law won the backtest, and why."""
    sel = (fit.extra or {}).get("selection")
    if not sel:
        return []
    body = [f"<p>Law chosen by a rollout backtest ({len(sel['cuts'])} cuts on {escape(sel['by'])}): "
            f"<strong>{escape(sel['winner'])}</strong>: {escape(sel['reason'])}.</p>",
            _ranking_table(sel["candidates"], sel["winner"])]
    return _section("selection", f"Law selection for {fit.data.get('source', '?')}", body, fit, "selection", (),
                    label)


@section_kind("comparison", accepts=COMPARISON, order=52)
def comparison_section(rec, ctx: Context, label: str) -> list[Section]:
    d = rec.to_dict()
    pct = f"{int(round(d['level'] * 100))}%"
    rows = [[g["label"] + (" (best)" if g["label"] == d["best"] else ""), g["law"], g["runs"], num(g["prediction"], 5),
             f"[{num(g['lower'], 4)}, {num(g['upper'], 4)}]",
             f"{num(g['scale_range'][0], 2)} – {num(g['scale_range'][1], 2)}"] for g in d["groups"]]
    how = "on each group's compute-optimal frontier" if d["frontier"] else f"along {d['axis']}"
    if d.get("higher_better"):
        how += f", fitted as 1 − {d['metric']}"
    if d.get("pareto"):
        how += ", on each group's compute-Pareto front"
    body = [f"<p>{escape(d['metric'])} at {escape(d['axis'])} = {num(d['target'])} ({escape(how)}), groups by "
            f"<code>{escape(d['by'])}</code>, baseline {escape(d['baseline'])}.</p>",
            table("Groups at the target", [d["by"], "law", "runs", "prediction", f"{pct} interval",
                                           f"data {d['axis']}"], rows, style=False, left=2)]
    lead = d.get("lead")
    if lead:
        cross = lead.get("crossover")
        body.append(table(f"Who leads at the target: {lead['winner']} over {lead['runner_up']}", ["", "value"], [
            ["ahead by", f"{num(lead['gap'], 4)} [{num(lead['lower'], 3)}, {num(lead['upper'], 3)}]"],
            [f"{lead['winner']} ahead in", f"{100 * lead['p_winner']:.0f}% of draws"],
            [f"compute {lead['runner_up']} needs to match", f"{_mult(lead['multiplier'])} "
                                                             f"[{_mult(lead['multiplier_lower'])}, "
                                                             f"{_mult(lead['multiplier_upper'])}]"],
            ["crossover nearest the target", "none" if not cross else
             f"{d['axis']} ≈ {num(cross['scale'], 3)} [{num(cross.get('lower'), 3)}, {num(cross.get('upper'), 3)}]"],
            ["verdict", lead["verdict"]]], style=False, left=2))
    for p in d["pairs"]:
        cross = "; ".join(f"{d['axis']} ≈ {num(c['scale'], 3)}"
                          + (f" [{num(c['lower'], 3)}, {num(c['upper'], 3)}]" if c.get("lower") else "")
                          + f" ({100 * c['share']:.0f}% of draws cross near it)" for c in p["crossovers"])
        body.append(table(f"{p['label']} vs {p['baseline']}", ["", "value"], [
            ["difference at the target", f"{p['difference']:+.4f} [{p['lower']:+.4f}, {p['upper']:+.4f}]"],
            [f"{p['label']} better in", f"{100 * p['p_better']:.0f}% of draws"],
            ["effective-compute multiplier at the target", f"{_mult(p['multiplier'])} [{_mult(p['multiplier_lower'])}"
                                                            f", {_mult(p['multiplier_upper'])}]"],
            ["crossovers", cross or f"none between {num(d['search'][0], 2)} and {num(d['search'][1], 2)}"],
            ["verdict", p["verdict"]]], style=False, left=2))
    warns = tuple(dict.fromkeys(f"group {g['label']}: {w}" for g in d["groups"] for w in g.get("warnings", [])))
    return _section("comparison", f"Comparison by {d['by']}: " + ", ".join(g["label"] for g in d["groups"]), body,
                    rec, "comparison", warns, label)


def _scores(trend) -> str:
    b, s = trend.get("breakthroughness"), trend.get("smoothness")
    return "–" if b is None or s is None else f"{b:.1f} / {s:.2f}"


@section_kind("downstream", accepts=DOWNSTREAM, order=53)
def downstream_section(rec, ctx: Context, label: str) -> list[Section]:
    d = rec.to_dict()
    pct = f"{int(round(d['level'] * 100))}%"
    head = (f"Step 1: {escape(d['via'])} from scale by {escape(str(d['law']))} ("
            + ", ".join(f"{escape(k)} = {num(v)}" for k, v in d["law_params"].items()) + ")"
            + (f", {_pct(d['loss_error'])} error on the targets" if d.get("loss_error") is not None else "")
            + "; step 2: a link from it to each task's accuracy." if d.get("via") else
            f"One step: accuracy from log {escape(d['axis'])}.")
    tasks = [[t["task"], t["status"], t["trend"].get("route", "–"), _scores(t["trend"]), f"{t['chance']:g}",
              t["link"] if t.get("link_params") else "–",
              "–" if t.get("mean_abs_error") is None else f"{t['mean_abs_error']:.3f}",
              "–" if t.get("link_only_error") is None else f"{t['link_only_error']:.3f}", t["reason"]]
             for t in d["tasks"]]
    body = [f"<p>{head} Fitted to {d['train_runs']} runs ({d['train_rows']} rows), {pct} {escape(d['interval'])} "
            "intervals.</p>",
            table("Tasks", ["task", "status", "route", "breakthroughness / smoothness", "chance", "link",
                            "mean |error|", "link alone", "trend"], tasks, style=False, left=9)]
    for t in d["tasks"]:
        if not t.get("forecasts"):
            continue
        cols = ["run"] if "run" in t["forecasts"][0] else [c for c in ("params", "tokens", "flops")
                                                           if c in t["forecasts"][0]]
        rows = [[str(r[c]) if c == "run" else num(r[c]) for c in cols]
                + ([num(r["loss"], 4)] if d.get("via") else [])
                + [f"{r['prediction']:.3f}", f"[{r['lower']:.3f}, {r['upper']:.3f}]",
                   "–" if r.get("observed") is None else f"{r['observed']:.3f}"] for r in t["forecasts"]]
        body.append(table(f"{t['task']} ({t['link']} link)", cols + (["L"] if d.get("via") else [])
                          + ["forecast", f"{pct} interval", "observed"], rows, style=False, left=len(cols)))
    warns = tuple(f"{t['task']} not forecast: {t['reason']}" for t in d["tasks"]
                  if not t["status"].startswith("forecast"))
    return _section("downstream", "Downstream forecasts" + (f" through {d['via']}" if d.get("via") else ""), body,
                    rec, "downstream", warns, label)


@section_kind("testtime", accepts=TESTTIME, order=54)
def testtime_section(rec, ctx: Context, label: str) -> list[Section]:
    d = rec.to_dict()
    pct = f"{int(round(d['level'] * 100))}%"
    v = d["verifier"]
    rows = [[f"{r['k']}" + (" (beyond the data)" if r["beyond_data"] else ""), f"{r['coverage']:.3f}",
             f"[{r['coverage_lower']:.3f}, {r['coverage_upper']:.3f}]", f"{r['accuracy']:.3f}",
             f"[{r['accuracy_lower']:.3f}, {r['accuracy_upper']:.3f}]", f"{r['wrong']:.3f}", f"{r['samples']:.1f}",
             f"{r['utility']:.4g}"] for r in d["forecast"]]
    p, c = d["params"], d["ceiling"]
    body = [f"<p>{d['problems']} problems, {d['samples'][0]}–{d['samples'][1]} samples each. Difficulty: "
            f"{100 * p['unsolvable']:.1f}% unsolvable, the rest p ~ Beta({p['a']:.3g}, {p['b']:.3g}), within "
            f"{100 * d['fit_error']:.2f} points of the measured coverage. Ceilings as k grows: coverage "
            f"{c['coverage']:.3f} [{c['coverage_interval'][0]:.3f}, {c['coverage_interval'][1]:.3f}], accuracy with "
            f"this verifier (fpr {v['fpr']:g}, tpr {v['tpr']:g}) {c['accuracy']:.3f} "
            f"[{c['accuracy_interval'][0]:.3f}, {c['accuracy_interval'][1]:.3f}].</p>",
            table("Forecast", ["k", "coverage", f"{pct} interval", "accuracy", f"{pct} interval", "wrong accepted",
                               "samples used", "utility"], rows, style=False, left=1)]
    if d.get("best"):
        b = d["best"]
        body.append(f"<p>Best k for this utility: <strong>{b['k']}</strong> (utility {b['utility']:.4g}, accuracy "
                    f"{b['accuracy']:.3f}, {b['samples']:.1f} samples on average).</p>")
    return _section("testtime", "Test-time scaling: repeated sampling", body, rec, "testtime", (), label)


@section_kind("emergence", accepts=EMERGENCE, order=55)
def emergence_section(rec, ctx: Context, label: str) -> list[Section]:
    d = rec.to_dict()
    pct = f"{int(round(d['level'] * 100))}%"
    scale = d["scale"]
    law = d["laws"][0]
    sizes = [[num(s[scale]), str(s["problems"]), f"{100 * s['solved_share']:.0f}%", f"{100 * s['greedy_proxy']:.0f}%",
              *(f"{s['pass_at_k'][str(k)]:.3g}" for k in d["k"])] for s in d["sizes"]]
    rows = [[num(f["size"]), str(f["k"]), f"{f['prediction']:.3g}", f"[{f['lower']:.3g}, {f['upper']:.3g}]",
             "–" if f["observed"] is None else f"{f['observed']:.3g}"] for f in d["forecast"]]
    cur = d["curvature"]
    body = [f"<p>Task law over {len(d['sizes'])} sizes: log(−log pass@{law['k']}) = {law['log_c']:.3f} − "
            f"{law['alpha']:.3f}·log {escape(scale)} (Hu et al. 2023)"
            + (f"; curvature {cur['coefficient']:.3g} [{cur['interval'][0]:.3g}, {cur['interval'][1]:.3g}]"
               + (", accelerated emergence" if cur["accelerated"] else "") if cur.get("coefficient") is not None
               else "") + ".</p>",
            table("Fitted sizes", [scale, "problems", "solved at least once", "greedy (approx.)",
                                   *(f"pass@{k}" for k in d["k"])], sizes, style=False, left=1)]
    if rows:
        body.append(table("Forecast", [scale, "k", "forecast", f"{pct} {d['interval']}", "observed"], rows,
                          style=False, left=1))
    return _section("emergence", "Emergence: pass rates from repeated sampling", body, rec, "emergence",
                    tuple(d.get("warnings", ())), label)
