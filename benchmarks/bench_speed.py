"""Old against new in the same run: the three timings the speed work aims at, with the ratio of each.

- `scalinglaws backtest dataset:chinchilla_epoch --law all --cuts 2`, the whole process (CPU seconds of the child,
  which a busy machine inflates less than wall seconds; both printed), best of `--repeats`;
- `fit(runs, "multipower")` at 100,000 curve rows (bench_scale.py's synthetic cosine curves), target < 60 s;
- `python -m scalinglaws --version` start-up, best of 15, against a bare `python -c pass`; target < 50 ms.

Each side runs from its own `src` folder (`--reference PATH`, e.g. `git worktree add /tmp/old main` and
`--reference /tmp/old/src`), in fresh processes with BLAS pinned to one thread, the two sides alternating so that
the machine's load falls on both alike. The fitted objectives are printed beside the times: they should agree.

    python benchmarks/bench_speed.py --reference /tmp/old/src
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time

from bench_scale import HERE, PINNED, measure, startup


def backtest_seconds(src: str) -> tuple[float, float, str]:
    """(CPU seconds, wall seconds, the ranking's first line of numbers) of one backtest --law all process."""
    env = {**os.environ, **PINNED, "PYTHONPATH": src}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "scalinglaws", "backtest", "dataset:chinchilla_epoch", "--law",
                           "all", "--cuts", "2"], env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    first = next(line for line in done.stdout.splitlines() if line.strip().startswith("1 "))
    return cpu, wall, " ".join(first.split())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", required=True, help="the src folder of the version to compare with")
    ap.add_argument("--repeats", type=int, default=2, help="backtest runs per side (best kept)")
    ap.add_argument("--curve-rows", type=float, default=1e5, help="rows of the multipower fit")
    ap.add_argument("--limit", type=float, default=900, help="seconds before the multipower fit counts as too slow")
    args = ap.parse_args()
    sides = (("ours", str(HERE)), ("reference", args.reference))
    print("BLAS pinned to one thread in every process (OPENBLAS/OMP/MKL_NUM_THREADS=1)\n")

    best = {name: (float("inf"), float("inf"), "") for name, _ in sides}
    for _ in range(args.repeats):
        for name, src in sides:
            cpu, wall, top = backtest_seconds(src)
            if cpu < best[name][0]:
                best[name] = (cpu, wall, top)
    print("backtest dataset:chinchilla_epoch --law all --cuts 2 (whole process, best of "
          f"{args.repeats})")
    for name, _ in sides:
        cpu, wall, top = best[name]
        print(f"  {name:9s} {cpu:7.2f} s CPU {wall:7.2f} s wall   first: {top}")
    print(f"  speed-up (CPU): {best['reference'][0] / best['ours'][0]:.2f}x\n")

    print(f"multipower fit at {args.curve_rows:,.0f} curve rows (target < 60 s)")
    fits = {}
    for name, src in sides:
        fits[name] = measure(src, "multipower", args.curve_rows, args.limit)
        r = fits[name]
        print(f"  {name:9s} " + (f"{r['seconds']:7.2f} s  peak {r['peak_mb']:.0f} MB  objective {r['objective']!r}"
                                 if r else "> limit"))
    if all(fits.values()):
        print(f"  speed-up: {fits['reference']['seconds'] / fits['ours']['seconds']:.2f}x\n")

    print("start-up, python -m scalinglaws --version (best of 15; target < 50 ms)")
    for name, src in sides:
        version, bare = startup(src)
        print(f"  {name:9s} {version * 1e3:5.0f} ms; bare python {bare * 1e3:.0f} ms; difference "
              f"{1e3 * (version - bare):.0f} ms")


if __name__ == "__main__":
    main()
