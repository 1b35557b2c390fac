"""A law with some of its parameters held at fixed values: a smaller law over the others.

Fixing parameters is how a fit borrows what its data cannot pin down: published exponents (decide/priors.py), a
prior fit's annealing term for curves that never anneal (fitting/borrow.py), or the parameters a run in flight
shares with finished runs (curves/forecast.py). The smaller law keeps everything else of the original (its
features, its gradient, its early-transient rule, a curve law's fields), so the one engine fits it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from ..errors import ScalingLawsError
from .spec import Law


def fix_params(law: Law, values: Mapping[str, float]) -> Law:
    """`law` with the named parameters replaced by constants (each within its bounds); at least one stays free."""
    unknown = [n for n in values if n not in law.param_names]
    if unknown:
        raise ScalingLawsError(f"law '{law.name}' has no parameter {', '.join(unknown)} to fix (its parameters: "
                               f"{', '.join(law.param_names)})")
    const = {k: float(v) for k, v in values.items()}
    for p in law.params:
        if p.name in const and not p.bounds[0] <= const[p.name] <= p.bounds[1]:
            raise ScalingLawsError(f"prior value {p.name}={const[p.name]:g} lies outside the parameter's bounds "
                                   f"{p.bounds} in law '{law.name}'")
    kept = tuple(p for p in law.params if p.name not in const)
    if not kept:
        raise ScalingLawsError("a prior must leave at least one parameter free to fit")
    base_fn, base_grad = law.fn, law.grad

    def fn(x, p):
        return base_fn(x, {**p, **const})

    def grad(x, p):
        g = base_grad(x, {**p, **const})
        return {q.name: g[q.name] for q in kept}

    # (the base's linear_terms would return columns of the held parameters too: variable projection uses fn)
    return replace(law, name=f"{law.name} with {','.join(const)} fixed", params=kept, fn=fn,
                   grad=grad if base_grad is not None else None, linear_terms=None,
                   linear=tuple(n for n in law.linear if n not in const),
                   notes=f"{', '.join(f'{k}={v:g}' for k, v in const.items())} fixed",
                   source={"kind": "fixed", "base": law.name, "base_source": law.source, "values": const})
