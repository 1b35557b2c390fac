"""A ladder plan: the rungs to train, each a model shape with its tokens, hyperparameters, schedule and cost.

The shape rule (one for every rung): width d a multiple of the head width (head_dim 16), heads = d / head_dim,
and depth L with d / L within a factor of 2 of `aspect` (32: width over depth in the flat optimum Kaplan et al.
2020, Fig. 5, found for small models); `make_rung` without a depth takes L = round(d / aspect). Parameters and
FLOPs per token come from the project's FLOP accounting (plan/flops.py) for exactly the model train/model.py
builds: learned positions, LayerNorm, tied embeddings of the plan's `vocab` tokens (256 bytes, or a BPE's size with
`tokenizer = "bpe"`), a 4·d MLP. Training FLOPs count `FLOP_CONVENTION`
("6N+attention": 6 × non-embedding parameters plus both attention matmuls over the context, the M of Step Law,
Li et al. 2025).

`plan_ladder` spaces the rungs' compute geometrically from the largest (`flops`) down by `span`, picks for each
the shape whose compute at `tokens_per_param` tokens per parameter comes nearest (each shape once; among equals
the one with d / L nearest `aspect`), gives it the tokens that make its compute the target, and sets the learning
rate and batch size from Step Law (plan/hparams.py; the rule was fitted on models above 10^8 parameters, so its
learning rate is capped at `lr_cap` for these small ones). With `hold_back`, the largest rung is spaced
`hold_back_gap` times the compute of the next, and `ladder run` forecasts it from the others before training it.

The plan is written as a TOML file a user can edit (`write_plan`), and read back with tomllib (`read_plan`):
scalars at the top, one [[rung]] table per rung.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from ..errors import ScalingLawsError
from ..files import write_atomic
from ..plan.flops import Transformer, count
from ..plan.hparams import COEFFICIENTS, STEP_LAW, HparamLaw
from ..records import format_of

FLOP_CONVENTION = "6N+attention"
SCHEDULES = ("wsd", "cosine")
TOKENIZERS = ("bytes", "bpe")  # train/tokenizer.py


@dataclass(frozen=True)
class Rung:
    name: str
    depth: int
    width: int
    heads: int
    params: int  # every parameter of the model
    non_embedding_params: int
    flops_per_token: int  # FLOP_CONVENTION
    tokens: int  # steps · batch · seq_len
    steps: int
    batch: int  # sequences per step
    lr: float  # peak learning rate
    seed: int = 0
    eval_every: int = 100  # steps between evaluations (and the last step)
    hold_back: bool = False  # forecast from the other rungs before it is trained
    added: bool = False  # added by `ladder run --until-width` to narrow the held-back rung's forecast

    @property
    def flops(self) -> float:
        return float(self.flops_per_token) * self.tokens


@dataclass(frozen=True)
class LadderPlan:
    name: str
    rungs: tuple[Rung, ...]
    corpus: str = "stdlib"
    corpus_bytes: int = 24_000_000  # of the standard library, or of addition problems made (others: ignored)
    seq_len: int = 128
    vocab: int = 256  # the model's vocabulary: 256 for bytes, the BPE's size for "bpe"
    tokenizer: str = "bytes"  # or "bpe": trained on the corpus's training split (train/tokenizer.py)
    aspect: int = 32
    head_dim: int = 16
    tokens_per_param: float = 20.0
    schedule: str = "wsd"
    warmup: float = 0.05  # fraction of steps
    cooldown: float = 0.2  # WSD: fraction of steps decayed linearly to zero at the end
    branches: tuple[float, ...] = ()  # WSD: shorter runs cooled down from the stable phase, as fractions of steps
    min_lr: float = 0.1  # cosine: final learning rate as a fraction of the peak
    weight_decay: float = 0.1
    eval_batches: int = 8
    eval_batch: int = 16  # sequences per evaluation batch
    throughput: float = 2e10  # FLOP/s for the cost in device-hours (`ladder plan --throughput measure` times it)
    hparams: str = STEP_LAW.source  # the law the rungs' learning rates and batch sizes came from
    hparams_law: tuple[float, ...] = ()  # its six coefficients (plan/hparams.py COEFFICIENTS); () for Step Law
    device: str = "cpu"
    compile: bool = False
    level: float = 0.95  # of the forecast interval
    flop_convention: str = FLOP_CONVENTION
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.tokenizer not in TOKENIZERS:
            raise ScalingLawsError(f"tokenizer must be one of {', '.join(TOKENIZERS)} (got '{self.tokenizer}')")
        if self.tokenizer == "bpe" and not self.vocab > 256:
            raise ScalingLawsError(f"a BPE vocabulary holds the 256 bytes and its merges: vocab must be above 256 "
                                   f"(got {self.vocab}), e.g. vocab = 4096")
        if self.schedule not in SCHEDULES:
            raise ScalingLawsError(f"schedule must be one of {', '.join(SCHEDULES)} (got '{self.schedule}')")
        names = [r.name for r in self.rungs]
        if len(set(names)) != len(names):
            raise ScalingLawsError(f"rung names must differ; {sorted({n for n in names if names.count(n) > 1})} "
                                   "appear twice")
        if not self.rungs:
            raise ScalingLawsError("a ladder plan needs at least one [[rung]]")
        if self.branches and self.schedule != "wsd":
            raise ScalingLawsError("cooldown branches need the wsd schedule (a cosine run has no stable phase to "
                                   "branch from): set schedule = \"wsd\" or branches = []")
        if self.hparams_law and len(self.hparams_law) != len(COEFFICIENTS):
            raise ScalingLawsError(f"hparams_law holds the {len(COEFFICIENTS)} coefficients {', '.join(COEFFICIENTS)}"
                                   f" (got {len(self.hparams_law)} numbers); or [] for Step Law")
        bad = [b for b in self.branches if not 0 < b < 1]
        if bad:
            raise ScalingLawsError(f"branches are fractions of a rung's steps between 0 and 1 (got {bad[0]!r}), "
                                   "e.g. branches = [0.25, 0.5]")

    @property
    def flops(self) -> float:
        return sum(r.flops for r in self.rungs)

    @property
    def hparam_law(self) -> HparamLaw | None:
        """The user's learning-rate and batch law the rungs were planned with; None for Step Law."""
        if not self.hparams_law:
            return None
        return HparamLaw(**dict(zip(COEFFICIENTS, self.hparams_law)), source=self.hparams)

    @property
    def device_hours(self) -> float:
        return self.flops / self.throughput / 3600

    def run_name(self, rung: Rung) -> str:
        return f"{self.name}/{rung.name}"

    def rung(self, name: str) -> Rung:
        for r in self.rungs:
            if r.name == name:
                return r
        raise ScalingLawsError(f"the plan has no rung '{name}' (its rungs: {', '.join(r.name for r in self.rungs)})")

    def to_dict(self) -> dict:
        d = {"format": format_of("ladder_plan"), **{f.name: getattr(self, f.name) for f in fields(self)
                                                    if f.name != "rungs"}}
        d["notes"] = list(self.notes)
        d["branches"] = list(self.branches)
        d["hparams_law"] = list(self.hparams_law)
        d["flops"] = self.flops
        d["device_hours"] = self.device_hours
        d["rungs"] = [{**asdict(r), "flops": r.flops, "device_hours": r.flops / self.throughput / 3600}
                      for r in self.rungs]
        return d


def shape_of(depth: int, width: int, heads: int, vocab: int = 256, seq_len: int = 128) -> Transformer:
    """The FLOP accounting's description of the model train/model.py builds."""
    return Transformer(layers=depth, width=width, heads=heads, vocab=vocab, seq_len=seq_len, positions="learned",
                       norm="layer", tied=True)


def make_rung(name: str, width: int, *, depth: int | None = None, aspect: int = 32, head_dim: int = 16,
              vocab: int = 256, seq_len: int = 128, tokens: float | None = None, tokens_per_param: float = 20.0,
              lr_cap: float = 0.01, seed: int = 0, evals: int = 10, hold_back: bool = False,
              hparams: HparamLaw | None = None) -> Rung:
    """One rung by the shape rule, with the learning rate and batch size of `hparams` for its tokens: by default
    Step Law's, its learning rate capped at `lr_cap` (the law was fitted above 10^8 parameters); a law fitted to
    the user's own sweep is taken as it is."""
    if width % head_dim:
        raise ScalingLawsError(f"width {width} is not a multiple of head_dim {head_dim}")
    depth = depth or max(1, int(round(width / aspect)))
    heads = width // head_dim
    acc = count(shape_of(depth, width, heads, vocab, seq_len))
    n_ne = acc.params["non_embedding"]
    want = tokens if tokens is not None else tokens_per_param * acc.params["total"]
    lr, batch_tokens = (hparams or STEP_LAW).evaluate([n_ne], [want])
    lr_top = lr_cap if hparams is None else math.inf
    batch = max(1, int(round(float(batch_tokens[0, 0]) / seq_len)))
    steps = max(10, int(round(want / (batch * seq_len))))
    return Rung(name=name, depth=depth, width=width, heads=heads, params=int(acc.params["total"]),
                non_embedding_params=int(n_ne), flops_per_token=int(acc.flops_per_token[FLOP_CONVENTION]),
                tokens=steps * batch * seq_len, steps=steps, batch=batch, lr=float(min(lr[0, 0], lr_top)),
                seed=seed, eval_every=max(1, steps // evals), hold_back=hold_back)


def plan_ladder(flops: float, *, rungs: int = 5, span: float = 30.0, name: str = "ladder", hold_back: bool = True,
                hold_back_gap: float = 4.0, aspect: int = 32, head_dim: int = 16, seq_len: int = 128,
                vocab: int = 256,
                tokens_per_param: float = 20.0, lr_cap: float = 0.01, seed: int = 0, evals: int = 10,
                hparams: HparamLaw | None = None, **settings) -> LadderPlan:
    """Rungs from compute flops/span up to `flops` (the largest rung's training FLOPs), distinct depths."""
    if not flops > 0 or not span > 1 or rungs < 2:
        raise ScalingLawsError(f"a ladder needs flops > 0, span > 1 and at least 2 rungs (got flops={flops:g}, "
                               f"span={span:g}, rungs={rungs})")
    if hold_back and hold_back_gap >= span:
        raise ScalingLawsError(f"hold_back_gap {hold_back_gap:g} must be below span {span:g}")
    lo = math.log(flops / span)
    if hold_back:  # the others spread over [flops/span, flops/gap], the held-back rung at flops
        targets = list(np.exp(np.linspace(lo, math.log(flops / hold_back_gap), rungs - 1))) + [flops]
    else:
        targets = list(np.exp(np.linspace(lo, math.log(flops), rungs)))
    shapes = [(w, L) for w in range(head_dim, 64 * head_dim + 1, head_dim) for L in range(1, 65)
              if aspect / 2 <= w / L <= aspect * 2 or (L == 1 and w < aspect)]
    probes = [make_rung("", w, depth=L, head_dim=head_dim, vocab=vocab, seq_len=seq_len,
                        tokens_per_param=tokens_per_param) for w, L in shapes]
    cost = np.log([p.flops for p in probes])
    skew = np.abs(np.log([w / L / aspect for w, L in shapes]))
    chosen: list[int] = []
    for t in targets:
        order = np.lexsort((skew, np.round(np.abs(cost - math.log(t)), 1)))
        chosen.append(next(int(i) for i in order if i not in chosen))
    # tokens set so each rung's compute is its target (the shapes are discrete; tokens per parameter then stray a
    # little from tokens_per_param)
    out = [make_rung(f"w{shapes[i][0]}d{shapes[i][1]}", shapes[i][0], depth=shapes[i][1], head_dim=head_dim,
                     vocab=vocab, seq_len=seq_len, tokens=t / probes[i].flops_per_token, lr_cap=lr_cap, seed=seed,
                     evals=evals, hold_back=hold_back and k == len(chosen) - 1, hparams=hparams)
           for k, (i, t) in enumerate(zip(chosen, targets))]
    out.sort(key=lambda r: r.flops)
    return LadderPlan(name=name, rungs=tuple(out), seq_len=seq_len, vocab=vocab, aspect=aspect, head_dim=head_dim,
                      tokens_per_param=tokens_per_param, hparams=(hparams or STEP_LAW).source,
                      hparams_law=() if hparams is None else tuple(float(x) for x in hparams.coefficients()[0]),
                      **settings)


# -- the plan file --------------------------------------------------------------------------------------------------
HEADER = """# A ladder plan: edit it, then `scalinglaws ladder run {path} --store runs.duckdb`.
# Shape rule: heads = width / head_dim, depth = round(width / aspect). Parameters and FLOPs per token are
# recomputed from the shape when the plan is read (plan/flops.py, convention {convention}).
# tokens = steps * batch * seq_len.
# tokenizer: "bytes" (vocab 256) or "bpe" (a byte-level BPE of `vocab` tokens trained on the corpus's training
# split, kept as tokenizer.json in the checkpoint folder); parameters count the embedding of `vocab` tokens.
# schedule: "wsd" (warmup, stable, linear cooldown to zero over the last `cooldown` of the steps)
# or "cosine" (to min_lr times the peak).
# branches (wsd only), e.g. [0.25, 0.5]: from each rung's stable phase, shorter runs of that fraction of its steps,
# each cooled down to zero over its own last `cooldown` fraction: one rung gives several lengths (Hagele et al.
# 2024). Their final points are runs NAME/RUNG@STEPS in the store.
# hparams: where each rung's lr and batch came from; hparams_law its coefficients ([] for Step Law), used for rungs
# that `ladder run --until-width` adds.
"""
RUNG_KEYS = ("name", "depth", "width", "heads", "steps", "batch", "lr", "seed", "eval_every", "hold_back", "added")
TOP_KEYS = ("name", "corpus", "corpus_bytes", "seq_len", "vocab", "tokenizer", "aspect", "head_dim",
            "tokens_per_param", "schedule", "warmup", "cooldown", "branches", "min_lr", "weight_decay", "eval_batches",
            "eval_batch", "throughput", "hparams", "hparams_law", "device", "compile", "level")


def _toml(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (tuple, list)):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def plan_text(plan: LadderPlan, path: str = "PLAN.toml") -> str:
    lines = [HEADER.format(path=path, convention=plan.flop_convention).rstrip("\n"),
             f'format = "{format_of("ladder_plan")}"']
    lines += [f"{k} = {_toml(getattr(plan, k))}" for k in TOP_KEYS]
    lines.append(f"# total: {plan.flops:.4g} FLOP, {plan.device_hours:.3g} device-hours at {plan.throughput:.3g} "
                 "FLOP/s")
    for r in plan.rungs:
        lines += ["", "[[rung]]"] + [f"{k} = {_toml(getattr(r, k))}" for k in RUNG_KEYS]
        lines.append(f"# params {r.params}, non-embedding {r.non_embedding_params}, {r.flops_per_token} FLOP/token, "
                     f"{r.tokens} tokens, {r.flops:.4g} FLOP")
    return "\n".join(lines) + "\n"


def write_plan(plan: LadderPlan, path: str | Path) -> Path:
    return write_atomic(path, plan_text(plan, str(path)), "-o")


def read_plan(path: str | Path) -> LadderPlan:
    """A plan file back as a LadderPlan; sizes and costs recomputed from each rung's shape."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        raise ScalingLawsError("reading a ladder plan needs Python 3.11 or later (tomllib)") from None

    path = Path(path)
    if not path.is_file():
        raise ScalingLawsError(f"no ladder plan at {path}. Make one with `scalinglaws ladder plan -o {path}`")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScalingLawsError(f"{path} is not valid TOML ({exc}). Fix the line it names") from None
    if raw.get("format") != format_of("ladder_plan"):
        raise ScalingLawsError(f"{path} is not a ladder plan of this version (format {raw.get('format')!r}, want "
                               f"'{format_of('ladder_plan')}'). Make one with `scalinglaws ladder plan`")
    top = {k: raw[k] for k in TOP_KEYS if k in raw}
    if "branches" in top:
        b = top["branches"]
        if not isinstance(b, list) or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in b):
            raise ScalingLawsError(f"{path}: branches must be a list of fractions, e.g. branches = [0.25, 0.5] "
                                   f"(got {b!r})")
        top["branches"] = tuple(sorted({float(x) for x in b}))
    if "hparams_law" in top:
        h = top["hparams_law"]
        if not isinstance(h, list) or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in h):
            raise ScalingLawsError(f"{path}: hparams_law must be a list of {len(COEFFICIENTS)} numbers "
                                   f"({', '.join(COEFFICIENTS)}) or [] (got {h!r})")
        top["hparams_law"] = tuple(float(x) for x in h)
    unknown = sorted(set(raw) - set(TOP_KEYS) - {"format", "rung"})
    if unknown:
        raise ScalingLawsError(f"{path}: unknown setting {unknown[0]!r} (known: {', '.join(TOP_KEYS)})")
    seq_len, vocab = int(top.get("seq_len", 128)), int(top.get("vocab", 256))
    rungs = []
    for i, r in enumerate(raw.get("rung", []), start=1):
        missing = [k for k in ("name", "depth", "width", "heads", "steps", "batch", "lr") if k not in r]
        if missing:
            raise ScalingLawsError(f"{path}: [[rung]] {i} lacks {', '.join(missing)}. Give each rung name, depth, "
                                   "width, heads, steps, batch and lr")
        extra = sorted(set(r) - set(RUNG_KEYS))
        if extra:
            raise ScalingLawsError(f"{path}: [[rung]] {i} has unknown key {extra[0]!r} (known: {', '.join(RUNG_KEYS)})")
        for k in ("depth", "width", "heads", "steps", "batch"):
            if not isinstance(r[k], int) or r[k] < 1:
                raise ScalingLawsError(f"{path}: [[rung]] {i} ({r['name']}): {k} must be a positive whole number "
                                       f"(got {r[k]!r})")
        if r["width"] % r["heads"]:
            raise ScalingLawsError(f"{path}: [[rung]] {i} ({r['name']}): width {r['width']} is not divisible by "
                                   f"heads {r['heads']}")
        acc = count(shape_of(r["depth"], r["width"], r["heads"], vocab, seq_len))
        rungs.append(Rung(name=str(r["name"]), depth=r["depth"], width=r["width"], heads=r["heads"],
                          params=int(acc.params["total"]), non_embedding_params=int(acc.params["non_embedding"]),
                          flops_per_token=int(acc.flops_per_token[FLOP_CONVENTION]),
                          tokens=r["steps"] * r["batch"] * seq_len, steps=r["steps"], batch=r["batch"],
                          lr=float(r["lr"]), seed=int(r.get("seed", 0)), eval_every=int(r.get("eval_every", 100)),
                          hold_back=bool(r.get("hold_back", False)), added=bool(r.get("added", False))))
    return LadderPlan(rungs=tuple(rungs), **{"name": path.stem, **top})


def with_rungs(plan: LadderPlan, rungs) -> LadderPlan:
    return replace(plan, rungs=tuple(rungs))
