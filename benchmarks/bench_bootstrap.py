"""Speed and intervals of a 4,000-draw bootstrap of Chinchilla's law, against single-start BFGS refits, in one run.

Reference (written here): for each of 4,000 resamples of the 240 runs (with replacement), scipy's BFGS with an exact
analytic gradient of the Huber(δ=1e-3) log-residual objective, started from the full-data optimum; percentile
intervals of the refitted parameters. This is Epoch AI's bootstrap (Besiroglu et al. 2024), with the gradient
supplied rather than differenced, which makes each refit faster than theirs.

Ours: `scalinglaws fit dataset:chinchilla_epoch?epoch_excluded=false --law chinchilla --bootstrap 4000 --json`, the
whole process, timed with a wall clock.

    python benchmarks/bench_bootstrap.py               # 4,000 reference refits (about ten seconds)
    python benchmarks/bench_bootstrap.py --draws 1000  # fewer reference refits, timed and scaled to 4,000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np
from bench_fit import SOURCE, epoch_data
from scipy.optimize import minimize

EPOCH_ALPHA_CI = (0.317, 0.373)  # Besiroglu et al. 2024, 95% bootstrap interval of alpha


def objective_and_gradient(p, log_n, log_d, log_l, delta=1e-3):
    a, b, e, alpha, beta = p
    t1, t2 = a - alpha * log_n, b - beta * log_d
    m = np.maximum(np.maximum(t1, t2), e)
    s1, s2, s3 = np.exp(t1 - m), np.exp(t2 - m), np.exp(e - m)
    total = s1 + s2 + s3
    r = m + np.log(total) - log_l
    ar = np.abs(r)
    f = np.sum(np.where(ar <= delta, 0.5 * r * r, delta * (ar - 0.5 * delta)))
    psi = np.clip(r, -delta, delta)
    w1, w2, w3 = psi * s1 / total, psi * s2 / total, psi * s3 / total
    return f, np.array([w1.sum(), w2.sum(), w3.sum(), -(w1 * log_n).sum(), -(w2 * log_d).sum()])


def reference(draws: int, p0: np.ndarray):
    log_n, log_d, log_l = epoch_data()
    rng = np.random.default_rng(0)
    alphas = []
    t0 = time.perf_counter()
    for _ in range(draws):
        idx = rng.integers(0, len(log_l), len(log_l))
        res = minimize(objective_and_gradient, p0, args=(log_n[idx], log_d[idx], log_l[idx]), jac=True,
                       method="BFGS")
        alphas.append(res.x[3])
    return np.percentile(alphas, [2.5, 97.5]), time.perf_counter() - t0


def ours(repeats: int):
    times, rec = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "scalinglaws", "fit", SOURCE, "--law", "chinchilla",
                              "--bootstrap", "4000", "--json"], capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - t0)
        rec = json.loads(out.stdout)
    return rec, float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=4000, help="reference refits to time (scaled to 4,000)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of our command (median time)")
    args = parser.parse_args()

    rec, our_seconds = ours(args.repeats)
    p = rec["params"]
    p0 = np.array([np.log(p["A"]), np.log(p["B"]), np.log(p["E"]), p["alpha"], p["beta"]])
    ci, ref_seconds = reference(args.draws, p0)
    ref_full = ref_seconds * 4000 / args.draws
    print("Bootstrap of Chinchilla's law on Epoch AI's 240 points, 4,000 resamples")
    print(f"{'':40s} {'alpha 95% CI':>20s} {'seconds':>9s} {'ms/refit':>9s}")
    print(f"{'Epoch AI (published)':40s} {'[%.3f, %.3f]' % EPOCH_ALPHA_CI:>20s}")
    print(f"{'reference (%d BFGS refits, exact grad)' % args.draws:40s} {'[%.3f, %.3f]' % tuple(ci):>20s} "
          f"{ref_seconds:9.2f} {1000 * ref_seconds / args.draws:9.2f}")
    lo, hi = rec["ci"]["alpha"]
    print(f"{'scalinglaws --bootstrap 4000 (process)':40s} {'[%.3f, %.3f]' % (lo, hi):>20s} {our_seconds:9.3f} "
          f"{1000 * our_seconds / 4000:9.3f}")
    if args.draws < 4000:
        print(f"reference scaled to 4,000 refits: {ref_full:.1f} s")
    print(f"speed-up (reference at 4,000 refits / ours): {ref_full / our_seconds:.1f}x; "
          f"{rec['bootstrap']['failed']} of 4000 of our refits did not converge")


if __name__ == "__main__":
    main()
