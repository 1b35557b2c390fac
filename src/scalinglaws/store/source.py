"""Reading the run store as a runs table: `store:` (the default store), `store:PATH`, with `?filters` after either.

`read_runs` routes `store:...` sources here (runs/io.py SCHEMES); its filters apply to the table returned, so
`store:runs.duckdb?family=pythia&params<1e9` works wherever a command takes data. The table has the store's
columns plus `ingest`, the id of the ingest each row came from (see `scalinglaws store`), so
`store:?ingest=3` selects one source.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import ScalingLawsError
from ..runs import Runs
from .db import connect, one, quote, store_path


def source_name(path: str | Path | None) -> str:
    return f"store:{store_path(path)}"


def same_store(source: str, path: str | Path) -> bool:
    """Whether a data source (`store:...`) names the store file at `path`."""
    if not source.startswith("store:"):
        return False
    return store_path(source[len("store:"):]).resolve() == Path(path).resolve()


def read_connection(con, source: str, *, keys: list[str] | None = None, with_keys: bool = False) -> Runs:
    """The runs table of an open store (all rows, or the rows with these keys in their order)."""
    from ..runs.validate import validate

    names = [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'runs' ORDER BY ordinal_position"
    ).fetchall()]
    select = ", ".join(quote(n) for n in names)
    if keys is None:
        table = _arrow(con.sql(f"SELECT {select} FROM runs ORDER BY _row"))
    else:
        import pyarrow as pa

        con.register("wanted", pa.table({"_key": keys, "_order": np.arange(len(keys))}))
        try:
            picked = ", ".join("r." + quote(n) for n in names)
            table = _arrow(con.sql(f"SELECT {picked} FROM wanted w JOIN runs r ON r._key = w._key "
                                   "ORDER BY w._order"))
        finally:
            con.unregister("wanted")
    if table.num_rows == 0:
        raise ScalingLawsError(f"the run store {source[len('store:'):]} holds no runs yet. Add some with "
                               "`scalinglaws ingest SOURCE`")
    cols = {}
    for name in table.column_names:
        col = table.column(name)
        if name == "_ingest":
            cols["ingest"] = np.asarray(col.to_numpy(zero_copy_only=False), dtype=float)
        elif name == "_key" and not with_keys:
            continue
        elif name != "_row":
            values = col.to_pylist()
            kind = str(col.type)
            if kind in ("double", "float", "int64", "int32"):
                cols[name] = np.array([np.nan if v is None else float(v) for v in values])
            elif kind == "bool":
                cols[name] = np.array([bool(v) if v is not None else False for v in values])
            else:
                cols[name] = np.array(["" if v is None else v for v in values], dtype=object)
    rows = np.asarray(table.column("_row").to_numpy(zero_copy_only=False))
    return validate(cols, source, rows, "row", dedupe=False)


def _arrow(relation):
    """A query's result as a pyarrow Table, across duckdb versions (to_arrow_table in newer ones, arrow before)."""
    fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
    return fetch()


def read_store(path: str | Path | None = None) -> Runs:
    with connect(path) as con:
        return read_connection(con, source_name(path))


def read_store_source(rest: str) -> Runs:
    """`store:` -> the default store; `store:PATH` -> that file (filters after '?' are applied by read_runs)."""
    return read_store(rest or None)


def fit_runs(fit) -> Runs | None:
    """The exact rows a stored fit was fitted to, when its data came from a store that pinned them (else None)."""
    source = str(fit.data.get("source", ""))
    if not source.startswith("store:"):
        return None
    path = store_path(source[len("store:"):])
    if not path.exists():
        return None
    with connect(path) as con:
        found = one(con, "SELECT row_keys FROM fits WHERE checksum = ?", [fit.to_dict()["checksum"]])
        if not found or found[0] is None:
            return None
        keys = json.loads(found[0])
        runs = read_connection(con, source, keys=keys)
    if len(runs) != len(keys):
        raise ScalingLawsError(f"{len(keys) - len(runs)} of the rows this fit was pinned to are missing from "
                               f"{path}: the store was edited outside scalinglaws")
    return runs
