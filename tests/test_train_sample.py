"""Emergence on the ladder itself: the addition corpus (train/data.py) is deterministic and keeps its held-out
problems out of training; `ladder sample` (train/sample.py) judges answers exactly (an oracle model scores every
sample, a wrong one none), and a two-rung ladder trained here gives the same table twice, one that
`scalinglaws emergence` reads."""

from __future__ import annotations

import json

import numpy as np
import pytest
from train_helpers import require

from scalinglaws.errors import ScalingLawsError
from scalinglaws.train.data import addition_held_out, load

torch = require("torch")


def test_the_addition_corpus_is_deterministic_and_holds_its_problems_out():
    a, b = load("addition:3", limit=200_000), load("addition:3", limit=200_000)
    assert np.array_equal(a.train, b.train) and np.array_equal(a.held_out, b.held_out)
    other = load("addition:3:1", limit=200_000)
    assert not np.array_equal(a.train[:1000], other.train[:1000])
    lines = bytes(a.train).decode().split("\n")
    trained = set()
    for line in lines[1:-1]:
        left, right = line.split("=")
        x, y = left.split("+")
        assert len(x) == len(y) == 3 and int(x) + int(y) == int(right)
        trained.add((int(x), int(y)))
    held = {tuple(p) for p in addition_held_out("addition:3").tolist()}
    assert len(held) == 1000 and not held & trained
    assert bytes(a.held_out).decode().split("\n")[0] == "{}+{}={}".format(*addition_held_out("addition:3")[0],
                                                                          sum(addition_held_out("addition:3")[0]))
    assert len(addition_held_out("addition:2")) == 90 * 90 // 20  # at most one pair in 20 held out
    for bad in ("addition:1", "addition:x", "addition:3:-1", "addition:3:1:2"):
        with pytest.raises(ScalingLawsError, match="write addition:D"):
            load(bad)


class Oracle(torch.nn.Module):
    """Logits that put all mass on the right continuation of "\\na+b=" (or off by one, when `wrong`)."""

    def __init__(self, wrong=False):
        super().__init__()
        self.wrong = wrong

    def forward(self, x):
        logits = torch.full((x.shape[0], x.shape[1], 256), -1e9)
        for i, row in enumerate(x.tolist()):
            text = bytes(row).decode()
            prompt, _, sofar = text[1:].partition("=")
            a, b = prompt.split("+")
            answer = f"{int(a) + int(b) + self.wrong}\n"
            nxt = answer[len(sofar)] if len(sofar) < len(answer) else "\n"
            logits[i, -1, ord(nxt)] = 0.0
        return logits, None


def test_answers_are_judged_exactly():
    from scalinglaws.train.sample import _decode, _judge

    pairs = addition_held_out("addition:2")[:5]
    prompts = np.stack([np.frombuffer(f"\n{a}+{b}=".encode(), dtype=np.uint8) for a, b in pairs.tolist()])
    answers = [f"{a + b}\n".encode() for a, b in pairs.tolist()]
    rng = np.random.default_rng(0)
    for temperature in (None, 1.0):
        assert _judge(_decode(Oracle(), prompts, 4, temperature, rng), answers).all()
        assert not _judge(_decode(Oracle(wrong=True), prompts, 4, temperature, rng), answers).any()
    tokens = np.array([list(b"99\n\n"), list(b"9\n\n\n")])
    assert _judge(tokens, [b"99\n", b"99\n"]).tolist() == [True, False]  # a prefix of the sum is not the sum


@pytest.fixture(scope="module")
def ladder(tmp_path_factory):
    from scalinglaws.train import run_ladder, write_plan
    from scalinglaws.train.ladder import LadderPlan, make_rung

    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("addition")
    rungs = tuple(make_rung(f"w{w}", w, tokens=t, evals=2) for w, t in ((16, 20_000), (32, 40_000)))
    plan = LadderPlan(name="add", rungs=rungs, corpus="addition:2", corpus_bytes=200_000, eval_batches=2,
                      eval_batch=8)
    path = write_plan(plan, folder / "add.toml")
    run_ladder(path, folder / "runs.duckdb", threads=1, hold_back=False)
    return path


def test_a_trained_ladder_is_sampled_into_the_emergence_table(ladder, cli, tmp_path):
    from scalinglaws.runs import read_runs
    from scalinglaws.train import sample_ladder

    res = sample_ladder(ladder, samples=16, problems=30, seed=3)
    again = sample_ladder(ladder, samples=16, problems=30, seed=3)
    assert res.csv() == again.csv()  # one seed, the same bytes
    assert [r["run"] for r in res.rungs] == ["add/w16", "add/w32"] and res.notes == ()
    cols = res.table
    assert len(cols["run"]) == 60 and set(cols["samples"]) == {16}
    assert all(0 <= c <= 16 for c in cols["correct"]) and set(cols["greedy"]) <= {0, 1}
    for r in res.rungs:
        mine = [c for run, c in zip(cols["run"], cols["correct"]) if run == r["run"]]
        assert r["pass_at_1"] == pytest.approx(sum(mine) / (16 * 30))
    out = tmp_path / "table.csv"
    code, printed, err = cli("ladder", "sample", str(ladder), "-o", str(out), "--samples", "16", "--problems", "30",
                             "--seed", "3")
    assert code == 0, err
    assert out.read_text() == res.csv() and "greedy accuracy" in printed and "wrote" in printed
    runs = read_runs(str(out), dedupe=False, require=["params", "problem", "samples", "correct"])
    assert sorted(set(np.asarray(runs["params"], dtype=float))) == [r["params"] for r in res.rungs]
    code, printed, err = cli("ladder", "sample", str(ladder), "-o", str(out), "--samples", "4", "--json")
    assert code == 0, err
    rec = json.loads(printed)
    assert rec["format"] == "scalinglaws.ladder_samples/1" and rec["rungs"][0]["problems"] == 405


def test_sampling_refusals(ladder, cli, tmp_path):
    from scalinglaws.train import write_plan
    from scalinglaws.train.ladder import LadderPlan, make_rung

    code, out, err = cli("ladder", "sample", str(ladder), "-o", str(tmp_path / "t.csv"), "--samples", "0")
    assert code != 0 and err.startswith("Error: ") and "--samples" in err and len(err.strip().splitlines()) == 1
    code, out, err = cli("ladder", "sample", str(ladder), "-o", str(tmp_path / "t.csv"), "--problems", "5000")
    assert code != 0 and "from 1 to the 405 held-out problems" in err
    text = write_plan(LadderPlan(name="t", rungs=(make_rung("w16", 16, tokens=20_000),)), tmp_path / "t.toml")
    code, out, err = cli("ladder", "sample", str(text), "-o", str(tmp_path / "t.csv"))
    assert code != 0 and "--corpus addition:D" in err
    fresh = write_plan(LadderPlan(name="u", rungs=(make_rung("w16", 16, tokens=20_000),), corpus="addition:2"),
                       tmp_path / "u.toml")
    code, out, err = cli("ladder", "sample", str(fresh), "-o", str(tmp_path / "t.csv"))
    assert code != 0 and "train the ladder first" in err and len(err.strip().splitlines()) == 1
