"""Element-wise math beyond arithmetic: rounding, remainders, logs and exponentials, trigonometric,
hyperbolic, error and gamma functions, as in ``torch``.

Each op is one line pairing its forward function with its local derivative ``d out/d x`` (given
the input ``x`` and the output ``y``); the chain rule multiplies the upstream gradient by it.
Integer inputs of a transcendental function are computed in the default float dtype, as PyTorch
promotes them.

``erf``, ``erfc``, ``erfinv``, ``lgamma`` and ``digamma`` use SciPy when it is installed, else the
NumPy versions below (relative error about 1e-15 for erf, 1e-14 for erfc, 1e-13 for digamma and trigamma,
checked against ``math.erf``/``math.erfc`` and SciPy in the tests; the fallback ``lgamma`` calls
``math.lgamma`` element by element, which is slow on large arrays).
"""

import math as _math

from .. import backend
from ..backend import xp
from ..tensor import as_tensor, constant, piecewise_constant, result
from .broadcast import unbroadcast
from .elementwise import _broadcast_error, _pair, exp, sqrt, where

__all__ = [
    "floor", "ceil", "round", "trunc", "sign", "frac",
    "reciprocal", "rsqrt", "square", "log2", "log10", "log1p", "expm1", "exp2",
    "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh",
    "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh",
    "erf", "erfc", "erfinv", "lgamma", "digamma",
    "atan2", "arctan2", "floor_divide", "remainder", "fmod", "fmax", "fmin",
]


def _floating(data):
    """``data`` as a floating array (integers and booleans become the default float dtype)."""
    return data if data.dtype.kind in "fc" else data.astype(backend.DEFAULT_DTYPE)


def _unary(name, forward, derivative, doc, promote=True, differentiable=None):
    """An element-wise op ``y = forward(x)`` whose gradient is ``g · derivative(x, y)``.

    ``derivative=None`` marks a piecewise-constant op (floor, sign, ...): its gradient is 0,
    as in PyTorch. ``differentiable(t)``, where given, is the same derivative written with Tensor ops
    (of the input Tensor ``t``), which ``create_graph=True`` differentiates again.
    """

    def op(a):
        a = as_tensor(a)
        x = _floating(a.data) if promote else a.data
        out = forward(x)

        def backward(g):
            if derivative is None:
                return (xp.zeros_like(g),)
            return (g * derivative(x, out),)

        def double(g):
            if derivative is None:  # 0 almost everywhere
                return (g * piecewise_constant(a, xp.zeros(x.shape, dtype=g.dtype)),)
            return (g * differentiable(a),)

        return result(out, (a,), backward, name, double if differentiable or derivative is None else None)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


_LN2 = _math.log(2.0)
_LN10 = _math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / _math.sqrt(_math.pi)

# ------------------------------------------------------------------ rounding (derivative 0 almost everywhere)
def _integral(rounding):
    """``rounding`` for floats; integer tensors are already whole and keep their dtype (as in PyTorch)."""
    return lambda x: rounding(x) if x.dtype.kind in "fc" else x.copy()


floor = _unary("floor", _integral(xp.floor), None, "Largest integer ``<= x``; its gradient is 0.", promote=False)
ceil = _unary("ceil", _integral(xp.ceil), None, "Smallest integer ``>= x``; its gradient is 0.", promote=False)
trunc = _unary("trunc", _integral(xp.trunc), None, "``x`` rounded towards 0; its gradient is 0.", promote=False)
sign = _unary("sign", xp.sign, None, "-1, 0 or 1 by the sign of ``x``; its gradient is 0.", promote=False)
# d frac(x)/dx = d(x - trunc x)/dx = 1
frac = _unary("frac", lambda x: x - xp.trunc(x), lambda x, y: 1, "Fractional part ``x - trunc(x)``.",
              differentiable=lambda t: 1)


def round(a, decimals=0):
    """Round half to even (as ``torch.round``), to ``decimals`` places; its gradient is 0."""
    return _unary("round", _integral(lambda x: xp.round(x, decimals)), None, round.__doc__, promote=False)(a)


# ------------------------------------------------------------------ powers, logs, exponentials
# d(1/x)/dx = -1/x² = -y²
reciprocal = _unary("reciprocal", lambda x: 1 / x, lambda x, y: -y * y, "``1 / x``.",
                    differentiable=lambda t: -1 / (t * t))
# d x^(-1/2)/dx = -x^(-3/2)/2 = -y³/2
rsqrt = _unary("rsqrt", lambda x: 1 / xp.sqrt(x), lambda x, y: -0.5 * y * y * y, "``1 / sqrt(x)``.",
               differentiable=lambda t: -0.5 * rsqrt(t) / t)
# d x²/dx = 2x
square = _unary("square", xp.square, lambda x, y: 2 * x, "``x * x``.", promote=False, differentiable=lambda t: 2 * t)
# d log2(x)/dx = 1/(x ln 2)
log2 = _unary("log2", xp.log2, lambda x, y: 1 / (x * _LN2), "Base-2 logarithm.",
              differentiable=lambda t: 1 / (t * _LN2))
# d log10(x)/dx = 1/(x ln 10)
log10 = _unary("log10", xp.log10, lambda x, y: 1 / (x * _LN10), "Base-10 logarithm.",
               differentiable=lambda t: 1 / (t * _LN10))
# d ln(1+x)/dx = 1/(1+x)
log1p = _unary("log1p", xp.log1p, lambda x, y: 1 / (1 + x), "``log(1 + x)``, accurate for small ``x``.",
               differentiable=lambda t: 1 / (1 + t))
# d(e^x - 1)/dx = e^x = y + 1
expm1 = _unary("expm1", xp.expm1, lambda x, y: y + 1, "``exp(x) - 1``, accurate for small ``x``.", differentiable=exp)
# d 2^x/dx = 2^x ln 2
exp2 = _unary("exp2", xp.exp2, lambda x, y: y * _LN2, "``2 ** x``.", differentiable=lambda t: exp2(t) * _LN2)

# ------------------------------------------------------------------ trigonometric and hyperbolic
# d sin x/dx = cos x
sin = _unary("sin", xp.sin, lambda x, y: xp.cos(x), "Sine.", differentiable=lambda t: cos(t))
# d cos x/dx = -sin x
cos = _unary("cos", xp.cos, lambda x, y: -xp.sin(x), "Cosine.", differentiable=lambda t: -sin(t))
# d tan x/dx = 1 + tan² x
tan = _unary("tan", xp.tan, lambda x, y: 1 + y * y, "Tangent.", differentiable=lambda t: 1 + tan(t) * tan(t))
# d asin x/dx = 1/√(1-x²)
asin = _unary("asin", xp.arcsin, lambda x, y: 1 / xp.sqrt(1 - x * x), "Inverse sine.",
              differentiable=lambda t: 1 / sqrt(1 - t * t))
# d acos x/dx = -1/√(1-x²)
acos = _unary("acos", xp.arccos, lambda x, y: -1 / xp.sqrt(1 - x * x), "Inverse cosine.",
              differentiable=lambda t: -1 / sqrt(1 - t * t))
# d atan x/dx = 1/(1+x²)
atan = _unary("atan", xp.arctan, lambda x, y: 1 / (1 + x * x), "Inverse tangent.",
              differentiable=lambda t: 1 / (1 + t * t))
# d sinh x/dx = cosh x
sinh = _unary("sinh", xp.sinh, lambda x, y: xp.cosh(x), "Hyperbolic sine.", differentiable=lambda t: cosh(t))
# d cosh x/dx = sinh x
cosh = _unary("cosh", xp.cosh, lambda x, y: xp.sinh(x), "Hyperbolic cosine.", differentiable=sinh)
# d asinh x/dx = 1/√(x²+1)
asinh = _unary("asinh", xp.arcsinh, lambda x, y: 1 / xp.sqrt(x * x + 1), "Inverse hyperbolic sine.",
               differentiable=lambda t: 1 / sqrt(t * t + 1))
# d acosh x/dx = 1/√(x²-1)  (as √(x-1)·√(x+1), which does not overflow for large x)
acosh = _unary("acosh", xp.arccosh, lambda x, y: 1 / (xp.sqrt(x - 1) * xp.sqrt(x + 1)), "Inverse hyperbolic cosine.",
               differentiable=lambda t: 1 / (sqrt(t - 1) * sqrt(t + 1)))
# d atanh x/dx = 1/(1-x²)
atanh = _unary("atanh", xp.arctanh, lambda x, y: 1 / (1 - x * x), "Inverse hyperbolic tangent.",
               differentiable=lambda t: 1 / (1 - t * t))
arcsin, arccos, arctan = asin, acos, atan
arcsinh, arccosh, arctanh = asinh, acosh, atanh


# ------------------------------------------------------------------ error functions
def _scipy_special():
    try:
        from scipy import special
    except ImportError:
        return None
    return special


def _exp_minus_square(x):
    """``exp(-x²)`` without the rounding error of ``x*x`` at large ``x``: x = h + (x-h) with h² exact."""
    h = xp.floor(x * 16) / 16
    return xp.exp(-h * h) * xp.exp(-(x - h) * (x + h))


def _erf_series(x):
    """erf for 0 <= x < 2: (2/√π)·e^(-x²)·Σₙ (2x²)ⁿ·x / (1·3·…·(2n+1)).

    All terms are positive, so nothing cancels (unlike the Taylor series of erf)."""
    term = x.copy()
    total = x.copy()
    two_x2 = 2 * x * x
    for n in range(1, 45):  # at x = 2 the 45th term is below 1e-17 of the sum
        term *= two_x2 / (2 * n + 1)
        total += term
    return _TWO_OVER_SQRT_PI * _exp_minus_square(x) * total


def _erfc_fraction(x):
    """erfc for x >= 1.5 by the continued fraction e^(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))."""
    t = x.copy()
    for k in range(90, 0, -1):  # 90 levels: below 2e-15 relative error from x = 1.5 on
        t = x + (k / 2) / t
    return _exp_minus_square(x) / (_math.sqrt(_math.pi) * t)


def _as_float_array(x):
    """``x`` as an array in its own float dtype (float32 stays float32); other input as float64."""
    x = xp.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(xp.float64)


def _erf_numpy(x):
    """erf of a float array without SciPy (relative error about 1e-15 in float64)."""
    x = _as_float_array(x)
    ax = xp.abs(x)
    near = ax < 2
    out = xp.empty_like(ax)
    out[near] = _erf_series(ax[near])
    out[~near] = 1 - _erfc_fraction(ax[~near])
    return xp.copysign(out, x)


def _erfc_numpy(x):
    """erfc of a float array without SciPy (relative error below 1e-14 in float64, also in the far right tail)."""
    x = _as_float_array(x)
    ax = xp.abs(x)
    far = ax >= 1.5
    upper = xp.empty_like(ax)  # erfc(|x|)
    upper[far] = _erfc_fraction(ax[far])
    upper[~far] = 1 - _erf_series(ax[~far])
    return xp.where(x < 0, 2 - upper, upper)  # erfc(-x) = 2 - erfc(x)


def _erfinv_numpy(p):
    """erfinv of a float array without SciPy: Winitzki's closed-form estimate (error ~2e-3),
    then three Halley steps on erf(y) = p, which triple the correct digits each time."""
    p = _as_float_array(p)
    ap = xp.abs(p)
    with xp.errstate(divide="ignore", invalid="ignore"):
        a = 0.147
        ln = xp.log1p(-ap * ap)
        first = 2 / (_math.pi * a) + ln / 2
        y = xp.sqrt(xp.sqrt(first * first - ln / a) - first)
        tail = 1 - ap  # exact near 1: solve erfc(y) = 1 - p there, where erf(y) - p would cancel
        for _ in range(3):
            residual = xp.where(y > 1, tail - _erfc_numpy(y), _erf_numpy(y) - ap)
            slope = _TWO_OVER_SQRT_PI * _exp_minus_square(y)
            # Halley: f'' = -2y·f', so y -= f / (f' - f·f''/(2f')) = f / (f'·(1 + y·f/f'))
            step = residual / slope
            y = xp.where(xp.isfinite(step), y - step / (1 + y * step), y)
    y = xp.where(ap == 1, xp.inf, xp.where(ap > 1, xp.nan, y))
    return xp.copysign(y, p)


def _special_function(name, numpy_fallback):
    """SciPy's ``name`` when SciPy is installed, else our NumPy version (in the input's float dtype)."""

    def evaluate(x):
        special = _scipy_special() if xp.__name__ == "numpy" else None
        if special is not None:
            return getattr(special, name)(x)
        return numpy_fallback(x)

    return evaluate


# d erf x/dx = (2/√π)·e^(-x²)
erf = _unary(
    "erf", _special_function("erf", _erf_numpy), lambda x, y: _TWO_OVER_SQRT_PI * _exp_minus_square(x),
    "Gauss error function ``(2/√π)∫₀ˣ e^(-t²) dt``.", differentiable=lambda t: _TWO_OVER_SQRT_PI * exp(-t * t),
)
# d erfc x/dx = -(2/√π)·e^(-x²)
erfc = _unary(
    "erfc", _special_function("erfc", _erfc_numpy), lambda x, y: -_TWO_OVER_SQRT_PI * _exp_minus_square(x),
    "Complementary error function ``1 - erf(x)``, accurate where erf(x) is close to 1.",
    differentiable=lambda t: -_TWO_OVER_SQRT_PI * exp(-t * t),
)
# d erfinv p/dp = 1 / erf'(y) = (√π/2)·e^(y²)
erfinv = _unary(
    "erfinv", _special_function("erfinv", _erfinv_numpy), lambda x, y: 1 / (_TWO_OVER_SQRT_PI * xp.exp(-y * y)),
    "Inverse error function on (-1, 1) (±inf at ±1, NaN outside).",
    differentiable=lambda t: (0.5 * _math.sqrt(_math.pi)) * exp(erfinv(t) * erfinv(t)),
)


# ------------------------------------------------------------------ gamma function
def _lgamma_numpy(x):
    """log|Γ(x)| without SciPy, element by element with ``math.lgamma`` (inf at the poles 0, -1, -2, ...)."""

    def one(v):
        try:
            return _math.lgamma(v)
        except ValueError:  # a pole
            return _math.inf

    return xp.asarray(xp.frompyfunc(one, 1, 1)(x), dtype=_as_float_array(x).dtype)


# asymptotic series in w = 1/x²: ψ(x) ~ ln x - 1/(2x) - Σₖ B₂ₖ/(2k)·wᵏ and ψ'(x) ~ 1/x + w/2 + (1/x)·Σₖ B₂ₖ·wᵏ,
# with the Bernoulli numbers B₂ … B₁₄ (k = 1 … 7; at x >= 10 the next term is below 1e-16 of the sum)
_DIGAMMA_SERIES = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12)
_TRIGAMMA_SERIES = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6)


def _power_series(w, coefficients):
    """Σₖ cₖ·wᵏ for k = 1, 2, … by Horner's rule."""
    total = 0
    for c in reversed(coefficients):
        total = (total + c) * w
    return total


def _shifted(x, shift_terms, asymptotic):
    """Evaluate ψ or ψ' for x > 0: recur up by ``shift_terms(x)`` until x >= 10, then the asymptotic series."""
    total = xp.zeros_like(x)
    for _ in range(10):
        low = x < 10
        total = total + xp.where(low, shift_terms(x), 0)
        x = xp.where(low, x + 1, x)
    return total + asymptotic(x)


def _digamma_numpy(x):
    """ψ(x) = d ln Γ(x)/dx without SciPy: ψ(x) = ψ(x+1) - 1/x up to x >= 10, then the asymptotic series;
    the reflection ψ(x) = ψ(1-x) - π/tan(πx) for x < 0.5."""
    x = _as_float_array(x)
    with xp.errstate(divide="ignore", invalid="ignore"):
        reflect = x < 0.5
        z = xp.where(reflect, 1 - x, x)

        def asymptotic(z):
            return xp.log(z) - 0.5 / z - _power_series(1 / (z * z), _DIGAMMA_SERIES)

        out = _shifted(z, lambda z: -1 / z, asymptotic)
        out = xp.where(reflect, out - _math.pi / xp.tan(_math.pi * x), out)
        out = xp.where(x == 0, -xp.inf, xp.where((x < 0) & (x == xp.floor(x)), xp.nan, out))
    return out


def _trigamma_numpy(x):
    """ψ'(x) without SciPy: ψ'(x) = ψ'(x+1) + 1/x² up to x >= 10, then the asymptotic series;
    the reflection ψ'(x) = π²/sin²(πx) - ψ'(1-x) for x < 0.5."""
    x = _as_float_array(x)
    with xp.errstate(divide="ignore", invalid="ignore"):
        reflect = x < 0.5
        z = xp.where(reflect, 1 - x, x)

        def asymptotic(z):
            w = 1 / (z * z)
            return 1 / z + 0.5 * w + _power_series(w, _TRIGAMMA_SERIES) / z

        out = _shifted(z, lambda z: 1 / (z * z), asymptotic)
        out = xp.where(reflect, (_math.pi / xp.sin(_math.pi * x)) ** 2 - out, out)
        out = xp.where((x <= 0) & (x == xp.floor(x)), xp.inf, out)  # the poles
    return out


def _trigamma(x):
    special = _scipy_special() if xp.__name__ == "numpy" else None
    return special.polygamma(1, x).astype(x.dtype, copy=False) if special is not None else _trigamma_numpy(x)


def _polygamma_array(n, x):
    """ψ⁽ⁿ⁾(x), the n-th derivative of the digamma function, of an array (n >= 1; n >= 2 needs SciPy)."""
    if n == 1:
        return _trigamma(x)
    special = _scipy_special() if xp.__name__ == "numpy" else None
    if special is None:
        raise RuntimeError(f"the derivative of order {n} of digamma needs SciPy's polygamma (pip install scipy)")
    return special.polygamma(n, x).astype(x.dtype, copy=False)


def _polygamma(n, a):
    """ψ⁽ⁿ⁾ as a Tensor op (n >= 1): the derivatives of ``digamma``, each differentiable by the next."""
    out = _polygamma_array(n, a.data)

    # d ψ⁽ⁿ⁾(x)/dx = ψ⁽ⁿ⁺¹⁾(x)
    def backward(g):
        return (g * _polygamma_array(n + 1, a.data),)

    def double(g):
        return (g * _polygamma(n + 1, a),)

    return result(out, (a,), backward, "polygamma", double)


# d ln|Γ(x)|/dx = ψ(x)
lgamma = _unary(
    "lgamma", _special_function("gammaln", _lgamma_numpy), lambda x, y: _special_function("psi", _digamma_numpy)(x),
    "``log|Γ(x)|``, the log of the absolute value of the gamma function.", differentiable=lambda t: digamma(t),
)
# d ψ(x)/dx = ψ'(x), the trigamma function
digamma = _unary(
    "digamma", _special_function("psi", _digamma_numpy), lambda x, y: _trigamma(x),
    "The digamma function ``ψ(x) = d log Γ(x)/dx`` (-inf at 0, NaN at the negative integers, as PyTorch).",
    differentiable=lambda t: _polygamma(1, t),
)


# ------------------------------------------------------------------ binary ops
def _binary(name, forward, derivatives, doc, differentiable=None):
    """An element-wise op ``y = forward(a, b)`` with broadcasting; ``derivatives(a, b, y)`` gives
    ``(dy/da, dy/db)``, or is None for a piecewise-constant op (gradient 0). ``differentiable(a, b)``
    gives them as Tensors (of the input Tensors) for ``create_graph=True``."""

    def op(a, b):
        a, b = _pair(a, b, name)
        try:
            out = forward(a.data, b.data)
        except ValueError:
            raise _broadcast_error(name, a, b) from None

        def backward(g):
            if derivatives is None:
                return xp.zeros(a.shape, g.dtype), xp.zeros(b.shape, g.dtype)
            da, db = derivatives(a.data, b.data, out)
            return (
                unbroadcast(g * da, a.shape) if a.requires_grad else None,
                unbroadcast(g * db, b.shape) if b.requires_grad else None,
            )

        def double(g):
            if derivatives is None:  # 0 almost everywhere
                zero = piecewise_constant(a, xp.zeros(out.shape, dtype=g.dtype))
                return unbroadcast(g * zero, a.shape), unbroadcast(g * zero, b.shape)
            da, db = differentiable(a, b)
            return (
                unbroadcast(g * da, a.shape) if a.requires_grad else None,
                unbroadcast(g * db, b.shape) if b.requires_grad else None,
            )

        return result(out, (a, b), backward, name, double if differentiable or derivatives is None else None)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _atan2_derivatives(a, b, out):
    # d atan2(a,b)/da = b/(a²+b²), d/db = -a/(a²+b²)  (0 at a = b = 0, as PyTorch)
    r2 = a * a + b * b
    safe = xp.where(r2 == 0, 1, r2)
    return xp.where(r2 == 0, 0, b / safe), xp.where(r2 == 0, 0, -a / safe)


def _atan2_differentiable(a, b):
    # the derivatives above on Tensors (the point a = b = 0 is given 0 as there)
    r2 = a * a + b * b
    origin = r2.data == 0
    safe = where(origin, 1, r2)
    return where(origin, 0, b / safe), where(origin, 0, -a / safe)


def _fextreme_differentiable(extreme):
    return lambda a, b: _fextreme_masks(a, b, extreme)


def _fextreme_masks(a, b, extreme):
    # the masks are piecewise constant
    a_wins = _fextreme_derivatives(a.data, b.data, extreme(a.data, b.data))[0]
    return piecewise_constant(a, a_wins.astype(a.dtype)), piecewise_constant(b, (~a_wins).astype(b.dtype))


def _fextreme_derivatives(a, b, out):
    # d fmax(a,b)/da = 1 where the result is a (ties and a NaN b included), else d/db = 1
    a_wins = (out == a) | xp.isnan(b)
    return a_wins, ~a_wins


atan2 = _binary(
    "atan2", xp.arctan2, _atan2_derivatives, "Angle of the point ``(b, a)``: ``atan(a / b)`` in the right quadrant.",
    differentiable=_atan2_differentiable,
)
arctan2 = atan2
floor_divide = _binary(
    "floor_divide", xp.floor_divide, None,
    "``a // b``: ``floor(a / b)`` with Python's rounding; its gradient is 0 "
    "(PyTorch raises 'derivative not implemented' instead).",
)
# remainder(a, b) = a - floor(a/b)·b:  d/da = 1, d/db = -floor(a/b)
remainder = _binary(
    "remainder", xp.remainder, lambda a, b, y: (1, -xp.floor_divide(a, b)),
    "``a % b`` with the sign of ``b`` (Python's and ``torch.remainder``'s convention).",
    differentiable=lambda a, b: (1, constant(-xp.floor_divide(a.data, b.data))),
)
# fmod(a, b) = a - trunc(a/b)·b:  d/da = 1, d/db = -trunc(a/b)
fmod = _binary(
    "fmod", xp.fmod, lambda a, b, y: (1, -xp.trunc(a / b)),
    "C's remainder ``a - trunc(a / b)·b``, with the sign of ``a``.",
    differentiable=lambda a, b: (1, constant(-xp.trunc(a.data / b.data))),
)
fmax = _binary("fmax", xp.fmax, _fextreme_derivatives, "Element-wise maximum ignoring NaN (ties: gradient to ``a``).",
               differentiable=_fextreme_differentiable(xp.fmax))
fmin = _binary("fmin", xp.fmin, _fextreme_derivatives, "Element-wise minimum ignoring NaN (ties: gradient to ``a``).",
               differentiable=_fextreme_differentiable(xp.fmin))
