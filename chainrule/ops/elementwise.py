"""Element-wise arithmetic and math, with NumPy broadcasting.

Each op: forward on arrays, then ``backward(g)`` returning one gradient per input,
reduced to the input's shape by ``unbroadcast``. The comment above each backward
gives the local derivative the chain rule multiplies ``g`` by.
"""

from ..backend import DEFAULT_DTYPE, xp
from ..tensor import Tensor, as_tensor, constant, lift, piecewise_constant, result
from .broadcast import unbroadcast

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _pair(a, b, op):
    """Both operands as tensors of one dtype, promoted as PyTorch does (see ``result_dtype``)."""
    if not isinstance(a, Tensor):
        if not isinstance(b, Tensor):
            a = Tensor(a)
        else:
            a = lift(a, b)
    b = lift(b, a)
    if a.data.dtype is not b.data.dtype and a.data.dtype != b.data.dtype:
        dtype = result_dtype(a, b)
        a, b = _to(a, dtype), _to(b, dtype)
    return a, b


def result_dtype(a, b):
    """The dtype of an element-wise op on tensors ``a`` and ``b``, by PyTorch's promotion rules.

    Between categories (bool < integer < floating) the higher one's dtype wins (int64 + float32 is
    float32, where NumPy gives float64); within one category a 0-d tensor does not raise a dimensioned
    one's dtype (float32 + 0-d float64 is float32), otherwise NumPy's promotion applies.
    (Python numbers were already given their dtype by ``lift``.)
    """
    da, db = a.data.dtype, b.data.dtype
    ca, cb = _CATEGORY.get(da.kind, 3), _CATEGORY.get(db.kind, 3)
    if ca != cb:
        return da if ca > cb else db
    if (a.data.ndim == 0) != (b.data.ndim == 0):
        return db if a.data.ndim == 0 else da
    return xp.promote_types(da, db)


def _to(a, dtype):
    return a if a.data.dtype == dtype else cast(a, dtype)


def _floating(a):
    """``a`` as a floating tensor: integers and booleans take the default float dtype (float32), as in PyTorch."""
    a = as_tensor(a)
    return a if a.data.dtype.kind in "fc" else cast(a, DEFAULT_DTYPE)


def _broadcast_error(op, a, b):
    return ValueError(f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together")


def add(a, b):
    """``a + b``."""
    a, b = _pair(a, b, "add")
    try:
        out = a.data + b.data
    except ValueError:
        raise _broadcast_error("add", a, b) from None

    # d(a+b)/da = 1, d(a+b)/db = 1
    def backward(g):
        return unbroadcast(g, a.data.shape), unbroadcast(g, b.data.shape)

    # (unbroadcast and the rule work on Tensors alike: the rule is its own differentiable version)
    return result(out, (a, b), backward, "add", backward)


def sub(a, b):
    """``a - b``."""
    a, b = _pair(a, b, "sub")
    try:
        out = a.data - b.data
    except ValueError:
        raise _broadcast_error("sub", a, b) from None

    # d(a-b)/da = 1, d(a-b)/db = -1
    def backward(g):
        return unbroadcast(g, a.data.shape), unbroadcast(-g, b.data.shape)

    return result(out, (a, b), backward, "sub", backward)


def mul(a, b):
    """``a * b``."""
    a, b = _pair(a, b, "mul")
    try:
        out = a.data * b.data
    except ValueError:
        raise _broadcast_error("mul", a, b) from None

    # d(ab)/da = b, d(ab)/db = a
    def backward(g):
        return (
            unbroadcast(g * b.data, a.data.shape) if a.requires_grad else None,
            unbroadcast(g * a.data, b.data.shape) if b.requires_grad else None,
        )

    def double(g):  # the same rule on Tensors
        return (
            unbroadcast(g * b, a.data.shape) if a.requires_grad else None,
            unbroadcast(g * a, b.data.shape) if b.requires_grad else None,
        )

    return result(out, (a, b), backward, "mul", double)


def div(a, b):
    """``a / b`` (true division: integer operands give the default float dtype, as in PyTorch)."""
    a, b = _pair(a, b, "div")
    if a.data.dtype.kind != "f":
        a, b = cast(a, DEFAULT_DTYPE), cast(b, DEFAULT_DTYPE)
    try:
        out = a.data / b.data
    except ValueError:
        raise _broadcast_error("div", a, b) from None

    # d(a/b)/da = 1/b, d(a/b)/db = -a/b² = -out/b
    def backward(g):
        return (
            unbroadcast(g / b.data, a.data.shape) if a.requires_grad else None,
            unbroadcast(-g * out / b.data, b.data.shape) if b.requires_grad else None,
        )

    def double(g):  # the same rule on Tensors
        return (
            unbroadcast(g / b, a.data.shape) if a.requires_grad else None,
            unbroadcast(-g * a / (b * b), b.data.shape) if b.requires_grad else None,
        )

    return result(out, (a, b), backward, "div", double)


def neg(a):
    """``-a``."""
    a = as_tensor(a)

    # d(-a)/da = -1
    def backward(g):
        return (-g,)

    return result(-a.data, (a,), backward, "neg", backward)


def pow(a, b):
    """``a ** b`` (``b`` a number or a tensor)."""
    a, b = _pair(a, b, "pow")
    try:
        out = a.data**b.data
    except ValueError:
        if a.data.dtype.kind in "biu" and xp.any(b.data < 0):
            raise ValueError("pow: integers to negative integer powers are not allowed; use a float tensor") from None
        raise _broadcast_error("pow", a, b) from None

    # d(a^b)/da = b·a^(b-1), taken as 0 where b = 0 (a^0 = 1 is constant, even at a = 0);
    # d(a^b)/db = a^b·ln(a), taken as 0 where a = 0 and b >= 0 (as PyTorch) and where a < 0 (ln undefined;
    # PyTorch gives NaN there)
    def backward(g):
        ga = gb = None
        with xp.errstate(divide="ignore", invalid="ignore"):
            if a.requires_grad:
                ga = unbroadcast(xp.where(b.data == 0, 0, g * b.data * a.data ** (b.data - 1)), a.data.shape)
            if b.requires_grad:
                has_log = (a.data > 0) | ((a.data == 0) & (b.data < 0))  # 0^b with b < 0 is inf: inf·ln 0 = -inf
                log_a = xp.log(xp.where(a.data > 0, a.data, 1))
                log_a = xp.where(a.data == 0, -xp.inf, log_a).astype(out.dtype, copy=False)
                gb = unbroadcast(xp.where(has_log, g * out * log_a, 0), b.data.shape)
        return ga, gb

    def double(g):  # the same rule on Tensors (for a > 0 where the exponent needs ln a; 0 elsewhere, as above)
        ga = gb = None
        if a.requires_grad:
            ga = g * b * a ** (b - 1)
            ga = unbroadcast(ga if b.data.ndim == 0 and b.data != 0 else where(b.data == 0, 0, ga), a.data.shape)
        if b.requires_grad:
            positive = a.data > 0
            gb = unbroadcast(where(positive, g * a ** b * log(where(positive, a, 1)), 0), b.data.shape)
        return ga, gb

    return result(out, (a, b), backward, "pow", double)


def exp(a):
    """``e ** a``."""
    a = _floating(a)
    out = xp.exp(a.data)

    # d(e^a)/da = e^a
    def backward(g):
        return (g * out,)

    def double(g):
        return (g * exp(a),)

    return result(out, (a,), backward, "exp", double)


def log(a):
    """Natural logarithm."""
    a = _floating(a)
    out = xp.log(a.data)

    # d(ln a)/da = 1/a
    def backward(g):
        return (g / a.data,)

    def double(g):
        return (g / a,)

    return result(out, (a,), backward, "log", double)


def sqrt(a):
    """Square root."""
    a = _floating(a)
    out = xp.sqrt(a.data)

    # d(√a)/da = 1/(2√a)
    def backward(g):
        return (g / (2 * out),)

    def double(g):
        return (g / (2 * sqrt(a)),)

    return result(out, (a,), backward, "sqrt", double)


def abs(a):
    """Absolute value; its gradient at 0 is 0 (the subgradient PyTorch picks)."""
    a = as_tensor(a)
    out = xp.abs(a.data)

    # d|a|/da = sign(a)
    def backward(g):
        return (g * xp.sign(a.data),)

    def double(g):  # sign(a) is piecewise constant: no gradient of its own
        return (g * piecewise_constant(a, xp.sign(a.data)),)

    return result(out, (a,), backward, "abs", double)


def clip(a, min=None, max=None):
    """Limit values to ``[min, max]`` (as ``torch.clamp``); the bounds may be numbers or tensors that broadcast.

    The result is ``minimum(maximum(a, min), max)``, so ``max`` wins where ``min > max``. The gradient goes to
    ``a`` where ``min <= a <= max`` (bounds included), to ``min`` where ``a < min < max`` and to ``max`` where
    ``a > max`` or ``max < min`` (PyTorch's convention; where ``a < min == max`` no one gets it).
    """
    a = as_tensor(a)
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given, got min=None and max=None")
    low = None if min is None else lift(min, a)
    high = None if max is None else lift(max, a)
    for bound in (low, high):  # PyTorch's promotion: an integer tensor with float bounds gives float32
        if bound is not None and bound.data.dtype != a.data.dtype:
            a = _to(a, result_dtype(a, bound))
    low = None if low is None else _to(low, a.data.dtype)
    high = None if high is None else _to(high, a.data.dtype)
    try:
        out = xp.clip(a.data, None if low is None else low.data, None if high is None else high.data)
    except ValueError:
        shapes = ", ".join(str(t.shape) for t in (a, low, high) if t is not None)
        raise ValueError(f"clip: shapes {shapes} of the input and its bounds cannot be broadcast together") from None
    parents = tuple(t for t in (a, low, high) if t is not None)

    def masks():
        """Where the gradient goes: to ``a`` (inside [min, max]), to ``min``, to ``max`` (None for a missing bound)."""
        x = a.data
        inside = xp.ones(out.shape, dtype=bool)
        if low is not None:
            inside &= x >= low.data
        if high is not None:
            inside &= x <= high.data
        below = above = None
        if low is not None:
            below = x < low.data
            if high is not None:
                below &= low.data < high.data
        if high is not None:
            above = x > high.data
            if low is not None:
                above |= high.data < low.data
        return inside, below, above

    # d clip(a)/da = 1 inside [min, max], 0 outside;  d/dmin = 1 where min is the result, d/dmax likewise
    def backward(g):
        inside, below, above = masks()
        grads = [unbroadcast(g * inside, a.shape)]
        if low is not None:
            grads.append(unbroadcast(g * below, low.shape) if low.requires_grad else None)
        if high is not None:
            grads.append(unbroadcast(g * above, high.shape) if high.requires_grad else None)
        return tuple(grads)

    def double(g):  # the masks are piecewise constant: g times each mask, summed back to its parent's shape
        inside, below, above = masks()
        grads = [unbroadcast(g * piecewise_constant(a, inside.astype(out.dtype)), a.shape)]
        for bound, mask in ((low, below), (high, above)):
            if bound is not None:
                grads.append(unbroadcast(g * constant(mask.astype(out.dtype)), bound.shape)
                             if bound.requires_grad else None)
        return tuple(grads)

    return result(out, parents, backward, "clip", double)


def maximum(a, b):
    """Element-wise maximum; on ties the gradient is split evenly between ``a`` and ``b``."""
    return _select_extreme(a, b, "maximum")


def minimum(a, b):
    """Element-wise minimum; on ties the gradient is split evenly between ``a`` and ``b``."""
    return _select_extreme(a, b, "minimum")


def _select_extreme(a, b, op):
    a, b = _pair(a, b, op)
    try:
        out = xp.maximum(a.data, b.data) if op == "maximum" else xp.minimum(a.data, b.data)
    except ValueError:
        raise _broadcast_error(op, a, b) from None

    # d max(a,b)/da = 1 where a wins, ½ on a tie, 0 where b wins (and the mirror for b)
    def backward(g):
        a_wins = (a.data > b.data) if op == "maximum" else (a.data < b.data)
        share_a = xp.where(a.data == b.data, 0.5, a_wins).astype(g.dtype)
        return unbroadcast(g * share_a, a.data.shape), unbroadcast(g * (1 - share_a), b.data.shape)

    def double(g):  # the shares are piecewise constant
        a_wins = (a.data > b.data) if op == "maximum" else (a.data < b.data)
        share = xp.where(a.data == b.data, 0.5, a_wins).astype(g.dtype)
        share_a, share_b = piecewise_constant(a, share), piecewise_constant(b, 1 - share)
        return unbroadcast(g * share_a, a.data.shape), unbroadcast(g * share_b, b.data.shape)

    return result(out, (a, b), backward, op, double)


def where(condition, a, b):
    """``a`` where ``condition`` is true, else ``b`` (the condition gets no gradient)."""
    cond = condition.data if isinstance(condition, Tensor) else xp.asarray(condition)
    a, b = _pair(a, b, "where")
    try:
        out = xp.where(cond, a.data, b.data)
    except ValueError:
        raise ValueError(
            f"where: condition {cond.shape}, a {a.shape} and b {b.shape} cannot be broadcast together"
        ) from None

    # d where(c,a,b)/da = c, d/db = not c
    def backward(g):
        return unbroadcast(xp.where(cond, g, 0), a.data.shape), unbroadcast(xp.where(cond, 0, g), b.data.shape)

    def double(g):
        return unbroadcast(where(cond, g, 0), a.data.shape), unbroadcast(where(cond, 0, g), b.data.shape)

    return result(out, (a, b), backward, "where", double)


def cast(a, dtype):
    """Convert to ``dtype``; the gradient is cast back to the input's dtype."""
    a = as_tensor(a)
    dtype = xp.dtype(dtype)
    out = a.data.astype(dtype, copy=False)
    source = a.data.dtype

    # d cast(a)/da = 1
    def backward(g):
        return (g.astype(source, copy=False),)

    def double(g):
        return (cast(g, source),)

    return result(out, (a,), backward, "cast", double)


# ---------------------------------------------------------------- comparisons
def _compare(ufunc):
    def compare(a, b):
        a, b = _pair(a, b, ufunc.__name__)
        return constant(ufunc(a.data, b.data))

    compare.__name__ = ufunc.__name__
    compare.__doc__ = f"Element-wise ``{ufunc.__name__}``: a boolean tensor with no gradient."
    return compare


equal = _compare(xp.equal)
not_equal = _compare(xp.not_equal)
less = _compare(xp.less)
less_equal = _compare(xp.less_equal)
greater = _compare(xp.greater)
greater_equal = _compare(xp.greater_equal)
