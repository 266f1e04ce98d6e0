"""Tests for chainrule/nn/activation.py: each activation layer against its torch.nn counterpart."""

import numpy as np
import pytest

from chainrule import nn

LAYERS = [
    (nn.ReLU(), "ReLU", {}),
    (nn.LeakyReLU(0.2), "LeakyReLU", {"negative_slope": 0.2}),
    (nn.ELU(0.7), "ELU", {"alpha": 0.7}),
    (nn.GELU(), "GELU", {}),
    (nn.GELU("tanh"), "GELU", {"approximate": "tanh"}),
    (nn.Sigmoid(), "Sigmoid", {}),
    (nn.Tanh(), "Tanh", {}),
    (nn.Softplus(beta=2.0, threshold=5.0), "Softplus", {"beta": 2.0, "threshold": 5.0}),
    (nn.Softmax(dim=1), "Softmax", {"dim": 1}),
    (nn.LogSoftmax(dim=-1), "LogSoftmax", {"dim": -1}),
]


@pytest.mark.parametrize("layer,torch_name,kwargs", LAYERS, ids=[f"{t}{k}" for _, t, k in LAYERS])
def test_activation_layer_matches_torch(compare_torch, torch, rng, layer, torch_name, kwargs):
    x = rng.standard_normal((4, 5)) * 3
    x += np.sign(x) * 0.05  # away from ReLU's kink
    compare_torch(layer, getattr(torch.nn, torch_name)(**kwargs), x, rtol=1e-5, atol=1e-6)
    assert nn.build_module(layer.to_config()).get_config() == layer.get_config()


def test_reprs():
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
    assert repr(nn.GELU()) == "GELU(approximate='none')"
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        nn.GELU("fast")
