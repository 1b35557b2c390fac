"""Is a task's trend forecastable? Flags for tasks at chance, inverse scaling and non-monotone trends.

A sigmoid in loss assumes accuracy rises as scale grows. Some tasks do the opposite (inverse scaling: McKenzie et al.
2023, "Inverse Scaling: When Bigger Isn't Better") or rise and then fall, or fall and then rise (U-shaped scaling,
Wei et al. 2022 "Inverse scaling can become U-shaped"); a law fitted to them forecasts a trend that is not there. A
task that sits at chance over the whole ladder carries no trend at all. These checks run on the training rows before
any fit, on accuracy against log scale:

* bins: rows are split into up to 8 bins of equal count along the scale; each bin has a mean and a standard error;
* at chance: no bin mean exceeds chance by more than max(MARGIN, 2 standard errors);
* inverse: Spearman's rank correlation with scale is negative (one-sided p < ALPHA) and the last bin is
  significantly below the first;
* non-monotone: some bin is significantly above a later one (a drop after a rise) or below an earlier one in a
  declining trend, by more than 2 combined standard errors plus MARGIN.

Two scores of the bins' means y_1..y_k (in order of scale) say how the task scales, and route it to the forecast it
can support (`route`):

* breakthroughness B = I(y) / √median((y_(i+1) − y_i)²), with I(y) = sign(argmax − argmin)·(max y − min y): the
  net rise over a typical step (Srivastava et al. 2022, BIG-bench, appendix B, in the form their analysis code
  uses). A steady rise over k − 1 equal steps has B = k − 1; a rise made in one step has B far above it. B above
  BREAKTHROUGH·(k − 1) marks a breakthrough.
* smoothness S = I(y) / Σ|y_(i+1) − y_i|: the share of all movement between bins that is net progress, 1 for a
  monotone trend, near 0 for noise. (This is this package's own score: BIG-bench's linearity is a related measure
  whose exact equation is not used here.)

Routes: "loss link" (a rising trend: the two-step forecast of downstream.py), "repeated sampling" (at chance, flat
or breaking through: per-problem pass rates from many samples, `scalinglaws emergence`, can see what accuracy
cannot), "none" (inverse or non-monotone: no law forecasts it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MARGIN = 0.01  # accuracy points: differences smaller than this are never called a trend
ALPHA = 0.01
MAX_BINS = 8
BREAKTHROUGH = 2.0  # B above this many times the steady rise's marks a breakthrough


@dataclass(frozen=True)
class Trend:
    status: str  # "rising" (forecastable), "at chance", "inverse", "non-monotone", "flat", "too few"
    reason: str
    spearman: float
    p_value: float
    bins: tuple[tuple[float, float, float], ...]  # (median scale, mean, standard error) per bin

    @property
    def forecastable(self) -> bool:
        return self.status == "rising"

    @property
    def breakthroughness(self) -> float | None:
        return scores([b[1] for b in self.bins])[0]

    @property
    def smoothness(self) -> float | None:
        return scores([b[1] for b in self.bins])[1]

    @property
    def breakthrough(self) -> bool:
        b = self.breakthroughness
        return b is not None and self.status == "rising" and b > BREAKTHROUGH * (len(self.bins) - 1)

    @property
    def route(self) -> str:
        if self.status in ("inverse", "non-monotone", "too few"):
            return "none"
        if self.status in ("at chance", "flat") or self.breakthrough:
            return "repeated sampling"
        return "loss link"

    def to_dict(self) -> dict:
        return {"status": self.status, "reason": self.reason, "spearman": self.spearman, "p_value": self.p_value,
                "breakthroughness": self.breakthroughness, "smoothness": self.smoothness,
                "breakthrough": self.breakthrough, "route": self.route, "bins": [list(b) for b in self.bins]}


def scores(y) -> tuple[float | None, float | None]:
    """(breakthroughness, smoothness) of means in order of scale (see the module docstring); None for fewer than
    three means or no movement at all."""
    y = np.asarray(y, dtype=float)
    if len(y) < 3 or not np.all(np.isfinite(y)):
        return None, None
    d = np.diff(y)
    net = (1.0 if np.argmax(y) > np.argmin(y) else -1.0) * float(y.max() - y.min())
    typical = float(np.sqrt(np.median(d ** 2)))
    moved = float(np.abs(d).sum())
    if moved == 0:
        return None, None
    b = min(net / typical, 100.0) if typical > 0 else (100.0 if net > 0 else 0.0)
    return float(b), float(net / moved)


def _bins(scale: np.ndarray, y: np.ndarray):
    order = np.argsort(scale, kind="stable")
    k = int(min(MAX_BINS, max(2, len(y) // 4)))
    out = []
    for idx in np.array_split(order, k):
        v = y[idx]
        se = float(np.std(v, ddof=1) / np.sqrt(len(v))) if len(v) > 1 else float("inf")
        out.append((float(np.median(scale[idx])), float(np.mean(v)), se))
    return out


def _significant(a, b) -> bool:
    """Bin a's mean is above bin b's by more than noise."""
    return a[1] - b[1] > 2.0 * np.hypot(a[2], b[2]) + MARGIN


def spearman(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Spearman's rank correlation and its two-sided p-value (t approximation, ties given average ranks)."""
    from scipy.special import stdtr

    def ranks(v):
        order = np.argsort(v, kind="stable")
        r = np.empty(len(v))
        r[order] = np.arange(len(v), dtype=float)
        _, inv, counts = np.unique(v, return_inverse=True, return_counts=True)
        sums = np.bincount(inv, weights=r)
        return (sums / counts)[inv]

    rx, ry = ranks(x), ranks(y)
    if np.std(rx) == 0 or np.std(ry) == 0:
        return 0.0, 1.0
    rho = float(np.corrcoef(rx, ry)[0, 1])
    n = len(x)
    if abs(rho) >= 1 or n < 3:
        return rho, 0.0 if abs(rho) >= 1 else 1.0
    t = rho * np.sqrt((n - 2) / (1 - rho * rho))
    return rho, float(2 * stdtr(n - 2, -abs(t)))


def assess(scale: np.ndarray, y: np.ndarray, chance: float, task: str, axis: str = "flops") -> Trend:
    scale = np.asarray(scale, dtype=float)
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(scale) & np.isfinite(y)
    scale, y = scale[ok], y[ok]
    if len(y) < 4:
        return Trend("too few", f"{task}: {len(y)} usable rows; a trend needs at least 4", float("nan"),
                     float("nan"), ())
    bins = _bins(scale, y)
    rho, p_two = spearman(scale, y)
    p_down = p_two / 2 if rho < 0 else 1 - p_two / 2  # one-sided: accuracy falls with scale
    top = max(bins, key=lambda b: b[1])
    if all(b[1] <= chance + max(MARGIN, 2 * b[2]) for b in bins):
        return Trend("at chance", f"{task} stays within noise of chance ({chance:g}) at every scale (best bin mean "
                     f"{top[1]:.3f}): there is no trend to forecast", rho, p_two, tuple(bins))
    if p_down < ALPHA and _significant(bins[0], bins[-1]):
        return Trend("inverse", f"{task} gets worse with scale (Spearman ρ = {rho:.2f} against {axis}; "
                     f"{bins[0][1]:.3f} at the smallest scales, {bins[-1][1]:.3f} at the largest): inverse scaling "
                     "is not forecast", rho, p_two, tuple(bins))
    for i in range(1, len(bins) - 1):
        a, later = bins[i], bins[i + 1:]
        drop = next((b for b in later if _significant(a, b)), None)
        if drop is not None and _significant(a, bins[0]):  # rose, then fell
            return Trend("non-monotone", f"{task} rises to {a[1]:.3f} near {axis}≈{a[0]:.3g} and then falls to "
                         f"{drop[1]:.3f} near {axis}≈{drop[0]:.3g}: a non-monotone trend is not forecast", rho, p_two,
                         tuple(bins))
        rise = next((b for b in later if _significant(b, a)), None)
        if rise is not None and _significant(bins[0], a):  # fell, then rose (U-shaped)
            return Trend("non-monotone", f"{task} falls to {a[1]:.3f} near {axis}≈{a[0]:.3g} and then rises to "
                         f"{rise[1]:.3f} near {axis}≈{rise[0]:.3g} (U-shaped): a non-monotone trend is not forecast",
                         rho, p_two, tuple(bins))
    if rho <= 0 and not _significant(bins[-1], bins[0]):
        return Trend("at chance" if top[1] <= chance + 2 * MARGIN else "flat",
                     f"{task} shows no rising trend with scale (Spearman ρ = {rho:.2f} against {axis}): there is no "
                     "trend to forecast", rho, p_two, tuple(bins))
    return Trend("rising", f"{task} rises with scale (Spearman ρ = {rho:.2f} against {axis})", rho, p_two,
                 tuple(bins))
