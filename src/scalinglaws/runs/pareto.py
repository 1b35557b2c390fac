"""The compute-Pareto front of a dense grid of runs: the rows no cheaper-or-equal row beats.

On a grid of model sizes × samples seen, most runs are not compute-optimal: at their compute another shape did
better. A trend of the best error per unit of compute is a trend of the front (Nezhurina et al. 2025 fit their
laws to it; Hoffmann et al. 2022 Approach 1 takes the lower envelope of training curves), and a fit to every run
instead mixes in how far each shape is from optimal.
"""

from __future__ import annotations

import numpy as np


def pareto_front(cost, value, *, higher_better: bool = False) -> np.ndarray:
    """(n,) booleans: row i is on the front when every row of lower or equal cost has a worse value.

    Of rows with equal cost and value, only the first is kept. NaN costs or values are never on the front.
    """
    cost = np.asarray(cost, dtype=float)
    value = np.asarray(value, dtype=float)
    if cost.shape != value.shape or cost.ndim != 1:
        raise ValueError(f"cost and value must be 1-d arrays of one length (got {cost.shape}, {value.shape})")
    score = -value if higher_better else value  # lower is better from here on
    ok = np.isfinite(cost) & np.isfinite(score)
    idx = np.flatnonzero(ok)
    # by cost, the best value first among equal costs, then by position (stable)
    order = idx[np.lexsort((idx, score[idx], cost[idx]))]
    keep = np.zeros(cost.shape, dtype=bool)
    best = np.inf
    for i in order:
        if score[i] < best:
            keep[i] = True
            best = score[i]
    return keep
