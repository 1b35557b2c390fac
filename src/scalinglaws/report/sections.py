"""The registry of report sections: one function per kind of section, and the records each one reports on.

A section kind is a function `make(obj, ctx) -> list[Section]` registered with `@section_kind(name, accepts=...)`
in a module of this package named `*_sections.py` (fit_sections, runs_sections, ...). `many=True` kinds get every
input they accept at once (comparisons across fits). A section holds escaped HTML, Figure records (drawn
interactively by the page) and warnings. Adding a section for a new result record (curve fits, backtests, recipe
comparisons, plans) is one such function in a new module, and one line in plots.registry.LOADERS (by the kind its
`format` field names) if the record comes from a file.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pkgutil import iter_modules

from ..errors import ScalingLawsError
from ..plots.registry import class_names
from ..plots.spec import Figure


@dataclass(frozen=True)
class Section:
    title: str
    kind: str
    body: str = ""  # HTML, every user string escaped by the section that built it
    figures: tuple[Figure, ...] = ()
    warnings: tuple[str, ...] = ()
    subject: str = ""  # which input it is about

    def to_dict(self) -> dict:
        return {"title": self.title, "kind": self.kind, "subject": self.subject, "warnings": list(self.warnings),
                "figures": [{"kind": f.kind, "title": f.title, "panels": len(f.panels), "warnings": list(f.warnings)}
                            for f in self.figures]}


@dataclass(frozen=True)
class Context:
    """Options every section may read."""

    data: str | None = None  # the runs behind the fits, when their recorded source is not at hand
    at: dict | None = None  # targets: column -> values, for predictions and the extrapolation
    budgets: tuple[float, ...] = ()  # FLOP budgets to plan
    by: str | None = None  # colour the figures by this column
    calibration: object = None  # the model-error term of prediction intervals made here: a Calibration or None
    options: dict = field(default_factory=dict)  # for section kinds added later


@dataclass(frozen=True)
class SectionKind:
    name: str
    accepts: tuple[str, ...]
    make: Callable
    order: int
    many: bool

    def takes(self, obj) -> bool:
        return any(a in class_names(obj) for a in self.accepts)


SECTIONS: dict[str, SectionKind] = {}
_loaded = False


def section_kind(name: str, *, accepts: str | tuple[str, ...], order: int = 50, many: bool = False):
    accepts = (accepts,) if isinstance(accepts, str) else tuple(accepts)

    def register(fn: Callable) -> Callable:
        SECTIONS[name] = SectionKind(name, accepts, fn, order, many)
        return fn

    return register


def load_sections() -> dict[str, SectionKind]:
    global _loaded
    if not _loaded:
        from . import __path__ as here

        for info in sorted(iter_modules(here), key=lambda m: m.name):
            if info.name.endswith("_sections"):
                importlib.import_module(f"{__package__}.{info.name}")
        _loaded = True
    return SECTIONS


def near(label: str):
    """The folder of an input file, where a fit's data file may lie (see plots.fitdata.recorded_source)."""
    from pathlib import Path

    path = Path(label)
    return path.resolve().parent if label and path.is_file() else None


def try_figure(kind: str, obj, notes: list[str], *, quiet: bool = False, **options) -> Figure | None:
    """A figure for a section, or None with the reason added to `notes` (quiet: the figure is optional)."""
    from ..plots import figure

    try:
        return figure(kind, obj, **options)
    except ScalingLawsError as exc:
        if not quiet:
            notes.append(f"no {kind} figure: {exc}")
        return None


def build_sections(objects: list[tuple[str, object]], ctx: Context) -> list[Section]:
    """Every section for the inputs (label, record), in input order, then the sections over several inputs.

    Warnings raised while a section is built are kept with that section; the caller re-issues them.
    """
    kinds = sorted(load_sections().values(), key=lambda k: k.order)
    out: list[Section] = []
    for label, obj in objects:
        for kind in kinds:
            if not kind.many and kind.takes(obj):
                out.extend(_run(kind, obj, ctx, label))
    for kind in kinds:
        if kind.many:
            group = [(label, obj) for label, obj in objects if kind.takes(obj)]
            if len(group) > 1:
                out.extend(_run(kind, group, ctx, "all"))
    return out


def _run(kind: SectionKind, obj, ctx: Context, label: str) -> list[Section]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sections = list(kind.make(obj, ctx, label))
    extra = tuple(dict.fromkeys(str(w.message).strip().splitlines()[0] for w in caught
                                if not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning))))
    if extra and sections:
        first = sections[0]
        sections[0] = Section(first.title, first.kind, first.body, first.figures,
                              tuple(dict.fromkeys(first.warnings + extra)), first.subject)
    return sections
