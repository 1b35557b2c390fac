"""Any result record as a table: one way, shared by every record, to show it in a notebook, print it in short,
turn it into a DataFrame, and write it as CSV, Markdown or LaTeX.

A record's table is read off its `to_dict()`: the rows are its list of row mappings (the field named by the
record's `_rows`, else its longest list of mappings: a backtest's cuts, a ranking's candidates, a comparison's
groups), or, for a record with no such list (an allocation, a plan), the record itself as one row. Nested
mappings of a row become dotted columns (`intervals.params`); lists of rows inside a row are left out of the
table (they are in `to_dict()`). A record class gets all of this by deriving from `Tabular` (declare the
dataclass with `repr=False`, so that the short repr is kept):

    @dataclass(frozen=True, repr=False)
    class Backtest(Tabular): ...

    bt                 Backtest(law='chinchilla', score=0.0123, ...; 3 cuts)
    bt.to_pandas()     one row per cut
    bt._repr_html_()   the notebook's table
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..errors import require
from ..records import kind_of
from .text import num

FORMATS = ("table", "json", "csv", "markdown", "latex")
LATEX = {"\\": "\\textbackslash{}", "&": "\\&", "%": "\\%", "$": "\\$", "#": "\\#", "_": "\\_", "{": "\\{",
         "}": "\\}", "~": "\\textasciitilde{}", "^": "\\textasciicircum{}", "×": "$\\times$", "–": "--"}


def _scalar(v) -> bool:
    return v is None or isinstance(v, (bool, int, float, str))


def _is_rows(v) -> bool:
    return isinstance(v, (list, tuple)) and bool(v) and all(isinstance(r, Mapping) for r in v)


def rows_field(data: Mapping, name: str | None = None) -> str | None:
    """The field of a plain record that holds its rows: `name` when given, else its longest list of mappings."""
    if name is not None:
        return name if name in data else None
    lists = [(len(v), k) for k, v in data.items() if _is_rows(v)]
    return max(lists, key=lambda t: t[0])[1] if lists else None


def flatten(row: Mapping, prefix: str = "") -> dict:
    """A row's cells: nested mappings as dotted columns; lists of rows left out; short lists of numbers kept."""
    out: dict = {}
    for k, v in row.items():
        if k in ("format", "interval_method"):  # what the record is and how its intervals were made: in to_dict()
            continue
        name = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(flatten(v, name + "."))
        elif _is_rows(v) or (isinstance(v, (list, tuple)) and len(v) > 8):
            continue  # rows inside a row, and per-row lists (held-out rows): in to_dict(), not in a table cell
        else:
            out[name] = list(v) if isinstance(v, tuple) else v
    return out


def fit_rows(data: Mapping) -> list[dict]:
    """A fit record's parameter table: value, interval (with a bootstrap), and whether it sits at a bound."""
    ci = data.get("ci") or {}
    prior = (data.get("extra") or {}).get("prior") or {}
    fixed = set(prior.get("values") or ())
    return [{"parameter": k, "value": v, "lower": ci[k][0] if k in ci and k not in fixed else None,
             "upper": ci[k][1] if k in ci and k not in fixed else None, "at_bound": k in (data.get("at_bounds") or ()),
             **({"fixed": k in fixed} if fixed else {})} for k, v in data["params"].items()]


def table_of(record, rows: str | None = None) -> tuple[list[str], list[list], str | None]:
    """(header, rows, rows field) of a record (anything with to_dict(), or a mapping)."""
    data = record.to_dict() if hasattr(record, "to_dict") else dict(record)
    if kind_of(data) == "fit":
        data = {"params": fit_rows(data)}
    data = {k: v for k, v in data.items() if k != "format"}
    field = rows_field(data, rows if rows is not None else getattr(record, "_rows", None))
    cells = [flatten(r) for r in data[field]] if field else [flatten(data)]
    header = list(dict.fromkeys(k for r in cells for k in r))
    return header, [[r.get(h) for h in header] for r in cells], field


def summary_fields(record, limit: int = 6) -> list[tuple[str, object]]:
    """The record's first few scalar fields (not its rows): what a short repr and a table's caption show."""
    data = record.to_dict() if hasattr(record, "to_dict") else dict(record)
    return [(k, v) for k, v in data.items() if k != "format" and _scalar(v) and v is not None][:limit]


def short_repr(record) -> str:
    """Backtest(law='chinchilla', score=0.0123, bias=-0.004; 3 cuts): one line, never a page."""
    data = record.to_dict() if hasattr(record, "to_dict") else dict(record)
    field = rows_field(data, getattr(record, "_rows", None))
    parts = [f"{k}={num(v) if isinstance(v, float) else repr(v)}" for k, v in summary_fields(record)]
    n = len(data[field]) if field else 0
    tail = f"; {n} {field[:-1] if n == 1 and field.endswith('s') else field}" if field else ""
    return f"{type(record).__name__}({', '.join(parts)}{tail})"


def to_pandas(record, rows: str | None = None):
    """The record's table as a DataFrame: one row per row of the record (or one row for the record itself)."""
    pd = require("pandas", "to_pandas()")
    header, body, _ = table_of(record, rows)
    return pd.DataFrame(body, columns=header)


def _text(v, latex: bool = False) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return num(v)
    if isinstance(v, (list, tuple)):
        inner = ", ".join(_text(x) for x in v[:6]) + (", …" if len(v) > 6 else "")
        return f"[{inner}]"
    return str(v)


def render(header: Sequence[str], rows: Sequence[Sequence], fmt: str) -> str:
    """A table as text: csv (every value, full precision), markdown or latex (short numbers)."""
    if fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(header)
        for r in rows:
            writer.writerow(["" if v is None else (repr(v) if isinstance(v, float) else _csv(v)) for v in r])
        return buf.getvalue()
    if fmt == "markdown":
        def esc(s: str) -> str:
            return s.replace("|", "\\|")

        lines = ["| " + " | ".join(esc(str(h)) for h in header) + " |",
                 "|" + "|".join(" --- " if i == 0 else " ---: " for i in range(len(header))) + "|"]
        lines += ["| " + " | ".join(esc(_text(v)) for v in r) + " |" for r in rows]
        return "\n".join(lines) + "\n"
    if fmt == "latex":
        def tex(s: str) -> str:
            return "".join(LATEX.get(c, c) for c in s)

        spec = "l" + "r" * (len(header) - 1)
        lines = [f"\\begin{{tabular}}{{{spec}}}", "\\hline",
                 " & ".join(tex(str(h)) for h in header) + " \\\\", "\\hline"]
        lines += [" & ".join(tex(_text(v)) for v in r) + " \\\\" for r in rows]
        return "\n".join(lines + ["\\hline", "\\end{tabular}"]) + "\n"
    raise ValueError(f"no text format {fmt!r}")


def _csv(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return ";".join(_csv(x) if not isinstance(x, float) else repr(x) for x in v)
    return str(v)


def point_table(data: Mapping) -> tuple[list[str], list[list]]:
    """A record with no rows (a plan, an allocation) as a paper's table: one line per quantity with its interval
    beside it (`intervals`), then its other fields; a nested record that repeats the top-level values (a plan's
    `compute_optimal`) is left out (it is in the JSON)."""
    data = {k: v for k, v in data.items() if k not in ("format", "interval_method")}
    ci = data.get("intervals") if isinstance(data.get("intervals"), Mapping) else {}
    rows = []
    for k, v in data.items():
        if k == "intervals" or _is_rows(v) or v is None or (isinstance(v, (list, tuple)) and not v):
            continue  # unset fields (a plan's unused objectives) and empty lists say nothing in a table
        if isinstance(v, Mapping):
            if all(data.get(kk) == vv for kk, vv in v.items() if kk in data and _scalar(vv)) and \
                    any(kk in data for kk in v):
                continue  # the same answer again (a plan's compute_optimal)
            rows += [[name, val, None, None] for name, val in flatten(v, k + ".").items()]
            continue
        bounds = ci.get(k)
        lo, hi = (bounds[0], bounds[1]) if isinstance(bounds, (list, tuple)) and len(bounds) == 2 else (None, None)
        rows.append([k, list(v) if isinstance(v, tuple) else v, lo, hi])
    if not ci:
        return ["field", "value"], [r[:2] for r in rows]
    return ["quantity", "value", "lower", "upper"], rows


def text_table(record, fmt: str) -> str:
    """A record as csv, markdown or latex text: its rows, or, for a record with none (a plan), one line per
    quantity with its interval (`point_table`)."""
    data = record.to_dict() if hasattr(record, "to_dict") else dict(record)
    header, body, field = table_of(data, getattr(record, "_rows", None))
    if field is None and body:
        header, body = point_table(data)
    return render(header, body, fmt)


def record_table_html(record, rows: str | None = None, *, style: bool = True, name: str | None = None) -> str:
    """The notebook table of a record: its rows, under a caption of its first scalar fields; a record with no
    rows as a two-column table of its fields."""
    from .html_tables import record_html, table

    header, body, field = table_of(record, rows)
    name = name or type(record).__name__
    if field is None:
        return record_html(record, name, style=style)
    head = ", ".join(f"{k}={_text(v)}" for k, v in summary_fields(record))
    caption = name + (f": {head}" if head else "")
    body = [[_text(v) for v in r] for r in body]
    return table(caption, header, body, f"{len(body)} {field}", style=style, left=0)


class Tabular:
    """Base of a result record that shows as a table in a notebook, prints in one line, and has to_pandas().
    `_rows` may name the field holding the record's rows (default: its longest list of mappings)."""

    __slots__ = ()
    _rows: str | None = None

    def __repr__(self) -> str:
        return short_repr(self)

    def _repr_html_(self) -> str:
        return record_table_html(self)

    def to_pandas(self):
        """The record's table as a pandas DataFrame."""
        return to_pandas(self)
