"""The report as one self-contained HTML page: styles, plotly.js and the figures' data all inlined, so it opens
offline, attaches to an email and never fetches anything.

Text from users (run names, families, sources, law names, titles) is escaped everywhere: in the HTML with
`html.escape`, in the figures' JSON by escaping `<`, `>` and `&` so that no data can close the script element.
"""

from __future__ import annotations

import json
from html import escape

from .._version import __version__
from ..errors import require
from ..plots.spec import Figure
from .interactive import figure_json

CSS = """
:root{--ink:#1d2330;--mute:#5b6475;--line:#e2e5ea;--warn:#9a3412;--warnbg:#fff4e5;--accent:#0b5cad}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--ink);background:#f6f7f9}
header{background:#fff;border-bottom:1px solid var(--line);padding:18px 32px}
header h1{margin:0 0 4px;font-size:22px}
main{max-width:1320px;margin:0 auto;padding:12px 32px 48px}
nav{font-size:13px;margin-top:8px}nav a{color:var(--accent);margin-right:14px;text-decoration:none}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px 22px;margin:16px 0}
section h2{margin:0 0 8px;font-size:18px}
h3{font-size:15px;margin:14px 0 6px}
.muted{color:var(--mute);font-size:13px}
pre.cmd{background:#0f1720;color:#e6edf3;padding:10px 14px;border-radius:6px;overflow-x:auto;font-size:13px;
 white-space:pre-wrap;word-break:break-all}
.warnings{background:var(--warnbg);border-left:4px solid var(--warn);padding:8px 14px;margin:10px 0;
 border-radius:4px}
.warnings li{color:var(--warn)}
.ok{color:#1a7f37}
.sl-grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:12px}
.sl-plot{min-height:440px;border:1px solid var(--line);border-radius:6px}
figure{margin:14px 0}figcaption{font-size:13px;color:var(--mute);margin-top:4px}
.sl-t{border-collapse:collapse;font:13px system-ui,sans-serif;margin:6px 0}
.sl-t td,.sl-t th{padding:3px 12px;border-bottom:1px solid #e5e7eb;text-align:right;vertical-align:top}
.sl-t th{text-align:left;background:#f3f4f6}.sl-t caption{text-align:left;font-weight:600;padding:4px 0}
.sl-t td.sl-l{text-align:left}
details summary{cursor:pointer;color:var(--accent);font-size:13px}
.runs{font-size:12px;columns:4 220px;color:var(--mute)}
footer{color:var(--mute);font-size:12px;text-align:center;padding:20px}
"""

# Draws every figure whose data sit in a <script type="application/json" class="sl-data"> element.
INIT = """
(function(){
  var config={responsive:true,displaylogo:false,modeBarButtonsToRemove:['sendDataToCloud']};
  document.querySelectorAll('script.sl-data').forEach(function(el){
    var spec=JSON.parse(el.textContent);
    Plotly.newPlot(document.getElementById(el.getAttribute('data-target')),spec.data,spec.layout,config);
  });
})();
"""


def plotly_js() -> str:
    return require("plotly.offline", "the HTML report").get_plotlyjs().replace("</script", "<\\/script")


def script_json(obj) -> str:
    """JSON that is safe inside <script>: no '<', '>' or '&' survives, so no string can end the element."""
    text = json.dumps(obj, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class Ids:
    """Element ids for plots: made from a counter, never from user text."""

    def __init__(self) -> None:
        self.n = 0

    def next(self) -> str:
        self.n += 1
        return f"sl-plot-{self.n}"


def figure_html(fig: Figure, ids: Ids) -> str:
    parts = []
    for spec in figure_json(fig):
        pid = ids.next()
        height = int(spec["layout"].get("height", 440))  # responsive plots take the height of their box
        parts.append(f"<div class='sl-plot' id='{pid}' style='height:{height}px'></div>"
                     f"<script type='application/json' class='sl-data' data-target='{pid}'>{script_json(spec)}"
                     "</script>")
    caption = escape(fig.caption)
    if fig.warnings:
        caption += "".join(f"<br><span style='color:var(--warn)'>⚠ {escape(w)}</span>" for w in fig.warnings)
    return (f"<figure data-kind='{escape(fig.kind)}'><div class='sl-grid'>{''.join(parts)}</div>"
            f"<figcaption>{caption}</figcaption></figure>")


def warnings_html(items) -> str:
    items = list(dict.fromkeys(items))
    if not items:
        return ""
    return "<div class='warnings'><strong>Warnings</strong><ul>" + "".join(
        f"<li>{escape(w)}</li>" for w in items) + "</ul></div>"


def render(report) -> str:
    """The whole page of a `Report`."""
    ids = Ids()
    body, nav = [], []
    for i, sec in enumerate(report.sections, 1):
        anchor = f"s{i}"
        nav.append(f"<a href='#{anchor}'>{escape(sec.title)}</a>")
        figs = "".join(figure_html(f, ids) for f in sec.figures)
        body.append(f"<section id='{anchor}' data-kind='{escape(sec.kind)}'><h2>{escape(sec.title)}</h2>"
                    f"{warnings_html(sec.warnings)}{sec.body}{figs}</section>")
    inputs = "".join(f"<tr><td class='sl-l'>{escape(i['label'])}</td><td class='sl-l'>{escape(i['kind'])}</td>"
                     f"<td class='sl-l'><code>{escape(i.get('identity', ''))}</code></td></tr>"
                     for i in report.inputs)
    head = (f"<header><h1>{escape(report.title)}</h1>"
            f"<div class='muted'>scalinglaws {escape(report.version)} · {len(report.sections)} sections</div>"
            f"<nav>{''.join(nav)}</nav></header>")
    intro = ("<section id='s0' data-kind='command'><h2>How this report was made</h2>"
             f"<pre class='cmd'>{escape(report.command)}</pre>"
             "<table class='sl-t'><tr><th>input</th><th>kind</th><th>identity</th></tr>" + inputs + "</table>"
             + warnings_html(report.warnings) + "</section>")
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width,initial-scale=1'>"
            f"<meta name='generator' content='scalinglaws {escape(__version__)}'>"
            f"<title>{escape(report.title)}</title><style>{CSS}</style>"
            f"<script>{plotly_js()}</script></head><body>{head}<main>{intro}{''.join(body)}</main>"
            f"<footer>Made with scalinglaws {escape(report.version)}. Self-contained: nothing is loaded from the "
            f"network.</footer><script>{INIT}</script></body></html>")
