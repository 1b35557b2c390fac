"""Training curves: schedule-aware laws, checkpoint-aware fitting and forecasts (docs/curves.md).

    Schedule, as_schedule          learning-rate schedules by name and parameters (schedules.py)
    forecast_run                   the rest of a run in flight (forecast.py)
    forecast_schedule              the whole curve of a schedule never run (forecast.py)
    forecast_schedules             the whole curves of several, as one record (forecast.py)
    best_schedule                  the best shape of a schedule family for a step budget (shapes.py)

The laws themselves (lr_annealing, multipower, lr_annealing_nd, schedule) live in the law library
(laws/schedule.py, with their schedule features in laws/features.py and the early-transient rule in
laws/transient.py); per-run curve checks live with the runs table (runs/curves.py). Names here load on first use.
"""

from importlib import import_module

from .. import laws as _laws  # noqa: F401  (the law library registers the curve laws; load it first)

_LAZY = {"Schedule": ".schedules", "as_schedule": ".schedules", "forecast_run": ".forecast",
         "forecast_schedule": ".forecast", "forecast_schedules": ".forecast", "CurveForecast": ".forecast",
         "CurveForecasts": ".forecast", "best_schedule": ".shapes",
         "ScheduleSearch": ".shapes"}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'scalinglaws.curves' has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value
