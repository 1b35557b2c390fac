"""The run store: round trips, deduplication, provenance, transactions (an interrupted ingest changes nothing),
locked and damaged files, store: sources with filters, and fits pinned to their rows."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from test_ingest import tb_simple_run

import scalinglaws as sl
from scalinglaws.cli.app import main
from scalinglaws.errors import ScalingLawsError
from scalinglaws.store import describe, fit_runs, ingest, load_fit, read_store, save_fit

pytest.importorskip("duckdb", reason="the store extra (duckdb) is not installed")


def state(path):
    """Everything a store holds, to compare before and after."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in ("meta", "ingests", "runs", "fits")}
    finally:
        con.close()


def test_round_trip_keeps_values_types_and_order(tmp_path):
    store = tmp_path / "s.duckdb"
    result = ingest(["dataset:chinchilla_epoch"], store=store)
    assert result.rows == 245 and result.ingests[0].rows_added == 245
    original = sl.load_dataset("chinchilla_epoch")
    back = sl.read_runs(f"store:{store}")
    for col in ("params", "tokens", "loss", "flops"):
        np.testing.assert_array_equal(back[col], original[col])
    assert list(back["run"]) == list(original["run"])
    assert back["epoch_excluded"].dtype == bool and back["epoch_excluded"].sum() == original["epoch_excluded"].sum()
    assert back.source == f"store:{store}" and set(back["ingest"]) == {1.0}
    assert len(sl.read_runs(f"store:{store}?epoch_excluded=false&params<1e9")) == int(
        ((~original["epoch_excluded"]) & (original["params"] < 1e9)).sum())


def test_store_sources_filter_and_fail_clearly(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ingest(["dataset:chinchilla_epoch"])  # the default store: ./scalinglaws.duckdb
    assert len(sl.read_runs("store:")) == 245 and (tmp_path / "scalinglaws.duckdb").exists()
    monkeypatch.setenv("SCALINGLAWS_STORE", str(tmp_path / "other.duckdb"))
    with pytest.raises(ScalingLawsError, match="no run store at .*other.duckdb"):
        sl.read_runs("store:")
    with pytest.raises(ScalingLawsError, match="column 'nope' is missing from store:scalinglaws.duckdb"):
        sl.read_runs("store:scalinglaws.duckdb?nope=1")
    with pytest.raises(ScalingLawsError, match="is not of the form COLUMN OP VALUE"):
        sl.read_runs("store:scalinglaws.duckdb?params~1")
    with pytest.raises(ScalingLawsError, match="leaves no rows"):
        sl.read_runs("store:scalinglaws.duckdb?params>1e15")


def test_dedupe_and_provenance(tmp_path):
    store = tmp_path / "s.duckdb"
    logs = tmp_path / "logs"
    tb_simple_run(logs / "run", {s: {"loss": 4.0 - s / 10} for s in range(5)}, suffix=".a")
    first = ingest([str(logs)], store=store).ingests[0]
    event = next(logs.rglob("*tfevents*"))
    assert first.files == ((str(event), hashlib.sha256(event.read_bytes()).hexdigest()),)
    again = ingest([str(logs)], store=store)
    assert again.ingests[0].rows_added == 0 and again.ingests[0].rows_skipped == 5 and again.rows == 5
    tb_simple_run(logs / "run", {s: {"loss": 4.0 - s / 10} for s in range(5, 8)}, suffix=".b")  # the run went on
    grown = ingest([str(logs)], store=store)
    assert grown.ingests[0].rows_added == 3 and grown.rows == 8
    info = describe(store)
    assert [i["rows_added"] for i in info.ingests] == [5, 0, 3] and info.runs == 1
    assert all(i["time"].endswith("+00:00") and i["kind"] == "tensorboard" for i in info.ingests)
    assert len(info.ingests[2]["files"]) == 2
    assert list(read_store(store)["step"]) == list(range(8))


def test_bad_input_fails_before_anything_is_written(tmp_path):
    store = tmp_path / "s.duckdb"
    junk = tmp_path / "junk.json"
    junk.write_text("{ not json")
    with pytest.raises(ScalingLawsError):
        ingest(["dataset:chinchilla_epoch", str(junk)], store=store)
    assert not store.exists()
    ingest(["dataset:chinchilla_epoch"], store=store)
    before = state(store)
    text = tmp_path / "text.csv"
    text.write_text("run,params,tokens,loss,epoch_excluded\nx,1e8,1e9,3.0,maybe\n")
    with pytest.raises(ScalingLawsError, match="column 'epoch_excluded' holds true/false values in the store but "
                                               "text in .*text.csv. Rename it"):
        ingest([str(text)], store=store)
    assert state(store) == before


def test_an_interrupted_ingest_leaves_the_store_as_it_was(tmp_path, monkeypatch):
    store = tmp_path / "s.duckdb"
    ingest(["dataset:chinchilla_epoch"], store=store)
    before = state(store)
    import scalinglaws.store as store_module

    real = store_module.add_runs
    calls = []

    def add_then_interrupt(con, runs, **kw):
        out = real(con, runs, **kw)  # the first source is written (new columns and rows) ...
        calls.append(out)
        if len(calls) == 1:
            raise KeyboardInterrupt  # ... then Ctrl-C before the second
        return out

    monkeypatch.setattr(store_module, "add_runs", add_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        ingest(["dataset:porian_isoflop", "dataset:multipower_lr_curves"], store=store)
    assert calls and state(store) == before  # rows, new columns and the ingest record all rolled back


def test_a_killed_process_leaves_the_store_as_it_was(tmp_path):
    store = tmp_path / "s.duckdb"
    ingest(["dataset:chinchilla_epoch"], store=store)
    before = state(store)
    script = textwrap.dedent(f"""
        import os
        import scalinglaws.store as s
        real = s.add_runs
        def add_then_die(con, runs, **kw):
            real(con, runs, **kw)
            os._exit(9)  # the process dies inside the transaction, after writing
        s.add_runs = add_then_die
        s.ingest(["dataset:porian_isoflop"], store={str(store)!r})
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 9, proc.stderr
    assert state(store) == before


def test_locked_store(tmp_path, monkeypatch, capsys):
    store = tmp_path / "s.duckdb"
    ingest(["dataset:chinchilla_epoch"], store=store)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time, duckdb
        con = duckdb.connect({str(store)!r})
        print("held", flush=True)
        time.sleep(20)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setattr("scalinglaws.store.db.LOCK_WAIT", 0.3)
        with pytest.raises(ScalingLawsError, match=rf"is in use by process {holder.pid} \(waited 0.3 s\)"):
            ingest(["dataset:porian_isoflop"], store=store)
        assert main(["fit", f"store:{store}", "--law", "chinchilla"]) == 1
        err = capsys.readouterr().err
        assert err.startswith("Error: the run store") and "in use by process" in err
    finally:
        holder.kill()
        holder.wait()
    assert len(read_store(store)) == 245


def test_damaged_and_foreign_files(tmp_path):
    import duckdb

    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"this is not a database" * 50)
    with pytest.raises(ScalingLawsError, match="is not a readable DuckDB run store .*move it aside"):
        read_store(junk)
    with pytest.raises(ScalingLawsError, match="is not a readable DuckDB run store"):
        ingest(["dataset:chinchilla_epoch"], store=junk)
    assert junk.read_bytes() == b"this is not a database" * 50
    good = tmp_path / "good.duckdb"
    ingest(["dataset:chinchilla_epoch"], store=good)
    cut = tmp_path / "cut.duckdb"
    cut.write_bytes(good.read_bytes()[:6000])
    with pytest.raises(ScalingLawsError, match="run store"):
        read_store(cut)
    foreign = tmp_path / "foreign.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE t (a INTEGER)")
    con.close()
    with pytest.raises(ScalingLawsError, match="a DuckDB database but not a scalinglaws run store"):
        read_store(foreign)
    with pytest.raises(ScalingLawsError, match="the folder .* does not exist"):
        ingest(["dataset:chinchilla_epoch"], store=tmp_path / "no" / "s.duckdb")


def test_fits_are_pinned_to_the_rows_they_used(tmp_path):
    store = tmp_path / "s.duckdb"
    ingest(["dataset:chinchilla_epoch"], store=store)
    fit = sl.fit(f"store:{store}", "chinchilla", where=["epoch_excluded=false"], bootstrap=50, seed=0)
    saved = save_fit(fit, store)
    assert saved.new and saved.rows_matched == 240
    assert not save_fit(fit, store).new  # the same record is stored once
    ingest(["dataset:porian_isoflop"], store=store)  # more runs arrive: re-reading the source now differs
    rows = fit_runs(fit)
    assert len(rows) == 240 and rows.hash(["params", "tokens", "loss", "run"]) == fit.data["hash"]
    from scalinglaws.plots.fitdata import fit_data

    fd = fit_data(fit)
    assert fd.pinned and fd.matches
    back = load_fit(saved.id, store)
    assert back.to_dict() == fit.to_dict()
    outside = sl.fit("dataset:chinchilla_epoch", "chinchilla", seed=0)
    assert save_fit(outside, store).rows_matched is None
    assert [f["rows_matched"] for f in describe(store).fits] == [240, None]


def test_a_fit_from_a_filtered_store_source_is_pinned(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    logs = tmp_path / "logs"
    tb_simple_run(logs / "run", {s: {"loss": 4.0 - s / 10} for s in range(3)})
    ingest([str(logs), "dataset:chinchilla_epoch"])
    fit = sl.fit("store:?ingest=2", "chinchilla", seed=0)  # the '?' filter is kept with the fit's filters
    assert fit.data["where"] == ("ingest=2",) and save_fit(fit).rows_matched == 245


def test_ingest_and_store_commands(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    logs = tmp_path / "logs"
    tb_simple_run(logs / "n1e8", {s: {"train/loss": 4.0 - s / 10} for s in range(3)})
    assert main(["ingest", str(logs), "--set", "params=1e8", "--map", "loss=train/loss", "--json"]) == 0
    out = capsys.readouterr()
    data = json.loads(out.out)
    assert out.err == ""  # no progress bar, no chatter under --json
    assert data["ingests"][0]["rows_added"] == 3 and data["rows"] == 3
    assert main(["ingest", "dataset:chinchilla_epoch", "--dry-run"]) == 0
    assert "dry run: nothing written" in capsys.readouterr().out and len(read_store()) == 3
    assert main(["fit", "dataset:chinchilla_epoch", "--law", "chinchilla", "-o", "fit.json"]) == 0
    assert main(["ingest", "fit.json", "dataset:chinchilla_epoch"]) == 0
    text = capsys.readouterr().out
    assert "fit 1: chinchilla on dataset:chinchilla_epoch" in text and "now holds 248 rows" in text
    assert main(["store", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert [i["kind"] for i in info["ingests"]] == ["tensorboard", "table"] and info["fits"][0]["law"] == "chinchilla"
    assert main(["store"]) == 0
    assert "ingests" in capsys.readouterr().out
    assert main(["store", "--fit", "1", "-o", "back.json"]) == 0
    assert sl.Fit.load(tmp_path / "back.json").to_dict() == sl.Fit.load(tmp_path / "fit.json").to_dict()
    capsys.readouterr()


@pytest.mark.parametrize("args, message", [
    (["ingest", "missing_dir"], "missing_dir: no such file or folder"),
    (["ingest", "dataset:chinchilla_epoch", "--from", "csv"], "--from csv: unknown source"),
    (["ingest", "dataset:chinchilla_epoch", "--set", "params"], "--set 'params' is not COLUMN=VALUE"),
    (["store", "--store", "nothere.duckdb"], "no run store at nothere.duckdb"),
    (["store", "--fit", "1"], "--fit needs --output"),
])
def test_command_errors(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "scalinglaws.duckdb").exists()


def test_notebook_views(tmp_path):
    store = tmp_path / "s.duckdb"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = ingest(["dataset:chinchilla_epoch"], store=store)
    assert "chinchilla_epoch" in result._repr_html_() and "s.duckdb" in describe(store)._repr_html_()
