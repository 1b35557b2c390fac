"""Report sections for training curves (docs/curves.md): a curve law's fit drawn with each run's schedule, forecasts
of a run in flight or of schedules never run (`scalinglaws forecast|curve --json`), and the ranking of a family's
schedules (`scalinglaws best-schedule --json`).
"""

from __future__ import annotations

from html import escape

from ..records import kind_of
from ..render.html_tables import table
from ..render.text import num
from .sections import Context, Section, near, section_kind, try_figure

FIT = "scalinglaws.fitting.record:Fit"
FORECAST = ("scalinglaws.curves.forecast:CurveForecast", "scalinglaws.curves.forecast:CurveForecasts",
            "scalinglaws.plots.saved:CurveForecast", "scalinglaws.plots.saved:CurveForecasts")
SEARCH = ("scalinglaws.curves.shapes:ScheduleSearch", "scalinglaws.plots.saved:ScheduleSearch")
TOP = 10  # candidates listed from a schedule search


def _muted(lines) -> str:
    return "".join(f"<div class='muted'>{escape(str(n))}</div>" for n in lines)


@section_kind("curve_fit", accepts=FIT, order=12)
def curve_fit_section(fit, ctx: Context, label: str) -> list[Section]:
    """Beside a curve law's fit section: every run's curve and the schedule that shaped it."""
    if fit.get_law().features is None:
        return []
    notes: list[str] = []
    fig = try_figure("curves", fit, notes, data=ctx.data, near=near(label))
    if fig is None and ctx.data is not None:  # --data may be another input's runs: try the fit's own source
        fig = try_figure("curves", fit, notes, near=near(label))
    body = ("<p>Each run's logged loss with the curve the fitted law computes from the run's whole learning-rate "
            "schedule, and the schedules themselves.</p>" + _muted(notes))
    return [Section(f"Training curves: {fit.law} fit to {fit.data.get('source', '?')}"
                    + (f" ({label})" if label else ""), "curve_fit", body, (fig,) if fig else (), (), label)]


@section_kind("curve_forecast", accepts=FORECAST, order=40)
def forecast_section(rec, ctx: Context, label: str) -> list[Section]:
    d = rec.to_dict()
    fcs = list(d["curves"]) if kind_of(d) == "curve_forecasts" else [d]
    rows = []
    for fc in fcs:
        fin = fc["final"]
        iv = f"[{fin['lower']:.4f}, {fin['upper']:.4f}]" if fin.get("lower") is not None else "–"
        rows.append([fc["run"], fc["law"], num(fin["step"]), f"{fin['prediction']:.4f}", iv,
                     "–" if fc.get("observed_until") is None else num(fc["observed_until"]),
                     fc.get("prior") or ("run's own curve" if fc.get("observed_until") is not None else "fit")])
    first = fcs[0]
    level = f"{int(round(first['level'] * 100))}% {first['interval']} interval" if first.get("level") else "interval"
    body = [table(f"Final {first['target']}", ["run / schedule", "law", "final step", "prediction", level,
                                                 "logged to step", "parameters from"], rows, style=False, left=2)]
    checks = [f"backtest of {fc['run']}: from step {fc['backtest']['from_step']:g}, step "
              f"{fc['backtest']['to_step']:g} forecast at {fc['backtest']['prediction']:.4f} (logged "
              f"{fc['backtest']['observed']:.4f}, {fc['backtest']['error']:+.2%})" for fc in fcs if fc.get("backtest")]
    notes: list[str] = []
    fig = try_figure("forecast", rec, notes, data=ctx.data)
    in_flight = first.get("observed_until") is not None
    if in_flight and ctx.data is None:
        notes.append("the logged curve is drawn when the report is given it with --data PARTIAL.csv")
    body.append(_muted(checks + notes))
    title = (f"Forecast of run {first['run']} in flight" if in_flight else
             f"Curves of {len(fcs)} schedule{'s' if len(fcs) > 1 else ''} never run") + (f" ({label})" if label else "")
    warns = tuple(dict.fromkeys(w for fc in fcs for w in fc.get("warnings", [])))
    return [Section(title, "curve_forecast", "".join(body), (fig,) if fig else (), warns, label)]


@section_kind("schedule_search", accepts=SEARCH, order=41)
def schedule_search_section(rec, ctx: Context, label: str) -> list[Section]:
    d = rec.to_dict()
    cands = d["candidates"]
    keys = [k for k in cands[0] if k not in ("schedule", "final", "lower", "upper", "p_best")]
    header = keys + [f"final {d['target']}"] + (["interval", "P(best)"] if d.get("draws") else [])
    rows = []
    for c in cands[:TOP]:
        row = [f"{c[k]:g}" if isinstance(c[k], float) else str(c[k]) for k in keys] + [f"{c['final']:.4f}"]
        if d.get("draws"):
            row += [f"[{c['lower']:.4f}, {c['upper']:.4f}]", f"{c['p_best']:.2f}"]
        rows.append(row)
    body = [f"<p>{len(cands)} {escape(d['family'])} schedules for {d['total']} steps at peak {d['peak']:g} "
            f"(warm-up {d['warmup']}), ranked by the final {escape(d['target'])} the {escape(d['law'])} fit predicts. "
            f"Best: <code>{escape(d['best']['schedule'])}</code>.</p>",
            table(f"The {min(TOP, len(cands))} best", header, rows, style=False, left=len(keys))]
    notes: list[str] = []
    fig = try_figure("schedule_search", rec, notes)
    body.append(_muted(notes))
    return [Section(f"Best {d['family']} schedule" + (f" ({label})" if label else ""), "schedule_search",
                    "".join(body), (fig,) if fig else (), tuple(d.get("warnings", [])), label)]
