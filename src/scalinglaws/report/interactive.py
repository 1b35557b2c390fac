"""A `Figure` (scalinglaws.plots.spec) as plotly.js figures: one {data, layout} per panel, for the HTML report.

Only JSON is built here; the page inlines plotly.js itself. Plotly renders a subset of HTML in labels and hover
text, so every label that can come from users (run names, families, sources) is escaped on the way in.
"""

from __future__ import annotations

from html import escape

import numpy as np

from ..plots.spec import NEUTRAL, Figure, Panel, Series, palette

HEIGHT = 440


def _rgba(colour: str, alpha: float) -> str:
    r, g, b = (int(colour[k:k + 2], 16) for k in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _clean(values) -> list:
    """JSON has no NaN or infinity: plotly takes null for a gap."""
    return [None if not np.isfinite(v) else v for v in values]


def _hover(s: Series) -> dict:
    if s.text:
        return {"text": [escape(t) for t in s.text],
                "hovertemplate": "%{text}<br>x = %{x:.4g}<br>y = %{y:.4g}<extra></extra>"}
    return {"hovertemplate": (escape(s.label) + "<br>" if s.label else "") + "x = %{x:.4g}<br>y = %{y:.4g}"
            "<extra></extra>"}


def traces(s: Series, colour: str, show: bool) -> list[dict]:
    base = {"type": "scatter", "x": _clean(s.x), "name": escape(s.label or s.group or ""),
            "legendgroup": escape(s.group or s.label), "showlegend": show}
    y = _clean(s.y)
    if s.kind == "points":
        return [{**base, "y": y, "mode": "markers", **_hover(s),
                 "marker": {"color": colour, "size": 7, "opacity": 0.85, "line": {"color": "white", "width": 0.5}}}]
    if s.kind in ("line", "dashed"):
        return [{**base, "y": y, "mode": "lines", **_hover(s),
                 "line": {"color": colour, "width": 2.2 if s.kind == "line" else 1.4,
                          "dash": "solid" if s.kind == "line" else "dash"}}]
    if s.kind == "band":
        edge = {"mode": "lines", "line": {"width": 0, "color": colour}, "hoverinfo": "skip"}
        return [{**base, **edge, "y": y, "showlegend": False},
                {**base, **edge, "y": _clean(s.y2), "fill": "tonexty",
                 "fillcolor": _rgba(colour, s.alpha or 0.25)}]
    if s.kind == "errorbar":
        lohi = np.asarray(s.y2).reshape(-1, 2)
        yy = np.asarray(s.y)
        return [{**base, "y": y, "mode": "markers", **_hover(s),
                 "marker": {"color": colour, "size": 10, "symbol": "diamond"},
                 "error_y": {"type": "data", "symmetric": False, "array": _clean(lohi[:, 1] - yy),
                             "arrayminus": _clean(yy - lohi[:, 0]), "color": colour, "thickness": 2, "width": 6}}]
    if s.kind == "star":
        return [{**base, "y": y, "mode": "markers", **_hover(s),
                 "marker": {"color": colour, "size": 15, "symbol": "star", "line": {"color": "black", "width": 1}}}]
    return []  # hline, vline and span are layout shapes


def shapes(panel: Panel) -> list[dict]:
    out = []
    for s in panel.series:
        if s.kind == "hline":
            out.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": s.y[0], "y1": s.y[0],
                        "line": {"color": "#444", "width": 1, "dash": "dash"}})
        elif s.kind == "vline":
            out.append({"type": "line", "yref": "paper", "y0": 0, "y1": 1, "x0": s.x[0], "x1": s.x[0],
                        "line": {"color": "#444", "width": 1, "dash": "dash"}})
        elif s.kind == "span":
            out.append({"type": "rect", "yref": "paper", "y0": 0, "y1": 1, "x0": s.x[0], "x1": s.x[1],
                        "fillcolor": "#888888", "opacity": s.alpha or 0.1, "line": {"width": 0}, "layer": "below",
                        "name": escape(s.label), "showlegend": bool(s.label)})
    return out


def _axis(title: str, log: bool) -> dict:
    # automargin and a standoff: the axis title moves clear of long tick labels (10^-2.5, 1.2e+04) instead of
    # overlapping them
    return {"title": {"text": escape(title), "standoff": 10}, "type": "log" if log else "linear",
            "exponentformat": "power", "showgrid": True, "gridcolor": "#e6e6e6", "zeroline": False,
            "linecolor": "#999", "mirror": True, "ticks": "outside", "automargin": True}


def panel_json(panel: Panel) -> dict:
    colours = palette(panel)
    data, seen = [], set()
    for s in panel.series:
        show = bool(s.legend and s.label and s.label not in seen)
        if show:
            seen.add(s.label)
        data.extend(traces(s, colours.get(s.group, NEUTRAL), show))
    layout = {
        # the title at the left, clear of the toolbar (modebar) at the top right, which covered a centred title
        "title": {"text": escape(panel.title), "font": {"size": 15}, "x": 0.01, "xanchor": "left"},
        "xaxis": _axis(panel.xlabel, panel.xlog), "yaxis": _axis(panel.ylabel, panel.ylog),
        "shapes": shapes(panel), "hovermode": "closest", "height": HEIGHT,
        "margin": {"l": 70, "r": 40, "t": 50, "b": 60}, "plot_bgcolor": "white", "paper_bgcolor": "white",
        "legend": {"font": {"size": 11}, "bgcolor": "rgba(255,255,255,0.85)"},
        "font": {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12},
    }
    if len(seen) > 10:  # a long legend: a taller plot, so that every entry shows without scrolling
        layout["height"] = max(HEIGHT, 170 + 30 * len(seen))  # about 30 px per legend entry
    if panel.notes:
        layout["annotations"] = [{"text": "<br>".join(escape(n) for n in panel.notes), "xref": "paper",
                                  "yref": "paper", "x": 0.01, "y": 0.01, "xanchor": "left", "yanchor": "bottom",
                                  "showarrow": False, "align": "left", "font": {"size": 11, "color": "#333"},
                                  "bgcolor": "rgba(255,255,255,0.8)"}]
    return {"data": data, "layout": layout}


def figure_json(fig: Figure) -> list[dict]:
    return [panel_json(p) for p in fig.panels]
