"""Small HTML tables for Jupyter (`_repr_html_`) and the HTML report: fits, predictions, runs tables, plans, the
run store and any result record render as tables.

Every user-supplied string (run names, column names, law names, sources) is escaped; callers pass plain text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from .text import beyond, interval, num, plural

STYLE = ("<style>.sl-t{border-collapse:collapse;font:13px system-ui,sans-serif}.sl-t td,.sl-t th{padding:2px 10px;"
         "border-bottom:1px solid #ddd;text-align:right}.sl-t th{text-align:left}.sl-t caption{text-align:left;"
         "font-weight:600;padding:4px 0}.sl-t td.sl-l{text-align:left}.sl-warn{color:#a33}</style>")


def cell(value) -> str:
    """A table cell's text: numbers made short, None as a dash, everything else as text."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return num(value) if isinstance(value, float) else str(value)
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        return cell(value.item())
    return str(value)


def table(caption: str, header: Sequence[str], rows: Sequence[Sequence], note: str = "", *, style: bool = True,
          left: int = 1) -> str:
    """An escaped HTML table; the first `left` columns are labels (left-aligned), the rest numbers."""
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    head = f"<tr>{head}</tr>" if any(str(h) for h in header) else ""  # a key-value table needs no header row
    body = "".join(
        "<tr>" + "".join(f"<td class='sl-l'>{escape(cell(c))}</td>" if j < left else f"<td>{escape(cell(c))}</td>"
                         for j, c in enumerate(r)) + "</tr>" for r in rows)
    foot = f"<div style='font:12px system-ui;color:#555'>{escape(note)}</div>" if note else ""
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f"{STYLE if style else ''}<table class='sl-t'>{cap}{head}{body}</table>{foot}"


def fit_param_rows(fit) -> tuple[list[str], list[list]]:
    """The parameter table of a fit: value, interval, and whether it sits at a bound."""
    ci = fit.ci or {}
    fixed = set(getattr(fit, "fixed", ()))
    label = f"{int(round(fit.bootstrap.level * 100))}% CI" if fit.bootstrap else "CI (no bootstrap)"
    rows = [[k, num(v, 5), "fixed" if k in fixed else interval(ci.get(k)) if ci else "–",
             "at bound" if k in fit.at_bounds else ""] for k, v in fit.params.items()]
    return ["parameter", "value", label, ""], rows


def fit_html(fit, *, style: bool = True) -> str:
    header, rows = fit_param_rows(fit)
    note = (f"{fit.formula} · objective {fit.objective:.6g} · {fit.n_points} points · "
            f"{'converged' if fit.converged else 'NOT converged'}")
    if fit.warnings:
        note += " · warnings: " + "; ".join(fit.warnings)
    return table(f"Fit: {getattr(fit, 'label', fit.law)}", header, rows, note, style=style)


def predictions_html(pred, *, style: bool = True) -> str:
    recs = pred.records()
    cols = list(pred.inputs)[:6]
    rows = [[num(r[c]) if isinstance(r[c], (int, float)) else r[c] for c in cols]
            + [num(r["prediction"], 5), interval([r["lower"], r["upper"]]) if r["lower"] is not None else "–",
               beyond(r["extrapolation"], outside=r.get("beyond_data", False), short=True)]
            for r in recs]
    label = f"{int(round(pred.level * 100))}% {pred.interval} interval" if pred.lower is not None else "interval"
    over = ", ".join(getattr(pred, "over", ())) or "inputs"
    return table(f"Predictions of {pred.target}", cols + ["prediction", label, f"beyond the fitted {over}"], rows,
                 "; ".join(pred.warnings), style=style, left=0)


def runs_html(runs, limit: int = 10, *, style: bool = True) -> str:
    names = runs.names[:10]
    rows = [[num(runs[n][i]) if runs[n].dtype.kind == "f" else runs[n][i] for n in names]
            for i in range(min(limit, len(runs)))]
    note = f"{len(runs)} rows, {plural(runs.n_runs, 'run')}, {len(runs.names)} columns, from {runs.source}"
    return table("Runs", names, rows, note, style=style, left=0)


def allocation_html(allocations, *, style: bool = True, caption: str = "Compute-optimal allocation") -> str:
    """Plans (records with flops, params, tokens, loss, tokens_per_param, method and, when the fit had a
    bootstrap, `intervals` of each quantity), one row each."""
    allocations = [allocations] if hasattr(allocations, "flops") else list(allocations)

    def value(a, key: str, digits: int = 4) -> str:
        iv = (getattr(a, "intervals", None) or {}).get(key)
        return num(getattr(a, key), digits) + (f" {interval(iv)}" if iv else "")

    rows = [[num(a.flops), value(a, "params"), value(a, "tokens"), value(a, "tokens_per_param", 3),
             value(a, "loss"), beyond(getattr(a, "extrapolation", 1.0), short=True),
             a.method] for a in allocations]
    levels = {getattr(a, "level", None) for a in allocations} - {None}
    note = f"[intervals]: {int(round(levels.pop() * 100))}% over the bootstrap draws" if len(levels) == 1 else ""
    return table(caption, ["compute C (FLOP)", "params N*", "tokens D*", "D*/N*", "loss", "beyond the fitted N, D",
                           "method"],
                 rows, note, style=style, left=0)


def record_html(record, caption: str | None = None, *, style: bool = True) -> str:
    """Any result record (anything with `to_dict()`, or a mapping) as a two-column table of its fields.

    Nested mappings are flattened to dotted names; long lists are summarised. A record of a new kind gets a
    notebook table with `def _repr_html_(self): return record_html(self)`.
    """
    data = record.to_dict() if hasattr(record, "to_dict") else dict(record)
    rows = [[k, _short(v)] for k, v in _flatten(data)]
    return table(caption if caption is not None else type(record).__name__, ["field", "value"], rows, style=style,
                 left=2)


def _flatten(d: Mapping, prefix: str = ""):
    for k, v in d.items():
        name = f"{prefix}{k}"
        if isinstance(v, Mapping) and v and len(v) <= 20:
            yield from _flatten(v, name + ".")
        else:
            yield name, v


def _short(v) -> str:
    if isinstance(v, (list, tuple)):
        if len(v) > 8:
            return f"[{', '.join(cell(x) for x in v[:6])}, … ({len(v)} items)]"
        return "[" + ", ".join(cell(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return f"{{{len(v)} fields}}"
    return cell(v)
