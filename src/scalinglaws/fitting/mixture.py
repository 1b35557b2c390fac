"""A law mixture: prediction intervals of a fit that include the disagreement between candidate laws.

Law selection (decide/select.py) does not bet everything on one law: beside the chosen law it keeps the runners-up
whose backtest scores lie within its tolerance of the best, each refitted to all the data, with a weight from its
score. The record of them lives in the fit's selection record, `fit.extra["selection"]["mixture"]`, and says what
it is (`format: scalinglaws.mixture/1`): per member its label, law, input binding, parameters and weight, the
chosen law first, and how the weights were made.

The interval is the percentile interval of a mixture of the members' predictive distributions: a sample comes from
member k with probability w_k (the form of Bayesian model averaging, Hoeting et al. 1999, with backtest weights in
place of posterior model probabilities). Only the chosen law carries bootstrap draws; a member's parameter
uncertainty is taken to be the chosen law's, carried onto its own curve: member k's draws are the chosen law's
shifted in the fit's residual space by the gap between the two laws' point predictions,
g(c_kb) = g(c_b) + g(p_k) - g(p_0). Where the laws agree the interval is the chosen law's; where they disagree it
spans their weighted spread as well as each law's own uncertainty. The point prediction stays the chosen law's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..records import format_of
from ..runs import Runs
from . import space as spaces
from .data import evaluate, evaluate_law

FORMAT = format_of("mixture")


@dataclass(frozen=True)
class Member:
    label: str  # the candidate's name in law selection, e.g. chinchilla@besiroglu2024
    law: str
    inputs: Mapping[str, str]
    params: Mapping[str, float]
    weight: float
    law_source: Mapping | None = None  # how to rebuild a formula law (laws.recorded_law)

    def to_dict(self) -> dict:
        d = {"label": self.label, "law": self.law, "inputs": dict(self.inputs), "params": dict(self.params),
             "weight": float(self.weight)}
        if self.law_source is not None:
            d["law_source"] = dict(self.law_source)
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> Member:
        return cls(label=str(d["label"]), law=str(d["law"]), inputs=dict(d["inputs"]),
                   params={k: float(v) for k, v in d["params"].items()}, weight=float(d["weight"]),
                   law_source=d.get("law_source"))


def record(members, weighting: str) -> dict:
    """The mixture's record (members: the chosen law first), as law selection stores it."""
    return {"format": FORMAT, "weighting": weighting, "members": [m.to_dict() for m in members]}


def members_of(fit) -> tuple[Member, ...]:
    """The fit's law-mixture members, the chosen law first; () for a fit of one law."""
    selection = (fit.extra or {}).get("selection") or {}
    rec = selection.get("mixture") if isinstance(selection, Mapping) else None
    if not isinstance(rec, Mapping) or rec.get("format") != FORMAT or len(rec.get("members", ())) < 2:
        return ()
    return tuple(Member.from_dict(m) for m in rec["members"])


def mixed(fit, runs: Runs, curves: np.ndarray, notes: list[str]):
    """(stacked curves (ΣB, m), per-draw probabilities (ΣB,), the interval record's parameters) for a fit whose
    record holds a law mixture, from its own draws' curves (B, m) at rows `runs`; (curves, None, None) for a fit of
    one law. A member whose law needs a column the rows lack is left out, with a note, the weights renormalised."""
    from ..laws import recorded_law

    members = members_of(fit)
    if not members:
        return curves, None, None
    space = spaces.of(fit.loss)
    with np.errstate(all="ignore"):
        z0 = spaces.forward(evaluate(fit, runs), space)  # (m,)
        zb = spaces.forward(curves, space) - z0[None, :]  # (B, m): each draw's gap from the point
    parts, used = [curves], {members[0].label: members[0].weight}
    for m in members[1:]:
        missing = [c for c in dict.fromkeys(m.inputs.values()) if c not in runs]
        if missing:
            notes.append(f"{m.label} is left out of the law mixture here: its law needs {', '.join(missing)}")
            continue
        law = recorded_law(m.law, m.law_source)
        pk = evaluate_law(law, m.inputs, runs, [[m.params[n] for n in law.param_names]])[0]
        with np.errstate(all="ignore"):
            parts.append(spaces.inverse(spaces.forward(pk, space)[None, :] + zb, space))
        used[m.label] = m.weight
    total = sum(used.values())
    weights = {k: v / total for k, v in used.items()}
    B = curves.shape[0]
    probs = np.concatenate([np.full(B, w / B) for w in weights.values()])
    source = {"source": f"law mixture ({len(weights)} candidates): the chosen law's bootstrap over runs ({B} "
                        "draws), carried onto each candidate's curve and weighted by its backtest score",
              "weights": weights}
    return np.vstack(parts), probs, source
