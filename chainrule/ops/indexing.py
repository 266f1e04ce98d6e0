"""Indexing: ``x[index]`` (differentiable) and ``x[index] = value`` (in place), with PyTorch's rules.

Forward is NumPy indexing, which PyTorch follows except in one case: an integer combined with an
index array. NumPy counts the integer as one more index array, so when a slice separates them the
selected dims move to the front (``x[0, :, [1, 2]]`` has shape (2, 5) for ``x`` of shape (4, 5, 3));
PyTorch first takes the integer as a plain selection of that dim, then applies the index arrays to
what is left (shape (5, 2)). ``_torch_order`` splits such an index into those two steps.

Backward sends each output element's gradient back to the input element it was read from: a zero
array shaped like the input, with the gradient written (or, when integer arrays may read one element
several times, added) at ``index``.
"""

from ..backend import xp
from ..function import is_grad_enabled
from ..tensor import Tensor, as_tensor, result
from ._dims import is_int

__all__ = ["getitem", "setitem"]


def getitem(a, index):
    """``a[index]`` with PyTorch's rules.

    ``index``: ints, slices, ``...``, ``None``, integer arrays / lists / tensors, boolean masks
    (arrays or tensors), or a tuple mixing them.
    """
    a = as_tensor(a)
    index = _normalize_index(index)
    first, second = _torch_order(index)
    try:
        out = a.data[index] if first is None else a.data[first][second]
    except IndexError as error:
        raise IndexError(f"getitem: {error} (tensor shape {a.shape})") from None
    gathers = _has_integer_array(index)

    # d a[index]/d a is 1 where each output element was read from, 0 elsewhere: scatter the gradient
    # back. An integer array may read an element several times, so those gradients must add up.
    def backward(g):
        grad = xp.zeros(a.shape, dtype=a.dtype)
        target, where = (grad, index) if first is None else (grad[first], second)  # grad[first]: a view
        if gathers:
            xp.add.at(target, where, g)
        else:
            target[where] = g
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


def setitem(a, index, value):
    """``a[index] = value`` in place, ``value`` broadcast to the selected shape (``Tensor.__setitem__``).

    As in PyTorch, a tensor that requires a gradient can be written only inside ``no_grad()`` (to
    initialise weights, say). Unlike PyTorch, assigning into a tensor of a recorded graph, or assigning
    a value that requires a gradient, is not differentiable here and raises; build a new tensor instead
    (``where``, ``cat``). Writing into a tensor that an earlier op read is not detected: that op's
    gradient would use the new values (PyTorch raises at ``backward()`` then).
    """
    grad_mode = is_grad_enabled()
    a._check_inplace("setitem")  # PyTorch's errors for a leaf that requires grad, or a tensor of a graph
    if grad_mode and isinstance(value, Tensor) and value.requires_grad:
        raise RuntimeError(
            "setitem: the value requires grad, but assignment into a tensor is not differentiable in chainrule "
            "(its gradient would be lost); build a new tensor instead (e.g. chainrule.where or chainrule.cat)"
        )
    index = _normalize_index(index)
    first, second = _torch_order(index)
    data = value.data if isinstance(value, Tensor) else value
    a._writable_data()  # (a 0-d result of an op may hold a NumPy scalar)
    try:
        if first is None:
            a.data[index] = data
        else:
            a.data[first][second] = data
    except IndexError as error:
        raise IndexError(f"setitem: {error} (tensor shape {a.shape})") from None
    except ValueError as error:
        raise ValueError(f"setitem: {error} (tensor shape {a.shape}, value shape {xp.shape(data)})") from None


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


def _is_index_array(part):
    """An index array (integers with at least one dim, or booleans): NumPy's and PyTorch's advanced indices."""
    return isinstance(part, xp.ndarray) and (part.dtype.kind == "b" or part.ndim > 0)


def _torch_order(index):
    """``(first, second)`` such that ``x[first][second]`` is PyTorch's ``x[index]``, or ``(None, None)`` when
    NumPy's ``x[index]`` already is.

    They differ only when an integer (or a 0-d integer array) meets an index array: PyTorch selects with
    the integers first (``first``: the integers, with every other dim kept whole), then applies the index
    arrays to the dims that remain (``second``).
    """
    if not isinstance(index, tuple) or not any(isinstance(p, xp.ndarray) for p in index):
        return None, None  # the common cases, checked cheaply: one part, or no array
    parts = index
    integers = [is_int(p) or (isinstance(p, xp.ndarray) and p.ndim == 0 and p.dtype.kind in "iu") for p in parts]
    if not (any(integers) and any(_is_index_array(p) for p in parts)):
        return None, None
    first, second = [], []
    for part, integer in zip(parts, integers):
        if integer:
            first.append(int(part))
        elif _is_index_array(part):  # a boolean mask spans as many dims as it has
            first.extend([slice(None)] * (part.ndim if part.dtype.kind == "b" else 1))
            second.append(part)
        elif part is None:  # the new dim of size 1 made in the first step is kept whole in the second
            first.append(None)
            second.append(slice(None))
        elif part is Ellipsis:
            first.append(Ellipsis)
            second.append(Ellipsis)
        else:  # a slice
            first.append(part)
            second.append(slice(None))
    return tuple(first), tuple(second)


def _has_integer_array(index):
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(part, xp.ndarray) and part.dtype.kind in "iu" and part.ndim > 0 for part in parts)
