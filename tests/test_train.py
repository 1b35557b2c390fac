"""The ladder's plan, its file, the model's size against the FLOP accounting, the schedule and the data."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest
from train_helpers import require

from scalinglaws.errors import DataWarning, ScalingLawsError
from scalinglaws.plan.flops import count
from scalinglaws.train import plan_ladder, read_plan, write_plan
from scalinglaws.train.ladder import LadderPlan, make_rung, shape_of


def test_plan_spans_its_compute_and_holds_back_the_largest():
    plan = plan_ladder(1.6e13, rungs=5, span=32, hold_back_gap=4)
    flops = [r.flops for r in plan.rungs]
    assert flops == sorted(flops) and len({(r.width, r.depth) for r in plan.rungs}) == 5
    assert flops[-1] / flops[0] >= 30 and flops[-1] / flops[-2] >= 0.99 * 4  # tokens are whole batches
    assert [r.hold_back for r in plan.rungs] == [False] * 4 + [True]
    for r in plan.rungs:  # the shape rule, and tokens that make the compute the target
        assert r.heads * 16 == r.width and 16 <= r.width / r.depth <= 64
        assert 10 <= r.tokens / r.params <= 40  # near tokens_per_param (20): the shapes are fine enough
        assert r.tokens == r.steps * r.batch * plan.seq_len and 0 < r.lr <= 0.01


def test_plan_file_round_trips_and_edits_are_read(tmp_path):
    plan = plan_ladder(1e12, rungs=4, span=20, name="lad")
    path = write_plan(plan, tmp_path / "lad.toml")
    assert read_plan(path) == plan
    text = path.read_text().replace(f"lr = {plan.rungs[0].lr!r}", "lr = 0.002", 1).replace('"wsd"', '"cosine"')
    path.write_text(text)
    edited = read_plan(path)
    assert edited.rungs[0].lr == 0.002 and edited.schedule == "cosine"


@pytest.mark.parametrize("edit, words", [
    (lambda t: re.sub(r"heads = \d+", "heads = 7", t, count=1), "not divisible by heads 7"),
    (lambda t: t.replace("seq_len =", "bogus = 1\nseq_len ="), "unknown setting 'bogus'"),
    (lambda t: t + "\nbogus = 1\n", "rung.. 3 has unknown key 'bogus'"),
    (lambda t: t.replace("steps =", "stepz =", 1), "lacks steps"),
    (lambda t: t.replace("[[rung]]", "[[rung", 1), "not valid TOML"),
    (lambda t: t.replace("scalinglaws.ladder_plan/1", "other/1"), "not a ladder plan"),
])
def test_bad_plan_files_say_what_to_fix(tmp_path, edit, words):
    path = write_plan(plan_ladder(1e10, rungs=3, span=10), tmp_path / "p.toml")
    path.write_text(edit(path.read_text()))
    with pytest.raises(ScalingLawsError, match=words):
        read_plan(path)


def test_plan_record_is_json():
    d = plan_ladder(1e12, rungs=3, span=10).to_dict()
    assert d["format"] == "scalinglaws.ladder_plan/1" and len(d["rungs"]) == 3
    json.dumps(d)


def test_model_has_exactly_the_parameters_the_flop_accounting_counts():
    require("torch")
    from scalinglaws.train.model import GPT, count_params

    for width, depth, heads in ((16, 1, 1), (48, 2, 3), (96, 3, 6)):
        model = GPT(width, depth, heads, vocab=256, seq_len=64)
        assert count_params(model) == count(shape_of(depth, width, heads, 256, 64)).params["total"]


def test_schedules():
    from scalinglaws.train.loop import lr_at

    rung = make_rung("r", 32, tokens=100 * 128 * 4)
    wsd = LadderPlan(name="x", rungs=(rung,), schedule="wsd")
    cos = LadderPlan(name="x", rungs=(rung,), schedule="cosine")
    lrs = np.array([lr_at(s, rung, wsd) for s in range(rung.steps)])
    warm = round(0.05 * rung.steps)
    assert np.all(np.diff(lrs[:warm]) > 0) and np.allclose(lrs[warm:rung.steps - round(0.2 * rung.steps)], rung.lr)
    assert lrs[-1] == pytest.approx(rung.lr / round(0.2 * rung.steps)) and np.all(np.diff(lrs[warm:]) <= 0)
    c = [lr_at(s, rung, cos) for s in range(rung.steps)]
    assert max(c) == pytest.approx(rung.lr) and c[-1] == pytest.approx(0.1 * rung.lr, rel=0.05)


def test_corpora_split_by_document_and_batches_repeat(tmp_path):
    from scalinglaws.train.data import load

    docs = [f"document {i}: " + "x" * 200 for i in range(100)]
    (tmp_path / "c.jsonl").write_text("\n".join(json.dumps({"text": d}) for d in docs))
    (tmp_path / "c.txt").write_text("\n\n".join(docs))
    np.save(tmp_path / "c.npy", np.arange(50_000, dtype=np.int32) % 300)
    for name in ("c.jsonl", "c.txt"):
        c = load(str(tmp_path / name))
        held = bytes(c.held_out).decode()
        assert "document 19:" in held and "document 18:" not in held
        assert "document 19:" not in bytes(c.train).decode()
    ids = load(str(tmp_path / "c.npy"))
    assert ids.vocab == 300 and ids.tokens == 50_000 - 2500
    x1, y1 = ids.batch(7, 4, 16, seed=3)
    x2, _ = ids.batch(7, 4, 16, seed=3)
    assert np.array_equal(x1, x2) and np.array_equal(x1[:, 1:], y1[:, :-1])
    std = load("stdlib", limit=300_000)
    assert std.tokens > 200_000 and std.source == "stdlib"


def test_bad_corpora(tmp_path):
    from scalinglaws.train.data import load

    (tmp_path / "bad.jsonl").write_text('{"text": "a"}\n{"body": "b"}\n')
    with pytest.raises(ScalingLawsError, match="line 2 has no 'text' field"):
        load(str(tmp_path / "bad.jsonl"))
    (tmp_path / "tiny.txt").write_text("too short")
    with pytest.raises(ScalingLawsError, match="at least 1024"):
        load(str(tmp_path / "tiny.txt"))
    with pytest.raises(ScalingLawsError, match="does not exist"):
        load(str(tmp_path / "nothing.txt"))


def test_a_corpus_too_small_for_the_plan_warns_with_its_epochs():
    from scalinglaws.train.data import load
    from scalinglaws.train.runner import check_corpus

    corpus = load("stdlib", limit=100_000)
    plan = LadderPlan(name="x", rungs=(make_rung("big", 64, tokens=1_000_000),))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        notes = check_corpus(plan, corpus)
    assert len(notes) == 1 and "epochs" in notes[0] and "rung big" in notes[0]
    assert any(issubclass(w.category, DataWarning) for w in caught)


def test_ladder_plan_command(cli, tmp_path):
    code, out, err = cli("ladder", "plan", "-o", str(tmp_path / "l.toml"), "--flops", "1e12", "--rungs", "4",
                         "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["format"] == "scalinglaws.ladder_plan/1" and read_plan(tmp_path / "l.toml").name == "l"
    code, out, err = cli("ladder", "plan", "-o", str(tmp_path / "m.toml"))
    assert code == 1 and err.startswith("Error: give --flops")
    code, out, err = cli("ladder", "status", str(tmp_path / "l.toml"), "-s", str(tmp_path / "s.duckdb"))
    assert code == 0 and out.count("pending") == 4


def test_parquet_corpora_of_text_or_token_ids(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from scalinglaws.errors import ScalingLawsError
    from scalinglaws.train.data import load

    docs = [f"document {i}: " + "y" * 200 for i in range(100)]
    pq.write_table(pa.table({"text": docs, "n": list(range(100))}), tmp_path / "t.parquet")
    c = load(str(tmp_path / "t.parquet"))
    assert "document 19:" in bytes(c.held_out).decode() and "document 19:" not in bytes(c.train).decode()
    assert c.tokens + c.held_out.size == sum(len(d) for d in docs) + 98  # joined by newlines, 2 parts
    rows = [list(range(i, i + 500)) for i in range(0, 300, 3)]
    pq.write_table(pa.table({"input_ids": rows}), tmp_path / "ids.parquet")
    ids = load(str(tmp_path / "ids.parquet"))
    flat = np.concatenate([np.array(r) for r in rows])
    assert ids.vocab == 297 + 500 and np.array_equal(np.concatenate([ids.train, ids.held_out]), flat)
    pq.write_table(pa.table({"words": docs}), tmp_path / "bad.parquet")
    with pytest.raises(ScalingLawsError, match="no 'text' column and no 'ids'.*found: words"):
        load(str(tmp_path / "bad.parquet"))
    pq.write_table(pa.table({"text": list(range(100))}), tmp_path / "num.parquet")
    with pytest.raises(ScalingLawsError, match="column 'text' holds int64, not strings"):
        load(str(tmp_path / "num.parquet"))
    (tmp_path / "junk.parquet").write_bytes(b"not parquet at all" * 100)
    with pytest.raises(ScalingLawsError, match="junk.parquet is not a readable Parquet file"):
        load(str(tmp_path / "junk.parquet"))


def test_cooldown_branches_in_the_plan_file(tmp_path):
    from scalinglaws.errors import ScalingLawsError
    from scalinglaws.train.loop import branch_spans

    plan = plan_ladder(1e12, rungs=3, span=8, hold_back=False, branches=(0.25, 0.5))
    path = write_plan(plan, tmp_path / "p.toml")
    back = read_plan(path)
    assert back.branches == (0.25, 0.5) and "branches = [0.25, 0.5]" in path.read_text()
    rung = back.rungs[-1]
    spans = branch_spans(rung, back)
    ends = [round(0.25 * rung.steps), round(0.5 * rung.steps)]
    assert [e for _, e in spans] == ends
    assert [s for s, _ in spans] == [e - round(0.2 * e) for e in ends]
    with pytest.raises(ScalingLawsError, match="need the wsd schedule"):
        LadderPlan(name="x", rungs=plan.rungs, schedule="cosine", branches=(0.5,))
    with pytest.raises(ScalingLawsError, match="between 0 and 1"):
        LadderPlan(name="x", rungs=plan.rungs, branches=(1.5,))
    path.write_text(path.read_text().replace("branches = [0.25, 0.5]", 'branches = "half"'))
    with pytest.raises(ScalingLawsError, match="branches must be a list of fractions"):
        read_plan(path)


def test_ladder_plan_takes_the_users_own_hparams_law(cli, tmp_path):
    """A law fitted to the user's sweep (CSV fitted here, or the JSON of `plan hparams`) sets every rung's lr and
    batch, uncapped; the plan file keeps its coefficients, so rungs added later follow the same law."""
    import csv

    from test_plan_hparams import synthetic_sweep

    from scalinglaws.plan.hparams import HparamLaw

    data = synthetic_sweep(0)
    sweep = tmp_path / "sweep.csv"
    with open(sweep, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(data))
        w.writerows(zip(*data.values()))
    code, out, err = cli("ladder", "plan", "-o", str(tmp_path / "own.toml"), "--flops", "1e12", "--rungs", "4",
                         "--hparams", str(sweep), "--json")
    assert code == 0, err
    d = json.loads(out)
    assert "sweep.csv" in d["hparams"] and len(d["hparams_law"]) == 6
    plan = read_plan(tmp_path / "own.toml")
    law = plan.hparam_law
    assert isinstance(law, HparamLaw)
    for r in plan.rungs:  # each rung's lr and batch are the law's at its size and tokens
        lr, batch = law.evaluate([r.non_embedding_params], [r.tokens])
        assert r.lr == pytest.approx(float(lr[0, 0]), rel=0.02)
        assert r.batch == max(1, round(float(batch[0, 0]) / plan.seq_len))
    default = plan_ladder(1e12, rungs=4)
    assert [r.lr for r in plan.rungs] != [r.lr for r in default.rungs] and default.hparam_law is None
    # the JSON record of `plan hparams --sweep --json` gives the same law
    code, out, err = cli("hparams", "--params", "5e8", "--tokens", "2e10", "--sweep", str(sweep), "-b", "0",
                         "--json")
    assert code == 0, err
    (tmp_path / "hp.json").write_text(out)
    code, out, err = cli("ladder", "plan", "-o", str(tmp_path / "j.toml"), "--flops", "1e12", "--rungs", "4",
                         "--hparams", str(tmp_path / "hp.json"))
    assert code == 0, err
    assert [r.lr for r in read_plan(tmp_path / "j.toml").rungs] == pytest.approx([r.lr for r in plan.rungs])
    (tmp_path / "bad.json").write_text('{"lr_coef": 1}')
    code, out, err = cli("ladder", "plan", "-o", str(tmp_path / "b.toml"), "--flops", "1e12", "--hparams",
                         str(tmp_path / "bad.json"))
    assert code != 0 and err.startswith("Error: --hparams") and "lr_params_exp" in err and "Traceback" not in err
    assert not (tmp_path / "b.toml").exists()


def test_ladder_plan_measures_its_throughput(cli, tmp_path):
    require("torch")
    code, out, err = cli("ladder", "plan", "-o", str(tmp_path / "m.toml"), "--flops", "1e10", "--rungs", "3",
                         "--span", "5", "--hold-back-gap", "2", "--throughput", "measure", "--json")
    assert code == 0, err
    d = json.loads(out)
    m = d["throughput_measured"]
    assert m["steps"] >= 3 and m["flops_per_s"] > 1e6 and d["throughput"] == m["flops_per_s"]
    plan = read_plan(tmp_path / "m.toml")
    big = max(plan.rungs, key=lambda r: r.flops_per_token)
    assert m["rung"] == big.name
    assert m["tokens_per_s"] * big.flops_per_token == pytest.approx(m["flops_per_s"])
    assert plan.throughput == pytest.approx(m["flops_per_s"])
    assert plan.device_hours == pytest.approx(plan.flops / m["flops_per_s"] / 3600)
