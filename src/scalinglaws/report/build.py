"""`build_report(inputs) -> Report`: fits and runs tables in, one self-contained HTML page out.

The Report is an immutable record like every result: its sections (escaped HTML, Figure records, warnings), its
inputs with their identities (a fit's checksum and data hash, a table's hash), and the command that made it, so
that a reader can tell exactly which fits and runs stand behind every number and rebuild the page.
"""

from __future__ import annotations

import shlex
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._version import __version__
from ..errors import ScalingLawsError, ScalingLawsWarning
from ..files import output_path, write_atomic
from ..records import format_of, kind_of
from ..runs import Runs
from .sections import Context, Section, build_sections


@dataclass(frozen=True)
class Report:
    title: str
    command: str
    inputs: tuple[dict, ...]  # {"label", "kind", "identity"}
    sections: tuple[Section, ...]
    warnings: tuple[str, ...]
    version: str = __version__

    def html(self) -> str:
        from .page import render

        return render(self)

    def write(self, path: str | Path) -> Path:
        """Write the page atomically: a temporary file renamed into place."""
        return write_atomic(check_output(path), self.html())

    def to_dict(self) -> dict:
        return {"format": format_of("report"), "title": self.title, "command": self.command, "version": self.version,
                "inputs": list(self.inputs), "warnings": list(self.warnings),
                "sections": [s.to_dict() for s in self.sections]}


def check_output(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ScalingLawsError(f"-o {path.name}: a report is an HTML page; name it e.g. report.html (for a "
                               "picture use `scalinglaws plot ... -o fig.png`)")
    return output_path(path)


def number_text(v: float) -> str:
    """The shortest text that reads back as the same float: 7e+10, 0.95, 1.4e+12."""
    v = float(v)
    for p in range(1, 18):
        t = f"{v:.{p}g}"
        if float(t) == v:
            return t
    return repr(v)


def command_line(inputs: Sequence, output: str | Path | None = None, *, title: str | None = None,
                 data: str | None = None, at: Mapping | None = None, budgets: Sequence[float] = (),
                 by: str | None = None, calibration="default") -> str:
    """The `scalinglaws report` command that rebuilds a report from these arguments."""
    args = ["scalinglaws", "report", *[str(i) for i in inputs]]
    if output is not None:
        args += ["-o", str(output)]
    if title:
        args += ["--title", title]
    if data:
        args += ["--data", str(data)]
    for col, values in (at or {}).items():
        args += ["--at", f"{col}=" + ",".join(number_text(v) for v in np.atleast_1d(values))]
    for b in budgets:
        args += ["--budget", number_text(b)]
    if by:
        args += ["--by", by]
    cal = _calibration_arg(calibration)
    if cal is not None:
        args += ["--calibration", cal]
    return shlex.join(args)


def _calibration_arg(calibration) -> str | None:
    """--calibration's value for a calibration given as text or as a record read from a file (None: the default,
    or a record made in memory, which no command line can name)."""
    if calibration is None:
        return "none"
    if isinstance(calibration, (str, Path)):
        return None if str(calibration) == "default" else str(calibration)
    origin = str(getattr(calibration, "origin", ""))
    return origin if origin != "default" and Path(origin).is_file() else None


def _identity(obj) -> tuple[str, str]:
    """(kind, identity) of an input: a record's kind is the one its format names."""
    if isinstance(obj, Runs):
        return "runs", f"{obj.source}: {len(obj)} rows, hash {obj.hash()}"
    d = obj.to_dict() if hasattr(obj, "to_dict") else {}
    kind = kind_of(d)
    if kind == "fit":
        return "fit", f"{d['checksum'][:23]}…; data {d['data'].get('source')} hash {d['data'].get('hash')}"
    return kind or type(obj).__name__, ""


def build_report(inputs: Sequence, *, title: str | None = None, data: str | None = None,
                 at: Mapping | None = None, budgets: Sequence[float] = (), by: str | None = None,
                 calibration="default", command: str | None = None, output: str | Path | None = None) -> Report:
    """A report on fits and runs tables.

    inputs: fit files, runs sources (paths, dataset:NAME, store:PATH, with ?filters), or Fit / Runs objects.
    data: the runs behind the fits, when the source a fit records is not at hand.
    at: targets (column -> values) for predictions and the extrapolation; budgets: FLOP budgets to plan.
    calibration: the model-error term of every prediction interval the page makes from a fit (predictions, the
        extrapolation's bands, planned losses): "default", "none", a file or a Calibration (fitting/calibration.py).
    command: the command line to show (default: the `scalinglaws report` command for these arguments).
    """
    from ..fitting.calibration import resolve
    from ..plots import load_result

    if not inputs:
        raise ScalingLawsError("a report needs at least one input: a fit file (scalinglaws fit ... -o fit.json) or "
                               "a runs table")
    for b in budgets:
        if not b > 0:
            raise ScalingLawsError(f"--budget must be a positive number of FLOP (got {b:g})")
    objects, described = [], []
    for i, item in enumerate(inputs):
        obj = load_result(item)
        label = str(item) if isinstance(item, (str, Path)) else f"input {i + 1}"
        kind, identity = _identity(obj)
        objects.append((label, obj))
        described.append({"label": label, "kind": kind, "identity": identity})
    ctx = Context(data=data, at=dict(at) if at else None, budgets=tuple(float(b) for b in budgets), by=by,
                  calibration=resolve(calibration))
    sections = build_sections(objects, ctx)
    warns = tuple(dict.fromkeys(w for s in sections for w in s.warnings))
    for w in warns:  # once each, now that they are kept in the report too
        warnings.warn(w, ScalingLawsWarning, stacklevel=2)
    if command is None:
        if all(isinstance(i, (str, Path)) for i in inputs):
            command = command_line(inputs, output, title=title, data=data, at=at, budgets=budgets, by=by,
                                   calibration=calibration)
        else:
            command = "scalinglaws.report.build_report(...) from Python, on objects in memory"
    if title is None:
        title = "Scaling-law report: " + ", ".join(d["label"] for d in described[:3]) + (
            f" and {len(described) - 3} more" if len(described) > 3 else "")
    return Report(title=title, command=command, inputs=tuple(described), sections=tuple(sections), warnings=warns)


def report(inputs: Sequence, output: str | Path, **options) -> Report:
    """Build a report and write it to `output` (an .html file)."""
    check_output(output)
    rep = build_report(inputs, output=output, **options)
    rep.write(output)
    return rep
