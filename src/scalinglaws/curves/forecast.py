"""Forecasts from curve laws: the rest of a run in flight, and the whole curve of a schedule never run.

`forecast_run` fits a curve law to the part of a run that has been logged and extends it along the run's planned
schedule (rows of lr with no loss yet, or a schedule by name). A partial curve pins down the run's own level and
forward-area term, but says nothing about annealing until the learning rate has started to fall, so:

  with a prior (a fit of the same curve law to finished runs), only the run's own parameters (`run_params`:
  L0, A, alpha) are refitted and the rest come from the prior; with the prior's bootstrap draws every draw is
  refitted the same way, so the interval carries the prior's uncertainty as well as this run's;
  without a prior every parameter is fitted to the partial curve, which needs the decay to have begun (or no
  decay planned); intervals come from a moving-block bootstrap of the curve's residuals (Künsch 1989), which keeps
  the correlation between neighbouring checkpoints that resampling single rows would destroy.

Intervals come from the one interval maker (fitting/interval.py), as `predict`'s do: the refits' curves, the
partial fit's residuals, and for a prediction interval the calibrated model-error term at the forecast's
extrapolation in steps (the planned step over the last logged one). The same forecast made from an earlier point of
the logged curve to its last logged row is recorded beside it (`backtest`), as evidence, not as a widening.

`forecast_schedule` predicts the whole curve of a schedule never run from a fit (with its bootstrap intervals).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from ..errors import ExtrapolationWarning, FitWarning, ScalingLawsError
from ..fitting.prediction import borrowed_words
from ..laws.fixed import fix_params
from ..laws.transient import parse_rule
from ..records import format_of
from ..render.table import Tabular
from ..runs import Runs, read_runs
from .restrict import refit_free
from .schedules import as_schedule

KNOTS = 2000  # schedule knots per run: linear interpolation between them is within 1e-6 of the schedule
EXTRAPOLATION = 2.0  # a schedule longer than this many times the longest fitted run is flagged
SHOW = 200  # rows of a forecast curve reported (evenly spaced, plus the last)
MIN_DECAY = 0.05  # a partial curve whose lr has fallen less than this fraction says nothing about annealing


@dataclass(frozen=True, repr=False)
class CurveForecast(Tabular):
    """Predicted loss along one run's schedule: a run in flight, or a schedule never run."""

    run: str
    law: str
    target: str
    steps: tuple[float, ...]
    lr: tuple[float, ...]
    prediction: tuple[float, ...]
    lower: tuple[float, ...] | None
    upper: tuple[float, ...] | None
    level: float | None
    interval: str
    params: dict  # the law's parameters behind the point forecast
    schedule: dict | None = None  # the schedule by name, when given so
    observed_until: float | None = None  # in flight: the last logged step
    observed_rows: int = 0  # in flight: rows fitted
    refit: tuple[str, ...] = ()  # parameters fitted to this run's own curve
    prior: str | None = None  # where the other parameters came from
    draws: int = 0
    backtest: dict | None = None  # in flight: the same forecast from earlier in the run, checked on its last row
    warnings: tuple[str, ...] = field(default=())
    method: dict | None = None  # how the interval was made (fitting/interval.py)

    @property
    def final_step(self) -> float:
        return self.steps[-1]

    @property
    def final(self) -> float:
        return self.prediction[-1]

    def to_dict(self) -> dict:
        fin = {"step": self.final_step, "prediction": self.final,
               "lower": None if self.lower is None else self.lower[-1],
               "upper": None if self.upper is None else self.upper[-1]}
        return {"format": format_of("curve_forecast"), "run": self.run, "law": self.law, "target": self.target,
                "schedule": self.schedule,
                "observed_until": self.observed_until, "observed_rows": self.observed_rows,
                "refit": list(self.refit), "prior": self.prior, "params": dict(self.params),
                "interval": self.interval if self.lower is not None else None,
                "level": self.level if self.lower is not None else None, "draws": self.draws,
                "backtest": self.backtest, "interval_method": self.method, "final": fin,
                "curve": [{"step": s, "lr": r, "prediction": p,
                           "lower": None if self.lower is None else self.lower[i],
                           "upper": None if self.upper is None else self.upper[i]}
                          for i, (s, r, p) in enumerate(zip(self.steps, self.lr, self.prediction))],
                "warnings": list(self.warnings)}


@dataclass(frozen=True, repr=False)
class CurveForecasts(Tabular):
    """The whole curves of several schedules never run, in the order given (`scalinglaws curve`)."""

    forecasts: tuple[CurveForecast, ...]

    def to_dict(self) -> dict:
        return {"format": format_of("curve_forecasts"), "curves": [f.to_dict() for f in self.forecasts]}


# -- schedules never run ------------------------------------------------------------------------------------------
def forecast_schedule(fit, schedule, *, level: float | None = None, interval: str = "prediction",
                      columns: dict | None = None, name: str | None = None, show: int = SHOW,
                      calibration="default") -> CurveForecast:
    """The whole curve a fitted curve law predicts for `schedule` (a Schedule, or text such as
    'wsd:peak=3e-4,total=24000,warmup=2160,decay=0.2'). `columns` gives other inputs the law needs, e.g.
    {'params': 4e8} for lr_annealing_nd."""
    law = _curve_law(fit.get_law())
    sched = as_schedule(schedule)
    steps = sched.knots(KNOTS)
    label = name or sched.to_text()
    table = _table(label, steps, sched.lr(steps), fit.inputs, columns, law)
    with warnings.catch_warnings():  # the warm-up's rows lie outside the fitted range, but are not shown
        warnings.simplefilter("ignore")
        pred = fit.predict(table, level=level, interval=interval, calibration=calibration)
    keep = _shown(steps, show, start=sched.warmup)
    notes = []
    seen = fit.data.get("ranges", {}).get(fit.inputs["step"])
    if seen and sched.total > EXTRAPOLATION * seen[1]:
        notes.append(f"the schedule runs {sched.total} steps, {sched.total / seen[1]:.3g}× the longest run the fit "
                     f"saw ({seen[1]:g}): treat its end as an extrapolation")
        warnings.warn(notes[-1], ExtrapolationWarning, stacklevel=2)
    lo = None if pred.lower is None else _tuple(pred.lower[keep])
    hi = None if pred.upper is None else _tuple(pred.upper[keep])
    return CurveForecast(run=label, law=fit.law, target=fit.target, steps=_tuple(steps[keep]),
                         lr=_tuple(sched.lr(steps)[keep]), prediction=_tuple(pred.prediction[keep]), lower=lo,
                         upper=hi, level=pred.level, interval=interval, params=dict(fit.params),
                         schedule=sched.to_dict(), draws=0 if fit.bootstrap is None else fit.bootstrap.n,
                         warnings=tuple(notes), method=pred.method)


def forecast_schedules(fit, schedules, **options) -> CurveForecasts:
    """The whole curve of each schedule (see `forecast_schedule`, which takes the same options)."""
    return CurveForecasts(tuple(forecast_schedule(fit, s, **options) for s in schedules))


# -- runs in flight -----------------------------------------------------------------------------------------------
def forecast_run(data, *, run: str | None = None, schedule=None, prior=None, law=None, transient=None,
                 level: float = 0.95, interval: str = "prediction", draws: int = 200, seed: int = 0,
                 columns: dict | None = None, show: int = SHOW, backtest: bool = True,
                 calibration="default") -> CurveForecast:
    """The rest of a run's curve, from its logged rows (loss known) and its plan (lr known, loss not yet).

    data: a runs table with run, step, lr and loss; rows with an lr but no loss are the planned schedule.
    schedule: the planned schedule by name instead (its lr must agree with the logged one).
    prior: a Fit (or fit file) of the same curve law to finished runs; it supplies every parameter but the
        run's own (law.run_params), with its bootstrap draws for the interval.
    law: the curve law without a prior (default: schedule). draws: bootstrap draws for the interval (0: none).
    backtest: also make the same forecast from earlier in the run and record its error on the last logged row.
    calibration: the model-error term of the prediction interval ("default", "none", a file or a Calibration).
    """
    from ..fitting import Fit
    from ..fitting import space as spaces
    from ..fitting.calibration import resolve
    from ..fitting.data import extrapolation
    from ..fitting.interval import check_kind, check_level
    from ..fitting.interval import interval as make_interval
    from ..laws import get_law

    check_kind(interval)
    level = check_level(level)
    if draws < 0:
        raise ScalingLawsError(f"--draws must be 0 or a positive number of draws (got {draws})")
    parse_rule(transient)
    if prior is not None and not hasattr(prior, "params"):
        prior = Fit.load(prior)
    law = _curve_law(prior.get_law() if prior is not None else get_law(law or "schedule"))
    target = prior.target if prior is not None else law.target
    binding = dict(prior.inputs) if prior is not None else dict(law.inputs)
    rows, name = _one_run(read_runs(data), run, binding)
    obs, plan_steps, plan_lr, sched_info, notes = _split_plan(rows, name, binding, target, schedule)
    step_col, lr_col = binding["step"], binding["lr"]
    obs_steps, obs_lr = np.asarray(obs[step_col], dtype=float), np.asarray(obs[lr_col], dtype=float)
    last = float(obs_steps[-1])
    all_steps, all_lr = np.concatenate([obs_steps, plan_steps]), np.concatenate([obs_lr, plan_lr])
    theta, work, point = _fit_partial(law, obs, prior, transient, seed, plan_lr, name, notes)
    plan = _table(name, all_steps, all_lr, binding, columns, law, like=obs)
    x_plan = _inputs(law, plan, binding)
    keep = _shown(all_steps, show, start=last)
    pred = np.asarray(law(x_plan, theta[None]), dtype=float)[0, keep]
    lower = upper = method = None
    n_draws, check = 0, None
    if draws:
        x_fit, y_fit = _fit_inputs(work, obs, binding, transient, target)
        resid = np.asarray(point.residuals, dtype=float)
        rng = np.random.default_rng([seed, 3])
        fixed = {k: theta[law.param_names.index(k)] for k in law.param_names if k not in point.params}
        source = "refits of the run's own parameters under the prior's bootstrap draws" + (
            borrowed_words(prior) if prior is not None else "")
        if prior is not None and prior.bootstrap is not None:  # refit the run's parameters under every draw
            boots = prior.bootstrap.array()[:draws]
            starts = [_full(law, point.params, {k: b[law.param_names.index(k)] for k in fixed}) for b in boots]
            ys = [y_fit] * len(starts)
        elif prior is None:  # refit every free parameter to block-resampled curves
            source = "refits to moving-block resamples of the run's residuals"
            fitted = np.asarray(work(x_fit, np.array(list(point.params.values()))[None]), dtype=float)[0]
            ys = [fitted * np.exp(_block_resample(resid, rng)) for _ in range(draws)]
            starts = [theta] * draws
        else:
            ys, starts = [], []
            notes.append("the prior fit has no bootstrap draws, so the forecast has no interval (refit the prior "
                         "with --bootstrap 200)")
        if ys:
            full = refit_free(law, x_fit, ys, starts, list(point.params))
            n_draws = len(full)
            with np.errstate(all="ignore"):
                preds = np.asarray(law(x_plan, full), dtype=float)[:, keep]
            made = make_interval(preds, level=level, kind=interval, residuals=resid, space=spaces.of(point.loss),
                                 seed=seed, point=pred, extrapolation=extrapolation(point, plan.take(keep)),
                                 calibration=resolve(calibration) if interval == "prediction" else None,
                                 parameters=source)
            lower, upper, method = _tuple(made.lower), _tuple(made.upper), dict(made.method)
            notes += list(made.warnings)
            if backtest:
                check = _backtest(law, obs, prior, transient, seed, binding, target, columns, last,
                                  float(all_steps[-1]))
    notes = list(dict.fromkeys(notes))
    for note in notes:
        warnings.warn(note, FitWarning, stacklevel=2)
    return CurveForecast(run=name, law=law.name, target=target, steps=_tuple(all_steps[keep]),
                         lr=_tuple(all_lr[keep]), prediction=_tuple(pred), lower=lower, upper=upper,
                         level=level if lower is not None else None, interval=interval,
                         params={k: float(v) for k, v in zip(law.param_names, theta)}, schedule=sched_info,
                         observed_until=last, observed_rows=point.n_points, refit=tuple(point.params),
                         prior=None if prior is None else f"{prior.law} fit of {prior.data.get('source', '?')} "
                         f"({prior.n_runs} runs)", draws=n_draws, backtest=check, warnings=tuple(notes),
                         method=method)


def _split_plan(rows: Runs, name: str, binding, target: str, schedule):
    """The logged rows (in step order) and the planned (step, lr) after the last of them."""
    step_col, lr_col = binding["step"], binding["lr"]
    y = np.asarray(rows[target], dtype=float) if target in rows else np.full(len(rows), np.nan)
    seen = np.isfinite(y)
    if not seen.any():
        raise ScalingLawsError(f"run '{name}' has no logged {target} yet: a forecast needs its curve so far. Use "
                               "`scalinglaws forecast FIT.json --schedule ...` for a schedule never run")
    obs = rows.take(seen)
    obs = obs.take(np.argsort(np.asarray(obs[step_col], dtype=float), kind="stable"))
    steps = np.asarray(obs[step_col], dtype=float)
    last = float(steps[-1])
    notes: list[str] = []
    if schedule is not None:
        sched = as_schedule(schedule)
        if sched.total <= last:
            raise ScalingLawsError(f"the schedule ends at step {sched.total}, but run '{name}' is logged to step "
                                   f"{last:g}: give the planned total steps (total=...)")
        plan_steps = sched.knots(KNOTS, start=int(last) + 1)
        want, have = sched.lr(steps), np.asarray(obs[lr_col], dtype=float)
        off = np.abs(want - have) > 0.01 * sched.peak
        if off.any():
            i = int(np.flatnonzero(off)[0])
            notes.append(f"the schedule's learning rate differs from the one logged for run '{name}' at "
                         f"{int(off.sum())} rows (e.g. step {steps[i]:g}: {want[i]:.3g} vs {have[i]:.3g}); the "
                         "logged values are used up to the last logged step")
        return obs, plan_steps, sched.lr(plan_steps), sched.to_dict(), notes
    future = rows.take(~seen)
    fs = np.asarray(future[step_col], dtype=float) if len(future) else np.array([])
    later = fs > last
    if not later.any():
        raise ScalingLawsError(
            f"the plan of run '{name}' after step {last:g} is unknown: give its schedule (--schedule "
            "'cosine:peak=3e-4,total=24000,warmup=2160') or rows with the planned lr and an empty loss")
    order = np.argsort(fs[later], kind="stable")
    return obs, fs[later][order], np.asarray(future[lr_col], dtype=float)[later][order], None, notes


def _fit_partial(law, obs: Runs, prior, transient, seed: int, plan_lr: np.ndarray, name: str, notes: list):
    """Fit the law to a run's logged rows: (full parameters (P,), the law fitted, its Fit)."""
    from ..fitting import fit as fit_law

    binding = dict(prior.inputs) if prior is not None else dict(law.inputs)
    lr = np.asarray(obs[binding["lr"]], dtype=float)
    peak = float(lr.max())
    seen_drop = 1 - lr[-1] / peak
    plan_drop = 1 - float(np.min(plan_lr)) / peak if len(plan_lr) else 0.0
    fixed: dict = {}
    if prior is not None:
        fixed = {k: v for k, v in prior.params.items() if k not in law.run_params}
    elif law.name.endswith("_nd"):
        raise ScalingLawsError(f"law '{law.name}' forecasts one run only with a prior fit of its ladder (--prior "
                               "FIT.json); without one use --law schedule")
    elif seen_drop < MIN_DECAY:
        if plan_drop > 0.01:
            raise ScalingLawsError(
                f"run '{name}' has not started to decay its learning rate by step "
                f"{obs[binding['step']][-1]:g} (it is at {1 - seen_drop:.0%} of its peak), so its curve says "
                "nothing about the annealing its plan needs. Give a prior fit of finished runs (--prior FIT.json), "
                "or forecast once the decay has begun")
        amp, *rest = law.anneal_params  # no decay seen or planned: the annealing term is 0
        fixed = {amp: 0.0, **{k: _mid(law, k) for k in rest}}
    work = fix_params(law, fixed) if fixed else law
    target = prior.target if prior is not None else law.target
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        point = fit_law(obs, work, inputs={k: v for k, v in binding.items() if k in work.inputs}, target=target,
                        transient=transient, seed=seed)
    notes += [str(w.message) for w in caught if issubclass(w.category, FitWarning)]
    return _full(law, point.params, fixed), work, point


def _backtest(law, obs: Runs, prior, transient, seed, binding, target, columns, last: float, total: float):
    """The same forecast made from an earlier point of the logged curve, to its last logged row: the origin is
    where last/origin equals total/last, so the backtest extrapolates as far (in steps) as the forecast does."""
    steps = np.asarray(obs[binding["step"]], dtype=float)
    origin = last * last / total
    early = obs.take(steps <= origin)
    if len(early) < 2 * law.n_params:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theta, _, _ = _fit_partial(law, early, prior, transient, seed, np.asarray(obs[binding["lr"]])[
                steps > origin], "backtest", [])
            x = _inputs(law, _table("backtest", steps, np.asarray(obs[binding["lr"]], dtype=float), binding,
                                    columns, law, like=obs), binding)
    except ScalingLawsError:
        return None
    pred = float(np.asarray(law(x, theta[None]), dtype=float)[0, -1])
    actual = float(np.asarray(obs[target], dtype=float)[-1])
    return {"from_step": float(steps[steps <= origin].max()), "to_step": last, "prediction": pred,
            "observed": actual, "error": pred / actual - 1}


# -- helpers ------------------------------------------------------------------------------------------------------
def _curve_law(law):
    if not getattr(law, "run_params", None):
        raise ScalingLawsError(f"law '{law.name}' is not a curve law: forecasts along a schedule need one of "
                               "schedule, lr_annealing, multipower, lr_annealing_nd")
    return law


def _one_run(runs: Runs, run: str | None, binding) -> tuple[Runs, str]:
    col = binding["run"]
    if col not in runs:
        if run is not None:
            raise ScalingLawsError(runs.missing_message(col, f"--run {run} selects rows by the run column"))
        runs = runs.with_columns(**{col: np.array(["run"] * len(runs), dtype=object)})
    labels = np.asarray(runs[col]).astype(str)
    names = list(dict.fromkeys(labels.tolist()))
    if run is None:
        if len(names) > 1:
            shown = ", ".join(names[:6]) + (", …" if len(names) > 6 else "")
            raise ScalingLawsError(f"{runs.source} holds {len(names)} runs ({shown}): choose one with --run NAME")
        run = names[0]
    if run not in names:
        raise ScalingLawsError(f"run '{run}' is not in {runs.source} (its runs: {', '.join(names[:6])}"
                               f"{', …' if len(names) > 6 else ''})")
    return runs.take(labels == run), run


def _table(name, steps, lr, binding, columns, law, like: Runs | None = None) -> Runs:
    """Rows (run, step, lr) of one schedule, with the law's other inputs from `columns` or the run's own rows."""
    n = len(steps)
    cols = {binding["run"]: np.array([name] * n, dtype=object), binding["step"]: np.asarray(steps, dtype=float),
            binding["lr"]: np.asarray(lr, dtype=float)}
    for col in binding.values():
        if col in cols:
            continue
        if columns and col in columns:
            cols[col] = np.full(n, float(columns[col]))
        elif like is not None and col in like:
            cols[col] = np.full(n, float(np.asarray(like[col], dtype=float)[-1]))
        else:
            raise ScalingLawsError(f"law '{law.name}' also needs {col}: give it, e.g. --at {col}=4e8")
    return Runs(cols, source=f"schedule '{name}'")


def _inputs(law, table, binding):
    from ..fitting.data import law_inputs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return law_inputs(law, table, binding)


def _fit_inputs(law, table, binding, transient, target):
    from ..fitting.engine import prepare

    inputs = {k: v for k, v in binding.items() if k in law.inputs}
    _, x, y, _, _, _ = prepare(table, law, inputs=inputs, target=target, transient=transient)
    return x, y


def _full(law, params: dict, fixed: dict) -> np.ndarray:
    merged = {**fixed, **params}
    return np.array([float(merged[n]) for n in law.param_names])


def _mid(law, name: str) -> float:
    p = law.params[law.param_names.index(name)]
    return float(np.sqrt(p.start[0] * p.start[1]) if p.log_start else 0.5 * (p.start[0] + p.start[1]))


def _block_resample(resid: np.ndarray, rng) -> np.ndarray:
    """A moving-block bootstrap resample of a residual series (blocks of about n^(1/3) rows)."""
    n = len(resid)
    size = max(2, int(round(n ** (1 / 3))))
    starts = rng.integers(0, max(1, n - size + 1), size=-(-n // size))
    return np.concatenate([resid[s:s + size] for s in starts])[:n]


def _shown(steps: np.ndarray, show: int, start: float | None = None) -> np.ndarray:
    idx = np.arange(len(steps))
    if start is not None:
        idx = idx[steps > start]
    if len(idx) > show:
        idx = idx[np.unique(np.rint(np.linspace(0, len(idx) - 1, show)).astype(int))]
    return idx


def _tuple(a) -> tuple[float, ...]:
    return tuple(float(v) for v in np.asarray(a, dtype=float))


__all__ = ["CurveForecast", "forecast_run", "forecast_schedule"]
