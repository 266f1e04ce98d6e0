"""Tests for chainrule/ops/reduce.py: sum, mean, var, std, prod, logsumexp, max/min, amax/amin,
argmax/argmin, any/all, count_nonzero, with PyTorch's dim=/keepdim= and NumPy's axis=/keepdims=."""

import numpy as np
import pytest
from torch64 import compare64

import chainrule as cr
from chainrule.ops import reduce as rd


def _distinct(rng, shape):
    """Values at least 0.1 apart, so max/min have no ties (even under the gradcheck's nudge)."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.1 - 1.27).reshape(shape)  # and no two with the same |x|


# name -> (chainrule call, torch call); each gets (module, x, dim, keepdim). torch.<op> is called with the
# same dim/keepdim, so a different default (var's correction, max's return type) shows up as a failure.
OPS = {
    "sum": lambda M, x, d, k: M.sum(x, dim=d, keepdim=k),
    "mean": lambda M, x, d, k: M.mean(x, dim=d, keepdim=k),
    "var": lambda M, x, d, k: M.var(x, dim=d, keepdim=k),
    "var_correction0": lambda M, x, d, k: M.var(x, dim=d, keepdim=k, correction=0),
    "var_unbiased_false": lambda M, x, d, k: M.var(x, d, False, k),
    "std": lambda M, x, d, k: M.std(x, dim=d, keepdim=k),
    "std_correction0": lambda M, x, d, k: M.std(x, dim=d, keepdim=k, correction=0),
    "prod": lambda M, x, d, k: M.prod(x, dim=d, keepdim=k) if d is not None else M.prod(x),
    "logsumexp": lambda M, x, d, k: M.logsumexp(x, dim=d if d is not None else (0, 1, 2), keepdim=k),
    "amax": lambda M, x, d, k: M.amax(x, dim=d if d is not None else (), keepdim=k),  # (): all dims
    "amin": lambda M, x, d, k: M.amin(x, dim=d if d is not None else (), keepdim=k),
    "sum_empty_dims": lambda M, x, d, k: M.sum(x, dim=(), keepdim=k),
    "norm": lambda M, x, d, k: M.norm(x, dim=d, keepdim=k),
    "norm_p1": lambda M, x, d, k: M.norm(x, p=1, dim=d, keepdim=k),
    "norm_p3": lambda M, x, d, k: M.norm(x, p=3, dim=d, keepdim=k),
    "norm_inf": lambda M, x, d, k: M.norm(x, p=float("inf"), dim=d, keepdim=k),
    "vector_norm_p05": lambda M, x, d, k: M.linalg.vector_norm(x, 0.5, dim=d, keepdim=k),
    "vector_norm_neg_inf": lambda M, x, d, k: M.linalg.vector_norm(x, -float("inf"), dim=d, keepdim=k),
}
# prod, norm(dim=int or tuple): torch.prod takes one dim only
ONE_DIM_ONLY = {"prod"}
DIMS = [None, 0, -1, (0, 2), (-1, 1)]


def _skip(name, dim):
    if name in ONE_DIM_ONLY and isinstance(dim, tuple):
        pytest.skip("torch.prod takes one dim")


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("name", OPS)
def test_matches_torch(name, dim, keepdim, rng, torch):
    _skip(name, dim)
    call = OPS[name]
    compare64(torch, lambda x: call(cr, x, dim, keepdim), lambda x: call(torch, x, dim, keepdim),
              _distinct(rng, (2, 3, 4)))


@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("name", OPS)
def test_gradcheck(name, dim, rng):
    _skip(name, dim)
    call = OPS[name]
    assert cr.gradcheck(lambda x: call(cr, x, dim, True), [_distinct(rng, (2, 3, 4))])


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "prod", "logsumexp", "amax", "amin", "norm"])
def test_methods_and_repeated_use(name, rng):
    # x used twice: through the reduction (as a method, NumPy's spelling) and directly
    method = lambda x: getattr(x, name)(axis=1, keepdims=True) * x  # noqa: E731
    assert cr.gradcheck(method, [_distinct(rng, (3, 4))])


# ------------------------------------------------------------------- defaults that differ from NumPy
def test_var_and_std_are_unbiased_by_default(torch):
    x = np.array([1.0, 2.0, 4.0, 7.0])
    assert cr.Tensor(x).var().item() == pytest.approx(torch.tensor(x).var().item(), abs=1e-12)
    assert cr.Tensor(x).std().item() == pytest.approx(torch.tensor(x).std().item(), abs=1e-12)
    assert cr.Tensor(x).var().item() != pytest.approx(np.var(x))  # not NumPy's ddof=0


@pytest.mark.parametrize("kwargs, expected", [({"correction": 0}, 0), ({"unbiased": False}, 0), ({"unbiased": True}, 1),
                                              ({"ddof": 0}, 0), ({"ddof": 2}, 2), ({}, 1)])
def test_var_divisor_arguments(kwargs, expected):
    x = np.array([[1.0, 2.0, 4.0, 7.0], [0.0, 3.0, 3.0, 1.0]])
    np.testing.assert_allclose(rd.var(cr.Tensor(x), 1, **kwargs).numpy(), np.var(x, axis=1, ddof=expected))
    np.testing.assert_allclose(rd.std(cr.Tensor(x), dim=1, **kwargs).numpy(), np.std(x, axis=1, ddof=expected))


def test_var_legacy_positional_unbiased(torch):
    x = np.arange(5.0) ** 2
    assert rd.var(cr.Tensor(x), True).item() == pytest.approx(torch.var(torch.tensor(x), True).item())
    assert rd.var(cr.Tensor(x), 0, False).item() == pytest.approx(torch.var(torch.tensor(x), 0, False).item())


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_max_min_with_dim_return_values_and_indices(op, dim, keepdim, torch):
    # ties in a row: the index (and the gradient) goes to the first extreme, as in torch
    x = np.array([[3.0, 1.0, 3.0, 3.0], [-2.0, 5.0, -2.0, 0.0], [3.0, 3.0, -2.0, 5.0]])
    compare64(torch, lambda t: getattr(t, op)(dim, keepdim), lambda t: getattr(t, op)(dim, keepdim), x)
    compare64(torch, lambda t: getattr(cr, op)(t, dim=dim, keepdim=keepdim),
              lambda t: getattr(torch, op)(t, dim=dim, keepdim=keepdim), x)
    out = getattr(cr.Tensor(x), op)(dim)
    assert type(out).__name__ == op and out.values is out[0] and out.indices is out[1]
    assert out.indices.dtype == np.int64


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_of_two_tensors_is_elementwise(op, rng, torch):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3,))
    compare64(torch, lambda s, t: getattr(cr, op)(s, t), lambda s, t: getattr(torch, op)(s, t), a, b)


@pytest.mark.parametrize("op, torch_op", [("max", "amax"), ("min", "amin")])
@pytest.mark.parametrize("axis", [None, 1, -1, (0, 1)], ids=str)
def test_numpy_axis_gives_values_with_ties_sharing_gradient_like_amax(op, torch_op, axis, torch):
    x = np.array([[3.0, 1.0, 3.0, 3.0], [-2.0, 5.0, -2.0, 0.0], [3.0, 3.0, -2.0, 5.0]])
    torch_dim = (0, 1) if axis is None else axis
    compare64(torch, lambda t: getattr(t, op)(axis=axis), lambda t: getattr(torch, torch_op)(t, dim=torch_dim), x)


@pytest.mark.parametrize("op", ["max", "min"])
def test_full_reduction_ties_match_torch_max_without_dim(op, torch):
    x = np.array([[1.0, 4.0, 4.0], [4.0, 1.0, 0.0]]) * (1 if op == "max" else -1)
    compare64(torch, lambda t: getattr(t, op)(), lambda t: getattr(t, op)(), x)


def test_tie_gradient_values():
    x = cr.Tensor(np.array([1.0, 3.0, 3.0, 2.0]), requires_grad=True)
    rd.max(x).backward(grad=np.array(4.0))
    np.testing.assert_array_equal(x.grad, [0.0, 2.0, 2.0, 0.0])


# ------------------------------------------------------------------------ prod and logsumexp edge cases
@pytest.mark.parametrize("dim", [None, 0, 1])
def test_prod_gradient_with_zeros(dim, torch):
    # rows with no zero, one zero, two zeros
    x = np.array([[2.0, 0.0, 3.0, 0.0], [1.5, -2.0, 0.0, 4.0], [0.5, 2.0, -3.0, 1.0]])
    call = (lambda M, t: t.prod()) if dim is None else (lambda M, t: M.prod(t, dim))
    compare64(torch, lambda t: call(cr, t), lambda t: call(torch, t), x)


def test_logsumexp_is_stable_for_large_inputs(torch):
    x = np.array([[1000.0, 999.0, -1000.0], [-1e4, -1e4 + 1, -1e4 + 2]])
    compare64(torch, lambda t: t.logsumexp(1), lambda t: t.logsumexp(1), x)


def test_logsumexp_of_minus_inf_is_minus_inf():
    out = rd.logsumexp(cr.Tensor(np.full(3, -np.inf)), 0)
    assert out.item() == -np.inf


def test_std_gradient_of_constant_is_zero_like_torch(torch):
    compare64(torch, lambda t: t.std(1), lambda t: t.std(1), np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]]))


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_median_with_dim_returns_values_and_indices(dim, keepdim, rng, torch):
    x = _distinct(rng, (4, 3))  # rows of odd and even length: torch takes the lower middle value
    compare64(torch, lambda t: t.median(dim, keepdim), lambda t: t.median(dim, keepdim), x)
    compare64(torch, lambda t: cr.median(t, dim=dim), lambda t: torch.median(t, dim=dim), x)


@pytest.mark.parametrize("shape", [(4, 3), (2, 2), (5,)])
def test_median_of_all_is_the_lower_median(shape, rng, torch):
    compare64(torch, lambda t: t.median(), lambda t: t.median(), _distinct(rng, shape))


# -------------------------------------------------------------------------------- not differentiable
@pytest.mark.parametrize("op", ["argmax", "argmin"])
@pytest.mark.parametrize("dim, keepdim", [(None, False), (None, True), (0, False), (1, True), (-1, False)])
def test_argmax_argmin(op, dim, keepdim, torch):
    x = np.array([[3.0, 1.0, 3.0, 3.0], [-2.0, 5.0, -2.0, 0.0], [3.0, 3.0, -2.0, 5.0]])
    compare64(torch, lambda t: getattr(t, op)(dim=dim, keepdim=keepdim),
              lambda t: getattr(t, op)(dim=dim, keepdim=keepdim), x)
    compare64(torch, lambda t: getattr(cr, op)(t, dim), lambda t: getattr(torch, op)(t, dim), x)


@pytest.mark.parametrize("op", ["any", "all", "count_nonzero"])
@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1)], ids=str)
def test_logical_reductions(op, dim, torch):
    x = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0]])
    if op != "count_nonzero" and isinstance(dim, tuple):
        pytest.skip("torch.any/all take one dim")
    theirs = (lambda t: getattr(torch, op)(t)) if dim is None else (lambda t: getattr(torch, op)(t, dim))
    compare64(torch, lambda t: getattr(cr, op)(t, dim), theirs, x)
    if op != "count_nonzero":
        keep = lambda t: getattr(t, op)(dim=1, keepdim=True)  # noqa: E731
        compare64(torch, keep, keep, x)


# ------------------------------------------------------------------------------ spelling and dtypes
def test_dim_and_axis_spellings_agree(rng):
    x = cr.Tensor(_distinct(rng, (2, 3, 4)))
    for name in ["sum", "mean", "var", "std", "prod", "logsumexp", "amax", "amin", "any", "all", "argmax"]:
        a = getattr(x, name)(dim=1, keepdim=True)
        b = getattr(x, name)(axis=1, keepdims=True)
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("name", ["sum", "var", "amax", "argmax", "logsumexp"])
def test_both_spellings_is_a_type_error(name):
    x = cr.zeros(2, 3)
    with pytest.raises(TypeError, match=rf"{name}: got both dim=0 and axis=1"):
        getattr(rd, name)(x, dim=0, axis=1)
    with pytest.raises(TypeError, match=rf"{name}: got both keepdim=True and keepdims=True"):
        getattr(rd, name)(x, 0, keepdim=True, keepdims=True)


def test_var_with_two_corrections_is_a_type_error():
    with pytest.raises(TypeError, match="var: give only one of unbiased and correction"):
        rd.var(cr.zeros(3), unbiased=True, correction=0)


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "max", "min", "prod", "logsumexp", "amax", "norm"])
def test_float32_in_float32_out(name):
    x = cr.Tensor(np.arange(1, 13, dtype=np.float32).reshape(3, 4), requires_grad=True)
    y = getattr(x, name)(axis=0)
    assert y.dtype == np.float32
    y.backward(grad=np.ones(4, np.float32))
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("name", ["sum", "mean", "var", "max", "min", "amax", "prod", "logsumexp"])
def test_zero_dim_tensor(name):
    x = cr.Tensor(np.array(2.0), requires_grad=True)
    for dim in (None, 0, -1):
        y = getattr(rd, name)(x, dim)
        y = y.values if isinstance(y, tuple) else y
        assert y.shape == ()
    getattr(rd, name)(x, axis=0).backward()
    assert np.asarray(x.grad).shape == ()


def test_mean_of_integers_is_not_truncated():
    assert rd.mean(cr.Tensor(np.array([1, 2]))).item() == 1.5


def test_var_with_too_few_elements_is_nan_like_torch(recwarn):
    # n - correction = 0: 0/0, as torch.var(torch.tensor([1.0])) gives, and without a warning
    assert np.isnan(rd.var(cr.Tensor(np.array([1.0]))).item())
    assert not recwarn.list


def test_max_propagates_nan_and_sends_it_the_gradient():
    x = cr.Tensor(np.array([1.0, np.nan, 3.0]), requires_grad=True)
    y = rd.max(x)
    assert np.isnan(y.item())
    y.backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 0.0])


@pytest.mark.parametrize("name", ["sum", "mean", "var", "max", "min", "amax", "argmax", "prod"])
def test_dim_out_of_range_names_op(name):
    with pytest.raises(ValueError, match=rf"{name}: dim 3 is out of range for a tensor with 2 dims"):
        getattr(rd, name)(cr.zeros(2, 3), 3)


def test_repeated_dim_is_an_error():
    with pytest.raises(ValueError, match="sum: dim"):
        rd.sum(cr.zeros(2, 3), dim=(1, -1))


def test_max_with_several_dims_points_to_amax():
    with pytest.raises(TypeError, match=r"max: dim must be an int .* amax"):
        rd.max(cr.zeros(2, 3), (0, 1))


@pytest.mark.parametrize("name", ["max", "min", "amax"])
def test_empty_reduction_names_op(name):
    with pytest.raises(ValueError, match=rf"{name}: cannot reduce an empty dim"):
        getattr(rd, name)(cr.zeros(0, 3), 0)
