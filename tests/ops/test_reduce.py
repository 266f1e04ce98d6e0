"""Tests for chainrule/ops/reduce.py: sum, mean, var, max, min."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import reduce as rd


def _distinct(rng, shape):
    """Values at least 0.1 apart, so max/min have no ties (even under the gradcheck's nudge)."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.1 - 1.0).reshape(shape)


# name: (chainrule fn(x, axis, keepdims), torch fn(x, axis, keepdims))
def _torch_dim(axis):
    return tuple(range(3)) if axis is None else axis


OPS = {
    "sum": (rd.sum, lambda T, x, axis, k: T.sum(x, dim=_torch_dim(axis), keepdim=k)),
    "mean": (rd.mean, lambda T, x, axis, k: T.mean(x, dim=_torch_dim(axis), keepdim=k)),
    "var": (rd.var, lambda T, x, axis, k: T.var(x, dim=_torch_dim(axis), keepdim=k, correction=0)),
    "var_ddof1": (lambda x, axis, k: rd.var(x, axis, k, ddof=1),
                  lambda T, x, axis, k: T.var(x, dim=_torch_dim(axis), keepdim=k, correction=1)),
    "max": (rd.max, lambda T, x, axis, k: T.amax(x, dim=_torch_dim(axis), keepdim=k)),
    "min": (rd.min, lambda T, x, axis, k: T.amin(x, dim=_torch_dim(axis), keepdim=k)),
}
AXES = [None, 0, -1, (0, 2), (-1, 1)]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", OPS)
def test_gradcheck(name, axis, keepdims, rng):
    fn = OPS[name][0]
    assert cr.gradcheck(lambda x: fn(x, axis, keepdims), [_distinct(rng, (2, 3, 4))])


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", OPS)
def test_matches_torch(name, axis, keepdims, rng, compare_torch, torch):
    fn, torch_fn = OPS[name]
    x = _distinct(rng, (2, 3, 4))
    compare_torch(lambda t: fn(t, axis, keepdims), lambda t: torch_fn(torch, t, axis, keepdims), x)


@pytest.mark.parametrize("name", ["sum", "mean", "var", "max", "min"])
def test_methods_and_repeated_use(name, rng):
    # x used twice: through the reduction and directly
    method = lambda x: getattr(x, name)(axis=1, keepdims=True) * x  # noqa: E731
    assert cr.gradcheck(method, [_distinct(rng, (3, 4))])


# ----------------------------------------------------------------------- ties
@pytest.mark.parametrize("op, torch_op", [("max", "amax"), ("min", "amin")])
@pytest.mark.parametrize("axis", [None, 1, -1, (0, 1)], ids=str)
def test_ties_share_gradient_evenly_like_torch_amax(op, torch_op, axis, compare_torch, torch):
    x = np.array([[3.0, 1.0, 3.0, 3.0], [-2.0, 5.0, -2.0, 0.0], [3.0, 3.0, -2.0, 5.0]])
    compare_torch(lambda t: getattr(rd, op)(t, axis), lambda t: getattr(torch, torch_op)(t, dim=_torch_dim_2d(axis)), x)


def _torch_dim_2d(axis):
    return (0, 1) if axis is None else axis


@pytest.mark.parametrize("op", ["max", "min"])
def test_full_reduction_ties_match_torch_max_without_dim(op, compare_torch):
    x = np.array([[1.0, 4.0, 4.0], [4.0, 1.0, 0.0]]) * (1 if op == "max" else -1)
    compare_torch(lambda t: getattr(rd, op)(t), lambda t: getattr(t, op)(), x)


def test_tie_gradient_values():
    x = cr.Tensor(np.array([1.0, 3.0, 3.0, 2.0]), requires_grad=True)
    rd.max(x).backward(grad=np.array(4.0))
    np.testing.assert_array_equal(x.grad, [0.0, 2.0, 2.0, 0.0])


# ------------------------------------------------------------ dtypes, edge cases
@pytest.mark.parametrize("name", ["sum", "mean", "var", "max", "min"])
def test_float32_in_float32_out(name):
    x = cr.Tensor(np.arange(12, dtype=np.float32).reshape(3, 4), requires_grad=True)
    y = getattr(rd, name)(x, axis=0)
    assert y.dtype == np.float32
    y.backward(grad=np.ones(4, np.float32))
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("name", ["sum", "mean", "var", "max", "min"])
def test_zero_dim_tensor(name):
    x = cr.Tensor(np.array(2.0), requires_grad=True)
    for axis in (None, 0, -1):
        y = getattr(rd, name)(x, axis=axis)
        assert y.shape == ()
    getattr(rd, name)(x, axis=0).backward()
    assert x.grad.shape == ()


def test_mean_of_integers_is_not_truncated():
    assert rd.mean(cr.Tensor(np.array([1, 2]))).item() == 1.5


def test_var_with_too_few_elements_is_nan_like_torch(recwarn):
    # n - ddof = 0: 0/0, as torch.var(torch.tensor([1.0]), correction=1) gives, and without a warning
    assert np.isnan(rd.var(cr.Tensor(np.array([1.0])), ddof=1).item())
    assert not recwarn.list


def test_max_propagates_nan_and_sends_it_the_gradient():
    x = cr.Tensor(np.array([1.0, np.nan, 3.0]), requires_grad=True)
    y = rd.max(x)
    assert np.isnan(y.item())
    y.backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 0.0])


@pytest.mark.parametrize("name", ["sum", "mean", "var", "max", "min"])
def test_axis_out_of_range_names_op(name):
    with pytest.raises(ValueError, match=rf"{name}: axis 3 is out of range for a tensor with 2 axes"):
        getattr(rd, name)(cr.zeros(2, 3), axis=3)


def test_repeated_axis_is_an_error():
    with pytest.raises(ValueError, match="sum: axis"):
        rd.sum(cr.zeros(2, 3), axis=(1, -1))


@pytest.mark.parametrize("name", ["max", "min"])
def test_empty_reduction_names_op(name):
    with pytest.raises(ValueError, match=rf"{name}: cannot reduce an empty axis"):
        getattr(rd, name)(cr.zeros(0, 3), axis=0)
