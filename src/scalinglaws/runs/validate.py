"""Validation at the boundary: raw columns in, a checked `Runs` out, or one clear error.

Everything a file can get wrong is caught here once, with the place (file, line, column) and the fix in the message,
so the fitting code downstream can trust its arrays.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping

import numpy as np

from ..errors import DataWarning, ScalingLawsError
from .schema import COLUMNS
from .table import Runs
from .values import parse_number

_MISSING_TEXT = {"", "nan", "NaN", "NA", "null", "None"}


def _to_float(name: str, values: np.ndarray, where) -> np.ndarray:
    """Numbers as float64; None and empty text become NaN; anything else non-numeric is an error."""
    if values.dtype.kind in "fiu":
        return values.astype(float)
    if values.dtype.kind == "b":
        return values.astype(float)
    out = np.empty(len(values), dtype=float)
    for i, v in enumerate(values.tolist()):
        if v is None or (isinstance(v, str) and v.strip() in _MISSING_TEXT):
            out[i] = np.nan
            continue
        try:
            out[i] = parse_number(v)
        except (TypeError, ValueError):
            raise ScalingLawsError(
                f"column '{name}' has a non-numeric value {str(v)!r} at {where(i)}. Write a number (7e9, or a size "
                f"such as 7B, 125M, 1.4T), or leave the cell empty if it is unknown") from None
    return out


def _to_text(values: np.ndarray) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values.tolist()):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            out[i] = ""
        elif isinstance(v, float) and v.is_integer():
            out[i] = str(int(v))
        else:
            out[i] = str(v)
    return out


def coerce(columns: Mapping[str, np.ndarray], source: str, lines: np.ndarray, line_word: str) -> dict:
    """Give every column its type: schema columns by the schema, others as they came (numbers as float64)."""
    def where(i: int) -> str:
        return f"{line_word} {lines[i]} of {source}"

    out: dict[str, np.ndarray] = {}
    for name, values in columns.items():
        values = np.asarray(values)
        col = COLUMNS.get(name)
        if col is not None and col.kind == "number":
            out[name] = _to_float(name, values, where)
        elif col is not None:
            out[name] = _to_text(values)
        elif values.dtype.kind in "iuf":
            out[name] = values.astype(float)
        elif values.dtype.kind == "b":
            out[name] = values
        else:
            out[name] = _to_text(values)
    return out


def check_values(runs: Runs) -> None:
    """Infinite, zero or negative values where the schema forbids them; values written in millions or billions."""
    for name, col in COLUMNS.items():
        if col.kind != "number" or name not in runs:
            continue
        data = runs[name]
        bad = np.flatnonzero(np.isinf(data))
        if bad.size:
            raise ScalingLawsError(
                f"column '{name}' is infinite at {runs.locate(bad[0])}. Give a finite value or drop the row")
        if col.rule == "positive":
            bad = np.flatnonzero(data <= 0)
            if bad.size:
                raise ScalingLawsError(
                    f"column '{name}' must be positive but is {data[bad[0]]:g} at {runs.locate(bad[0])}. "
                    f"Fix or drop the row ({bad.size} such row{'s' if bad.size > 1 else ''})")
        elif col.rule == "nonnegative":
            bad = np.flatnonzero(data < 0)
            if bad.size:
                raise ScalingLawsError(
                    f"column '{name}' must not be negative but is {data[bad[0]]:g} at {runs.locate(bad[0])}. "
                    "Fix or drop the row")
        finite = data[np.isfinite(data)]
        if col.smallest_plausible_max and finite.size and finite.max() < col.smallest_plausible_max:
            raise ScalingLawsError(
                f"column '{name}' in {runs.source} looks scaled (largest value {finite.max():g}): values must be "
                f"plain counts, e.g. 7e9 for 7B. Multiply the column by 1e6 or 1e9 as appropriate")


def _codes(values: np.ndarray) -> np.ndarray:
    """(n,) int64 codes equal exactly where the values are (NaN equal to NaN, as one missing cell is to another;
    -0.0 equal to 0.0), without sorting: a number's bits, text's index in its dictionary."""
    if values.dtype.kind == "f":
        clean = np.where(np.isnan(values), np.nan, values + 0.0)  # one NaN; x + 0.0 turns -0.0 into 0.0
        return clean.astype(np.float64).view(np.int64)
    if values.dtype.kind in "biu":
        return values.astype(np.int64)
    # a hash table in C for a long column; not worth it for a few rows even with pyarrow loaded, since building any
    # pyarrow array first imports pandas (pyarrow checks for DataFrames), a quarter of a second
    if len(values) > 100_000:
        try:
            import pyarrow as pa

            return np.asarray(pa.array(values.tolist()).dictionary_encode().indices, dtype=np.int64)
        except (ImportError, TypeError, ValueError):  # no pyarrow, or objects it cannot type: as below
            pass
    try:
        return np.unique(values, return_inverse=True)[1].reshape(-1).astype(np.int64)
    except TypeError:  # objects that do not sort together (text beside None): compared as their text
        text = np.array([repr(v) for v in values.tolist()], dtype=object)
        return np.unique(text, return_inverse=True)[1].reshape(-1).astype(np.int64)


def _first_of_each(runs: Runs) -> tuple[np.ndarray, tuple[int, int] | None]:
    """A mask of the first row of each group of identical rows, and (first, repeat) of the earliest repeat.

    Rows are sorted by a 64-bit hash of their columns' codes (a stable sort, so identical rows stay in table
    order) and compared with their neighbour in every column: numpy passes, no Python loop over rows. Should two
    different rows share a hash (about one chance in 2^64), the rows are sorted by every column instead."""
    n = len(runs)
    if n < 2 or not runs.names:
        return np.ones(n, dtype=bool), None
    codes = np.stack([_codes(np.asarray(runs[name])) for name in runs.names])  # (columns, n)
    h = np.zeros(n, dtype=np.uint64)
    for c in codes.view(np.uint64):  # splitmix64-style mixing, column by column
        h = (h ^ (c + np.uint64(0x9E3779B97F4A7C15))) * np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(31)
    order = np.argsort(h, kind="stable")
    hashed = h[order]
    pair = np.flatnonzero(hashed[1:] == hashed[:-1])  # neighbours that may be identical rows
    same = np.zeros(n - 1, dtype=bool)
    same[pair] = np.all(codes[:, order[pair + 1]] == codes[:, order[pair]], axis=0)
    if not same[pair].all():  # two different rows share a hash: sort by every column instead
        order = np.lexsort(codes[::-1])
        ranked = codes[:, order]
        same = np.all(ranked[:, 1:] == ranked[:, :-1], axis=0)
    keep = np.ones(n, dtype=bool)
    if not same.any():
        return keep, None
    keep[order[1:][same]] = False
    starts = np.flatnonzero(np.concatenate([[True], ~same]))  # where each group of identical rows begins
    group = np.cumsum(np.concatenate([[True], ~same])) - 1  # group of each sorted position
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    repeat = int(np.flatnonzero(~keep)[0])
    return keep, (int(order[starts[group[position[repeat]]]]), repeat)


PERPLEXITY_MEDIAN = 20.0  # a language model's loss in nats per token rarely exceeds ln(vocabulary) ≈ 11


def warn_perplexity(runs: Runs) -> None:
    """A loss column whose typical value is far above any cross-entropy in nats: most likely a perplexity."""
    if "loss" not in runs or runs["loss"].dtype.kind != "f":
        return
    finite = runs["loss"][np.isfinite(runs["loss"])]
    if finite.size and np.median(finite) > PERPLEXITY_MEDIAN:
        warnings.warn(
            f"{runs.source}: column 'loss' looks like a perplexity (median {np.median(finite):.3g}; a loss in nats "
            "per token is rarely above 11). Laws of loss expect its log: fit log(perplexity), or fit this column "
            "as it is with a law of your own", DataWarning, stacklevel=4)


def drop_duplicates(runs: Runs) -> Runs:
    """Identical rows are kept once, with a warning that names them."""
    keep, first_dup = _first_of_each(runs)
    if keep.all():
        return runs
    n = int((~keep).sum())
    a, b = first_dup
    warnings.warn(
        f"{runs.source}: {n} duplicate row{'s' if n > 1 else ''} ({runs.line_word} {runs.lines[b]} repeats "
        f"{runs.line_word} {runs.lines[a]}); kept the first of each", DataWarning, stacklevel=4)
    return runs.take(keep)


DERIVED = "column)"  # how the note of a derived column ends: "(the table has no flops column)"
SEQ_LEN = ("seq_len", "sequence_length", "context_length")  # names a sequence length goes by in logs


def derive_tokens(runs: Runs) -> Runs:
    """D when the table has no tokens column but says it otherwise, and say so: D = C / (6·N) from flops and params
    (Kaplan 2020, eq. 2.1, solved for D), else D = step × batch_size, × the sequence length when a column gives one
    (batch_size then counts sequences; without one it counts tokens, as the schema says)."""
    if "tokens" in runs:
        return runs
    if "flops" in runs and "params" in runs:
        tokens, note = runs["flops"] / (6.0 * runs["params"]), "tokens computed as flops / (6·params)"
    elif "step" in runs and "batch_size" in runs:
        seq = next((c for c in SEQ_LEN if c in runs and runs[c].dtype.kind == "f"), None)
        tokens = runs["step"] * runs["batch_size"] * (runs[seq] if seq else 1.0)
        note = "tokens computed as step × batch_size" + (f" × {seq}" if seq else " (batch_size in tokens)")
    else:
        return runs
    out = runs.with_columns(tokens=tokens)
    return Runs(out.columns, source=out.source, lines=out.lines, line_word=out.line_word,
                notes=out.notes + (f"{note} (the table has no tokens column)",))


def derive_flops(runs: Runs) -> Runs:
    """C = 6·N·D when the table has params and tokens but no flops (Kaplan 2020, eq. 2.1), and say so."""
    if "flops" in runs or "params" not in runs or "tokens" not in runs:
        return runs
    with np.errstate(over="ignore", invalid="ignore"):
        flops = 6.0 * runs["params"] * runs["tokens"]
    bad = np.flatnonzero(np.isinf(flops))
    if bad.size:
        i = bad[0]
        raise ScalingLawsError(
            f"6·params·tokens overflows at {runs.locate(i)} (params={runs['params'][i]:g}, tokens="
            f"{runs['tokens'][i]:g}): no model is that large. Check that row's units, or drop it")
    out = runs.with_columns(flops=flops)
    return Runs(out.columns, source=out.source, lines=out.lines, line_word=out.line_word,
                notes=out.notes + ("flops computed as 6·N·D (the table has no flops column)",))


def require(runs: Runs, names: Iterable[str], purpose: str = "") -> None:
    """Every named column present and free of missing values."""
    why = f" ({purpose})" if purpose else ""
    for name in names:
        if name not in runs:
            raise ScalingLawsError(runs.missing_message(name) .rstrip(".") + why + ".")
        data = runs[name]
        if data.dtype.kind == "f":
            bad = np.flatnonzero(np.isnan(data))
            if bad.size:
                raise ScalingLawsError(
                    f"column '{name}' is empty or NaN at {runs.locate(bad[0])}{why}. Fill it in, or drop the "
                    f"row{'s' if bad.size > 1 else ''} ({bad.size} in all, e.g. with --where '{name}>0')")


def validate(columns: Mapping[str, np.ndarray], source: str, lines: np.ndarray, line_word: str,
             *, dedupe: bool = True) -> Runs:
    if not columns or len(next(iter(columns.values()))) == 0:
        raise ScalingLawsError(f"{source} has no rows. It needs a header and at least one row of measurements")
    if lines is None:
        lines = np.arange(1, len(next(iter(columns.values()))) + 1)
    runs = Runs(coerce(columns, source, lines, line_word), source=source, lines=lines, line_word=line_word)
    check_values(runs)
    warn_perplexity(runs)
    if dedupe:
        runs = drop_duplicates(runs)
    return derive_flops(derive_tokens(runs))
