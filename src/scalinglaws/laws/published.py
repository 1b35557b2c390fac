"""Laws with some parameters fixed at published values: `chinchilla@besiroglu2024` is Chinchilla's law with
Besiroglu et al.'s exponents held, its scale terms left to fit. A `Prior` names the law, the values and where they
come from; `get_law` resolves its label to the reduced law (laws/fixed.py), and a fit of that law is returned as a
fit of the full law with the values in place (fitting/engine.py), so it plans and predicts like any other fit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from ..errors import ScalingLawsError
from .fixed import fix_params
from .spec import Law


@dataclass(frozen=True)
class Prior:
    """Parameters of `law` fixed at `values`; `name` says where the values come from."""

    law: str
    values: Mapping[str, float]
    name: str
    reference: str = ""
    fitted_on: tuple[str, ...] = ()  # bundled datasets the values were estimated from (a backtest on them leaks)

    @property
    def label(self) -> str:
        return f"{self.law}@{self.name}"

    def to_dict(self) -> dict:
        return {"law": self.law, "name": self.name, "values": dict(self.values), "reference": self.reference,
                "fitted_on": list(self.fitted_on)}

    @classmethod
    def from_dict(cls, d: Mapping) -> Prior:
        """The prior `to_dict` wrote (a law's source, a fit's extra)."""
        return cls(law=d["law"], values=dict(d["values"]), name=d["name"], reference=d.get("reference", ""),
                   fitted_on=tuple(d.get("fitted_on", ())))

    @classmethod
    def from_fit(cls, fit, names=None, name: str | None = None) -> Prior:
        """Borrow parameters from another fit (by default the law's nonlinear ones: its exponents)."""
        law = fit.get_law()
        names = list(names) if names else [n for n in law.param_names if n not in law.linear]
        unknown = [n for n in names if n not in fit.params]
        if unknown:
            raise ScalingLawsError(f"the fit of law '{fit.law}' has no parameter {', '.join(unknown)} (its "
                                   f"parameters: {', '.join(fit.params)})")
        if len(names) >= law.n_params:
            raise ScalingLawsError("a prior must leave at least one parameter free to fit")
        src = fit.data.get("source", "another fit") if isinstance(fit.data, Mapping) else "another fit"
        return cls(law=fit.law, values={n: float(fit.params[n]) for n in names}, name=name or f"from {src}",
                   reference=f"fitted to {src}")


# Values as published. Fixing only the exponents (and Muennighoff's decay constants) leaves the scale terms free,
# since those depend on the tokenizer, the data and how parameters are counted.
PUBLISHED: tuple[Prior, ...] = (
    Prior("chinchilla", {"alpha": 0.3478, "beta": 0.3658}, "besiroglu2024",
          "Besiroglu et al. 2024, 'Chinchilla Scaling: A replication attempt', arXiv:2404.10102, refit of "
          "Hoffmann 2022 Approach 3", ("chinchilla_epoch",)),
    Prior("chinchilla", {"alpha": 0.34, "beta": 0.28}, "hoffmann2022",
          "Hoffmann et al. 2022, arXiv:2203.15556, Approach 3 (eq. 10)", ("chinchilla_epoch",)),
    Prior("kaplan", {"alpha_N": 0.076, "alpha_D": 0.103}, "kaplan2020",
          "Kaplan et al. 2020, arXiv:2001.08361, Table 2 (fit of eq. 1.5)"),
    Prior("data_constrained", {"R_D": 15.4, "R_N": 5.3}, "muennighoff2023",
          "Muennighoff et al. 2023, arXiv:2305.16264, fitted R_D* and R_N*", ("datablations", "datablations_contour")),
)


def prior_named(label: str) -> Prior:
    """The published prior a label names ('chinchilla@besiroglu2024'), as law selection names its candidates."""
    for p in PUBLISHED:
        if p.label == label:
            return p
    raise ScalingLawsError(f"unknown law '{label}'. A law with published values fixed is one of: "
                           f"{', '.join(p.label for p in PUBLISHED)} (`scalinglaws laws` lists them)")


def prior_law(base: Law, prior: Prior) -> Law:
    """`base` with the prior's values fixed, named by the prior's label; its source keeps the prior."""
    if prior.law != base.name:
        raise ScalingLawsError(f"prior '{prior.label}' is for law '{prior.law}', not '{base.name}'")
    reduced = fix_params(base, prior.values)
    return replace(reduced, name=prior.label, source={**reduced.source, "prior": prior.to_dict()})


def prior_of(law: Law) -> Prior | None:
    """The prior a law of `prior_law` holds (None for any other law)."""
    d = law.source.get("prior") if isinstance(law.source, Mapping) else None
    return Prior.from_dict(d) if d else None
