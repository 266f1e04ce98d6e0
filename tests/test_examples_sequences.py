"""The sequence examples run offline on the shipped data and reach their stated results (fewer epochs)."""

import contextlib
import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _single_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(1)


def test_sentiment_lstm_beats_majority_class(capsys):
    with _single_thread():
        results = _load("sentiment_lstm").main(epochs=10, seed=0)
    assert results["majority_accuracy"] == pytest.approx(0.5)
    assert results["accuracy"] >= results["majority_accuracy"] + 0.15, results
    assert results["f1"] >= 0.6, results
    assert "held-out accuracy" in capsys.readouterr().out


def test_forecast_lstm_beats_naive_forecast(capsys):
    with _single_thread():
        results = _load("forecast_lstm").main(epochs=40, seed=0)
    assert results["lstm_rmse"] < 0.8 * results["naive_rmse"], results
    assert results["linear_ar_rmse"] < results["naive_rmse"]  # the sunspot cycle is predictable
    assert results["test_years"] == (1962, 2008)
    out = capsys.readouterr().out
    assert "naive" in out and "linear autoregression" in out and "LSTM" in out
