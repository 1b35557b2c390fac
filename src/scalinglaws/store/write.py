"""Writing to the run store: runs tables (deduplicated, with provenance) and fit records (with the rows they used).

Every write of one `scalinglaws ingest` happens in one transaction (db.transaction): a failure or Ctrl-C part way
leaves the store exactly as it was. Rows are deduplicated by content: `_key` is the SHA-256 of a row's non-missing
values, so ingesting the same log twice, or a log that has grown since, stores each distinct row once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from .._version import __version__
from ..errors import ScalingLawsError
from ..runs import Runs, fit_columns
from ..runs.validate import _to_text
from .db import columns, one, quote

TYPES = {"f": "DOUBLE", "b": "BOOLEAN", "O": "VARCHAR", "U": "VARCHAR"}
RESERVED = ("_row", "_ingest", "_key")  # the store's own columns (db.SCHEMA): a user column may not replace one


@dataclass(frozen=True)
class Ingested:
    """What one source added to the store."""

    id: int
    kind: str
    source: str
    files: tuple[tuple[str, str], ...]  # (path, sha256)
    rows_read: int
    rows_added: int
    rows_skipped: int  # already in the store (or repeated within the source)
    runs: int
    new_columns: tuple[str, ...]
    notes: tuple[str, ...]
    time: str

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "source": self.source, "rows_read": self.rows_read,
                "rows_added": self.rows_added, "rows_skipped": self.rows_skipped, "runs": self.runs,
                "new_columns": list(self.new_columns), "notes": list(self.notes), "time": self.time,
                "files": [{"path": p, "sha256": h} for p, h in self.files]}


@dataclass(frozen=True)
class SavedFit:
    id: int
    law: str
    source: str
    data_hash: str
    checksum: str
    rows_matched: int | None  # rows of the store pinned to this fit; None when its data came from elsewhere
    note: str
    new: bool  # False when the very same fit record was already stored

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def row_keys(runs: Runs) -> list[str]:
    """SHA-256 of each row's (column, value) pairs, missing values left out, columns in name order."""
    names = sorted(runs.names)
    cols = [runs[n].tolist() for n in names]
    keys = []
    for values in zip(*cols):
        h = hashlib.sha256()
        for name, v in zip(names, values):
            if v is None or (isinstance(v, float) and v != v) or v == "":
                continue
            h.update(f"{name}\0{v!r}\0".encode())
        keys.append(h.hexdigest())
    return keys


def _column_type(values: np.ndarray) -> str:
    return TYPES.get(values.dtype.kind, "VARCHAR")


def check_names(runs: Runs, source: str) -> None:
    """Column names the store can keep: none empty, none one of its own (checked before the store is touched)."""
    for position, name in enumerate(runs.names, start=1):
        if not name.strip():
            raise ScalingLawsError(f"column {position} of {source} has no name, and every column of the store needs "
                                   "one. Name it in the header, or drop the column")
        if name in RESERVED:
            raise ScalingLawsError(f"column '{name}' of {source} has the name of one the store keeps for itself "
                                   f"({', '.join(RESERVED)}). Rename it on the way in, e.g. --map "
                                   f"{name.lstrip('_')}={name}")


def _prepared(runs: Runs, existing: dict[str, str], source: str) -> tuple[dict[str, np.ndarray], list[str]]:
    """Columns converted to the store's types, and the new columns to add. A clash of numbers and text fails."""
    out, new = {}, []
    check_names(runs, source)
    for name in runs.names:
        values = runs[name]
        want = _column_type(values)
        have = existing.get(name)
        if have is None:
            new.append(name)
            have = want
        if have == want:
            out[name] = values
        elif have == "VARCHAR":  # numbers or flags into a text column: as text, the way the runs table writes them
            out[name] = _to_text(values)
        elif have == "DOUBLE" and want == "BOOLEAN":
            out[name] = values.astype(float)
        else:
            words = {"DOUBLE": "numbers", "BOOLEAN": "true/false values", "VARCHAR": "text"}
            raise ScalingLawsError(f"column '{name}' holds {words.get(have, have)} in the store but "
                                   f"{words.get(want, want)} in {source}. Rename it on the way in, e.g. --map "
                                   f"{name}_2={name}")
    return out, new


def add_runs(con, runs: Runs, *, ingest_id: int, kind: str, source: str, files=(), options=None,
             notes=()) -> Ingested:
    """Append a validated runs table; call inside db.transaction."""
    import pyarrow as pa

    existing = columns(con)
    cols, new = _prepared(runs, existing, source)
    for name in new:
        con.execute(f"ALTER TABLE runs ADD COLUMN {quote(name)} {_column_type(cols[name])}")
    keys = np.array(row_keys(runs), dtype=object)
    con.register("incoming_keys", pa.table({"_key": keys}))
    try:
        known = {r[0] for r in con.execute(
            "SELECT DISTINCT k._key FROM incoming_keys k JOIN runs r ON r._key = k._key").fetchall()}
    finally:
        con.unregister("incoming_keys")
    _, first = np.unique(keys, return_index=True)
    keep = np.zeros(len(keys), dtype=bool)
    keep[first] = True
    keep &= np.array([k not in known for k in keys], dtype=bool)
    added = int(keep.sum())
    if added:
        start = one(con, "SELECT coalesce(max(_row), 0) FROM runs")[0]
        table = {"_row": np.arange(start + 1, start + 1 + added, dtype=np.int64),
                 "_ingest": np.full(added, ingest_id, dtype=np.int32), "_key": keys[keep]}
        for name, values in cols.items():
            v = values[keep]
            table[name] = pa.array(v.tolist(), type=pa.string()) if v.dtype.kind == "O" else v
        con.register("incoming", pa.table(table))
        try:
            con.execute("INSERT INTO runs BY NAME SELECT * FROM incoming")
        finally:
            con.unregister("incoming")
    stamp = now()
    record = Ingested(id=ingest_id, kind=kind, source=source, files=tuple(files), rows_read=len(runs),
                      rows_added=added, rows_skipped=len(runs) - added, runs=runs.n_runs, new_columns=tuple(new),
                      notes=tuple(notes), time=stamp)
    con.execute("INSERT INTO ingests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [ingest_id, stamp, kind, source, json.dumps([list(f) for f in files]), len(runs), added,
                 len(runs) - added, json.dumps(options or {}, default=str), json.dumps(list(notes)),
                 f"scalinglaws {__version__}"])
    return record


def _fitted_keys(runs: Runs, fit, used: list[str]) -> list[str] | None:
    """The keys of the rows a fit was made from, found by its data hash among two candidates: the rows its recorded
    filters select, and those rows that hold every column the law needs (what a `store:?cond` filter usually
    selected, since a fit records --where conditions but not ones written after '?'). None if neither matches."""
    rows = runs.where(*fit.data.get("where", []))
    complete = np.ones(len(rows), dtype=bool)
    for col in used:
        if col in rows and rows[col].dtype.kind == "f":
            complete &= np.isfinite(rows[col])
        elif col in rows and col != "run":
            complete &= rows[col].astype(str) != ""
    for candidate in (rows, rows.take(complete)):
        if len(candidate) and all(c in candidate for c in used if c != "run") and \
                candidate.hash(used) == fit.data.get("hash"):
            return candidate["_key"].tolist()
    return None


def next_id(con, table: str) -> int:
    return int(one(con, f"SELECT coalesce(max(id), 0) + 1 FROM {table}")[0])


def save_fit(con, fit, path) -> SavedFit:
    """Store a fit record; when it was fitted to this store's rows, pin exactly those rows by their keys."""
    from .source import read_connection, same_store, source_name

    record = fit.to_dict()
    checksum = record["checksum"]
    found = one(con, "SELECT id, rows_matched FROM fits WHERE checksum = ?", [checksum])
    source = str(fit.data.get("source"))
    if found:
        return SavedFit(found[0], fit.law, source, fit.data.get("hash"), checksum, found[1],
                        "this fit was stored before", new=False)
    matched, keys, note = None, None, f"fitted to {source}, outside this store: kept with its data hash"
    if same_store(source, path):
        used = fit_columns(fit.inputs.values(), fit.target)
        keys = _fitted_keys(read_connection(con, source_name(path), with_keys=True), fit, used)
        if keys is not None:
            matched = len(keys)
            note = f"pinned to the {matched} rows of this store it was fitted to"
        else:
            note = ("the store's rows no longer hash to the fit's data (runs were added since, or the fit used "
                    "filters it does not record): kept with its data hash only")
    fit_id = next_id(con, "fits")
    con.execute("INSERT INTO fits VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [fit_id, now(), fit.law, fit.target, source, fit.data.get("hash"), checksum, matched,
                 None if keys is None else json.dumps(keys), json.dumps(record)])
    return SavedFit(fit_id, fit.law, source, fit.data.get("hash"), checksum, matched, note, new=True)
