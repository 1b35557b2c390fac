"""Every example in README.md and docs/*.md runs, and every output the docs show is what the example prints.

```python blocks run in order, one namespace per file; ```bash blocks run each `scalinglaws ...` line through the
CLI in-process and require exit code 0 (lines starting with `pip` are skipped). Both run in a temporary folder
per file, holding a copy of examples/ (the example logs), so files the examples write do not leak.

A block fenced as ```output shows what the runnable block just before it prints on stdout, and is checked against
it: words must match exactly and numbers to their printed precision (two units in the last digit shown, or 0.1%,
whichever is larger), ignoring how the text is wrapped. A line `...` stands for any stretch of output (the docs
show the part that matters). Blocks fenced as ```text or ```console are not run: commands that need what the docs cannot
have (a GPU, a Ray cluster, the shared data), and benchmark tables, which name the script that prints them.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```", re.S | re.M)
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?", re.I)
SLACK_DIGITS = 2  # units in the last printed digit a number may differ by
# or this fraction of it: the same seed gives the same bytes on one machine, but another CPU's BLAS and torch
# kernels sum in other orders, which moves bootstrap intervals and trained losses by up to a few percent
SLACK_RELATIVE = 0.03


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


def _unit(text: str) -> float:
    """One unit in the last digit `text` shows: 2.9301 -> 1e-4, 1.2e+04 -> 1e3, 174 -> 1."""
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return 10.0 ** (int(exponent or 0) - decimals)


def same_word(shown: str, printed: str) -> bool:
    """A word of the docs against the word printed: the same text around its numbers, the numbers close."""
    if shown == printed or shown == "...":  # a word of its own, "...", stands for any one printed word
        return True
    if NUMBER.sub("#", shown) != NUMBER.sub("#", printed):
        return False
    for a, b in zip(NUMBER.findall(shown), NUMBER.findall(printed)):
        x, y = float(a), float(b)
        if abs(x - y) > max(SLACK_DIGITS * _unit(a), SLACK_RELATIVE * abs(x)):
            return False
    return True


def _match_at(shown: list[str], printed: list[str], start: int) -> bool:
    return len(printed) - start >= len(shown) and all(same_word(a, b) for a, b in zip(shown, printed[start:]))


def output_mismatch(shown: str, printed: str) -> str | None:
    """Why the printed output is not the one the docs show (None when it is)."""
    pieces = [p.split() for p in re.split(r"^\s*\.\.\.\s*$", shown, flags=re.M)]
    words = printed.split()
    at = 0
    for i, piece in enumerate(pieces):
        if not piece:
            continue
        last = i == len(pieces) - 1
        if i == 0:
            starts = [0]
        elif last:
            starts = [len(words) - len(piece)]
        else:
            starts = range(at, len(words) - len(piece) + 1)
        found = next((s for s in starts if s >= at and _match_at(piece, words, s)), None)
        if found is None:
            near = next((s for s in range(at, len(words)) if same_word(piece[0], words[s])), at)
            for k, word in enumerate(piece):
                got = words[near + k] if near + k < len(words) else "<end of output>"
                if not same_word(word, got):
                    context = " ".join(piece[:12])
                    return f"the docs show {word!r} where the example prints {got!r} (word {k + 1} of: {context} ...)"
            return f"the docs show {' '.join(piece[:12])!r} ... but it is not where the output has it"
        at = found + len(piece)
    if pieces[-1] and at != len(words):
        return f"the example prints more than the docs show: {' '.join(words[at:at + 12])!r}"
    return None


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_examples_run(path: Path, tmp_path, monkeypatch):
    from scalinglaws.cli.app import main

    found = blocks(path)
    runnable = [lang for lang, _ in found if lang in ("python", "bash")]
    if not runnable:
        pytest.skip(f"{path.name} has no runnable examples")
    monkeypatch.chdir(tmp_path)
    if (ROOT / "examples").is_dir():  # the example logs, so that docs can read examples/...
        shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.setenv("COLUMNS", "120")
    namespace: dict = {"__name__": "__docs__"}
    printed: str | None = None
    for number, (lang, code) in enumerate(found, 1):
        if lang == "output":
            assert printed is not None, f"{path.name}: output block {number} follows no runnable block"
            why = output_mismatch(code, printed)
            assert why is None, f"{path.name}, block {number}: {why}"
            continue
        if lang not in ("python", "bash"):
            continue
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            if lang == "python":
                exec(compile(code, f"{path.name}:python", "exec"), namespace)
            else:
                for args in shell_commands(code):
                    rc = main(args)
                    assert rc == 0, f"{path.name}: `scalinglaws {' '.join(args)}` exited {rc}: {err.getvalue()}"
        printed = out.getvalue()
    assert os.getcwd() == str(tmp_path)


@pytest.mark.parametrize(("shown", "printed", "ok"), [
    ("loss 2.9301 [2.9163, 2.9333]", "loss 2.9302 [2.9163, 2.9334]", True),
    ("loss 2.9301", "loss 3.0301", False),
    ("loss ... [2.9163, 2.9333]", "loss 2.9302; [2.9163, 2.9334]", True),
    ("1.31%  174×", "1.31%  175×", True),
    ("1.31%  174×", "1.31%  180×", False),
    ("E = 1.8172", "E = 1.8172 extra", False),
    ("header\n...\nlast 1.0", "header a b c last 1.0", True),
    ("header\n...", "header and more", True),
    ("chinchilla", "power", False),
    ("6.61e+07×", "6.6e+07×", True),
])
def test_output_check(shown, printed, ok):
    assert (output_mismatch(shown, printed) is None) is ok
