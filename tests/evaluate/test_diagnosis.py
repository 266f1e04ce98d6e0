"""The over/underfitting rules on constructed histories (real networks: tests/evaluate/test_diagnosis_learning.py)."""

import numpy as np
import pytest

from chainrule.evaluate.diagnosis import diagnose


def test_overfitting_names_epoch_where_it_began():
    train = np.linspace(1.0, 0.05, 40)
    val = np.r_[np.linspace(1.0, 0.4, 12), np.linspace(0.42, 0.9, 28)]
    result = diagnose({"loss": list(train), "val_loss": list(val)})
    assert result.verdict == "overfitting"
    assert result.evidence["overfitting_began"] == 12
    assert "epoch 12" in result.explanation
    assert any("EarlyStopping" in r for r in result.remedies)


def test_underfitting_when_both_flat_and_high():
    train = np.r_[np.linspace(2.3, 1.6, 5), np.full(35, 1.6)]
    val = train + 0.02
    result = diagnose({"loss": list(train), "val_loss": list(val)})
    assert result.verdict == "underfitting"
    assert any("bigger network" in r for r in result.remedies)


def test_not_converged_when_still_falling():
    train = np.linspace(2.0, 0.5, 20)
    result = diagnose({"loss": list(train), "val_loss": list(train + 0.05)})
    assert result.verdict == "not_converged"
    assert any("more epochs" in r for r in result.remedies)


def test_good_fit():
    train = np.r_[np.linspace(2.0, 0.1, 20), np.full(20, 0.1)]
    val = np.r_[np.linspace(2.0, 0.15, 20), np.full(20, 0.15)]
    result = diagnose({"loss": list(train), "val_loss": list(val)})
    assert result.verdict == "good_fit"
    assert "Good fit" in str(result)


def test_learning_curve_suggests_more_data():
    train = np.r_[np.linspace(2.0, 0.1, 20), np.full(20, 0.1)]
    curve = {"train_sizes": [50, 100, 200], "train_scores": [1, 1, 1], "val_scores": [0.8, 0.85, 0.9]}
    result = diagnose({"loss": list(train), "val_loss": list(train + 0.05)}, learning_curve=curve)
    assert any("more data" in r for r in result.remedies)


def test_bad_history():
    with pytest.raises(ValueError, match="no 'loss'"):
        diagnose({"val_loss": [1.0]})
    with pytest.raises(ValueError, match="NaN"):
        diagnose({"loss": [1.0, float("nan")]})


def test_training_loss_creeping_towards_zero_is_not_still_learning():
    # 0.004 -> 0.002 halves the loss, but next to a starting loss of 2.0 the network has finished
    # learning the training set: a flat validation loss makes this a good fit, not "not converged"
    train = np.r_[np.geomspace(2.0, 0.004, 30), np.geomspace(0.004, 0.002, 10)]
    val = np.r_[np.geomspace(2.0, 0.3, 30), np.full(10, 0.3)]
    result = diagnose({"loss": list(train), "val_loss": list(val)})
    assert result.verdict == "good_fit", str(result)
    assert result.evidence["train_slope"] < 0.01
    # halving a loss that is still a fifth of the starting one is still learning
    train = np.r_[np.geomspace(2.0, 0.4, 30), np.geomspace(0.4, 0.2, 10)]
    result = diagnose({"loss": list(train), "val_loss": list(train + 0.1)})
    assert result.verdict == "not_converged", str(result)
