"""Fit records: JSON round trip, and refusing fit files that cannot be trusted."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle

import pytest

from scalinglaws.demo import epoch_runs
from scalinglaws.errors import ScalingLawsError
from scalinglaws.fitting import Fit, fit
from scalinglaws.laws import LAWS, Law, Param, register_law


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("fits") / "fit.json"
    result = fit(epoch_runs(), "chinchilla", bootstrap=100, seed=1)
    result.save(path)
    return result, path


def test_round_trip_is_exact(saved):
    result, path = saved
    again = Fit.load(path)
    assert again == result
    assert again.to_json() == result.to_json()
    assert again.ci == result.ci


def test_save_is_atomic(saved, tmp_path):
    result, _ = saved
    target = tmp_path / "f.json"
    result.save(target)
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]  # no temporary left behind


@pytest.mark.parametrize("mutate,message", [
    (lambda d: d["params"].__setitem__("alpha", 0.5), "was changed after it was written"),
    (lambda d: d.__setitem__("format", "scalinglaws.fit/0"), r"written in fit format scalinglaws.fit/0 .* Refit"),
    (lambda d: d.pop("residuals"), "lacks residuals"),
    (lambda d: d.pop("format"), "is not a scalinglaws fit file"),
])
def test_edited_or_foreign_files_are_refused(saved, tmp_path, mutate, message):
    _, path = saved
    d = json.loads(path.read_text())
    mutate(d)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(d))
    with pytest.raises(ScalingLawsError, match=message) as err:
        Fit.load(bad)
    assert "\n" not in str(err.value)


def test_a_fit_cannot_be_edited_in_memory(saved):
    result, _ = saved
    for mapping, key in ((result.params, "E"), (result.data, "hash"), (result.data["ranges"], "params"),
                         (result.starts, "objectives"), (result.loss, "kind"), (result.inputs, "N")):
        with pytest.raises(TypeError):
            mapping[key] = 1.0
        with pytest.raises(TypeError):
            del mapping[key]
        with pytest.raises(AttributeError):
            mapping.update({key: 1.0})
    for sequence in (result.data["where"], result.residuals, result.starts["objectives"], result.bootstrap.draws[0]):
        with pytest.raises(TypeError):
            sequence[0] = 1.0
        with pytest.raises(AttributeError):
            sequence.append(1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.params = {}
    # a record built from mutable input does not share it
    data = {"source": "x", "ranges": {"params": [1.0, 2.0]}}
    made = dataclasses.replace(result, data=data)
    data["ranges"]["params"][0] = 99.0
    assert made.data["ranges"]["params"] == (1.0, 2.0)


def test_a_replaced_fit_is_a_new_record_that_round_trips(saved, tmp_path):
    result, path = saved
    explored = dataclasses.replace(result, params={**result.params, "E": 1.5})
    assert explored.params["E"] == 1.5 and result.params["E"] != 1.5
    with pytest.raises(TypeError):
        explored.params["E"] = 2.0
    again = Fit.load(explored.save(tmp_path / "explored.json"))
    assert again == explored and again.to_json() == explored.to_json()
    assert again.to_dict()["checksum"] != result.to_dict()["checksum"]  # a new record signs itself anew
    # the same change made by hand to the saved file is refused
    d = json.loads(path.read_text())
    d["params"]["E"] = 1.5
    (tmp_path / "edited.json").write_text(json.dumps(d))
    with pytest.raises(ScalingLawsError, match="was changed after it was written"):
        Fit.load(tmp_path / "edited.json")


def test_to_dict_is_plain_json(saved):
    result, path = saved
    d = result.to_dict()
    assert json.loads(path.read_text()) == d
    kinds = set()

    def walk(v):
        kinds.add(type(v))
        for child in v.values() if isinstance(v, dict) else v if isinstance(v, list) else ():
            walk(child)

    walk(d)
    assert kinds <= {dict, list, str, int, float, bool, type(None)}


def test_a_frozen_fit_pickles_and_copies(saved):
    result, _ = saved
    for again in (pickle.loads(pickle.dumps(result)), copy.deepcopy(result), copy.copy(result)):
        assert again == result and again.to_json() == result.to_json()
        with pytest.raises(TypeError):
            again.params["E"] = 1.0


def test_unreadable_files(tmp_path):
    with pytest.raises(ScalingLawsError, match="fit file not found"):
        Fit.load(tmp_path / "none.json")
    (tmp_path / "cut.json").write_text('{"format": "scalinglaws.fit/1", "law": ')
    with pytest.raises(ScalingLawsError, match="is not valid JSON .* cut short"):
        Fit.load(tmp_path / "cut.json")
    (tmp_path / "empty.json").write_text("")
    with pytest.raises(ScalingLawsError, match="empty.json is empty"):
        Fit.load(tmp_path / "empty.json")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(ScalingLawsError, match="not a fit record"):
        Fit.load(tmp_path / "list.json")


def test_user_law_from_python_function(tmp_path):
    def shifted(x, p):
        return p["E"] + p["A"] * (x["N"] / 1e9) ** -p["alpha"]

    law = register_law(Law(name="shifted_power", formula="L = E + A·(N/1e9)^-alpha", inputs={"N": "params"},
                           params=(Param("E", (0, float("inf")), (0.5, 3)), Param("A", (0, float("inf")), (0.1, 10)),
                                   Param("alpha", (0, float("inf")), (0.05, 1))),
                           fn=shifted, linear=("E", "A"), reference="user"), replace=True)
    runs = epoch_runs()
    result = fit(runs, law)
    path = result.save(tmp_path / "u.json")
    assert Fit.load(path).params == result.params  # found again by name in this process
    del LAWS["shifted_power"]
    with pytest.raises(ScalingLawsError, match="law 'shifted_power', which is not registered in this process"):
        Fit.load(path).predict(params=1e9)
    with pytest.raises(ScalingLawsError, match="a law named 'chinchilla' exists already"):
        register_law(Law(name="chinchilla", formula="", inputs={"N": "params"}, params=(Param("a"),), fn=shifted))
