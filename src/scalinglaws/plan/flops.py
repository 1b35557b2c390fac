"""Parameter and FLOP accounting for a decoder-only transformer, dense or mixture-of-experts.

Scaling-law papers count differently, and the differences move fitted exponents and compute-optimal ratios by
amounts that matter (Porian et al. 2024, §3; Pearce & Song 2024). This module counts a given shape every common
way, so a user can say which convention their runs table used and see how far 6·N·D is from a full count.

Parameters (weight matrices, plus norm gains when `norm` says so; biases are not counted):
    attention per layer   d·h_d·(H + 2·H_kv) + H·h_d·d      (Q, K, V, output; grouped-query when H_kv < H)
    MLP per layer         m·d·f, m = 3 for gated units (SwiGLU), 2 otherwise
    MoE layer             E experts of m·d·f_e, shared experts m·d·f_s, router d·E; top-k experts are active
    embeddings            V·d in, V·d out unless tied, S·d for learned positions
FLOPs per token of training (3 × forward: the backward pass costs twice the forward, Kaplan et al. 2020 §2.1):
    "6N"             6 × all (active) parameters, embeddings included (Hoffmann et al. 2022)
    "6N-nonembed"    6 × non-embedding (active) parameters (Kaplan et al. 2020, C ≈ 6N)
    "kaplan"         6·N_ne + 6·L·S·d_attn (Kaplan et al. 2020, Table 1: forward 2N + 2·n_layer·n_ctx·d_attn)
    "6N+attention"   6·N_ne + 12·L·S·d_attn: both context matmuls (QKᵀ and AV) over the full context, as in
                     Hoffmann et al. 2022 App. F; the M of Step Law (Li et al. 2025)
    "hoffmann"       the full count of Hoffmann et al. 2022, Appendix F: embedding and output matmuls, Q/K/V and
                     output projections, QKᵀ, softmax (3·H·S), AV, MLP (router for MoE)
None halves the attention matmuls for causal masking (neither paper does); FlashAttention-style kernels that skip
the masked half do about half the attention work.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..errors import ScalingLawsError
from ..records import format_of
from ..render.table import Tabular

CONVENTIONS = ("6N", "6N-nonembed", "kaplan", "6N+attention", "hoffmann")
NORMS = {"none": 0, "rms": 1, "layer": 2}  # gain (and bias) vectors of width d per norm
POSITIONS = ("none", "rotary", "learned")


@dataclass(frozen=True)
class Transformer:
    layers: int
    width: int  # d_model
    heads: int
    vocab: int
    seq_len: int
    kv_heads: int | None = None  # grouped-query attention; default: heads
    head_dim: int | None = None  # default: width / heads
    ffn: int | None = None  # MLP hidden size; default 4·width
    glu: bool = False  # gated MLP: three matrices (SwiGLU, GeGLU)
    tied: bool = False  # output embedding shares the input embedding
    positions: str = "none"  # "learned" adds seq_len·width parameters
    norm: str = "none"  # "rms" or "layer": count norm gains (2 per layer and a final one)
    experts: int = 0  # routed experts per MoE layer (0: dense)
    active_experts: int = 0  # experts per token (top-k)
    expert_ffn: int | None = None  # hidden size of one expert; default ffn
    shared_ffn: int = 0  # total hidden size of always-active shared experts
    dense_layers: int = 0  # leading layers that keep a dense MLP in an MoE model
    name: str = ""

    def __post_init__(self) -> None:
        for key in ("layers", "width", "heads", "vocab", "seq_len"):
            v = getattr(self, key)
            if not isinstance(v, int) or v <= 0:
                raise ScalingLawsError(f"--{key.replace('_', '-')} must be a positive whole number (got {v!r})")
        for key in ("kv_heads", "head_dim", "ffn", "expert_ffn"):
            v = getattr(self, key)
            if v is not None and (not isinstance(v, int) or v <= 0):
                raise ScalingLawsError(f"--{key.replace('_', '-')} must be a positive whole number (got {v!r})")
        for key in ("experts", "active_experts", "shared_ffn", "dense_layers"):
            v = getattr(self, key)
            if not isinstance(v, int) or v < 0:
                raise ScalingLawsError(f"--{key.replace('_', '-')} must be 0 or a positive whole number (got {v!r})")
        if self.head_dim is None and self.width % self.heads:
            raise ScalingLawsError(f"--width {self.width} is not divisible by --heads {self.heads}: give --head-dim")
        if self.heads % self.kv_h:
            raise ScalingLawsError(f"--kv-heads {self.kv_h} must divide --heads {self.heads}")
        if self.norm not in NORMS:
            raise ScalingLawsError(f"--norm must be one of {', '.join(NORMS)} (got '{self.norm}')")
        if self.positions not in POSITIONS:
            raise ScalingLawsError(f"--positions must be one of {', '.join(POSITIONS)} (got '{self.positions}')")
        if self.experts:
            if not 1 <= self.active_experts <= self.experts:
                raise ScalingLawsError(f"--active-experts must be between 1 and --experts {self.experts} (got "
                                       f"{self.active_experts})")
            if self.dense_layers > self.layers:
                raise ScalingLawsError(f"--dense-layers {self.dense_layers} exceeds --layers {self.layers}")
        elif self.active_experts or self.shared_ffn or self.dense_layers or self.expert_ffn:
            raise ScalingLawsError("--active-experts, --expert-ffn, --shared-ffn and --dense-layers describe a "
                                   "mixture of experts: give --experts too")

    # -- derived sizes --------------------------------------------------------------------------------------------
    @property
    def kv_h(self) -> int:
        return self.kv_heads or self.heads

    @property
    def hd(self) -> int:
        return self.head_dim or self.width // self.heads

    @property
    def d_attn(self) -> int:
        return self.heads * self.hd

    @property
    def d_ff(self) -> int:
        return self.ffn or 4 * self.width

    @property
    def mats(self) -> int:
        return 3 if self.glu else 2

    @property
    def moe_layers(self) -> int:
        return self.layers - self.dense_layers if self.experts else 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, repr=False)
class Accounting(Tabular):
    shape: dict
    params: dict  # total, non_embedding, embedding, active, active_non_embedding
    breakdown: dict  # parameters by part
    flops_per_token: dict  # convention -> training FLOP per token
    forward_per_token: dict  # the "hoffmann" forward pass by part
    tokens: float | None
    training_flops: dict | None  # convention -> k·D
    ratio_to_6N: dict  # convention -> flops_per_token / (6 · total active parameters)

    def to_dict(self) -> dict:
        return {"format": format_of("accounting"), **asdict(self)}


def count(shape: Transformer, tokens: float | None = None) -> Accounting:
    """Parameters and training FLOPs per token of `shape` under every convention (and for `tokens` tokens)."""
    s = shape
    d, L, V, S = s.width, s.layers, s.vocab, s.seq_len
    attn = d * s.hd * (s.heads + 2 * s.kv_h) + s.d_attn * d
    dense_mlp = s.mats * d * s.d_ff
    f_e = s.expert_ffn or s.d_ff
    expert = s.mats * d * f_e
    shared = s.mats * d * s.shared_ffn
    router = d * s.experts
    norms = NORMS[s.norm] * d * (2 * L + 1)
    dense_count = L - s.moe_layers
    embedding = V * d
    positions = S * d if s.positions == "learned" else 0
    unembedding = 0 if s.tied else V * d
    breakdown = {"embedding": embedding, "positions": positions, "unembedding": unembedding,
                 "attention": L * attn, "mlp": dense_count * dense_mlp, "experts": s.moe_layers * s.experts * expert,
                 "experts_active": s.moe_layers * s.active_experts * expert, "shared_experts": s.moe_layers * shared,
                 "router": s.moe_layers * router, "norms": norms}
    common = breakdown["attention"] + breakdown["mlp"] + breakdown["shared_experts"] + breakdown["router"] + norms
    non_embedding = common + breakdown["experts"]
    active_ne = common + breakdown["experts_active"]
    embed_all = embedding + positions + unembedding
    params = {"total": non_embedding + embed_all, "non_embedding": non_embedding, "embedding": embed_all,
              "active": active_ne + embed_all, "active_non_embedding": active_ne}
    # Hoffmann et al. 2022, App. F, per token of the forward pass (their per-sequence counts divided by S)
    ffn_fwd = 2 * (dense_count * dense_mlp + s.moe_layers * (s.active_experts * expert + shared + router))
    forward = {"embedding": 2 * V * d, "attention_projections": 2 * L * attn,
               "attention_logits": 2 * L * S * s.d_attn, "softmax": 3 * L * s.heads * S,
               "attention_values": 2 * L * S * s.d_attn, "mlp": ffn_fwd, "output_logits": 2 * d * V}
    per_token = {
        "6N": 6 * params["active"],
        "6N-nonembed": 6 * active_ne,
        "kaplan": 6 * active_ne + 6 * L * S * s.d_attn,
        "6N+attention": 6 * active_ne + 12 * L * S * s.d_attn,
        "hoffmann": 3 * sum(forward.values()),
    }
    base = 6 * params["active"]
    return Accounting(
        shape=s.to_dict(), params=params, breakdown=breakdown,
        flops_per_token={k: int(v) for k, v in per_token.items()},
        forward_per_token=forward, tokens=None if tokens is None else float(tokens),
        training_flops=None if tokens is None else {k: float(v) * float(tokens) for k, v in per_token.items()},
        ratio_to_6N={k: v / base for k, v in per_token.items()})


# Published shapes, for checks and as starting points (weights as the papers give them).
PRESETS = {
    # Brown et al. 2020, Table 2.1 (learned positions; LayerNorm; biases not counted)
    "gpt3-175b": Transformer(layers=96, width=12288, heads=96, vocab=50257, seq_len=2048, positions="learned",
                             norm="layer", tied=True, name="GPT-3 175B"),
    # Hoffmann et al. 2022, Table 4 (relative positions, RMSNorm, 32k vocabulary)
    "chinchilla-70b": Transformer(layers=80, width=8192, heads=64, vocab=32000, seq_len=2048, norm="rms",
                                  name="Chinchilla 70B"),
    # Touvron et al. 2023 (Llama 2), 7B: SwiGLU 11008, RMSNorm, untied; 6,738,415,616 parameters
    "llama2-7b": Transformer(layers=32, width=4096, heads=32, vocab=32000, seq_len=4096, ffn=11008, glu=True,
                             norm="rms", name="Llama 2 7B"),
    # Jiang et al. 2024 (Mixtral 8x7B): 8 experts, top-2, GQA with 8 KV heads
    "mixtral-8x7b": Transformer(layers=32, width=4096, heads=32, kv_heads=8, vocab=32000, seq_len=4096, ffn=14336,
                                glu=True, norm="rms", experts=8, active_experts=2, name="Mixtral 8x7B"),
}


def preset(name: str) -> Transformer:
    if name not in PRESETS:
        raise ScalingLawsError(f"unknown --preset '{name}'. Choose one of: {', '.join(PRESETS)}")
    return PRESETS[name]
