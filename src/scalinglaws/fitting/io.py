"""Reading fit files back, and refusing the ones that cannot be trusted.

A fit file is refused, with one clear line, when it is missing, not JSON, not a fit, written by another format
version, edited by hand (its checksum no longer matches), or names a law this process does not know.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from ..errors import ScalingLawsError
from .record import FORMAT, checksum

REQUIRED = ("format", "version", "law", "formula", "inputs", "target", "params", "objective", "loss", "n_points",
            "n_runs", "converged", "at_bounds", "warnings", "starts", "seed", "data", "residuals", "checksum")


def read_record(path: str | Path) -> dict:
    path = Path(path)
    if not path.exists():
        raise ScalingLawsError(f"fit file not found: {path}. Write one with `scalinglaws fit DATA --law NAME -o "
                               f"{path.name}`")
    if path.is_dir():
        raise ScalingLawsError(f"{path} is a folder, not a fit file")
    text = path.read_text(encoding="utf-8", errors="replace")
    if not text.strip():
        raise ScalingLawsError(f"{path.name} is empty. Write a fit with `scalinglaws fit ... -o {path.name}`")
    try:
        d = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScalingLawsError(f"{path.name} is not valid JSON ({exc.msg} at line {exc.lineno}): it is not a fit "
                               "file, or it was cut short. Refit with `scalinglaws fit`") from None
    if not isinstance(d, dict):
        raise ScalingLawsError(f"{path.name} is JSON but not a fit record (expected an object)")
    return d


def validate_record(d: Mapping, source: str) -> None:
    fmt = d.get("format")
    if fmt is None or not str(fmt).startswith("scalinglaws.fit/"):
        raise ScalingLawsError(f"{source} is not a scalinglaws fit file (no 'format' field). Write one with "
                               "`scalinglaws fit ... -o FIT.json`")
    if fmt != FORMAT:
        raise ScalingLawsError(f"{source} was written in fit format {fmt} (version {d.get('version', '?')}); this "
                               f"version reads {FORMAT}. Refit with this version of scalinglaws")
    missing = [k for k in REQUIRED if k not in d]
    if missing:
        raise ScalingLawsError(f"{source} lacks {', '.join(missing)}: it was edited or cut short. Refit with "
                               "`scalinglaws fit`")
    if d["checksum"] != checksum(d):
        raise ScalingLawsError(f"{source} was changed after it was written (its checksum does not match). Refit "
                               "rather than editing a fit file; to explore other values use the Python API")


def law_of(fit):
    """The Law a fit was made with: from the registry, or rebuilt from the formula it records."""
    from ..laws import LAWS, formula_law

    src = fit.law_source
    if src and src.get("kind") == "formula":
        params = {k: {kk: tuple(vv) if isinstance(vv, list) else vv for kk, vv in v.items()}
                  for k, v in src.get("params", {}).items()}
        law = formula_law(src["expr"], name=fit.law, inputs=src.get("inputs"), params=params,
                          target=src.get("target", "loss"))
    elif fit.law in LAWS:
        law = LAWS[fit.law]
    else:
        raise ScalingLawsError(f"the fit uses law '{fit.law}', which is not registered in this process. Register it "
                               "with scalinglaws.register_law(...) before loading the fit")
    if law.param_names != list(fit.params):
        raise ScalingLawsError(f"the fit's parameters {list(fit.params)} do not match law '{fit.law}' "
                               f"({law.param_names}): the fit was made with another definition. Refit")
    return law
