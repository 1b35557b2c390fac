"""Reliability pictures: does a prediction interval hold what it claims? Observed coverage on held-out larger runs
against the nominal level, at many levels at once, with the diagonal as the ideal (a reliability diagram for
central intervals; Gneiting, Balabdaoui & Raftery 2007). Below the diagonal the intervals are too narrow, above it
too wide.

Two records hold such numbers:

  a Calibration (fitting/calibration.py; a saved calibration.json, or `calibration:default` for the shipped one):
      the coverage, plain and calibrated, per dataset it was learned from (its `scores`, decide/calibrate.py);
  a Backtest with a bootstrap (decide/backtesting.py; saved from `scalinglaws backtest --json`): the coverage of
      its held-out rows, read from each row's pit, per cut and pooled.

The numbers drawn are the record's own, in percent: nothing is recomputed here.
"""

from __future__ import annotations

from ..errors import ScalingLawsError
from .registry import figure_kind
from .spec import Figure, Panel, Series

CALIBRATION = "scalinglaws.fitting.calibration:Calibration"
BACKTEST = ("scalinglaws.decide.backtesting:Backtest", "scalinglaws.plots.saved:Backtest")
XLABEL = "nominal coverage of the central interval (%)"
YLABEL = "held-out rows inside it (%)"


def _pct(values) -> list[float]:
    return [100 * float(v) for v in values]


def _ideal() -> Series:
    return Series("dashed", [0.0, 100.0], [0.0, 100.0], label="ideal: observed = nominal")


def _curve(nominal, observed, group: str, label: str, kind: str = "line", text=()) -> tuple[Series, Series]:
    x, y = _pct(nominal), _pct(observed)
    return (Series(kind, x, y, group=group, label=label),
            Series("points", x, y, group=group, legend=False, text=tuple(text)))


def _has_reliability(rec) -> bool:
    if hasattr(rec, "scores"):
        return bool((rec.scores or {}).get("reliability"))
    return rec.to_dict().get("reliability") is not None


@figure_kind("reliability", accepts=CALIBRATION, default=True, applies=_has_reliability,
             title="reliability: observed against nominal coverage of the prediction intervals, per dataset")
def calibration_reliability(cal, **_) -> Figure:
    rel = (cal.scores or {}).get("reliability") or {}
    if not rel:
        raise ScalingLawsError(f"calibration {cal.origin} holds no reliability scores (made before they were "
                               "recorded): learn it again with `scalinglaws calibrate ... -o calibration.json`")
    panels = []
    for key, title in (("calibrated", "with the calibration's model-error term"),
                       ("plain", "plain bootstrap (no model-error term)")):
        series = [_ideal()]
        for name, r in rel.items():
            series += _curve(r["nominal"], r[key], name, f"{name} ({r['rows']} rows)",
                             text=[f"{name}: {100 * o:.1f}% inside the {100 * a:g}% intervals"
                                   for a, o in zip(r["nominal"], r[key])])
        panels.append(Panel(title, XLABEL, YLABEL, tuple(series), xlog=False, ylog=False))
    tau = f"τ = {cal.tau0:.3g} + {cal.tau_noise:.3g}·s + {cal.tau1:.3g}·ln f"
    name = "the default calibration" if cal.origin == "default" else f"the calibration {cal.origin}"
    caption = (f"Coverage of the prediction intervals on the held-out larger runs of each dataset {name} was "
               f"learned from ({tau}), against the level they claim; on the diagonal an interval "
               "means what it says, below it the interval is too narrow. Left: calibrated; right: the plain "
               "bootstrap. In-sample: benchmarks/bench_calibration.py measures it on datasets left out.")
    return Figure("reliability", f"Reliability of {name}", tuple(panels), caption,
                  meta={"reliability": {k: dict(v) for k, v in rel.items()}})


@figure_kind("reliability", accepts=BACKTEST, applies=_has_reliability,
             title="reliability: observed against nominal coverage of the prediction intervals, per dataset")
def backtest_reliability(rec, **_) -> Figure:
    d = rec.to_dict()
    rel = d.get("reliability")
    if rel is None:
        raise ScalingLawsError(f"the {d['label']} backtest on {d['source']} made no intervals"
                               + (" (or was saved before it kept its rows)" if d.get("level") else "")
                               + ": run it with --bootstrap N to measure their coverage")
    series = [_ideal()]
    series += _curve(rel["nominal"], rel["observed"], d["source"], f"{d['source']}: every cut ({rel['rows']} rows)",
                     text=[f"{100 * o:.1f}% inside the {100 * a:g}% intervals"
                           for a, o in zip(rel["nominal"], rel["observed"])])
    for c in d["cuts"]:
        if c.get("reliability") is not None:
            series.append(Series("dashed", _pct(rel["nominal"]), _pct(c["reliability"]), group=f"cut {c['cut']:.4g}",
                                 label=f"cut {c['cut']:.4g} ({c['test_rows']} rows, up to "
                                       f"{c['extrapolation']:.3g}× beyond it)"))
    if d.get("coverage") is not None and d.get("level"):
        series.append(Series("star", [100 * d["level"]], [100 * d["coverage"]], group=d["source"], legend=False,
                             text=[f"{100 * d['coverage']:.1f}% inside the {100 * d['level']:g}% intervals "
                                   "(the backtest's level)"]))
    cal = d.get("calibration") or "none"
    panel = Panel(f"{d['label']} on {d['source']}, calibration {cal}", XLABEL, YLABEL, tuple(series), xlog=False,
                  ylog=False, palette="qualitative")
    caption = (f"Coverage of the prediction intervals of the {d['label']} backtest on {d['source']} (fitted below "
               f"each cut in {d['by']}, scored on every larger run; calibration {cal}), against the level they "
               "claim, from where each held-out row fell in its predictive distribution; the star is the "
               "backtest's own level. On the diagonal an interval means what it says, below it it is too narrow.")
    return Figure("reliability", f"Reliability of the {d['label']} backtest on {d['source']}", (panel,), caption,
                  meta={"reliability": {d["source"]: dict(rel)}})
