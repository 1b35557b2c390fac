"""One rung data-parallel over two CPU processes (gloo): the single-process loss curve, every point stored once by
rank 0, a kill part way resumed, the ranks reading the driver's BPE; and the device counts refused before any
work."""

from __future__ import annotations

from dataclasses import replace

import duckdb
import pytest
from train_helpers import require

from scalinglaws.train import run_ladder, write_plan
from scalinglaws.train.ladder import LadderPlan, make_rung

torch = require("torch")
require("tokenizers")


def _plan():
    rung = replace(make_rung("w16", 16, tokens=10_000, vocab=320), batch=4, steps=20, eval_every=10)
    return LadderPlan(name="dp", rungs=(rung,), corpus_bytes=100_000, eval_batches=2, eval_batch=8,
                      tokenizer="bpe", vocab=320)


def _rows(store):
    with duckdb.connect(str(store), read_only=True) as con:
        return con.execute("SELECT run, step, loss, train_loss, bits_per_byte FROM runs ORDER BY step").fetchall()


def test_two_processes_train_the_single_process_curve_and_resume(tmp_path):
    from scalinglaws.train.loop import Crash
    from scalinglaws.train.tokenizer import TOKENIZER_FILE

    torch.set_num_threads(1)
    plan = _plan()
    single = tmp_path / "one.duckdb"
    run_ladder(plan, single, checkpoints=tmp_path / "one", threads=1, hold_back=False)
    store, folder = tmp_path / "two.duckdb", tmp_path / "two"
    with pytest.raises(Crash):  # both ranks stop after the first checkpoint, as a kill would
        run_ladder(plan, store, checkpoints=folder, threads=1, hold_back=False, devices=2, _crash={"w16": 15})
    assert [r[1] for r in _rows(store)] == [10.0]  # rank 0 wrote the checkpoint's point, once
    # the driver trained the BPE before the ranks started (they only read it): the same corpus, the same merges
    assert (folder / TOKENIZER_FILE).read_bytes() == (tmp_path / "one" / TOKENIZER_FILE).read_bytes()
    result = run_ladder(plan, store, checkpoints=folder, threads=1, hold_back=False, devices=2)
    assert result.rungs[0]["resumed_from"] == 10 and result.rungs[0]["written"] == 1
    one, two = _rows(single), _rows(store)
    assert [r[1] for r in two] == [10.0, 20.0]  # each step once: no rank but 0 wrote
    for a, b in zip(one, two):  # the same batches, split in two: the same curve up to summation order
        assert b[2] == pytest.approx(a[2], rel=2e-3) and b[3] == pytest.approx(a[3], rel=2e-3)
        assert b[4] == pytest.approx(a[4], rel=2e-3)


@pytest.mark.parametrize("args, words", [(["--devices", "2", "--ray", "local"], "give one of them"),
                                         (["--devices", "3"], "does not split into 3 equal parts"),
                                         (["--devices", "0"], "at least 1")])
def test_device_counts_the_run_cannot_take(cli, tmp_path, args, words):
    path = write_plan(_plan(), tmp_path / "dp.toml")
    code, out, err = cli("ladder", "run", str(path), "-s", str(tmp_path / "s.duckdb"), *args)
    assert code == 1 and err.startswith("Error: ") and words in err and err.count("\n") == 1
    assert not (tmp_path / "s.duckdb").exists()
