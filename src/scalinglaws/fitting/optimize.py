"""The engine's minimisers: batched BFGS, batched Levenberg-Marquardt, and the two ways the engine composes them.

Starts, bootstrap draws and refits are rows of a (K, P) array, advanced together, one numpy call per step for all
of them; rows that have stopped drop out of the arithmetic. This is what makes thousands of refits a matter of
seconds instead of thousands of scipy calls.

minimize_batch  BFGS: each row keeps its own inverse-Hessian estimate (K, P, P) and takes a quasi-Newton step with
                an Armijo backtracking line search (Nocedal & Wright 2006, alg. 6.1 and 3.1).
minimize_lm     Levenberg-Marquardt with IRLS weights, for objectives made of residuals (a Problem).
search          many starts of one objective: successive halving (the best 32 starts get 30 iterations, the best
                8 of those 200 more, the best 2 up to 1,000), by Levenberg-Marquardt then a BFGS polish of the
                survivors when the objective has residuals, by BFGS alone otherwise.
refine          many independent objectives, one per row (bootstrap draws), each from its own start: BFGS, and for
                rows it cannot finish a Levenberg-Marquardt restart (residual objectives) before BFGS again.

An objective is anything with value(u, rows) -> (k,) and value_grad(u, rows) -> ((k,), (k, P)); `rows` says which
data rows the k parameter rows belong to. Objectives with residuals also have `objective` (an Objective) and
residuals_jacobian(u, rows) -> (r (k, n), ∂r/∂u (k, P, n), weights).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

CONVERGED, STALLED, MAX_ITER, FAILED = 0, 1, 2, 3
PRUNED = -1  # status of a start dropped by successive halving before it converged
STATUS = {CONVERGED: "converged", STALLED: "stalled", MAX_ITER: "iteration limit", FAILED: "non-finite objective"}
ROUNDS = ((32, 30), (8, 200), (2, 1000))  # (starts kept, iterations) per halving round of `search`
TRIAL_ELEMENTS = 2048  # points × data rows of one evaluation that tries several steps of a few starts at once
HALVES = 0.5 ** np.arange(31)  # BFGS line-search step factors
FOURS = 4.0 ** np.arange(16)  # Levenberg-Marquardt damping factors


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


def minimize_batch(value: Callable, value_grad: Callable, u0: np.ndarray, *, H0: np.ndarray | None = None,
                   maxiter: int = 1000, ftol: float = 1e-13, gtol: float = 1e-11,
                   max_step: float = 3.0, patience: int = 4, batch_rows: int = 0) -> BatchResult:
    """Minimise K problems from the rows of u0.

    value(u, rows) -> (k,) and value_grad(u, rows) -> ((k,), (k, P)) evaluate any subset of the K rows; `rows`
    (k,) says which. A row stops as converged when its gradient is below gtol·(1 + |f|) or its objective
    has improved by less than ftol·(1 + |f|) for `patience` steps in a row, or when no step along any direction
    lowers it; it stops as stalled when the line search fails while the gradient is still large.

    batch_rows: how many points one evaluation may hold when the K rows share their data (a multi-start search):
    the line search then tries several step lengths of a row in one call, which for a few rows costs what one
    trial does. 0: one trial per call, as for per-row data, where `rows` must not repeat.
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
        f_try, g_try = value_grad(u[idx] + t[:, None] * d, idx)
        ok = f_try <= fi + 1e-4 * t * slope
        have_grad = ok
        pending = ~ok
        if ok.all():  # the usual case: every first trial accepted, nothing to search
            f_new, g_new = f_try, g_try
        else:
            f_new = np.where(ok, f_try, np.inf)
            g_new = np.where(ok[:, None], g_try, 0.0)
            t[pending] *= 0.5
        tried = 0
        while tried < 30 and not have_grad.all():
            j = np.flatnonzero(pending)
            if j.size == 0:
                break
            # the next m step lengths t, t/2, ... of every pending row in one evaluation (halving is exact, so the
            # trials and the first one accepted are those of trying them one at a time)
            m = min(30 - tried, max(1, batch_rows // j.size)) if batch_rows else 1
            ts = t[j, None] * HALVES[:m]  # (j, m)
            trial = value((u[idx[j], None, :] + ts[:, :, None] * d[j, None, :]).reshape(-1, P),
                          np.repeat(idx[j], m)).reshape(j.size, m)
            ok = trial <= fi[j, None] + 1e-4 * ts * slope[j, None]
            hit = ok.any(axis=1)
            first = ok.argmax(axis=1)[hit]
            f_new[j[hit]] = trial[hit, first]
            t[j[hit]] = ts[hit, first]
            pending[j[hit]] = False
            t[j[~hit]] *= HALVES[m]
            tried += m
        moved = ~pending
        iters[idx] += 1
        every = moved.all()

        # rows where no step helped: converged if the gradient is negligible, otherwise restart once, then stall
        stuck = idx[pending]
        if not every:
            small = np.abs(g[stuck]).max(axis=1) <= 1e-6 * (1.0 + np.abs(f[stuck]))
            was_identity = np.all(np.abs(H[stuck] - eye) < 1e-15, axis=(1, 2))
            status[stuck[small]] = CONVERGED
            status[stuck[~small & was_identity]] = STALLED
            active[stuck[small | was_identity]] = False
            H[stuck[~small & ~was_identity]] = eye

        mi = idx if every else idx[moved]
        if mi.size:
            if every:  # (f_new and g_new are not read again: they may be updated in place)
                s, f_m, g_m, late = t[:, None] * d, f_new, g_new, ~have_grad
            else:
                s, f_m, g_m, late = t[moved, None] * d[moved], f_new[moved], g_new[moved], ~have_grad[moved]
            u_new = u[mi] + s
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
            if done.any():
                status[mi[done]] = CONVERGED
                active[mi[done]] = False
            bad = ~np.isfinite(f_m)
            if bad.any():
                status[mi[bad]] = FAILED
                active[mi[bad]] = False
    return BatchResult(u=u, f=f, g=g, H=H, iterations=iters, status=status)


def minimize_lm(problem, u0: np.ndarray, *, maxiter: int = 200, ftol: float = 1e-10, patience: int = 3,
                batch_rows: int = 0) -> BatchResult:
    """Levenberg-Marquardt on the objective Σ w·ρ(r), K rows at once (Marquardt 1963; IRLS weights for robust ρ).

    Each step solves (Jᵀ W J + λ·diag(Jᵀ W J)) δ = -Jᵀ (w·ψ(r)) with W = w·ψ(r)/r, the weights under which a
    robust loss is majorised by a quadratic (Holland & Welsch 1977), so the model is exact for least squares and
    never too optimistic for Huber. λ shrinks after a successful step and grows after a failed one. Unlike BFGS
    it walks the long curved valleys of weakly identified laws (Farseer, Kaplan) without stalling.

    batch_rows: as for minimize_batch, for rows that share their data: several damping values of a row are tried in
    one call.
    """
    rows_per_call = batch_rows
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
            psi = w * obj.psi(r)
            safe = np.where(np.abs(r) < 1e-12, 1e-12, r)  # ψ(r)/r tends to ρ''(0) as r -> 0
            W = w * obj.psi(safe) / safe
            gi = np.einsum("kpn,kn->kp", J, psi)
            A = (J * W[:, None, :]) @ J.transpose(0, 2, 1)  # Jᵀ W J, (K, P, P), as one batched matmul
        g[idx] = gi
        diag = np.einsum("kpp->kp", A)
        scale = np.maximum(diag, 1e-12 * np.maximum(diag.max(axis=1, keepdims=True), 1e-300))
        fi = f[idx]
        accepted = np.zeros(idx.size, dtype=bool)
        f_new = fi.copy()
        tried = 0
        while tried < 15:
            todo = np.flatnonzero(~accepted)
            if todo.size == 0:
                break
            # the next m damping values λ, 4λ, ... of every row not yet accepted in one solve and one evaluation
            # (scaling by 4 is exact, so the trials and the first one accepted are those of one at a time)
            m = min(15 - tried, max(1, batch_rows // todo.size)) if batch_rows else 1
            lam_k = lam[idx[todo], None] * FOURS[:m]  # (todo, m)
            M = A[todo, None] + lam_k[:, :, None, None] * scale[todo, None, :, None] * eye
            with np.errstate(all="ignore"):
                try:
                    step = -np.linalg.solve(M, np.broadcast_to(gi[todo, None, :, None], M.shape[:3] + (1,)))[..., 0]
                except np.linalg.LinAlgError:
                    if m > 1:  # a singular system somewhere in the batch: this trial alone, as the batch would not
                        batch_rows = 0  # have been tried
                        continue
                    step = -gi[todo, None] / scale[todo, None]
            step = np.where(np.isfinite(step), step, 0.0)  # (todo, m, P)
            trial = problem.value((u[idx[todo], None, :] + step).reshape(-1, P),
                                  np.repeat(idx[todo], m)).reshape(todo.size, m)
            ok = trial < fi[todo, None]
            took = ok.any(axis=1)
            first = ok.argmax(axis=1)[took]
            hit = todo[took]
            u[idx[hit]] += step[took, first]
            f_new[hit] = trial[took, first]
            accepted[hit] = True
            lam[idx[hit]] = np.maximum(lam_k[took, first] / 3.0, 1e-12)
            tried += m
            if hit.size == todo.size:
                break
            lam[idx[todo[~took]]] *= FOURS[m]
        batch_rows = rows_per_call
        iters[idx] += 1
        gain = fi - f_new
        f[idx] = f_new
        # relative to the objective itself: a zero-residual fit keeps going while each step still halves it
        quiet[idx] = np.where(gain <= ftol * np.abs(f_new), quiet[idx] + 1, 0)
        # converged: no progress for a while, or no step of any length helps (λ has grown past any use)
        stop = (quiet[idx] >= patience) | (~accepted & (lam[idx] > 1e10))
        if stop.any():
            status[idx[stop]] = CONVERGED
            active[idx[stop]] = False
    return BatchResult(u=u, f=f, g=g, H=np.tile(np.eye(P), (K, 1, 1)), iterations=iters, status=status)


@dataclass
class Search:
    u: np.ndarray  # (K, P) where every start ended
    f: np.ndarray  # (K,) its objective (NaN for a start pruned before it was refined)
    status: np.ndarray  # (K,) codes in STATUS, or PRUNED
    H: np.ndarray  # (K, P, P) BFGS inverse-Hessian estimates of the polished starts (identity for the others)
    best: int  # the row with the lowest objective


def _has_residuals(objective) -> bool:
    return hasattr(objective, "residuals_jacobian") and hasattr(objective, "objective")


def search(objective, u0: np.ndarray, *, rounds=ROUNDS) -> Search:
    """Minimise one objective from K starts u0 (K, P) and keep the best: the engine's global search.

    The objective's data are shared by every row (each row is a start, not a data set). Starts beyond the first
    round's quota are pruned by their starting value. Each round keeps the best starts of the last and refines
    them further; rounds stop early once every survivor has stopped on its own. An objective with residuals is
    refined by Levenberg-Marquardt, which walks the curved valleys of weakly identified laws; its IRLS model
    converges only linearly on a robust loss, so a BFGS polish follows, and a start counts as converged if either
    method stopped for lack of progress rather than for a limit. Any other objective (a likelihood) is refined by
    BFGS throughout.
    """
    u = np.array(u0, dtype=float)
    K = len(u)
    lm = _has_residuals(objective)
    n = getattr(objective, "n", None)  # data rows per point: the work of one trial
    batch = TRIAL_ELEMENTS // n if isinstance(n, int) and n > 0 else 0
    alive = np.arange(K)  # rows of u still in the race
    if K > rounds[0][0]:
        f0 = objective.value(u, alive)
        alive = np.sort(np.argsort(np.where(np.isfinite(f0), f0, np.inf), kind="stable")[: rounds[0][0]])
    final_f = np.full(K, np.nan)
    final_status = np.full(K, PRUNED)
    for keep, iters in rounds:
        if len(alive) > keep:
            ranked = alive[np.argsort(final_f[alive])][:keep] if np.isfinite(final_f[alive]).any() else alive[:keep]
            alive = np.sort(ranked)
        if lm:
            res = minimize_lm(objective, u[alive], maxiter=iters, batch_rows=batch)
        else:
            res = minimize_batch(objective.value, objective.value_grad, u[alive], maxiter=iters, batch_rows=batch)
        u[alive], final_f[alive], final_status[alive] = res.u, res.f, res.status
        if np.all(res.status != MAX_ITER):  # every survivor has stopped: no later round can change the outcome
            break
    if lm:  # the polish: BFGS to the exact optimum from where Levenberg-Marquardt stopped
        res = minimize_batch(objective.value, objective.value_grad, u[alive], maxiter=3000, ftol=1e-20,
                             gtol=1e-16, patience=8, batch_rows=batch)
        better = res.f <= final_f[alive]
        u[alive[better]], final_f[alive[better]] = res.u[better], res.f[better]
        either = (res.status == CONVERGED) | (final_status[alive] == CONVERGED)
        final_status[alive] = np.where(either, CONVERGED, np.where(better, res.status, final_status[alive]))
    H = np.tile(np.eye(u.shape[1]), (K, 1, 1))
    H[alive] = res.H
    pruned = np.setdiff1d(np.arange(K), alive)
    final_status[pruned[final_status[pruned] == MAX_ITER]] = PRUNED
    best = int(np.nanargmin(final_f)) if np.isfinite(final_f).any() else 0
    return Search(u=u, f=final_f, status=final_status, H=H, best=best)


class _Rows:
    """Some data rows of a batched objective, renumbered from 0: a second pass over the rows that need one."""

    def __init__(self, objective, rows: np.ndarray):
        self.base, self.rows = objective, np.asarray(rows)

    def value(self, u, rows=None):
        return self.base.value(u, self.rows if rows is None else self.rows[rows])

    def value_grad(self, u, rows=None):
        return self.base.value_grad(u, self.rows if rows is None else self.rows[rows])


def refine(objective, u0: np.ndarray, *, H0: np.ndarray | None = None, maxiter: int = 300) -> BatchResult:
    """Minimise K independent objectives, row k of the objective's data from u0[k]: bootstrap draws and refits.

    BFGS with the inverse-Hessian estimate H0 (one for all rows, e.g. at the point estimate the draws start from).
    Rows it could not finish (a curved valley, e.g. raw-scale coefficients of a formula law) are restarted: with
    Levenberg-Marquardt, which follows such valleys, when the objective has residuals, then by BFGS to converge
    exactly; the restart replaces a row only where it ends lower.
    """
    u0 = np.asarray(u0, dtype=float)
    res = minimize_batch(objective.value, objective.value_grad, u0, H0=H0, maxiter=maxiter)
    stuck = np.flatnonzero(res.status != CONVERGED)
    if stuck.size:
        if _has_residuals(objective) and hasattr(objective, "per_row_subset"):
            rescue = objective.per_row_subset(stuck)
            start = minimize_lm(rescue, u0[stuck], maxiter=50).u
        else:
            rescue, start = _Rows(objective, stuck), res.u[stuck]
        again = minimize_batch(rescue.value, rescue.value_grad, start, H0=H0, maxiter=2000)
        better = again.f <= res.f[stuck]
        res.u[stuck[better]] = again.u[better]
        res.f[stuck[better]] = again.f[better]
        res.status[stuck[better]] = again.status[better]
    return res
