"""scalinglaws: fit, check and use neural scaling laws.

The public API, imported lazily so that `import scalinglaws` stays fast (numpy and friends load on first use):

    read_runs, Runs            the runs table (docs/runs-table.md)
    load_dataset, list_datasets  bundled measurements
    fit, Fit, predict          the fitting engine and its record (docs/fitting.md)
    LAWS, Law, Param, get_law, formula_law, register_law   the law library (docs/laws.md)
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
    "Objective": "scalinglaws.fitting",
    "LAWS": "scalinglaws.laws", "Law": "scalinglaws.laws", "Param": "scalinglaws.laws",
    "get_law": "scalinglaws.laws", "formula_law": "scalinglaws.laws", "register_law": "scalinglaws.laws",
    "compute_optimal": "scalinglaws.plan",
}

__all__ = sorted(_LAZY) + ["DataWarning", "ExtrapolationWarning", "FitWarning", "ScalingLawsError",
                           "ScalingLawsWarning", "__version__"]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'scalinglaws' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
