"""What a figure shows, independent of how it is drawn.

A figure kind (see registry.py) turns a result record into a `Figure`: panels of series, each series plain arrays
with a label and a colour group. The same `Figure` is drawn by matplotlib for PNG/SVG/PDF files (mpl.py) and by
plotly for the interactive report (scalinglaws.report.interactive), so a kind is written once and both outputs
agree number for number. `Figure.to_dict()` is what `scalinglaws plot --json` prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

# How a series is drawn:
#   points   markers at (x, y)
#   line     a line through (x, y)
#   dashed   a dashed line through (x, y)
#   band     the area between y (lower) and y2 (upper) along x
#   errorbar markers at (x, y) with vertical bars from y (centre) to lo/hi in y2 = (lo, hi) pairs
#   star     highlighted markers (optima, targets)
#   hline / vline   a reference line at y[0] / x[0] across the panel
#   span     a shaded x range from x[0] to x[1] (e.g. the range the fit saw)
KINDS = ("points", "line", "dashed", "band", "errorbar", "star", "hline", "vline", "span")


def _floats(values) -> tuple[float, ...]:
    return tuple(float(v) for v in np.asarray(values, dtype=float).ravel())


@dataclass(frozen=True)
class Series:
    kind: str
    x: tuple[float, ...]
    y: tuple[float, ...] = ()
    y2: tuple[float, ...] = ()  # band: upper edge; errorbar: lower then upper, interleaved (lo0, hi0, lo1, ...)
    label: str = ""  # legend entry ("" for none)
    group: str = ""  # series with the same group share a colour; "" draws in the neutral colour
    text: tuple[str, ...] = ()  # one hover label per point (run names), shown by the interactive report
    legend: bool = True  # show in the legend (the first series of a group carries the entry)
    alpha: float = 0.0  # opacity of a band or span (0: the renderer's default)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"series kind {self.kind!r} is not one of {KINDS}")
        object.__setattr__(self, "x", _floats(self.x))
        object.__setattr__(self, "y", _floats(self.y))
        object.__setattr__(self, "y2", _floats(self.y2))
        object.__setattr__(self, "text", tuple(str(t) for t in self.text))
        if self.kind in ("points", "line", "dashed", "star", "band", "errorbar") and len(self.x) != len(self.y):
            raise ValueError(f"{self.kind} series {self.label!r}: {len(self.x)} x values but {len(self.y)} y values")
        if self.kind == "band" and len(self.y2) != len(self.y):
            raise ValueError(f"band {self.label!r}: lower and upper edges differ in length")
        if self.kind == "errorbar" and len(self.y2) != 2 * len(self.y):
            raise ValueError(f"errorbar {self.label!r}: needs a (lo, hi) pair per point")

    def to_dict(self) -> dict:
        d = {"kind": self.kind, "x": list(self.x)}
        for name in ("y", "y2", "text"):
            if getattr(self, name):
                d[name] = list(getattr(self, name))
        if self.label:
            d["label"] = self.label
        if self.group:
            d["group"] = self.group
        if not self.legend:
            d["legend"] = False
        if self.alpha:
            d["alpha"] = self.alpha
        return d


def band(x, lower, upper, label: str = "", group: str = "", alpha: float = 0.0, legend: bool = True) -> Series:
    return Series("band", x, lower, upper, label=label, group=group, alpha=alpha, legend=legend)



def errorbars(x, y, lower, upper, label: str = "", group: str = "", text: Sequence[str] = ()) -> Series:
    pairs = np.column_stack([np.asarray(lower, float), np.asarray(upper, float)]).ravel()
    return Series("errorbar", x, y, pairs, label=label, group=group, text=tuple(text))


@dataclass(frozen=True)
class Panel:
    title: str
    xlabel: str
    ylabel: str
    series: tuple[Series, ...]
    xlog: bool = True
    ylog: bool = True
    palette: str = "qualitative"  # "qualitative" (families, setups) or "sequential" (sizes, budgets: ordered)
    notes: tuple[str, ...] = ()  # short lines drawn in the panel's corner

    def groups(self) -> list[str]:
        """Colour groups in order of first appearance."""
        return list(dict.fromkeys(s.group for s in self.series if s.group))

    def to_dict(self) -> dict:
        return {"title": self.title, "xlabel": self.xlabel, "ylabel": self.ylabel, "xlog": self.xlog,
                "ylog": self.ylog, "palette": self.palette, "notes": list(self.notes),
                "series": [s.to_dict() for s in self.series]}


@dataclass(frozen=True)
class Figure:
    kind: str  # the registry name that made it
    title: str
    panels: tuple[Panel, ...]
    caption: str = ""  # one or two sentences saying how to read it
    warnings: tuple[str, ...] = ()  # trouble met while making it (data changed, far extrapolation)
    meta: dict = field(default_factory=dict)  # numbers the figure is built on, e.g. the target's prediction

    def to_dict(self) -> dict:
        return {"kind": self.kind, "title": self.title, "caption": self.caption, "warnings": list(self.warnings),
                "meta": self.meta, "panels": [p.to_dict() for p in self.panels]}

    def _repr_png_(self) -> bytes:
        """Notebooks show a Figure as its matplotlib drawing."""
        from .mpl import to_bytes

        return to_bytes(self, "png")


# Okabe & Ito's colour-blind-safe palette (2008), then a few more distinct colours for long lists of families.
QUALITATIVE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#8C6D1F", "#000000",
               "#7F7F7F", "#B22222", "#2E8B57", "#4B0082")
# Up to eight ordered groups (model sizes, budgets): hues that run in order from dark blue through green and
# gold to red, so neighbours can be told apart where viridis' neighbours blur into one another.
ORDERED = ("#2b1a6e", "#1f5fad", "#1b9e8a", "#5aae3a", "#c9a400", "#e66f00", "#c81d4b", "#6a0d2e")
# viridis (van der Walt & Smith 2015) at 0, 0.1, ..., 1: ordered groups (sizes, budgets) read dark to light.
VIRIDIS = ("#440154", "#482475", "#414487", "#355f8d", "#2a788e", "#21918c", "#22a884", "#44bf70", "#7ad151",
           "#bddf26", "#fde725")
NEUTRAL = "#6b6b6b"


def palette(panel: Panel) -> dict[str, str]:
    """Colour of each group: ordered groups along viridis (stopping short of its pale yellow end), others from the
    qualitative list. Both renderers use this, so a group has one colour in the PNG and in the report."""
    names = panel.groups()
    if panel.palette == "sequential" and 1 < len(names) <= len(ORDERED):
        picks = np.round(np.linspace(0, len(ORDERED) - 1, len(names))).astype(int)
        return {g: ORDERED[i] for g, i in zip(names, picks)}
    if panel.palette == "sequential" and len(names) > 1:
        return {g: _viridis(0.9 * i / (len(names) - 1)) for i, g in enumerate(names)}
    return {g: QUALITATIVE[i % len(QUALITATIVE)] for i, g in enumerate(names)}


def _viridis(t: float) -> str:
    pos = t * (len(VIRIDIS) - 1)
    i = min(int(pos), len(VIRIDIS) - 2)
    f = pos - i
    a, b = (np.array([int(c[k:k + 2], 16) for k in (1, 3, 5)]) for c in (VIRIDIS[i], VIRIDIS[i + 1]))
    return "#" + "".join(f"{int(round(v)):02x}" for v in a + f * (b - a))


def si(v: float) -> str:
    """57M, 1.4B, 5.8e+23: compact labels for sizes and budgets."""
    v = float(v)
    a = abs(v)
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if 1 <= a / scale < 1000:
            return f"{v / scale:.3g}{suffix}"
    if a >= 1e15 or (0 < a < 1e-2):
        return f"{v:.2g}"
    return f"{v:.3g}"
