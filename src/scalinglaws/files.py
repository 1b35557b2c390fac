"""Writing result files: the path checked before any work, the bytes written whole or not at all.

A result goes to a regular file through a temporary file in the same folder renamed into place, so a crash, a full
disk or a kill leaves the old file (or none), never half a one. A path that names something other than a regular
file is never replaced: a folder is refused, and a character device or a pipe (`-o /dev/stdout`, `/dev/null`) is
written to as a stream. Every failure of the operating system (a read-only folder, a full disk) is one line that
names the path.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from .errors import ScalingLawsError


def _is_stream(path: Path) -> bool:
    """A character device or a pipe: written to in place, never replaced by a file."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def output_path(path: str | Path, option: str = "-o") -> Path:
    """The path to write, refused with one line before any work when it cannot be written: its folder is missing,
    not a folder, or not writable, or the path itself is a folder or a special file other than a stream."""
    path = Path(path)
    if _is_stream(path):
        return path
    if path.is_dir():
        raise ScalingLawsError(f"{option} {path}: this is a folder. Name a file inside it, e.g. {path / 'out.json'}")
    if path.exists() and not path.is_file():
        raise ScalingLawsError(f"{option} {path}: this is not a regular file (a socket or another special file); "
                               "it is left alone. Name a regular file")
    parent = path.parent
    if not parent.exists():
        raise ScalingLawsError(f"{option} {path}: the folder {parent} does not exist. Create it first")
    if not parent.is_dir():
        raise ScalingLawsError(f"{option} {path}: {parent} is not a folder. Name a file in an existing folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ScalingLawsError(f"{option} {path}: the folder {parent} is not writable. Choose another folder or "
                               "change its permissions")
    return path


def write_failed(path: Path, exc: OSError, option: str = "-o") -> ScalingLawsError:
    """An operating-system failure while writing, as one line that names the path and the cause."""
    why = exc.strerror or type(exc).__name__
    return ScalingLawsError(f"{option} {path}: could not write ({why}); nothing was written. Free some space or "
                            "choose another path")


def write_atomic(path: str | Path, data: str | bytes, option: str = "-o") -> Path:
    """Write through a temporary file renamed into place: a crash leaves the old file (or none), never half a one.

    The temporary name is made unique by the system (a folder or file already holding any fixed name cannot
    block it); a stream (a character device, a pipe) is written to directly."""
    path = output_path(path, option)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if _is_stream(path):
        try:
            with open(path, "wb") as fh:
                fh.write(raw)
        except OSError as exc:
            raise write_failed(path, exc, option) from None
        return path
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists() and not path.is_file():  # appeared while writing: never replace a folder or a device
            raise ScalingLawsError(f"{option} {path}: became a folder or special file while writing; left alone")
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise write_failed(path, exc, option) from None
    finally:
        if tmp is not None and os.path.lexists(tmp):
            os.unlink(tmp)
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
