"""Tests for chainrule/ops/scan.py: cumsum and cumprod against PyTorch (float64, 1e-7) and finite differences."""

import numpy as np
import pytest
from torch64 import compare64

import chainrule as cr

# zeros placed to hit cumprod's cases: none in a row, one, two, and a zero at the first position
WITH_ZEROS = np.array([[0.5, -1.5, 2.0, 1.2], [1.1, 0.0, 3.0, -0.7], [0.0, 2.0, 0.0, 1.3]])


@pytest.mark.parametrize("op", ["cumsum", "cumprod"])
@pytest.mark.parametrize("dim", [0, 1, -1, -3])
def test_matches_torch(op, dim, rng, torch):
    x = rng.uniform(0.5, 1.5, (2, 3, 4)) * rng.choice([-1, 1], (2, 3, 4))
    compare64(torch, lambda t: getattr(t, op)(dim), lambda t: getattr(t, op)(dim), x)
    compare64(torch, lambda t: getattr(cr, op)(t, dim=dim), lambda t: getattr(torch, op)(t, dim=dim), x)


@pytest.mark.parametrize("dim", [0, 1])
def test_cumprod_with_zeros_matches_torch(dim, torch):
    compare64(torch, lambda t: t.cumprod(dim), lambda t: t.cumprod(dim), WITH_ZEROS)


@pytest.mark.parametrize("op", ["cumsum", "cumprod"])
def test_gradcheck(op):
    assert cr.gradcheck(lambda t: getattr(cr, op)(t, axis=1), [WITH_ZEROS])


def test_zero_dim_and_float32(torch):
    compare64(torch, lambda t: t.sum().cumsum(0), lambda t: t.sum().cumsum(0), np.arange(3.0))
    x = cr.Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    y = cr.cumprod(x, 1)
    y.backward(grad=np.ones((2, 3), np.float32))
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


def test_dim_is_required():
    with pytest.raises(TypeError, match="cumsum: missing dim"):
        cr.cumsum(cr.zeros(3))
