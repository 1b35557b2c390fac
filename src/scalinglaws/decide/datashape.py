"""What a runs table is, for law selection: which laws compete on it, which rows each sees, and where it is cut.

  run_curve      one run's training curve: rows of step, lr and loss (a run column, or none)
  size_curves    training curves of several runs of one model size (other schedules, other lengths)
  ladder_curves  training curves of several model sizes
  line           a ladder along one scale axis: of params, tokens and flops only one varies (across the runs, or
                 along the checkpoints of fewer than three runs, which are then cut within)
  points         final points of a ladder in params and tokens

A table is curve data when it has step and lr columns. On curves the laws of loss along a curve under its
learning-rate schedule compete (laws/schedule.py). A law of final losses (power, chinchilla, ...) sees each run's
final row only: a checkpoint before a run's end is not the loss of a run trained to that length (its learning rate
has not annealed), so checkpoints are not independent (N, D) points. With one model size there is nothing to
extrapolate along but the steps: backtests cut every curve at a step, fit its early part and predict the rest;
with several sizes they hold out the larger models. A ladder along one axis gets the laws of one input, bound to
that axis; a ladder in (N, D) the laws of both.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..render.text import plural
from ..runs import Runs

CURVE_LAWS = ("lr_annealing", "multipower")
LADDER_CURVE_LAWS = ("lr_annealing_nd",) + CURVE_LAWS  # lr_annealing_nd reads params: one fit across sizes
LINE_LAWS = ("power", "bnsl")
POINT_LAWS = ("power", "chinchilla", "kaplan", "skaling", "overtrain", "data_constrained", "bnsl")
CANDIDATES = {"run_curve": CURVE_LAWS, "size_curves": CURVE_LAWS, "ladder_curves": LADDER_CURVE_LAWS,
              "line": LINE_LAWS, "points": POINT_LAWS}
COSTLY = {"line": ("bnsl2",), "points": ("farseer", "bnsl2")}  # ten times the cost of the others: opt in
ONE_INPUT = ("x",)  # the symbol of the laws of one input (power, bnsl, bnsl2), bound to a line's axis
AXES = ("params", "tokens", "flops")
TIME = "step"
MIN_SCALES = 3  # a backtest across runs needs this many distinct run scales (backtesting.choose_cuts)


@dataclass(frozen=True)
class DataShape:
    """The kind of table (see the module docstring), its size, and the column backtests cut along."""

    kind: str
    runs: int
    rows: int
    sizes: int  # distinct model sizes (values of params); 0 without a params column
    by: str  # the cut column: step within curves of one size, params across sizes, the axis of a ladder
    within: bool  # cuts fall within runs (along their steps), not between them

    @property
    def curves(self) -> bool:
        return self.kind.endswith("curve") or self.kind.endswith("curves")

    @property
    def text(self) -> str:
        if self.kind == "run_curve":
            return f"one run's training curve of {self.rows} checkpoints"
        if self.kind == "size_curves":
            return f"{self.runs} training curves of one model size"
        if self.kind == "ladder_curves":
            return f"{self.runs} training curves of {self.sizes} model sizes"
        if self.kind == "line":
            if self.within:
                return f"{self.rows} checkpoints of {self.runs} run{'s' if self.runs != 1 else ''} along {self.by}"
            return f"a ladder of {plural(self.runs, 'run')} along {self.by} alone"
        if self.rows > self.runs:
            return f"a ladder of {plural(self.runs, 'run')} in params and tokens, {self.rows} checkpoints"
        return f"final points of {plural(self.runs, 'run')} in params and tokens"

    def candidates(self, more: bool = False) -> tuple[str, ...]:
        return CANDIDATES[self.kind] + (COSTLY.get(self.kind, ()) if more else ())

    def binding(self, law) -> dict[str, str]:
        """The columns a law reads on this table: its defaults, a law of one input bound to a line's axis."""
        binding = dict(law.inputs)
        if self.kind == "line" and set(binding) == set(ONE_INPUT):
            binding = {ONE_INPUT[0]: self.by}
        return binding

    def to_dict(self) -> dict:
        return {"kind": self.kind, "text": self.text, "runs": self.runs, "rows": self.rows, "sizes": self.sizes,
                "by": self.by, "within": self.within}


def one_run(runs: Runs) -> Runs:
    """A table of checkpoints (step and lr, every step once) without a run column is one run's curve."""
    if "run" in runs or TIME not in runs or "lr" not in runs:
        return runs
    steps = np.asarray(runs[TIME], dtype=float)
    if len(np.unique(steps)) != len(steps):
        return runs
    one = runs.with_columns(run=np.full(len(runs), "run", dtype=object))
    return replace(one, notes=one.notes + ("no run column: every row read as a checkpoint of one run",))


def _per_run(runs: Runs, col: str) -> np.ndarray | None:
    """Each run's largest value of a numeric, complete column (None if the table has no such column)."""
    if col not in runs or runs[col].dtype.kind != "f" or not np.all(np.isfinite(runs[col])):
        return None
    _, index = np.unique(np.asarray(runs.run_ids, dtype=str), return_inverse=True)
    out = np.full(index.max() + 1, -np.inf)
    np.maximum.at(out, index, np.asarray(runs[col], dtype=float))
    return out


def describe(runs: Runs, by: str | None = None) -> DataShape:
    """The shape of a runs table (one_run first, for a curve without a run column)."""
    n_runs, n_rows = runs.n_runs, len(runs)
    sizes = _per_run(runs, "params")
    n_sizes = 0 if sizes is None else len(np.unique(sizes))
    if TIME in runs and "lr" in runs:
        if n_sizes > 1:  # below MIN_SCALES sizes nothing can be held out along params: cut along the steps
            within = by == TIME or (by is None and n_sizes < MIN_SCALES)
            return DataShape("ladder_curves", n_runs, n_rows, n_sizes, by or (TIME if within else "params"),
                             within=within)
        kind = "run_curve" if n_runs == 1 else "size_curves"
        return DataShape(kind, n_runs, n_rows, n_sizes, by or TIME, within=by in (None, TIME, "tokens"))
    varies = {c: _varies(runs, c) for c in AXES}
    if varies["params"] and varies["tokens"]:
        return DataShape("points", n_runs, n_rows, n_sizes, by or _first(runs), within=False)
    axis = next((c for c in AXES if varies[c]), None)
    if axis is not None and (by is None or by == axis):
        # the checkpoints of fewer than MIN_SCALES runs (one run's curve of loss against tokens): cut within them
        few = len(np.unique(_per_run(runs, axis))) < MIN_SCALES
        return DataShape("line", n_runs, n_rows, n_sizes, axis, within=few)
    return DataShape("points", n_runs, n_rows, n_sizes, by or _first(runs), within=False)


def _varies(runs: Runs, col: str) -> bool:
    """A numeric, complete column with more than one value across the rows (a table of checkpoints without a
    learning rate keeps being read as (N, D) points: without the schedule nothing says which rows are finals)."""
    return _per_run(runs, col) is not None and len(np.unique(runs[col])) > 1


def _first(runs: Runs) -> str:
    from .backtesting import default_axis

    return default_axis(runs)


def finals(runs: Runs) -> Runs:
    """Each run's final row (its largest step): what a law of final losses sees of a table of training curves."""
    ids = np.asarray(runs.run_ids, dtype=str)
    steps = np.asarray(runs[TIME], dtype=float)
    order = np.lexsort((steps, ids))
    last = order[np.r_[ids[order][1:] != ids[order][:-1], True]]
    kept = runs.take(np.sort(last))
    return replace(kept, notes=kept.notes + (f"a law of final losses, fitted to each run's final row ({len(kept)} "
                                             f"of {len(runs)} rows): checkpoints before a run's end are not runs "
                                             "trained to that length",))
