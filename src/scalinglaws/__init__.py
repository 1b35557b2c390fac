"""scalinglaws: fit, check and use neural scaling laws.

The public API, imported lazily so that `import scalinglaws` stays fast (numpy and friends load on first use):

    read_runs, Runs, load_dataset, list_datasets        the runs table and bundled data (docs/runs-table.md)
    fit, Fit, FitOptions, predict, Objective            the fitting engine, its options and its record
                                                        (docs/fitting.md)
    LAWS, Law, Param, get_law, formula_law, register_law  the law library (docs/laws.md)
    compute_optimal, frontier, compare_approaches, inference_optimal, reach_target, recommend,
        fit_hparams, count                              planning (docs/planning.md; everything at once:
                                                        scalinglaws.plan.plan)
    forecast_run, forecast_schedule, best_schedule      training curves (docs/curves.md)
    backtest, fit_auto, compare, forecast_downstream, forecast_testtime   decisions (docs/decisions.md)
    plot, figures                                       pictures (docs/reports.md; the HTML page:
                                                        scalinglaws.report.report)
    read_log                                            experiment logs (docs/ingest.md; the run store:
                                                        scalinglaws.store.ingest)
    ScalingLawsError, FitWarning, ExtrapolationWarning, DataWarning
"""

from __future__ import annotations

from importlib import import_module

from ._version import __version__
from .errors import DataWarning, ExtrapolationWarning, FitWarning, ScalingLawsError, ScalingLawsWarning

_LAZY = {
    "read_runs": "scalinglaws.runs", "Runs": "scalinglaws.runs",
    "load_dataset": "scalinglaws.datasets", "list_datasets": "scalinglaws.datasets",
    "fit": "scalinglaws.fitting", "Fit": "scalinglaws.fitting", "predict": "scalinglaws.fitting",
    "fit_grouped": "scalinglaws.fitting", "fit_targets": "scalinglaws.fitting",
    "Objective": "scalinglaws.fitting", "FitOptions": "scalinglaws.fitting",
    "LAWS": "scalinglaws.laws", "Law": "scalinglaws.laws", "Param": "scalinglaws.laws",
    "get_law": "scalinglaws.laws", "formula_law": "scalinglaws.laws", "register_law": "scalinglaws.laws",
    "compute_optimal": "scalinglaws.plan", "frontier": "scalinglaws.plan",
    "compare_approaches": "scalinglaws.plan", "inference_optimal": "scalinglaws.plan",
    "reach_target": "scalinglaws.plan", "recommend": "scalinglaws.plan", "fit_hparams": "scalinglaws.plan",
    "count": "scalinglaws.plan",
    "forecast_run": "scalinglaws.curves", "forecast_schedule": "scalinglaws.curves",
    "best_schedule": "scalinglaws.curves",
    "backtest": "scalinglaws.decide", "fit_auto": "scalinglaws.decide", "compare": "scalinglaws.decide",
    "forecast_downstream": "scalinglaws.decide", "forecast_testtime": "scalinglaws.decide",
    "plot": "scalinglaws.plots", "figures": "scalinglaws.plots", "read_log": "scalinglaws.ingest",
}

__all__ = sorted(_LAZY) + ["DataWarning", "ExtrapolationWarning", "FitWarning", "ScalingLawsError",
                           "ScalingLawsWarning", "__version__"]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        if name.startswith("_"):  # probes by tools (IPython's _repr_html_, ...): no hint to compute
            raise AttributeError(f"module 'scalinglaws' has no attribute {name!r}")
        from difflib import get_close_matches

        near = get_close_matches(name, list(_LAZY), n=2, cutoff=0.7)
        hint = f"; did you mean {' or '.join(near)}?" if near else ""
        if name in ("load", "load_fit", "read", "open"):
            hint = "; a fit file loads with sl.Fit.load(path), a runs table with sl.read_runs(path)"
        raise AttributeError(f"module 'scalinglaws' has no attribute {name!r}{hint}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
