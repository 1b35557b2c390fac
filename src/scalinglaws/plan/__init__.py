"""Planning with a fitted law (docs/planning.md).

    compute_optimal, frontier      N*, D* at a FLOP budget; the frontier and its exponents      (optimal.py)
    compare_approaches             Chinchilla's approaches 1-3 side by side on a sweep        (approaches.py)
    inference_optimal, overtraining  training plus serving compute (Sardana 2024); ratios     (inference.py)
    data_constrained               best N and epochs with U unique tokens (Muennighoff 2023)  (constrained.py)
    reach_target                   tokens, compute and model size for a target loss           (targets.py)
    plan_mixture, plan_dcpt_ratio  the mixture that minimises a loss under limits (Ye; D-CPT)  (mixing.py)
    recommend, STEP_LAW, fit_hparams  learning rate and batch size (Li 2025); your own sweep  (hparams*.py)
    batch_plan, fit_batch          critical and best batch, fewest steps and tokens to a loss   (batch.py)
    lr_sensitivity, transfer       LR sensitivity of a sweep; lr and weight decay to a new shape (lr_robust.py)
    count, Transformer, PRESETS    parameters and FLOPs per token of a transformer shape      (flops.py)
    plan                           all of the above that the options ask for                  (planner.py)
"""

from __future__ import annotations

from importlib import import_module

from .optimal import Allocation, Frontier, compute_optimal, frontier

_LAZY = {
    "compare_approaches": "approaches", "Approaches": "approaches",
    "inference_optimal": "inference", "overtraining": "inference", "InferencePlan": "inference",
    "data_constrained": "constrained", "ConstrainedPlan": "constrained",
    "reach_target": "targets", "TargetPlan": "targets",
    "plan_mixture": "mixing", "plan_dcpt_ratio": "mixing", "MixturePlan": "mixing",
    "recommend": "hparams", "STEP_LAW": "hparams", "HparamLaw": "hparams", "Hparams": "hparams",
    "fit_hparams": "hparams_fit", "HparamFit": "hparams_fit",
    "batch_plan": "batch", "fit_batch": "batch", "BatchPlan": "batch",
    "lr_sensitivity": "lr_robust", "transfer": "lr_robust",
    "count": "flops", "Transformer": "flops", "PRESETS": "flops", "Accounting": "flops",
    "plan": "planner", "Plan": "planner",
    "Surface": "surface", "as_surface": "surface",
}

__all__ = ["Allocation", "Frontier", "compute_optimal", "frontier"] + sorted(_LAZY)


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'scalinglaws.plan' has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)
