"""The data mixing law: the loss on one domain against the proportions of the training mixture (Ye et al. 2024).

Ye et al. 2024, "Data Mixing Laws: Optimizing Data Mixtures by Predicting Language Modeling Performance"
(arXiv:2403.16952), eq. (6): with M domains in proportions r = (r_1, ..., r_M) on the simplex, the validation loss
on domain i of a model of fixed size trained for a fixed number of tokens is

    L_i(r) = c_i + k_i · exp(Σ_j t_ij · r_j)

Because Σ_j r_j = 1, adding a constant a to every t_ij multiplies k_i by e^a: one t per domain loss is not
identified. Here the last domain is the reference, t_iM = 0, and the law keeps t_1 ... t_{M-1} (the paper's t_ij
minus t_iM). One loss per fit of this law; the losses of all domains are fitted jointly with `fit_targets`
(fitting/grouping.py), nothing shared, so every parameter is one per target (`t1@c4_loss`) and the bootstrap
resamples mixtures with all their losses.

The proportions are inputs r1 ... rM (columns r1 ... rM unless bound otherwise: inputs={"r1": "share_c4", ...}).
Every row's proportions must lie in [0, 1] and sum to one; a row that does not is refused by name, before any fit.
"""

from __future__ import annotations

import numpy as np

from ..errors import ScalingLawsError
from .spec import INF, Law, Param

TOLERANCE = 1e-3  # how far a row's proportions may sum from one (rounding in a CSV), and lie outside [0, 1]
MAX_DOMAINS = 12


def symbols(m: int) -> list[str]:
    """The law's proportion inputs for m domains: r1 ... rm."""
    return [f"r{j}" for j in range(1, m + 1)]


def _law_fn(m: int):
    terms = [(f"t{j}", f"r{j}") for j in range(1, m)]  # t_M = 0: the reference domain (see the docstring)

    def fn(x, p):
        z = 0.0
        for t, r in terms:
            z = z + p[t] * x[r]
        return p["c"] + p["k"] * np.exp(z)

    def grad(x, p):
        z = 0.0
        for t, r in terms:
            z = z + p[t] * x[r]
        e = np.exp(z)
        out = {"c": np.ones_like(e), "k": e}
        for t, r in terms:
            out[t] = p["k"] * e * x[r]
        return out

    return fn, grad


def check_proportions(runs, binding, syms) -> dict[str, np.ndarray]:
    """The proportion columns as floats, refused with one message naming the first row that is not on the simplex."""
    cols = [binding[s] for s in syms]
    values = np.stack([np.asarray(runs[c], dtype=float) for c in cols], axis=-1)  # (n, M)
    total = values.sum(axis=-1)
    bad = ~np.isfinite(total) | (np.abs(total - 1.0) > TOLERANCE) | np.any(values < -TOLERANCE, axis=-1)
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        shown = ", ".join(f"{c} = {v:g}" for c, v in zip(cols, values[i]))
        hint = (" They look like percentages: divide them by 100." if np.isfinite(total[i])
                and abs(total[i] - 100.0) <= 100 * TOLERANCE else "")
        raise ScalingLawsError(f"{runs.locate(i)}: the mixture proportions {shown} sum to {total[i]:.6g}; the "
                               f"proportions of the {len(cols)} domains ({', '.join(cols)}) must each lie in [0, 1] "
                               f"and sum to one.{hint} Fix the row, or divide each by the row's sum")
    return {s: values[:, j] for j, s in enumerate(syms)}


def data_mixing_law(m: int) -> Law:
    """The data mixing law of Ye et al. 2024 over m domains (see the module's docstring)."""
    if not (isinstance(m, (int, np.integer)) and 2 <= m <= MAX_DOMAINS):
        raise ScalingLawsError(f"a data mixing law needs 2 to {MAX_DOMAINS} domains (got {m!r})")
    m = int(m)
    syms = symbols(m)
    fn, grad = _law_fn(m)

    def features(runs, binding):
        return check_proportions(runs, binding, syms)

    exponent = " + ".join(f"t{j}·r{j}" for j in range(1, m))
    return Law(
        name="data_mixing" if m == 2 else f"data_mixing{m}",
        formula=f"L = c + k·exp({exponent})",
        inputs={s: s for s in syms},
        params=(Param("c", (0.0, INF), (0.0, 3.0), doc="the loss no mixture gets below"),
                Param("k", (0.0, INF), (0.01, 3.0), log_start=True, doc="the loss the exponential adds"),
                *(Param(f"t{j}", (-50.0, 50.0), (-4.0, 4.0),
                        doc=f"how the loss moves with domain {j}'s share, against domain {m}'s")
                  for j in range(1, m))),
        fn=fn,
        grad=grad,
        linear=("c", "k"),
        reference="Ye et al. 2024, 'Data Mixing Laws: Optimizing Data Mixtures by Predicting Language Modeling "
                  "Performance', arXiv:2403.16952, eq. 6",
        notes=f"one domain's loss against the proportions r1..r{m} of {m} domains (each row on the simplex); t{m} is "
              "0 (the last domain is the reference). Fit every domain's loss at once with fit_targets, nothing "
              "shared",
        features=features,
    )


DATA_MIXING = data_mixing_law(2)
DATA_MIXING3 = data_mixing_law(3)
