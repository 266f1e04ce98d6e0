"""Tests for chainrule/evaluate/metrics.py, the metric registry the fit loop uses.

(They live here because this module is part of the training work; they belong in
tests/evaluate/test_metrics.py once the evaluation module takes the registry over.)
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule.evaluate.metrics import METRICS, accuracy, get_metric, mae, metric_name, mse, register_metric


def test_accuracy_from_multiclass_logits_and_one_hot_targets():
    logits = np.array([[2.0, 0.1, -1.0], [0.0, 3.0, 1.0], [0.5, 0.2, 0.9], [1.0, 0.0, 0.0]], dtype=np.float32)
    labels = np.array([0, 1, 0, 0])
    assert accuracy(labels, logits) == 0.75
    assert accuracy(np.eye(3)[labels], logits) == 0.75
    assert accuracy(labels, cr.tensor(logits)) == 0.75  # Tensors are accepted


def test_accuracy_from_binary_logits():
    logits = np.array([-2.0, 0.5, 3.0, -0.1])
    labels = np.array([0, 1, 0, 1])
    assert accuracy(labels, logits) == 0.5
    assert accuracy(labels[:, None].astype(np.float32), logits[:, None]) == 0.5


def test_mse_and_mae_match_numpy_and_align_column_outputs():
    gen = np.random.default_rng(0)
    y_true = gen.standard_normal(20)
    y_pred = gen.standard_normal((20, 1)).astype(np.float32)
    diff = y_pred[:, 0].astype(np.float64) - y_true
    assert mse(y_true, y_pred) == pytest.approx(np.mean(diff ** 2), rel=1e-6)
    assert mae(y_true, y_pred) == pytest.approx(np.mean(np.abs(diff)), rel=1e-6)
    with pytest.raises(ValueError, match=r"mse: y_true of shape \(20,\) does not match y_pred of shape \(20, 2\)"):
        mse(y_true, np.zeros((20, 2)))
    with pytest.raises(ValueError, match="y_pred has 19"):
        mae(y_true, np.zeros(19))


def test_registry_lookup_names_and_registration():
    assert get_metric("accuracy") is accuracy and get_metric("ACC") is accuracy
    assert get_metric("mean_squared_error") is mse and get_metric("mae") is mae
    with pytest.raises(ValueError, match="unknown metric 'f2'; known metrics: .*accuracy"):
        get_metric("f2")
    with pytest.raises(TypeError):
        get_metric(3)

    def my_metric(y_true, y_pred):
        return 1.0

    assert get_metric(my_metric) is my_metric
    assert metric_name(my_metric) == "my_metric" and metric_name("Accuracy") == "accuracy"
    try:
        @register_metric("always_one")
        def always_one(y_true, y_pred):
            return 1.0

        assert get_metric("always_one") is always_one
    finally:
        METRICS.pop("always_one", None)
    with pytest.raises(TypeError):
        register_metric("bad", 3)
