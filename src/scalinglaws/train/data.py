"""Training data as one array of byte tokens (vocabulary 256: nothing to train, nothing downloaded), with a
held-out split for evaluation.

Sources:
    "stdlib"          the Python standard library's own .py files (every machine that runs this has them)
    PATH.txt / other  a text file, or a folder of text files (read as UTF-8 bytes)
    PATH.jsonl        JSON lines: the "text" field of each line
    PATH.parquet      Parquet: its "text" column (each row a document), or pre-tokenized ids in an "ids" or
                      "input_ids" column of integer lists (the documents joined in row order)
    PATH.npy          pre-tokenized ids, memory-mapped (any integer dtype; ids below the model's vocabulary)
    "addition:D"      synthetic D-digit addition problems "a+b=c", one a line (D from 2 to 9; "addition:D:SEED"
                      for another draw, seed 0 by default): a task small models fail greedily and larger ones learn,
                      for measuring emergence on the ladder itself (`ladder sample`)

Files are read in sorted path order, so a corpus is the same bytes on every run. The split is by document: every
`EVAL_EVERY`-th file (or line) goes to the held-out part, so no document is in both. A .npy array is split at its
end: its last `1/EVAL_EVERY` is held out.

An addition corpus is generated, not read: operands are drawn uniformly among D-digit numbers by a generator seeded
by (SEED, 0), `limit` bytes of them for training; a fixed set of distinct problems drawn by (SEED, 1), never in the
training part, is held out (its text is the evaluation split, its problems are those `ladder sample` asks).

Batches are drawn by step: the windows of step s come from a generator seeded by (seed, s), so a run resumed at
step s sees exactly the batches it would have seen, and evaluation always reads the same held-out windows.
"""

from __future__ import annotations

import json
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ScalingLawsError

EVAL_EVERY = 20  # one document in 20 is held out
STDLIB_LIMIT = 24_000_000  # bytes of the standard library read by default (its first files in path order)


@dataclass(frozen=True)
class Corpus:
    train: np.ndarray  # (n,) token ids
    held_out: np.ndarray  # (m,) token ids
    source: str
    vocab: int = 256

    @property
    def tokens(self) -> int:
        return int(self.train.size)

    def batch(self, step: int, batch: int, seq_len: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """(batch, seq_len) inputs and next-token targets for optimizer step `step`, the same on every run."""
        rng = np.random.default_rng([seed, step])
        return _windows(self.train, rng.integers(0, self.train.size - seq_len - 1, batch), seq_len)

    def eval_batches(self, batches: int, batch: int, seq_len: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Fixed held-out windows, evenly spread over the held-out part."""
        n = batches * batch
        starts = np.linspace(0, self.held_out.size - seq_len - 1, n).astype(np.int64)
        return [_windows(self.held_out, starts[i * batch:(i + 1) * batch], seq_len) for i in range(batches)]


def _windows(data: np.ndarray, starts: np.ndarray, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    index = starts[:, None] + np.arange(seq_len + 1)[None, :]
    chunk = np.asarray(data[index], dtype=np.int64)
    return chunk[:, :-1], chunk[:, 1:]


def _split(docs: list[bytes], source: str) -> Corpus:
    train = b"\n".join(d for i, d in enumerate(docs) if i % EVAL_EVERY != EVAL_EVERY - 1)
    held = b"\n".join(d for i, d in enumerate(docs) if i % EVAL_EVERY == EVAL_EVERY - 1)
    if len(docs) < EVAL_EVERY:  # too few documents to hold any out whole: hold out the end instead
        joined = b"\n".join(docs)
        cut = len(joined) - len(joined) // EVAL_EVERY
        train, held = joined[:cut], joined[cut:]
    return Corpus(np.frombuffer(train, dtype=np.uint8), np.frombuffer(held, dtype=np.uint8), source)


def stdlib_files(limit: int = STDLIB_LIMIT) -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    files, total = [], 0
    for path in sorted(root.rglob("*.py")):
        if "site-packages" in path.parts or not path.is_file():
            continue
        files.append(path)
        total += path.stat().st_size
        if total >= limit:
            break
    return files


def load(source: str = "stdlib", *, limit: int | None = None) -> Corpus:
    """The corpus named by `source` (see the module docstring), split into training and held-out tokens."""
    if source in ("stdlib", "", None):
        files = stdlib_files(limit or STDLIB_LIMIT)
        return _checked(_split([f.read_bytes() for f in files], "stdlib"), "the standard library")
    if addition_spec(source) is not None:
        return _checked(_addition(source, limit or STDLIB_LIMIT), source)
    path = Path(source)
    if not path.exists():
        raise ScalingLawsError(f"corpus {source} does not exist. Give a text file, a folder of text files, a .jsonl "
                               "or .parquet file, a .npy array of token ids, or 'stdlib'")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        return _checked(_split([f.read_bytes() for f in files], str(path)), str(path))
    if path.suffix == ".npy":
        return _checked(_memmap(path), str(path))
    if path.suffix == ".parquet":
        return _checked(_parquet(path), str(path))
    if path.suffix == ".jsonl":
        return _checked(_split(_jsonl(path), str(path)), str(path))
    return _checked(_split(path.read_bytes().split(b"\n\n"), str(path)), str(path))


ADDITION_HELD_OUT = 1000  # problems held out (at most 1 in EVAL_EVERY of all D-digit pairs)


def addition_spec(source: str | None) -> tuple[int, int] | None:
    """(digits, seed) of an "addition:D[:SEED]" corpus name; None for any other source."""
    if not isinstance(source, str) or not source.startswith("addition:"):
        return None
    parts = source.split(":")[1:]
    try:
        digits, seed = int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except (ValueError, IndexError):
        digits, seed = -1, -1
    if len(parts) > 2 or not 2 <= digits <= 9 or seed < 0:
        raise ScalingLawsError(f"corpus {source}: write addition:D or addition:D:SEED with D from 2 to 9 digits and "
                               "a whole seed, e.g. addition:3")
    return digits, seed


def _operands(digits: int) -> tuple[int, int]:
    lo = 10 ** (digits - 1)
    return lo, 10 ** digits - lo  # the smallest D-digit number and how many there are


def addition_held_out(source: str) -> np.ndarray:
    """(P, 2) operands of the held-out problems of an addition corpus, in a fixed order."""
    digits, seed = addition_spec(source)
    lo, count = _operands(digits)
    held = min(ADDITION_HELD_OUT, count * count // EVAL_EVERY)
    ids = np.random.default_rng([seed, 1]).choice(count * count, size=held, replace=False)
    return np.stack([lo + ids // count, lo + ids % count], axis=1)


def addition_text(pairs: np.ndarray) -> bytes:
    return "".join(f"{a}+{b}={a + b}\n" for a, b in pairs.tolist()).encode("ascii")


def _addition(source: str, limit: int) -> Corpus:
    digits, seed = addition_spec(source)
    lo, count = _operands(digits)
    held = addition_held_out(source)
    held_ids = (held[:, 0] - lo) * count + (held[:, 1] - lo)
    n = max(1, limit // (3 * digits + 4))  # problems of about 3D + 4 bytes each
    ids = np.random.default_rng([seed, 0]).integers(0, count * count, size=n)
    ids = ids[~np.isin(ids, held_ids)]
    train = addition_text(np.stack([lo + ids // count, lo + ids % count], axis=1))
    return Corpus(np.frombuffer(train, dtype=np.uint8), np.frombuffer(addition_text(held), dtype=np.uint8), source)


def _jsonl(path: Path) -> list[bytes]:
    docs = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ScalingLawsError(f"{path} line {n} is not JSON ({exc.msg}). Give one JSON object per line "
                                       "with a 'text' field") from None
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                raise ScalingLawsError(f"{path} line {n} has no 'text' field holding a string. Give one JSON "
                                       "object per line with a 'text' field")
            docs.append(row["text"].encode("utf-8"))
    return docs


def _parquet(path: Path) -> Corpus:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as exc:
        raise ScalingLawsError(f"{path} is not a readable Parquet file ({exc}). Write it with pandas.to_parquet or "
                               "pyarrow") from None
    names = schema.names
    if "text" in names:
        texts = pq.read_table(path, columns=["text"]).column("text")
        if not pa.types.is_string(texts.type) and not pa.types.is_large_string(texts.type):
            raise ScalingLawsError(f"{path}: column 'text' holds {texts.type}, not strings. Give the documents' "
                                   "text in it")
        return _split([t.encode("utf-8") for t in texts.to_pylist() if t], str(path))
    ids_col = next((c for c in ("ids", "input_ids") if c in names), None)
    if ids_col is None:
        raise ScalingLawsError(f"{path} has no 'text' column and no 'ids' or 'input_ids' column (found: "
                               f"{', '.join(names) or 'none'}). Give the documents as text or as token ids")
    col = pq.read_table(path, columns=[ids_col]).column(ids_col).combine_chunks()
    if not (pa.types.is_list(col.type) or pa.types.is_large_list(col.type)) or \
            not pa.types.is_integer(col.type.value_type):
        raise ScalingLawsError(f"{path}: column {ids_col!r} holds {col.type}; give each row a list of integer "
                               "token ids")
    ids = col.flatten().to_numpy(zero_copy_only=False).astype(np.int64)
    if ids.size and ids.min() < 0:
        raise ScalingLawsError(f"{path}: column {ids_col!r} holds a negative token id ({int(ids.min())})")
    vocab = int(ids.max()) + 1 if ids.size else 1
    cut = ids.size - ids.size // EVAL_EVERY
    return Corpus(ids[:cut], ids[cut:], str(path), vocab=max(vocab, 256))


def _memmap(path: Path) -> Corpus:
    try:
        ids = np.load(path, mmap_mode="r")
    except ValueError as exc:
        raise ScalingLawsError(f"{path} is not a readable .npy array ({exc}). Save token ids with numpy.save") \
            from None
    if ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise ScalingLawsError(f"{path} holds a {ids.ndim}-d array of {ids.dtype}; give a 1-d array of integer "
                               "token ids")
    vocab = int(ids.max()) + 1 if ids.size else 1
    cut = ids.size - ids.size // EVAL_EVERY
    return Corpus(ids[:cut], ids[cut:], str(path), vocab=max(vocab, 256))


def _checked(corpus: Corpus, name: str) -> Corpus:
    if corpus.train.size < 1024 or corpus.held_out.size < 1024:
        raise ScalingLawsError(f"corpus {name} has {corpus.train.size} training and {corpus.held_out.size} held-out "
                               "tokens; a ladder needs at least 1024 of each. Give more text")
    return corpus
