"""One law fitted jointly to several groups (laws/grouped.py), some parameters shared: `fit_grouped` for the
groups of a column (datasets, setups), `fit_targets` for several target columns of the same runs (general and
domain loss), each weighted by its own residual scale."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import ArgumentError
from ..render.text import plural


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
    law = grouped(base, by, groups, list(shared))  # refuses a shared name the law does not have
    own = base.n_params - len(set(shared))
    counts = {g: int(np.sum(labels == g)) for g in groups}
    few = [g for g in groups if counts[g] < own]
    if few:
        g = few[0]
        raise ArgumentError("by", f"group '{g}' of column '{by}' has {plural(counts[g], 'row')} but {own} "
                            f"parameters of its own ({', '.join(n for n in base.param_names if n not in shared)}): "
                            f"add runs to it, share more parameters (--shared), or leave it out "
                            f"(--where '{by}!={g}')" + (f"; {len(few) - 1} more such groups" if len(few) > 1 else ""))
    return fit(runs, law, **kwargs)


TARGET = "target"  # the column that names which target a row of a multi-target fit measures


def fit_targets(data, law="chinchilla", *, targets: Sequence[str], shared: Sequence[str], where: Sequence[str] = (),
                rename=None, options=None, **kwargs):
    """Fit `law` to several target columns of the same runs at once: the `shared` parameters common to every
    target, the others one per target (`E@c4_loss`), each target weighted by the inverse of its residual variance
    in a first fit (so a target with a larger scatter does not drown the others), then refitted. The bootstrap
    resamples runs with all their targets. Predictions name the target in a column `target`."""
    from ..laws import get_law
    from ..laws.grouped import grouped
    from ..runs import Runs, read_runs
    from .engine import fit
    from .options import FitOptions

    if kwargs.pop("target", None) is not None:
        raise ArgumentError("target", "fit_targets names its target columns in targets=, not target=")
    if isinstance(targets, str):
        targets = [t.strip() for t in targets.split(",") if t.strip()]
    if isinstance(shared, str):  # 'none': every parameter one per target (the data mixing law's losses)
        shared = [s.strip() for s in shared.split(",") if s.strip() and s.strip().lower() != "none"]
    if len(targets) < 2:
        raise ArgumentError("targets", f"a multi-target fit needs two or more target columns (got {list(targets)})")
    base = get_law(law)
    runs = read_runs(data, rename=rename, where=where, require=list(targets), purpose="it is a target")
    for t in targets:
        if np.asarray(runs[t]).dtype.kind not in "fiu":
            raise ArgumentError("targets", f"target column '{t}' of {runs.source} holds text, not numbers; give the "
                                "columns of measured losses")
    cols = {}
    for name in runs.names:
        if name in targets or name == TARGET:
            continue
        cols[name] = np.concatenate([np.asarray(runs[name]) for _ in targets])
    cols[TARGET] = np.repeat(np.asarray(targets, dtype=object), len(runs)).astype(str)
    cols["value"] = np.concatenate([np.asarray(runs[t], dtype=float) for t in targets])
    lines = np.concatenate([np.asarray(runs.lines) for _ in targets])  # errors name the row of the caller's table
    long = Runs(cols, source=runs.source, lines=lines, line_word=runs.line_word).take(
        np.isfinite(cols["value"]))  # a run may lack one target
    joint = grouped(base, TARGET, list(targets), list(shared), within=False)
    opts = FitOptions.of(options, **{k: kwargs.pop(k) for k in list(kwargs) if k in FitOptions.__dataclass_fields__})
    first = fit(long, joint, target="value", options=opts.replace(bootstrap=0), **kwargs)
    labels = np.asarray(long[TARGET]).astype(str)
    resid = np.asarray(first.residuals, dtype=float)
    scale = {t: float(np.sqrt(np.mean(resid[labels == t] ** 2))) or 1.0 for t in targets}
    w = np.array([1.0 / scale[t] ** 2 for t in labels])
    out = fit(long, joint, target="value", options=opts.replace(weights=tuple(w / w.mean())), **kwargs)
    from dataclasses import replace

    extra = dict(out.extra)
    extra["targets"] = {"columns": list(targets), "residual_scale": scale,
                        "weights": "each target's rows weighted by 1 / its residual variance in a first fit"}
    return replace(out, extra=extra)
