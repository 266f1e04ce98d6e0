"""Tests for chainrule/nn/init.py: distributions, bounds, gains and fans vs PyTorch, seeding, in-place filling."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import init


def _param(*shape, dtype=np.float32):
    return cr.Tensor(np.zeros(shape, dtype), requires_grad=True)


@pytest.mark.parametrize(
    "nonlinearity,param",
    [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
     ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 0), ("selu", None), ("conv_transpose2d", None)],
)
def test_calculate_gain_matches_torch(torch, nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(torch.nn.init.calculate_gain(nonlinearity, param))


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="negative_slope True is not a valid number"):
        init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("shape", [(30, 20), (8, 3, 5, 5), (6, 4, 7)])
def test_fans_match_torch(torch, shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init.compute_fans(shape) == expected
    with pytest.raises(ValueError, match="at least 2 axes"):
        init.compute_fans((5,))


def test_constant_fills_in_place():
    p = _param(3, 4)
    array = p.data
    assert init.constant_(p, 2.5) is p and p.data is array and (array == 2.5).all()
    init.zeros_(p)
    assert (array == 0).all()
    init.ones_(p)
    assert (array == 1).all() and array.dtype == np.float32


def test_normal_and_uniform_statistics():
    p = _param(400, 500)
    init.normal_(p, mean=1.0, std=0.5, seed=0)
    assert abs(p.data.mean() - 1.0) < 0.01 and abs(p.data.std() - 0.5) < 0.01
    init.uniform_(p, -2.0, 3.0, seed=0)
    assert p.data.min() >= -2.0 and p.data.max() <= 3.0
    assert abs(p.data.mean() - 0.5) < 0.02 and abs(p.data.std() - 5 / math.sqrt(12)) < 0.02


@pytest.mark.parametrize("shape", [(300, 200), (64, 32, 3, 3)])
def test_xavier_and_kaiming_scales(shape):
    fan_in, fan_out = init.compute_fans(shape)
    p = _param(*shape)
    glorot = math.sqrt(2.0 / (fan_in + fan_out))
    init.xavier_uniform_(p, seed=0)
    assert np.abs(p.data).max() <= math.sqrt(3) * glorot and abs(p.data.std() - glorot) < 0.03 * glorot
    init.xavier_normal_(p, gain=2.0, seed=0)
    assert abs(p.data.std() - 2 * glorot) < 0.03 * 2 * glorot
    he = math.sqrt(2.0 / fan_in)
    init.kaiming_uniform_(p, seed=0)
    assert np.abs(p.data).max() <= math.sqrt(3) * he and abs(p.data.std() - he) < 0.03 * he
    init.kaiming_normal_(p, mode="fan_out", nonlinearity="relu", seed=0)
    assert abs(p.data.std() - math.sqrt(2.0 / fan_out)) < 0.03 * math.sqrt(2.0 / fan_out)
    init.kaiming_uniform_(p, a=math.sqrt(5), seed=0)  # PyTorch's Linear/Conv default: U(±1/√fan_in)
    assert np.abs(p.data).max() <= 1 / math.sqrt(fan_in) and np.abs(p.data).max() > 0.98 / math.sqrt(fan_in)


def test_kaiming_matches_torch_distribution(torch):
    ours = _param(256, 512)
    init.kaiming_normal_(ours, nonlinearity="tanh", seed=0)
    theirs = torch.empty(256, 512)
    torch.nn.init.kaiming_normal_(theirs, nonlinearity="tanh")
    assert abs(ours.data.std() - theirs.std().item()) < 0.02 * theirs.std().item()


def test_same_seed_same_values_and_generator_continues():
    a, b = _param(5, 6), _param(5, 6)
    init.kaiming_uniform_(a, seed=7)
    init.kaiming_uniform_(b, seed=7)
    np.testing.assert_array_equal(a.data, b.data)
    gen = np.random.default_rng(7)
    init.kaiming_uniform_(a, seed=gen)
    init.kaiming_uniform_(b, seed=gen)
    assert not np.array_equal(a.data, b.data)
    c = _param(5, 6, dtype=np.float64)
    init.kaiming_uniform_(c, seed=7)  # drawn in float64 then cast: both dtypes hold the same weights
    np.testing.assert_allclose(c.data, np.float64(init.kaiming_uniform_(_param(5, 6), seed=7).data), rtol=1e-6)
    assert c.data.dtype == np.float64


@pytest.mark.parametrize("shape", [(6, 10), (10, 6), (4, 3, 2)])
def test_orthogonal(shape):
    p = _param(*shape, dtype=np.float64)
    init.orthogonal_(p, gain=2.0, seed=0)
    flat = p.data.reshape(shape[0], -1) / 2.0
    small = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(small, np.eye(small.shape[0]), atol=1e-10)


def test_initialize_schemes():
    w, b = _param(40, 30), _param(40)
    init.initialize_(w, b, "default", seed=0)
    assert np.abs(b.data).max() <= 1 / math.sqrt(30) and (b.data != 0).all()
    init.initialize_(w, b, "he_uniform", seed=0)
    assert (b.data == 0).all() and np.abs(w.data).max() <= math.sqrt(6 / 30)
    with pytest.raises(ValueError, match="unknown init scheme 'lecun'"):
        init.initialize_(w, b, "lecun")


def test_errors():
    with pytest.raises(TypeError, match="expected a Tensor or Parameter"):
        init.normal_([1.0, 2.0])
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_uniform_(_param(3, 3), mode="fan_avg")
    with pytest.raises(ValueError, match="a <= b"):
        init.uniform_(_param(3), 1.0, 0.0)
