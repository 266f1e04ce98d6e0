"""chainrule/nn/normalization.py and chainrule/ops/normalization.py against torch.nn in float64:
GroupNorm, InstanceNorm1d/2d/3d, BatchNorm1d/3d, LayerNorm options, LocalResponseNorm (forward,
input and parameter gradients under a non-uniform upstream gradient, running statistics)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

TOL = dict(rtol=1e-7, atol=1e-9)


def _randomize(torch, theirs, rng):
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, tuple(p.shape))))


def _compare(torch, ours, theirs, x, rng):
    """Load theirs' state into ours, run both on x with a random upstream gradient, compare everything."""
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    xt, xr = cr.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = ours(xt), theirs(xr)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), **TOL)
    g = rng.standard_normal(ref.shape)
    out.backward(g)
    ref.backward(torch.from_numpy(g))
    np.testing.assert_allclose(np.asarray(xt.grad), xr.grad.numpy(), **TOL)
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(np.asarray(getattr(ours, name).grad), p.grad.numpy(), **TOL)
    for name, b in theirs.named_buffers():
        np.testing.assert_allclose(np.asarray(getattr(ours, name)), b.numpy(), **TOL)


CASES = [
    ("GroupNorm", (2, 6), {}, (3, 6, 4)),
    ("GroupNorm", (3, 6), {"affine": False, "eps": 1e-3}, (2, 6, 2, 3)),
    ("GroupNorm", (1, 4), {}, (2, 4)),
    ("InstanceNorm1d", (3,), {"affine": True}, (2, 3, 5)),
    ("InstanceNorm1d", (3,), {}, (3, 5)),
    ("InstanceNorm2d", (2,), {"affine": True, "track_running_stats": True}, (3, 2, 3, 4)),
    ("InstanceNorm3d", (2,), {"track_running_stats": True, "momentum": 0.3}, (2, 2, 2, 3, 2)),
    ("BatchNorm1d", (3,), {}, (5, 3)),
    ("BatchNorm1d", (3,), {"momentum": None}, (4, 3, 5)),
    ("BatchNorm1d", (3,), {"track_running_stats": False}, (4, 3)),
    ("BatchNorm3d", (2,), {"affine": False}, (2, 2, 2, 3, 2)),
    ("LayerNorm", ((3, 4),), {}, (2, 3, 4)),
    ("LayerNorm", (4,), {"bias": False, "eps": 1e-3}, (2, 3, 4)),
    ("LayerNorm", ([4],), {"elementwise_affine": False}, (3, 4)),
    ("LocalResponseNorm", (3,), {"alpha": 0.5, "beta": 0.8, "k": 2.0}, (2, 5, 3)),
    ("LocalResponseNorm", (2,), {}, (2, 4, 2, 3)),
    ("RMSNorm", ((3, 4),), {}, (2, 3, 4)),
    ("RMSNorm", (4,), {"eps": 1e-3, "elementwise_affine": False}, (3, 4)),
]


@pytest.mark.parametrize("name, args, kwargs, shape", CASES)
def test_train_then_eval_matches_torch(torch, rng, name, args, kwargs, shape):
    extra = {} if name == "LocalResponseNorm" else {"dtype": "float64"}
    ours = getattr(nn, name)(*args, **kwargs, **extra)
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    _randomize(torch, theirs, rng)
    assert repr(ours) == repr(theirs)
    assert [k for k, _ in ours.state_dict().items()] == list(theirs.state_dict())
    for _ in range(2):  # twice: the running statistics must follow torch's
        _compare(torch, ours, theirs, 1 + 2 * rng.standard_normal(shape), rng)
    ours.eval(), theirs.eval()
    ours.zero_grad(), theirs.zero_grad()
    _compare(torch, ours, theirs, rng.standard_normal(shape), rng)
    rebuilt = nn.build_module(ours.to_config())
    assert repr(rebuilt) == repr(ours)


def test_batchnorm_num_batches_tracked_and_cumulative_average(rng):
    layer = nn.BatchNorm1d(2, momentum=None, dtype="float64")
    batches = [rng.standard_normal((4, 2)) for _ in range(3)]
    for x in batches:
        layer(x)
    assert int(layer.num_batches_tracked) == 3
    np.testing.assert_allclose(layer.running_mean, np.mean([b.mean(axis=0) for b in batches], axis=0), **TOL)


@pytest.mark.parametrize(
    "make, x, match",
    [
        (lambda: nn.GroupNorm(4, 6), None, "divisible"),
        (lambda: nn.GroupNorm(2, 4), np.zeros((2, 3)), "expected input"),
        (lambda: nn.InstanceNorm2d(3), np.zeros((2, 3, 4)), "expected input"),
        (lambda: nn.BatchNorm3d(3), np.zeros((2, 3, 4)), "expected input"),
        (lambda: nn.LocalResponseNorm(0), None, "size"),
    ],
)
def test_bad_arguments(make, x, match):
    with pytest.raises(ValueError, match=match):
        make()(x)


def test_group_norm_gradcheck(rng):
    from chainrule.ops.normalization import group_norm, local_response_norm

    x, w, b = rng.standard_normal((2, 4, 3)), rng.standard_normal(4), rng.standard_normal(4)
    assert cr.gradcheck(lambda x, w, b: group_norm(x, 2, w, b), [x, w, b])
    assert cr.gradcheck(lambda x: local_response_norm(x, 3, 0.5, 0.75, 1.0), [x])
    from chainrule.ops.normalization import rms_norm

    assert cr.gradcheck(lambda x, w: rms_norm(x, (3,), w, 1e-3), [x, rng.standard_normal(3)])
