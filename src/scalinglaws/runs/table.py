"""`Runs`: the immutable runs table every part of scalinglaws reads.

Columns are read-only numpy arrays of equal length (numbers as float64, labels as str objects). Each row remembers
where it came from (`lines`) so that an error about row 17 can name line 18 of the file it was read from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from ..errors import ScalingLawsError, require
from ..render.text import plural
from .schema import COLUMNS, likely_column


def fit_columns(inputs: Iterable[str], target: str) -> list[str]:
    """The columns a fit's data hash covers: the columns its law reads, its target, and the run names (a row that
    moves to another run changes what a bootstrap over runs resamples). The one list behind the hash the engine
    records and the checks that rows read again (figures, the run store) are the rows a fit saw."""
    return list(dict.fromkeys([*inputs, target, "run"]))


def _freeze(arr: np.ndarray) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.flags.writeable:  # copy, so that no outside reference can change the table
        arr = arr.copy()
        arr.flags.writeable = False
    return arr


@dataclass(frozen=True, eq=False)
class Runs:
    """An immutable table of training-run measurements (see docs/runs-table.md)."""

    columns: Mapping[str, np.ndarray]
    source: str = "<memory>"
    lines: np.ndarray | None = None  # where each row came from: file line numbers, or DataFrame row labels
    line_word: str = "row"  # "line" for text files, "row" otherwise
    notes: tuple[str, ...] = field(default=())
    filters: tuple[str, ...] = field(default=())  # the --where conditions that selected these rows, in order

    def __post_init__(self) -> None:
        cols = {str(k): _freeze(v) for k, v in self.columns.items()}
        lengths = {len(v) for v in cols.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns of unequal length: { {k: len(v) for k, v in cols.items()} }")
        n = lengths.pop() if lengths else 0
        lines = np.arange(1, n + 1) if self.lines is None else np.asarray(self.lines)
        object.__setattr__(self, "columns", MappingProxyType(cols))
        object.__setattr__(self, "lines", _freeze(lines))

    # -- access -------------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.lines)

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.columns[name]
        except KeyError:
            raise ScalingLawsError(self.missing_message(name)) from None

    @property
    def names(self) -> list[str]:
        return list(self.columns)

    @property
    def run_ids(self) -> np.ndarray:
        """The run of every row; rows without a `run` column are each their own run."""
        if "run" in self.columns:
            return self.columns["run"]
        return np.array([f"row-{i}" for i in range(len(self))], dtype=object)

    @property
    def n_runs(self) -> int:
        return len(set(self.run_ids.tolist()))

    def locate(self, i: int) -> str:
        """'line 18 of runs.csv': where row i came from, for error messages."""
        return f"{self.line_word} {self.lines[i]} of {self.source}"

    def missing_message(self, name: str, fix: str | None = None) -> str:
        found = ", ".join(self.names[:12]) + (", …" if len(self.names) > 12 else "")
        guess = likely_column(name, self.names)
        if fix is None and guess is not None:
            fix = (f"It looks like '{guess}': pass --map {name}={guess} (in Python rename={{{guess!r}: {name!r}}}), "
                   "or rename it")
        fix = fix or f"Rename it, or pass --map {name}=<your column>"
        return f"column '{name}' is missing from {self.source} (found: {found}). {fix}."

    # -- derivation ---------------------------------------------------------------------------------------------
    def take(self, index: np.ndarray | Iterable[int]) -> Runs:
        """Rows by position (or boolean mask), keeping their origin."""
        index = np.asarray(index)
        if index.dtype == bool:
            index = np.flatnonzero(index)
        return Runs({k: v[index] for k, v in self.columns.items()}, source=self.source,
                    lines=self.lines[index], line_word=self.line_word, notes=self.notes, filters=self.filters)

    def with_columns(self, **new: np.ndarray) -> Runs:
        cols = dict(self.columns)
        cols.update({k: np.asarray(v) for k, v in new.items()})
        return Runs(cols, source=self.source, lines=self.lines, line_word=self.line_word, notes=self.notes,
                    filters=self.filters)

    def where(self, *conditions: str) -> Runs:
        """Rows matching every condition, e.g. `runs.where("family=pythia", "params<1e9")`."""
        from .filter import apply_filters

        return apply_filters(self, conditions)

    def groups(self, by: str) -> dict[str, Runs]:
        """Split by the values of one column, in order of first appearance."""
        labels = self[by].astype(str)
        order = list(dict.fromkeys(labels.tolist()))
        return {lab: self.take(labels == lab) for lab in order}

    # -- identity -----------------------------------------------------------------------------------------------
    def hash(self, names: Iterable[str] | None = None) -> str:
        """A short SHA-256 of the named columns' values (all columns by default), in row order."""
        h = hashlib.sha256()
        for name in sorted(self.names if names is None else set(names)):
            if name not in self.columns:
                continue
            col = self.columns[name]
            h.update(name.encode() + b"\0")
            if col.dtype.kind == "f":
                h.update(np.ascontiguousarray(col, dtype="<f8").tobytes())
            else:
                h.update("\0".join(map(str, col.tolist())).encode())
        return h.hexdigest()[:16]

    def ranges(self, names: Iterable[str]) -> dict[str, list[float]]:
        out = {}
        for name in names:
            if name in self.columns and self.columns[name].dtype.kind == "f":
                col = self.columns[name][np.isfinite(self.columns[name])]
                if col.size:
                    out[name] = [float(col.min()), float(col.max())]
        return out

    # -- export -------------------------------------------------------------------------------------------------
    def to_pandas(self):
        pd = require("pandas", "to_pandas()")

        return pd.DataFrame({k: np.array(v) for k, v in self.columns.items()})

    def to_arrow(self):
        pa = require("pyarrow", "to_arrow()")

        return pa.table({k: np.array(v) for k, v in self.columns.items()})

    def describe(self) -> dict:
        """Rows, runs, and the range of every schema number column: what a listing shows."""
        info = {"source": self.source, "rows": len(self), "runs": self.n_runs,
                "ranges": self.ranges([c for c in COLUMNS if COLUMNS[c].kind == "number"])}
        if self.notes:
            info["notes"] = list(self.notes)
        return info

    def __repr__(self) -> str:
        return f"Runs({len(self)} rows, {plural(self.n_runs, 'run')}, columns={self.names}, source={self.source!r})"

    def _repr_html_(self) -> str:
        from ..render.html_tables import runs_html

        return runs_html(self)
