"""Figures of training curves (scalinglaws.curves, docs/curves.md): a curve law's fit with each run's learning-rate
schedule beneath it, forecasts of a run in flight or of schedules never run, and the ranking of a family's
schedules.

Curve laws read each run's whole schedule, so every figure here draws the schedule too: the loss at a step is
explained by the learning rates before it (Tissue et al. 2024; Luo et al. 2025). Steps are drawn on a linear axis,
where a schedule's warm-up, plateau and decay are seen for what they are and line up with the loss they cause.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import DataWarning, ScalingLawsError
from ..records import kind_of
from .fitdata import fit_data, label
from .registry import figure_kind
from .spec import Figure, Panel, Series, band, errorbars, si

FIT = "scalinglaws.fitting.record:Fit"
FORECAST = ("scalinglaws.curves.forecast:CurveForecast", "scalinglaws.curves.forecast:CurveForecasts",
            "scalinglaws.plots.saved:CurveForecast", "scalinglaws.plots.saved:CurveForecasts")
SEARCH = ("scalinglaws.curves.shapes:ScheduleSearch", "scalinglaws.plots.saved:ScheduleSearch")
MARKERS = 30  # logged rows drawn as markers per run, so the fitted lines stay visible (every row is fitted)
MAX_SIZES = 4  # panels of model sizes before a ladder is drawn in one panel
TOP = 20  # candidates of a schedule search drawn


def curve_fit(fit) -> bool:
    """A fit of a law that reads each run's whole history (a training-curve law)."""
    return fit.get_law().features is not None


def _every(n: int, most: int) -> np.ndarray:
    return np.unique(np.rint(np.linspace(0, n - 1, min(n, most))).astype(int))


def _size_facets(runs, fit) -> list[tuple[str, np.ndarray]]:
    """One panel per model size for a ladder (a law that also reads params), else one panel."""
    col = fit.inputs.get("N")
    if col is None or col not in runs:
        return [("", np.arange(len(runs)))]
    sizes = np.unique(runs[col])
    if not 1 < len(sizes) <= MAX_SIZES:
        return [("", np.arange(len(runs)))]
    return [(f"N = {si(v)}", np.flatnonzero(runs[col] == v)) for v in sizes]


@figure_kind("curves", accepts=FIT, default=True, applies=curve_fit,
             title="training curves: loss against step per run with the fitted curve, and each run's schedule")
def curves_figure(fit, *, data=None, near=None, **_) -> Figure:
    if not curve_fit(fit):
        raise ScalingLawsError(f"law '{fit.law}' is not a training-curve law: draw it with --kind fit")
    fd = fit_data(fit, data, near=near)
    runs = fd.runs
    step, lr = fit.inputs["step"], fit.inputs["lr"]
    ids = runs.run_ids.astype(str)
    loss_panels, lr_panels = [], []
    for name, index in _size_facets(runs, fit):
        loss_s, lr_s = [], []
        for run in dict.fromkeys(ids[index].tolist()):
            rows = index[ids[index] == run]
            rows = rows[np.argsort(runs[step][rows], kind="stable")]
            x = np.asarray(runs[step][rows], dtype=float)
            shown = rows[_every(len(rows), MARKERS)]
            loss_s.append(Series("points", runs[step][shown], fd.y[shown], label=run, group=run,
                                 text=[run] * len(shown)))
            loss_s.append(Series("line", x, fd.pred[rows], group=run, legend=False))
            lr_s.append(Series("line", x, runs[lr][rows], group=run, legend=False))
        suffix = f" ({name})" if name else ""
        n_runs = len(set(ids[index]))
        rms = float(np.sqrt(np.mean(np.log(fd.y[index] / fd.pred[index]) ** 2)))
        loss_panels.append(Panel(f"{label(fit.target)} and the fitted {fit.law} curve{suffix}", label("step"),
                                 label(fit.target), tuple(loss_s), xlog=False, ylog=False,
                                 notes=(f"{len(index)} rows of {n_runs} run{'s' if n_runs > 1 else ''}; RMS log "
                                        f"residual {rms:.4f}",)))
        lr_panels.append(Panel(f"learning-rate schedule{suffix}", label("step"), "learning rate", tuple(lr_s),
                               xlog=False, ylog=False))
    notes = [n for n in fit.data.get("notes", []) if "transient" in n]
    caption = (f"Markers: logged {fit.target} (at most {MARKERS} per run); lines: {fit.formula}, which computes each "
               "row from the run's whole learning-rate schedule (below)." + (f" {notes[0][0].upper()}{notes[0][1:]}."
                                                                            if notes else ""))
    return Figure("curves", f"Training curves: {fit.law} fit to {fit.data.get('source', 'data')}",
                  tuple(loss_panels + lr_panels), caption, tuple(w for w in (fd.warning,) if w))


# -- forecasts ----------------------------------------------------------------------------------------------------
def _forecasts(rec) -> list[dict]:
    d = rec.to_dict()
    return list(d["curves"]) if kind_of(d) == "curve_forecasts" else [d]


def _logged(data, fc: dict):
    """The logged rows of a forecast's run from a runs source: (steps, loss, lr) in step order, or None (with a
    DataWarning saying why) when the source holds none of them."""
    from ..runs import read_runs

    runs = read_runs(data)
    for col in ("step", fc["target"]):
        if col not in runs:
            raise ScalingLawsError(f"--data: {runs.missing_message(col, 'Give the logged curve of the run')}")
    keep = np.isfinite(np.asarray(runs[fc["target"]], dtype=float))
    if "run" in runs and runs.n_runs > 1:
        keep &= runs["run"].astype(str) == fc["run"]
    rows = runs.take(keep)
    if not len(rows):
        warnings.warn(f"{runs.source} has no logged {fc['target']} of run '{fc['run']}': the figure shows the "
                      "forecast alone", DataWarning, stacklevel=3)
        return None
    order = np.argsort(rows["step"], kind="stable")
    lr = rows["lr"][order] if "lr" in rows else None
    return rows["step"][order], rows[fc["target"]][order], lr


def _shared_keys(fcs: list[dict]) -> set:
    """Schedule settings every forecast shares: left out of their names, which then differ in what matters."""
    scheds = [{k: f"{v:.6g}" if isinstance(v, float) else v for k, v in (fc.get("schedule") or {}).items()}
              for fc in fcs]  # 3e-05 and 2.9999999999999997e-05 are one end learning rate
    if len(scheds) < 2:
        return {"peak", "warmup"}
    return {k for k, v in scheds[0].items() if k != "family" and all(s.get(k) == v for s in scheds[1:])}


def _short_name(fc: dict, shared: set) -> str:
    """`wsd: total=24000, decay_start=19200, shape=linear` for a named schedule; the run's name otherwise."""
    sched = fc.get("schedule")
    if not sched or fc.get("observed_until") is not None:
        return fc["run"]
    skip = shared | {"family"} | ({"decay_start"} if "decay" in sched else set())  # the fraction reads better
    rest = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in sched.items()
                     if k not in skip and v is not None)
    return f"{sched['family']}: {rest}" if rest else sched["family"]


@figure_kind("forecast", accepts=FORECAST, default=True,
             title="curve forecasts: a run in flight (logged part, forecast, final loss) or schedules never run")
def forecast_figure(rec, *, data=None, **_) -> Figure:
    fcs = _forecasts(rec)
    loss_s, lr_s, notes, warns, checks = [], [], [], [], []
    in_flight = any(fc.get("observed_until") is not None for fc in fcs)
    shared = _shared_keys(fcs)
    for fc in fcs:
        g = _short_name(fc, shared)
        c = fc["curve"]
        steps = np.array([r["step"] for r in c])
        pred = np.array([r["prediction"] for r in c])
        fin = fc["final"]
        level = f"{int(round(fc['level'] * 100))}% {fc['interval']} interval" if fc.get("level") else ""
        if fc.get("observed_until") is not None:
            if data is not None:
                logged = _logged(data, fc)
                if logged is not None:
                    loss_s.append(Series("points", logged[0], logged[1], label="logged", group="logged"))
                    if logged[2] is not None:
                        lr_s.append(Series("line", logged[0], logged[2], group="logged", label="logged"))
            loss_s.append(Series("vline", [fc["observed_until"]]))
        if c and c[0].get("lower") is not None:
            loss_s.append(band(steps, [r["lower"] for r in c], [r["upper"] for r in c], group=g, label=level))
        loss_s.append(Series("line", steps, pred, group=g, label="forecast", legend=in_flight))
        text = [f"final {fc['target']} at step {fin['step']:g}: {fin['prediction']:.4f}"
                + (f" [{fin['lower']:.4f}, {fin['upper']:.4f}]" if fin.get("lower") is not None else "")]
        if fin.get("lower") is not None:
            loss_s.append(Series("errorbar", [fin["step"]], [fin["prediction"]], [fin["lower"], fin["upper"]],
                                 group=g, legend=False, text=text))
        else:
            loss_s.append(Series("star", [fin["step"]], [fin["prediction"]], group=g, legend=False, text=text))
        lr_s.append(Series("line", steps, [r["lr"] for r in c], group=g, label="planned" if in_flight else g))
        tag = (fc.get("schedule") or {}).get("family", g) + (f" #{len(notes) + 1}" if len(fcs) > 1 else "")
        notes.append(text[0] if len(fcs) == 1 else f"final, {tag}: {fin['prediction']:.4f}"
                     + (f" [{fin['lower']:.4f}, {fin['upper']:.4f}]" if fin.get("lower") is not None else ""))
        bt = fc.get("backtest")
        if bt:
            checks.append(f"Backtest: the same forecast from step {bt['from_step']:g} put step {bt['to_step']:g} at "
                          f"{bt['prediction']:.4f} (logged {bt['observed']:.4f}, {bt['error']:+.2%}).")
        warns += fc.get("warnings", [])
    if in_flight and data is None:
        notes.append("give the logged curve (--data PARTIAL.csv) to draw it")
    target = fcs[0]["target"]
    first = fcs[0]
    if in_flight:
        title = f"Forecast of run {first['run']} ({first['law']}) from step {first['observed_until']:g}"
        how = (f"the rest fitted to its logged curve; other parameters from the prior {first['prior']}"
               if first.get("prior") else "every parameter fitted to its logged curve")
        caption = (f"The run's {target} after its last logged step (dashed line) along its planned schedule: {how}. "
                   "The band is widened by the run's own backtest (docs/curves.md). " + " ".join(checks))
    else:
        title = f"Predicted curves of {len(fcs)} schedule{'s' if len(fcs) > 1 else ''} never run ({first['law']})"
        caption = "Each schedule's whole curve from the fitted curve law, with its interval and final value."
    panels = (Panel(label(target) + (" after the last logged step" if in_flight else " along each schedule"),
                    label("step"), label(target), tuple(loss_s), xlog=False, ylog=False, notes=tuple(notes[:4])),
              Panel("learning-rate schedule", label("step"), "learning rate", tuple(lr_s), xlog=False, ylog=False))
    meta = {"final": [fc["final"] for fc in fcs]}
    return Figure("forecast", title, panels, caption, tuple(dict.fromkeys(warns)), meta)


# -- schedule search ----------------------------------------------------------------------------------------------
@figure_kind("schedule_search", accepts=SEARCH, default=True,
             title="a family's schedules ranked by predicted final loss, with intervals")
def schedule_search_figure(rec, **_) -> Figure:
    d = rec.to_dict()
    cands = d["candidates"][:TOP]
    keys = [k for k in cands[0] if k not in ("schedule", "final", "lower", "upper", "p_best")]
    by = next((k for k in keys if isinstance(cands[0][k], str)), None)  # colour by a label axis (wsd's shape)
    groups = list(dict.fromkeys(str(c[by]) for c in cands)) if by else [d["family"]]
    series = []
    for g in groups:
        idx = [i for i, c in enumerate(cands) if by is None or str(c[by]) == g]
        rank = [i + 1 for i in idx]
        text = [cands[i]["schedule"] for i in idx]
        lab = f"{by} = {g}" if by else g
        if cands[0].get("lower") is not None:
            series.append(errorbars(rank, [cands[i]["final"] for i in idx], [cands[i]["lower"] for i in idx],
                                    [cands[i]["upper"] for i in idx], label=lab, group=g, text=text))
        else:
            series.append(Series("points", rank, [cands[i]["final"] for i in idx], label=lab, group=g, text=text))
    best = d["best"]
    notes = [f"the best is best in {best['p_best']:.0%} of {d['draws']} bootstrap draws"] if d.get("draws") else []
    panel = Panel(f"{d['family']} schedules for {d['total']} steps at peak {d['peak']:g}",
                  f"rank among {len(d['candidates'])} candidates (1 = lowest predicted final loss)",
                  f"predicted final {label(d['target'])}", tuple(series), xlog=False, ylog=False, notes=tuple(notes))
    caption = (f"The {TOP} best of the family's grid ({', '.join(keys)}) by the final {d['target']} the {d['law']} fit "
               "predicts" + (f", with {int(round(d['level'] * 100))}% intervals over its bootstrap draws."
                             if d.get("level") else ".") + f" Best: {best['schedule']}.")
    return Figure("schedule_search", f"Best {d['family']} schedule ({d['law']})", (panel,), caption,
                  tuple(d.get("warnings", [])))
