"""The training ladder against itself: train a ladder, forecast its held-back largest rung from the others before
training it, then train it and score the forecast; and time our training step against a plain PyTorch loop of the
same model, in the same run.

Default (CPU): 5 rungs spanning 32x in compute, the largest held back at 4x the compute of the next, on the
Python standard library's own source (byte tokens). Reports each rung's final held-out loss and tokens/s, the
forecast's relative error and whether the truth fell inside its 95% interval, and the tokens/s of our loop over a
plain loop (same model, optimizer, clipping and batch; best of three alternating repeats of each).

--device cuda: 6 rungs up to about 20M parameters (seq_len 512, head width 64), bf16 autocast, with the MFU of
each rung (tokens/s x FLOPs per token over the device's peak bf16 FLOP/s; --peak to give it). benchmarks/
gpu_ladder.sh runs it as one prepared script. --smoke: a micro ladder in seconds, to check the script runs.

Run from the repository root:  PYTHONPATH=src python benchmarks/bench_ladder.py [--smoke] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

PEAK_BF16 = {"H200": 989e12, "H100": 989e12, "A100": 312e12, "L40S": 362e12, "A10G": 125e12, "4090": 165e12}


def settings(args) -> dict:
    if args.smoke:
        return dict(flops=args.flops or 2e11, rungs=4, span=40, gap=4, tokens_per_param=10, aspect=32,
                    head_dim=16, seq_len=128, corpus_bytes=3_000_000, speed_steps=20)
    if args.device.startswith("cuda"):
        return dict(flops=args.flops or 1.5e16, rungs=6, span=32, gap=4, tokens_per_param=10, aspect=64,
                    head_dim=64, seq_len=512, corpus_bytes=10**9, speed_steps=100)
    return dict(flops=args.flops or 6.4e12, rungs=5, span=32, gap=4, tokens_per_param=20, aspect=32, head_dim=16,
                seq_len=128, corpus_bytes=24_000_000, speed_steps=60)


def plain_loop(rung, plan, corpus, steps: int, device: str) -> float:
    """Tokens/s of the loop everyone writes first: random windows, forward, backward, clip, AdamW step."""
    import torch

    from scalinglaws.train.model import GPT

    torch.manual_seed(0)
    model = GPT(rung.width, rung.depth, rung.heads, vocab=256, seq_len=plan.seq_len).to(device)
    model = torch.compile(model) if plan.compile else model
    opt = torch.optim.AdamW(model.parameters(), lr=rung.lr, weight_decay=plan.weight_decay, betas=(0.9, 0.95),
                            fused=device.startswith("cuda"))
    data = torch.from_numpy(corpus.train[:50_000_000].astype("int64"))
    ctx = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if device.startswith("cuda") else _null
    B, T = rung.batch, plan.seq_len

    def step():
        ix = torch.randint(len(data) - T - 1, (B,))
        x = torch.stack([data[i:i + T] for i in ix]).to(device)
        y = torch.stack([data[i + 1:i + 1 + T] for i in ix]).to(device)
        with ctx():
            _, loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss

    for _ in range(3):  # warm up (and compile) outside the timing, as our loop's first interval includes it
        step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(steps):
        loss = step()
    loss.item()
    return steps * B * T / (time.perf_counter() - t)


def _null():
    from contextlib import nullcontext

    return nullcontext()


def ours(rung, plan, corpus, steps: int) -> float:
    from scalinglaws.train.loop import train_rung

    # 3 warm-up steps as a first interval, then `steps` timed: the second point's tokens/s
    short = replace(rung, steps=steps + 3, eval_every=3, name=f"speed-{rung.name}")
    with tempfile.TemporaryDirectory() as folder:
        return train_rung(plan, short, corpus, folder).points[-1]["tokens_per_s"]


def speed(rung, plan, corpus, steps: int, repeats: int = 3) -> dict:
    a, b = [], []
    for _ in range(repeats):  # alternate, so a change in the machine's load hits both alike
        a.append(ours(rung, plan, corpus, steps))
        b.append(plain_loop(rung, plan, corpus, steps, plan.device))
    return {"rung": rung.name, "steps": steps, "ours_tokens_per_s": max(a), "plain_tokens_per_s": max(b),
            "ratio": max(a) / max(b), "ours_all": a, "plain_all": b}


def peak_flops(device: str, given: float | None) -> float | None:
    if given:
        return given
    if not device.startswith("cuda"):
        return None
    import torch

    name = torch.cuda.get_device_name()
    return next((v for k, v in PEAK_BF16.items() if k in name), None)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--flops", type=float, default=None, help="training FLOPs of the largest rung")
    ap.add_argument("--threads", type=int, default=1, help="torch threads on the CPU (1: least hurt by a busy "
                    "machine)")
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--peak", type=float, default=None, help="peak FLOP/s of the device, for MFU")
    ap.add_argument("--smoke", action="store_true", help="a micro ladder, to check the script runs")
    ap.add_argument("--store", default=None, help="keep the run store here (default: a temporary folder)")
    ap.add_argument("--json", default=None, help="write the results here")
    args = ap.parse_args(argv)

    import torch

    from scalinglaws.train import plan_ladder, run_ladder, write_plan
    from scalinglaws.train.data import load

    if not args.device.startswith("cuda"):
        torch.set_num_threads(args.threads)
    s = settings(args)
    plan = plan_ladder(s["flops"], rungs=s["rungs"], span=s["span"], hold_back_gap=s["gap"], name="bench",
                       tokens_per_param=s["tokens_per_param"], aspect=s["aspect"], head_dim=s["head_dim"],
                       seq_len=s["seq_len"], corpus_bytes=s["corpus_bytes"], device=args.device,
                       compile=args.compile)
    work = Path(tempfile.mkdtemp(prefix="bench_ladder_"))
    path = write_plan(plan, work / "bench.toml")
    store = Path(args.store) if args.store else work / "runs.duckdb"
    span = plan.rungs[-1].flops / plan.rungs[0].flops
    print(f"ladder: {len(plan.rungs)} rungs, {plan.flops:.3g} FLOP, span {span:.0f}x,"
          f" held back at {plan.rungs[-1].flops / plan.rungs[-2].flops:.1f}x the next; plan {path}", flush=True)
    for r in plan.rungs:
        print(f"  {r.name}: depth {r.depth} width {r.width} heads {r.heads}, {r.params:,} params, {r.tokens:,} "
              f"tokens, {r.flops:.3g} FLOP, batch {r.batch}, lr {r.lr:.3g}", flush=True)
    t0 = time.perf_counter()
    result = run_ladder(path, store, threads=args.threads if not args.device.startswith("cuda") else None,
                        echo=lambda line: print(line, flush=True))
    train_s = time.perf_counter() - t0
    peak = peak_flops(args.device, args.peak)
    rungs = []
    for r, res in zip(plan.rungs, result.rungs):
        tps = res["tokens_per_s"]
        rungs.append({"rung": r.name, "params": r.params, "tokens": r.tokens, "flops": r.flops,
                      "loss": res["loss"], "tokens_per_s": tps,
                      "mfu": None if peak is None else tps * r.flops_per_token / peak})
    corpus = load(plan.corpus, limit=plan.corpus_bytes)
    probe = plan.rungs[len(plan.rungs) // 2]
    sp = speed(probe, plan, corpus, s["speed_steps"])
    fc = result.forecast
    out = {"device": args.device, "smoke": args.smoke, "train_seconds": train_s, "rungs": rungs,
           "forecast": {k: fc[k] for k in ("run", "law", "prediction", "lower", "upper", "level", "observed", "error",
                                            "inside")},
           "speed": sp, "threads": args.threads, "torch": torch.__version__}
    print(f"\ntrained in {train_s:.0f} s")
    for r in rungs:
        mfu = "" if r["mfu"] is None else f", MFU {r['mfu']:.1%}"
        print(f"  {r['rung']}: loss {r['loss']:.4f}, {r['tokens_per_s']:,.0f} tokens/s{mfu}")
    f = out["forecast"]
    print(f"forecast of {f['run']}: {f['prediction']:.4f} [{f['lower']:.4f}, {f['upper']:.4f}] ({f['law']}); "
          f"observed {f['observed']:.4f}; error {f['error']:+.2%}; inside the {f['level']:.0%} interval: "
          f"{f['inside']}")
    print(f"training step, rung {sp['rung']}: ours {sp['ours_tokens_per_s']:,.0f} tokens/s, plain loop "
          f"{sp['plain_tokens_per_s']:,.0f} tokens/s, ratio {sp['ratio']:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
