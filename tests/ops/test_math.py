"""Tests for chainrule/ops/math.py: forward and gradients against PyTorch in float64, finite differences,
and the SciPy-free error functions against Python's math.erf/erfc."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import math as cm

from torch64 import compare64


def _normal(rng, shape):
    return rng.standard_normal(shape) * 1.5


def _positive(rng, shape):
    return rng.uniform(0.3, 3.0, shape)


def _unit(rng, shape):
    return rng.uniform(-0.9, 0.9, shape)


def _above_one(rng, shape):
    return rng.uniform(1.2, 4.0, shape)


def _off_integers(rng, shape):
    """Values at least 0.1 from the integers and half-integers, where rounding ops jump."""
    x = rng.uniform(-4, 4, shape)
    return np.floor(x * 2) / 2 + 0.1 + 0.3 * rng.random(shape)


# name: (chainrule fn, torch fn (T is torch), input generator)
UNARY = {
    "floor": (cr.floor, lambda T, x: T.floor(x), _off_integers),
    "ceil": (cr.ceil, lambda T, x: T.ceil(x), _off_integers),
    "round": (cr.round, lambda T, x: T.round(x), _off_integers),
    "round_decimals": (lambda x: cr.round(x, decimals=1), lambda T, x: T.round(x, decimals=1), _off_integers),
    "trunc": (cr.trunc, lambda T, x: T.trunc(x), _off_integers),
    "frac": (cr.frac, lambda T, x: T.frac(x), _off_integers),
    "sign": (cr.sign, lambda T, x: T.sign(x), _off_integers),
    "reciprocal": (cr.reciprocal, lambda T, x: T.reciprocal(x), _positive),
    "rsqrt": (cr.rsqrt, lambda T, x: T.rsqrt(x), _positive),
    "square": (cr.square, lambda T, x: T.square(x), _normal),
    "log2": (cr.log2, lambda T, x: T.log2(x), _positive),
    "log10": (cr.log10, lambda T, x: T.log10(x), _positive),
    "log1p": (cr.log1p, lambda T, x: T.log1p(x), _positive),
    "expm1": (cr.expm1, lambda T, x: T.expm1(x), _normal),
    "exp2": (cr.exp2, lambda T, x: T.exp2(x), _normal),
    "sin": (cr.sin, lambda T, x: T.sin(x), _normal),
    "cos": (cr.cos, lambda T, x: T.cos(x), _normal),
    "tan": (cr.tan, lambda T, x: T.tan(x), _unit),
    "asin": (cr.asin, lambda T, x: T.asin(x), _unit),
    "acos": (cr.acos, lambda T, x: T.acos(x), _unit),
    "atan": (cr.atan, lambda T, x: T.atan(x), _normal),
    "sinh": (cr.sinh, lambda T, x: T.sinh(x), _normal),
    "cosh": (cr.cosh, lambda T, x: T.cosh(x), _normal),
    "asinh": (cr.asinh, lambda T, x: T.asinh(x), _normal),
    "acosh": (cr.acosh, lambda T, x: T.acosh(x), _above_one),
    "atanh": (cr.atanh, lambda T, x: T.atanh(x), _unit),
    "erf": (cr.erf, lambda T, x: T.erf(x), _normal),
    "erfc": (cr.erfc, lambda T, x: T.erfc(x), _normal),
    "erfinv": (cr.erfinv, lambda T, x: T.erfinv(x), _unit),
    "lgamma": (cr.lgamma, lambda T, x: T.lgamma(x), lambda r, s: _gamma_domain(r, s)),
    "digamma": (cr.digamma, lambda T, x: T.digamma(x), lambda r, s: _gamma_domain(r, s)),
    "method_sin": (lambda x: x.sin(), lambda T, x: x.sin(), _normal),
    "method_erf": (lambda x: x.erf(), lambda T, x: x.erf(), _normal),
}

# name: (chainrule fn, torch fn, generator for a, generator for b)
BINARY = {
    "atan2": (cr.atan2, lambda T, a, b: T.atan2(a, b), _normal, _normal),
    "remainder": (cr.remainder, lambda T, a, b: T.remainder(a, b), _off_integers, lambda r, s: _signed(r, s)),
    "mod_operator": (lambda a, b: a % b, lambda T, a, b: a % b, _off_integers, lambda r, s: _signed(r, s)),
    "fmod": (cr.fmod, lambda T, a, b: T.fmod(a, b), _off_integers, lambda r, s: _signed(r, s)),
    "fmax": (cr.fmax, lambda T, a, b: T.fmax(a, b), _normal, _normal),
    "fmin": (cr.fmin, lambda T, a, b: T.fmin(a, b), _normal, _normal),
}


def _gamma_domain(rng, shape):
    """Positive values, and negative ones at least 0.15 from the poles of Γ at 0, -1, -2, ..."""
    x = _off_integers(rng, shape)
    return np.where(x < 0, np.floor(x) + 0.15 + 0.7 * rng.random(shape), x + 0.2)


def _signed(rng, shape):
    """Divisors of either sign, 0.7 to 2 in size, so that a/b stays away from integers rarely matters."""
    return rng.uniform(0.7, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


SHAPES = [((2, 3), (2, 3)), ((3, 1), (4,)), ((2, 3), ())]


@pytest.mark.parametrize("name", UNARY)
def test_unary_matches_torch(name, rng, torch):
    fn, torch_fn, make = UNARY[name]
    compare64(torch, fn, lambda x: torch_fn(torch, x), make(rng, (3, 4)))


@pytest.mark.parametrize("name", UNARY)
def test_unary_gradcheck(name, rng):
    fn, _, make = UNARY[name]
    assert cr.gradcheck(fn, [make(rng, (2, 3))])


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("name", BINARY)
def test_binary_matches_torch(name, shapes, rng, torch):
    fn, torch_fn, make_a, make_b = BINARY[name]
    a, b = make_a(rng, shapes[0]), make_b(rng, shapes[1])
    compare64(torch, fn, lambda x, y: torch_fn(torch, x, y), a, b)
    assert cr.gradcheck(fn, [a, b])


def test_floor_divide_matches_python_with_zero_gradient(torch):
    a = np.array([5.5, -5.5, 7.0, -7.0])
    b = np.array([2.0, 2.0, -2.0, -3.0])
    x, y = cr.Tensor(a, requires_grad=True), cr.Tensor(b, requires_grad=True)
    out = x // y
    np.testing.assert_array_equal(out.data, (torch.tensor(a) // torch.tensor(b)).numpy())
    np.testing.assert_array_equal(cr.floor_divide(x, 2.0).data, [2.0, -3.0, 3.0, -4.0])
    np.testing.assert_array_equal((7.0 // y).data, [3.0, 3.0, -4.0, -3.0])
    out.backward(grad=np.arange(4.0))
    assert not np.asarray(x.grad).any() and not np.asarray(y.grad).any()


def test_rmod_and_integer_remainder(torch):
    y = cr.Tensor(np.array([2.0, -3.0, 4.5]))
    np.testing.assert_array_equal((7.0 % y).data, (7.0 % torch.tensor([2.0, -3.0, 4.5])).numpy())
    ints = cr.Tensor(np.array([-7, 7, 5]))
    np.testing.assert_array_equal((ints % 3).data, [2, 1, 2])
    assert (ints // 2).dtype == np.int64


@pytest.mark.parametrize("op", ["floor", "ceil", "round", "trunc", "sign"])
def test_rounding_keeps_integer_dtype(op, torch):
    values = np.array([-3, 0, 4])
    out = getattr(cr, op)(cr.Tensor(values))
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.data, getattr(torch, op)(torch.tensor(values)).numpy())


def test_round_is_half_to_even_like_torch(torch):
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5])
    np.testing.assert_array_equal(cr.round(cr.Tensor(x)).data, torch.round(torch.tensor(x)).numpy())


@pytest.mark.parametrize("name", ["sin", "erf", "log1p", "erfinv", "floor", "atan2"])
def test_float32_stays_float32(name):
    x = cr.Tensor(np.linspace(0.1, 0.9, 5, dtype=np.float32), requires_grad=True)
    y = cr.atan2(x, 0.5) if name == "atan2" else getattr(cr, name)(x)
    assert y.dtype == np.float32
    y.backward(grad=np.ones(5, np.float32))
    assert np.asarray(x.grad).dtype == np.float32


def test_integer_input_promotes_to_float32():
    assert cr.sin(cr.Tensor(np.array([1, 2]))).dtype == np.float32


def test_atan2_gradient_at_origin_is_zero_like_torch(torch):
    compare64(torch, cr.atan2, torch.atan2, np.array([0.0, 1.0]), np.array([0.0, -1.0]))


def test_fmax_ties_and_nan_like_torch(torch):
    a, b = np.array([1.0, np.nan, 2.0]), np.array([1.0, 3.0, np.nan])
    compare64(torch, cr.fmax, torch.fmax, a, b)
    compare64(torch, cr.fmin, torch.fmin, a, b)


# ---------------------------------------------------------------- error functions, tails included
WIDE = np.concatenate([-np.geomspace(1e-300, 27, 60), [0.0], np.geomspace(1e-300, 27, 60)])


@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_erf_over_a_wide_range_matches_torch(name, torch):
    x = WIDE[np.abs(WIDE) < 26]  # erfc(26) is 5e-296; beyond, float64 results become subnormal
    compare64(torch, getattr(cr, name), getattr(torch, name), x, rtol=1e-12, atol=0)


def test_erfinv_near_the_ends_matches_torch(torch):
    p = np.concatenate([[-1 + 1e-12, -0.999999, -0.5, 0.0, 1e-10, 0.3, 0.99, 0.9999999], [1 - 1e-12]])
    compare64(torch, cr.erfinv, torch.erfinv, p, rtol=1e-7, atol=0)
    edges = cr.erfinv(cr.Tensor(np.array([-1.0, 1.0, 1.5])))
    np.testing.assert_array_equal(edges.data, torch.erfinv(torch.tensor([-1.0, 1.0, 1.5], dtype=torch.float64)))


@pytest.mark.parametrize("name, ref, rtol", [("_erf_numpy", math.erf, 3e-15), ("_erfc_numpy", math.erfc, 1e-14)])
def test_numpy_fallback_erf_is_accurate(name, ref, rtol):
    x = np.concatenate([WIDE[np.abs(WIDE) < 26], np.linspace(-6, 6, 1201)])
    expected = np.array([ref(v) for v in x])
    np.testing.assert_allclose(getattr(cm, name)(x), expected, rtol=rtol, atol=0)


def test_numpy_fallback_erfinv_inverts_erf():
    p = np.concatenate([np.linspace(-0.999, 0.999, 401), [1e-300, 1e-8, 1 - 1e-15, -(1 - 1e-12)]])
    y = cm._erfinv_numpy(p)
    np.testing.assert_allclose([math.erf(v) for v in y], p, rtol=2e-15, atol=0)
    p = 1 - np.array([1e-3, 1e-9, 1e-15])  # near 1, check through erfc, where the information is
    np.testing.assert_allclose([math.erfc(v) for v in cm._erfinv_numpy(p)], 1 - p, rtol=1e-12)
    np.testing.assert_array_equal(cm._erfinv_numpy(np.array([1.0, -1.0, 2.0])), [np.inf, -np.inf, np.nan])


@pytest.mark.parametrize(
    "name, ref", [("_digamma_numpy", "psi"), ("_trigamma_numpy", "polygamma"), ("_lgamma_numpy", "gammaln")]
)
def test_numpy_fallback_gamma_functions_match_scipy(name, ref):
    special = pytest.importorskip("scipy.special")
    x = np.concatenate([np.linspace(-5.75, -0.15, 57), np.geomspace(1e-8, 1e3, 120)])
    expected = special.polygamma(1, x) if ref == "polygamma" else getattr(special, ref)(x)
    np.testing.assert_allclose(getattr(cm, name)(x), expected, rtol=1e-12, atol=0)
    poles = getattr(cm, name)(np.array([0.0, -2.0]))
    assert np.isinf(poles[0]) and (np.isnan(poles[1]) if name == "_digamma_numpy" else np.isinf(poles[1]))


def test_numpy_fallback_is_used_without_scipy(monkeypatch, torch):
    monkeypatch.setattr(cm, "_scipy_special", lambda: None)
    x = np.linspace(-3, 3, 13)
    compare64(torch, cr.erf, torch.erf, x, rtol=1e-13, atol=0)
    compare64(torch, cr.erfinv, torch.erfinv, np.linspace(-0.95, 0.95, 9), rtol=1e-9, atol=0)
    compare64(torch, cr.digamma, torch.digamma, np.array([-2.5, 0.3, 1.0, 7.5]), rtol=1e-9, atol=0)
    compare64(torch, cr.lgamma, torch.lgamma, np.array([-2.5, 0.3, 1.5, 7.5]), rtol=1e-9, atol=0)


# ---------------------------------------------------------------- clamp with tensor bounds (elementwise.clip)
def test_clamp_tensor_bounds_match_torch_including_ties(torch):
    x = np.array([0.0, 1.0, 2.0, 3.0, 5.0, 0.0, 2.0, 0.0, 2.0, 5.0])
    low = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 3.0, 3.0, 3.0])  # the last three: min > max
    high = np.array([3.0, 3.0, 3.0, 3.0, 3.0, 1.0, 1.0, 1.0, 1.0, 1.0])  # 5, 6: min == max
    compare64(torch, cr.clamp, torch.clamp, x, low, high)


@pytest.mark.parametrize("bounds", ["min", "max", "both"])
def test_clamp_broadcast_bounds_match_torch(bounds, rng, torch):
    x = rng.standard_normal((3, 4))
    low, high = rng.standard_normal((4,)) - 0.5, rng.standard_normal((3, 1)) + 0.5
    if bounds == "min":
        compare64(torch, lambda a, lo: a.clamp(min=lo), lambda a, lo: a.clamp(min=lo), x, low)
    elif bounds == "max":
        compare64(torch, lambda a, hi: a.clamp(max=hi), lambda a, hi: a.clamp(max=hi), x, high)
    else:
        compare64(torch, cr.clip, torch.clip, x, low, high)
    assert cr.gradcheck(lambda a, lo, hi: cr.clamp(a, lo, hi), [x, low, high])


def test_clamp_needs_a_bound():
    with pytest.raises(ValueError, match="at least one of min and max"):
        cr.clamp(cr.ones(2))


def test_clamp_in_place():
    x = cr.Tensor(np.array([-2.0, 0.5, 2.0]))
    view = x.data
    assert x.clamp_(-1, 1) is x
    np.testing.assert_array_equal(view, [-1.0, 0.5, 1.0])  # written into the tensor's own array

    leaf = cr.Tensor(np.array([-2.0, 0.5, 2.0]), requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        leaf.clamp_(-1, 1)
    y = leaf * 2.0
    y.clamp_(-1, 1)  # a graph node: becomes the clamp's node
    y.backward(grad=np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(leaf.grad, [0.0, 4.0, 0.0])
    with cr.no_grad():
        leaf.clamp_(0, 1)
    np.testing.assert_array_equal(leaf.data, [0.0, 0.5, 1.0])


@pytest.mark.parametrize(
    "fn, torch_fn",
    [
        (cr.erf, lambda x: x.erf()),
        (cr.digamma, lambda x: x.digamma()),
        (lambda x: cr.atan2(x, 0.5), lambda x: x.atan2(x.new_tensor(0.5))),
        (lambda x: x % 0.7, lambda x: x % 0.7),
        (lambda x: cr.clamp(x, x * 0.0 - 0.5, 0.5), lambda x: x.clamp(x * 0.0 - 0.5, x * 0.0 + 0.5)),
    ],
)
def test_float32_gradients_stay_float32(fn, torch_fn, compare_torch):
    compare_torch(fn, torch_fn, np.linspace(0.15, 1.85, 6))
