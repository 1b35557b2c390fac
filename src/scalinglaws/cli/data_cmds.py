"""`datasets`: the bundled measurements."""

from __future__ import annotations

import typer

from ..render.text import plural
from .app import app
from .common import JSON_HELP, console, emit_json


@app.command("datasets")
def datasets_cmd(
    name: str = typer.Argument(None, help="Show one dataset: its columns and ranges."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
):
    """List the bundled datasets (rows, what varies, source, licence), or describe one."""
    from ..datasets import DATASETS, list_datasets, load_dataset
    from ..records import format_of

    if name is not None:
        runs = load_dataset(name)
        info = {**next(d for d in list_datasets() if d["name"] == name), **runs.describe()}
        if as_json:
            emit_json({"format": format_of("dataset"), **info})
            return
        from rich.table import Table

        from ..render.text import num

        con = console()
        con.print(f"[bold]{name}[/bold]: {DATASETS[name].title}")
        con.print(f"{info['rows']} rows, {plural(info['runs'], 'run')}; varies: {info['varies']}")
        con.print(f"source: {info['source']} · licence: {info['licence']} · cite: {info['cite']}")
        if info["notes"]:
            con.print(f"note: {info['notes']}")
        table = Table(header_style="bold", box=None)
        table.add_column("column")
        table.add_column("range / values", overflow="fold")
        for col in runs.names:
            data = runs[col]
            if data.dtype.kind == "f":
                rng = info["ranges"].get(col) or runs.ranges([col]).get(col)
                text = f"{num(rng[0])} … {num(rng[1])}" if rng else "(empty)"
            else:
                values = list(dict.fromkeys(map(str, data.tolist())))
                text = ", ".join(values[:6]) + (f", … ({len(values)} values)" if len(values) > 6 else "")
            table.add_row(col, text)
        con.print(table)
        con.print(f"use it: scalinglaws fit dataset:{name} --law ...")
        return
    records = list_datasets()
    if as_json:
        emit_json({"format": format_of("datasets"), "datasets": records})
        return
    from rich.table import Table

    table = Table(header_style="bold", show_lines=True)
    for c, kw in (("name", {}), ("rows", {"justify": "right"}), ("what varies", {}), ("source", {}),
                  ("licence", {})):
        table.add_column(c, overflow="fold", **kw)
    for r in records:
        table.add_row(r["name"], str(r["rows"]), r["varies"], r["source"], r["licence"])
    con = console()
    con.print(table)
    con.print("Read one with dataset:NAME wherever a command takes data; `scalinglaws datasets NAME` shows its "
              "columns. Attribution: scalinglaws/datasets/data/NOTICE.md")
