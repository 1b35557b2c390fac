"""A fit of a law with some parameters held at given values, returned as a fit of the full law: the held values
in place among the fitted ones (and in every bootstrap draw), the prior that gave them in `extra`. So a fit of
`chinchilla@besiroglu2024` saves, plans and predicts as a fit of `chinchilla`, and its label says which values
were held (record.py `Fit.label`)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..laws import Law
from ..laws.published import Prior


def widen(f, base: Law, prior: Prior):
    """The Fit `f` of `base` with the prior's values fixed, as a Fit of `base` itself."""
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
