"""Option values that make no sense, on the commands that fit: refused in one line that names the flag and the
value, before any work (a bootstrap too large for memory says how much it would need)."""

from __future__ import annotations

import pytest

FIT = [
    ("seed-negative", ["--seed", "-1"], "--seed"),
    ("seed-float", ["--seed", "1.5"], "--seed"),
    ("seed-text", ["--seed", "x"], "--seed"),
    ("bootstrap-negative", ["--bootstrap", "-1"], "--bootstrap"),
    ("bootstrap-float-text", ["--bootstrap", "1e9"], "--bootstrap"),
    ("bootstrap-a-billion", ["--bootstrap", "1000000000"], "GiB"),
    ("bootstrap-huge", ["--bootstrap", str(10 ** 15)], "GiB"),
    ("level-zero", ["--level", "0", "--bootstrap", "10"], "--level"),
    ("level-one", ["--level", "1", "--bootstrap", "10"], "--level"),
    ("level-above-one", ["--level", "1.5"], "--level"),
    ("level-nan", ["--level", "nan"], "--level"),
    ("starts-zero", ["--starts", "0"], "--starts"),
    ("starts-negative", ["--starts", "-5"], "--starts"),
    ("delta-negative", ["--delta", "-1"], "delta"),
    ("delta-nan", ["--delta", "nan"], "delta"),
    ("loss-unknown", ["--loss", "cauchy"], "cauchy"),
    ("space-unknown", ["--space", "sqrt"], "sqrt"),
    ("weights-missing-column", ["--weights", "w"], "'w'"),
    ("transient-unknown", ["--transient", "sometimes"], "sometimes"),
    ("where-bad-syntax", ["--where", "params<<1"], "params<<1"),
    ("where-unknown-column", ["--where", "width>3"], "width"),
    ("where-text-against-number", ["--where", "params>big"], "big"),
    ("where-removes-everything", ["--where", "params>1e20"], "params>1e20"),
    ("map-malformed", ["--map", "tokens"], "--map"),
    ("map-missing-column", ["--map", "tokens=n_tokens"], "n_tokens"),
    ("map-repeated", ["--map", "x=params", "--map", "x=tokens"], "given twice"),
    ("input-unknown-symbol", ["--input", "Q=params"], "Q"),
    ("input-repeated", ["--input", "N=params", "--input", "N=tokens"], "given twice"),
    ("input-missing-column", ["--input", "N=width"], "width"),
    ("target-missing", ["--target", "accuracy"], "accuracy"),
    ("target-not-numeric", ["--target", "run"], "run"),
    ("law-unknown", ["--law", "chinchila"], "chinchila"),
    ("by-without-auto", ["--by", "params"], "--by"),
    ("cuts-without-auto", ["--cuts", "2"], "--cuts"),
]


@pytest.mark.parametrize("args, needle", [pytest.param(a, n, id=i) for i, a, n in FIT])
def test_a_bad_fit_option_is_refused(sl, ladder, args, needle):
    sl("fit", ladder, *args, "--json").refused(needle)


def test_a_bootstrap_too_large_says_how_much_memory_it_would_need(sl, ladder):
    outcome = sl("fit", ladder, "--bootstrap", "1000000000").refused("--bootstrap", "GiB", "at most")
    assert "Ask for at most" in outcome.errors[0]


PREDICT = [
    ("at-repeated", ["--at", "params=1e9", "--at", "params=2e9", "--at", "tokens=1e10"], "given twice"),
    ("at-not-a-number", ["--at", "params=big", "--at", "tokens=1e10"], "params=big"),
    ("at-lengths", ["--at", "params=1e9,2e9", "--at", "tokens=1e10,2e10,3e10"], "--at"),
    ("at-malformed", ["--at", "params"], "--at"),
    ("at-missing-input", ["--at", "params=1e9"], "tokens"),
    ("at-and-data", ["--at", "params=1e9", "--data", "x.csv"], "not both"),
    ("neither", [], "--at"),
    ("level-out-of-range", ["--at", "params=1e9", "--at", "tokens=1e10", "--level", "2"], "--level"),
    ("interval-unknown", ["--at", "params=1e9", "--at", "tokens=1e10", "--interval", "wide"], "wide"),
    ("calibration-missing", ["--at", "params=1e9", "--at", "tokens=1e10", "--calibration", "nope.json"],
     "nope.json"),
]


@pytest.mark.parametrize("args, needle", [pytest.param(a, n, id=i) for i, a, n in PREDICT])
def test_a_bad_predict_option_is_refused(sl, fit_file, args, needle):
    sl("predict", fit_file, *args).refused(needle)


def test_predict_json_with_an_empty_cell_in_an_unused_column(sl, fit_file, tmp_path):
    import json

    targets = tmp_path / "targets.csv"
    targets.write_text("params,tokens,note\n1e9,1e10,\n2e9,2e10,3\n")
    outcome = sl("predict", fit_file, "--data", targets, "--json")
    assert outcome.code == 0, outcome.err
    rows = json.loads(outcome.out)["predictions"]
    assert rows[0]["note"] is None and rows[1]["note"] == 3
