"""Tests for chainrule/nn/linear.py: Linear (vs torch.nn.Linear, init, errors), Identity, Flatten."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def _copy_to_torch(torch, ours, theirs):
    with torch.no_grad():
        for name, value in ours.state_dict().items():
            getattr(theirs, name).copy_(torch.from_numpy(value))


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4)])
def test_linear_matches_torch(torch, rng, bias, shape):
    ours = nn.Linear(4, 3, bias=bias, seed=0)
    theirs = torch.nn.Linear(4, 3, bias=bias)
    _copy_to_torch(torch, ours, theirs)
    x = rng.standard_normal(shape).astype(np.float32)
    xt = cr.Tensor(x, requires_grad=True)
    xr = torch.tensor(x, requires_grad=True)
    out, ref = ours(xt), theirs(xr)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(g)
    ref.backward(torch.from_numpy(g))
    np.testing.assert_allclose(xt.grad, xr.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-5, atol=1e-5)
    if bias:
        np.testing.assert_allclose(ours.bias.grad, theirs.bias.grad.numpy(), rtol=1e-5, atol=1e-5)
    assert ours.weight.grad.dtype == np.float32


def test_default_init_is_pytorchs(torch):
    layer = nn.Linear(400, 300, seed=0)
    bound = 1 / math.sqrt(400)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert layer.weight.shape == (300, 400) and layer.weight.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert np.abs(b).max() <= bound and abs(b.std() - bound / math.sqrt(3)) < 0.1 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    reference = torch.nn.Linear(400, 300).weight.detach().numpy()
    assert abs(w.std() - reference.std()) < 0.02 * reference.std()


def test_he_and_glorot_schemes():
    he = nn.Linear(500, 400, init="kaiming_normal", seed=0)
    assert abs(he.weight.numpy().std() - math.sqrt(2 / 500)) < 0.02 * math.sqrt(2 / 500)
    assert (he.bias.numpy() == 0).all()
    glorot = nn.Linear(500, 400, init="xavier_uniform", seed=0)
    assert np.abs(glorot.weight.numpy()).max() <= math.sqrt(6 / 900)
    assert abs(glorot.weight.numpy().std() - math.sqrt(2 / 900)) < 0.02 * math.sqrt(2 / 900)


def test_seed_reproducible_and_reset_parameters():
    a, b = nn.Linear(5, 4, seed=3), nn.Linear(5, 4, seed=3)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    assert not np.array_equal(a.weight.numpy(), nn.Linear(5, 4, seed=4).weight.numpy())
    weight = a.weight.data
    before = weight.copy()
    weight[...] = 0
    a.reset_parameters()
    assert a.weight.data is weight  # re-initialised in place
    np.testing.assert_array_equal(weight, before)


def test_float64_layer_and_input_conversion(rng):
    layer = nn.Linear(3, 2, seed=0, dtype="float64")
    assert layer.weight.dtype == np.float64 and layer.bias.dtype == np.float64
    float32 = nn.Linear(3, 2, seed=0)
    np.testing.assert_allclose(layer.weight.numpy(), float32.weight.numpy(), rtol=1e-6)  # same draws
    assert float32(rng.standard_normal((4, 3))).dtype == np.float32  # float64 array converted
    assert float32([[1, 2, 3]]).dtype == np.float32


def test_dense_is_linear():
    assert nn.Dense is nn.Linear


def test_linear_errors():
    layer = nn.Linear(4, 3)
    with pytest.raises(ValueError, match=r"Linear\(in_features=4, out_features=3, bias=True\): expected input of shape \(\.\.\., 4\), got \(2, 5\)"):
        layer(np.ones((2, 5), np.float32))
    with pytest.raises(ValueError, match="in_features must be a positive int, got 0"):
        nn.Linear(0, 3)
    with pytest.raises(ValueError, match="unknown init 'he'"):
        nn.Linear(2, 3, init="he")
    with pytest.raises(TypeError, match="dtype must be floating"):
        nn.Linear(2, 3, dtype="int32")


def test_identity_returns_input():
    x = cr.Tensor(np.ones(3, np.float32))
    assert nn.Identity(54, unused=1)(x) is x


@pytest.mark.parametrize("start,end,expected", [(1, -1, (2, 60)), (0, -1, (120,)), (1, 2, (2, 12, 5)), (-2, -1, (2, 3, 20))])
def test_flatten_matches_torch(torch, rng, start, end, expected):
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    xt = cr.Tensor(x, requires_grad=True)
    out = nn.Flatten(start, end)(xt)
    ref = torch.nn.Flatten(start, end)(torch.from_numpy(x))
    assert out.shape == expected == tuple(ref.shape)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    g = rng.standard_normal(expected).astype(np.float32)
    out.backward(g)
    np.testing.assert_array_equal(xt.grad, g.reshape(x.shape))


def test_flatten_error():
    with pytest.raises(ValueError, match=r"cannot flatten axes 3..-1 of an input of shape \(2, 3\)"):
        nn.Flatten(3)(np.ones((2, 3), np.float32))
