"""Every example in README.md and docs/*.md runs.

```python blocks run in order, one namespace per file; ```bash blocks run each `scalinglaws ...` line through the
CLI in-process and require exit code 0 (lines starting with `pip` are skipped). Both run in a temporary folder
per file, holding a copy of examples/ (the example logs), so files the examples write do not leak. Blocks fenced
as ```text or ```console are not run.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```", re.S | re.M)


def blocks(path: Path) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(path.read_text())]


def shell_commands(code: str) -> list[list[str]]:
    out = []
    for line in code.replace("\\\n", " ").splitlines():
        line = line.split("  #")[0].strip()
        if not line or line.startswith("#"):
            continue
        for part in line.split("&&"):
            args = shlex.split(part.strip())
            if args and args[0] == "scalinglaws":
                out.append(args[1:])
    return out


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_examples_run(path: Path, tmp_path, monkeypatch, capsys):
    from scalinglaws.cli.app import main

    found = blocks(path)
    runnable = [(lang, code) for lang, code in found if lang in ("python", "bash")]
    if not runnable:
        pytest.skip(f"{path.name} has no runnable examples")
    monkeypatch.chdir(tmp_path)
    if (ROOT / "examples").is_dir():  # the example logs, so that docs can read examples/...
        shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.setenv("COLUMNS", "120")
    namespace: dict = {"__name__": "__docs__"}
    for lang, code in runnable:
        if lang == "python":
            exec(compile(code, f"{path.name}:python", "exec"), namespace)
        else:
            for args in shell_commands(code):
                rc = main(args)
                err = capsys.readouterr().err
                assert rc == 0, f"{path.name}: `scalinglaws {' '.join(args)}` exited {rc}: {err}"
    assert os.getcwd() == str(tmp_path)
