"""Loss of models pruned during pre-training: the average parameter count over training (Jin et al. 2025).

A model pruned from N_dense to N_sparse while it trains behaves, at the end, like a dense model whose size is
its parameter count averaged over the training tokens (Jin et al. 2025, 'The Journey Matters', eq. 3): the
Chinchilla law with N replaced by that average. `average_params` computes it from a pruning schedule.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .parametric import CHINCHILLA


def cubic_sparsity(step, start, end, final_sparsity, initial_sparsity=0.0):
    """Sparsity at `step` under the gradual schedule of Zhu & Gupta 2017 (eq. 1): s_t = s_f + (s_i - s_f)·(1 -
    (t - t0)/(t1 - t0))^3 between the start t0 and end t1 of pruning; s_i before, s_f after."""
    t = np.clip((np.asarray(step, dtype=float) - start) / max(end - start, 1e-12), 0.0, 1.0)
    return final_sparsity + (initial_sparsity - final_sparsity) * (1.0 - t) ** 3


def average_params(dense_params, total_steps, start, end, final_sparsity, initial_sparsity=0.0,
                   prunable_fraction=1.0):
    """The parameter count averaged over training steps (equal tokens per step): N_dense·(1 - f·s̄), with s̄ the
    mean sparsity of the cubic schedule over [0, total_steps] and f the fraction of parameters pruned.

    Closed form: before pruning s_i, after it s_f, and during it the mean of the cubic, s_f + (s_i - s_f)/4."""
    if not 0 <= start <= end <= total_steps or total_steps <= 0:
        raise ValueError(f"a pruning schedule needs 0 <= start <= end <= total_steps (got start={start}, "
                         f"end={end}, total_steps={total_steps})")
    span = end - start
    mean = (start * initial_sparsity + span * (final_sparsity + (initial_sparsity - final_sparsity) / 4.0)
            + (total_steps - end) * final_sparsity) / total_steps
    return dense_params * (1.0 - prunable_fraction * mean)


# Chinchilla's law with the average parameter count in place of N: the same function, gradient and parameters
SPARSE_AVERAGE = replace(
    CHINCHILLA,
    name="sparse_average",
    formula="L = E + A·N_avg^(-alpha) + B·D^(-beta),  N_avg = parameters averaged over training",
    inputs={"N": "params_average", "D": "tokens"},
    reference="Jin et al. 2025, 'The Journey Matters: Average Parameter Count over Pre-training Unifies Sparse "
              "and Dense Scaling Laws', arXiv:2501.12486, eq. 3; schedule: Zhu & Gupta 2017, eq. 1",
    notes="Dense and pruned runs share one law: give each run its average parameter count (column "
          "params_average; scalinglaws.laws.sparsity.average_params computes it from a schedule).",
)
