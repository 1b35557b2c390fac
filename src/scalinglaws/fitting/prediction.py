"""Predictions from a fit, with intervals from its bootstrap draws.

interval="prediction" (default): where a new run at these inputs will land: the law's uncertainty (the bootstrap
    draws), the run-to-run scatter around it (the fit's residuals) and the law's own misspecification, which grows
    with extrapolation (the calibration learned from backtests). interval.py makes it; its record says how.
interval="confidence": where the law's curve itself lies: percentiles of the draws' predictions only.

A fit made by law selection may hold a law mixture (mixture.py): its intervals then include the candidate laws'
disagreement. `draw_curves` is the one place that turns a fit's draws into curves at rows, for `predict` and the
figures' bands alike.

Every prediction also reports how far it extrapolates: the largest factor by which an input lies outside the range
the fit saw. Beyond EXTRAPOLATION_WARN the prediction is flagged and an ExtrapolationWarning is issued.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import ExtrapolationWarning, ScalingLawsError
from ..records import format_of
from ..render.table import Tabular
from ..runs import Runs

EXTRAPOLATION_WARN = 100.0  # two decades beyond the data
FORMAT = format_of("predictions")


@dataclass(frozen=True, repr=False)
class Predictions(Tabular):
    inputs: Mapping[str, np.ndarray]  # column -> values, in input order
    prediction: np.ndarray
    lower: np.ndarray | None
    upper: np.ndarray | None
    extrapolation: np.ndarray  # factor beyond the fitted range, 1 inside it
    level: float | None
    interval: str
    target: str
    warnings: tuple[str, ...] = ()
    method: Mapping | None = None  # how the interval was made (interval.py): its sources of error and their sizes
    pit: np.ndarray | None = None  # given observations: where each fell in its interval's distribution (interval.py)
    outside: np.ndarray | None = None  # rows outside the fitted range, zeros included (data.outside)
    over: tuple[str, ...] = ()  # the inputs `extrapolation` measures against (N, D): its unit

    def __len__(self) -> int:
        return len(self.prediction)

    def records(self) -> list[dict]:
        out = []
        for i in range(len(self)):
            row = {k: _num(v[i]) for k, v in self.inputs.items()}
            row["prediction"] = _float(self.prediction[i])
            row["lower"] = None if self.lower is None else _float(self.lower[i])
            row["upper"] = None if self.upper is None else _float(self.upper[i])
            row["extrapolation"] = float(self.extrapolation[i])
            if self.outside is not None:
                row["beyond_data"] = bool(self.outside[i])
            if self.pit is not None:
                row["pit"] = _float(self.pit[i])
            out.append(row)
        return out

    def to_dict(self) -> dict:
        return {"format": FORMAT, "target": self.target,
                "interval": self.interval if self.lower is not None else None,
                "level": self.level if self.lower is not None else None,
                "interval_method": None if self.method is None else _plain(self.method),
                "predictions": self.records(), "warnings": list(self.warnings)}

    def _repr_html_(self) -> str:
        from ..render.html_tables import predictions_html

        return predictions_html(self)


def _num(v):
    """An input cell as JSON: numbers and text as they are, an empty (NaN) or infinite cell as None."""
    v = v.item() if isinstance(v, np.generic) else v
    return None if isinstance(v, float) and not np.isfinite(v) else v


def _float(v) -> float | None:
    """A JSON-ready number: None where the law or its draws give no finite value (NaN is not JSON)."""
    v = float(v)
    return v if np.isfinite(v) else None


def _plain(obj):
    """JSON-ready builtins; a number that is not finite becomes None (JSON has no NaN)."""
    if isinstance(obj, Mapping):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [_plain(v) for v in obj]
    obj = obj.item() if isinstance(obj, np.generic) else obj
    return None if isinstance(obj, float) and not np.isfinite(obj) else obj


def _targets(fit, at) -> Runs:
    """The rows to predict, as a validated runs table (a mapping of columns or any runs source)."""
    from ..runs import read_runs
    from ..runs.validate import require
    from .data import as_runs

    needed = list(dict.fromkeys(fit.inputs.values()))
    if isinstance(at, Mapping) and not isinstance(at, Runs):
        # the law's own symbols name their columns too: {"N": 7e9} is {"params": 7e9} for a law with N=params
        at = {(fit.inputs[k] if k in fit.inputs and fit.inputs[k] not in at else k): v for k, v in at.items()}
    runs = at if isinstance(at, Runs) else read_runs(as_runs(at).columns if isinstance(at, Mapping) else at,
                                                     dedupe=False)
    missing = [c for c in needed if c not in runs]
    if missing:
        raise ScalingLawsError(
            f"the fit's law needs {', '.join(needed)}; missing: {', '.join(missing)}. Give them, e.g. "
            + ", ".join(f"{c}=..." for c in missing))
    require(runs, needed, "a prediction needs every input")
    return runs


def predict(fit, at, *, level: float | None = None, interval: str = "prediction",
            calibration="default", observed=None) -> Predictions:
    """Predictions of `fit` at rows `at`, with an interval from its bootstrap draws (interval.py makes it).

    calibration: the model-error term of prediction intervals: "default" (learned from backtests on the bundled
    ladders), "none", a calibration file, or a Calibration.
    observed: the values later seen at those rows (a backtest's held-out runs): with a bootstrap, `pit` then says
    where each fell in its interval's predictive distribution, from the same samples as the interval.
    """
    from . import space as spaces
    from .calibration import resolve
    from .data import evaluate, extrapolated_inputs, extrapolation, outside
    from .interval import check_kind, check_level
    from .interval import interval as make_interval

    check_kind(interval)
    if level is not None:  # checked whether or not the fit has draws to make an interval with
        check_level(level)
    runs = _targets(fit, at)
    point = evaluate(fit, runs)
    factor = extrapolation(fit, runs)
    notes = []
    far = factor > EXTRAPOLATION_WARN
    if far.any():
        notes.append(f"{int(far.sum())} prediction{'s' if far.sum() > 1 else ''} extrapolate up to "
                     f"{factor.max():.3g}× beyond the fitted range of {', '.join(extrapolated_inputs(fit))}: treat "
                     "them as rough")
        warnings.warn(notes[-1], ExtrapolationWarning, stacklevel=3)
    lower = upper = pit = None
    used_level = None
    method = None
    if fit.bootstrap is not None:
        used_level = check_level(fit.bootstrap.level if level is None else level)
        curves, weights, source = draw_curves(fit, runs, notes)
        made = make_interval(curves, level=used_level, kind=interval, residuals=fit.residuals,
                             space=spaces.of(fit.loss), seed=fit.seed, point=point, extrapolation=factor,
                             calibration=resolve(calibration) if interval == "prediction" else None,
                             parameters=source, weights=weights, observed=observed)
        lower, upper, pit, method = made.lower, made.upper, made.pit, dict(made.method)
        for note in made.warnings:
            notes.append(note)
            warnings.warn(note, ExtrapolationWarning, stacklevel=3)
    bad = int(np.sum(~np.isfinite(point)))
    if bad:
        notes.append(f"{bad} prediction{'s' if bad > 1 else ''} of the law {'are' if bad > 1 else 'is'} not a "
                     "finite number (the law has no value there): written as null")
        warnings.warn(notes[-1], ExtrapolationWarning, stacklevel=3)
    cols = {c: runs[c] for c in runs.names}
    return Predictions(outside=outside(fit, runs), over=tuple(extrapolated_inputs(fit)),
                       inputs=cols, prediction=point, lower=lower, upper=upper, extrapolation=factor,
                       level=used_level, interval=interval, target=fit.target, warnings=tuple(notes),
                       method=method, pit=pit)


def draw_curves(fit, runs: Runs, notes: list[str] | None = None):
    """(curves (B, m) of the fit's bootstrap draws at rows `runs`, their probabilities (None: all alike), where they
    come from, for the interval's record): the fit's own draws, or with a law mixture (mixture.py) the draws of
    every member. Notes on members left out go to `notes`."""
    from .data import evaluate
    from .mixture import mixed

    curves = evaluate(fit, runs, fit.bootstrap.array())  # (B, m)
    stacked, weights, source = mixed(fit, runs, curves, [] if notes is None else notes)
    return stacked, weights, source or f"bootstrap over runs ({fit.bootstrap.n} draws){borrowed_words(fit)}"


def borrowed_words(fit) -> str:
    """What an interval made from this fit's draws says of the borrowed parameters ('' when none)."""
    b = fit.extra.get("borrowed") if isinstance(fit.extra, Mapping) else None
    if not b:
        return ""
    p = b["prior"]
    n = len(p["sources"])
    return (f"; {', '.join(b['params'])} drawn from an annealing prior ({n} source fit{'s' if n > 1 else ''}, "
            f"{p['origin']}, spread {p['spread']:.2f} in log)")
