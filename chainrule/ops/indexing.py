"""Indexing: ``x[index]`` with NumPy's rules, differentiable.

Forward is NumPy indexing. Backward sends each output element's gradient back to
the input element it was read from: a zero array shaped like the input, with the
gradient written (or, when integer arrays may read one element several times,
added) at ``index``.
"""

from ..backend import xp
from ..tensor import Tensor, as_tensor, result

__all__ = ["getitem"]


def getitem(a, index):
    """``a[index]`` with NumPy's rules.

    ``index``: ints, slices, ``...``, ``None``, integer arrays / lists / tensors, boolean masks
    (arrays or tensors), or a tuple mixing them.
    """
    a = as_tensor(a)
    index = _normalize_index(index)
    try:
        out = a.data[index]
    except IndexError as error:
        raise IndexError(f"getitem: {error} (tensor shape {a.shape})") from None
    gathers = _has_integer_array(index)

    # d a[index]/d a is 1 where each output element was read from, 0 elsewhere: scatter the gradient
    # back. An integer array may read an element several times, so those gradients must add up.
    def backward(g):
        grad = xp.zeros(a.shape, dtype=a.dtype)
        if gathers:
            xp.add.at(grad, index, g)
        else:
            grad[index] = g
        return (grad,)

    def double(g):  # the scatter as a recorded op (its own derivative gathers at ``index`` again)
        return (_scatter(g, a.shape, index, gathers),)

    return result(out, (a,), backward, "getitem", double)


def _scatter(g, shape, index, gathers):
    """Zeros of ``shape`` with the Tensor ``g`` written (added, when ``gathers``) at ``index``: getitem's backward."""
    out = xp.zeros(shape, dtype=g.dtype)
    if gathers:
        xp.add.at(out, index, g.data)
    else:
        out[index] = g.data

    # d scatter(g)/dg reads back the positions written: the gradient is gg[index]
    def backward(gg):
        return (gg[index],)

    def double(gg):
        return (getitem(gg, index),)

    return result(out, (g,), backward, "scatter", double)


def _normalize_index(index):
    """Tensors and lists in ``index`` as arrays, so that NumPy reads them as advanced indices."""
    if isinstance(index, tuple):
        return tuple(_normalize_part(part) for part in index)
    return _normalize_part(index)


def _normalize_part(part):
    if isinstance(part, Tensor):
        part = part.data
    elif isinstance(part, list):
        # (an empty list selects nothing; NumPy would make it a float array)
        part = xp.asarray([p.data if isinstance(p, Tensor) else p for p in part]) if part else xp.zeros(0, xp.intp)
    if isinstance(part, xp.ndarray) and part.dtype.kind not in "iub":
        raise TypeError(f"getitem: index arrays must hold integers or booleans, got dtype {part.dtype}")
    return part


def _has_integer_array(index):
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(part, xp.ndarray) and part.dtype.kind in "iu" and part.ndim > 0 for part in parts)

