"""lm-evaluation-harness per-sample logs (`--log_samples`): one JSON object per line and item (document).

The files carry no model size, so each is given with its size: {path: params}. Two kinds of task are read:

- multiple choice (`read_choices`): `target` is the index of the correct choice and `filtered_resps` (or `resps`)
  holds one [log-likelihood, is_greedy] pair per choice, the numbers sometimes written as text. The rows feed
  decide/choices.py: params, item, choice, loglik, correct (1 for the target's choice).
- generative (`read_generations`, a task run with `repeats` > 1): `filtered_resps` (or `resps`) holds the
  item's generations, nested one level per request ([[g1, g2, ...]]) or flat. Each generation is judged by the
  item's metric when it is a list with one 0/1 value per repeat (`exact_match: [1, 0, ...]`); a single value with a
  single generation is that generation's verdict; a single value over several generations scores a filtered
  answer (a majority vote, say), not each generation, so then each generation is compared with `target` (leading
  and trailing white space aside). The rows are the repeated-sampling table of decide/emergence.py: params,
  problem (doc_id), samples (generations), correct (those judged correct).
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


def records(path) -> list[tuple[str, int, dict]]:
    """(where, line number, object) of each non-blank line of one samples file."""
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ScalingLawsError(f"{p}: no such samples file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScalingLawsError(f"{p.name} could not be read as UTF-8 text ({type(exc).__name__})") from None
    out = []
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
        out.append((where, i, rec))
    if not out:
        raise ScalingLawsError(f"{p.name} holds no samples")
    return out


def read_choices(files: Mapping, scale: str = "params") -> dict[str, list]:
    """Columns scale, item, choice, loglik, correct from samples files {path: model size}."""
    cols: dict[str, list] = {scale: [], "item": [], "choice": [], "loglik": [], "correct": []}
    for path, size in files.items():
        for where, i, rec in records(path):
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
    return cols


VERDICTS = ("exact_match", "acc", "pass@1", "correct")  # a generative task's per-item metric, looked for in order


def _is_loglik(resp) -> bool:
    """A [log-likelihood, is_greedy] pair, as a multiple-choice task logs each choice."""
    if isinstance(resp, list) and len(resp) == 1:
        resp = resp[0]
    if not (isinstance(resp, list) and len(resp) == 2):
        return False
    flag = resp[1]
    return isinstance(flag, bool) or (isinstance(flag, str) and flag in ("True", "False"))


def _generations(rec: dict, where: str) -> list[str]:
    resps = rec.get("filtered_resps", rec.get("resps"))
    if isinstance(resps, list) and resps and all(_is_loglik(r) for r in resps):
        raise ScalingLawsError(f"{where} holds log-likelihoods, not generations: a multiple-choice task. "
                               "Forecast it with `scalinglaws choices --log FILE=SIZE`")
    out: list[str] = []

    def walk(x):
        if isinstance(x, str):
            out.append(x)
        elif isinstance(x, list):
            for y in x:
                walk(y)
        else:
            raise ScalingLawsError(f"{where}: a response {str(x)[:40]!r} is not generated text: give a generative "
                                   "task's samples file (filtered_resps holds the generations)")

    if resps is not None:
        walk(resps)
    if not out:
        raise ScalingLawsError(f"{where} has no generations (filtered_resps and resps are missing or empty): give "
                               "a generative task logged with --log_samples, sampled several times per item "
                               "(repeats)")
    return out


def _verdict(value, name: str, where: str) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)) and value in (0, 1):
        return float(value)
    raise ScalingLawsError(f"{where}: {name} value {str(value)[:40]!r} is not a verdict (0 or 1, or true/false): "
                           "name a metric that judges each generation with --metric")


def _correct(rec: dict, gens: list[str], metric: str | None, where: str) -> int:
    """How many of the item's generations are judged correct (see the module docstring)."""
    if metric is not None and metric not in rec:
        found = [k for k, v in rec.items() if isinstance(v, (int, float, list)) and k not in ("doc_id",)]
        raise ScalingLawsError(f"{where} has no metric {metric!r} (found: {', '.join(found) or 'none'}). Name one "
                               "of them with --metric")
    name = metric or next((m for m in VERDICTS if m in rec), None)
    value = rec.get(name) if name else None
    if isinstance(value, list):
        verdicts = [_verdict(v, name, where) for v in value]
        correct = int(sum(verdicts))
        if correct > len(gens):
            raise ScalingLawsError(f"{where}: {name} counts {correct} correct of {len(gens)} generations (samples < "
                                   "correct): the file is inconsistent. Check that filtered_resps holds every "
                                   "repeat's generation")
        if len(verdicts) != len(gens):
            raise ScalingLawsError(f"{where}: {name} holds {len(verdicts)} verdicts for {len(gens)} generations: "
                                   "give one verdict per generation")
        return correct
    if value is not None and len(gens) == 1:
        return int(_verdict(value, name, where))
    target = rec.get("target")
    if target is None or isinstance(target, dict):
        raise ScalingLawsError(f"{where} has {len(gens)} generations but no per-generation metric "
                               f"({', '.join(VERDICTS)} as a list) and no target to compare them with: log "
                               "per-repeat metrics, or name one with --metric")
    answers = {str(t).strip() for t in (target if isinstance(target, list) else [target])}
    return sum(g.strip() in answers for g in gens)


def read_generations(files: Mapping, scale: str = "params", metric: str | None = None) -> dict[str, list]:
    """The repeated-sampling table (columns scale, problem, samples, correct) of one generative task's samples
    files {path: model size}, one file per size: each item's generations counted and judged (module docstring)."""
    cols: dict[str, list] = {scale: [], "problem": [], "samples": [], "correct": []}
    seen: dict[float, str] = {}
    for path, size in files.items():
        name = Path(path).name
        size = float(size)
        if not size > 0 or size == float("inf"):
            raise ScalingLawsError(f"{name}: model size {size:g} is not a positive number. Give it as FILE=SIZE, "
                                   "e.g. samples_gsm8k.jsonl=1.6e8")
        if size in seen:
            raise ScalingLawsError(f"{seen[size]} and {name} are both given size {size:g}: give one samples file "
                                   "per model size, of one task")
        seen[size] = name
        docs: dict[str, int] = {}
        for where, i, rec in records(path):
            gens = _generations(rec, where)
            item = str(rec.get("doc_id", i))
            if item in docs:
                raise ScalingLawsError(f"{where} repeats doc_id {item} of line {docs[item]}: give each item once "
                                       "(one samples file per model size, of one task)")
            docs[item] = i
            cols[scale].append(size)
            cols["problem"].append(item)
            cols["samples"].append(float(len(gens)))
            cols["correct"].append(float(_correct(rec, gens, metric, where)))
    if len(seen) < 2:
        only = ", ".join(f"{v:g}" for v in seen) or "none"
        raise ScalingLawsError(f"the samples files give one model size ({only}): a task's law in size needs files of "
                               "several sizes, one --log FILE=SIZE each")
    return cols
