"""Tests for chainrule/nn/conv.py and chainrule/nn/pooling.py: image layers against torch.nn with
copied weights, PyTorch's initialisation, config round trips, summary shapes and bad input."""

import json
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def _copy_to_torch(torch, ours, theirs):
    """Copy every parameter and buffer of our module into the torch module of the same structure."""
    state = {key: torch.from_numpy(np.array(value)) for key, value in ours.state_dict().items()}
    missing, unexpected = theirs.load_state_dict(state, strict=False)
    assert not unexpected and all(key.endswith("num_batches_tracked") for key in missing)


def _compare_module(torch, ours, theirs, x, rtol=1e-4, atol=1e-5, seed=1):
    """Forward and backward (non-uniform upstream gradient) through both; compare output and all gradients."""
    xt = cr.Tensor(x, requires_grad=True)
    xr = torch.tensor(x, requires_grad=True)
    out, ref = ours(xt), theirs(xr)
    assert out.shape == tuple(ref.shape)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=rtol, atol=atol)
    g = np.random.default_rng(seed).standard_normal(out.shape).astype(np.float32)
    out.backward(g)
    ref.backward(torch.from_numpy(g))
    np.testing.assert_allclose(xt.grad, xr.grad.numpy(), rtol=rtol, atol=atol)
    theirs_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        assert param.grad.dtype == np.float32
        np.testing.assert_allclose(param.grad, theirs_params[name].grad.numpy(), rtol=rtol, atol=atol, err_msg=name)
    return out


# ----------------------------------------------------------------- Conv2d
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(kernel_size=3),
        dict(kernel_size=3, padding=1, bias=False),
        dict(kernel_size=(3, 2), stride=2, padding=(1, 0)),
        dict(kernel_size=3, padding="same", dilation=2, groups=2),
        dict(kernel_size=1),
    ],
)
def test_conv2d_layer_matches_torch(torch, rng, kwargs):
    ours = nn.Conv2d(4, 6, seed=0, **kwargs)
    theirs = torch.nn.Conv2d(4, 6, **kwargs)
    _copy_to_torch(torch, ours, theirs)
    _compare_module(torch, ours, theirs, rng.standard_normal((2, 4, 9, 8)).astype(np.float32))


def test_conv2d_weights_load_from_torch(torch, rng):
    theirs = torch.nn.Conv2d(3, 5, 3, stride=2, padding=1)
    ours = nn.Conv2d(3, 5, 3, stride=2, padding=1)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((2, 3, 7, 7)).astype(np.float32)
    np.testing.assert_allclose(ours(x).numpy(), theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-5)


def test_conv2d_default_init_is_pytorchs(torch):
    layer = nn.Conv2d(16, 32, 3, seed=0)
    fan_in = 16 * 9
    bound = 1 / math.sqrt(fan_in)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert w.shape == (32, 16, 3, 3) and w.dtype == np.float32
    assert bound * 0.99 < np.abs(w).max() <= bound and np.abs(b).max() <= bound
    reference = torch.nn.Conv2d(16, 32, 3).weight.detach().numpy()
    assert abs(w.std() - reference.std()) < 0.05 * reference.std()
    he = nn.Conv2d(16, 32, 3, init="kaiming_normal", seed=0)
    assert abs(he.weight.numpy().std() - math.sqrt(2 / fan_in)) < 0.05 * math.sqrt(2 / fan_in)


def test_conv2d_seed_and_reset_parameters():
    a, b = nn.Conv2d(2, 3, 3, seed=7), nn.Conv2d(2, 3, 3, seed=7)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    before = a.weight.numpy().copy()
    a.weight.data[...] = 0
    a.reset_parameters()
    np.testing.assert_array_equal(a.weight.numpy(), before)
    a.reset_parameters(seed=8)
    assert not np.array_equal(a.weight.numpy(), before)


# -------------------------------------------------------- ConvTranspose2d
@pytest.mark.parametrize(
    "kwargs",
    [dict(kernel_size=3), dict(kernel_size=4, stride=2, padding=1), dict(kernel_size=3, stride=2, output_padding=1, groups=2)],
)
def test_conv_transpose2d_layer_matches_torch(torch, rng, kwargs):
    ours = nn.ConvTranspose2d(4, 6, seed=0, **kwargs)
    theirs = torch.nn.ConvTranspose2d(4, 6, **kwargs)
    assert tuple(theirs.weight.shape) == ours.weight.shape
    _copy_to_torch(torch, ours, theirs)
    _compare_module(torch, ours, theirs, rng.standard_normal((2, 4, 5, 4)).astype(np.float32))


def test_conv_transpose2d_default_init_bound():
    layer = nn.ConvTranspose2d(8, 6, 3, seed=0)
    bound = 1 / math.sqrt(6 * 9)  # PyTorch's fan_in for a transposed conv weight (in, out, kh, kw): out·kh·kw
    assert bound * 0.99 < np.abs(layer.weight.numpy()).max() <= bound


# ------------------------------------------------------------- BatchNorm2d
def test_batchnorm2d_matches_torch_in_train_and_eval(torch, rng):
    ours = nn.BatchNorm2d(3)
    ours.weight.data[...] = rng.uniform(0.5, 1.5, 3)
    ours.bias.data[...] = rng.standard_normal(3)
    theirs = torch.nn.BatchNorm2d(3)
    _copy_to_torch(torch, ours, theirs)
    for _ in range(2):
        _compare_module(torch, ours, theirs, (rng.standard_normal((4, 3, 5, 5)) * 2 + 1).astype(np.float32))
    np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-5, atol=1e-6)
    ours.eval()
    theirs.eval()
    _compare_module(torch, ours, theirs, rng.standard_normal((2, 3, 5, 5)).astype(np.float32))


def test_batchnorm2d_wants_images():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): expected input of shape \(N, C, H, W\) with C = 3, got \(4, 3\)"):
        nn.BatchNorm2d(3)(np.zeros((4, 3), np.float32))


# --------------------------------------------------------------- Dropout2d
def test_dropout2d_layer():
    layer = nn.Dropout2d(0.5, seed=0)
    x = np.ones((4, 6, 3, 3), np.float32)
    out = layer(x).numpy()
    assert set(np.unique(out)) == {0.0, 2.0}
    assert not np.array_equal(out, layer(x).numpy())  # a new mask every call
    layer.reset_parameters()
    np.testing.assert_array_equal(layer(x).numpy(), out)  # the int seed restarts the masks
    layer.eval()
    assert layer(cr.Tensor(x)).numpy() is x
    assert nn.Dropout2d(0.5, seed=0)(cr.Tensor(x)).requires_grad is False
    with pytest.raises(ValueError, match=r"Dropout2d: p must be a probability in \[0, 1\), got 1.0"):
        nn.Dropout2d(1.0)


# ----------------------------------------------------------------- pooling
@pytest.mark.parametrize(
    "ours_factory,torch_name,kwargs",
    [
        (nn.MaxPool2d, "MaxPool2d", dict(kernel_size=2)),
        (nn.MaxPool2d, "MaxPool2d", dict(kernel_size=3, stride=2, padding=1)),
        (nn.AvgPool2d, "AvgPool2d", dict(kernel_size=3, stride=1, padding=1, count_include_pad=False)),
        (nn.AdaptiveAvgPool2d, "AdaptiveAvgPool2d", dict(output_size=(3, 2))),
    ],
)
def test_pooling_layers_match_torch(torch, rng, ours_factory, torch_name, kwargs):
    _compare_module(torch, ours_factory(**kwargs), getattr(torch.nn, torch_name)(**kwargs),
                    rng.standard_normal((2, 3, 7, 6)).astype(np.float32))


def test_global_avg_pool2d_layer(rng):
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    np.testing.assert_allclose(nn.GlobalAvgPool2d()(x).numpy(), x.mean(axis=(2, 3)), rtol=1e-6)
    assert nn.GlobalAvgPool2d(keepdims=True)(x).shape == (2, 3, 1, 1)


# ----------------------------------------------------- models, config, summary
def _small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, seed=0), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, padding="same", seed=1), nn.ReLU(), nn.Dropout2d(0.2, seed=2), nn.AvgPool2d(2),
        nn.ConvTranspose2d(6, 3, 2, stride=2, seed=3), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(12, 5, seed=4),
    )


def test_model_matches_torch_and_trains_in_float32(torch, rng):
    ours = _small_cnn()
    ours[6] = nn.Identity()  # dropout masks differ between libraries
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 6, 3, padding="same"), torch.nn.ReLU(), torch.nn.Identity(), torch.nn.AvgPool2d(2),
        torch.nn.ConvTranspose2d(6, 3, 2, stride=2), torch.nn.AdaptiveAvgPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(12, 5),
    )
    _copy_to_torch(torch, ours, theirs)
    out = _compare_module(torch, ours, theirs, rng.standard_normal((3, 1, 8, 8)).astype(np.float32))
    assert out.dtype == np.float32


def test_model_gradcheck_in_float64(rng):
    model = _small_cnn()
    model[6] = nn.Identity()
    model.double()
    params = list(model.parameters())
    x = rng.standard_normal((2, 1, 8, 8))
    # the input and every parameter are gradcheck inputs: all weight gradients are checked too
    inputs = [x] + [p.data.copy() for p in params]
    assert cr.gradcheck(lambda x, *ws: _with_params(model, params, ws, x), inputs, atol=1e-5, rtol=1e-3)


def _with_params(model, params, values, x):
    """Run ``model`` with its parameters replaced by the tensors ``values`` (so gradcheck sees them as inputs)."""
    saved = [(module, name, getattr(module, name)) for module in model.modules()
             for name, p in module._parameters.items() if p is not None]
    try:
        lookup = {id(p): v for p, v in zip(params, values)}
        for module, name, p in saved:
            module.__dict__[name] = lookup[id(p)]
        return model(x)
    finally:
        for module, name, p in saved:
            module.__dict__[name] = p


def test_config_round_trip_through_json(rng):
    model = _small_cnn()
    rebuilt = nn.build_module(json.loads(json.dumps(model.to_config())))
    rebuilt.load_state_dict(model.state_dict())
    model.eval()
    rebuilt.eval()
    x = rng.standard_normal((2, 1, 8, 8)).astype(np.float32)
    np.testing.assert_array_equal(model(x).numpy(), rebuilt(x).numpy())
    assert repr(rebuilt) == repr(model)


def test_summary_shows_every_output_shape():
    result = _small_cnn().summary((2, 1, 8, 8), print_fn=None)
    shapes = [row["output_shape"] for row in result.rows if row["depth"] == 0]
    assert shapes == [
        (2, 4, 8, 8), (2, 4, 8, 8), (2, 4, 8, 8), (2, 4, 4, 4), (2, 6, 4, 4), (2, 6, 4, 4), (2, 6, 4, 4),
        (2, 6, 2, 2), (2, 3, 4, 4), (2, 3, 2, 2), (2, 12), (2, 5),
    ]
    assert result.total_params == 40 + 8 + 222 + 75 + 65
    assert "(2, 4, 8, 8)" in str(result) and "ConvTranspose2d" in str(result)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "layer,shape,message",
    [
        (nn.Conv2d(3, 4, 3), (2, 1, 8, 8), r"Conv2d\(3, 4, kernel_size=\(3, 3\).*\): expected input of shape \(N, 3, H, W\), got \(2, 1, 8, 8\)"),
        (nn.Conv2d(1, 4, 3), (2, 8, 8), r"expected input of shape \(N, 1, H, W\), got \(2, 8, 8\); .* x\[:, None\]"),
        (nn.Conv2d(3, 4, 3), (5, 8, 8), r"expected input of shape \(N, 3, H, W\), got \(5, 8, 8\)"),
        (nn.Conv2d(3, 4, 3), (2, 8, 8, 3), r"got \(2, 8, 8, 3\); the input looks channels-last"),
        (nn.Conv2d(1, 4, 5), (2, 1, 3, 3), r"Conv2d\(1, 4, kernel_size=\(5, 5\).*\): conv2d: kernel 5x5 is larger than the padded input 3x3"),
        (nn.ConvTranspose2d(2, 4, 3), (2, 3, 4, 4), r"ConvTranspose2d\(2, 4, .*\): expected input of shape \(N, 2, H, W\), got \(2, 3, 4, 4\)"),
        (nn.MaxPool2d(2), (4, 4), r"MaxPool2d\(kernel_size=\(2, 2\), stride=\(2, 2\)\): expected input of shape \(N, C, H, W\), got \(4, 4\)"),
        (nn.MaxPool2d(4), (1, 1, 3, 3), r"MaxPool2d\(.*\): max_pool2d: kernel 4x4 is larger than the padded input 3x3"),
        (nn.AdaptiveAvgPool2d(2), (3, 3), r"AdaptiveAvgPool2d\(output_size=\(2, 2\)\): expected input of shape \(N, C, H, W\)"),
    ],
)
def test_bad_input_names_the_layer_and_shapes(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        layer(np.zeros(shape, np.float32))


@pytest.mark.parametrize(
    "factory,message",
    [
        (lambda: nn.Conv2d(3, 4, 3, groups=2), r"Conv2d: in_channels \(3\) must be divisible by groups \(2\)"),
        (lambda: nn.Conv2d(3, 4, 0), r"Conv2d: kernel_size must be at least 1"),
        (lambda: nn.Conv2d(3, 4, 3, padding="full"), r"Conv2d: padding must be an int, a pair of ints, 'same' or 'valid'"),
        (lambda: nn.Conv2d(3, 4, 3, stride=2, padding="same"), r"padding='same' needs stride 1"),
        (lambda: nn.Conv2d(0, 4, 3), r"Conv2d: in_channels must be a positive int, got 0"),
        (lambda: nn.ConvTranspose2d(2, 2, 3, stride=2, output_padding=2), r"output_padding \(2, 2\) must be smaller"),
        (lambda: nn.MaxPool2d(2, padding=2), r"MaxPool2d: padding \(2, 2\) must be at most half the kernel size"),
    ],
)
def test_bad_arguments(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()


# ------------------------------------------------- 1-D and 3-D, padding modes, the other pools
CONV_LAYERS = [
    ("Conv1d", dict(kernel_size=3, stride=2, padding=1), (2, 4, 11)),
    ("Conv1d", dict(kernel_size=4, padding="same", dilation=2, groups=2, padding_mode="reflect"), (2, 4, 10)),
    ("Conv1d", dict(kernel_size=3, padding=2, padding_mode="circular", bias=False), (2, 4, 7)),
    ("Conv2d", dict(kernel_size=3, padding=(2, 1), padding_mode="replicate"), (2, 4, 7, 6)),
    ("Conv2d", dict(kernel_size=(2, 3), padding="same", padding_mode="reflect"), (2, 4, 6, 7)),
    ("Conv3d", dict(kernel_size=(2, 3, 2), stride=(1, 2, 1), padding=1), (2, 4, 4, 6, 5)),
    ("Conv3d", dict(kernel_size=3, padding=1, padding_mode="circular", groups=2), (1, 4, 4, 5, 4)),
    ("ConvTranspose1d", dict(kernel_size=3, stride=2, padding=1, output_padding=1), (2, 4, 6)),
    ("ConvTranspose3d", dict(kernel_size=(2, 3, 2), stride=2, padding=(0, 1, 0), groups=2), (1, 4, 3, 3, 2)),
]


@pytest.mark.parametrize("name,kwargs,shape", CONV_LAYERS, ids=[f"{c[0]}-{i}" for i, c in enumerate(CONV_LAYERS)])
def test_nd_conv_layers_and_padding_modes_match_torch(torch, rng, name, kwargs, shape):
    ours = getattr(nn, name)(4, 6, seed=0, **kwargs)
    theirs = getattr(torch.nn, name)(4, 6, **kwargs)
    _copy_to_torch(torch, ours, theirs)
    _compare_module(torch, ours, theirs, rng.standard_normal(shape).astype(np.float32))
    rebuilt = nn.build_module(json.loads(json.dumps(nn.module_to_config(ours))))
    assert repr(rebuilt) == repr(ours) and rebuilt.weight.shape == ours.weight.shape


POOL_LAYERS = [
    ("MaxPool1d", dict(kernel_size=3, stride=2, ceil_mode=True), (2, 3, 10)),
    ("MaxPool2d", dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True), (2, 3, 9, 8)),
    ("MaxPool3d", dict(kernel_size=2, stride=(1, 2, 2)), (1, 2, 4, 5, 6)),
    ("AvgPool1d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), (2, 3, 10)),
    ("AvgPool2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, divisor_override=4), (2, 3, 7, 8)),
    ("AvgPool3d", dict(kernel_size=2, padding=1, count_include_pad=False), (1, 2, 4, 5, 6)),
    ("AdaptiveMaxPool1d", dict(output_size=4), (2, 3, 10)),
    ("AdaptiveMaxPool2d", dict(output_size=(3, None)), (2, 3, 7, 6)),
    ("AdaptiveMaxPool3d", dict(output_size=2), (1, 2, 4, 5, 6)),
    ("AdaptiveAvgPool1d", dict(output_size=4), (2, 3, 10)),
    ("AdaptiveAvgPool3d", dict(output_size=(2, 3, 4)), (1, 2, 4, 5, 6)),
    ("Upsample", dict(scale_factor=2, mode="bilinear"), (2, 3, 4, 5)),
    ("UpsamplingNearest2d", dict(size=(6, 7)), (2, 3, 4, 5)),
    ("UpsamplingBilinear2d", dict(scale_factor=2), (2, 3, 4, 5)),
    ("PixelShuffle", dict(upscale_factor=2), (2, 8, 3, 4)),
    ("PixelUnshuffle", dict(downscale_factor=2), (2, 2, 4, 6)),
    ("Unfold", dict(kernel_size=(2, 3), padding=1, stride=2), (2, 3, 6, 7)),
    ("Fold", dict(output_size=(5, 6), kernel_size=2, stride=1), (2, 12, 20)),
]


@pytest.mark.parametrize("name,kwargs,shape", POOL_LAYERS, ids=[f"{c[0]}-{i}" for i, c in enumerate(POOL_LAYERS)])
def test_parameter_free_layers_match_torch_and_round_trip(torch, rng, name, kwargs, shape):
    import warnings

    ours = getattr(nn, name)(**kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's deprecation note on the Upsampling*2d classes
        theirs = getattr(torch.nn, name)(**kwargs)
    _compare_module(torch, ours, theirs, rng.standard_normal(shape).astype(np.float32))
    rebuilt = nn.build_module(json.loads(json.dumps(nn.module_to_config(ours))))
    assert repr(rebuilt) == repr(ours)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_max_pool_indices_feed_max_unpool(torch, rng, d):
    shape = {1: (2, 3, 8), 2: (2, 3, 7, 8), 3: (1, 2, 4, 6, 4)}[d]
    x = rng.standard_normal(shape)
    pooled, indices = getattr(nn, f"MaxPool{d}d")(2, return_indices=True)(x)
    t_pooled, t_indices = getattr(torch.nn, f"MaxPool{d}d")(2, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(indices.numpy(), t_indices.numpy())
    restored = getattr(nn, f"MaxUnpool{d}d")(2)(pooled, indices, output_size=shape)
    expected = getattr(torch.nn, f"MaxUnpool{d}d")(2)(t_pooled, t_indices, output_size=shape)
    np.testing.assert_array_equal(restored.numpy(), expected.numpy())


def test_nd_layer_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"Conv1d\(2, 3, .*\): expected input of shape \(N, 2, L\), got \(4, 5\)"):
        nn.Conv1d(2, 3, 3)(np.zeros((4, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="padding_mode must be 'zeros'"):
        nn.ConvTranspose1d(2, 3, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="padding_mode must be 'zeros', 'reflect'"):
        nn.Conv3d(2, 3, 3, padding_mode="wrap")
    with pytest.raises(ValueError, match=r"MaxPool3d.*expected input of shape \(N, C, D, H, W\)"):
        nn.MaxPool3d(2)(np.zeros((2, 3)))
