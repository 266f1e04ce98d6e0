"""Reductions over one dim, several, or all: sum, mean, var, std, prod, logsumexp, max/min, amax/amin,
argmax/argmin, any/all, count_nonzero.

Each takes PyTorch's ``dim=``/``keepdim=`` or NumPy's ``axis=``/``keepdims=`` (see ``_dims``), with
PyTorch's defaults: ``var`` and ``std`` are unbiased unless told otherwise, and ``max(x, dim)`` gives
``(values, indices)``. The NumPy spelling ``max(x, axis=...)`` keeps NumPy's meaning (values only).
"""

import builtins

from ..backend import DEFAULT_DTYPE, xp
from ..tensor import Tensor, as_tensor, constant, piecewise_constant, result
from ._dims import one_dim, reduction_dims, resolve_dim, resolve_keepdim
from .linear_maps import linear_double
from .return_types import values_indices

__all__ = [
    "sum", "mean", "var", "std", "prod", "logsumexp", "max", "min", "amax", "amin", "argmax", "argmin",
    "any", "all", "count_nonzero", "median",
]


def _setup(a, op, dim, axis, keepdim, keepdims):
    """The tensor, its reduced dims as a sorted tuple, and ``keepdim``, from either spelling."""
    a = as_tensor(a)
    axes = reduction_dims(op, dim, axis, a.ndim, empty_means_all=op not in ("any", "all"))
    return a, axes, resolve_keepdim(op, keepdim, keepdims)


def _expand_back(g, shape, axes, keepdim):
    """Reshape a reduced gradient so it broadcasts against the input of ``shape``."""
    if not keepdim and shape:
        g = g.reshape(tuple(1 if i in axes else n for i, n in enumerate(shape)))
    return g


def _drop(kept, shape, axes, keepdim):
    """A result computed with the reduced dims kept (size 1), without them unless ``keepdim``."""
    return kept if keepdim else kept.reshape(tuple(n for i, n in enumerate(shape) if i not in axes))


def _count(shape, axes):
    """Number of elements reduced over ``axes``."""
    count = 1
    for ax in axes:
        count *= shape[ax]
    return count


# ------------------------------------------------------------------ sums and means
def sum(a, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Sum of elements over ``dim`` (an int, a tuple of ints, or None for all)."""
    a, axes, keepdim = _setup(a, "sum", dim, axis, keepdim, keepdims)
    out = a.data.sum(axis=axes, keepdims=keepdim)

    # d(Σx)/dx_i = 1: every input element receives the gradient of its sum
    def backward(g):
        return (xp.broadcast_to(_expand_back(g, a.shape, axes, keepdim), a.shape),)

    def double(g):  # the same rule on Tensors (expand: broadcast_to, differentiably)
        from .shape import expand

        return (expand(_expand_back(g, a.shape, axes, keepdim), a.shape),)

    return result(xp.asarray(out), (a,), backward, "sum", double)


def mean(a, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Mean of elements over ``dim``.

    Integer tensors give a floating mean, as in NumPy (PyTorch raises for them instead).
    """
    a, axes, keepdim = _setup(a, "mean", dim, axis, keepdim, keepdims)
    out = a.data.mean(axis=axes, keepdims=keepdim)
    count = _count(a.shape, axes)

    # d(mean x)/dx_i = 1/n
    def backward(g):
        return (xp.broadcast_to(_expand_back(g, a.shape, axes, keepdim) / count, a.shape),)

    def double(g):  # the same rule on Tensors
        from .shape import expand

        return (expand(_expand_back(g, a.shape, axes, keepdim) / count, a.shape),)

    return result(xp.asarray(out), (a,), backward, "mean", double)


# ------------------------------------------------------------ variance and std
def _correction(op, unbiased, correction, ddof):
    """The divisor's offset ``n - correction`` from PyTorch's ``correction``/``unbiased`` or NumPy's ``ddof``."""
    given = [name for name, value in (("unbiased", unbiased), ("correction", correction), ("ddof", ddof))
             if value is not None]
    if len(given) > 1:
        raise TypeError(f"{op}: give only one of {' and '.join(given)}; they all set the divisor n - correction")
    if unbiased is not None:
        return 1 if unbiased else 0
    value = correction if correction is not None else ddof
    return 1 if value is None else value  # PyTorch's default: the unbiased estimate


def _moments(op, a, dim, unbiased, keepdim, correction, axis, keepdims, ddof):
    """Shared start of var and std: (a, axes, keepdim, x - mean, divisor, variance with dims kept)."""
    if isinstance(dim, bool):  # torch.var(x, True): the legacy positional ``unbiased``
        dim, unbiased = None, dim if unbiased is None else unbiased
    a, axes, keepdim = _setup(a, op, dim, axis, keepdim, keepdims)
    divisor = builtins.max(_count(a.shape, axes) - _correction(op, unbiased, correction, ddof), 0)
    diff = a.data - a.data.mean(axis=axes, keepdims=True)
    with xp.errstate(divide="ignore", invalid="ignore"):  # n <= correction gives inf/nan, as in NumPy and PyTorch
        kept = (diff * diff).sum(axis=axes, keepdims=True) / divisor
    return a, axes, keepdim, diff, divisor, kept


def var(a, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None, ddof=None):
    """Variance over ``dim``: ``Σ(x - mean)² / (n - correction)``.

    ``correction=1`` (the default, as in PyTorch) gives the unbiased estimate; ``correction=0`` (or
    ``unbiased=False``, or NumPy's ``ddof=0``) the biased one. Give at most one of the three.
    """
    a, axes, keepdim, diff, divisor, kept = _moments("var", a, dim, unbiased, keepdim, correction, axis, keepdims,
                                                     ddof)

    # d var/dx_i = 2(x_i - mean)/(n - correction)  (the mean's own dependence on x_i drops out: Σ(x_j - mean) = 0)
    def backward(g):
        with xp.errstate(divide="ignore", invalid="ignore"):
            return (_expand_back(g, a.shape, axes, keepdim) * diff * (2.0 / divisor if divisor else xp.inf),)

    def double(g):  # the same rule on Tensors (the mean inside it is followed too)
        return (_expand_back(g, a.shape, axes, keepdim) * _centred(a, axes) * (2.0 / divisor if divisor else xp.inf),)

    return result(_drop(kept, a.shape, axes, keepdim), (a,), backward, "var", double)


def _centred(a, axes):
    """``a - mean(a)`` over ``axes`` (dims kept) as a Tensor op."""
    return a - mean(a, axes, True)


def std(a, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None, ddof=None):
    """Standard deviation over ``dim``: ``√var`` with the same arguments as ``var`` (unbiased by default)."""
    a, axes, keepdim, diff, divisor, kept = _moments("std", a, dim, unbiased, keepdim, correction, axis, keepdims,
                                                     ddof)
    s = xp.sqrt(kept)

    # d std/dx_i = (d var/dx_i) / (2 std) = (x_i - mean) / ((n - correction) std); 0 where std = 0, as in PyTorch
    def backward(g):
        with xp.errstate(divide="ignore", invalid="ignore"):
            scale = xp.where(s == 0, 0, _expand_back(g, a.shape, axes, keepdim) / (s * divisor))
        return ((diff * scale).astype(a.dtype, copy=False),)

    def double(g):  # the same rule on Tensors, with std recomputed as a graph node (0 where std = 0)
        from .elementwise import sqrt, where

        centred = _centred(a, axes)
        zero = s == 0
        s_t = where(zero, 1, sqrt(sum(centred * centred, axes, True) / divisor))
        return (where(zero, 0, centred * (_expand_back(g, a.shape, axes, keepdim) / (s_t * divisor))),)

    return result(_drop(s, a.shape, axes, keepdim), (a,), backward, "std", double)


# ----------------------------------------------------------- products and logsumexp
def prod(a, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Product of elements over ``dim``."""
    a, axes, keepdim = _setup(a, "prod", dim, axis, keepdim, keepdims)
    kept = a.data.prod(axis=axes, keepdims=True)

    # d Πx/dx_i = Π_{j≠i} x_j. Dividing Πx by x_i fails at zeros, so count them: with no zero it is
    # Πx / x_i; with one zero, the zero's derivative is the product of the others and the rest get 0;
    # with two or more, every derivative is 0.
    def backward(g):
        zero = a.data == 0
        zeros = zero.sum(axis=axes, keepdims=True)
        nonzero = xp.where(zero, 1, a.data)
        others = nonzero.prod(axis=axes, keepdims=True)
        grad = xp.where(zeros == 0, others / nonzero, xp.where(zero & (zeros == 1), others, 0))
        return ((_expand_back(g, a.shape, axes, keepdim) * grad).astype(a.dtype, copy=False),)

    def double(g):  # Πx / x_i on Tensors, where no element is 0
        if (a.data == 0).any():
            raise RuntimeError("double backward is not implemented for 'prod' of a tensor that contains zeros")
        return (_expand_back(g, a.shape, axes, keepdim) * prod(a, axes, True) / a,)

    return result(_drop(kept, a.shape, axes, keepdim), (a,), backward, "prod", double)


def logsumexp(a, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """``log Σ exp(x)`` over ``dim``, computed stably (the maximum is taken out before ``exp``)."""
    a, axes, keepdim = _setup(a, "logsumexp", dim, axis, keepdim, keepdims)
    data = a.data if a.dtype.kind == "f" else a.data.astype(DEFAULT_DTYPE)
    peak = data.max(axis=axes, keepdims=True) if data.size else xp.zeros((1,) * data.ndim, data.dtype)
    peak = xp.where(xp.isfinite(peak), peak, 0)  # all -inf (or an inf): log Σ exp is then -inf (or inf) as is
    with xp.errstate(divide="ignore"):
        kept = peak + xp.log(xp.exp(data - peak).sum(axis=axes, keepdims=True))

    # d lse/dx_i = exp(x_i - lse): the softmax of x over the reduced dims
    def backward(g):
        return (_expand_back(g, a.shape, axes, keepdim) * xp.exp(data - kept),)

    def double(g):  # the softmax on Tensors
        from .elementwise import exp

        return (_expand_back(g, a.shape, axes, keepdim) * exp(a - logsumexp(a, axes, True)),)

    return result(_drop(kept, a.shape, axes, keepdim), (a,), backward, "logsumexp", double)


# ------------------------------------------------------------------ max and min
def max(a, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Largest element: over all (a tensor), or along one ``dim`` as ``(values, indices)``, as in PyTorch.

    ``max(a, b)`` with a tensor ``b`` is the element-wise ``maximum``. NumPy's ``axis=`` (int or tuple)
    gives the values alone, like ``amax``. Tied maxima share the gradient evenly (``amax``'s rule), except
    that ``(values, indices)`` sends it to the index returned (the first maximum), as PyTorch does.
    """
    return _max_or_min(a, dim, keepdim, axis, keepdims, "max")


def min(a, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Smallest element: over all, or along one ``dim`` as ``(values, indices)``; see ``max``."""
    return _max_or_min(a, dim, keepdim, axis, keepdims, "min")


def amax(a, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Largest values over ``dim`` (an int, a tuple, or None for all); tied maxima share the gradient evenly."""
    a, axes, keepdim = _setup(a, "amax", dim, axis, keepdim, keepdims)
    return _extreme(a, axes, keepdim, "max", "amax")


def amin(a, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Smallest values over ``dim``; tied minima share the gradient evenly."""
    a, axes, keepdim = _setup(a, "amin", dim, axis, keepdim, keepdims)
    return _extreme(a, axes, keepdim, "min", "amin")


def _max_or_min(a, dim, keepdim, axis, keepdims, op):
    if isinstance(dim, (Tensor, xp.ndarray)):  # torch.max(a, b): element-wise
        from .elementwise import maximum, minimum

        if axis is not None or keepdim or keepdims:
            raise TypeError(f"{op}(a, b) is element-wise and takes no dim/keepdim")
        return (maximum if op == "max" else minimum)(a, dim)
    if axis is not None or dim is None:  # NumPy's axis=, or a full reduction: values only
        a, axes, keepdim = _setup(a, op, dim, axis, keepdim, keepdims)
        return _extreme(a, axes, keepdim, op, op)
    a = as_tensor(a)
    keepdim = resolve_keepdim(op, keepdim, keepdims)
    if not isinstance(dim, (int, xp.integer)):
        raise TypeError(f"{op}: dim must be an int to get (values, indices), got {dim!r}; for several dims use "
                        f"a{op}(x, dim=(...))")
    return _extreme_with_index(a, dim, keepdim, op)


def _extreme(a, axes, keepdim, which, op):
    """Max (``which='max'``) or min over ``axes``; the k tied extremes each get 1/k of the gradient."""
    if builtins.any(a.shape[ax] == 0 for ax in axes):
        raise ValueError(f"{op}: cannot reduce an empty dim (tensor shape {a.shape}, dims {axes})")
    kept = (a.data.max if which == "max" else a.data.min)(axis=axes, keepdims=True)

    # d max(x)/dx_i = 1/k if x_i is one of the k elements equal to the maximum, else 0
    def shares(dtype):
        """1/k at each of the k extremes, 0 elsewhere."""
        winners = a.data == kept
        if a.dtype.kind == "f" and xp.isnan(kept).any():  # a NaN maximum came from (and sends its gradient to) NaNs
            winners |= xp.isnan(a.data) & xp.isnan(kept)
        return winners / winners.sum(axis=axes, keepdims=True).astype(dtype)

    def backward(g):
        return (_expand_back(g, a.shape, axes, keepdim) * shares(g.dtype),)

    def double(g):  # the shares are piecewise constant
        return (_expand_back(g, a.shape, axes, keepdim) * piecewise_constant(a, shares(g.dtype)),)

    return result(_drop(kept, a.shape, axes, keepdim), (a,), backward, op, double)


def _extreme_with_index(a, dim, keepdim, op):
    """``(values, indices)`` of the max/min along one ``dim``; the gradient goes to the index returned."""
    if a.ndim == 0:  # PyTorch: dim 0 or -1 of a 0-d tensor gives the value and index 0
        one_dim(dim, 1, op)
        return values_indices(op)(_extreme(a, (), keepdim, op, op), constant(xp.zeros((), xp.int64)))
    d = one_dim(dim, a.ndim, op)
    if a.shape[d] == 0:
        raise ValueError(f"{op}: cannot reduce an empty dim (tensor shape {a.shape}, dim {dim})")
    index = (xp.argmax if op == "max" else xp.argmin)(a.data, axis=d, keepdims=True)
    return _picked(a, d, index, keepdim, op)


def _picked(a, d, index, keepdim, op):
    """``(values, indices)``: the elements of ``a`` at ``index`` (one per row along dim ``d``, dims kept)."""
    kept = xp.take_along_axis(a.data, index, axis=d)

    # d values/dx_i = 1 for the element picked (for max, the first extreme; NaN counts as the extreme), else 0
    def backward(g):
        grad = xp.zeros(a.shape, dtype=g.dtype)
        xp.put_along_axis(grad, index, _expand_back(g, a.shape, (d,), keepdim), axis=d)
        return (grad,)

    # linear in g: the scatter as a node whose adjoint gathers at ``index`` again (linear_maps)
    double = linear_double(backward, lambda h: _drop(xp.take_along_axis(h, index, axis=d), a.shape, (d,), keepdim), op)
    values = result(_drop(kept, a.shape, (d,), keepdim), (a,), backward, op, double)
    return values_indices(op)(values, constant(_drop(index.astype(xp.int64), a.shape, (d,), keepdim)))


def median(a, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The lower median (as in PyTorch: for an even count, the smaller of the two middle values, not
    their mean as in NumPy): over all elements (a tensor), or along ``dim`` as ``(values, indices)``.

    The gradient goes to the element picked. Among equal values the index may differ from PyTorch's.
    """
    a = as_tensor(a)
    dim = resolve_dim("median", dim, axis)
    keepdim = resolve_keepdim("median", keepdim, keepdims)
    if not a.data.size:
        raise ValueError(f"median: cannot take the median of an empty tensor (shape {a.shape})")
    if dim is None:
        flat = a.data.reshape(-1)
        k = int(xp.argsort(flat, kind="stable")[(flat.size - 1) // 2])

        # d median/dx_i = 1 for the element picked, else 0
        def backward(g):
            grad = xp.zeros(a.shape, dtype=g.dtype)
            grad.reshape(-1)[k] = g
            return (grad,)

        double = linear_double(backward, lambda h: h.reshape(-1)[k].reshape(()).copy(), "median")  # as in _picked
        return result(flat[k].reshape(()).copy(), (a,), backward, "median", double)
    if a.ndim == 0:
        one_dim(dim, 1, "median")
        return values_indices("median")(_extreme(a, (), keepdim, "max", "median"), constant(xp.zeros((), xp.int64)))
    d = one_dim(dim, a.ndim, "median")
    order = xp.argsort(a.data, axis=d, kind="stable")
    index = xp.take(order, [(a.shape[d] - 1) // 2], axis=d)
    return _picked(a, d, index, keepdim, "median")


# ------------------------------------------------------------- not differentiable
def argmax(a, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index of the first largest element along ``dim`` (int64); ``dim=None`` indexes the flattened tensor."""
    return _arg_extreme(a, dim, keepdim, axis, keepdims, "argmax")


def argmin(a, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index of the first smallest element along ``dim`` (int64); ``dim=None`` indexes the flattened tensor."""
    return _arg_extreme(a, dim, keepdim, axis, keepdims, "argmin")


def _arg_extreme(a, dim, keepdim, axis, keepdims, op):
    a = as_tensor(a)
    dim = resolve_dim(op, dim, axis)
    keepdim = resolve_keepdim(op, keepdim, keepdims)
    if not a.data.size:
        raise ValueError(f"{op}: cannot take the {op} of an empty tensor (shape {a.shape})")
    find = xp.argmax if op == "argmax" else xp.argmin
    if dim is None:
        index = xp.asarray(find(a.data))
        return constant(index.reshape((1,) * a.ndim if keepdim else ()).astype(xp.int64))
    if a.ndim == 0:
        one_dim(dim, 1, op)
        return constant(xp.zeros((), xp.int64))
    return constant(find(a.data, axis=one_dim(dim, a.ndim, op), keepdims=keepdim).astype(xp.int64))


def any(a, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Whether any element over ``dim`` is non-zero (a bool tensor)."""
    a, axes, keepdim = _setup(a, "any", dim, axis, keepdim, keepdims)
    return constant(xp.asarray(a.data.any(axis=axes, keepdims=keepdim)))


def all(a, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Whether every element over ``dim`` is non-zero (a bool tensor)."""
    a, axes, keepdim = _setup(a, "all", dim, axis, keepdim, keepdims)
    return constant(xp.asarray(a.data.all(axis=axes, keepdims=keepdim)))


def count_nonzero(a, dim=None, *, axis=None):
    """Number of non-zero elements over ``dim`` (int64)."""
    a, axes, _ = _setup(a, "count_nonzero", dim, axis, False, None)
    return constant(xp.asarray((a.data != 0).sum(axis=axes)).astype(xp.int64))
