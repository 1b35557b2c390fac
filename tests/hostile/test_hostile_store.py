"""The run store under damage and concurrency: foreign and damaged files, column names the store cannot keep, many
processes ingesting into one store at once while some are killed. Afterwards every row is there exactly once, or
the ingest that carried it said it failed."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hostile_corpus import ladder_csv

pytest.importorskip("duckdb")
SRC = str(Path(__file__).resolve().parents[2] / "src")
TRIALS = int(os.environ.get("SCALINGLAWS_STRESS_TRIALS", "3"))


def _store_file(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / "store.duckdb"
    if kind == "sqlite":
        import sqlite3

        con = sqlite3.connect(path)
        con.execute("CREATE TABLE runs (a INTEGER)")
        con.commit()
        con.close()
    elif kind == "random":
        path.write_bytes(random.Random(0).randbytes(16384))
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("params,tokens,loss\n1,2,3\n")
    elif kind == "folder":
        path.mkdir()
    elif kind in ("truncated", "foreign-duckdb", "zeroed-middle"):
        import duckdb

        if kind == "foreign-duckdb":
            con = duckdb.connect(str(path))
            con.execute("CREATE TABLE t (a INTEGER)")
            con.close()
        else:
            from scalinglaws.store import ingest

            ingest(["dataset:chinchilla_epoch"], store=path)
            data = bytearray(path.read_bytes())
            if kind == "truncated":
                data = data[:6000]
            else:
                data[len(data) // 3: len(data) // 3 + 8192] = bytes(8192)
            path.write_bytes(bytes(data))
    return path


DAMAGED = ["sqlite", "random", "empty", "text", "folder", "truncated", "foreign-duckdb", "zeroed-middle"]


@pytest.mark.parametrize("kind", DAMAGED)
@pytest.mark.parametrize("command", ["ingest", "store", "fit"])
def test_a_damaged_or_foreign_store_is_refused_as_such(sl, tmp_path, ladder, kind, command):
    path = _store_file(tmp_path, kind)
    before = path.read_bytes() if path.is_file() else None
    args = {"ingest": ["ingest", ladder, "--store", path], "store": ["store", "--store", path, "--json"],
            "fit": ["fit", f"store:{path}", "--json"]}[command]
    t0 = time.monotonic()
    outcome = sl(*args)
    if kind == "zeroed-middle" and outcome.code == 0:
        pytest.skip("the zeroed pages held nothing the command read")
    outcome.refused()
    assert "in use" not in outcome.errors[0]  # damage is not a lock held by another process
    assert time.monotonic() - t0 < 5  # refused at once, not after waiting for a lock
    if before is not None:
        assert path.read_bytes() == before  # left as it was


def test_a_sqlite_store_never_reaches_for_the_network(sl, tmp_path, ladder, monkeypatch):
    import socket

    def no_network(*a, **k):
        raise AssertionError("the store tried to reach the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    path = _store_file(tmp_path, "sqlite")
    sl("ingest", ladder, "--store", path).refused("SQLite", str(path))


@pytest.mark.parametrize("header, needle", [
    ("params,,loss", "has no name"), ("params, ,loss", "has no name"), ("params,_key,loss", "'_key'"),
    ("params,_row,loss", "'_row'"), ("params,_ingest,loss", "'_ingest'")])
def test_column_names_the_store_cannot_keep_are_refused(sl, tmp_path, header, needle):
    table = tmp_path / "t.csv"
    table.write_text(header + "\n1e8,1,2.0\n3e8,2,1.9\n")
    store = tmp_path / "s.duckdb"
    sl("ingest", table, "--store", store).refused(needle)
    assert not store.exists()


def test_a_user_key_column_never_doubles_the_rows(sl, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("run,params,tokens,loss,_key\na,1e8,1e9,2.0,x\nb,1e8,1e9,2.1,x\n")
    store = tmp_path / "s.duckdb"
    sl("ingest", table, "--store", store).refused("_key")
    assert sl("ingest", table, "--store", store, "--map", "key=_key").code == 0
    assert sl("ingest", table, "--store", store, "--map", "key=_key").code == 0
    from scalinglaws.store import read_store

    assert len(read_store(store)) == 2


# -- many writers ---------------------------------------------------------------------------------------------
def _sources(folder: Path, n: int, rows: int) -> list[Path]:
    paths = []
    for i in range(n):
        lines = ["run,params,tokens,loss"] + [f"s{i}_r{k},{1e7 * (k + 1):g},{1e9 * (i + 1):g},{2 + 0.001 * k:.4f}"
                                                for k in range(rows)]
        path = folder / f"source{i}.csv"
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
    twin = folder / "twin.csv"  # the rows of source 0 again: stored once
    twin.write_text(paths[0].read_text())
    return paths + [twin]


def _spawn(source: Path, store: Path):
    return subprocess.Popen([sys.executable, "-m", "scalinglaws", "ingest", str(source), "--store", str(store),
                             "--json"], env={**os.environ, "PYTHONPATH": SRC}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _one_trial(folder: Path, rng: random.Random, existing: bool) -> None:
    from scalinglaws.store import ingest, read_store

    store = folder / "store.duckdb"
    sources = _sources(folder, 4, 40)
    expected = {p: {f"s{0 if p.name == 'twin.csv' else int(p.stem[-1])}_r{k}" for k in range(40)} for p in sources}
    if existing:
        seed = folder / "seed.csv"
        seed.write_text(ladder_csv().replace("params,tokens,loss", "params,tokens,loss"))
        ingest([str(seed)], store=store)
    procs = {p: _spawn(p, store) for p in sources}
    victims = rng.sample(sources, 2)
    time.sleep(rng.uniform(0.2, 2.5))
    for p in victims:
        if procs[p].poll() is None:
            procs[p].send_signal(signal.SIGKILL)
    results = {}
    for p, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        results[p] = (proc.returncode, err)
        if proc.returncode not in (0, -signal.SIGKILL):  # refused: in one line, no traceback
            assert "Traceback" not in err and err.startswith("Error:"), err
    if not store.exists():
        assert all(code != 0 for code, _ in results.values())
        return
    rows = read_store(store)
    names = [r for r in rows["run"].tolist() if "_r" in str(r)]
    assert len(names) == len(set(names)), "a row was stored twice"
    present = set(names)
    for p, (code, err) in results.items():
        mine = expected[p] & present
        if code == 0:
            assert mine == expected[p], f"{p.name} said it succeeded but {len(expected[p] - mine)} rows are missing"
        elif p.name != "twin.csv" and p.name != "source0.csv":
            assert mine in (set(), expected[p]), f"{p.name} failed but left {len(mine)} of its rows"


@pytest.mark.parametrize("existing", [False, True], ids=["new-store", "existing-store"])
def test_concurrent_ingests_with_kills_keep_every_row_exactly_once(tmp_path, existing):
    rng = random.Random(1234 + existing)
    for trial in range(TRIALS):
        folder = tmp_path / f"trial{trial}"
        folder.mkdir()
        _one_trial(folder, rng, existing)


def test_two_ingests_creating_one_store_at_once_both_succeed(tmp_path):
    for trial in range(max(2, TRIALS)):
        folder = tmp_path / f"t{trial}"
        folder.mkdir()
        sources = _sources(folder, 2, 30)[:2]
        store = folder / "store.duckdb"
        procs = [_spawn(p, store) for p in sources]
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
        from scalinglaws.store import read_store

        assert len(read_store(store)) == 60
        assert sorted(p.name for p in folder.iterdir()) == ["source0.csv", "source1.csv", "store.duckdb", "twin.csv"]
