"""Parameter and FLOP accounting: a small shape by hand, published model sizes, the Step Law runs' own counts."""

from __future__ import annotations

import csv
import json

import pytest

from scalinglaws.errors import ScalingLawsError
from scalinglaws.plan.flops import PRESETS, Transformer, count


def test_small_shape_by_hand():
    # 2 layers, d = 64, 4 heads of 16, MLP 256, vocabulary 100, context 16, untied, no norms counted
    a = count(Transformer(layers=2, width=64, heads=4, vocab=100, seq_len=16), tokens=1000)
    attn = 4 * 64 * 64  # Q, K, V, O
    mlp = 2 * 64 * 256
    assert a.params["non_embedding"] == 2 * (attn + mlp) == 98304
    assert a.params["embedding"] == 2 * 100 * 64
    assert a.params["total"] == 98304 + 12800
    n, n_ne = a.params["total"], a.params["non_embedding"]
    assert a.flops_per_token["6N"] == 6 * n
    assert a.flops_per_token["6N-nonembed"] == 6 * n_ne
    assert a.flops_per_token["kaplan"] == 6 * n_ne + 6 * 2 * 16 * 64
    assert a.flops_per_token["6N+attention"] == 6 * n_ne + 12 * 2 * 16 * 64
    # Hoffmann et al. 2022, App. F, per token of the forward pass, times 3 for training
    forward = (2 * 100 * 64  # embedding
               + 2 * (2 * 3 * 64 * 64  # Q, K, V projections
                      + 2 * 16 * 64  # Q·K logits
                      + 3 * 4 * 16  # softmax
                      + 2 * 16 * 64  # softmax · V
                      + 2 * 64 * 64  # output projection
                      + 2 * 2 * 64 * 256)  # MLP
               + 2 * 64 * 100)  # output logits
    assert a.flops_per_token["hoffmann"] == 3 * forward
    assert a.training_flops["hoffmann"] == 3 * forward * 1000
    assert a.ratio_to_6N["6N"] == 1.0


def test_published_model_sizes():
    llama = count(PRESETS["llama2-7b"])
    assert llama.params["total"] == 6_738_415_616  # the Llama 2 7B checkpoint's parameter count
    mixtral = count(PRESETS["mixtral-8x7b"])
    assert mixtral.params["total"] == 46_702_792_704  # Mixtral 8x7B: total ...
    assert mixtral.params["active"] == 12_879_925_248  # ... and active per token
    gpt3 = count(PRESETS["gpt3-175b"])
    assert gpt3.params["total"] == pytest.approx(175e9, rel=0.005)
    # 12·L·d² plus two LayerNorms (gain and bias) per layer and a final one
    assert gpt3.params["non_embedding"] == 12 * 96 * 12288 ** 2 + 2 * 12288 * (2 * 96 + 1)
    # Kaplan's attention term is a few percent of 6N at GPT-3's size and context
    assert 1.0 < gpt3.ratio_to_6N["kaplan"] < 1.02


def test_step_law_runs_counts(shared_data):
    """Step Law's released runs state N (non-embedding) and M = FLOP per token (6N + 12·L·S·d) for dense and MoE
    shapes; every one must match the count of its own shape."""
    path = shared_data / "steplaw" / "runs.csv"
    if not path.exists():
        pytest.skip(f"{path} is not present")
    seen = {}
    with open(path) as f:
        for r in csv.DictReader(f):
            key = (r["arch"], r["hidden_size"], r["ffn_hidden_size"], r["num_heads"], r["num_layers"],
                   r["moe_num_experts"], r["moe_topk"], r["moe_expert_hidden"], r["run_name"].split("_sed")[-1][:5])
            seen.setdefault(key, r)
    assert len(seen) >= 8
    for r in seen.values():
        h, layers = int(r["hidden_size"]), int(r["num_layers"])
        shape = dict(layers=layers, width=h, heads=int(r["num_heads"]), vocab=65536, seq_len=int(r["seq_len"]),
                     ffn=int(r["ffn_hidden_size"]), glu=True)
        if r["arch"] == "moe":
            shared = int(r["run_name"].split("_sed")[1].split("_")[0])  # shared-expert width, from the run name
            shape.update(experts=int(r["moe_num_experts"]), active_experts=int(r["moe_topk"]),
                         expert_ffn=int(r["moe_expert_hidden"]), shared_ffn=shared, dense_layers=1)
        a = count(Transformer(**shape))
        router = a.breakdown["router"]  # Step Law's counts leave the router out
        assert a.params["non_embedding"] - router == int(float(r["params"])), r["run_name"]
        if r["arch"] == "moe":
            assert a.params["active_non_embedding"] - router == int(float(r["params_active"]))
            assert a.flops_per_token["6N+attention"] - 6 * router == int(float(r["flops_per_token_M"]))
        else:
            per_layer = 4 * h + 3 * shape["ffn"] + 2 * shape["seq_len"]
            assert a.flops_per_token["6N+attention"] == 6 * per_layer * layers * h


def test_grouped_query_attention_and_moe_active_counts():
    mha = count(Transformer(layers=4, width=512, heads=8, vocab=1000, seq_len=128))
    gqa = count(Transformer(layers=4, width=512, heads=8, kv_heads=2, vocab=1000, seq_len=128))
    assert mha.breakdown["attention"] - gqa.breakdown["attention"] == 4 * 2 * 512 * 64 * (8 - 2)
    moe = count(Transformer(layers=4, width=512, heads=8, vocab=1000, seq_len=128, experts=8, active_experts=2))
    assert moe.params["total"] - moe.params["active"] == 4 * 6 * 2 * 512 * 2048
    assert moe.flops_per_token["6N"] == 6 * moe.params["active"]


@pytest.mark.parametrize("kwargs, message", [
    ({"layers": 0}, "--layers must be a positive"),
    ({"heads": 5}, "not divisible by --heads"),
    ({"kv_heads": 3}, "must divide --heads"),
    ({"experts": 4, "active_experts": 5}, "--active-experts must be between"),
    ({"active_experts": 2}, "give --experts too"),
    ({"norm": "batch"}, "--norm must be one of"),
])
def test_bad_shapes(kwargs, message):
    base = dict(layers=2, width=64, heads=4, vocab=100, seq_len=16)
    with pytest.raises(ScalingLawsError, match=message):
        Transformer(**{**base, **kwargs})


def test_cli_flops(cli):
    code, out, err = cli("flops", "--preset", "llama2-7b", "--tokens", "2e12", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["params"]["total"] == 6_738_415_616
    assert d["training_flops"]["6N"] == pytest.approx(6 * 6_738_415_616 * 2e12)
    code, out, err = cli("flops", "--layers", "2", "--width", "64", "--heads", "4", "--vocab", "100", "--seq-len",
                         "16")
    assert code == 0 and "hoffmann" in out and "kaplan" in out
    code, out, err = cli("flops", "--preset", "mixtral-8x7b", "--seq-len", "32768")  # a preset, one field changed
    assert code == 0 and "active per token" in out
    code, out, err = cli("flops", "--layers", "2", "--width", "64")
    assert code == 1 and "--heads --vocab --seq-len" in err
    code, out, err = cli("flops", "--preset", "gpt5")
    assert code == 1 and "unknown --preset 'gpt5'" in err
