"""The run store's file: where it is, opening it (with clear errors for a locked, damaged or foreign file), and its
tables.

A store is one DuckDB file (optional extra: pip install 'scalinglaws[store]'). Its tables:
    meta     format and version of the store
    ingests  one row per source ingested: kind, source, files and their SHA-256, time, rows added and skipped
    runs     the rows: `_row` (insertion order), `_ingest`, `_key` (SHA-256 of the row's values, for dedupe),
             then one column per runs-table column, added as new sources bring new columns
    fits     fit records, with their data hash and the `_key`s of the rows they were fitted to
DuckDB lets one process write a file at a time; a store held by another process is retried for LOCK_WAIT seconds,
then refused with the process that holds it.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from ..errors import ScalingLawsError, require
from ..records import format_of

FORMAT = format_of("store")
DEFAULT_NAME = "scalinglaws.duckdb"
ENV = "SCALINGLAWS_STORE"
LOCK_WAIT = 10.0  # seconds to wait for another process's write to finish

SCHEMA = (
    "CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    "CREATE TABLE ingests (id INTEGER PRIMARY KEY, time VARCHAR, kind VARCHAR, source VARCHAR, files VARCHAR, "
    "rows_read INTEGER, rows_added INTEGER, rows_skipped INTEGER, options VARCHAR, notes VARCHAR, version VARCHAR)",
    "CREATE TABLE runs (_row BIGINT, _ingest INTEGER, _key VARCHAR, run VARCHAR)",
    "CREATE TABLE fits (id INTEGER PRIMARY KEY, time VARCHAR, law VARCHAR, target VARCHAR, source VARCHAR, "
    "data_hash VARCHAR, checksum VARCHAR, rows_matched INTEGER, row_keys VARCHAR, record VARCHAR)",
)


def default_path() -> Path:
    """$SCALINGLAWS_STORE, else scalinglaws.duckdb in the current folder (a store belongs to a project)."""
    return Path(os.environ.get(ENV) or DEFAULT_NAME)


def store_path(path: str | Path | None) -> Path:
    return default_path() if path in (None, "") else Path(path)


def _duckdb():
    return require("duckdb", "the run store")


def quote(name: str) -> str:
    """A column name as a DuckDB identifier: any text, double quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def _holder(message: str) -> str:
    m = re.search(r"\(PID (\d+)\)", message)
    return f"process {m.group(1)}" if m else "another process"


# The store is a local file: DuckDB must never fetch or load an extension for it (a foreign file given as --store,
# a SQLite database say, would otherwise make it download a reader over the network).
CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file
_LOCKED = re.compile(r"could not set lock|conflicting lock", re.I)


def _kind_of_file(path: Path) -> str | None:
    """None for a DuckDB file; else what the file looks like, for the message that refuses it."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        return f"a file that cannot be read ({exc.strerror})"
    if head[8:12] == MAGIC:
        return None
    if head.startswith(b"SQLite format 3"):
        return "a SQLite database"
    if not head:
        return "an empty file"
    return "a file of another kind"


def _open(duckdb, path: Path, read_only: bool):
    """A connection, retried while another process holds the file for LOCK_WAIT seconds."""
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=CONFIG)
        except duckdb.Error as exc:
            text = str(exc)
            if _LOCKED.search(text):
                if time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
                raise ScalingLawsError(f"the run store {path} is in use by {_holder(text)} (waited {LOCK_WAIT:g} s). "
                                       "Let it finish, or close the program holding the file open") from None
            first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
            raise ScalingLawsError(f"{path} is not a readable DuckDB run store ({first}). It is damaged or another "
                                   "kind of file: move it aside and ingest again") from None


def _create(duckdb, path: Path) -> None:
    """Make a new, complete store at `path`, atomically: built in a file of its own and linked into place, so
    that a second process creating the same store at the same moment finds either no file or a whole store (the
    loser of the race discards its copy and opens the winner's), never one half made."""
    from .._version import __version__

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".new", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # DuckDB makes the file itself
    try:
        con = duckdb.connect(tmp, config=CONFIG)
        try:
            with transaction(con):
                for statement in SCHEMA:
                    con.execute(statement)
                con.execute("INSERT INTO meta VALUES ('format', ?), ('created_by', ?)",
                            [FORMAT, f"scalinglaws {__version__}"])
            con.execute("CHECKPOINT")
        finally:
            con.close()
        try:
            os.link(tmp, path)  # fails if the store appeared meanwhile: then that one is used
        except FileExistsError:
            pass
    finally:
        for leftover in (tmp, tmp + ".wal"):
            if os.path.lexists(leftover):
                os.unlink(leftover)


@contextmanager
def connect(path: str | Path | None = None, *, write: bool = False, create: bool = False):
    """An open connection to a checked store; closed on exit. `create` makes a new store where none exists."""
    duckdb = _duckdb()
    path = store_path(path)
    if not path.exists() and not create:
        raise ScalingLawsError(f"no run store at {path}. Create one with `scalinglaws ingest SOURCE --store {path}`")
    if not path.exists() and not path.parent.exists():
        raise ScalingLawsError(f"--store {path}: the folder {path.parent} does not exist. Create it first")
    if path.is_dir():
        raise ScalingLawsError(f"--store {path} is a folder; give the store's file, e.g. {path / DEFAULT_NAME}")
    if not path.exists():
        try:
            _create(duckdb, path)
        except OSError as exc:
            raise ScalingLawsError(f"--store {path}: could not create the store ({exc.strerror}). Choose a "
                                   "writable folder") from None
    foreign = _kind_of_file(path)
    if foreign is not None:
        raise ScalingLawsError(f"{path} is not a readable DuckDB run store (it is {foreign}). It is damaged or "
                               "another kind of file: move it aside and ingest again, or give another --store path")
    con = _open(duckdb, path, read_only=not write)
    try:
        check(con, path)
        yield con
    finally:
        con.close()


def check(con, path: Path) -> None:
    """A DuckDB file that is a store of this format."""
    duckdb = _duckdb()
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        fmt = one(con, "SELECT value FROM meta WHERE key = 'format'") if "meta" in tables else None
    except duckdb.Error as exc:
        raise ScalingLawsError(f"{path} could not be read as a run store ({str(exc).splitlines()[0]}). It is damaged: "
                               "move it aside and ingest again") from None
    if fmt is None or not {"ingests", "runs", "fits"} <= tables:
        raise ScalingLawsError(f"{path} is a DuckDB database but not a scalinglaws run store. Give another --store "
                               "path")
    if fmt[0] != FORMAT:
        raise ScalingLawsError(f"{path} is a run store of format {fmt[0]}; this version reads {FORMAT}. Ingest the "
                               "sources again into a new store")


@contextmanager
def transaction(con):
    """All or nothing: any failure, Ctrl-C included, rolls back every change made inside."""
    con.begin()
    try:
        yield con
    except BaseException:
        con.rollback()
        raise
    con.commit()


def one(con, sql: str, params=None):
    """The first row of a query, or None. (The whole result is fetched, so the connection is free again.)"""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def columns(con) -> dict[str, str]:
    """Column name -> DuckDB type of the runs table, in table order."""
    return {r[0]: r[1] for r in con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'runs' "
        "ORDER BY ordinal_position").fetchall()}
