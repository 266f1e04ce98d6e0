"""Tests for chainrule/ops/elementwise.py: gradients by finite differences (float64) and against PyTorch (float32)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import elementwise as ew


def _normal(rng, shape):
    return rng.standard_normal(shape)


def _positive(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def _nonzero(rng, shape):
    """Values with |x| >= 0.2, away from kinks and poles at 0."""
    x = rng.standard_normal(shape)
    return np.where(x >= 0, x + 0.2, x - 0.2)


def _off_bounds(rng, shape):
    """Values in [-1.5, 1.5] at least 0.05 away from the clip bounds ±0.5."""
    x = rng.uniform(-1.5, 1.5, shape)
    return np.where(np.abs(np.abs(x) - 0.5) < 0.05, x * 1.3, x)


# name: (chainrule fn, torch fn (T is the torch module), input generator)
UNARY = {
    "neg": (ew.neg, lambda T, x: T.neg(x), _normal),
    "exp": (ew.exp, lambda T, x: T.exp(x), _normal),
    "log": (ew.log, lambda T, x: T.log(x), _positive),
    "sqrt": (ew.sqrt, lambda T, x: T.sqrt(x), _positive),
    "abs": (ew.abs, lambda T, x: T.abs(x), _nonzero),
    "clip": (lambda x: ew.clip(x, -0.5, 0.5), lambda T, x: T.clamp(x, -0.5, 0.5), _off_bounds),
    "clip_min_only": (lambda x: ew.clip(x, min=-0.5), lambda T, x: T.clamp(x, min=-0.5), _off_bounds),
    "pow_scalar": (lambda x: x**3, lambda T, x: x**3, _normal),
    "pow_fraction": (lambda x: x**0.5, lambda T, x: x**0.5, _positive),
    "scalar_pow": (lambda x: 2.0**x, lambda T, x: 2.0**x, _normal),
    "rsub_scalar": (lambda x: 1.5 - x, lambda T, x: 1.5 - x, _normal),
    "rdiv_scalar": (lambda x: 2.0 / x, lambda T, x: 2.0 / x, _nonzero),
    "cast_roundtrip": (lambda x: ew.cast(ew.cast(x, np.float64) * 2.0, x.dtype),
                       lambda T, x: (x.double() * 2.0).float(), _normal),
    "repeated_use": (lambda x: x * x + x, lambda T, x: x * x + x, _normal),
    "chain": (lambda x: (x * ew.exp(x) / (x * x + 3.0)), lambda T, x: x * T.exp(x) / (x * x + 3.0), _normal),
}

# name: (chainrule fn, torch fn, generator for a, generator for b)
BINARY = {
    "add": (ew.add, lambda T, a, b: a + b, _normal, _normal),
    "sub": (ew.sub, lambda T, a, b: a - b, _normal, _normal),
    "mul": (ew.mul, lambda T, a, b: a * b, _normal, _normal),
    "div": (ew.div, lambda T, a, b: a / b, _normal, _nonzero),
    "pow": (ew.pow, lambda T, a, b: a**b, _positive, _normal),
    "maximum": (ew.maximum, lambda T, a, b: T.maximum(a, b), _normal, _normal),
    "minimum": (ew.minimum, lambda T, a, b: T.minimum(a, b), _normal, _normal),
    "operators": (lambda a, b: (a + b) * a - b / (a * a + 1.0), lambda T, a, b: (a + b) * a - b / (a * a + 1.0),
                  _normal, _normal),
}

# shape pairs covering equal shapes, broadcasting both ways, scalars and new leading axes
SHAPES = [((2, 3), (2, 3)), ((3, 1, 4), (5, 4)), ((4,), (2, 3, 4)), ((2, 3), ()), ((1,), (3, 1))]


@pytest.mark.parametrize("name", UNARY)
def test_unary_gradcheck(name, rng):
    fn, _, make = UNARY[name]
    assert cr.gradcheck(fn, [make(rng, (3, 4))])


@pytest.mark.parametrize("name", UNARY)
def test_unary_matches_torch(name, rng, compare_torch, torch):
    fn, torch_fn, make = UNARY[name]
    compare_torch(fn, lambda x: torch_fn(torch, x), make(rng, (3, 4)))


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("name", BINARY)
def test_binary_gradcheck(name, shapes, rng):
    fn, _, make_a, make_b = BINARY[name]
    assert cr.gradcheck(fn, [make_a(rng, shapes[0]), make_b(rng, shapes[1])])


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("name", BINARY)
def test_binary_matches_torch(name, shapes, rng, compare_torch, torch):
    fn, torch_fn, make_a, make_b = BINARY[name]
    compare_torch(fn, lambda a, b: torch_fn(torch, a, b), make_a(rng, shapes[0]), make_b(rng, shapes[1]))


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_where(shapes, rng, compare_torch, torch):
    cond = rng.random(np.broadcast_shapes(*shapes)) > 0.5
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    assert cr.gradcheck(lambda x, y: cr.where(cond, x, y), [a, b])
    compare_torch(
        lambda x, y: cr.where(cr.Tensor(cond), x, y), lambda x, y: torch.where(torch.from_numpy(cond), x, y), a, b
    )


def test_pow_tensor_exponent_at_negative_base_is_zero():
    # d(a^b)/db = a^b·ln(a) is taken as 0 where a < 0 (PyTorch gives NaN there; ln is undefined)
    a = cr.Tensor(np.array([-2.0, -2.0, 2.0]))
    b = cr.Tensor(np.array([2.0, 3.0, 2.0]), requires_grad=True)
    (a**b).sum().backward()
    np.testing.assert_allclose(b.grad, [0.0, 0.0, 4 * np.log(2.0)])


def test_pow_at_zero_base_and_zero_exponent_matches_torch(torch):
    # issue 14: x**0 at x = 0 and 0**y had NaN gradients; PyTorch's are 0 for x**0, 0 for 0**y with y >= 0,
    # -inf for 0**y with y < 0, and b·a^(b-1) for the base (inf at 0**-1)
    base = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 2.0])
    exponent = np.array([0.0, 1.0, 2.0, 0.5, -1.0, 0.0, 3.0, -1.5])
    x, y = cr.Tensor(base, requires_grad=True), cr.Tensor(exponent, requires_grad=True)
    upstream = np.linspace(0.5, 2.0, base.size)
    with np.errstate(divide="ignore"):  # 0 ** -1 = inf
        (x**y).backward(grad=upstream)
    tx, ty = torch.tensor(base, requires_grad=True), torch.tensor(exponent, requires_grad=True)
    (tx**ty).backward(torch.tensor(upstream))
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(y.grad, ty.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("exponent", [0, 0.0, 1, 2])
def test_pow_scalar_exponent_at_zero_matches_torch(exponent, torch):
    values = np.array([0.0, 1.5, -2.0])
    x, tx = cr.Tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    (x**exponent).backward(grad=np.array([1.0, 2.0, 3.0]))
    (tx**exponent).backward(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12)


def test_scalar_base_zero_pow_matches_torch(torch):
    exponent = np.array([0.0, 1.0, 2.0, 0.5])
    y, ty = cr.Tensor(exponent, requires_grad=True), torch.tensor(exponent, requires_grad=True)
    (0.0**y).backward(grad=np.ones(4))
    (0.0**ty).backward(torch.ones(4, dtype=torch.float64))
    np.testing.assert_allclose(y.grad, ty.grad.numpy(), rtol=1e-12)


# ---------------------------------------------------------------- kinks and ties
def test_abs_at_zero_matches_torch(compare_torch):
    compare_torch(ew.abs, lambda x: x.abs(), np.array([-1.0, 0.0, 0.0, 2.0]))


def test_clip_at_bounds_matches_torch(compare_torch, torch):
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    compare_torch(lambda t: ew.clip(t, -0.5, 0.5), lambda t: torch.clamp(t, -0.5, 0.5), x)


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_maximum_minimum_split_ties_evenly(op, compare_torch, torch):
    a = np.array([1.0, 2.0, 3.0, -1.0])
    b = np.array([1.0, 0.0, 3.0, 5.0])
    fn = getattr(ew, op)
    compare_torch(fn, lambda x, y: getattr(torch, op)(x, y), a, b)
    x, y = cr.Tensor(a, requires_grad=True), cr.Tensor(b, requires_grad=True)
    fn(x, y).backward(grad=np.full(4, 2.0))
    assert x.grad[0] == 1.0 and y.grad[0] == 1.0 and x.grad[2] == 1.0 and y.grad[2] == 1.0


# ------------------------------------------------------- dtypes and Python scalars
@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x * 2.0,
        lambda x: 2.0 * x,
        lambda x: x / 3,
        lambda x: 3 / (x + 5.0),
        lambda x: x**2,
        lambda x: 2**x,
        lambda x: x - np.float64(0.5),
        lambda x: np.float64(2.0) * x,
        lambda x: ew.maximum(x, 0.0),
        lambda x: ew.where(x.data > 0, x, 0.0),
        lambda x: ew.clip(x, -0.5, 0.5),
        lambda x: ew.sqrt(x * x + 1),
    ],
)
def test_float32_stays_float32_with_python_scalars(fn):
    x = cr.Tensor(np.linspace(-1, 1, 6, dtype=np.float32), requires_grad=True)
    y = fn(x)
    assert y.dtype == np.float32
    y.backward(grad=np.ones(y.shape, np.float32))
    assert x.grad.dtype == np.float32


def test_cast_gradient_returns_in_source_dtype():
    x = cr.Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    y = ew.cast(x, np.float64)
    assert y.dtype == np.float64
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad, [2.0, 4.0])


# ------------------------------------------------------------------ comparisons
@pytest.mark.parametrize(
    "name, ref",
    [("equal", np.equal), ("not_equal", np.not_equal), ("less", np.less), ("less_equal", np.less_equal),
     ("greater", np.greater), ("greater_equal", np.greater_equal)],
)
def test_comparisons_give_boolean_constants(name, ref):
    a = cr.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    b = np.array([2.0, 2.0, 2.0])
    out = getattr(ew, name)(a, b)
    assert out.dtype == bool and not out.requires_grad
    np.testing.assert_array_equal(out.data, ref(a.data, b))


def test_comparison_operators():
    a = cr.Tensor(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal((a > 2).data, [False, False, True])
    np.testing.assert_array_equal((a <= 2).data, [True, True, False])
    np.testing.assert_array_equal((a == 2).data, [False, True, False])
    np.testing.assert_array_equal((a != 2).data, [True, False, True])


# ----------------------------------------------------------------------- errors
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "maximum"])
def test_broadcast_error_names_op_and_shapes(name):
    with pytest.raises(ValueError, match=rf"{name}: shapes \(2, 3\) and \(4,\)"):
        getattr(ew, name)(cr.zeros(2, 3), cr.ones(4))


def test_ndarray_on_the_left_gives_a_tensor():
    x = cr.Tensor(np.ones(3, np.float32), requires_grad=True)
    y = np.arange(3, dtype=np.float32) * x
    assert isinstance(y, cr.Tensor)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [0.0, 1.0, 2.0])


@pytest.mark.parametrize("name", ["exp", "log", "sqrt"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_unary_float_ops_of_integers_give_the_default_float_as_torch(torch, name, dtype):
    values = np.array([1, 2, 3]) if dtype != "bool" else np.array([True, False])
    with np.errstate(divide="ignore"):  # log(False) = -inf, as torch
        ours = getattr(cr, name)(cr.tensor(values.astype(dtype)))
    theirs = getattr(torch, name)(torch.tensor(values.astype(dtype)))
    assert ours.dtype == np.float32 and theirs.dtype == torch.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_clamp_of_integers_with_float_bounds_promotes_as_torch(torch):
    for low, high in [(0.5, 1.5), (0, 2), (None, 1.5)]:
        ours = cr.clamp(cr.tensor([0, 1, 2, 3]), low, high)
        theirs = torch.clamp(torch.tensor([0, 1, 2, 3]), low, high)
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    x = cr.tensor([-1.0, 0.5, 2.0], dtype=cr.float64, requires_grad=True)
    y = x.clamp(0, 1)
    assert y.dtype == np.float64
    (y * cr.tensor([1.0, 2.0, 3.0], dtype=cr.float64)).sum().backward()
    np.testing.assert_array_equal(np.asarray(x.grad), [0.0, 2.0, 0.0])


def test_integer_to_a_negative_integer_power_names_the_problem():
    with pytest.raises(ValueError, match="negative integer powers"):
        cr.tensor([2, 3]) ** -1
    np.testing.assert_allclose((cr.tensor([2.0, 4.0]) ** -1).numpy(), [0.5, 0.25])
