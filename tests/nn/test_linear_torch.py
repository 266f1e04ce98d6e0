"""chainrule/nn/linear.py and chainrule/ops/bilinear.py against torch.nn in float64: Bilinear (forward,
input and parameter gradients), Unflatten, Flatten, Identity."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.ops.bilinear import bilinear

TOL = dict(rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("lead", [(4,), (2, 3), ()])
def test_bilinear_matches_torch(torch, rng, bias, lead):
    ours = nn.Bilinear(3, 2, 4, bias=bias, dtype="float64")
    theirs = torch.nn.Bilinear(3, 2, 4, bias=bias).double()
    assert repr(nn.Bilinear(3, 2, 4, bias=bias)) == repr(theirs)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    a, b = rng.standard_normal(lead + (3,)), rng.standard_normal(lead + (2,))
    at, bt = cr.Tensor(a, requires_grad=True), cr.Tensor(b, requires_grad=True)
    ar, br = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out, ref = ours(at, bt), theirs(ar, br)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), **TOL)
    g = rng.standard_normal(tuple(ref.shape))
    out.backward(g)
    ref.backward(torch.from_numpy(g))
    for x, y in [(at, ar), (bt, br)] + [(getattr(ours, n), p) for n, p in theirs.named_parameters()]:
        np.testing.assert_allclose(np.asarray(x.grad), y.grad.numpy(), **TOL)
    assert repr(nn.build_module(ours.to_config())) == repr(ours)


def test_bilinear_init_bound_and_errors(rng):
    layer = nn.Bilinear(4, 2, 3, seed=0)
    assert np.abs(layer.weight.numpy()).max() <= 0.5 and layer.weight.numpy().std() > 0.1
    with pytest.raises(ValueError, match="same leading axes"):
        bilinear(np.zeros((2, 4)), np.zeros((3, 2)), layer.weight)
    w = rng.standard_normal((2, 3, 2))
    assert cr.gradcheck(lambda x, y: bilinear(x, y, w), [rng.standard_normal((2, 3)), rng.standard_normal((2, 2))])


@pytest.mark.parametrize("dim, sizes, shape", [(1, (2, 3), (4, 6)), (-1, [2, -1], (2, 3, 4)), (0, (1, 2), (2,))])
def test_unflatten_and_flatten_match_torch(torch, rng, dim, sizes, shape):
    x = rng.standard_normal(shape)
    ours, theirs = nn.Unflatten(dim, sizes), torch.nn.Unflatten(dim, sizes)
    assert repr(ours) == repr(theirs).replace("[", "(").replace("]", ")")
    out = ours(cr.Tensor(x))
    np.testing.assert_array_equal(out.numpy(), theirs(torch.tensor(x)).numpy())
    flat = nn.Flatten(dim % len(shape), dim % len(shape) + len(sizes) - 1)
    np.testing.assert_array_equal(flat(out).numpy(), x)
    assert repr(nn.build_module(ours.to_config())) == repr(ours)


def test_unflatten_errors_and_identity():
    with pytest.raises(ValueError, match="cannot split"):
        nn.Unflatten(1, (4, 2))(np.zeros((2, 6)))
    with pytest.raises(ValueError, match="unflattened_size"):
        nn.Unflatten(1, 6)
    x = cr.Tensor(np.ones(3))
    assert nn.Identity(3, foo="bar")(x) is x
