"""A fit's inputs: how a law's symbols bind to columns, and the one evaluator of a fit at rows.

Everything that draws, predicts, forecasts or scores a fit evaluates it here: `evaluate(fit, at, theta)` turns rows
(a runs table or a mapping of columns) into the law's inputs by the fit's own binding and runs the law at its point
estimate or at any (K, P) parameter rows (bootstrap draws, refits). `extrapolation(fit, at)` says how far rows lie
beyond the range the fit saw. Callers never reach into the law or the engine for either.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..errors import ScalingLawsError
from ..runs import Runs
from ..runs.values import parse_number


def bind_inputs(law, inputs: Mapping[str, str] | None) -> dict[str, str]:
    """The law's symbol -> column binding, with the caller's overrides (each must name one of the law's inputs)."""
    binding = dict(law.inputs)
    for sym, col in (inputs or {}).items():
        if sym not in binding:
            raise ScalingLawsError(f"law '{law.name}' has no input '{sym}' (its inputs: {', '.join(binding)}). "
                                   f"Bind it as inputs={{'{next(iter(binding))}': 'COLUMN'}}")
        binding[sym] = col
    return binding


def law_inputs(law, runs: Runs, binding: Mapping[str, str]) -> dict[str, np.ndarray]:
    """The arrays a law function reads: its bound columns, or what its `features` derives from the table."""
    if law.features is not None:
        return dict(law.features(runs, binding))
    return {sym: runs[col] for sym, col in binding.items()}


def as_runs(at) -> Runs:
    """Rows to evaluate at: a runs table as it is, or a mapping of columns (scalars broadcast to the longest)."""
    if isinstance(at, Runs):
        return at
    if isinstance(at, Mapping):
        cols = {k: np.atleast_1d(np.asarray(v)) for k, v in at.items()}
        sizes = {len(v) for v in cols.values()}
        if len(sizes) > 1:
            n = max(sizes)
            if any(len(v) not in (1, n) for v in cols.values()):
                raise ScalingLawsError(f"inputs have different lengths: { {k: len(v) for k, v in cols.items()} }")
            cols = {k: np.broadcast_to(v, (n,)).copy() for k, v in cols.items()}
        return Runs({k: (v.astype(float) if v.dtype.kind in "iub" else _sizes(v)) for k, v in cols.items()})
    from ..runs import read_runs

    return read_runs(at, dedupe=False)


def _sizes(values: np.ndarray) -> np.ndarray:
    """Text written as numbers ('1.3B', '7e9') as floats; labels (run names of curve laws) as they are."""
    if values.dtype.kind not in "US":
        return values
    try:
        return np.array([parse_number(v) for v in values.tolist()], dtype=float)
    except ValueError:
        return values


def outside(fit, at) -> np.ndarray:
    """(n,) whether each row lies outside the range of the fit's inputs at all, zeros included: a training curve's
    step 0 lies before its first checkpoint though `extrapolation` gives it no factor (a ratio to zero has none)."""
    runs = as_runs(at)
    out = extrapolation(fit, runs) > 1.0
    ranges = fit.data.get("ranges", {})
    for sym, col in fit.inputs.items():
        lo = (ranges.get(col) or (None, None))[0]
        if sym == "lr" or col == "lr" or col not in runs or runs[col].dtype.kind not in "fiu" or not (lo or 0) > 0:
            continue
        out |= np.asarray(runs[col], dtype=float) <= 0
    return out


def extrapolated_inputs(fit) -> list[str]:
    """The law's inputs whose fitted range `extrapolation` measures against, as symbols (N, D; not lr)."""
    return [sym for sym, col in fit.inputs.items() if sym != "lr" and col != "lr"]


def point(fit) -> np.ndarray:
    """The fit's parameters (P,) in its law's order."""
    return np.array([fit.params[n] for n in fit.get_law().param_names], dtype=float)


def evaluate(fit, at=None, theta=None, *, x: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """The fit's law at rows `at` (or at law inputs `x` already computed): (n,) at the point estimate, or (K, n)
    for (K, P) parameter rows `theta`. Predictions that are not finite come back as NaN, without warnings."""
    single = theta is None
    out = evaluate_law(fit.get_law(), fit.inputs, at, point(fit)[None] if single else theta, x=x)
    return out[0] if single else out


def evaluate_law(law, binding: Mapping[str, str], at, theta, *, x: Mapping[str, np.ndarray] | None = None
                 ) -> np.ndarray:
    """(K, n): a law bound to columns by `binding` at (K, P) parameter rows, at rows `at` (or inputs `x`). The
    evaluator behind `evaluate`, for laws held beside a fit without a Fit of their own (a law mixture's members,
    mixture.py; a backtest cut's parameters)."""
    if x is None:
        x = law_inputs(law, as_runs(at), binding)
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    with np.errstate(all="ignore"):
        out = np.asarray(law(x, theta), dtype=float)
    n = len(next(iter(x.values()))) if x else out.shape[-1]
    out = np.broadcast_to(out.reshape((-1,) + out.shape[-1:]) if out.ndim else out, (theta.shape[0], n)).copy()
    out[~np.isfinite(out)] = np.nan
    return out


def extrapolation(fit, at) -> np.ndarray:
    """(n,) factor by which each row lies beyond the range of the fit's inputs (1 inside it): the largest over the
    law's positive numeric inputs of max(v / hi, lo / v). A learning rate is a setting, not a scale: a schedule that
    anneals below the fitted runs' smallest rate does not extrapolate the law, so it is not counted."""
    runs = as_runs(at)
    factor = np.ones(len(runs))
    ranges = fit.data.get("ranges", {})
    for sym, col in fit.inputs.items():
        if sym == "lr" or col == "lr":
            continue
        lo, hi = (ranges.get(col) or (None, None))[:2]
        if col not in runs or runs[col].dtype.kind not in "fiu" or lo is None or hi is None or not (lo > 0 < hi):
            continue
        v = np.asarray(runs[col], dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(v > 0, np.maximum(v / hi, lo / np.where(v > 0, v, 1.0)), 1.0)
        factor = np.maximum(factor, np.where(np.isfinite(f), f, 1.0))
    return factor
