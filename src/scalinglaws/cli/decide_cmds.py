"""`backtest`, `compare`, `downstream` and `testtime`: the evidence for a forecast and the decisions it supports."""

from __future__ import annotations

import typer

from ..render.text import plural
from .app import app
from .common import DATA_HELP, console, emit_json, parse_at, parse_log_files, parse_pairs, progress_bar
from .options import BINDING, CALIBRATION, DATA, FIT, JSON, RESAMPLING, SELECTION, use


def _pct(v, digits: int = 2) -> str:
    return "–" if v is None else f"{100 * v:.{digits}f}%"


def _floats(text: str, option: str) -> list[float]:
    from ..errors import ScalingLawsError

    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ScalingLawsError(f"{option} {text}: write comma-separated numbers, e.g. {option} 1,10,100") from None


@app.command("backtest")
@use(BINDING, FIT, DATA, SELECTION, CALIBRATION, JSON, cuts=4,
     help={"bootstrap": "Resamples of each cut's fit, for interval coverage (0: errors and bias only).",
           "by": "Column that orders runs by scale: flops (default), params or tokens; with --law all, by the "
                 "data's shape (step within training curves of one model size).",
           "cuts": "Number of cuts, spread over 50-85% of the runs kept for fitting."})
def backtest_cmd(
    data: str = typer.Argument(..., help=DATA_HELP),
    law: str = typer.Option("chinchilla", "--law", "-l", help="A law name, or all (the laws of the data's shape, "
                            "ranked)."),
    cut: list[float] = typer.Option([], "--cut", help="Cut at this value of --by instead (repeatable)."),
    priors: bool = typer.Option(False, "--priors", help="With --law all: also the laws with published exponents."),
    *, inputs, target, options, where, rename, by, cuts, calibration, as_json,
):
    """Fit below each cut in scale, predict the runs above it: relative error, bias and interval coverage.

    --json prints the record with every held-out row of every cut (run, observed, prediction, interval, pit)."""
    from ..decide import backtest, compare_laws

    cut_spec = list(cut) if cut else cuts
    update, bar = progress_bar(not as_json, "laws backtested" if law == "all" else "cuts")
    common = dict(options=options, by=by, cuts=cut_spec, inputs=inputs, target=target, where=where, rename=rename,
                  calibration=calibration, progress=update)
    with bar:
        if law == "all":  # every law fitted as `fit` would: not law selection's quicker budget
            result = compare_laws(data, candidates="all", priors="published" if priors else None, quick=False,
                                  **common)
        else:
            result = backtest(data, law, **common)
    if as_json:
        emit_json(result.to_dict())
        return
    if law == "all":
        show_ranking(result)
    else:
        show_backtest(result)


def show_backtest(bt) -> None:
    from rich.table import Table

    from ..render.text import num

    con = console()
    con.print(f"[bold]{bt.label}[/bold] backtest on {bt.source}: fit on runs with {bt.by} ≤ cut, predict the rest")
    table = Table(header_style="bold", box=None)
    for c in ("cut", "fit runs", "held out", "extrap.", "mean |err|", "max |err|", "bias"):
        table.add_column(c, justify="right")
    if bt.level is not None:
        table.add_column(f"{int(round(bt.level * 100))}% cov.", justify="right")
    for c in bt.cuts:
        if not c.ok:
            table.add_row(num(c.cut), str(c.train_runs), str(c.test_runs), f"{c.extrapolation:.3g}×",
                          "[red]failed[/red]", "", "", *([""] if bt.level is not None else []))
            continue
        row = [num(c.cut), str(c.train_runs), str(c.test_runs), f"{c.extrapolation:.3g}×", _pct(c.rel_error),
               _pct(c.max_rel_error), f"{100 * c.bias:+.2f}%" if c.bias is not None else "–"]
        if bt.level is not None:
            row.append(_pct(c.coverage, 0))
        table.add_row(*row)
    con.print(table)
    con.print(f"mean held-out error {_pct(bt.score if bt.fitted else None)}"
              + (f", bias {100 * bt.bias:+.2f}% (log scale; + means too high)" if bt.bias is not None else "")
              + (f", {_pct(bt.coverage, 0)} of held-out rows inside their interval" if bt.coverage is not None
                 else ""))
    rel = bt.reliability()
    if rel is not None:
        shown = [(a, o) for a, o in zip(rel["nominal"], rel["observed"]) if a in (0.5, 0.8, 0.95)]
        con.print("held-out rows inside their " + " / ".join(_pct(a, 0) for a, _ in shown) + " intervals: "
                  + " / ".join(_pct(o, 0) for _, o in shown)
                  + f" (calibration {bt.calibration}; every level: --json, then plot --kind reliability)")
    for c in bt.cuts:
        if c.error:
            con.print(f"[dim]cut {num(c.cut)}: {c.error}[/dim]")


def show_ranking(ranking) -> None:
    from rich.markup import escape
    from rich.table import Table

    con = console()
    shape = f" ({ranking.shape.text})" if ranking.shape is not None else ""
    along = "within each curve along" if ranking.shape is not None and ranking.shape.within else "on"
    con.print(f"Laws ranked by backtested error on {ranking.source}{shape}, cuts {along} {ranking.by}:")
    table = Table(header_style="bold", box=None)
    level = next((b.level for b in ranking.backtests if b.level is not None), None)
    for c in ("", "law", "params", "mean |err|", "bias") + ((f"{_pct(level, 0)} cov.",) if level else ()) + (
            "per cut",):
        table.add_column(c, justify="right" if c not in ("law", "per cut") else "left")
    for i, b in enumerate(ranking.backtests, 1):
        per = " ".join(_pct(c.rel_error, 1) if c.ok else "failed" for c in b.cuts)
        cov = (_pct(b.coverage, 0),) if level else ()
        if b.label in ranking.rejected:
            per = "[red]rejected[/red] " + per
        table.add_row(str(i), b.label, str(b.n_params), _pct(b.score if b.fitted else None),
                      f"{100 * b.bias:+.2f}%" if b.bias is not None else "–", *cov, per)
    con.print(table)
    for label, why in ranking.rejected.items():
        con.print(f"[yellow]rejected {escape(label)}: {escape(why)}[/yellow]")
    for s in ranking.skipped:
        con.print(f"[dim]skipped {escape(s['label'])}: {escape(s['reason'])}[/dim]")


def show_headline(selection) -> None:
    """The line `fit --law auto` prints first: which law it chose, for what data, and why (decide/verdict.py)."""
    from rich.markup import escape

    console().print(f"[bold]{escape(selection['headline'])}[/bold]")


def show_selection(selection) -> None:
    """The lines `fit --law auto` prints under the fit: the runners-up, and the candidates rejected or skipped."""
    from rich.markup import escape

    con = console()
    others = ", ".join(f"{c['label']} {_pct(c['score'])}" for c in selection["candidates"][1:6])
    if others:
        con.print(f"[dim]runners-up: {escape(others)}[/dim]")
    for r in selection.get("rejected", []):
        con.print(f"[yellow]rejected {escape(r['label'])}: {escape(r['reason'])}[/yellow]")
    for s in selection.get("skipped", []):
        con.print(f"[dim]skipped {escape(s['label'])}: {escape(s['reason'])}[/dim]")


@app.command("compare")
@use(BINDING, FIT, DATA, CALIBRATION, JSON, bootstrap=200,
     help={"bootstrap": "Resamples of runs per group, for intervals (at least 20)."})
def compare_cmd(
    data: str = typer.Argument(..., help=DATA_HELP),
    by: str = typer.Option("family", "--by", help="Column whose values label the groups (recipes, datasets)."),
    at: list[str] = typer.Option([], "--at", help="The target scale, e.g. --at flops=1e23."),
    law: str = typer.Option(None, "--law", "-l", help="Law fitted to every group (default chinchilla with params "
                            "and tokens, else power; auto: chosen per group by backtest)."),
    group: list[str] = typer.Option([], "--group", "-g", help="Compare only these groups (repeatable)."),
    baseline: str = typer.Option(None, "--baseline", help="The group the others are compared with (default: first)."),
    search: str = typer.Option(None, "--search", help="Scale range searched for crossovers, LO:HI."),
    higher_better: bool = typer.Option(False, "--higher-better", help="The --target column is accuracy-like in "
                                       "[0, 1] (default: accuracy): fit the error 1 - target (law saturating by "
                                       "default), report in the target's units."),
    pareto: bool = typer.Option(False, "--pareto", help="Fit each group only on its compute-Pareto front (the runs "
                                "no run of less or equal compute beats), for dense grids of shapes."),
    *, inputs, target, options, where, rename, calibration, as_json,
):
    """Which group of runs is better at a target scale, the effective-compute multiplier, and the crossover."""
    from ..decide import compare
    from ..errors import ScalingLawsError

    targets = {k: float(v[0]) for k, v in parse_at(at).items()}
    span = None
    if search:
        lo, sep, hi = search.partition(":")
        try:
            span = (float(lo), float(hi))
        except ValueError:
            raise ScalingLawsError(f"--search {search}: write LO:HI, e.g. --search 1e18:1e26") from None
    result = compare(data, by, at=targets, law=law, groups=group or None, baseline=baseline, options=options,
                     inputs=inputs, target=target, where=where, rename=rename, search=span,
                     calibration=calibration, higher_better=higher_better, pareto=pareto)
    if as_json:
        emit_json(result.to_dict())
        return
    show_comparison(result)


def show_comparison(res) -> None:
    from rich.table import Table

    from ..render.text import beyond, num

    con = console()
    pct = f"{int(round(res.level * 100))}%"
    how = "on the compute-optimal frontier" if res.frontier else f"along {res.axis}"
    if res.higher_better:
        how += f", fitted as 1 − {res.metric}"
    if res.pareto:
        how += ", on each group's compute-Pareto front"
    con.print(f"{res.metric} at {res.axis} = {num(res.target)} ({how}):")
    table = Table(header_style="bold", box=None)
    for c in (res.by, "law", "runs", "prediction", f"{pct} interval", f"data {res.axis}"):
        table.add_column(c, justify="left" if c in (res.by, "law") else "right")
    for g in res.groups:
        runs = f"{g.runs}/{g.runs + g.off_front}" if res.pareto else str(g.runs)
        table.add_row(g.label + (" (best)" if g.label == res.best else ""), g.law, runs, num(g.prediction, 5),
                      f"[{num(g.lower, 4)}, {num(g.upper, 4)}]",
                      f"{num(g.scale_range[0], 2)}–{num(g.scale_range[1], 2)}")
    con.print(table)
    if res.lead is not None:
        _show_lead(con, res, pct)
    for p in res.pairs:
        con.print(f"\n[bold]{p.label}[/bold] vs {p.baseline}: difference {p.difference:+.4f} "
                  f"({pct} [{p.lower:+.4f}, {p.upper:+.4f}]), {p.label} better in {100 * p.p_better:.0f}% of draws")
        con.print(f"effective-compute multiplier at the target: {p.baseline} reaches {p.label}'s {res.metric} with "
                  f"{_mult(p.multiplier)} the compute ({pct} [{_mult(p.multiplier_lower)}, "
                  f"{_mult(p.multiplier_upper)}])")
        curve = Table(header_style="bold", box=None)
        for c in (res.axis, "multiplier", f"{pct} interval", "beyond the data"):
            curve.add_column(c, justify="right")
        for m in p.multipliers:
            far = m.get("beyond", 1.0)
            curve.add_row(num(m["scale"], 2), _mult(m["multiplier"]), f"[{_mult(m['lower'])}, {_mult(m['upper'])}]",
                          beyond(far, (res.axis,), short=True) if far <= 100 else f"[yellow]{far:.3g}×[/yellow]")
        con.print(curve)
        for c in p.crossovers:
            con.print(f"crossover at {res.axis} ≈ {num(c['scale'], 3)} ({pct} [{num(c['lower'], 3)}, "
                      f"{num(c['upper'], 3)}]; {100 * c['share']:.0f}% of draws cross near it)")
        if not p.crossovers:
            con.print(f"no crossover between {num(res.search[0], 2)} and {num(res.search[1], 2)}")
        lead = res.lead
        if lead is None or {p.label, p.baseline} != {lead.winner, lead.runner_up}:  # the lead's line said it
            con.print(p.verdict)


def _show_lead(con, res, pct: str) -> None:
    """Who leads at the target: one table row of the winner against the runner-up."""
    from rich.table import Table

    from ..render.text import num

    lead = res.lead
    table = Table(header_style="bold", box=None, title_justify="left")
    for c in ("leads at the target", "ahead by", f"{pct} interval", "runner-up needs", f"{pct} interval",
              "crossover", f"{pct} interval"):
        table.add_column(c, justify="left" if c == "leads at the target" else "right")
    cross = lead.crossover
    table.add_row(f"{lead.winner} over {lead.runner_up}", num(lead.gap, 4),
                  f"[{num(lead.lower, 3)}, {num(lead.upper, 3)}]", _mult(lead.multiplier),
                  f"[{_mult(lead.multiplier_lower)}, {_mult(lead.multiplier_upper)}]",
                  "none" if cross is None else num(cross["scale"], 3),
                  "" if cross is None else f"[{num(cross['lower'], 3)}, {num(cross['upper'], 3)}]")
    con.print(table)
    con.print(lead.verdict)


def _mult(v) -> str:
    import math

    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if math.isinf(v):
        return "∞"
    return f"{v:.3g}×"


@app.command("downstream")
@use(RESAMPLING, DATA, CALIBRATION, JSON, bootstrap=200, help={"bootstrap": "Resamples of runs for each step."})
def downstream_cmd(
    data: str = typer.Argument(..., help=DATA_HELP),
    task: list[str] = typer.Option([], "--task", help="Accuracy column to forecast (repeatable)."),
    via: str = typer.Option(None, "--via", help="Intermediate loss column (task loss, bits per byte). Without it: "
                            "one step, a sigmoid in log compute."),
    train: list[str] = typer.Option([], "--train", help="Rows to fit, e.g. --train 'params<2e9' (repeatable)."),
    test: list[str] = typer.Option([], "--test", help="Rows to forecast and score, e.g. --test 'params>5e9'."),
    at: list[str] = typer.Option([], "--at", help="Or forecast at these inputs: --at params=7e9 --at tokens=3e11."),
    loss_where: list[str] = typer.Option([], "--loss-where", help="Extra filter for step 1's rows only, e.g. "
                                         "final checkpoints: --loss-where step=143000."),
    law: str = typer.Option(None, "--law", "-l", help="Step 1's law (default: chinchilla, or power on params for "
                            "one token count; auto: by backtest)."),
    input_: list[str] = typer.Option([], "--input", help="Step 1's input binding: --input x=params."),
    link: str = typer.Option("auto", "--link", help="sigmoid (Bhagia 2024), exponential (Gadre 2024) or auto."),
    chance: list[str] = typer.Option([], "--chance", help="Chance accuracy: --chance 0.25 or --chance TASK=0.25."),
    force: bool = typer.Option(False, "--force", help="Forecast inverse and non-monotone tasks anyway."),
    interval_: str = typer.Option("prediction", "--interval", help="prediction (a new run) or confidence."),
    *, bootstrap, level, seed, where, rename, calibration, as_json,
):
    """Forecast task accuracy from scale in two steps (scale -> loss -> accuracy), flagging untrustworthy tasks."""
    from ..decide import forecast_downstream
    from ..errors import ScalingLawsError

    chances = None
    if chance:
        if len(chance) == 1 and "=" not in chance[0]:
            try:
                chances = float(chance[0])
            except ValueError:
                raise ScalingLawsError(f"--chance {chance[0]}: write a number or TASK=NUMBER") from None
        else:
            chances = {k: float(v) for k, v in parse_pairs(chance, "--chance").items()}
    if at and test:
        raise ScalingLawsError("give the targets either with --test CONDITION or with --at COLUMN=VALUE, not both")
    result = forecast_downstream(data, task, via=via, train=train, test=test, at=parse_at(at) or None, where=where,
                                 rename=rename, law=law, inputs=parse_pairs(input_, "--input") or None,
                                 loss_where=loss_where, link=link, chance=chances, bootstrap=bootstrap, level=level,
                                 seed=seed, interval=interval_, force=force, calibration=calibration)
    if as_json:
        emit_json(result.to_dict())
        return
    show_downstream(result)


def _route(trend) -> str:
    """How the task scales (decide/trend.py's scores) and the forecast it can support, in one sentence."""
    b, sm = trend.get("breakthroughness"), trend.get("smoothness")
    how = (f"breakthroughness {b:.1f}, smoothness {sm:.2f}" if b is not None and sm is not None else "no scores")
    advice = {"loss link": "route: loss link",
              "repeated sampling": "route: repeated sampling (sample each problem many times, then "
                                   "`scalinglaws emergence`)",
              "none": "route: none (no law forecasts it)"}[trend["route"]]
    return f"{how}{'; breaks through' if trend.get('breakthrough') else ''}; {advice}"


def show_downstream(res) -> None:
    from rich.table import Table

    from ..render.text import num

    con = console()
    pct = f"{int(round(res.level * 100))}%"
    if res.via:
        con.print(f"step 1: L = {res.via} from scale by {res.law} ("
                  + ", ".join(f"{k}={num(v)}" for k, v in res.law_params.items()) + f"); fitted to "
                  f"{plural(res.train_runs, 'run')}" + (f"; error on the targets {_pct(res.loss_error)}"
                                                if res.loss_error is not None else ""))
    else:
        con.print(f"one step: accuracy from log {res.axis}; fitted to {plural(res.train_runs, 'run')}")
    for t in res.tasks:
        route = _route(t.trend)
        if not t.rows and t.status.startswith("forecast"):
            con.print(f"{t.task}: link fitted; no rows to forecast (give --at or --test). {t.reason}. {route}")
            continue
        if not t.rows:
            con.print(f"[yellow]{t.task}: not forecast ({t.status})[/yellow] {t.reason}. {route}")
            continue
        scores = ", ".join(f"{k} {v:.3f}" for k, v in t.link_scores.items())
        con.print(f"\n[bold]{t.task}[/bold] (chance {t.chance:g}; {t.link} link"
                  + (f", chosen by backtest: {scores}" if scores else "") + f"): {t.status}. {route}")
        table = Table(header_style="bold", box=None)
        cols = ["run"] if "run" in t.rows[0] else [c for c in ("params", "tokens", "flops") if c in t.rows[0]]
        for c in cols + (["L"] if res.via else []) + ["forecast", f"{pct} {res.interval}", "observed"]:
            table.add_column(c, justify="left" if c == "run" else "right")
        for r in t.rows:
            row = [str(r[c]) if c == "run" else num(r[c]) for c in cols]
            if res.via:
                row.append(num(r["loss"], 4))
            row += [f"{r['prediction']:.3f}", f"[{r['lower']:.3f}, {r['upper']:.3f}]",
                    "–" if r["observed"] is None else f"{r['observed']:.3f}"]
            table.add_row(*row)
        con.print(table)
        if t.mean_abs_error is not None:
            extra = (f"; the link alone, on the observed {res.via}: {t.link_only_error:.3f}"
                     if t.link_only_error is not None else "")
            con.print(f"mean |error| {t.mean_abs_error:.3f} accuracy points{extra}")


@app.command("emergence")
@use(RESAMPLING, DATA, JSON, bootstrap=200, help={"bootstrap": "Resamples of each size's problems for intervals.",
                                                  "seed": "Seed for the bootstrap."})
def emergence_cmd(
    data: str = typer.Argument(None, help="Per-problem sample counts of several model sizes: columns params (or "
                               "--scale), problem, samples, correct; or leave out and give lm-evaluation-harness "
                               "samples files with --log."),
    log: list[str] = typer.Option([], "--log", help="A generative task's --log_samples file of one model and its "
                                  "size: samples_gsm8k.jsonl=160M (repeatable; problem = doc_id)."),
    metric: str = typer.Option(None, "--metric", help="With --log: the metric judging each generation (default: "
                               "exact_match, acc, pass@1 or correct, whichever the file has; else the target)."),
    at: list[str] = typer.Option([], "--at", help="Sizes to forecast, e.g. --at params=2.8e9,6.9e9."),
    test: list[str] = typer.Option([], "--test", help="Held-out rows to forecast and score, e.g. 'params>1.4e9'."),
    train: list[str] = typer.Option([], "--train", help="Rows to fit (default: all but --test)."),
    k: str = typer.Option("1", "--k", help="Sample counts to forecast pass@k at, comma-separated (1: pass rate)."),
    scale: str = typer.Option("params", "--scale", help="Column of model size."),
    problem: str = typer.Option("problem", "--problem", help="Column naming the problem."),
    samples: str = typer.Option("samples", "--samples", help="Column with samples drawn per problem."),
    correct: str = typer.Option("correct", "--correct", help="Column with correct samples per problem."),
    interval: str = typer.Option("prediction", "--interval", help="prediction | confidence."),
    plan_samples: str = typer.Option(None, "--plan-samples", help="Samples per problem to try, e.g. 100,1000,10000: "
                                     "how wide the first target's forecast would be with that many."),
    factor: float = typer.Option(None, "--factor", help="With --plan-samples: the width wanted, as a factor either "
                                 "way (e.g. 1.5)."),
    *, bootstrap, level, seed, where, rename, as_json,
):
    """Forecast a task's pass rate at larger sizes from many samples per problem, where small models' greedy
    accuracy is 0: log(-log pass@k) linear in log size (Hu et al. 2023)."""
    from ..decide.emergence import forecast_emergence
    from ..errors import ScalingLawsError

    if (data is None) == (not log):
        raise ScalingLawsError("give either a table of per-problem counts or --log FILE=SIZE files, not both or "
                               "neither")
    if log:
        from ..ingest.lmeval_samples import read_generations

        data = read_generations(parse_log_files(log, "samples_gsm8k.jsonl=160M"), scale=scale, metric=metric)
        problem, samples, correct = "problem", "samples", "correct"
    result = forecast_emergence(data, at=parse_at(at) or None, test=test, train=train,
                                k=[int(v) for v in _floats(k, "--k")], scale=scale, problem=problem,
                                samples=samples, correct=correct, where=where,
                                rename=rename, bootstrap=bootstrap, level=level, interval=interval, seed=seed,
                                plan_samples=[int(v) for v in _floats(plan_samples, "--plan-samples")]
                                if plan_samples else (), factor=factor)
    if as_json:
        emit_json(result.to_dict())
        return
    show_emergence(result)


def show_emergence(res) -> None:
    from rich.table import Table

    from ..render.text import num

    con = console()
    pct = f"{int(round(res.level * 100))}%"
    law = res.laws[0]
    con.print(f"task law over {len(res.sizes)} sizes: log(-log pass@{law['k']}) = {law['log_c']:.3f} - "
              f"{law['alpha']:.3f}·log {res.scale}  (alpha {pct} [{law['alpha_interval'][0]:.3f}, "
              f"{law['alpha_interval'][1]:.3f}])")
    table = Table(header_style="bold", box=None)
    for c in (res.scale, "problems", "solved", "greedy≈", *(f"pass@{kk}" for kk in res.k)):
        table.add_column(c, justify="right")
    for s in res.sizes:
        table.add_row(num(s[res.scale]), str(s["problems"]), f"{100 * s['solved_share']:.0f}%",
                      f"{100 * s['greedy_proxy']:.0f}%", *(f"{s['pass_at_k'][str(kk)]:.2e}" for kk in res.k))
    con.print(table)
    if res.forecast:
        table = Table(header_style="bold", box=None)
        for c in (res.scale, "k", "forecast", f"{pct} {res.interval}", "observed"):
            table.add_column(c, justify="right")
        for f in res.forecast:
            seen = "–" if f["observed"] is None else f"{f['observed']:.3g}" + ("" if f["inside"] else " (outside)")
            table.add_row(num(f["size"]), str(f["k"]), f"{f['prediction']:.3g}",
                          f"[{f['lower']:.3g}, {f['upper']:.3g}]", seen)
        con.print(table)
    plan = res.samples_plan
    if plan:
        con.print(f"samples per problem and the pass@1 forecast at {num(plan['size'])} they allow (95% of "
                  f"{plan['reps']} simulated ladders):")
        for r in plan["grid"]:
            con.print(f"  {r['samples']:>8}: " + (r.get("note") or f"{r['median']:.3g} [{r['lower']:.3g}, "
                                                                   f"{r['upper']:.3g}], within ×{r['factor']:.2f}"))
        if plan["factor"] is not None:
            con.print(f"  within ×{plan['factor']:g}: " + (f"{plan['enough']} samples per problem" if plan["enough"]
                                                           else "not reached on this grid"))
    cur = res.curvature
    if cur.get("coefficient") is not None:
        con.print(f"curvature of log(-log pass rate) in log size: {cur['coefficient']:.3g} {pct} "
                  f"[{cur['interval'][0]:.3g}, {cur['interval'][1]:.3g}]"
                  + (" — accelerated emergence" if cur["accelerated"] else ""))


@app.command("choices")
@use(DATA, JSON)
def choices_cmd(
    data: str = typer.Argument(None, help="Per-choice rows: columns params (or --scale), item, loglik, correct (0/1); "
                               "or leave out and give lm-evaluation-harness samples files with --log."),
    log: list[str] = typer.Option([], "--log", help="A --log_samples file of one model and its size: "
                                  "samples_piqa.jsonl=1.6e8 (repeatable)."),
    at: list[str] = typer.Option([], "--at", help="Sizes to forecast, e.g. --at params=2.8e9,6.9e9."),
    test: list[str] = typer.Option([], "--test", help="Held-out rows to forecast and score, e.g. 'params>1.4e9'."),
    train: list[str] = typer.Option([], "--train", help="Rows to fit (default: all but --test)."),
    scale: str = typer.Option("params", "--scale", help="Column of model size."),
    item: str = typer.Option("item", "--item", help="Column naming the item."),
    loglik: str = typer.Option("loglik", "--loglik", help="Column of each choice's log-likelihood."),
    correct: str = typer.Option("correct", "--correct", help="Column: 1 for the correct choice, else 0."),
    bootstrap: int = typer.Option(200, "--bootstrap", "-b", help="Resamples of items for the interval."),
    level: float = typer.Option(0.95, "--level", help="Coverage of the interval."),
    seed: int = typer.Option(0, "--seed", help="Seed for the bootstrap."),
    *, where, rename, as_json,
):
    """Multiple-choice accuracy at larger sizes from per-choice log-likelihoods: each item's margin (correct
    choice over the best wrong one) followed in log size, accuracy simulated from it (Schaeffer et al. 2024)."""
    from ..decide.choices import forecast_choices
    from ..errors import ScalingLawsError
    from ..ingest.lmeval_samples import read_choices

    if (data is None) == (not log):
        raise ScalingLawsError("give either a table of per-choice rows or --log FILE=SIZE files, not both or neither")
    if log:
        data = read_choices(parse_log_files(log, "samples_piqa.jsonl=1.6e8"), scale=scale)
    res = forecast_choices(data, at=parse_at(at) or None, test=test, train=train, scale=scale, item=item, loglik=loglik,
                           correct=correct, where=where, rename=rename, bootstrap=bootstrap, level=level, seed=seed)
    if as_json:
        emit_json(res.to_dict())
        return
    from rich.table import Table

    from ..render.text import num

    con = console()
    pct = f"{int(round(res.level * 100))}%"
    con.print(f"{res.items} items over {len(res.sizes)} sizes; margins scatter {res.scatter:.3g} nats about their "
              "lines")
    table = Table(header_style="bold", box=None)
    for c in (res.scale, "accuracy", "p(correct)", "mean margin"):
        table.add_column(c, justify="right")
    for s in res.sizes:
        table.add_row(num(s[res.scale]), f"{s['accuracy']:.3f}", f"{s['p_correct']:.3f}", f"{s['margin']:+.3f}")
    con.print(table)
    table = Table(header_style="bold", box=None)
    for c in (res.scale, "accuracy forecast", f"{pct} interval", "accuracy extrapolated", "observed"):
        table.add_column(c, justify="right")
    for f in res.forecast:
        table.add_row(num(f["size"]), f"{f['accuracy']:.3f}", f"[{f['lower']:.3f}, {f['upper']:.3f}]",
                      f"{f['direct']:.3f}", "–" if f["observed"] is None else f"{f['observed']:.3f}")
    con.print(table)


@app.command("testtime")
@use(RESAMPLING, DATA, JSON, bootstrap=200, help={"bootstrap": "Resamples of problems for intervals.",
                                                  "seed": "Seed for the bootstrap."})
def testtime_cmd(
    data: str = typer.Argument(..., help="Per-problem sample counts: columns problem, samples, correct (or one row "
                               "per sample with correct 0/1 and --samples none)."),
    problem: str = typer.Option("problem", "--problem", help="Column naming the problem."),
    samples: str = typer.Option("samples", "--samples", help="Column with samples drawn per problem; none: one row "
                                "per sample."),
    correct: str = typer.Option("correct", "--correct", help="Column with correct samples (count, or 0/1)."),
    k: str = typer.Option("1,10,100,1000,10000", "--k", help="Sample counts to forecast, comma-separated."),
    fpr: float = typer.Option(0.0, "--fpr", help="Verifier false-positive rate: accepts a wrong sample."),
    tpr: float = typer.Option(1.0, "--tpr", help="Verifier true-positive rate: accepts a correct sample."),
    value: float = typer.Option(1.0, "--value", help="Utility of a correct answer."),
    sample_cost: float = typer.Option(0.0, "--sample-cost", help="Cost of one sample (in utility units)."),
    wrong_cost: float = typer.Option(0.0, "--wrong-cost", help="Cost of accepting a wrong answer."),
    *, bootstrap, level, seed, where, rename, as_json,
):
    """Coverage of repeated sampling (pass@k) and its ceiling under an imperfect verifier; the best k."""
    from ..decide import forecast_testtime

    ks = [int(v) for v in _floats(k, "--k")]
    result = forecast_testtime(data, problem=problem, samples=None if samples == "none" else samples,
                               correct=correct, k=ks, fpr=fpr, tpr=tpr, value=value, sample_cost=sample_cost,
                               wrong_cost=wrong_cost, bootstrap=bootstrap, level=level, seed=seed, where=where,
                               rename=rename)
    if as_json:
        emit_json(result.to_dict())
        return
    show_testtime(result)


def show_testtime(res) -> None:
    from rich.table import Table

    con = console()
    pct = f"{int(round(res.level * 100))}%"
    p = res.params
    con.print(f"{res.problems} problems, {res.samples[0]}–{res.samples[1]} samples each; difficulty: "
              f"{100 * p['unsolvable']:.1f}% unsolvable, the rest p ~ Beta({p['a']:.3g}, {p['b']:.3g}); fitted "
              f"coverage within {100 * res.fit_error:.2f} points of the measured")
    table = Table(header_style="bold", box=None)
    for c in ("k", "coverage", f"{pct} interval", f"accuracy (fpr {res.fpr:g})", f"{pct} interval",
              "wrong accepted", "samples used", "utility"):
        table.add_column(c, justify="right")
    for r in res.forecast:
        table.add_row(f"{r['k']}" + ("*" if r["beyond_data"] else ""), f"{r['coverage']:.3f}",
                      f"[{r['coverage_lower']:.3f}, {r['coverage_upper']:.3f}]", f"{r['accuracy']:.3f}",
                      f"[{r['accuracy_lower']:.3f}, {r['accuracy_upper']:.3f}]", f"{r['wrong']:.3f}",
                      f"{r['samples']:.1f}", f"{r['utility']:.4g}")
    con.print(table)
    c = res.ceiling
    con.print(f"* beyond the samples measured. Ceiling as k grows: coverage {c['coverage']:.3f} "
              f"[{c['coverage_interval'][0]:.3f}, {c['coverage_interval'][1]:.3f}], accuracy with this verifier "
              f"{c['accuracy']:.3f} [{c['accuracy_interval'][0]:.3f}, {c['accuracy_interval'][1]:.3f}]")
    if res.best:
        b = res.best
        con.print(f"best k for this utility: [bold]{b['k']}[/bold] (utility {b['utility']:.4g}, accuracy "
                  f"{b['accuracy']:.3f}, {b['samples']:.1f} samples on average; searched up to {b['searched_up_to']})")


def _width(text: str | None) -> float | None:
    """--until-width 2% or 0.02 -> 0.02."""
    from ..errors import ScalingLawsError

    if text is None:
        return None
    t = text.strip()
    try:
        return float(t[:-1]) / 100 if t.endswith("%") else float(t)
    except ValueError:
        raise ScalingLawsError(f"--until-width '{text}' is not a width: write e.g. --until-width 2% (or 0.02)"
                               ) from None


@app.command("next")
@use(JSON)
def next_cmd(
    fit_file: str = typer.Argument(..., help="A fit record with a bootstrap (`scalinglaws fit --bootstrap 200 -o`)."),
    at: list[str] = typer.Option([], "--at", help="The target run, e.g. --at params=7e9 --at tokens=1.4e12."),
    budget: str = typer.Option(None, "--budget", help="FLOP to spend on new rungs, e.g. 1e21."),
    until_width: str = typer.Option(None, "--until-width", help="Stop once the target's prediction interval is this "
                                    "narrow (full width relative to the forecast), e.g. 2%."),
    candidates: str = typer.Option(None, "--candidates", help="Rungs to choose from: a CSV or other table with "
                                   "params and tokens (or flops) columns (default: 8 sizes from the smallest "
                                   "fitted model to a tenth of the target, at the fitted tokens per parameter)."),
    max_runs: int = typer.Option(10, "--max-runs", help="At most this many rungs."),
    *, as_json,
):
    """Which run to train next: the rungs that most narrow the target's forecast per FLOP, in order."""
    from ..decide.nextrun import next_runs
    from ..fitting import Fit
    from ..runs import read_runs
    from .plan_cmds import _number

    fit = Fit.load(fit_file)
    target = parse_at(at)
    if not target:
        from ..errors import ScalingLawsError

        raise ScalingLawsError("give the target run: --at params=7e9 --at tokens=1.4e12")
    rows = None
    if candidates is not None:
        table = read_runs(candidates, purpose="candidate rungs")
        rows = [{c: float(table[c][i]) for c in table.names if table[c].dtype.kind in "fiu"}
                for i in range(len(table))]
    result = next_runs(fit, {k: float(v[0]) for k, v in target.items()}, candidates=rows,
                       budget=_number(budget, "--budget"), until_width=_width(until_width), max_runs=max_runs)
    if as_json:
        emit_json(result.to_dict())
        return
    show_next(result)


def show_next(r) -> None:
    from rich.table import Table

    from ..render.text import num

    con = console()
    target = ", ".join(f"{k} {num(v)}" for k, v in r.target.items())
    con.print(f"[bold]Forecast at {target}: {num(r.forecast, 4)}, {int(round(r.level * 100))}% prediction interval "
              f"{r.width:.2%} wide[/bold] (run-to-run scatter alone: {r.floor:.2%})")
    if not r.chosen:
        con.print("[yellow]no rung to add[/yellow]")
    else:
        table = Table(title=f"\nTrain next ({plural(len(r.chosen), 'rung')}, {num(r.spent)} FLOP)",
                      title_justify="left", header_style="bold", box=None)
        keys = [k for k in r.chosen[0] if k not in ("flops", "width_after", "gain_per_flop")]
        for col in ["#"] + keys + ["FLOP each", "runs", "width after"]:
            table.add_column(col, justify="right")
        first, repeated = 0, False
        for i, c in enumerate(r.chosen):  # the same rung chosen again in a row: one line, its count of seeds
            last = i + 1 == len(r.chosen) or any(r.chosen[i + 1][k] != c[k] for k in keys)
            if not last:
                continue
            count = i - first + 1
            repeated |= count > 1
            label = str(first + 1) if count == 1 else f"{first + 1}–{i + 1}"
            table.add_row(label, *[num(c[k]) for k in keys], num(c["flops"]), f"×{count}" if count > 1 else "1",
                          f"{c['width_after']:.2%}")
            first = i + 1
        con.print(table)
        if repeated:
            con.print("[dim]a rung chosen several times is trained with that many seeds: each run averages out some "
                      "of the run-to-run scatter[/dim]")
        if r.budget is not None and r.spent < 0.5 * r.budget and r.until_width is None:
            con.print(f"[dim]stopped at {plural(len(r.chosen), 'rung')} with {num(r.spent)} of the {num(r.budget)} "
                      "FLOP budget spent: --max-runs K chooses more[/dim]")
    if r.until_width is not None:
        con.print(("reaches " if r.reached else "[yellow]does not reach[/yellow] ") + f"{r.until_width:.2%}")
    con.print(f"[dim]{r.method}[/dim]")
