"""`ladder run`: train every rung of a plan, stream each evaluation point into the run store, forecast the
held-back rung before it is trained, then train it and score the forecast.

The driver is the store's one writer. Rungs train here one after another (each in this process, or data-parallel
over several local devices, parallel.py, whose rank 0 writes while the driver waits), or on a Ray cluster
(distributed.py), whose workers return their points for the driver to write. Each rung checkpoints at every
evaluation into the plan's checkpoint folder (default: PLAN.ckpt beside the plan file), so running the same
command again after a kill, a failure or a lost worker resumes every unfinished rung where its checkpoint left it;
the store leaves out the points it already holds (store/points.py), so nothing is lost and nothing is written twice.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import DataWarning, ScalingLawsError
from ..records import format_of
from ..store.db import store_path
from ..store.points import append_points, forecasts, save_forecast, score_forecast
from . import forecast as forecasting
from .ladder import LadderPlan, Rung, read_plan

TRAIN_HINT = "pip install 'scalinglaws[train]'"


@dataclass(frozen=True)
class LadderRun:
    plan: str
    store: str
    rungs: tuple[dict, ...]  # per rung: name, run, steps, final loss, tokens/s, resumed_from, points written
    forecast: dict | None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"format": format_of("ladder_run"), "plan": self.plan, "store": self.store,
                "rungs": list(self.rungs), "forecast": self.forecast, "notes": list(self.notes)}


def need_torch():
    try:
        import torch
    except ImportError:
        raise ScalingLawsError(f"training a ladder needs PyTorch: {TRAIN_HINT}") from None
    return torch


def checkpoint_folder(plan_path: str | Path | None, plan: LadderPlan, checkpoints=None) -> Path:
    if checkpoints is not None:
        return Path(checkpoints)
    base = Path(plan_path).with_suffix("") if plan_path is not None else Path(plan.name)
    return base.parent / f"{base.name}.ckpt"


def check_corpus(plan: LadderPlan, corpus) -> list[str]:
    """A warning for each rung that reads its corpus more than once: the epochs it implies."""
    notes = []
    for r in plan.rungs:
        epochs = r.tokens / corpus.tokens
        if epochs > 1:
            notes.append(f"corpus {corpus.source} has {corpus.tokens:,} training tokens but rung {r.name} reads "
                         f"{r.tokens:,}: {epochs:.1f} epochs. Repeated data bends the loss curve (Muennighoff et "
                         "al. 2023): give more text or fewer steps")
    for n in notes:
        warnings.warn(n, DataWarning, stacklevel=3)
    return notes


def _marker(folder: Path, rung: Rung, kind: str) -> Path:
    return folder / f"{rung.name}.{kind}"


def run_ladder(plan: LadderPlan | str | Path, store: str | Path | None = None, *, checkpoints=None,
               hold_back: bool = True, ray: str | None = None, ray_cpus: int | None = None, threads: int | None = None,
               progress: Callable[[str, int, int], None] | None = None, echo: Callable[[str], None] = lambda s: None,
               until_width: float | None = None, extra_budget: float | None = None, max_extra: int = 3,
               devices: int = 1, _crash: dict | None = None) -> LadderRun:
    """Train the plan's rungs into `store`; see the module docstring. ray: None (here), "auto", "local" or an
    address. progress(rung, step, steps) follows each rung; echo(line) hears the forecast as it is made.
    until_width: before the held-back rung, add rungs (at most `max_extra`, within `extra_budget` FLOP) chosen by
    `decide.nextrun` until its forecast interval is this narrow (relative full width).
    devices: train each rung data-parallel over this many local devices (parallel.py); not with `ray`.
    _crash: {rung name: step}, a test hook that stops that rung once at that step, as a kill would."""
    need_torch()
    plan_path = None if isinstance(plan, LadderPlan) else Path(plan)
    plan = plan if isinstance(plan, LadderPlan) else read_plan(plan)
    store = store_path(store)
    if not store.parent.exists():
        raise ScalingLawsError(f"--store {store}: the folder {store.parent} does not exist. Create it first")
    folder = checkpoint_folder(plan_path, plan, checkpoints)
    from .parallel import check_devices

    check_devices(plan, devices)
    if devices > 1 and ray is not None:
        raise ScalingLawsError("--devices trains one rung over this machine's devices and --ray spreads rungs over "
                               "a cluster's: give one of them")
    session = None
    if ray is not None:
        from .distributed import RaySession

        session = RaySession(ray, cpus=ray_cpus)  # an address that does not answer fails here, before any work
    from .tokenizer import corpus_for

    folder.mkdir(parents=True, exist_ok=True)
    tokens = corpus_for(plan, folder)  # a BPE is trained here, before any rung, and saved in the folder
    notes = check_corpus(plan, tokens.corpus)
    held = [r for r in plan.rungs if r.hold_back] if hold_back else []
    first = [r for r in plan.rungs if r not in held]
    results: dict[str, dict] = {}
    trainer = (session or Local(devices)).bind(plan, tokens, folder, store, threads, progress)
    try:
        for name, res in trainer.train(first, _crash or {}):
            results[name] = res
        extra: list[Rung] = []
        if until_width is not None and held:
            extra = _narrow(plan, held[0], results, trainer, until_width, extra_budget, max_extra, echo,
                            _crash or {}, plan_path)
        fc = None
        for r in held:
            fc = _forecast_then_train(plan, r, results, trainer, store, echo, _crash or {})
    finally:
        if session is not None:
            session.close()
    done = sorted(list(plan.rungs) + extra, key=lambda r: r.flops)
    return LadderRun(str(plan_path or plan.name), str(store), tuple(results[r.name] for r in done
                                                                    if r.name in results), fc, tuple(notes))


def _narrow(plan, target: Rung, results, trainer, until_width, budget, max_extra, echo, crash,
            plan_path=None) -> list[Rung]:
    """Rungs added before the held-back one until its forecast is `until_width` wide: each the candidate that most
    narrows the forecast per FLOP (decide/nextrun.py), among shapes by the plan's rule between the smallest rung's
    compute and the held-back rung's over its hold-back gap; written into the plan file (marked `added`, so
    `ladder status` lists it and a re-run counts it against `max_extra` and the budget), trained, then the
    forecast remade."""
    from ..decide.nextrun import next_runs
    from .ladder import plan_ladder, with_rungs, write_plan

    before = [r for r in plan.rungs if r.added]  # added by an earlier run of this plan, and trained with the rest
    added: list[Rung] = []
    spent = sum(r.flops for r in before)
    max_extra -= len(before)
    lo = min(r.flops for r in plan.rungs)
    shapes = plan_ladder(target.flops / 2, rungs=6, span=max(2.5, target.flops / 2 / lo), hold_back=False,
                         aspect=plan.aspect, head_dim=plan.head_dim, seq_len=plan.seq_len, vocab=plan.vocab,
                         tokens_per_param=plan.tokens_per_param, hparams=plan.hparam_law).rungs
    for k in range(max_extra):
        known = [res["final_point"] for res in results.values() if res.get("final_point")]
        if len(known) < forecasting.MIN_RUNGS:
            break
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, fit = forecasting.forecast(known, {"run": plan.run_name(target), "flops": target.flops},
                                          level=plan.level, seed=target.seed, plan=plan.name)
            col = next(iter(fit.inputs.values()))
            cands = [{col: r.flops, "flops": r.flops} for r in shapes]
            left = None if budget is None else budget - spent
            if left is not None and left <= 0:
                break
            choice = next_runs(fit, {col: target.flops}, candidates=cands, budget=left if left else 1e300,
                               until_width=until_width, max_runs=1)
        if choice.width <= until_width:
            echo(f"the forecast of {target.name} is {choice.width:.2%} wide: no rung added")
            break
        if not choice.chosen:
            echo(f"the forecast of {target.name} is {choice.width:.2%} wide; no candidate rung narrows it within "
                 "the budget")
            break
        i = next(j for j, c in enumerate(cands) if c["flops"] == choice.chosen[0]["flops"])
        base = shapes[i]
        n = len(before) + k + 1
        rung = replace(base, name=f"{base.name}-x{n}", seed=base.seed + 1000 + n - 1, hold_back=False, added=True)
        plan = with_rungs(plan, sorted(plan.rungs + (rung,), key=lambda r: r.flops))
        if plan_path is not None:
            write_plan(plan, plan_path)
        echo(f"forecast of {target.name} {choice.width:.2%} wide: adding {rung.name} ({rung.flops:.3g} FLOP), "
             f"expected {choice.chosen[0]['width_after']:.2%} after")
        for name, res in trainer.train([rung], crash):
            results[name] = res
        added.append(rung)
        spent += rung.flops
    return added


def _forecast_then_train(plan, rung, results, trainer, store, echo, crash) -> dict | None:
    run = plan.run_name(rung)
    stored = [f for f in forecasts(store, plan.name) if f["run"] == run]
    if stored:  # made before a kill: the forecast stands as it was made, before any of this rung was seen
        record = stored[-1]
        fid = record.pop("id")
    else:
        known = [res["final_point"] for res in results.values() if res.get("final_point")]
        if len(known) < forecasting.MIN_RUNGS:
            note = (f"rung {rung.name} was held back, but a forecast needs {forecasting.MIN_RUNGS} rungs trained "
                    f"and {len(known)} are: training it without one")
            warnings.warn(note, DataWarning, stacklevel=3)
            for name, res in trainer.train([rung], crash):
                results[name] = res
            return None
        record, fit = forecasting.forecast(known, {"run": run, "flops": rung.flops}, level=plan.level,
                                           seed=rung.seed, plan=plan.name)
        fid = save_forecast(store, plan=plan.name, run=run, record=record, fit=fit)
        echo(forecast_line(record))
    for name, res in trainer.train([rung], crash):
        results[name] = res
    final = results[rung.name].get("final_point")
    if final is None:
        return record
    scored = forecasting.score(record, final["loss"])
    score_forecast(store, fid, scored)
    echo(score_line(scored))
    return scored


def forecast_line(f: dict) -> str:
    return (f"forecast of {f['run']} ({f['flops']:.3g} FLOP) before training it: loss {f['prediction']:.4f}, "
            f"{f['level']:.0%} interval [{f['lower']:.4f}, {f['upper']:.4f}] ({f['law']} fitted to "
            f"{len(f['from_runs'])} rungs)")


def score_line(f: dict) -> str:
    inside = {True: "inside", False: "outside", None: "(no interval)"}[f["inside"]]
    return (f"{f['run']} trained: loss {f['observed']:.4f}; the forecast {f['prediction']:.4f} was off by "
            f"{f['error']:+.2%}, the truth {inside} its {f['level']:.0%} interval")


def summary(run: str, points, resumed: int, written: int) -> dict:
    """A rung's line: its own points (its cooldown branches, runs of their own, are listed under `branches`)."""
    points = list(points)
    own = [p for p in points if p["run"] == run]
    final = next((p for p in own if p.get("final")), None)
    speeds = sorted(p["tokens_per_s"] for p in own)
    branches = [{"run": p["run"], "steps": int(p["step"]), "tokens": p["tokens"], "loss": p["loss"]}
                for p in points if p["run"] != run]
    return {"name": run.split("/", 1)[-1], "run": run, "steps": int(own[-1]["step"]) if own else 0,
            "loss": None if final is None else final["loss"], "points": len(points), "written": written,
            "tokens_per_s": speeds[len(speeds) // 2] if speeds else None, "resumed_from": resumed,
            "final_point": final, "branches": branches}


class Local:
    """Rungs trained on this machine, one after another, each point written to the store as it is made: in this
    process, or over `devices` processes of one data-parallel group (parallel.py), whose rank 0 writes them."""

    def __init__(self, devices: int = 1):
        self.devices = devices

    def bind(self, plan, tokens, folder, store, threads, progress):
        self.plan, self.tokens, self.folder, self.store = plan, tokens, folder, store
        self.threads, self.progress = threads, progress
        return self

    def _parallel(self, rung, crash_at):
        from .parallel import train_parallel

        res, written = train_parallel(self.plan, rung, self.folder, self.store, self.devices, crash_at=crash_at,
                                      threads=self.threads)
        if self.progress:
            self.progress(rung.name, rung.steps, rung.steps)
        return res, written

    def train(self, rungs, crash):
        from .loop import Crash, train_rung

        for rung in rungs:
            run = self.plan.run_name(rung)
            written = [0]

            def emit(point, run=run):
                written[0] += append_points([point], self.store, source=f"ladder:{run}")

            update = None if self.progress is None else (lambda d, t, n=rung.name: self.progress(n, d, t))
            running = _marker(self.folder, rung, "running")
            running.write_text(str(os.getpid()))
            try:
                crash_at = _crash_step(self.folder, rung, crash)
                if self.devices > 1:
                    res, written[0] = self._parallel(rung, crash_at)
                else:
                    res = train_rung(self.plan, rung, self.tokens.corpus, self.folder, emit=emit, progress=update,
                                     crash_at=crash_at, threads=self.threads, token_bytes=self.tokens.token_bytes)
            except (Crash, KeyboardInterrupt):
                raise
            except BaseException as exc:
                _marker(self.folder, rung, "failed").write_text(str(exc).splitlines()[0] if str(exc) else
                                                                type(exc).__name__)
                raise
            finally:
                running.unlink(missing_ok=True)
            _marker(self.folder, rung, "failed").unlink(missing_ok=True)
            yield rung.name, summary(run, res.points, res.resumed_from, written[0])


def _crash_step(folder: Path, rung: Rung, crash: dict) -> int | None:
    """The test hook's step for this rung, once: a marker remembers that it has crashed."""
    if rung.name not in crash:
        return None
    marker = _marker(folder, rung, "crashed")
    if marker.exists():
        return None
    marker.write_text(str(crash[rung.name]))
    return int(crash[rung.name])
