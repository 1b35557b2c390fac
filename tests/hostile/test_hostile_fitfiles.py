"""Fit files that are damaged, hostile or forged: every command that reads one refuses it in one line that names
the file, even when the forger recomputed the checksum."""

from __future__ import annotations

import json

import pytest
from hostile_corpus import forge

AT = ("--at", "params=1e9", "--at", "tokens=1e10")

RAW = [
    ("deep-100k", b"[" * 100_000 + b"]" * 100_000, "nests more than"),
    ("deep-object", b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "nests more than"),
    ("empty", b"", "empty"),
    ("blank", b"   \n", "empty"),
    ("binary", bytes(range(256)), "fit.json"),
    ("latin1", '{"format": "r\xe9seau"}'.encode("latin-1"), "UTF-8"),
    ("truncated", b'{"format": "scalinglaws.fit/1", "params": {', "not valid JSON"),
    ("top-list", b"[1, 2, 3]", "not a fit record"),
    ("top-number", b"3", "not a fit record"),
    ("no-format", b'{"law": "chinchilla"}', "not a scalinglaws fit file"),
    ("other-format", b'{"format": "scalinglaws.fit/99"}', "fit format"),
    ("missing-fields", b'{"format": "scalinglaws.fit/1"}', "lacks"),
]


@pytest.mark.parametrize("data, needle", [pytest.param(d, n, id=i) for i, d, n in RAW])
def test_a_damaged_fit_file_is_refused(sl, tmp_path, data, needle):
    path = tmp_path / "fit.json"
    path.write_bytes(data)
    sl("predict", path, *AT).refused(needle)


def _literal(record_text: str, field: str, literal: str) -> str:
    d = json.loads(record_text)
    d[field] = "@@"
    return json.dumps(d).replace('"@@"', literal)


def test_a_number_beyond_floating_point_is_refused(sl, fit_file, tmp_path):
    path = tmp_path / "huge.json"
    path.write_text(_literal(fit_file.read_text(), "objective", "1e400"))
    sl("predict", path, *AT).refused("huge.json", "'objective'")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_a_non_finite_literal_is_refused(sl, fit_file, tmp_path, literal):
    path = tmp_path / "nan.json"
    path.write_text(_literal(fit_file.read_text(), "objective", literal))
    sl("predict", path, *AT).refused("nan.json", "not valid JSON")


def _first(d):
    return next(iter(d))


FORGED = [
    ("param-text", lambda r: {"params": {**r["params"], _first(r["params"]): "abc"}}, "'params'"),
    ("param-null", lambda r: {"params": {**r["params"], _first(r["params"]): None}}, "'params'"),
    ("param-bool", lambda r: {"params": {**r["params"], _first(r["params"]): True}}, "'params'"),
    ("params-list", lambda r: {"params": list(r["params"].values())}, "'params'"),
    ("params-empty", lambda r: {"params": {}}, "'params'"),
    ("objective-text", lambda r: {"objective": "small"}, "'objective'"),
    ("objective-null", lambda r: {"objective": None}, "'objective'"),
    ("residuals-null", lambda r: {"residuals": None}, "'residuals'"),
    ("residuals-text", lambda r: {"residuals": ["a"]}, "'residuals'"),
    ("residuals-object", lambda r: {"residuals": {"a": 1}}, "'residuals'"),
    ("inputs-list", lambda r: {"inputs": list(r["inputs"].values())}, "'inputs'"),
    ("inputs-numbers", lambda r: {"inputs": {"N": 1}}, "'inputs'"),
    ("inputs-null", lambda r: {"inputs": None}, "'inputs'"),
    ("converged-text", lambda r: {"converged": "yes"}, "'converged'"),
    ("converged-number", lambda r: {"converged": 1}, "'converged'"),
    ("seed-negative", lambda r: {"seed": -1}, "'seed'"),
    ("seed-float", lambda r: {"seed": 1.5}, "'seed'"),
    ("seed-text", lambda r: {"seed": "0"}, "'seed'"),
    ("n-points-negative", lambda r: {"n_points": -3}, "'n_points'"),
    ("n-runs-text", lambda r: {"n_runs": "many"}, "'n_runs'"),
    ("at-bounds-text", lambda r: {"at_bounds": "alpha"}, "'at_bounds'"),
    ("warnings-numbers", lambda r: {"warnings": [1]}, "'warnings'"),
    ("data-list", lambda r: {"data": []}, "'data'"),
    ("ranges-text", lambda r: {"data": {**r["data"], "ranges": "all"}}, "'data.ranges'"),
    ("ranges-short", lambda r: {"data": {**r["data"], "ranges": {"params": [1]}}}, "'data.ranges'"),
    ("loss-text", lambda r: {"loss": "huber"}, "'loss'"),
    ("starts-list", lambda r: {"starts": []}, "'starts'"),
    ("law-number", lambda r: {"law": 5}, "'law'"),
    ("law-empty", lambda r: {"law": ""}, "'law'"),
    ("law-unknown", lambda r: {"law": "no_such_law"}, "no_such_law"),
    ("target-list", lambda r: {"target": ["loss"]}, "'target'"),
    ("version-number", lambda r: {"version": 1}, "'version'"),
    ("law-source-list", lambda r: {"law_source": [1]}, "'law_source'"),
    ("extra-text", lambda r: {"extra": "x"}, "'extra'"),
    ("bootstrap-text", lambda r: {"bootstrap": "yes"}, "'bootstrap'"),
    ("bootstrap-level-2", lambda r: {"bootstrap": {"n": 1, "level": 2, "unit": "run", "failed": 0, "seed": 0,
                                                   "draws": [list(r["params"].values())]}}, "'bootstrap'"),
    ("bootstrap-draws-short", lambda r: {"bootstrap": {"n": 1, "level": 0.9, "unit": "run", "failed": 0, "seed": 0,
                                                       "draws": [[1.0]]}}, "'bootstrap.draws'"),
    ("bootstrap-draws-text", lambda r: {"bootstrap": {"n": 1, "level": 0.9, "unit": "run", "failed": 0, "seed": 0,
                                                      "draws": "many"}}, "'bootstrap.draws'"),
    ("formula-law-source-damaged", lambda r: {"law_source": {"kind": "formula", "expr": "E + (", "params": {}}},
     "fit.json"),
]


@pytest.mark.parametrize("change, needle", [pytest.param(c, n, id=i) for i, c, n in FORGED])
def test_a_forged_fit_with_a_valid_checksum_is_refused(sl, fit_file, tmp_path, change, needle):
    record = json.loads(fit_file.read_text())
    path = tmp_path / "fit.json"
    path.write_text(forge(record, **change(record)))
    sl("predict", path, *AT).refused(needle)


@pytest.mark.parametrize("command", [("predict", *AT), ("plan", "--flops", "1e21"), ("plot",), ("report",)])
def test_every_command_that_reads_a_fit_refuses_a_forged_one(sl, fit_file, tmp_path, command):
    record = json.loads(fit_file.read_text())
    path = tmp_path / "forged.json"
    path.write_text(forge(record, residuals=None))
    name, *rest = command
    out = ["-o", tmp_path / ("out.png" if name == "plot" else "out.html")] if name in ("plot", "report") else []
    sl(name, path, *rest, *out).refused("forged.json")
    assert not (tmp_path / "out.png").exists() and not (tmp_path / "out.html").exists()
