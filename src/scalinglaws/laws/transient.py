"""The early transient: which checkpoints of each run a curve fit leaves out of its objective.

Early in training the loss falls for reasons no schedule law models: the warm-up, and the fast initial descent
that follows it while the optimizer's state and the loss scale settle. Those rows are left out of the objective but
still count in every later row's features (their learning rates are part of S1 and of the annealing sums).

Rules (`fit(..., transient=RULE)`, `scalinglaws fit --transient RULE`):

  auto       the curve law's own rule (below); for other laws, none
  none       keep every row
  warmup     leave out rows up to and including the run's peak learning rate (the end of warm-up)
  0.1        a fraction: leave out the warm-up and the rows before 10% of the run's last logged step
  step<=N    leave out rows at steps up to N (also step<N); a whole number N means the same

The curve laws' auto rule is `warmup`: both schedule laws describe training after the warm-up (Tissue et al. 2024
and Luo et al. 2025 fit from its end, and define their annealing terms from the peak learning rate), and at step
0 the forward area is 0, where the power term has no finite value. Dropping more does not help on the bundled
curves: leaving out a further 2-20% of each run's steps or forward area only raised the held-out error
(docs/curves.md). For laws that do not read the schedule `auto` keeps every row; Choshen et al. 2024 find that
leaving out the earliest checkpoints improves fits of final-loss laws to checkpoints, which `0.1` does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from ..errors import ArgumentError, ScalingLawsError
from ..runs import Runs

_STEP = re.compile(r"^\s*step\s*(<=|<)\s*([0-9.eE+-]+)\s*$")
HELP = "auto, none, warmup, a fraction such as 0.1, or step<=N"


def parse_rule(rule) -> tuple[str, float]:
    """A rule as (kind, value): ('none', 0), ('warmup', 0), ('fraction', f), ('step<=', n), ('step<', n)."""
    if rule is None:
        return "none", 0.0
    if isinstance(rule, (int, float)) and not isinstance(rule, bool):
        return ("fraction", float(rule)) if 0 < rule < 1 else ("step<=", float(rule))
    text = str(rule).strip().lower()
    if text in ("none", "warmup", "auto"):
        return text, 0.0
    m = _STEP.match(text)
    if m:
        return "step" + m.group(1), float(m.group(2))
    try:
        v = float(text)
    except ValueError:
        raise ArgumentError("transient", f"transient {rule!r} is not a rule: write {HELP}") from None
    if not (v >= 0 and np.isfinite(v)):
        raise ArgumentError("transient", f"transient {rule!r}: give a fraction between 0 and 1 or a step count "
                            f"({HELP})")
    return ("fraction", v) if v < 1 else ("step<=", v)


def transient_mask(runs: Runs, rule, binding: Mapping[str, str], *, default: str = "none") -> tuple[np.ndarray, str]:
    """(keep (n,) booleans, a note saying what was left out)."""
    kind, value = parse_rule(rule)
    if kind == "auto":
        kind, value = parse_rule("none" if default == "auto" else default)
    n = len(runs)
    step_col = binding.get("step", "step")
    if kind == "none":
        return np.ones(n, dtype=bool), ""
    if step_col not in runs:
        raise ScalingLawsError(runs.missing_message(step_col, f"--transient {rule} reads each row's step"))
    steps = np.asarray(runs[step_col], dtype=float)
    if kind in ("step<=", "step<"):
        keep = steps > value if kind == "step<=" else steps >= value
        what = f"rows at {kind}{value:g}"
    else:
        keep = np.ones(n, dtype=bool)
        lr_col = binding.get("lr", "lr")
        if lr_col in runs and binding.get("run", "run") in runs:
            from .features import schedules_of

            for curve, sched in schedules_of(runs, binding):
                cut = sched.peak if kind == "warmup" else max(sched.peak, int(value * curve.steps[-1]))
                keep[curve.rows] = curve.steps > cut
            what = ("the warm-up, up to each run's peak learning rate" if kind == "warmup" else
                    f"the warm-up and the first {value:g} of each run's steps")
        elif kind == "warmup":
            raise ScalingLawsError(runs.missing_message(lr_col, "--transient warmup reads the learning rate to find "
                                                                "the end of warm-up"))
        else:  # a fraction of each run's steps, for laws that do not read the schedule
            ids = runs.run_ids.astype(str)
            for name in np.unique(ids):
                m = ids == name
                keep[m] = steps[m] >= value * steps[m].max()
            what = f"the first {value:g} of each run's steps"
    dropped = int((~keep).sum())
    if dropped == n:
        raise ScalingLawsError(f"--transient {rule} leaves no row of {runs.source} to fit. Choose a smaller rule "
                               "(e.g. --transient warmup) or --transient none")
    note = f"left out {dropped} early-transient row{'s' if dropped != 1 else ''}: {what}" if dropped else ""
    return keep, note
