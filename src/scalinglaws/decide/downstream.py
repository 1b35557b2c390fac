"""Downstream forecasts in two steps, with the uncertainty of both carried through.

Step 1: scale -> a loss-like intermediate L (a task loss, bits per byte, a validation loss), with a scaling law
fitted by the engine (chinchilla on params and tokens by default, power on flops otherwise) and bootstrapped by run.
Step 2: L -> task accuracy, through a link that respects the task's chance floor and a ceiling of 1 (links.py),
fitted by the engine in linear space (least squares in accuracy points, curvefit.py) with its own bootstrap by
run. Bhagia et al. 2024 forecast OLMo tasks this way; Gadre et al. 2024 link loss to error with an exponential.

A forecast at new scales draws step 1's prediction of L (draw b, with a resampled log residual for a prediction
interval) and passes it through step 2's draw b (plus a resampled accuracy residual): the interval holds both
steps' parameter uncertainty and scatter. Where the targets were measured, each forecast is scored against the
observed accuracy, and the link alone is scored on the observed L too, which says which step the error comes from.

Without an intermediate (`via=None`) the forecast is one step: the link applied to L = -log10(compute), a
sigmoid in log compute (the single-step baseline of Bhagia 2024 and Ruan et al. 2024).

Before fitting, each task's trend is checked (trend.py): a task at chance everywhere raises an error when it is the
only task asked for, and is flagged otherwise; inverse and non-monotone tasks are flagged and not forecast unless
`force=True` (McKenzie et al. 2023).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ArgumentError, DataWarning, ScalingLawsError
from ..records import format_of
from ..render.table import Tabular
from ..runs import Runs, read_runs
from .curvefit import fit_curve
from .links import LINKS, chance_of, make_link
from .trend import assess


@dataclass(frozen=True)
class TaskForecast:
    task: str
    chance: float
    status: str  # "forecast", or the trend that stopped it: "at chance", "inverse", "non-monotone", "flat"
    reason: str
    link: str
    link_scores: Mapping[str, float]  # with link="auto": each link's backtested mean |error| (accuracy points)
    link_params: Mapping[str, float]
    link_rmse: float | None
    trend: Mapping
    rows: tuple[Mapping, ...]  # one per target: inputs, L forecast, accuracy forecast and interval, observed
    mean_abs_error: float | None  # accuracy points, where observed
    link_only_error: float | None  # the link applied to the observed L at the targets

    def to_dict(self) -> dict:
        return {"task": self.task, "chance": self.chance, "status": self.status, "reason": self.reason,
                "link": self.link, "link_scores": dict(self.link_scores), "link_params": dict(self.link_params),
                "link_rmse": self.link_rmse,
                "trend": dict(self.trend), "forecasts": [dict(r) for r in self.rows],
                "mean_abs_error": self.mean_abs_error, "link_only_error": self.link_only_error}


@dataclass(frozen=True, repr=False)
class Downstream(Tabular):
    via: str | None  # the intermediate column (None: one step on log compute)
    law: str | None  # step 1's law
    law_params: Mapping[str, float]
    loss_error: float | None  # step 1's mean |relative error| on L at the targets, where observed
    axis: str
    train_runs: int
    train_rows: int
    level: float
    interval: str
    bootstrap: int
    tasks: tuple[TaskForecast, ...]
    method: Mapping | None = None  # how the intervals were made: each step's draws, noise and model term

    def to_dict(self) -> dict:
        return {"format": format_of("downstream"), "via": self.via, "law": self.law, "method": self.method,
                "law_params": dict(self.law_params), "loss_error": self.loss_error, "axis": self.axis,
                "train_runs": self.train_runs, "train_rows": self.train_rows,
                "level": self.level, "interval": self.interval, "bootstrap": self.bootstrap,
                "tasks": [t.to_dict() for t in self.tasks]}


def _check_task(runs: Runs, task: str) -> None:
    if task not in runs:
        close = [c for c in runs.names if task.split("__")[0] in c][:8]
        hint = f" Similar columns: {', '.join(close)}" if close else ""
        raise ScalingLawsError(runs.missing_message(task, "Name an accuracy column with --task").rstrip(".")
                               + "." + hint)
    col = runs[task]
    if col.dtype.kind != "f":
        raise ScalingLawsError(f"--task {task}: column '{task}' holds labels, not accuracies")
    v = col[np.isfinite(col)]
    if v.size and (v.min() < 0 or v.max() > 1):
        raise ScalingLawsError(f"--task {task}: accuracies must lie in [0, 1] but range from {v.min():g} to "
                               f"{v.max():g}. Divide a percentage by 100")


def _targets(runs, test: Sequence[str], at: Mapping | None) -> Runs | None:
    """The rows to forecast: given columns (`at`, single values broadcast), or the data's rows matching `test`."""
    if at:
        cols = {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in at.items()}
        n = max(len(v) for v in cols.values())
        if any(len(v) not in (1, n) for v in cols.values()):
            raise ScalingLawsError(f"--at values have different lengths: { {k: len(v) for k, v in cols.items()} }")
        return read_runs({k: np.broadcast_to(v, (n,)).copy() for k, v in cols.items()}, dedupe=False)
    if test:
        return runs.where(*test)
    return None


def forecast_downstream(data, tasks: str | Sequence[str], *, via: str | None = None, train: Sequence[str] = (),
                        test: Sequence[str] = (), at: Mapping | None = None, where: Sequence[str] = (), rename=None,
                        law=None, inputs: Mapping[str, str] | None = None, loss_where: Sequence[str] = (),
                        link: str = "auto", chance=None, bootstrap: int = 200, level: float = 0.95,
                        seed: int = 0, interval: str = "prediction", force: bool = False,
                        calibration="default") -> Downstream:
    """Forecast task accuracies at new scales (see the module docstring).

    tasks: accuracy columns. via: the intermediate loss column (None: one step on log compute).
    train / test: filters choosing the rows fitted and the rows forecast (e.g. ["params<2e9"], ["params>5e9"]);
        or give the targets as `at` (columns -> values). where: filters applied to both.
    law, inputs: step 1's law and input binding (default: chinchilla when the rows vary in params and tokens; power
        on params when all share one token count, as a ladder of final checkpoints does; else power on flops;
        "auto": chosen by backtest).
    loss_where: filters for step 1's rows only, within the training rows: fit the loss law to final checkpoints
        (e.g. ["step=143000"]) while the link also learns from intermediate ones, whose loss and accuracy are
        both measured; a checkpoint in the middle of a cosine schedule lies above the loss of a run trained to
        that length, so it misleads step 1 but not step 2.
    link: "sigmoid" (Bhagia 2024), "exponential" (Gadre 2024), or "auto": per task, the one with the lower
        backtested error (fitted on the smaller training runs, scored on the larger).
    chance: a number, or a mapping by task (default: known benchmarks, see links.CHANCE).
    calibration: the model-error term of step 1's prediction interval ("default", "none", a file or a Calibration).
    """
    from ..fitting import fit
    from ..fitting import space as spaces
    from ..fitting.calibration import resolve
    from ..fitting.data import evaluate, extrapolation
    from ..fitting.interval import check_kind, check_level, model_term, predictive
    from .select import fit_auto

    check_kind(interval)
    level = check_level(level)
    if bootstrap < 20:
        raise ArgumentError("bootstrap", f"bootstrap must be at least 20 for forecast intervals (got {bootstrap})")
    tasks = [tasks] if isinstance(tasks, str) else list(tasks)
    if not tasks:
        raise ScalingLawsError("name at least one task column, e.g. --task piqa__acc")
    runs = read_runs(data, rename=rename, where=where)
    for t in tasks:
        _check_task(runs, t)
    fit_rows = runs.where(*train) if train else runs
    targets = _targets(runs, test, at)
    axis = "flops" if "flops" in runs else "params"
    if axis not in runs:
        raise ScalingLawsError(runs.missing_message("flops", "Downstream forecasts need flops, or params and tokens"))

    # trends first: a lone task at chance is an error before anything is fitted
    trends = {}
    for task in tasks:
        y = np.asarray(fit_rows[task], dtype=float)
        ok = np.isfinite(y)
        trends[task] = assess(fit_rows[axis][ok], y[ok], chance_of(task, chance), task, axis)
    if all(t.status == "at chance" for t in trends.values()):
        first = trends[tasks[0]]
        if len(tasks) == 1:
            raise ScalingLawsError(first.reason + ". Choose a task with a trend, or add larger runs")
        raise ScalingLawsError(f"every task asked for is at chance over the fitted runs ({first.reason}). "
                               "Choose tasks with a trend, or add larger runs")

    qlo, qhi = (1 - level) / 2, (1 + level) / 2
    loss_fit, loss_error = None, None
    if via is not None:
        if via not in runs:
            raise ScalingLawsError(runs.missing_message(via, "Name the intermediate loss column with --via"))
        loss_rows = fit_rows.where(*loss_where) if loss_where else fit_rows
        if law is None:
            law, inputs = _default_law(loss_rows, inputs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            kw = dict(target=via, bootstrap=bootstrap, level=level, seed=seed, inputs=inputs)
            loss_fit = fit_auto(loss_rows, **kw) if law == "auto" else fit(loss_rows, law, **kw)
        train_l = np.asarray(fit_rows[via], dtype=float)
    else:
        train_l = -np.log10(np.asarray(fit_rows[axis], dtype=float))

    # step 1 at the targets: point forecast of L and its draws (B, m)
    l_point = l_draws = None
    model = {"source": "not included: a one-step forecast on log compute has no fitted loss law"}
    if targets is not None:
        if loss_fit is not None:
            l_point = evaluate(loss_fit, targets)
            l_draws = evaluate(loss_fit, targets, loss_fit.bootstrap.array())  # (B, m)
            if interval == "prediction":
                # one observation per draw (each goes on through its own link draw), by the one interval path
                space = spaces.of(loss_fit.loss)
                tau, df, model = model_term(resolve(calibration), len(l_point),
                                            extrapolation(loss_fit, targets), loss_fit.residuals, space)
                l_draws = predictive(l_draws, residuals=loss_fit.residuals, space=space, seed=seed, aligned=True,
                                     tau=tau, df=df)
            if via in targets and np.all(np.isfinite(targets[via])):
                loss_error = float(np.mean(np.abs(l_point - targets[via]) / targets[via]))
        else:
            l_point = -np.log10(np.asarray(targets[axis], dtype=float))
            l_draws = np.broadcast_to(l_point, (bootstrap, len(l_point)))

    out = []
    for task in tasks:
        out.append(_one_task(task, trends[task], fit_rows, targets, train_l, l_point, l_draws, axis, via, link,
                             chance, bootstrap, seed, qlo, qhi, interval, force))
    return Downstream(via=via, law=None if loss_fit is None else loss_fit.law,
                      law_params={} if loss_fit is None else dict(loss_fit.params), loss_error=loss_error, axis=axis,
                      train_runs=fit_rows.n_runs, train_rows=len(fit_rows), level=level, interval=interval,
                      bootstrap=bootstrap, tasks=tuple(out),
                      method=_method(loss_fit, via, bootstrap, level, interval, model if targets is not None else None))


def _method(loss_fit, via, bootstrap: int, level: float, interval: str, model) -> dict:
    """How the forecasts' intervals were made, in the words of the one interval maker's records."""
    step1 = ({"law": loss_fit.law, "parameters": f"bootstrap over runs ({loss_fit.bootstrap.n} draws)",
              "noise": "resampled residuals of the fit" if interval == "prediction" else "none",
              "model": model if interval == "prediction" else None}
             if loss_fit is not None else {"law": None, "parameters": "none: L = -log10(compute), exact"})
    return {"level": level, "kind": interval, "step1": {"to": via, **step1},
            "step2": {"parameters": f"the link's bootstrap over runs ({bootstrap} draws), draw b on step 1's draw b",
                      "noise": "resampled residuals of the link" if interval == "prediction" else "none"}}


def _default_law(rows: Runs, inputs):
    if inputs:
        return "chinchilla" if {"N", "D"} >= set(inputs) else "power", inputs
    if "params" in rows and "tokens" in rows:
        if len(np.unique(rows["tokens"])) > 1:
            return "chinchilla", None
        return "power", {"x": "params"}
    return "power", None


def _one_task(task, trend, fit_rows, targets, train_l, l_point, l_draws, axis, via, link, chance, bootstrap, seed,
              qlo, qhi, interval, force) -> TaskForecast:
    from ..fitting.interval import predictive

    p = chance_of(task, chance)
    y = np.asarray(fit_rows[task], dtype=float)
    ok = np.isfinite(y) & np.isfinite(train_l)
    if not trend.forecastable and not (force and trend.status != "at chance"):
        warnings.warn(trend.reason + " (pass force=True / --force to forecast it anyway)", DataWarning,
                      stacklevel=3)
        return TaskForecast(task=task, chance=p, status=trend.status, reason=trend.reason, link=link,
                            link_scores={}, link_params={}, link_rmse=None, trend=trend.to_dict(), rows=(),
                            mean_abs_error=None, link_only_error=None)
    if ok.sum() < 4:
        raise ScalingLawsError(f"--task {task}: {int(ok.sum())} rows with both {task} and the loss; the link needs 4")
    l_range = (float(train_l[ok].min()), float(train_l[ok].max()))
    link_scores = {}
    if link == "auto":
        link, link_scores = choose_link(train_l[ok], y[ok], fit_rows.take(ok), axis, p, l_range)
    law = make_link(link, p, l_range)
    cf = fit_curve(law, {"L": train_l[ok]}, y[ok], runs=np.asarray(fit_rows.run_ids)[ok], bootstrap=bootstrap,
                   seed=seed)
    rows, mae, link_err = (), None, None
    if targets is not None:
        point = np.clip(cf.predict({"L": l_point}), 0, 1)
        k = min(len(l_draws), len(cf.draws))
        with np.errstate(all="ignore"):
            draws = np.asarray(law({"L": l_draws[:k]}, cf.draws[:k]), dtype=float)  # (k, m): step-2 draw b on L draw b
        if interval == "prediction":
            # one observation per draw, by the one interval path: y = fitted - e for a resampled residual e of the
            # link (the engine's residuals are fitted - observed, so the sign is the interval maker's, not ours).
            # Step 1 drew with the same seed: where both steps fitted the same rows in the same order, draw b takes
            # one row's loss and accuracy residuals together, a paired residual bootstrap.
            draws = predictive(draws, residuals=cf.residuals, space=cf.space, seed=seed, aligned=True)
        draws = np.clip(draws, 0, 1)
        lo, hi = np.nanquantile(draws, [qlo, qhi], axis=0)
        l_lo, l_hi = np.nanquantile(l_draws, [qlo, qhi], axis=0)
        observed = targets[task] if task in targets else np.full(len(point), np.nan)
        recs = []
        for i in range(len(point)):
            rec = {c: _plain(targets[c][i]) for c in ("run", "params", "tokens", "flops", "step") if c in targets}
            rec.update({"loss": float(l_point[i]), "loss_lower": float(l_lo[i]), "loss_upper": float(l_hi[i]),
                        "prediction": float(point[i]), "lower": float(lo[i]), "upper": float(hi[i]),
                        "observed": None if not np.isfinite(observed[i]) else float(observed[i])})
            recs.append(rec)
        rows = tuple(recs)
        seen = np.isfinite(observed)
        if seen.any():
            mae = float(np.mean(np.abs(point[seen] - observed[seen])))
            if via is not None and via in targets:
                direct = np.clip(cf.predict({"L": np.asarray(targets[via], dtype=float)}), 0, 1)
                link_err = float(np.mean(np.abs(direct[seen] - observed[seen])))
    status = "forecast" if trend.forecastable else f"forecast (forced; {trend.status})"
    return TaskForecast(task=task, chance=p, status=status, reason=trend.reason, link=link,
                        link_scores=link_scores, link_params=dict(cf.params), link_rmse=cf.rmse,
                        trend=trend.to_dict(), rows=rows, mean_abs_error=mae, link_only_error=link_err)


def choose_link(l, y, rows: Runs, axis: str, chance: float, l_range) -> tuple[str, dict]:
    """The link with the lower error on the larger runs when fitted to the smaller ones (two rollout cuts)."""
    from .backtesting import run_scale

    index, scale = run_scale(rows, axis)
    values = np.unique(scale)
    if len(values) < 3:
        return "sigmoid", {}
    cuts = sorted({float(values[max(0, min(len(values) - 2, int(round(q * len(values))) - 1))])
                   for q in (0.6, 0.8)})
    scores = {}
    for kind in LINKS:
        errs = []
        for c in cuts:
            below = scale[index] <= c
            if below.sum() < 4 or (~below).sum() == 0:
                continue
            cf = fit_curve(make_link(kind, chance, l_range), {"L": l[below]}, y[below], starts=32)
            errs.append(float(np.mean(np.abs(np.clip(cf.predict({"L": l[~below]}), 0, 1) - y[~below]))))
        if errs:
            scores[kind] = float(np.mean(errs))
    if not scores:
        return "sigmoid", {}
    return min(scores, key=scores.get), scores


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v
