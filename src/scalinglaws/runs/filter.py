"""Row filters: `family=pythia`, `params<1e9`, `config=a|b`, `split!=train`.

One condition is `COLUMN OP VALUE` with OP one of = == != < <= > >=; `|` separates alternatives for = and !=.
Several conditions are combined with AND. Numbers compare as numbers, labels as text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from ..errors import ScalingLawsError
from .values import parse_number

_CONDITION = re.compile(r"^\s*([A-Za-z_][\w.\-]*)\s*(==|!=|<=|>=|=|<|>)\s*(.*?)\s*$")


def parse_condition(text: str) -> tuple[str, str, str]:
    m = _CONDITION.match(text)
    if not m or not m.group(3):
        raise ScalingLawsError(
            f"filter '{text}' is not of the form COLUMN OP VALUE (OP one of = != < <= > >=), e.g. family=pythia "
            "or params<1e9")
    col, op, value = m.groups()
    return col, ("=" if op == "==" else op), value


def condition_mask(runs, text: str) -> np.ndarray:
    col, op, value = parse_condition(text)
    if col not in runs:
        raise ScalingLawsError(f"filter '{text}': {runs.missing_message(col, 'Check the spelling of the column')}")
    data = runs[col]
    if data.dtype.kind == "b":
        truth = {"true": 1.0, "1": 1.0, "yes": 1.0, "false": 0.0, "0": 0.0, "no": 0.0}
        try:
            values = [truth[v.strip().lower()] for v in value.split("|")]
        except KeyError:
            raise ScalingLawsError(
                f"filter '{text}': column '{col}' holds true/false values; write {col}=true or {col}=false") from None
        data = data.astype(float)
    elif data.dtype.kind in "fiu":
        try:
            values = [parse_number(v) for v in value.split("|")]
        except ValueError:
            raise ScalingLawsError(
                f"filter '{text}': column '{col}' holds numbers but '{value}' is not one. Compare it with a "
                f"number, e.g. {col}>=1e9") from None
        data = data.astype(float)
    else:
        values = value.split("|")
        data = data.astype(str)
        if op in ("<", "<=", ">", ">="):
            raise ScalingLawsError(
                f"filter '{text}': column '{col}' holds labels, which only compare with = or !=")
    if op == "=":
        return np.isin(data, values)
    if op == "!=":
        return ~np.isin(data, values)
    if len(values) != 1:
        raise ScalingLawsError(f"filter '{text}': '|' alternatives only work with = and !=")
    v = values[0]
    return {"<": data < v, "<=": data <= v, ">": data > v, ">=": data >= v}[op]


def apply_filters(runs, conditions: Iterable[str]):
    conditions = [c for c in conditions if c and c.strip()]
    if not conditions:
        return runs
    mask = np.ones(len(runs), dtype=bool)
    for text in conditions:
        mask &= condition_mask(runs, text)
    if not mask.any():
        raise ScalingLawsError(
            f"the filter {' and '.join(repr(c) for c in conditions)} leaves no rows of {runs.source}. Loosen it, "
            "or check the values with `scalinglaws datasets` / your file")
    kept = runs.take(mask)
    return replace(kept, filters=kept.filters + tuple(conditions))
