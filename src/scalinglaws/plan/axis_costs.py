"""What experts, granularity, parallel streams and precision cost the planner (plan/axes.py), one `AxisCost`
each, registered by the runs-table column the planner chooses.

Conventions (each record's `convention` says the same in one line):

- experts (`moe_num_experts`, Clark et al. 2022): top-1 routing, every expert as wide as the dense FFN. A token
  passes through the active parameters n, so C = 6·n·D plus the router (6·d_model·E per layer per token); memory
  holds every expert: total = n/3 + (2/3)·n·E, the FFN being 2/3 of a block's 12·d_model² parameters.
- granularity (`granularity`, Krajewski et al. 2024): experts G times narrower than the FFN, G times as many
  active, expansion rate 64 as in the paper. What stops G growing is the router, a d_model × 64·G matmul per
  layer: 6 FLOP per router weight per token, forward and backward (the paper counts the routing cost with its
  own constant; this is the plain matmul count).
- streams (`streams`, Chen et al. 2025): P forward and backward passes over one set of weights, C = 6·n·D·P; the
  weights are held once (the per-stream prefixes, about 0.2% of n each in the paper, are left out). At inference
  the KV cache grows P-fold while the weights do not, which is ParScale's memory advantage over a model of
  n·(k·ln P + 1) parameters.
- precision (`precision_bits`, Kumar et al. 2024): FLOP counted in 16-bit equivalents, cost linear in bits,
  C = 6·n·D·P/16 (their sec. 4.3 takes C ∝ N·D·P); parameters held are n (bytes n·P/8).

The shape behind d_model: n = 12·d_model²·layers with layers = d_model/ASPECT (ASPECT = 128).
"""

from __future__ import annotations

import numpy as np

from .axes import AxisCost, register_axis_cost

ASPECT = 128.0  # d_model per layer of the shape that turns a parameter count into a width
EXPANSION = 64.0  # Krajewski et al. 2024 fix the FFN expansion of their MoE models at 64 dense FFNs' worth
FFN_SHARE = 2.0 / 3.0  # of a block's 12·d_model² parameters, the FFN's 8·d_model²
ROUTER_FLOPS = 6.0  # FLOP per router weight per token, forward and backward


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

GRANULARITY = register_axis_cost(AxisCost(
    name="granularity", axis="granularity", size="active parameters N",
    columns=lambda n, d, x: {"params_active": n, "tokens": d, "granularity": x},
    flops=lambda n, d, x: (6.0 * n + _router(n, EXPANSION * x)) * d,
    total_params=lambda n, x: (1.0 - FFN_SHARE) * n + FFN_SHARE * n * EXPANSION + 0.0 * x,
    convention="C = (6·N_active + 6·d_model·64·G·layers)·D (router over 64·G experts); held: N_active/3 + "
               "(2/3)·64·N_active",
    reference="Krajewski et al. 2024, arXiv:2402.07871", integer=True,
))

STREAMS = register_axis_cost(AxisCost(
    name="streams", axis="streams",
    columns=lambda n, d, x: {"params": n, "tokens": d, "streams": x},
    flops=lambda n, d, x: 6.0 * n * d * x,
    total_params=lambda n, x: n + 0.0 * x,
    convention="C = 6·N·D·P (P passes over one set of weights); held: N (prefixes left out); inference: P-fold KV "
               "cache and compute, weights once",
    reference="Chen et al. 2025, arXiv:2505.10475", integer=True,
))

PRECISION = register_axis_cost(AxisCost(
    name="precision", axis="precision_bits",
    columns=lambda n, d, x: {"params": n, "tokens": d, "precision_bits": x},
    flops=lambda n, d, x: 6.0 * n * d * x / 16.0,
    total_params=lambda n, x: n + 0.0 * x,
    convention="C = 6·N·D·P/16 (16-bit-equivalent FLOP, linear in bits); held: N parameters of P bits",
    reference="Kumar et al. 2024, arXiv:2411.04330, sec. 4.3",
))
