"""Numbers as researchers write them: `7e9`, `125M`, `1.3B`, `1.4T`, `20k`, `1_000`.

One function reads a value of a number column in a file, of `--at` and `--where`, and of Python arguments, so
that a size written the way papers and model cards write it means the same everywhere. The suffixes are the
decimal ones of model and data sizes: k (thousand), M (million), B or G (billion), T (trillion), P (quadrillion);
case does not matter (`pythia-160m` writes millions in lower case). Anything else is not a number.
"""

from __future__ import annotations

import math
import re

SUFFIXES = {"k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12, "p": 1e15}
_SIZE = re.compile(r"^\s*([+-]?(?:\d[\d_,]*\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([kKmMbBgGtTpP])?\s*$")


def parse_number(value) -> float:
    """float(value), also for sizes with a suffix ('1.3B' -> 1.3e9); ValueError for anything else."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().replace("−", "-")
    try:
        return float(text)
    except ValueError:
        pass
    m = _SIZE.match(text)
    if m is None:
        raise ValueError(f"{value!r} is not a number")
    digits, suffix = m.groups()
    if "," in digits and not re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?", digits.split("e")[0].split("E")[0]):
        raise ValueError(f"{value!r} is not a number")  # 1,5 is a decimal comma, not a thousands separator
    number = float(digits.replace("_", "").replace(",", ""))
    out = number * (SUFFIXES[suffix.lower()] if suffix else 1.0)
    if not math.isfinite(out) and math.isfinite(number):
        raise ValueError(f"{value!r} is too large")
    return out


_NAMED_SIZE = re.compile(r"(?:^|[-_/ ])(\d+(?:\.\d+)?[kKmMbBtT])(?=$|[-_/ ])")


def size_in_name(value) -> float:
    """The size a model name carries ('pythia-160m' -> 1.6e8, 'Llama-2-7b-hf' -> 7e9): the last size token set off
    by a dash, underscore, slash or space; ValueError when there is none. For options that name a model, never for
    a table's cells (a label column must stay a label)."""
    found = _NAMED_SIZE.findall(str(value))
    if not found:
        raise ValueError(f"{value!r} names no size")
    return parse_number(found[-1])


def is_size(value) -> bool:
    """Whether a text value is a number written with a size suffix (125M), as opposed to a plain number."""
    return isinstance(value, str) and _SIZE.match(value.strip()) is not None and value.strip()[-1:].isalpha()
