"""What every record shares (records.py): its format, freezing all the way down, and the plain JSON form."""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass, replace
from types import MappingProxyType

import numpy as np
import pytest

from scalinglaws.errors import ScalingLawsError
from scalinglaws.records import KINDS, Frozen, format_of, freeze, kind_of, parse_format, plain, thaw


def test_formats_name_a_kind_and_a_version():
    assert format_of("backtest") == "scalinglaws.backtest/1"
    assert parse_format("scalinglaws.backtest/1") == ("backtest", "1")
    assert [parse_format(v) for v in ("scalinglaws.backtest", "backtest/1", "scalinglaws./1", None, 3)] == [None] * 5
    assert kind_of({"format": "scalinglaws.plan/1", "objective": "x"}) == "plan"
    assert kind_of({"objective": "x"}) is None and kind_of([1]) is None
    with pytest.raises(ScalingLawsError, match="no record kind 'nothing'"):
        format_of("nothing")
    assert all(isinstance(v, int) and v >= 1 for v in KINDS.values())


def test_freeze_goes_all_the_way_down_and_thaw_undoes_it():
    raw = {"a": [1, {"b": [2.0, 3.0]}], "c": np.array([[1.0, 2.0]]), "d": np.float64(0.5), "e": "text", "f": None}
    frozen = freeze(raw)
    assert isinstance(frozen, MappingProxyType) and isinstance(frozen["a"], tuple)
    assert isinstance(frozen["a"][1], MappingProxyType) and frozen["a"][1]["b"] == (2.0, 3.0)
    assert frozen["c"] == ((1.0, 2.0),) and type(frozen["d"]) is float and frozen["e"] == "text"
    with pytest.raises(TypeError):
        frozen["a"][1]["b"] = ()
    raw["a"][1]["b"].append(4.0)  # the frozen copy shares nothing with its input
    assert frozen["a"][1]["b"] == (2.0, 3.0)
    assert thaw(frozen) == {"a": [1, {"b": [2.0, 3.0]}], "c": [[1.0, 2.0]], "d": 0.5, "e": "text", "f": None}
    assert plain(frozen) == thaw(frozen) and json.dumps(plain(frozen))


@dataclass(frozen=True)
class Example(Frozen):
    name: str
    values: dict
    rows: list


def test_a_frozen_record_freezes_its_fields_and_survives_pickling_and_replace():
    rec = Example("x", {"a": [1, 2]}, [{"b": 1}])
    assert rec.values["a"] == (1, 2) and isinstance(rec.rows[0], MappingProxyType)
    with pytest.raises(TypeError):
        rec.values["a"] = 3
    again = pickle.loads(pickle.dumps(rec))
    assert again == rec and isinstance(again.values, MappingProxyType)
    changed = replace(rec, values={"a": [3]})
    assert changed.values["a"] == (3,) and isinstance(changed.values, MappingProxyType)
