"""The shape of a runs table decides law selection's candidates, rows and cuts."""

from __future__ import annotations

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.decide.datashape import describe, finals, one_run


@pytest.fixture(scope="module")
def lr_curves():
    return sl.load_dataset("multipower_lr_curves")


@pytest.mark.parametrize("where, kind, by, within", [
    (("run=25M_cosine_24000",), "run_curve", "step", True),
    (("size=25M",), "size_curves", "step", True),
    (("size=25M|100M",), "ladder_curves", "step", True),  # two sizes: nothing to hold out along params
    ((), "ladder_curves", "params", False),
])
def test_curves(lr_curves, where, kind, by, within):
    shape = describe(lr_curves.where(*where) if where else lr_curves)
    assert (shape.kind, shape.by, shape.within, shape.curves) == (kind, by, within, True)


def test_ladders():
    epoch = sl.load_dataset("chinchilla_epoch")
    assert (describe(epoch).kind, describe(epoch).by) == ("points", "flops")
    n = np.geomspace(1e8, 1e10, 5)
    line = sl.read_runs({"run": list("abcde"), "params": n, "tokens": np.full(5, 1e11), "loss": 2 + 1 / np.log(n)})
    shape = describe(line)
    assert (shape.kind, shape.by, shape.within) == ("line", "params", False)
    assert shape.binding(sl.get_law("power")) == {"x": "params"} and shape.candidates() == ("power", "bnsl")
    one = sl.read_runs({"run": ["a"] * 5, "tokens": n * 10, "loss": 2 + 1 / np.log(n)})
    assert (describe(one).kind, describe(one).within, describe(one).by) == ("line", True, "tokens")


def test_finals_and_one_run(lr_curves):
    two = lr_curves.where("run=25M_cosine_24000|25M_constant_72000")
    last = finals(two)
    assert len(last) == 2 and sorted(last["step"].tolist()) == [two["step"][two["run"] == r].max()
                                                                 for r in ("25M_cosine_24000", "25M_constant_72000")]
    assert "final row" in last.notes[-1]
    rows = one_run(sl.read_runs({k: two.where("run=25M_cosine_24000")[k] for k in ("step", "lr", "loss")}))
    assert rows.n_runs == 1 and "no run column" in rows.notes[-1]
