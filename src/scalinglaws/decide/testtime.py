"""Test-time scaling: coverage of repeated sampling against the number of samples, and its ceiling when the
verifier that picks an answer is imperfect.

Data: for each problem, how many samples were drawn (n) and how many were correct (c). The unbiased pass@k of one
problem is 1 - C(n-c, k) / C(n, k) (Chen et al. 2021, eq. 1); coverage(k) is its mean over problems (Brown et al.
2024, "Large Language Monkeys"), measurable only for k <= n.

To forecast beyond n, the problems' per-sample success rates p are modelled as a zero-inflated beta: a share
`unsolvable` of problems has p = 0, the rest p ~ Beta(a, b), fitted by maximum likelihood to the counts (a
beta-binomial). Then coverage(k) = (1 - unsolvable)·(1 - B(a, b + k) / B(a, b)) in closed form: it approaches the
ceiling 1 - unsolvable as a power law in k, the shape Brown et al. observed and Schaeffer et al. 2025 ("How Do Large
Language Monkeys Get Their Power (Laws)?") traced to the left tail of the distribution of p.

An imperfect verifier accepts a correct sample with probability `tpr` and a wrong one with probability `fpr`.
Resampling until it accepts, with at most k samples (Stroebl, Kapoor & Narayanan 2024, "Inference Scaling fLaws"),
a problem with rate p is answered correctly with probability q·(1 - (1 - r)^k), where r = p·tpr + (1 - p)·fpr is
the acceptance rate and q = p·tpr / r the chance that an accepted sample is correct. As k grows accuracy tends to
E[q] < 1 - unsolvable: false positives cap what more samples can buy, and unsolvable problems are answered wrongly.
The best k maximises value·accuracy - wrong_cost·P(wrong answer accepted) - sample_cost·E[samples drawn].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ScalingLawsError
from ..fitting.interval import check_level
from ..records import format_of
from ..render.table import Tabular

QUADRATURE = 2000  # quantile midpoints of the fitted Beta for expectations without a closed form


def pass_at_k(n, c, k) -> np.ndarray:
    """Unbiased pass@k per problem (Chen et al. 2021): (problems, len(k)); NaN where k > n."""
    n = np.asarray(n, dtype=float)[:, None]
    c = np.asarray(c, dtype=float)[:, None]
    k = np.atleast_1d(np.asarray(k, dtype=float))[None, :]
    from scipy.special import gammaln

    with np.errstate(all="ignore"):
        # C(n-c, k)/C(n, k) = Γ(n-c+1)Γ(n-k+1) / (Γ(n-c-k+1)Γ(n+1)), zero when k > n - c
        log_ratio = gammaln(n - c + 1) + gammaln(n - k + 1) - gammaln(n - c - k + 1) - gammaln(n + 1)
        out = np.where(n - c < k, 1.0, 1.0 - np.exp(log_ratio))
    return np.where(k > n, np.nan, out)


class _Likelihood:
    """Zero-inflated beta-binomial negative log-likelihood of K parameter rows u = (logit unsolvable, log a, log b),
    (K, 3), with per-row problem weights (K, P) (bootstrap counts) or shared ones; value and analytic gradient."""

    def __init__(self, n, c, weights):
        self.n, self.c, self.w = n[None, :], c[None, :], weights
        self.zero = self.c == 0

    def _parts(self, u, rows):
        from scipy.special import betaln, digamma, expit

        u = np.clip(u, -30.0, 30.0)
        pi0 = expit(u[:, 0:1])
        a, b = np.exp(u[:, 1:2]), np.exp(u[:, 2:3])
        n, c = self.n, self.c
        # the binomial coefficient does not depend on the parameters and is left out
        lbb = betaln(c + a, n - c + b) - betaln(a, b)
        e = np.exp(lbb)
        z = pi0 + (1 - pi0) * e
        w = self.w if self.w.ndim == 1 else self.w[rows]
        with np.errstate(divide="ignore"):
            ll = np.where(self.zero, np.log(z), np.log1p(-pi0) + lbb)
        return pi0, a, b, lbb, e, z, w, ll, (digamma, n, c)

    def value(self, u, rows=None):
        *_, w, ll, _ = self._parts(u, rows)
        f = -(w * ll).sum(axis=1)
        return np.where(np.isfinite(f), f, np.inf)

    def value_grad(self, u, rows=None):
        pi0, a, b, lbb, e, z, w, ll, (digamma, n, c) = self._parts(u, rows)
        dlbb_da = digamma(c + a) - digamma(n + a + b) - digamma(a) + digamma(a + b)
        dlbb_db = digamma(n - c + b) - digamma(n + a + b) - digamma(b) + digamma(a + b)
        d_u0 = np.where(self.zero, pi0 * (1 - pi0) * (1 - e) / z, -pi0)
        d_lbb = np.where(self.zero, (1 - pi0) * e / z, 1.0)
        g = -np.stack([(w * d_u0).sum(axis=1), (w * d_lbb * dlbb_da * a).sum(axis=1),
                       (w * d_lbb * dlbb_db * b).sum(axis=1)], axis=1)
        f = -(w * ll).sum(axis=1)
        bad = ~np.isfinite(f) | ~np.all(np.isfinite(g), axis=1)
        return np.where(bad, np.inf, f), np.where(bad[:, None], 0.0, g)


def _theta(u: np.ndarray) -> np.ndarray:
    from scipy.special import expit

    u = np.clip(np.atleast_2d(u), -30.0, 30.0)
    return np.column_stack([expit(u[:, 0]), np.exp(u[:, 1]), np.exp(u[:, 2])])


def fit_difficulty(n, c, *, bootstrap: int = 0, seed: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
    """(unsolvable, a, b) by maximum likelihood, and `bootstrap` refits on problems resampled with replacement.

    The likelihood is minimised by the engine's own minimisers (fitting.optimize): `search` over 48 random starts
    (successive halving by BFGS, since a likelihood has no residuals for Levenberg-Marquardt, then a polish), and
    `refine` for the bootstrap draws, each a row of one batch that starts from the point estimate with the
    likelihood's inverse Hessian there.
    """
    from ..fitting.bootstrap import inverse_hessian
    from ..fitting.optimize import refine, search

    n = np.asarray(n, dtype=float)
    c = np.asarray(c, dtype=float)
    rng = np.random.default_rng([seed, 5])
    starts = np.column_stack([rng.uniform(-4, 1, 48), rng.uniform(-3, 2, 48), rng.uniform(-2, 4, 48)])
    lik = _Likelihood(n, c, np.ones_like(n))
    found = search(lik, starts)
    best = found.u[found.best]
    draws = None
    if bootstrap:
        picks = rng.integers(0, len(n), size=(bootstrap, len(n)))
        weights = np.stack([np.bincount(row, minlength=len(n)) for row in picks]).astype(float)  # (B, P)
        boot = _Likelihood(n, c, weights)
        out = refine(boot, np.tile(best, (bootstrap, 1)), H0=inverse_hessian(lik, best), maxiter=500)
        draws = _theta(out.u)
    return _theta(best)[0], draws


def coverage(theta: np.ndarray, k: np.ndarray) -> np.ndarray:
    """(D, len(k)) coverage for D parameter rows (unsolvable, a, b), in closed form."""
    from scipy.special import betaln

    theta = np.atleast_2d(theta)
    pi0, a, b = theta[:, 0:1], theta[:, 1:2], theta[:, 2:3]
    k = np.asarray(k, dtype=float)[None, :]
    with np.errstate(all="ignore"):
        exact = betaln(a, b + k) - betaln(a, b)
        # a + b large (a Beta that is nearly a point mass at a/(a + b), as fits of problems of one difficulty give):
        # the difference of betaln's cancels catastrophically (coverage came out negative). There
        # log B(a, b+k)/B(a, b) = sum_j log1p(-a/(a+b+j)) over j < k, ≈ k·log1p(-a/(a+b+(k-1)/2)).
        near = k * np.log1p(-a / (a + b + (k - 1) / 2))
    return (1 - pi0) * -np.expm1(np.where(a + b > 1e6, near, exact))


def nodes(theta: np.ndarray) -> np.ndarray:
    """(D, M) quantile midpoints of each row's Beta(a, b): equal-weight nodes for expectations over p."""
    from scipy.stats import beta

    theta = np.atleast_2d(theta)
    u = (np.arange(QUADRATURE) + 0.5) / QUADRATURE
    return np.clip(beta.ppf(u[None, :], theta[:, 1:2], theta[:, 2:3]), 0.0, 1.0)


def verified(theta: np.ndarray, k: np.ndarray, fpr: float, tpr: float,
             p_nodes: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """(accuracy, wrong accepted, expected samples), each (D, len(k)), resampling until the verifier accepts.

    p_nodes: `nodes(theta)`, when already computed (they are the expensive part).
    """
    theta = np.atleast_2d(theta)
    p = (nodes(theta) if p_nodes is None else p_nodes)[..., None]  # (D, M, 1)
    kk = np.asarray(k, dtype=float)[None, None, :]
    r = p * tpr + (1 - p) * fpr  # acceptance rate per sample
    with np.errstate(divide="ignore", invalid="ignore"):
        stop = -np.expm1(kk * np.log1p(-np.minimum(r, 1.0)))  # P(some sample accepted within k)
        q = np.where(r > 0, p * tpr / r, 0.0)
        samples = np.where(r > 0, stop / r, kk)
    acc = (q * stop).mean(axis=1)
    wrong = ((1 - q) * stop).mean(axis=1)
    samples = samples.mean(axis=1)
    pi0 = theta[:, 0:1]
    # unsolvable problems: accepted only by mistake
    stop0 = -np.expm1(np.asarray(k, dtype=float)[None, :] * np.log1p(-fpr)) if fpr > 0 else 0.0 * acc
    samples0 = stop0 / fpr if fpr > 0 else np.broadcast_to(np.asarray(k, dtype=float), acc.shape)
    return ((1 - pi0) * acc, (1 - pi0) * wrong + pi0 * stop0, (1 - pi0) * samples + pi0 * samples0)


@dataclass(frozen=True, repr=False)
class TestTimeForecast(Tabular):
    problems: int
    samples: tuple[int, int]  # fewest and most samples per problem
    params: dict  # unsolvable, a, b
    intervals: dict  # each parameter's interval
    level: float
    fpr: float
    tpr: float
    observed: tuple[dict, ...]  # k, coverage (measured, k <= n)
    forecast: tuple[dict, ...]  # k, coverage, accuracy with the verifier, wrong, samples, utility, intervals
    ceiling: dict  # coverage and verified-accuracy limits as k grows, with intervals
    best: dict | None  # the k with the highest utility
    fit_error: float  # mean |fitted - measured coverage| over the measured k
    method: dict | None = None  # how the intervals were made

    __test__ = False  # not a pytest class, despite the name

    def to_dict(self) -> dict:
        return {"format": format_of("testtime"), "problems": self.problems, "samples": list(self.samples),
                "params": self.params,
                "intervals": self.intervals, "level": self.level, "verifier": {"fpr": self.fpr, "tpr": self.tpr},
                "observed": list(self.observed), "forecast": list(self.forecast), "ceiling": self.ceiling,
                "best": self.best, "fit_error": self.fit_error, "method": self.method}


def counts(runs, problem: str, samples: str | None, correct: str):
    """(samples drawn, samples correct) per problem, checked: whole numbers with 0 <= correct <= samples."""
    for col in [problem, correct] + ([samples] if samples else []):
        if col not in runs:
            raise ScalingLawsError(runs.missing_message(col, "Name the columns with --problem, --samples and "
                                                              "--correct"))
    ids = np.asarray(runs[problem]).astype(str)
    cor = np.asarray(runs[correct], dtype=float)
    if samples is None:  # one row per sample, correct in {0, 1}
        if not np.all(np.isin(cor, (0.0, 1.0))):
            raise ScalingLawsError(f"column '{correct}' must be 0 or 1 per sample (or give --samples with counts)")
        keys, inv = np.unique(ids, return_inverse=True)
        return np.bincount(inv).astype(float), np.bincount(inv, weights=cor)
    n = np.asarray(runs[samples], dtype=float)
    bad = np.flatnonzero(~(n >= 1) | ~(cor >= 0) | (cor > n) | (np.round(cor) != cor) | (np.round(n) != n))
    if bad.size:
        raise ScalingLawsError(f"{runs.locate(bad[0])}: '{correct}' must be a whole number between 0 and "
                               f"'{samples}' (got {cor[bad[0]]:g} of {n[bad[0]]:g})")
    keys, inv = np.unique(ids, return_inverse=True)
    return np.bincount(inv, weights=n), np.bincount(inv, weights=cor)


def forecast_testtime(data, *, problem: str = "problem", samples: str | None = "samples",
                      correct: str = "correct", k: Sequence[int] = (1, 10, 100, 1000, 10000), fpr: float = 0.0,
                      tpr: float = 1.0, value: float = 1.0, sample_cost: float = 0.0, wrong_cost: float = 0.0,
                      bootstrap: int = 200, level: float = 0.95, seed: int = 0, where: Sequence[str] = (),
                      rename=None) -> TestTimeForecast:
    """Fit the problems' difficulty, forecast coverage and verified accuracy at `k` samples, choose the best k."""
    from ..runs import read_runs

    level = check_level(level)
    if not 0 <= fpr < 1 or not 0 < tpr <= 1:
        raise ScalingLawsError(f"--fpr must be in [0, 1) and --tpr in (0, 1] (got fpr={fpr:g}, tpr={tpr:g})")
    ks = np.unique(np.asarray(list(k), dtype=float))
    if ks.size == 0 or ks.min() < 1:
        raise ScalingLawsError("--k must be whole numbers of samples, at least 1, e.g. --k 1,10,100")
    runs = read_runs(data, rename=rename, where=where, dedupe=False)  # one row per sample repeats legitimately
    n, c = counts(runs, problem, samples, correct)
    if len(n) < 5:
        raise ScalingLawsError(f"{runs.source} has {len(n)} problems: a difficulty distribution needs at least 5")
    if c.sum() == 0:
        raise ScalingLawsError(f"no sample of any problem in {runs.source} is correct: coverage is 0 and there is "
                               "nothing to extrapolate. Sample more, or use a stronger model")
    theta, draws = fit_difficulty(n, c, bootstrap=bootstrap, seed=seed)
    draws = theta[None] if draws is None else draws
    qlo, qhi = (1 - level) / 2, (1 + level) / 2
    names = ("unsolvable", "a", "b")
    intervals = {m: [float(v) for v in np.quantile(draws[:, j], [qlo, qhi])] for j, m in enumerate(names)}

    measured_k = np.unique(np.round(np.geomspace(1, n.min(), min(12, int(n.min())))).astype(int))
    cov_obs = np.nanmean(pass_at_k(n, c, measured_k), axis=0)
    cov_fit = coverage(theta, measured_k)[0]
    observed = tuple({"k": int(kk), "coverage": float(v), "fitted": float(f)}
                     for kk, v, f in zip(measured_k, cov_obs, cov_fit))

    all_theta = np.vstack([theta, draws])
    cov = coverage(all_theta, ks)
    p_nodes = nodes(all_theta)
    acc, wrong, used = verified(all_theta, ks, fpr, tpr, p_nodes)
    util = value * acc - wrong_cost * wrong - sample_cost * used

    def iv(arr):
        return np.quantile(arr[1:], [qlo, qhi], axis=0) if len(arr) > 1 else np.vstack([arr[0], arr[0]])

    rows = []
    cl, ch = iv(cov)
    al, ah = iv(acc)
    for j, kk in enumerate(ks):
        rows.append({"k": int(kk), "coverage": float(cov[0, j]), "coverage_lower": float(cl[j]),
                     "coverage_upper": float(ch[j]), "accuracy": float(acc[0, j]), "accuracy_lower": float(al[j]),
                     "accuracy_upper": float(ah[j]), "wrong": float(wrong[0, j]), "samples": float(used[0, j]),
                     "utility": float(util[0, j]), "beyond_data": bool(kk > n.min())})
    big = np.array([1e9])
    lim_cov = coverage(all_theta, big)[:, 0]
    lim_acc = verified(all_theta, big, fpr, tpr, p_nodes)[0][:, 0]
    ceiling = {"coverage": float(lim_cov[0]), "coverage_interval": [float(v) for v in iv(lim_cov[:, None])[:, 0]],
               "accuracy": float(lim_acc[0]), "accuracy_interval": [float(v) for v in iv(lim_acc[:, None])[:, 0]]}
    best = None
    if sample_cost > 0 or wrong_cost > 0:
        grid = np.unique(np.round(np.geomspace(1, max(ks.max(), 1e5), 400)))
        a_g, w_g, s_g = verified(theta, grid, fpr, tpr, p_nodes[:1])
        u_g = (value * a_g - wrong_cost * w_g - sample_cost * s_g)[0]
        j = int(np.argmax(u_g))
        best = {"k": int(grid[j]), "utility": float(u_g[j]), "accuracy": float(a_g[0, j]),
                "wrong": float(w_g[0, j]), "samples": float(s_g[0, j]), "searched_up_to": int(grid[-1])}
    return TestTimeForecast(problems=len(n), samples=(int(n.min()), int(n.max())),
                            params={m: float(v) for m, v in zip(names, theta)}, intervals=intervals, level=level,
                            fpr=fpr, tpr=tpr, observed=observed, forecast=tuple(rows), ceiling=ceiling, best=best,
                            fit_error=float(np.mean(np.abs(cov_fit - cov_obs))),
                            method=_method(len(all_theta) - 1, level))


def _method(draws: int, level: float) -> dict:
    """How the forecast's intervals were made: confidence intervals of expectations over problems."""
    source = (f"bootstrap over problems ({draws} draws), each refitted by maximum likelihood" if draws else
              "none: no bootstrap, so every bound equals the estimate")
    return {"level": level, "kind": "confidence", "parameters": {"source": source, "draws": draws},
            "noise": "none: coverage and accuracy are expectations over the problems",
            "model": {"source": "not included: the difficulty law is taken as true beyond the samples drawn"}}
