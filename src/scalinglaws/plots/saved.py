"""Result records read back from a command's `--json` output, for figures and the report.

Planning, curve forecasts, backtests, comparisons and the other decisions print their records with `--json`
rather than writing files of their own, so `scalinglaws approaches ... --json > a.json` is the way to keep one.
Every such record says what it is in its `format` field ("scalinglaws.approaches/1", records.py), by which
`plots.registry.load_result` recognises the file (registry.LOADERS) and returns one of the classes below: the
printed fields, untouched, and the file's name. Each figure kind and report section draws a live record and its
saved form alike through `to_dict()`, so the picture of a record is the same whether it was just computed or read
back from disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..render.table import Tabular


@dataclass(frozen=True, repr=False)
class Saved(Tabular):
    data: dict = field(repr=False)  # the record as the command printed it
    source: str = ""  # the file it was read from

    def to_dict(self) -> dict:
        return self.data

    def _repr_html_(self) -> str:
        from ..render.table import record_table_html

        return record_table_html(self, name=f"{type(self).__name__} ({self.source})" if self.source else None)


class Approaches(Saved):
    """`scalinglaws approaches --json`: Chinchilla's three approaches on one sweep (plan.approaches)."""


class Plan(Saved):
    """`scalinglaws plan --json`: the recommended run and every planning section asked for (plan.planner)."""


class CurveForecast(Saved):
    """`scalinglaws forecast --json`: the rest of a run in flight (curves.forecast)."""


class CurveForecasts(Saved):
    """`scalinglaws curve --json`: the whole curves of schedules never run (curves.forecast)."""


class ScheduleSearch(Saved):
    """`scalinglaws best-schedule --json`: a family's schedules ranked by predicted final loss (curves.shapes)."""


class Backtest(Saved):
    """`scalinglaws backtest --json`: one law's errors on held-out larger runs, cut by cut (decide.backtesting)."""


class Ranking(Saved):
    """`scalinglaws backtest --law all --json`: every candidate law's backtest, best first (decide.select)."""


class Comparison(Saved):
    """`scalinglaws compare --json`: groups of runs at a target scale, multiplier and crossover (decide.comparison)."""


class Downstream(Saved):
    """`scalinglaws downstream --json`: task accuracy forecast through a loss, with flagged tasks (decide)."""


class Emergence(Saved):
    """`scalinglaws emergence --json`: a task's pass@k at larger sizes from many samples per problem (decide)."""


class TestTimeForecast(Saved):
    """`scalinglaws testtime --json`: coverage of repeated sampling and its ceiling (decide.testtime)."""

    __test__ = False  # not a pytest class, despite the name
