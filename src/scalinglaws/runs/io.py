"""Reading runs tables: CSV, Parquet, JSON lines, JSON arrays, pandas DataFrames, Arrow tables, bundled datasets.

`read_runs(source)` takes any of these and returns a validated `Runs`. Text sources are read with pyarrow, which is
fast and keeps pandas out of the command line's start-up; a DataFrame is accepted as it is.

Sources written `scheme:rest` are looked up in `SCHEMES`: `dataset:NAME` reads a bundled dataset and `store:PATH`
(optional extra) reads the local run store. Conditions after `?` filter the rows: `dataset:pythia_evals?shots=0`.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from ..errors import ArgumentError, ScalingLawsError, require
from .table import Runs
from .validate import DERIVED, validate
from .validate import require as require_columns

# scheme -> "module:function" returning a Runs for the part after the colon; imported only when used.
SCHEMES = {
    "dataset": "scalinglaws.datasets:_read_dataset_source",
    "store": "scalinglaws.store.source:read_store_source",
}

_TEXT_FORMATS = {".csv": "csv", ".tsv": "tsv", ".txt": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl",
                 ".json": "json", ".parquet": "parquet", ".pq": "parquet"}


class _Renames(dict):
    """New name -> column in the file: a rename read once (so reading it again changes nothing)."""


class _FromPython(_Renames):
    """A rename given in Python as old -> new (its errors say so), kept as new -> old like the CLI's."""


def parse_map(pairs: Iterable[str] | Mapping[str, str] | None) -> dict[str, str]:
    """-> {new name: column in the file}, from the CLI's `["tokens=size"]` (--map NEW=OLD) or from Python's
    `{"size": "tokens"}`, which maps old -> new as pandas' `DataFrame.rename(columns=...)` does."""
    if not pairs:
        return _Renames()
    if isinstance(pairs, _Renames):
        return pairs
    if isinstance(pairs, Mapping):
        out: dict[str, str] = _FromPython()
        for old, new in pairs.items():
            if not isinstance(old, str) or not isinstance(new, str) or not old.strip() or not new.strip():
                raise ArgumentError("rename", f"rename must map column names to column names (old -> new, as "
                                    f"pandas does), got {old!r}: {new!r}")
            if new in out:
                raise ArgumentError("rename", f"rename maps both {out[new]!r} and {old!r} to {new!r}; keep one")
            out[new.strip()] = old.strip()
        return out
    out = _Renames()
    for pair in pairs:
        new, sep, old = pair.partition("=")
        if not sep or not new.strip() or not old.strip():
            raise ScalingLawsError(f"--map '{pair}' is not NEW=OLD. Write e.g. --map tokens=n_tokens")
        if new.strip() in out:
            raise ScalingLawsError(f"--map {new.strip()} is given twice ({new.strip()}={out[new.strip()]} and "
                                   f"{pair.strip()}). Map each column once")
        out[new.strip()] = old.strip()
    return out


def read_runs(source, *, rename: Mapping[str, str] | Iterable[str] | None = None, where: Iterable[str] = (),
              require: Iterable[str] = (), purpose: str = "", dedupe: bool = True,
              constants: Mapping[str, object] | None = None) -> Runs:
    """Read and validate a runs table.

    source: a path (.csv .tsv .parquet .jsonl .json, optionally .gz), `dataset:NAME`, `store:PATH`, a pandas
        DataFrame, a pyarrow Table, a mapping of column -> values, or a `Runs`. `?cond&cond` after a path or
        scheme filters rows (see `Runs.where`).
    rename: existing column -> new name, as pandas' rename does ({"n_tokens": "tokens"}), applied before
        validation; or the CLI's `--map` strings, NEW=OLD (["tokens=n_tokens"]).
    where: row filters, e.g. ["family=pythia", "params<1e9"].
    require: columns that must be present and complete (no NaN) for what comes next.
    constants: columns with one value for every row ({"params": 1.6e8}; the CLI's `--set params=160M`), for what
        a table does not say (a log of one model); a column of that name is replaced.
    dedupe: drop repeated identical rows with a warning (off for tables of prediction targets, whose order and
        number must be kept).
    """
    rename = parse_map(rename)
    conditions = list(where)
    if constants:
        runs = read_runs(source, rename=rename, dedupe=dedupe)
        derived = [n for n in runs.notes if n.endswith(DERIVED)]  # computed from columns the constants may replace
        cols = {k: v for k, v in runs.columns.items() if not any(n.startswith(f"{k} computed") for n in derived)}
        cols.update({k: np.full(len(runs), v, dtype=float if isinstance(v, (int, float)) else object)
                     for k, v in constants.items()})
        again = validate(cols, runs.source, runs.lines, runs.line_word, dedupe=False)
        said = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in constants.items())
        notes = tuple(n for n in runs.notes if n not in derived) + again.notes + (f"set for every row: {said}",)
        source = Runs(again.columns, source=runs.source, lines=runs.lines, line_word=runs.line_word, notes=notes,
                      filters=runs.filters)
        rename = {}
    if isinstance(source, Runs):
        runs = _renamed_runs(source, rename) if rename else source
    elif isinstance(source, (str, Path)):
        text = str(source)
        if "?" in text and not Path(text).exists():
            text, _, query = text.partition("?")
            conditions = [c for c in query.split("&") if c] + conditions
        scheme, sep, rest = text.partition(":")
        if sep and scheme in SCHEMES:
            module, func = SCHEMES[scheme].split(":")
            runs = getattr(importlib.import_module(module), func)(rest)
            if rename:
                runs = _renamed_runs(runs, rename)
        else:
            cols, lines, word = _read_path(Path(text))
            runs = validate(_apply_rename(cols, rename, Path(text).name), Path(text).name, lines, word, dedupe=dedupe)
    else:
        cols, lines, word, name = _read_object(source)
        runs = validate(_apply_rename(cols, rename, name), name, lines, word, dedupe=dedupe)
    if conditions:
        runs = runs.where(*conditions)
    require_columns(runs, require, purpose)
    return runs


def _apply_rename(cols: dict, rename: Mapping[str, str], source: str) -> dict:
    if not rename:
        return cols
    for new, old in rename.items():
        if old not in cols:
            found = ", ".join(list(cols)[:12])
            cli = f"--map {new}={old}: {source} has no column '{old}' (found: {found})"
            if not isinstance(rename, _FromPython):
                raise ScalingLawsError(cli)
            flipped = (f". Did you mean {{{new!r}: {old!r}}}? rename= maps old -> new, as pandas does"
                       if new in cols else "")
            raise ArgumentError("rename", f"rename {old!r} -> {new!r}: {source} has no column '{old}' (found: "
                                f"{found}){flipped}", cli=cli)
    # all at once, from the columns as read: a swap (a=b, b=a) swaps; a mapped column replaces a same-named one;
    # a column mapped away no longer appears under its old name
    out = {k: v for k, v in cols.items() if k not in rename and k not in rename.values()}
    out.update({new: cols[old] for new, old in rename.items()})
    return out


def _renamed_runs(runs: Runs, rename: Mapping[str, str]) -> Runs:
    cols = _apply_rename(dict(runs.columns), rename, runs.source)
    return validate(cols, runs.source, runs.lines, runs.line_word, dedupe=False)


def _format_of(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".bz2", ".zst"):
        suffixes = suffixes[:-1]
    fmt = _TEXT_FORMATS.get(suffixes[-1] if suffixes else "")
    if fmt is None:
        raise ScalingLawsError(
            f"{path.name}: unknown file type '{''.join(path.suffixes) or '(none)'}'. Use .csv, .tsv, .parquet, "
            ".jsonl or .json (optionally .gz)")
    return fmt


def _read_path(path: Path) -> tuple[dict, np.ndarray, str]:
    if not path.exists():
        raise ScalingLawsError(f"file not found: {path}. Check the path, or use dataset:NAME for a bundled dataset "
                               "(see `scalinglaws datasets`)")
    if path.is_dir():
        raise ScalingLawsError(f"{path} is a folder, not a file of runs. Name the file inside it")
    if path.stat().st_size == 0:
        raise ScalingLawsError(f"{path.name} is empty. It needs a header line and at least one row of measurements")
    fmt = _format_of(path)
    try:
        if fmt in ("csv", "tsv"):
            return _read_csv(path, "\t" if fmt == "tsv" else ",")
        if fmt == "parquet":
            pq = require("pyarrow.parquet", f"reading {path.name}")

            return _arrow_columns(pq.read_table(path), path.name), None, "row"
        if fmt == "jsonl":
            return _read_jsonl(path)
        return _read_json(path)
    except ScalingLawsError:
        raise
    except UnicodeDecodeError:
        raise ScalingLawsError(f"{path.name} is not UTF-8 text. Save it as UTF-8 (or as Parquet)") from None
    except Exception as exc:  # pyarrow's parse errors are ArrowInvalid; keep their first line, it names the row
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ScalingLawsError(f"{path.name} could not be read as {fmt}: {msg}. Fix the file's format") from None


def _read_csv(path: Path, delimiter: str):
    pacsv = require("pyarrow.csv", f"reading {path.name}")
    if delimiter == ",":
        _refuse_semicolons(path)

    try:
        table = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(delimiter=delimiter))
    except Exception as exc:
        text = str(exc)
        if "Empty CSV file" in text:
            raise ScalingLawsError(f"{path.name} is empty. It needs a header line and at least one row") from None
        raise
    _check_header_text(path)
    cols = _arrow_columns(table, path.name, 2)
    if table.num_rows == 0:
        raise ScalingLawsError(f"{path.name} has a header but no rows. Add at least one row of measurements")
    return cols, np.arange(2, table.num_rows + 2), "line"  # line 1 is the header


def _refuse_semicolons(path: Path) -> None:
    """A header separated by semicolons (a spreadsheet's export where the decimal mark is a comma): say so."""
    try:
        with _opener(path)(path, "rt", encoding="utf-8", errors="replace") as fh:
            header = fh.readline().strip()
    except OSError:
        return  # the reader will say what is wrong with the file
    if ";" in header and "," not in header:
        raise ScalingLawsError(
            f"{path.name} is separated by semicolons, not commas (header: {header[:60]!r}). Save it with commas "
            "(and decimal points), or read it with pandas.read_csv(path, sep=';', decimal=',') and pass the "
            "DataFrame")


def _read_jsonl(path: Path):
    pajson = require("pyarrow.json", f"reading {path.name}")

    table = pajson.read_json(path)
    return _arrow_columns(table), None, "record"


def _read_json(path: Path):
    opener = _opener(path)
    with opener(path, "rt", encoding="utf-8") as fh:
        text = fh.read()
    stripped = text.lstrip()
    if stripped.startswith("{") and "\n{" in stripped.strip():
        return _read_jsonl(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScalingLawsError(f"{path.name} is not valid JSON: {exc.msg} at line {exc.lineno}. Fix the file, or "
                               "write one JSON object per line (.jsonl)") from None
    if isinstance(data, dict) and isinstance(data.get("runs"), list):
        data = data["runs"]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise ScalingLawsError(f"{path.name}: expected a JSON array of objects (one per row) or {{\"runs\": [...]}}")
    return _records_to_columns(data), None, "record"


def _opener(path: Path):
    if path.suffix == ".gz":
        import gzip

        return gzip.open
    return open


def _records_to_columns(records: list[dict]) -> dict:
    names = list(dict.fromkeys(k for r in records for k in r))
    cols = {}
    for name in names:
        values = [r.get(name) for r in records]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) or v is None for v in values):
            cols[name] = np.array([np.nan if v is None else v for v in values], dtype=float)
        else:
            cols[name] = np.array(values, dtype=object)
    return cols


def _check_header_text(path: Path) -> None:
    """The header line must be UTF-8: pyarrow would replace what is not, and a column would be named wrongly."""
    if path.suffix.lower() in (".bz2", ".zst"):
        return  # pyarrow decompresses these itself; their header is checked as text by its parser
    with _opener(path)(path, "rb") as fh:
        head = fh.readline(1 << 20)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScalingLawsError(f"{path.name}: the header (line 1) is not UTF-8 text (byte "
                               f"{head[exc.start:exc.start + 1]!r} at column {exc.start + 1}). Save the file as UTF-8, "
                               "e.g. iconv -f latin1 -t utf-8") from None


def _arrow_columns(table, source: str = "the table", first_line: int = 1) -> dict:
    """Arrow columns as numpy; a column of bytes (text that was not UTF-8) is decoded as UTF-8 or refused with the
    line of its first undecodable value, never kept as bytes (which would show as b'r\xe9seau')."""
    import pyarrow as pa

    out = {}
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
            values = column.to_pylist()
            for i, v in enumerate(values):
                if v is None:
                    continue
                try:
                    v.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise ScalingLawsError(
                        f"column '{name}' is not UTF-8 text at line {first_line + i} of {source} (byte "
                        f"{v[exc.start:exc.start + 1]!r} in {v[:30]!r}). Save the file as UTF-8, e.g. "
                        "iconv -f latin1 -t utf-8") from None
            out[name] = np.array([None if v is None else v.decode("utf-8") for v in values], dtype=object)
        else:
            out[name] = _arrow_to_numpy(column)
    return out


def _arrow_to_numpy(column) -> np.ndarray:
    """An Arrow column as numpy, reading numeric buffers directly.

    (pyarrow's own to_numpy imports pandas, which would add 0.15 s to every command's start.)
    Numbers with nulls become float64 with NaN; text and anything else go through Python objects.
    """
    import pyarrow as pa

    parts = []
    for chunk in column.chunks:
        t = chunk.type
        n, off = len(chunk), chunk.offset
        bufs = chunk.buffers()
        if pa.types.is_floating(t) or pa.types.is_integer(t):
            kind = "f" if pa.types.is_floating(t) else ("i" if pa.types.is_signed_integer(t) else "u")
            values = np.frombuffer(bufs[1], dtype=f"<{kind}{t.bit_width // 8}", count=n, offset=off * t.bit_width // 8)
        elif pa.types.is_boolean(t):
            values = np.unpackbits(np.frombuffer(bufs[1], dtype=np.uint8), bitorder="little")[off:off + n].astype(bool)
        else:
            parts.append(np.array(chunk.to_pylist(), dtype=object))
            continue
        if chunk.null_count:
            valid = np.unpackbits(np.frombuffer(bufs[0], dtype=np.uint8), bitorder="little")[off:off + n].astype(bool)
            values = np.where(valid, values.astype(float), np.nan)
        parts.append(np.array(values))
    if not parts:
        return np.array([], dtype=float)
    kinds = {p.dtype.kind for p in parts}
    if len(parts) > 1 and len(kinds) > 1:
        parts = [p.astype(float) if "O" not in kinds else p.astype(object) for p in parts]
    return np.concatenate(parts)


def _read_object(obj):
    """A DataFrame, Arrow table or mapping of columns -> (columns, row labels, word, name)."""
    module = type(obj).__module__
    if module.startswith("pandas"):
        cols = {str(c): obj[c].to_numpy() for c in obj.columns}
        labels = np.array([str(i) for i in obj.index], dtype=object)
        return cols, labels, "row", "DataFrame"
    if module.startswith("pyarrow"):
        return _arrow_columns(obj), None, "row", "Arrow table"
    if isinstance(obj, Mapping):
        cols = {str(k): np.asarray(v) for k, v in obj.items()}
        return cols, None, "row", "the given columns"
    raise ScalingLawsError(
        f"cannot read runs from a {type(obj).__name__}. Pass a file path, dataset:NAME, a pandas DataFrame, a "
        "pyarrow Table or a dict of columns")
