"""Forecast before you train: the held-back rung's final loss from the other rungs' final losses, with an interval,
made before it is trained and scored after.

The rungs' final held-out losses against their training FLOPs are a ladder along one axis; with at least
`SELECT_FROM` rungs the law is chosen by backtest (decide/select.py: law selection, its mixture and the shipped
calibration behind the prediction interval), with fewer the saturating power law L = E + A·C^(-alpha) is fitted
directly. The interval is the project's one prediction interval (fitting/prediction.py) at the plan's level.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import ScalingLawsError
from ..records import format_of
from ..runs import Runs

MIN_RUNGS = 3  # the power law's three parameters
SELECT_FROM = 4  # rungs needed for law selection (three cuts along flops need at least four scales)
BOOTSTRAP = 200


def finals(points) -> list[dict]:
    """Each run's final point (the one marked final), in order of compute."""
    out = {p["run"]: p for p in points if p.get("final")}
    return sorted(out.values(), key=lambda p: p["flops"])


def forecast(known: list[dict], target: dict, *, level: float = 0.95, seed: int = 0, bootstrap: int = BOOTSTRAP,
             plan: str = "") -> tuple[dict, object]:
    """(record, fit): the final loss of `target` (a dict with run and flops) from the final points `known`."""
    from ..decide import fit_auto
    from ..fitting import fit, predict

    if len(known) < MIN_RUNGS:
        raise ScalingLawsError(f"a forecast needs the final losses of at least {MIN_RUNGS} rungs; {len(known)} "
                               f"{'is' if len(known) == 1 else 'are'} done. Train more rungs first")
    def table(axis):
        return Runs({"run": np.array([p["run"] for p in known], dtype=object),
                     axis: np.array([p["flops"] for p in known], dtype=float),
                     "loss": np.array([p["loss"] for p in known], dtype=float)}, source=f"ladder {plan}".strip())

    notes: list[str] = []
    at = np.array([float(target["flops"])])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = pred = None
        if len(known) >= SELECT_FROM:
            try:
                result = fit_auto(table("flops"), bootstrap=bootstrap, seed=seed, level=level)
                pred = predict(result, {"flops": at}, level=level)
            except ScalingLawsError as exc:
                notes.append(f"law selection failed ({exc}); fitted the power law in flops")
        if pred is None:
            # the column `compute` rather than `flops`: a micro ladder's FLOPs sit below what the runs table's
            # check of units accepts as a plain count of `flops`
            result = fit(table("compute"), "power", inputs={"x": "compute"}, bootstrap=bootstrap, seed=seed,
                         level=level)
            pred = predict(result, {"compute": at}, level=level)
    notes += [str(w.message).splitlines()[0] for w in caught]
    row = pred.records()[0]
    record = {"format": format_of("ladder_forecast"), "plan": plan, "run": target["run"],
              "flops": float(target["flops"]), "law": result.law, "prediction": row["prediction"],
              "lower": row["lower"], "upper": row["upper"], "level": level,
              "from_runs": [p["run"] for p in known], "from_flops": [float(p["flops"]) for p in known],
              "extrapolation": row["extrapolation"], "interval_method": pred.to_dict()["interval_method"],
              "observed": None, "error": None, "inside": None, "notes": notes}
    return record, result


def score(record: dict, observed: float) -> dict:
    """The forecast with the truth: relative error (prediction − observed) / observed, and whether it fell inside."""
    err = (record["prediction"] - observed) / observed
    inside = None if record["lower"] is None else bool(record["lower"] <= observed <= record["upper"])
    return {**record, "observed": float(observed), "error": float(err), "inside": inside}
