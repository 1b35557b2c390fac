"""When a fitted law runs away: predictions that are not finite, not positive, or absurdly large.

A law with enough freedom (a broken power law's break, a formula's free exponent) can fit the runs well and predict
1e36 nats a decade beyond them. Ranked by mean backtest error it would only come last; law selection should not
count it as a candidate at all, and a chosen law that does so must say so. A prediction is absurd when it is not
a finite number, not positive (a loss, or any target law selection fits in log space), or more than CEILING times
the largest observed value of the target. The guard looks in two places:

  the backtest   every cut's predictions of its held-out rows (read from the Cut's largest relative error: a
                 prediction over CEILING times the largest observation is more than CEILING - 1 above its own);
  the probe      a fit's predictions at the data's edge and a modest extrapolation beyond it: the largest runs,
                 and those runs with every scale column PROBE times larger; for training curves every checkpoint
                 of the table and each run continued by half its length at its last learning rate (and, across
                 model sizes, the largest size PROBE times larger). Every backtest cut's fit and every final fit
                 is evaluated there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..fitting.data import evaluate_law
from ..laws import get_law
from ..runs import Runs
from .datashape import TIME, DataShape

CEILING = 10.0  # a prediction above this many times the largest observed target is absurd
PROBE = 10.0  # the modest extrapolation: every scale column this many times the largest run's
CONTINUE = 0.5  # a training curve continued by this share of its length
SCALES = ("params", "tokens", "flops", "unique_tokens")


@dataclass(frozen=True)
class Guard:
    """Where fits are checked (`probe`: (rows, what they are)) and the largest prediction that is not absurd."""

    ceiling: float
    target: str
    probe: tuple[tuple[Runs, str], ...]

    @classmethod
    def of(cls, rows: Runs, target: str, shape: DataShape) -> Guard:
        """The guard for fits to `rows` (a table of the given shape, or its final rows) of `target`."""
        top = float(np.nanmax(np.asarray(rows[target], dtype=float)))
        probe = _curve_probe(rows, shape) if TIME in rows and "lr" in rows and shape.curves else \
            _point_probe(rows, shape.by)
        return cls(ceiling=CEILING * top, target=target, probe=tuple(probe))

    def why(self, values, where: str) -> str | None:
        """Why predictions are absurd (None: they are not)."""
        v = np.asarray(values, dtype=float)
        if v.size == 0:
            return None
        if not np.all(np.isfinite(v)):
            return f"predicts a value that is not a finite number {where}"
        if np.any(v <= 0):
            return f"predicts {v.min():.3g} {where}, below zero for a positive {self.target}"
        if np.any(v > self.ceiling):
            return (f"predicts {v.max():.3g} {where}, over {CEILING:g}× the largest observed {self.target} "
                    f"({self.ceiling / CEILING:.4g})")
        return None

    def check(self, law, binding: Mapping[str, str], params: Mapping[str, float]) -> str | None:
        """Why a law with these parameters runs away at the probe (None: it does not)."""
        law = get_law(law)
        if set(law.param_names) - set(params):
            return None
        theta = [[float(params[n]) for n in law.param_names]]
        for rows, what in self.probe:
            if any(c not in rows for c in binding.values()):
                continue
            why = self.why(evaluate_law(law, binding, rows, theta)[0], what)
            if why:
                return why
        return None

    def check_backtest(self, bt, law, binding: Mapping[str, str]) -> str | None:
        """Why a candidate's backtest shows it running away: at a cut's held-out rows, or its fit at the probe."""
        for c in bt.cuts:
            if not c.ok:
                continue
            where = f"at the rows held out beyond {bt.by}={c.cut:.4g}"
            if c.max_rel_error is None or not np.isfinite(c.max_rel_error):
                return f"predicts a value that is not a positive number {where}"
            if c.max_rel_error > CEILING - 1:
                return f"predicts over {CEILING:g}× the observed {self.target} {where}"
            why = self.check(law, binding, c.params)
            if why:
                return f"fitted below {bt.by}={c.cut:.4g}, {why}"
        return None


def _point_probe(rows: Runs, by: str) -> list[tuple[Runs, str]]:
    """The largest run's rows, and those rows with every scale column PROBE times larger."""
    if by not in rows:
        return []
    edge = rows.take(np.flatnonzero(np.asarray(rows[by], dtype=float) == np.max(rows[by])))
    far = edge.with_columns(**{c: np.asarray(edge[c], dtype=float) * PROBE for c in SCALES
                               if c in edge and edge[c].dtype.kind == "f"})
    return [(edge, f"at the largest run ({by}={np.max(rows[by]):.4g})"),
            (far, f"at {PROBE:g}× the largest run's scale")]


def _curve_probe(rows: Runs, shape: DataShape) -> list[tuple[Runs, str]]:
    """Every checkpoint of the table; each run continued at its last learning rate; a larger model size."""
    ids = np.asarray(rows.run_ids, dtype=str)
    steps = np.asarray(rows[TIME], dtype=float)
    order = np.lexsort((steps, ids))
    last = order[np.r_[ids[order][1:] != ids[order][:-1], True]]
    ends = rows.take(last)
    extra = ends.with_columns(**{TIME: np.round(np.asarray(ends[TIME], dtype=float) * (1 + CONTINUE))})
    out = [(_stack(rows, extra), f"at the table's checkpoints or with each run continued by {100 * CONTINUE:.0f}% "
                                 "at its last learning rate")]
    if shape.kind == "ladder_curves" and "params" in rows:
        big = np.asarray(rows["params"], dtype=float)
        top = rows.take(big == big.max())
        out.append((top.with_columns(params=big[big == big.max()] * PROBE),
                    f"at {PROBE:g}× the largest model size"))
    return out


def _stack(a: Runs, b: Runs) -> Runs:
    cols = {k: np.concatenate([np.asarray(a[k]), np.asarray(b[k])]) for k in a.names}
    return Runs(cols, source=a.source)

