"""Output paths that cannot take a result: a folder, a missing or read-only folder, a temporary name taken, a full
disk, a device. One Error line, the old file (if any) kept whole, no temporary file left, and a device is written
to as a stream, never replaced by a regular file."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_corpus import no_leftovers

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _command(name: str, ladder: Path, fit_file: Path, out: Path) -> list:
    return {"fit": ["fit", ladder, "-o", out],
            "report": ["report", fit_file, "-o", out.with_suffix(".html") if out.suffix else out],
            "plot": ["plot", fit_file, "-o", out.with_suffix(".png") if out.suffix else out]}[name]


COMMANDS = ["fit", "report", "plot"]


@pytest.mark.parametrize("command", COMMANDS)
def test_output_onto_an_existing_folder_is_refused(sl, tmp_path, ladder, fit_file, command):
    folder = tmp_path / {"fit": "results.json", "report": "results.html", "plot": "results.png"}[command]
    folder.mkdir()
    sl(*_command(command, ladder, fit_file, folder)).refused("this is a folder")
    assert folder.is_dir() and not any(folder.iterdir())


@pytest.mark.parametrize("command", COMMANDS)
def test_output_into_a_missing_folder_is_refused(sl, tmp_path, ladder, fit_file, command):
    sl(*_command(command, ladder, fit_file, tmp_path / "nope" / "out.json")).refused("does not exist")


@pytest.mark.parametrize("command", COMMANDS)
def test_output_below_a_file_is_refused(sl, tmp_path, ladder, fit_file, command):
    (tmp_path / "file").write_text("x")
    sl(*_command(command, ladder, fit_file, tmp_path / "file" / "out.json")).refused("not a folder")


@pytest.mark.parametrize("command", COMMANDS)
def test_output_into_a_read_only_folder_is_refused(sl, tmp_path, ladder, fit_file, command, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.geteuid() == 0:  # permissions do not bind root: say the folder is not writable as the system would
            import scalinglaws.files as files

            real = os.access
            monkeypatch.setattr(files.os, "access", lambda p, mode: False if Path(p) == folder else real(p, mode))
        sl(*_command(command, ladder, fit_file, folder / "out.json")).refused("not writable", str(folder))
        assert not any(folder.iterdir())
    finally:
        folder.chmod(0o755)


@pytest.mark.parametrize("command", COMMANDS)
def test_a_temporary_name_taken_by_a_folder_does_not_block_the_write(sl, tmp_path, ladder, fit_file, command):
    out = _command(command, ladder, fit_file, tmp_path / "out.json")[-1]
    (tmp_path / f".{out.name}.tmp").mkdir()  # the fixed temporary name of earlier versions
    outcome = sl(*_command(command, ladder, fit_file, tmp_path / "out.json"))
    assert outcome.code == 0, outcome.err
    assert out.is_file() and out.stat().st_size > 0


@pytest.mark.parametrize("command", COMMANDS)
def test_a_write_that_fails_keeps_the_old_file_and_leaves_nothing(sl, tmp_path, ladder, fit_file, command,
                                                                 monkeypatch):
    out = _command(command, ladder, fit_file, tmp_path / "out.json")[-1]
    out.write_bytes(b"old result")
    import scalinglaws.files as files

    def full(*_):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", full)
    sl(*_command(command, ladder, fit_file, tmp_path / "out.json")).refused(str(out), "No space left on device")
    assert out.read_bytes() == b"old result"
    no_leftovers(tmp_path)


def _is_char_device(path: str) -> bool:
    return stat.S_ISCHR(os.stat(path).st_mode)


@pytest.mark.skipif(not os.path.exists("/dev/full") or not _is_char_device("/dev/full"), reason="no /dev/full")
def test_output_onto_a_full_device_is_refused_and_the_device_stays(sl, ladder):
    sl("fit", ladder, "-o", "/dev/full").refused("/dev/full", "No space left on device")
    assert _is_char_device("/dev/full")


@pytest.mark.skipif(not os.path.exists("/dev/null") or not _is_char_device("/dev/null"), reason="no /dev/null")
def test_output_onto_dev_null_is_streamed_and_the_device_stays(sl, ladder):
    outcome = sl("fit", ladder, "-o", "/dev/null")
    assert outcome.code == 0, outcome.err
    assert _is_char_device("/dev/null")


def _process(args, **kw):
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.run([sys.executable, "-m", "scalinglaws", *map(str, args)], env=env, **kw)


@pytest.mark.skipif(not os.path.exists("/dev/full") or not _is_char_device("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("args", [["laws", "--json"], ["datasets", "--json"], ["fit", "LADDER", "--json"]])
def test_json_to_a_full_disk_is_one_error_line(ladder, args):
    with open("/dev/full", "w") as full:
        done = _process([ladder if a == "LADDER" else a for a in args], stdout=full, stderr=subprocess.PIPE,
                        text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len([line for line in lines if line.startswith("Error:")]) == 1, done.stderr
    assert "No space left on device" in done.stderr and "Traceback" not in done.stderr
    assert "Exception ignored" not in done.stderr


def test_a_closed_pipe_is_no_traceback():
    proc = subprocess.Popen([sys.executable, "-m", "scalinglaws", "laws", "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": SRC})
    proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in err and "Exception ignored" not in err, err
