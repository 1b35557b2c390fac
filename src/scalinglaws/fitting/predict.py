"""Predictions from a fit, with intervals from its bootstrap draws.

interval="prediction" (default): where a new run at these inputs will land. Each draw's prediction is multiplied
    by exp(e), e resampled from the fit's log residuals, so the interval holds both the law's uncertainty and the
    run-to-run scatter around it (a residual bootstrap on top of the case bootstrap; Davison & Hinkley 1997 §6.3).
interval="confidence": where the law's curve itself lies: percentiles of the draws' predictions only.

Every prediction also reports how far it extrapolates: the largest factor by which an input lies outside the range
the fit saw. Beyond EXTRAPOLATION_WARN the prediction is flagged and an ExtrapolationWarning is issued.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import ExtrapolationWarning, ScalingLawsError
from ..runs import Runs

EXTRAPOLATION_WARN = 100.0  # two decades beyond the data


@dataclass(frozen=True)
class Predictions:
    inputs: Mapping[str, np.ndarray]  # column -> values, in input order
    prediction: np.ndarray
    lower: np.ndarray | None
    upper: np.ndarray | None
    extrapolation: np.ndarray  # factor beyond the fitted range, 1 inside it
    level: float | None
    interval: str
    target: str
    warnings: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.prediction)

    def records(self) -> list[dict]:
        out = []
        for i in range(len(self)):
            row = {k: _num(v[i]) for k, v in self.inputs.items()}
            row["prediction"] = float(self.prediction[i])
            row["lower"] = None if self.lower is None else float(self.lower[i])
            row["upper"] = None if self.upper is None else float(self.upper[i])
            row["extrapolation"] = float(self.extrapolation[i])
            out.append(row)
        return out

    def to_dict(self) -> dict:
        return {"target": self.target, "interval": self.interval if self.lower is not None else None,
                "level": self.level if self.lower is not None else None, "predictions": self.records(),
                "warnings": list(self.warnings)}

    def _repr_html_(self) -> str:
        from ..render.html_tables import predictions_html

        return predictions_html(self)


def _num(v):
    return v.item() if isinstance(v, np.generic) else v


def _targets(fit, at) -> Runs:
    """The rows to predict, as a validated runs table (a mapping of columns or any runs source)."""
    from ..runs import read_runs

    if isinstance(at, Mapping) and not isinstance(at, Runs):
        cols = {k: np.atleast_1d(np.asarray(v)) for k, v in at.items()}
        sizes = {len(v) for v in cols.values()}
        if len(sizes) > 1:
            n = max(sizes)
            if any(len(v) not in (1, n) for v in cols.values()):
                raise ScalingLawsError(f"inputs have different lengths: { {k: len(v) for k, v in cols.items()} }")
            cols = {k: np.broadcast_to(v, (n,)).copy() for k, v in cols.items()}
        at = cols
    needed = list(dict.fromkeys(fit.inputs.values()))
    runs = at if isinstance(at, Runs) else read_runs(at, dedupe=False)
    missing = [c for c in needed if c not in runs]
    if missing:
        raise ScalingLawsError(
            f"the fit's law needs {', '.join(needed)}; missing: {', '.join(missing)}. Give them, e.g. "
            + " ".join(f"--at {c}=..." for c in missing))
    from ..runs.validate import require

    require(runs, needed, "a prediction needs every input")
    return runs


def predict(fit, at, *, level: float | None = None, interval: str = "prediction") -> Predictions:
    if interval not in ("prediction", "confidence"):
        raise ScalingLawsError(f"--interval must be 'prediction' or 'confidence' (got '{interval}')")
    from .engine import law_inputs

    law = fit.get_law()
    runs = _targets(fit, at)
    x = law_inputs(law, runs, fit.inputs)
    cols = {c: runs[c] for c in runs.names}
    theta = np.array([fit.params[n] for n in law.param_names])
    with np.errstate(all="ignore"):
        point = np.asarray(law(x, theta), dtype=float)
    factor = np.ones_like(point)
    for col in set(fit.inputs.values()):
        lo, hi = fit.data.get("ranges", {}).get(col, (None, None))
        v = np.asarray(runs[col], dtype=float) if runs[col].dtype.kind in "fiu" else None
        if v is None or lo is None or not (lo > 0 and hi > 0):
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(v > 0, np.maximum(v / hi, lo / np.where(v > 0, v, 1.0)), 1.0)
        factor = np.maximum(factor, f)
    notes = []
    far = factor > EXTRAPOLATION_WARN
    if far.any():
        notes.append(f"{int(far.sum())} prediction{'s' if far.sum() > 1 else ''} extrapolate up to "
                     f"{factor.max():.3g}× beyond the fitted data's range: treat them as rough")
        warnings.warn(notes[-1], ExtrapolationWarning, stacklevel=3)
    lower = upper = None
    used_level = None
    if fit.bootstrap is not None:
        used_level = fit.bootstrap.level if level is None else level
        if not 0 < used_level < 1:
            raise ScalingLawsError(f"--level must be between 0 and 1 (got {used_level})")
        draws = fit.bootstrap.array()
        with np.errstate(all="ignore"):
            preds = np.asarray(law(x, draws), dtype=float)  # (B, m)
        if interval == "prediction":
            rng = np.random.default_rng([fit.seed, 2])
            resid = np.asarray(fit.residuals, dtype=float)
            # residuals are log(fit) - log(observed), so an observation is the fit times exp(-residual)
            preds = preds * np.exp(-rng.choice(resid, size=preds.shape))
        q = np.nanquantile(preds, [(1 - used_level) / 2, (1 + used_level) / 2], axis=0)
        lower, upper = q[0], q[1]
    return Predictions(inputs=cols, prediction=point, lower=lower, upper=upper, extrapolation=factor,
                       level=used_level, interval=interval, target=fit.target, warnings=tuple(notes))
