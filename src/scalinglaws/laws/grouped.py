"""One law fitted jointly to several groups of runs, some parameters shared and the rest per group.

Fernandes et al. 2023 (multilingual translation: one exponent, a coefficient per language pair) and Choshen et
al. 2024 ("borrow the exponent from a related family") fit groups that share part of a law. `grouped(base, by,
groups, shared)` builds that law as an ordinary Law: the shared parameters keep their names, each other
parameter becomes one per group (`A@refinedweb`), and a row reads the parameters of its own group (the `by`
column, turned into an index by the law's features). So the one engine fits it, every group a slice of the same
batched rows (no loop over groups), with its diagnostics, bootstrap (resampling runs within each group: the law
names `by` as its strata) and record; a fit file rebuilds it from `source`. A row of a group the fit never saw is
refused by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from ..errors import ScalingLawsError
from .spec import Law

SEP = "@"


def per_group_name(param: str, group: str) -> str:
    return f"{param}{SEP}{group}"


def grouped(base: Law, by: str, groups: Sequence[str], shared: Sequence[str], *, within: bool = True) -> Law:
    """`base` with `shared` parameters common to every group and the others one per group (see the docstring).

    within: the bootstrap resamples runs within each group (groups of runs); False resamples runs across groups,
    each run with all its rows (groups that are targets measured on the same runs)."""
    groups = [str(g) for g in groups]
    shared = list(shared)
    unknown = [s for s in shared if s not in base.param_names]
    if unknown:
        raise ScalingLawsError(f"shared {', '.join(unknown)}: law '{base.name}' has no such parameter (its "
                               f"parameters: {', '.join(base.param_names)})")
    if len(groups) < 2:
        raise ScalingLawsError(f"a grouped fit needs two or more groups in column '{by}' (found "
                               f"{len(groups)}: {', '.join(groups) or 'none'})")
    if len(set(groups)) != len(groups):
        raise ScalingLawsError(f"groups repeat in column '{by}': {', '.join(groups)}")
    bad = [g for g in groups if SEP in g]
    if bad:
        raise ScalingLawsError(f"group '{bad[0]}' in column '{by}' holds '{SEP}', which names per-group parameters")
    own = [p for p in base.params if p.name not in shared]
    if not own:
        raise ScalingLawsError("every parameter is shared: that is one fit of the pooled runs; leave one per group")
    params = tuple(p for p in base.params if p.name in shared) + tuple(
        replace(p, name=per_group_name(p.name, g)) for g in groups for p in own)
    linear = tuple(n for n in base.linear if n in shared) + tuple(
        per_group_name(n, g) for g in groups for n in base.linear if n not in shared)
    index = {g: i for i, g in enumerate(groups)}
    own_names = [p.name for p in own]
    base_fn, base_grad = base.fn, base.grad

    def features(runs, binding):
        own = {k: v for k, v in binding.items() if k != "G"}
        x = dict(base.features(runs, own)) if base.features is not None else {k: runs[c] for k, c in own.items()}
        labels = np.asarray(runs[binding["G"]]).astype(str)
        missing = sorted(set(labels.tolist()) - set(index))
        if missing:
            raise ScalingLawsError(f"group '{missing[0]}' (column '{binding['G']}') was not in the fit: it knows "
                                   f"{', '.join(groups)}")
        return {**x, "G": np.array([index[v] for v in labels], dtype=int)}

    def pick(p, g):
        """The base law's parameters at every row: shared as they are, each other one its row's group's."""
        g = np.asarray(g).astype(int)  # the engine hands inputs over as floats
        out = {n: p[n] for n in shared}
        for n in own_names:
            out[n] = _gather(np.stack([np.asarray(p[per_group_name(n, grp)], dtype=float) for grp in groups],
                                      axis=-1), g)
        return out

    def fn(x, p):
        return base_fn({k: v for k, v in x.items() if k != "G"}, pick(p, x["G"]))

    def grad(x, p):
        g = base_grad({k: v for k, v in x.items() if k != "G"}, pick(p, x["G"]))
        out = {n: g[n] for n in shared}
        for n in own_names:
            for i, grp in enumerate(groups):
                out[per_group_name(n, grp)] = np.where(np.asarray(x["G"]).astype(int) == i, g[n], 0.0)
        return out

    source = {"kind": "grouped", "base": base.name, "by": by, "groups": groups, "shared": shared, "within": within}
    # (the base's linear_terms name the base's parameters: variable projection evaluates this law's fn instead)
    return replace(base, name=f"{base.name} by {by}", params=params, fn=fn, grad=grad if base_grad else None,
                   linear_terms=None, linear=linear, inputs={**base.inputs, "G": by}, features=features, source=source,
                   formula=f"{base.formula}; shared: {', '.join(shared) or 'none'}; per {by}: "
                           f"{', '.join(own_names)}", strata=by if within else None, init=None,
                   notes=f"{len(groups)} groups in '{by}' ({', '.join(groups)}); " + base.notes)


def _gather(stacked: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Per row, its group's value: stacked (..., G) holds a parameter per group, for scalar parameters (G,), one
    per start (K, 1, G) or (K, G); g holds each row's group, (n,) for shared rows or (K, n) when every start has
    rows of its own (a bootstrap draw's). Returns (n,) or (K, n)."""
    if stacked.ndim == 3:
        stacked = stacked[:, 0, :]  # (K, 1, G) -> (K, G)
    if stacked.ndim == 1:
        return stacked[g]
    if g.ndim == 1:
        return stacked[:, g]
    return np.take_along_axis(stacked, g, axis=-1)


def group_params(fit) -> dict[str, dict[str, float]]:
    """{group: {base parameter: value}} of a grouped fit (shared ones repeated in every group)."""
    src = fit.law_source or {}
    if src.get("kind") != "grouped":
        raise ScalingLawsError(f"the fit of law '{fit.law}' is not a grouped fit")
    out = {}
    for g in src["groups"]:
        out[g] = {}
        for name, v in fit.params.items():
            base, _, grp = name.partition(SEP)
            if not grp:
                out[g][base] = float(v)
            elif grp == g:
                out[g][base] = float(v)
    return out
