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
from ._dims import resolve_dim
from ..tensor import piecewise_constant as _piecewise

__all__ = [
    "relu", "leaky_relu", "elu", "gelu", "sigmoid", "tanh", "softplus", "softmax", "log_softmax",
    "relu6", "hardtanh", "hardswish", "hardsigmoid", "selu", "celu", "silu", "mish", "softsign", "logsigmoid",
    "tanhshrink", "softshrink", "hardshrink", "threshold", "prelu", "glu", "softmin",
]


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

    def double(g):
        from .elementwise import where

        return (where(positive, g, g * (alpha * _exp_nonpositive(x))),)

    return result(out, (x,), backward, "elu", double)


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

        def double(g):  # Φ' = φ, through erf: Φ(x) = (1 + erf(x/√2))/2
            from .elementwise import exp
            from .math import erf

            return (g * (0.5 * (1 + erf(x * _INV_SQRT_2)) + x * (exp(-0.5 * x * x) * _INV_SQRT_2PI)),)

    elif approximate == "tanh":
        x2 = x.data * x.data
        t = xp.tanh(_SQRT_2_OVER_PI * x.data * (1 + _GELU_TANH_C * x2))
        out = 0.5 * x.data * (1 + t)

        # with u = √(2/π)(x + c·x³):  d/dx = ½(1 + tanh u) + ½x·(1 - tanh²u)·√(2/π)(1 + 3c·x²)
        def backward(g):
            du = _SQRT_2_OVER_PI * (1 + 3 * _GELU_TANH_C * x2)
            return (g * (0.5 * (1 + t) + 0.5 * x.data * (1 - t * t) * du),)

        def double(g):
            tt = tanh(_SQRT_2_OVER_PI * x * (1 + _GELU_TANH_C * x * x))
            du = _SQRT_2_OVER_PI * (1 + 3 * _GELU_TANH_C * x * x)
            return (g * (0.5 * (1 + tt) + 0.5 * x * (1 - tt * tt) * du),)

    else:
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return result(out, (x,), backward, "gelu", double)


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
def softmax(x, dim=None, *, axis=None):
    """``exp(x) / Σ exp(x)`` along ``dim`` (default -1; the maximum is subtracted first, so no exp overflows)."""
    x = _floating(x, "softmax")
    axis = _axis(resolve_dim("softmax", dim, axis, default=-1), x.ndim, "softmax")
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


def log_softmax(x, dim=None, *, axis=None):
    """``x - log Σ exp(x)`` along ``dim`` (default -1), computed as log-sum-exp with the maximum subtracted."""
    x = _floating(x, "log_softmax")
    axis = _axis(resolve_dim("log_softmax", dim, axis, default=-1), x.ndim, "log_softmax")
    shifted = x.data - x.data.max(axis=axis, keepdims=True)
    out = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))

    # d log s_i/dx_j = δ_ij - s_j, so dL/dx = g - softmax(x)·Σ_i g_i
    def backward(g):
        return (g - xp.exp(out) * g.sum(axis=axis, keepdims=True),)

    def double(g):
        from .reduce import sum as total

        return (g - softmax(x, axis) * total(g, axis, True),)

    return result(out, (x,), backward, "log_softmax", double)


def softmin(x, axis=-1):
    """``softmax(-x)`` along ``axis``."""
    x = _floating(x, "softmin")
    axis = _axis(axis, x.ndim, "softmin")
    e = xp.exp(x.data.min(axis=axis, keepdims=True) - x.data)
    out = e / e.sum(axis=axis, keepdims=True)

    # the softmax Jacobian with the sign of x flipped: dL/dx = -s ⊙ (g - Σ_j g_j s_j)
    def backward(g):
        return (out * ((g * out).sum(axis=axis, keepdims=True) - g),)

    def double(g):
        from .reduce import sum as total

        s = softmax(-x, axis)
        return (s * (total(g * s, axis, True) - g),)

    return result(out, (x,), backward, "softmin", double)


# ------------------------------------------------------------------ more of PyTorch's activations
# Each is an elementwise op whose gradient at a kink is PyTorch's choice, stated in its comment.
def _elementwise(x, out, local, op, differentiable=None):
    """Record an elementwise op: ``local()`` gives d out/dx as an array (computed only in the backward pass).

    ``differentiable()`` gives the same derivative as a Tensor computed with Tensor ops from ``x``, for
    ``create_graph=True``; without it the derivative is taken to be piecewise constant (its own derivative 0).
    """

    def backward(g):
        return (g * local(),)

    def double(g):
        return (g * (differentiable() if differentiable is not None else _piecewise(x, local())),)

    return result(out, (x,), backward, op, double)


def _where(condition, a, b):
    from .elementwise import where

    return where(condition, a, b)


def _exp_nonpositive(x):
    """``exp(min(x, 0))`` as a Tensor op (the branch of elu-like functions below 0; never overflows)."""
    from .elementwise import clip, exp

    return exp(clip(x, max=0.0))


def _inside(data, low, high):
    """1 strictly between ``low`` and ``high``, 0 elsewhere (at the bounds too), in ``data``'s dtype."""
    return ((data > low) & (data < high)).astype(data.dtype)


def hardtanh(x, min_val=-1.0, max_val=1.0):
    """``x`` clipped to ``[min_val, max_val]``."""
    x = _floating(x, "hardtanh")
    min_val, max_val = float(min_val), float(max_val)
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
    # d/dx = 1 strictly inside (min_val, max_val), 0 outside and at both bounds (as PyTorch)
    return _elementwise(x, xp.clip(x.data, min_val, max_val), lambda: _inside(x.data, min_val, max_val), "hardtanh")


def relu6(x):
    """``min(max(x, 0), 6)``; the gradient is 0 at 0 and at 6 (as PyTorch)."""
    x = _floating(x, "relu6")
    # d/dx = 1 on (0, 6), else 0
    return _elementwise(x, xp.clip(x.data, 0.0, 6.0), lambda: _inside(x.data, 0.0, 6.0), "relu6")


def hardsigmoid(x):
    """``relu6(x + 3) / 6``: 0 below -3, 1 above 3, linear between."""
    x = _floating(x, "hardsigmoid")
    out = xp.clip(x.data / 6 + 0.5, 0.0, 1.0)
    # d/dx = 1/6 on (-3, 3), 0 elsewhere (also at ±3, as PyTorch)
    return _elementwise(x, out, lambda: _inside(x.data, -3.0, 3.0) / 6, "hardsigmoid")


def hardswish(x):
    """``x·relu6(x + 3) / 6``."""
    x = _floating(x, "hardswish")
    out = x.data * xp.clip(x.data / 6 + 0.5, 0.0, 1.0)

    # d/dx = 0 for x <= -3, (2x + 3)/6 for -3 < x < 3, 1 for x >= 3 (PyTorch's choice at ±3)
    def local():
        d = x.data / 3 + 0.5
        return xp.where(x.data <= -3, 0.0, xp.where(x.data < 3, d, 1.0)).astype(x.dtype, copy=False)

    def differentiable():  # (2x + 3)/6 = x/3 + 1/2 on (-3, 3): linear there, constant elsewhere
        from .elementwise import where

        return where((x.data > -3) & (x.data < 3), x / 3 + 0.5, _piecewise(x, (x.data >= 3).astype(x.dtype)))

    return _elementwise(x, out, local, "hardswish", differentiable)


def celu(x, alpha=1.0):
    """``max(0, x) + min(0, alpha·(exp(x/alpha) - 1))``."""
    x = _floating(x, "celu")
    alpha = float(alpha)
    if alpha == 0:
        raise ValueError("celu: alpha must be non-zero, got 0")
    positive = x.data > 0
    negative_part = alpha * xp.expm1(xp.minimum(x.data, 0) / alpha)
    out = xp.where(positive, x.data, negative_part)
    # d/dx = 1 where x > 0, else exp(x/alpha) = negative_part/alpha + 1 (1 at x = 0)
    return _elementwise(x, out, lambda: xp.where(positive, 1.0, negative_part / alpha + 1).astype(x.dtype), "celu",
                        lambda: _where(positive, _piecewise(x, xp.ones_like(x.data)), _exp_nonpositive(x / alpha)))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(x):
    """``scale·elu(x, alpha)`` with the self-normalising constants of Klambauer et al. (2017)."""
    x = _floating(x, "selu")
    positive = x.data > 0
    negative_part = _SELU_ALPHA * xp.expm1(xp.minimum(x.data, 0))
    out = _SELU_SCALE * xp.where(positive, x.data, negative_part)
    # d/dx = scale where x > 0, else scale·alpha·exp(x) = scale·(negative_part + alpha)
    return _elementwise(
        x, out, lambda: _SELU_SCALE * xp.where(positive, 1.0, negative_part + _SELU_ALPHA).astype(x.dtype), "selu",
        lambda: _SELU_SCALE * _where(positive, _piecewise(x, xp.ones_like(x.data)), _SELU_ALPHA * _exp_nonpositive(x)),
    )


def silu(x):
    """``x·σ(x)`` (also called swish)."""
    x = _floating(x, "silu")
    s, s_neg = _sigmoid_pair(x.data)
    # d/dx = σ(x) + x·σ(x)·σ(-x) = σ(x)·(1 + x·σ(-x))
    def differentiable():
        st = sigmoid(x)
        return st * (1 + x * (1 - st))

    return _elementwise(x, x.data * s, lambda: s * (1 + x.data * s_neg), "silu", differentiable)


def _softplus_array(x):
    """log(1 + e^x) without overflow."""
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


def mish(x):
    """``x·tanh(softplus(x))``."""
    x = _floating(x, "mish")
    t = xp.tanh(_softplus_array(x.data))
    # d/dx = tanh(sp(x)) + x·(1 - tanh²(sp(x)))·σ(x), since d sp/dx = σ(x)
    def differentiable():
        tt = tanh(softplus(x))
        return tt + x * (1 - tt * tt) * sigmoid(x)

    return _elementwise(x, x.data * t, lambda: t + x.data * (1 - t * t) * _sigmoid_pair(x.data)[0], "mish",
                        differentiable)


def softsign(x):
    """``x / (1 + |x|)``."""
    x = _floating(x, "softsign")
    denominator = 1 + xp.abs(x.data)
    # d/dx = 1 / (1 + |x|)²
    def differentiable():
        from .elementwise import abs as absolute

        d = 1 + absolute(x)
        return 1 / (d * d)

    return _elementwise(x, x.data / denominator, lambda: 1 / (denominator * denominator), "softsign", differentiable)


def logsigmoid(x):
    """``log σ(x) = -softplus(-x)``, stable for any ``x``."""
    x = _floating(x, "logsigmoid")
    # d log σ(x)/dx = 1 - σ(x) = σ(-x)
    return _elementwise(x, -_softplus_array(-x.data), lambda: _sigmoid_pair(x.data)[1], "logsigmoid",
                        lambda: sigmoid(-x))


def tanhshrink(x):
    """``x - tanh(x)``."""
    x = _floating(x, "tanhshrink")
    t = xp.tanh(x.data)
    # d/dx = 1 - (1 - tanh²x) = tanh²x
    return _elementwise(x, x.data - t, lambda: t * t, "tanhshrink", lambda: tanh(x) * tanh(x))


def _lambd(lambd, op):
    lambd = float(lambd)
    if lambd < 0:
        raise ValueError(f"{op}: lambd must be non-negative, got {lambd}")
    return lambd


def softshrink(x, lambd=0.5):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, 0 between."""
    x = _floating(x, "softshrink")
    lambd = _lambd(lambd, "softshrink")
    outside = xp.abs(x.data) > lambd
    out = xp.where(outside, x.data - xp.copysign(lambd, x.data), 0.0).astype(x.dtype, copy=False)
    # d/dx = 1 where |x| > lambd, else 0 (0 at ±lambd, as PyTorch)
    return _elementwise(x, out, lambda: outside.astype(x.dtype), "softshrink")


def hardshrink(x, lambd=0.5):
    """``x`` where ``|x| > lambd``, else 0."""
    x = _floating(x, "hardshrink")
    lambd = _lambd(lambd, "hardshrink")
    outside = xp.abs(x.data) > lambd
    # d/dx = 1 where |x| > lambd, else 0
    return _elementwise(x, xp.where(outside, x.data, 0).astype(x.dtype), lambda: outside.astype(x.dtype), "hardshrink")


def threshold(x, threshold, value):
    """``x`` where ``x > threshold``, else ``value``."""
    x = _floating(x, "threshold")
    above = x.data > threshold
    out = xp.where(above, x.data, float(value)).astype(x.dtype, copy=False)
    # d/dx = 1 where x > threshold, else 0 (the constant value has no gradient)
    return _elementwise(x, out, lambda: above.astype(x.dtype), "threshold")


def prelu(x, weight):
    """``x`` where ``x > 0``, else ``weight·x``; ``weight`` (a learnable Tensor) has 1 element or one per channel.

    The channel axis is axis 1 (axis 0 for a 1-D input), as in PyTorch.
    """
    x = _floating(x, "prelu")
    weight = _floating(weight, "prelu")
    w = weight.data
    if w.ndim != 1:
        raise ValueError(f"prelu: weight must be 1-D (one slope, or one per channel), got shape {w.shape}")
    channel_axis = 1 if x.ndim >= 2 else 0
    if w.size != 1:
        if x.ndim == 0 or x.shape[channel_axis] != w.size:
            raise ValueError(
                f"prelu: weight has {w.size} slopes but the input of shape {x.shape} has "
                f"{x.shape[channel_axis] if x.ndim else 'no'} channels on axis {channel_axis}; expected 1 or that many"
            )
        w = w.reshape((-1,) + (1,) * (x.ndim - channel_axis - 1))
    else:
        w = w.reshape(())
    w = w.astype(x.dtype, copy=False)
    positive = x.data > 0
    out = xp.where(positive, x.data, w * x.data)

    # d/dx = 1 where x > 0, else weight (weight at 0, as PyTorch);  d/dweight = Σ x over the non-positive x
    def backward(g):
        gx = xp.where(positive, g, w * g) if x.requires_grad else None
        gw = None
        if weight.requires_grad:
            contribution = xp.where(positive, 0, g * x.data)
            axes = tuple(i for i in range(x.ndim) if w.ndim == 0 or i != channel_axis)
            gw = contribution.sum(axis=axes).reshape(weight.shape).astype(weight.dtype, copy=False)
        return gx, gw

    def double(g):  # the same rule on Tensors (the mask is piecewise constant)
        from .reduce import sum as total
        from .shape import reshape

        w_t = reshape(weight, w.shape)
        negative = _piecewise(x, (~positive).astype(x.dtype))
        gx = g * (1 - negative) + g * negative * w_t if x.requires_grad else None
        gw = None
        if weight.requires_grad:
            axes = tuple(i for i in range(x.ndim) if w.ndim == 0 or i != channel_axis)
            gw = reshape(total(g * negative * x, axes), weight.shape)
        return gx, gw

    return result(out, (x, weight), backward, "prelu", double)


def glu(x, axis=-1):
    """Gated linear unit: split ``x`` in halves ``a, b`` along ``axis`` and return ``a·σ(b)``."""
    x = _floating(x, "glu")
    if x.ndim == 0:
        raise ValueError("glu: expected a tensor with at least one axis, got a scalar")
    axis = _axis(axis, x.ndim, "glu")
    if x.shape[axis] % 2:
        raise ValueError(f"glu: the size of axis {axis} must be even (it is halved), got shape {x.shape}")
    a, b = xp.split(x.data, 2, axis=axis)
    s, s_neg = _sigmoid_pair(b)
    out = a * s

    # d/da = σ(b);  d/db = a·σ(b)·σ(-b)
    def backward(g):
        return (xp.concatenate([g * s, g * out * s_neg], axis=axis),)

    def double(g):
        from .shape import cat, split

        a_t, b_t = split(x, x.shape[axis] // 2, axis)
        st = sigmoid(b_t)
        return (cat([g * st, g * a_t * st * (1 - st)], axis),)

    return result(out, (x,), backward, "glu", double)
