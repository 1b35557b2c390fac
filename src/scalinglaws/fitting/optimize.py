"""Batched BFGS: K independent minimisations advanced together, one numpy call per step for all of them.

Starts, bootstrap draws and refits are rows of a (K, P) array. Each row keeps its own inverse-Hessian estimate
(K, P, P), takes a quasi-Newton step with an Armijo backtracking line search (Nocedal & Wright 2006, alg. 6.1 and
3.1) and stops on its own; rows that have stopped drop out of the arithmetic. This is what makes thousands of
refits a matter of seconds instead of thousands of scipy calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

CONVERGED, STALLED, MAX_ITER, FAILED = 0, 1, 2, 3
STATUS = {CONVERGED: "converged", STALLED: "stalled", MAX_ITER: "iteration limit", FAILED: "non-finite objective"}


@dataclass
class BatchResult:
    u: np.ndarray  # (K, P) final points
    f: np.ndarray  # (K,) objective
    g: np.ndarray  # (K, P) gradient
    H: np.ndarray  # (K, P, P) inverse-Hessian estimates
    iterations: np.ndarray  # (K,)
    status: np.ndarray  # (K,) codes in STATUS

    @property
    def converged(self) -> np.ndarray:
        return self.status == CONVERGED


def minimize_batch(value: Callable, value_grad: Callable, u0: np.ndarray, *, H0: np.ndarray | None = None, maxiter: int = 1000, ftol: float = 1e-13, gtol: float = 1e-11,
                   max_step: float = 3.0, patience: int = 4) -> BatchResult:
    """Minimise K problems from the rows of u0.

    value(u, rows) -> (k,) and value_grad(u, rows) -> ((k,), (k, P)) evaluate any subset of the K rows; `rows`
    (k,) says which. A row stops as converged when its gradient is below gtol·(1 + |f|) or its objective
    has improved by less than ftol·(1 + |f|) for `patience` steps in a row, or when no step along any direction
    lowers it; it stops as stalled when the line search fails while the gradient is still large.
    """
    u = np.array(u0, dtype=float)
    K, P = u.shape

    f, g = value_grad(u, np.arange(K))
    eye = np.eye(P)
    if H0 is None:
        H = np.tile(eye, (K, 1, 1))
    else:
        H = np.array(np.broadcast_to(H0, (K, P, P)))  # one estimate for all rows, or one per row
    iters = np.zeros(K, dtype=int)
    status = np.full(K, MAX_ITER)
    quiet = np.zeros(K, dtype=int)  # consecutive steps with negligible improvement
    active = np.isfinite(f)
    status[~active] = FAILED

    for _ in range(maxiter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        gi, Hi, fi = g[idx], H[idx], f[idx]
        d = -np.einsum("kij,kj->ki", Hi, gi)
        slope = np.einsum("ki,ki->k", d, gi)
        uphill = ~(slope < 0)
        if uphill.any():  # the estimate lost positive definiteness: restart it along steepest descent
            H[idx[uphill]] = eye
            d[uphill] = -gi[uphill]
            slope[uphill] = -np.einsum("ki,ki->k", gi[uphill], gi[uphill])
        # nothing left to gain along d: the predicted decrease is at the objective's rounding level
        flat = -slope <= ftol * 1e-2 * (1.0 + np.abs(fi))
        if flat.any():
            status[idx[flat]] = CONVERGED
            active[idx[flat]] = False
            keep = ~flat
            idx, gi, fi, d, slope = idx[keep], gi[keep], fi[keep], d[keep], slope[keep]
            if idx.size == 0:
                break
        # cap the first trial so no coordinate moves more than max_step times its own size (at least 1): a guard
        # against wild steps that does not throttle a parameter that lives at 500 rather than 0.5
        room = max_step * np.maximum(1.0, np.abs(u[idx]))
        t = np.minimum(1.0, 1.0 / np.maximum((np.abs(d) / room).max(axis=1), 1e-300))
        # The first trial step is evaluated with its gradient: it is usually accepted, and then the gradient is
        # already in hand. Backtracking trials evaluate the objective only.
        f_new = np.full(idx.size, np.inf)
        g_new = np.zeros_like(gi)
        f_try, g_try = value_grad(u[idx] + t[:, None] * d, idx)
        ok = f_try <= fi + 1e-4 * t * slope
        f_new[ok], g_new[ok] = f_try[ok], g_try[ok]
        have_grad = ok.copy()
        pending = ~ok
        t[pending] *= 0.5
        for _ls in range(30):
            j = np.flatnonzero(pending)
            if j.size == 0:
                break
            trial = value(u[idx[j]] + t[j, None] * d[j], idx[j])
            ok = trial <= fi[j] + 1e-4 * t[j] * slope[j]
            f_new[j[ok]] = trial[ok]
            pending[j[ok]] = False
            t[j[~ok]] *= 0.5
        moved = ~pending
        iters[idx] += 1

        # rows where no step helped: converged if the gradient is negligible, otherwise restart once, then stall
        stuck = idx[~moved]
        if stuck.size:
            small = np.abs(g[stuck]).max(axis=1) <= 1e-6 * (1.0 + np.abs(f[stuck]))
            was_identity = np.all(np.abs(H[stuck] - eye) < 1e-15, axis=(1, 2))
            status[stuck[small]] = CONVERGED
            status[stuck[~small & was_identity]] = STALLED
            active[stuck[small | was_identity]] = False
            H[stuck[~small & ~was_identity]] = eye

        mi = idx[moved]
        if mi.size:
            s = t[moved, None] * d[moved]
            u_new = u[mi] + s
            f_m, g_m = f_new[moved], g_new[moved]
            late = ~have_grad[moved]
            if late.any():
                f_m[late], g_m[late] = value_grad(u_new[late], mi[late])
            y = g_m - g[mi]
            sy = np.einsum("ki,ki->k", s, y)
            upd = sy > 1e-300 * np.einsum("ki,ki->k", y, y)
            if upd.any():
                ii = np.flatnonzero(upd)
                rho = 1.0 / sy[ii]
                V = eye - rho[:, None, None] * s[ii, :, None] * y[ii, None, :]
                Hm = H[mi[ii]]
                first = iters[mi[ii]] == 1  # scale the first estimate (Nocedal & Wright eq. 6.20)
                if H0 is None and first.any():
                    Hm[first] = eye * (sy[ii][first] / np.einsum("ki,ki->k", y[ii][first], y[ii][first]))[:, None,
                                                                                                         None]
                H[mi[ii]] = V @ Hm @ V.transpose(0, 2, 1) + rho[:, None, None] * s[ii, :, None] * s[ii, None, :]
            gain = f[mi] - f_m
            u[mi], f[mi], g[mi] = u_new, f_m, g_m
            scale = 1.0 + np.abs(f_m)
            quiet[mi] = np.where(gain <= ftol * scale, quiet[mi] + 1, 0)
            done = (np.abs(g_m).max(axis=1) <= gtol * scale) | (quiet[mi] >= patience)
            status[mi[done]] = CONVERGED
            active[mi[done]] = False
            bad = ~np.isfinite(f_m)
            status[mi[bad]] = FAILED
            active[mi[bad]] = False
    return BatchResult(u=u, f=f, g=g, H=H, iterations=iters, status=status)


def minimize_lm(problem, u0: np.ndarray, *, maxiter: int = 200, ftol: float = 1e-10, patience: int = 3
                ) -> BatchResult:
    """Levenberg-Marquardt on the objective Σ w·ρ(r), K rows at once (Marquardt 1963; IRLS weights for robust ρ).

    Each step solves (Jᵀ W J + λ·diag(Jᵀ W J)) δ = -Jᵀ (w·ψ(r)) with W = w·ψ(r)/r, the weights under which a
    robust loss is majorised by a quadratic (Holland & Welsch 1977), so the model is exact for least squares and
    never too optimistic for Huber. λ shrinks after a successful step and grows after a failed one. Unlike BFGS
    it walks the long curved valleys of weakly identified laws (Farseer, Kaplan) without stalling.
    """
    u = np.array(u0, dtype=float)
    K, P = u.shape
    obj = problem.objective
    lam = np.full(K, 1e-3)
    f = problem.value(u, np.arange(K))
    iters = np.zeros(K, dtype=int)
    status = np.where(np.isfinite(f), MAX_ITER, FAILED)
    active = np.isfinite(f)
    quiet = np.zeros(K, dtype=int)
    g = np.zeros((K, P))
    eye = np.eye(P)
    for _ in range(maxiter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        with np.errstate(all="ignore"):
            r, J, w = problem.residuals_jacobian(u[idx], idx)
            rho, psi = obj.rho_psi(r)
            psi = w * psi
            safe = np.where(np.abs(r) < 1e-12, 1e-12, r)  # ψ(r)/r tends to ρ''(0) as r -> 0
            W = w * obj.rho_psi(safe)[1] / safe
            gi = np.einsum("kpn,kn->kp", J, psi)
            A = (J * W[:, None, :]) @ J.transpose(0, 2, 1)  # Jᵀ W J, (K, P, P), as one batched matmul
        g[idx] = gi
        diag = np.einsum("kpp->kp", A)
        scale = np.maximum(diag, 1e-12 * np.maximum(diag.max(axis=1, keepdims=True), 1e-300))
        fi = f[idx]
        accepted = np.zeros(idx.size, dtype=bool)
        f_new = fi.copy()
        for _inner in range(15):
            todo = np.flatnonzero(~accepted)
            if todo.size == 0:
                break
            M = A[todo] + lam[idx[todo], None, None] * scale[todo, :, None] * eye
            with np.errstate(all="ignore"):
                try:
                    step = -np.linalg.solve(M, gi[todo, :, None])[..., 0]
                except np.linalg.LinAlgError:
                    step = -gi[todo] / scale[todo]
            step = np.where(np.isfinite(step), step, 0.0)
            trial = problem.value(u[idx[todo]] + step, idx[todo])
            ok = trial < fi[todo]
            hit = todo[ok]
            u[idx[hit]] += step[ok]
            f_new[hit] = trial[ok]
            accepted[hit] = True
            lam[idx[hit]] = np.maximum(lam[idx[hit]] / 3.0, 1e-12)
            lam[idx[todo[~ok]]] *= 4.0
        iters[idx] += 1
        gain = fi - f_new
        f[idx] = f_new
        # relative to the objective itself: a zero-residual fit keeps going while each step still halves it
        quiet[idx] = np.where(gain <= ftol * np.abs(f_new), quiet[idx] + 1, 0)
        # converged: no progress for a while, or no step of any length helps (λ has grown past any use)
        stop = (quiet[idx] >= patience) | (~accepted & (lam[idx] > 1e10))
        status[idx[stop]] = CONVERGED
        active[idx[stop]] = False
    return BatchResult(u=u, f=f, g=g, H=np.tile(np.eye(P), (K, 1, 1)), iterations=iters, status=status)
