"""`fit`, `predict`, `laws` and `demo`."""

from __future__ import annotations

from pathlib import Path

import typer

from ..render.text import plural
from .app import app
from .common import DATA_HELP, JSON_HELP, MAP_HELP, console, emit_json, parse_at, parse_param_overrides, progress_bar
from .options import BINDING, CALIBRATION, DATA, FIT, JSON, SELECTION, use


@app.command("fit")
@use(BINDING, FIT, DATA, SELECTION, JSON, help={
    "by": "With --law auto: the column the backtests cut along (default: by the data's shape).",
    "cuts": "With --law auto: the number of backtest cuts (default 3)."})
def fit_cmd(
    data: str = typer.Argument(..., help=DATA_HELP),
    law: str = typer.Option("chinchilla", "--law", "-l", help="Law name (see `scalinglaws laws`), a formula such "
                            "as 'E + A*N**-alpha + B*D**-beta', or auto (chosen by backtest)."),
    param: list[str] = typer.Option([], "--param", help="Formula laws: NAME=LO:HI start range, NAME=LO:HI:log, or "
                                    "NAME=bounds:LO:HI."),
    output: Path = typer.Option(None, "--output", "-o", help="Save the fit record as JSON to this file."),
    groups: str = typer.Option(None, "--groups", help="Fit every group of this column at once (e.g. dataset), "
                               "the --shared parameters common to all and the rest per group."),
    shared: str = typer.Option(None, "--shared", help="With --groups, or several --target columns: the "
                               "parameters every group or target shares, e.g. alpha,beta."),
    set_: list[str] = typer.Option([], "--set", help="A column with one value for every row, for what the table "
                                   "does not say: --set params=160M. Repeatable; the fit records it."),
    *, inputs, target, options, where, rename, by, cuts, as_json,
):
    """Fit a law to runs: parameters, objective, convergence, and intervals with --bootstrap."""
    from ..errors import ScalingLawsError
    from ..fitting import fit
    from ..ingest.common import parse_constants
    from ..laws import ALIASES, LAWS, formula_law, looks_like_formula

    if output is not None:
        from ..files import output_path

        output_path(output)  # refuse a missing folder before the work, not after it
    law_spec = law
    overrides = parse_param_overrides(param)
    named = law in LAWS or "@" in law or law.strip().lower().replace("-", "_").replace(" ", "_") in ALIASES
    if not named and looks_like_formula(law):
        law_spec = formula_law(law, params=overrides, inputs=inputs or None)  # --input NAME=COLUMN adds inputs
    extra = {}
    if law == "auto":  # choose the law by backtest (docs/decisions.md); the choice is in the record's extra
        from ..decide import fit_auto as fit

        update, bar = progress_bar(not as_json, "laws backtested, then bootstrap")
        extra = {"selection_progress": update, "by": by, **({} if cuts is None else {"cuts": cuts})}
    if law != "auto" and (by is not None or cuts is not None):
        raise ScalingLawsError(f"{'--by' if by is not None else '--cuts'} applies to --law auto, which backtests "
                               "the candidate laws; leave it out with a named law, or use `scalinglaws backtest`"
                               + ("; to fit groups of a column at once, give --groups COLUMN --shared alpha,beta"
                                  if by is not None else ""))
    if law != "auto":
        update, bar = progress_bar(options.bootstrap > 0 and not as_json, "bootstrap")
    several = target is not None and "," in target
    if shared is not None and groups is None and several:  # several targets of the same runs
        if law == "auto":
            raise ScalingLawsError("several --target columns need a named law: they share that law's parameters")
        from ..fitting import fit_targets

        columns, target = target, None

        def fit(data, law, **kw):
            return fit_targets(data, law, targets=columns, shared=shared, **kw)
    elif several:
        raise ScalingLawsError(f"--target {target}: several targets are fitted together with the parameters they "
                               "share, e.g. --target c4_loss,code_loss --shared alpha,beta")
    elif (groups is None) != (shared is None):
        raise ScalingLawsError("--groups and --shared go together: the column of groups and the parameters they "
                               "share, e.g. --groups dataset --shared alpha,beta (or several --target columns)")
    if groups is not None:
        if law == "auto":
            raise ScalingLawsError("--groups needs a named law: a grouped fit shares that law's parameters")
        from ..fitting import fit_grouped

        def fit(data, law, **kw):
            return fit_grouped(data, law, by=groups, shared=shared, **kw)
    with bar:
        result = fit(data, law_spec, options=options, inputs=inputs, target=target, where=where, rename=rename,
                     constants=parse_constants(set_) or None, progress=update, **extra)
    if output is not None:
        result.save(output)
    if as_json:
        emit_json(result.to_dict())
        return
    selection = result.extra.get("selection")
    if selection:
        from .decide_cmds import show_headline

        show_headline(selection)
    show_fit(result)
    if selection:
        from .decide_cmds import show_selection

        show_selection(selection)
    if output is not None:
        console().print(f"saved to {output}")


def show_fit(result) -> None:
    from rich.table import Table

    from ..render.text import interval, num

    con = console()
    con.print(f"[bold]{result.label}[/bold]  {result.formula}")
    ci = result.ci
    fixed = [n for n in result.params if n in result.fixed]
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("parameter")
    table.add_column("value", justify="right")
    if ci:
        table.add_column(f"{int(round(result.bootstrap.level * 100))}% CI", justify="right")
    for name, value in result.params.items():
        row = [name, num(value, 5)] + (["fixed" if name in fixed else interval(ci[name])] if ci else [])
        table.add_row(*row)
    con.print(table)
    status = "converged" if result.converged else "[red]did not converge[/red]"
    space = f", {result.loss['space']} residuals" if "space" in result.loss else ""
    con.print(f"objective {result.objective:.10g} ({result.loss['kind']}{space}) · {result.n_points} points, "
              f"{plural(result.n_runs, 'run')} · {status} · {result.starts['reached_best']}/{result.starts['refined']} "
              f"refined starts reached the best")
    if fixed:
        prior = result.extra["prior"]
        con.print(f"[dim]fixed, not fitted: {', '.join(fixed)} at {prior['name']}'s published values "
                  f"({prior.get('reference') or 'a prior'})[/dim]")
    for note in result.data.get("notes", []):
        con.print(f"[dim]note: {note}[/dim]")


@app.command("predict")
@use(CALIBRATION, JSON)
def predict_cmd(
    fit_file: Path = typer.Argument(..., help="A fit record written by `scalinglaws fit -o`."),
    at: list[str] = typer.Option([], "--at", help="An input value: --at params=7e9 --at tokens=1.4e12 (comma lists "
                                 "for several rows)."),
    data: str = typer.Option(None, "--data", help="A table of targets (any runs-table source)."),
    level: float = typer.Option(None, "--level", help="Coverage of the intervals (default: the fit's)."),
    interval_: str = typer.Option("prediction", "--interval", help="prediction (a new run) or confidence (the law)."),
    map_: list[str] = typer.Option([], "--map", help=MAP_HELP),
    *, calibration, as_json,
):
    """Predict the fitted metric at new inputs, with intervals when the fit has a bootstrap."""
    from ..errors import ScalingLawsError
    from ..fitting import Fit
    from ..runs import read_runs

    fit = Fit.load(fit_file)
    if (data is None) == (not at):
        raise ScalingLawsError("give the targets either with --at COLUMN=VALUE ... or with --data FILE, not both")
    targets = parse_at(at) if at else read_runs(data, rename=map_, dedupe=False)
    result = fit.predict(targets, level=level, interval=interval_, calibration=calibration)
    if as_json:
        emit_json(result.to_dict())
        return
    from rich.table import Table

    from ..render.text import beyond, num

    con = console()
    table = Table(header_style="bold", box=None)
    cols = list(fit.inputs.values())
    for c in cols + ["prediction"]:
        table.add_column(c, justify="right")
    if result.lower is not None:
        table.add_column(f"{int(round(result.level * 100))}% {result.interval} interval", justify="right")
    over = ", ".join(result.over) or "inputs"
    table.add_column(f"beyond {over}", justify="right")
    for r in result.records():
        row = [num(r[c]) if isinstance(r[c], (int, float)) else str(r[c]) for c in cols]  # curve laws: run names
        row += [num(r["prediction"], 5)]
        if result.lower is not None:
            row.append(f"[{num(r['lower'], 4)}, {num(r['upper'], 4)}]")
        row.append(beyond(r["extrapolation"], outside=r.get("beyond_data", False), short=True))
        table.add_row(*row)
    con.print(table)
    if any(r["extrapolation"] > 1 or r.get("beyond_data") for r in result.records()):
        con.print(f"[dim]beyond {over}: how far a row lies beyond the fitted range of the law's inputs {over} (× the "
                  "largest fitted value, or the smallest over the value)[/dim]")
    if result.lower is None:
        con.print("[dim]no interval: the fit has no bootstrap (refit with --bootstrap 1000)[/dim]")


@app.command("laws")
def laws_cmd(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)):
    """List the built-in laws with their formulas, inputs, parameters and references."""
    from ..decide.priors import PUBLISHED
    from ..laws import ALIASES, LAWS
    from ..records import format_of

    records = [{"name": law.name, "formula": law.formula, "inputs": dict(law.inputs), "target": law.target,
                "params": law.param_names, "linear": list(law.linear), "reference": law.reference,
                "notes": law.notes, "aliases": [a for a, n in ALIASES.items() if n == law.name]}
               for law in LAWS.values()]
    for prior in PUBLISHED:  # the laws with published values fixed that --law auto weighs (decide/priors.py)
        law = LAWS[prior.law]
        records.append({"name": prior.label, "formula": law.formula, "inputs": dict(law.inputs),
                        "target": law.target, "params": [n for n in law.param_names if n not in prior.values],
                        "linear": list(law.linear), "reference": prior.reference,
                        "notes": f"{prior.law} with {', '.join(f'{k}={v:g}' for k, v in prior.values.items())} "
                                 "fixed at published values", "fixed": dict(prior.values)})
    if as_json:
        emit_json({"format": format_of("laws"), "laws": records})
        return
    from rich.table import Table

    table = Table(header_style="bold", show_lines=True)
    # Columns wrap between words; the reference column is as wide as its longest word (an arXiv id, a URL), so
    # that none is broken in two.
    longest = max(len(w) for r in records for w in r["reference"].split()) if records else 10
    table.add_column("law", overflow="fold")
    table.add_column("formula", overflow="fold")
    table.add_column("inputs", overflow="fold")
    table.add_column("reference", overflow="fold", min_width=min(longest, 48))
    for r in records:
        formula = r["formula"] + (f"\n{', '.join(f'{k}={v:g}' for k, v in r['fixed'].items())} fixed"
                                  if "fixed" in r else "")
        name = r["name"] + (f"\n(also {', '.join(r['aliases'])})" if r.get("aliases") else "")
        table.add_row(name, formula, ", ".join(f"{k}={v}" for k, v in r["inputs"].items()), r["reference"])
    console().print(table)
    console().print("Any formula works too: scalinglaws fit DATA --law 'E + A*N**-alpha + B*D**-beta'")


@app.command("demo")
def demo_cmd(
    bootstrap: int = typer.Option(1000, "--bootstrap", "-b", help="Resamples for the intervals (0 for none)."),
    seed: int = typer.Option(0, "--seed"),
    as_json: bool = typer.Option(False, "--json", help="Print the fit record as JSON."),
):
    """Fit Chinchilla's law to the bundled Epoch AI data and plan Chinchilla's own budget with it."""
    from ..demo import CHINCHILLA_FLOPS, run_demo

    update, bar = progress_bar(bootstrap > 0 and not as_json, "bootstrap")
    with bar:
        result, plan = run_demo(bootstrap=bootstrap, seed=seed, progress=update)
    if as_json:
        emit_json(result.to_dict())
        return
    from ..render.text import num

    con = console()
    con.print("Fitting Chinchilla's law to Epoch AI's 240 runs (dataset:chinchilla_epoch, the 5 highest-loss points "
              "dropped as Epoch does), Huber δ=1e-3 on log residuals:\n")
    show_fit(result)
    con.print(f"\nAt Chinchilla's budget of {num(CHINCHILLA_FLOPS)} FLOPs this law says: train "
              f"N* = {num(plan.params)} parameters on D* = {num(plan.tokens)} tokens "
              f"([bold]{plan.tokens_per_param:.1f} tokens per parameter[/bold]), for a loss of {plan.loss:.4f}.")
    con.print("\nNext:\n"
              "  scalinglaws datasets                  the bundled data (dataset:NAME wherever data go)\n"
              "  scalinglaws laws                      the law library\n"
              "  scalinglaws fit dataset:chinchilla_epoch --law chinchilla --bootstrap 1000 -o fit.json\n"
              "  scalinglaws predict fit.json --at params=7e10 --at tokens=1.4e12\n"
              "  scalinglaws plan fit.json --flops 1e24 --inference-tokens 1e13\n"
              "  scalinglaws backtest dataset:chinchilla_epoch --law all\n"
              "  scalinglaws report fit.json -o report.html\n"
              "  scalinglaws fit YOUR_RUNS.csv --law auto   (columns: params, tokens, loss)")
