"""Every ```python block of docs/coming-from-pytorch.md runs, in order, in one namespace (as a reader would)."""

import re
import warnings
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parent.parent / "docs" / "coming-from-pytorch.md"


def blocks():
    return re.findall(r"^```python\n(.*?)^```", PAGE.read_text(encoding="utf-8"), flags=re.S | re.M)


def test_the_page_has_code_blocks():
    assert len(blocks()) >= 10


def test_every_code_block_runs(tmp_path, monkeypatch, capsys):
    pytest.importorskip("sklearn")
    pytest.importorskip("safetensors")
    monkeypatch.chdir(tmp_path)  # anything a block writes stays in the test's folder
    namespace = {"__name__": "coming_from_pytorch"}
    for number, code in enumerate(blocks(), 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                exec(compile(code, f"{PAGE.name}, block {number}", "exec"), namespace)
            except Exception as error:
                pytest.fail(f"block {number} of {PAGE.name} raised {type(error).__name__}: {error}\n{code}")
    printed = capsys.readouterr().out
    assert "train accuracy" in printed and "ndarray (32, 64) (32,)" in printed
