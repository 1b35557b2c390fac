"""A micro ladder trained end to end: every point in the store once, a kill part way lost nothing, the held-back
rung forecast before it was trained and scored after; the same through a local Ray whose worker dies; and the
bad inputs, each one line with the store untouched."""

from __future__ import annotations

import json
import sys

import duckdb
import pytest
from train_helpers import micro_plan, require

from scalinglaws.errors import ScalingLawsError
from scalinglaws.train import ladder_status, run_ladder, write_plan

torch = require("torch")


def _points(store):
    with duckdb.connect(str(store), read_only=True) as con:
        return con.execute("SELECT run, step, loss, train_loss, lr, tokens, tokens_per_s, final FROM runs "
                           "ORDER BY run, step").fetchall()


def _expected_steps(rung):
    return sorted({*range(rung.eval_every, rung.steps + 1, rung.eval_every), rung.steps})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The micro ladder, stopped once part way through its second rung (after its first checkpoint), then run
    again to the end."""
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("ladder")
    plan = micro_plan()
    path = write_plan(plan, folder / "micro.toml")
    store = folder / "runs.duckdb"
    crash_step = plan.rungs[1].eval_every + 5
    from scalinglaws.train.loop import Crash

    with pytest.raises(Crash):
        run_ladder(path, store, threads=1, _crash={"w32": crash_step})
    before = _points(store)
    stopped = ladder_status(path, store)
    lines = []
    result = run_ladder(path, store, threads=1, echo=lines.append)
    return {"plan": plan, "path": path, "store": store, "before": before, "stopped": stopped, "result": result,
            "lines": lines, "crash_step": crash_step}


def test_every_point_is_stored_once_and_none_is_lost(trained):
    plan, rows = trained["plan"], _points(trained["store"])
    for rung in plan.rungs:
        steps = [r[1] for r in rows if r[0] == plan.run_name(rung)]
        assert steps == _expected_steps(rung), rung.name
    assert all(r[2] > 0 and r[3] > 0 and r[6] > 0 for r in rows)
    # before the re-run, the stopped rung had exactly its points up to the checkpoint
    w32 = [r[1] for r in trained["before"] if r[0] == "micro/w32"]
    assert w32 == [float(plan.rungs[1].eval_every)]
    states = {r["name"]: r["state"] for r in trained["stopped"].rungs}
    assert states == {"w16": "done", "w32": "stopped", "w48": "pending", "w64": "pending"}
    summary = {r["name"]: r for r in trained["result"].rungs}
    assert summary["w32"]["resumed_from"] == plan.rungs[1].eval_every and summary["w16"]["written"] == 0


def test_bytes_record_bits_per_byte_as_nats_per_byte_over_ln2(trained):
    import math

    with duckdb.connect(str(trained["store"]), read_only=True) as con:
        rows = con.execute("SELECT loss, bits_per_byte, tokenizer, vocab FROM runs").fetchall()
    assert rows and all(b == pytest.approx(loss / math.log(2)) and t == "bytes" and v == 256
                        for loss, b, t, v in rows)


def test_a_resumed_rung_matches_one_never_stopped(trained, tmp_path):
    from scalinglaws.train.data import load
    from scalinglaws.train.loop import train_rung

    plan = trained["plan"]
    fresh = train_rung(plan, plan.rungs[1], load(plan.corpus, limit=plan.corpus_bytes), tmp_path, threads=1)
    stored = [r[2] for r in _points(trained["store"]) if r[0] == "micro/w32"]
    assert stored == pytest.approx([p["loss"] for p in fresh.points], rel=1e-4)


def test_the_held_back_rung_was_forecast_before_training_and_scored(trained):
    fc = trained["result"].forecast
    assert fc["format"] == "scalinglaws.ladder_forecast/1" and fc["run"] == "micro/w64"
    assert fc["from_runs"] == ["micro/w16", "micro/w32", "micro/w48"]
    assert fc["lower"] < fc["prediction"] < fc["upper"]
    final = [r for r in _points(trained["store"]) if r[0] == "micro/w64" and r[7]][0]
    assert fc["observed"] == pytest.approx(final[2])
    assert fc["error"] == pytest.approx((fc["prediction"] - final[2]) / final[2])
    assert trained["lines"][0].startswith("forecast of micro/w64") and "trained: loss" in trained["lines"][1]
    status = ladder_status(trained["path"], trained["store"])
    assert [r["state"] for r in status.rungs] == ["done"] * 4
    assert len(status.forecasts) == 1 and status.forecasts[0]["observed"] == pytest.approx(final[2])


def test_a_run_of_a_finished_ladder_adds_nothing(trained):
    again = run_ladder(trained["path"], trained["store"], threads=1)
    assert sum(r["written"] for r in again.rungs) == 0
    assert len(_points(trained["store"])) == sum(len(_expected_steps(r)) for r in trained["plan"].rungs)
    from scalinglaws.store.points import forecasts

    assert len(forecasts(trained["store"], "micro")) == 1  # the forecast made before training stands, once


def test_status_command(cli, trained):
    code, out, err = cli("ladder", "status", str(trained["path"]), "-s", str(trained["store"]), "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["format"] == "scalinglaws.ladder_status/1" and {r["state"] for r in d["rungs"]} == {"done"}


def test_ray_workers_return_points_and_a_dead_one_resumes(trained, tmp_path):
    ray = require("ray")
    plan = trained["plan"]
    path = write_plan(plan, tmp_path / "micro.toml")
    store = tmp_path / "runs.duckdb"
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        result = run_ladder(path, store, ray="local", threads=1, _crash={"w48": plan.rungs[2].eval_every + 3})
    finally:
        ray.shutdown()
    rows = _points(store)
    for rung in plan.rungs:
        assert [r[1] for r in rows if r[0] == plan.run_name(rung)] == _expected_steps(rung)
    summary = {r["name"]: r for r in result.rungs}
    assert summary["w48"]["resumed_from"] == plan.rungs[2].eval_every
    local = {(r[0], r[1]): r[2] for r in _points(trained["store"])}
    assert [r[2] for r in rows] == pytest.approx([local[(r[0], r[1])] for r in rows], rel=1e-4)
    assert result.forecast["observed"] is not None


# -- bad input: one line, the store untouched -------------------------------------------------------------------
@pytest.fixture
def plan_file(tmp_path):
    return write_plan(micro_plan(), tmp_path / "micro.toml")


def test_out_of_memory_names_the_rung_and_a_batch(cli, plan_file, tmp_path, monkeypatch):
    from scalinglaws.train import model

    def oom(self, idx, targets=None):
        raise torch.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(model.GPT, "forward", oom)
    store = tmp_path / "s.duckdb"
    code, out, err = cli("ladder", "run", str(plan_file), "-s", str(store), "--threads", "1")
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("Error: rung w16 ran out of cpu memory at batch 1 sequences") and "try batch = 1" in err
    assert not store.exists()
    assert "failed" in cli("ladder", "status", str(plan_file), "-s", str(store))[1]


@pytest.mark.parametrize("module, hint", [("torch", "pip install 'scalinglaws[train]'"),
                                          ("ray", "pip install 'scalinglaws[ray]'")])
def test_a_missing_extra_says_what_to_install(cli, plan_file, tmp_path, monkeypatch, module, hint):
    monkeypatch.setitem(sys.modules, module, None)
    store = tmp_path / "s.duckdb"
    code, out, err = cli("ladder", "run", str(plan_file), "-s", str(store), "--ray", "local")
    assert code == 1 and err.count("\n") == 1 and err.startswith("Error: ") and hint in err
    assert not store.exists()


def test_a_ray_address_that_does_not_answer(cli, plan_file, tmp_path):
    require("ray")
    store = tmp_path / "s.duckdb"
    code, out, err = cli("ladder", "run", str(plan_file), "-s", str(store), "--ray", "127.0.0.1:9")
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("Error: the Ray cluster at 127.0.0.1:9 does not answer") and not store.exists()
    with pytest.raises(ScalingLawsError, match="is not an address"):
        run_ladder(plan_file, store, ray="nowhere")


def test_a_held_back_rung_without_enough_rungs_below_is_trained_unforecast(tmp_path):
    from scalinglaws.errors import DataWarning
    from scalinglaws.train.ladder import LadderPlan, make_rung

    plan = LadderPlan(name="two", rungs=(make_rung("a", 16, tokens=6_000, evals=2),
                                         make_rung("b", 32, tokens=6_000, evals=2, hold_back=True)),
                      corpus_bytes=300_000, eval_batches=1, eval_batch=4)
    with pytest.warns(DataWarning, match="a forecast needs 3 rungs trained and 1 are"):
        result = run_ladder(plan, tmp_path / "s.duckdb", checkpoints=tmp_path / "ck", threads=1)
    assert result.forecast is None and [r["steps"] for r in result.rungs] == [r.steps for r in plan.rungs]


def test_until_width_adds_the_rung_that_narrows_the_forecast_most(trained, tmp_path):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(trained["path"].parent, folder)
    path, store = folder / trained["path"].name, folder / trained["store"].name
    lines = []
    result = run_ladder(path, store, threads=1, echo=lines.append, until_width=1e-6, max_extra=1)
    added = [r for r in result.rungs if "-x1" in r["name"]]
    assert len(added) == 1 and added[0]["points"] > 0 and added[0]["loss"] is not None
    assert any(line.startswith("forecast of w64") and "adding" in line for line in lines)
    runs = {row[0] for row in _points(store)}
    assert f"micro/{added[0]['name']}" in runs
    # the added rung is in the plan file, so status lists it and a re-run counts it against max_extra
    from scalinglaws.train import read_plan

    again = read_plan(path)
    assert [r.name for r in again.rungs if r.added] == [added[0]["name"]]
    status = ladder_status(path, store)
    assert {r["name"]: r["state"] for r in status.rungs}[added[0]["name"]] == "done"
    rerun = run_ladder(path, store, threads=1, until_width=1e-6, max_extra=1)
    assert sum(r["written"] for r in rerun.rungs) == 0 and len(read_plan(path).rungs) == len(again.rungs)


def test_cooldown_branches_leave_the_main_run_as_it_was(tmp_path):
    from dataclasses import replace

    from scalinglaws.train.data import load
    from scalinglaws.train.ladder import LadderPlan, make_rung
    from scalinglaws.train.loop import Crash, branch_spans, train_rung

    torch.set_num_threads(1)
    rung = make_rung("w16", 16, tokens=30_000, evals=4)
    plain = LadderPlan(name="b", rungs=(rung,), corpus_bytes=300_000, eval_batches=1, eval_batch=4)
    branched = replace(plain, branches=(0.5,))
    corpus = load(plain.corpus, limit=plain.corpus_bytes)
    base = train_rung(plain, rung, corpus, tmp_path / "a", threads=1)
    (start, end), = branch_spans(rung, branched)
    emitted = []
    with pytest.raises(Crash):
        train_rung(branched, rung, corpus, tmp_path / "b", emit=emitted.append, threads=1, crash_at=start)
    res = train_rung(branched, rung, corpus, tmp_path / "b", emit=emitted.append, threads=1)
    main = [p for p in res.points if p["run"] == "b/w16"]
    branch = [p for p in res.points if p["run"] != "b/w16"]
    # the main run evaluates once more (where the branch starts), and is otherwise the run without branches
    assert [p["step"] for p in main if p["step"] != start] == [p["step"] for p in base.points]
    assert [p["loss"] for p in main if p["step"] != start] == pytest.approx([p["loss"] for p in base.points],
                                                                              rel=1e-5)
    assert len(branch) == 1 and branch[0]["run"] == f"b/w16@{end}" and branch[0]["final"]
    assert branch[0]["branch_of"] == "b/w16" and branch[0]["tokens"] == end * rung.batch * plain.seq_len
    assert 0 < branch[0]["loss"] < 6 and branch[0]["lr"] == pytest.approx(rung.lr / (end - start))
    # the kill came after the branch had been checkpointed: resumed, it was not trained again
    assert sum(p["run"] != "b/w16" for p in emitted) == 2 and res.resumed_from == start
