"""The registry of figure kinds: one function per kind of figure, and the records each one draws.

A kind is a function `make(obj, **options) -> Figure` registered with `@figure_kind(name, accepts=...)`, where
`accepts` names the record classes it draws ("module:Class"; subclasses count). Kinds live in the modules of this
package named `*_figures.py` (fit_figures, runs_figures, frontier_figures, ...), which are imported on first use.
Adding a figure for a new result record (a curve fit, a backtest, a recipe comparison) is writing one such
function in a new `*_figures.py` module, and one line in `LOADERS` so that `scalinglaws plot FILE.json` and
`scalinglaws report` can read the record back from its JSON. A saved record is recognised by its `format` field
("scalinglaws.<kind>/<n>", records.py), never by the keys it holds: a fit file is read by `Fit.load`, and what a
command prints with `--json` (plans, backtests, comparisons, curve forecasts, ...) as a `plots.saved` record, which
the figure kinds draw alike.

A kind may also say which records of an accepted class it draws (`applies`: a training-curve figure draws only
fits of curve laws), so that `kinds_for` and `--kind all` offer only the kinds that can draw that record.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from pkgutil import iter_modules

from ..errors import ScalingLawsError
from ..records import KINDS, format_of, parse_format


def class_names(obj) -> set[str]:
    """"module:Class" of an object's class and its bases: what `accepts` is matched against."""
    return {f"{c.__module__}:{c.__qualname__}" for c in type(obj).__mro__}


@dataclass(frozen=True)
class Kind:
    """One kind of figure. A kind may draw several record types (a frontier from a fit or from a planned Frontier
    record), one function each: `makers` pairs the accepted classes with the function that draws them."""

    name: str
    title: str  # one line for listings
    default: bool  # drawn by `plot` when no --kind is given, and by the report
    makers: tuple[tuple[tuple[str, ...], Callable], ...]
    applies: tuple[Callable | None, ...] = ()  # per maker: which records of its classes it draws (None: all)
    defaults: tuple[bool, ...] = ()  # per maker: whether it is a default kind for its records

    @property
    def accepts(self) -> tuple[str, ...]:
        return tuple(a for accepts, _ in self.makers for a in accepts)

    def _index(self, obj) -> int | None:
        names = class_names(obj)
        return next((i for i, (accepts, _) in enumerate(self.makers) if any(a in names for a in accepts)), None)

    def maker(self, obj) -> Callable | None:
        i = self._index(obj)
        return None if i is None else self.makers[i][1]

    def takes(self, obj) -> bool:
        """Whether this kind draws this record: its class is accepted and, if the kind says, the record itself."""
        i = self._index(obj)
        if i is None:
            return False
        when = self.applies[i] if i < len(self.applies) else None
        return when is None or bool(when(obj))

    def default_for(self, obj) -> bool:
        """Whether this kind is drawn by default for this record (a kind may be a default for some records only:
        the frontier is the first picture of a fit, not of a plan that merely holds one)."""
        i = self._index(obj)
        if i is None:
            return False
        return self.defaults[i] if i < len(self.defaults) else self.default

    def make(self, obj, **options):
        return self.maker(obj)(obj, **options)


FIGURES: dict[str, Kind] = {}

# The kind a record's "format" names (records.KINDS) -> what reads it back: "module:Class.method" reads the file
# itself (a fit file checks its own checksum), "module:Class" is a `plots.saved` class holding the record as
# printed, which the figure kinds draw as they draw the live record.
LOADERS = {
    "fit": "scalinglaws.fitting.record:Fit.load",
    "calibration": "scalinglaws.fitting.calibration:Calibration.load",
    "plan": "scalinglaws.plots.saved:Plan",
    "approaches": "scalinglaws.plots.saved:Approaches",
    "curve_forecast": "scalinglaws.plots.saved:CurveForecast",
    "curve_forecasts": "scalinglaws.plots.saved:CurveForecasts",
    "schedule_search": "scalinglaws.plots.saved:ScheduleSearch",
    "backtest": "scalinglaws.plots.saved:Backtest",
    "ranking": "scalinglaws.plots.saved:Ranking",
    "comparison": "scalinglaws.plots.saved:Comparison",
    "downstream": "scalinglaws.plots.saved:Downstream",
    "testtime": "scalinglaws.plots.saved:TestTimeForecast",
    "emergence": "scalinglaws.plots.saved:Emergence",
}

# Names that stand for a record shipped with the package -> "module:attribute" holding its path.
SHIPPED = {"calibration:default": "scalinglaws.fitting.calibration:DEFAULT_PATH"}

_loaded = False


def figure_kind(name: str, *, accepts: str | tuple[str, ...], title: str, default: bool = False,
                applies: Callable | None = None):
    """Register a figure kind (a decorator); registering a known name again adds the records it draws.

    applies: optional test of a record of an accepted class (e.g. a fit of a curve law); records it refuses are
    not offered this kind by `kinds_for` (the kind's function still explains why when asked for it by name).
    """
    accepts = (accepts,) if isinstance(accepts, str) else tuple(accepts)

    def register(fn: Callable) -> Callable:
        known = FIGURES.get(name)
        makers = (known.makers if known else ()) + ((accepts, fn),)
        n = len(known.makers) if known else 0
        before = tuple(known.applies) + (None,) * (n - len(known.applies)) if known else ()
        was = tuple(known.defaults) + (known.default,) * (n - len(known.defaults)) if known else ()
        FIGURES[name] = Kind(name=name, title=known.title if known else title,
                             default=default or bool(known and known.default), makers=makers,
                             applies=before + (applies,), defaults=was + (default,))
        return fn

    return register


def load_kinds() -> dict[str, Kind]:
    """Import every `*_figures` module of this package once, so that their kinds are registered."""
    global _loaded
    if not _loaded:
        from . import __path__ as here

        for info in sorted(iter_modules(here), key=lambda m: m.name):
            if info.name.endswith("_figures"):
                importlib.import_module(f"{__package__}.{info.name}")
        _loaded = True
    return FIGURES


def kinds_for(obj, *, defaults_only: bool = False) -> list[str]:
    return [k.name for k in load_kinds().values() if k.takes(obj) and (k.default_for(obj) or not defaults_only)]


def get_kind(name: str, obj=None) -> Kind:
    kinds = load_kinds()
    if name not in kinds:
        raise ScalingLawsError(f"unknown figure kind '{name}'. Choose one of: {', '.join(sorted(kinds))}")
    kind = kinds[name]
    if obj is not None and kind.maker(obj) is None:
        able = kinds_for(obj)
        raise ScalingLawsError(
            f"figure kind '{name}' does not draw {describe(obj)}; it draws {', '.join(kind.accepts)}. For this "
            f"input choose one of: {', '.join(able) or '(none)'}")
    return kind


def describe(obj) -> str:
    return f"a {type(obj).__name__}" + (f" ({obj.source})" if hasattr(obj, "source") else "")


def load_result(source):
    """A record to draw: a saved result file, recognised by its 'format' field (a fit file, or any command's --json
    output, see LOADERS), or a runs table (a JSON runs table is a list of rows, or an object holding "runs").

    A JSON object whose format this version does not read, or with no format that is not a runs table, is refused
    with one line that names the file, what it holds and what to do. Objects that are not paths or strings are
    returned as they are.
    """
    if not isinstance(source, (str, Path)):
        return source
    if str(source) in SHIPPED:  # calibration:default, the shipped calibration
        module, attr = SHIPPED[str(source)].split(":")
        source = getattr(importlib.import_module(module), attr)
    path = Path(str(source))
    if path.suffix.lower() == ".json" and path.is_file():
        data = _json(path)
        if isinstance(data, dict) and not _is_runs_table(data):
            return _read_record(data, path)
    from ..runs import read_runs

    return read_runs(source)


def _read_record(data: dict, path: Path):
    fmt = data.get("format")
    if fmt is None:
        keys = ", ".join(list(data)[:6]) + (", ..." if len(data) > 6 else "")
        raise ScalingLawsError(
            f"{path.name} holds a JSON object with no 'format' field (keys: {keys or 'none'}): it is neither a record "
            "written by this version of scalinglaws nor a runs table. Re-run the command that made it with --json "
            "with this version (or write a fit with -o), or give a runs table as a JSON list of rows")
    parsed = parse_format(fmt)
    kind, version = parsed if parsed else (None, None)
    if kind not in KINDS:
        raise ScalingLawsError(
            f"{path.name} has format {fmt!r}, which no command of this version writes (readable: "
            f"{_readable()}). Re-run the command that made it with --json with this version of scalinglaws")
    if kind not in LOADERS:
        raise ScalingLawsError(
            f"{path.name} holds a '{fmt}' record, which cannot be drawn yet (readable: {_readable()}). Give a fit "
            "file, a runs table, or the --json output of a command whose record has a figure")
    if version != str(KINDS[kind]) and kind != "fit":  # a fit file says itself what is wrong with it
        raise ScalingLawsError(
            f"{path.name} holds a '{fmt}' record; this version reads {format_of(kind)}. Re-run the command that made "
            "it with --json with this version of scalinglaws")
    module, attr = LOADERS[kind].split(":")
    obj = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj(path) if "." in attr else obj(data, path.name)


def _readable() -> str:
    return ", ".join(format_of(k) for k in sorted(LOADERS))


def _json(path: Path):
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None  # not one JSON value (JSON lines, or damaged): read_runs will say what is wrong with it as data


def _is_runs_table(data: dict) -> bool:
    """A runs table written as one JSON object: {"runs": [rows]} with no format (runs/io.py reads it)."""
    return "format" not in data and isinstance(data.get("runs"), list)
