"""Drawing a `Figure` with matplotlib, and saving it as PNG, SVG or PDF.

matplotlib is imported here only, on first use. Figures are built with `matplotlib.figure.Figure` directly, not
pyplot, so drawing needs no display, leaves no global state behind and is safe in scripts, servers and notebooks.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ..errors import ArgumentError, ScalingLawsError, require
from ..files import output_path, write_atomic
from .spec import NEUTRAL, Figure, Panel, palette, si

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
PANEL_SIZE = (6.4, 4.6)  # inches per panel: readable at 150 dpi on a laptop screen and in a paper column


def draw_panel(ax, panel: Panel, legend: bool = True) -> None:
    colours = palette(panel)
    seen: set[str] = set()
    for s in panel.series:
        c = colours.get(s.group, NEUTRAL)
        lab = s.label if s.legend and s.label and s.label not in seen else None
        if lab:
            seen.add(lab)
        x, y = np.asarray(s.x), np.asarray(s.y)
        if s.kind == "points":
            ax.scatter(x, y, s=18, color=c, alpha=0.8, edgecolors="white", linewidths=0.4, label=lab, zorder=3)
        elif s.kind in ("line", "dashed"):
            ax.plot(x, y, color=c, lw=1.8 if s.kind == "line" else 1.2, ls="-" if s.kind == "line" else "--",
                    label=lab, zorder=2)
        elif s.kind == "band":
            ax.fill_between(x, y, np.asarray(s.y2), color=c, alpha=s.alpha or 0.25, lw=0, label=lab, zorder=1)
        elif s.kind == "errorbar":
            lohi = np.asarray(s.y2).reshape(-1, 2)
            ax.errorbar(x, y, yerr=[y - lohi[:, 0], lohi[:, 1] - y], fmt="D", ms=6, color=c, capsize=4, lw=1.5,
                        label=lab, zorder=4)
        elif s.kind == "star":
            ax.scatter(x, y, s=140, marker="*", color=c, edgecolors="black", linewidths=0.6, label=lab, zorder=5)
        elif s.kind == "hline":
            ax.axhline(y[0], color="#444444", lw=0.9, ls="--", zorder=1)
        elif s.kind == "vline":
            ax.axvline(x[0], color="#444444", lw=0.9, ls="--", zorder=1)
        elif s.kind == "span":
            ax.axvspan(x[0], x[1], color="#888888", alpha=s.alpha or 0.1, lw=0, label=lab, zorder=0)
    if panel.xlog:
        ax.set_xscale("log")
        _readable_log_ticks(ax.xaxis)
    if panel.ylog:
        ax.set_yscale("log")
        _readable_log_ticks(ax.yaxis)
    ax.set_xlabel(panel.xlabel)
    ax.set_ylabel(panel.ylabel)
    ax.set_title(panel.title, fontsize=10.5)
    ax.grid(True, which="major", alpha=0.3, lw=0.6)
    ax.grid(True, which="minor", alpha=0.12, lw=0.4)
    handles, labels = ax.get_legend_handles_labels()
    if handles and legend:
        outside = len(handles) > 9
        ax.legend(fontsize=7.5, framealpha=0.9, ncol=2 if outside else 1,
                  loc="upper left" if outside else "best",
                  bbox_to_anchor=(1.01, 1.0) if outside else None)
    if panel.notes:
        ax.text(0.01, 0.01, "\n".join(panel.notes), transform=ax.transAxes, fontsize=7.5, color="#333333",
                va="bottom", ha="left", bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 2})


def _readable_log_ticks(axis) -> None:
    """Log axes people can read: under a decade and a half (loss from 2 to 5), evenly spaced round ticks
    (2, 2.5, 3, ...); up to three decades, ticks at 1, 2 and 5 of each decade; all labelled compactly (20k, 2.5)
    rather than as crowded powers of ten. Wider axes keep matplotlib's powers of ten."""
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

    lo, hi = axis.get_view_interval()
    if not lo > 0:
        return
    if hi / lo < 30:
        axis.set_major_locator(MaxNLocator(nbins=7, steps=[1, 2, 2.5, 5, 10]))
    elif hi / lo < 1000:
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    else:
        return
    axis.set_major_formatter(FuncFormatter(lambda v, _: si(v) if v >= 1e3 else f"{v:.3g}"))
    axis.set_minor_formatter(NullFormatter())


def _layout(n: int) -> tuple[int, int]:
    cols = min(n, 3) if n != 4 else 2
    return (n + cols - 1) // cols, cols


def render(figures: Figure | list[Figure], *, ax=None, figsize=None, dpi: float | None = None,
           title: str | None = None):
    """A matplotlib Figure with every panel of the given figure(s); several figures stack top to bottom.

    ax: a matplotlib Axes (or a sequence of them, one per panel) to draw onto instead, so that a figure composes
    into the caller's own grid of subplots; the Axes (or the sequence) is returned. figsize (inches), dpi and
    title (of the whole figure, or of the lone panel) change the defaults.
    """
    require("matplotlib.figure", "drawing a figure")
    figures = [figures] if isinstance(figures, Figure) else list(figures)
    if not figures:
        raise ScalingLawsError("nothing to draw")
    if ax is not None:
        return _onto(figures, ax, title)
    shapes = [_layout(len(f.panels)) for f in figures]
    width = max(c for _, c in shapes) * PANEL_SIZE[0]
    heights = [r * PANEL_SIZE[1] + 0.5 for r, _ in shapes]
    if figsize is not None:
        figsize = _figsize(figsize)
        heights = [h * figsize[1] / sum(heights) for h in heights]
    fig = notebook_figure()(figsize=figsize or (width, sum(heights)), dpi=150 if dpi is None else _dpi(dpi),
                            layout="constrained")
    subs = [fig] if len(figures) == 1 else fig.subfigures(len(figures), 1, height_ratios=heights)
    for sub, f, (rows, cols) in zip(subs, figures, shapes):
        axes = np.atleast_1d(sub.subplots(rows, cols, squeeze=False)).ravel()
        labelled = [p for p in f.panels if any(s.label and s.legend for s in p.series)]
        shared = len(f.panels) > 1 and len(labelled) == 1  # one legend for all panels: beside them, not inside one
        for ax_, panel in zip(axes, f.panels):
            draw_panel(ax_, panel, legend=not shared)
        if shared:
            handles, labels = axes[f.panels.index(labelled[0])].get_legend_handles_labels()
            sub.legend(handles, labels, loc="outside right upper", fontsize=8, frameon=False)
        for ax_ in axes[len(f.panels):]:
            ax_.set_visible(False)
        if len(f.panels) > 1:  # a lone panel carries the title itself
            sub.suptitle(f.title, fontsize=12)
    if title is not None:
        if len(figures) == 1 and len(figures[0].panels) == 1:
            fig.axes[0].set_title(title, fontsize=10.5)
        else:
            fig.suptitle(title, fontsize=13)
    return fig


def _onto(figures: list[Figure], ax, title: str | None):
    """Draw the panels onto the caller's Axes, one each."""
    panels = [p for f in figures for p in f.panels]
    many = isinstance(ax, (list, tuple, np.ndarray))
    axes = list(np.ravel(np.asarray(ax, dtype=object))) if many else [ax]
    if not all(hasattr(a, "scatter") and hasattr(a, "set_xscale") for a in axes):
        raise ArgumentError("ax", f"ax must be a matplotlib Axes (or a sequence of them), got {type(ax).__name__}")
    if len(axes) < len(panels):
        kinds = ", ".join(f.kind for f in figures)
        raise ArgumentError("ax", f"ax: this figure ({kinds}) has {len(panels)} panels but {len(axes)} Axes were "
                            f"given; pass {len(panels)} Axes (e.g. plt.subplots(1, {len(panels)})[1]), or leave ax "
                            "out for a figure of its own")
    for a, panel in zip(axes, panels):
        draw_panel(a, panel)
    if title is not None:
        axes[0].set_title(title, fontsize=10.5)
    return ax


def _figsize(value) -> tuple[float, float]:
    try:
        w, h = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ArgumentError("figsize", f"figsize must be (width, height) in inches, got {value!r}") from None
    if not (w > 0 and h > 0):
        raise ArgumentError("figsize", f"figsize must be positive inches, got {value!r}")
    return w, h


def _dpi(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ArgumentError("dpi", f"dpi must be a positive number of dots per inch, got {value!r}")
    return float(value)


_NOTEBOOK_FIGURE = None


def notebook_figure():
    """matplotlib's Figure class, plus `_repr_png_`: a notebook shows the drawing itself, even where pyplot's inline
    backend was never loaded (its figures are built without pyplot, see the module docstring)."""
    global _NOTEBOOK_FIGURE
    if _NOTEBOOK_FIGURE is None:
        from matplotlib.figure import Figure as MplFigure

        class NotebookFigure(MplFigure):
            def _repr_png_(self) -> bytes:
                buf = io.BytesIO()
                self.savefig(buf, format="png", metadata=_metadata("png"))
                return buf.getvalue()

        NotebookFigure.__module__ = __name__
        _NOTEBOOK_FIGURE = NotebookFigure
    return _NOTEBOOK_FIGURE


def format_of(path: Path) -> str:
    """The picture format a path asks for, refusing unknown suffixes and missing folders before any drawing."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ScalingLawsError(f"-o {path.name}: unknown picture type '{path.suffix or '(none)'}'. Use .png, .svg or "
                               ".pdf (or .html for an interactive report: `scalinglaws report`)")
    output_path(path)
    return fmt


def _metadata(fmt: str) -> dict:
    # No creation dates, so the same figure gives the same bytes.
    return {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}[fmt]


def to_bytes(figures: Figure | list[Figure], fmt: str = "png", **style) -> bytes:
    """The picture's bytes; style: figsize, dpi, title (see render)."""
    buf = io.BytesIO()
    render(figures, **style).savefig(buf, format=fmt, metadata=_metadata(fmt))
    return buf.getvalue()


def save(figures: Figure | list[Figure], path: str | Path, **style) -> Path:
    """Write the picture atomically (a temporary file renamed into place)."""
    path = Path(path)
    return write_atomic(path, to_bytes(figures, format_of(path), **style))
