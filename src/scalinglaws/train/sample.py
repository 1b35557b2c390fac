"""`ladder sample`: many answers per held-out problem from each trained rung, the repeated-sampling table that
`scalinglaws emergence` forecasts from (Hu et al. 2023, "Predicting Emergent Abilities with Infinite Resolution
Evaluation").

The plan's corpus must be a synthetic task (data.py, `addition:D`): its held-out problems were never trained on
and each has one right answer. For each rung whose checkpoint reached its last step, the model is prompted with
"\\na+b=" (a problem starts after a newline, as in training) and continues token by token; an answer is correct
when it is the sum followed by a newline. `samples` answers per problem are drawn at `temperature` (1: the model's
own distribution), and one greedy (arg-max) answer, whose accuracy is what a single evaluation of the rung reports.
Draws come from one numpy generator per rung, seeded by (seed, rung index): the same checkpoints and seed give the
same table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np

from ..errors import ArgumentError, ScalingLawsError
from ..records import format_of
from .data import addition_held_out, addition_spec
from .ladder import LadderPlan, read_plan

COLUMNS = ("run", "params", "problem", "samples", "correct", "greedy")
ROWS_PER_BATCH = 8192  # sequences decoded at once


@dataclass(frozen=True)
class LadderSamples:
    """Per rung and held-out problem: answers drawn, answers correct, and the greedy answer's verdict."""

    plan: str
    corpus: str
    samples: int
    temperature: float
    seed: int
    rungs: tuple[Mapping, ...]  # per rung sampled: name, run, params, problems, greedy_accuracy, pass_at_1, solved
    table: Mapping  # column -> tuple, COLUMNS
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"format": format_of("ladder_samples"), "plan": self.plan, "corpus": self.corpus,
                "samples": self.samples, "temperature": self.temperature, "seed": self.seed,
                "rungs": [dict(r) for r in self.rungs], "table": {k: list(v) for k, v in self.table.items()},
                "notes": list(self.notes)}

    def csv(self) -> str:
        lines = [",".join(COLUMNS)]
        for row in zip(*(self.table[c] for c in COLUMNS)):
            run, params, problem, n, c, g = row
            lines.append(f"{run},{int(params)},{problem},{n},{c},{g}")
        return "\n".join(lines) + "\n"


def sample_ladder(plan: LadderPlan | str | Path, *, checkpoints=None, samples: int = 256, problems: int | None = None,
                  temperature: float = 1.0, seed: int = 0, threads: int | None = None,
                  progress: Callable[[str, int, int], None] | None = None) -> LadderSamples:
    """Sample every trained rung of `plan` on its corpus's held-out problems (see the module docstring).
    problems: how many of the held-out problems (default: all of them, at most data.ADDITION_HELD_OUT)."""
    from .runner import checkpoint_folder, need_torch

    torch = need_torch()
    if isinstance(samples, bool) or int(samples) != samples or samples < 1:
        raise ArgumentError("samples", f"samples must be a whole number of answers per problem, at least 1 (got "
                            f"{samples!r})")
    if not temperature > 0:
        raise ArgumentError("temperature", f"temperature must be above 0 (got {temperature!r}); the greedy answer "
                            "is sampled as well")
    plan_path = None if isinstance(plan, LadderPlan) else Path(plan)
    plan = plan if isinstance(plan, LadderPlan) else read_plan(plan)
    if addition_spec(plan.corpus) is None:
        raise ScalingLawsError(f"the plan's corpus is {plan.corpus}, which has no problems with answers to sample: "
                               "plan the ladder with --corpus addition:D (D-digit addition) to measure emergence")
    if plan.tokenizer != "bytes":
        raise ScalingLawsError(f"the plan's tokenizer is {plan.tokenizer}: `ladder sample` prompts and reads answers "
                               "byte by byte, so plan the addition ladder with tokenizer = \"bytes\"")
    digits, _ = addition_spec(plan.corpus)
    pairs = addition_held_out(plan.corpus)
    if problems is not None:
        if isinstance(problems, bool) or int(problems) != problems or not 1 <= problems <= len(pairs):
            raise ArgumentError("problems", f"problems must be a whole number from 1 to the {len(pairs)} held-out "
                                f"problems of {plan.corpus} (got {problems!r})")
        pairs = pairs[: int(problems)]
    if threads:
        torch.set_num_threads(threads)
    folder = checkpoint_folder(plan_path, plan, checkpoints)
    prompts = np.stack([np.frombuffer(f"\n{a}+{b}=".encode("ascii"), dtype=np.uint8) for a, b in pairs.tolist()])
    answers = [f"{a + b}\n".encode("ascii") for a, b in pairs.tolist()]
    names = [f"{a}+{b}" for a, b in pairs.tolist()]
    table: dict[str, list] = {c: [] for c in COLUMNS}
    rungs, notes = [], []
    for index, rung in enumerate(plan.rungs):
        model = _final_model(plan, rung, folder, notes)
        if model is None:
            continue
        rng = np.random.default_rng([seed, index])
        run = plan.run_name(rung)
        greedy = _judge(_decode(model, prompts, digits + 2, None, rng), answers)
        correct = np.zeros(len(pairs), dtype=np.int64)
        rows = np.repeat(np.arange(len(pairs)), samples)
        for start in range(0, rows.size, ROWS_PER_BATCH):
            chunk = rows[start:start + ROWS_PER_BATCH]
            ok = _judge(_decode(model, prompts[chunk], digits + 2, temperature, rng), [answers[i] for i in chunk])
            np.add.at(correct, chunk, ok.astype(np.int64))
            if progress is not None:
                progress(rung.name, min(start + ROWS_PER_BATCH, rows.size), rows.size)
        for j in range(len(pairs)):
            table["run"].append(run)
            table["params"].append(float(rung.params))
            table["problem"].append(names[j])
            table["samples"].append(int(samples))
            table["correct"].append(int(correct[j]))
            table["greedy"].append(int(greedy[j]))
        rungs.append(MappingProxyType({"name": rung.name, "run": run, "params": float(rung.params),
                                       "problems": len(pairs), "greedy_accuracy": float(np.mean(greedy)),
                                       "pass_at_1": float(correct.sum() / (samples * len(pairs))),
                                       "solved": float(np.mean(correct > 0))}))
    if not rungs:
        raise ScalingLawsError(f"no rung of {plan.name} has a final checkpoint in {folder}: train the ladder first "
                               "(scalinglaws ladder run PLAN), or give --checkpoints")
    return LadderSamples(str(plan_path or plan.name), plan.corpus, int(samples), float(temperature), int(seed),
                         tuple(rungs), MappingProxyType({k: tuple(v) for k, v in table.items()}), tuple(notes))


def _final_model(plan, rung, folder, notes):
    from .loop import checkpoint_path, read_checkpoint
    from .model import GPT

    state = read_checkpoint(checkpoint_path(folder, rung))
    if state is None or int(state["step"]) < rung.steps:
        where = "no checkpoint" if state is None else f"at step {int(state['step'])} of {rung.steps}"
        notes.append(f"rung {rung.name} has not finished training ({where}): left out")
        return None
    model = GPT(rung.width, rung.depth, rung.heads, vocab=max(plan.vocab, 256), seq_len=plan.seq_len)
    model.load_state_dict(state["model"])
    model.eval()
    return model


def _decode(model, prompts: np.ndarray, steps: int, temperature: float | None, rng) -> np.ndarray:
    """(R, steps) tokens continuing each prompt (R, L): sampled at `temperature`, or greedily when it is None.
    Sampling inverts each row's cumulative probabilities at a uniform draw of `rng`, on the CPU in float64, so the
    draws do not depend on torch's own generator."""
    import torch

    x = torch.from_numpy(prompts.astype(np.int64))
    out = np.zeros((prompts.shape[0], steps), dtype=np.int64)
    with torch.no_grad():
        for t in range(steps):
            logits = model(x)[0][:, -1, :].double()  # (R, vocab)
            if temperature is None:
                nxt = logits.argmax(dim=1).numpy()
            else:
                cdf = torch.softmax(logits / temperature, dim=1).cumsum(dim=1).numpy()
                u = rng.random(cdf.shape[0]) * cdf[:, -1]
                nxt = np.minimum((cdf < u[:, None]).sum(axis=1), cdf.shape[1] - 1)
            out[:, t] = nxt
            x = torch.cat([x, torch.from_numpy(nxt)[:, None]], dim=1)
    return out


def _judge(tokens: np.ndarray, answers: list[bytes]) -> np.ndarray:
    """Whether each row's tokens begin with its answer (the sum and its newline)."""
    return np.array([bytes(row[:len(a)].astype(np.uint8).tolist()) == a for row, a in zip(tokens, answers)])
