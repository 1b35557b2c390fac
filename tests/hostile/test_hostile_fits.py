"""Fits that mean nothing must say so: parameters the data cannot identify, a law that collapsed, weights that are
all zero, values beyond floating point, rows off by a factor of a million. A warning (and a note in the record)
where a result exists, an error where none can."""

from __future__ import annotations

import json

import pytest
from hostile_corpus import LADDER


def _table(tmp_path, rows, header="params,tokens,loss"):
    path = tmp_path / "t.csv"
    path.write_text(header + "\n" + "\n".join(",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in r)
                                             for r in rows) + "\n")
    return path


def _chinchilla(n, d):
    return 1.7 + 400 * n ** -0.34 + 2000 * d ** -0.37


def test_every_row_with_the_same_size_leaves_the_size_term_unidentified(sl, tmp_path):
    rows = [(1e8, d, _chinchilla(1e8, d)) for d in (1e9, 2e9, 4e9, 8e9, 1.6e10, 3.2e10)]
    outcome = sl("fit", _table(tmp_path, rows), "--json").warned("not identified", "params takes one value")
    record = json.loads(outcome.out)
    assert any("not identified" in w for w in record["warnings"])


def test_every_row_with_the_same_tokens_leaves_the_data_term_unidentified(sl, tmp_path):
    rows = [(n, 1e10, _chinchilla(n, 1e10)) for n in (1e7, 3e7, 1e8, 3e8, 1e9, 3e9)]
    sl("fit", _table(tmp_path, rows), "--json").warned("not identified", "tokens takes one value")


def test_a_law_that_collapses_to_a_constant_is_not_converged(sl, tmp_path):
    rows = [(n, d, 2.5) for n, d in LADDER]
    outcome = sl("fit", _table(tmp_path, rows), "--law", "E + A*N**-alpha", "--json").warned("no longer affect")
    assert json.loads(outcome.out)["converged"] is False


def test_a_good_ladder_fits_without_such_warnings(sl, tmp_path):
    rows = [(n, d, _chinchilla(n, d)) for n, d in LADDER]
    outcome = sl("fit", _table(tmp_path, rows), "--json")
    assert outcome.code == 0 and "Warning" not in outcome.err, outcome.err
    assert json.loads(outcome.out)["converged"] is True


@pytest.mark.parametrize("weights", ["0", "0.0", "-0"])
def test_all_weights_zero_is_refused(sl, tmp_path, weights):
    rows = [(n, d, _chinchilla(n, d), weights) for n, d in LADDER]
    sl("fit", _table(tmp_path, rows, "params,tokens,loss,weight"), "--json").refused("zero on every one", "t.csv")


def test_a_negative_weight_is_refused(sl, tmp_path):
    rows = [(n, d, _chinchilla(n, d), -1 if i == 3 else 1) for i, (n, d) in enumerate(LADDER)]
    sl("fit", _table(tmp_path, rows, "params,tokens,loss,weight"), "--json").refused("weight", "line 5")


@pytest.mark.parametrize("row, needle", [
    ((1e300, 1e10, 2.0), "overflows"), ((1e8, 1e300, 2.0), "overflows"), ((1e200, 1e200, 2.0), "overflows")])
def test_inputs_beyond_floating_point_are_refused(sl, tmp_path, row, needle):
    rows = [(n, d, _chinchilla(n, d)) for n, d in LADDER] + [row]
    outcome = sl("fit", _table(tmp_path, rows), "--json").refused(needle, "line 22")
    assert "RuntimeWarning" not in outcome.err


@pytest.mark.parametrize("loss", ["1e300", "1e-300", "1e30"])
def test_a_wild_loss_warns_by_name_not_with_numpy_overflow(sl, tmp_path, loss):
    rows = [(n, d, _chinchilla(n, d)) for n, d in LADDER] + [(1e9, 1e11, loss)]
    outcome = sl("fit", _table(tmp_path, rows), "--json").warned("line 22", "factor of")
    assert "RuntimeWarning" not in outcome.err


def test_no_numpy_warning_reaches_the_user_on_a_hostile_ladder(sl, tmp_path):
    rows = [(n, d, _chinchilla(n, d)) for n, d in LADDER] + [(1e9, 1e11, 1e300), (1e7, 1e9, 1e-300)]
    outcome = sl("fit", _table(tmp_path, rows), "--bootstrap", "50", "--json")
    assert outcome.code == 0 and "RuntimeWarning" not in outcome.err, outcome.err
