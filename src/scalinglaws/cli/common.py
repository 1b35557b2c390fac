"""What every command shares: output (JSON for scripts, rich tables on a terminal), option parsing helpers, and the
one-line error and warning format."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable

import numpy as np

from ..errors import ScalingLawsError
from ..records import json_default

DATA_HELP = ("Runs table: a .csv/.parquet/.jsonl/.json file, dataset:NAME (bundled), or store:PATH. "
             "Append ?COND to filter.")
MAP_HELP = "Rename a column on the fly: --map tokens=n_tokens (NEW=OLD). Repeatable."
WHERE_HELP = "Keep rows matching COL OP VALUE, e.g. --where family=pythia --where 'params<1e9'. Repeatable."
JSON_HELP = "Print the result as JSON on stdout (for scripts) instead of tables."


_TABLE_FORMAT = ["table"]  # --format of the command running now (options.JSON sets it)


def set_table_format(fmt: str) -> None:
    from ..render.table import FORMATS

    if fmt not in FORMATS:
        raise ScalingLawsError(f"--format {fmt}: choose one of {', '.join(FORMATS)}")
    _TABLE_FORMAT[0] = fmt


PIPE_WIDTH = 10_000  # columns given to tables when stdout is not a terminal


def emit_json(obj) -> None:
    """Print a result record: as JSON (--json, --format json), or as its table with --format csv|markdown|latex."""
    fmt = _TABLE_FORMAT[0]
    if fmt in ("csv", "markdown", "latex"):
        from ..render.table import text_table

        sys.stdout.write(text_table(json.loads(json.dumps(obj, default=json_default)), fmt))
        return
    sys.stdout.write(json.dumps(obj, indent=1, allow_nan=False, default=json_default) + "\n")


def console():
    """A rich console on stdout: colours and boxes on a terminal, plain text when piped.

    Piped or redirected output has no width to fit, so it gets one wide enough that a table never cuts a number
    short with "…" (rich assumes 80 columns when it cannot ask a terminal).
    """
    from rich.console import Console

    wide = None if sys.stdout.isatty() else PIPE_WIDTH
    return Console(highlight=False, soft_wrap=True, width=wide)


def progress_bar(enabled: bool, description: str):
    """A progress callback (done, total) and a context manager; a no-op unless stderr is a terminal."""
    if not enabled or not sys.stderr.isatty():
        from contextlib import nullcontext

        return None, nullcontext()
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn(description), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                   TimeRemainingColumn(), console=Console(stderr=True), transient=True)
    task = bar.add_task(description, total=None)

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return update, bar


def parse_pairs(pairs: Iterable[str], option: str) -> dict[str, str]:
    """NAME=VALUE options as a mapping; a name given twice is refused (the later value would win silently)."""
    out = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ScalingLawsError(f"{option} '{pair}' is not NAME=VALUE. Write e.g. {option} params=7e9")
        if key.strip() in out:
            raise ScalingLawsError(f"{option} {key.strip()} is given twice ({key.strip()}={out[key.strip()]} and "
                                   f"{pair.strip()}). Give it once; for several rows write {option} "
                                   f"{key.strip()}={out[key.strip()]},{value.strip()}")
        out[key.strip()] = value.strip()
    return out


def _number_or_named(text: str) -> float:
    """A number, a size (7B), or the size in a model's name (pythia-160m)."""
    from ..runs.values import parse_number, size_in_name

    try:
        return parse_number(text)
    except ValueError:
        return size_in_name(text)


def parse_log_files(entries: Iterable[str], example: str) -> dict[str, float]:
    """--log FILE=SIZE (repeatable) -> {file: size}; SIZE a number, 160M or a model name with its size."""
    files: dict[str, float] = {}
    for entry in entries:
        path, sep, size = entry.rpartition("=")
        if not sep or not path:
            raise ScalingLawsError(f"--log {entry}: give the file and its model size, e.g. --log {example}")
        try:
            value = _number_or_named(size)
        except ValueError:
            raise ScalingLawsError(f"--log {entry}: {size!r} is not a model size; write e.g. --log {example}, "
                                   f"{path}=1.6e8 or {path}=160M") from None
        if not np.isfinite(value) or value <= 0:
            raise ScalingLawsError(f"--log {entry}: the model size must be a positive number, e.g. --log {example}")
        if path in files:
            raise ScalingLawsError(f"--log {path} is given twice: give each file once")
        files[path] = float(value)
    return files


def parse_at(pairs: Iterable[str]) -> dict[str, np.ndarray]:
    """--at params=7e9 --at tokens=1.4T,2.8e12 -> columns; single values broadcast against lists."""

    raw = parse_pairs(pairs, "--at")
    cols = {}
    for key, value in raw.items():
        try:
            cols[key] = np.array([_number_or_named(v) for v in value.split(",")])
        except ValueError:
            raise ScalingLawsError(f"--at {key}={value}: not a number (or comma-separated numbers), e.g. "
                                   f"--at {key}=7e9, --at {key}=7B or a model name with its size, pythia-160m"
                                   ) from None
    if not cols:
        return cols
    n = max(len(v) for v in cols.values())
    for key, v in cols.items():
        if len(v) not in (1, n):
            raise ScalingLawsError(f"--at {key} has {len(v)} values but another --at has {n}: give one value or {n}")
        cols[key] = np.broadcast_to(v, (n,)).copy()
    return cols


def parse_param_overrides(pairs: Iterable[str]) -> dict[str, dict]:
    """--param alpha=0:2 (start range) or alpha=0:2:log; bounds with --param alpha=bounds:0:5."""
    out: dict[str, dict] = {}
    for pair in pairs or ():  # a name may come twice: once for its start range, once for its bounds
        key, value = next(iter(parse_pairs([pair], "--param").items()))
        parts = value.split(":")
        spec = out.setdefault(key, {})
        which = "bounds" if parts[0] == "bounds" else "start"
        if which in spec:
            raise ScalingLawsError(f"--param {key}: its {'bounds' if which == 'bounds' else 'start range'} is given "
                                   "twice. Give it once")
        try:
            if parts[0] == "bounds":
                spec["bounds"] = (_bound(parts[1]), _bound(parts[2]))
            else:
                spec["start"] = (float(parts[0]), float(parts[1]))
                if len(parts) > 2 and parts[2] == "log":
                    spec["log_start"] = True
        except (IndexError, ValueError):
            raise ScalingLawsError(f"--param {key}={value}: write NAME=LO:HI (start range), NAME=LO:HI:log, or "
                                   "NAME=bounds:LO:HI (use inf for none)") from None
    return out


def _bound(text: str) -> float:
    return float(text.replace("−", "-"))
