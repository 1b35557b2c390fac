"""Malformed experiment logs and runs tables, through `scalinglaws ingest` and `scalinglaws fit`: each is refused in
one line that names the file (and the line, row or column where there is one), never garbled, never a traceback."""

from __future__ import annotations

import gzip
import json

import pytest
from hostile_corpus import ladder_csv

LAT = "r\xe9seau".encode("latin-1")


def j(obj) -> bytes:
    return json.dumps(obj).encode()


def hist(*rows, **run) -> bytes:
    return j([{"name": "a", **run, "history": list(rows)}])


LMEVAL_OK = {"results": {"hellaswag": {"acc": 0.5}}, "config": {"model_args": "pretrained=m"}}

# (id, {file: bytes}, the source (a file or "." for the folder), reader, what the Error line must name)
WANDB = [
    ("panel-short-row", {"p.csv": b"Step,a - loss,b - loss\n1,2.0\n2,1.5,1.4\n"}, "p.csv", "wandb", "line 2"),
    ("panel-long-row", {"p.csv": b"Step,a - loss\n1,2.0,9,9\n"}, "p.csv", "wandb", "line 2"),
    ("panel-step-text", {"p.csv": b"Step,a - loss\nten,2.0\n"}, "p.csv", "wandb", "line 2"),
    ("panel-no-run-metric", {"p.csv": b"Step,a - loss,loss\n1,2,3\n"}, "p.csv", "wandb", "'loss'"),
    ("panel-latin1", {"p.csv": b"Step," + LAT + b" - loss\n1,2.0\n"}, "p.csv", "wandb", "p.csv"),
    ("panel-latin1-cell", {"p.csv": b"Step,a - loss\n1,2.0\n"[:-1] + b"\n2," + LAT + b"\n"}, "p.csv", "wandb",
     "p.csv"),
    ("panel-header-only", {"p.csv": b"Step,a - loss\n"}, "p.csv", "wandb", "p.csv"),
    ("runs-short-row", {"r.csv": b"Name,State,loss\nx\n"}, "r.csv", "wandb", "line 2"),
    ("empty-csv", {"e.csv": b""}, "e.csv", "wandb", "e.csv"),
    ("not-export-csv", {"x.csv": b"a,b\n1,2\n"}, "x.csv", "wandb", "x.csv"),
    ("step-null", {"h.json": j([{"_step": None, "loss": 1.0}])}, "h.json", "wandb", "_step"),
    ("step-text", {"h.json": j([{"_step": "abc", "loss": 1.0}])}, "h.json", "wandb", "_step"),
    ("step-list", {"h.json": j([{"_step": [1], "loss": 1.0}])}, "h.json", "wandb", "_step"),
    ("step-bool", {"h.json": j([{"_step": True, "loss": 1.0}])}, "h.json", "wandb", "_step"),
    ("step-object", {"h.json": j([{"_step": {"a": 1}, "loss": 1.0}])}, "h.json", "wandb", "_step"),
    ("history-int", {"h.json": j([{"name": "a", "history": 5}])}, "h.json", "wandb", "history"),
    ("history-text", {"h.json": j([{"name": "a", "history": "rows"}])}, "h.json", "wandb", "history"),
    ("history-object", {"h.json": j([{"name": "a", "history": {"_step": 1}}])}, "h.json", "wandb", "history"),
    ("history-of-numbers", {"h.json": hist(1, 2)}, "h.json", "wandb", "history row 1"),
    ("history-of-text", {"h.json": hist("x")}, "h.json", "wandb", "history row 1"),
    ("history-of-lists", {"h.json": hist([1, 2])}, "h.json", "wandb", "history row 1"),
    ("history-of-nulls", {"h.json": hist(None)}, "h.json", "wandb", "history row 1"),
    ("history-row-step-null", {"h.json": hist({"_step": 1, "loss": 2}, {"_step": None, "loss": 1})}, "h.json",
     "wandb", "history row 2"),
    ("config-list", {"h.json": hist({"_step": 1, "loss": 2}, config=[1, 2])}, "h.json", "wandb", "config"),
    ("config-text", {"h.json": hist({"_step": 1, "loss": 2}, config="lr=1")}, "h.json", "wandb", "config"),
    ("config-number", {"h.json": hist({"_step": 1, "loss": 2}, config=3)}, "h.json", "wandb", "config"),
    ("summary-list", {"h.json": j([{"name": "a", "summary": [1, 2]}])}, "h.json", "wandb", "summary"),
    ("summary-text", {"h.json": j([{"name": "a", "summary": "x"}])}, "h.json", "wandb", "summary"),
    ("top-number", {"h.json": b"5"}, "h.json", "wandb", "h.json"),
    ("top-text", {"h.json": b'"rows"'}, "h.json", "wandb", "h.json"),
    ("top-empty-list", {"h.json": b"[]"}, "h.json", "wandb", "h.json"),
    ("top-list-of-numbers", {"h.json": b"[1, 2]"}, "h.json", "wandb", "h.json"),
    ("runs-not-list", {"h.json": j({"runs": 5})}, "h.json", "wandb", "h.json"),
    ("invalid-json", {"h.json": b'[{"_step": 1,'}, "h.json", "wandb", "h.json"),
    ("deep-json", {"h.json": b"[" * 100_000 + b"]" * 100_000}, "h.json", "wandb", "h.json"),
    ("latin1-json", {"h.json": b'[{"_step": 1, "' + LAT + b'": 2.0}]'}, "h.json", "wandb", "h.json"),
    ("latin1-jsonl", {"h.jsonl": b'{"_step": 1, "' + LAT + b'": 2.0}\n'}, "h.jsonl", "wandb", "h.jsonl"),
    ("jsonl-bad-line", {"h.jsonl": b'{"_step": 1, "loss": 2}\n{"_step": 2,\n'}, "h.jsonl", "wandb", "line 2"),
    ("jsonl-line-not-object", {"h.jsonl": b'{"_step": 1, "loss": 2}\n[1, 2]\n'}, "h.jsonl", "wandb", "h.jsonl"),
    ("folder-of-nothing", {"notes.txt": b"hello"}, ".", "wandb", "W&B"),
]

LMEVAL = [
    ("config-text", {"r.json": j({**LMEVAL_OK, "config": "pretrained=m"})}, "r.json", "lm-eval", "config"),
    ("config-list", {"r.json": j({**LMEVAL_OK, "config": ["pretrained=m"]})}, "r.json", "lm-eval", "config"),
    ("config-number", {"r.json": j({**LMEVAL_OK, "config": 7})}, "r.json", "lm-eval", "config"),
    ("limit-text", {"r.json": j({**LMEVAL_OK, "config": {"model_args": "pretrained=m", "limit": "ten"}})}, "r.json",
     "lm-eval", "limit"),
    ("limit-list", {"r.json": j({**LMEVAL_OK, "config": {"model_args": "pretrained=m", "limit": [1]}})}, "r.json",
     "lm-eval", "limit"),
    ("limit-bool", {"r.json": j({**LMEVAL_OK, "config": {"model_args": "pretrained=m", "limit": True}})}, "r.json",
     "lm-eval", "limit"),
    ("no-results", {"r.json": j({**LMEVAL_OK, "results": {}})}, "r.json", "lm-eval", "r.json"),
    ("results-without-numbers", {"r.json": j({**LMEVAL_OK, "results": {"t": {"alias": "t"}}})}, "r.json", "lm-eval",
     "r.json"),
    ("results-task-number", {"r.json": j({**LMEVAL_OK, "results": {"t": 5}})}, "r.json", "lm-eval", "r.json"),
    ("results-list", {"r.json": j({**LMEVAL_OK, "results": [1]})}, "r.json", "lm-eval", "r.json"),
    ("config-only", {"r.json": j({"config": {"model_args": "pretrained=m"}})}, "r.json", "wandb", "no metric"),
    ("no-model", {"r.json": j({**LMEVAL_OK, "config": {}})}, "r.json", "lm-eval", "model"),
    ("model-args-list", {"r.json": j({**LMEVAL_OK, "config": {"model_args": [1]}})}, "r.json", "lm-eval", "model"),
    ("invalid-json", {"r.json": b'{"results": '}, "r.json", "lm-eval", "r.json"),
    ("latin1", {"r.json": j(LMEVAL_OK).replace(b"hellaswag", LAT)}, "r.json", "lm-eval", "r.json"),
    ("deep", {"r.json": b"[" * 100_000 + b"]" * 100_000}, "r.json", "lm-eval", "r.json"),
    ("gzip-garbage", {"r.json.gz": b"not gzip at all"}, "r.json.gz", "lm-eval", "r.json.gz"),
    ("gzip-latin1", {"r.json.gz": gzip.compress(j(LMEVAL_OK).replace(b"hellaswag", LAT))}, "r.json.gz", "lm-eval",
     "r.json.gz"),
    ("folder-without-results", {"a/x.json": j({"a": 1})}, ".", "lm-eval", "lm-evaluation-harness"),
    ("empty-folder", {"a/x.txt": b""}, ".", "lm-eval", ".json"),
]


def _mlrun(metrics=None, params=None, meta=b"run_id: r1\nrun_name: r1\n", name="r1") -> dict:
    files = {f"0/{name}/meta.yaml": meta}
    for k, v in (metrics or {}).items():
        files[f"0/{name}/metrics/{k}"] = v
    for k, v in (params or {}).items():
        files[f"0/{name}/params/{k}"] = v
    if not metrics:
        files[f"0/{name}/metrics/.keep"] = None  # an empty metrics folder
    return files


MLFLOW = [
    ("ragged-line", _mlrun({"loss": b"1 2.0 0\n2 1.5\n3\n"}), ".", "mlflow", "line 3"),
    ("value-text", _mlrun({"loss": b"1 two 0\n"}), ".", "mlflow", "line 1"),
    ("meta-latin1", _mlrun({"loss": b"1 2.0 0\n"}, meta=b"run_id: r1\nrun_name: " + LAT + b"\n"), ".", "mlflow",
     "meta.yaml"),
    ("param-latin1", _mlrun({"loss": b"1 2.0 0\n"}, {"lr": LAT}), ".", "mlflow", "lr"),
    ("metric-latin1", _mlrun({"loss": b"1 2.0 0\n" + LAT + b"\n"}), ".", "mlflow", "loss"),
    ("no-metrics", _mlrun(params={"lr": b"0.1"}), ".", "mlflow", "no metric"),
    ("no-runs", {"0/readme.txt": b"x"}, ".", "mlflow", "no MLflow runs"),
    ("csv-latin1", {"m.csv": b"run_id,metrics.loss,params." + LAT + b"\nab,1.0,2\n"}, "m.csv", "mlflow", "m.csv"),
    ("csv-without-run-id", {"m.csv": b"metrics.loss\n1.0\n"}, "m.csv", "mlflow", "run_id"),
]

TABLES = [
    ("latin1-cell", {"t.csv": ladder_csv("family", "x").encode().replace(b",x\n", b"," + LAT + b"\n")}, "t.csv",
     "table", "line 2"),
    ("latin1-header", {"t.csv": ladder_csv("family", "x").encode().replace(b"family", LAT)}, "t.csv", "table",
     "header"),
    ("binary-garbage", {"t.csv": bytes(range(256)) * 8}, "t.csv", "table", "t.csv"),
    ("non-numeric-params", {"t.csv": b"params,tokens,loss\nseven,1e9,2.0\n"}, "t.csv", "table", "line 2"),
    ("infinite-loss", {"t.csv": b"params,tokens,loss\n1e8,1e9,inf\n"}, "t.csv", "table", "line 2"),
    ("negative-params", {"t.csv": b"params,tokens,loss\n-1e8,1e9,2\n"}, "t.csv", "table", "line 2"),
    ("empty-file", {"t.csv": b""}, "t.csv", "table", "t.csv"),
    ("header-only", {"t.csv": b"params,tokens,loss\n"}, "t.csv", "table", "t.csv"),
    ("ragged-csv", {"t.csv": b"params,tokens,loss\n1e8,1e9\n"}, "t.csv", "table", "t.csv"),
    ("overflowing-flops", {"t.csv": b"params,tokens,loss\n1e300,1e10,2\n1e8,1e9,3\n"}, "t.csv", "table", "line 2"),
    ("json-deep", {"t.json": b"[" * 100_000 + b"]" * 100_000}, "t.json", "table", "t.json"),
    ("json-not-rows", {"t.json": b'{"a": 1}'}, "t.json", "table", "t.json"),
    ("json-latin1", {"t.json": b'[{"params": 1e8, "tokens": 1e9, "loss": 2, "f": "' + LAT + b'"}]'}, "t.json",
     "table", "t.json"),
    ("jsonl-bad-line", {"t.jsonl": b'{"params": 1e8}\n{"params": \n'}, "t.jsonl", "table", "t.jsonl"),
    ("parquet-garbage", {"t.parquet": b"PAR1 not really"}, "t.parquet", "table", "t.parquet"),
    ("gzip-garbage", {"t.csv.gz": b"not gzip"}, "t.csv.gz", "table", "t.csv.gz"),
    ("unknown-suffix", {"t.xlsx": b"PK"}, "t.xlsx", "table", "t.xlsx"),
]

TENSORBOARD = [
    ("garbage-events", {"run/events.out.tfevents.1.host": b"\x00" * 64}, ".", "tensorboard", ""),
    ("latin1-events", {"run/events.out.tfevents.1.host": LAT * 20}, ".", "tensorboard", ""),
]

CASES = [pytest.param(*c[1:], id=f"{c[3]}-{c[0]}") for c in WANDB + LMEVAL + MLFLOW + TABLES + TENSORBOARD]
VALID_AS_TABLES = {"wandb-not-export-csv", "mlflow-csv-without-run-id"}  # read as they are when no reader is named


def _write(root, files: dict) -> None:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if data is not None:
            path.write_bytes(data)


@pytest.mark.parametrize("files, source, reader, needle", CASES)
@pytest.mark.parametrize("how", ["named", "auto"])
def test_a_malformed_log_is_refused_in_one_line(sl, tmp_path, request, files, source, reader, needle, how):
    root = tmp_path / "logs"
    root.mkdir()
    _write(root, files)
    store = tmp_path / "store.duckdb"
    named = how == "named"
    if not named and f"{reader}-{request.node.callspec.id.split('-', 2)[-1]}" in VALID_AS_TABLES:
        pytest.skip("a valid runs table when no reader is named")
    args = ["ingest", root / source, "--store", store] + (["--from", reader] if named else [])
    sl(*args).refused(*([needle] if named else []))
    assert not store.exists()  # nothing was written


@pytest.mark.parametrize("files, source, reader, needle", [c for c in CASES if c.values[2] == "table"])
def test_a_malformed_table_is_refused_by_fit_in_one_line(sl, tmp_path, files, source, reader, needle):
    _write(tmp_path, files)
    sl("fit", tmp_path / source, "--json").refused(needle)


def test_latin1_labels_are_never_stored_garbled(sl, tmp_path):
    """Text that is not UTF-8 is refused, in the store too: no label is ever kept as b'r\\xe9seau'."""
    table = tmp_path / "t.csv"
    table.write_bytes(ladder_csv("family", "x").encode().replace(b",x\n", b"," + LAT + b"\n"))
    store = tmp_path / "s.duckdb"
    sl("ingest", table, "--store", store).refused("family", "UTF-8")
    assert not store.exists()
    table.write_bytes(ladder_csv("family", "x").encode().replace(b",x\n", "," .encode() + "réseau\n".encode()))
    assert sl("ingest", table, "--store", store).code == 0
    from scalinglaws.store import read_store

    assert set(read_store(store)["family"]) == {"réseau"}
