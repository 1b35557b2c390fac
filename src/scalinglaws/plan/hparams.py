"""Learning rate and batch size for a planned run: power laws in N and D.

Step Law (Li et al. 2025, "Predictable Scale: Part I", eqs. 1-2) is the published default:
    η* = 1.79 · N^-0.713 · D^0.307        (peak learning rate)
    B* = 0.58 · D^0.571                   (batch size in tokens)
with N the non-embedding parameter count and D the training tokens, fitted on dense models trained with AdamW, a
warmup and cosine decay to a final learning rate of 1e-5 (their setup, not everyone's). A law fitted to a sweep
of your own (hparams_fit.py) has the same form and replaces it, with intervals from its bootstrap.

`recommend` evaluates a law at (N, D): the learning rate, the batch size in tokens and, given a sequence length,
in sequences; and how far (N, D) lies outside the data the law was fitted on.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import ExtrapolationWarning
from ..fitting.interval import check_level
from ..fitting.prediction import EXTRAPOLATION_WARN
from ..records import format_of
from ..render.table import Tabular
from .surface import positive

COEFFICIENTS = ("lr_coef", "lr_params_exp", "lr_tokens_exp", "batch_coef", "batch_tokens_exp", "batch_params_exp")


@dataclass(frozen=True)
class HparamLaw:
    """η* = lr_coef·N^lr_params_exp·D^lr_tokens_exp;  B* = batch_coef·D^batch_tokens_exp·N^batch_params_exp."""

    lr_coef: float
    lr_params_exp: float
    lr_tokens_exp: float
    batch_coef: float
    batch_tokens_exp: float
    batch_params_exp: float = 0.0
    source: str = ""
    ranges: dict | None = None  # "params", "tokens" -> [lo, hi] of the data behind the law
    draws: tuple | None = None  # bootstrap draws of the six coefficients, in COEFFICIENTS order
    level: float | None = None

    def coefficients(self) -> np.ndarray:
        """(K, 6): row 0 the point law, then the draws."""
        point = np.array([[getattr(self, c) for c in COEFFICIENTS]])
        return point if self.draws is None else np.vstack([point, np.asarray(self.draws)])

    def evaluate(self, params, tokens) -> tuple[np.ndarray, np.ndarray]:
        """(K, m) learning rates and batch sizes (tokens) at arrays params, tokens of shape (m,)."""
        c = self.coefficients()[:, :, None]  # (K, 6, 1)
        n, d = np.asarray(params, dtype=float)[None, :], np.asarray(tokens, dtype=float)[None, :]
        lr = c[:, 0] * n ** c[:, 1] * d ** c[:, 2]
        batch = c[:, 3] * d ** c[:, 4] * n ** c[:, 5]
        return lr, batch

    def to_dict(self) -> dict:
        d = {c: getattr(self, c) for c in COEFFICIENTS}
        d.update(source=self.source, ranges=self.ranges, level=self.level)
        if self.draws is not None:
            q = np.quantile(np.asarray(self.draws), [(1 - self.level) / 2, (1 + self.level) / 2], axis=0)
            d["intervals"] = {c: [float(q[0, j]), float(q[1, j])] for j, c in enumerate(COEFFICIENTS)}
        return d


def law_from_dict(d: dict) -> HparamLaw:
    """The law in a JSON record: a law's own dict, or a fit's (`"law"`), or `plan hparams --json`'s (`"fit"`)."""
    from ..errors import ScalingLawsError

    for key in ("fit", "law"):
        if isinstance(d, dict) and isinstance(d.get(key), dict):
            d = d[key]
    missing = [c for c in COEFFICIENTS if not isinstance(d, dict) or not isinstance(d.get(c), (int, float))]
    if missing:
        raise ScalingLawsError(f"not a learning-rate and batch law: {', '.join(missing)} missing or not numbers "
                               "(write one with `scalinglaws plan hparams --sweep SWEEP.csv --json`)")
    return HparamLaw(**{c: float(d[c]) for c in COEFFICIENTS}, source=str(d.get("source") or "a fitted law"),
                     ranges=d.get("ranges"))


STEP_LAW = HparamLaw(
    lr_coef=1.79, lr_params_exp=-0.713, lr_tokens_exp=0.307, batch_coef=0.58, batch_tokens_exp=0.571,
    source="Step Law (Li et al. 2025, arXiv:2503.04715, eqs. 1-2): N non-embedding, batch in tokens",
    # the dense runs behind it, as released with the paper (N non-embedding)
    ranges={"params": [2.15e8, 1.07e9], "tokens": [4e9, 1e11]},
)


@dataclass(frozen=True, repr=False)
class Hparams(Tabular):
    params: float
    tokens: float
    lr: float
    batch_size: float  # tokens
    batch_sequences: float | None  # batch_size / seq_len, when a sequence length is given
    seq_len: float | None
    law: dict
    intervals: dict | None
    level: float | None
    extrapolation: float
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"format": format_of("hparams"), **self.__dict__, "warnings": list(self.warnings)}


def recommend(params: float, tokens: float, *, law: HparamLaw | None = None, seq_len: float | None = None,
              level: float | None = None) -> Hparams:
    """The learning rate and batch size a law recommends for N = params, D = tokens, with intervals if it has draws."""
    law = STEP_LAW if law is None else law
    n = positive(params, "--params", "7e9")
    d = positive(tokens, "--tokens", "1.4e12")
    s = None if seq_len is None else positive(seq_len, "--seq-len", "4096")
    lr, batch = law.evaluate([n], [d])
    lr, batch = lr[:, 0], batch[:, 0]
    notes: list[str] = []
    factor = 1.0
    for key, v in (("params", n), ("tokens", d)):
        lo, hi = (law.ranges or {}).get(key, (None, None))
        if lo:
            factor = max(factor, v / hi, lo / v)
    if factor > EXTRAPOLATION_WARN:
        notes.append(f"N = {n:.3g}, D = {d:.3g} lie {factor:.3g}× beyond the runs the hyperparameter law was fitted "
                     "on: treat the recommendation as a starting point for a short sweep")
        warnings.warn(notes[-1], ExtrapolationWarning, stacklevel=2)
    intervals = None
    used_level = None
    if law.draws is not None:
        used_level = check_level(law.level if level is None else level)
        q = [(1 - used_level) / 2, (1 + used_level) / 2]
        intervals = {"lr": [float(v) for v in np.quantile(lr[1:], q)],
                     "batch_size": [float(v) for v in np.quantile(batch[1:], q)]}
        if s is not None:
            intervals["batch_sequences"] = [v / s for v in intervals["batch_size"]]
    return Hparams(params=n, tokens=d, lr=float(lr[0]), batch_size=float(batch[0]),
                   batch_sequences=None if s is None else float(batch[0] / s), seq_len=s, law=law.to_dict(),
                   intervals=intervals, level=used_level, extrapolation=float(factor), warnings=tuple(notes))
