"""Weights & Biases: exports read offline, and the W&B API (optional extra) for a live project.

Offline, any of what W&B hands out:
- a panel's CSV export ("Step", then "RUN - METRIC" columns, with RUN - METRIC__MIN / __MAX ranges that are
  dropped): one row per run and step;
- a run's history downloaded as CSV (_step, _runtime, _timestamp and the metrics as logged, train/loss): one run,
  named after the file, one row per step;
- the runs table's CSV export ("Name", "State", ..., then config and summary columns): one row per run;
- JSON: a run's history as a list of rows (with "_step"), JSON lines of the same, or a list of runs
  [{"name", "config", "summary", "history": [...]}] (the shape `read_wandb_api` fetches, so a script can save
  the API's answer once and ingest it anywhere).
A history row becomes one row per run and step; the run's config is flattened ("optimizer.lr") into constant
columns prefixed "config."; a run without history gives one row of its summary.

Online, `wandb:ENTITY/PROJECT` (or ENTITY/PROJECT/RUN_ID) asks the API, with the wandb package (pip install
'scalinglaws[wandb]') and its usual login; every history row is fetched (scan_history), not a sample.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from ..errors import MissingDependency, ScalingLawsError
from .common import Batch, Rows, column_name, flatten, scalar, sha256_file

INTERNAL = {"_step", "_runtime", "_timestamp", "_wandb"}
RANGE_SUFFIXES = ("__MIN", "__MAX")


def _number(text: str):
    text = text.strip()
    if text == "" or text.lower() in ("nan", "none", "null"):
        return None
    try:
        return float(text)
    except ValueError:
        return text


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            table = list(csv.reader(fh))
    except UnicodeDecodeError as exc:
        raise ScalingLawsError(f"{path.name} is not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r}). "
                               "Export it again from W&B as CSV, or convert it, e.g. iconv -f latin1 -t utf-8"
                               ) from None
    if not table or not table[0]:
        raise ScalingLawsError(f"{path.name} is empty: export the panel or runs table again from W&B")
    return table[0], table[1:]


def _check_width(path: Path, header: list[str], body: list[list[str]]) -> None:
    for line, cells in enumerate(body, start=2):
        if cells and len(cells) != len(header):
            raise ScalingLawsError(f"{path.name}: line {line} has {len(cells)} cells but the header has "
                                   f"{len(header)}: the export is cut short or damaged there. Export it again")


def is_panel_csv(header: list[str]) -> bool:
    return header[0].strip() in ("Step", "step", "_step") and any(" - " in h for h in header[1:])


def is_history_csv(header: list[str]) -> bool:
    """A run's history downloaded as CSV: W&B's own columns (_step, and _runtime or _timestamp) beside the
    metrics logged under their own names (train/loss)."""
    names = {h.strip() for h in header}
    return "_step" in names and bool({"_runtime", "_timestamp"} & names) and not is_panel_csv(header)


def _history(path: Path, header: list[str], body: list[list[str]], rows: Rows) -> None:
    """One run, named after the file, whose rows are its history: read as the JSON history rows are."""
    names = [h.strip() for h in header]
    history = [{k: _number(c) for k, c in zip(names, cells) if _number(c) is not None} for cells in body if cells]
    add_run(rows, path.stem, {}, {}, history)


def is_runs_csv(header: list[str]) -> bool:
    return "Name" in header and ("State" in header or "ID" in header)


def _panel(path: Path, header: list[str], body: list[list[str]], rows: Rows) -> None:
    series = []
    for j, name in enumerate(header[1:], start=1):
        if name.endswith(RANGE_SUFFIXES):
            continue  # W&B's min/max envelope of a smoothed or sampled line, not a measurement
        run, sep, metric = name.rpartition(" - ")
        if not sep:
            raise ScalingLawsError(f"{path.name}: column '{name}' is not 'RUN - METRIC' as W&B names panel exports")
        series.append((j, run.strip(), column_name(metric.strip())))
    for line, cells in enumerate(body, start=2):
        if not cells:
            continue
        step = _number(cells[0])
        if not isinstance(step, float):
            raise ScalingLawsError(f"{path.name}: line {line} has step {cells[0]!r}; the first column must be the "
                                   "step number")
        for j, run, metric in series:
            value = _number(cells[j]) if j < len(cells) else None
            if value is not None:
                rows.add((run, step), metric, value)


def _runs_table(header: list[str], body: list[list[str]], rows: Rows) -> None:
    name_at = header.index("Name")
    for cells in body:
        if not cells:
            continue
        run = cells[name_at]
        values = {column_name(h): _number(c) for h, c in zip(header, cells) if h != "Name"}
        rows.update((run, None), {k: v for k, v in values.items() if v is not None})


def _step_of(record: Mapping, default: int, where: str) -> float:
    step = record.get("_step", default)
    if isinstance(step, bool) or not isinstance(step, (int, float)) or step != step:
        if isinstance(step, str):
            try:
                return float(step)
            except ValueError:
                pass
        raise ScalingLawsError(f"{where}: _step is {step!r}, not a step number. Fix the export, or drop that row")
    return float(step)


def add_run(rows: Rows, name: str, config: Mapping, summary: Mapping, history: Iterable[Mapping],
            where: str = "the W&B run") -> int:
    """One run's history (or, without history, its summary) as rows, config as constant columns."""
    for field_name, value in (("config", config), ("summary", summary)):
        if not isinstance(value, Mapping):
            raise ScalingLawsError(f"{where}: run {name!r} has a '{field_name}' that is {type(value).__name__}, not "
                                   "an object of name -> value as W&B exports it. Fix the export")
    if not isinstance(history, (list, tuple)) and not hasattr(history, "__next__"):
        raise ScalingLawsError(f"{where}: run {name!r} has a 'history' that is {type(history).__name__}, not a list "
                               "of rows (objects with _step). Fix the export")
    constants = {f"config.{k}": v for k, v in flatten(config).items() if not k.startswith("_")}
    n = 0
    for i, record in enumerate(history):
        if not isinstance(record, Mapping):
            raise ScalingLawsError(f"{where}: history row {i + 1} of run {name!r} is {type(record).__name__} "
                                   f"{str(record)[:30]!r}, not an object of metric -> value. Fix the export")
        step = _step_of(record, n, f"{where}: history row {i + 1} of run {name!r}")
        values = {column_name(k): scalar(v) for k, v in record.items() if k not in INTERNAL}
        values = {k: v for k, v in values.items() if v is not None}
        if "_timestamp" in record and isinstance(record["_timestamp"], (int, float)):
            values["wall_time"] = float(record["_timestamp"])
        if not values:
            continue
        rows.update((name, step), {**constants, **values})
        n += 1
    if n == 0:
        values = {column_name(k): v for k, v in flatten(summary).items() if not k.startswith("_")}
        rows.update((name, None), {**constants, **values})
    return n


def _json_runs(path: Path, data, rows: Rows) -> None:
    if isinstance(data, Mapping) and isinstance(data.get("runs"), list):
        data = data["runs"]
    if isinstance(data, Mapping) and ("history" in data or "summary" in data or "config" in data):
        data = [data]
    if not isinstance(data, list) or not data or not all(isinstance(r, Mapping) for r in data):
        raise ScalingLawsError(f"{path.name}: expected W&B history rows (objects with _step) or runs "
                               "({\"name\", \"config\", \"summary\", \"history\"}); found something else")
    if any(k in data[0] for k in ("history", "summary", "config")):
        for r in data:
            name = str(r.get("name") or r.get("id") or path.stem)
            add_run(rows, name, r.get("config") or {}, r.get("summary") or {}, r.get("history") or [], path.name)
        return
    runs: dict[str, list] = {}
    for r in data:  # plain history rows, of one run or tagged with theirs
        runs.setdefault(str(r.get("run") or r.get("name") or path.stem), []).append(
            {k: v for k, v in r.items() if k not in ("run", "name")})
    for name, history in runs.items():
        add_run(rows, name, {}, {}, history, path.name)


def _load(path: Path):
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScalingLawsError(f"{path.name} is not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r} at "
                               f"offset {exc.start}). Export it again from W&B, or convert it, e.g. iconv -f latin1 "
                               "-t utf-8") from None
    if path.suffix == ".jsonl":
        return _json_lines(path, text)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if text.lstrip().startswith("{") and "\n" in text.strip():
            return _json_lines(path, text)
        raise ScalingLawsError(f"{path.name} is not valid JSON ({exc.msg} at line {exc.lineno})") from None


def _json_lines(path: Path, text: str) -> list:
    out = []
    for i, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ScalingLawsError(f"{path.name}: line {i} is not valid JSON ({exc.msg}). Fix or drop that "
                                       "line") from None
    return out


def read_wandb(source: str, progress: Callable[[int, int], None] | None = None) -> Batch:
    if source.startswith("wandb:"):
        return read_wandb_api(source[len("wandb:"):], progress)
    path = Path(source)
    files = sorted(p for p in path.rglob("*") if p.suffix in (".csv", ".json", ".jsonl")) if path.is_dir() else [path]
    if not files or not files[0].exists():
        raise ScalingLawsError(f"{source}: no such file (or no .csv/.json/.jsonl W&B exports in this folder)")
    rows, hashes = Rows(), []
    for i, f in enumerate(files):
        if f.suffix == ".csv":
            header, body = _read_csv(f)
            _check_width(f, header, body)
            if is_panel_csv(header):
                _panel(f, header, body, rows)
            elif is_history_csv(header):
                _history(f, header, body, rows)
            elif is_runs_csv(header):
                _runs_table(header, body, rows)
            else:
                raise ScalingLawsError(f"{f.name} is not a W&B export: expected a panel CSV (Step, 'RUN - METRIC' "
                                       "columns), a run's history (_step, _runtime, metrics) or the runs table "
                                       "(Name, State, ...)")
        else:
            _json_runs(f, _load(f), rows)
        hashes.append((str(f), sha256_file(f)))
        if progress is not None:
            progress(i + 1, len(files))
    if not any(not c.startswith("config.") for row in rows.rows.values() for c in row):
        raise ScalingLawsError(f"{source}: no metric in this W&B export (no history rows and no summary values, "
                               "only config): nothing to ingest. Export the run's history or summary")
    notes = [f"{rows.replaced} values given twice for one run and step: kept the later"] if rows.replaced else []
    return Batch("wandb", source, rows.columns(("run", "step")), tuple(hashes), tuple(notes))


def read_wandb_api(path: str, progress: Callable[[int, int], None] | None = None) -> Batch:
    """ENTITY/PROJECT or ENTITY/PROJECT/RUN_ID through wandb.Api()."""
    try:
        import wandb
    except ImportError:
        raise MissingDependency("wandb:... needs the wandb package, which is not installed. Install it with pip "
                                "install 'scalinglaws[wandb]' (or export the runs as CSV/JSON from the W&B page and "
                                "ingest the file)", "wandb") from None
    parts = [p for p in path.strip("/").split("/") if p]
    if len(parts) not in (2, 3):
        raise ScalingLawsError(f"wandb:{path}: write wandb:ENTITY/PROJECT or wandb:ENTITY/PROJECT/RUN_ID")
    try:
        api = wandb.Api()
        runs = [api.run("/".join(parts))] if len(parts) == 3 else list(api.runs("/".join(parts)))
    except Exception as exc:  # the client's own errors (no login, no such project, no network)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ScalingLawsError(f"wandb:{path}: the W&B API refused: {first}") from None
    rows = Rows()
    for i, run in enumerate(runs):
        summary = getattr(run, "summary", {}) or {}
        summary = getattr(summary, "_json_dict", summary)
        add_run(rows, str(run.name or run.id), dict(run.config or {}), dict(summary), run.scan_history())
        if progress is not None:
            progress(i + 1, len(runs))
    return Batch("wandb", f"wandb:{path}", rows.columns(("run", "step")), (), (f"{len(runs)} runs from the W&B API",))
