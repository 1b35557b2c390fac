"""Figures of one fit: the data with the fitted law, the extrapolation to a target with its bootstrap band, the
residuals, and predictions with their intervals."""

from __future__ import annotations

import numpy as np

from ..errors import ScalingLawsError
from ..fitting import space as spaces
from ..render.text import beyond, plural
from ..runs import Runs
from .fitdata import bands, default_x, fit_data, groups, label, law_on, path_columns, x_of
from .registry import figure_kind
from .spec import Figure, Panel, Series, band, errorbars, si

FIT = "scalinglaws.fitting.record:Fit"
POINTS = 120  # samples along a drawn law


def _title(fit) -> str:
    """'chinchilla law fitted to chinchilla_epoch (epoch_excluded=false)': the law and the rows, in words."""
    source = str(fit.data.get("source", "data"))
    name = source.split(":", 1)[1] if source.startswith(("dataset:", "store:")) else source
    name = name.split("?")[0].replace("\\", "/").rsplit("/", 1)[-1] or source
    where = [str(w) for w in fit.data.get("where", ())]
    return f"{fit.law} law fitted to {name}" + (f" ({', '.join(where)})" if where else "")


def law_lines(fit, width: int = 70) -> list[str]:
    """The fitted law in a figure's corner: its formula, then its parameters' values (fixed ones marked)."""
    fixed = set(fit.fixed)
    items = [f"{k}={v:.4g}" + (" (fixed)" if k in fixed else "") for k, v in fit.params.items()]
    lines, line = [f"fitted: {fit.formula}"], ""
    for item in items:
        if line and len(line) + len(item) + 2 > width:
            lines.append(line)
            line = ""
        line = f"{line}, {item}" if line else item
    return lines + ([line] if line else [])


MAX_FACETS = 6


def _facets(runs: Runs, fit, x: str, by: str | None) -> list[tuple[str, np.ndarray]]:
    """One panel per family when families each hold several model sizes (a law of N drawn per family would
    otherwise zigzag between sizes), else a single panel of every row."""
    everything = [("", np.arange(len(runs)))]
    if by is not None or "family" not in runs or "params" not in fit.inputs.values() or x == "params":
        return everything
    fams = runs.groups("family")
    several = [f for f, g in fams.items() if np.ptp(np.log(g["params"])) > 1e-9]
    if not 1 < len(fams) <= MAX_FACETS or not several:
        return everything
    labels = runs["family"].astype(str)
    return [(f, np.flatnonzero(labels == f)) for f in fams]


def _fit_panel(fit, fd, index: np.ndarray, x: str, by: str | None, title: str) -> tuple[Panel, int]:
    runs = fd.runs.take(index)
    xv, y, pred = x_of(runs, x), fd.y[index], fd.pred[index]
    grps, palette = groups(runs, by, fit, x)
    cols = list(dict.fromkeys(fit.inputs.values()))
    series, at_points, banded = [], 0, False
    for g in grps:
        rows = runs.take(g.index)
        gx = xv[g.index]
        series.append(Series("points", gx, y[g.index], label=g.label, group=g.label, text=rows.run_ids.astype(str)))
        path = None
        if fit.get_law().features is None and np.ptp(np.log10(gx)) > 1e-9:
            xs = np.geomspace(gx.min(), gx.max(), POINTS)
            path = path_columns(rows, cols, x, xs, g.hold)
        if path is not None:
            px = path[x] if x in path else xs
            bd = bands(fit, path) if fit.bootstrap is not None else None
            if bd is not None:  # the law's own uncertainty along the line, from the bootstrap draws
                series.append(band(px, *bd["confidence"], group=g.label, legend=False, alpha=0.2))
                banded = True
            series.append(Series("line", px, law_on(fit, path), group=g.label, legend=False))
        else:  # no clean path through this group's inputs: the law where the data are, in x order
            order = np.argsort(gx, kind="stable")
            series.append(Series("dashed", gx[order], pred[g.index][order], group=g.label, legend=False))
            at_points += 1
    key = "dots: measured runs · lines: fitted law" + (
        f" · bands: {int(round(fit.bootstrap.level * 100))}% confidence ({fit.bootstrap.n} bootstrap refits)"
        if banded else "")
    notes = law_lines(fit) + [key, f"{len(runs)} points, {plural(runs.n_runs, 'run')}"] + (
        ["dashed: the law at the data points"] if at_points else [])
    return Panel(title, label(x), label(fit.target), tuple(series), palette=palette, notes=tuple(notes),
                 ylog=_ylog(fit)), len(grps)


@figure_kind("fit", accepts=FIT, title="data and fitted law on log axes, per family or model size", default=True)
def fit_figure(fit, *, data=None, x: str | None = None, by: str | None = None, near=None, **_) -> Figure:
    fd = fit_data(fit, data, near=near)
    x = x or default_x(fit, fd.runs)
    facets = _facets(fd.runs, fit, x, by)
    panels = [_fit_panel(fit, fd, index, x, by, name or _title(fit))[0] for name, index in facets]
    caption = (f"Dots: the measured runs the fit saw; lines: the fitted law {fit.formula} at the fitted "
               "parameters, drawn for each group along its own inputs"
               + (", with its bootstrap confidence band" if fit.bootstrap is not None else "")
               + (", one panel per family." if len(facets) > 1 else "."))
    return Figure("fit", _title(fit), tuple(panels), caption, tuple(w for w in (fd.warning,) if w))


def default_target(fit, runs: Runs | None, x: str) -> dict[str, float]:
    """100× the largest run's x: every input that sets x grows alike (N and D ×10 each for compute)."""
    cols = list(dict.fromkeys(fit.inputs.values()))
    if runs is not None:
        i = int(np.argmax(x_of(runs, x)))
        anchor = {c: float(runs[c][i]) for c in cols}
    else:
        anchor = {c: float(fit.data["ranges"][c][1]) for c in cols}
    if x in cols:
        return {**anchor, x: anchor[x] * 100.0}
    grow = [c for c in ("params", "tokens") if c in cols] or cols
    return {c: v * (100.0 ** (1 / len(grow)) if c in grow else 1.0) for c, v in anchor.items()}


def _as_targets(at, cols: list[str]) -> list[dict[str, float]]:
    if at is None:
        return []
    if isinstance(at, dict):
        arrays = {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in at.items()}
        n = max(len(v) for v in arrays.values())
        rows = [{k: float(v[i] if len(v) > 1 else v[0]) for k, v in arrays.items()} for i in range(n)]
    else:
        rows = [dict(r) for r in at]
    for r in rows:
        missing = [c for c in cols if c not in r]
        if missing:
            raise ScalingLawsError(f"the target needs every input of the law ({', '.join(cols)}); missing: "
                                   f"{', '.join(missing)}. Give it, e.g. --at {missing[0]}=...")
    return rows


def _x_value(row: dict, x: str, k: float) -> float:
    if x in row:
        return float(row[x])
    return k * row["params"] * row["tokens"]  # compute of a target given as (N, D)


def _point_law(fit) -> bool:
    """A law of a run's scale (N, D, C ...), not of its whole history: it can be extrapolated along a path."""
    return fit.get_law().features is None


@figure_kind("extrapolation", accepts=FIT, title="the law extrapolated to a target, with its bootstrap band",
             default=True, applies=_point_law)
def extrapolation_figure(fit, *, data=None, x: str | None = None, at=None, near=None, calibration="default",
                         **_) -> Figure:
    if fit.get_law().features is not None:
        raise ScalingLawsError(f"law '{fit.law}' reads each run's whole history (a training-curve law), so it has no "
                               "single path to extrapolate along: forecast a run with the curve commands instead")
    fd = fit_data(fit, data, required=False, near=near)
    runs = fd.runs if fd is not None else None
    x = x or default_x(fit, runs)
    cols = list(dict.fromkeys(fit.inputs.values()))
    if x not in cols and not (x == "flops" and {"params", "tokens"} <= set(cols)):
        raise ScalingLawsError(f"--x {x} is not an input of law '{fit.law}' ({', '.join(cols)}): the extrapolation "
                               "is drawn along the law's inputs (or compute for a law of N and D)")
    k = 6.0
    if runs is not None and x == "flops" and x not in cols:
        k = float(np.median(runs["flops"] / (runs["params"] * runs["tokens"])))
    targets = _as_targets(at, cols) or [default_target(fit, runs, x)]
    target = targets[0]
    if runs is not None:
        i = int(np.argmax(x_of(runs, x)))
        anchor = {c: float(runs[c][i]) for c in cols}
        xlo, xhi = float(x_of(runs, x).min()), float(x_of(runs, x).max())
    else:
        anchor = {c: float(fit.data["ranges"][c][1]) for c in cols}
        xlo, xhi = _x_value({c: float(fit.data["ranges"][c][0]) for c in cols}, x, k), _x_value(anchor, x, k)
    xa, xt = _x_value(anchor, x, k), _x_value(target, x, k)
    if not xt > 0 or np.isclose(np.log(xt), np.log(xa)):
        raise ScalingLawsError("the target lies at the data's largest run: give a target beyond it with --at")
    # The path: a straight line in log input space through the largest run and the target (s = 0 and 1),
    # extended back to the smallest x in the data and a little past the target.
    s_lo = np.log(xlo / xa) / np.log(xt / xa)
    s = np.linspace(min(s_lo, 0.0), 1.15, POINTS)
    path = {c: anchor[c] ** (1 - s) * target[c] ** s for c in cols}
    xs = path[x] if x in path else k * path["params"] * path["tokens"]
    point = law_on(fit, path)
    bd = bands(fit, path, calibration=calibration)
    series = [Series("span", [xlo, xhi], label="range of the fit's data")]
    if bd is not None:
        level = f"{int(round(bd['level'] * 100))}% "
        series.append(band(xs, *bd["prediction"], label=f"{level}prediction interval (a new run)", group="law",
                           alpha=0.12))
        series.append(band(xs, *bd["confidence"], label=f"{level}confidence band (the law)", group="law",
                           alpha=0.35))
    series.append(Series("line", xs, point, label=f"{fit.law} at the fitted parameters", group="law"))
    if runs is not None:
        series.append(Series("points", x_of(runs, x), fd.y, label="runs", text=runs.run_ids.astype(str)))
    at_target = fit.predict({c: [t[c] for t in targets] for c in cols}, calibration=calibration)  # warns far out
    tx = [_x_value(t, x, k) for t in targets]
    text = [", ".join(f"{c}={si(t[c])}" for c in cols) for t in targets]
    if at_target.lower is not None:
        series.append(errorbars(tx, at_target.prediction, at_target.lower, at_target.upper, label="target",
                                group="target", text=text))
    else:
        series.append(Series("star", tx, at_target.prediction, label="target", group="target", text=text))
    meta = {"x": x, "targets": at_target.records()}
    notes = []
    for rec in at_target.records()[:3]:
        iv = f" [{rec['lower']:.4g}, {rec['upper']:.4g}]" if rec["lower"] is not None else ""
        notes.append(f"target {x}={si(_x_value(rec, x, k))}: {rec['prediction']:.4g}{iv}, "
                     f"{beyond(rec['extrapolation'], at_target.over)}")
    warns = list(at_target.warnings) + ([fd.warning] if fd is not None and fd.warning else [])
    if fd is None:
        warns.append(f"the fit's data ({fit.data.get('source')}) could not be read: the figure shows the law only")
    caption = (f"{fit.law} from the smallest run to past the target along a straight line in log "
               f"{'/'.join(cols)}; bands from {fit.bootstrap.n} bootstrap refits" if fit.bootstrap else
               f"{fit.law} to the target (no bootstrap in the fit, so no band: refit with --bootstrap)")
    panel = Panel(f"Extrapolation of {_title(fit)}", label(x), label(fit.target), tuple(series), notes=tuple(notes),
                  ylog=_ylog(fit))
    return Figure("extrapolation", f"Extrapolation of {_title(fit)}", (panel,), caption + ".", tuple(warns), meta)


def _ylog(fit) -> bool:
    """A log target axis for fits in log space; a linear one where the target can be zero, negative or a rate."""
    return spaces.of(fit.loss) == "log"


@figure_kind("residuals", accepts=FIT, title="residuals (in the fit's space) against x and against the prediction",
             default=True)
def residuals_figure(fit, *, data=None, x: str | None = None, by: str | None = None, near=None, **_) -> Figure:
    fd = fit_data(fit, data, near=near)
    runs = fd.runs
    x = x or default_x(fit, runs)
    xv = x_of(runs, x)
    grps, palette = groups(runs, by, fit, x)
    space = spaces.of(fit.loss)
    # observed against predicted in the space the fit measured them in: > 0 means worse than the law says
    r = spaces.forward(fd.y, space) - spaces.forward(fd.pred, space)
    left, right = [], []
    for g in grps:
        names = runs.take(g.index).run_ids.astype(str)
        left.append(Series("points", xv[g.index], r[g.index], label=g.label, group=g.label, text=names))
        right.append(Series("points", fd.pred[g.index], r[g.index], label=g.label, group=g.label, text=names,
                            legend=False))
    zero = Series("hline", [0.0], [0.0])
    finite = r[np.isfinite(r)]
    rms = float(np.sqrt(np.mean(finite ** 2))) if finite.size else float("nan")
    notes = (f"RMS {rms:.4f} ({space}), max |r| {np.max(np.abs(finite)):.4f}",) if finite.size else ()
    ylabel = {"log": f"log(observed / predicted) {fit.target}", "linear": f"observed − predicted {fit.target}",
              "logit": f"logit(observed) − logit(predicted) {fit.target}"}[space]
    panels = (Panel("against " + label(x), label(x), ylabel, tuple(left) + (zero,), ylog=False, palette=palette,
                    notes=notes),
              Panel("against the prediction", f"predicted {fit.target}", ylabel, tuple(right) + (zero,),
                    ylog=False, palette=palette))
    caption = ("Residuals above zero are runs that did worse than the law says. A trend along x warns that the law "
               "bends away from the data where it will be extrapolated.")
    return Figure("residuals", f"Residuals of {_title(fit)}", panels, caption,
                  tuple(w for w in (fd.warning,) if w), {"rms": rms})


@figure_kind("predictions", accepts="scalinglaws.fitting.prediction:Predictions",
             title="predictions with their intervals", default=True)
def predictions_figure(pred, *, x: str | None = None, **_) -> Figure:
    cols = [c for c, v in pred.inputs.items() if np.asarray(v).dtype.kind in "fiu"]
    if not cols:
        raise ScalingLawsError("the predictions have no numeric input to draw them against")
    x = x or ("flops" if "flops" in cols else cols[0])
    if x not in pred.inputs:
        raise ScalingLawsError(f"--x {x}: the predictions' inputs are {', '.join(pred.inputs)}")
    xv = np.asarray(pred.inputs[x], dtype=float)
    text = [", ".join(f"{c}={si(pred.inputs[c][i])}" for c in cols) for i in range(len(pred))]
    if pred.lower is not None:
        s = errorbars(xv, pred.prediction, pred.lower, pred.upper, label="prediction", group="prediction", text=text)
    else:
        s = Series("points", xv, pred.prediction, label="prediction", group="prediction", text=text)
    iv = f"{int(round(pred.level * 100))}% {pred.interval} interval" if pred.lower is not None else "no interval"
    panel = Panel(f"Predicted {pred.target}", label(x), label(pred.target), (s,), notes=(iv,))
    return Figure("predictions", f"Predicted {pred.target}", (panel,), f"Bars: the {iv}.", tuple(pred.warnings))
