"""The two ways scalinglaws reports trouble.

Bad input raises `ScalingLawsError`, whose message is one line that says what was wrong, where, and how to fix it;
the CLI prints it as `Error: <message>` and exits 1. Numerical trouble (a fit that did not converge, a parameter at
its bound, a prediction far outside the data) is not an error: it is recorded in the result and issued as one of the
warnings below, so scripts can filter or escalate them with the standard `warnings` machinery.
"""

from __future__ import annotations


class ScalingLawsError(ValueError):
    """Bad input. The message is a single line naming the file, row or column, and the fix."""


class ArgumentError(ScalingLawsError):
    """A bad value of one argument of a library function. The message starts with the argument's Python name
    (`bootstrap must be a non-negative integer, got -1`); `argument` holds that name, so that the command line can
    say the flag instead (`--bootstrap must be ...`) without the library knowing its flags."""

    def __init__(self, argument: str, message: str, cli: str | None = None):
        super().__init__(message)
        self.argument = argument
        self.cli = cli  # the message as the command line says it, where its flag is written otherwise


class ScalingLawsWarning(UserWarning):
    """Base class of every warning scalinglaws issues."""


class DataWarning(ScalingLawsWarning):
    """Input that was accepted but altered or is suspicious (duplicate rows dropped, derived columns)."""


class FitWarning(ScalingLawsWarning):
    """A fit that may not be trustworthy: no convergence, a parameter at a bound, a poor optimum."""


class ExtrapolationWarning(ScalingLawsWarning):
    """A prediction or plan far outside the range of the data the fit saw."""


class MissingDependency(ScalingLawsError, ImportError):
    """An optional package that a feature needs is not installed. The message names the feature, the package and
    the install line of the extra that brings it (`pip install 'scalinglaws[plot]'`); being an ImportError too, it
    is caught by code that guards optional imports the usual way."""

    def __init__(self, message: str, package: str = ""):
        super().__init__(message)
        self.package = package


# top-level package -> the extra of scalinglaws that installs it (None: a core dependency, reinstall it)
EXTRAS = {"matplotlib": "plot", "plotly": "plot", "pandas": "pandas", "duckdb": "store", "tensorboard": "tensorboard",
          "wandb": "wandb", "mlflow": "mlflow", "pyarrow": None, "torch": None, "ray": None, "tokenizers": "train"}


def install_hint(package: str) -> str:
    """`pip install 'scalinglaws[plot]'` for matplotlib; `pip install torch` for a package no extra brings."""
    top = package.split(".")[0]
    extra = EXTRAS.get(top)
    return f"pip install 'scalinglaws[{extra}]'" if extra else f"pip install {top}"


def missing(package: str, purpose: str) -> MissingDependency:
    """The error for `purpose` ("drawing a figure") needing `package`, which cannot be imported."""
    top = package.split(".")[0]
    return MissingDependency(f"{purpose} needs {top}, which is not installed. Install it with "
                             f"{install_hint(top)}", top)


def require(package: str, purpose: str):
    """Import an optional package for `purpose`, or raise MissingDependency with the line that installs it."""
    from importlib import import_module

    top = package.split(".")[0]
    try:
        import_module(top)  # first the top level: a package blocked or absent fails here, whatever is cached below it
        return import_module(package)
    except ImportError:
        raise missing(package, purpose) from None
