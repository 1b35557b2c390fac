"""`scalinglaws calibrate`: learn how much prediction intervals must widen, from rolling backtests of ladders."""

from __future__ import annotations

from pathlib import Path

import typer

from .app import app
from .common import DATA_HELP, JSON_HELP, console, emit_json, progress_bar


@app.command("calibrate")
def calibrate_cmd(
    data: list[str] = typer.Argument(None, help=f"One or more ladders. {DATA_HELP}"),
    law: list[str] = typer.Option(["chinchilla"], "--law", "-l", help="Law(s) to backtest on every ladder."),
    by: str = typer.Option(None, "--by", help="Column that orders runs by scale (default: flops, params, tokens)."),
    cuts: int = typer.Option(3, "--cuts", help="Rollout cuts per ladder."),
    target: str = typer.Option(None, "--target", "-t", help="Column to fit (default: the law's, usually loss)."),
    bundled: bool = typer.Option(False, "--bundled", help="Also learn from every bundled ladder (the default's)."),
    bootstrap: int = typer.Option(100, "--bootstrap", "-b", help="Resamples per cut."),
    seed: int = typer.Option(0, "--seed"),
    output: Path = typer.Option(..., "--output", "-o", help="Write the calibration JSON here."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
):
    """Backtest each ladder, keep every held-out larger run, and learn the model-error term of the intervals.

    Use the result with --calibration FILE on predict, plan, forecast, compare, downstream, plot and report.
    """
    from ..decide.calibrate import BUNDLED, Ladder, calibrate
    from ..errors import ScalingLawsError
    from ..files import output_path

    output_path(output)
    ladders = [Ladder(name=src, source=src, laws=tuple(law), by=by, cuts=cuts, target=target) for src in data or ()]
    if bundled:
        ladders += list(BUNDLED)
    if not ladders:
        raise ScalingLawsError("name at least one ladder to learn from (a runs table), or pass --bundled")
    update, bar = progress_bar(not as_json, "ladders backtested")
    with bar:
        cal = calibrate(ladders, bootstrap=bootstrap, seed=seed, progress=update)
    cal.save(output)
    if as_json:
        emit_json(cal.to_dict())
        return
    show_calibration(cal)
    console().print(f"saved to {output}")


def show_calibration(cal) -> None:
    from rich.table import Table

    from ..render.text import plural

    con = console()
    df = "normal" if cal.df is None else f"Student-t, {cal.df:g} degrees of freedom"
    con.print(f"[bold]model-error term[/bold] τ = {cal.tau0:.4g} + {cal.tau_noise:.3g}·s + {cal.tau1:.3g}·ln f "
              f"({df}; s the fit's residual scale, f the extrapolation factor), learned from "
              f"{plural(cal.scores.get('rows', 0), 'held-out row')} of {plural(len(cal.source), 'dataset')}")
    table = Table(header_style="bold", box=None)
    for c in ("dataset", "rows", "50% cov.", "80% cov.", "95% cov."):
        table.add_column(c, justify="right" if c != "dataset" else "left")
    rel = cal.scores.get("reliability", {})
    for name, r in rel.items():
        cells = []
        for a in (0.5, 0.8, 0.95):
            i = r["nominal"].index(a)
            cells.append(f"{100 * r['plain'][i]:.0f}% → {100 * r['calibrated'][i]:.0f}%")
        table.add_row(name, str(r["rows"]), *cells)
    con.print(table)
    con.print("coverage plain bootstrap → calibrated, on the ladders it was learned from (in-sample); "
              "benchmarks/bench_calibration.py measures it on datasets left out")
