"""How robust a learning rate is: sensitivity over a sweep, and rules that carry a tuned one to another shape.

LR sensitivity (Wortsman et al. 2023, "Small-scale proxies for large-scale Transformer training instabilities",
arXiv:2309.14322, §3.2): over a range of learning rates [a, b] spanning orders of magnitude,

    sensitivity = E_{η ∈ [a, b]} [ min(ℓ(η), ℓ0) − ℓ* ],     ℓ* = min_{η ∈ [a, b]} ℓ(η)

with ℓ0 the loss at initialisation (a diverged run counts as ℓ0) and η log-uniform over the range: how much loss a
learning rate chosen anywhere in the range costs. Here ℓ(η) is a cell's best run at each learning rate (over the
other columns, e.g. batch sizes), the expectation the trapezoid rule in log η over the learning rates swept, and
the trend over cells a power law sensitivity ∝ N^p fitted by least squares in logs.

Transfer rules (`transfer`), each for AdamW:
- width: η ∝ 1/width for the hidden (matrix) parameters (Yang et al. 2022, "Tensor Programs V", μP, Table 3), and
  weight decay λ ∝ width, so that η·λ, the decay per step, stays fixed ("Robust Layerwise Scaling Rules by Proper
  Weight Decay Tuning", 2025);
- batch: η ∝ √B under Adam (Granziol et al. 2020, "Learning Rates as a Function of Batch Size"; Malladi et al. 2022,
  "On the SDEs and Scaling Rules for Adaptive Gradient Algorithms"), which holds below the critical batch only.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import FitWarning, ScalingLawsError
from ..records import format_of
from ..render.table import Tabular
from .surface import positive


@dataclass(frozen=True, repr=False)
class LRSensitivity(Tabular):
    cells: tuple[dict, ...]  # per (params, tokens): learning rates, range, best loss, sensitivity
    trend: dict | None  # {"coef", "exponent"}: sensitivity ≈ coef·N^exponent over the cells, with N
    init_loss: float  # ℓ0
    init_loss_from: str  # "given" or "the largest loss of the sweep"
    lr_range: tuple | None
    source: str
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"format": format_of("lr_sensitivity"), **self.__dict__, "cells": [dict(c) for c in self.cells],
                "warnings": list(self.warnings)}


def sensitivity_of(lrs, losses, init_loss: float) -> tuple[float, float]:
    """(sensitivity, best loss) of one learning-rate profile: losses at increasing learning rates lrs."""
    lx = np.log(np.asarray(lrs, dtype=float))
    capped = np.minimum(np.where(np.isfinite(losses), losses, init_loss), init_loss)
    best = float(capped.min())
    gap = capped - best
    mean = np.sum(0.5 * (gap[1:] + gap[:-1]) * np.diff(lx)) / (lx[-1] - lx[0])
    return float(mean), best


def lr_sensitivity(data, *, where=(), rename=None, init_loss: float | None = None,
                   lr_range: tuple[float, float] | None = None) -> LRSensitivity:
    """Each (params, tokens) cell's LR sensitivity over a sweep of learning rates, and its power-law trend in N."""
    from ..runs import read_runs

    runs = read_runs(data, rename=rename, where=where, require=["params", "tokens", "lr", "loss"],
                     purpose="an LR sensitivity needs them")
    lr, loss = runs["lr"], runs["loss"]
    bad = np.flatnonzero(~(lr > 0))
    if bad.size:
        raise ScalingLawsError(f"column 'lr' must be positive, but is {lr[bad[0]]:g} at {runs.locate(bad[0])}. "
                               "Drop such rows with --where 'lr>0'")
    source = "given"
    if init_loss is None:
        init_loss, source = float(np.nanmax(loss)), "the largest loss of the sweep"
    else:
        init_loss = positive(init_loss, "--init-loss", "10.8 (log of the vocabulary size)")
    keep = np.ones(len(lr), bool)
    if lr_range is not None:
        lo, hi = (positive(v, "--lr-range", "1e-4:1e-1") for v in lr_range)
        if not hi > lo:
            raise ScalingLawsError(f"--lr-range {lo:g}:{hi:g}: the upper end must exceed the lower one")
        keep = (lr >= lo * (1 - 1e-9)) & (lr <= hi * (1 + 1e-9))
    keys = np.stack([runs["params"], runs["tokens"]], axis=1)
    cells, notes = [], []
    for n, d in np.unique(keys[keep], axis=0):
        m = keep & (keys[:, 0] == n) & (keys[:, 1] == d)
        grid = np.unique(lr[m])
        if grid.size < 3:
            notes.append(f"cell N={n:.3g}, D={d:.3g} left out: fewer than 3 learning rates")
            continue
        prof = np.array([np.nanmin(np.where(np.isfinite(loss[m & (lr == g)]), loss[m & (lr == g)], np.inf))
                         for g in grid])
        s, best = sensitivity_of(grid, prof, init_loss)
        cells.append({"params": float(n), "tokens": float(d), "learning_rates": int(grid.size),
                      "lr_range": [float(grid[0]), float(grid[-1])], "best_loss": best,
                      "best_lr": float(grid[np.argmin(prof)]), "sensitivity": s})
    if not cells:
        raise ScalingLawsError(f"{runs.source}: no (params, tokens) cell has 3 or more learning rates; an LR "
                               "sensitivity needs a sweep over learning rates")
    spans = {tuple(np.round(np.log10(c["lr_range"]), 2)) for c in cells}
    if len(spans) > 1:
        notes.append("the cells sweep different ranges of learning rate, so their sensitivities average over "
                     "different ranges: pass lr_range (--lr-range LO:HI) inside every cell's for comparable values")
    trend = None
    n_cells = np.array([c["params"] for c in cells])
    s_cells = np.array([c["sensitivity"] for c in cells])
    ok = s_cells > 0
    if np.unique(n_cells[ok]).size >= 2:
        slope, intercept = np.polyfit(np.log(n_cells[ok]), np.log(s_cells[ok]), 1)
        trend = {"coef": float(np.exp(intercept)), "exponent": float(slope), "cells": int(ok.sum()),
                 "form": "sensitivity ≈ coef·N^exponent"}
    else:
        notes.append("fewer than two model sizes with a positive sensitivity: no trend in N")
    for note in notes:
        warnings.warn(note, FitWarning, stacklevel=2)
    return LRSensitivity(cells=tuple(cells), trend=trend, init_loss=float(init_loss), init_loss_from=source,
                         lr_range=None if lr_range is None else tuple(float(v) for v in lr_range),
                         source=runs.source, warnings=tuple(notes))


@dataclass(frozen=True, repr=False)
class Transfer(Tabular):
    rows: tuple[dict, ...]  # {"quantity", "from", "to", "rule", "reference"}
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"format": format_of("hparam_transfer"), "rows": [dict(r) for r in self.rows],
                "warnings": list(self.warnings)}


WIDTH_REF = "Yang et al. 2022, Tensor Programs V (μP), arXiv:2203.03466"
WD_REF = "Robust Layerwise Scaling Rules by Proper Weight Decay Tuning (2025)"
BATCH_REF = "Granziol et al. 2020; Malladi et al. 2022, arXiv:2205.10287"


def transfer(lr: float, *, width: float | None = None, to_width: float | None = None,
             weight_decay: float | None = None, batch: float | None = None,
             to_batch: float | None = None) -> Transfer:
    """Carry a tuned AdamW learning rate (and weight decay) to another width and/or batch size."""
    eta = positive(lr, "--transfer-from lr", "lr=3e-3")
    if (width is None) != (to_width is None) or (batch is None) != (to_batch is None):
        raise ScalingLawsError("give a width with --to-width (width=256 ... --to-width 1024) and a batch with "
                               "--to-batch (batch=5e5 ... --to-batch 2e6)")
    if width is None and batch is None:
        raise ScalingLawsError("nothing to transfer to: give --to-width (with width= in --transfer-from) or "
                               "--to-batch (with batch=)")
    rows, notes = [], []
    new = eta
    if width is not None:
        w0, w1 = positive(width, "--transfer-from width", "width=256"), positive(to_width, "--to-width", "1024")
        new = eta * w0 / w1
        rows.append({"quantity": "lr (hidden matrices)", "from": eta, "to": new, "rule": "η ∝ 1/width",
                     "reference": WIDTH_REF})
        if weight_decay is not None:
            lam = positive(weight_decay, "--transfer-from wd", "wd=0.1")
            rows.append({"quantity": "weight decay", "from": lam, "to": lam * w1 / w0,
                         "rule": "λ ∝ width (η·λ fixed)", "reference": WD_REF})
        notes.append("embeddings, norms and biases keep their learning rate under the width rule")
    if batch is not None:
        b0, b1 = positive(batch, "--transfer-from batch", "batch=5e5"), positive(to_batch, "--to-batch", "2e6")
        after = new * np.sqrt(b1 / b0)
        rows.append({"quantity": "lr (batch change)", "from": new, "to": float(after), "rule": "η ∝ √B (Adam)",
                     "reference": BATCH_REF})
        notes.append("the square-root rule holds below the critical batch; beyond it the best lr stops growing "
                     "(see `scalinglaws batch`)")
    return Transfer(rows=tuple(rows), warnings=tuple(notes))


__all__ = ["LRSensitivity", "Transfer", "lr_sensitivity", "sensitivity_of", "transfer"]
