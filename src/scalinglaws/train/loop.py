"""Training one rung: AdamW under a WSD or cosine schedule, an evaluation every `eval_every` steps, a checkpoint
at each evaluation, and every evaluation point handed to `emit` as it happens.

A point: run, step, tokens (seen so far), flops (their training FLOPs), lr, train_loss (mean since the last point),
loss (held-out, nats per token of the plan's tokenizer: per byte with bytes), bits_per_byte (the same held-out
loss in bits per UTF-8 byte of the text, comparable across tokenizers), tokens_per_s (training throughput since the
last point, evaluations and checkpoints left out) and the rung's config.

The checkpoint holds the model, the optimizer, the step and every point so far, and is written before its point
is emitted. A rung stopped anywhere resumes from its last checkpoint: it first re-emits the checkpoint's points
(the store leaves out those it holds, so none is lost between the checkpoint and the store, and none is written
twice), then trains on with the very batches it would have drawn (data.Corpus.batch is seeded by the step).

Cooldown branches (WSD with `branches`, Hägele et al. 2024, "Scaling Laws and Compute-Optimal Training Beyond
Fixed Training Durations"): a branch of fraction f ends at step E = round(f·steps) and cools down linearly to zero
over its last round(cooldown·E) steps, from the main run's state at the start of that cooldown, which lies in the
main run's stable phase. The main run evaluates and checkpoints there, trains the branch on the batches the main
run itself draws at those steps, keeps the branch's final point (run `RUN@E`, final, with `branch_of`), restores
its own state and goes on. A kill during a branch resumes at the branch's start and trains it again.
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ScalingLawsError
from .data import Corpus
from .ladder import LadderPlan, Rung

CHECKPOINT_VERSION = 1


class Crash(RuntimeError):
    """Raised by the test hook `crash_at` to stop a rung part way, as a kill would."""


def lr_at(step: int, rung: Rung, plan: LadderPlan) -> float:
    """The learning rate of optimizer step `step` (0-based): linear warmup, then WSD's plateau and linear cooldown
    to zero (Hu et al. 2024, MiniCPM), or cosine decay to min_lr·peak."""
    warm = max(1, int(round(plan.warmup * rung.steps)))
    if step < warm:
        return rung.lr * (step + 1) / warm
    if plan.schedule == "wsd":
        cool = max(1, int(round(plan.cooldown * rung.steps)))
        start = rung.steps - cool
        return rung.lr if step < start else rung.lr * (rung.steps - step) / cool
    t = (step - warm) / max(1, rung.steps - warm)
    return rung.lr * (plan.min_lr + (1 - plan.min_lr) * 0.5 * (1 + math.cos(math.pi * t)))


def branch_spans(rung: Rung, plan: LadderPlan) -> list[tuple[int, int]]:
    """(start, end) steps of each cooldown branch: its cooldown's first step and its length, for branches whose
    cooldown starts after the warmup and ends before the main run's own cooldown."""
    if plan.schedule != "wsd":
        return []
    warm = max(1, int(round(plan.warmup * rung.steps)))
    stable_end = rung.steps - max(1, int(round(plan.cooldown * rung.steps)))
    spans = set()
    for f in plan.branches:
        end = int(round(f * rung.steps))
        start = end - max(1, int(round(plan.cooldown * end)))
        if warm <= start and end <= stable_end:
            spans.add((start, end))
    return sorted(spans)


def branch_run(run: str, end: int) -> str:
    return f"{run}@{end}"


@dataclass(frozen=True)
class RungResult:
    run: str
    points: tuple[dict, ...]
    resumed_from: int  # step of the checkpoint it started from (0: a fresh start)


def checkpoint_path(folder: str | Path, rung: Rung) -> Path:
    return Path(folder) / f"{rung.name}.pt"


def read_checkpoint(path: Path):
    import torch

    if not path.exists():
        return None
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # a checkpoint cut short by a kill mid-write cannot happen (atomic), a foreign one can
        raise ScalingLawsError(f"checkpoint {path} cannot be read ({type(exc).__name__}). Move it aside to retrain "
                               "that rung from the start") from None


def _save(path: Path, state: dict) -> None:
    import torch

    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def train_rung(plan: LadderPlan, rung: Rung, corpus: Corpus, checkpoints: str | Path, *,
               emit: Callable[[dict], None] = lambda point: None,
               progress: Callable[[int, int], None] | None = None, crash_at: int | None = None,
               threads: int | None = None, token_bytes=None, rank: int = 0, world: int = 1) -> RungResult:
    """Train `rung` (resuming from its checkpoint in `checkpoints` if there is one); returns all its points.
    token_bytes: (vocab,) bytes each token id spells, for bits per byte (None: one byte each).
    rank, world: this process's place among `world` data-parallel processes (parallel.py), whose process group is
    already made: each trains its 1/world slice of every step's batch, and only rank 0 checkpoints and emits."""
    import numpy as np
    import torch

    from .model import GPT

    if threads:
        torch.set_num_threads(threads)
    device = plan.device
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ScalingLawsError(f"the plan's device is {device} but torch sees no CUDA device. Set device = \"cpu\" "
                               "in the plan")
    if world > 1 and device.startswith("cuda"):
        device = f"cuda:{rank}"
        torch.cuda.set_device(device)
    if rung.batch % world:
        raise ScalingLawsError(f"rung {rung.name}: its batch of {rung.batch} sequences does not split over {world} "
                               f"devices; set batch to a multiple of {world} in the plan")
    local = rung.batch // world  # sequences of each step's batch trained here
    lead = rank == 0
    run = plan.run_name(rung)
    Path(checkpoints).mkdir(parents=True, exist_ok=True)
    ckpt = checkpoint_path(checkpoints, rung)
    torch.manual_seed(rung.seed)
    model = GPT(rung.width, rung.depth, rung.heads, vocab=max(plan.vocab, corpus.vocab), seq_len=plan.seq_len)
    model.to(device)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": plan.weight_decay},
                             {"params": rest, "weight_decay": 0.0}], lr=rung.lr, betas=(0.9, 0.95),
                            fused=device.startswith("cuda"))
    points: list[dict] = []
    step = 0
    state = read_checkpoint(ckpt)
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        step, points = int(state["step"]), list(state["points"])
        for p in points:
            emit(p)
    resumed = step
    if step >= rung.steps:
        return RungResult(run, tuple(points), resumed)
    forward = model
    if world > 1:  # after the checkpoint is read: DDP broadcasts rank 0's weights, so every rank starts alike
        from torch.nn.parallel import DistributedDataParallel

        forward = DistributedDataParallel(model, device_ids=[rank] if device.startswith("cuda") else None)
    forward = torch.compile(forward) if plan.compile else forward
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if device.startswith("cuda") else _no_autocast
    held = corpus.eval_batches(plan.eval_batches, plan.eval_batch, plan.seq_len)
    spelled = np.ones(max(plan.vocab, corpus.vocab), dtype=np.int64) if token_bytes is None else token_bytes
    eval_bytes = int(sum(spelled[y].sum() for _, y in held))  # bytes the held-out targets spell
    evals = [(torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)) for x, y in held]
    eval_tokens = sum(int(y.numel()) for _, y in evals)

    def evaluate() -> dict:
        if not lead:  # its points are neither saved nor emitted: rank 0's evaluation is the one kept
            return {"loss": math.nan, "bits_per_byte": math.nan}
        loss = _evaluate(model, evals, autocast)
        return {"loss": loss, "bits_per_byte": loss * eval_tokens / (math.log(2) * max(eval_bytes, 1))}

    def mean_across(total):  # the train loss summed here, averaged over the ranks (each saw 1/world of the batch)
        if world > 1:
            import torch.distributed as dist

            dist.all_reduce(total)
            total = total / world
        return float(total.item())

    def save(at: int) -> None:
        if lead:
            _save(ckpt, {"version": CHECKPOINT_VERSION, "run": run, "step": at, "points": points,
                         "model": model.state_dict(), "optimizer": opt.state_dict()})
    config = {"run": run, "family": plan.name, "params": float(rung.params),
              "non_embedding_params": float(rung.non_embedding_params), "width": float(rung.width),
              "depth": float(rung.depth), "heads": float(rung.heads), "seq_len": float(plan.seq_len),
              "batch_size": float(rung.batch * plan.seq_len), "seed": float(rung.seed), "peak_lr": rung.lr,
              "schedule": plan.schedule, "steps": float(rung.steps), "dataset": corpus.source,
              "tokenizer": plan.tokenizer, "vocab": float(max(plan.vocab, corpus.vocab))}
    spans = branch_spans(rung, plan)
    starts = {start for start, _ in spans}

    def train_step(at: int, lr: float):
        for group in opt.param_groups:
            group["lr"] = lr
        x, y = corpus.batch(at, rung.batch, plan.seq_len, rung.seed)
        x, y = x[rank * local:(rank + 1) * local], y[rank * local:(rank + 1) * local]  # this rank's slice
        x, y = torch.from_numpy(x).to(device, non_blocking=True), torch.from_numpy(y).to(device, non_blocking=True)
        try:
            with autocast():
                _, loss = forward(x, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        except torch.OutOfMemoryError:
            raise ScalingLawsError(
                f"rung {rung.name} ran out of {device} memory at batch {rung.batch} sequences of {plan.seq_len}: "
                f"try batch = {max(1, rung.batch // 2)} with steps = {rung.steps * 2} in the plan (the same "
                "tokens)") from None
        return loss.detach()  # no .item() per step: on a GPU it would wait for every step to finish

    def branch(start: int, end: int) -> dict:
        """Train the cooldown branch ending at `end` from the state at `start`, then put the main run back."""
        saved = copy.deepcopy(model.state_dict()), copy.deepcopy(opt.state_dict())
        total, began = torch.zeros((), device=device), time.perf_counter()
        for at in range(start, end):
            total += train_step(at, rung.lr * (end - at) / (end - start))
        train_loss = mean_across(total) / (end - start)
        elapsed = time.perf_counter() - began
        tokens = end * rung.batch * plan.seq_len
        point = {**config, "run": branch_run(run, end), "branch_of": run, "steps": float(end),
                 "step": float(end), "tokens": float(tokens), "flops": float(rung.flops_per_token) * tokens,
                 "lr": rung.lr / (end - start), "train_loss": train_loss, **evaluate(),
                 "tokens_per_s": (end - start) * rung.batch * plan.seq_len / max(elapsed, 1e-9), "final": True}
        model.load_state_dict(saved[0])
        opt.load_state_dict(saved[1])
        return point

    since, train_sum, mark = step, torch.zeros((), device=device), time.perf_counter()
    if progress:
        progress(step, rung.steps)
    while step < rung.steps:
        if step in starts:  # a checkpoint was written at this step; branches not yet in it are trained now
            made = {p["run"] for p in points}
            for start, end in spans:
                if start == step and branch_run(run, end) not in made:
                    point = branch(start, end)
                    points.append(point)
                    save(step)
                    if lead:
                        emit(point)
            since, train_sum, mark = step, torch.zeros((), device=device), time.perf_counter()
        if crash_at is not None and step >= crash_at and resumed < crash_at:
            raise Crash(f"test hook: rung {rung.name} stopped at step {step}")
        lr = lr_at(step, rung, plan)
        train_sum += train_step(step, lr)
        step += 1
        if progress:
            progress(step, rung.steps)
        if step % rung.eval_every == 0 or step == rung.steps or step in starts:
            train_loss = mean_across(train_sum) / (step - since)  # waits for the device: the time is honest
            elapsed = time.perf_counter() - mark
            tokens = step * rung.batch * plan.seq_len
            point = {**config, "step": float(step), "tokens": float(tokens),
                     "flops": float(rung.flops_per_token) * tokens, "lr": lr, "train_loss": train_loss,
                     **evaluate(),
                     "tokens_per_s": (step - since) * rung.batch * plan.seq_len / max(elapsed, 1e-9),
                     "final": step == rung.steps}
            points.append(point)
            save(step)
            if lead:
                emit(point)
            since, train_sum, mark = step, torch.zeros((), device=device), time.perf_counter()
    return RungResult(run, tuple(points), resumed)


def _no_autocast():
    from contextlib import nullcontext

    return nullcontext()


def _evaluate(model, batches, autocast) -> float:
    import torch

    model.eval()
    total = 0.0
    with torch.no_grad(), autocast():
        for x, y in batches:
            total += float(model(x, y)[1].item())
    model.train()
    return total / len(batches)
