"""Tests for chainrule/train/progress.py: silent, one line per epoch off a terminal, a tqdm bar on one."""

import io
import re
import sys

import pytest

from chainrule.train import fit
from chainrule.train.progress import format_logs
from conftest import mlp


def test_verbose_0_prints_nothing(blobs, capsys):
    x, y = blobs
    fit(mlp([4, 3]), x, y, epochs=3, batch_size=8, metrics=["accuracy"], validation_split=0.25, verbose=0)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.parametrize("verbose", [1, 2])
def test_not_a_terminal_gives_one_line_per_epoch(blobs, capsys, verbose):
    x, y = blobs
    history = fit(mlp([4, 3]), x, y, epochs=3, batch_size=8, metrics=["accuracy"], validation_split=0.25,
                  verbose=verbose)  # 23 batches per epoch, still one line each
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 3 and captured.err == ""
    for epoch, line in enumerate(lines):
        assert re.match(rf"Epoch {epoch + 1}/3 - \d+\.\ds - loss: \d\.\d{{4}} - accuracy: \d\.\d{{4}} - "
                        rf"val_loss: \d\.\d{{4}} - val_accuracy: \d\.\d{{4}} - lr: 0\.001$", line), line
        assert f"loss: {history.history['loss'][epoch]:.4f}" in line


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_terminal_gets_a_tqdm_bar_per_epoch(blobs, monkeypatch):
    pytest.importorskip("tqdm")
    x, y = blobs
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    history = fit(mlp([4, 3]), x, y, epochs=2, batch_size=8, metrics=["accuracy"], validation_split=0.25, verbose=1)
    monkeypatch.undo()
    text = terminal.getvalue()
    assert "Epoch 1/2" in text and "Epoch 2/2" in text
    assert "23/23" in text  # tqdm's counter reached the end of each epoch
    final = f"val_accuracy: {history.history['val_accuracy'][-1]:.4f}"
    assert final in text  # the finished bar shows the epoch's logs
    assert "\r" in text  # drawn in place, not line by line


def test_terminal_without_tqdm_falls_back_to_lines(blobs, monkeypatch):
    x, y = blobs
    terminal = _Terminal()
    monkeypatch.setitem(sys.modules, "tqdm", None)  # `import tqdm` now raises ImportError
    monkeypatch.setattr(sys, "stdout", terminal)
    fit(mlp([4, 3]), x, y, epochs=2, batch_size=8, verbose=1)
    monkeypatch.undo()
    lines = terminal.getvalue().splitlines()
    assert [line.split(" - ")[0] for line in lines] == ["Epoch 1/2", "Epoch 2/2"]


def test_bad_verbose_and_log_format(blobs):
    x, y = blobs
    with pytest.raises(ValueError, match="verbose must be 0"):
        fit(mlp([4, 3]), x, y, epochs=1, verbose=3)
    assert format_logs({"loss": 0.123456, "size": 3, "lr": 0.0001}) == "loss: 0.1235 - lr: 0.0001"
