"""Writing result files: the folder checked before any work, the bytes written whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import ScalingLawsError


def output_path(path: str | Path, option: str = "-o") -> Path:
    """The path to write, refused with one line when its folder does not exist (checked before any work)."""
    path = Path(path)
    if not path.parent.exists():
        raise ScalingLawsError(f"{option} {path}: the folder {path.parent} does not exist. Create it first")
    return path


def write_atomic(path: str | Path, data: str | bytes, option: str = "-o") -> Path:
    """Write through a temporary file renamed into place: a crash leaves the old file (or none), never half a one."""
    path = output_path(path, option)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
