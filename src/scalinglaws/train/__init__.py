"""Train the ladder itself (docs/ladder.md): plan rungs, train them with PyTorch, stream every evaluation into the
run store, forecast the held-back rung before it is trained.

    plan_ladder(flops, rungs=5, span=30) -> LadderPlan     rungs by one shape rule and the FLOP accounting
    write_plan(plan, path) / read_plan(path)               the plan as an editable TOML file
    run_ladder(plan, store) -> LadderRun                   train, log, forecast, score (optionally on Ray)
    ladder_status(plan, store) -> LadderStatus             done, running, failed, and the forecast so far
    sample_ladder(plan, samples=256) -> LadderSamples      answers sampled per held-out problem (addition corpora)

PyTorch (pip install 'scalinglaws[train]') and Ray (pip install 'scalinglaws[ray]') are imported only when a
ladder is trained; planning needs neither.
"""

from __future__ import annotations

from .ladder import LadderPlan, Rung, make_rung, plan_ladder, plan_text, read_plan, write_plan
from .runner import LadderRun, run_ladder
from .sample import LadderSamples, sample_ladder
from .status import LadderStatus, ladder_status

__all__ = ["LadderPlan", "LadderRun", "LadderSamples", "LadderStatus", "Rung", "ladder_status", "make_rung",
           "plan_ladder", "plan_text", "read_plan", "run_ladder", "sample_ladder", "write_plan"]
