"""The runs table's schema: the columns scalinglaws knows by name, and the rule each one obeys.

A row is one evaluation of one run, at a step or at the end. Units are plain numbers: `params` counts parameters
(7e9, not 7), `tokens` counts tokens, `flops` counts FLOP, `loss` is in nats per token unless you say otherwise. Any
other column is kept as it is and can be used as a metric, a filter or a grouping label.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "number" or "text"
    rule: str  # "positive", "nonnegative" or "any" (numbers only)
    doc: str
    # A column whose largest value is below this is almost surely written in millions or billions.
    smallest_plausible_max: float = 0.0


COLUMNS: dict[str, Column] = {c.name: c for c in (
    Column("run", "text", "any", "Run identifier; rows of one run share it. Absent: every row is its own run."),
    Column("params", "number", "positive", "N, model parameters (a plain count: 7e9, not 7).", 1e4),
    Column("tokens", "number", "positive", "D, training tokens seen by this evaluation.", 1e5),
    Column("flops", "number", "positive", "C, training compute in FLOP. Absent: computed as 6·N·D.", 1e12),
    Column("loss", "number", "positive", "The default metric, in nats per token. Any other column can be the metric."),
    Column("step", "number", "nonnegative", "Optimizer step of this evaluation (training curves)."),
    Column("lr", "number", "nonnegative", "Learning rate in effect at this step (training curves)."),
    Column("batch_size", "number", "positive", "Batch size, in tokens."),
    Column("family", "text", "any", "Model family or recipe label, for grouping and comparison."),
    Column("dataset", "text", "any", "Training dataset label."),
    Column("seed", "number", "any", "Random seed of the run."),
    Column("unique_tokens", "number", "positive", "U, unique tokens available (data-constrained laws).", 1e5),
    Column("weight", "number", "nonnegative", "Optional weight of the row in a fit (default 1)."),
)}

# Symbols of the scaling-law literature and the columns they stand for (used by formula laws and docs).
SYMBOLS: dict[str, str] = {"N": "params", "D": "tokens", "C": "flops", "U": "unique_tokens", "S": "step"}


# Names the schema's columns go by in other people's tables and logs, for "did you mean" hints (never renamed
# silently: a guess is said, and the user maps it).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "params": ("model_size", "n_params", "num_params", "nparams", "parameters", "param_count", "model_params",
               "non_embedding_params", "size", "n", "N"),
    "tokens": ("n_tokens", "num_tokens", "ntokens", "train_tokens", "tokens_seen", "data_size", "dataset_size",
               "training_tokens", "d", "D"),
    "flops": ("compute", "flop", "training_flops", "train_flops", "total_flops", "c", "C"),
    "loss": ("val_loss", "eval_loss", "validation_loss", "valid_loss", "test_loss", "train_loss", "train/loss",
             "val/loss", "eval/loss", "final_loss", "ce_loss", "nll"),
    "step": ("_step", "global_step", "iteration", "iter", "steps", "train/step"),
    "lr": ("learning_rate", "train/lr", "train/learning_rate", "lr_scheduler"),
    "batch_size": ("batch", "bs", "global_batch_size", "batch_tokens", "tokens_per_batch"),
    "run": ("run_id", "run_name", "name", "id", "model", "model_name", "experiment"),
    "unique_tokens": ("unique", "u", "U", "dataset_tokens"),
}


def _key(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


def likely_column(name: str, found) -> str | None:
    """The column of `found` that most likely holds `name`: a known synonym first (model_size for params), else
    the closest spelling (difflib). None when nothing is close."""
    from difflib import get_close_matches

    found = [str(f) for f in found]
    by_key = {_key(f): f for f in found}
    for alias in SYNONYMS.get(name, ()):
        if _key(alias) in by_key:
            return by_key[_key(alias)]
    close = get_close_matches(name, found, n=1, cutoff=0.7) or get_close_matches(
        _key(name), list(by_key), n=1, cutoff=0.7)
    if close:
        return by_key.get(close[0], close[0])
    return None


def is_number_column(name: str) -> bool:
    col = COLUMNS.get(name)
    return col is not None and col.kind == "number"
