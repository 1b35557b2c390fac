"""Links from a loss to a task's accuracy, and the chance levels they start from.

sigmoid (Bhagia et al. 2024, "Establishing Task Scaling Laws via Compute-Efficient Model Ladders", eq. 2):
    acc = chance + (ceiling - chance) / (1 + exp(k·(L - L0)))
    Bhagia fit the floor and the scale freely; here the floor is the task's chance level and the ceiling is bounded by
    1, so a forecast can neither fall below guessing nor exceed a perfect score, however far it extrapolates.
exponential (Gadre et al. 2024, "Language models scale reliably with over-training and on downstream tasks", eq. 5):
    err = eps - k·exp(-gamma·L),   acc = 1 - err
    with eps (the error as L grows) bounded by 1 - chance. Gadre fit it to the average top-1 error of 17 tasks
    against C4 loss; it is applied here task by task. It has no ceiling: predictions are clipped to [0, 1].

The input L is any loss-like quantity where lower is better: a task loss, bits per byte, a validation loss, or for a
one-step forecast minus log10 of compute.
"""

from __future__ import annotations

import numpy as np

from ..errors import ScalingLawsError
from ..laws import Law, Param

LINKS = ("sigmoid", "exponential")

# Chance accuracy of common benchmarks: 1 / (number of choices) for multiple choice, 0 for generated answers.
CHANCE = {
    "piqa": 0.5, "winogrande": 0.5, "winograd": 0.5, "xwinograd": 0.5, "wsc": 0.5, "copa": 0.5, "boolq": 0.5,
    "rte": 0.5, "sst2": 0.5, "mrpc": 0.5, "arc_easy": 0.25, "arc_challenge": 0.25, "arc_c": 0.25, "arc_e": 0.25,
    "hellaswag": 0.25, "mmlu": 0.25, "mmlu_avg": 0.25, "sciq": 0.25, "logiqa": 0.25, "openbook_qa": 0.25,
    "openbookqa": 0.25, "gpqa": 0.25, "leaderboard_gpqa": 0.25, "mmlu_pro": 0.1, "leaderboard_mmlu_pro": 0.1,
    "lambada": 0.0, "lambada_openai": 0.0, "gsm8k": 0.0, "humaneval": 0.0, "math": 0.0, "leaderboard_math_hard": 0.0,
    "commitment_bank": 1 / 3,
}


def chance_of(task: str, given=None) -> float:
    """The chance level of a task column: from `given` (a number, or a mapping by task), else the table above."""
    if isinstance(given, (int, float)):
        value = float(given)
    elif given and task in given:
        value = float(given[task])
    else:
        name = task.lower().removeprefix("downstream__").split("__")[0]
        parts = name.split("_")
        # "piqa_len_norm" -> piqa_len_norm, piqa_len, piqa: the longest known prefix names the benchmark
        key = next((k for k in ("_".join(parts[:i]) for i in range(len(parts), 0, -1)) if k in CHANCE), None)
        if key is None:
            raise ScalingLawsError(f"no known chance level for task '{task}'. Give it, e.g. --chance {task}=0.25 "
                                   "(1/choices for multiple choice, 0 for generated answers)")
        value = CHANCE[key]
    if not 0 <= value < 1:
        raise ScalingLawsError(f"--chance for '{task}' must be in [0, 1) (got {value:g})")
    return value


def sigmoid_link(chance: float, loss_range: tuple[float, float]) -> Law:
    lo, hi = loss_range
    span = max(hi - lo, 1e-6)

    def fn(x, p):
        with np.errstate(over="ignore"):  # exp overflows far above L0: the sigmoid's limit, chance, is right
            return chance + (p["ceiling"] - chance) / (1.0 + np.exp(p["k"] * (x["L"] - p["L0"])))

    return Law(
        name="sigmoid", formula=f"acc = {chance:g} + (ceiling - {chance:g}) / (1 + exp(k·(L - L0)))",
        inputs={"L": "L"},
        params=(Param("ceiling", (chance, 1.0), (chance + 0.5 * (1 - chance), 1.0 - 1e-3), doc="accuracy as L falls"),
                Param("k", (0.0, np.inf), (0.3 / span, 30.0 / span), log_start=True, doc="steepness"),
                Param("L0", start=(lo - 0.5 * span, hi + 0.5 * span), doc="loss at the midpoint")),
        fn=fn, reference="Bhagia et al. 2024, arXiv:2412.04403, eq. 2 (floor fixed at chance, ceiling at most 1)",
        target="accuracy")


def exponential_link(chance: float, loss_range: tuple[float, float]) -> Law:
    lo, hi = loss_range
    span = max(hi - lo, 1e-6)

    def fn(x, p):
        return 1.0 - (p["eps"] - p["k"] * np.exp(-p["gamma"] * x["L"]))

    top = 1.0 - chance
    return Law(
        name="exponential", formula="acc = 1 - (eps - k·exp(-gamma·L))", inputs={"L": "L"},
        params=(Param("eps", (0.0, top), (0.5 * top, top * (1 - 1e-3)), doc="error as L grows (≤ 1 - chance)"),
                Param("k", (0.0, np.inf), (1e-3, 1e3), log_start=True),
                Param("gamma", (0.0, np.inf), (0.1 / span, 10.0 / span), log_start=True)),
        fn=fn, reference="Gadre et al. 2024, arXiv:2403.08540, eq. 5", target="accuracy")


def make_link(kind: str, chance: float, loss_range: tuple[float, float]) -> Law:
    if kind == "sigmoid":
        return sigmoid_link(chance, loss_range)
    if kind == "exponential":
        return exponential_link(chance, loss_range)
    raise ScalingLawsError(f"--link must be one of {', '.join(LINKS)} or auto (got '{kind}')")
