"""The plan's tokenizer: bytes (vocabulary 256, nothing to train) or a byte-level BPE trained here on the corpus's
training split (HuggingFace `tokenizers`, in the `train` extra; imported only when a BPE plan is trained).

The BPE starts from the 256 byte symbols (so every text encodes, nothing is unknown) and merges the most frequent
adjacent pairs until the vocabulary holds the plan's `vocab` tokens (Sennrich et al. 2016; byte-level as in GPT-2,
Radford et al. 2019). It is trained on the training split only, never on the held-out documents, saved as
`tokenizer.json` in the checkpoint folder before any rung trains, and read back from there on every later run (a
resume, a Ray worker, a data-parallel rank), so a rung always sees the same ids.

A loss per token depends on the tokenizer; a loss per byte does not. Every evaluation therefore also records
bits per byte: the held-out windows' summed cross-entropy in bits over the UTF-8 bytes their target tokens spell.
With bytes, bits per byte is the loss (nats per byte) over ln 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..errors import ScalingLawsError, require
from .data import Corpus, _checked, load

TOKENIZER_FILE = "tokenizer.json"
CHUNK = 1 << 20  # characters encoded at a time, cut at line ends (a token never spans a cut)


def _tokenizers():
    return require("tokenizers", "a BPE tokenizer")  # pip install 'scalinglaws[train]'


@dataclass(frozen=True)
class Tokens:
    """A corpus in the plan's tokens, and the UTF-8 bytes each token id spells (for bits per byte)."""

    corpus: Corpus
    token_bytes: np.ndarray  # (vocab,) bytes of each token id
    kind: str = "bytes"


def _chunks(text: str) -> list[str]:
    out, start = [], 0
    while start < len(text):
        end = text.find("\n", start + CHUNK)
        end = len(text) if end < 0 else end + 1
        out.append(text[start:end])
        start = end
    return out


def train_bpe(data: np.ndarray, vocab: int):
    """A byte-level BPE of `vocab` tokens trained on the bytes `data` (the training split)."""
    tk = _tokenizers()
    tokenizer = tk.Tokenizer(tk.models.BPE())
    tokenizer.pre_tokenizer = tk.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = tk.decoders.ByteLevel()
    trainer = tk.trainers.BpeTrainer(vocab_size=vocab, initial_alphabet=tk.pre_tokenizers.ByteLevel.alphabet(),
                                     special_tokens=[], show_progress=False)
    chunks = _chunks(bytes(data).decode("utf-8", errors="replace"))
    tokenizer.train_from_iterator(chunks, trainer=trainer, length=len(chunks))
    return tokenizer


def encode(tokenizer, data: np.ndarray) -> np.ndarray:
    """(n,) int32 ids of the bytes `data` (read as UTF-8; a byte that is not becomes U+FFFD)."""
    chunks = _chunks(bytes(data).decode("utf-8", errors="replace"))
    ids = [np.asarray(e.ids, dtype=np.int32) for e in tokenizer.encode_batch(chunks, add_special_tokens=False)]
    return np.concatenate(ids) if ids else np.zeros(0, dtype=np.int32)


def token_bytes_of(tokenizer) -> np.ndarray:
    """(vocab,) bytes each id spells: a byte-level token is one symbol per byte."""
    return np.array([len(tokenizer.id_to_token(i)) for i in range(tokenizer.get_vocab_size())], dtype=np.int64)


def read_tokenizer(path: Path, vocab: int):
    tk = _tokenizers()
    try:
        tokenizer = tk.Tokenizer.from_file(str(path))
    except Exception as exc:  # the library raises its own exception type for a file it cannot parse
        raise ScalingLawsError(f"tokenizer {path} cannot be read ({str(exc).splitlines()[0]}). Move it aside to "
                               "train it again (rungs trained with it then start over)") from None
    if tokenizer.get_vocab_size() != vocab:
        raise ScalingLawsError(f"tokenizer {path} has {tokenizer.get_vocab_size()} tokens but the plan's vocab is "
                               f"{vocab}. Set vocab = {tokenizer.get_vocab_size()} in the plan, or give another "
                               "--checkpoints folder to train a new tokenizer")
    return tokenizer


def tokenize(plan, corpus: Corpus, folder: str | Path, *, train: bool = True) -> Tokens:
    """The corpus in the plan's tokens. BPE: the tokenizer saved in `folder`, trained there first when absent and
    `train` is true (the driver trains it; workers only read it)."""
    if plan.tokenizer == "bytes":
        return Tokens(corpus, np.ones(max(plan.vocab, corpus.vocab), dtype=np.int64))
    if corpus.train.dtype != np.uint8:
        raise ScalingLawsError(f"corpus {corpus.source} is already token ids: a BPE tokenizer needs text. Set "
                               "tokenizer = \"bytes\" in the plan (the ids are used as they are)")
    path = Path(folder) / TOKENIZER_FILE
    if path.exists():
        tokenizer = read_tokenizer(path, plan.vocab)
    elif not train:
        raise ScalingLawsError(f"no tokenizer at {path}: the driver trains it before any rung. Run `scalinglaws "
                               "ladder run` on the plan")
    else:
        tokenizer = train_bpe(corpus.train, plan.vocab)
        if tokenizer.get_vocab_size() != plan.vocab:
            raise ScalingLawsError(f"corpus {corpus.source} has too few distinct byte pairs for a BPE of "
                                   f"{plan.vocab} tokens (it made {tokenizer.get_vocab_size()}). Give more text or "
                                   f"set vocab = {tokenizer.get_vocab_size()}")
        Path(folder).mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tokenizer.save(str(tmp))
        tmp.replace(path)
    ids = replace(corpus, train=encode(tokenizer, corpus.train), held_out=encode(tokenizer, corpus.held_out),
                  vocab=plan.vocab)
    return Tokens(_checked(ids, corpus.source), token_bytes_of(tokenizer), "bpe")


def corpus_for(plan, folder: str | Path, *, train: bool = True) -> Tokens:
    """The plan's corpus read (data.load) and put in the plan's tokens (see `tokenize`)."""
    return tokenize(plan, load(plan.corpus, limit=plan.corpus_bytes), folder, train=train)


def bits_per_byte(nats: float, tokens: int, nbytes: int) -> float:
    """Summed-loss conversion: `nats` (mean cross-entropy per token) over `tokens` tokens spelling `nbytes` bytes."""
    return nats * tokens / (math.log(2) * max(nbytes, 1))
