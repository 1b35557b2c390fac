"""lm-evaluation-harness result files: one row per model, checkpoint and shot count, one column per task metric.

Both generations of the harness's output are read:
- v0.3 and earlier: {"results": {task: {"acc": x, "acc_stderr": s}}, "versions": ..., "config": {"model_args":
  "pretrained=NAME,revision=step1000", "num_fewshot": 0, ...}};
- v0.4: {"results": {task: {"acc,none": x, "acc_stderr,none": s, "alias": ...}}, "n-shot": {task: k},
  "config": {...}, "model_name": ...}, where a metric's name carries its filter after a comma.
A metric becomes the column TASK__METRIC (the filter appended when it is not "none"), its standard error
TASK__METRIC_stderr. The model comes from `pretrained=` (else the config's model), the checkpoint from
`revision=` (a revision named stepN also gives the column `step`), the shots from num_fewshot or n-shot.
A folder is searched for result files; a JSON object mapping names to result files (how some projects bundle
them) is read too. Parameter counts are not in these files: add them with --set params=... or --join sizes.csv.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path

from ..errors import ScalingLawsError
from .common import Batch, Rows, column_name, sha256_file

_STEP = re.compile(r"(?:^|[^a-z])step[-_]?(\d+)", re.I)


def load_json(path: Path):
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise ScalingLawsError(f"{path.name} is not valid JSON ({exc.msg} at line {exc.lineno}): is it an "
                               "lm-evaluation-harness result file?") from None
    except UnicodeDecodeError as exc:
        raise ScalingLawsError(f"{path.name} is not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r} at "
                               f"offset {exc.start}): JSON must be UTF-8. Convert it, e.g. iconv -f latin1 -t utf-8"
                               ) from None
    except RecursionError:
        raise ScalingLawsError(f"{path.name} is nested too deeply to be an lm-evaluation-harness result") from None
    except (OSError, EOFError) as exc:
        raise ScalingLawsError(f"{path.name} could not be read ({type(exc).__name__}: {exc}). Check the file") from None


def is_result(obj) -> bool:
    return isinstance(obj, Mapping) and isinstance(obj.get("results"), Mapping)


def _model_args(config: Mapping) -> dict[str, str]:
    args = config.get("model_args") or ""
    if isinstance(args, Mapping):
        return {str(k): str(v) for k, v in args.items()}
    out = {}
    for part in str(args).split(","):
        k, sep, v = part.partition("=")
        if sep:
            out[k.strip()] = v.strip()
    return out


def identity(result: Mapping, name: str) -> dict:
    """model, revision, step and shots of one result file."""
    config = result.get("config") or {}
    if not isinstance(config, Mapping):
        raise ScalingLawsError(f"{name}: 'config' is {type(config).__name__} {str(config)[:40]!r}, not an object of "
                               "settings as lm-evaluation-harness writes it. Fix the file, or give the model with "
                               "--set model=NAME after removing 'config'")
    args = _model_args(config)
    model = args.get("pretrained") or args.get("model") or result.get("model_name") or config.get("model")
    if not model:
        raise ScalingLawsError(f"{name}: no model name in the result (config.model_args has no pretrained=...). "
                               "Give one with --set model=NAME")
    out = {"model": str(model)}
    revision = args.get("revision")
    if revision:
        out["revision"] = revision
        m = _STEP.search(revision)
        if m:
            out["step"] = float(m.group(1))
    shots = config.get("num_fewshot")
    nshot = result.get("n-shot")
    if isinstance(nshot, Mapping) and nshot:
        values = {v for v in nshot.values() if isinstance(v, (int, float))}
        shots = values.pop() if len(values) == 1 else shots
    if isinstance(shots, (int, float)):
        out["shots"] = float(shots)
    limit = config.get("limit")
    if limit not in (None, 0):
        if isinstance(limit, bool) or not isinstance(limit, (int, float)):
            raise ScalingLawsError(f"{name}: config.limit is {limit!r}, not a number (lm-evaluation-harness writes "
                                   "the number or fraction of examples per task). Fix the file")
        out["limit"] = float(limit)
    return out


def metrics(result: Mapping) -> dict[str, float]:
    out = {}
    for task, values in result["results"].items():
        if not isinstance(values, Mapping):
            continue
        for key, value in values.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue  # aliases, "N/A" stderrs of metrics without one
            metric, _, filt = key.partition(",")
            stderr = metric.endswith("_stderr")
            base = metric[: -len("_stderr")] if stderr else metric
            if filt and filt != "none":
                base = f"{base}_{filt}"
            out[column_name(f"{task}__{base}" + ("_stderr" if stderr else ""))] = float(value)
    return out


def result_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise ScalingLawsError(f"{root}: no such file or folder. Give an lm-eval result file or a folder of them")
    files = sorted(p for p in root.rglob("*") if p.is_file() and (p.name.endswith(".json") or
                                                                    p.name.endswith(".json.gz")))
    if not files:
        raise ScalingLawsError(f"{root}: no .json result files in this folder or below it")
    return files


def read_lmeval(source: str, progress: Callable[[int, int], None] | None = None) -> Batch:
    root = Path(source)
    files = result_files(root)
    rows, hashes, skipped, limited, empty = Rows(), [], [], 0, []
    for i, path in enumerate(files):
        data = load_json(path)
        if is_result(data):
            entries = [(path.name, data)]
        elif isinstance(data, Mapping) and data and all(is_result(v) for v in data.values()):
            entries = list(data.items())  # a bundle: name -> result
        else:
            if root.is_file():
                raise ScalingLawsError(f"{path.name} is not an lm-evaluation-harness result: it has no 'results' "
                                       "object of task -> metrics")
            skipped.append(path.name)
            continue
        for name, result in entries:
            ident = identity(result, name)
            found = metrics(result)
            if not found:
                empty.append(name)
                continue
            limited += "limit" in ident
            run = ident["model"] + (f"@{ident['revision']}" if "revision" in ident else "")
            key = (run, ident.get("shots"))
            rows.update(key, {k: v for k, v in ident.items() if k not in ("shots",)})
            rows.update(key, found)
        hashes.append((str(path), sha256_file(path)))
        if progress is not None:
            progress(i + 1, len(files))
    if not rows.rows and empty:
        raise ScalingLawsError(f"{source}: {empty[0]} has no metric in its 'results' (no task with a numeric value)"
                               "; nothing to ingest. Check that the evaluation finished")
    if not rows.rows:
        raise ScalingLawsError(f"{source}: none of its {len(files)} JSON files is an lm-evaluation-harness result")
    notes = []
    if empty:
        notes.append(f"skipped {len(empty)} results with no metric (e.g. {empty[0]})")
    if skipped:
        notes.append(f"skipped {len(skipped)} JSON files that are not lm-eval results (e.g. {skipped[0]})")
    if limited:
        notes.append(f"{limited} results were computed on a subset of each task (--limit): noisier than full runs")
    if rows.replaced:
        notes.append(f"{rows.replaced} metrics appear in two files for the same model and shots: kept the later")
    return Batch("lm-eval", source, rows.columns(("run", "shots")), tuple(hashes), tuple(notes))
