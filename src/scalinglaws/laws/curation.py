"""Data filtering under repetition: a pool's error after n samples when its samples repeat (Goyal et al. 2024).

Goyal, Maini, Lipton, Raghunathan and Kolter 2024, "Scaling Laws for Data Filtering — Data Curation cannot be
Compute Agnostic" (arXiv:2404.07177), Section 3: a pool of N₀ samples has a utility b (the exponent of its power
law, negative) and a half-life τ: the k-th repetition of the pool is worth b_k = b·0.5^(k/τ). Within the k-th epoch
the error falls as a power law with exponent b_k, continuing from where the previous epoch ended:

    y(n) = [(a·min(n, N₀)/s)^b + d] · Π_{k≥1, n > k·N₀} (min(n, (k+1)·N₀) / (k·N₀))^(b_k),   s = 1e5,

with d inside the product, as the authors' code writes it (its `func_effective_utility`), and s the normaliser
that code divides samples by. A mix of pools (Section 3.3) is one pool of the summed size whose repetitions are
worth the size-weighted mean of the pools' utilities, b_k = Σᵢ wᵢ·bᵢ·0.5^(k/τᵢ) with wᵢ = Nᵢ/ΣN: every epoch of the
mix shows each of its samples once, so each pool contributes its share of the samples at its own repetition count
(for the paper's equal-sized pools, the plain average of their utilities).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .spec import Law, Param

NORMALISER = 1e5  # samples are counted in units of 1e5 in the published fits (a = 0.025 with this scale)


def repeated_error(n, n_epoch, a, d, utility: Callable[[int], object]):
    """Error after `n` samples (array) of a pool of `n_epoch` samples, its k-th repetition worth `utility(k)`
    (k = 0 is the first pass). Broadcasts: `a`, `d` and what `utility` returns may be (K, 1) against (n,)."""
    n = np.asarray(n, dtype=float)
    n_epoch = np.asarray(n_epoch, dtype=float)
    first = np.minimum(n, n_epoch)
    y = (a * first / NORMALISER) ** utility(0) + d
    epochs = n / n_epoch
    last = int(np.ceil(np.nanmax(np.real(epochs)))) if epochs.size else 0
    log_gain = 0.0
    for k in range(1, max(last, 1)):  # the k-th repetition: samples k·N₀ .. (k+1)·N₀
        ratio = np.maximum(np.minimum(n, (k + 1) * n_epoch) / (k * n_epoch), 1.0)  # 1 before it starts
        log_gain = log_gain + utility(k) * np.log(ratio)
    return y * np.exp(log_gain)


def pool_utility(b, tau) -> Callable[[int], object]:
    """The k-th repetition's utility of one pool: b·0.5^(k/τ)."""
    return lambda k: b * 0.5 ** (k / tau)


def mix_utility(sizes: Sequence[float], b: Sequence[float], tau: Sequence[float]) -> Callable[[int], float]:
    """The k-th repetition's utility of a mix of pools of `sizes`: the size-weighted mean of theirs."""
    w = np.asarray(sizes, dtype=float) / float(np.sum(sizes))
    b, tau = np.asarray(b, dtype=float), np.asarray(tau, dtype=float)
    return lambda k: float(np.sum(w * b * 0.5 ** (k / tau)))


def mix_error(n, sizes, a, d, b, tau):
    """Error after `n` samples of the mix of pools of `sizes` with utilities `b` and half-lives `tau`."""
    return repeated_error(n, float(np.sum(sizes)), a, d, mix_utility(sizes, b, tau))


def _utility_decay(x, p):
    return repeated_error(x["n"], x["N0"], p["a"], p["d"], pool_utility(p["b"], p["tau"]))


UTILITY_DECAY = Law(
    name="utility_decay",
    formula="y = [(a·min(n,N0)/1e5)^b + d] · Π_k (min(n,(k+1)N0)/(k·N0))^(b·0.5^(k/tau))",
    inputs={"n": "samples", "N0": "samples_per_epoch"},
    params=(
        Param("a", (1e-6, 1e3), (1e-3, 1.0), log_start=True, doc="sample scale (samples counted in 1e5)"),
        Param("b", (-2.0, -1e-4), (-0.4, -0.02), doc="utility: the power-law exponent of a first pass (negative)"),
        Param("tau", (0.05, 1e3), (1.0, 20.0), log_start=True, doc="half-life of the utility, in repetitions"),
        Param("d", (0.0, 1.0), (0.0, 0.3), doc="irreducible error"),
    ),
    fn=_utility_decay,
    target="error",
    reference="Goyal et al. 2024, 'Scaling Laws for Data Filtering -- Data Curation cannot be Compute Agnostic', "
              "arXiv:2404.07177, Section 3 (utility decaying with repetition)",
    notes="A pool's error (1 - accuracy) against samples seen when the pool of N0 samples repeats; the k-th "
          "repetition has utility b·0.5^(k/tau). With few epochs a and d are poorly pinned: fix them "
          "(fix_params) to published or shared values and fit b and tau per pool.",
)
