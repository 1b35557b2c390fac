"""Experiment logs into the runs table (see docs/ingest.md): one module per source.

    read_log(source, kind="auto") -> Batch          rows as logged, with the files read and their hashes
    read(source, kind="auto", rename=, constants=, join=) -> Runs   mapped and validated like any runs table
    READERS, detect(source)                         the sources: tensorboard, lm-eval, wandb, mlflow, table

Each reader is one module; adding a source is one module with a `read_x(source, progress) -> Batch` function and
one line in READERS (and, if it can be recognised, one rule in `detect`).
"""

from __future__ import annotations

import gzip
import importlib
import json
from collections.abc import Callable
from pathlib import Path

from ..errors import ScalingLawsError
from .common import Batch, column_name, to_runs

READERS = {
    "tensorboard": "scalinglaws.ingest.tensorboard:read_tensorboard",
    "lm-eval": "scalinglaws.ingest.lmeval:read_lmeval",
    "wandb": "scalinglaws.ingest.wandb:read_wandb",
    "mlflow": "scalinglaws.ingest.mlflow:read_mlflow",
    "table": "scalinglaws.ingest.table:read_table",
}
KINDS = tuple(READERS) + ("fit",)


def _json_head(path: Path):
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError, EOFError, RecursionError):
        return None


def detect_json(path: Path) -> str:
    from .lmeval import is_result

    data = _json_head(path)
    if isinstance(data, dict) and str(data.get("format", "")).startswith("scalinglaws.fit/"):
        return "fit"
    if is_result(data) or (isinstance(data, dict) and data and all(is_result(v) for v in data.values())):
        return "lm-eval"
    rows = data.get("runs") if isinstance(data, dict) and isinstance(data.get("runs"), list) else data
    first = rows[0] if isinstance(rows, list) and rows and isinstance(rows[0], dict) else rows
    if isinstance(first, dict) and ({"_step", "history", "summary", "config"} & set(first)):
        return "wandb"
    return "table"


def detect_csv(path: Path) -> str:
    import csv

    from .wandb import is_history_csv, is_panel_csv, is_runs_csv

    with open(path, newline="", encoding="utf-8-sig", errors="replace") as fh:
        header = next(csv.reader(fh), [])
    if header and (is_panel_csv(header) or is_history_csv(header) or is_runs_csv(header)):
        return "wandb"
    if "run_id" in header and any(h.startswith("metrics.") for h in header):
        return "mlflow"
    return "table"


def detect(source: str) -> str:
    """Which reader a source needs, from its scheme, name, or first bytes."""
    for scheme, kind in (("wandb:", "wandb"), ("mlflow:", "mlflow"), ("dataset:", "table"), ("store:", "table")):
        if source.startswith(scheme):
            return kind
    path = Path(source.partition("?")[0] if not Path(source).exists() else source)
    if not path.exists():
        raise ScalingLawsError(f"{source}: no such file or folder. Give a log folder or file, dataset:NAME, or "
                               "wandb:ENTITY/PROJECT")
    if path.is_dir():
        if next(path.rglob("*tfevents*"), None) is not None:
            return "tensorboard"
        if any((m.parent / "metrics").is_dir() for m in path.rglob("meta.yaml")):
            return "mlflow"
        found = {detect_json(p) for p in list(path.rglob("*.json"))[:20]}
        if "lm-eval" in found:
            return "lm-eval"
        if "wandb" in found or any(detect_csv(p) == "wandb" for p in list(path.rglob("*.csv"))[:20]):
            return "wandb"
        raise ScalingLawsError(f"{source}: cannot tell what this folder holds (no event files, MLflow runs or "
                               f"lm-eval results). Say which with --from {{{', '.join(READERS)}}}")
    name = path.name.lower()
    if "tfevents" in name:
        return "tensorboard"
    if name.endswith((".json", ".json.gz")):
        return detect_json(path)
    if name.endswith(".jsonl"):
        return "wandb" if '"_step"' in path.read_text(encoding="utf-8", errors="replace")[:4096] else "table"
    if name.endswith(".csv"):
        return detect_csv(path)
    return "table"


def read_log(source: str, kind: str = "auto", progress: Callable[[int, int], None] | None = None) -> Batch:
    """Rows of one source as logged (no renames, no validation yet)."""
    source = str(source)
    kind = detect(source) if kind in ("auto", None) else kind
    if kind == "fit":
        raise ScalingLawsError(f"{source} is a fit record, not a log of runs: save it with `scalinglaws ingest` "
                               "(which stores fits) or scalinglaws.store.save_fit")
    if kind not in READERS:
        raise ScalingLawsError(f"--from {kind}: unknown source. Choose one of: auto, {', '.join(KINDS)}")
    module, func = READERS[kind].split(":")
    reader = getattr(importlib.import_module(module), func)
    try:
        return reader(source, progress)
    except ScalingLawsError:
        raise
    except UnicodeDecodeError as exc:
        raise ScalingLawsError(f"{source}: a file is not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r}); "
                               f"{kind} logs are UTF-8. Convert it, e.g. iconv -f latin1 -t utf-8") from None
    except RecursionError:
        raise ScalingLawsError(f"{source}: nested too deeply to be a {kind} log. Check the file") from None
    except (TypeError, AttributeError, KeyError, IndexError) as exc:  # a shape the reader does not know: the
        # log's fault, not a bug to show as a traceback; the message says which value surprised it
        first = str(exc).strip().splitlines()[0][:80] if str(exc).strip() else type(exc).__name__
        raise ScalingLawsError(f"{source}: not a {kind} log this reader understands ({type(exc).__name__}: "
                               f"{first}). Check the file, or choose another reader with --from") from None


def read(source: str, kind: str = "auto", *, rename=None, constants=None, join=None,
         progress: Callable[[int, int], None] | None = None):
    """A log as a validated runs table: `read("logs/", rename={"train/loss": "loss"}, constants={"params": 1e9})`."""
    runs, _ = to_runs(read_log(source, kind, progress), rename=rename, constants=constants, join=join)
    return runs


__all__ = ["KINDS", "READERS", "Batch", "column_name", "detect", "read", "read_log", "to_runs"]
