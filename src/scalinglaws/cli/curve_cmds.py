"""`forecast` (a run in flight), `curve` (a schedule never run) and `best-schedule` (a family's best shape)."""

from __future__ import annotations

from pathlib import Path

import typer

from ..render.text import step
from .app import app
from .common import DATA_HELP, JSON_HELP, MAP_HELP, console, emit_json
from .options import CALIBRATION, JSON, use

SCHEDULE_HELP = ("A schedule by name: FAMILY:KEY=VALUE,... with FAMILY one of constant, cosine, linear, wsd, step, "
                 "e.g. 'wsd:peak=3e-4,total=24000,warmup=2160,decay=0.2,shape=linear' (docs/curves.md).")
AT_HELP = "Another input the law needs, e.g. --at params=4e8 for lr_annealing_nd."


@app.command("forecast")
@use(CALIBRATION, JSON)
def forecast_cmd(
    data: str = typer.Argument(..., help=DATA_HELP + " Rows with an lr but no loss are the planned schedule."),
    run: str = typer.Option(None, "--run", "-r", help="The run to forecast, when the table holds several."),
    schedule: str = typer.Option(None, "--schedule", "-s", help="The run's planned schedule. " + SCHEDULE_HELP),
    prior: Path = typer.Option(None, "--prior", help="A fit of the same curve law to finished runs (fit -o): it "
                               "supplies all but the run's own parameters, and its bootstrap the interval."),
    law: str = typer.Option(None, "--law", "-l", help="Curve law without a prior (default: schedule)."),
    transient: str = typer.Option(None, "--transient", help="Early rows to leave out of the fit: auto, none, "
                                  "warmup, a fraction such as 0.1, or step<=N (default: the law's, warmup)."),
    draws: int = typer.Option(200, "--draws", help="Bootstrap draws for the interval (0: none)."),
    level: float = typer.Option(0.95, "--level", help="Coverage of the interval."),
    interval_: str = typer.Option("prediction", "--interval", help="prediction (the logged loss) or confidence "
                                  "(the law's curve)."),
    seed: int = typer.Option(0, "--seed"),
    at: list[str] = typer.Option([], "--at", help=AT_HELP),
    map_: list[str] = typer.Option([], "--map", help=MAP_HELP),
    rows: int = typer.Option(12, "--rows", help="Rows of the forecast curve to show (the JSON has 200)."),
    *, calibration, as_json,
):
    """Forecast the rest of a run in flight, to its final loss, from its curve so far and its planned schedule."""
    from ..curves.forecast import forecast_run
    from ..runs import read_runs
    from .common import parse_at

    table = read_runs(data, rename=map_)
    result = forecast_run(table, run=run, schedule=schedule, prior=prior, law=law, transient=transient,
                          level=level, interval=interval_, draws=draws, seed=seed, columns=_columns(at, parse_at),
                          calibration=calibration)
    if as_json:
        emit_json(result.to_dict())
        return
    con = console()
    seen = f"logged to step {step(result.observed_until)} ({result.observed_rows} rows fitted)"
    source = f"; {', '.join(result.refit)} refitted, the rest from the prior {result.prior}" if result.prior else ""
    con.print(f"[bold]{result.run}[/bold] · {result.law} · {seen}{source}")
    _final_line(con, result)
    if result.backtest:
        bt = result.backtest
        con.print(f"[dim]backtest: the same forecast from step {step(bt['from_step'])} put step "
                  f"{step(bt['to_step'])} at {bt['prediction']:.4f} (logged {bt['observed']:.4f}, "
                  f"{bt['error']:+.2%})[/dim]")
    _curve_table(con, result, rows)
    for note in result.warnings:
        con.print(f"[dim]note: {note}[/dim]")


@app.command("curve")
@use(CALIBRATION, JSON)
def curve_cmd(
    fit_file: Path = typer.Argument(..., help="A fit of a curve law (scalinglaws fit ... --law schedule -o FIT)."),
    schedule: list[str] = typer.Option(..., "--schedule", "-s", help=SCHEDULE_HELP + " Repeatable."),
    at: list[str] = typer.Option([], "--at", help=AT_HELP),
    level: float = typer.Option(None, "--level", help="Coverage of the intervals (default: the fit's)."),
    interval_: str = typer.Option("prediction", "--interval", help="prediction (a new run) or confidence (the law)."),
    rows: int = typer.Option(12, "--rows", help="Rows of each curve to show (the JSON has 200)."),
    *, calibration, as_json,
):
    """Predict the whole loss curve of schedules never run, from a fitted curve law."""
    from ..curves.forecast import forecast_schedules
    from ..fitting import Fit
    from .common import parse_at

    fit = Fit.load(fit_file)
    columns = _columns(at, parse_at)
    record = forecast_schedules(fit, schedule, level=level, interval=interval_, columns=columns,
                                calibration=calibration)
    if as_json:
        emit_json(record.to_dict())
        return
    results = record.forecasts
    con = console()
    for r in results:
        con.print(f"[bold]{r.run}[/bold] · {r.law}")
        _final_line(con, r)
        _curve_table(con, r, rows)
    if results and results[0].lower is None:
        con.print("[dim]no interval: the fit has no bootstrap (refit with --bootstrap 200)[/dim]")


@app.command("best-schedule")
def best_schedule_cmd(
    fit_file: Path = typer.Argument(..., help="A fit of a curve law (scalinglaws fit ... --law schedule -o FIT)."),
    family: str = typer.Option("wsd", "--family", "-f", help="constant, cosine, linear, wsd or step."),
    total: int = typer.Option(..., "--total", help="The step budget."),
    peak: float = typer.Option(..., "--peak", help="Peak learning rate (held fixed)."),
    warmup: int = typer.Option(0, "--warmup", help="Warm-up steps (held fixed)."),
    grid: list[str] = typer.Option([], "--grid", help="Override a grid axis: --grid decay=0.1,0.2,0.3 (end is a "
                                   "fraction of the peak; step's at is a fraction of total)."),
    at: list[str] = typer.Option([], "--at", help=AT_HELP),
    level: float = typer.Option(None, "--level", help="Coverage of the intervals (default: the fit's)."),
    top: int = typer.Option(10, "--top", help="Candidates to show."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
):
    """Rank the schedules of a family for a step budget by the final loss a fitted curve law predicts."""
    from ..curves.shapes import best_schedule
    from ..fitting import Fit
    from .common import parse_at

    fit = Fit.load(fit_file)
    result = best_schedule(fit, family, total=total, peak=peak, warmup=warmup, grid=_grid(grid),
                           columns=_columns(at, parse_at), level=level)
    if as_json:
        emit_json(result.to_dict())
        return
    from rich.table import Table

    con = console()
    con.print(f"[bold]{family}[/bold] schedules for {total} steps at peak {peak:g} ({result.law}): "
              f"{len(result.candidates)} candidates")
    table = Table(header_style="bold", box=None)
    keys = [k for k in result.candidates[0] if k not in ("schedule", "final", "lower", "upper", "p_best")]
    for c in keys + ["final " + result.target]:
        table.add_column(c, justify="right")
    if result.draws:
        table.add_column(f"{int(round(result.level * 100))}% CI", justify="right")
        table.add_column("P(best)", justify="right")
    for c in result.candidates[:top]:
        row = [f"{c[k]:g}" if isinstance(c[k], float) else str(c[k]) for k in keys] + [f"{c['final']:.4f}"]
        if result.draws:
            row += [f"[{c['lower']:.4f}, {c['upper']:.4f}]", f"{c['p_best']:.2f}"]
        table.add_row(*row)
    con.print(table)
    con.print(f"best: {result.best['schedule']}")
    if not result.draws:
        con.print("[dim]no interval: the fit has no bootstrap (refit with --bootstrap 200)[/dim]")
    for note in result.warnings:
        con.print(f"[dim]note: {note}[/dim]")


def _columns(at, parse_at) -> dict | None:
    cols = parse_at(at) if at else {}
    return {k: float(v[0]) for k, v in cols.items()} or None


def _grid(pairs: list[str]) -> dict | None:
    from ..errors import ScalingLawsError
    from .common import parse_pairs

    out = {}
    for key, value in parse_pairs(pairs, "--grid").items():
        try:
            out[key] = [v if key == "shape" else float(v) for v in value.split(",")]
        except ValueError:
            raise ScalingLawsError(f"--grid {key}={value}: give comma-separated numbers, e.g. --grid "
                                   "decay=0.1,0.2,0.3") from None
    return out or None


def _final_line(con, r) -> None:
    ci = (f"  {int(round(r.level * 100))}% {r.interval} interval [{r.lower[-1]:.4f}, {r.upper[-1]:.4f}]"
          if r.lower is not None else "")
    con.print(f"final {r.target} at step {step(r.final_step)}: [bold]{r.final:.4f}[/bold]{ci}")


def _curve_table(con, r, rows: int) -> None:
    from rich.table import Table

    n = len(r.steps)
    if rows <= 0 or n == 0:
        return
    import numpy as np

    pick = np.unique(np.rint(np.linspace(0, n - 1, min(rows, n))).astype(int))
    table = Table(header_style="bold", box=None)
    for c in ("step", "lr", r.target):
        table.add_column(c, justify="right")
    if r.lower is not None:
        table.add_column("interval", justify="right")
    for i in pick:
        row = [step(r.steps[i]), f"{r.lr[i]:.3g}", f"{r.prediction[i]:.4f}"]
        if r.lower is not None:
            row.append(f"[{r.lower[i]:.4f}, {r.upper[i]:.4f}]")
        table.add_row(*row)
    con.print(table)
