"""Report sections on whether the prediction intervals mean what they say (plots/reliability_figures.py): the
reliability of a backtest's held-out rows and of a calibration's, observed against nominal coverage.

Records are read through `to_dict()` (a backtest) or their stored scores (a calibration): the numbers shown are
the record's own.
"""

from __future__ import annotations

from html import escape

from ..render.html_tables import table
from ..render.text import plural
from .sections import Context, Section, section_kind, try_figure

BACKTEST = ("scalinglaws.decide.backtesting:Backtest", "scalinglaws.plots.saved:Backtest")
CALIBRATION = "scalinglaws.fitting.calibration:Calibration"
SHOWN = (0.5, 0.8, 0.95)  # the levels the tables show (the figure shows every level)


def _pct(v) -> str:
    return "–" if v is None else f"{100 * v:.0f}%"


def _at(nominal, observed, a):
    return observed[nominal.index(a)] if a in nominal else None


def _section(title: str, body: list[str], rec, label: str) -> list[Section]:
    notes: list[str] = []
    fig = try_figure("reliability", rec, notes)
    body.append("".join(f"<div class='muted'>{escape(n)}</div>" for n in notes))
    return [Section(title + (f" ({label})" if label else ""), "reliability", "".join(body), (fig,) if fig else (),
                    (), label)]


@section_kind("reliability", accepts=BACKTEST + (CALIBRATION,), order=55)
def reliability_section(rec, ctx: Context, label: str) -> list[Section]:
    if hasattr(rec, "scores"):
        return _calibration(rec, label)
    d = rec.to_dict()
    rel = d.get("reliability")
    if rel is None:  # a backtest without a bootstrap made no intervals: nothing to say here
        return []
    n = rel["nominal"]
    rows = [["every cut", rel["rows"]] + [_pct(_at(n, rel["observed"], a)) for a in SHOWN]]
    rows += [[f"cut {c['cut']:.4g}", c["test_rows"]] + [_pct(_at(n, c["reliability"], a)) for a in SHOWN]
             for c in d["cuts"] if c.get("reliability") is not None]
    body = [f"<p>How often the held-out larger runs of <code>{escape(d['source'])}</code> fell inside the "
            f"<code>{escape(d['label'])}</code> backtest's prediction intervals (calibration "
            f"<code>{escape(str(d.get('calibration')))}</code>), against the level the intervals claim: on the "
            "diagonal they mean what they say, below it they are too narrow.</p>",
            table("Held-out rows inside their intervals", ["", "rows"] + [f"{_pct(a)} nominal" for a in SHOWN], rows,
                  style=False, left=1)]
    return _section(f"Reliability: {d['label']} on {d['source']}", body, rec, label)


def _calibration(cal, label: str) -> list[Section]:
    rel = (cal.scores or {}).get("reliability") or {}
    rows = [[name, r["rows"]] + [f"{_pct(_at(r['nominal'], r['plain'], a))} → "
                                 f"{_pct(_at(r['nominal'], r['calibrated'], a))}" for a in SHOWN]
            for name, r in rel.items()]
    df = "normal" if cal.df is None else f"Student-t with {cal.df:g} degrees of freedom"
    body = [f"<p>Calibration <code>{escape(cal.origin)}</code>: model-error term τ = {cal.tau0:.4g} + "
            f"{cal.tau_noise:.3g}·s + {cal.tau1:.3g}·ln f ({df}; s the fit's residual scale, f the extrapolation "
            f"factor) in {escape(cal.space)} space, learned from {plural(len(cal.source), 'dataset')}. "
            "Coverage on their held-out larger runs, plain bootstrap → calibrated (in-sample).</p>",
            table("Held-out rows inside their intervals", ["dataset", "rows"] + [f"{_pct(a)} nominal" for a in SHOWN],
                  rows, style=False, left=1) if rows else ""]
    name = "the default calibration" if cal.origin == "default" else f"the calibration {cal.origin}"
    return _section(f"Reliability of {name}", body, cal, label)
