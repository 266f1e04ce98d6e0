"""Tests for chainrule/_atomic.py: atomic writes, stale temporary files, the output-folder lock."""

import os
import re
import subprocess
import sys

import pytest

from chainrule._atomic import LOCK_NAME, FolderLocked, atomic_write, is_temporary, lock_folder, remove_stale_temporaries


def test_atomic_write_replaces_the_file_whole_with_an_ordinary_mode(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    previous = os.umask(0o027)
    try:
        with atomic_write(path, "w", newline="") as file:
            file.write("new\r\n")
            names = os.listdir(tmp_path)
            # meanwhile: the old file is untouched and the new bytes go to a named temporary file
            assert path.read_text() == "old"
            assert sorted(names)[0].startswith(f".out.txt.{os.getpid()}.") and is_temporary(sorted(names)[0])
    finally:
        os.umask(previous)
    assert path.read_bytes() == b"new\r\n"
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["out.txt"]
    with atomic_write(tmp_path / "data.bin", "wb") as file:
        file.write(b"\x00\xff")
    assert (tmp_path / "data.bin").read_bytes() == b"\x00\xff"


def test_a_failure_inside_leaves_the_previous_file_and_no_temporary(tmp_path):
    path = tmp_path / "out.json"
    path.write_text('{"ok": 1}')
    with pytest.raises(OSError, match="No space"):
        with atomic_write(path) as file:
            file.write('{"ok": ')
            raise OSError(28, "No space left on device")
    assert path.read_text() == '{"ok": 1}'
    assert os.listdir(tmp_path) == ["out.json"]


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="mode must be 'w' or 'wb', got 'a'"):
        with atomic_write(tmp_path / "x", "a"):
            pass
    with pytest.raises(FileNotFoundError, match="absent"):
        with atomic_write(tmp_path / "absent" / "x"):
            pass


def test_stale_temporaries_of_dead_processes_only_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    names = [f".model.safetensors.{dead}.abc123_x.tmp", f".history.json.{os.getpid()}.k9.tmp",
             ".notes.tmp", "history.json", f"model.{dead}.x.tmp"]
    for name in names:
        (tmp_path / name).write_text("x")
    assert remove_stale_temporaries(tmp_path) == [names[0]]
    assert sorted(os.listdir(tmp_path)) == sorted(names[1:])


def test_the_lock_refuses_a_second_holder_and_is_removed_on_exit(tmp_path):
    with lock_folder(tmp_path):
        assert (tmp_path / LOCK_NAME).read_text() == f"{os.getpid()}\n"
        expected = re.escape(f"{tmp_path} is in use by another chainrule run (process {os.getpid()})")
        with pytest.raises(FolderLocked, match=expected):
            with lock_folder(tmp_path):
                pass
    assert os.listdir(tmp_path) == []
    with pytest.raises(RuntimeError):
        with lock_folder(tmp_path):
            raise RuntimeError("the run failed")
    assert os.listdir(tmp_path) == []  # also removed when the block fails
    (tmp_path / LOCK_NAME).write_text("12345\n")  # left by a killed run: no flock on it any more
    with lock_folder(tmp_path):
        pass


def _writers():
    import numpy as np

    from chainrule.data.images import write_idx
    from chainrule.data.text import Vocabulary
    from chainrule.train.history import History

    history = History()
    history.epoch, history.history = [0], {"loss": [0.5]}
    return {
        "history.json": lambda path: history.to_json(path),
        "digits.idx": lambda path: write_idx(path, np.arange(6, dtype=np.uint8).reshape(2, 3)),
        "vocab.json": lambda path: Vocabulary.build(["a b", "b c"]).save(path),
    }


@pytest.mark.parametrize("name", ["history.json", "digits.idx", "vocab.json"])
def test_every_writer_keeps_the_previous_file_when_writing_fails(tmp_path, monkeypatch, name):
    """History.to_json(path), write_idx and Vocabulary.save go through atomic_write: a failure (here
    at fsync, as on a full disk) leaves the previous file as it was and no temporary file."""
    write = _writers()[name]
    path = tmp_path / name
    path.write_bytes(b"previous")

    def failing_fsync(descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="No space"):
        write(path)
    monkeypatch.undo()
    assert path.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == [name]
    write(path)
    assert path.read_bytes() != b"previous"
