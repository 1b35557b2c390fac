"""What a curve law reads from a run's whole schedule, computed once per fit so that each objective evaluation is
cheap arithmetic on precomputed arrays.

For every row (a checkpoint at step t of some run) and the run's per-step learning rate η_1..η_t:

  S1(t) = Σ_{τ≤t} η_τ                       forward area, warm-up included (Tissue et al. 2024; it is
                                            S1 + S_W of Luo et al. 2025)
  S2(t) = Σ_{i≤t} m_i,  m_i = λ·m_{i-1} + (η_{i-1} - η_i)   annealing area with momentum λ (Tissue 2024)
  the annealing drops of the Multi-Power Law (Luo 2025): LD(t) = B Σ_{k≤t} (η_{k-1}-η_k)·G(η_k^-γ·S_k(t)),
  S_k(t) = Σ_{τ=k}^{t} η_τ. The sum over k is compressed into at most `blocks` blocks per run, each holding
  an equal share of the run's total lr variation plus area after the peak (so blocks are short where the lr
  moves fast and where S_k(t) changes fast), each represented by its median-drop step. Per row that is
  three (blocks,) arrays: the drop w, log η and S_k(t) at the representative step.

The per-step schedule comes from the logged rows: linear between logged steps, and before the first logged step
a linear ramp from 0 at step 0 (a linear warm-up). Log step 0 when a run had no warm-up. Annealing terms start at
the run's peak learning rate, as Luo 2025's sum starts at the end of warm-up: the warm-up's rise is not negative
annealing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..runs import Runs
from ..runs.curves import RunCurve, split_runs

LAMBDA = 0.999  # Tissue et al. 2024 find 0.99-0.999 fits; 0.999 is their default
BLOCKS = 48  # drop blocks per run: the Multi-Power Law within 2.5e-4 nats of the step-by-step sum (tests check)
ETA_FLOOR = 1e-6  # fraction of the peak below which a learning rate counts as this floor (decay to zero)


def recursive_filter(x: np.ndarray, lam: float) -> np.ndarray:
    """m_i = λ·m_{i-1} + x_i (m_{-1} = 0), in numpy: within a block, m_{a+k} = λ^k·Σ_{j≤k} λ^{-j}·x_{a+j} (one cumsum),
    and each block starts from the last value of the one before. Blocks are short enough that λ^{-k} stays below
    2^20, so the cumsum loses no more than a few ulps; a schedule of a million steps is a few dozen blocks."""
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    if x.size == 0:
        return out
    if lam == 0.0:
        return x.copy()
    block = max(1, min(x.size, int(20 * np.log(2.0) / -np.log(abs(lam))) if abs(lam) < 1 else 1024))
    k = np.arange(block, dtype=float)
    grow, shrink = lam ** k, lam ** -k  # λ^k and λ^-k over one block
    carry = 0.0
    for a in range(0, x.size, block):
        n = min(block, x.size - a)
        seg = grow[:n] * np.cumsum(x[a:a + n] * shrink[:n]) + carry * lam * grow[:n]
        out[a:a + n] = seg
        carry = seg[-1]
    return out


@dataclass(frozen=True)
class Schedule1:
    """One run's per-step schedule: lr[τ] for τ = 0..T and S1 = Σ_{1..τ} lr, with the index of its peak."""

    lr: np.ndarray  # (T+1,)
    s1: np.ndarray  # (T+1,)
    peak: int

    @classmethod
    def from_curve(cls, curve: RunCurve) -> Schedule1:
        return cls.from_knots(curve.knots, curve.lr)

    @classmethod
    def from_knots(cls, knots: np.ndarray, lr: np.ndarray) -> Schedule1:
        knots, lr = np.asarray(knots, dtype=np.int64), np.asarray(lr, dtype=float)
        if knots[0] > 0:  # linear warm-up from 0 before the first logged step
            knots, lr = np.concatenate([[0], knots]), np.concatenate([[0.0], lr])
        grid = np.arange(int(knots[-1]) + 1)
        dense = np.interp(grid, knots, lr)
        return cls.from_dense(dense)

    @classmethod
    def from_dense(cls, dense: np.ndarray) -> Schedule1:
        dense = np.asarray(dense, dtype=float)
        s1 = np.concatenate([[0.0], np.cumsum(dense[1:])])
        return cls(lr=dense, s1=s1, peak=int(np.argmax(dense)))

    @property
    def drops(self) -> np.ndarray:
        """(T+1,) η_{k-1} - η_k for steps after the peak, 0 before."""
        d = np.zeros_like(self.lr)
        d[self.peak + 1:] = self.lr[self.peak:-1] - self.lr[self.peak + 1:]
        return d

    def momentum_area(self, lam: float = LAMBDA) -> np.ndarray:
        """(T+1,) S2 of Tissue et al. 2024: Σ_i m_i with m_i = λ m_{i-1} + Δ_i (a first-order recursive filter)."""
        return np.cumsum(recursive_filter(self.drops, lam))

    def drop_blocks(self, t: np.ndarray, blocks: int = BLOCKS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For rows at steps t (n,): the drop w, log η and S_k(t) of every block, each (n, blocks)."""
        n = len(t)
        w, leta, sk = np.zeros((n, blocks)), np.zeros((n, blocks)), np.ones((n, blocks))
        lr, s1, p = self.lr, self.s1, self.peak
        T = len(lr) - 1
        d = self.drops
        var = np.cumsum(np.abs(d))  # (T+1,) cumulative variation; 0 up to the peak
        if T <= p or var[-1] <= 1e-12 * lr[p]:
            return w, leta, sk
        area = s1 - s1[p]
        measure = var / var[-1] + np.where(np.arange(T + 1) >= p, area, 0.0) / max(area[-1], 1e-300)
        edges = np.searchsorted(measure, np.linspace(0.0, 2.0, blocks + 1)[1:-1], side="left")
        edges = np.unique(np.clip(np.concatenate([[p], edges, [T]]), p, T))  # block b holds steps (a_b, c_b]
        a, c = edges[:-1], edges[1:]
        tt = np.asarray(t, dtype=np.int64)[:, None]  # (n, 1)
        e = np.minimum(c[None, :], tt)  # (n, nb): last step of each block that row t has seen
        seen = tt > a[None, :]
        e = np.where(seen, e, a[None, :])
        v0, v1 = var[a][None, :], var[e]
        live = seen & (v1 - v0 > 1e-12 * lr[p])
        k = np.searchsorted(var, 0.5 * (v0 + v1), side="left")  # median-drop step of the seen part
        k = np.clip(k, a[None, :] + 1, np.maximum(e, a[None, :] + 1))
        k = np.minimum(k, T)
        floor = ETA_FLOOR * lr[p]
        nb = len(a)
        w[:, :nb] = np.where(live, lr[a][None, :] - lr[e], 0.0)
        leta[:, :nb] = np.where(live, np.log(np.maximum(lr[k], floor)), 0.0)
        skv = s1[np.minimum(tt, T)] - s1[k - 1]
        sk[:, :nb] = np.where(live, np.maximum(skv, floor), 1.0)
        return w, leta, sk


def schedules_of(runs: Runs, binding: Mapping[str, str]) -> list[tuple[RunCurve, Schedule1]]:
    return [(c, Schedule1.from_curve(c)) for c in split_runs(runs, binding)]


def curve_features(runs: Runs, binding: Mapping[str, str], *, momentum: bool = False, drops: bool = False,
                   lam: float = LAMBDA, blocks: int = BLOCKS, extra: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Per-row features of a curve table, in the table's row order.

    Always S1 (n,); with momentum=True S2 (n,); with drops=True the blocks w, leta, sk (n, blocks) of the
    Multi-Power Law. `extra` names further law symbols read straight from their bound columns (e.g. N).
    """
    n = len(runs)
    out = {"S1": np.empty(n)}
    if momentum:
        out["S2"] = np.empty(n)
    if drops:
        out["w"], out["leta"], out["sk"] = np.zeros((n, blocks)), np.zeros((n, blocks)), np.ones((n, blocks))
    for curve, sched in schedules_of(runs, binding):
        t = curve.steps
        # at step 0 the forward area is 0, where the power term is infinite: a floor keeps predictions finite
        out["S1"][curve.rows] = np.maximum(sched.s1[t], ETA_FLOOR * sched.lr[sched.peak])
        if momentum:
            out["S2"][curve.rows] = sched.momentum_area(lam)[t]
        if drops:
            w, leta, sk = sched.drop_blocks(t, blocks)
            out["w"][curve.rows], out["leta"][curve.rows], out["sk"][curve.rows] = w, leta, sk
    for sym in extra:
        out[sym] = np.asarray(runs[binding[sym]], dtype=float)
    return out


def exact_drop_sum(sched: Schedule1, t: int, C: float, beta: float, gamma: float) -> float:
    """Σ_{k≤t} (η_{k-1}-η_k)·G(η_k^-γ·S_k(t)) summed step by step (the reference the blocks approximate)."""
    d = sched.drops[1:t + 1]
    k = np.arange(1, t + 1)
    eta = np.maximum(sched.lr[k], ETA_FLOOR * sched.lr[sched.peak])
    sk = sched.s1[t] - sched.s1[k - 1]
    return float(np.sum(d * (1 - (C * eta ** -gamma * sk + 1) ** -beta)))
