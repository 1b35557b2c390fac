"""The runs table: schema, validation and readers (see docs/runs-table.md)."""

from .io import parse_map, read_runs
from .schema import COLUMNS, SYMBOLS
from .table import Runs, fit_columns
from .validate import require

__all__ = ["COLUMNS", "SYMBOLS", "Runs", "fit_columns", "parse_map", "read_runs", "require"]
