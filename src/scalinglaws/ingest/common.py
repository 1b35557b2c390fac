"""What every experiment-log reader shares: the `Batch` it returns, long-to-wide rows, column names, file hashes,
and the mapping onto the runs table (--map, --set, --join).

A reader turns one log (a TensorBoard folder, an lm-eval result file, a W&B export, an MLflow store) into rows
keyed by run and step, with one column per logged metric. Everything after that is shared: metric names become
column names by one rule (`column_name`), renames and constants and joins apply alike, and the result is validated
exactly as any runs table is, so a log with a negative parameter count fails with the same clear error as a CSV.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import ScalingLawsError
from ..runs.values import parse_number

_UNSAFE = re.compile(r"[^\w.\-]+")


@lru_cache(maxsize=65536)  # a log repeats its few tags at every step
def column_name(name: str) -> str:
    """A logged metric's column name: '/' becomes '__' (train/loss -> train__loss, as in task__metric) and any
    other character that a --where filter cannot name becomes '_'."""
    out = _UNSAFE.sub("_", str(name).strip().replace("/", "__"))
    return out if out and not out[0].isdigit() else f"m_{out}"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class Batch:
    """Rows read from one source, before validation. columns: name -> list of values (numbers, text or None)."""

    kind: str  # "tensorboard", "lm-eval", "wandb", "mlflow", "table"
    source: str  # the path or URI as given
    columns: Mapping[str, list]
    files: tuple[tuple[str, str], ...] = ()  # (path, sha256) of every file read
    notes: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0


class Rows:
    """Accumulates long records (run, step, metric, value) into wide rows, one per (run, step) key.

    A later value for the same key and metric replaces an earlier one (a resumed run re-logging a step), and the
    number of replacements is kept so the reader can say so.
    """

    def __init__(self) -> None:
        self.rows: dict[tuple, dict] = {}
        self.replaced = 0

    def add(self, key: tuple, name: str, value, *, count: bool = True) -> None:
        row = self.rows.setdefault(key, {})
        if count and name in row and row[name] != value:
            self.replaced += 1
        row[name] = value

    def update(self, key: tuple, values: Mapping) -> None:
        for k, v in values.items():
            self.add(key, k, v)

    def columns(self, key_names: tuple[str, ...]) -> dict[str, list]:
        names = list(key_names) + sorted({k for r in self.rows.values() for k in r} - set(key_names))
        cols: dict[str, list] = {n: [] for n in names}
        for key, row in self.rows.items():
            full = {**dict(zip(key_names, key)), **row}
            for n in names:
                cols[n].append(full.get(n))
        return cols


def scalar(value):
    """A logged value as a float or text; None for anything else (lists, nested objects, NaN-like text)."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str):
        return value
    return None


def flatten(d: Mapping, prefix: str = "") -> dict:
    """{"optimizer": {"lr": 1e-3}} -> {"optimizer.lr": 1e-3}; W&B-style {"value": x} wrappers are unwrapped."""
    out = {}
    for k, v in d.items():
        if isinstance(v, Mapping) and set(v) == {"value"} | ({"desc"} & set(v)):
            v = v["value"]
        name = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(flatten(v, name + "."))
        else:
            s = scalar(v)
            if s is not None:
                out[name] = s
    return out


def parse_constants(pairs: Iterable[str] | Mapping | None) -> dict[str, object]:
    """--set params=1.4e9 --set family=pythia -> {"params": 1.4e9, "family": "pythia"}."""
    if not pairs:
        return {}
    if isinstance(pairs, Mapping):
        return dict(pairs)
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ScalingLawsError(f"--set '{pair}' is not COLUMN=VALUE. Write e.g. --set params=1.4e9")
        if key.strip() in out:
            raise ScalingLawsError(f"--set {key.strip()} is given twice. Set each column once")
        try:
            out[key.strip()] = parse_number(value)  # 1.4e9, or a size as written: 160M, 1.4B
        except ValueError:
            out[key.strip()] = value.strip()
    return out


def apply_constants(cols: dict[str, list], constants: Mapping) -> dict[str, list]:
    n = len(next(iter(cols.values()))) if cols else 0
    out = dict(cols)
    for k, v in constants.items():
        out[k] = [v] * n
    return out


def resolve_rename(cols: Mapping, rename: Mapping[str, str]) -> dict[str, str]:
    """--map NEW=OLD where OLD may be written as logged (train/loss) or as its column name (train__loss)."""
    out = type(rename)()  # a rename given in Python stays one, so that its errors speak Python
    for new, old in rename.items():
        out[new] = old if old in cols or column_name(old) not in cols else column_name(old)
    return out


def join_table(cols: dict[str, list], path: str | Path, source: str) -> tuple[dict[str, list], str]:
    """Left join of a side table (e.g. model -> params) on the columns both share; unmatched rows stay empty."""
    from ..runs.io import _read_path
    from ..runs.validate import _to_text

    side, _, _ = _read_path(Path(path))
    keys = [k for k in side if k in cols]
    if not keys:
        raise ScalingLawsError(f"--join {Path(path).name} shares no column with {source} (its columns: "
                               f"{', '.join(list(side)[:8])}; the log's: {', '.join(list(cols)[:8])}). Name the key "
                               "column alike in both, e.g. 'run' or 'model'")
    side_keys = list(zip(*(_to_text(np.asarray(side[k], dtype=object)).tolist() for k in keys)))
    lookup: dict[tuple, int] = {}
    for i, key in enumerate(side_keys):
        if key in lookup:
            raise ScalingLawsError(f"--join {Path(path).name}: {', '.join(keys)} = {', '.join(key)} appears twice. "
                                   "Each key may appear once")
        lookup[key] = i
    n = len(next(iter(cols.values())))
    ours = list(zip(*(_to_text(np.array(cols[k], dtype=object)).tolist() for k in keys)))
    index = [lookup.get(key) for key in ours]
    out = dict(cols)
    for name, values in side.items():
        if name in keys:
            continue
        values = np.asarray(values).tolist()
        out[name] = [None if j is None else values[j] for j in index]
    missed = sum(j is None for j in index)
    note = (f"--join {Path(path).name} on {', '.join(keys)}: {n - missed} of {n} rows matched"
            + (f"; {missed} have no entry" if missed else ""))
    return out, note


def to_runs(batch: Batch, *, rename=None, constants=None, join=None):
    """The batch as a validated runs table (the same checks as any file), with --set, --join and --map applied."""
    from ..runs.io import _apply_rename, parse_map
    from ..runs.validate import validate

    if len(batch) == 0:
        raise ScalingLawsError(f"{batch.source}: no rows were found in this {batch.kind} log. Check the path, or "
                               "choose the reader with --from")
    cols = {k: np.array(v, dtype=object) for k, v in batch.columns.items()}
    notes = list(batch.notes)
    if join:
        joined, note = join_table(batch.columns, join, batch.source)
        cols = {k: np.array(v, dtype=object) for k, v in joined.items()}
        notes.append(note)
    if constants:
        cols = {k: np.array(v, dtype=object) for k, v in
                apply_constants({k: list(v) for k, v in cols.items()}, parse_constants(constants)).items()}
    rename = parse_map(rename)
    if rename:
        cols = _apply_rename(cols, resolve_rename(cols, rename), batch.source)
    cols = {k: _typed(v) for k, v in cols.items()}
    runs = validate(cols, batch.source, None, "row")
    return runs, tuple(notes)


def _typed(values: np.ndarray) -> np.ndarray:
    """Object arrays of numbers and None become float arrays (None as NaN), of flags alone bool arrays; anything
    with text stays text."""
    items = values.tolist()
    if items and all(isinstance(v, (bool, np.bool_)) for v in items):
        return np.array(items, dtype=bool)
    if all(v is None or isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
        return np.array([np.nan if v is None else float(v) for v in items], dtype=float)
    return values
