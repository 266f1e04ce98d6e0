"""Tests for chainrule/ops/normalization.py: batch_norm and layer_norm against finite differences and PyTorch."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.normalization import batch_norm, layer_norm


def _weights(rng, c):
    return 1.0 + 0.5 * rng.standard_normal(c), 0.3 * rng.standard_normal(c)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (3, 2, 3, 2)])
def test_batch_norm_training_gradcheck(rng, shape):
    x = 2.0 + 3.0 * rng.standard_normal(shape)  # not already normalised
    gamma, beta = _weights(rng, shape[1])
    assert cr.gradcheck(lambda x, g, b: batch_norm(x, g, b, training=True), [x, gamma, beta])


def test_batch_norm_training_without_affine_gradcheck(rng):
    x = rng.standard_normal((5, 4, 3))
    assert cr.gradcheck(lambda x: batch_norm(x, training=True), [x])


def test_batch_norm_eval_gradcheck(rng):
    x = rng.standard_normal((5, 3, 2))
    gamma, beta = _weights(rng, 3)
    mean, var = rng.standard_normal(3), rng.uniform(0.5, 2.0, 3)
    assert cr.gradcheck(lambda x, g, b: batch_norm(x, g, b, mean, var, training=False), [x, gamma, beta])


def test_batch_norm_channel_axis_last(rng):
    """axis=-1 normalises channels-last data like axis=1 does the transposed data."""
    x = rng.standard_normal((4, 5, 3)).astype(np.float32)
    ours = batch_norm(cr.Tensor(x), axis=-1).numpy()
    moved = batch_norm(cr.Tensor(np.moveaxis(x, -1, 1).copy())).numpy()
    np.testing.assert_allclose(ours, np.moveaxis(moved, 1, -1), rtol=1e-5, atol=1e-6)
    assert cr.gradcheck(lambda x: batch_norm(x, axis=-1), [x.astype(np.float64)])


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (2, 3, 4, 4)])
def test_batch_norm_training_matches_torch(compare_torch, torch, rng, shape):
    gamma, beta = _weights(rng, shape[1])
    x = 1.0 + 2.0 * rng.standard_normal(shape)
    compare_torch(
        lambda x, g, b: batch_norm(x, g, b, training=True, eps=1e-3),
        lambda x, g, b: torch.nn.functional.batch_norm(x, None, None, g, b, training=True, eps=1e-3),
        x, gamma, beta, rtol=1e-4, atol=1e-5,
    )


def test_batch_norm_eval_matches_torch(compare_torch, torch, rng):
    gamma, beta = _weights(rng, 4)
    mean, var = rng.standard_normal(4).astype(np.float32), rng.uniform(0.5, 2.0, 4).astype(np.float32)
    compare_torch(
        lambda x, g, b: batch_norm(x, g, b, mean, var, training=False),
        lambda x, g, b: torch.nn.functional.batch_norm(
            x, torch.from_numpy(mean), torch.from_numpy(var), g, b, training=False
        ),
        rng.standard_normal((6, 4, 3)), gamma, beta, rtol=1e-4, atol=1e-5,
    )


def test_batch_norm_updates_running_stats_like_torch(torch, rng):
    x = (3.0 + 2.0 * rng.standard_normal((10, 4, 3))).astype(np.float32)
    mean, var = np.zeros(4, np.float32), np.ones(4, np.float32)
    t_mean, t_var = torch.zeros(4), torch.ones(4)
    for _ in range(3):
        batch_norm(cr.Tensor(x), running_mean=mean, running_var=var, training=True, momentum=0.2)
        torch.nn.functional.batch_norm(torch.from_numpy(x), t_mean, t_var, training=True, momentum=0.2)
    assert mean.dtype == np.float32 and var.dtype == np.float32
    np.testing.assert_allclose(mean, t_mean.numpy(), rtol=1e-5)
    np.testing.assert_allclose(var, t_var.numpy(), rtol=1e-5)  # unbiased variance, as torch


def test_batch_norm_keeps_float32(rng):
    x = cr.Tensor(rng.standard_normal((6, 3)).astype(np.float32), requires_grad=True)
    g = cr.Tensor(np.ones(3, np.float32), requires_grad=True)
    out = batch_norm(x, g, None, np.zeros(3, np.float32), np.ones(3, np.float32))
    assert out.dtype == np.float32
    out.backward(np.ones((6, 3), np.float32))
    assert x.grad.dtype == np.float32 and g.grad.dtype == np.float32


def test_batch_norm_does_not_modify_input(rng):
    data = rng.standard_normal((5, 3)).astype(np.float32)
    before = data.copy()
    out = batch_norm(cr.Tensor(data, requires_grad=True))
    out.backward(np.ones((5, 3), np.float32))
    np.testing.assert_array_equal(data, before)


def test_batch_norm_errors(rng):
    with pytest.raises(ValueError, match="more than one value per channel"):
        batch_norm(cr.Tensor(np.ones((1, 3), np.float32)), training=True)
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        batch_norm(cr.Tensor(np.ones((4, 3), np.float32)), np.ones(2, np.float32))
    with pytest.raises(ValueError, match="needs running_mean"):
        batch_norm(cr.Tensor(np.ones((4, 3), np.float32)), training=False)
    with pytest.raises(ValueError, match="batch axis and a channel axis"):
        batch_norm(cr.Tensor(np.ones(3, np.float32)))


@pytest.mark.parametrize("shape,normalized", [((4, 6), (6,)), ((2, 3, 5), (5,)), ((2, 3, 4), (3, 4))])
def test_layer_norm_gradcheck(rng, shape, normalized):
    x = 1.0 + 2.0 * rng.standard_normal(shape)
    gamma = 1.0 + 0.5 * rng.standard_normal(normalized)
    beta = 0.3 * rng.standard_normal(normalized)
    assert cr.gradcheck(lambda x, g, b: layer_norm(x, normalized, g, b), [x, gamma, beta])
    assert cr.gradcheck(lambda x: layer_norm(x, normalized), [x])


@pytest.mark.parametrize("shape,normalized", [((8, 6), (6,)), ((2, 3, 4), (3, 4))])
def test_layer_norm_matches_torch(compare_torch, torch, rng, shape, normalized):
    gamma = 1.0 + 0.5 * rng.standard_normal(normalized)
    beta = 0.3 * rng.standard_normal(normalized)
    compare_torch(
        lambda x, g, b: layer_norm(x, normalized, g, b, eps=1e-4),
        lambda x, g, b: torch.nn.functional.layer_norm(x, normalized, g, b, eps=1e-4),
        2.0 * rng.standard_normal(shape), gamma, beta, rtol=1e-4, atol=1e-5,
    )


def test_layer_norm_errors():
    with pytest.raises(ValueError, match=r"must end with normalized_shape \(4,\)"):
        layer_norm(cr.Tensor(np.ones((2, 3), np.float32)), 4)
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        layer_norm(cr.Tensor(np.ones((2, 3), np.float32)), 3, np.ones(4, np.float32))


@pytest.mark.parametrize("name", ["group_norm", "instance_norm", "local_response_norm"])
def test_new_ops_float32_against_torch(compare_torch, torch, rng, name):
    from chainrule.ops import normalization as ops

    x, w, b = rng.standard_normal((3, 4, 5)), rng.uniform(0.5, 1.5, 4), rng.standard_normal(4)
    if name == "group_norm":
        compare_torch(lambda x, w, b: ops.group_norm(x, 2, w, b), lambda x, w, b: torch.nn.functional.group_norm(x, 2, w, b), x, w, b)
    elif name == "instance_norm":
        compare_torch(lambda x, w, b: ops.instance_norm(x, weight=w, bias=b),
                      lambda x, w, b: torch.nn.functional.instance_norm(x, weight=w, bias=b), x, w, b)
    else:
        compare_torch(lambda x: ops.local_response_norm(x, 3, 0.5, 0.75, 1.0),
                      lambda x: torch.nn.functional.local_response_norm(x, 3, 0.5, 0.75, 1.0), x)
