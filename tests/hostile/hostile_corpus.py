"""Helpers of the hostile-input corpus (see conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

LADDER = [(n, d) for n in (1e7, 3e7, 1e8, 3e8, 1e9) for d in (1e9, 3e9, 1e10, 3e10)]


def ladder_csv(extra_header: str = "", extra_cell: str = "") -> str:
    """A small Chinchilla-shaped ladder as CSV text (optionally with one more column)."""
    head = "params,tokens,loss" + (f",{extra_header}" if extra_header else "")
    rows = [f"{n:g},{d:g},{1.7 + 400 * n ** -0.34 + 2000 * d ** -0.37:.6f}" + (f",{extra_cell}" if extra_header
                                                                                 else "") for n, d in LADDER]
    return "\n".join([head, *rows]) + "\n"


class Outcome:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    @property
    def errors(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.startswith("Error")]

    def refused(self, *needles: str) -> Outcome:
        """Exit non-zero with one Error line (naming every needle), no traceback, no internal error."""
        assert self.code not in (0, None), f"accepted: {self.err[-500:]}"
        assert "Traceback" not in self.err and "Internal error" not in self.err, self.err[-2000:]
        assert len(self.errors) == 1, self.err[-2000:]
        for needle in needles:
            assert needle in self.errors[0], f"{needle!r} not in {self.errors[0]!r}"
        return self

    def warned(self, *needles: str) -> Outcome:
        """Exit 0 with a Warning line naming every needle, and no traceback."""
        assert self.code == 0, self.err[-2000:]
        assert "Traceback" not in self.err
        warnings = [line for line in self.err.splitlines() if line.startswith("Warning")]
        assert any(all(n in w for n in needles) for w in warnings), self.err[-2000:]
        return self


def no_leftovers(folder: Path) -> None:
    """Nothing half written: no temporary files left beside the outputs."""
    left = [p.name for p in folder.iterdir() if p.name.startswith(".") and (p.suffix in (".tmp", ".new"))]
    assert not left, left


def forge(record: dict, **changes) -> str:
    """A fit record with fields replaced and its checksum recomputed: well-formed to the checksum, wrong inside."""
    from scalinglaws.fitting.record import checksum

    d = {**record, **changes}
    d["checksum"] = checksum(d)
    return json.dumps(d)
