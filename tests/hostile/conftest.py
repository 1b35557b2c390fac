"""The hostile-input corpus: inputs that users and scripts really produce, run through the command line.

Every case holds the promise of docs/errors.md: bad input gives exactly one line `Error: ...` that names the file,
row or column, a non-zero exit, no traceback, and nothing half written; input that is accepted but means little
gives a `Warning: ...`. Add a case wherever a new way to break the promise is found.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile_corpus import Outcome, ladder_csv


@pytest.fixture
def ladder(tmp_path) -> Path:
    path = tmp_path / "ladder.csv"
    path.write_text(ladder_csv())
    return path


@pytest.fixture
def fit_file(tmp_path_factory, capsys) -> Path:
    """A genuine fit record of the ladder, written once per test."""
    from scalinglaws.cli.app import main

    folder = tmp_path_factory.mktemp("fit")
    (folder / "ladder.csv").write_text(ladder_csv())
    assert main(["fit", str(folder / "ladder.csv"), "-o", str(folder / "fit.json"), "--json"]) == 0
    capsys.readouterr()
    return folder / "fit.json"


@pytest.fixture
def sl(capsys):
    """Run `scalinglaws ARGS...` in-process; returns an Outcome to assert on."""
    from scalinglaws.cli.app import main

    def run(*args) -> Outcome:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run
