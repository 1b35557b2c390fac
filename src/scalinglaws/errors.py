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

    def __init__(self, argument: str, message: str):
        super().__init__(message)
        self.argument = argument


class ScalingLawsWarning(UserWarning):
    """Base class of every warning scalinglaws issues."""


class DataWarning(ScalingLawsWarning):
    """Input that was accepted but altered or is suspicious (duplicate rows dropped, derived columns)."""


class FitWarning(ScalingLawsWarning):
    """A fit that may not be trustworthy: no convergence, a parameter at a bound, a poor optimum."""


class ExtrapolationWarning(ScalingLawsWarning):
    """A prediction or plan far outside the range of the data the fit saw."""
