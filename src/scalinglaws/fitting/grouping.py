"""`fit_grouped`: one law fitted jointly to the groups of a column, some parameters shared (laws/grouped.py)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import ArgumentError


def fit_grouped(data, law="chinchilla", *, by: str, shared: Sequence[str], where: Sequence[str] = (), rename=None,
                **kwargs):
    """Fit `law` to every group of column `by` at once, the `shared` parameters common to all groups and the
    others one per group (`A@group`); kwargs go to `fit` (inputs, target, options, bootstrap, ...). The groups
    are those of the rows kept by `where`, in order of first appearance. `laws.grouped.group_params(fit)` gives
    each group's parameters; predictions need the `by` column and refuse a group the fit did not see."""
    from ..laws import get_law
    from ..laws.grouped import grouped
    from ..runs import read_runs
    from .engine import fit

    if isinstance(shared, str):
        shared = [s.strip() for s in shared.split(",") if s.strip()]
    base = get_law(law)
    runs = read_runs(data, rename=rename, where=where, require=[by], purpose="it names the groups")
    labels = np.asarray(runs[by]).astype(str)
    if runs[by].dtype.kind == "f" and not np.all(np.isfinite(runs[by])):
        raise ArgumentError("by", f"by={by!r}: column '{by}' has empty cells; every row needs a group")
    groups = list(dict.fromkeys(labels.tolist()))
    return fit(runs, grouped(base, by, groups, list(shared)), **kwargs)
