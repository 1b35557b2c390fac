"""`ladder status`: where each rung of a plan stands, from the store and the checkpoint folder, and the forecast
so far: the stored forecasts (scored once their rung is done), and for rungs not yet done a forecast from the
rungs that are.

A rung is done when the store holds its final point; running while a live process holds its `.running` marker;
failed when its `.failed` marker says why; stopped when it has a checkpoint but none of those (a kill: `ladder
run` resumes it); pending otherwise.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..records import format_of
from ..store.db import connect, store_path
from ..store.points import forecasts
from . import forecast as forecasting
from .ladder import LadderPlan, read_plan
from .runner import checkpoint_folder


@dataclass(frozen=True)
class LadderStatus:
    plan: str
    store: str
    rungs: tuple[dict, ...]  # name, run, state, steps done, steps, loss, note
    forecasts: tuple[dict, ...]  # stored ones, then fresh ones for rungs not done

    def to_dict(self) -> dict:
        return {"format": format_of("ladder_status"), "plan": self.plan, "store": self.store,
                "rungs": list(self.rungs), "forecasts": list(self.forecasts)}


def _points(store: Path, runs: list[str]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {r: [] for r in runs}
    if not store.exists():
        return out
    with connect(store) as con:
        cols = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                          "WHERE table_name = 'runs'").fetchall()}
        if not {"step", "final", "flops", "loss"} <= cols:
            return out
        for run, step, final, flops, loss in con.execute(
                "SELECT run, step, final, flops, loss FROM runs WHERE run IN (SELECT unnest(?)) ORDER BY step",
                [runs]).fetchall():
            out[run].append({"run": run, "step": step, "final": bool(final), "flops": flops, "loss": loss})
    return out


def _alive(pid_text: str) -> bool:
    try:
        os.kill(int(pid_text), 0)
    except (ValueError, OSError):
        return False
    return True


def ladder_status(plan: LadderPlan | str | Path, store=None, *, checkpoints=None, forecast: bool = True
                  ) -> LadderStatus:
    plan_path = None if isinstance(plan, LadderPlan) else Path(plan)
    plan = plan if isinstance(plan, LadderPlan) else read_plan(plan)
    store = store_path(store)
    folder = checkpoint_folder(plan_path, plan, checkpoints)
    points = _points(store, [plan.run_name(r) for r in plan.rungs])
    rows, done = [], []
    for r in plan.rungs:
        run = plan.run_name(r)
        pts = points[run]
        final = next((p for p in pts if p["final"]), None)
        marker = {k: folder / f"{r.name}.{k}" for k in ("running", "failed")}
        note = ""
        if final is not None:
            state = "done"
            done.append(final)
        elif marker["running"].exists() and _alive(marker["running"].read_text()):
            state = "running"
        elif marker["failed"].exists():
            state, note = "failed", marker["failed"].read_text()
        elif (folder / f"{r.name}.pt").exists() or pts:
            state, note = "stopped", "resume it with `scalinglaws ladder run`"
        else:
            state = "pending"
        rows.append({"name": r.name, "run": run, "state": state, "step": int(pts[-1]["step"]) if pts else 0,
                     "steps": r.steps, "flops": r.flops, "loss": None if final is None else final["loss"],
                     "hold_back": r.hold_back, "note": note})
    out = list(forecasts(store, plan.name))
    if forecast and len(done) >= forecasting.MIN_RUNGS:
        seen = {f["run"] for f in out}
        for row in rows:
            if row["state"] != "done" and row["run"] not in seen:
                record, _ = forecasting.forecast(done, {"run": row["run"], "flops": row["flops"]}, level=plan.level,
                                                 plan=plan.name)
                out.append({**record, "id": None})
    return LadderStatus(str(plan_path or plan.name), str(store), tuple(rows), tuple(out))
