"""Tests for chainrule/ops/conv_nd.py: 1-D and 3-D convolutions and transposed convolutions against PyTorch."""

import numpy as np
import pytest

from chainrule.ops import conv_nd as C
from torch64 import compare64

_gen = np.random.default_rng(0)

CASES = [
    # name, input shape, weight shape, bias?, arguments after the bias
    ("conv1d", (2, 4, 11), (6, 2, 3), True, (2, 1, 2, 2)),
    ("conv1d", (2, 4, 10), (6, 2, 4), False, (1, "same", 1, 2)),
    ("conv1d", (1, 3, 9), (5, 3, 3), True, (1, "valid", 3)),
    ("conv3d", (2, 3, 5, 6, 7), (4, 3, 2, 3, 2), True, ((1, 2, 1), (1, 0, 2), (1, 1, 2), 1)),
    ("conv3d", (1, 4, 5, 6, 5), (6, 2, 2, 3, 2), False, (1, "same", 2, 2)),
    ("conv_transpose1d", (2, 4, 7), (4, 3, 3), True, (2, 1, 1, 1, 1)),
    ("conv_transpose1d", (2, 4, 5), (4, 1, 2), False, (3, 0, 2, 4, 2)),
    ("conv_transpose3d", (2, 4, 3, 4, 3), (4, 3, 3, 2, 3), True, ((2, 1, 2), (1, 0, 1), (1, 0, 0), 2, (1, 2, 1))),
]


@pytest.mark.parametrize("name,x_shape,w_shape,bias,args", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_matches_torch(torch, name, x_shape, w_shape, bias, args):
    arrays = [_gen.standard_normal(x_shape), _gen.standard_normal(w_shape)]
    if bias:
        out_channels = w_shape[0] if "transpose" not in name else w_shape[1] * args[3]
        arrays.append(_gen.standard_normal(out_channels))

    def ours(x, w, *b):
        return getattr(C, name)(x, w, b[0] if b else None, *args)

    def theirs(x, w, *b):
        return getattr(torch.nn.functional, name)(x, w, b[0] if b else None, *args)

    compare64(torch, ours, theirs, *arrays)


def test_errors_name_the_problem():
    import chainrule as cr

    with pytest.raises(ValueError, match=r"conv3d: input must be a 5-D"):
        C.conv3d(cr.Tensor(np.zeros((1, 2, 3, 4))), cr.Tensor(np.zeros((1, 2, 1, 1, 1))))
    with pytest.raises(ValueError, match="expects 4"):
        C.conv3d(cr.Tensor(np.zeros((1, 2, 3, 3, 3))), cr.Tensor(np.zeros((4, 2, 1, 1, 1))), groups=2)
    with pytest.raises(ValueError, match="stride 1"):
        C.conv3d(cr.Tensor(np.zeros((1, 1, 3, 3, 3))), cr.Tensor(np.zeros((1, 1, 1, 1, 1))), stride=2, padding="same")
