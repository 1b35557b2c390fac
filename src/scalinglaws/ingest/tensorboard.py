"""TensorBoard event files: scalars (and hyperparameters) as runs-table rows, one per run and step.

An event file is a sequence of TFRecords: an 8-byte length, a masked CRC-32C of the length, the serialised Event
protocol buffer, and a masked CRC-32C of it. Records are read here directly and both checksums verified, so a
damaged or foreign file is refused with the byte offset where it goes wrong, rather than silently read in part.
The protocol buffers come from the `tensorboard` package (optional extra: pip install 'scalinglaws[tensorboard]');
TensorFlow is not needed.

A run is the folder an event file sits in, relative to the folder given (TensorBoard's own convention); a run's
several files (restarts) are read in name order, a later value for the same step and tag replacing an earlier one.
Scalars are read in both forms writers use: `simple_value` (PyTorch, tensorboardX, TF1) and a scalar tensor
(TF2, tensorboard.summary). Hyperparameters logged with the HParams plugin become constant columns of their run.
"""

from __future__ import annotations

import struct
import warnings
from collections.abc import Callable
from pathlib import Path

from ..errors import DataWarning, ScalingLawsError, missing
from .common import Batch, Rows, column_name, sha256_file

_HEADER = struct.Struct("<QI")
_CRC = struct.Struct("<I")


def _modules():
    try:
        from tensorboard.compat.proto import event_pb2
        from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c
        from tensorboard.util import tensor_util
    except ImportError:
        raise missing("tensorboard", "reading TensorBoard logs") from None
    return event_pb2, masked_crc32c, tensor_util


def event_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise ScalingLawsError(f"{root}: no such file or folder. Give a TensorBoard log folder or an event file")
    files = sorted(p for p in root.rglob("*tfevents*") if p.is_file())
    if not files:
        raise ScalingLawsError(f"{root}: no TensorBoard event files (named *tfevents*) in this folder or below it")
    return files


def records(path: Path):
    """The serialised records of one event file, checksums verified; a cut-short last record warns and stops."""
    _, masked_crc32c, _ = _modules()
    data = path.read_bytes()
    pos, n = 0, len(data)
    while pos < n:
        if n - pos < _HEADER.size:
            _partial(path, pos)
            return
        length, length_crc = _HEADER.unpack_from(data, pos)
        if masked_crc32c(data[pos:pos + 8]) != length_crc:
            what = "is not a TensorBoard event file" if pos == 0 else "is damaged"
            raise ScalingLawsError(f"{path.name} {what}: bad record header at byte {pos}. Check the file, or leave "
                                   "it out of the folder")
        start, end = pos + _HEADER.size, pos + _HEADER.size + length
        if end + _CRC.size > n:
            _partial(path, pos)
            return
        body = data[start:end]
        if masked_crc32c(body) != _CRC.unpack_from(data, end)[0]:
            raise ScalingLawsError(f"{path.name} is damaged: the record at byte {pos} fails its checksum. Check the "
                                   "file, or leave it out of the folder")
        yield pos, body
        pos = end + _CRC.size


def _partial(path: Path, pos: int) -> None:
    warnings.warn(f"{path.name}: ignored an incomplete record at byte {pos} at the end of the file (is the run "
                  "still writing it?)", DataWarning, stacklevel=4)


def _value(v, tensor_util):
    """A summary value as a float, or None when it is not a scalar (histograms, images, text)."""
    kind = v.WhichOneof("value")
    if kind == "simple_value":
        return float(v.simple_value)
    if kind == "tensor":
        plugin = v.metadata.plugin_data.plugin_name
        if plugin not in ("", "scalars") or len(v.tensor.tensor_shape.dim) != 0:
            return None
        try:
            arr = tensor_util.make_ndarray(v.tensor)
        except Exception:  # an unknown dtype: not a scalar we can read
            return None
        return float(arr) if arr.dtype.kind in "fiub" else None
    return None


def _hparams(v) -> dict:
    from tensorboard.plugins.hparams import plugin_data_pb2

    try:
        data = plugin_data_pb2.HParamsPluginData.FromString(v.metadata.plugin_data.content)
    except Exception:
        return {}
    if data.WhichOneof("data") != "session_start_info":
        return {}
    out = {}
    for name, value in data.session_start_info.hparams.items():
        kind = value.WhichOneof("kind")
        if kind == "number_value":
            out[name] = float(value.number_value)
        elif kind == "string_value":
            out[name] = value.string_value
        elif kind == "bool_value":
            out[name] = float(value.bool_value)
    return out


def read_tensorboard(source: str, progress: Callable[[int, int], None] | None = None) -> Batch:
    event_pb2, _, tensor_util = _modules()
    root = Path(source)
    files = event_files(root)
    base = root if root.is_dir() else root.parent
    rows, hparams, hashes = Rows(), {}, []
    for i, path in enumerate(files):
        rel = path.parent.relative_to(base).as_posix()
        run = rel if rel != "." else (base.resolve().name or "run")
        first = True
        for pos, body in records(path):
            try:
                event = event_pb2.Event.FromString(body)
            except Exception:
                raise ScalingLawsError(f"{path.name}: the record at byte {pos} is not a TensorBoard event. Check the "
                                       "file, or leave it out of the folder") from None
            if first and not event.file_version.startswith("brain.Event"):
                raise ScalingLawsError(f"{path.name} is not a TensorBoard event file (it does not begin with a "
                                       "file_version record)")
            first = False
            if not event.HasField("summary"):
                continue
            for v in event.summary.value:
                if v.metadata.plugin_data.plugin_name == "hparams":
                    hparams.setdefault(run, {}).update(_hparams(v))
                    continue
                value = _value(v, tensor_util)
                if value is not None:
                    key = (run, float(event.step))
                    rows.add(key, column_name(v.tag), value)
                    rows.add(key, "wall_time", float(event.wall_time), count=False)
        if first:
            raise ScalingLawsError(f"{path.name} holds no complete record: it is empty or not an event file")
        hashes.append((str(path), sha256_file(path)))
        if progress is not None:
            progress(i + 1, len(files))
    for (run, _), row in rows.rows.items():
        for name, value in hparams.get(run, {}).items():
            row.setdefault(column_name(name), value)
    notes = []
    if rows.replaced:
        notes.append(f"{rows.replaced} values logged twice at one step (a resumed run?): kept the later")
    if not rows.rows:
        notes.append("no scalar summaries found (only histograms, images or text?)")
    return Batch("tensorboard", source, rows.columns(("run", "step")), tuple(hashes), tuple(notes))
