"""What experts, granularity, parallel streams and precision cost the planner (plan/axes.py), one `AxisCost`
each, registered by the runs-table column the planner chooses.

Conventions (each record's `convention` says the same in one line):

- experts (`moe_num_experts`, Clark et al. 2022): top-1 routing, every expert as wide as the dense FFN. A token
  passes through the active parameters n, so C = 6·n·D plus the router (6·d_model·E per layer per token); memory
  holds every expert: total = n/3 + (2/3)·n·E, the FFN being 2/3 of a block's 12·d_model² parameters.
- granularity (`granularity`, Krajewski et al. 2024, sec. 6): the planned size is the TOTAL non-embedding
  count N their law reads; experts G times narrower than the FFN, G times as many active, expansion rate E = 64,
  so N = d_model²·(8E + 4)·blocks and N_active = 12·d_model²·blocks, with d_model = 64·blocks (their eq. 10 and
  the shape they assume). C = (c_f·N_active + c_r·d_model·E·G·blocks)·D with c_f = 6 and the router's c_r = 14
  (their Appendix E): the router, a d_model × E·G matmul per block, is what stops G growing.
- streams (`streams`, Chen et al. 2025): P forward and backward passes over one set of weights, C = 6·n·D·P; the
  weights are held once (the per-stream prefixes, about 0.2% of n each in the paper, are left out). At inference
  the KV cache grows P-fold while the weights do not, which is ParScale's memory advantage over a model of
  n·(k·ln P + 1) parameters; `stream_inference` counts the memory and the time of a decoding step as the
  paper's cost analysis does.
- precision (`precision_bits`, Kumar et al. 2024): FLOP counted in 16-bit equivalents, cost linear in bits,
  C = 6·n·D·P/16 (their eq. 5); parameters held are n (bytes n·P/8). The one precision is also that of weights,
  activations and KV cache, so the law `precision` (three gammas) is planned along P_w = P_a = P_kv.

The shape behind d_model for experts: n = 12·d_model²·layers with layers = d_model/ASPECT (ASPECT = 128).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .axes import AxisCost, register_axis_cost

ASPECT = 128.0  # d_model per layer of the shape that turns a parameter count into a width
EXPANSION = 64.0  # Krajewski et al. 2024 fix the FFN expansion of their MoE models at 64 dense FFNs' worth
FFN_SHARE = 2.0 / 3.0  # of a block's 12·d_model² parameters, the FFN's 8·d_model²
ROUTER_FLOPS = 6.0  # FLOP per router weight per token, forward and backward
# Krajewski et al. 2024, sec. 6.1 and Appendix E: FLOP per active weight outside the router (c_f) and inside it
# (c_r, which also counts the softmax and the expert-choice selection), and the shape d_model = 64·blocks
GRANULAR_CF, GRANULAR_CR, GRANULAR_ASPECT = 6.0, 14.0, 64.0


def width_and_depth(n):
    """d_model and layers of n non-embedding parameters: n = 12·d²·(d/ASPECT)."""
    d_model = np.cbrt(ASPECT * np.asarray(n, dtype=float) / 12.0)
    return d_model, d_model / ASPECT


def _router(n, experts):
    d_model, layers = width_and_depth(n)
    return ROUTER_FLOPS * d_model * experts * layers  # FLOP per token


EXPERTS = register_axis_cost(AxisCost(
    name="experts", axis="moe_num_experts", size="active parameters N",
    columns=lambda n, d, x: {"params_active": n, "tokens": d, "moe_num_experts": x},
    flops=lambda n, d, x: (6.0 * n + _router(n, x)) * d,
    total_params=lambda n, x: (1.0 - FFN_SHARE) * n + FFN_SHARE * n * x,
    convention="C = (6·N_active + 6·d_model·E·layers)·D; held: N_active/3 + (2/3)·N_active·E (top-1, experts as "
               "wide as the dense FFN)",
    reference="Clark et al. 2022, arXiv:2202.01169", integer=True,
))

def granular_active_params(n, expansion: float = EXPANSION):
    """N_active of a fine-grained MoE of n total non-embedding parameters: 12·d_model²·blocks of the
    d_model²·(8E + 4)·blocks (Krajewski et al. 2024, sec. 6.1; attention 4·d², every expert 8·d², one expert's
    worth active)."""
    return 12.0 * np.asarray(n, dtype=float) / (8.0 * expansion + 4.0)


def _granular_flops_per_token(n, granularity):
    """c_f·N_active + c_r·d_model·E·G·blocks (Krajewski et al. 2024, eq. 10), d_model = 64·blocks."""
    active = granular_active_params(n)
    d_model = np.cbrt(GRANULAR_ASPECT * active / 12.0)  # 12·d²·(d/64) = N_active
    return (GRANULAR_CF * active
            + GRANULAR_CR * d_model * EXPANSION * granularity * (d_model / GRANULAR_ASPECT))


GRANULARITY = register_axis_cost(AxisCost(
    name="granularity", axis="granularity", size="total parameters N",
    columns=lambda n, d, x: {"params": n, "tokens": d, "granularity": x},
    flops=lambda n, d, x: _granular_flops_per_token(n, x) * d,
    total_params=lambda n, x: n + 0.0 * x,
    convention="N total = d_model²·(8·64 + 4)·blocks, N_active = 12·N/516, d_model = 64·blocks; "
               "C = (6·N_active + 14·d_model·64·G·blocks)·D (router over 64·G experts); held: N",
    reference="Krajewski et al. 2024, arXiv:2402.07871, sec. 6 and eq. 10", integer=True,
))

STREAMS = register_axis_cost(AxisCost(
    name="streams", axis="streams",
    columns=lambda n, d, x: {"params": n, "tokens": d, "streams": x},
    flops=lambda n, d, x: 6.0 * n * d * x,
    total_params=lambda n, x: n + 0.0 * x,
    convention="C = 6·N·D·P (P passes over one set of weights); held: N (prefixes left out); inference: P-fold KV "
               "cache and compute, weights once (stream_inference)",
    reference="Chen et al. 2025, arXiv:2505.10475", integer=True,
))

# Chen et al. 2025's cost analysis (their released `cost_analysis.py`, after llm-analysis): P streams decode as a
# batch of batch·P sequences through one set of weights, each with 48 learned prefix tokens in its KV cache, plus
# an aggregation layer of (d_model + 1)·d_model·P weights; an A100-SXM-80GB at 70% of its 312 TFLOP/s (bf16) and
# 90% of its 2.039 TB/s
STREAM_PREFIX_TOKENS = 48
A100_FLOPS, A100_BANDWIDTH, FLOPS_EFFICIENCY, HBM_EFFICIENCY = 312e12, 2.039e12, 0.7, 0.9


@dataclass(frozen=True)
class StreamInference:
    """What serving one request on P streams costs: a prompt of `input_tokens`, then `output_tokens` decoded."""

    streams: int
    batch: int
    extra_params: float  # the aggregation layer's weights (0 at P = 1); the prefixes live in the KV cache
    weight_bytes: float  # every weight, held once and read once per forward pass whatever P
    kv_bytes: float  # keys and values of batch·P sequences at the end of the request (prefix included)
    memory_bytes: float  # weights + KV cache (activations, small when decoding, left out)
    prefill_seconds: float  # the prompt, batch·P sequences in one pass
    decode_seconds: float  # output_tokens steps, each the slower of reading the bytes and doing the FLOP
    request_seconds: float  # prefill + decode


def _pass_seconds(weights, kv, flops, flops_per_second, bytes_per_second):
    """A roofline: a forward pass takes the longer of reading its bytes and doing its FLOP."""
    return np.maximum((weights + kv) / bytes_per_second, flops / flops_per_second)


def stream_inference(n, streams, *, batch: int = 1, input_tokens: int = 64, output_tokens: int = 64,
                     d_model: float | None = None, layers: float | None = None, kv_share: float = 0.125,
                     bytes_per_value: float = 2.0, flops_per_second: float = A100_FLOPS * FLOPS_EFFICIENCY,
                     bytes_per_second: float = A100_BANDWIDTH * HBM_EFFICIENCY) -> StreamInference:
    """Memory and latency of a model of n non-embedding parameters serving a request on `streams` parallel streams,
    counted as Chen et al. 2025's cost analysis does (their `cost_analysis.py`: batch·P sequences through one set
    of weights, 48 prefix tokens each, an aggregation layer; prompt and output 64 tokens, batch 1 by default), on
    a roofline rather than llm-analysis's finer model. The shape defaults to this module's (d_model from n, d_model/128
    layers); kv_share is the keys' width over d_model (0.125: 2 KV heads of 16, as the paper's models).

    The weights are read once per pass for every stream, so where decoding is bound by memory bandwidth (small
    batches) P streams take little more time than one, and hold only a P-fold KV cache more; the FLOP grow P-fold,
    which the prompt's pass, bound by compute, feels."""
    p = int(streams)
    if p < 1 or batch < 1 or input_tokens < 1 or output_tokens < 0:
        raise ValueError(f"streams, batch and input_tokens must be at least 1 and output_tokens at least 0 (got "
                         f"{streams}, {batch}, {input_tokens}, {output_tokens})")
    if d_model is None or layers is None:
        d_auto, layers_auto = width_and_depth(n)
        d_model = float(d_auto) if d_model is None else float(d_model)
        layers = float(layers_auto) if layers is None else float(layers)
    extra = (d_model + 1.0) * d_model * p if p > 1 else 0.0
    prefix = STREAM_PREFIX_TOKENS if p > 1 else 0
    sequences = batch * p
    kv_per_token = 2.0 * layers * kv_share * d_model * bytes_per_value * sequences  # keys and values, every layer
    weights = (float(n) + extra) * bytes_per_value
    dense_flops = 2.0 * (float(n) + extra) * sequences  # per token of every sequence
    attention = 4.0 * layers * d_model * sequences  # per token of every sequence, per cached token attended
    prompt = input_tokens + prefix
    prefill = float(_pass_seconds(weights, kv_per_token * prompt,
                                  input_tokens * (dense_flops + attention * prompt / 2.0),
                                  flops_per_second, bytes_per_second))
    cached = prompt + np.arange(output_tokens)  # tokens in the cache at each decoding step
    decode = float(np.sum(_pass_seconds(weights, kv_per_token * cached, dense_flops + attention * cached,
                                        flops_per_second, bytes_per_second)))
    kv = kv_per_token * (prompt + output_tokens)
    return StreamInference(streams=p, batch=int(batch), extra_params=extra, weight_bytes=weights, kv_bytes=kv,
                           memory_bytes=weights + kv, prefill_seconds=prefill, decode_seconds=decode,
                           request_seconds=prefill + decode)


PRECISION = register_axis_cost(AxisCost(
    name="precision", axis="precision_bits",
    # one precision for weights, activations and KV cache, as pretraining needs (a matmul takes inputs of one
    # precision, Kumar et al. 2024 sec. 4.2): it sets the one column of `precision_bits` and the three of `precision`
    columns=lambda n, d, x: {"params": n, "tokens": d, "precision_bits": x, "precision_weights": x,
                             "precision_activations": x, "precision_kv": x},
    flops=lambda n, d, x: 6.0 * n * d * x / 16.0,
    total_params=lambda n, x: n + 0.0 * x,
    convention="C = 6·N·D·P/16 (16-bit-equivalent FLOP, linear in bits); held: N parameters of P bits",
    reference="Kumar et al. 2024, arXiv:2411.04330, sec. 4.3",
))
