"""Which data pool to train on at a budget of samples: the Pareto frontier of curation (Goyal et al. 2024).

A pool table lists pools (one row each) with their size `samples_per_epoch`, utility `b` and half-life `tau`, and
the shared sample scale `a` and irreducible error `d` (columns, or given). At each budget of samples seen, every
single pool and every mix of the top m pools (ranked by `pool_rank`, else by utility) is scored by the
utility-decay law (laws/curation.py); the best candidate per budget is the frontier. Aggressive filtering wins
while its few samples are fresh; as the budget grows and they repeat, larger, less filtered mixes take over
(Goyal et al. 2024, "Scaling Laws for Data Filtering", arXiv:2404.07177, Section 3.3).

`fit_pools` estimates a pool table from curves of error against samples seen, one fit per pool of the
utility-decay law through the one engine, a and d held at given values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ScalingLawsError
from ..laws.curation import UTILITY_DECAY, mix_error
from ..records import format_of
from ..render.table import Tabular

POOL_COLUMNS = ("pool", "samples_per_epoch", "b", "tau")
UTILITY_OBJECTIVE = "effective_utility"  # the published table's name for the utility-decay fits


@dataclass(frozen=True, repr=False)
class CurationPlan(Tabular):
    """The best pool or mix of top pools at each budget of samples, and every candidate's predicted error."""

    samples: tuple[float, ...]  # the budgets, samples seen
    best: tuple  # ({"samples", "candidate", "pools", "error", "epochs"}, ...) one per budget
    table: tuple  # ({"candidate", "pools", "size", "samples", "error", "epochs"}, ...) every candidate × budget
    a: float
    d: float
    source: str
    law: str = UTILITY_DECAY.name
    reference: str = UTILITY_DECAY.reference
    warnings: tuple[str, ...] = ()
    _rows = "best"

    def to_dict(self) -> dict:
        return {"format": format_of("curation_plan"), "samples": list(self.samples),
                "best": [dict(r) for r in self.best], "table": [dict(r) for r in self.table], "a": self.a,
                "d": self.d, "source": self.source, "law": self.law, "reference": self.reference,
                "warnings": list(self.warnings)}


def read_pools(data, *, source: str | None = None):
    """A pool table from a path or DataFrame, checked: one row per pool with the columns the law needs."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        table, source = data.copy(), source or "the pool table"
    else:
        try:
            table = pd.read_csv(data)
        except FileNotFoundError:
            raise ScalingLawsError(f"no pool table at {data}. Give a CSV with columns "
                                   f"{', '.join(POOL_COLUMNS)}") from None
        source = source or str(data)
    if "objective" in table.columns and (table["objective"] == UTILITY_OBJECTIVE).any():
        table = table[table["objective"] == UTILITY_OBJECTIVE]  # a published table holds other fits beside it
    missing = [c for c in POOL_COLUMNS if c not in table.columns]
    if missing:
        raise ScalingLawsError(f"column '{missing[0]}' is missing from {source} (found: "
                               f"{', '.join(map(str, table.columns))}). A pool table needs one row per pool with "
                               f"{', '.join(POOL_COLUMNS)}; add it, or rename the column that holds it")
    for col in POOL_COLUMNS[1:]:
        values = pd.to_numeric(table[col], errors="coerce")
        bad = ~np.isfinite(values.to_numpy(float))
        if bad.any():
            row = int(np.flatnonzero(bad)[0]) + 2
            raise ScalingLawsError(f"{source} row {row}: column '{col}' is empty or not a number "
                                   f"({table[col].iloc[row - 2]!r}); every pool needs a value")
        table[col] = values
    if (table["samples_per_epoch"] <= 0).any():
        raise ScalingLawsError(f"{source}: samples_per_epoch must be positive (the number of samples in the pool)")
    if table["pool"].astype(str).duplicated().any():
        raise ScalingLawsError(f"{source}: pool names repeat; give one row per pool (filter the table first)")
    return table.reset_index(drop=True), source


def _shared(table, name: str, given: float | None, source: str) -> float:
    if given is not None:
        return float(given)
    if name not in table.columns or not np.isfinite(table[name].to_numpy(float)).all():
        raise ScalingLawsError(f"{source} has no '{name}' for every pool; add the column or give {name}= "
                               f"(e.g. --{name} {0.025 if name == 'a' else 0.1})")
    values = np.unique(table[name].to_numpy(float))
    if values.size > 1:
        raise ScalingLawsError(f"{source}: '{name}' differs between pools ({', '.join(f'{v:g}' for v in values)}); "
                               f"the mix needs one shared {name}: give it (--{name})")
    return float(values[0])


def plan_curation(pools, samples: Sequence[float], *, top: int | None = None, a: float | None = None,
                  d: float | None = None) -> CurationPlan:
    """The best pool or mix of the top pools at each budget in `samples` (samples seen).

    pools: a pool table (path or DataFrame, see module doc). top: mix at most this many top pools (default: all
    the ranked pools). a, d: the shared sample scale and irreducible error, if the table lacks them.
    """
    table, source = read_pools(pools)
    budgets = np.asarray([float(s) for s in samples], dtype=float)
    if budgets.size == 0 or not (np.isfinite(budgets).all() and (budgets > 0).all()):
        raise ScalingLawsError("samples must be positive numbers of samples seen, e.g. --samples 32e6,64e6")
    a_, d_ = _shared(table, "a", a, source), _shared(table, "d", d, source)
    order = (np.argsort(table["pool_rank"].to_numpy(float), kind="stable") if "pool_rank" in table.columns
             else np.argsort(table["b"].to_numpy(float), kind="stable"))  # most negative b: most useful first
    label = table["pool_label"] if "pool_label" in table.columns else table["pool"]
    names = [str(v) for v in label]
    m = len(order) if top is None else max(1, min(int(top), len(order)))
    candidates = [(names[i], (i,)) for i in range(len(table))]
    candidates += [(f"top {k} mixed", tuple(int(i) for i in order[:k])) for k in range(2, m + 1)]
    rows, best = [], []
    for name, idx in candidates:
        sizes = table["samples_per_epoch"].to_numpy(float)[list(idx)]
        err = mix_error(budgets, sizes, a_, d_, table["b"].to_numpy(float)[list(idx)],
                        table["tau"].to_numpy(float)[list(idx)])
        for s, e in zip(budgets, np.atleast_1d(err)):
            rows.append({"candidate": name, "pools": [names[i] for i in idx], "size": float(sizes.sum()),
                         "samples": float(s), "error": float(e), "epochs": float(s / sizes.sum())})
    for s in budgets:
        at = [r for r in rows if r["samples"] == s]
        win = min(at, key=lambda r: r["error"])
        best.append({k: win[k] for k in ("samples", "candidate", "pools", "error", "epochs")})
    warnings = []
    if "pool_rank" not in table.columns:
        warnings.append("no pool_rank column: pools ranked by utility b (most negative first) to form the mixes")
    return CurationPlan(samples=tuple(budgets.tolist()), best=tuple(best), table=tuple(rows), a=a_, d=d_,
                        source=source, warnings=tuple(warnings))


def fit_pools(curves, *, a: float, d: float, pool: str = "pool", bootstrap: int = 0, seed: int = 0,
              options: Mapping | None = None) -> dict:
    """Fit each pool's utility b and half-life tau to curves of error against samples seen.

    curves: a runs table (path or DataFrame) with columns `pool`, samples_per_epoch, samples and error. a and d are
    held at the given values (few epochs cannot pin them down beside b and tau). Returns {pool: Fit}; each Fit's
    params hold b and tau, its bootstrap draws (with `bootstrap`) their intervals.
    """
    from ..fitting import fit
    from ..laws.fixed import fix_params
    from ..runs import read_runs

    runs = read_runs(curves, require=[pool, "samples_per_epoch", "samples", "error"],
                     purpose="a pool's curves of error against samples seen")
    law = fix_params(UTILITY_DECAY, {"a": a, "d": d})
    return {name: fit(rows, law, bootstrap=bootstrap, seed=seed, **dict(options or {}))
            for name, rows in runs.groups(pool).items()}
