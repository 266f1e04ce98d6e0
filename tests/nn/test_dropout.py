"""Tests for chainrule/nn/dropout.py: the Dropout layer's statistics, modes and seeding."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def test_statistics_in_training_mode():
    layer = nn.Dropout(0.3, seed=0)
    x = cr.Tensor(np.ones((300, 400), np.float32), requires_grad=True)
    out = layer(x)
    values = out.numpy()
    assert abs((values == 0).mean() - 0.3) < 0.01
    np.testing.assert_allclose(values[values != 0], 1 / 0.7, rtol=1e-6)
    out.backward(np.full(values.shape, 2.0, np.float32))
    np.testing.assert_allclose(x.grad, np.where(values != 0, 2 / 0.7, 0), rtol=1e-6)
    assert out.dtype == np.float32 and x.grad.dtype == np.float32


def test_eval_mode_is_identity(rng):
    layer = nn.Dropout(0.5, seed=0).eval()
    x = cr.Tensor(rng.standard_normal((4, 5)).astype(np.float32))
    assert layer(x) is x


def test_masks_differ_between_calls_but_repeat_with_the_seed():
    x = cr.Tensor(np.ones((20, 30), np.float32))
    a, b = nn.Dropout(0.5, seed=1), nn.Dropout(0.5, seed=1)
    first, second = a(x).numpy(), a(x).numpy()
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, b(x).numpy())
    a.reset_parameters()  # an int seed restarts the mask sequence
    np.testing.assert_array_equal(a(x).numpy(), first)


def test_dropout_in_a_network_matches_torch_in_eval(torch, rng):
    ours = nn.Sequential(nn.Linear(4, 3, seed=0), nn.Dropout(0.5))
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Dropout(0.5))
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    ours.eval(), theirs.eval()
    x = rng.standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(ours(x).numpy(), theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_errors_and_config():
    with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\), got 1.0"):
        nn.Dropout(1.0)
    assert nn.Dropout(0.25, seed=3).get_config() == {"p": 0.25, "seed": 3}
    assert nn.Dropout(0.25, seed=np.random.default_rng()).get_config() == {"p": 0.25, "seed": None}


@pytest.mark.parametrize("cls", ["Dropout", "Dropout2d"])
def test_inplace_is_accepted_as_torch_and_never_overwrites(cls):
    layer = getattr(nn, cls)(0.5, True, seed=0)  # torch's positional order: (p, inplace)
    x = cr.ones(2, 3, 4, 4)
    y = layer(x)
    assert layer.inplace is True and np.all(x.numpy() == 1.0) and np.any(y.numpy() == 0.0)
    rebuilt = nn.build_module(nn.module_to_config(layer))
    assert rebuilt.inplace is True and rebuilt.p == 0.5
    assert "inplace" not in getattr(nn, cls)(0.5).get_config()  # configs of the common case are unchanged
    with pytest.raises(TypeError, match="inplace must be a bool"):
        getattr(nn, cls)(0.5, 3)
