"""Malformed lm-evaluation-harness per-sample logs through `scalinglaws choices --log FILE=SIZE`: each refused in one
line that names the file (and its line where there is one), never a traceback."""

from __future__ import annotations

import json

import pytest

GOOD = {"doc_id": 0, "target": 1, "filtered_resps": [["-1.5", "False"], ["-0.5", "True"]]}


def line(**change) -> bytes:
    return (json.dumps({**GOOD, **change}) + "\n").encode()


# (id, bytes of the samples file, what the Error line must name)
CASES = [
    ("latin1", b'{"doc_id": 0, "target": "r\xe9seau"}\n', "s.jsonl"),
    ("not-json", b"{doc_id: 0\n", "line 1"),
    ("json-array-line", b"[1, 2]\n", "line 1"),
    ("json-number-line", b"5\n", "line 1"),
    ("no-choices", line(filtered_resps=[], resps=[]), "line 1"),
    ("choices-not-a-list", line(filtered_resps="abc", resps=None), "line 1"),
    ("loglik-text", line(filtered_resps=[["high", "False"], ["-0.5", "True"]]), "line 1"),
    ("loglik-null", line(filtered_resps=[[None, "False"], ["-0.5", "True"]]), "line 1"),
    ("target-text", line(target="B"), "line 1"),
    ("target-out-of-range", line(target=7), "line 1"),
    ("target-negative", line(target=-1), "line 1"),
    ("target-null", line(target=None), "line 1"),
    ("second-line-bad", line() + b"{oops\n", "line 2"),
    ("empty", b"", "s.jsonl"),
    ("blank-lines", b"\n\n\n", "s.jsonl"),
    ("nul-bytes", b"\x00\x00\x00", "s.jsonl"),
]


@pytest.mark.parametrize("data, needle", [pytest.param(c[1], c[2], id=c[0]) for c in CASES])
def test_a_malformed_samples_file_is_refused_in_one_line(sl, tmp_path, data, needle):
    path, other = tmp_path / "s.jsonl", tmp_path / "small" / "s.jsonl"
    other.parent.mkdir()
    for each in (path, other):
        each.write_bytes(data)
    sl("choices", "--log", f"{other}=1e8", "--log", f"{path}=2e8", "--at", "params=1e9").refused(needle)


def test_a_missing_file_a_folder_and_a_size_that_is_not_one(sl, tmp_path):
    sl("choices", "--log", f"{tmp_path / 'none.jsonl'}=1e8", "--at", "params=1e9").refused("none.jsonl")
    sl("choices", "--log", f"{tmp_path}=1e8", "--at", "params=1e9").refused(tmp_path.name)
    good = tmp_path / "s.jsonl"
    good.write_bytes(line())
    sl("choices", "--log", f"{good}=big", "--at", "params=1e9").refused("--log")
    sl("choices", "--log", str(good), "--at", "params=1e9").refused("--log")
