"""Fit records: JSON round trip, and refusing fit files that cannot be trusted."""

from __future__ import annotations

import json

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
