"""The README's first look (examples/tour.py) runs end to end and learns the digits."""

import importlib.util
import os

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")

TOUR = os.path.join(os.path.dirname(__file__), "..", "examples", "tour.py")


def test_tour_runs_and_learns(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("tour", TOUR)
    tour = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tour)
    accuracy, verdict = tour.main(str(tmp_path), epochs=15)
    assert accuracy >= 0.93
    assert verdict in ("good_fit", "not_converged", "overfitting", "underfitting")
    assert (tmp_path / "digits.safetensors").exists() and (tmp_path / "report.html").stat().st_size > 10_000
    assert "cross-validation: accuracy" in capsys.readouterr().out
