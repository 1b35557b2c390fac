"""What a training ladder writes to the run store: its evaluation points as they happen, and its forecasts.

The store keeps one writer (DuckDB takes one per file), so every point goes through `append_points`, each call
one transaction: a point is in the store whole or not at all. A point is known by its run and step: points whose
(run, step) the store already holds are left out, so a rung resumed from a checkpoint that replays its points
never writes one twice.

Forecasts live in a table of their own, `ladder_forecasts` (made on first use; older readers ignore it): the
forecast of a held-back rung made before it was trained, and its score once it has been.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..runs import Runs
from .db import columns, connect, one, store_path, transaction
from .write import add_runs, next_id, now

FORECASTS = ("CREATE TABLE IF NOT EXISTS ladder_forecasts (id INTEGER PRIMARY KEY, time VARCHAR, plan VARCHAR, "
             "run VARCHAR, fit_id INTEGER, law VARCHAR, prediction DOUBLE, lower DOUBLE, upper DOUBLE, "
             "level DOUBLE, observed DOUBLE, error DOUBLE, inside BOOLEAN, record VARCHAR)")


def _table(points: Sequence[dict]) -> Runs:
    names = list(dict.fromkeys(k for p in points for k in p))
    cols = {}
    for name in names:
        values = [p.get(name) for p in points]
        if all(isinstance(v, bool) for v in values):
            cols[name] = np.array(values, dtype=bool)
        elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            cols[name] = np.array(values, dtype=float)
        else:
            cols[name] = np.array(["" if v is None else str(v) for v in values], dtype=object)
    return Runs(cols, source="ladder")


def stored_steps(con, run: str) -> set[float]:
    if "step" not in columns(con):
        return set()
    return {r[0] for r in con.execute("SELECT step FROM runs WHERE run = ? AND step IS NOT NULL", [run]).fetchall()}


def append_points(points: Sequence[dict], store: str | Path | None, *, source: str) -> int:
    """Add evaluation points (dicts with at least run and step) not already stored; returns how many were added."""
    if not points:
        return 0
    path = store_path(store)
    with connect(path, write=True, create=True) as con:
        with transaction(con):
            known = {run: stored_steps(con, run) for run in {p["run"] for p in points}}
            new = [p for p in points if float(p["step"]) not in known[p["run"]]]
            if not new:
                return 0
            add_runs(con, _table(new), ingest_id=next_id(con, "ingests"), kind="ladder", source=source)
    return len(new)


def steps_of(store: str | Path | None, runs: Sequence[str]) -> dict[str, set[float]]:
    """The steps the store holds for each run (empty sets where the store does not exist yet)."""
    path = store_path(store)
    if not path.exists():
        return {r: set() for r in runs}
    with connect(path) as con:
        return {r: stored_steps(con, r) for r in runs}


def save_forecast(store: str | Path | None, *, plan: str, run: str, record: dict, fit=None) -> int:
    """Keep a forecast (and the fit it came from) in one transaction; returns its id."""
    from .write import save_fit

    path = store_path(store)
    with connect(path, write=True, create=True) as con:
        with transaction(con):
            con.execute(FORECASTS)
            fit_id = save_fit(con, fit, path).id if fit is not None else None
            fid = next_id(con, "ladder_forecasts")
            con.execute("INSERT INTO ladder_forecasts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [fid, now(), plan, run, fit_id, record.get("law"), record.get("prediction"),
                         record.get("lower"), record.get("upper"), record.get("level"), record.get("observed"),
                         record.get("error"), record.get("inside"), json.dumps(record)])
    return fid


def score_forecast(store: str | Path | None, forecast_id: int, record: dict) -> None:
    """Add the observed value and its score to a stored forecast."""
    with connect(store_path(store), write=True) as con:
        with transaction(con):
            con.execute("UPDATE ladder_forecasts SET observed = ?, error = ?, inside = ?, record = ? WHERE id = ?",
                        [record.get("observed"), record.get("error"), record.get("inside"), json.dumps(record),
                         int(forecast_id)])


def forecasts(store: str | Path | None, plan: str | None = None) -> list[dict]:
    """The stored forecasts (of one plan), oldest first, each with its id."""
    path = store_path(store)
    if not path.exists():
        return []
    with connect(path) as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if "ladder_forecasts" not in tables:
            return []
        sql = "SELECT id, record FROM ladder_forecasts" + (" WHERE plan = ?" if plan else "") + " ORDER BY id"
        return [{"id": r[0], **json.loads(r[1])} for r in con.execute(sql, [plan] if plan else []).fetchall()]


def has_rows(store: str | Path | None) -> bool:
    path = store_path(store)
    if not path.exists():
        return False
    with connect(path) as con:
        return bool(one(con, "SELECT count(*) FROM runs")[0])
