"""chainrule/nn/utils/fusion.py: a fused convolution equals conv → batch norm in evaluation mode (float32 and
float64) and equals torch.nn.utils.fusion.fuse_conv_bn_eval's; the model walker fuses Sequential and
conv<k>/bn<k> pairs and keeps the outputs."""

import numpy as np
import pytest

from chainrule import nn
from chainrule.nn.utils import fuse_conv_bn, fuse_conv_bn_eval, fuse_conv_bn_model

TOL = {"float32": dict(rtol=1e-6, atol=1e-6), "float64": dict(rtol=1e-12, atol=1e-12)}


def _bn(rng, channels, dtype, affine=True, cls=nn.BatchNorm2d):
    """An evaluation-mode batch norm with non-trivial running statistics and affine parameters."""
    bn = cls(channels, eps=1e-3, affine=affine, dtype=dtype)
    bn.running_mean[...] = rng.standard_normal(channels)
    bn.running_var[...] = rng.uniform(0.5, 2.0, channels)
    if affine:
        bn.weight.data[...] = rng.uniform(0.5, 1.5, channels)
        bn.bias.data[...] = rng.standard_normal(channels)
    return bn.eval()


CASES = [  # (conv keyword arguments, bn affine)
    (dict(bias=True), True),
    (dict(bias=False), True),
    (dict(bias=True, stride=2, padding=1), False),
    (dict(bias=False, groups=2, padding=1, dilation=2), True),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("conv_kwargs, affine", CASES)
def test_fused_conv_equals_conv_then_bn(rng, dtype, conv_kwargs, affine):
    conv = nn.Conv2d(4, 6, 3, seed=1, dtype=dtype, **conv_kwargs)
    bn = _bn(rng, 6, dtype, affine)
    x = rng.standard_normal((2, 4, 9, 9)).astype(dtype)
    expected = bn(conv(x)).numpy()
    fused = fuse_conv_bn(conv, bn)
    out = fused(x).numpy()
    assert type(fused) is nn.Conv2d and fused is not conv and out.dtype == np.dtype(dtype)
    assert fused.weight.dtype == np.dtype(dtype) and fused.bias.dtype == np.dtype(dtype)
    assert (fused.stride, fused.padding, fused.groups) == (conv.stride, conv.padding, conv.groups)
    np.testing.assert_allclose(out, expected, **TOL[dtype])
    np.testing.assert_array_equal(bn(conv(x)).numpy(), expected)  # the inputs are left unchanged


@pytest.mark.parametrize("conv_cls, bn_cls, shape", [(nn.Conv1d, nn.BatchNorm1d, (2, 4, 11)),
                                                     (nn.Conv3d, nn.BatchNorm3d, (2, 4, 5, 5, 5))])
def test_fuse_other_dimensions(rng, conv_cls, bn_cls, shape):
    conv = conv_cls(4, 6, 3, padding=1, seed=2, dtype="float64")
    bn = _bn(rng, 6, "float64", cls=bn_cls)
    x = rng.standard_normal(shape)
    np.testing.assert_allclose(fuse_conv_bn(conv, bn)(x).numpy(), bn(conv(x)).numpy(), **TOL["float64"])


@pytest.mark.parametrize("conv_kwargs, affine", CASES)
def test_fused_weights_match_torch(torch, rng, conv_kwargs, affine):
    conv = nn.Conv2d(4, 6, 3, seed=3, dtype="float64", **conv_kwargs)
    bn = _bn(rng, 6, "float64", affine)
    tconv = torch.nn.Conv2d(4, 6, 3, dtype=torch.float64, **conv_kwargs).eval()
    tbn = torch.nn.BatchNorm2d(6, eps=1e-3, affine=affine, dtype=torch.float64).eval()
    tconv.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in conv.state_dict().items()})
    tbn.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in bn.state_dict().items()})
    theirs = torch.nn.utils.fusion.fuse_conv_bn_eval(tconv, tbn)
    ours = fuse_conv_bn_eval(conv, bn)
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), **TOL["float64"])
    np.testing.assert_allclose(ours.bias.numpy(), theirs.bias.detach().numpy(), **TOL["float64"])


class _Block(nn.Module):
    """A ResNet basic block with a projection shortcut: conv1/bn1 and conv2/bn2 pairs plus a Sequential."""

    def __init__(self, rng):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 4, 3, stride=2, padding=1, bias=False, seed=4), _bn(rng, 4, "float32")
        self.conv2, self.bn2 = nn.Conv2d(4, 4, 3, padding=1, bias=False, seed=5), _bn(rng, 4, "float32")
        self.relu = nn.ReLU()
        self.shortcut = nn.Sequential(nn.Conv2d(3, 4, 1, stride=2, bias=False, seed=6), _bn(rng, 4, "float32"))

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(out + self.shortcut(x))


@pytest.mark.parametrize("inplace", [False, True])
def test_fuse_model_resnet_block(rng, inplace):
    model = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1, seed=7), _bn(rng, 3, "float32"), nn.ReLU(), _Block(rng))
    model.eval()
    x = rng.standard_normal((2, 3, 8, 8)).astype("float32")
    expected = model(x).numpy()
    fused = fuse_conv_bn_model(model, inplace=inplace)
    assert (fused is model) == inplace
    np.testing.assert_allclose(fused(x).numpy(), expected, **TOL["float32"])
    bns = [name for name, m in fused.named_modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns == []
    assert isinstance(fused[1], nn.Identity) and isinstance(fused[3].bn1, nn.Identity)
    assert isinstance(fused[3].shortcut[1], nn.Identity) and fused[3].conv2.bias is not None
    if not inplace:  # the original keeps its batch norms
        assert isinstance(model[1], nn.BatchNorm2d) and isinstance(model[3].bn2, nn.BatchNorm2d)


def test_fuse_model_leaves_unfusable_pairs(rng):
    bn = nn.BatchNorm2d(3, track_running_stats=False).eval()
    model = nn.Sequential(nn.Conv2d(3, 3, 1, seed=8), bn, nn.Conv2d(3, 2, 1, seed=9), nn.ReLU(), _bn(rng, 2, "float32"))
    fused = fuse_conv_bn_model(model.eval())
    assert [type(m).__name__ for m in fused] == ["Conv2d", "BatchNorm2d", "Conv2d", "ReLU", "BatchNorm2d"]


@pytest.mark.parametrize("conv, bn, error, words", [
    ("linear", "bn", TypeError, "conv must be"),
    ("transposed", "bn", TypeError, "conv must be"),
    ("conv", "layer_norm", TypeError, "bn must be"),
    ("conv", "training", ValueError, "training mode"),
    ("conv", "no_stats", ValueError, "running statistics"),
    ("conv", "wrong_channels", ValueError, "5 channels"),
])
def test_fuse_conv_bn_bad_input(rng, conv, bn, error, words):
    convs = {"linear": nn.Linear(3, 4), "transposed": nn.ConvTranspose2d(3, 4, 3), "conv": nn.Conv2d(3, 4, 3)}
    bns = {"bn": _bn(rng, 4, "float32"), "layer_norm": nn.LayerNorm(4), "training": nn.BatchNorm2d(4),
           "no_stats": nn.BatchNorm2d(4, track_running_stats=False).eval(), "wrong_channels": _bn(rng, 5, "float32")}
    with pytest.raises(error, match=words):
        fuse_conv_bn(convs[conv], bns[bn])


def test_fuse_model_bad_input(rng):
    with pytest.raises(TypeError, match="model must be"):
        fuse_conv_bn_model("model")
    with pytest.raises(TypeError, match="inplace must be"):
        fuse_conv_bn_model(nn.Sequential(nn.ReLU()), inplace=1)
    with pytest.raises(ValueError, match="training mode"):
        fuse_conv_bn_model(nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4)))
