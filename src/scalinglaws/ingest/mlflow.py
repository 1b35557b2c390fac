"""MLflow: the local file store (an `mlruns` folder) read directly, a `search_runs` CSV export, and a tracking
server through the mlflow package (optional extra).

The file store keeps one folder per run with `meta.yaml`, `metrics/NAME` (lines "timestamp value step"; a metric
named a/b lives in metrics/a/b), `params/NAME` (the value) and `tags/NAME`. Metrics become one row per run and step;
params become constant columns `params.NAME` of their run, as MLflow's own search_runs names them. Deleted runs
(lifecycle_stage: deleted) and the .trash folder are left out. No mlflow installation is needed for this.

`mlflow:EXPERIMENT` asks the tracking server that MLFLOW_TRACKING_URI names, with the full metric histories.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from ..errors import MissingDependency, ScalingLawsError
from .common import Batch, Rows, column_name, sha256_file


def _text(path: Path, root: Path) -> str:
    """A file of the store as text: UTF-8, as MLflow writes it; anything else is refused, never garbled."""
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScalingLawsError(f"{path.relative_to(root.parent) if root in path.parents else path}: not UTF-8 text "
                               f"(byte {exc.object[exc.start:exc.start + 1]!r} at offset {exc.start}). MLflow writes "
                               "UTF-8: convert the file, e.g. iconv -f latin1 -t utf-8") from None


def _name(path: Path, base: Path, root: Path) -> str:
    """A metric's or param's name from its path below metrics/ or params/, refused when not UTF-8."""
    name = path.relative_to(base).as_posix()
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise ScalingLawsError(f"{path.relative_to(root.parent)}: the file name is not UTF-8, so the metric or "
                               "param it holds has no readable name. Rename the file") from None
    return name


def _meta(path: Path) -> dict[str, str]:
    """The top-level `key: value` lines of an MLflow meta.yaml (all that is needed; no YAML library required)."""
    out = {}
    for line in _text(path, path.parent).splitlines():
        if not line or line[0] in " \t-#" or ":" not in line:
            continue
        key, _, value = line.partition(":")
        out[key.strip()] = value.strip().strip("'\"")
    return out


def run_dirs(root: Path) -> list[Path]:
    if not root.exists():
        raise ScalingLawsError(f"{root}: no such folder. Give an MLflow store (the mlruns folder), an experiment "
                               "or a run folder")
    if root.is_file():
        raise ScalingLawsError(f"{root} is a file; give the mlruns folder (or a search_runs CSV export)")
    found = sorted({p.parent for p in root.rglob("meta.yaml")
                    if ".trash" not in p.parts and any((p.parent / d).is_dir() for d in ("metrics", "params"))})
    if not found:
        raise ScalingLawsError(f"{root}: no MLflow runs (folders with meta.yaml and metrics/) in it or below it")
    return found


def _metric_files(run: Path):
    base = run / "metrics"
    if base.is_dir():
        for f in sorted(p for p in base.rglob("*") if p.is_file()):
            yield _name(f, base, run), f


def read_run(run: Path, rows: Rows) -> list[Path]:
    meta = _meta(run / "meta.yaml")
    if meta.get("lifecycle_stage") == "deleted":
        return []
    tag = run / "tags" / "mlflow.runName"
    name = (meta.get("run_name") or (_text(tag, run).strip() if tag.is_file() else "") or meta.get("run_id")
            or _name(run, run.parent, run))
    params = {}
    pdir = run / "params"
    if pdir.is_dir():
        for f in sorted(p for p in pdir.rglob("*") if p.is_file()):
            text = _text(f, run).strip()
            params[f"params.{column_name(_name(f, pdir, run))}"] = _num(text)
    files = [run / "meta.yaml"]
    steps = set()
    for metric, f in _metric_files(run):
        files.append(f)
        latest: dict[float, tuple[float, float]] = {}
        for i, line in enumerate(_text(f, run).splitlines(), start=1):
            parts = line.split()
            if not parts:
                continue
            try:
                ts, value = float(parts[0]), float(parts[1])
                step = float(parts[2]) if len(parts) > 2 else 0.0
            except (ValueError, IndexError):
                raise ScalingLawsError(f"{f.relative_to(run.parent)}: line {i} is not 'timestamp value step' "
                                       f"({line.strip()[:40]!r}). The MLflow store is damaged there") from None
            if step not in latest or ts >= latest[step][0]:
                latest[step] = (ts, value)
        for step, (ts, value) in latest.items():
            rows.add((name, step), column_name(metric), value)
            steps.add(step)
    for step in steps or {None}:
        rows.update((name, step), params)
    return files


def read_search_runs_csv(path: Path, rows: Rows) -> None:
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            table = list(csv.DictReader(fh))
    except UnicodeDecodeError as exc:
        raise ScalingLawsError(f"{path.name} is not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r}). "
                               "Export it again, or convert it, e.g. iconv -f latin1 -t utf-8") from None
    for r in table:
        name = r.get("tags.mlflow.runName") or r.get("run_id")
        values = {}
        for k, v in r.items():
            if v in (None, "") or k in ("run_id", "tags.mlflow.runName"):
                continue
            col = column_name(k[len("metrics."):]) if k.startswith("metrics.") else column_name(k)
            values[col] = _num(v)
        rows.update((name, None), values)


def read_mlflow(source: str, progress: Callable[[int, int], None] | None = None) -> Batch:
    if source.startswith("mlflow:"):
        return read_mlflow_api(source[len("mlflow:"):], progress)
    root = Path(source)
    rows, hashes = Rows(), []
    if root.suffix == ".csv" and root.is_file():
        with open(root, encoding="utf-8-sig", errors="replace") as fh:
            header = fh.readline()
        if "run_id" not in header:
            raise ScalingLawsError(f"{root.name} is not an MLflow search_runs export (no run_id column)")
        read_search_runs_csv(root, rows)
        hashes.append((str(root), sha256_file(root)))
    else:
        runs = run_dirs(root)
        for i, run in enumerate(runs):
            hashes.extend((str(f), sha256_file(f)) for f in read_run(run, rows))
            if progress is not None:
                progress(i + 1, len(runs))
    if not any(k for k, row in rows.rows.items() for c in row if not c.startswith("params.")):
        raise ScalingLawsError(f"{source}: no metric was logged in any of its runs (no files under metrics/): "
                               "nothing to fit. Log metrics with mlflow.log_metric, or give another folder")
    notes = [f"{rows.replaced} values given twice for one run and step: kept the later"] if rows.replaced else []
    return Batch("mlflow", source, rows.columns(("run", "step")), tuple(hashes), tuple(notes))


def read_mlflow_api(experiment: str, progress: Callable[[int, int], None] | None = None) -> Batch:
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise MissingDependency("mlflow:... needs the mlflow package, which is not installed. Install it with pip "
                                "install 'scalinglaws[mlflow]' (or ingest the mlruns folder directly)",
                                "mlflow") from None
    try:
        client = MlflowClient()
        exp = client.get_experiment_by_name(experiment)
        if exp is None:
            raise ScalingLawsError(f"mlflow:{experiment}: no such experiment on the tracking server")
        runs = list(client.search_runs([exp.experiment_id]))
        rows = Rows()
        for i, run in enumerate(runs):
            name = run.info.run_name or run.data.tags.get("mlflow.runName") or run.info.run_id
            params = {f"params.{column_name(k)}": _num(v) for k, v in run.data.params.items()}
            steps = set()
            for key in run.data.metrics:
                for m in client.get_metric_history(run.info.run_id, key):
                    rows.add((name, float(m.step)), column_name(key), float(m.value))
                    steps.add(float(m.step))
            for step in steps or {None}:
                rows.update((name, step), params)
            if progress is not None:
                progress(i + 1, len(runs))
    except ScalingLawsError:
        raise
    except Exception as exc:  # the client's own errors: no server, no permission
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ScalingLawsError(f"mlflow:{experiment}: the tracking server refused: {first}") from None
    return Batch("mlflow", f"mlflow:{experiment}", rows.columns(("run", "step")), (),
                 (f"{len(runs)} runs from the MLflow tracking server",))


def _num(text: str):
    try:
        return float(text)
    except ValueError:
        return text
