"""Reductions: sum, mean, var, max, min over an axis (or all), with ``keepdims``."""

import builtins

from ..backend import xp
from ..tensor import as_tensor, result

__all__ = ["sum", "mean", "var", "max", "min"]


def _normalize_axis(axis, ndim, op):
    """``axis`` as a sorted tuple of non-negative axes (None means all)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    normalized = []
    for ax in axes:
        if not -ndim <= ax < builtins.max(ndim, 1):
            raise ValueError(f"{op}: axis {ax} is out of range for a tensor with {ndim} axes")
        normalized.append(ax % ndim if ndim else 0)
    return tuple(sorted(normalized))


def _expand_back(g, shape, axes, keepdims):
    """Reshape a reduced gradient so it broadcasts against the input of ``shape``."""
    if not keepdims and shape:
        g = g.reshape(tuple(1 if i in axes else n for i, n in enumerate(shape)))
    return g


def sum(a, axis=None, keepdims=False):
    """Sum of elements over ``axis`` (int, tuple or None for all)."""
    a = as_tensor(a)
    axes = _normalize_axis(axis, a.ndim, "sum")
    out = a.data.sum(axis=axes, keepdims=keepdims)

    # d(Σx)/dx_i = 1: every input element receives the gradient of its sum
    def backward(g):
        return (xp.broadcast_to(_expand_back(g, a.shape, axes, keepdims), a.shape),)

    return result(xp.asarray(out), (a,), backward, "sum")


def mean(a, axis=None, keepdims=False):
    """Mean of elements over ``axis``."""
    a = as_tensor(a)
    axes = _normalize_axis(axis, a.ndim, "mean")
    out = a.data.mean(axis=axes, keepdims=keepdims)
    count = 1
    for ax in axes:
        count *= a.shape[ax]

    # d(mean x)/dx_i = 1/n
    def backward(g):
        return (xp.broadcast_to(_expand_back(g, a.shape, axes, keepdims) / count, a.shape),)

    return result(xp.asarray(out, dtype=a.dtype), (a,), backward, "mean")


def var(a, axis=None, keepdims=False, ddof=0):
    raise NotImplementedError  # being written


def max(a, axis=None, keepdims=False):
    raise NotImplementedError  # being written


def min(a, axis=None, keepdims=False):
    raise NotImplementedError  # being written
