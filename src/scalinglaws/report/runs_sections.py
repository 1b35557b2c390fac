"""Report sections for runs tables given as data: what the table holds, the measurements, IsoFLOP profiles."""

from __future__ import annotations

from html import escape

from ..render.html_tables import table
from ..render.text import num
from .sections import Context, Section, section_kind, try_figure


@section_kind("runs", accepts="scalinglaws.runs.table:Runs", order=30)
def runs_section(runs, ctx: Context, label: str) -> list[Section]:
    info = runs.describe()
    rows = [["source", runs.source], ["rows / runs", f"{info['rows']} / {info['runs']}"],
            ["data hash", runs.hash()], ["columns", ", ".join(runs.names)]]
    rows += [[f"range of {c}", f"{num(lo)} … {num(hi)}"] for c, (lo, hi) in info["ranges"].items()]
    notes: list[str] = []
    figs = [try_figure("runs", runs, notes, by=ctx.by)]
    if "params" in runs and "flops" in runs:
        figs.append(try_figure("isoflop", runs, notes, quiet=True))
    body = table("", ["", ""], rows, style=False, left=2) + "".join(
        f"<div class='muted'>{escape(n)}</div>" for n in list(info.get("notes", [])) + notes)
    return [Section(f"Runs: {label or runs.source}", "runs", body, tuple(f for f in figs if f is not None), (), label)]
