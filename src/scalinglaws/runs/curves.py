"""Checks on training curves at the boundary: one run's rows, in step order, with a usable learning rate.

A curve law reads every step of a run's schedule, so it refuses what would silently corrupt that: a run of one
step (no schedule to read), one step logged twice with two learning rates, steps that are clearly not optimizer
steps. It warns about what it can work with but should be told: rows out of step order (read in step order;
predictions keep input order), a ragged log (a wide gap between rows while the learning rate moves, which is
then taken as a straight line), a run whose first row comes late (its start is then assumed to be a linear
warm-up from 0), and a learning rate that rises again after decaying (re-warming, which the laws count as negative
annealing but were never fitted on).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import DataWarning, ScalingLawsError
from ..runs import Runs

MAX_STEPS = 50_000_000  # dense per-step schedules beyond this are not optimizer steps (tokens, most likely)
GAP = 0.25  # a gap between logged rows wider than this share of the run, while the lr changes, is ragged
LATE_START = 0.4  # a run whose first row is past this share of its last step probably lacks its start
RISE_TOL = 0.01  # a rise of more than 1% of the peak after a fall of more than 1% counts as re-warming


@dataclass(frozen=True)
class RunCurve:
    """One run's rows: their positions in the table (in step order), steps and learning rates."""

    name: str
    rows: np.ndarray  # (n_r,) row indices into the table, sorted by step
    steps: np.ndarray  # (n_r,) integer steps, sorted
    knots: np.ndarray  # (m,) distinct steps
    lr: np.ndarray  # (m,) learning rate at each distinct step


def split_runs(runs: Runs, binding: Mapping[str, str]) -> list[RunCurve]:
    """The table's runs as validated curves (in order of first appearance), warning once about each oddity."""
    run_col, step_col, lr_col = binding.get("run", "run"), binding.get("step", "step"), binding.get("lr", "lr")
    for col in (run_col, step_col, lr_col):
        if col not in runs:
            fix = ("A curve law needs the run of every row" if col == run_col else
                   "Give every row its optimizer step" if col == step_col else
                   "Give the learning rate at every row, or describe the schedule with `scalinglaws forecast "
                   "--schedule`")
            raise ScalingLawsError(runs.missing_message(col, fix))
    labels = np.asarray(runs[run_col]).astype(str)
    steps = np.asarray(runs[step_col], dtype=float)
    lr = np.asarray(runs[lr_col], dtype=float)
    for name, values in ((step_col, steps), (lr_col, lr)):
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise ScalingLawsError(
                f"column '{name}' is empty or NaN at {runs.locate(bad[0])} ({bad.size} row"
                f"{'s' if bad.size > 1 else ''}): a curve law needs the {name} of every checkpoint. Fill it in "
                f"from the run's schedule, or drop the row")
    if steps.max() > MAX_STEPS:
        i = int(np.argmax(steps))
        raise ScalingLawsError(
            f"column '{step_col}' reaches {steps[i]:.3g} at {runs.locate(i)}: curve laws need optimizer steps, not "
            f"tokens. Divide tokens by the batch size in tokens, or --map step=<your step column>")
    names, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    groups = np.split(np.argsort(inverse, kind="stable"), np.cumsum(np.bincount(inverse))[:-1])
    out, unsorted, late, ragged = [], [], [], []
    for g in np.argsort(first):
        name, idx = names[g], groups[g]
        if np.any(np.diff(steps[idx]) < 0):
            unsorted.append(name)
        idx = idx[np.argsort(steps[idx], kind="stable")]
        s = np.rint(steps[idx]).astype(np.int64)
        knots, start = np.unique(s, return_index=True)
        lr_k = lr[idx][start]
        # one step logged twice must name one learning rate
        conflict = np.flatnonzero(np.abs(lr[idx] - lr_k[np.searchsorted(knots, s)]) > 1e-9 * np.max(np.abs(lr_k)))
        if conflict.size:
            j = idx[conflict[0]]
            raise ScalingLawsError(
                f"run '{name}' logs step {s[conflict[0]]} twice with different learning rates ({lr[j]:g} at "
                f"{runs.locate(j)}): a restarted or merged log? Keep one row per step, or give the parts different "
                "run names")
        if len(knots) < 2:
            raise ScalingLawsError(
                f"run '{name}' has a single step ({knots[0]} at {runs.locate(idx[0])}): a curve law reads the "
                f"learning rate of every step from the start of the run. Give its earlier rows (from step 0), "
                f"describe its schedule (`scalinglaws forecast --schedule`), or drop it (--where run!={name})")
        if not np.any(lr_k > 0):
            raise ScalingLawsError(f"run '{name}' has a learning rate of 0 at every row ({runs.locate(idx[0])} on): "
                                   "give the learning rate in effect at each step")
        _check_rewarm(name, knots, lr_k, runs, idx[start])
        if knots[0] > LATE_START * knots[-1]:
            late.append(str(name))
        gaps = np.diff(knots)
        wide = np.flatnonzero((gaps > GAP * knots[-1]) & (np.abs(np.diff(lr_k)) > RISE_TOL * lr_k.max()))
        if wide.size and not ragged:
            j = int(wide[0])
            ragged.append(f"run '{name}' has no row between steps {knots[j]} and {knots[j + 1]}, where its learning "
                          f"rate moves from {lr_k[j]:.3g} to {lr_k[j + 1]:.3g}; the schedule there is taken as a "
                          "straight line. Log the learning rate more often, or name the schedule")
        out.append(RunCurve(name=str(name), rows=idx, steps=s, knots=knots, lr=lr_k))
    for note in ragged:
        warnings.warn(f"{runs.source}: {note}", DataWarning, stacklevel=4)
    if late:
        more = f" (and {len(late) - 1} more)" if len(late) > 1 else ""
        warnings.warn(f"{runs.source}: run '{late[0]}'{more} starts late in its schedule; its learning rate before "
                      "its first row is taken as a linear warm-up from 0. Give rows from step 0 on (or name the "
                      "schedule: `scalinglaws curve --schedule`)", DataWarning, stacklevel=4)
    if unsorted:
        more = f" (and {len(unsorted) - 1} more)" if len(unsorted) > 1 else ""
        warnings.warn(f"{runs.source}: the rows of run '{unsorted[0]}'{more} are not in step order; they were read "
                      "in step order (check for a restarted step counter)", DataWarning, stacklevel=4)
    return out


def _check_rewarm(name: str, knots: np.ndarray, lr: np.ndarray, runs: Runs, rows: np.ndarray) -> None:
    """Warn when the learning rate rises again after it has started to decay (past the warm-up peak)."""
    peak_i = int(np.argmax(lr))
    peak = lr[peak_i]
    tail = lr[peak_i:]
    low = np.minimum.accumulate(tail)  # lowest value so far after the peak
    rise = tail - low
    fell = low < peak * (1 - RISE_TOL)
    bad = np.flatnonzero(fell & (rise > RISE_TOL * peak))
    if bad.size:
        k = peak_i + int(bad[0])
        warnings.warn(
            f"run '{name}': the learning rate rises again after decaying (to {lr[k]:.3g} at step {knots[k]}, "
            f"{runs.locate(int(rows[k]))}). The curve laws count a "
            "rise as negative annealing but were fitted on decays: treat this run's predictions as rough",
            DataWarning, stacklevel=5)

