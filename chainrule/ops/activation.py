"""Activation functions, each one fused op with its backward written out.

Every function takes a tensor and returns one of the same shape (``softmax`` and
``log_softmax`` work along ``axis``). They are written to be numerically stable:
no ``exp`` of a large positive number is ever taken, so inputs of ±1000 give finite
values and gradients without overflow warnings.

The exact GELU needs the error function, which NumPy lacks; ``erf`` and ``erfc``
below are vectorised implementations accurate to a few units in the 15th digit in
float64 (see ``_erfc_coefficients`` for how they are built).
"""

import math

from ..backend import xp
from ..tensor import as_tensor, result
from ..tensor import piecewise_constant as _piecewise

__all__ = ["relu", "leaky_relu", "elu", "gelu", "sigmoid", "tanh", "softplus", "softmax", "log_softmax"]


def _floating(x, op):
    """``x`` as a tensor, which must hold floating values."""
    x = as_tensor(x)
    if x.data.dtype.kind != "f":
        raise TypeError(
            f"{op}: expected a floating tensor, got dtype {x.data.dtype}; convert it first, e.g. x.astype('float32')"
        )
    return x


def _axis(axis, ndim, op):
    """``axis`` as a non-negative int, checked against ``ndim``."""
    if not isinstance(axis, int) or isinstance(axis, bool):
        raise TypeError(f"{op}: axis must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op}: axis {axis} is out of range for a tensor with {ndim} axes")
    return axis % ndim


# ----------------------------------------------------------------- piecewise-linear
def relu(x):
    """``max(x, 0)``. Its gradient at exactly 0 is 0 (PyTorch's choice)."""
    x = as_tensor(x)
    # against an array of zeros rather than the scalar 0: NumPy (2.x) takes its SIMD loop only
    # for two arrays, which makes this 2-3x faster on large inputs (see benchmarks/ops.py). The
    # zeros take x's memory layout, so the result keeps it too: a channels-first conv2d output
    # stays channels-first for the pooling after it, and this op's backward then multiplies arrays
    # of one layout (with mixed layouts both passes ran about 2x slower). zeros_like fills an
    # empty array, slower than zeros' calloc (10 against 7.5 us at 128x256): only where needed
    zeros = xp.zeros(x.shape, x.dtype) if x.data.flags.c_contiguous else xp.zeros_like(x.data)
    out = xp.maximum(x.data, zeros)

    # d relu(x)/dx = 1 where x > 0, else 0 (a float mask multiplies faster than a boolean one)
    def backward(g):
        return (g * (x.data > 0).astype(g.dtype),)

    def double(g):  # the mask is piecewise constant: no gradient of its own
        return (g * _piecewise(x, (x.data > 0).astype(g.dtype)),)

    return result(out, (x,), backward, "relu", double)


def leaky_relu(x, negative_slope=0.01):
    """``x`` where ``x > 0``, else ``negative_slope * x``. The gradient at 0 is ``negative_slope`` (as PyTorch)."""
    x = _floating(x, "leaky_relu")
    negative_slope = float(negative_slope)  # a NumPy float64 scalar would promote float32 arrays
    positive = x.data > 0
    out = xp.where(positive, x.data, x.data * negative_slope)

    # d/dx = 1 where x > 0, else negative_slope
    def backward(g):
        return (xp.where(positive, g, g * negative_slope),)

    def double(g):  # the slope mask is piecewise constant
        return (g * _piecewise(x, xp.where(positive, 1.0, negative_slope).astype(g.dtype)),)

    return result(out, (x,), backward, "leaky_relu", double)


def elu(x, alpha=1.0):
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    x = _floating(x, "elu")
    alpha = float(alpha)
    positive = x.data > 0
    # expm1 only of the non-positive part: exp of a large positive x is never taken
    negative_part = alpha * xp.expm1(xp.minimum(x.data, 0))
    out = xp.where(positive, x.data, negative_part)

    # d/dx = 1 where x > 0, else alpha·exp(x) = (alpha·(exp(x) - 1)) + alpha
    def backward(g):
        return (xp.where(positive, g, g * (negative_part + alpha)),)

    return result(out, (x,), backward, "elu")


# ---------------------------------------------------------------- smooth squashing
def sigmoid(x):
    """The logistic function ``1 / (1 + exp(-x))``, stable for any ``x``."""
    x = _floating(x, "sigmoid")
    out, complement = _sigmoid_pair(x.data)

    # dσ/dx = σ(x)·(1 - σ(x)); 1 - σ(x) = σ(-x) is kept exact, so the tails do not round to 0 early
    def backward(g):
        return (g * out * complement,)

    def double(g):  # σ recomputed as a graph node, so its own derivative is followed
        s = sigmoid(x)
        return (g * s * (1 - s),)

    return result(out, (x,), backward, "sigmoid", double)


def _sigmoid_pair(x):
    """``(σ(x), σ(-x))`` without overflow: only ``exp(-|x|) <= 1`` is computed."""
    e = xp.exp(-xp.abs(x))
    inv = 1 / (1 + e)
    small = e * inv  # σ(-|x|)
    nonneg = x >= 0
    return xp.where(nonneg, inv, small), xp.where(nonneg, small, inv)


def tanh(x):
    """Hyperbolic tangent."""
    x = _floating(x, "tanh")
    out = xp.tanh(x.data)

    # d tanh(x)/dx = 1 - tanh(x)²
    def backward(g):
        return (g * (1 - out * out),)

    def double(g):
        t = tanh(x)
        return (g * (1 - t * t),)

    return result(out, (x,), backward, "tanh", double)


def softplus(x, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta·x)) / beta``, and ``x`` itself where ``beta·x > threshold`` (PyTorch's semantics)."""
    x = _floating(x, "softplus")
    if beta == 0:
        raise ValueError("softplus: beta must be non-zero, got 0")
    beta, threshold = float(beta), float(threshold)
    bx = x.data * beta
    linear = bx > threshold
    # log(1 + e^z) = max(z, 0) + log(1 + e^-|z|): never exponentiates a positive number
    smooth = (xp.maximum(bx, 0) + xp.log1p(xp.exp(-xp.abs(bx)))) / beta
    out = xp.where(linear, x.data, smooth)

    # d softplus/dx = σ(beta·x) (and 1 above the threshold, where softplus(x) = x)
    def backward(g):
        return (xp.where(linear, g, g * _sigmoid_pair(bx)[0]),)

    def double(g):
        from .elementwise import where

        return (where(linear, g, g * sigmoid(x * beta)),)

    return result(out, (x,), backward, "softplus", double)


# ----------------------------------------------------------------------------- GELU
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_TANH_C = 0.044715


def gelu(x, approximate="none"):
    """Gaussian error linear unit ``x·Φ(x)``, Φ the standard normal CDF.

    ``approximate="tanh"`` uses ``0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`` instead,
    as PyTorch does.
    """
    x = _floating(x, "gelu")
    if approximate == "none":
        cdf = _normal_cdf(x.data)
        out = x.data * cdf

        # d(x·Φ(x))/dx = Φ(x) + x·φ(x),  φ(x) = exp(-x²/2)/√(2π)
        def backward(g):
            pdf = xp.exp(-0.5 * x.data * x.data) * _INV_SQRT_2PI
            return (g * (cdf + x.data * pdf),)

    elif approximate == "tanh":
        x2 = x.data * x.data
        t = xp.tanh(_SQRT_2_OVER_PI * x.data * (1 + _GELU_TANH_C * x2))
        out = 0.5 * x.data * (1 + t)

        # with u = √(2/π)(x + c·x³):  d/dx = ½(1 + tanh u) + ½x·(1 - tanh²u)·√(2/π)(1 + 3c·x²)
        def backward(g):
            du = _SQRT_2_OVER_PI * (1 + 3 * _GELU_TANH_C * x2)
            return (g * (0.5 * (1 + t) + 0.5 * x.data * (1 - t * t) * du),)

    else:
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return result(out, (x,), backward, "gelu")


def _normal_cdf(x):
    """Φ(x) = erfc(-x/√2)/2, with full relative accuracy in the lower tail."""
    z = x * -_INV_SQRT_2
    tail = 0.5 * _erfc_nonnegative(xp.abs(z))  # Φ(-|x|)
    return xp.where(z >= 0, tail, 1 - tail)


# erfc by a Chebyshev expansion (the construction of Numerical Recipes, 3rd ed., §6.2.2,
# "erfccheb"; coefficients computed here, not copied):  for z >= 0 let t = 2/(2 + z) ∈ (0, 1].
# Then h(t) = log(erfc(z)·exp(z²)/t) is smooth and bounded on (0, 1] (it tends to
# -log(2√π) as z → ∞), so a short Chebyshev series in y = 2t - 1 represents it to
# machine precision, and erfc(z) = t·exp(-z² + h).  The coefficients are interpolated
# once, at first use, from the C library's erfc (Python's math.erfc) at Chebyshev nodes;
# 28 terms give erf to 2e-15 and erfc to a relative 1e-14 + z²·2e-16 (the rounding of z²),
# for z up to 26 where erfc underflows (tests/ops/test_activation.py checks both against
# math.erf/math.erfc on a dense grid). float32 keeps only the terms it can resolve (12).
_ERFC_TERMS = 28
_erfc_cache = {}


def _erfcx_reference(z):
    """erfc(z)·exp(z²) for one Python float z >= 0 (the scaled complementary error function)."""
    if z <= 10.0:
        return math.erfc(z) * math.exp(z * z)
    # asymptotic series 1/(z√π)·Σ (-1)^n (2n-1)!!/(2z²)^n; at z > 10 40 terms are far past 1e-17
    total = term = 1.0
    for n in range(1, 40):
        term *= -(2 * n - 1) / (2 * z * z)
        total += term
    return total / (z * math.sqrt(math.pi))


def _erfc_coefficients(dtype):
    """Chebyshev coefficients of h(y) (see above), cut to the precision of ``dtype``."""
    key = xp.dtype(dtype).str
    if key not in _erfc_cache:
        n = _ERFC_TERMS
        nodes = [math.cos(math.pi * (k + 0.5) / n) for k in range(n)]
        values = []
        for y in nodes:
            t = (y + 1) / 2
            values.append(math.log(_erfcx_reference(2 / t - 2)) - math.log(t))
        coefficients = [
            2.0 / n * sum(v * math.cos(math.pi * j * (k + 0.5) / n) for k, v in enumerate(values)) for j in range(n)
        ]
        coefficients[0] /= 2
        # drop the tail that is below the dtype's resolution (float32 needs about half the terms)
        eps = float(xp.finfo(dtype).eps) if xp.dtype(dtype).kind == "f" else 2.0**-52
        while len(coefficients) > 2 and abs(coefficients[-1]) < eps / 16:
            coefficients.pop()
        _erfc_cache[key] = tuple(coefficients)
    return _erfc_cache[key]


def _erfc_nonnegative(z):
    """erfc(z) for an array of z >= 0 (or +inf), in z's floating dtype."""
    c = _erfc_coefficients(z.dtype)
    t = 2 / (2 + z)
    y2 = 2 * (2 * t - 1)
    # Clenshaw's recurrence for Σ c_k T_k(y)
    b1 = xp.zeros_like(z)
    b2 = xp.zeros_like(z)
    for ck in c[:0:-1]:
        b1, b2 = y2 * b1 - b2 + ck, b1
    h = 0.5 * y2 * b1 - b2 + c[0]
    return t * xp.exp(h - z * z)


def erfc(x):
    """Complementary error function of an array (not a differentiable op): ``1 - erf(x)``."""
    x = xp.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(xp.float64)
    e = _erfc_nonnegative(xp.abs(x))
    return xp.where(x >= 0, e, 2 - e)


def erf(x):
    """Error function of an array (not a differentiable op), accurate to ~1e-15 in float64.

    Near 0 it sums the Maclaurin series 2/√π·Σ (-1)^n x^(2n+1)/(n!(2n+1)) (full relative
    accuracy for tiny x); elsewhere it is ``±(1 - erfc(|x|))``.
    """
    x = xp.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(xp.float64)
    ax = xp.abs(x)
    far = xp.copysign(1 - _erfc_nonnegative(ax), x)
    # |x| < 0.5: twelve series terms leave a truncation error below 4e-18
    t = x * x
    series = xp.zeros_like(x)
    for n in range(11, -1, -1):
        series = series * t + (-1) ** n / (math.factorial(n) * (2 * n + 1))
    near = (2 / math.sqrt(math.pi)) * x * series
    return xp.where(ax < 0.5, near, far)


# ---------------------------------------------------------------- softmax family
def softmax(x, axis=-1):
    """``exp(x) / Σ exp(x)`` along ``axis`` (the maximum is subtracted first, so no exp overflows)."""
    x = _floating(x, "softmax")
    axis = _axis(axis, x.ndim, "softmax")
    e = xp.exp(x.data - x.data.max(axis=axis, keepdims=True))
    out = e / e.sum(axis=axis, keepdims=True)

    # Jacobian ds_i/dx_j = s_i(δ_ij - s_j), so dL/dx = s ⊙ (g - Σ_j g_j s_j)
    def backward(g):
        return (out * (g - (g * out).sum(axis=axis, keepdims=True)),)

    def double(g):
        from .reduce import sum as total

        s = softmax(x, axis)
        return (s * (g - total(g * s, axis, True)),)

    return result(out, (x,), backward, "softmax", double)


def log_softmax(x, axis=-1):
    """``x - log Σ exp(x)`` along ``axis``, computed as log-sum-exp with the maximum subtracted."""
    x = _floating(x, "log_softmax")
    axis = _axis(axis, x.ndim, "log_softmax")
    shifted = x.data - x.data.max(axis=axis, keepdims=True)
    out = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))

    # d log s_i/dx_j = δ_ij - s_j, so dL/dx = g - softmax(x)·Σ_i g_i
    def backward(g):
        return (g - xp.exp(out) * g.sum(axis=axis, keepdims=True),)

    def double(g):
        from .reduce import sum as total

        return (g - softmax(x, axis) * total(g, axis, True),)

    return result(out, (x,), backward, "log_softmax", double)
