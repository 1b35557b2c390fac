"""`plot` and `report`: pictures of fits and runs, and the self-contained HTML report."""

from __future__ import annotations

from pathlib import Path

import typer

from .app import app
from .common import console, emit_json, parse_at
from .options import CALIBRATION, DATA, JSON, use

AT_HELP = "A target: --at params=7e10 --at tokens=1.4e12 (comma lists for several)."
BUDGET_HELP = "A compute budget in FLOP to plan, e.g. --budget 5.76e23. Repeatable."
BY_HELP = "Colour by this column (default: family when there are several, else model size)."
DATA_FOR_FIT_HELP = "The runs behind the fit, when the source it records is not at hand (any runs source)."


def _source(source: str, where: list[str], rename: list[str]):
    """A fit record, or a runs table read with --where/--map."""
    from ..errors import ScalingLawsError
    from ..plots import load_result
    from ..runs import read_runs

    obj = load_result(source)
    if type(obj).__name__ == "Runs":
        if where or rename:
            obj = read_runs(source, where=where, rename=rename)
    elif where or rename:
        raise ScalingLawsError("--where and --map apply to runs tables; a fit's rows are the ones it was fitted to "
                               "(use --data to point at them)")
    return obj


@app.command("plot")
@use(DATA, CALIBRATION)
def plot_cmd(
    source: str = typer.Argument(..., help="A fit file (scalinglaws fit -o), a record saved from any command's "
                                 "--json (plan, approaches, forecast, backtest, compare, downstream, testtime ...), "
                                 "or a runs table (path, dataset:NAME, store:PATH, ?filters)."),
    output: Path = typer.Option(None, "--output", "-o", help="Picture to write: .png, .svg or .pdf."),
    kind: str = typer.Option(None, "--kind", "-k", help="Figure kind(s), comma-separated, 'all', or 'list' to see "
                             "them. Default: fit for fits, runs for tables."),
    data: str = typer.Option(None, "--data", help=DATA_FOR_FIT_HELP),
    at: list[str] = typer.Option([], "--at", help=AT_HELP),
    budget: list[float] = typer.Option([], "--budget", help=BUDGET_HELP),
    x: str = typer.Option(None, "--x", help="Column on the x axis (default: flops for laws of N and D)."),
    y: str = typer.Option(None, "--y", help="Metric on the y axis for runs tables (default: loss)."),
    by: str = typer.Option(None, "--by", help=BY_HELP),
    title: str = typer.Option(None, "--title", help="Title of the picture (default: the law and the data, in words)."),
    dpi: float = typer.Option(None, "--dpi", help="Dots per inch of a PNG (default 150)."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures' data (panels, series, arrays) as JSON."),
    *, where, rename, calibration,
):
    """Draw a fit (data and law, extrapolation, residuals, frontier, curves), any saved result record (plans,
    forecasts, backtests, comparisons, downstream, test-time), or a runs table (IsoFLOP profiles)."""
    from ..errors import ScalingLawsError
    from ..plots import FIGURES, figures, kinds_for
    from ..records import format_of

    obj = _source(source, where, rename)
    if kind == "list":
        names = kinds_for(obj)
        if as_json:
            emit_json({"format": format_of("figure_kinds"),
                       "kinds": [{"name": n, "title": FIGURES[n].title, "default": FIGURES[n].default} for n in names]})
            return
        for n in names:
            console().print(f"[bold]{n}[/bold]  {FIGURES[n].title}")
        return
    if output is None and not as_json:
        raise ScalingLawsError("give the picture to write with -o FILE.png (or .svg, .pdf), or --json for the data")
    if output is not None:
        from ..plots.mpl import format_of

        format_of(output)
    options = {"data": data, "at": parse_at(at) or None, "budget": budget or None, "x": x, "y": y, "by": by,
               "calibration": calibration}
    if Path(source).is_file():
        options["near"] = Path(source).resolve().parent  # a fit's data file may lie beside it
    figs = figures(obj, kind, **options)
    if output is not None:
        from ..plots.mpl import save

        save(figs, output, dpi=dpi, title=title)
    if as_json:
        out = {"format": format_of("figures"), "figures": [f.to_dict() for f in figs]}
        if output is not None:
            out["output"] = str(output)
        emit_json(out)
        return
    con = console()
    con.print(f"wrote {output} ({', '.join(f.kind for f in figs)})")
    from ..render.text import beyond

    over = [s for s, c in getattr(obj, "inputs", {}).items() if s != "lr" and c != "lr"]
    for f in figs:
        for note in f.meta.get("targets", [])[:3]:
            lo = f" [{note['lower']:.4g}, {note['upper']:.4g}]" if note.get("lower") is not None else ""
            con.print(f"[dim]target: {note['prediction']:.4g}{lo}, {beyond(note['extrapolation'], over)}[/dim]")


@app.command("report")
@use(CALIBRATION, JSON)
def report_cmd(
    inputs: list[str] = typer.Argument(..., help="Fit files and runs tables (paths, dataset:NAME, store:PATH)."),
    output: Path = typer.Option(..., "--output", "-o", help="The HTML page to write, e.g. report.html."),
    title: str = typer.Option(None, "--title", help="Title of the page."),
    data: str = typer.Option(None, "--data", help=DATA_FOR_FIT_HELP),
    at: list[str] = typer.Option([], "--at", help=AT_HELP),
    budget: list[float] = typer.Option([], "--budget", help=BUDGET_HELP),
    by: str = typer.Option(None, "--by", help=BY_HELP),
    *, calibration, as_json,
):
    """Write one self-contained HTML page: interactive plots, parameters with intervals, diagnostics, warnings, the
    plan, and the command that made it. Opens offline; loads nothing from the network."""
    from ..report import report

    rep = report(inputs, output, title=title, data=data, at=parse_at(at) or None, budgets=budget, by=by,
                 calibration=calibration)
    if as_json:
        emit_json({**rep.to_dict(), "output": str(output), "bytes": output.stat().st_size})
        return
    con = console()
    n_figs = sum(len(s.figures) for s in rep.sections)
    con.print(f"wrote {output}: {len(rep.sections)} sections, {n_figs} interactive figures, "
              f"{output.stat().st_size / 1e6:.1f} MB (self-contained)")
    for s in rep.sections:
        con.print(f"  {s.title}" + (f" [yellow]({len(s.warnings)} warnings)[/yellow]" if s.warnings else ""))
