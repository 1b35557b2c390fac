"""Runs tables as an ingest source: any file `read_runs` reads (CSV, Parquet, JSON), or dataset:NAME."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from .common import Batch, sha256_file


def read_table(source: str, progress: Callable[[int, int], None] | None = None) -> Batch:
    from ..runs import read_runs

    runs = read_runs(source)
    files = ()
    path = Path(source.partition("?")[0])
    if source.startswith("dataset:"):
        from ..datasets import dataset_path

        path = dataset_path(source.partition("?")[0][len("dataset:"):])
    if path.is_file():
        files = ((str(path), sha256_file(path)),)
    cols = {k: [None if isinstance(v, float) and np.isnan(v) else v for v in np.asarray(runs[k]).tolist()]
            for k in runs.names}
    if progress is not None:
        progress(1, 1)
    return Batch("table", source, cols, files, tuple(runs.notes))
