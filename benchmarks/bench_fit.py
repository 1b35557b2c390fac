"""Speed and quality of a full fit of Chinchilla's law, against Epoch AI's replication method, in one run.

Reference (written here, after Besiroglu et al. 2024): Huber(δ=1e-3) on log residuals in the log-sum-exp
parametrisation (a = log A, b = log B, e = log E, alpha, beta); scipy's L-BFGS-B with its default finite-difference
gradient from every point of the 4,500-start grid alpha, beta ∈ {0, 0.5, …, 2}, e ∈ {-1, -0.5, …, 1},
a, b ∈ {0, 5, …, 25}; the best result wins.

Ours: `scalinglaws fit dataset:chinchilla_epoch?epoch_excluded=false --law chinchilla --json` as a whole process
(interpreter start, imports, reading the data, the fit, JSON out), timed with a wall clock.

    python benchmarks/bench_fit.py              # the full 4,500-start reference (about a minute)
    python benchmarks/bench_fit.py --grid 900   # a subsample of the grid, timed, and scaled up to 4,500
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import time

import numpy as np
from scipy.optimize import minimize

SOURCE = "dataset:chinchilla_epoch?epoch_excluded=false"


def epoch_data():
    from scalinglaws.demo import epoch_runs

    runs = epoch_runs()
    return np.log(runs["params"]), np.log(runs["tokens"]), np.log(runs["loss"])


def huber_objective(p, log_n, log_d, log_l, delta=1e-3):
    a, b, e, alpha, beta = p
    pred = np.logaddexp(np.logaddexp(a - alpha * log_n, b - beta * log_d), e)
    r = np.abs(log_l - pred)
    return np.sum(np.where(r <= delta, 0.5 * r * r, delta * (r - 0.5 * delta)))


def reference_fit(grid_size: int):
    log_n, log_d, log_l = epoch_data()
    grid = list(itertools.product(np.arange(0, 2.5, 0.5), np.arange(0, 2.5, 0.5), np.arange(-1, 1.5, 0.5),
                                  np.arange(0, 30, 5), np.arange(0, 30, 5)))
    if grid_size < len(grid):
        keep = np.random.default_rng(0).choice(len(grid), grid_size, replace=False)
        grid = [grid[i] for i in sorted(keep)]
    best = None
    t0 = time.perf_counter()
    for alpha, beta, e, a, b in grid:
        res = minimize(huber_objective, [a, b, e, alpha, beta], args=(log_n, log_d, log_l), method="L-BFGS-B")
        if best is None or res.fun < best.fun:
            best = res
    seconds = time.perf_counter() - t0
    return best, seconds, len(grid)


def ours(repeats: int):
    times, rec = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "scalinglaws", "fit", SOURCE, "--law", "chinchilla", "--json"],
                             capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - t0)
        rec = json.loads(out.stdout)
    return rec, float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=int, default=4500, help="reference starts to time (scaled to 4,500)")
    parser.add_argument("--repeats", type=int, default=5, help="runs of our command (median time)")
    args = parser.parse_args()

    rec, our_seconds = ours(args.repeats)
    best, ref_seconds, n_starts = reference_fit(args.grid)
    ref_full = ref_seconds * 4500 / n_starts
    a, b, e, alpha, beta = best.x
    print("Chinchilla law on Epoch AI's 240 points, Huber δ=1e-3 on log residuals")
    print(f"{'':32s} {'objective':>22s} {'E':>8s} {'A':>8s} {'B':>8s} {'alpha':>8s} {'beta':>8s} {'seconds':>9s}")
    print(f"{'reference (' + str(n_starts) + ' L-BFGS-B starts)':32s} {best.fun:22.16g} {np.exp(e):8.4f} "
          f"{np.exp(a):8.1f} {np.exp(b):8.1f} {alpha:8.5f} {beta:8.5f} {ref_seconds:9.2f}")
    p = rec["params"]
    print(f"{'scalinglaws fit (whole process)':32s} {rec['objective']:22.16g} {p['E']:8.4f} {p['A']:8.1f} "
          f"{p['B']:8.1f} {p['alpha']:8.5f} {p['beta']:8.5f} {our_seconds:9.3f}")
    if n_starts < 4500:
        print(f"reference scaled to the full 4,500-start grid: {ref_full:.1f} s")
    print(f"speed-up (reference at 4,500 starts / ours): {ref_full / our_seconds:.0f}x")
    print(f"objective: ours {'<=' if rec['objective'] <= best.fun else '>'} reference "
          f"(difference {rec['objective'] - best.fun:+.3g})")


if __name__ == "__main__":
    main()
