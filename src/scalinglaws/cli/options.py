"""Option groups: each flag the commands share is declared here once, and a command takes whole groups.

A group is a set of flags and what the command receives for them: the fit group's nine flags arrive as one
`options` FitOptions record, the data group's --where and --map as `where` and `rename`, --calibration as the
Calibration it names, read and checked once (an `Error:` line for a missing or bad file). A command asks for groups
with `@use(FIT, DATA, ...)` (the way sqlite-utils shares click decorators between its commands) and names what it
receives as keyword-only parameters:

    @app.command("fit")
    @use(BINDING, FIT, DATA)
    def fit_cmd(data: str = typer.Argument(...), *, inputs, target, options, where, rename): ...

`use` puts the groups' flags into the signature typer reads, in place of those parameters, so --help lists them
and typer parses them; a command may change a flag's default or help (`use(FIT, bootstrap=200)`).

The library speaks Python (`bootstrap must be a non-negative integer, got -1`); `flag_message` turns an error that
names an argument into one that names its flag (`--bootstrap must be ...`) on the way to the `Error:` line.

Only typer is imported here: what the groups build is imported when a command runs, so start-up stays fast.
"""

from __future__ import annotations

import copy
import functools
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import typer

from .common import JSON_HELP, MAP_HELP, WHERE_HELP, parse_pairs

CALIBRATION_HELP = ("Model-error term of prediction intervals, learned from backtests: default (the shipped one), "
                    "none (off: the fitted runs' scatter only), or a calibration JSON file.")


def flag(name: str, annotation, default, *decls: str, help: str) -> inspect.Parameter:
    """One flag, as the keyword parameter typer reads."""
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                             default=typer.Option(default, *decls, help=help))


@dataclass(frozen=True)
class Group:
    """Flags declared once, and what a command receives for them: build(values of the flags) -> keyword
    arguments of the command (None: the values themselves, under the flags' parameter names)."""

    name: str
    flags: tuple[inspect.Parameter, ...]
    build: Callable[[dict], dict] | None = None

    def receive(self, values: dict) -> dict:
        return dict(values) if self.build is None else self.build(values)


def _fit_options(v: dict) -> dict:
    from ..fitting.options import FitOptions

    return {"options": FitOptions(**v)}


def _calibration(v: dict) -> dict:
    from pathlib import Path

    from ..errors import ScalingLawsError
    from ..fitting.calibration import resolve

    text = v["calibration"]
    if text != "default" and text.lower() != "none" and not Path(text).is_file():
        raise ScalingLawsError(f"--calibration {text}: no such file. Give default, none, or a calibration JSON file")
    try:
        record = resolve(text)
    except ScalingLawsError as exc:  # one line, naming the flag, whatever the file's trouble
        first = str(exc).strip().splitlines()[0].split(". ")[0].rstrip(".")
        raise ScalingLawsError(f"--calibration {text}: {first}. Give default, none, or a calibration JSON "
                               "file") from None
    if record is not None and text != "default":
        record = replace(record, origin=text)  # the path as given, so that a report can name it in its command
    return {"calibration": record}


FIT = Group("fit", (
    flag("loss", str, "huber", "--loss", help="huber | l2 | asymmetric (on residuals in --space)."),
    flag("delta", float, 1e-3, "--delta", help="Huber threshold, in the units of --space's residuals."),
    flag("space", str, "log", "--space", help="Where residuals are measured: log (relative errors, for losses), "
         "linear (a target that can be zero or negative) or logit (a rate in (0, 1))."),
    flag("asymmetry", float, 4.0, "--asymmetry", help="With --loss asymmetric: weight of over-predictions."),
    flag("weights", str, None, "--weights", help="Column of per-row weights (default: the weight column if the "
         "table has one, else equal)."),
    flag("transient", str, None, "--transient", help="Early checkpoints of each run to leave out: auto (the law's "
         "rule: warm-up for curve laws), none, warmup, a fraction such as 0.1, or step<=N (docs/curves.md)."),
    flag("bootstrap", int, 0, "--bootstrap", "-b", help="Resamples of runs for intervals (e.g. 1000; 0: none)."),
    flag("level", float, 0.95, "--level", help="Coverage of the intervals."),
    flag("seed", int, 0, "--seed", help="Seed for the start design and the bootstrap."),
    flag("starts", int, None, "--starts", help="Candidate starts (default: 256 per nonlinear parameter)."),
    flag("borrow", str, "default", "--borrow", help="A curve law's annealing term when no run's learning rate "
         "decays: default (a prior from the bundled curves that anneal), none, or a prior or fit FILE "
         "(docs/curves.md)."),
), _fit_options)

RESAMPLING = Group("resampling", tuple(p for p in FIT.flags if p.name in ("bootstrap", "level", "seed")))

DATA = Group("data", (
    flag("where", list[str], [], "--where", "-w", help=WHERE_HELP),
    flag("map_", list[str], [], "--map", help=MAP_HELP),
), lambda v: {"where": v["where"], "rename": v["map_"]})

BINDING = Group("binding", (
    flag("input_", list[str], [], "--input", help="Bind a law input to a column: --input x=params."),
    flag("target", str, None, "--target", "-t", help="Column to fit (default: the law's, usually loss)."),
), lambda v: {"inputs": parse_pairs(v["input_"], "--input"), "target": v["target"]})

SELECTION = Group("selection", (
    flag("by", str, None, "--by", help="Column backtests cut along (default: by the data's shape: flops, else params "
         "or tokens, for a ladder; params across model sizes of training curves; step within curves of one size)."),
    flag("cuts", int, None, "--cuts", help="Number of backtest cuts, spread over 50-85% of the runs (or of each "
         "curve's checkpoints) kept for fitting (default 3 for --law auto)."),
))

CALIBRATION = Group("calibration", (
    flag("calibration", str, "default", "--calibration", help=CALIBRATION_HELP),
), _calibration)

def _output_format(v: dict) -> dict:
    from .common import set_table_format

    fmt = (v["table_format"] or "table").lower()
    set_table_format(fmt)
    return {"as_json": v["as_json"] or fmt != "table"}


JSON = Group("json", (
    flag("as_json", bool, False, "--json", help=JSON_HELP),
    flag("table_format", str, "table", "--format", "-f", help="How to print the result: table (on a terminal), json "
         "(as --json), or csv, markdown, latex (its table, ready for a paper or a spreadsheet)."),
), _output_format)

GROUPS = (FIT, RESAMPLING, DATA, BINDING, SELECTION, CALIBRATION, JSON)


def use(*groups: Group, help: Mapping[str, str] | None = None, **defaults) -> Callable:
    """Give a command the groups' flags (see the module docstring). defaults / help: per-command changes of a
    flag's default or help text, by parameter name."""
    flags = [p for g in groups for p in g.flags]
    names = [p.name for p in flags]
    if len(set(names)) != len(names):
        raise TypeError(f"option groups {', '.join(g.name for g in groups)} share a flag")
    unknown = [k for k in list(defaults) + list(help or {}) if k not in names]
    if unknown:
        raise TypeError(f"no flag {unknown[0]!r} in the groups {', '.join(g.name for g in groups)}")
    changed = []
    for p in flags:
        if p.name in defaults or p.name in (help or {}):
            info = copy.copy(p.default)
            if p.name in defaults:
                info.default = defaults[p.name]
            if p.name in (help or {}):
                info.help = help[p.name]
            p = p.replace(default=info)
        changed.append(p)

    def decorate(fn: Callable) -> Callable:
        sig = inspect.signature(fn)
        received = [p.name for p in sig.parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]
        own = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.KEYWORD_ONLY]

        @functools.wraps(fn)
        def command(**kwargs):
            for g in groups:
                kwargs.update(g.receive({p.name: kwargs.pop(p.name) for p in g.flags}))
            return fn(**kwargs)

        command.__signature__ = sig.replace(parameters=own + changed)
        hints = {k: v for k, v in fn.__annotations__.items() if k not in received}
        command.__annotations__ = {**hints, **{p.name: p.annotation for p in changed}}
        return command

    return decorate


# -- errors ---------------------------------------------------------------------------------------------------------
FLAG_OF = {"rename": "--map", "inputs": "--input", "input_": "--input", "groups": "--group"}  # else --dashed-name


def flag_of(argument: str) -> str:
    return FLAG_OF.get(argument, "--" + argument.replace("_", "-"))


def flag_message(exc: Exception) -> str:
    """The first line of an error, with a leading Python argument (`bootstrap must ...`, `weights='w': ...`) said
    as its flag (`--bootstrap must ...`, `--weights w: ...`); any other message as it is."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    argument = getattr(exc, "argument", None)
    if getattr(exc, "cli", None):
        return exc.cli
    if not argument:
        return text
    m = re.match(rf"{re.escape(argument)}(?:=(?:'([^']*)'|(\S+?)))?(?=[\s:,]|$)", text)
    if m is None:
        return text
    value = m.group(1) if m.group(1) is not None else m.group(2)
    return flag_of(argument) + ("" if value is None else f" {value}") + text[m.end():]
