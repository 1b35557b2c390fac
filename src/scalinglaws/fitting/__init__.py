"""The fitting engine: multi-start batched BFGS with variable projection, bootstrap by run, and the Fit record."""

from .engine import fit
from .objectives import Objective
from .options import FitOptions
from .predict import Predictions, predict
from .record import Bootstrap, Fit

__all__ = ["Bootstrap", "Fit", "FitOptions", "Objective", "Predictions", "fit", "predict"]
