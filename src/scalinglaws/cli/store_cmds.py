"""`ingest` and `store`: experiment logs into the local run store, and what the store holds."""

from __future__ import annotations

from pathlib import Path

import typer

from ..render.text import plural
from .app import app
from .common import JSON_HELP, MAP_HELP, console, emit_json, progress_bar

STORE_HELP = "The store file (default: $SCALINGLAWS_STORE, else scalinglaws.duckdb in this folder)."


@app.command("ingest")
def ingest_cmd(
    sources: list[str] = typer.Argument(..., help="Log folders or files: TensorBoard, lm-eval JSON, W&B exports "
                                        "(or wandb:ENTITY/PROJECT), MLflow mlruns, runs tables, dataset:NAME, fit "
                                        "files."),
    store: Path = typer.Option(None, "--store", "-s", help=STORE_HELP),
    kind: str = typer.Option("auto", "--from", help="The source's kind: auto, tensorboard, lm-eval, wandb, mlflow, "
                             "table or fit."),
    map_: list[str] = typer.Option([], "--map", help=MAP_HELP + " OLD may be a logged name: --map loss=train/loss."),
    set_: list[str] = typer.Option([], "--set", help="A constant column for every row: --set params=1.4e9. "
                                   "Repeatable."),
    join: Path = typer.Option(None, "--join", help="A table of per-run columns (e.g. model,params) joined on the "
                              "columns it shares with the log."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Read and check everything; say what would be added."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
):
    """Add runs from experiment logs to the run store, deduplicated, with their provenance, in one transaction."""
    from ..store import ingest

    update, bar = progress_bar(not as_json, "reading")
    with bar:
        result = ingest(sources, store=store, kind=kind, rename=map_, constants=set_,
                        join=str(join) if join else None, dry_run=dry_run, progress=update)
    if as_json:
        emit_json(result.to_dict())
        return
    from rich.table import Table

    con = console()
    table = Table(header_style="bold", box=None)
    for c, j in (("source", "left"), ("kind", "left"), ("rows read", "right"), ("added", "right"),
                 ("already there", "right"), ("runs", "right")):
        table.add_column(c, justify=j, overflow="fold")
    for i in result.ingests:
        table.add_row(i.source, i.kind, str(i.rows_read), str(i.rows_added), str(i.rows_skipped), str(i.runs))
    if result.ingests:
        con.print(table)
    for i in result.ingests:
        if i.new_columns:
            shown = ", ".join(i.new_columns[:12]) + (f", … ({len(i.new_columns)} in all)" if len(i.new_columns) > 12
                                                      else "")
            con.print(f"[dim]new columns from {i.source}: {shown}[/dim]")
        for note in i.notes:
            con.print(f"[dim]note ({Path(i.source).name}): {note}[/dim]")
    for f in result.fits:
        con.print(f"fit {f.id or '(new)'}: {f.law} on {f.source} — {f.note}")
    verb = "would hold" if result.dry_run else "now holds"
    added = sum(i.rows_added for i in result.ingests)
    con.print(f"{result.store} {verb} {result.rows + (added if result.dry_run else 0)} rows"
              + (" (dry run: nothing written)" if result.dry_run else "")
              + f". Use it: scalinglaws fit store:{result.store} --law ...")


@app.command("store")
def store_cmd(
    store: Path = typer.Option(None, "--store", "-s", help=STORE_HELP),
    fit: int = typer.Option(None, "--fit", help="Write the stored fit with this id to --output."),
    output: Path = typer.Option(None, "--output", "-o", help="Where to write the fit given by --fit."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
):
    """What the run store holds: its ingests with their sources and file hashes, its fits and its columns."""
    from ..errors import ScalingLawsError
    from ..records import format_of
    from ..store import describe, load_fit

    if fit is not None:
        if output is None:
            raise ScalingLawsError("--fit needs --output FILE.json, where the fit record is written")
        load_fit(fit, store).save(output)
        if as_json:
            emit_json({"format": format_of("stored_fit"), "fit": fit, "output": str(output)})
        else:
            console().print(f"wrote fit {fit} to {output}")
        return
    info = describe(store)
    if as_json:
        emit_json(info.to_dict())
        return
    from rich.table import Table

    con = console()
    con.print(f"[bold]{info.path}[/bold]: {info.rows} rows, {plural(info.runs, 'run')}, {len(info.columns)} columns "
              f"({info.format})")
    table = Table(header_style="bold", box=None, title="ingests", title_justify="left")
    for c in ("id", "time", "kind", "source", "files", "added", "skipped"):
        table.add_column(c, overflow="fold", justify="right" if c in ("id", "files", "added", "skipped") else "left")
    for i in info.ingests:
        table.add_row(str(i["id"]), i["time"], i["kind"], i["source"], str(len(i["files"])), str(i["rows_added"]),
                      str(i["rows_skipped"]))
    con.print(table)
    if info.fits:
        fits = Table(header_style="bold", box=None, title="fits", title_justify="left")
        for c in ("id", "time", "law", "target", "data", "data hash", "rows pinned"):
            fits.add_column(c, overflow="fold")
        for f in info.fits:
            fits.add_row(str(f["id"]), f["time"], f["law"], f["target"], f["source"], f["data_hash"],
                         "–" if f["rows_matched"] is None else str(f["rows_matched"]))
        con.print(fits)
    names = [n for n, _ in info.columns]
    con.print(f"[dim]columns: {', '.join(names[:20])}{', …' if len(names) > 20 else ''}[/dim]")
    con.print(f"[dim]read it anywhere data go: store:{info.path}?COND, e.g. store:{info.path}?ingest=1[/dim]")
