"""Tests for chainrule/nn/activation.py: each activation layer against its torch.nn counterpart."""

import numpy as np
import pytest

import chainrule as cr
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


# PyTorch's other activation modules: (ours, torch.nn class name, constructor kwargs shared by both)
NEW_LAYERS = [
    (nn.ReLU6(), "ReLU6", {}),
    (nn.Hardtanh(-0.5, 2.0), "Hardtanh", {"min_val": -0.5, "max_val": 2.0}),
    (nn.Hardswish(), "Hardswish", {}),
    (nn.Hardsigmoid(), "Hardsigmoid", {}),
    (nn.SELU(), "SELU", {}),
    (nn.CELU(0.5), "CELU", {"alpha": 0.5}),
    (nn.SiLU(), "SiLU", {}),
    (nn.Mish(), "Mish", {}),
    (nn.Softsign(), "Softsign", {}),
    (nn.LogSigmoid(), "LogSigmoid", {}),
    (nn.Tanhshrink(), "Tanhshrink", {}),
    (nn.Softshrink(0.3), "Softshrink", {"lambd": 0.3}),
    (nn.Hardshrink(0.3), "Hardshrink", {"lambd": 0.3}),
    (nn.Threshold(0.2, -1.0), "Threshold", {"threshold": 0.2, "value": -1.0}),
    (nn.GLU(dim=1), "GLU", {"dim": 1}),
    (nn.Softmin(dim=0), "Softmin", {"dim": 0}),
    (nn.ReLU(inplace=True), "ReLU", {"inplace": True}),
]


@pytest.mark.parametrize("layer,torch_name,kwargs", NEW_LAYERS, ids=[f"{t}{k}" for _, t, k in NEW_LAYERS])
def test_new_activation_layers_match_torch_and_rebuild(compare_torch64, torch, rng, layer, torch_name, kwargs):
    x = rng.standard_normal((4, 6)) * 4
    compare_torch64(layer, lambda t: getattr(torch.nn, torch_name)(**kwargs)(t.clone()), x)
    rebuilt = nn.build_module(layer.to_config())
    assert type(rebuilt) is type(layer) and rebuilt.get_config() == layer.get_config()
    assert repr(rebuilt) == repr(layer)


def test_new_activation_reprs_match_torchs(torch):
    for layer, torch_name, kwargs in NEW_LAYERS + [(nn.LeakyReLU(0.2), "LeakyReLU", {"negative_slope": 0.2})]:
        if torch_name in ("Hardtanh", "Threshold", "Softshrink", "Hardshrink", "Softmin", "GLU", "CELU"):
            continue  # torch spells these floats/dims differently (e.g. "min_val=-0.5, max_val=2.0")
        assert repr(layer) == repr(getattr(torch.nn, torch_name)(**kwargs))
    assert repr(nn.Hardtanh(-0.5, 2.0)) == "Hardtanh(min_val=-0.5, max_val=2.0)"
    assert nn.ReLU(inplace=True).get_config() == {"inplace": True}


@pytest.mark.parametrize("num_parameters", [1, 3])
def test_prelu_layer_matches_torch_including_its_weight_gradient(torch, rng, num_parameters):
    ours = nn.PReLU(num_parameters, init=0.25, dtype="float64")  # 0.25: exact in float32 (torch builds it so)
    theirs = torch.nn.PReLU(num_parameters, init=0.25).double()
    x = rng.standard_normal((4, 3, 2))
    upstream = rng.standard_normal(x.shape)
    out = ours(cr.Tensor(x))
    ref = theirs(torch.tensor(x))
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12)
    out.backward(upstream)
    ref.backward(torch.tensor(upstream))
    np.testing.assert_allclose(np.asarray(ours.weight.grad), theirs.weight.grad.numpy(), rtol=1e-10)
    assert [name for name, _ in ours.named_parameters()] == [name for name, _ in theirs.named_parameters()]


def test_prelu_config_state_and_reset():
    layer = nn.PReLU(3, init=0.4)
    assert repr(layer) == "PReLU(num_parameters=3)"
    layer.weight.data[:] = [1.0, 2.0, 3.0]
    rebuilt = nn.build_module(layer.to_config())
    np.testing.assert_array_equal(rebuilt.weight.data, np.full(3, 0.4, np.float32))
    rebuilt.load_state_dict(layer.state_dict())
    np.testing.assert_array_equal(rebuilt.weight.data, [1.0, 2.0, 3.0])
    layer.reset_parameters()
    np.testing.assert_array_equal(layer.weight.data, np.full(3, 0.4, np.float32))
    assert layer.double().weight.dtype == np.float64
    with pytest.raises(ValueError, match="PReLU: num_parameters must be a positive int, got 0"):
        nn.PReLU(0)


def test_activation_layer_argument_errors():
    with pytest.raises(ValueError, match="Hardtanh: min_val \\(2\\) must not exceed max_val \\(1\\)"):
        nn.Hardtanh(2, 1)
    with pytest.raises(ValueError, match="CELU: alpha must be non-zero"):
        nn.CELU(0)
    with pytest.raises(TypeError, match="Softmax: dim must be an int or None"):
        nn.Softmax(dim="1")


def test_softmax_modules_with_dim_none_choose_torchs_axis(torch, rng):
    x = rng.standard_normal((2, 3, 4))
    for name in ("Softmax", "LogSoftmax", "Softmin"):
        with pytest.warns(UserWarning, match="implicit dimension"):
            ours = getattr(nn, name)(dim=None)(cr.Tensor(x)).numpy()
        with pytest.warns(UserWarning):
            theirs = getattr(torch.nn, name)()(torch.tensor(x)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
