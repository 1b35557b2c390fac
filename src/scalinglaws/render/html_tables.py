"""Small HTML tables for Jupyter (`_repr_html_`): fits, predictions and runs tables render as tables in notebooks.

Every user-supplied string (run names, column names, law names) is escaped.
"""

from __future__ import annotations

from html import escape

from .text import interval, num

STYLE = ("<style>.sl-t{border-collapse:collapse;font:13px system-ui,sans-serif}.sl-t td,.sl-t th{padding:2px 10px;"
         "border-bottom:1px solid #ddd;text-align:right}.sl-t th{text-align:left}.sl-t caption{text-align:left;"
         "font-weight:600;padding:4px 0}</style>")


def table(caption: str, header: list[str], rows: list[list], note: str = "") -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    foot = f"<div style='font:12px system-ui;color:#555'>{escape(note)}</div>" if note else ""
    return f"{STYLE}<table class='sl-t'><caption>{escape(caption)}</caption><tr>{head}</tr>{body}</table>{foot}"


def fit_html(fit) -> str:
    ci = fit.ci or {}
    rows = [[k, num(v, 5), interval(ci.get(k)) if ci else "–"] for k, v in fit.params.items()]
    label = f"{int(round(fit.bootstrap.level * 100))}% CI" if fit.bootstrap else "CI (no bootstrap)"
    note = (f"{fit.formula} · objective {fit.objective:.6g} · {fit.n_points} points · "
            f"{'converged' if fit.converged else 'NOT converged'}")
    if fit.warnings:
        note += " · warnings: " + "; ".join(fit.warnings)
    return table(f"Fit: {fit.law}", ["parameter", "value", label], rows, note)


def predictions_html(pred) -> str:
    recs = pred.records()
    cols = list(pred.inputs)[:6]
    rows = [[num(r[c]) if isinstance(r[c], (int, float)) else r[c] for c in cols]
            + [num(r["prediction"], 5), interval([r["lower"], r["upper"]]) if r["lower"] is not None else "–"]
            for r in recs]
    return table(f"Predictions of {pred.target}", cols + ["prediction", f"{pred.interval} interval"], rows)


def runs_html(runs, limit: int = 10) -> str:
    names = runs.names[:10]
    rows = [[num(runs[n][i]) if runs[n].dtype.kind == "f" else runs[n][i] for n in names]
            for i in range(min(limit, len(runs)))]
    note = f"{len(runs)} rows, {runs.n_runs} runs, {len(runs.names)} columns, from {runs.source}"
    return table("Runs", names, rows, note)
