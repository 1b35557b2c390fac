"""The run store (see docs/ingest.md): a local DuckDB file of runs from every source, with provenance.

    ingest(sources, store=None) -> IngestResult     read logs, map them, append them in one transaction
    save_fit(fit, store=None) -> SavedFit            keep a fit with its data hash and the rows it used
    describe(store=None) -> StoreInfo                what the store holds: ingests, fits, columns
    read_store(store=None) -> Runs                   the rows as a runs table (or `store:PATH` wherever data go)
    load_fit(id, store=None) -> Fit                  a stored fit back as a Fit

The default store is $SCALINGLAWS_STORE, else scalinglaws.duckdb in the current folder.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ScalingLawsError
from ..records import format_of
from .db import FORMAT, connect, default_path, one, store_path, transaction
from .source import fit_runs, read_store, read_store_source
from .write import Ingested, SavedFit, add_runs, check_names, next_id
from .write import save_fit as _save_fit


@dataclass(frozen=True)
class IngestResult:
    store: str
    ingests: tuple[Ingested, ...]
    fits: tuple[SavedFit, ...]
    dry_run: bool
    rows: int  # rows in the store afterwards (before, for a dry run)

    def to_dict(self) -> dict:
        return {"format": format_of("ingest"), "store": self.store, "dry_run": self.dry_run, "rows": self.rows,
                "ingests": [i.to_dict() for i in self.ingests], "fits": [f.to_dict() for f in self.fits]}

    def _repr_html_(self) -> str:
        from ..render.html_tables import table

        rows = [[i.source, i.kind, i.rows_read, i.rows_added, i.rows_skipped, ", ".join(i.new_columns[:6])]
                for i in self.ingests]
        return table(f"Ingest into {self.store}" + (" (dry run)" if self.dry_run else ""),
                     ["source", "kind", "rows read", "added", "skipped", "new columns"], rows, left=2)


@dataclass(frozen=True)
class StoreInfo:
    path: str
    format: str
    rows: int
    runs: int
    columns: tuple[tuple[str, str], ...]
    ingests: tuple[dict, ...]
    fits: tuple[dict, ...]

    def to_dict(self) -> dict:
        return {"format": format_of("store_info"), "path": self.path, "store_format": self.format, "rows": self.rows,
                "runs": self.runs,
                "columns": [{"name": n, "type": t} for n, t in self.columns], "ingests": list(self.ingests),
                "fits": list(self.fits)}

    def _repr_html_(self) -> str:
        from ..render.html_tables import table

        rows = [[i["id"], i["time"], i["kind"], i["source"], i["rows_added"], i["rows_skipped"]] for i in self.ingests]
        return table(f"Run store {self.path}: {self.rows} rows, {self.runs} runs",
                     ["ingest", "time", "kind", "source", "added", "skipped"], rows, left=4)


def _read_sources(sources, kind, rename, constants, join, progress):
    """Every source read and validated before the store is touched: a bad log fails before anything is written."""
    from ..fitting import Fit
    from ..ingest import detect, read_log, to_runs

    logs, fits = [], []
    for src in sources:
        src = str(src)
        k = detect(src) if kind in (None, "auto") else kind
        if k == "fit":
            fits.append(Fit.load(src))
            continue
        batch = read_log(src, k, progress)
        runs, notes = to_runs(batch, rename=rename, constants=constants, join=join)
        check_names(runs, batch.source)
        logs.append((batch, runs, notes + tuple(runs.notes)))
    return logs, fits


def ingest(sources: Sequence[str] | str, *, store: str | Path | None = None, kind: str = "auto", rename=None,
           constants=None, join=None, dry_run: bool = False,
           progress: Callable[[int, int], None] | None = None) -> IngestResult:
    """Append runs from logs (and fit records) to the store, all in one transaction.

    kind: "auto" (recognise each source), or one of tensorboard, lm-eval, wandb, mlflow, table, fit.
    rename: {"train/loss": "loss"}, old -> new as pandas (--map loss=train/loss); constants: {"params": 1.4e9}
    (--set); join: a side table of per-run columns (--join). dry_run: read, map and check everything, and say
    what would be added.
    """
    sources = [sources] if isinstance(sources, (str, Path)) else list(sources)
    if not sources:
        raise ScalingLawsError("give at least one source to ingest: a log folder or file, or dataset:NAME")
    path = store_path(store)
    logs, fits = _read_sources(sources, kind, rename, constants, join, progress)
    options = {k: v for k, v in (("map", rename), ("set", constants), ("join", join)) if v}
    if dry_run:
        return _dry_run(path, logs, fits)
    with connect(path, write=True, create=True) as con:
        with transaction(con):
            first = next_id(con, "ingests")
            done = tuple(add_runs(con, runs, ingest_id=first + i, kind=b.kind, source=b.source, files=b.files,
                                  options=options, notes=notes) for i, (b, runs, notes) in enumerate(logs))
            saved = tuple(_save_fit(con, f, path) for f in fits)
        total = one(con, "SELECT count(*) FROM runs")[0]
    return IngestResult(str(path), done, saved, False, int(total))


def _dry_run(path: Path, logs, fits) -> IngestResult:
    """What an ingest would add, from the same keys, without opening the store for writing."""
    from .db import columns
    from .write import row_keys

    known, total, cols = set(), 0, set()
    if path.exists():
        with connect(path) as con:
            known = {r[0] for r in con.execute("SELECT _key FROM runs").fetchall()}
            total = one(con, "SELECT count(*) FROM runs")[0]
            cols = set(columns(con))
    out = []
    for i, (b, runs, notes) in enumerate(logs, start=1):
        keys = row_keys(runs)
        added = len(set(keys) - known)
        known |= set(keys)
        out.append(Ingested(i, b.kind, b.source, b.files, len(runs), added, len(runs) - added, runs.n_runs,
                            tuple(n for n in runs.names if n not in cols), tuple(notes), ""))
    saved = tuple(SavedFit(0, f.law, str(f.data.get("source")), f.data.get("hash"), f.to_dict()["checksum"], None,
                           "would be stored", True) for f in fits)
    return IngestResult(str(path), tuple(out), saved, True, int(total))


def save_fit(fit, store: str | Path | None = None) -> SavedFit:
    path = store_path(store)
    with connect(path, write=True, create=True) as con:
        with transaction(con):
            return _save_fit(con, fit, path)


def load_fit(fit_id: int, store: str | Path | None = None):
    from ..fitting import Fit

    path = store_path(store)
    with connect(path) as con:
        found = one(con, "SELECT record FROM fits WHERE id = ?", [int(fit_id)])
        ids = [r[0] for r in con.execute("SELECT id FROM fits ORDER BY id").fetchall()]
    if not found:
        raise ScalingLawsError(f"the store {path} has no fit {fit_id} (its fits: {', '.join(map(str, ids)) or 'none'})")
    return Fit.from_dict(json.loads(found[0]), f"fit {fit_id} of {path}")


def describe(store: str | Path | None = None) -> StoreInfo:
    from .db import columns

    path = store_path(store)
    with connect(path) as con:
        fmt = one(con, "SELECT value FROM meta WHERE key = 'format'")[0]
        rows, runs = one(con, "SELECT count(*), count(DISTINCT run) FROM runs")
        cols = tuple((n, t) for n, t in columns(con).items() if not n.startswith("_"))
        ingests = tuple({"id": r[0], "time": r[1], "kind": r[2], "source": r[3], "rows_read": r[4],
                         "rows_added": r[5], "rows_skipped": r[6], "files": json.loads(r[7] or "[]"),
                         "notes": json.loads(r[8] or "[]"), "version": r[9]}
                        for r in con.execute("SELECT id, time, kind, source, rows_read, rows_added, rows_skipped, "
                                             "files, notes, version FROM ingests ORDER BY id").fetchall())
        fits = tuple({"id": r[0], "time": r[1], "law": r[2], "target": r[3], "source": r[4], "data_hash": r[5],
                      "rows_matched": r[6]}
                     for r in con.execute("SELECT id, time, law, target, source, data_hash, rows_matched FROM fits "
                                          "ORDER BY id").fetchall())
    return StoreInfo(str(path), fmt, int(rows), int(runs), cols, ingests, fits)


__all__ = ["FORMAT", "IngestResult", "Ingested", "SavedFit", "StoreInfo", "default_path", "describe", "fit_runs",
           "ingest", "load_fit", "read_store", "read_store_source", "save_fit"]
