"""What a vocabulary costs: the accounting `plan --optimise vocab_size` uses with the vocabulary law (Tao et al.
2024, arXiv:2407.13623).

At planned size n (the non-vocabulary parameters N_nv, what the vocabulary law's first input counts), tokens d and
a vocabulary of V tokens:

- the embedding width w follows n by a power law fitted to the six model sizes of the authors' runs (N_nv 33M to
  1.13B, w 512 to 2048): w = 0.673·N_nv^0.381 (within 14% of every size: 4% at 50M, 13% at 176M). Their own rule is
  a step function of N_nv; a smooth one keeps the budget line continuous;
- the vocabulary parameters are N_v = V·w (input embedding; the authors count it once);
- the characters the run reads are H = d / t(V), t the authors' tokens-per-character fit (laws/vocabulary.py);
- the training FLOP are C = 6·(N_nv + V·w)·d, and the parameters held N_nv + V·w.

A larger vocabulary thus buys more characters per token and more vocabulary parameters, and pays for them in FLOP
per token: that trade-off is what sets the compute-optimal vocabulary.
"""

from __future__ import annotations

import numpy as np

from ..laws.vocabulary import tokens_per_character
from .axes import AxisCost, register_axis_cost

WIDTH_RULE = (0.6732, 0.3805)  # w = a·N_nv^b, least squares in log over the six sizes of Tao et al.'s runs


def embedding_width(n, rule=WIDTH_RULE) -> np.ndarray:
    """Embedding width w of a model with n non-vocabulary parameters (the rule above)."""
    a, b = rule
    return a * np.asarray(n, dtype=float) ** b


def _columns(n, d, x):
    n, d, x = (np.asarray(v, dtype=float) for v in (n, d, x))
    nv = x * embedding_width(n)
    return {"params_non_vocab": n, "params_vocab": nv, "characters": d / tokens_per_character(x), "tokens": d,
            "vocab_size": x, "params": n + nv}


def _flops(n, d, x):
    n, d, x = (np.asarray(v, dtype=float) for v in (n, d, x))
    return 6.0 * (n + x * embedding_width(n)) * d


VOCABULARY_COST = register_axis_cost(AxisCost(
    name="vocabulary", axis="vocab_size", size="non-vocabulary parameters N_nv", columns=_columns, flops=_flops,
    total_params=lambda n, x: np.asarray(n, dtype=float) + np.asarray(x, dtype=float) * embedding_width(n),
    convention="C = 6·(N_nv + V·w)·D, w = 0.673·N_nv^0.381, H = D / t(V) (Tao et al. 2024)",
    reference="Tao et al. 2024, arXiv:2407.13623"))  # V is whole, but searched as continuous
