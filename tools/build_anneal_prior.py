"""Relearn the annealing prior the package ships for curve laws fitted to runs that never anneal.

Run from the repository root:  python tools/build_anneal_prior.py

Fits lr_annealing and multipower to every schedule of each model size of the bundled Multi-Power Law curves
(dataset multipower_lr_curves: 25M, 100M and 400M, nine schedules each, all of which but two anneal), keeps each
fit's annealing parameters, and writes src/scalinglaws/fitting/anneal_prior.json (fitting/borrow.py reads it).
How well it carries to a model size it never saw is measured by benchmarks/bench_borrow.py.
"""

from __future__ import annotations

import json
import sys
import time
import warnings

from scalinglaws.decide.priors import learn_anneal_prior as learn
from scalinglaws.files import write_atomic
from scalinglaws.fitting.borrow import DEFAULT_PATH
from scalinglaws.records import format_of

DATA = "dataset:multipower_lr_curves"
LAWS = ("lr_annealing", "multipower")


def main() -> int:
    start = time.perf_counter()
    priors = []
    for law in LAWS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            prior = learn(DATA, law, by="size")
        d = prior.to_dict()
        d.update(origin="default", fitted_on=[DATA])
        priors.append(d)
        print(f"{law}: " + "; ".join(f"{lab}: " + ", ".join(f"{n}={v:.4g}" for n, v in s.items())
                                     for lab, s in zip(d["labels"], d["sources"])) + f"; spread {d['spread']:.3f}")
    write_atomic(DEFAULT_PATH, json.dumps({"format": format_of("anneal_prior"), "priors": priors}, indent=1) + "\n")
    print(f"wrote {DEFAULT_PATH.name} in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
