"""Decisions from fits, and the evidence to trust them (docs/decisions.md).

    backtest, Backtest, Cut             rollout backtests over cuts in scale (backtesting.py)
    fit_auto, compare_laws, Ranking     law selection by backtested extrapolation error (select.py)
    Prior, PUBLISHED, fit_with_prior    published or borrowed parameters as priors (priors.py)
    compare, Comparison                 recipes and datasets: difference, multiplier, crossover (comparison.py)
    forecast_downstream, Downstream     loss -> task accuracy in two steps, with trend flags (downstream.py)
    forecast_testtime, pass_at_k        repeated sampling: coverage, verifier ceiling, best k (testtime.py)

No module shares a name with a function it exports, so `scalinglaws.decide.backtest` is always the function.
"""

from __future__ import annotations

from ..laws.fixed import fix_params
from .backtesting import Backtest, Cut, backtest
from .comparison import Comparison, compare
from .downstream import Downstream, forecast_downstream
from .priors import PUBLISHED, Prior, fit_with_prior
from .select import Ranking, compare_laws, fit_auto
from .testtime import TestTimeForecast, forecast_testtime, pass_at_k

__all__ = ["PUBLISHED", "Backtest", "Comparison", "Cut", "Downstream", "Prior", "Ranking", "TestTimeForecast",
           "backtest", "compare", "compare_laws", "fit_auto", "fit_with_prior", "fix_params", "forecast_downstream",
           "forecast_testtime", "pass_at_k"]
