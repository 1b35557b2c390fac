"""The BPE tokenizer of a ladder: trained on the training split only, saved beside the checkpoints and read back
with the same ids, the model's vocabulary and the FLOP accounting following it, bits per byte recorded."""

from __future__ import annotations

import math
import sys

import duckdb
import numpy as np
import pytest
from train_helpers import require

from scalinglaws.errors import ScalingLawsError
from scalinglaws.train import read_plan, run_ladder, write_plan
from scalinglaws.train.ladder import LadderPlan, make_rung

require("tokenizers")


def _bpe_plan(vocab=320, **kw):
    rung = make_rung("w16", 16, tokens=12_000, evals=2, vocab=vocab)
    return LadderPlan(name="b", rungs=(rung,), corpus_bytes=300_000, eval_batches=2, eval_batch=8, tokenizer="bpe",
                      vocab=vocab, **kw)


def test_bpe_is_trained_on_the_training_split_only_and_read_back_with_the_same_ids(tmp_path):
    from scalinglaws.train.data import load
    from scalinglaws.train.tokenizer import TOKENIZER_FILE, tokenize

    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(40):  # documents 19 and 39 are held out (data.EVAL_EVERY); only they hold the odd word
        text = "zqxjv " * 400 if i % 20 == 19 else f"def f{i}(x):\n    return x + {i}\n" * 40
        (docs / f"{i:02d}.txt").write_text(text)
    plan = LadderPlan(name="t", rungs=(make_rung("w16", 16, tokens=1000, vocab=300),), corpus=str(docs),
                      tokenizer="bpe", vocab=300)
    corpus = load(str(docs))
    first = tokenize(plan, corpus, tmp_path / "ck")
    saved = (tmp_path / "ck" / TOKENIZER_FILE).read_bytes()
    import tokenizers

    tok = tokenizers.Tokenizer.from_file(str(tmp_path / "ck" / TOKENIZER_FILE))
    assert tok.get_vocab_size() == 300 and not any("zqx" in t for t in tok.get_vocab())
    assert tok.decode(tok.encode("def g(y):\n    return y\n").ids) == "def g(y):\n    return y\n"
    assert first.corpus.vocab == 300 and first.corpus.train.max() < 300
    assert first.corpus.train.size < corpus.train.size  # merges: fewer tokens than bytes
    # the bytes each id spells add up to the text's bytes
    assert first.token_bytes[first.corpus.train].sum() == corpus.train.size
    again = tokenize(plan, corpus, tmp_path / "ck", train=False)  # read back, not retrained
    assert np.array_equal(again.corpus.train, first.corpus.train)
    assert np.array_equal(again.corpus.held_out, first.corpus.held_out)
    assert (tmp_path / "ck" / TOKENIZER_FILE).read_bytes() == saved
    with pytest.raises(ScalingLawsError, match="has 300 tokens but the plan's vocab is 400"):
        tokenize(LadderPlan(name="t", rungs=plan.rungs, tokenizer="bpe", vocab=400), corpus, tmp_path / "ck")


def test_the_vocabulary_sets_the_parameters_and_the_model(tmp_path):
    torch = require("torch")
    from scalinglaws.train.model import GPT, count_params

    small, big = make_rung("a", 32), make_rung("a", 32, vocab=1024)
    assert big.params - small.params == (1024 - 256) * 32  # the tied embedding; the rest is the same
    assert big.non_embedding_params == small.non_embedding_params
    torch.manual_seed(0)
    assert count_params(GPT(32, 1, 2, vocab=1024)) == big.params
    plan = _bpe_plan(vocab=1024)
    back = read_plan(write_plan(plan, tmp_path / "p.toml"))
    assert back.tokenizer == "bpe" and back.vocab == 1024 and back.rungs[0].params == plan.rungs[0].params


@pytest.mark.parametrize("settings, words", [({"tokenizer": "words"}, "tokenizer must be one of bytes, bpe"),
                                             ({"tokenizer": "bpe", "vocab": 256}, "vocab must be above 256")])
def test_bad_tokenizer_settings(settings, words):
    with pytest.raises(ScalingLawsError, match=words):
        LadderPlan(name="x", rungs=(make_rung("a", 16),), **settings)


def test_bpe_needs_text_and_the_library(tmp_path, monkeypatch):
    from scalinglaws.train.data import load
    from scalinglaws.train.tokenizer import tokenize

    np.save(tmp_path / "ids.npy", np.arange(40_000) % 300)
    plan = _bpe_plan()
    with pytest.raises(ScalingLawsError, match="already token ids"):
        tokenize(plan, load(str(tmp_path / "ids.npy")), tmp_path / "ck")
    monkeypatch.setitem(sys.modules, "tokenizers", None)
    with pytest.raises(ScalingLawsError, match=r"pip install 'scalinglaws\[train\]'"):
        tokenize(plan, load("stdlib", limit=50_000), tmp_path / "ck2")


def test_a_bpe_ladder_resumes_with_its_tokenizer_and_records_bits_per_byte(tmp_path):
    require("torch")
    from scalinglaws.train.loop import Crash
    from scalinglaws.train.tokenizer import TOKENIZER_FILE

    plan = _bpe_plan()
    path, store = write_plan(plan, tmp_path / "b.toml"), tmp_path / "s.duckdb"
    rung = plan.rungs[0]
    with pytest.raises(Crash):
        run_ladder(path, store, threads=1, _crash={"w16": rung.eval_every + 1})
    saved = (tmp_path / "b.ckpt" / TOKENIZER_FILE).read_bytes()
    result = run_ladder(path, store, threads=1)
    assert (tmp_path / "b.ckpt" / TOKENIZER_FILE).read_bytes() == saved
    assert result.rungs[0]["resumed_from"] == rung.eval_every
    with duckdb.connect(str(store), read_only=True) as con:
        rows = con.execute("SELECT step, loss, bits_per_byte, vocab, tokenizer FROM runs ORDER BY step").fetchall()
    assert [r[0] for r in rows] == sorted({*range(rung.eval_every, rung.steps + 1, rung.eval_every), rung.steps})
    for _, loss, bpb, vocab, kind in rows:
        assert vocab == 320 and kind == "bpe"
        assert 0 < bpb < loss / math.log(2)  # a BPE token spells more than one byte


def test_ladder_plan_takes_a_bpe_tokenizer(cli, tmp_path):
    code, out, err = cli("ladder", "plan", "-o", str(tmp_path / "l.toml"), "--flops", "1e12", "--rungs", "3",
                         "--tokenizer", "bpe", "--vocab-size", "512")
    assert code == 0, err
    plan = read_plan(tmp_path / "l.toml")
    assert plan.tokenizer == "bpe" and plan.vocab == 512
    assert all(r.params - make_rung("x", r.width, depth=r.depth).params == 256 * r.width for r in plan.rungs)
    code, out, err = cli("ladder", "plan", "-o", str(tmp_path / "m.toml"), "--flops", "1e12", "--vocab-size", "512")
    assert code == 1 and err.startswith("Error: --vocab-size 512 needs --tokenizer bpe")
    code, out, err = cli("ladder", "plan", "-o", str(tmp_path / "n.toml"), "--flops", "1e12", "--tokenizer", "bpe",
                         "--vocab-size", "100")
    assert code == 1 and "vocab must be above 256" in err and err.count("\n") == 1
