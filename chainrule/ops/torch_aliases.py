"""PyTorch's spellings of the arithmetic and comparison operators, and its value tests.

``x.add(y, alpha=2)``, ``x.sub(y)``, ``x.mul(y)``, ``x.div(y, rounding_mode="floor")``, ``x.pow(2)``,
``x.matmul(y)``, ``pred.eq(target).sum()``, ``(x > 0) & ~mask``, ``torch.isnan(x).any()``, ``torch.allclose(a, b)`` and
``torch.equal(a, b)``: code written for PyTorch calls these as often as the operators. Each name
forwards to the op that the operator already uses (so the gradients are those ops' rules); the
comparisons and value tests give boolean tensors with no gradient, as the operators do.
"""

from ..backend import xp
from ..tensor import Tensor, as_tensor, constant
from . import elementwise, linalg, math

__all__ = [
    "eq", "ne", "lt", "le", "gt", "ge", "greater", "less", "isnan", "isinf", "isfinite", "isclose",
    "allclose", "equal", "logical_and", "logical_or", "logical_xor", "logical_not",
    "multiply", "divide", "true_divide", "subtract", "negative", "add", "sub", "div",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
]

eq = elementwise.equal
ne = elementwise.not_equal
lt = less = elementwise.less
le = elementwise.less_equal
gt = greater = elementwise.greater
ge = elementwise.greater_equal
multiply = elementwise.mul
true_divide = elementwise.div
negative = elementwise.neg


def add(input, other, *, alpha=1):
    """``input + alpha * other`` (``torch.add``)."""
    return elementwise.add(input, other if alpha == 1 else elementwise.mul(other, alpha))


def sub(input, other, *, alpha=1):
    """``input - alpha * other`` (``torch.sub``)."""
    return elementwise.sub(input, other if alpha == 1 else elementwise.mul(other, alpha))


subtract = sub


def div(input, other, *, rounding_mode=None):
    """``input / other``; ``rounding_mode`` ``"floor"`` or ``"trunc"`` rounds the quotient (``torch.div``)."""
    if rounding_mode is None:
        return elementwise.div(input, other)
    if rounding_mode == "floor":
        return math.floor_divide(input, other)
    if rounding_mode == "trunc":
        a, b = elementwise._pair(input, other, "div")
        if a.data.dtype.kind == "f":
            return math.trunc(elementwise.div(a, b))
        # integers: the exact truncated quotient (floor division rounded toward zero)
        q = xp.floor_divide(a.data, b.data)
        q = q + ((q < 0) & (q * b.data != a.data))
        return constant(q.astype(a.data.dtype, copy=False))
    raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")


divide = div


def _test(ufunc, name):
    def test(input):
        return constant(ufunc(as_tensor(input).data))

    test.__name__ = name
    test.__doc__ = f"Element-wise ``{name}``: a boolean tensor with no gradient."
    return test


isnan = _test(xp.isnan, "isnan")
isinf = _test(xp.isinf, "isinf")
isfinite = _test(xp.isfinite, "isfinite")
logical_not = _test(xp.logical_not, "logical_not")


def _logical(ufunc, name):
    def logical(input, other):
        return constant(ufunc(as_tensor(input).data, as_tensor(other).data))

    logical.__name__ = name
    logical.__doc__ = f"Element-wise ``{name}`` (nonzero is true): a boolean tensor with no gradient."
    return logical


logical_and = _logical(xp.logical_and, "logical_and")
logical_or = _logical(xp.logical_or, "logical_or")
logical_xor = _logical(xp.logical_xor, "logical_xor")


def _bitwise(ufunc, name, symbol):
    def bitwise(input, other):
        a, b = elementwise._pair(input, other, name)  # PyTorch's promotion (bool & int -> int64)
        if a.data.dtype.kind not in "biu":
            raise TypeError(f"{name} ({symbol}): needs boolean or integer tensors, got {a.dtype}; for a mask of "
                            "comparisons write (x > 0) & (x < 1)")
        return constant(ufunc(a.data, b.data))

    bitwise.__name__ = name
    bitwise.__doc__ = f"Element-wise ``{symbol}`` of boolean or integer tensors (``mask1 {symbol} mask2``): no gradient."
    return bitwise


bitwise_and = _bitwise(xp.bitwise_and, "bitwise_and", "&")
bitwise_or = _bitwise(xp.bitwise_or, "bitwise_or", "|")
bitwise_xor = _bitwise(xp.bitwise_xor, "bitwise_xor", "^")


def bitwise_not(input):
    """``~x``: logical not of a boolean tensor, bitwise not of an integer one (no gradient)."""
    a = as_tensor(input)
    if a.data.dtype.kind not in "biu":
        raise TypeError(f"bitwise_not (~): needs a boolean or integer tensor, got {a.dtype}")
    return constant(xp.invert(a.data))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Element-wise ``|input - other| <= atol + rtol * |other|`` (``torch.isclose``; no gradient)."""
    return constant(xp.isclose(as_tensor(input).data, as_tensor(other).data, rtol=rtol, atol=atol,
                               equal_nan=equal_nan))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """``True`` if every element of ``input`` is close to ``other`` (``torch.allclose``): a Python bool."""
    return bool(xp.all(isclose(input, other, rtol, atol, equal_nan).data))


def equal(input, other):
    """``True`` if ``input`` and ``other`` have the same shape and elements (``torch.equal``): a Python bool.

    Not element-wise: that is ``eq`` (or ``==``).
    """
    a, b = as_tensor(input).data, as_tensor(other).data
    return a.shape == b.shape and bool(xp.all(a == b))


def install():
    """Put the method spellings on ``Tensor`` (``x.add(y)``, ``x.eq(y)``, ``x.isnan()``, ...)."""
    T = Tensor
    for name in ("eq", "ne", "lt", "le", "gt", "ge", "greater", "less", "isnan", "isinf", "isfinite",
                 "isclose", "allclose", "equal", "logical_and", "logical_or", "logical_xor", "logical_not",
                 "multiply", "divide", "true_divide", "subtract", "negative", "add", "sub", "div"):
        setattr(T, name, globals()[name])
    for name in ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not"):
        setattr(T, name, globals()[name])
    T.__and__, T.__or__, T.__xor__, T.__invert__ = bitwise_and, bitwise_or, bitwise_xor, bitwise_not
    T.__rand__ = lambda self, other: bitwise_and(other, self)
    T.__ror__ = lambda self, other: bitwise_or(other, self)
    T.__rxor__ = lambda self, other: bitwise_xor(other, self)
    T.__iand__ = lambda self, other: self._inplace("&=", xp.bitwise_and, other)
    T.__ior__ = lambda self, other: self._inplace("|=", xp.bitwise_or, other)
    T.__ixor__ = lambda self, other: self._inplace("^=", xp.bitwise_xor, other)
    # x == None is False (and x != None True), as PyTorch: `if x == None` and `x in [None, ...]` work
    T.__eq__ = lambda self, other: False if other is None else elementwise.equal(self, other)
    T.__ne__ = lambda self, other: True if other is None else elementwise.not_equal(self, other)
    T.greater_equal = T.ge
    T.less_equal = T.le
    T.not_equal = T.ne
    T.mul = elementwise.mul
    T.pow = elementwise.pow
    T.neg = elementwise.neg
    T.matmul = linalg.matmul
    from .. import creation  # sampling methods: probs.multinomial(1), probs.bernoulli()

    T.multinomial = creation.multinomial
    from . import counting

    T.bincount = counting.bincount
    T.isin = counting.isin
    T.argwhere = counting.argwhere
    T.diff = counting.diff
    T.bernoulli = creation.bernoulli
