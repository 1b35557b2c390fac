"""Published parameters as priors: fit a law with some of its parameters fixed at values from a paper or another fit.

A short ladder (three or four model sizes) pins down a law's scale terms far better than its exponents. Choshen et
al. 2024 ("A Hitchhiker's Guide to Scaling Law Estimation", §6) found that borrowing the exponents of a similar
family and fitting only the rest gives better forecasts from few models than a free fit. A `Prior` names the
parameters to fix and their values; `fit_with_prior` fits the remaining ones and returns an ordinary `Fit` of the
full law (the fixed values in place, bootstrap draws included), so it saves, loads and predicts like any other fit.
Law selection (select.py) weighs these fits against free ones by their backtested error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..errors import ArgumentError, ScalingLawsError
from ..laws import get_law
from ..laws.fixed import fix_params
from ..runs import read_runs


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


def published(law_names=None) -> list[Prior]:
    """The published priors, optionally only those for the named laws."""
    return [p for p in PUBLISHED if law_names is None or p.law in law_names]


def fit_with_prior(data, law, prior: Prior, **kwargs):
    """Fit `law` with the prior's parameters fixed; an ordinary Fit of the full law, the prior in `extra`.

    kwargs go to `scalinglaws.fit` (inputs, target, bootstrap, seed, where, ...).
    """
    from ..fitting import fit

    base = get_law(law)
    if prior.law != base.name:
        raise ScalingLawsError(f"prior '{prior.label}' is for law '{prior.law}', not '{base.name}'")
    reduced = fix_params(base, prior.values)
    f = fit(data, reduced, **kwargs)
    params = {n: float(prior.values[n]) if n in prior.values else f.params[n] for n in base.param_names}
    boot = f.bootstrap
    if boot is not None:
        draws = boot.array()  # (B, P_free)
        free = [n for n in base.param_names if n not in prior.values]
        full = np.empty((draws.shape[0], base.n_params))
        for j, n in enumerate(base.param_names):
            full[:, j] = prior.values[n] if n in prior.values else draws[:, free.index(n)]
        boot = replace(boot, draws=tuple(tuple(float(v) for v in row) for row in full))
    extra = dict(f.extra)
    extra["prior"] = prior.to_dict()
    return replace(f, law=base.name, formula=base.formula, params=params, bootstrap=boot,
                   law_source=base.source, extra=extra)


def learn_anneal_prior(data, law: str = "lr_annealing", *, by: str = "size", where: Sequence[str] = (),
                       **fit_options):
    """An annealing prior (fitting/borrow.py AnnealPrior) from curves that anneal: the curve law fitted to each
    group of runs (one model size: every schedule of it), its annealing parameters kept, carried to the groups'
    common peak learning rate. fit_options go to each fit. The prior a fit of curves that never anneal borrows."""
    from ..fitting import fit
    from ..fitting.borrow import BORROWED, AnnealPrior, to_peak

    names = BORROWED.get(law)
    if names is None:
        raise ArgumentError("law", f"law={law!r}: an annealing prior is learned for {', '.join(BORROWED)}")
    runs = read_runs(data, where=where, require=[by], purpose="it names the groups fitted one by one")
    groups = list(dict.fromkeys(str(g) for g in np.asarray(runs[by]).tolist()))
    sources, labels, peaks = [], [], []
    for g in groups:
        rows = runs.take(np.asarray([str(v) for v in np.asarray(runs[by]).tolist()]) == g)
        f = fit(rows, law, borrow="none", **fit_options)
        if f.extra.get("not_identified"):
            raise ScalingLawsError(f"the runs with {by}={g} never anneal: they cannot teach the annealing term")
        sources.append(tuple(float(f.params[n]) for n in names))
        labels.append(f"{by}={g}")
        peaks.append(float(np.max(rows[f.inputs["lr"]])))
    peak = float(np.exp(np.mean(np.log(peaks))))
    carried = tuple(tuple(to_peak(law, dict(zip(names, s)), peak / p)[n] for n in names)
                    for s, p in zip(sources, peaks))
    return AnnealPrior(law=law, names=names, sources=carried, labels=tuple(labels), peak_lr=peak,
                       origin="learned", fitted_on=(runs.source,))
