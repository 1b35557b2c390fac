"""Time and peak memory of fits as tables grow, with the log-log slope of each, and start-up of `--version`.

Every measurement runs in a fresh process (peak memory is that process's maximum resident set), with BLAS pinned
to one thread (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS, MKL_NUM_THREADS = 1) for ours and for the reference alike:
on a busy two-core machine a threaded BLAS inflates whichever side calls it more.

- final points: a synthetic Chinchilla ladder (N in 1e7-1e10, D in 1e9-1e12, 1% noise), `fit(runs, "chinchilla")`;
- curve rows: training curves of `runs` runs with cosine schedules, `fit(runs, LAW)` for schedule and multipower;
- start-up: `python -m scalinglaws --version` against a bare `python -c pass` in the same run.

The reference is the same package at another commit: `--reference PATH` names the `src` folder of a checkout of
it (e.g. `git worktree add /tmp/old <commit>`, then `--reference /tmp/old/src`); its rows are timed alike, and
the ratios printed. Sizes the reference cannot finish in `--limit` seconds are reported as over the limit.

    python benchmarks/bench_scale.py                          # ours: 1e3 ... 1e6 final points, curves to 1e5
    python benchmarks/bench_scale.py --reference /tmp/old/src --max-rows 1e5
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parents[1] / "src"
PINNED = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

CHILD = r"""
import json, resource, sys, time, warnings
import numpy as np
sys.path.insert(0, sys.argv[1])
kind, n = sys.argv[2], int(float(sys.argv[3]))
rng = np.random.default_rng(0)
if kind == "final":
    N = 10 ** rng.uniform(7, 10, n); D = 10 ** rng.uniform(9, 12, n)
    loss = (1.8 + 480 * N ** -0.34 + 2100 * D ** -0.37) * np.exp(rng.normal(0, 0.01, n))
    runs = {"run": np.array([f"r{i}" for i in range(n)], dtype=object), "params": N, "tokens": D, "loss": loss}
    law = "chinchilla"
else:
    steps = 1000 if n >= 10000 else 100
    n_runs = max(2, n // steps)
    t = np.tile(np.arange(1, steps + 1, dtype=float), n_runs)
    peak = np.repeat(10 ** rng.uniform(-3.5, -2.5, n_runs), steps)
    lr = peak * 0.5 * (1 + np.cos(np.pi * t / steps))
    s1 = np.concatenate([np.cumsum(lr[i * steps:(i + 1) * steps]) for i in range(n_runs)])
    loss = 2.0 + 3.0 * (s1 * 1e3) ** -0.4 * np.exp(rng.normal(0, 0.005, len(t)))
    runs = {"run": np.repeat([f"r{i}" for i in range(n_runs)], steps).astype(object), "step": t, "lr": lr,
            "loss": loss}
    law = kind
from scalinglaws import fit
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    start = time.perf_counter()
    f = fit(runs, law)
    seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "objective": f.objective, "converged": f.converged}))
"""


def measure(src: str, kind: str, rows: float, limit: float) -> dict | None:
    env = {**os.environ, **PINNED}
    try:
        done = subprocess.run([sys.executable, "-c", CHILD, src, kind, str(rows)], capture_output=True, text=True,
                              env=env, timeout=limit)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def slope(xs, ys) -> float:
    ok = [(x, y) for x, y in zip(xs, ys) if y]
    if len(ok) < 2:
        return float("nan")
    lx, ly = np.log([x for x, _ in ok]), np.log([y for _, y in ok])
    return float(np.polyfit(lx, ly, 1)[0])


def startup(src: str, repeats: int = 15) -> tuple[float, float]:
    env = {**os.environ, **PINNED, "PYTHONPATH": src}

    def best(cmd) -> float:
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            subprocess.run(cmd, env=env, capture_output=True, check=True)
            times.append(time.perf_counter() - t)
        return min(times)

    return best([sys.executable, "-m", "scalinglaws", "--version"]), best([sys.executable, "-c", "pass"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", help="the src folder of the version to compare with")
    ap.add_argument("--max-rows", type=float, default=1e6, help="largest table of final points")
    ap.add_argument("--max-curve-rows", type=float, default=1e5, help="largest table of curve rows")
    ap.add_argument("--limit", type=float, default=600, help="seconds before a measurement counts as too slow")
    args = ap.parse_args()
    sides = [("ours", str(HERE))] + ([("reference", args.reference)] if args.reference else [])
    print("BLAS pinned to one thread in every process (OPENBLAS/OMP/MKL_NUM_THREADS=1)")
    for kind, top in (("final", args.max_rows), ("schedule", args.max_curve_rows),
                      ("multipower", args.max_curve_rows)):
        sizes = [s for s in (1e3, 1e4, 1e5, 1e6) if s <= top]
        print(f"\n{kind} ({'final points' if kind == 'final' else 'curve rows'})")
        print(f"{'rows':>9} " + " ".join(f"{name + ' s':>13} {name + ' MB':>13}" for name, _ in sides)
              + ("      time ratio" if len(sides) > 1 else ""))
        results = {name: [] for name, _ in sides}
        for rows in sizes:
            line = f"{rows:>9.0e} "
            for name, src in sides:
                r = measure(src, kind, rows, args.limit)
                results[name].append(r)
                line += (f"{r['seconds']:>13.2f} {r['peak_mb']:>13.0f} " if r else f"{'> limit':>13} {'':>13} ")
            if len(sides) > 1 and all(results[n][-1] for n, _ in sides):
                line += f"{results['reference'][-1]['seconds'] / results['ours'][-1]['seconds']:>12.1f}x"
            print(line)
        for name, _ in sides:
            secs = [r["seconds"] if r else None for r in results[name]]
            mem = [r["peak_mb"] if r else None for r in results[name]]
            print(f"  {name}: log-log slope of time {slope(sizes, secs):.2f}, of peak memory {slope(sizes, mem):.2f}")
    print("\nstart-up (best of 15)")
    for name, src in sides:
        version, bare = startup(src)
        print(f"  {name}: scalinglaws --version {version * 1e3:.0f} ms; bare python {bare * 1e3:.0f} ms; "
              f"difference {1e3 * (version - bare):.0f} ms")


if __name__ == "__main__":
    main()
