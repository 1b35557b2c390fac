"""The device's training throughput, measured: a few optimiser steps of a plan's rung, timed.

FLOP/s counts what the plan counts (the rung's FLOPs per token under the plan's convention, forward and backward,
times the tokens of the timed steps), so `plan.flops / throughput` is the training time the cost in device-hours
stands for. The first steps (allocation, kernel selection, compilation) are not timed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..errors import ScalingLawsError
from .ladder import LadderPlan, Rung

WARMUP_STEPS = 2


@dataclass(frozen=True)
class Throughput:
    rung: str
    device: str
    steps: int  # timed
    seconds: float
    tokens_per_s: float
    flops_per_s: float

    def to_dict(self) -> dict:
        return {"rung": self.rung, "device": self.device, "steps": self.steps, "seconds": self.seconds,
                "tokens_per_s": self.tokens_per_s, "flops_per_s": self.flops_per_s}


def measure(plan: LadderPlan, rung: Rung | None = None, *, seconds: float = 3.0, min_steps: int = 3,
            threads: int | None = None) -> Throughput:
    """Time training steps of `rung` (default: the plan's largest) on the plan's device for about `seconds`."""
    from .runner import need_torch

    torch = need_torch()
    from .model import GPT

    rung = rung or max(plan.rungs, key=lambda r: r.flops_per_token)
    device = plan.device
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ScalingLawsError(f"the plan's device is {device} but torch sees no CUDA device: use --device cpu")
    if threads:
        torch.set_num_threads(threads)
    gen = torch.Generator().manual_seed(rung.seed)
    model = GPT(rung.width, rung.depth, rung.heads, vocab=plan.vocab, seq_len=plan.seq_len).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=rung.lr, betas=(0.9, 0.95), fused=device.startswith("cuda"))
    forward = torch.compile(model) if plan.compile else model
    cuda = device.startswith("cuda")
    x = torch.randint(0, plan.vocab, (rung.batch, plan.seq_len + 1), generator=gen).to(device)
    x, y = x[:, :-1], x[:, 1:]

    def step():
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
            _, loss = forward(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    try:
        for _ in range(WARMUP_STEPS):
            step()
        if cuda:
            torch.cuda.synchronize()
        began, steps = time.perf_counter(), 0
        while steps < min_steps or time.perf_counter() - began < seconds:
            step()
            steps += 1
            if cuda and steps >= min_steps:
                torch.cuda.synchronize()
        if cuda:
            torch.cuda.synchronize()
    except torch.OutOfMemoryError:
        raise ScalingLawsError(f"rung {rung.name} ran out of {device} memory at batch {rung.batch} sequences of "
                               f"{plan.seq_len} while timing it: lower the batch in the plan") from None
    elapsed = time.perf_counter() - began
    tokens = steps * rung.batch * plan.seq_len
    return Throughput(rung=rung.name, device=device, steps=steps, seconds=elapsed, tokens_per_s=tokens / elapsed,
                      flops_per_s=tokens * rung.flops_per_token / elapsed)


__all__ = ["Throughput", "measure"]
