"""Tests for chainrule/nn/normalization.py: BatchNorm1d and LayerNorm against torch.nn, modes, state."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def _copy_params(torch, ours, theirs):
    with torch.no_grad():
        for name, p in ours.named_parameters():
            getattr(theirs, name).copy_(torch.from_numpy(p.numpy()))


def _step(torch, ours, theirs, x, g):
    xt = cr.Tensor(x, requires_grad=True)
    xr = torch.tensor(x, requires_grad=True)
    out, ref = ours(xt), theirs(xr)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-4, atol=1e-5)
    out.backward(g)
    ref.backward(torch.from_numpy(g))
    np.testing.assert_allclose(xt.grad, xr.grad.numpy(), rtol=1e-4, atol=1e-5)
    return out


@pytest.mark.parametrize("shape", [(16, 5), (8, 5, 7)])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm1d_train_then_eval_matches_torch(torch, rng, shape, momentum):
    ours = nn.BatchNorm1d(5, momentum=momentum, eps=1e-4)
    theirs = torch.nn.BatchNorm1d(5, momentum=momentum, eps=1e-4)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, 5).astype(np.float32)))
        theirs.bias.copy_(torch.from_numpy(rng.standard_normal(5).astype(np.float32)))
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for step in range(4):  # several steps: the running statistics must follow torch's
        x = (step + 2.0 * rng.standard_normal(shape)).astype(np.float32)
        _step(torch, ours, theirs, x, rng.standard_normal(shape).astype(np.float32))
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours.bias.grad, theirs.bias.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-5, atol=1e-6)
    assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked) == 4

    ours.eval(), theirs.eval()
    mean_before = ours.running_mean.copy()
    ours.zero_grad(), theirs.zero_grad()
    x = rng.standard_normal(shape).astype(np.float32)
    _step(torch, ours, theirs, x, rng.standard_normal(shape).astype(np.float32))
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(ours.running_mean, mean_before)  # eval does not update
    assert int(ours.num_batches_tracked) == 4


def test_batchnorm1d_without_affine_or_running_stats_matches_torch(torch, rng):
    ours = nn.BatchNorm1d(3, affine=False, track_running_stats=False)
    theirs = torch.nn.BatchNorm1d(3, affine=False, track_running_stats=False)
    assert list(ours.parameters()) == [] and ours.state_dict() == {}
    x = rng.standard_normal((6, 3)).astype(np.float32)
    ours.eval(), theirs.eval()  # without running statistics, eval still uses the batch's
    _step(torch, ours, theirs, x, rng.standard_normal((6, 3)).astype(np.float32))


def test_batchnorm1d_state_and_reset(rng):
    layer = nn.BatchNorm1d(4)
    layer(rng.standard_normal((8, 4)) + 3)
    state = layer.state_dict()
    assert list(state) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert state["num_batches_tracked"] == 1 and state["running_mean"].mean() > 0.1
    running_mean = layer.running_mean
    layer.reset_parameters()
    assert layer.running_mean is running_mean and (running_mean == 0).all() and int(layer.num_batches_tracked) == 0
    other = nn.BatchNorm1d(4)
    other.load_state_dict(state)
    np.testing.assert_array_equal(other.running_var, state["running_var"])


def test_batchnorm1d_errors():
    layer = nn.BatchNorm1d(4)
    with pytest.raises(ValueError, match=r"BatchNorm1d\(4\): expected input of shape \(N, C\) or \(N, C, L\) with C = 4, got \(2, 3\)"):
        layer(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match="more than one value per channel"):
        layer(np.ones((1, 4), np.float32))
    assert int(layer.num_batches_tracked) == 0  # a failed step does not count
    layer.eval()
    assert layer(np.ones((1, 4), np.float32)).shape == (1, 4)  # fine in eval mode
    with pytest.raises(ValueError, match="momentum must be in"):
        nn.BatchNorm1d(4, momentum=2)


def test_batchnorm_training_output_is_normalised(rng):
    out = nn.BatchNorm1d(3)(5 + 4 * rng.standard_normal((64, 3))).numpy()
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-3)


@pytest.mark.parametrize("normalized_shape,shape", [(6, (4, 6)), ((3, 4), (2, 3, 4))])
def test_layernorm_matches_torch(torch, rng, normalized_shape, shape):
    ours = nn.LayerNorm(normalized_shape)
    theirs = torch.nn.LayerNorm(normalized_shape)
    ours.weight.data[...] = rng.uniform(0.5, 1.5, ours.weight.shape)
    ours.bias.data[...] = rng.standard_normal(ours.bias.shape)
    _copy_params(torch, ours, theirs)
    _step(torch, ours, theirs, (1 + 3 * rng.standard_normal(shape)).astype(np.float32),
          rng.standard_normal(shape).astype(np.float32))
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours.bias.grad, theirs.bias.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_layernorm_options_and_errors(rng):
    assert list(nn.LayerNorm(5, elementwise_affine=False).parameters()) == []
    no_bias = nn.LayerNorm(5, bias=False)
    assert [n for n, _ in no_bias.named_parameters()] == ["weight"]
    assert nn.build_module(no_bias.to_config()).bias is None
    with pytest.raises(ValueError, match=r"expected input of shape \(\.\.\., 5\), got \(2, 4\)"):
        nn.LayerNorm(5)(np.ones((2, 4), np.float32))
    with pytest.raises(ValueError, match="normalized_shape must be positive ints"):
        nn.LayerNorm(0)
