"""Tests for chainrule/ops/pooling_nd.py (through the public ops of chainrule/ops/pooling.py): every pooling
option against PyTorch in float64, forward, indices and input gradients."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import pooling as P
from torch64 import compare64

_gen = np.random.default_rng(0)


def _x(*shape):
    return _gen.standard_normal(shape)


CASES = [
    ("max_pool1d", (2, 3, 10), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("max_pool1d", (2, 3, 11), dict(kernel_size=3, dilation=2, return_indices=True)),
    ("max_pool2d", (2, 3, 11, 9), dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True,
                                        return_indices=True)),
    ("max_pool2d", (1, 2, 7, 7), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), ceil_mode=True)),
    ("max_pool3d", (2, 2, 5, 7, 6), dict(kernel_size=(2, 3, 2), stride=(1, 2, 2), padding=(1, 1, 0),
                                          return_indices=True)),
    ("avg_pool1d", (2, 3, 11), dict(kernel_size=4, stride=3, padding=2, ceil_mode=True, count_include_pad=False)),
    ("avg_pool1d", (2, 3, 11), dict(kernel_size=4, stride=3, padding=2, ceil_mode=True)),
    ("avg_pool2d", (2, 3, 8, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, divisor_override=5)),
    ("avg_pool2d", (2, 3, 8, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    ("avg_pool3d", (1, 2, 6, 7, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                          count_include_pad=False)),
    ("adaptive_max_pool1d", (2, 3, 10), dict(output_size=4, return_indices=True)),
    ("adaptive_max_pool2d", (2, 3, 7, 11), dict(output_size=(3, 5), return_indices=True)),
    ("adaptive_max_pool3d", (1, 2, 5, 7, 4), dict(output_size=(2, 3, None))),
    ("adaptive_avg_pool1d", (2, 3, 10), dict(output_size=4)),
    ("adaptive_avg_pool3d", (1, 2, 5, 7, 9), dict(output_size=(2, 3, 4))),
]


@pytest.mark.parametrize("name,shape,kwargs", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_matches_torch(torch, name, shape, kwargs):
    compare64(torch, lambda x: getattr(P, name)(x, **kwargs),
              lambda x: getattr(torch.nn.functional, name)(x, **kwargs), _x(*shape))


@pytest.mark.parametrize("d", [1, 2, 3])
def test_max_unpool_inverts_max_pool_like_torch(torch, d):
    shape = {1: (2, 3, 9), 2: (2, 3, 7, 8), 3: (1, 2, 4, 5, 5)}[d]
    pool, unpool = getattr(torch.nn.functional, f"max_pool{d}d"), getattr(torch.nn.functional, f"max_unpool{d}d")
    _, indices = pool(torch.tensor(_x(*shape)), 2, return_indices=True)
    pooled = _x(*indices.shape)
    compare64(torch, lambda v: getattr(P, f"max_unpool{d}d")(v, indices.numpy(), 2, output_size=shape[2:]),
              lambda v: unpool(v, indices, 2, output_size=shape[2:]), pooled)


def test_ties_pick_the_first_and_nan_propagates_as_torch(torch):
    x = np.array([[[[1.0, 1.0, 0.0], [1.0, np.nan, 2.0], [0.0, 2.0, 2.0]]]])
    ours, idx = P.max_pool2d(cr.Tensor(x), 2, 1, return_indices=True)
    theirs, tidx = torch.nn.functional.max_pool2d(torch.tensor(x), 2, 1, return_indices=True)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())


def test_fast_paths_and_general_path_agree():
    """max_pool2d/avg_pool2d keep their fast paths for plain arguments; the general path gives the same."""
    from chainrule.ops import pooling_nd

    x = cr.Tensor(_x(2, 3, 8, 8), requires_grad=True)
    for fast, general in [(P.max_pool2d(x, 2), pooling_nd.max_pool(x, 2, 2)),
                          (P.avg_pool2d(x, 3, 2, 1), pooling_nd.avg_pool(x, 2, 3, 2, 1))]:
        np.testing.assert_allclose(fast.numpy(), general.numpy(), rtol=1e-12)


def test_float32_stays_float32_and_errors_name_the_problem():
    x = cr.Tensor(np.ones((1, 1, 6), dtype=np.float32), requires_grad=True)
    out = P.avg_pool1d(x, 3, ceil_mode=True, count_include_pad=False)
    out.sum().backward()
    assert out.dtype == np.float32 and np.asarray(x.grad).dtype == np.float32
    with pytest.raises(ValueError, match=r"max_pool3d: input must be a 5-D \(N, C, D, H, W\) tensor"):
        P.max_pool3d(cr.Tensor(np.zeros((1, 2, 3))), 2)
    with pytest.raises(ValueError, match="at most half the kernel"):
        P.max_pool1d(x, 2, padding=2)
    with pytest.raises(ValueError, match="within one stride"):
        P.max_unpool1d(cr.Tensor(np.zeros((1, 1, 3))), np.zeros((1, 1, 3), dtype=np.int64), 2, output_size=(10,))
