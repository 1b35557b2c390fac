"""Rungs across a Ray cluster (optional extra: pip install 'scalinglaws[ray]'; imported only when asked for).

Each rung is one Ray task holding one GPU, or one CPU slot when the plan trains on the CPU. A task trains its rung
from its checkpoint and returns all its points; the driver writes them, so the store keeps one writer. A worker
that dies has its task retried by Ray (`RETRIES`), and the retry resumes from the rung's last checkpoint: the
checkpoint folder must be one every worker can reach (a shared file system on a cluster of several machines).

address: "auto" joins the cluster this machine belongs to (RAY_ADDRESS, or one started with `ray start`) and
starts a local one when there is none; "local" always starts a local one; anything else is HOST:PORT of a
cluster's head, which must answer within `CONNECT_TIMEOUT` seconds.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from ..errors import ScalingLawsError
from ..store.points import append_points
from .runner import summary

RAY_HINT = "pip install 'scalinglaws[ray]'"
CONNECT_TIMEOUT = 5.0
RETRIES = 3


def _ray():
    try:
        import ray
    except ImportError:
        raise ScalingLawsError(f"--ray needs Ray: {RAY_HINT}") from None
    return ray


def check_address(address: str) -> None:
    """A HOST:PORT that answers, or one line saying it does not (before Ray spends a minute retrying)."""
    text = address[len("ray://"):] if address.startswith("ray://") else address
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ScalingLawsError(f"--ray {address} is not an address: give HOST:PORT of the cluster's head (e.g. "
                               "10.0.0.1:6379), 'auto' or 'local'")
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        raise ScalingLawsError(f"the Ray cluster at {address} does not answer ({exc.strerror or exc}). Start it "
                               "with `ray start --head`, or give --ray local to train on this machine") from None


class RaySession:
    def __init__(self, address: str, cpus: int | None = None):
        ray = _ray()
        self.ray = ray
        self.owned = False
        if address not in ("auto", "local"):
            check_address(address)
        if ray.is_initialized():
            return
        quiet = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
        try:
            if address == "local":
                ray.init(num_cpus=cpus, **quiet)
            elif address == "auto":
                try:
                    ray.init(address="auto", **quiet)
                except ConnectionError:
                    ray.init(num_cpus=cpus, **quiet)
            else:
                ray.init(address=address, **quiet)
        except ConnectionError as exc:
            raise ScalingLawsError(f"could not join the Ray cluster at {address} ({str(exc).splitlines()[0]}). "
                                   "Check the address, or give --ray local") from None
        self.owned = True

    def bind(self, plan, tokens, folder, store, threads, progress):
        self.plan, self.folder, self.store, self.threads, self.progress = plan, folder, store, threads, progress
        return self

    def train(self, rungs, crash):
        """Submit every rung at once; write each one's points as its task returns."""
        from .runner import _crash_step

        ray = self.ray
        gpu = self.plan.device.startswith("cuda")
        task = ray.remote(num_cpus=0 if gpu else 1, num_gpus=1 if gpu else 0, max_retries=RETRIES)(_train_task)
        pending = {task.remote(self.plan, r, str(self.folder), _crash_step(Path(self.folder), r, crash),
                               self.threads): r for r in rungs}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            rung = pending.pop(done[0])
            try:
                res = ray.get(done[0])
            except ray.exceptions.RayError as exc:
                cause = getattr(exc, "cause", None)
                if isinstance(cause, ScalingLawsError):
                    raise cause from None
                raise ScalingLawsError(f"rung {rung.name} failed on the Ray cluster after {RETRIES} retries "
                                       f"({str(exc).strip().splitlines()[0]}). Run again to resume it from its "
                                       "checkpoint") from None
            run = self.plan.run_name(rung)
            written = append_points(list(res.points), self.store, source=f"ladder:{run}")
            if self.progress:
                self.progress(rung.name, rung.steps, rung.steps)
            yield rung.name, summary(run, res.points, res.resumed_from, written)

    def close(self) -> None:
        if self.owned:
            self.ray.shutdown()


def _train_task(plan, rung, folder, crash_at, threads):
    """On a worker: the rung trained from its checkpoint. The test hook `crash_at` kills the worker process."""
    from .loop import Crash, train_rung
    from .tokenizer import corpus_for

    tokens = corpus_for(plan, folder, train=False)  # the driver trained the plan's tokenizer into the folder
    if crash_at is not None:  # once: the retry that follows trains on
        killed = Path(folder) / f"{rung.name}.killed"
        if killed.exists():
            crash_at = None
        else:
            killed.write_text(str(crash_at))
    try:
        return train_rung(plan, rung, tokens.corpus, folder, crash_at=crash_at, threads=threads or 1,
                          token_bytes=tokens.token_bytes)
    except Crash:
        os._exit(1)  # a worker that dies, as a lost machine would
