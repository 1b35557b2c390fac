"""Pictures of results (see docs/reports.md).

    figure("fit", fit)        the Figure record of one kind: panels of plain arrays, drawable by any backend
    plot(fit)                 a matplotlib figure of the record's default kind (or kind="residuals", "all", ...)
    save(fit, "fig.png")      the same, written to PNG, SVG or PDF
    FIGURES, kinds_for(obj)   the registry: one function per kind of figure (plots/registry.py)

matplotlib is imported only when something is drawn; building Figure records needs numpy alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..errors import ArgumentError, ScalingLawsError
from .registry import FIGURES, LOADERS, figure_kind, get_kind, kinds_for, load_kinds, load_result
from .spec import Figure, Panel, Series


def figures(obj, kind: str | Iterable[str] | None = None, **options) -> list[Figure]:
    """Figure records for a result (a Fit, Predictions, Runs, or a path to a fit file or runs table).

    kind: one name, several, "all" (every kind that draws this record), or None (the first default kind).
    options go to the kind functions: data, x, y, by, at (targets), budget (FLOP budgets), near (the folder in
    which to look for a fit's data file, by default the fit file's own), calibration (the model-error term of the
    prediction bands and intervals drawn from a fit: "default", "none", a file or a Calibration; resolved once
    here for every kind), ...
    """
    _check_options(options)
    if "calibration" in options:
        from ..fitting.calibration import resolve

        options["calibration"] = resolve(options["calibration"])
    if isinstance(obj, (str, Path)) and Path(str(obj)).is_file():
        options.setdefault("near", Path(str(obj)).resolve().parent)  # a fit's data file may lie beside it
    obj = load_result(obj)
    able = kinds_for(obj)
    if not able:
        raise ScalingLawsError(f"there is no figure for {type(obj).__name__} records")
    if kind is None:
        names = kinds_for(obj, defaults_only=True)[:1] or able[:1]
    elif isinstance(kind, str):
        names = able if kind == "all" else [k.strip() for k in kind.split(",") if k.strip()]
    else:
        names = list(kind)
    return [get_kind(name, obj).make(obj, **options) for name in names]


def figure(kind: str, obj, **options) -> Figure:
    """One Figure record of the given kind."""
    return figures(obj, kind, **options)[0]


# What the figure kinds read (see `figures`), and how a picture is drawn (see `plot`).
FIGURE_OPTIONS = ("data", "x", "y", "by", "at", "budget", "near", "calibration")
STYLE_OPTIONS = ("ax", "figsize", "dpi", "title")


def _check_options(options: dict) -> None:
    from difflib import get_close_matches

    for name in options:
        if name not in FIGURE_OPTIONS:
            known = FIGURE_OPTIONS + STYLE_OPTIONS
            close = get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]}=? " if close else ""
            raise ArgumentError(name, f"{name}: no such option of a figure; {hint}Options: {', '.join(known)}")


def plot(obj, kind: str | Iterable[str] | None = None, *, ax=None, figsize=None, dpi: float | None = None,
         title: str | None = None, **options):
    """A matplotlib figure, shown inline by notebooks: `scalinglaws.plot(fit)` or `plot(fit, "all")`.

    ax: a matplotlib Axes (or one per panel) to draw onto, composing into your own grid of subplots
    (`fig, axes = plt.subplots(1, 2); sl.plot(fit, ax=axes[0])`); the Axes is returned. figsize=(w, h) in inches,
    dpi and title change the figure's. Other options (data, x, y, by, at, budget, calibration) go to the figure
    kinds, as in `figures`; an unknown one is refused.
    """
    from .mpl import render

    return render(figures(obj, kind, **options), ax=ax, figsize=figsize, dpi=dpi, title=title)


def save(obj, path: str | Path, kind: str | Iterable[str] | None = None, *, figsize=None, dpi: float | None = None,
         title: str | None = None, **options) -> Path:
    """Draw and write a picture (.png, .svg or .pdf, by the suffix), atomically."""
    from .mpl import format_of
    from .mpl import save as save_figures

    format_of(Path(path))  # refuse an unknown suffix before doing any work
    return save_figures(figures(obj, kind, **options), path, figsize=figsize, dpi=dpi, title=title)


__all__ = ["FIGURES", "FIGURE_OPTIONS", "LOADERS", "Figure", "Panel", "Series", "figure", "figure_kind", "figures",
           "get_kind", "kinds_for", "load_kinds", "load_result", "plot", "save"]
