"""Tests for chainrule/ops/torch_aliases.py: PyTorch's method spellings and value tests, against torch."""

import numpy as np
import pytest
from torch64 import compare64

import chainrule as cr


@pytest.fixture
def arrays():
    gen = np.random.default_rng(3)
    a, b = gen.standard_normal((3, 4)), gen.standard_normal((3, 4))
    b[0, :2] = a[0, :2]  # some equal elements for the comparisons
    return a, b


ARITHMETIC = {
    "add_alpha": (lambda a, b: a.add(b, alpha=2.5), lambda a, b: a.add(b, alpha=2.5)),
    "sub_alpha": (lambda a, b: a.sub(b, alpha=-0.5), lambda a, b: a.sub(b, alpha=-0.5)),
    "module_add": (lambda a, b: cr.add(a, b, alpha=3), lambda a, b: __import__("torch").add(a, b, alpha=3)),
    "subtract": (lambda a, b: a.subtract(b), lambda a, b: a.subtract(b)),
    "mul": (lambda a, b: a.mul(b).multiply(2.0), lambda a, b: a.mul(b).multiply(2.0)),
    "div": (lambda a, b: a.div(b).divide(3.0).true_divide(a), lambda a, b: a.div(b).divide(3.0).true_divide(a)),
    "div_trunc": (lambda a, b: a.div(b, rounding_mode="trunc"), lambda a, b: a.div(b, rounding_mode="trunc")),
    "div_floor": (lambda a, b: a.div(b, rounding_mode="floor"), lambda a, b: a.div(b, rounding_mode="floor")),
    "pow_neg_matmul": (lambda a, b: a.pow(2).neg().negative().matmul(b.t()),
                       lambda a, b: a.pow(2).neg().negative().matmul(b.t())),
}


@pytest.mark.parametrize("name", ARITHMETIC)
def test_arithmetic_methods_match_torch(torch, arrays, name):
    ours, theirs = ARITHMETIC[name]
    compare64(torch, ours, theirs, *arrays)


COMPARISONS = ["eq", "ne", "lt", "le", "gt", "ge", "greater", "less", "greater_equal", "less_equal", "not_equal",
               "logical_and", "logical_or", "logical_xor", "isclose"]


@pytest.mark.parametrize("name", COMPARISONS)
def test_comparisons_are_boolean_tensors_without_gradient(torch, arrays, name):
    a, b = arrays
    x = cr.tensor(a, requires_grad=True)
    out = getattr(x, name)(cr.tensor(b))
    expected = getattr(torch.tensor(a), name)(torch.tensor(b)).numpy()
    assert out.dtype == np.bool_ and not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), expected)
    half = cr.tensor(0.5), torch.tensor(0.5, dtype=torch.float64)  # torch's logical ops and isclose take no number
    np.testing.assert_array_equal(getattr(cr, name)(x, half[0]).numpy(), getattr(torch, name)(torch.tensor(a), half[1]))


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite", "logical_not"])
def test_value_tests_match_torch(torch, name):
    a = np.array([0.0, -1.5, np.nan, np.inf, -np.inf])
    np.testing.assert_array_equal(getattr(cr, name)(cr.tensor(a)).numpy(), getattr(torch, name)(torch.tensor(a)))
    np.testing.assert_array_equal(getattr(cr.tensor(a), name)().numpy(), getattr(torch.tensor(a), name)())


def test_integer_division_rounding_modes_match_torch(torch):
    a, b = np.array([7, -7, 7, -7, 6, -6, 0]), np.array([2, 2, -2, -2, 3, 3, 5])
    for mode in ["trunc", "floor"]:
        out = cr.tensor(a).div(cr.tensor(b), rounding_mode=mode)
        ref = torch.tensor(a).div(torch.tensor(b), rounding_mode=mode)
        assert out.dtype == np.int64
        np.testing.assert_array_equal(out.numpy(), ref.numpy())
    assert cr.tensor(a).div(2).dtype == np.float32  # true division of integers, as torch
    with pytest.raises(ValueError, match="rounding_mode"):
        cr.tensor(a).div(2, rounding_mode="round")


def test_equal_and_allclose_are_python_bools_as_torch(torch, arrays):
    a, b = arrays
    cases = [(a, a.copy()), (a, b), (a, a[:2]), (a[:1], np.broadcast_to(a[:1], (3, 4))), (a, a + 1e-9)]
    for x, y in cases:
        assert cr.equal(cr.tensor(x), cr.tensor(y)) is torch.equal(torch.tensor(x), torch.tensor(y))
        assert cr.tensor(x).equal(cr.tensor(y)) is torch.equal(torch.tensor(x), torch.tensor(y))
        if x.shape == y.shape:
            assert cr.allclose(cr.tensor(x), cr.tensor(y)) is torch.allclose(torch.tensor(x), torch.tensor(y))
    nan = np.array([1.0, np.nan])
    assert cr.allclose(cr.tensor(nan), cr.tensor(nan), equal_nan=True) is True
    assert cr.allclose(cr.tensor(nan), cr.tensor(nan)) is False


@pytest.mark.parametrize("expression", [
    "(x > 0) & (x < 1)", "(x > 0) | (x < -1)", "(x > 0) ^ (x > 1)", "~(x > 0)", "True & (x > 0)", "(x > 0) | False",
    "i & j", "i | j", "i ^ j", "~i", "(x > 0) & i", "lib.bitwise_and(i, j)", "i.bitwise_or(j)",
    "lib.bitwise_not(x > 0)", "x.masked_fill(~(x > 0) & (x > -1), 0.0)",
])
def test_logical_operators_on_masks_match_torch(torch, expression):
    gen = np.random.default_rng(4)
    a, ints = gen.standard_normal((3, 4)), gen.integers(-8, 8, size=(2, 3, 4))
    results = []
    for lib in (cr, torch):
        x, i, j = lib.tensor(a), lib.tensor(ints[0]), lib.tensor(ints[1])
        out = eval(expression)
        results.append((out.numpy(), str(out.dtype).replace("torch.", "")))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    assert results[0][1] == results[1][1]


def test_in_place_logical_operators_and_float_operands():
    mask = cr.tensor([True, True, False])
    alias = mask
    mask &= cr.tensor([True, False, True])
    mask |= cr.tensor([False, False, True])
    mask ^= cr.tensor([True, False, False])
    assert alias is mask and mask.tolist() == [False, False, True]
    with pytest.raises(TypeError, match=r"bitwise_and \(&\): needs boolean or integer tensors, got float32"):
        cr.ones(2) & cr.ones(2)
    with pytest.raises(TypeError, match="bitwise_not"):
        ~cr.ones(2)


def test_comparing_with_none_is_a_python_bool_as_torch(torch):
    for lib in (cr, torch):
        x = lib.tensor([1.0, 2.0])
        assert (x == None) is False and (x != None) is True  # noqa: E711 - the comparison is the point
        assert x not in [None]
    assert (cr.tensor([1, 2]) == cr.tensor([1, 3])).tolist() == [True, False]
