"""What every result record shares: the `format` that says what it is, immutability all the way down, and its
JSON-ready plain form.

A record's `to_dict()` starts with `"format": "scalinglaws.<kind>/<n>"`, and readers (plots/registry.py, the
report) recognise a record by that field, never by guessing from its keys. `KINDS` is the one list of the records
this version writes, with the format version of each, so that a reader can tell a record it does not draw from one
written by another version of scalinglaws, or by something else altogether.

Records are frozen dataclasses; `Frozen` makes them immutable all the way down: at construction every mapping in a
field becomes a read-only `MappingProxyType` and every list a tuple (recursively), so `fit.params["E"] = 1` raises
TypeError instead of silently changing a record whose checksum no longer describes it. `dataclasses.replace(...)`
gives a new record, frozen alike. `plain` turns a record's fields back into the builtins JSON holds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import fields
from types import MappingProxyType

import numpy as np

from .errors import ScalingLawsError

# kind -> format version: every record this version writes. A change to a record's fields that an older reader
# would misread bumps its version.
KINDS = {
    # saved files
    "fit": 1, "calibration": 1, "anneal_prior": 1, "store": 1,
    # fitting and prediction
    "predictions": 1, "mixture": 1,
    # decisions (decide/)
    "backtest": 1, "ranking": 1, "comparison": 1, "downstream": 1, "testtime": 1, "emergence": 1, "choices": 1,
    "next_runs": 1,
    # planning (plan/)
    "plan": 1, "allocation": 1, "frontier": 1, "approaches": 1, "inference_plan": 1, "overtraining": 1,
    "constrained_plan": 1, "target_plan": 1, "hparams": 1, "hparam_fit": 1, "accounting": 1, "axis_plan": 1,
    "curation_plan": 1, "mixture_plan": 1, "batch_plan": 1, "lr_sensitivity": 1, "hparam_transfer": 1,
    # training curves (curves/)
    "curve_forecast": 1, "curve_forecasts": 1, "schedule_search": 1,
    # training ladders (train/)
    "ladder_plan": 1, "ladder_run": 1, "ladder_status": 1, "ladder_forecast": 1, "ladder_samples": 1,
    # what the other commands print with --json
    "report": 1, "figures": 1, "figure_kinds": 1, "laws": 1, "datasets": 1, "dataset": 1, "ingest": 1,
    "store_info": 1, "stored_fit": 1,
}
PREFIX = "scalinglaws."


def format_of(kind: str) -> str:
    """The `format` field of a record of this kind: format_of("backtest") -> "scalinglaws.backtest/1"."""
    if kind not in KINDS:
        raise ScalingLawsError(f"no record kind '{kind}' (known: {', '.join(sorted(KINDS))})")
    return f"{PREFIX}{kind}/{KINDS[kind]}"


def parse_format(value) -> tuple[str, str] | None:
    """("backtest", "1") for "scalinglaws.backtest/1"; None for anything that is not a scalinglaws format."""
    if not isinstance(value, str) or not value.startswith(PREFIX):
        return None
    kind, sep, version = value[len(PREFIX):].partition("/")
    return (kind, version) if kind and sep and version else None


def kind_of(record: Mapping) -> str | None:
    """The kind a record's plain form says it is ("backtest"), or None when it has no scalinglaws format."""
    parsed = parse_format(record.get("format")) if isinstance(record, Mapping) else None
    return None if parsed is None else parsed[0]


# -- immutable all the way down ---------------------------------------------------------------------------------
def freeze(obj):
    """Mappings -> read-only MappingProxyType, lists, tuples and arrays -> tuples, numpy scalars -> Python ones;
    recursively. Anything else (numbers, strings, other records) is returned as it is."""
    if isinstance(obj, Mapping):
        return MappingProxyType({k: freeze(v) for k, v in obj.items()})
    if isinstance(obj, (list, tuple)):
        return tuple(freeze(v) for v in obj)
    if isinstance(obj, np.ndarray):
        return freeze(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def thaw(obj):
    """The mutable builtins a frozen value was made from: MappingProxyType -> dict, tuples -> lists."""
    if isinstance(obj, Mapping):
        return {k: thaw(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [thaw(v) for v in obj]
    return obj


class Frozen:
    """Base of a frozen dataclass whose fields are frozen at construction (see `freeze`).

    Pickling and copying rebuild the record from its thawed fields (a MappingProxyType cannot be pickled), leaving
    out fields whose metadata marks them transient.
    """

    __slots__ = ()

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, freeze(getattr(self, f.name)))

    def __reduce__(self):  # a field marked transient (a table held in memory only) is not carried over
        return _rebuild, (type(self), {f.name: thaw(getattr(self, f.name)) for f in fields(self)
                                       if not f.metadata.get("transient")})


def _rebuild(cls, values: dict):
    return cls(**values)


# -- plain JSON-ready builtins ----------------------------------------------------------------------------------
def json_default(o):
    """`default=` for json.dumps: frozen mappings, numpy scalars and arrays, and records with a to_dict()."""
    if isinstance(o, Mapping):
        return dict(o)
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if hasattr(o, "to_dict"):
        return o.to_dict()
    raise TypeError(f"cannot serialise {type(o).__name__}")


def plain(obj):
    """Mappings, tuples and numpy values -> the JSON-ready builtins a file holds (so a checksum sees the file)."""
    return json.loads(json.dumps(obj, default=json_default))


# -- reading records back -----------------------------------------------------------------------------------------
MAX_JSON_DEPTH = 64  # no record this version writes nests deeper than a dozen levels
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def _refuse_constant(name: str):
    raise ValueError(f"the literal {name} is not JSON")


def parse_json(text: str, source: str):
    """One JSON value from a record file, strictly: `NaN` and `Infinity` literals (which Python's json accepts and
    standard JSON does not) are refused, and so is nesting deeper than any record (which would otherwise exhaust
    the stack). Errors are one line that names the file."""
    depth = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub("", text)):  # before parsing: json's decoder recurses per level
        depth += 1 if bracket in "[{" else -1
        if depth > MAX_JSON_DEPTH:
            raise ScalingLawsError(f"{source} nests more than {MAX_JSON_DEPTH} levels deep: it is no record of "
                                   "scalinglaws. Give a file a command wrote")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise ScalingLawsError(f"{source} is not valid JSON ({exc.msg} at line {exc.lineno}): it is no record, or "
                               "it was cut short. Write it again with the command that made it") from None
    except ValueError as exc:
        raise ScalingLawsError(f"{source} is not valid JSON ({exc}): a value is not a finite number. Write it again "
                               "with the command that made it") from None
