"""Relearn the calibration the package ships and applies to every prediction interval by default.

Run from the repository root:  python tools/build_calibration.py

Backtests every bundled ladder (decide/calibrate.py BUNDLED: each bundled dataset with a larger-scale axis and a
loss) with a bootstrap of 100 per cut, learns the model-error term from all their held-out rows, and writes
src/scalinglaws/fitting/default_calibration.json, which records the ladders it came from and what it measured on
them. How well such a calibration holds on a dataset it never saw is measured by benchmarks/bench_calibration.py.
"""

from __future__ import annotations

import sys
import time

from scalinglaws.decide.calibrate import BUNDLED, calibrate
from scalinglaws.fitting.calibration import DEFAULT_PATH


def main() -> int:
    start = time.perf_counter()
    cal = calibrate(BUNDLED, bootstrap=100, seed=0,
                    progress=lambda i, n: print(f"  ladder {i}/{n}", file=sys.stderr, flush=True))
    cal.save(DEFAULT_PATH)
    pooled = cal.scores["calibrated"], cal.scores["plain"]
    print(f"wrote {DEFAULT_PATH.name} in {time.perf_counter() - start:.0f} s: tau0={cal.tau0:.4g} "
          f"tau_noise={cal.tau_noise:.4g} tau1={cal.tau1:.4g} df={cal.df}")
    for level in ("0.5", "0.8", "0.95"):
        print(f"  {level}: coverage {pooled[1][level]['coverage']:.3f} -> {pooled[0][level]['coverage']:.3f} "
              f"(in-sample, datasets weighted equally)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
