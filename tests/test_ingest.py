"""Experiment logs into the runs table: each reader against logs written by the tools' own writers or formats, the
real lm-eval outputs of Pythia, and the clear errors for malformed logs."""

from __future__ import annotations

import csv
import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from scalinglaws.errors import DataWarning, ScalingLawsError
from scalinglaws.ingest import column_name, detect, read, read_log

PYTHIA = Path(__file__).resolve().parents[2] / "shared" / "data" / "pythia_evals"


# -- TensorBoard -------------------------------------------------------------------------------------------------
def tb_tensor_run(folder: Path, losses: dict[int, float], tag: str = "train/loss") -> None:
    """A run written by tensorboard.summary.Writer (TF2-style scalar tensors)."""
    pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed")
    from tensorboard.summary import Writer

    w = Writer(str(folder))
    for step, value in losses.items():
        w.add_scalar(tag, value, step=step)
    w.flush()
    w.close()


def tb_simple_run(folder: Path, values: dict[int, dict[str, float]], hparams: dict | None = None,
                  suffix: str = "") -> None:
    """A run written the PyTorch/tensorboardX way: simple_value summaries, optionally with HParams."""
    pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed")
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.plugins.hparams import plugin_data_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    w = EventFileWriter(str(folder), filename_suffix=suffix)
    if hparams:
        data = plugin_data_pb2.HParamsPluginData(version=0)
        for k, v in hparams.items():
            if isinstance(v, str):
                data.session_start_info.hparams[k].string_value = v
            else:
                data.session_start_info.hparams[k].number_value = v
        meta = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(
            plugin_name="hparams", content=data.SerializeToString()))
        w.add_event(event_pb2.Event(summary=summary_pb2.Summary(value=[summary_pb2.Summary.Value(
            tag="_hparams_/session_start_info", metadata=meta)])))
    for step, tags in values.items():
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=t, simple_value=v) for t, v in tags.items()])
        w.add_event(event_pb2.Event(step=step, wall_time=1000.0 + step, summary=summary))
    w.flush()
    w.close()


def test_tensorboard_runs_steps_and_hparams(tmp_path):
    tb_tensor_run(tmp_path / "n1e8", {0: 4.0, 100: 3.0, 200: 2.5})
    tb_simple_run(tmp_path / "sweep" / "n3e8", {0: {"train/loss": 3.9, "lr": 1e-3}, 100: {"train/loss": 2.8}},
                  hparams={"params": 3e8, "optimizer": "adam"})
    assert detect(str(tmp_path)) == "tensorboard"
    runs = read(str(tmp_path), rename={"train/loss": "loss"})
    assert sorted(set(runs["run"].tolist())) == ["n1e8", "sweep/n3e8"]
    got = {(r, s): v for r, s, v in zip(runs["run"], runs["step"], runs["loss"])}
    assert got == {("n1e8", 0): 4.0, ("n1e8", 100): 3.0, ("n1e8", 200): 2.5, ("sweep/n3e8", 0): pytest.approx(3.9),
                   ("sweep/n3e8", 100): pytest.approx(2.8)}
    sweep = runs["run"] == "sweep/n3e8"
    assert np.all(runs["params"][sweep] == 3e8) and np.all(runs["optimizer"][sweep] == "adam")  # hparams: constants
    assert np.isnan(runs["params"][~sweep]).all()
    assert runs["lr"][sweep][0] == pytest.approx(1e-3) and np.isnan(runs["lr"][sweep][1])
    assert "wall_time" in runs


def test_tensorboard_resumed_run_keeps_the_later_value(tmp_path):
    tb_simple_run(tmp_path / "run", {1: {"loss": 3.0}, 2: {"loss": 2.9}}, suffix=".a")
    tb_simple_run(tmp_path / "run", {2: {"loss": 2.7}, 3: {"loss": 2.6}}, suffix=".b")
    batch = read_log(str(tmp_path))
    runs = read(str(tmp_path))
    assert dict(zip(runs["step"], runs["loss"])) == {1: 3.0, 2: pytest.approx(2.7), 3: pytest.approx(2.6)}
    assert any("logged twice" in n for n in batch.notes)
    assert len(batch.files) == 2 and all(len(h) == 64 for _, h in batch.files)


def test_tensorboard_malformed_files(tmp_path):
    good = tmp_path / "good"
    tb_simple_run(good, {i: {"loss": 3.0 - 0.1 * i} for i in range(5)})
    event = next(good.glob("*tfevents*"))
    data = event.read_bytes()
    # random bytes named like an event file
    junk = tmp_path / "junk" / "events.out.tfevents.1.host"
    junk.parent.mkdir()
    junk.write_bytes(b"not a tensorboard file at all" * 10)
    with pytest.raises(ScalingLawsError, match="is not a TensorBoard event file: bad record header at byte 0"):
        read_log(str(junk.parent))
    # one flipped byte inside a record
    broken = tmp_path / "broken" / event.name
    broken.parent.mkdir()
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF
    broken.write_bytes(bytes(flipped))
    with pytest.raises(ScalingLawsError, match=r"is damaged: (the record at byte \d+ fails its checksum|bad record)"):
        read_log(str(broken.parent))
    # a file still being written: the complete records are kept, the cut one is reported
    cut = tmp_path / "cut" / event.name
    cut.parent.mkdir()
    cut.write_bytes(data[:-7])
    with pytest.warns(DataWarning, match="incomplete record"):
        runs = read(str(cut.parent))
    assert list(runs["step"]) == [0, 1, 2, 3]
    (tmp_path / "empty").mkdir()
    with pytest.raises(ScalingLawsError, match="no TensorBoard event files"):
        read_log(str(tmp_path / "empty"), "tensorboard")


def test_tensorboard_needs_its_package(tmp_path, monkeypatch):
    tb_simple_run(tmp_path / "r", {0: {"loss": 1.0}})
    monkeypatch.setitem(sys.modules, "tensorboard.compat.proto.event_pb2", None)
    monkeypatch.setitem(sys.modules, "tensorboard.compat.proto", None)
    with pytest.raises(ScalingLawsError, match=r"pip install 'scalinglaws\[tensorboard\]'"):
        read_log(str(tmp_path), "tensorboard")


# -- lm-evaluation-harness ---------------------------------------------------------------------------------------
V04 = {
    "results": {
        "lambada_openai": {"alias": "lambada_openai", "perplexity,none": 12.5, "perplexity_stderr,none": 0.4,
                           "acc,none": 0.52, "acc_stderr,none": 0.007},
        "gsm8k": {"alias": "gsm8k", "exact_match,strict-match": 0.03, "exact_match_stderr,strict-match": 0.004,
                  "exact_match,flexible-extract": 0.05, "exact_match_stderr,flexible-extract": "N/A"},
    },
    "n-shot": {"lambada_openai": 0, "gsm8k": 0},
    "config": {"model": "hf", "model_args": "pretrained=EleutherAI/pythia-160m,revision=step3000,dtype=float",
               "batch_size": 8, "limit": None},
    "model_name": "EleutherAI/pythia-160m",
}


def test_lmeval_v04_results(tmp_path):
    path = tmp_path / "results_2024-05-01T00-00-00.json"
    path.write_text(json.dumps(V04))
    (tmp_path / "samples_gsm8k_2024.jsonl").write_text('{"doc_id": 0}\n')
    (tmp_path / "notes.json").write_text('{"hello": 1}')
    assert detect(str(path)) == "lm-eval" and detect(str(tmp_path)) == "lm-eval"
    batch = read_log(str(tmp_path))
    runs = read(str(tmp_path), rename={"lambada_openai__perplexity": "loss"})
    assert len(runs) == 1
    assert runs["run"][0] == "EleutherAI/pythia-160m@step3000" and runs["step"][0] == 3000
    assert runs["shots"][0] == 0 and runs["model"][0] == "EleutherAI/pythia-160m"
    assert runs["loss"][0] == 12.5 and runs["lambada_openai__acc_stderr"][0] == 0.007
    assert runs["gsm8k__exact_match_strict-match"][0] == 0.03
    assert runs["gsm8k__exact_match_flexible-extract"][0] == 0.05
    assert "gsm8k__exact_match_flexible-extract_stderr" not in runs  # "N/A" is not a number
    assert any("not lm-eval results" in n for n in batch.notes)


@pytest.mark.skipif(not PYTHIA.exists(), reason="../shared/data/pythia_evals is not available here")
def test_lmeval_reads_pythias_published_evaluations():
    runs = read(str(PYTHIA / "raw" / "pythia_v1_evals_zero_five_shot.json.gz"))
    assert len(runs) == 672 and set(runs["shots"].tolist()) == {0.0, 5.0}
    with open(PYTHIA / "runs.csv") as fh:
        reference = list(csv.DictReader(fh))
    checked = 0
    for ref in reference[::37]:
        name = ref["model_name"].replace("pythia-", "EleutherAI/pythia-v1.1-")
        rows = np.flatnonzero((runs["model"] == name) & (runs["step"] == float(ref["step"]))
                              & (runs["shots"] == float(ref["shots"])))
        assert len(rows) == 1, (name, ref["step"], ref["shots"])
        i = rows[0]
        for col in ("lambada_openai__ppl", "piqa__acc", "arc_easy__acc_norm", "winogrande__acc"):
            if ref[col]:
                assert runs[col][i] == pytest.approx(float(ref[col]), rel=1e-9), col
        checked += 1
    assert checked >= 15


def test_lmeval_join_adds_model_sizes(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(V04))
    sizes = tmp_path / "sizes.csv"
    sizes.write_text("model,params\nEleutherAI/pythia-160m,162322944\nEleutherAI/pythia-410m,405334016\n")
    runs = read(str(path), join=str(sizes), constants={"family": "pythia"})
    assert runs["params"][0] == 162322944 and runs["family"][0] == "pythia"
    sizes.write_text("size,params\n160m,1\n")
    with pytest.raises(ScalingLawsError, match="shares no column"):
        read(str(path), join=str(sizes))


def test_lmeval_malformed(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"results": {"piqa": {"acc": 0.6}}')
    with pytest.raises(ScalingLawsError, match="not valid JSON"):
        read_log(str(bad), "lm-eval")
    other = tmp_path / "other.json"
    other.write_text('{"scores": [1, 2]}')
    with pytest.raises(ScalingLawsError, match="is not an lm-evaluation-harness result"):
        read_log(str(other), "lm-eval")
    nomodel = tmp_path / "nomodel.json"
    nomodel.write_text(json.dumps({"results": {"piqa": {"acc": 0.6}}, "config": {}}))
    with pytest.raises(ScalingLawsError, match="no model name"):
        read_log(str(nomodel), "lm-eval")
    gz = tmp_path / "r.json.gz"
    gz.write_bytes(b"\x1f\x8b garbage")
    with pytest.raises(ScalingLawsError, match="could not be read"):
        read_log(str(gz), "lm-eval")


# -- Weights & Biases ---------------------------------------------------------------------------------------------
def test_wandb_panel_and_runs_table_exports(tmp_path):
    panel = tmp_path / "panel.csv"
    panel.write_text("Step,small - train/loss,small - train/loss__MIN,small - train/loss__MAX,big - train/loss\n"
                     "100,3.5,3.4,3.6,3.1\n200,3.0,2.9,3.1,\n300,,,,2.5\n")
    assert detect(str(panel)) == "wandb"
    runs = read(str(panel), rename={"train/loss": "loss"})
    assert {(r, s, v) for r, s, v in zip(runs["run"], runs["step"], runs["loss"])} == {
        ("small", 100, 3.5), ("small", 200, 3.0), ("big", 100, 3.1), ("big", 300, 2.5)}
    table = tmp_path / "runs.csv"
    table.write_text("Name,State,Notes,n_params,tokens,loss\nsmall,finished,-,1e8,2e9,3.0\nbig,finished,-,1e9,2e10,2.5\n")
    runs = read(str(table), rename={"n_params": "params"})
    assert list(runs["params"]) == [1e8, 1e9] and list(runs["loss"]) == [3.0, 2.5] and "flops" in runs


def test_wandb_json_runs_history_and_jsonl(tmp_path):
    export = [{"name": "n1e8", "config": {"model": {"n_params": 1e8}, "lr": 3e-4, "_wandb": {"x": 1}},
               "summary": {"loss": 2.9},
               "history": [{"_step": 0, "_timestamp": 1.7e9, "train/loss": 4.0},
                           {"_step": 10, "_timestamp": 1.7e9 + 5, "train/loss": 3.2, "eval/loss": 3.3}]},
              {"name": "n3e8", "config": {"model": {"n_params": 3e8}}, "summary": {"loss": 2.6}, "history": []}]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    assert detect(str(path)) == "wandb"
    runs = read(str(path), rename={"config.model.n_params": "params"})
    first = runs["run"] == "n1e8"
    assert list(runs["step"][first]) == [0, 10] and list(runs["train__loss"][first]) == [4.0, 3.2]
    assert np.all(runs["params"][first] == 1e8) and "config._wandb.x" not in runs
    second = np.flatnonzero(runs["run"] == "n3e8")
    assert len(second) == 1 and runs["loss"][second[0]] == 2.6  # no history: the summary
    lines = tmp_path / "history.jsonl"
    lines.write_text('{"_step": 1, "loss": 3.0}\n{"_step": 2, "loss": 2.8}\n')
    assert list(read(str(lines))["loss"]) == [3.0, 2.8]
    lines.write_text('{"_step": 1, "loss": 3.0}\n{"_step": 2, "loss": \n')
    with pytest.raises(ScalingLawsError, match="line 2 is not valid JSON"):
        read_log(str(lines), "wandb")


def test_wandb_api_through_the_client(monkeypatch):
    class Run:
        def __init__(self, name, n):
            self.name, self.id, self.config = name, name + "-id", {"n_params": n}
            self.summary = types.SimpleNamespace(_json_dict={"loss": 2.0})

        def scan_history(self):
            return iter([{"_step": s, "loss": 4.0 - s / 100} for s in (0, 50, 100)])

    class Api:
        def runs(self, path):
            assert path == "team/ladder"
            return [Run("a", 1e8), Run("b", 3e8)]

    monkeypatch.setitem(sys.modules, "wandb", types.SimpleNamespace(Api=Api))
    runs = read("wandb:team/ladder", rename={"config.n_params": "params"})
    assert len(runs) == 6 and set(runs["params"].tolist()) == {1e8, 3e8}
    assert list(runs["loss"][:3]) == [4.0, 3.5, 3.0]

    def refuse():
        raise RuntimeError("wandb: not logged in\nmore detail")

    monkeypatch.setitem(sys.modules, "wandb", types.SimpleNamespace(Api=refuse))
    with pytest.raises(ScalingLawsError, match="the W&B API refused: wandb: not logged in$"):
        read_log("wandb:team/ladder")
    monkeypatch.setitem(sys.modules, "wandb", None)
    with pytest.raises(ScalingLawsError, match=r"pip install 'scalinglaws\[wandb\]'"):
        read_log("wandb:team/ladder")


def test_wandb_malformed(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ScalingLawsError, match="is not a W&B export"):
        read_log(str(path), "wandb")
    path.write_text("Step,small - loss\nten,3\n")
    with pytest.raises(ScalingLawsError, match="line 2 has step 'ten'"):
        read_log(str(path), "wandb")


# -- MLflow ------------------------------------------------------------------------------------------------------
def mlflow_store(root: Path) -> Path:
    exp = root / "mlruns" / "1"
    exp.mkdir(parents=True)
    (exp / "meta.yaml").write_text("artifact_location: file:///x\nexperiment_id: '1'\nname: ladder\n")
    for run_id, name, n, stage in (("a1", "n1e8", "100000000", "active"), ("b2", "n3e8", "300000000", "active"),
                                   ("c3", "broken", "1", "deleted")):
        run = exp / run_id
        (run / "metrics" / "train").mkdir(parents=True)
        (run / "params").mkdir()
        (run / "tags").mkdir()
        (run / "meta.yaml").write_text(f"artifact_uri: file:///x\nexperiment_id: '1'\nlifecycle_stage: {stage}\n"
                                       f"run_id: {run_id}\nrun_name: {name}\nstatus: 3\ntags: []\n")
        (run / "params" / "n_params").write_text(n)
        (run / "params" / "optimizer").write_text("adamw")
        (run / "metrics" / "train" / "loss").write_text(
            "1700000000000 4.0 0\n1700000001000 3.0 100\n1700000002000 2.9 100\n")
    return root / "mlruns"


def test_mlflow_file_store(tmp_path):
    store = mlflow_store(tmp_path)
    assert detect(str(store)) == "mlflow"
    runs = read(str(store), rename={"params.n_params": "params", "train/loss": "loss"})
    assert sorted(set(runs["run"].tolist())) == ["n1e8", "n3e8"]  # the deleted run is left out
    small = runs["run"] == "n1e8"
    assert dict(zip(runs["step"][small], runs["loss"][small])) == {0: 4.0, 100: 2.9}  # the later value at step 100
    assert np.all(runs["params"][small] == 1e8) and np.all(runs["params.optimizer"] == "adamw")
    bad = store / "1" / "a1" / "metrics" / "train" / "loss"
    bad.write_text("1700000000000 4.0 0\nnot numbers\n")
    with pytest.raises(ScalingLawsError, match="a1/metrics/train/loss: line 2 is not 'timestamp value step'"):
        read_log(str(store))


def test_mlflow_search_runs_export_and_api(tmp_path, monkeypatch):
    path = tmp_path / "runs.csv"
    path.write_text("run_id,experiment_id,metrics.loss,params.n_params,tags.mlflow.runName\n"
                    "a1,1,3.0,1e8,small\nb2,1,2.5,3e8,big\n")
    assert detect(str(path)) == "mlflow"
    runs = read(str(path), rename={"params.n_params": "params"})
    assert list(runs["run"]) == ["small", "big"] and list(runs["loss"]) == [3.0, 2.5]

    metric = types.SimpleNamespace
    client = types.SimpleNamespace(
        get_experiment_by_name=lambda name: metric(experiment_id="7") if name == "ladder" else None,
        search_runs=lambda ids: [metric(info=metric(run_id="r1", run_name="n1e8"),
                                        data=metric(params={"n_params": "1e8"}, metrics={"loss": 3.0}, tags={}))],
        get_metric_history=lambda run_id, key: [metric(step=0, value=4.0), metric(step=10, value=3.0)])
    fake = types.ModuleType("mlflow.tracking")
    fake.MlflowClient = lambda: client
    monkeypatch.setitem(sys.modules, "mlflow", types.ModuleType("mlflow"))
    monkeypatch.setitem(sys.modules, "mlflow.tracking", fake)
    runs = read("mlflow:ladder", rename={"params.n_params": "params"})
    assert list(runs["loss"]) == [4.0, 3.0] and np.all(runs["params"] == 1e8)
    with pytest.raises(ScalingLawsError, match="no such experiment"):
        read_log("mlflow:other")


# -- shared --------------------------------------------------------------------------------------------------------
def test_column_names_and_detection(tmp_path):
    assert [column_name(n) for n in ("train/loss", "eval/ppl (val)", "3shot", "a.b-c")] == [
        "train__loss", "eval__ppl_val_", "m_3shot", "a.b-c"]
    table = tmp_path / "runs.csv"
    table.write_text("run,params,tokens,loss\na,1e8,2e9,3.0\n")
    assert detect(str(table)) == "table" and detect("dataset:porian_isoflop") == "table"
    assert detect("wandb:a/b") == "wandb" and detect("mlflow:x") == "mlflow"
    with pytest.raises(ScalingLawsError, match="no such file or folder"):
        detect(str(tmp_path / "missing"))
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.txt").write_text("?")
    with pytest.raises(ScalingLawsError, match="cannot tell what this folder holds"):
        detect(str(tmp_path / "d"))
    with pytest.raises(ScalingLawsError, match="unknown source"):
        read_log(str(table), "csv")


def test_logs_are_validated_like_any_table(tmp_path):
    tb_simple_run(tmp_path / "r", {0: {"loss": 3.0}})
    with pytest.raises(ScalingLawsError, match="column 'params' must be positive"):
        read(str(tmp_path), constants=["params=-5"])
    with pytest.raises(ScalingLawsError, match="--set 'params' is not COLUMN=VALUE"):
        read(str(tmp_path), constants=["params"])
    with pytest.raises(ScalingLawsError, match="--map loss=nope"):
        read(str(tmp_path), rename=["loss=nope"])


def test_a_wandb_history_csv_is_one_run(tmp_path):
    path = tmp_path / "run-7.csv"
    path.write_text("_step,_runtime,_timestamp,train/loss,train/lr\n0,1.2,1700000000,10.5,0\n"
                    "100,50.1,1700000050,4.2,0.0003\n200,99.3,1700000100,3.6,0.0003\n")
    assert detect(str(path)) == "wandb"
    runs = read(str(path), rename={"train/loss": "loss", "train/lr": "lr"}, constants={"params": "160M"})
    assert runs.n_runs == 1 and list(runs["run"]) == ["run-7"] * 3 and list(runs["step"]) == [0, 100, 200]
    assert list(runs["loss"]) == [10.5, 4.2, 3.6] and runs["params"][0] == 1.6e8 and "wall_time" in runs
    assert "train__loss" in read(str(path)).names  # named as every other import names a logged metric
