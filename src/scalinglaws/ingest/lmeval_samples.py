"""lm-evaluation-harness per-sample logs (`--log_samples`) of multiple-choice tasks: one row per item and choice.

A samples file holds one JSON object per line and item: `doc_id`, `target` (the index of the correct choice) and
`filtered_resps` (or `resps`), one [log-likelihood, is_greedy] pair per choice, the numbers sometimes written as
text. The files carry no model size, so each is given with its size: {path: params}. The rows feed
decide/choices.py: params, item, choice, loglik, correct (1 for the target's choice).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from ..errors import ScalingLawsError


def _loglik(resp, where: str) -> float:
    value = resp[0] if isinstance(resp, (list, tuple)) and resp else resp
    if isinstance(value, (list, tuple)) and value:  # resps nest one level deeper than filtered_resps
        value = value[0]
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ScalingLawsError(f"{where}: a choice's response {str(resp)[:40]!r} holds no log-likelihood: is this "
                               "a multiple-choice (loglikelihood) task's samples file?") from None
    return out


def read_choices(files: Mapping, scale: str = "params") -> dict[str, list]:
    """Columns scale, item, choice, loglik, correct from samples files {path: model size}."""
    cols: dict[str, list] = {scale: [], "item": [], "choice": [], "loglik": [], "correct": []}
    for path, size in files.items():
        p = Path(path)
        try:
            lines = p.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            raise ScalingLawsError(f"{p}: no such samples file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ScalingLawsError(f"{p.name} could not be read as UTF-8 text ({type(exc).__name__})") from None
        n = 0
        for i, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{p.name} line {i}"
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ScalingLawsError(f"{where} is not JSON ({exc.msg}): give the harness's samples_*.jsonl "
                                       "file") from None
            if not isinstance(rec, dict):
                raise ScalingLawsError(f"{where} is not a JSON object: give the harness's samples_*.jsonl file")
            resps = rec.get("filtered_resps", rec.get("resps"))
            if not isinstance(resps, list) or len(resps) < 2:
                raise ScalingLawsError(f"{where} has no choices (filtered_resps with one log-likelihood per choice): "
                                       "per-choice forecasts need a multiple-choice task logged with --log_samples")
            target = rec.get("target")
            try:
                gold = int(target)
            except (TypeError, ValueError):
                raise ScalingLawsError(f"{where}: target {str(target)[:40]!r} is not the index of a choice") from None
            if not 0 <= gold < len(resps):
                raise ScalingLawsError(f"{where}: target {gold} is not one of the {len(resps)} choices")
            item = str(rec.get("doc_id", i))
            for j, resp in enumerate(resps):
                cols[scale].append(float(size))
                cols["item"].append(item)
                cols["choice"].append(j)
                cols["loglik"].append(_loglik(resp, where))
                cols["correct"].append(1.0 if j == gold else 0.0)
            n += 1
        if n == 0:
            raise ScalingLawsError(f"{p.name} holds no samples")
    return cols
