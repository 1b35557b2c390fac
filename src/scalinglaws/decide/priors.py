"""Published parameters as priors: fit a law with some of its parameters fixed at values from a paper or another fit.

A short ladder (three or four model sizes) pins down a law's scale terms far better than its exponents. Choshen et
al. 2024 ("A Hitchhiker's Guide to Scaling Law Estimation", §6) found that borrowing the exponents of a similar
family and fitting only the rest gives better forecasts from few models than a free fit. A `Prior` names the
parameters to fix and their values; `fit_with_prior` fits the remaining ones and returns an ordinary `Fit` of the
full law (the fixed values in place, bootstrap draws included), so it saves, loads and predicts like any other fit.
Law selection (select.py) weighs these fits against free ones by their backtested error.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import ArgumentError, ScalingLawsError
from ..laws import get_law
from ..laws.published import PUBLISHED, Prior, prior_law
from ..runs import read_runs


def published(law_names=None) -> list[Prior]:
    """The published priors, optionally only those for the named laws."""
    return [p for p in PUBLISHED if law_names is None or p.law in law_names]


def fit_with_prior(data, law, prior: Prior, **kwargs):
    """Fit `law` with the prior's parameters fixed; an ordinary Fit of the full law, the prior in `extra`.

    kwargs go to `scalinglaws.fit` (inputs, target, bootstrap, seed, where, ...).
    """
    from ..fitting import fit

    return fit(data, prior_law(get_law(law), prior), **kwargs)


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
