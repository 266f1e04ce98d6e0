"""Tests for chainrule/ops/counting.py: bincount, isin, argwhere, meshgrid, diff against torch."""

import numpy as np
import pytest
from torch64 import compare64

import chainrule as cr


def _same(ours, theirs):
    assert ours.shape == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_bincount_isin_argwhere_match_torch(torch):
    values = np.array([0, 3, 1, 1, 5])
    weights = np.array([0.5, 1.0, 2.0, 0.25, 1.0])
    _same(cr.bincount(cr.tensor(values)), torch.bincount(torch.tensor(values)))
    _same(cr.bincount(cr.tensor(values), weights=cr.tensor(weights), minlength=8),
          torch.bincount(torch.tensor(values), weights=torch.tensor(weights), minlength=8))
    _same(cr.tensor(values).bincount(), torch.tensor(values).bincount())
    _same(cr.isin(cr.tensor(values), cr.tensor([1, 5])), torch.isin(torch.tensor(values), torch.tensor([1, 5])))
    _same(cr.isin(cr.tensor(values), cr.tensor([1, 5]), invert=True),
          torch.isin(torch.tensor(values), torch.tensor([1, 5]), invert=True))
    grid = np.array([[0.0, 1.5], [2.0, 0.0], [0.0, 0.0]])
    _same(cr.argwhere(cr.tensor(grid)), torch.argwhere(torch.tensor(grid)))
    _same(cr.tensor(grid).argwhere(), torch.tensor(grid).argwhere())
    with pytest.raises(ValueError, match="non-negative"):
        cr.bincount(cr.tensor([1, -1]))
    with pytest.raises(ValueError, match="1-D integer"):
        cr.bincount(cr.tensor([1.0]))


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid_matches_torch_with_gradients(torch, indexing):
    compare64(torch, lambda a, b, c: cr.meshgrid(a, b, c, indexing=indexing),
              lambda a, b, c: torch.meshgrid(a, b, c, indexing=indexing),
              np.arange(2.0), np.array([1.0, -2.0, 0.5]), np.array([3.0, 4.0, 5.0, 6.0]))
    xs, ys = cr.meshgrid([cr.arange(3), cr.arange(2)])  # a list of tensors, as torch accepts
    assert xs.shape == ys.shape == (3, 2)
    with pytest.raises(ValueError, match="indexing"):
        cr.meshgrid(cr.arange(2), indexing="yx")


@pytest.mark.parametrize("kwargs", [{}, {"n": 2}, {"dim": 0}, {"n": 0}, {"prepend": "p"}, {"append": "p", "dim": 0}])
def test_diff_matches_torch_with_gradients(torch, kwargs):
    extra = np.array([[0.5, -1.0, 2.0]])

    def call(lib, x, p):
        args = dict(kwargs)
        for key in ("prepend", "append"):
            if key in args:
                args[key] = p if args.get("dim") == 0 else p.reshape(3, 1)
        return lib.diff(x, **args)

    compare64(torch, lambda x, p: call(cr, x, p), lambda x, p: call(torch, x, p),
              np.array([[1.0, 4.0, 9.0], [2.0, -3.0, 5.0], [0.0, 7.0, 1.0]]), extra)
    with pytest.raises(ValueError, match="n must be"):
        cr.diff(cr.ones(3), n=-1)
