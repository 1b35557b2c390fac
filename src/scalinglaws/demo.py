"""The main job on bundled data: Chinchilla's law fitted to Epoch AI's digitised points, as Epoch fits it
(Besiroglu et al. 2024: Huber δ = 1e-3 on log residuals, the 5 highest-loss points dropped), and the
compute-optimal plan for Chinchilla's own budget that follows from it."""

from __future__ import annotations

import numpy as np

from .datasets import load_dataset
from .fitting import fit
from .plan import compute_optimal

CHINCHILLA_FLOPS = 5.76e23  # Hoffmann et al. 2022: Chinchilla's (and Gopher's) training budget
N_DROPPED = 5  # Epoch's `nr_of_models_excluded`


def epoch_runs():
    runs = load_dataset("chinchilla_epoch")
    keep = np.argsort(runs["loss"], kind="stable")[: len(runs) - N_DROPPED]
    return runs.take(np.sort(keep))


def run_demo(bootstrap: int = 1000, seed: int = 0, progress=None):
    result = fit(epoch_runs(), "chinchilla", bootstrap=bootstrap, seed=seed, progress=progress)
    return result, compute_optimal(result, CHINCHILLA_FLOPS)
