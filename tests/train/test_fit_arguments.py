"""chainrule.train.fit / predict / evaluate: bad arguments are a ValueError naming the argument and the value,
and the rule that tells several inputs from one array."""

import re

import numpy as np
import pytest

from chainrule import nn
from chainrule.data import DataLoader
from chainrule.data.loader import is_multi_input
from chainrule.tensor import Tensor
from chainrule.train import evaluate, fit, predict

X = np.random.default_rng(0).standard_normal((8, 2))
Y = np.arange(8) % 3


def _model():
    return nn.Linear(2, 3, seed=0)


def _fit(x=X, y=Y, **kwargs):
    return fit(_model(), x, y, **{"epochs": 1, "batch_size": 4, "verbose": 0, **kwargs})


@pytest.mark.parametrize("call", [
    lambda x: _fit(x, np.zeros(len(x), int)),
    lambda x: predict(_model(), x),
    lambda x: evaluate(_model(), x, np.zeros(len(x), int), loss="cross_entropy"),
], ids=["fit", "predict", "evaluate"])
@pytest.mark.parametrize("x", [np.zeros((0, 2)), []], ids=["empty-array", "empty-list"])
def test_inputs_without_samples(call, x):
    with pytest.raises(ValueError, match=r"(fit|predict|evaluate): x has no samples \(shape \(0,"):
        call(x)


@pytest.mark.parametrize("call,where", [
    (lambda: _fit(np.array(1.5), Y), "fit"),
    (lambda: predict(_model(), np.array(1.5)), "predict"),
    (lambda: evaluate(_model(), np.array(1.5), Y, loss="cross_entropy"), "evaluate"),
])
def test_zero_dimensional_inputs(call, where):
    with pytest.raises(ValueError, match=f"{where}: x must be an array with samples along its first axis, got a "
                                         "0-d value 1.5"):
        call()


def test_zero_dimensional_targets():
    with pytest.raises(ValueError, match="fit: y must be an array with samples along its first axis, got a 0-d"):
        _fit(X, np.array(1))


def test_a_list_of_rows_is_one_array():
    model = _model()
    rows = X.tolist()
    np.testing.assert_array_equal(predict(model, rows), predict(model, X))
    history = fit(model, rows, Y.tolist(), epochs=1, verbose=0, shuffle=False)
    assert np.isfinite(history.history["loss"][0])


class _Sum(nn.Module):
    """Two inputs, added after their own layers."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(2, 3, seed=0), nn.Linear(1, 3, seed=1)

    def forward(self, a, b):
        return self.a(a) + self.b(b)


@pytest.mark.parametrize("container", [tuple, list])
def test_a_tuple_or_a_list_of_arrays_is_several_inputs(container):
    x2 = X[:, :1] * 2.0
    model = _Sum()
    out = predict(model, container([X, x2]))
    assert out.shape == (8, 3)
    np.testing.assert_array_equal(out, predict(model, (X, Tensor(x2))))
    fit(model, container([X, x2]), Y, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=re.escape("predict: the inputs in x have different numbers of samples "
                                                   "[8, 7]")):
        predict(model, container([X, x2[:7]]))


@pytest.mark.parametrize("x,expected", [
    ((np.ones(2), np.ones(2)), True), ([np.ones(2), Tensor(np.ones(2))], True), ([[1.0, 2.0], [3.0, 4.0]], False),
    ([1.0, 2.0], False), ([], False), ([np.ones(2), [1.0, 2.0]], False), (np.ones((2, 2)), False),
])
def test_is_multi_input(x, expected):
    assert is_multi_input(x) is expected


@pytest.mark.parametrize("lr", [float("nan"), float("inf"), -0.1, 1e6])
def test_bad_learning_rate(lr):
    with pytest.raises(ValueError, match=re.escape(f"lr must be ") + ".*" + re.escape(f"got {lr!r}")):
        _fit(lr=lr)


@pytest.mark.parametrize("call", [
    lambda w: _fit(sample_weight=w),
    lambda w: evaluate(_model(), X, Y, loss="cross_entropy", sample_weight=w),
], ids=["fit", "evaluate"])
def test_all_zero_sample_weights(call):
    with pytest.raises(ValueError, match="sample weights are all zero"):
        call(np.zeros(8))
    call(np.eye(8)[0])  # one positive weight is enough


def test_all_zero_class_weights():
    with pytest.raises(ValueError, match="fit: the sample weights are all zero"):
        _fit(class_weight={0: 0.0, 1: 0.0, 2: 0.0})


@pytest.mark.parametrize("weight,shown", [(np.nan, "nan"), (-1.0, "-1.0")])
def test_bad_sample_weight_names_the_value(weight, shown):
    w = np.ones(8)
    w[3] = weight
    with pytest.raises(ValueError, match=f"fit: sample weights must be finite and non-negative, got {shown} for "
                                         "sample 3"):
        _fit(sample_weight=w)


@pytest.mark.parametrize("call,where", [
    (lambda b: predict(_model(), X, batch_size=b), "predict"),
    (lambda b: evaluate(_model(), X, Y, loss="cross_entropy", batch_size=b), "evaluate"),
    (lambda b: _fit(batch_size=b), "fit"),
    (lambda b: DataLoader(X, batch_size=b), "DataLoader"),
])
@pytest.mark.parametrize("batch_size", [0, 2.5, True])
def test_bad_batch_size(call, where, batch_size):
    with pytest.raises(ValueError, match=f"{where}: batch_size must be a positive integer, got {batch_size!r}"):
        call(batch_size)


def test_validation_data_length_mismatch():
    with pytest.raises(ValueError, match="fit: validation_data x has 8 samples but y has 7"):
        _fit(validation_data=(X, Y[:7]))
