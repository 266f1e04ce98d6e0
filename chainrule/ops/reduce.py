"""Reductions: sum, mean, var, max, min over an axis (or all), with ``keepdims``."""

import builtins

from ..backend import xp
from ..tensor import as_tensor, result

__all__ = ["sum", "mean", "var", "max", "min"]


def _normalize_axis(axis, ndim, op):
    """``axis`` as a sorted tuple of non-negative axes (None means all).

    A 0-d tensor accepts axis 0 or -1 (as in PyTorch) and reduces over nothing.
    """
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, xp.integer)) else tuple(axis)
    normalized = []
    for ax in axes:
        if not -builtins.max(ndim, 1) <= ax < builtins.max(ndim, 1):
            raise ValueError(f"{op}: axis {ax} is out of range for a tensor with {ndim} axes")
        if ndim:
            normalized.append(int(ax) % ndim)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{op}: axis {axis} repeats an axis")
    return tuple(sorted(normalized))


def _expand_back(g, shape, axes, keepdims):
    """Reshape a reduced gradient so it broadcasts against the input of ``shape``."""
    if not keepdims and shape:
        g = g.reshape(tuple(1 if i in axes else n for i, n in enumerate(shape)))
    return g


def _count(shape, axes):
    """Number of elements reduced over ``axes``."""
    count = 1
    for ax in axes:
        count *= shape[ax]
    return count


def sum(a, axis=None, keepdims=False):
    """Sum of elements over ``axis`` (int, tuple or None for all)."""
    a = as_tensor(a)
    axes = _normalize_axis(axis, a.ndim, "sum")
    out = a.data.sum(axis=axes, keepdims=keepdims)

    # d(Σx)/dx_i = 1: every input element receives the gradient of its sum
    def backward(g):
        return (xp.broadcast_to(_expand_back(g, a.shape, axes, keepdims), a.shape),)

    def double(g):  # the same rule on Tensors (expand: broadcast_to, differentiably)
        from .shape import expand

        return (expand(_expand_back(g, a.shape, axes, keepdims), a.shape),)

    return result(xp.asarray(out), (a,), backward, "sum", double)


def mean(a, axis=None, keepdims=False):
    """Mean of elements over ``axis``."""
    a = as_tensor(a)
    axes = _normalize_axis(axis, a.ndim, "mean")
    out = a.data.mean(axis=axes, keepdims=keepdims)
    count = _count(a.shape, axes)

    # d(mean x)/dx_i = 1/n
    def backward(g):
        return (xp.broadcast_to(_expand_back(g, a.shape, axes, keepdims) / count, a.shape),)

    def double(g):  # the same rule on Tensors
        from .shape import expand

        return (expand(_expand_back(g, a.shape, axes, keepdims) / count, a.shape),)

    # (integer tensors give a floating mean, as in NumPy, rather than a truncated one)
    return result(xp.asarray(out), (a,), backward, "mean", double)


def var(a, axis=None, keepdims=False, ddof=0):
    """Variance over ``axis``: ``Σ(x - mean)² / (n - ddof)`` (``ddof=1`` gives the unbiased estimate)."""
    a = as_tensor(a)
    axes = _normalize_axis(axis, a.ndim, "var")
    divisor = builtins.max(_count(a.shape, axes) - ddof, 0)
    diff = a.data - a.data.mean(axis=axes, keepdims=True)
    with xp.errstate(divide="ignore", invalid="ignore"):  # n <= ddof gives inf/nan, as in NumPy and PyTorch
        out = (diff * diff).sum(axis=axes, keepdims=keepdims) / divisor

    # d var/dx_i = 2(x_i - mean)/(n - ddof)  (the mean's own dependence on x_i drops out: Σ(x_j - mean) = 0)
    def backward(g):
        with xp.errstate(divide="ignore", invalid="ignore"):
            return (_expand_back(g, a.shape, axes, keepdims) * diff * (2.0 / divisor if divisor else xp.inf),)

    return result(xp.asarray(out), (a,), backward, "var")


def max(a, axis=None, keepdims=False):
    """Largest element over ``axis``; tied maxima share the gradient evenly."""
    return _extreme(a, axis, keepdims, "max")


def min(a, axis=None, keepdims=False):
    """Smallest element over ``axis``; tied minima share the gradient evenly."""
    return _extreme(a, axis, keepdims, "min")


def _extreme(a, axis, keepdims, op):
    a = as_tensor(a)
    axes = _normalize_axis(axis, a.ndim, op)
    if any(a.shape[ax] == 0 for ax in axes):
        raise ValueError(f"{op}: cannot reduce an empty axis (tensor shape {a.shape}, axis {axis})")
    reduce = a.data.max if op == "max" else a.data.min
    kept = reduce(axis=axes, keepdims=True)
    out = kept if keepdims else kept.reshape(tuple(n for i, n in enumerate(a.shape) if i not in axes))

    # d max(x)/dx_i = 1/k if x_i is one of the k elements equal to the maximum, else 0
    def backward(g):
        winners = a.data == kept
        if a.dtype.kind == "f" and xp.isnan(kept).any():  # a NaN maximum came from (and sends its gradient to) NaNs
            winners |= xp.isnan(a.data) & xp.isnan(kept)
        count = winners.sum(axis=axes, keepdims=True).astype(g.dtype)
        share = _expand_back(g, a.shape, axes, keepdims) / count
        return (winners * share,)

    return result(xp.asarray(out), (a,), backward, op)
