"""`Fit`: the immutable record of one fit, and its JSON form.

A Fit knows its law, the data it saw (source, hash, ranges), the fitted parameters, the objective, every start's
outcome, convergence and bounds, the seed and the package version, and (when asked for) its bootstrap draws. It
saves to and loads from JSON; the file carries a checksum, so a hand-edited or truncated file is refused rather
than silently trusted: one clear line says when a file is missing, not JSON, not a fit, written by another format
version, edited by hand (its checksum no longer matches), or names a law this process does not know.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._version import __version__
from ..errors import ScalingLawsError
from ..records import Frozen, format_of, json_default, parse_json, plain
from .interval import check_level

FORMAT = format_of("fit")


@dataclass(frozen=True)
class Bootstrap(Frozen):
    """Refits on resampled runs. draws[b] holds the parameters of draw b, in the law's parameter order."""

    n: int
    level: float
    unit: str  # what was resampled: "run"
    draws: tuple[tuple[float, ...], ...]
    failed: int  # draws whose refit did not converge (kept: dropping them would bias the intervals)
    seed: int

    def array(self) -> np.ndarray:
        return np.asarray(self.draws, dtype=float)

    def to_dict(self) -> dict:
        return {"n": self.n, "level": self.level, "unit": self.unit, "failed": self.failed, "seed": self.seed,
                "draws": [list(d) for d in self.draws]}

    @classmethod
    def from_dict(cls, d: Mapping) -> Bootstrap:
        return cls(n=int(d["n"]), level=float(d["level"]), unit=str(d["unit"]), failed=int(d["failed"]),
                   seed=int(d["seed"]), draws=tuple(tuple(float(v) for v in row) for row in d["draws"]))


@dataclass(frozen=True)
class Fit(Frozen):
    """One fit, immutable all the way down: its mappings are read-only and its lists tuples (records.Frozen), so a
    record cannot drift from the file and checksum it writes. To explore other values, make a new record with
    `dataclasses.replace(fit, params={...})`."""

    law: str
    formula: str
    inputs: Mapping[str, str]  # law symbol -> runs-table column
    target: str
    params: Mapping[str, float]
    objective: float
    loss: Mapping  # the objective's definition, e.g. {"kind": "huber", "delta": 0.001}; "space" unless log
    n_points: int
    n_runs: int
    converged: bool
    at_bounds: tuple[str, ...]
    warnings: tuple[str, ...]
    starts: Mapping  # candidates, refined, per-start objectives and status, how many reached the best
    seed: int
    data: Mapping  # source, hash, rows, ranges of the inputs and target, notes, filters
    residuals: tuple[float, ...]  # g(fitted) - g(observed) at the optimum in the fit's residual space, in data order
    bootstrap: Bootstrap | None = None
    law_source: Mapping | None = None  # how to rebuild a formula law
    version: str = __version__
    extra: Mapping = field(default_factory=dict)  # anything a later step attaches (e.g. law selection)
    # The table the fit was made from when it was given in memory (a DataFrame, a Runs, a mapping), which no file
    # names: figures read the fit's rows from it. Not saved, not compared; a fit read from a file has none.
    in_memory: object = field(default=None, repr=False, compare=False, metadata={"transient": True})

    # -- derived ------------------------------------------------------------------------------------------------
    @property
    def fixed(self) -> tuple[str, ...]:
        """Parameters held at given values rather than fitted (a prior's published exponents): no interval."""
        return fixed_of(self.extra)

    @property
    def label(self) -> str:
        """The law as `--law` accepts it back: 'chinchilla', or 'chinchilla@besiroglu2024' for the law with that
        prior's parameters fixed."""
        prior = self.extra.get("prior") if isinstance(self.extra, Mapping) else None
        return f"{self.law}@{prior['name']}" if prior and prior.get("name") else self.law

    @property
    def ci(self) -> dict[str, list[float]] | None:
        return self.intervals()

    def intervals(self, level: float | None = None) -> dict[str, list[float]] | None:
        """Percentile intervals of every parameter from the bootstrap draws (None without a bootstrap)."""
        if self.bootstrap is None:
            return None
        level = self.bootstrap.level if level is None else check_level(level)
        draws = self.bootstrap.array()
        q = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=0)
        return {name: [float(q[0, j]), float(q[1, j])] for j, name in enumerate(self.params)}

    def get_law(self):
        return law_of(self)

    def predict(self, at=None, /, *, level: float | None = None, interval: str = "prediction",
                calibration="default", **inputs):
        """Predictions with intervals at a runs table, a mapping of columns, or keyword columns.

        `fit.predict(params=7e10, tokens=1.4e12)`; `fit.predict(runs)`. See `scalinglaws.fitting.prediction`.
        """
        from .prediction import predict

        return predict(self, inputs if at is None else at, level=level, interval=interval, calibration=calibration)

    # -- serialisation ------------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        d = {
            "format": FORMAT, "version": self.version, "law": self.law, "formula": self.formula,
            "inputs": dict(self.inputs), "target": self.target, "params": dict(self.params),
            "objective": self.objective, "loss": plain(self.loss), "n_points": self.n_points, "n_runs": self.n_runs,
            "converged": self.converged, "at_bounds": list(self.at_bounds), "warnings": list(self.warnings),
            "starts": plain(self.starts), "seed": self.seed, "data": plain(self.data),
        }
        if self.bootstrap is not None:
            d["ci"] = self.ci
            d["bootstrap"] = self.bootstrap.to_dict()
        if self.law_source is not None:
            d["law_source"] = plain(self.law_source)
        if self.extra:
            d["extra"] = plain(self.extra)
        d["residuals"] = list(self.residuals)
        d["checksum"] = checksum(d)
        return d

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False, default=json_default)

    def save(self, path: str | Path) -> Path:
        """Write atomically: a crash leaves the old file (or none), never half a fit."""
        from ..files import write_atomic

        return write_atomic(path, self.to_json() + "\n")

    @classmethod
    def from_dict(cls, d: Mapping, source: str = "the fit record") -> Fit:
        validate_record(d, source)
        boot = Bootstrap.from_dict(d["bootstrap"]) if d.get("bootstrap") else None
        return cls(law=d["law"], formula=d["formula"], inputs=dict(d["inputs"]), target=d["target"],
                   params={k: float(v) for k, v in d["params"].items()}, objective=float(d["objective"]),
                   loss=dict(d["loss"]), n_points=int(d["n_points"]), n_runs=int(d["n_runs"]),
                   converged=bool(d["converged"]), at_bounds=tuple(d["at_bounds"]), warnings=tuple(d["warnings"]),
                   starts=dict(d["starts"]), seed=int(d["seed"]), data=dict(d["data"]),
                   residuals=tuple(float(r) for r in d["residuals"]), bootstrap=boot,
                   law_source=d.get("law_source"), version=d["version"], extra=dict(d.get("extra", {})))

    @classmethod
    def load(cls, path: str | Path) -> Fit:
        return cls.from_dict(read_record(path), Path(path).name)

    def summary(self) -> str:
        from ..render.text import fit_summary

        return fit_summary(self)

    def _repr_html_(self) -> str:
        from ..render.html_tables import fit_html

        return fit_html(self)

    def to_pandas(self):
        """The parameter table as a DataFrame: value, interval (with a bootstrap) and whether it sits at a bound."""
        from ..render.table import to_pandas

        return to_pandas(self)

    def __repr__(self) -> str:
        ps = ", ".join(f"{k}={v:.4g}" for k, v in self.params.items())
        return f"Fit({self.label}: {ps}; objective={self.objective:.6g}, n={self.n_points})"


def fixed_of(extra) -> tuple[str, ...]:
    """The fixed parameters a fit's `extra` names (its prior's values), in a record or its plain form."""
    prior = extra.get("prior") if isinstance(extra, Mapping) else None
    return tuple((prior or {}).get("values", {}))


def checksum(d: Mapping) -> str:
    body = {k: v for k, v in d.items() if k != "checksum"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False, default=json_default)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


# -- reading fit files back --------------------------------------------------------------------------------------
REQUIRED = ("format", "version", "law", "formula", "inputs", "target", "params", "objective", "loss", "n_points",
            "n_runs", "converged", "at_bounds", "warnings", "starts", "seed", "data", "residuals", "checksum")


def read_record(path: str | Path) -> dict:
    path = Path(path)
    if not path.exists():
        raise ScalingLawsError(f"fit file not found: {path}. Write one with `scalinglaws fit DATA --law NAME -o "
                               f"{path.name}`")
    if path.is_dir():
        raise ScalingLawsError(f"{path} is a folder, not a fit file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScalingLawsError(f"{path.name} is not UTF-8 text: it is not a fit file. Refit with `scalinglaws fit "
                               f"... -o {path.name}`") from None
    if not text.strip():
        raise ScalingLawsError(f"{path.name} is empty. Write a fit with `scalinglaws fit ... -o {path.name}`")
    d = parse_json(text, path.name)
    if not isinstance(d, dict):
        raise ScalingLawsError(f"{path.name} is JSON but not a fit record (expected an object)")
    return d


def validate_record(d: Mapping, source: str) -> None:
    fmt = d.get("format")
    if fmt is None or not str(fmt).startswith("scalinglaws.fit/"):
        raise ScalingLawsError(f"{source} is not a scalinglaws fit file (no 'format' field). Write one with "
                               "`scalinglaws fit ... -o FIT.json`")
    if fmt != FORMAT:
        raise ScalingLawsError(f"{source} was written in fit format {fmt} (version {d.get('version', '?')}); this "
                               f"version reads {FORMAT}. Refit with this version of scalinglaws")
    missing = [k for k in REQUIRED if k not in d]
    if missing:
        raise ScalingLawsError(f"{source} lacks {', '.join(missing)}: it was edited or cut short. Refit with "
                               "`scalinglaws fit`")
    bad = _wrong_type(d)
    if bad:
        raise ScalingLawsError(f"{source}: field {bad}: the file was not written by scalinglaws, or was edited. "
                               "Refit with `scalinglaws fit`")
    if d["checksum"] != checksum(d):
        raise ScalingLawsError(f"{source} was changed after it was written (its checksum does not match). Refit "
                               "rather than editing a fit file; to explore other values use the Python API")
    law_source = d.get("law_source")
    if law_source and law_source.get("kind") == "formula":  # rebuilt now, so that a bad one names this file
        from ..laws import recorded_law

        if not isinstance(law_source.get("expr"), str) or not isinstance(law_source.get("params", {}), dict) \
                or not isinstance(law_source.get("inputs") or {}, dict):
            raise ScalingLawsError(f"{source}: field 'law_source' does not hold a formula law as scalinglaws writes "
                                   "it. Refit with `scalinglaws fit`")
        try:
            recorded_law(d["law"], law_source)
        except (ScalingLawsError, TypeError, ValueError, AttributeError) as exc:
            raise ScalingLawsError(f"{source}: its formula law cannot be rebuilt ({str(exc).splitlines()[0]}). "
                                   "Refit with `scalinglaws fit`") from None


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)


def _is_count(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _wrong_type(d: Mapping) -> str | None:
    """The first field of a fit record whose type is not the one this version writes, as 'NAME is ...', or None.
    A checksum proves only that the file is unchanged since its checksum was computed, not who computed it, so
    every field is checked before any is used."""
    def texts(v) -> bool:
        return isinstance(v, list) and all(isinstance(x, str) for x in v)

    checks = [
        ("version", lambda v: isinstance(v, str), "text"), ("law", lambda v: isinstance(v, str) and v, "a name"),
        ("formula", lambda v: isinstance(v, str), "text"), ("target", lambda v: isinstance(v, str) and v, "a name"),
        ("inputs", lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
         "an object of symbol -> column"),
        ("params", lambda v: isinstance(v, dict) and v and all(_is_number(x) for x in v.values()),
         "an object of parameter -> finite number"),
        ("objective", _is_number, "a finite number"), ("loss", lambda v: isinstance(v, dict), "an object"),
        ("n_points", _is_count, "a count"), ("n_runs", _is_count, "a count"),
        ("converged", lambda v: isinstance(v, bool), "true or false"),
        ("at_bounds", texts, "a list of names"), ("warnings", texts, "a list of texts"),
        ("starts", lambda v: isinstance(v, dict), "an object"), ("seed", _is_count, "a non-negative integer"),
        ("data", lambda v: isinstance(v, dict), "an object"),
        ("residuals", lambda v: isinstance(v, list) and all(_is_number(x) for x in v), "a list of numbers"),
        ("checksum", lambda v: isinstance(v, str), "text"),
    ]
    for name, ok, what in checks:
        if not ok(d[name]):
            return f"'{name}' must be {what}, not {_shown(d[name])}"
    for name in ("law_source", "extra"):
        if d.get(name) is not None and not isinstance(d[name], dict):
            return f"'{name}' must be an object, not {_shown(d[name])}"
    ranges = d["data"].get("ranges", {})
    if not isinstance(ranges, dict) or not all(
            isinstance(r, list) and len(r) == 2 and all(_is_number(x) for x in r) for r in ranges.values()):
        return "'data.ranges' must map columns to [low, high] numbers"
    boot = d.get("bootstrap")
    if boot is not None:
        if not isinstance(boot, dict) or not all(k in boot for k in ("n", "level", "unit", "failed", "seed", "draws")):
            return "'bootstrap' must be an object with n, level, unit, failed, seed and draws"
        if not (_is_count(boot["n"]) and _is_count(boot["failed"]) and _is_count(boot["seed"])
                and _is_number(boot["level"]) and 0 < boot["level"] < 1 and isinstance(boot["unit"], str)):
            return "'bootstrap' has a count, level or seed of the wrong type"
        width = len(d["params"])
        if not isinstance(boot["draws"], list) or not all(
                isinstance(row, list) and len(row) == width and all(_is_number(x) for x in row)
                for row in boot["draws"]):
            return f"'bootstrap.draws' must be rows of {width} finite numbers"
    return None


def _shown(value) -> str:
    text = json.dumps(value, default=str)
    return f"{type(value).__name__} {text[:30] + '...' if len(text) > 30 else text}"


def law_of(fit):
    """The Law a fit was made with: from the registry, or rebuilt from the formula it records."""
    from ..laws import recorded_law

    law = recorded_law(fit.law, fit.law_source)
    if law.param_names != list(fit.params):
        raise ScalingLawsError(f"the fit's parameters {list(fit.params)} do not match law '{fit.law}' "
                               f"({law.param_names}): the fit was made with another definition. Refit")
    return law
