"""One rung over several devices of this machine: data-parallel training with torch.distributed
(DistributedDataParallel; NCCL on CUDA, one GPU a process; gloo on the CPU), launched here with
torch.multiprocessing (spawn), so `ladder run PLAN --devices N` needs no torchrun.

The global batch stays the plan's: every step's batch (data.Corpus.batch, seeded by the step) is cut into `devices`
equal slices, rank r training slice r, and DDP averages the gradients, which is the gradient of the whole batch's
mean loss. The training is the single-process one up to the order of floating-point sums: same batches, same
learning rates, same clipping (of the averaged gradient), so the loss curve is the same curve.

Rank 0 alone writes: the checkpoint at each evaluation and each point to the run store (through `append_points`,
the store's one writer while the rung trains). Every rank reads the checkpoint at its start (before DDP's first
broadcast, so none reads one rank 0 is replacing), which makes a resume the single-process resume. A rank that
fails leaves its error in the checkpoint folder; the launcher stops the others and raises it as one line.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

from ..errors import ScalingLawsError
from ..store.points import append_points
from .ladder import LadderPlan, Rung
from .loop import Crash, RungResult, checkpoint_path, read_checkpoint


def check_devices(plan: LadderPlan, devices: int) -> None:
    """Refuse a device count this machine or the plan cannot take, before any work."""
    if isinstance(devices, bool) or not isinstance(devices, int) or devices < 1:
        raise ScalingLawsError(f"--devices must be a whole number of devices, at least 1 (got {devices!r})")
    if devices == 1:
        return
    if plan.device.startswith("cuda"):
        import torch

        have = torch.cuda.device_count()
        if devices > have:
            raise ScalingLawsError(f"--devices {devices}: torch sees {have} CUDA device{'s' * (have != 1)}. Give "
                                   f"--devices {max(have, 1)} or fewer")
    odd = [r for r in plan.rungs if r.batch % devices]
    if odd:
        r = odd[0]
        raise ScalingLawsError(f"--devices {devices}: rung {r.name}'s batch of {r.batch} sequences does not split "
                               f"into {devices} equal parts. Set its batch to a multiple of {devices} in the plan "
                               f"(e.g. batch = {max(devices, r.batch // devices * devices)})")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _error_file(folder: Path, rung: Rung, rank: int) -> Path:
    return folder / f".{rung.name}.rank{rank}.error"


def _result_file(folder: Path, rung: Rung) -> Path:
    return folder / f".{rung.name}.parallel.json"


class StoreWriter:
    """Rank 0's emit: each point to the store as it is made, counting those the store did not hold."""

    def __init__(self, store, source: str):
        self.store, self.source, self.written = store, source, 0

    def __call__(self, point: dict) -> None:
        self.written += append_points([point], self.store, source=self.source)


def train_parallel(plan: LadderPlan, rung: Rung, folder: str | Path, store, devices: int, *,
                   crash_at: int | None = None, threads: int | None = None) -> tuple[RungResult, int]:
    """Train `rung` on `devices` local processes; returns its result and how many points went into the store."""
    import torch.multiprocessing as mp

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = read_checkpoint(checkpoint_path(folder, rung))
    resumed = 0 if state is None else int(state["step"])
    for path in [_result_file(folder, rung)] + [_error_file(folder, rung, r) for r in range(devices)]:
        path.unlink(missing_ok=True)
    if threads is None and not plan.device.startswith("cuda"):
        threads = max(1, (os.cpu_count() or 1) // devices)  # the ranks share the cores
    try:
        mp.start_processes(_worker, args=(plan, rung, str(folder), str(store), devices, _free_port(), crash_at,
                                          threads), nprocs=devices, join=True, start_method="spawn")
    except (mp.ProcessRaisedException, mp.ProcessExitedException) as exc:
        raise _rank_error(folder, rung, devices, exc) from None
    state = read_checkpoint(checkpoint_path(folder, rung))
    written = json.loads(_result_file(folder, rung).read_text())["written"]
    _result_file(folder, rung).unlink(missing_ok=True)
    return RungResult(plan.run_name(rung), tuple(state["points"]), resumed), int(written)


def _rank_error(folder: Path, rung: Rung, devices: int, exc: Exception) -> Exception:
    """The first failing rank's error as the one the single-process loop would have raised."""
    for rank in range(devices):
        path = _error_file(folder, rung, rank)
        if path.exists():
            err = json.loads(path.read_text())
            path.unlink(missing_ok=True)
            if err["kind"] == "Crash":
                return Crash(err["message"])
            if err["kind"] == "ScalingLawsError":
                return ScalingLawsError(err["message"])
            return ScalingLawsError(f"rung {rung.name} failed on rank {rank} of {devices} ({err['kind']}: "
                                    f"{err['message']}). Run again to resume it from its checkpoint")
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return ScalingLawsError(f"rung {rung.name}: a process of {devices} died ({first}). Run again to resume it from "
                            "its checkpoint")


def _worker(rank: int, plan: LadderPlan, rung: Rung, folder: str, store: str, world: int, port: int,
            crash_at: int | None, threads: int | None) -> None:
    """One rank: join the group, read the corpus in the plan's tokens (the driver trained the tokenizer), train."""
    import torch.distributed as dist

    from .loop import train_rung
    from .tokenizer import corpus_for

    backend = "nccl" if plan.device.startswith("cuda") else "gloo"
    code = 0
    try:
        dist.init_process_group(backend, init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
        tokens = corpus_for(plan, folder, train=False)
        writer = StoreWriter(store, f"ladder:{plan.run_name(rung)}")
        train_rung(plan, rung, tokens.corpus, folder, emit=writer, crash_at=crash_at, threads=threads,
                   token_bytes=tokens.token_bytes, rank=rank, world=world)
        if rank == 0:
            _result_file(Path(folder), rung).write_text(json.dumps({"written": writer.written}))
    except BaseException as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        _error_file(Path(folder), rung, rank).write_text(json.dumps({"kind": type(exc).__name__,
                                                                     "message": message}))
        if not isinstance(exc, (Crash, ScalingLawsError)):
            raise  # unexpected: its traceback goes to the launcher
        code = 1
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    # Everything this rank wrote is closed (store connections, checkpoint, result files). The interpreter's own
    # shutdown with torch loaded takes seconds (half a micro rung's run on a busy CPU), so the rank ends here.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
