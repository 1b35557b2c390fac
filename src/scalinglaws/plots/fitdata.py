"""What fit figures share: the rows a fit saw, how to group them, and the law along a path through its inputs.

A fit record keeps where its data came from (source, filters) and a hash of the rows, not the rows themselves.
`fit_data` reads the source again and checks the hash, so a figure either shows exactly the runs the fit used or
says plainly that it does not.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import DataWarning, ScalingLawsError
from ..runs import Runs, fit_columns
from .spec import si

LABELS = {"flops": "training compute C (FLOP)", "params": "parameters N", "tokens": "training tokens D",
          "loss": "loss (nats/token)", "step": "optimizer step", "unique_tokens": "unique tokens U"}
SYMBOL = {"params": "N", "tokens": "D", "flops": "C", "unique_tokens": "U"}
MAX_GROUPS = 12
SIZE_BINS = 8
PATH_RMS = 0.05  # decades: how closely a group's inputs must follow a straight line in log space to draw the law


def label(col: str) -> str:
    return LABELS.get(col, col)


@dataclass(frozen=True)
class FitData:
    runs: Runs  # the rows, in the order the fit saw them when `matches`
    y: np.ndarray  # (n,) the fitted target
    pred: np.ndarray  # (n,) the law at the point estimate
    matches: bool  # the rows hash to the fit's data hash
    warning: str = ""
    pinned: bool = False  # the rows came from a run store that pinned them to this fit


def law_at(fit, runs: Runs, theta=None) -> np.ndarray:
    """The fit's law at the rows of a runs table, at its point estimate or at (K, P) parameters theta."""
    from ..fitting.data import evaluate

    return evaluate(fit, runs, theta)


def recorded_source(fit, near=None) -> str:
    """The data source a fit records. A fit names a file by its name alone, so a file that is not in the current
    folder is looked for beside the fit file (`near`), where `scalinglaws fit -o` users usually keep both."""
    from pathlib import Path

    source = str(fit.data.get("source"))
    if near is not None and ":" not in source and not Path(source).exists() and (Path(near) / source).exists():
        return str(Path(near) / source)
    return source


def rows_of(fit, source, *, inputs: bool = False):
    """The rows the fitting engine keeps of `source` for this fit, by the engine's own preparation: the fit's
    filters, the columns its law needs, and the law's own rules (such as a training curve's dropped transient).

    inputs=True also returns the law's inputs at those rows as the fit computed them: a curve law's features come
    from every row of each run, the left-out transient included, so they cannot be recomputed from the kept rows.
    """
    from ..fitting import space as spaces
    from ..fitting.engine import prepare

    runs, x = prepare(source, fit.get_law(), inputs=fit.inputs, target=fit.target,
                      where=list(fit.data.get("where", [])), space=spaces.of(fit.loss),
                      rename=list(fit.data.get("map", [])) or None, constants=fit.data.get("set") or None)[:2]
    return (runs, x) if inputs else runs


def pinned_rows(fit) -> Runs | None:
    """The exact rows a fit saved in the run store was fitted to (None when it was not, or there is no store)."""
    if not str(fit.data.get("source", "")).startswith("store:"):
        return None
    try:
        from ..store.source import fit_runs

        return fit_runs(fit)
    except (ImportError, ScalingLawsError):
        return None


def fit_data(fit, data=None, *, required: bool = True, near=None) -> FitData | None:
    """The fit's rows, read again from `data` (default: the source the fit records) and checked against its hash.

    Rows a run store pinned to the fit come first (exact even after more runs were added). A hash that differs
    from the fit's is a DataWarning, not an error: the figure then shows the rows as they are now, and says so.
    Unreadable data is an error when `required`, else None.
    """
    runs = pinned_rows(fit) if data is None else None
    pinned = runs is not None
    x = None
    if runs is None:
        source = data if data is not None else (
            fit.in_memory if getattr(fit, "in_memory", None) is not None else recorded_source(fit, near))
        try:
            runs, x = rows_of(fit, source, inputs=True)
        except ScalingLawsError as exc:
            if not required:
                return None
            raise ScalingLawsError(f"the fit's data ({source}) cannot be read: {str(exc).rstrip('.')}. Give the runs "
                                   "it was fitted to with --data SOURCE") from None
    used = fit_columns(fit.inputs.values(), fit.target)
    matches = runs.hash(used) == fit.data.get("hash")
    note = ""
    if not matches:
        note = (f"the rows of {runs.source} differ from those the fit saw (hash {runs.hash(used)} vs "
                f"{fit.data.get('hash')}): the figure shows the rows as they are now. Give the fit's data with "
                "--data SOURCE (with its filters)")
        warnings.warn(note, DataWarning, stacklevel=3)
    pred = law_at(fit, runs) if x is None or fit.get_law().features is None else _at_inputs(fit, x)
    return FitData(runs=runs, y=np.asarray(runs[fit.target], dtype=float), pred=pred, matches=matches,
                   warning=note, pinned=pinned)


def _at_inputs(fit, x: dict) -> np.ndarray:
    """The fit's law at its point estimate on inputs already computed (n,)."""
    from ..fitting.data import evaluate

    return evaluate(fit, x=x)


def default_x(fit, runs: Runs | None) -> str:
    """The step for training-curve laws, compute for laws of several inputs (when the data have it), else the
    law's first numeric input."""
    cols = list(dict.fromkeys(fit.inputs.values()))
    if "step" in cols and fit.get_law().features is not None:
        return "step"
    if len(cols) > 1 and "params" in cols and "tokens" in cols and (runs is None or "flops" in runs):
        return "flops"
    numeric = [c for c in cols if runs is None or (c in runs and runs[c].dtype.kind == "f")]
    return (numeric or cols)[0]


@dataclass(frozen=True)
class Group:
    label: str
    index: np.ndarray  # rows of the table in this group
    hold: dict  # column -> value held fixed when drawing the law for this group


def groups(runs: Runs, by: str | None, fit=None, x: str | None = None) -> tuple[list[Group], str]:
    """Rows split for colouring, and the palette: by `by`, else by family, else by model size, else one group."""
    if by is not None:
        if by not in runs:
            raise ScalingLawsError(f"--by {by}: {runs.missing_message(by, 'Choose a column to colour by')}")
        return _split(runs, by)
    if x == "step" and "run" in runs and 1 < runs.n_runs <= 3 * MAX_GROUPS:
        return _split(runs, "run")  # training curves: one line per run
    if "family" in runs:
        n = len(set(runs["family"].tolist()))
        if 1 < n <= MAX_GROUPS:
            return _split(runs, "family")
    inputs = set(fit.inputs.values()) if fit is not None else {"params"}
    if "params" in inputs and x != "params" and "params" in runs and np.ptp(np.log(runs["params"])) > 1e-9:
        return _split(runs, "params")
    return [Group("runs", np.arange(len(runs)), {})], "qualitative"


def _split(runs: Runs, by: str) -> tuple[list[Group], str]:
    values = runs[by]
    if values.dtype.kind != "f":
        labels = values.astype(str)
        order = list(dict.fromkeys(labels.tolist()))
        if len(order) > 3 * MAX_GROUPS:
            raise ScalingLawsError(f"--by {by}: {len(order)} distinct values are too many to colour. Filter with "
                                   f"--where, or colour by a column with at most {3 * MAX_GROUPS} values")
        return [Group(v, np.flatnonzero(labels == v), {}) for v in order], "qualitative"
    finite = np.isfinite(values)
    distinct = np.unique(values[finite])
    sym = SYMBOL.get(by, by)
    if len(distinct) <= SIZE_BINS:
        return [Group(f"{sym} = {si(v)}", np.flatnonzero(values == v), {by: float(v)}) for v in distinct], \
            "sequential"
    logv = np.log10(np.where(finite & (values > 0), values, np.nan))
    if not np.all(np.isfinite(logv[finite])):
        raise ScalingLawsError(f"--by {by}: numeric groups need positive values; use a label column")
    edges = np.linspace(np.nanmin(logv), np.nanmax(logv), SIZE_BINS + 1)
    which = np.clip(np.searchsorted(edges, logv, side="right") - 1, 0, SIZE_BINS - 1)
    out = []
    for b in range(SIZE_BINS):
        idx = np.flatnonzero((which == b) & finite)
        if idx.size:
            centre = float(10 ** np.mean(logv[idx]))
            out.append(Group(f"{sym} ≈ {si(centre)}", idx, {by: centre}))
    return out, "sequential"


def path_columns(runs: Runs, cols: list[str], x: str, xs: np.ndarray, hold: dict) -> dict | None:
    """Law inputs along xs for one group of rows: x itself, held columns fixed, the others following the group.

    A column constant in the group stays constant; one that varies follows a straight line in log space fitted to
    the group (when it lies within PATH_RMS decades of one); with x = flops and the law reading params and tokens,
    the free one of the two follows C = k·N·D with k the data's own ratio (6 for the usual count). Returns None
    when the group's inputs follow no such path: the law is then drawn at the data points instead.
    """
    out: dict[str, np.ndarray] = {}
    logx = np.log10(runs[x]) if x in runs else None
    for col in cols:
        if col == x:
            out[col] = xs
        elif col in hold:
            out[col] = np.full_like(xs, hold[col])
        elif np.ptp(np.log10(runs[col])) < 1e-9:
            out[col] = np.full_like(xs, float(runs[col][0]))
    free = [c for c in cols if c not in out]
    if x == "flops" and x not in cols and {"params", "tokens"} <= set(cols) and len(free) == 1 \
            and free[0] in ("params", "tokens"):
        k = float(np.median(runs["flops"] / (runs["params"] * runs["tokens"])))
        other = "tokens" if free[0] == "params" else "params"
        out[free[0]] = xs / (k * out[other])
        free = []
    for col in free:
        if logx is None or np.ptp(logx) < 1e-9:
            return None
        logc = np.log10(runs[col])
        slope, icept = np.polyfit(logx, logc, 1)
        if np.sqrt(np.mean((logc - (icept + slope * logx)) ** 2)) > PATH_RMS:
            return None
        out[col] = 10 ** (icept + slope * np.log10(xs))
    return out


def law_on(fit, columns: dict, theta=None) -> np.ndarray:
    """The law at columns given as arrays (a path): runs them through the fit's own input handling."""
    return law_at(fit, Runs({k: np.asarray(v, dtype=float) for k, v in columns.items()}), theta)


def bands(fit, columns: dict, level: float | None = None, calibration="default") -> dict | None:
    """Confidence and prediction bands of the law along a path, from the fit's bootstrap draws (None without).

    Both come from the one interval maker (fitting/interval.py) that `Fit.predict` uses, with the same fixed
    (draw, residual) pairs at every point of the path: the band at a point is the interval `predict` gives there.
    """
    if fit.bootstrap is None:
        return None
    from ..fitting import space as spaces
    from ..fitting.calibration import resolve
    from ..fitting.data import extrapolation
    from ..fitting.interval import interval
    from ..fitting.prediction import draw_curves

    level = fit.bootstrap.level if level is None else level
    runs = Runs({k: np.asarray(v, dtype=float) for k, v in columns.items()})
    curves, weights, source = draw_curves(fit, runs)  # (B, m): the draws `predict` reads, a law mixture's too
    kw = dict(level=level, residuals=fit.residuals, space=spaces.of(fit.loss), seed=fit.seed, weights=weights,
              parameters=source)
    conf = interval(curves, kind="confidence", **kw)
    pred = interval(curves, kind="prediction", extrapolation=extrapolation(fit, runs),
                    calibration=resolve(calibration), **kw)
    return {"level": level, "confidence": np.stack([conf.lower, conf.upper]),
            "prediction": np.stack([pred.lower, pred.upper]), "method": pred.method}


def x_of(runs: Runs, x: str) -> np.ndarray:
    if x not in runs:
        raise ScalingLawsError(f"--x {x}: {runs.missing_message(x, 'Choose a numeric column for the x axis')}")
    values = runs[x]
    if values.dtype.kind != "f":
        raise ScalingLawsError(f"--x {x}: column '{x}' holds labels; the x axis needs numbers")
    return values
