"""Tests for chainrule/nn/padding.py and chainrule/nn/distance.py: PyTorch's padding and distance layers,
and unbatched (C, *spatial) inputs to the convolution and pooling layers."""

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

_gen = np.random.default_rng(0)

PADS = [
    ("ZeroPad1d", (2,), (2, 3, 5)), ("ZeroPad2d", ((1, 2, 0, 3),), (2, 3, 4, 5)), ("ZeroPad3d", (1,), (1, 2, 3, 3, 3)),
    ("ConstantPad1d", ((1, 2), 0.5), (2, 3, 5)), ("ConstantPad2d", (1, -1.0), (1, 2, 3, 4)),
    ("ConstantPad3d", ((1, 0, 0, 1, 2, 0), 2.0), (1, 2, 3, 3, 3)),
    ("ReflectionPad1d", (2,), (2, 3, 5)), ("ReflectionPad2d", ((1, 2, 2, 1),), (2, 3, 4, 5)),
    ("ReflectionPad3d", (1,), (1, 2, 3, 3, 3)),
    ("ReplicationPad1d", ((3, 1),), (2, 3, 5)), ("ReplicationPad2d", (2,), (2, 3, 4, 5)),
    ("ReplicationPad3d", ((1, 2, 0, 1, 1, 0),), (1, 2, 3, 3, 3)),
    ("CircularPad1d", (2,), (2, 3, 5)), ("CircularPad2d", ((1, 2, 2, 1),), (2, 3, 4, 5)),
    ("CircularPad3d", (1,), (1, 2, 3, 3, 3)),
]


@pytest.mark.parametrize("name,args,shape", PADS, ids=[p[0] for p in PADS])
def test_padding_layers_match_torch_and_round_trip(torch, name, args, shape):
    x = _gen.standard_normal(shape)
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    xt, xr = cr.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = ours(xt), theirs(xr)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12)
    g = _gen.standard_normal(out.shape)
    out.backward(g)
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(np.asarray(xt.grad), xr.grad.numpy(), rtol=1e-12)
    rebuilt = nn.build_module(json.loads(json.dumps(nn.module_to_config(ours))))
    assert repr(rebuilt) == repr(ours) and rebuilt.padding == ours.padding


def test_distance_layers_match_torch(torch):
    a, b = _gen.standard_normal((4, 5)), _gen.standard_normal((4, 5))
    for ours, theirs in [(nn.CosineSimilarity(dim=1), torch.nn.CosineSimilarity(dim=1)),
                         (nn.PairwiseDistance(p=1.5, keepdim=True), torch.nn.PairwiseDistance(p=1.5, keepdim=True))]:
        np.testing.assert_allclose(ours(cr.Tensor(a), cr.Tensor(b)).numpy(),
                                   theirs(torch.tensor(a), torch.tensor(b)).numpy(), rtol=1e-10)


@pytest.mark.parametrize("layer,torch_layer,shape", [
    (lambda: nn.Conv2d(2, 3, 3, seed=0, dtype="float64"), None, (2, 6, 5)),
    (lambda: nn.Conv1d(2, 3, 2, seed=0, dtype="float64"), None, (2, 7)),
    (lambda: nn.MaxPool2d(2), "MaxPool2d", (3, 6, 4)),
    (lambda: nn.AvgPool1d(2), "AvgPool1d", (3, 6)),
])
def test_unbatched_input_as_torch(torch, layer, torch_layer, shape):
    """(C, *spatial) without the batch dim gives the batched result without its batch dim."""
    ours = layer()
    x = _gen.standard_normal(shape)
    np.testing.assert_allclose(ours(cr.Tensor(x)).numpy(), ours(cr.Tensor(x[None])).numpy()[0], rtol=1e-12)
    if torch_layer:
        np.testing.assert_allclose(ours(cr.Tensor(x)).numpy(), getattr(torch.nn, torch_layer)(2)(torch.tensor(x)).numpy())


def test_padding_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"ZeroPad2d: padding must be an int or 4 ints"):
        nn.ZeroPad2d((1, 2))
    with pytest.raises(ValueError, match=r"ReflectionPad1d\(padding=\(5, 5\)\)"):
        nn.ReflectionPad1d(5)(cr.Tensor(np.zeros((1, 1, 3))))
