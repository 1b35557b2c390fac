"""Shared by the training tests: the optional extras (required where CI says so) and a micro ladder."""

from __future__ import annotations

import os

import pytest


def require(module: str):
    """Import an optional extra; skip without it, unless SCALINGLAWS_REQUIRE_TRAIN=1 (set by CI), where it fails."""
    if os.environ.get("SCALINGLAWS_REQUIRE_TRAIN") == "1":
        return __import__(module)
    return pytest.importorskip(module)


def micro_plan(name: str = "micro"):
    """Four tiny rungs (the largest held back), a 2 MB slice of the standard library: seconds on one core."""
    from scalinglaws.train.ladder import LadderPlan, make_rung

    rungs = [make_rung(f"w{w}", w, tokens=t, evals=4) for w, t in ((16, 20_000), (32, 40_000), (48, 80_000))]
    rungs.append(make_rung("w64", 64, tokens=120_000, evals=4, hold_back=True))
    return LadderPlan(name=name, rungs=tuple(rungs), corpus_bytes=2_000_000, eval_batches=2, eval_batch=8)
