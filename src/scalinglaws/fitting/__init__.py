"""The fitting engine: starts by variable projection, a multi-start search by batched Levenberg-Marquardt with
successive halving and a BFGS polish, residuals in a log, linear or logit space, bootstrap by run (batched BFGS
refits), and the Fit record. optimize.search and optimize.refine minimise any objective the same way."""

from .engine import fit
from .grouping import fit_grouped, fit_targets
from .objectives import Objective
from .options import FitOptions
from .prediction import Predictions, predict
from .record import Bootstrap, Fit

__all__ = ["Bootstrap", "Fit", "FitOptions", "Objective", "Predictions", "fit", "fit_grouped", "fit_targets", "predict"]
