"""Tests for chainrule/ops/padding.py: PyTorch's pad (last axis first, four modes) against torch in float64."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.padding import pad_last

CASES = [
    ("constant_1d", (2, 3, 5), (1, 2), "constant", 0.5),
    ("constant_3_axes", (2, 3, 4), (1, 0, 0, 2, 1, 1), "constant", None),
    ("constant_crop", (2, 3, 5), (-1, 2, 1, -2), "constant", -1.0),
    ("reflect_1d", (2, 3, 5), (4, 2), "reflect", None),
    ("reflect_2d", (1, 2, 4, 5), (2, 3, 3, 1), "reflect", None),
    ("replicate_2d", (1, 2, 3, 4), (5, 1, 2, 4), "replicate", None),
    ("replicate_3d", (1, 2, 3, 3, 2), (1, 1, 2, 0, 1, 3), "replicate", None),
    ("circular_1d", (2, 2, 4), (4, 3), "circular", None),
    ("circular_2d", (1, 2, 3, 4), (2, 1, 3, 2), "circular", None),
]


@pytest.mark.parametrize("name,shape,pad,mode,value", CASES, ids=[c[0] for c in CASES])
def test_pad_matches_torch(name, shape, pad, mode, value, compare_torch64, torch, rng):
    compare_torch64(lambda t: pad_last(t, pad, mode, value), lambda t: torch.nn.functional.pad(t, pad, mode, value),
                    rng.standard_normal(shape))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_gradcheck(mode, rng):
    assert cr.gradcheck(lambda t: pad_last(t, (2, 1, 1, 2), mode), [rng.standard_normal((2, 3, 4))])


def test_pad_keeps_float32(rng):
    x = cr.Tensor(rng.standard_normal((2, 3)).astype(np.float32), requires_grad=True)
    out = pad_last(x, (1, 1), "reflect")
    out.backward(np.ones(out.shape, np.float32))
    assert out.dtype == np.float32 and np.asarray(x.grad).dtype == np.float32
    assert pad_last(x, (1, 1), value=2.5).dtype == np.float32


def test_chainrule_pad_stays_numpys():
    # the top-level chainrule.pad follows np.pad (first axis first); F.pad is PyTorch's
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(cr.pad(x, ((1, 0), (0, 2))).numpy(), np.pad(x, ((1, 0), (0, 2))))
    np.testing.assert_array_equal(pad_last(x, (1, 0, 0, 2)).numpy(), np.pad(x, ((0, 2), (1, 0))))


def test_pad_errors():
    x = cr.Tensor(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="pad must be a sequence of ints"):
        pad_last(x, 1)
    with pytest.raises(ValueError, match="needs non-negative pad widths"):
        pad_last(x, (-1, 0), "replicate")
    with pytest.raises(ValueError, match="value is only used with mode='constant'"):
        pad_last(x, (1, 0), "reflect", 1.0)
    with pytest.raises(ValueError, match="mode 'circular' pads axis 1 of size 3 by at most 3"):
        pad_last(x, (4, 0), "circular")
