"""The registry of figure kinds: one function per kind of figure, and the records each one draws.

A kind is a function `make(obj, **options) -> Figure` registered with `@figure_kind(name, accepts=...)`, where
`accepts` names the record classes it draws ("module:Class"; subclasses count). Kinds live in the modules of this
package named `*_figures.py` (fit_figures, runs_figures, frontier_figures, ...), which are imported on first use.
Adding a figure for a new result record (a curve fit, a backtest, a recipe comparison) is writing one such
function in a new `*_figures.py` module, and, if the record is saved to JSON, one line in `LOADERS` so that
`scalinglaws plot FILE.json` and `scalinglaws report` can read it back. Records that commands print with `--json`
but never save with a `format` field (plans, backtests, comparisons, curve forecasts, ...) are recognised by the
keys they always have (`SHAPES`) and read back as `plots.saved` records, which the figure kinds draw alike.

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

# The "format" field of a saved record (before the "/version") -> "module:Class.loader" that reads the file back.
LOADERS = {
    "scalinglaws.fit": "scalinglaws.fitting.record:Fit.load",
    "scalinglaws.calibration": "scalinglaws.fitting.calibration:Calibration.load",
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
    """A record to draw: a saved result file (fit records and the like, by their 'format' field), a command's
    --json output (by its keys, see SHAPES), or a runs table.

    Objects that are not paths or strings are returned as they are.
    """
    if not isinstance(source, (str, Path)):
        return source
    if str(source) in SHIPPED:  # calibration:default, the shipped calibration
        module, attr = SHIPPED[str(source)].split(":")
        source = getattr(importlib.import_module(module), attr)
    path = Path(str(source))
    if path.suffix.lower() == ".json" and path.is_file():
        data = _json(path)
        fmt = _format_field(data)
        saved = saved_record(data, path.name) if fmt is None else None
        if saved is not None:
            return saved
        if fmt is not None:
            family = fmt.split("/")[0]
            target = LOADERS.get(family)
            if target is None:
                raise ScalingLawsError(
                    f"{path.name} holds a '{fmt}' record, which cannot be drawn yet (readable: "
                    f"{', '.join(sorted(LOADERS))}). Give a fit file or a runs table")
            module, attr = target.split(":")
            obj = importlib.import_module(module)
            for part in attr.split("."):
                obj = getattr(obj, part)
            return obj(path)
    from ..runs import read_runs

    return read_runs(source)


def _json(path: Path):
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None  # not a record: read_runs will say what is wrong with it as data


def _format_field(data) -> str | None:
    """The 'format' of a JSON record, or None for other JSON (a runs table written as JSON)."""
    if isinstance(data, dict) and isinstance(data.get("format"), str) and data["format"].startswith("scalinglaws."):
        return data["format"]
    return None


# The --json output of commands that print a record without a 'format' field: the keys it always has -> the
# `plots.saved` class that holds it. The first match wins, so more specific shapes come first.
SHAPES = (
    (("approaches", "agreement", "profiles", "convention"), "scalinglaws.plots.saved:Approaches"),
    (("objective", "compute_optimal", "inference", "overtraining", "frontier"), "scalinglaws.plots.saved:Plan"),
    (("run", "curve", "final", "observed_until", "law"), "scalinglaws.plots.saved:CurveForecast"),
    (("curves",), "scalinglaws.plots.saved:CurveForecasts"),
    (("family", "candidates", "best", "total", "peak"), "scalinglaws.plots.saved:ScheduleSearch"),
    (("ranking", "best", "skipped", "tolerance"), "scalinglaws.plots.saved:Ranking"),
    (("law", "label", "cuts", "n_params", "score"), "scalinglaws.plots.saved:Backtest"),
    (("groups", "pairs", "axis", "baseline", "search"), "scalinglaws.plots.saved:Comparison"),
    (("tasks", "via", "axis", "law_params"), "scalinglaws.plots.saved:Downstream"),
    (("problems", "forecast", "ceiling", "observed", "verifier"), "scalinglaws.plots.saved:TestTimeForecast"),
)


def saved_record(data, name: str = ""):
    """A command's --json output read back as a `plots.saved` record, or None when it has none of the SHAPES."""
    if not isinstance(data, dict):
        return None
    for keys, target in SHAPES:
        if all(k in data for k in keys):
            if keys == ("curves",) and not (isinstance(data["curves"], list) and data["curves"]
                                            and all(isinstance(c, dict) and "curve" in c for c in data["curves"])):
                continue
            module, cls = target.split(":")
            return getattr(importlib.import_module(module), cls)(data, name)
    return None
